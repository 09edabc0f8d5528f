"""One polite HTTP client for one Discourse forum.

It owns the connection, the User-Agent, the client-side rate limit, robots.txt,
HTTP 429 handling and retries, so that the crawl only asks for JSON documents.

Politeness rules, in the order they apply to every request:

1. robots.txt (fetched once, parsed with protego) must allow the URL, unless
   ``respect_robots`` is off. Its Crawl-delay, if any, slows the rate further.
2. No request before the host's Retry-After has expired (429 from the per-IP
   middleware as text/plain, or from the application as JSON with
   ``extras.wait_seconds``).
3. At most ``rate`` requests per minute (default 60, far below Discourse's
   anonymous 200 per minute and 50 per 10 seconds).
4. 5xx, timeouts, connection resets and bodies that are not the promised JSON
   are retried with exponential backoff and jitter (tenacity), then raised as
   :class:`ForumUnavailable` or :class:`BadResponse` naming the URL.

Rules 2 to 4 are :class:`~forumkit.collect.polite.PoliteClient`'s, which the
Hub client shares; this module adds robots.txt and Discourse's ways of saying
how long to wait.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
from protego import Protego

from forumkit import __version__
from forumkit.collect.polite import Params, PoliteClient, WaitCallback, retry_after_header
from forumkit.errors import (BadResponse, ForumError, ForumUnavailable, NotFound, RemoteError, RobotsDisallowed,
                             UsageError)

log = logging.getLogger(__name__)

DEFAULT_FORUM = "https://discuss.huggingface.co"
DEFAULT_USER_AGENT = (f"forumkit/{__version__} (research crawler for forum studies; "
                      "+https://pypi.org/project/forumkit/)")
DEFAULT_RATE = 60.0  # requests per minute


def retry_after_seconds(response: httpx.Response, default: float = 10.0) -> float:
    """Seconds to wait after a 429: the Retry-After header (seconds or date), else the JSON extras."""
    wait = retry_after_header(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    if "json" in response.headers.get("Content-Type", ""):
        try:
            wait = (response.json().get("extras") or {}).get("wait_seconds")
            if wait is not None:
                return float(wait)
        except (ValueError, AttributeError):
            pass
    return default


class DiscourseClient(PoliteClient):
    """Fetch JSON from one Discourse forum politely. Use as a context manager.

    >>> with DiscourseClient("https://discuss.huggingface.co") as forum:  # doctest: +SKIP
    ...     site = forum.get_json("/site.json")
    """

    unavailable = ForumUnavailable
    bad_response = BadResponse

    def __init__(
        self,
        base_url: str = DEFAULT_FORUM,
        *,
        rate: float = DEFAULT_RATE,
        user_agent: str = DEFAULT_USER_AGENT,
        respect_robots: bool = True,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 2.0,
        backoff_max: float = 120.0,
        on_wait: WaitCallback | None = None,
    ) -> None:
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
            raise UsageError(f"'{base_url}' is not a forum URL", hint="give it with its scheme, e.g. "
                                                                     "https://discuss.huggingface.co")
        self.base_url = base_url.rstrip("/")
        self.respect_robots = respect_robots
        self._robots: Protego | None = None
        super().__init__(base_url=self.base_url, rate=rate, user_agent=user_agent, timeout=timeout, retries=retries,
                         backoff=backoff, backoff_max=backoff_max, on_wait=on_wait)

    # -- politeness -------------------------------------------------------------

    @property
    def interval(self) -> float:
        """Seconds between two requests: the rate limit, or robots.txt's Crawl-delay if slower."""
        interval = super().interval
        if self._robots is not None and self.respect_robots:
            delay = self._robots.crawl_delay(self.user_agent)
            if delay:
                interval = max(interval, float(delay))
        return interval

    def _rate_limit_wait(self, response: httpx.Response) -> float:
        """Retry-After (the per-IP middleware's text/plain 429), else the JSON ``extras.wait_seconds``."""
        return retry_after_seconds(response)

    def _refused(self, response: httpx.Response, url: str) -> RemoteError:
        status = response.status_code
        if status == 404:
            return NotFound(f"{url} was not found (404)", url=url, status=404,
                            hint="check the forum URL, the category, or whether the topic is public")
        return ForumError(f"{url} answered HTTP {status}", url=url, status=status,
                          hint="check the forum URL and options")

    def _load_robots(self) -> Protego:
        """robots.txt: 4xx means no rules; 5xx and network errors are retried, then fatal."""
        try:
            response, _ = self.fetch("/robots.txt", decode=False)
        except ForumError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return Protego.parse("")
            raise
        log.debug("robots.txt from %s: %d bytes", self.base_url, len(response.text))
        return Protego.parse(response.text)

    def allowed(self, path: str) -> bool:
        """Whether robots.txt lets this client fetch ``path`` (always true with respect_robots off)."""
        if not self.respect_robots:
            return True
        if self._robots is None:
            self._robots = self._load_robots()
        return self._robots.can_fetch(f"{self.base_url}{path}", self.user_agent)

    # -- requests ---------------------------------------------------------------

    def categories_document(self) -> tuple[str, Any]:
        """(path, JSON) of the forum's categories: ``/site.json``, or ``/categories.json`` on old forums.

        These are the first requests of a crawl, so when neither answers with JSON the URL is most likely not a
        Discourse forum (a home page, a web site, a typo): the error says so rather than naming a 404.
        """
        try:
            return "/site.json", self.get_json("/site.json")
        except (NotFound, RobotsDisallowed, BadResponse):
            pass
        path = "/categories.json"
        try:
            return path, self.get_json(path, {"include_subcategories": "true"})
        except (NotFound, BadResponse) as exc:
            raise NotFound(f"{self.base_url} does not look like a Discourse forum: neither /site.json nor "
                           f"{path} answered with JSON ({exc.message})", url=exc.url, status=exc.status,
                           hint="give the base URL of a Discourse forum, the address of its home page, "
                                "e.g. https://discuss.huggingface.co") from exc

    def get_json(self, path: str, params: Params = None) -> Any:
        """GET ``path`` (relative to the forum) and return its JSON, politely.

        Raises RobotsDisallowed, NotFound, ForumUnavailable or BadResponse, each naming the URL.
        """
        full = self.url_of(path, params)
        relative = full[len(self.base_url):]
        if not self.allowed(relative):
            raise RobotsDisallowed(f"robots.txt of {self.base_url} disallows {relative}", url=full)
        return self.fetch(path, params)[1]
