"""`forumkit export qdpx`: a REFI-QDA project of a project's coded items.

The store is crawled from the fake forum; the codebook snapshots, projects, annotations and codes are
written by hand (the Label Studio round trip is tested in test_studio.py). Each export is validated against
the REFI-QDA Project schema 1.0 and read back with pyrefiqda, an independent parser.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree
from pyrefiqda import RefiProject

from forumkit import __version__
from forumkit.coding.codebook import load_codebook
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.errors import UsageError
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.coding.qdpx import NAMESPACE, build_qdpx, export_qdpx
from forumkit.store import Store, utcnow

from .conftest import cli

CODEBOOKS = Path(__file__).resolve().parents[1] / "forumkit" / "codebooks"
CREATED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
STUDIO = "http://studio.test:8080"
ALICE, BOB, CAROL = "alice@lab.test", "bob@lab.test", "carol@lab.test"

CH_CAT = "CH.MODEL_USAGE_AND_UNDERSTANDING"
CH_SUB = "CH.MODEL_USAGE_AND_UNDERSTANDING.CUSTOMIZING_MODEL"
CH_SUB2 = "CH.MODEL_USAGE_AND_UNDERSTANDING.UNDERSTANDING_MODEL_FUNCTION"
BE_CAT = "BE.EXPERT_OPINION_AND_CLARIFICATION"

# project, annotation id, item index, coder, codes [(codebook, code)], memo, skipped
ANNOTATIONS = [
    (1, 101, 0, ALICE, [("hf-challenges", CH_CAT), ("hf-challenges", CH_SUB)], "mentions CUDA; check again", False),
    (1, 102, 0, BOB, [("hf-challenges", CH_SUB)], None, False),
    (1, 103, 1, ALICE, [("hf-challenges", CH_SUB2)], None, False),
    (1, 104, 1, BOB, [], "none of the codes fits", False),
    (1, 105, 2, CAROL, [], None, True),  # skipped: item 2 is left out
    (1, 106, 3, CAROL, [("hf-challenges", CH_SUB), ("hf-challenges", CH_SUB2)], "naïve — ✓ 日本 <&>", False),
    (2, 201, 0, ALICE, [("hf-challenges", CH_SUB), ("hf-benefits", BE_CAT)], None, False),
    (2, 202, 1, BOB, [("hf-benefits", BE_CAT)], None, False),
    (3, 301, 0, ALICE, [], None, True),  # project 3: every annotation skipped; project 4: none at all
]


def _crawl(url: str, db: Path) -> None:
    with Store(db) as store, DiscourseClient(url, rate=0, backoff=0.01) as client:
        Crawler(client, store).run()


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """(db path, {project: [item ids by index]}, {codebook id: Codebook})."""
    db = tmp_path_factory.mktemp("qdpx") / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=20, seed=3)) as server:
        _crawl(server.url, db)
        url = server.url
    books = {cb.id: cb for cb in (load_codebook(CODEBOOKS / "hf-challenges.yaml"),
                                  load_codebook(CODEBOOKS / "hf-benefits.yaml"))}
    with Store(db) as store:
        forum_id = store.forum_id(url, create=False)
        topics = [r[0] for r in store.query(
            "SELECT topic_id FROM posts WHERE post_type = 1 AND removed_at IS NULL GROUP BY topic_id"
            " HAVING count(*) >= 2 ORDER BY topic_id LIMIT 4")]
        posts = [r[0] for r in store.query("SELECT id FROM posts WHERE post_type = 1 ORDER BY id LIMIT 2")]
        items = {1: topics, 2: posts, 3: topics}
        now = utcnow()
        with store.transaction():
            for cb in books.values():
                store.db.execute("INSERT INTO codebooks VALUES (?, ?, ?, ?)",
                                 (cb.id, cb.version, json.dumps(cb.to_dict()), now))
            both = json.dumps([[b.id, b.version] for b in books.values()])
            one = json.dumps([["hf-challenges", books["hf-challenges"].version]])
            for pid, title, unit, cbs in ((1, "round 1: topics", "topic", one), (2, "round 1: posts", "post", both),
                                          (3, "all skipped", "topic", one), (4, "not coded yet", "topic", one)):
                store.db.execute("INSERT INTO studio_projects (id, url, project_id, title, forum_id, sample_id, unit, codebooks, created_at)"
                             " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                                 (pid, STUDIO, 10 + pid, title, forum_id, unit, cbs, now))
            for pid, ann, idx, coder, codes, memo, skipped in ANNOTATIONS:
                store.db.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (pid, ann, 1000 + ann, items[pid][idx], coder, f"2025-01-0{idx + 1}T10:00:0{idx}.123Z",
                                  12.5, int(skipped), memo, now))
                for cb_id, code_id in codes:
                    store.db.execute("INSERT INTO coded (project, annotation_id, code_id, codebook_id, category, subcategory)"
                                     " VALUES (?, ?, ?, ?, ?, ?)",
                                     (pid, ann, code_id, cb_id, *books[cb_id].category_of(code_id)))
    return db, items, books


def _project(store: Store, project: int, tmp_path: Path, created: datetime = CREATED):
    """Export, validate against the XSD, read back with pyrefiqda: (path, parsed project, extract dir)."""
    path = export_qdpx(store, tmp_path / f"p{project}.qdpx", project, created=created).path
    with zipfile.ZipFile(path) as archive:
        qde = archive.read("project.qde")
    SCHEMA.assertValid(etree.fromstring(qde))
    extract = tmp_path / f"x{project}"
    return path, RefiProject.load(path, extract_dir=str(extract)), extract


def _code_index(codes, above=()):
    """guid -> (path of names, description, isCodable) over a pyrefiqda code tree."""
    out = {}
    for code in codes:
        path = above + (code.name,)
        out[code.guid] = (path, code.description, code.is_codable)
        out.update(_code_index(code.code, path))
    return out


def _tree(codes):
    return [(c.name, _tree(c.code)) for c in codes]


def _book_tree(codes):
    return [(c.name, _book_tree(c.children)) for c in codes]


def _codings(parsed, extract: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(source name, coder, code path) of every selection, checking each covers its whole source text."""
    users = {u.guid: u.name for u in parsed.users.user}
    codes = _code_index(parsed.code_book.codes.code)
    out = []
    for source in parsed.sources.text_source:
        text = RefiProject.resolve_source_path(source.plain_text_path, extract).read_text(encoding="utf-8")
        for sel in source.plain_text_selection:
            assert (sel.start_position, sel.end_position) == (0, len(text))
            assert len(sel.coding) == 1 and sel.coding[0].creating_user == sel.creating_user
            out.append((source.name, users[sel.creating_user], codes[sel.coding[0].code_ref.target_guid][0]))
    return sorted(out)


