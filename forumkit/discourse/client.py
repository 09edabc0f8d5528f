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

import email.utils
import json
import logging
import time
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx
from protego import Protego
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from .. import __version__
from ..errors import BadResponse, ForumError, ForumUnavailable, NotFound, RobotsDisallowed, UsageError

log = logging.getLogger(__name__)

DEFAULT_FORUM = "https://discuss.huggingface.co"
DEFAULT_USER_AGENT = (f"forumkit/{__version__} (research crawler for forum studies; "
                      "+https://pypi.org/project/forumkit/)")
DEFAULT_RATE = 60.0  # requests per minute
MAX_RATE_LIMITED = 20  # consecutive 429s on one request before giving up

WaitCallback = Callable[[float, str], None]


class _Transient(Exception):
    """A failure worth retrying: 5xx, a reset, a timeout, a body cut short."""

    def __init__(self, message: str, status: int | None = None, bad_body: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.bad_body = bad_body


class _RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.1f}s")
        self.wait = wait


def retry_after_seconds(response: httpx.Response, default: float = 10.0) -> float:
    """Seconds to wait after a 429: the Retry-After header (seconds or date) or the JSON extras."""
    header = response.headers.get("Retry-After")
    if header:
        header = header.strip()
        if header.isdigit():
            return float(header)
        try:
            when = email.utils.parsedate_to_datetime(header)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            pass
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
        self._next_slot = 0.0  # monotonic time of the next allowed request
        self._blocked_until = 0.0  # monotonic time a 429 told us to wait for

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

    def _wait_for_slot(self) -> None:
        now = time.monotonic()
        until = max(self._next_slot, self._blocked_until)
        if until > now:
            wait = until - now
            if self.on_wait and wait >= 0.5:
                self.on_wait(wait, "rate limit" if self._blocked_until > now else "pacing")
            time.sleep(wait)
            now = time.monotonic()
        self._next_slot = now + self.interval

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
        for _ in range(MAX_RATE_LIMITED + 1):
            try:
                return self._with_retries(path, params)
            except _RateLimited as limited:
                self._blocked_until = max(self._blocked_until, time.monotonic() + limited.wait)
                log.info("429 from %s: waiting %.1fs", self.base_url, limited.wait)
        url = str(self._http.build_request("GET", path, params=params).url)
        raise ForumUnavailable(f"{url} kept answering 429 Too Many Requests ({MAX_RATE_LIMITED} times)",
                               url=url, status=429, hint="wait a while, lower --rate, then run the same command again")

    def _with_retries(self, path: str, params: Any) -> tuple[httpx.Response, Any]:
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            wait=wait_random_exponential(multiplier=self.backoff, max=self.backoff_max),
            stop=stop_after_attempt(self.retries + 1),
            before_sleep=self._report_retry,
            reraise=True,
        )
        url = str(self._http.build_request("GET", path, params=params).url)
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(path, params, url)
        except _Transient as exc:
            tries = self.retries + 1
            if exc.bad_body:
                raise BadResponse(f"{url} returned {exc} ({tries} tries)", url=url, status=exc.status) from exc
            raise ForumUnavailable(f"{url} failed: {exc} ({tries} tries)", url=url, status=exc.status) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _report_retry(self, state: Any) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("retrying after %s (attempt %d, waiting %.1fs)", state.outcome.exception(),
                 state.attempt_number, wait)
        if self.on_wait:
            self.on_wait(wait, f"retry {state.attempt_number}")

    def _attempt(self, path: str, params: Any, url: str) -> tuple[httpx.Response, Any]:
        """One request. Returns the response and its decoded JSON (None for robots.txt)."""
        self._wait_for_slot()
        self.requests += 1
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        status = response.status_code
        if status == 429:
            raise _RateLimited(retry_after_seconds(response))
        if status >= 500:
            raise _Transient(f"HTTP {status}", status=status)
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
            raise _Transient(f"{content_type or 'no content type'} instead of JSON", status=status, bad_body=True)
        try:
            return response, json.loads(response.content)
        except ValueError as exc:
            detail = f"{exc.msg} at byte {exc.pos} of {len(response.content)}" if hasattr(exc, "msg") else str(exc)
            raise _Transient(f"invalid JSON ({detail})", status=status, bad_body=True) from exc
