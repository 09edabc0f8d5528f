"""Parse a Discourse post's ``cooked`` HTML into clean text plus features.

Pure functions, no I/O. :func:`parse_cooked` turns the HTML that Discourse
renders for a post (the ``cooked`` field of the posts API) into a
:class:`ParsedPost`: the post's own words as plain text, the text of its code
blocks, and counts of the things research on developer forums measures (code
blocks, inline code, quotes, links, images, oneboxes, @mentions).

What counts as "the post's own words":

* code blocks (``<pre>``) go to ``code``, not to ``text``; inline ``<code>``
  stays in ``text`` (it is part of a sentence);
* quotes of other posts (``aside.quote``) and plain ``<blockquote>`` are
  dropped from ``text`` and from every other feature (their links, images and
  code are someone else's); they are counted in ``quotes`` and, for
  ``aside.quote``, identified in ``quoted_posts``;
* onebox cards (link previews) are reduced to their URL;
* emoji images become their alt text (``:smile:``); other images, avatars and
  the file-name/size caption of lightbox images leave no text;
* ``<br>`` is a line break, block elements (paragraphs, headings, lists,
  tables...) are separated by a blank line, list items and table rows by a
  line break; whitespace is collapsed within lines, the text is NFC-normalised,
  NBSP and other Unicode spaces become spaces, zero-width spaces, word joiners,
  BOMs, soft hyphens and control characters are removed (zero-width joiners and
  non-joiners are kept: they are part of emoji sequences and some scripts).

The tree is built by lxml's HTML parser (libxml2), the parser the project
pairs with beautifulsoup4, and walked once. BeautifulSoup itself is not used
here: building its tree costs about 1 ms for a typical 2 KB post (measured
with bs4 4.15 + lxml 6.1), more than three times the whole parsing budget,
while lxml builds the same tree in 30-60 us.

Never raises: broken HTML yields its best text, and should anything still go
wrong the post falls back to a crude tag strip, and ``fallback`` says why, so
that the crawl can count such posts (the store keeps them in ``parse_fallbacks``)
instead of hiding them.
"""

from __future__ import annotations

import html as _html
import re
import threading
import unicodedata

from lxml import etree

from ...store.records import ParsedPost

__all__ = ["ParsedPost", "parse_cooked"]


EMPTY = ParsedPost("", "", 0, 0, 0, (), 0, (), 0, (), ())

# --- character cleaning -----------------------------------------------------

# Removed from the raw HTML before parsing (libxml2 would turn them into
# U+FFFD); this also frees \x01 to mark line breaks in the text pieces.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Removed from the text: soft hyphen, Mongolian vowel separator, zero-width
# space, word joiner, BOM.
_INVISIBLE_RE = re.compile("[\u00ad\u180e\u200b\u2060\ufeff]")
# Line break between text pieces; two make a blank line.
_BR = "\x01"

# --- element classes ----------------------------------------------------------

# Break levels: 1 = line break, 2 = blank line (paragraph).
_BLOCK_LEVEL: dict[str, int] = {
    tag: 2
    for tag in (
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "pre", "blockquote",
        "aside", "details", "hr", "section", "article", "header", "footer", "figure", "address",
        "fieldset", "form", "nav", "main", "center", "menu", "body",
    )
}
_BLOCK_LEVEL.update(
    {
        tag: 1
        for tag in (
            "div", "li", "dt", "dd", "tr", "summary", "figcaption", "caption", "thead", "tbody", "tfoot",
            "legend", "option",
        )
    }
)
# Subtrees that carry no text of the post.
_SKIP = frozenset(
    {"head", "script", "style", "template", "noscript", "svg", "math", "iframe", "object", "embed",
     "video", "audio", "canvas", "select", "textarea", "button", "input"}
)
# Class tokens of blocks whose text is chrome, not words (poll counters,
# footnote back-links).
_SKIP_CLASSES = frozenset({"poll-info", "poll-buttons", "footnote-backref"})
# Class tokens that mark a onebox card (a link preview) when not on an <a>.
_ONEBOX_CLASSES = frozenset({"onebox", "lazy-video-container", "lazyYT", "youtube-onebox"})
_HASHTAG_CLASSES = frozenset({"hashtag", "hashtag-cooked"})

# Below this depth the walk recurses; deeper subtrees are flattened to their
# text (keeps far from Python's recursion limit; libxml2 stops at 2048).
_MAX_DEPTH = 200

_local = threading.local()