def _expected(store: Store, project: int, items: dict, books: dict, *, wrapped: bool):
    title = {}
    for pid, ann, idx, coder, codes, memo, skipped in ANNOTATIONS:
        if pid != project or skipped:
            continue
        item_id = items[project][idx]
        if item_id not in title:
            sql = ("SELECT title FROM topics WHERE id = ?" if project != 2 else
                   "SELECT t.title FROM posts p JOIN topics t ON t.id = p.topic_id WHERE p.id = ?")
            title[item_id] = store.query(sql, (item_id,))[0][0]
    unit = "post" if project == 2 else "topic"
    out = []
    for pid, ann, idx, coder, codes, memo, skipped in ANNOTATIONS:
        if pid != project or skipped:
            continue
        item_id = items[project][idx]
        for cb_id, code_id in codes:
            path = tuple(c.name for c in books[cb_id].path_of(code_id))
            out.append((f"{unit} {item_id}: {title[item_id]}", coder, ((books[cb_id].name,) if wrapped else ()) + path))
    return sorted(out), title


def test_topic_project_round_trips_through_pyrefiqda(coded, tmp_path):
    db, items, books = coded
    with Store(db) as store:
        path, parsed, extract = _project(store, 1, tmp_path)
        expected, titles = _expected(store, 1, items, books, wrapped=False)
    assert parsed.name == "round 1: topics" and parsed.origin == f"forumkit {__version__}"
    assert str(parsed.creation_date_time) == "2025-03-04T05:06:07Z"
    assert sorted(u.name for u in parsed.users.user) == [ALICE, BOB, CAROL]
    # one codebook: its categories at the top, the whole tree, every code codable with its definition
    challenges = books["hf-challenges"]
    assert _tree(parsed.code_book.codes.code) == _book_tree(challenges.categories)
    index = _code_index(parsed.code_book.codes.code)
    assert len(index) == len(challenges)
    by_path = {path: (desc, codable) for path, desc, codable in index.values()}
    for names, code in challenges.codes():
        desc, codable = by_path[names]
        assert codable is True and desc.startswith(code.definition.strip())
    # sources: items with an annotation that was not skipped, in item order
    kept = [items[1][i] for i in (0, 1, 3)]
    assert [s.name for s in parsed.sources.text_source] == [f"topic {t}: {titles[t]}" for t in kept]
    assert _codings(parsed, extract) == expected and len(expected) == 6
    # files: project.qde plus one text per source, named by the source's GUID
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert names[0] == "project.qde"
    assert sorted(names[1:]) == sorted(f"sources/{s.guid}.txt" for s in parsed.sources.text_source)
    assert all(s.plain_text_path == f"internal://{s.guid}.txt" for s in parsed.sources.text_source)


