"""Generate a realistic, deterministic Hugging Face-like forum.

The generator plans every topic first (when it is created, who replies and when),
then plays all post creations in time order through :class:`FakeForum`'s public
mutations, so that post ids grow with time as on a real forum and every counter
is maintained by the same code the tests exercise. Afterwards it applies what
happens to posts later: accepted answers, likes, views, edits, flags, deletions,
an unlisted topic or two, pins and a moved post.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from datetime import datetime, timezone

from . import corpus, writing
from .cook import cook
from .corpus import Theme
from .model import FakeForum
from .records import REGULAR, WHISPER, parse_iso, utc_now

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass
class _Plan:
    """Everything decided about one topic before the forum is built."""

    kind: str  # question, foreign, staff, pinned, pm or spam
    created: float
    category_id: int | None
    author: int
    title: str
    theme: Theme
    values: dict[str, str]
    lead: str | None = None
    tags: list[str] = field(default_factory=list)
    replies: list[tuple[float, int, str]] = field(default_factory=list)  # (time, author, role)
    close_at: float | None = None
    topic_id: int = 0
    #: (post_number, username, post_id, role) of the regular posts made so far.
    made: list[tuple[int, str, int, str]] = field(default_factory=list)


def generate_forum(
    n_topics: int = 300,
    seed: int = 0,
    start: str = "2021-01-01",
    months: int = 30,
    mean_posts: float = 3.5,
    *,
    n_users: int | None = None,
    hostname: str = "discuss.fakeforum.test",
) -> FakeForum:
    """Build a forum of about ``n_topics`` topics and ``n_topics * mean_posts`` posts.

    Topics spread from ``start`` over ``months`` months, more of them as time goes
    on. The same arguments always give the same forum (ids, texts, timestamps).
    Besides public topics it holds what a scraper must not leak: a read-restricted
    Staff category, private messages, unlisted and deleted topics, whispers and
    staff-deleted posts. The returned forum's clock is real time again.
    """
    forum = FakeForum(hostname=hostname, title="Hugging Face Forums (fake)")
    builder = _Builder(random.Random(seed), forum, parse_iso(start).timestamp(), months, mean_posts)
    builder.make_users(n_users if n_users is not None else max(12, n_topics // 20))
    builder.make_categories()
    plans = builder.plan_topics(n_topics)
    builder.play(plans)
    builder.aftermath(plans)
    forum.clock = utc_now
    return forum


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _fixed(seconds: float) -> Callable[[], datetime]:
    moment = _at(seconds)
    return lambda: moment


class _Builder:
    """The generator's working state: random source, forum, time span, people, places."""

    def __init__(self, rng: random.Random, forum: FakeForum, start: float, months: int, mean_posts: float) -> None:
        self.rng, self.forum, self.start = rng, forum, start
        self.end = start + months * 30.44 * DAY
        self.mean_replies = max(mean_posts - 1.0, 0.0)
        self.staff: list[int] = []
        self.members: list[int] = []
        self.weights: list[float] = []  # cumulative activity of members, a long tail
        self.category_ids: dict[str, int] = {}
        #: Themes are as frequent as their categories are busy (cumulative, for ``choices``).
        self.theme_weights = list(accumulate(
            sum(self.category_weight(name) for name in theme.categories) for theme in corpus.THEMES
        ))

    # ------------------------------------------------------------ people, places
    def make_users(self, count: int) -> None:
        """Staff accounts, then members whose activity follows a long tail."""
        for username, name, admin, moderator in corpus.STAFF:
            self.staff.append(self.forum.add_user(username, name, trust_level=4, admin=admin, moderator=moderator))
        taken = {name for name, *_ in corpus.STAFF}
        for rank in range(count):
            first, last = self.rng.choice(corpus.FIRST_NAMES), self.rng.choice(corpus.LAST_NAMES)
            username = writing.username(self.rng, first, last)
            while username in taken:
                username += str(self.rng.randint(0, 9))
            taken.add(username)
            level = self.rng.choices((0, 1, 2, 3), weights=(15, 50, 25, 10))[0]
            self.members.append(self.forum.add_user(username, f"{first} {last}", trust_level=level))
            self.weights.append(self.weights[-1] + 1.0 / (rank + 1) ** 0.7 if self.weights else 1.0)

    def make_categories(self) -> None:
        """The categories of :data:`corpus.CATEGORIES`, each with its pinned definition topic."""
        for index, (name, color, description, parent, restricted, _) in enumerate(corpus.CATEGORIES):
            self.category_ids[name] = self.forum.add_category(
                name, description=description, color=color, parent_category_id=self.category_ids.get(parent),
                read_restricted=restricted, created_at=_at(self.start - 30 * DAY + index * 60),
                definition_user_id=None if name == "Uncategorized" else self.staff[0],
            )

    def member(self, *, besides: int | None = None) -> int:
        """A member picked by activity (a few post a lot), not ``besides``."""
        while True:
            user_id = self.rng.choices(self.members, cum_weights=self.weights)[0]
            if user_id != besides:
                return user_id

    # ------------------------------------------------------------------ planning
    def plan_topics(self, count: int) -> list[_Plan]:
        """Decide every topic: kind, time (growing over the span), author, title, replies."""
        rng, span = self.rng, self.end - self.start - 2 * DAY
        extras = ["pinned", "pinned", "pm", "pm", "spam", "spam"] if count >= 20 else []
        times = sorted(
            self.start + 2 * DAY + span * (math.sqrt(1 + 8 * rng.random()) - 1) / 2
            for _ in range(count - len(extras))
        )
        plans = [self.plan_pinned(index) for index in range(extras.count("pinned"))]
        titles: set[str] = {plan.title for plan in plans}
        for kind in extras[2:]:
            plans.append(self.plan_extra(kind, rng.choice(times) if times else self.start))
        for created in times:
            roll = rng.random()
            kind = "staff" if roll < 0.01 else "foreign" if roll < 0.04 else "question"
            plans.append(self.plan_question(kind, created, titles))
        for plan in plans:
            self.plan_replies(plan)
        return plans

    def plan_question(self, kind: str, created: float, titles: set[str]) -> _Plan:
        rng = self.rng
        month = _at(created).strftime("%Y-%m")
        model = rng.choice([m for m in corpus.MODELS if m[3] <= month])
        theme = rng.choices(corpus.THEMES, cum_weights=self.theme_weights)[0]
        values = writing.topic_values(rng, model)
        author = self.member()
        if kind == "staff":
            category, title = "Staff", rng.choice(corpus.STAFF_TOPICS)
            author, lead = rng.choice(self.staff), "Posting here so that we can discuss it among moderators."
        elif kind == "foreign":
            title, lead = rng.choice(corpus.FOREIGN)
            category = rng.choice(theme.categories)
        else:
            names = theme.categories
            category = rng.choices(names, weights=[self.category_weight(n) for n in names])[0]
            if rng.random() < 0.01:
                category = "Uncategorized"
            title, lead = writing.fill(rng.choice(theme.titles), values), None
        for suffix in ("", " on Colab", " with fp16", f" (transformers {values['ver']})", " in a notebook",
                       " after upgrading", " on Windows"):
            if title + suffix not in titles:
                title += suffix
                break
        titles.add(title)
        tags = []
        if rng.random() < 0.5:
            tags = rng.sample(theme.tags, rng.randint(1, len(theme.tags)))
            if rng.random() < 0.5:
                tags.append(model[0])
        return _Plan(kind, created, self.category_ids[category], author, title, theme, values, lead, tags)

    def plan_pinned(self, index: int) -> _Plan:
        title, category, body = corpus.PINNED[index]
        values = writing.topic_values(self.rng, corpus.MODELS[0])
        created = self.start + (index + 1) * 5 * HOUR
        return _Plan("pinned", created, self.category_ids[category], self.staff[0], title, corpus.THEMES[0],
                     values, body, ["announcement"])

    def plan_extra(self, kind: str, created: float) -> _Plan:
        """A private message, or a spam topic that staff will delete."""
        values = writing.topic_values(self.rng, corpus.MODELS[0])
        if kind == "pm":
            return _Plan("pm", created, None, self.member(), "Question about my account", corpus.THEMES[-1],
                         values, "Hi, could you rename my account? Thanks.")
        spammer = self.forum.add_user(f"best-deals-{len(self.forum.users)}", "Best Deals", trust_level=0)
        return _Plan("spam", created, self.category_ids["Beginners"], spammer, self.rng.choice(corpus.SPAM_TITLES),
                     corpus.THEMES[0], values, "Visit our website for the best deals!!! Click here now.")

    @staticmethod
    def category_weight(name: str) -> float:
        return next(row[5] for row in corpus.CATEGORIES if row[0] == name)

    def plan_replies(self, plan: _Plan) -> None:
        """Reply times (quick first answer, slower afterwards), authors and roles; maybe closing."""
        rng = self.rng
        plan.values["staff"] = self.forum.users[rng.choice(self.staff)].username
        count = 0
        if plan.kind != "spam" and self.mean_replies:
            count = min(60, int(rng.expovariate(1 / self.mean_replies) + 0.5))
        moment = plan.created
        for index in range(count if plan.kind != "pm" else 1):
            moment += 120 + rng.expovariate(1 / (6 * HOUR if index == 0 else 20 * HOUR))
            if moment >= self.end:
                break
            if plan.kind in ("staff", "pm") or (index == 0 and rng.random() < 0.35):
                author, role = rng.choice(self.staff), "answer"
            elif index > 0 and rng.random() < 0.35:
                author, role = plan.author, "follow"
            elif rng.random() < 0.1:
                author, role = self.member(besides=plan.author), "follow"
            else:
                role = "answer"
                author = rng.choice(self.staff) if rng.random() < 0.2 else self.member(besides=plan.author)
            plan.replies.append((moment, author, role))
        if plan.replies and plan.kind == "question" and rng.random() < 0.02:
            whisper_at = plan.created + (plan.replies[0][0] - plan.created) / 2
            plan.replies.append((whisper_at, rng.choice(self.staff), "whisper"))
            plan.replies.sort()
        last = plan.replies[-1][0] if plan.replies else plan.created
        if plan.kind == "question" and rng.random() < 0.025:
            close_at = last + HOUR + rng.expovariate(1 / (3 * DAY))
            plan.close_at = close_at if close_at < self.end else None

    # ------------------------------------------------------------------- playing
    def play(self, plans: list[_Plan]) -> None:
        """Create every post (and closing notice) in time order, so ids follow time."""
        events: list[tuple[float, int, int]] = []
        for index, plan in enumerate(plans):
            events.append((plan.created, index, 0))
            events.extend((moment, index, number) for number, (moment, _, _) in enumerate(plan.replies, 1))
            if plan.close_at is not None:
                events.append((plan.close_at, index, -1))
        events.sort()
        for moment, index, step in events:
            plan = plans[index]
            if step == 0:
                self.create_topic(plan)
            elif step < 0:
                self.forum.clock = _fixed(moment)
                self.forum.close_topic(plan.topic_id, self.rng.choice(self.staff))
            else:
                self.create_reply(plan, *plan.replies[step - 1])

    def create_topic(self, plan: _Plan) -> None:
        raw = writing.question(self.rng, plan.theme, plan.values, lead=plan.lead)
        forum = self.forum
        plan.topic_id = forum.add_topic(
            plan.category_id, plan.title, plan.author, cook(raw, forum.hostname), _at(plan.created), plan.tags,
            raw=raw, archetype="private_message" if plan.kind == "pm" else "regular",
        )
        if plan.kind == "question":
            forum.topics[plan.topic_id].theme = corpus.THEMES.index(plan.theme)
        post_id = forum.topics[plan.topic_id].post_ids[0]
        plan.made.append((1, forum.users[plan.author].username, post_id, "question"))

    def create_reply(self, plan: _Plan, moment: float, author: int, role: str) -> None:
        rng, forum = self.rng, self.forum
        values = dict(plan.values)
        answers = [made for made in plan.made if made[3] == "answer"]
        values["answerer"] = answers[-1][1] if answers else values["staff"]
        reply_to = None
        if role == "whisper":
            raw, post_type = rng.choice(corpus.WHISPERS), WHISPER
        elif role == "follow":
            raw, post_type = writing.follow_up(rng, values), REGULAR
            if answers and rng.random() < 0.6:
                reply_to = answers[-1][0]
        else:
            post_type, quote = REGULAR, None
            if rng.random() < 0.15:
                number, username, post_id, _ = rng.choice(plan.made)
                quote = (username, number, plan.topic_id, writing.quotable(forum.posts[post_id].raw))
                reply_to = number
            elif rng.random() < 0.3:
                reply_to = rng.choice(plan.made)[0]
            raw = writing.answer(rng, plan.theme, values, quote=quote)
        post_id = forum.add_post(plan.topic_id, author, cook(raw, forum.hostname), reply_to, _at(moment),
                                 raw=raw, post_type=post_type)
        if post_type == REGULAR:
            plan.made.append((forum.posts[post_id].post_number, forum.users[author].username, post_id, role))

    # ----------------------------------------------------------------- aftermath
    def aftermath(self, plans: list[_Plan]) -> None:
        """What happens after posting: solutions, likes, views, edits, moderation, pins, a move."""
        public = [plan for plan in plans if plan.kind in ("question", "foreign", "pinned")]
        accepted = self.solve_and_rate(public)
        self.edit_some([made[2] for plan in public for made in plan.made])
        self.moderate(public, accepted)
        self.curate(plans, public, accepted)

    def solve_and_rate(self, public: list[_Plan]) -> set[int]:
        """Accept an answer in ~45% of answered topics (staff answers preferred); views, likes."""
        rng, forum = self.rng, self.forum
        accepted: set[int] = set()
        for plan in public:
            answers = [made for made in plan.made if made[3] == "answer"]
            if answers and rng.random() < 0.45:
                staff_answers = [a for a in answers if forum.posts[a[2]].user_id in self.staff]
                chosen = rng.choice(staff_answers if staff_answers and rng.random() < 0.6 else answers)
                forum.accept_answer(chosen[2], plan.author)
                accepted.add(chosen[2])
            forum.view_topic(plan.topic_id, int((5 + 12 * len(plan.made)) * rng.lognormvariate(0, 0.8)))
            for _, _, post_id, _ in plan.made:
                likes = rng.randint(1, 8) if post_id in accepted else rng.randint(1, 5) if rng.random() < 0.3 else 0
                if likes:
                    forum.like_post(post_id, likes)
        return accepted

    def moderate(self, public: list[_Plan], accepted: set[int]) -> None:
        """Flag-hide, author-delete and staff-delete a few replies (about 0.4% each), a day later."""
        rng, forum = self.rng, self.forum
        replies = [made[2] for plan in public for made in plan.made if made[0] > 1 and made[2] not in accepted]
        picked = rng.sample(replies, min(len(replies), 3 * max(1, len(replies) // 150)))
        third = len(picked) // 3
        for index, post_id in enumerate(picked):
            forum.clock = _fixed(min(self.end, parse_iso(forum.posts[post_id].created_at).timestamp() + DAY))
            if index < third:
                forum.hide_post(post_id)
            elif index < 2 * third:
                forum.user_delete_post(post_id)
            else:
                forum.delete_post(post_id)

    def curate(self, plans: list[_Plan], public: list[_Plan], accepted: set[int]) -> None:
        """Pin the announcements, delete the spam, unlist two topics, move one post (at the end)."""
        rng, forum = self.rng, self.forum
        for plan in plans:
            forum.clock = _fixed(plan.created + HOUR)
            if plan.kind == "pinned":
                forum.pin_topic(plan.topic_id, globally=True)
            elif plan.kind == "spam":
                forum.delete_topic(plan.topic_id)
        questions = [plan for plan in public if plan.kind == "question" and plan.close_at is None]
        for plan in rng.sample(questions, min(2, len(questions) // 50)):
            forum.unlist_topic(plan.topic_id)
        movable = [p for p in questions if forum.topic_listed(forum.topics[p.topic_id]) and len(p.made) > 2]
        if len(movable) >= 2:
            source, target = rng.sample(movable, 2)
            post_id = source.made[-1][2]
            if post_id not in accepted and forum.posts[post_id].deleted_at is None:
                forum.clock = _fixed(self.end)
                forum.move_post(post_id, target.topic_id, user_id=self.staff[1])

    def edit_some(self, post_ids: list[int]) -> None:
        """Edit about 8% of posts (some twice) at a later time, in time order."""
        rng, forum = self.rng, self.forum
        edits = []
        for post_id in post_ids:
            if rng.random() < 0.08:
                moment = parse_iso(forum.posts[post_id].created_at).timestamp()
                for _ in range(1 if rng.random() < 0.8 else 2):
                    moment += 60 + rng.expovariate(1 / DAY)
                    if moment < self.end:
                        edits.append((moment, post_id))
        for moment, post_id in sorted(edits):
            post = forum.posts[post_id]
            raw = post.raw + "\n\n" + rng.choice(("EDIT: fixed the code formatting.", "**Update:** solved, see "
                                                  "below.", "Edit: added the full traceback.", "EDIT: typo"))
            forum.clock = _fixed(moment)
            forum.edit_post(post_id, cook(raw, forum.hostname), raw=raw)
