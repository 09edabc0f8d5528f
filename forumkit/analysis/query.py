"""Queries across codes: the coded items that have code A and not code B, in a forum category, in a date range.

A query combines codes with ``and``, ``or``, ``not`` and parentheses (``not`` binds tightest, then ``and``,
then ``or``, as in Python; the words in any case). A code is named by its id (``CH.MEMORY_AND_PERFORMANCE``) or
its name, a category's or a subcategory's (``Performance``; case and spacing ignored); a name with spaces is
quoted, ``'Model loading' and not Performance``. A code stands for itself and every code below it, so a
category matches the items with any of its codes; a name that several codes carry stands for all of them.

The items are a project's coded items and their codes under a rule (:mod:`forumkit.analysis.itemcodes`: the
consensus by default); ``not B`` is the coded items without B. The text of each item is the one text rule of
:func:`forumkit.coding.suggest.corpus.item_text` (title, then the posts' own words).

Example::

    from forumkit.analysis.query import query_items

    found = query_items(store, "'Model loading' and not Performance", project=1, categories=["Beginners"],
                        since="2022-01-01")
    found[["item_id", "created_at", "title"]]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd
import pyparsing as pp

from forumkit.analysis.categories import category_key
from forumkit.analysis.itemcodes import ItemCodes, item_codes
from forumkit.coding.suggest.corpus import item_text
from forumkit.dates import iso_date
from forumkit.errors import UsageError
from forumkit.store import Store

__all__ = ["Query", "parse_query", "query_items", "select_items", "QUERY_COLUMNS", "QUERY_HINT"]

#: Columns of :func:`query_items`, in order.
QUERY_COLUMNS = ["item_id", "unit", "topic_id", "post_id", "created_at", "forum_category", "title", "codes", "text"]
QUERY_HINT = ("join codes with and, or, not and parentheses; quote names with spaces: "
              "\"'Model loading' and not Performance\"")

_AND, _OR, _NOT = (pp.CaselessKeyword(word) for word in ("and", "or", "not"))
_WORD = pp.Regex(r"[^\s()'\"]+")


@dataclass(frozen=True)
class _Term:
    text: str
    at: int  # where it starts in the query


def _grammar() -> pp.ParserElement:
    """Terms (quoted, or bare words joined by spaces) under not > and > or, with parentheses (pyparsing's
    infix_notation: precedence and nesting written once, by a maintained library, not by hand)."""
    bare = pp.OneOrMore(~(_AND | _OR | _NOT) + _WORD)
    bare.set_parse_action(lambda s, loc, toks: _Term(" ".join(toks), loc))
    quoted = pp.QuotedString("'", esc_char="\\") | pp.QuotedString('"', esc_char="\\")
    quoted.set_parse_action(lambda s, loc, toks: _Term(toks[0], loc))
    term = quoted | bare
    return pp.infix_notation(term, [
        (_NOT, 1, pp.OpAssoc.RIGHT, lambda toks: [("not", _node(toks[0][1]))]),
        (_AND, 2, pp.OpAssoc.LEFT, lambda toks: [("and", tuple(_node(t) for t in toks[0][0::2]))]),
        (_OR, 2, pp.OpAssoc.LEFT, lambda toks: [("or", tuple(_node(t) for t in toks[0][0::2]))]),
    ])


def _node(value: object) -> object:
    """An operand without pyparsing's grouping around it: a term or an operator tuple."""
    while isinstance(value, pp.ParseResults):
        value = value[0]
    return value


_PARSER = _grammar()


@dataclass(frozen=True)
class Query:
    """A parsed query: ``tree`` is a :class:`_Term`, ``("not", tree)``, ``("and", trees)`` or ``("or", trees)``."""

    text: str
    tree: object

    def terms(self) -> list[_Term]:
        """The code names and ids of the query, in the order they appear."""
        found: list[_Term] = []

        def walk(node: object) -> None:
            if isinstance(node, _Term):
                found.append(node)
            elif node[0] == "not":
                walk(node[1])
            else:
                for part in node[1]:
                    walk(part)

        walk(self.tree)
        return sorted(found, key=lambda t: t.at)

    def evaluate(self, matches: dict[str, frozenset], universe: frozenset) -> frozenset:
        """The items of ``universe`` the query selects; ``matches``: each term's text -> the items it matches."""
        def value(node: object) -> frozenset:
            if isinstance(node, _Term):
                return matches[node.text] & universe
            if node[0] == "not":
                return universe - value(node[1])
            parts = [value(part) for part in node[1]]
            return frozenset.intersection(*parts) if node[0] == "and" else frozenset.union(*parts)

        return value(self.tree)


def parse_query(text: str) -> Query:
    """The query parsed; UsageError naming the token where it stops making sense."""
    if not text.strip():
        raise UsageError("the query is empty", hint=QUERY_HINT)
    try:
        result = _PARSER.parse_string(text, parse_all=True)
    except pp.ParseBaseException as exc:
        rest = text[exc.loc:]
        column = exc.loc + len(rest) - len(rest.lstrip()) + 1
        where = f"at {rest.split()[0]!r} (column {column})" if rest.strip() else "at its end"
        raise UsageError(f"cannot read the query {text!r} {where}", hint=QUERY_HINT) from None
    return Query(text, _node(result[0]))


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


