"""`forumkit appendix`: a methods section (Markdown, LaTeX) and a replication folder, written from the store.

The store is crawled from the fake forum; a sample is drawn and saved with the sampling code, and the
project, its annotations, codes and suggestions are recorded with the store's own methods (the Label Studio
round trip is tested in test_studio.py). Each number checked in the text is counted here independently, with
SQL on the store or with the krippendorff package, and changing the data must change the text.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import zipfile
from dataclasses import asdict
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from forumkit.analysis.appendix import write_appendix
from forumkit.analysis.appendix.render import md_escape, tex_escape
from forumkit.coding.codebook import load_codebook
from forumkit.coding.sampling import SampleDesign, cochran_size, draw_sample, save_sample
from forumkit.coding.studio.suggestions import read_suggestions
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store, utcnow
from forumkit.study import init_study
from forumkit.store.studio import PulledAnnotation, PulledCode, Snapshot, SuggestedCode

from .conftest import cli

ROOT = Path(__file__).resolve().parents[1]
CHALLENGES = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
C1, C2, C3 = [code.id for _, code in CHALLENGES.codes() if code.is_leaf][:3]
ALICE, BOB, CAROL = "alice@lab.test", "bob@lab.test", "carol@lab.test"
TITLE = 'Round 1: topics & 50% of "C_#1" {x}'
MODEL = "zero-shot minilm test-1"
SEED = 5
# item index, coder, codes, skipped
CODINGS = [
    (0, ALICE, [C1], False), (0, BOB, [C1], False),
    (1, ALICE, [C1, C2], False), (1, BOB, [C2], False),
    (2, ALICE, [], False), (2, BOB, [C3], False),
    (3, ALICE, [C3], False), (3, BOB, [C3], False),
    (4, ALICE, [C2], False), (4, BOB, [C2], False),
    (5, CAROL, [], True),
]
SUGGESTED = [(0, C1, True), (1, C2, True), (1, C3, False), (3, C1, True), (4, C2, True)]  # item index, code, in_set


def _record(store: Store, project: int, items: list[int], codings: list) -> None:
    """Store a pull's annotations and codes, as `studio pull` does."""
    annotations, codes = [], []
    for n, (idx, coder, applied, skipped) in enumerate(codings, start=1):
        annotations.append(PulledAnnotation(project, n, 500 + idx, items[idx], coder, f"2025-02-0{idx + 1}T10:00:00Z",
                                            10.0, int(skipped), None, utcnow()))
        codes += [PulledCode(project, n, code, CHALLENGES.id, *CHALLENGES.category_of(code), CHALLENGES.version)
                  for code in applied]
    store.replace_annotations(project, annotations, codes)


def _build(db: Path, url: str) -> None:
    with Store(db) as store:
        forum_id = store.forum_id(url, create=False)
        sample = draw_sample(store, SampleDesign("round1", strata="category", size=8, seed=SEED))
        save_sample(store, sample)
        items = [int(i) for i in sample.items["item_id"]]
        pid = store.add_studio_project(url="http://studio.test:8080", project_id=11, title=TITLE, forum_id=forum_id,
                                       sample_id="round1", unit="topic",
                                       codebooks=[Snapshot(CHALLENGES.id, CHALLENGES.version,
                                                           json.dumps(CHALLENGES.to_dict()))])
        store.replace_studio_tasks(pid, {item: 500 + n for n, item in enumerate(items)})
        _record(store, pid, items, CODINGS)
        store.record_studio_suggestions(pid, items, [
            SuggestedCode(pid, items[idx], code, CHALLENGES.id, 0.8, 1, in_set, "evidence", MODEL)
            for idx, code, in_set in SUGGESTED])


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("appendix") / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=20, seed=3)) as server:
        with Store(db) as store, DiscourseClient(server.url, rate=0, backoff=0.01) as client:
            Crawler(client, store).run()
        _build(db, server.url)
    return db


