"""Find mentions of models (BERT, GPT-2, T5...) in a post's text.

A :class:`ModelVocabulary` maps spellings to canonical model names and counts,
for one text, how often each model is mentioned. The default vocabulary
(``forumkit/data/model_vocabulary.csv``) has one row per Hugging Face Hub model
type; a user can bring their own list (:meth:`ModelVocabulary.from_file`) and
add it to the default (:meth:`ModelVocabulary.extended`).

Matching rules:

* a spelling matches only as a whole word: not after or before a letter or a
  digit (``bitter`` is not BiT, ``github`` not GIT, ``mt5`` not t5); ``-``,
  ``_``, ``/``, ``.`` and punctuation are boundaries, so checkpoint names count
  for their type (``bert-base-uncased`` and ``https://huggingface.co/bert-base-uncased``
  mention bert, ``gpt2-medium`` gpt2, ``facebook/bart-large-cnn`` bart);
* CamelCase is a boundary too, for class names: ``BertModel``, ``TFBertModel``,
  ``GPT2LMHeadModel``, ``CLIPModel``, ``SciBERT`` mention bert, gpt2, clip...
  but all-capital words are not split (``OPTION`` is not OPT);
* a spelling right after ``@`` is a username, right before it an e-mail
  address, not a model;
* the longest spelling wins and matches do not overlap:
  ``distilbert-base-uncased`` is distilbert (not bert), ``xlm-roberta-base``
  xlm-roberta (not roberta);
* a space in a spelling matches any run of whitespace;
* rows marked case-sensitive match their aliases exactly as written, and not
  their canonical name (``git`` is matched as ``GIT``, ``git-base``...); a
  case-sensitive row without aliases matches its canonical name exactly.

File format (``from_file``): a CSV file with the header ``model,aliases,case_sensitive``
(aliases separated by ``|``, case_sensitive ``true``/``false``), or a text file
with one model name per line (matched case-insensitively). Blank lines and
lines starting with ``#`` are ignored in both.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import unicodedata
from importlib import resources

from forumkit.errors import UsageError

__all__ = ["ModelVocabulary"]

_FORMAT_HINT = (
    "a model list is a CSV file with the header model,aliases,case_sensitive "
    "(aliases separated by |), or a text file with one model name per line"
)
_COLUMNS = ("model", "aliases", "case_sensitive")
_MAX_SPELLING = 200
_TRUE = frozenset({"true", "yes", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "n", "f", ""})

# Left boundary: not after a letter or digit (underscore is a boundary) nor
# after "@" (a username); or a CamelCase boundary (fooBar, FOOBar).
_LEFT = r"(?:(?<![^\W_])(?<!@)|(?-i:(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z0-9])))"
# Right boundary: not before a letter or digit; or a CamelCase boundary
# (BertModel, GPT2LMHeadModel, CLIPModel) but not inside an all-capital word;
# and not before "@" (the user part of an e-mail address).
_RIGHT = r"(?!@)(?:(?![^\W_])|(?-i:(?<=[a-z0-9])(?=[A-Z])|(?=[A-Z][a-z])))"


def _norm(surface: str) -> str:
    """A spelling as stored: NFC, whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFC", surface).split())