class _Vocabulary:
    """Every name and id a query may use -> the code ids it stands for (the code and the codes below it)."""

    def __init__(self, codebooks: Sequence, seen: Iterable[str], forum_categories: Iterable[str] = ()) -> None:
        self.forum_categories = {category_key(c): c for c in forum_categories if isinstance(c, str)}
        self.ids: dict[str, set[str]] = {}
        self.names: dict[str, set[str]] = {}
        self.spellings: dict[str, str] = {}  # key -> as written, for "did you mean"
        for book in codebooks:
            for _, code in book.codes():
                below = {c.id for c in code.walk()}
                self.ids.setdefault(code.id, set()).update(below)
                self.names.setdefault(_key(code.name), set()).update(below)
                self.spellings.setdefault(_key(code.name), code.name)
                self.spellings.setdefault(_key(code.id), code.id)
        for code_id in seen:  # codes outside the codebooks (none given): each is its own
            self.ids.setdefault(code_id, {code_id})
            self.spellings.setdefault(_key(code_id), code_id)

    def codes(self, term: str) -> set[str]:
        if term in self.ids:
            return self.ids[term]
        key = _key(term)
        by_id = [ids for code_id, ids in self.ids.items() if _key(code_id) == key]
        if by_id:
            return set().union(*by_id)
        if key in self.names:
            return self.names[key]
        if category_key(term) in self.forum_categories:
            name = self.forum_categories[category_key(term)]
            raise UsageError(f"{term!r} in the query is a forum category, not a code",
                             hint=f"filter by it with --category {name!r} (categories= in the library)")
        close = difflib.get_close_matches(key, list(self.spellings), n=3, cutoff=0.6)
        hint = (f"did you mean {', '.join(repr(self.spellings[c]) for c in close)}? " if close else "") + \
            "name a code by its id or name (forumkit codebook show FILE); quote names with spaces"
        raise UsageError(f"unknown code {term!r} in the query", hint=hint)


def _in_categories(items: pd.DataFrame, categories: Sequence[str]) -> pd.Series:
    """Rows whose forum category is one of ``categories`` (case, emoji and spacing ignored)."""
    keys = items["forum_category"].map(lambda c: category_key(c) if isinstance(c, str) else None)
    known = {category_key(c): c for c in items["forum_category"].dropna()}
    for name in categories:
        if category_key(name) not in known:
            close = difflib.get_close_matches(category_key(name), list(known), n=3, cutoff=0.6)
            hint = (f"did you mean {', '.join(repr(known[c]) for c in close)}? " if close else "") + \
                f"the coded items' categories are: {', '.join(sorted(set(known.values())))}"
            raise UsageError(f"no coded item is in the forum category {name!r}", hint=hint)
    return keys.isin({category_key(c) for c in categories})


def select_items(found: ItemCodes, query: Query, codebooks: Sequence, *, categories: Sequence[str] = (),
                 since: str | None = None, until: str | None = None) -> pd.DataFrame:
    """The rows of ``found.items`` the query and filters select, with a ``codes`` column (the item's codes)."""
    vocabulary = _Vocabulary(codebooks, found.codes["code_id"].unique(), found.items["forum_category"].unique())
    by_code = found.codes.groupby("code_id")["item_id"].agg(frozenset).to_dict()
    matches = {}
    for term in query.terms():
        wanted = vocabulary.codes(term.text)
        matches[term.text] = frozenset().union(*(by_code.get(code, frozenset()) for code in wanted))
    items = found.items
    keep = pd.Series(True, index=items.index)
    if categories:
        keep &= _in_categories(items, categories)
    since, until = iso_date(since, "--since"), iso_date(until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since {since[:10]} is not before --until {until[:10]}",
                         hint="--since is inclusive, --until exclusive")
    if since:
        keep &= items["created_at"].fillna("") >= since
    if until:
        keep &= items["created_at"].fillna("9999") < until
    chosen = query.evaluate(matches, frozenset(items.loc[keep, "item_id"]))
    rows = items[items["item_id"].isin(chosen)].copy()
    codes = found.codes.groupby("item_id")["code_id"].agg(lambda c: "|".join(sorted(c)))
    rows["codes"] = rows["item_id"].map(codes).fillna("")
    return rows.sort_values(["created_at", "item_id"], na_position="last").reset_index(drop=True)


def query_items(store: Store, query: str, project: int | None = None, *, categories: Sequence[str] = (),
                since: str | None = None, until: str | None = None, rule: str = "majority",
                adjudicator: str | None = None, codebooks: Sequence | None = None) -> pd.DataFrame:
    """The coded items of ``project`` that ``query`` selects, oldest first (:data:`QUERY_COLUMNS`).

    ``categories``: only items in these forum categories; ``since`` (inclusive) and ``until`` (exclusive): only
    items created in that range (YYYY-MM-DD or ISO date-times); ``rule``, ``adjudicator``: which codes an item
    has (:func:`~forumkit.analysis.itemcodes.item_codes`); ``codebooks``: the names and ids a query may use
    (default: the codebooks the project was coded with).
    """
    from forumkit.analysis.aggregate import project_codebooks

    parsed = parse_query(query)  # a typo fails before the store is read
    found = item_codes(store, project, rule=rule, adjudicator=adjudicator)
    books = list(codebooks) if codebooks else project_codebooks(store, found.project)
    rows = select_items(found, parsed, books, categories=categories, since=since, until=until)
    rows["text"] = _texts(store, rows)
    return rows[QUERY_COLUMNS]


def _texts(store: Store, rows: pd.DataFrame) -> list[str]:
    """Each row's text by the one rule (:func:`~forumkit.coding.suggest.corpus.item_text`); "" when the forum no
    longer serves the item."""
    texts: dict[tuple[int, str, int], str] = {}
    for (forum_id, unit), part in rows.groupby(["forum_id", "unit"]):
        for item_id, _, title, posts in store.corpus_rows(int(forum_id), unit, [int(i) for i in part["item_id"]]):
            texts[(forum_id, unit, item_id)] = item_text(title if unit == "topic" else None, posts)
    return [texts.get((f, u, i), "") for f, u, i in zip(rows["forum_id"], rows["unit"], rows["item_id"])]
