"""Render a stored topic or post as the readable, sanitised HTML a coder sees in Label Studio.

Label Studio shows task data as it was imported and some of its tags render
HTML, so forum HTML goes through nh3 (a maintained sanitiser): no scripts, no
event handlers, no styles, only the tags a forum post needs.
"""

from __future__ import annotations

import html

import lxml.html
import nh3
from lxml import etree

from forumkit.store import Store

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


def render_items(store: Store, forum_id: int, unit: str, item_ids: list[int]) -> dict[int, dict]:
    """item id -> task data (html, title, category, created_at, url, item_id) for topics or posts."""
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    forum_url = dict(store.forums())[forum_id]
    if unit == "topic":
        topics = store.query(
            f"SELECT t.id, t.title, t.slug, t.created_at, c.name AS category FROM topics t LEFT JOIN categories c"
            f" ON c.forum_id = t.forum_id AND c.id = t.category_id WHERE t.forum_id = ? AND t.id IN ({marks})",
            (forum_id, *item_ids))
        posts: dict[int, list] = {}
        for row in store.query(
                f"SELECT * FROM posts WHERE forum_id = ? AND topic_id IN ({marks}) AND removed_at IS NULL"
                f" AND post_type = 1 ORDER BY topic_id, post_number", (forum_id, *item_ids)):
            posts.setdefault(row["topic_id"], []).append(row)
        return {t["id"]: _task(t["id"], t["title"], t["category"], t["created_at"],
                               f"{forum_url}/t/{t['slug']}/{t['id']}",
                               "".join(_post_html(p) for p in posts.get(t["id"], ())))
                for t in topics}
    rows = store.query(
        f"SELECT p.*, t.title, t.slug, c.name AS category FROM posts p JOIN topics t ON t.forum_id = p.forum_id"
        f" AND t.id = p.topic_id LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id"
        f" WHERE p.forum_id = ? AND p.id IN ({marks})", (forum_id, *item_ids))
    return {r["id"]: _task(r["id"], r["title"], r["category"], r["created_at"],
                           f"{forum_url}/t/{r['slug']}/{r['topic_id']}/{r['post_number']}", _post_html(r))
            for r in rows}


def _task(item_id: int, title: str, category: str | None, created_at: str, url: str, body: str) -> dict:
    header = (f"<h3>{html.escape(title)}</h3><div><small>{html.escape(category or '')} · "
              f"{html.escape(created_at[:10])} · <a href='{html.escape(url)}'>{html.escape(url)}</a></small></div>")
    return {"html": header + body, "title": title, "category": category or "", "created_at": created_at,
            "url": url, "item_id": item_id}
