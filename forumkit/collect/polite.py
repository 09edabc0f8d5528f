"""One polite JSON client base for every service forumkit collects from (a Discourse forum, the Hub).

:class:`PoliteClient` owns what the clients share: the HTTP session (User-Agent,
timeout, redirects), pacing to at most ``rate`` requests a minute, waiting out a
429 (as long as the service says, else exponential backoff with jitter),
retrying failures that may pass (5xx, timeouts, resets, bodies cut short or not
JSON) with exponential backoff and jitter (tenacity), turning what is left into
the service's own :class:`~forumkit.errors.RemoteError` subclasses naming the
URL, and ``close``/``with``. A subclass says only what differs: how its service
announces a wait, which statuses are worth a retry, what a refusal means, and
what a good body looks like.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from typing import Any, Callable, Self, TypeVar

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from forumkit.errors import RemoteError

log = logging.getLogger(__name__)

MAX_RATE_LIMITED = 20  # consecutive 429s on one request before giving up
WaitCallback = Callable[[float, str], None]
T = TypeVar("T")
Params = dict[str, Any] | list[tuple[str, Any]] | None


class Transient(Exception):
    """A failure worth retrying: 5xx, a reset, a timeout, a body cut short or not JSON."""

    def __init__(self, message: str, status: int | None = None, bad_body: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.bad_body = bad_body


class RateLimited(Exception):
    """A 429: wait ``wait`` seconds (None: the server did not say; back off)."""

    def __init__(self, wait: float | None) -> None:
        super().__init__("rate limited")
        self.wait = wait


def retry_after_header(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Pacer:
    """At most one request per ``interval()`` seconds, and none before a rate-limit window resets."""

    def __init__(self, interval: Callable[[], float], notify: WaitCallback) -> None:
        self.interval = interval
        self.notify = notify
        self._next_slot = 0.0  # monotonic time of the next allowed request
        self._blocked_until = 0.0  # monotonic time a 429 told us to wait for

    def wait(self) -> None:
        now = time.monotonic()
        until = max(self._next_slot, self._blocked_until)
        if until > now:
            wait = until - now
            if wait >= 0.5:
                self.notify(wait, "rate limit" if self._blocked_until > now else "pacing")
            time.sleep(wait)
            now = time.monotonic()
        self._next_slot = now + self.interval()

    def block(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)


class PoliteClient:
    """A polite JSON-over-HTTP client of one service. Subclass it; use it as a context manager.

    Subclasses set :attr:`unavailable` and :attr:`bad_response` (their service's
    error classes) and may override the hooks :meth:`_rate_limit_wait`,
    :meth:`_retryable`, :meth:`_refused`, :meth:`_seen` and :meth:`_check_body`.
    ``requests`` counts every HTTP request sent, retries included.
    """

    unavailable: type[RemoteError] = RemoteError
    bad_response: type[RemoteError] = RemoteError

    def __init__(self, *, base_url: str = "", rate: float, user_agent: str, timeout: float, retries: int,
                 backoff: float, backoff_max: float, on_wait: WaitCallback | None) -> None:
        self.rate = rate
        self.user_agent = user_agent
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.on_wait = on_wait
        self.requests = 0
        self._http = httpx.Client(base_url=base_url, headers={"User-Agent": user_agent, "Accept": "application/json"},
                                  timeout=timeout, follow_redirects=True)
        self._pacer = Pacer(lambda: self.interval, self._notify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def interval(self) -> float:
        """Seconds between two requests (``rate`` per minute; 0 = no limit)."""
        return 60.0 / self.rate if self.rate > 0 else 0.0

    def _notify(self, seconds: float, reason: str) -> None:
        if self.on_wait:
            self.on_wait(seconds, reason)

    # -- hooks --------------------------------------------------------------------

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds a 429 asks to wait (None: not said; back off). Default: the Retry-After header."""
        return retry_after_header(response.headers.get("Retry-After"))

    def _retryable(self, status: int) -> bool:
        """Whether an HTTP error status may pass on a retry. Default: 5xx."""
        return status >= 500

    def _refused(self, response: httpx.Response, url: str) -> RemoteError:
        """The error for a status that is neither success, 429, nor retryable (a 4xx)."""
        return self.unavailable(f"{url} answered HTTP {response.status_code}", url=url, status=response.status_code)

    def _seen(self, response: httpx.Response) -> None:
        """Look at every response before its status is judged (e.g. a quota header). Default: nothing."""

    def _check_body(self, body: Any) -> None:
        """Raise :class:`Transient` (``bad_body=True``) if decoded JSON is not what the API promises."""

    # -- requests -------------------------------------------------------------------

    def url_of(self, path: str, params: Params = None) -> str:
        """The absolute URL a GET of ``path`` with ``params`` requests."""
        return str(self._http.build_request("GET", path, params=params).url)

    def fetch(self, path: str, params: Params = None, *, decode: bool = True) -> tuple[httpx.Response, Any]:
        """GET ``path`` politely; the response and its decoded JSON (None with ``decode=False``).

        429s wait as told (or back off) and do not count as retries; transient failures are
        retried ``retries`` times, then raised as :attr:`bad_response` (a body that is not what
        the API promises) or :attr:`unavailable`, naming the URL.
        """
        url = self.url_of(path, params)
        for limited_times in range(MAX_RATE_LIMITED + 1):
            try:
                return self._with_retries(lambda: self._attempt(path, params, url, decode), url)
            except RateLimited as limited:
                wait = limited.wait
                if wait is None:  # the server did not say how long: back off, with jitter
                    wait = min(self.backoff_max, self.backoff * 2 ** limited_times) * random.uniform(0.5, 1.0)
                self._pacer.block(wait)
                log.info("429 from %s: waiting %.1fs", url, wait)
        raise self.unavailable(f"{url} kept answering 429 Too Many Requests ({MAX_RATE_LIMITED + 1} times)",
                               url=url, status=429,
                               hint="wait a while, lower --rate, then run the same command again to resume")

    def _with_retries(self, attempt: Callable[[], T], url: str) -> T:
        def report(state: Any) -> None:
            wait = state.next_action.sleep if state.next_action else 0.0
            log.info("retrying after %s (attempt %d, waiting %.1fs)", state.outcome.exception(),
                     state.attempt_number, wait)
            self._notify(wait, f"retry {state.attempt_number}")

        retrying = Retrying(retry=retry_if_exception_type(Transient),
                            wait=wait_random_exponential(multiplier=self.backoff, max=self.backoff_max),
                            stop=stop_after_attempt(self.retries + 1), before_sleep=report, reraise=True)
        try:
            for try_ in retrying:
                with try_:
                    return attempt()
        except Transient as exc:
            tries = self.retries + 1
            if exc.bad_body:
                raise self.bad_response(f"{url} returned {exc} ({tries} tries)", url=url, status=exc.status) from exc
            no_answer = exc.status is None  # no connection at all: a wrong host or port, or no network
            raise self.unavailable(f"{url} failed: {exc} ({tries} tries)", url=url, status=exc.status,
                                   hint=f"check the URL and the network connection (or proxy) to {self.base_url}, "
                                        f"then run the same command again: nothing stored was lost"
                                   if no_answer else None) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, path: str, params: Params, url: str, decode: bool) -> tuple[httpx.Response, Any]:
        """One request, after the pacer's wait: the response and its JSON, or the exception that says why not."""
        self._pacer.wait()
        self.requests += 1
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as exc:
            raise Transient(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        self._seen(response)
        status = response.status_code
        if status == 429:
            raise RateLimited(self._rate_limit_wait(response))
        if self._retryable(status):
            raise Transient(f"HTTP {status}", status=status)
        if status >= 400:
            raise self._refused(response, url)
        if not decode:
            return response, None
        content_type = response.headers.get("Content-Type", "")
        if "json" not in content_type:
            raise Transient(f"{content_type or 'no content type'} instead of JSON", status=status, bad_body=True)
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            detail = f"{exc.msg} at byte {exc.pos} of {len(response.content)}" if hasattr(exc, "msg") else str(exc)
            raise Transient(f"invalid JSON ({detail})", status=status, bad_body=True) from exc
        self._check_body(body)
        return response, body
