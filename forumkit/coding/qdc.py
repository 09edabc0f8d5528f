"""Codebooks for other QDA tools: the REFI-QDA codebook (.qdc) and the CSV that Taguette imports.

One writer makes the ``<Codes>`` tree of a set of codebooks; :mod:`forumkit.coding.qdpx` puts it inside a
project (``urn:QDA-XML:project:1.0``), :func:`build_qdc` into a codebook file (``urn:QDA-XML:codebook:1.0``,
REFI-QDA Codebook schema 1.0), which ATLAS.ti, MAXQDA, NVivo and QualCoder import. Every code is codable and
carries its definition, include/exclude notes, examples and keywords as its ``<Description>``. One codebook
puts its categories at the top; with several, each codebook becomes a top-level non-codable code holding its
categories, so that categories of two codebooks cannot mix. GUIDs are uuid5 of the codebook and code ids, so
the same codebook gives the same file, and a code has the same GUID in the .qdc and in the .qdpx.

Taguette (1.5) imports codebooks only as CSV (it exports .qdc but does not read it): a ``tag`` column and a
``description`` column. Its tags are flat strings; the only hierarchy it knows is a prefix (the highlights
of a tag include those of every tag whose path starts with it), so a code's tag is its names from the top
joined by ``/`` (``Category/Subcategory``), prefixed by the codebook's name when there are several. The
description is one line (Taguette shows it in a one-line text box, where a browser drops line breaks)
ending with the forumkit code id. The file is UTF-8 with a byte-order mark: without it Taguette guesses the
encoding of a short file and may read UTF-8 as Latin-1.

Example::

    write_qdc([load_codebook("hf-challenges")], "challenges.qdc")
    write_taguette_csv([load_codebook("hf-challenges")], "challenges.csv")
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, Sequence

from lxml import etree

from forumkit import __version__
from forumkit.errors import StoreError, UsageError
from .codebook import Code, Codebook

__all__ = ["CODEBOOK_NAMESPACE", "GUID_NAMESPACE", "TAGUETTE_SEPARATOR", "add_codes", "build_qdc", "clean",
           "code_description", "element", "guid", "taguette_rows", "write_codebooks", "write_qdc",
           "write_taguette_csv"]

CODEBOOK_NAMESPACE = "urn:QDA-XML:codebook:1.0"
#: The namespace of every forumkit GUID: uuid5(GUID_NAMESPACE, key) for a stable key.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:forumkit:qdpx")
#: Joins the names of a code's path in a Taguette tag.
TAGUETTE_SEPARATOR = "/"
#: Taguette refuses a tag path longer than this.
TAGUETTE_MAX_PATH = 200

# Characters XML 1.0 cannot hold (control characters other than tab and newlines, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def guid(key: str) -> str:
    """The GUID of a stable key (uuid5), lower case as the schema's pattern allows."""
    return str(uuid.uuid5(GUID_NAMESPACE, key))


def clean(text: Any) -> str:
    """Text XML can hold and every importer counts alike: LF line ends, no control characters."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return _NOT_XML.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def element(parent: etree._Element | None, namespace: str, tag: str, attrs: dict[str, Any] | None = None,
            text: str | None = None) -> etree._Element:
    """A child of ``parent`` (the root when None) in ``namespace``, its attributes and text cleaned."""
    attrib = {k: clean(v) for k, v in (attrs or {}).items() if v is not None}
    name = f"{{{namespace}}}{tag}"
    node = etree.Element(name, attrib, nsmap={None: namespace}) if parent is None else \
        etree.SubElement(parent, name, attrib)
    if text:
        node.text = clean(text)
    return node


def code_description(code: Code) -> str:
    """A code's definition, include/exclude notes, examples and keywords, one paragraph each."""
    parts = [code.definition.strip()]
    if code.include:
        parts.append(f"Include: {code.include.strip()}")
    if code.exclude:
        parts.append(f"Exclude: {code.exclude.strip()}")
    if code.examples:
        parts.append("Examples:\n" + "\n".join(f"- {e}" for e in code.examples))
    if code.keywords:
        parts.append(f"Keywords: {', '.join(code.keywords)}")
    return "\n\n".join(p for p in parts if p)


def _check_unique(codebooks: Sequence[Codebook]) -> None:
    seen = [cb.id for cb in codebooks]
    if not seen:
        raise UsageError("no codebook to export", hint="name a codebook, or push the project with its codebooks")
    if len(set(seen)) != len(seen):
        raise StoreError(f"a codebook is listed twice ({', '.join(seen)})",
                         hint="use one version of each codebook")


def _code_element(parent: etree._Element, namespace: str, codebook: Codebook, code: Code, guids: dict) -> int:
    code_guid = guid(f"code/{codebook.id}/{code.id}")
    guids[(codebook.id, code.id)] = code_guid
    node = element(parent, namespace, "Code", {"guid": code_guid, "name": code.name, "isCodable": "true"})
    description = code_description(code)
    if description:
        element(node, namespace, "Description", text=description)
    return 1 + sum(_code_element(node, namespace, codebook, child, guids) for child in code.children)