def _trie_regex(words: list[str]) -> str:
    """A regex matching any of ``words``, factored as a trie (fast in ``re``).

    Greedy optional tails make a longer word win over its prefix, with
    backtracking to the prefix when the longer one fails the boundary check.
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alternatives = []
        for ch in sorted(k for k in node if k):
            piece = r"\s+" if ch == " " else re.escape(ch)
            alternatives.append(piece + build(node[ch]))
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        if "" in node:
            return "(?:" + body + ")?"
        return body

    return build(trie)


class ModelVocabulary:
    """Spellings of models, and a fast matcher over them.

    Build one with :meth:`default`, :meth:`from_file` or :meth:`extended`;
    instances are immutable and can be shared between threads.
    """

    __slots__ = ("models", "_ci", "_cs", "_ci_re", "_cs_re", "_pre")

    models: tuple[str, ...]

    def __init__(self, models: tuple[str, ...], ci: dict[str, str], cs: dict[str, str]) -> None:
        """Internal: use :meth:`default`, :meth:`from_file` or :meth:`extended`.

        ``ci`` maps lower-cased spellings, ``cs`` exact spellings, to models.
        """
        self.models = models
        self._ci = ci
        self._cs = cs
        # Exact rules: a trie of the spellings between boundary checks.
        self._ci_re = re.compile(_LEFT + "(?:" + _trie_regex(sorted(ci)) + ")" + _RIGHT, re.IGNORECASE) if ci else None
        self._cs_re = re.compile(_LEFT + "(?:" + _trie_regex(sorted(cs)) + ")" + _RIGHT) if cs else None
        # Prefilter, run on " " + text.lower(): a non-alphanumeric character
        # then any spelling, lower-cased. It finds every place where a
        # spelling starts a word, and is ~5x cheaper than the look-arounds of
        # the exact rules at every position (re scans for the first character
        # in C). ``find`` tries the exact rules only there and at CamelCase humps.
        keys = sorted(set(ci) | {k.lower() for k in cs})
        self._pre = re.compile("[^a-z0-9](?:" + _trie_regex(keys) + ")") if keys else None

    def __repr__(self) -> str:
        return f"ModelVocabulary({len(self.models)} models)"

    # --- construction -----------------------------------------------------

    @classmethod
    def default(cls) -> ModelVocabulary:
        """The shipped vocabulary: the Hugging Face Hub model types (cached)."""
        return _default()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ModelVocabulary:
        """A user's model list: CSV (``model,aliases,case_sensitive``) or one name per line.

        Raises :class:`~forumkit.errors.UsageError` naming the file and line
        when the file cannot be read or a line is malformed.
        """
        name = os.fspath(path)
        try:
            with open(name, encoding="utf-8-sig", newline="") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UsageError(f"cannot read model list {name}: {reason}", hint=_FORMAT_HINT) from None
        return cls._from_text(text, name)

    @classmethod
    def _from_text(cls, text: str, source: str) -> ModelVocabulary:
        models: dict[str, None] = {}
        ci: dict[str, str] = {}
        cs: dict[str, str] = {}
        seen: dict[tuple[str, bool], tuple[str, int]] = {}  # spelling key -> (model, line)

        def fail(lineno: int, what: str) -> UsageError:
            return UsageError(f"model list {source}, line {lineno}: {what}", hint=_FORMAT_HINT)

        def add(model: str, surface: str, case_sensitive: bool, lineno: int) -> None:
            surface = _norm(surface)
            if not any(ch.isalnum() for ch in surface):
                raise fail(lineno, f"spelling {surface!r} of {model!r} has no letter or digit")
            if len(surface) > _MAX_SPELLING:
                raise fail(lineno, f"spelling {surface[:30]!r}... is longer than {_MAX_SPELLING} characters")
            key = surface if case_sensitive else surface.lower()
            other = seen.get((key, case_sensitive))
            if other is not None and other[0] != model:
                raise fail(lineno, f"spelling {surface!r} of {model!r} already names {other[0]!r} (line {other[1]})")
            seen[(key, case_sensitive)] = (model, lineno)
            (cs if case_sensitive else ci)[key] = model

        columns: dict[str, int] | None = None
        mode = None  # "csv" or "list", decided by the first content line
        for lineno, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if mode is None:
                first = [c.strip().lower() for c in next(csv.reader([stripped]))]
                if first and first[0] in _COLUMNS and len(first) > 1 or first == ["model"]:
                    for col in first:
                        if col not in _COLUMNS:
                            raise fail(lineno, f"unknown column {col!r} (the columns are {','.join(_COLUMNS)})")
                    missing = [c for c in _COLUMNS if c not in first]
                    if missing:
                        raise fail(lineno, f"missing column {missing[0]!r} in the header")
                    if len(set(first)) != len(first):
                        raise fail(lineno, "a column is named twice in the header")
                    columns = {c: first.index(c) for c in _COLUMNS}
                    mode = "csv"
                    continue
                mode = "list"
            if mode == "list":
                if "," in stripped:
                    raise fail(
                        lineno,
                        f"{stripped[:60]!r} has commas, but the file has no header line model,aliases,case_sensitive",
                    )
                model = _norm(stripped)
                models.setdefault(model)
                add(model, model, False, lineno)
                continue
            assert columns is not None
            cells = next(csv.reader([stripped]))
            if len(cells) != len(columns):
                raise fail(lineno, f"expected {len(columns)} columns ({','.join(_COLUMNS)}), found {len(cells)}")
            model = _norm(cells[columns["model"]])
            if not model:
                raise fail(lineno, "empty model name")
            flag = cells[columns["case_sensitive"]].strip().lower()
            if flag in _TRUE:
                case_sensitive = True
            elif flag in _FALSE:
                case_sensitive = False
            else:
                raise fail(lineno, f"case_sensitive must be true or false, not {flag[:20]!r}")
            aliases = [a for a in (_norm(a) for a in cells[columns["aliases"]].split("|")) if a]
            models.setdefault(model)
            if not case_sensitive or not aliases:
                add(model, model, case_sensitive, lineno)
            for alias in aliases:
                add(model, alias, case_sensitive, lineno)
        if not models:
            raise UsageError(f"model list {source} names no models", hint=_FORMAT_HINT)
        return cls(tuple(models), ci, cs)

    def extended(self, other: ModelVocabulary) -> ModelVocabulary:
        """This vocabulary plus ``other``'s models; where a spelling is in both, ``other`` wins."""
        models = dict.fromkeys(self.models)
        models.update(dict.fromkeys(other.models))
        return ModelVocabulary(tuple(models), {**self._ci, **other._ci}, {**self._cs, **other._cs})

    # --- matching -------------------------------------------------------------

    def find(self, text: str) -> dict[str, int]:
        """Canonical model -> number of mentions in ``text`` (only models mentioned, in order of first mention)."""
        if not text:
            return {}
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        counts: dict[str, int] = {}
        for surface, case_sensitive in self._matches(text):
            if case_sensitive:
                model = self._cs.get(surface) or self._cs.get(" ".join(surface.split()))
            else:
                model = self._ci.get(surface.lower()) or self._ci.get(" ".join(surface.split()).lower())
            if model is not None:
                counts[model] = counts.get(model, 0) + 1
        return counts

    def _matches(self, text: str) -> list[tuple[str, bool]]:
        """The spellings found in ``text``, left to right, longest first, not overlapping.

        Each is ``(matched text, case_sensitive)``.
        """
        if self._pre is None:
            return []
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter whose lower case is longer: no prefilter
            return self._matches_slow(text)
        ci_re, cs_re = self._ci_re, self._cs_re
        # haystack[i + 1] is text[i]; a prefilter match at haystack index i
        # is a spelling starting at text[i].
        haystack = " " + lowered
        search = self._pre.search
        never = len(text) + 1
        humps = [m.start() for m in _HUMP.finditer(text)]
        hump_i = 0
        hump_next = humps[0] if humps else never
        m = search(haystack)
        word_next = m.start() if m else never
        found: list[tuple[str, bool]] = []
        while True:
            start = word_next if word_next < hump_next else hump_next
            if start >= never:
                return found
            a = ci_re.match(text, start) if ci_re is not None else None
            b = cs_re.match(text, start) if cs_re is not None else None
            if a is not None and (b is None or a.end() >= b.end()):
                found.append((a.group(), False))
                pos = a.end()
            elif b is not None:
                found.append((b.group(), True))
                pos = b.end()
            else:
                pos = start + 1
            if word_next < pos:
                m = search(haystack, pos)
                word_next = m.start() if m else never
            while hump_next < pos:
                hump_i += 1
                hump_next = humps[hump_i] if hump_i < len(humps) else never

    def _matches_slow(self, text: str) -> list[tuple[str, bool]]:
        """:meth:`_matches` without prefilter: merge full scans of both regexes."""
        spans = []
        if self._cs_re is not None:
            spans += [(m.start(), -m.end(), m.group(), True) for m in self._cs_re.finditer(text)]
        if self._ci_re is not None:
            spans += [(m.start(), -m.end(), m.group(), False) for m in self._ci_re.finditer(text)]
        spans.sort(key=lambda s: (s[0], s[1], s[3]))  # case-insensitive first on a tie, as in _matches
        found = []
        end = -1
        for start, neg_end, surface, case_sensitive in spans:
            if start >= end:
                found.append((surface, case_sensitive))
                end = -neg_end
        return found


# A capital after a letter or digit: it may start a CamelCase word. (Starts
# with the capital so that re scans for capitals in C.)
_HUMP = re.compile(r"[A-Z](?<=[A-Za-z0-9][A-Z])")


@functools.lru_cache(maxsize=1)
def _default() -> ModelVocabulary:
    text = (resources.files("forumkit") / "data" / "model_vocabulary.csv").read_text(encoding="utf-8")
    return ModelVocabulary._from_text(text, "forumkit/data/model_vocabulary.csv")
