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
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
from protego import Protego

from forumkit import __version__
from forumkit.collect.polite import Pacer, RateLimited, Transient, WaitCallback, polite_call, retry_after_header
from forumkit.errors import BadResponse, ForumError, ForumUnavailable, NotFound, RobotsDisallowed, UsageError

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


class DiscourseClient:
    """Fetch JSON from one Discourse forum politely. Use as a context manager.

    >>> with DiscourseClient("https://discuss.huggingface.co") as forum:  # doctest: +SKIP
    ...     site = forum.get_json("/site.json")
    """

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
        self.rate = rate
        self.user_agent = user_agent
        self.respect_robots = respect_robots
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.on_wait = on_wait
        self.requests = 0  # HTTP requests sent, robots.txt included
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=True,
        )
        self._robots: Protego | None = None
        self._pacer = Pacer(lambda: self.interval, self._notify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DiscourseClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- politeness -------------------------------------------------------------

    @property
    def interval(self) -> float:
        """Seconds between two requests: the rate limit, or robots.txt's Crawl-delay if slower."""
        interval = 60.0 / self.rate if self.rate > 0 else 0.0
        if self._robots is not None and self.respect_robots:
            delay = self._robots.crawl_delay(self.user_agent)
            if delay:
                interval = max(interval, float(delay))
        return interval

    def _notify(self, seconds: float, reason: str) -> None:
        if self.on_wait:
            self.on_wait(seconds, reason)

    def _load_robots(self) -> Protego:
        """robots.txt: 4xx means no rules; 5xx and network errors are retried, then fatal."""
        url = f"{self.base_url}/robots.txt"
        try:
            response, _ = self._send("/robots.txt", None)
        except NotFound:
            return Protego.parse("")
        except ForumError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return Protego.parse("")
            raise
        log.debug("robots.txt from %s: %d bytes", url, len(response.text))
        return Protego.parse(response.text)

    def allowed(self, path: str) -> bool:
        """Whether robots.txt lets this client fetch ``path`` (always true with respect_robots off)."""
        if not self.respect_robots:
            return True
        if self._robots is None:
            self._robots = self._load_robots()
        return self._robots.can_fetch(f"{self.base_url}{path}", self.user_agent)

    # -- requests ---------------------------------------------------------------

    def get_json(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        """GET ``path`` (relative to the forum) and return its JSON, politely.

        Raises RobotsDisallowed, NotFound, ForumUnavailable or BadResponse, each naming the URL.
        """
        full = str(self._http.build_request("GET", path, params=params).url)
        relative = full[len(self.base_url):]
        if not self.allowed(relative):
            raise RobotsDisallowed(f"robots.txt of {self.base_url} disallows {relative}", url=full)
        return self._send(path, params)[1]

    def _send(self, path: str, params: Any) -> tuple[httpx.Response, Any]:
        url = str(self._http.build_request("GET", path, params=params).url)
        return polite_call(lambda: self._attempt(path, params, url), url=url, pacer=self._pacer,
                           retries=self.retries, backoff=self.backoff, backoff_max=self.backoff_max,
                           notify=self._notify, unavailable=ForumUnavailable, bad_response=BadResponse)

    def _attempt(self, path: str, params: Any, url: str) -> tuple[httpx.Response, Any]:
        """One request. Returns the response and its decoded JSON (None for robots.txt)."""
        self._pacer.wait()
        self.requests += 1
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise Transient(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        status = response.status_code
        if status == 429:
            raise RateLimited(retry_after_seconds(response))
        if status >= 500:
            raise Transient(f"HTTP {status}", status=status)
        if status == 404:
            raise NotFound(f"{url} was not found (404)", url=url, status=404,
                           hint="check the forum URL, the category, or whether the topic is public")
        if status >= 400:
            raise ForumError(f"{url} answered HTTP {status}", url=url, status=status,
                             hint="check the forum URL and options")
        if path.endswith("robots.txt"):
            return response, None
        content_type = response.headers.get("Content-Type", "")
        if "json" not in content_type:
            raise Transient(f"{content_type or 'no content type'} instead of JSON", status=status, bad_body=True)
        try:
            return response, json.loads(response.content)
        except ValueError as exc:
            detail = f"{exc.msg} at byte {exc.pos} of {len(response.content)}" if hasattr(exc, "msg") else str(exc)
            raise Transient(f"invalid JSON ({detail})", status=status, bad_body=True) from exc