def test_memos_become_notes_on_selections_or_source(coded, tmp_path):
    db, items, _ = coded
    with Store(db) as store:
        _, parsed, _ = _project(store, 1, tmp_path)
    users = {u.guid: u.name for u in parsed.users.user}
    notes = {n.guid: n for n in parsed.notes.note}
    assert sorted(n.plain_text_content for n in notes.values()) == sorted(
        ["mentions CUDA; check again", "none of the codes fits", "naïve — ✓ 日本 <&>"])
    sources = parsed.sources.text_source
    first, second, fourth = sources
    # annotation 101 (two codes, a memo): both of alice's selections point at the memo; bob's have none
    alice_refs = [[r.target_guid for r in s.note_ref] for s in first.plain_text_selection
                  if users[s.creating_user] == ALICE]
    assert len(alice_refs) == 2 and alice_refs[0] == alice_refs[1] and len(alice_refs[0]) == 1
    assert notes[alice_refs[0][0]].plain_text_content == "mentions CUDA; check again"
    assert users[notes[alice_refs[0][0]].creating_user] == ALICE
    assert all(not s.note_ref for s in first.plain_text_selection if users[s.creating_user] == BOB)
    # annotation 104 applied no code: its memo hangs on the source
    assert [notes[r.target_guid].plain_text_content for r in second.note_ref] == ["none of the codes fits"]
    assert not first.note_ref and not fourth.note_ref


def test_source_text_is_title_then_each_post(coded, tmp_path):
    db, items, _ = coded
    with Store(db) as store:
        _, parsed, extract = _project(store, 1, tmp_path)
        topic = items[1][0]
        title, slug = store.query("SELECT title, slug FROM topics WHERE id = ?", (topic,))[0]
        posts = store.query("SELECT username, created_at, text, code FROM posts WHERE topic_id = ? AND post_type = 1"
                            " AND removed_at IS NULL ORDER BY post_number", (topic,))
    source = parsed.sources.text_source[0]
    text = RefiProject.resolve_source_path(source.plain_text_path, extract).read_text(encoding="utf-8")
    assert text.startswith(title + "\n\n@")
    assert text.count("\n\n@") == len(posts)
    position = 0
    for post in posts:
        header = f"@{post['username']} ({post['created_at'][:10]} {post['created_at'][11:16]}):"
        position = text.index(header, position)
        if post["text"].strip():
            position = text.index(header + "\n" + post["text"].strip(), position)
        for line in post["code"].split("\n"):
            if line.strip():
                assert "    " + line in text
    assert "\r" not in text
    assert source.description.splitlines()[-1].endswith(f"/t/{slug}/{topic}")


