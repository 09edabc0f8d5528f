"""Crawl a Discourse forum into the store: full, incremental and resumable.

The crawl runs in four phases, each committing its progress with the data it
stored, so that a killed crawl resumes where it stopped:

``categories``
    /site.json (or /categories.json on old forums): every category, and each
    category's "About" topic, which /latest hides.
``listing``
    /latest.json (or /c/{slug}/{id}.json per chosen category), 30 topics a
    page, newest activity first. A topic that is new, or whose posts_count,
    highest_post_number, bumped_at or last_posted_at differs from the store,
    is queued. An incremental crawl stops at the previous crawl's activity
    watermark, so unchanged topics cost nothing.
``posts``
    /posts.json?before=ID, the site-wide feed, 50 posts a request, walked from
    the newest post down to the previous crawl's highest post id. This is what
    keeps a full crawl near 0.03 requests per post. Used when the crawl covers
    the whole forum and robots.txt allows it.
``topics``
    Each queued topic is checked: if the feed already gave all its posts (same
    count and highest post number as the listing, accepted answer known, and
    no bump without a new post) nothing is fetched. Otherwise /t/{id}.json
    gives its first 20 posts and the ids of all its posts, and
    /t/{id}/posts.json?post_ids[]= fetches the missing ones 20 at a time.
    Hidden posts and small actions, which the feed leaves out, come this way.

What an incremental crawl cannot see: Discourse bumps a topic when its last
post is edited, not when an earlier one is; those edits are caught only for
topics active within ``recheck_days`` before the previous crawl, or by
``full_refresh``. The same holds for staff deletions of old posts.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Callable, Iterable, Sequence
from urllib.parse import parse_qsl, urlsplit

from forumkit.dates import iso_date  # noqa: F401  (the one date parser, :mod:`forumkit.dates`; scrape and hub crawl read --since/--until with it)
from forumkit.collect.mentions import ModelVocabulary
from forumkit.collect.runstate import Bookkeeper, Progress, shift
from forumkit.errors import BadResponse, NotFound, UsageError
from forumkit.store import CrawlRun, Store
from .client import DiscourseClient
from .parse import ParsedPost, parse_cooked
from .decode import (
    Category,
    Post,
    SchemaError,
    Topic,
    categories_from_category_list,
    categories_from_site,
    latest_posts_from_json,
    posts_from_json,
    topic_page_from_json,
    topic_view_from_json,
)

log = logging.getLogger(__name__)

CHUNK = 20  # posts per /t/{id}/posts.json request, as Discourse's own client asks
WATERMARK_MARGIN = timedelta(minutes=5)  # anonymous responses may be a minute stale


@dataclass(frozen=True)
class CrawlOptions:
    """What to crawl. Dates are ISO strings (UTC) so that they round-trip through the store."""

    categories: tuple[str, ...] = ()  # slugs, names or ids; empty = the whole forum
    since: str | None = None  # topics created at or after
    until: str | None = None  # topics created before
    max_topics: int | None = None
    recheck_days: float = 3.0
    full_refresh: bool = False  # re-list every topic and refetch every topic's posts

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> "CrawlOptions":
        data = dict(data)
        data["categories"] = tuple(data.get("categories") or ())
        return cls(**data)


@dataclass
class CrawlProgress(Progress):
    """What a progress display needs; the crawl updates it and calls the callback."""

    phase: str = "starting"
    topics_queued: int = 0
    topics_done: int = 0
    topics_listed: int = 0
    posts_stored: int = 0
    parse_fallbacks: int = 0  # posts stored whose HTML was only tag-stripped


@dataclass
class CrawlResult:
    forum_id: int
    run_id: int
    resumed: bool
    requests: int
    topics_listed: int
    topics_fetched: int
    posts_stored: int
    parse_fallbacks: int  # of the posts stored, those whose HTML was only tag-stripped (kept, no features)


class Crawler:
    """Crawl one forum into one store. ``run()`` does the work and can be called again to resume."""

    def __init__(
        self,
        client: DiscourseClient,
        store: Store,
        options: CrawlOptions = CrawlOptions(),
        *,
        vocabulary: ModelVocabulary | None = None,
        progress: Callable[[CrawlProgress], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.options = options
        self.vocabulary = vocabulary
        self.progress = progress
        self.state = CrawlProgress()
        self._scope: set[int] | None = None  # category ids, None = all
        self._fetched = 0
        self._listed_topics = 0

    # -- public -----------------------------------------------------------------

    def run(self) -> CrawlResult:
        store, forum_id = self.store, self.store.forum_id(self.client.base_url)
        self.forum_id = forum_id
        self.vocabulary = self.vocabulary or ModelVocabulary.default()
        run = store.open_run(forum_id)
        resumed = run is not None
        if run is None:
            run = self._start_run(forum_id)
        else:
            if run.options != self.options.to_json():
                log.warning("resuming the interrupted crawl with the options it started with, not these: "
                            "let it finish, then run again with the new options")
            self.options = CrawlOptions.from_json(run.options)
            log.info("resuming crawl run %d at phase %s", run.id, run.phase)
        self.state.resumed = resumed
        self.books = Bookkeeper(self.client, self.state, self.progress)

        phases = ["categories", "listing", "posts", "topics"]
        for phase in phases[phases.index(run.phase) if run.phase in phases else len(phases):]:
            self._enter(phase)
            getattr(self, f"_phase_{phase}")(run)
            with store.transaction():
                run.phase = phases[phases.index(phase) + 1] if phase != "topics" else "done"
                run.cursor = {}
                self._save(run)
        store.finish_run(run)
        return CrawlResult(forum_id, run.id, resumed, self.books.requests, self._listed_topics, self._fetched,
                           self.state.posts_stored, self.state.parse_fallbacks)

    def _start_run(self, forum_id: int) -> CrawlRun:
        """A new run: incremental from the last finished run of the same scope, else from scratch.

        A run limited to some categories, dates or a number of topics leaves a
        watermark that says nothing of the rest of the forum, so its watermark
        serves only a later run with the same limits.
        """
        scope = ("categories", "since", "until", "max_topics")
        mine = self.options.to_json()
        last = None if self.options.full_refresh else next(
            (r for r in self.store.finished_runs(forum_id) if all(r.options.get(k) == mine.get(k) for k in scope)),
            None)
        recheck: list[int] = []
        if last is not None:
            # Topics active shortly before the last crawl may have been edited since, without a bump.
            after = shift(last.started_at, -timedelta(days=self.options.recheck_days))
            recheck = self.store.recently_active_topics(forum_id, after)
        return self.store.start_run(forum_id, mine, last, recheck)

    # -- bookkeeping ------------------------------------------------------------

    def _enter(self, phase: str) -> None:
        self.state.phase = phase
        self.books.tick()

    def _save(self, run: CrawlRun) -> None:
        run.requests += self.books.new_requests()
        self.store.save_run(run)

    def _get(self, path: str, params: dict | list | None = None):
        return self.client.get_json(path, params)

    def _parse(self, parse: Callable, doc: object, path: str):
        """Run a records parser; a document of the wrong shape becomes a BadResponse naming the URL."""
        try:
            return parse(doc)
        except (SchemaError, TypeError, ValueError, AttributeError, KeyError) as exc:
            url = f"{self.client.base_url}{path}"
            raise BadResponse(f"{url} returned JSON of an unexpected shape: {exc}", url=url) from exc

    # -- phase 1: categories ----------------------------------------------------

    def _phase_categories(self, run: CrawlRun) -> None:
        path, doc = self.client.categories_document()
        parser = categories_from_site if path == "/site.json" else categories_from_category_list
        categories = self._parse(parser, doc, path)
        self._scope = self._resolve_scope(categories)
        with self.store.transaction():
            self.store.upsert_categories(self.forum_id, categories)
            self._save(run)
        if not (self.options.max_topics or self.options.since or self.options.until):
            self._queue_definition_topics(run, categories)

    def _queue_definition_topics(self, run: CrawlRun, categories: Sequence[Category]) -> None:
        """Each category's "About" topic, which /latest hides: listed from its category's first page."""
        known = self.store.topic_ids(self.forum_id)
        for category in categories:
            topic_id = category.definition_topic_id
            if not topic_id or topic_id in known or (self._scope is not None and category.id not in self._scope):
                continue
            path = f"/c/{category.slug}/{category.id}.json"
            listed = [t for t in self._parse(topic_page_from_json, self._get(path), path).topics if t.id == topic_id]
            with self.store.transaction():
                self.store.upsert_topics(self.forum_id, listed)
                self.store.queue_topics(self.forum_id, [(topic_id, "definition")])
                self._save(run)

    def _resolve_scope(self, categories: Sequence[Category]) -> set[int] | None:
        """--categories names, slugs or ids -> category ids, subcategories included."""
        if not self.options.categories:
            return None
        chosen: set[int] = set()
        for wanted in self.options.categories:
            key = wanted.strip().lower()
            match = [c for c in categories if key in (str(c.id), c.slug.lower(), c.name.lower())]
            if not match:
                names = ", ".join(sorted(c.slug for c in categories))
                raise UsageError(f"no category '{wanted}' on {self.client.base_url}",
                                 hint=f"use one of: {names}")
            chosen.update(c.id for c in match)
        children = True
        while children:
            children = {c.id for c in categories if c.parent_id in chosen and c.id not in chosen}
            chosen |= children
        return chosen

    def _scope_ids(self) -> set[int] | None:
        if self._scope is None and self.options.categories:
            self._scope = self._resolve_scope(self.store.categories(self.forum_id))
        return self._scope

    # -- phase 2: listing -------------------------------------------------------

    def _listing_sources(self) -> list[str]:
        scope = self._scope_ids()
        if scope is None:
            return ["/latest.json"]
        by_id = {c.id: c for c in self.store.categories(self.forum_id)}
        # /c/{slug}/{id}.json lists subcategories' topics too: list only the top-most chosen categories.
        tops = sorted(cid for cid in scope if by_id[cid].parent_id not in scope)
        return [f"/c/{by_id[cid].slug}/{cid}.json" for cid in tops]

    def _in_scope(self, topic: Topic) -> bool:
        o = self.options
        if o.since and topic.created_at < o.since:
            return False
        if o.until and topic.created_at >= o.until:
            return False
        scope = self._scope_ids()
        return scope is None or topic.category_id in scope

    def _phase_listing(self, run: CrawlRun) -> None:
        sources = self._listing_sources()
        watermark = None if self.options.full_refresh or not run.since_bumped_at else \
            shift(run.since_bumped_at, -WATERMARK_MARGIN)
        floor = max(filter(None, [watermark, self.options.since]), default=None)
        source_index = run.cursor.get("source", 0)
        page = run.cursor.get("page", 0)
        queued = run.cursor.get("queued", 0)
        while source_index < len(sources):
            path = sources[source_index]
            params = {"page": page} if page else None
            topic_page = self._parse(topic_page_from_json, self._get(path, params), path)
            reached_floor = False
            fresh: list[Topic] = []
            for topic in topic_page.topics:
                if floor and not topic.pinned and (topic.bumped_at or topic.created_at) < floor:
                    reached_floor = True
                    continue
                if self._in_scope(topic):
                    fresh.append(topic)
            if self.options.max_topics is not None:
                fresh = fresh[:max(0, self.options.max_topics - queued)]
            queued += self._store_listing(fresh, topic_page.users)
            self._listed_topics += len(fresh)
            self.state.topics_listed += len(fresh)
            done_here = (reached_floor or not topic_page.more_url or not topic_page.topics
                         or (self.options.max_topics is not None and queued >= self.options.max_topics))
            if done_here:
                source_index, page = source_index + 1, 0
            else:
                page = self._next_page(topic_page.more_url, page)
            with self.store.transaction():
                run.cursor.update(source=source_index, page=page, queued=queued)
                for topic in topic_page.topics:
                    if not topic.pinned:
                        run.max_bumped_at = max(filter(None, [run.max_bumped_at, topic.bumped_at]), default=None)
                self._save(run)
            self.books.tick()

    @staticmethod
    def _next_page(more_url: str | None, page: int) -> int:
        """The page number in more_topics_url ('/latest?no_definitions=true&page=1'), else page + 1."""
        if more_url:
            query = dict(parse_qsl(urlsplit(more_url).query))
            if query.get("page", "").isdigit():
                return int(query["page"])
        return page + 1

    def _store_listing(self, topics: list[Topic], users: Iterable) -> int:
        """Upsert listed topics; queue new and changed ones. Returns how many were new or changed."""
        known = self.store.topic_states(self.forum_id, [t.id for t in topics])
        queue: list[tuple[int, str]] = []
        for topic in topics:
            before = known.get(topic.id)
            if before is None or self.options.full_refresh:
                queue.append((topic.id, "new"))
            elif (before.posts_count, before.highest_post_number, before.last_posted_at) != (
                    topic.posts_count, topic.highest_post_number, topic.last_posted_at):
                queue.append((topic.id, "changed"))
            elif before.bumped_at != topic.bumped_at:
                queue.append((topic.id, "bumped"))  # bumped without a new post: the last post was edited
        with self.store.transaction():
            self.store.upsert_users(self.forum_id, users)
            self.store.upsert_topics(self.forum_id, topics)
            self.store.queue_topics(self.forum_id, queue)
        self.state.topics_queued += len(queue)
        return len(queue)

    # -- phase 3: the site-wide post feed --------------------------------------

    def _use_feed(self) -> bool:
        """The feed serves whole-forum crawls; a full refresh reads every topic itself (the feed omits
        hidden posts, and likes or acceptance change no post's version)."""
        o = self.options
        return not (o.categories or o.full_refresh) and o.max_topics is None and self.client.allowed("/posts.json")

    def _phase_posts(self, run: CrawlRun) -> None:
        if not self._use_feed() or not self.store.queued_topics(self.forum_id):
            return
        topics = self.store.topic_ids(self.forum_id)
        stop_id = run.since_post_id or 0
        before = run.cursor.get("before")
        while True:
            params = {"before": before} if before else None
            posts = self._parse(latest_posts_from_json, self._get("/posts.json", params), "/posts.json")
            if not posts:
                break
            if run.max_post_id is None or posts[0].id > run.max_post_id:
                run.max_post_id = max(p.id for p in posts)
            wanted = [p for p in posts if p.id > stop_id and p.topic_id in topics
                      and not (self.options.since and p.created_at < self.options.since)]
            lowest = min(p.id for p in posts)
            with self.store.transaction():
                self._store_posts(wanted)
                run.cursor["before"] = before = lowest
                self._save(run)
            self.books.tick()
            if lowest <= stop_id or (self.options.since and min(p.created_at for p in posts) < self.options.since):
                break

    def _store_posts(self, posts: Sequence[Post], titles: dict[int, str] | None = None) -> int:
        """Parse and upsert posts whose version is new to the store. Returns how many were written."""
        stored = self.store.post_versions(self.forum_id, [p.id for p in posts])
        changed = [p for p in posts if stored.get(p.id) != (
            p.topic_id, p.version, p.updated_at, p.like_count, int(bool(p.accepted_answer)), int(p.hidden),
            int(p.user_deleted))]
        if not changed:
            return 0
        parsed = [parse_cooked(p.cooked) for p in changed]
        if titles is None:
            firsts = [p.topic_id for p in changed if p.post_number == 1]
            titles = self.store.topic_titles(self.forum_id, firsts)
        mentions = [self._mentions(p, x, titles) for p, x in zip(changed, parsed)]
        self.store.upsert_posts(self.forum_id, changed, parsed, mentions)
        self.state.posts_stored += len(changed)
        fallbacks = [(p.id, x.fallback) for p, x in zip(changed, parsed) if x.fallback]
        for post_id, why in fallbacks:
            log.warning("post %d: %s; its text is a plain tag strip", post_id, why)
        self.state.parse_fallbacks += len(fallbacks)
        return len(changed)

    def _mentions(self, post: Post, parsed: ParsedPost, titles: dict[int, str]) -> dict[str, tuple[int, int, int]]:
        assert self.vocabulary is not None
        title = titles.get(post.topic_id, "") if post.post_number == 1 else ""
        in_title = self.vocabulary.find(title) if title else {}
        in_text = self.vocabulary.find(parsed.text)
        in_code = self.vocabulary.find(parsed.code) if parsed.code else {}
        return {m: (in_title.get(m, 0), in_text.get(m, 0), in_code.get(m, 0))
                for m in {*in_title, *in_text, *in_code}}

    # -- phase 4: topic by topic ------------------------------------------------

    def _phase_topics(self, run: CrawlRun) -> None:
        queue = self.store.queued_topics(self.forum_id)
        self.state.topics_queued = len(queue) + self.state.topics_done
        fed = self._use_feed()
        for topic_id, reason in queue:
            if not (fed and self._complete_from_feed(topic_id, reason)):
                self._fetch_topic(topic_id, reason)
                self._fetched += 1
            with self.store.transaction():
                self.store.dequeue_topic(self.forum_id, topic_id)
                self._save(run)
            self.state.topics_done += 1
            self.books.tick()

    def _complete_from_feed(self, topic_id: int, reason: str) -> bool:
        """Whether the post feed already gave this topic everything a topic fetch would."""
        if reason not in ("new", "changed"):
            return False
        listed = self.store.listed_totals(self.forum_id, topic_id)
        if listed is None:
            return False
        stored, highest, has_accepted, _ = self.store.topic_post_summary(self.forum_id, topic_id)
        complete = (stored, highest, has_accepted) == listed
        if complete:
            with self.store.transaction():
                self.store.set_topic_fetched(self.forum_id, topic_id,
                                             self.store.accepted_post_number(self.forum_id, topic_id))
        return complete

    def _fetch_topic(self, topic_id: int, reason: str) -> None:
        path = f"/t/{topic_id}.json"
        try:
            view = self._parse(topic_view_from_json, self._get(path), path)
        except NotFound:
            with self.store.transaction():
                self.store.mark_topic_removed(self.forum_id, topic_id)
            return
        if view.topic.id != topic_id:  # merged into another topic: Discourse redirected
            log.info("topic %d now redirects to %d", topic_id, view.topic.id)
            with self.store.transaction():
                self.store.mark_topic_removed(self.forum_id, topic_id)
        posts = list(view.posts)
        have = {p.id for p in posts}
        stored = self.store.post_versions(self.forum_id, view.stream or [])
        if view.stream is not None:
            missing = [pid for pid in view.stream if pid not in have and (
                pid not in stored or stored[pid][0] != view.topic.id or self.options.full_refresh)]
            if reason == "recheck":  # quiet edits can be anywhere: read every post again
                missing = [pid for pid in view.stream if pid not in have]
            elif reason == "bumped" and view.stream and view.stream[-1] not in have:
                missing.append(view.stream[-1])  # an edit of the last post is what bumps a topic
            for start in range(0, len(missing), CHUNK):
                ids = sorted(set(missing[start:start + CHUNK]))
                posts += self._parse(posts_from_json, self._get(
                    f"/t/{topic_id}/posts.json", [("post_ids[]", i) for i in ids]), f"/t/{topic_id}/posts.json")
        else:
            posts += self._mega_topic_posts(topic_id, posts, view.last_post_id)
        accepted = view.accepted_answer_post_number
        if accepted is None and view.topic.has_accepted_answer:
            accepted = next((p.post_number for p in posts if p.accepted_answer), None)
        with self.store.transaction():
            self.store.upsert_topics(self.forum_id, [view.topic])
            self._store_posts(posts, titles={view.topic.id: view.topic.title})
            if view.stream is not None:
                self.store.mark_posts_removed(self.forum_id, view.topic.id, view.stream)
            self.store.set_topic_fetched(self.forum_id, view.topic.id, accepted)

    def _mega_topic_posts(self, topic_id: int, first: list[Post], last_id: int | None) -> list[Post]:
        """Topics of 10,000+ posts have no stream: page by post number, 20 at a time."""
        stored_max = self.store.topic_post_summary(self.forum_id, topic_id)[1] or 0
        after = max([stored_max] + [p.post_number for p in first])
        if self.options.full_refresh:
            after = max(p.post_number for p in first) if first else 0
        out: list[Post] = []
        path = f"/t/{topic_id}/posts.json"
        while True:
            page = self._parse(posts_from_json, self._get(path, {"post_number": after, "asc": "true"}), path)
            page = [p for p in page if p.post_number > after]
            if not page:
                return out
            out += page
            after = max(p.post_number for p in page)
            if last_id is not None and any(p.id == last_id for p in page):
                return out
