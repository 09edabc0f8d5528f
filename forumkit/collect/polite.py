"""What the forum's and the Hub's HTTP clients share: pacing, waits after a 429, retries.

Each client says what one attempt is and which of its errors to raise; this
module decides when to send it, how long to wait after a 429, and how often to
retry a failure that may pass (5xx, timeouts, resets, bodies cut short) with
exponential backoff and jitter (tenacity).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from typing import Any, Callable, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from forumkit.errors import ForumkitError

log = logging.getLogger(__name__)

MAX_RATE_LIMITED = 20  # consecutive 429s on one request before giving up
WaitCallback = Callable[[float, str], None]
T = TypeVar("T")


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


def polite_call(attempt: Callable[[], T], *, url: str, pacer: Pacer, retries: int, backoff: float,
                backoff_max: float, notify: WaitCallback, unavailable: type[ForumkitError],
                bad_response: type[ForumkitError]) -> T:
    """Run ``attempt`` (which sends one request after ``pacer.wait()``) until it succeeds or gives up.

    429s wait as told (or back off) and do not count as retries; transient failures are retried
    ``retries`` times, then raised as ``bad_response`` (a body that is not what the API promises) or
    ``unavailable``, naming the URL.
    """
    for limited_times in range(MAX_RATE_LIMITED + 1):
        try:
            return _with_retries(attempt, url=url, retries=retries, backoff=backoff, backoff_max=backoff_max,
                                 notify=notify, unavailable=unavailable, bad_response=bad_response)
        except RateLimited as limited:
            wait = limited.wait
            if wait is None:  # the server did not say how long: back off, with jitter
                wait = min(backoff_max, backoff * 2 ** limited_times) * random.uniform(0.5, 1.0)
            pacer.block(wait)
            log.info("429 from %s: waiting %.1fs", url, wait)
    raise unavailable(f"{url} kept answering 429 Too Many Requests ({MAX_RATE_LIMITED + 1} times)", url=url,
                      status=429, hint="wait a while, lower --rate, then run the same command again to resume")


def _with_retries(attempt: Callable[[], T], *, url: str, retries: int, backoff: float, backoff_max: float,
                  notify: WaitCallback, unavailable: type[ForumkitError], bad_response: type[ForumkitError]) -> T:
    def report(state: Any) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("retrying after %s (attempt %d, waiting %.1fs)", state.outcome.exception(),
                 state.attempt_number, wait)
        notify(wait, f"retry {state.attempt_number}")

    retrying = Retrying(retry=retry_if_exception_type(Transient),
                        wait=wait_random_exponential(multiplier=backoff, max=backoff_max),
                        stop=stop_after_attempt(retries + 1), before_sleep=report, reraise=True)
    try:
        for try_ in retrying:
            with try_:
                return attempt()
    except Transient as exc:
        tries = retries + 1
        if exc.bad_body:
            raise bad_response(f"{url} returned {exc} ({tries} tries)", url=url, status=exc.status) from exc
        raise unavailable(f"{url} failed: {exc} ({tries} tries)", url=url, status=exc.status) from exc
    raise AssertionError("unreachable")  # pragma: no cover