def _parser() -> etree.HTMLParser:
    """One lxml parser per thread (lxml parsers must not be shared across threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            default_doctype=False,
            huge_tree=True,  # nesting up to 2048 instead of 256 (deeper: see parse_cooked)
        )
        _local.parser = parser
    return parser


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return int(value)
    return None


def _code_text(el: etree._Element) -> str:
    """A code block's exact text, without its trailing newline(s) and leading blank lines."""
    text = "".join(el.itertext())
    return text.rstrip().lstrip("\r\n")


class _Walker:
    """One pass over the tree, collecting text pieces and features."""

    __slots__ = (
        "parts", "pending", "code", "code_blocks", "inline_code", "quotes", "quoted_posts",
        "link_urls", "images", "oneboxes", "mentions", "deep",
    )

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0  # break level owed before the next visible text
        self.code: list[str] = []
        self.code_blocks = 0
        self.inline_code = 0
        self.quotes = 0
        self.quoted_posts: list[tuple[int | None, int | None, str | None]] = []
        self.link_urls: list[str] = []
        self.images = 0
        self.oneboxes: list[str] = []
        self.mentions: list[str] = []
        self.deep = False  # some subtree was deeper than _MAX_DEPTH

    def emit(self, s: str) -> None:
        if self.pending:
            if s.isspace():
                return  # whitespace next to a break is not significant
            if self.parts:
                self.parts.append(_BR if self.pending == 1 else _BR + _BR)
            self.pending = 0
        self.parts.append(s)

    def brk(self, level: int) -> None:
        if level > self.pending:
            self.pending = level

    def onebox(self, url: str | None, block: bool) -> None:
        if not url:
            return
        url = url.strip()
        if not url:
            return
        self.oneboxes.append(url)
        self.link_urls.append(url)
        if block:
            self.brk(2)
            self.emit(url)
            self.brk(2)
        else:
            self.emit(url)

    def walk(self, el: etree._Element, in_aside: bool, depth: int) -> None:
        if el.text:
            self.emit(el.text)
        if depth > _MAX_DEPTH:
            self.deep = True
            for child in el:
                self.emit("".join(child.itertext()))
                if child.tail:
                    self.emit(child.tail)
            return
        for child in el:
            tag = child.tag
            if tag.__class__ is str:
                self.element(child, tag, in_aside, depth)
            if child.tail:
                self.emit(child.tail)

    def element(self, el: etree._Element, tag: str, in_aside: bool, depth: int) -> None:  # noqa: C901
        cls = el.get("class")
        classes = cls.split() if cls else ()

        if tag == "a":
            href = el.get("href")
            if classes:
                if "mention" in classes:
                    name = "".join(el.itertext()).strip()
                    if name:
                        self.emit(name)
                        name = name.lstrip("@").strip()
                        if name:
                            self.mentions.append(name)
                    return
                if "mention-group" in classes:
                    self.emit("".join(el.itertext()))
                    return
                if not _HASHTAG_CLASSES.isdisjoint(classes):
                    name = " ".join("".join(el.itertext()).split())
                    if name:
                        self.emit(name if name.startswith("#") else "#" + name)
                    return
                if "lightbox" in classes:
                    self.images += 1
                    return
                if "onebox" in classes:
                    self.onebox(href or "".join(el.itertext()), block=False)
                    return
                if "footnote-backref" in classes:
                    return
            if href:
                href = href.strip()
                if href and not href.startswith("#") and "anchor" not in classes:
                    self.link_urls.append(href)
            self.walk(el, in_aside, depth + 1)
            return

        if tag == "img":
            if "emoji" in classes:
                alt = el.get("alt") or el.get("title")
                if alt:
                    self.emit(alt)
            elif "avatar" not in classes:
                self.images += 1
            return

        if tag == "br":
            self.pending = 2 if self.pending else 1
            return

        if tag == "code":
            self.inline_code += 1
            self.walk(el, in_aside, depth + 1)
            return

        level = _BLOCK_LEVEL.get(tag, 0)

        if tag == "pre":
            self.code_blocks += 1
            code = _code_text(el)
            if code:
                self.code.append(code)
            self.brk(2)
            return

        if tag == "aside":
            if "quote" in classes:
                self.quotes += 1
                self.quoted_posts.append(
                    (_int_or_none(el.get("data-topic")), _int_or_none(el.get("data-post")),
                     el.get("data-username") or None)
                )
                self.brk(2)
                return
            if "onebox" in classes:
                self.onebox(el.get("data-onebox-src") or _first_href(el), block=True)
                return
            self.brk(2)
            self.walk(el, True, depth + 1)
            self.brk(2)
            return

        if tag == "blockquote":
            if not in_aside:
                self.quotes += 1
            self.brk(2)
            return

        if classes:
            if "lightbox-wrapper" in classes:
                self.images += 1
                self.brk(level)
                return
            if not _ONEBOX_CLASSES.isdisjoint(classes):
                self.onebox(el.get("data-onebox-src") or _first_href(el), block=True)
                return
            if not _SKIP_CLASSES.isdisjoint(classes):
                self.brk(level)
                return

        if tag in _SKIP:
            return

        if level:
            self.brk(level)
            self.walk(el, in_aside, depth + 1)
            self.brk(level)
            return
        if tag == "td" or tag == "th":
            self.emit(" ")
            self.walk(el, in_aside, depth + 1)
            self.emit(" ")
            return
        self.walk(el, in_aside, depth + 1)

    def result(self) -> ParsedPost:
        text = "".join(self.parts)
        if not text.isascii():
            text = _INVISIBLE_RE.sub("", text)
            text = unicodedata.normalize("NFC", text)
        # str.split() with no argument splits on every Unicode space: source
        # newlines, tabs, NBSP, U+2028... all become single spaces.
        lines = [" ".join(line.split()) for line in text.split(_BR)]
        # A line emptied by collapsing (only spaces) must not add a blank line.
        out: list[str] = []
        blank = False
        for line in lines:
            if line:
                if blank and out:
                    out.append("")
                out.append(line)
                blank = False
            else:
                blank = True
        return ParsedPost(
            text="\n".join(out),
            code="\n\n".join(self.code),
            code_blocks=self.code_blocks,
            inline_code=self.inline_code,
            quotes=self.quotes,
            quoted_posts=tuple(self.quoted_posts),
            links=len(self.link_urls),
            link_urls=tuple(self.link_urls),
            images=self.images,
            oneboxes=tuple(self.oneboxes),
            mentions=tuple(self.mentions),
        )