def test_several_codebooks_sit_under_one_code_each_and_posts_are_sources(coded, tmp_path):
    db, items, books = coded
    with Store(db) as store:
        _, parsed, extract = _project(store, 2, tmp_path)
        expected, titles = _expected(store, 2, items, books, wrapped=True)
    tops = parsed.code_book.codes.code
    assert [(c.name, c.is_codable) for c in tops] == [("HF challenges", False), ("HF benefits", False)]
    assert [_tree(c.code) for c in tops] == [_book_tree(books["hf-challenges"].categories),
                                            _book_tree(books["hf-benefits"].categories)]
    assert _codings(parsed, extract) == expected and len(expected) == 3
    assert sorted(u.name for u in parsed.users.user) == [ALICE, BOB]
    post = parsed.sources.text_source[0]
    text = RefiProject.resolve_source_path(post.plain_text_path, extract).read_text(encoding="utf-8")
    assert post.name == f"post {items[2][0]}: {titles[items[2][0]]}"
    assert text.startswith(titles[items[2][0]] + "\n\n@") and text.count("\n\n@") == 1
    assert parsed.notes is None


def test_same_data_gives_the_same_bytes_but_for_the_creation_time(coded, tmp_path):
    db, _, _ = coded
    with Store(db) as store:
        a = export_qdpx(store, tmp_path / "a.qdpx", 1, created=CREATED).path.read_bytes()
        b = export_qdpx(store, tmp_path / "b.qdpx", 1, created=CREATED).path.read_bytes()
        later = datetime(2026, 1, 1, tzinfo=timezone.utc)
        first, second = build_qdpx(store, 1, created=CREATED), build_qdpx(store, 1, created=later)
    assert a == b
    assert first.sources == second.sources
    assert first.qde != second.qde
    assert first.qde == second.qde.replace(b'creationDateTime="2026-01-01T00:00:00Z"',
                                           b'creationDateTime="2025-03-04T05:06:07Z"')
    root = etree.fromstring(first.qde)
    assert root.tag == f"{{{NAMESPACE}}}Project" and root.nsmap == {None: NAMESPACE}


def test_errors_are_usage_errors_with_a_hint(coded, tmp_path):
    db, _, _ = coded
    with Store(db) as store:
        with pytest.raises(UsageError, match=r"\.qdpx"):
            export_qdpx(store, tmp_path / "study.zip", 1)
        with pytest.raises(UsageError, match="no project 99") as exc:
            export_qdpx(store, tmp_path / "study.qdpx", 99)
        assert exc.value.hint
        with pytest.raises(UsageError, match="skipped") as exc:
            export_qdpx(store, tmp_path / "study.qdpx", 3)
        assert "pull" in exc.value.one_line()
        with pytest.raises(UsageError, match="no pulled annotations of project 4") as exc:
            export_qdpx(store, tmp_path / "study.qdpx", 4)
        assert "pull" in exc.value.hint
        with pytest.raises(UsageError, match="several projects"):
            export_qdpx(store, tmp_path / "study.qdpx")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_cli_writes_a_valid_qdpx_and_reports_errors_on_one_line(coded, tmp_path):
    db, _, _ = coded
    out = tmp_path / "study.qdpx"
    ok = cli("export", "qdpx", "--db", db, "--project", "1", "--out", out)
    assert ok.returncode == 0, ok.stderr
    assert "3 sources, 6 codings by 3 coders" in ok.stderr
    with zipfile.ZipFile(out) as archive:
        SCHEMA.assertValid(etree.fromstring(archive.read("project.qde")))
    bad = cli("export", "qdpx", "--db", db, "--project", "1", "--out", tmp_path / "study.xml")
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and ".qdpx" in lines[0]


# The REFI-QDA Project schema, QDA-XML version 1.0, release date 18 March 2019 (Module: Project.xsd), as
# published by the Rotterdam Exchange Format Initiative (www.qdasoftware.org) under the MIT license and
# distributed with QualCoder as qualcoder/Project-mrt2019.xsd. Every declaration is as in that file; the
# indentation, the documentation annotation and the comments other than the notice are left out.
REFI_PROJECT_XSD = (Path(__file__).parent / "data" / "refi-qda-project-1.0.xsd").read_text(encoding="utf-8")

SCHEMA = etree.XMLSchema(etree.fromstring(REFI_PROJECT_XSD.encode("utf-8")))
