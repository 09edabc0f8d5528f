"""Export a project's coded dataset as a REFI-QDA project (.qdpx) for ATLAS.ti, MAXQDA, NVivo and QualCoder.

A .qdpx file is a zip holding ``project.qde`` (XML in the ``urn:QDA-XML:project:1.0`` namespace, REFI-QDA
Project schema 1.0) and ``sources/``, one UTF-8 plain-text file per coded item. The export holds:

* ``<Users>``: one user per coder (their Label Studio e-mail);
* ``<CodeBook>`` (written by :mod:`forumkit.coding.qdc`, as in a .qdc): the project's codebooks as they were
  pushed (the snapshots in the store), every code codable, its definition (and include/exclude notes) as the
  ``<Description>``. A project with one codebook gets its categories at the top of the code tree, as the
  codebook file has them; with several codebooks each one becomes a top-level, non-codable code holding its
  categories, so that categories of two codebooks cannot mix;
* ``<Sources>``: one ``<TextSource>`` per item with at least one annotation that was not skipped. Its text
  is the item's title line, then each post (live posts of a topic, in order, as Label Studio showed them)
  as ``@username (date):``, the post's own words and its code blocks (indented by four spaces). Label Studio
  codes whole items, so each (annotation, code) pair becomes a ``<PlainTextSelection>`` over the whole
  text, made by the coder at the annotation's time, holding one ``<Coding>`` of that code;
* ``<Notes>``: one note per annotation memo, referenced from each selection of that annotation, or from
  the source when the annotation applied no code.

Skipped annotations are left out. GUIDs are uuid5 of stable keys (forum URL and item, Label Studio server,
project and annotation, codebook and code id, coder e-mail), so exporting the same data twice gives the same
bytes, except for the creation time (``created``).

Example::

    with Store("hf.db") as store:
        export_qdpx(store, "study.qdpx", project=1)
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from lxml import etree

from forumkit import __version__
from forumkit.dates import parse_iso
from .coded import annotation_rows
from .qdc import add_codes, clean as _clean, element, guid
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store

__all__ = ["NAMESPACE", "QdpxContent", "QdpxResult", "build_qdpx", "export_qdpx", "item_text", "write_qdpx"]

log = logging.getLogger(__name__)

NAMESPACE = "urn:QDA-XML:project:1.0"


@dataclass(frozen=True)
class QdpxContent:
    """A built project: forumkit's project id, the XML of ``project.qde``, each source file (name -> text)."""

    project: int
    qde: bytes
    sources: dict[str, str]
    users: int
    codes: int
    selections: int
    notes: int


@dataclass(frozen=True)
class QdpxResult:
    """What :func:`export_qdpx` wrote."""

    path: Path
    project: int
    sources: int
    codes: int
    users: int
    selections: int
    notes: int


@dataclass
class _Item:
    unit: str
    item_id: int
    guid: str
    name: str
    description: str
    text: str
    selections: list[tuple[str, str, str | None, str, str | None]] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)


