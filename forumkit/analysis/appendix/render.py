"""The appendix's text: one Jinja2 template per format (Markdown, LaTeX), shipped in ``forumkit/data/appendix/``.

Both templates get the same facts; the format's filters escape what the store holds (forum, category, code and
project names) so that a title with ``&`` or ``_`` neither breaks the Markdown tables nor the LaTeX.
The LaTeX template uses ``<< >>`` and ``<% %>`` as delimiters, so that TeX's braces need no escaping in it.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

__all__ = ["TEMPLATES", "md_escape", "render", "tex_escape"]

#: Output file -> template in forumkit/data/appendix.
TEMPLATES = {"methods.md": "methods.md.j2", "methods.tex": "methods.tex.j2"}

_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
        "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}", "<": r"\textless{}",
        ">": r"\textgreater{}", "|": r"\textbar{}"}
_TEX_RE = re.compile("|".join(re.escape(k) for k in _TEX))
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, text and emoji variation selectors
_MD_RE = re.compile(r"([\\`*_\[\]<>|#])")


def tex_escape(value: Any) -> str:
    """Text as LaTeX prints it literally: every special character escaped, newlines as spaces.

    Emoji and other pictographic symbols (Unicode category So, with their joiners and variation selectors) are
    dropped: pdfLaTeX stops at a character its fonts lack, and forum category names often start with one
    ("🤗Transformers" is typeset "Transformers").
    """
    text = "".join(ch for ch in str(value) if unicodedata.category(ch) != "So" and ch not in _JOINERS)
    return _TEX_RE.sub(lambda m: _TEX[m.group(0)], text).replace("\n", " ")


def md_escape(value: Any) -> str:
    """Text as Markdown prints it literally (also inside a table cell): markup characters backslashed."""
    return _MD_RE.sub(r"\\\1", str(value)).replace("\n", " ")


def _number(value: Any, digits: int = 3, missing: str = "n/a") -> str:
    """Whole numbers as they are, other numbers with ``digits`` decimals, NaN/None as ``missing``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and digits == 0):
        return str(int(value))
    return f"{float(value):.{digits}f}"


def _percent(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _environment(tex: bool) -> Environment:
    options: dict[str, Any] = dict(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                   undefined=StrictUndefined, autoescape=False)
    if tex:
        options.update(block_start_string="<%", block_end_string="%>", variable_start_string="<<",
                       variable_end_string=">>", comment_start_string="<#", comment_end_string="#>")
    env = Environment(**options)
    escape = tex_escape if tex else md_escape
    env.filters.update(e=escape, num=_number, pct=_percent, plural=_plural, day=lambda v: str(v or "")[:10])
    return env


@functools.cache
def _template(name: str) -> Template:
    """The compiled template of output ``name``: compiled once a process (compiling takes longer than rendering)."""
    text = resources.files("forumkit").joinpath("data", "appendix", TEMPLATES[name]).read_text(encoding="utf-8")
    return _environment(name.endswith(".tex")).from_string(text)


def render(name: str, facts: dict[str, Any]) -> str:
    """The text of ``name`` (a key of :data:`TEMPLATES`) for the appendix's facts."""
    return _template(name).render(**facts)
