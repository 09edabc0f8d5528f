"""Render a stored topic or post as the readable, sanitised HTML a coder sees in Label Studio.

Label Studio shows task data as it was imported and some of its tags render
HTML, so forum HTML goes through nh3 (a maintained sanitiser): no scripts, no
event handlers, no styles, only the tags a forum post needs.
"""

from __future__ import annotations

import html
from typing import Sequence

import lxml.html
import nh3
from lxml import etree

from forumkit.store import Store
from forumkit.store.studio import CodingItem

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "section", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul", "header", "article",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "div": {"class"},
    "section": {"class"},
    "span": {"class"},
    "blockquote": {"class"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize(cooked: str) -> str:
    """Forum HTML made safe to show: quotes of other posts set apart, everything else whitelisted."""
    if not cooked:
        return ""
    try:
        root = lxml.html.fragment_fromstring(cooked, create_parent="div")
    except (etree.ParserError, ValueError):
        return nh3.clean(cooked, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES)
    for aside in list(root.iter("aside")):
        if "quote" in (aside.get("class") or "").split():
            aside.tag = "blockquote"
            for title in aside.find_class("title"):
                title.getparent().remove(title)
            note = etree.Element("small")
            note.text = f"quoting @{aside.get('data-username') or '?'}"
            aside.insert(0, note)
        else:  # oneboxes and other cards
            aside.tag = "div"
    return nh3.clean(lxml.html.tostring(root, encoding="unicode"), tags=ALLOWED_TAGS,
                     attributes=ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer")


def _post_html(row) -> str:
    badge = " <b>[staff]</b>" if row["author_staff"] else ""
    answer = " · <b>accepted answer</b>" if row["accepted_answer"] else ""
    return (f'<hr><div><small>#{row["post_number"]} <b>@{html.escape(row["username"] or "?")}</b>{badge}'
            f' · {html.escape(row["created_at"][:16])}{answer}</small></div>{sanitize(row["cooked"])}')


def render_items(store: Store, forum_id: int, unit: str, item_ids: Sequence[int]) -> dict[int, dict]:
    """item id -> task data for topics or posts: title, category, created (the date), posts (how many),
    accepted_answer (yes/no: one of them is the accepted answer), html, created_at, url, item_id."""
    return {item.item_id: _task(item) for item in store.coding_items(forum_id, unit, item_ids).values()}


def _task(item: CodingItem) -> dict:
    url = html.escape(item.url)
    header = (f"<h3>{html.escape(item.title)}</h3><div><small>{html.escape(item.category or '')} · "
              f"{html.escape(item.created_at[:10])} · <a href='{url}'>{url}</a></small></div>")
    # plain fields first: the Data Manager lists them as columns (see .columns), the HTML is what the coder reads
    accepted = any(p["accepted_answer"] for p in item.posts)
    return {"title": item.title, "category": item.category or "", "created": item.created_at[:10],
            "posts": len(item.posts), "accepted_answer": "yes" if accepted else "no",
            "html": header + "".join(_post_html(p) for p in item.posts), "created_at": item.created_at,
            "url": item.url, "item_id": item.item_id}