def _xml_time(value: Any) -> str | None:
    """An ISO-8601 moment as the xsd:dateTime importers read: seconds, UTC, ``Z``. None when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    moment = value if isinstance(value, datetime) else parse_iso(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _el(parent: etree._Element | None, tag: str, attrs: dict[str, Any] | None = None,
        text: str | None = None) -> etree._Element:
    return element(parent, NAMESPACE, tag, attrs, text)


# -- item texts ---------------------------------------------------------------------------------------------

def _post_block(post: Any) -> str:
    when = (post["created_at"] or "")[:16].replace("T", " ")
    block = f"@{post['username'] or '?'} ({when}):"
    body = _clean(post["text"]).strip()
    if body:
        block += "\n" + body
    code = _clean(post["code"]).strip("\n")
    if code:
        block += "\n\n" + "\n".join(("    " + line) if line.strip() else "" for line in code.split("\n"))
    return block


def item_text(title: str, posts: Iterable[Any]) -> str:
    """The readable text of an item: its title line, then each post (``@username (date):``, text, code)."""
    blocks = [_clean(title).strip()] + [_post_block(p) for p in posts]
    return "\n\n".join(blocks) + "\n"


def _items(store: Store, forum_id: int, unit: str, item_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """item id -> (source name, description, text): the items as Label Studio showed them (one loader)."""
    return {i.item_id: (f"{unit} {i.item_id}: {i.title}", _description(i.category, i.created_at, i.url),
                        item_text(i.title, i.posts)) for i in store.coding_items(forum_id, unit, item_ids).values()}


def _description(category: str | None, created_at: str | None, url: str) -> str:
    parts = [f"forum category: {category}" if category else "", f"created: {created_at}" if created_at else "",
             url]
    return "\n".join(p for p in parts if p)


# -- the project ----------------------------------------------------------------------------------------------

def build_qdpx(store: Store, project: int | None = None, *, created: datetime | None = None) -> QdpxContent:
    """Build the REFI-QDA XML and source texts of a project's pulled annotations (see the module doc)."""
    from .studio.projects import project_codebooks, project_row  # the Label Studio SDK is not needed here

    row = project_row(store, project)
    rows = annotation_rows(store, row["id"])
    rows = rows[~rows["was_cancelled"]]
    if rows.empty:
        raise UsageError(f"every annotation of project {row['id']} was skipped: nothing to export",
                         hint="code some items in Label Studio, then: forumkit studio pull --db ...")
    codebooks = project_codebooks(store, row["id"])
    created_at = _xml_time(created or datetime.now(timezone.utc))
    studio_key = f"{row['url']}/projects/{row['project_id']}"

    root = _el(None, "Project", {"name": row["title"], "origin": f"forumkit {__version__}",
                                 "creationDateTime": created_at})
    coders = sorted(set(rows["coder"]))
    users = _el(root, "Users")
    user_guid = {}
    for coder in coders:
        user_guid[coder] = guid(f"user/{coder}")
        _el(users, "User", {"guid": user_guid[coder], "name": coder, "id": coder})
    code_guid, n_codes = add_codes(_el(_el(root, "CodeBook"), "Codes"), NAMESPACE, codebooks)

    unit = row["unit"]
    item_ids = list(dict.fromkeys(int(i) for i in rows["item_id"]))
    found = _items(store, row["forum_id"], unit, item_ids)
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise StoreError(f"project {row['id']} has annotations of {len(missing)} {unit}(s) the store does not hold "
                         f"(e.g. {missing[0]})", hint="scrape the forum into this store again, then export")
    forum_url = dict(store.forums()).get(row["forum_id"], str(row["forum_id"]))
    items: dict[int, _Item] = {}
    for item_id in item_ids:
        name, description, text = found[item_id]
        items[item_id] = _Item(unit, item_id, guid(f"source/{forum_url}/{unit}/{item_id}"), name, description, text)

    notes: list[tuple[str, str, str, str | None, str]] = []  # guid, name, coder, time, text
    n_selections = 0
    for annotation_id, ann in rows.groupby("annotation_id", sort=False):
        first = ann.iloc[0]
        item = items[int(first["item_id"])]
        coder, when = first["coder"], _xml_time(first["annotated_at"])
        memo = _clean(first["memo"]).strip()
        ann_key = f"{studio_key}/annotations/{int(annotation_id)}"
        note_guid = guid(f"{ann_key}/memo") if memo else None
        if note_guid:
            notes.append((note_guid, f"memo by {coder} on {item.name}", coder, when, memo))
        applied = ann.dropna(subset=["code_id"])
        if applied.empty and note_guid:
            item.note_refs.append(note_guid)
        for code in applied.itertuples(index=False):
            target = code_guid.get((code.codebook_id, code.code_id))
            if target is None:
                raise StoreError(f"annotation {int(annotation_id)} has code {code.code_id}, which the project's "
                                 f"codebooks do not define", hint="pull the project again: forumkit studio pull")
            item.selections.append((f"{ann_key}/{code.codebook_id}/{code.code_id}", user_guid[coder], when, target,
                                    note_guid))
            n_selections += 1

    sources = _el(root, "Sources")
    files: dict[str, str] = {}
    for item in items.values():
        source = _el(sources, "TextSource", {"guid": item.guid, "name": item.name,
                                             "plainTextPath": f"internal://{item.guid}.txt"})
        if item.description:
            _el(source, "Description", text=item.description)
        for key, user, when, target, note_guid in item.selections:
            selection = _el(source, "PlainTextSelection", {
                "guid": guid(key), "startPosition": 0, "endPosition": len(item.text), "creatingUser": user,
                "creationDateTime": when})
            coding = _el(selection, "Coding", {"guid": guid(f"{key}/coding"), "creatingUser": user,
                                               "creationDateTime": when})
            _el(coding, "CodeRef", {"targetGUID": target})
            if note_guid:
                _el(selection, "NoteRef", {"targetGUID": note_guid})
        for ref in item.note_refs:
            _el(source, "NoteRef", {"targetGUID": ref})
        files[f"{item.guid}.txt"] = item.text
    if notes:
        holder = _el(root, "Notes")
        for note_guid, name, coder, when, text in notes:
            note = _el(holder, "Note", {"guid": note_guid, "name": name, "creatingUser": user_guid[coder],
                                        "creationDateTime": when})
            _el(note, "PlainTextContent", text=text)
    _el(root, "Description", text=f"Coded in Label Studio project {row['project_id']} ({row['title']}) at "
                                  f"{row['url']}, {unit}s of {forum_url}; codebooks: "
                                  + ", ".join(f"{cb.id} {cb.version}" for cb in codebooks)
                                  + ". Exported by forumkit: each item is coded as a whole.")
    qde = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return QdpxContent(row["id"], qde, files, len(coders), n_codes, n_selections, len(notes))


def write_qdpx(content: QdpxContent, path: str | Path, *, created: datetime | None = None) -> Path:
    """Write ``project.qde`` and ``sources/`` into a .qdpx zip, atomically (a temporary file, then a rename)."""
    path = Path(path)
    if path.suffix.lower() != ".qdpx":
        raise UsageError(f"{path} does not end in .qdpx", hint="name the output file like study.qdpx")
    stamp = (created or datetime.now(timezone.utc)).astimezone(timezone.utc)
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            entries = [("project.qde", content.qde)]
            entries += [(f"sources/{name}", text.encode("utf-8")) for name, text in content.sources.items()]
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_qdpx(store: Store, path: str | Path, project: int | None = None, *,
                created: datetime | None = None) -> QdpxResult:
    """Write a project's coded dataset as a REFI-QDA project file (see the module doc).

    ``project`` is forumkit's project id (the only project when None); ``created`` the project's creation
    time (now when None), the only thing that differs between two exports of the same data.
    """
    path = Path(path)
    if path.suffix.lower() != ".qdpx":
        raise UsageError(f"{path} does not end in .qdpx", hint="name the output file like study.qdpx")
    created = created or datetime.now(timezone.utc)
    content = build_qdpx(store, project, created=created)
    write_qdpx(content, path, created=created)
    log.info("wrote %s: %d sources, %d codings", path, len(content.sources), content.selections)
    return QdpxResult(path, content.project, len(content.sources), content.codes, content.users, content.selections,
                      content.notes)