def _first_href(el: etree._Element) -> str | None:
    for a in el.iter("a"):
        href = a.get("href")
        if href and href.strip() and not href.strip().startswith("#"):
            return href
    return None


_TAG_RE = re.compile(r"<[^>]*>?")
_HIDDEN_RE = re.compile(r"<(script|style|svg|template|noscript)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _fallback(markup: str, why: str) -> ParsedPost:
    """Crude tag strip, for input the tree walk could not handle (no features); ``why`` is kept with it."""
    try:
        text = _html.unescape(_TAG_RE.sub(" ", _HIDDEN_RE.sub(" ", _CONTROL_RE.sub("", markup))))
        text = unicodedata.normalize("NFC", " ".join(_INVISIBLE_RE.sub("", text).split()))
    except Exception as exc:  # noqa: BLE001 - never raise
        text, why = "", f"{why}; the tag strip failed too ({type(exc).__name__})"
    return ParsedPost(text, "", 0, 0, 0, (), 0, (), 0, (), (), fallback=why)


def parse_cooked(html: str | None) -> ParsedPost:
    """Parse a post's cooked HTML into its own words and features.

    ``None``, ``""`` and markup without text give an empty :class:`ParsedPost`.
    Never raises: HTML the tree walk cannot handle gives a tag strip whose
    ``fallback`` says why.
    """
    if html is None:
        return EMPTY
    if not isinstance(html, str):
        if isinstance(html, (bytes, bytearray, memoryview)):
            html = bytes(html).decode("utf-8", "replace")
        else:
            html = str(html)
    if not html or html.isspace():
        return EMPTY
    try:
        if _CONTROL_RE.search(html):
            html = _CONTROL_RE.sub("", html)
        data = html.encode("utf-8", "replace")
        parser = _parser()
        root = etree.fromstring(data, parser) if data.strip() else None
        if root is None:
            return EMPTY
        walker = _Walker()
        walker.walk(root, False, 0)
        if walker.deep and any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
            return _fallback(html, "nested deeper than the HTML parser's limit of 2048 elements")
        post = walker.result()
        if post == EMPTY:
            # Nothing at all: markup so broken that libxml2 swallowed the text
            # (an attribute quote never closed); a tag strip does better, if it finds any.
            stripped = _fallback(html, "the HTML parser found no text in markup that has some")
            return stripped if stripped.text else EMPTY
        return post
    except Exception as exc:  # noqa: BLE001 - never raise on a post, whatever it holds
        return _fallback(html, f"the HTML parser failed ({type(exc).__name__}: {exc})")