@pytest.fixture
def db(template_db, tmp_path) -> Path:
    """A fresh copy of the coded store (tests change it)."""
    copy = tmp_path / "forum.db"
    with sqlite3.connect(template_db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    return copy


def _one(db: Path, sql: str, args=()) -> object:
    with sqlite3.connect(db) as con:
        return con.execute(sql, args).fetchone()[0]


def _alpha_by_hand(db: Path) -> float:
    """Krippendorff's nominal alpha on item x code present/absent, with the krippendorff package."""
    with sqlite3.connect(db) as con:
        anns = con.execute("SELECT project || ':' || annotation_id, item_id, coder FROM annotations"
                           " WHERE was_cancelled = 0").fetchall()
        coded = set(con.execute("SELECT project || ':' || annotation_id, code_id FROM coded").fetchall())
    coders = sorted({c for _, _, c in anns})
    units = sorted({(i, k) for _, i, _ in anns for k in {code for _, code in coded}})
    data = np.full((len(coders), len(units)), np.nan)
    for ann, item, coder in anns:
        for u, (i, k) in enumerate(units):
            if i == item:
                data[coders.index(coder), u] = float((ann, k) in coded)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def _appendix(db: Path, out: Path, **options) -> tuple[str, str]:
    with Store(db) as store:
        write_appendix(store, out, 1, n_boot=options.get("n_boot", 20), seed=0)
    return (out / "methods.md").read_text(encoding="utf-8"), (out / "methods.tex").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def written(template_db, tmp_path_factory) -> tuple[str, str]:
    """(methods.md, methods.tex) of the unchanged store."""
    return _appendix(template_db, tmp_path_factory.mktemp("written"))


def test_the_numbers_in_the_text_are_the_stores(template_db, written):
    md, tex = written
    db = template_db
    requests = _one(db, "SELECT sum(requests) FROM crawl_runs")
    topics = _one(db, "SELECT count(*) FROM topics WHERE removed_at IS NULL")
    posts = _one(db, "SELECT count(*) FROM posts WHERE removed_at IS NULL")
    assert f"making {requests} requests in all" in md
    assert f"The store holds {topics} topics and {posts} posts" in md
    design = json.loads(_one(db, "SELECT design FROM samples WHERE id = 'round1'"))
    size = _one(db, "SELECT count(*) FROM sample_items WHERE sample_id = 'round1'")
    population = sum(design["population"].values())
    assert f'sample "round1" of {size} topics from a population of {population}' in md
    assert f"with seed {design['design']['seed']} " in md and design["design"]["seed"] == SEED
    assert "stratified by category with proportional allocation" in md
    for stratum, pop in design["population"].items():
        assert f"| {md_escape(stratum)} | {pop} | {design['allocation'][stratum]} |" in md
    hidden = _one(db, "SELECT count(*) FROM posts WHERE removed_at IS NULL AND hidden = 1")
    withdrawn = _one(db, "SELECT count(*) FROM posts WHERE removed_at IS NULL AND user_deleted = 1")
    small = _one(db, "SELECT count(*) FROM posts WHERE removed_at IS NULL AND post_type <> 1")
    assert hidden + withdrawn + small > 0, "the fake forum should have hidden, withdrawn or small-action posts"
    assert f"hidden by community flags and {withdrawn} withdrawn by their authors" in md
    assert f"{hidden} live post{'' if hidden == 1 else 's'} w" in md and f'"moved"): {small}, stored' in md
    done = _one(db, "SELECT count(*) FROM annotations WHERE was_cancelled = 0")
    skipped = _one(db, "SELECT count(*) FROM annotations WHERE was_cancelled = 1")
    coders = _one(db, "SELECT count(DISTINCT coder) FROM annotations")
    applied = _one(db, "SELECT count(*) FROM coded")
    assert f"{coders} coders made {done} annotations" in md
    assert f"{skipped} annotation was skipped" in md and f"{applied} codes were applied" in md
    alpha = _alpha_by_hand(db)
    assert f"| Krippendorff's alpha | {alpha:.3f} |" in md
    assert "| Cohen's kappa |" in md  # exactly two coders on the paired items
    assert "corrects for chance agreement" in md  # why alpha is the primary statistic
    # suggestions: 4 pre-selected on items coded by two coders = 8 offered; kept: item 0 C1 x2, item 1 C2 x2,
    # item 3 C1 x0, item 4 C2 x2 = 6
    assert f"Model {MODEL} suggested codes for 4 items (5 suggestions listed, 4 pre-selected)" in md
    assert "coders kept 6 of the 8 pre-selected codes shown to them (acceptance 75.0%)" in md
    assert "forumkit scrape " in md and f"--seed {SEED}" in md and "forumkit studio pull --db forum.db --project 1" in md
    assert f"| {CHALLENGES.id} | {CHALLENGES.name} | {CHALLENGES.version} | {len(CHALLENGES.categories)} |" in md
    assert ALICE not in md and ALICE not in tex  # coders appear by pseudonym
    assert tex_escape(TITLE) in tex and md_escape(TITLE) in md


def _tex_body(tex: str) -> str:
    """The LaTeX without its verbatim block (commands are shown as typed there) and comments."""
    body = re.sub(r"\\begin\{verbatim\}.*?\\end\{verbatim\}", "", tex, flags=re.S)
    return "\n".join(line for line in body.splitlines() if not line.startswith("%"))


def check_latex(tex: str) -> None:
    """A section a paper can \\input: balanced braces and environments, specials escaped, full table rows."""
    assert tex.count("\\section{") == 1 and "\\documentclass" not in tex and "\\begin{document}" not in tex
    body = _tex_body(tex)
    depth = 0
    for ch in body.replace("\\{", "").replace("\\}", ""):  # braces balance, never closing more than opened
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", body):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name, f"\\end{{{name}}} closes another environment"
    assert not stack
    for line in body.splitlines():  # every %, #, _, $, ^, ~ escaped outside math (written \\( \\))
        assert not re.search(r"(?<!\\)[%#_$^~]", re.sub(r"\\\(.*?\\\)", "", line)), line
    for spec, rows in re.findall(r"\\begin\{tabular\}\{(.*?)\}\n(.*?)\\end\{tabular\}", body, flags=re.S):
        columns = len(re.sub(r"\{[^}]*\}", "", spec))
        for row in rows.splitlines():
            if row.endswith("\\\\"):
                assert len(re.findall(r"(?<!\\)&", row)) == columns - 1, row


def test_the_latex_is_a_well_formed_section(written):
    _, tex = written
    check_latex(tex)
    assert tex_escape(TITLE) in tex and "\\& 50\\% of" in tex and "\\_\\#1" in tex and "\\{x\\}" in tex
    assert "🤗" not in tex and "Transformers" in tex  # pdfLaTeX cannot typeset the emoji of a category name
    assert shutil.which("pdflatex") is None or _compiles(tex)


def _compiles(tex: str) -> bool:
    """Where pdflatex is installed, the section compiles inside a minimal article."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "methods.tex").write_text(tex, encoding="utf-8")
        Path(folder, "paper.tex").write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}"
                                             "\\input{methods}\\end{document}\n", encoding="utf-8")
        res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=folder,
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout[-3000:]
    return True


def test_the_replication_folder_and_its_manifest(db, tmp_path):
    out = tmp_path / "appendix"
    res = cli("appendix", "--db", db, "--project", "1", "--boot", "0", "--out", out)
    assert res.returncode == 0, res.stderr
    assert "without bootstrap intervals" in (out / "methods.md").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    listed = {f["path"]: f for f in manifest}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk
    assert {"methods.md", "methods.tex", "data/items.csv", "data/suggestions.csv", "data/coded.csv",
            "data/coded.parquet", "data/annotations.csv",
            "data/project.qdpx", "codebooks/hf-challenges-1.0.json", "codebooks/hf-challenges-1.0.yaml"} <= on_disk
    for path, entry in listed.items():
        data = (out / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data) and entry["what"]
    stored = _one(db, "SELECT content FROM codebooks WHERE id = 'hf-challenges'")
    assert (out / "codebooks/hf-challenges-1.0.json").read_text(encoding="utf-8") == stored
    assert load_codebook(out / "codebooks/hf-challenges-1.0.yaml").to_dict() == json.loads(stored)
    coded = pd.read_csv(out / "data/coded.csv")
    assert pd.read_parquet(out / "data/coded.parquet").shape == coded.shape
    assert len(coded) == _one(db, "SELECT count(*) FROM (SELECT DISTINCT a.item_id, c.code_id FROM coded c JOIN "
                                  "annotations a USING (project, annotation_id) WHERE a.was_cancelled = 0)")
    assert "project.qde" in zipfile.ZipFile(out / "data/project.qdpx").namelist()
    # what the project was pushed from: the sample's items in draw order, and the suggestions as push reads them
    items = pd.read_csv(out / "data/items.csv")
    with sqlite3.connect(db) as con:
        drawn = [r[0] for r in con.execute("SELECT item_id FROM sample_items ORDER BY position")]
    assert items["item_id"].tolist() == drawn and {"stratum", "weight"} <= set(items.columns)
    read = read_suggestions([CHALLENGES], pd.read_csv(out / "data/suggestions.csv"), "unused")
    assert sorted((i, s.code_id, s.in_set, s.model_version) for i, rows in read.items() for s in rows) == \
        sorted((drawn[idx], code, in_set, MODEL) for idx, code, in_set in SUGGESTED)
    # a copy that was altered no longer matches its manifest
    (out / "data/coded.csv").write_text("tampered", encoding="utf-8")
    assert hashlib.sha256((out / "data/coded.csv").read_bytes()).hexdigest() != listed["data/coded.csv"]["sha256"]


def test_changing_the_data_changes_the_text(db, tmp_path):
    before, _ = _appendix(db, tmp_path / "before")
    assert "3 coders made 10 annotations" in before and "| Cohen's kappa |" in before
    assert "with seed 5 " in before and "Coding was not organised in rounds" in before
    with sqlite3.connect(db) as con:
        # Carol codes item 0 after all (C1, as Alice and Bob did), and the sample's seed is recorded as 9.
        item = con.execute("SELECT item_id FROM annotations WHERE coder = ? AND annotation_id = 1", (ALICE,)).fetchone()[0]
        con.execute("INSERT INTO annotations (project, annotation_id, task_id, item_id, coder, annotated_at, lead_time,"
                    " was_cancelled, memo, pulled_at) VALUES (1, 99, 500, ?, ?, NULL, 5.0, 0, NULL, 'now')",
                    (item, CAROL))
        con.execute("INSERT INTO coded (project, annotation_id, code_id, codebook_id, category, subcategory,"
                    " codebook_version) VALUES (1, 99, ?, ?, ?, ?, ?)",
                    (C1, CHALLENGES.id, *CHALLENGES.category_of(C1), CHALLENGES.version))
        design = json.loads(con.execute("SELECT design FROM samples WHERE id = 'round1'").fetchone()[0])
        design["design"].update(seed=9, size=None, confidence=0.9, margin=0.2)  # and its size by Cochran's formula
        design["size_computation"] = asdict(cochran_size(12, 0.9, 0.2))
        con.execute("UPDATE samples SET design = ? WHERE id = 'round1'", (json.dumps(design),))
        con.execute("UPDATE studio_projects SET round = 1 WHERE id = 1")
        # Carol coded under version 1.1 of the codebook; the crawl was limited to one category and a date.
        newer = {**CHALLENGES.to_dict(), "version": "1.1"}
        newer["codes"] = [{**newer["codes"][0], "name": "Renamed in 1.1"}, *newer["codes"][1:]]
        con.execute("INSERT INTO codebooks (id, version, content, added_at) VALUES (?, '1.1', ?, '2025-03-01')",
                    (CHALLENGES.id, json.dumps(newer)))
        con.execute("UPDATE coded SET codebook_version = '1.1' WHERE annotation_id = 99")
        options = json.loads(con.execute("SELECT options FROM crawl_runs").fetchone()[0])
        con.execute("UPDATE crawl_runs SET options = ?",
                    (json.dumps({**options, "categories": ["beginners"], "since": "2021-01-01T00:00:00Z"}),))
        left_out = sorted(r[0] for r in con.execute("SELECT name FROM categories WHERE slug <> 'beginners' AND "
                                                    "coalesce(parent_id, -1) NOT IN (SELECT id FROM categories "
                                                    "WHERE slug = 'beginners')"))
    after, tex = _appendix(db, tmp_path / "after")
    check_latex(tex)
    assert "3 coders made 11 annotations" in after and "11 codes were applied" in after
    assert "| Cohen's kappa |" not in after  # three coders now: Fleiss' kappa and alpha, not Cohen's
    alpha = _alpha_by_hand(db)
    assert f"| Krippendorff's alpha | {alpha:.3f} |" in after and f"| Krippendorff's alpha | {alpha:.3f} |" not in before
    assert "with seed 9 " in after and "--seed 9" in after and "--seed 5" not in after
    assert f"at confidence 0.9 and margin of error 0.2: {cochran_size(12, 0.9, 0.2).explain()}." in after
    assert "--confidence 0.9 --margin 0.2" in after and "--size" not in after
    assert f"\\to {cochran_size(12, 0.9, 0.2).n}\\)" in tex
    assert "Coding ran in 1 round:" in after and f"| 1 | 1 | 3 | 11 | 5 | 1 | {alpha:.3f} |" in after
    assert "#### Round 1" in after and "\\paragraph{Round 1.}" in tex
    assert f"| {CHALLENGES.id} | {CHALLENGES.name} | 1.1 |" in after and "Changes from hf-challenges 1.0 to 1.1:" in after
    assert f"- renamed {CHALLENGES.categories[0].id} '{CHALLENGES.categories[0].name}' -> {CHALLENGES.categories[0].id} 'Renamed in 1.1'" in after.replace("\\", "")
    assert "codebooks/hf-challenges-1.1.json" in after and (tmp_path / "after/codebooks/hf-challenges-1.1.yaml").exists()
    assert f"left out: {', '.join(md_escape(n) for n in left_out)}." in after and len(left_out) > 1
    assert "Only topics created on or after 2021-01-01." in after
    assert "--categories beginners --since 2021-01-01" in after
    with sqlite3.connect(db) as con:  # a project pushed from a list of items, without suggestions
        con.execute("DELETE FROM studio_suggestions")
        con.execute("UPDATE studio_projects SET sample_id = NULL")
        con.execute("DELETE FROM annotations WHERE coder = ? OR annotation_id = 99", (BOB,))  # Alice alone
        con.execute("DELETE FROM crawl_runs")  # as in a store whose forum came from elsewhere
    listed, tex = _appendix(db, tmp_path / "after")  # into the same folder: the old files are replaced
    manifest = json.loads((tmp_path / "after/manifest.json").read_text(encoding="utf-8"))["files"]
    on_disk = {p.relative_to(tmp_path / "after").as_posix() for p in (tmp_path / "after").rglob("*") if p.is_file()}
    assert {f["path"] for f in manifest} == on_disk - {"manifest.json"} and "data/suggestions.csv" not in on_disk
    check_latex(tex)
    assert "Agreement of project 1 could not be computed: only one coder (Coder A) annotated" in listed
    assert "without a crawl run that the store records" in listed and "forumkit scrape" not in listed
    assert ALICE not in listed and ALICE not in tex
    assert "pushed from a list of items" in listed and "The coders were shown no suggested codes" in listed
    assert "forumkit sample " not in listed and "--items data/items.csv" in listed


def test_a_blind_round_pairs_the_projects_of_its_coders(db, tmp_path):
    """Round 1: Alice and Bob in project 1, Carol alone in project 2 with the same items (one project per coder)."""
    with Store(db) as store:
        items = [r[0] for r in store.sample_item_rows("round1")]
        pid = store.add_studio_project(url="http://studio.test:8080", project_id=12, title="Round 1 (Carol)",
                                       forum_id=store.forums()[0][0], sample_id="round1", unit="topic",
                                       codebooks=[Snapshot(CHALLENGES.id, CHALLENGES.version,
                                                           json.dumps(CHALLENGES.to_dict()))])
        _record(store, pid, items, [(0, CAROL, [C1], False), (1, CAROL, [C2], False), (3, CAROL, [], False)])
    with sqlite3.connect(db) as con:
        con.execute("UPDATE studio_projects SET round = 1")
        con.execute("UPDATE studio_projects SET coder = ? WHERE id = ?", (CAROL, pid))
    md, tex = _appendix(db, tmp_path / "appendix")
    check_latex(tex)
    alpha = _alpha_by_hand(db)  # every annotation of the round, paired by item across the two projects
    assert f"| 1 | 1, {pid} | 3 (blind: one project each) | 13 | 5 | 1 | {alpha:.3f} |" in md
    assert "On the 5 items of round 1 coded by two or more of its 3 coders" in md
    assert "On the 5 items of project 1 coded by two or more of its 2 coders" in md  # the project alone


def test_a_study_folder_gives_the_store_and_project(db, tmp_path):
    """Inside a study, `forumkit appendix` takes --db from [forum] store and --project from the project last pushed
    for [sample] name (round1, as forumkit init writes it)."""
    study = tmp_path / "study"
    init_study(study)
    shutil.move(db, study / "forum.db")
    res = cli("appendix", "--boot", "0", "--out", study / "appendix", cwd=study)
    assert res.returncode == 0, res.stderr
    assert "for project 1 (" in (study / "appendix" / "methods.md").read_text(encoding="utf-8")


def test_an_unknown_project_is_one_line(db, tmp_path):
    res = cli("appendix", "--db", db, "--project", "7", "--out", tmp_path / "x")
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: no project 7"), res.stderr
    assert not (tmp_path / "x").exists()