def add_codes(codes: etree._Element, namespace: str, codebooks: Sequence[Codebook]) -> tuple[dict, int]:
    """Fill a ``<Codes>`` element: (codebook id, code id) -> GUID, and the number of codes written."""
    _check_unique(codebooks)
    guids: dict[tuple[str, str], str] = {}
    count = 0
    for codebook in codebooks:
        holder = codes
        if len(codebooks) > 1:
            holder = element(codes, namespace, "Code", {"guid": guid(f"codebook/{codebook.id}"),
                                                        "name": codebook.name, "isCodable": "false"})
            text = codebook.description.strip() + (f"\n\nversion {codebook.version}" if codebook.version else "")
            element(holder, namespace, "Description", text=text.strip())
            count += 1
        for category in codebook.categories:
            count += _code_element(holder, namespace, codebook, category, guids)
    return guids, count


def build_qdc(codebooks: Sequence[Codebook]) -> tuple[bytes, int]:
    """The REFI-QDA codebook XML of ``codebooks`` and the number of codes in it."""
    root = element(None, CODEBOOK_NAMESPACE, "CodeBook", {"origin": f"forumkit {__version__}"})
    _, count = add_codes(element(root, CODEBOOK_NAMESPACE, "Codes"), CODEBOOK_NAMESPACE, codebooks)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), count


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _taguette_description(codebook: Codebook, code: Code) -> str:
    parts = [code.definition, f"Include: {code.include}" if code.include else "",
             f"Exclude: {code.exclude}" if code.exclude else "",
             "Examples: " + " / ".join(code.examples) if code.examples else "",
             "Keywords: " + ", ".join(code.keywords) if code.keywords else "",
             f"(forumkit code {code.id}, codebook {codebook.id} {codebook.version})"]
    return " ".join(_one_line(p) for p in parts if p.strip())


def taguette_rows(codebooks: Sequence[Codebook]) -> list[tuple[str, str]]:
    """(tag path, one-line description) per code, depth-first: what Taguette's codebook import reads."""
    _check_unique(codebooks)
    rows: list[tuple[str, str]] = []

    def walk(codebook: Codebook, code: Code, above: tuple[str, ...]) -> None:
        names = (*above, _one_line(code.name).replace(TAGUETTE_SEPARATOR, "-"))
        rows.append((TAGUETTE_SEPARATOR.join(names), _taguette_description(codebook, code)))
        for child in code.children:
            walk(codebook, child, names)

    for codebook in codebooks:
        top = (_one_line(codebook.name).replace(TAGUETTE_SEPARATOR, "-"),) if len(codebooks) > 1 else ()
        for category in codebook.categories:
            walk(codebook, category, top)
    paths = [path for path, _ in rows]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise UsageError(f"two codes would get the same Taguette tag '{twice[0]}'",
                         hint="give sibling codes different names")
    too_long = [p for p in paths if len(p) > TAGUETTE_MAX_PATH]
    if too_long:
        raise UsageError(f"the Taguette tag '{too_long[0][:60]}...' is longer than {TAGUETTE_MAX_PATH} characters",
                         hint="shorten the code's name or its parents' names")
    return rows


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_qdc(codebooks: Sequence[Codebook], path: str | Path) -> int:
    """Write ``codebooks`` as a REFI-QDA codebook file (must end in .qdc); the number of codes written."""
    path = Path(path)
    if path.suffix.lower() != ".qdc":
        raise UsageError(f"{path} does not end in .qdc", hint="name the output file like codebook.qdc")
    data, count = build_qdc(codebooks)
    _write_atomic(path, data)
    return count


def write_codebooks(codebooks: Sequence[Codebook], path: str | Path) -> int:
    """Write ``codebooks`` as a .qdc or a Taguette .csv, as the suffix of ``path`` says; the codes written."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".qdc", ".csv"):
        raise UsageError(f"{path} ends in neither .qdc nor .csv",
                         hint="name the output file like codebook.qdc (REFI-QDA) or codebook.csv (Taguette)")
    return (write_qdc if suffix == ".qdc" else write_taguette_csv)(codebooks, path)


def write_taguette_csv(codebooks: Sequence[Codebook], path: str | Path) -> int:
    """Write ``codebooks`` as the CSV Taguette's "Import codebook" reads (must end in .csv); the rows written."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise UsageError(f"{path} does not end in .csv", hint="name the output file like codebook.csv")
    rows = taguette_rows(codebooks)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["tag", "description"])
    writer.writerows(rows)
    _write_atomic(path, buffer.getvalue().encode("utf-8-sig"))
    return len(rows)
