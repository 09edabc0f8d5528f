"""The Label Studio labeling config for coding forum items with one or more codebooks."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Iterable

from forumkit.errors import UsageError
from .model import Code, Codebook, CodebookError

__all__ = ["label_config", "taxonomy_name", "UNITS", "OBJECT_NAME", "MEMO_NAME", "SUGGESTIONS_NAME", "PATH_SEPARATOR"]

#: What one task is: a whole topic, or one post of it.
UNITS = ("topic", "post")
#: Name of the HyperText object showing the item; every control points at it (``toName``).
OBJECT_NAME = "item"
#: Name of the free-text memo control.
MEMO_NAME = "memo"
#: Name of the HyperText panel listing a task's suggested codes, and of the task data key it shows.
SUGGESTIONS_NAME = "suggestions"
#: Shown between levels of a chosen path (ids never hold it, so Label Studio cannot split one wrongly).
PATH_SEPARATOR = " > "
_RESERVED = {OBJECT_NAME, MEMO_NAME, SUGGESTIONS_NAME, "title", "html", "url", "category", "created_at", "item_id"}

_INSTRUCTIONS = {
    "topic": ("Read the whole topic, the question and every reply, then choose every code that applies to the "
              "topic as a whole. Pick a category itself when none of its subcategories fits."),
    "post": ("Code this one post only; its topic title is shown for context. Choose every code that applies to "
             "what this post says. Pick a category itself when none of its subcategories fits."),
}
_MEMO_HINT = {
    "topic": "Memo: why these codes, doubts, a short quote from the topic...",
    "post": "Memo: why these codes, doubts, a short quote from the post...",
}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """One line of XML-safe text (ElementTree escapes & < > and quotes; control characters are dropped)."""
    return " ".join(_CONTROL_CHARS.sub(" ", text).split())


def taxonomy_name(codebook: Codebook) -> str:
    """The Taxonomy control's ``name`` (the result's ``from_name``) for a codebook: its id with every
    character other than a letter, digit or ``_`` turned into ``_`` (``hf-challenges`` -> ``hf_challenges``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", codebook.id)
    return name if name[:1].isalpha() else f"cb_{name}"


def _choice(parent: ET.Element, code: Code) -> None:
    attrs = {"value": _clean(code.name), "alias": code.id}
    if code.definition:
        attrs["hint"] = _clean(code.definition)
    element = ET.SubElement(parent, "Choice", attrs)
    for child in code.children:
        _choice(element, child)


def label_config(codebooks: Codebook | Iterable[Codebook], *, unit: str = "topic", memo: bool = True,
                 suggestions: bool = False) -> str:
    """The labeling config XML: the item's title, its rendered HTML, one Taxonomy per codebook, a memo.

    Task data keys it reads: ``title`` (header) and ``html`` (the sanitised, rendered topic or post, shown
    by ``<HyperText name="item">``); ``category``, ``created_at``, ``url`` and ``item_id`` may be there too.
    Each codebook becomes ``<Taxonomy name="{taxonomy_name(cb)}" toName="item" leafsOnly="false">`` (inner
    nodes selectable, several codes per item, full path shown) with one nested
    ``<Choice value="{name}" alias="{id}" hint="{definition}">`` per code. ``unit`` ("topic" or "post")
    words the instructions; ``memo`` adds ``<TextArea name="memo" toName="item">``. ``suggestions`` adds,
    above the codebooks, a "Suggestions" panel ``<HyperText name="suggestions" value="$suggestions">``: the
    codes a model suggests for the item with their scores and evidence (Label Studio keeps one score per
    prediction, so the per-code ones are shown here); every task of such a project needs that data key.

    What a result holds: Label Studio stores each chosen item as a path from the top, one entry per level,
    and each entry is the Choice's ``alias`` when it has one, else its ``value``. So with this config a
    result is ``{"from_name": "hf_challenges", "to_name": "item", "type": "taxonomy",
    "value": {"taxonomy": [["CH.MEMORY_AND_PERFORMANCE", "CH.MEMORY_AND_PERFORMANCE.SPEED"]]}}``: ids, not
    names, which survive renaming a code. Sources: the Taxonomy control of the Label Studio frontend
    (web/libs/editor/src/tags/control/Taxonomy/Taxonomy.jsx, ``traverse``: ``path = [...parents, node.alias
    ?? value]``), the Choice tag docs ("the alias replaces the choice value in the annotation results"), and
    label_studio_sdk 2.1.2's LabelInterface, which takes ``alias or value`` as a Choice's label and rejects a
    prediction that uses the value where an alias is set. :meth:`Codebook.by_path` accepts either form.

    Example: ``label_config([load_codebook("hf-challenges")], unit="post")``
    """
    books = [codebooks] if isinstance(codebooks, Codebook) else list(codebooks)
    if unit not in UNITS:
        raise UsageError(f"unknown unit {unit!r}", hint=f"use one of: {', '.join(UNITS)}")
    if not books:
        raise UsageError("no codebook given", hint="pass at least one codebook YAML file")
    names: dict[str, str] = {}
    for book in books:
        name = taxonomy_name(book)
        if name in _RESERVED:
            raise CodebookError(f"codebook id {book.id!r} clashes with the config's own name {name!r}",
                                hint="give the codebook another id")
        if name in names:
            raise CodebookError(f"codebooks {names[name]!r} and {book.id!r} both become Taxonomy {name!r}",
                                hint="give each codebook a distinct id (or leave the duplicate out)")
        names[name] = book.id

    view = ET.Element("View")
    ET.SubElement(view, "Header", {"value": "$title"})
    ET.SubElement(view, "Header", {"value": _clean(_INSTRUCTIONS[unit]), "size": "6"})
    ET.SubElement(view, "HyperText", {"name": OBJECT_NAME, "value": "$html"})
    if suggestions:
        ET.SubElement(view, "Header", {"value": "Suggestions (pre-selected codes are marked; check each one)",
                                       "size": "5"})
        ET.SubElement(view, "HyperText", {"name": SUGGESTIONS_NAME, "value": f"${SUGGESTIONS_NAME}"})
    for book in books:
        title = f"{book.name} (v{book.version})".replace("$", "")
        ET.SubElement(view, "Header", {"value": _clean(title), "size": "5"})
        taxonomy = ET.SubElement(view, "Taxonomy", {
            "name": taxonomy_name(book), "toName": OBJECT_NAME, "leafsOnly": "false", "showFullPath": "true",
            "pathSeparator": PATH_SEPARATOR, "placeholder": _clean(f"Choose {book.name} codes")})
        for code in book.categories:
            _choice(taxonomy, code)
    if memo:
        ET.SubElement(view, "Header", {"value": "Memo", "size": "5"})
        ET.SubElement(view, "TextArea", {"name": MEMO_NAME, "toName": OBJECT_NAME, "editable": "true",
                                         "placeholder": _MEMO_HINT[unit], "rows": "3", "maxSubmissions": "1"})
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"
