"""What the forum crawl and the Hub collector share about a run: progress, request counts, watermarks.

Both collectors keep a progress record that a display reads (:class:`Progress`,
extended by each), hand it to a callback after every step and while their
client waits (:class:`Bookkeeper`), add the requests sent since the last commit
to the run's counter in the transaction that stores the data they fetched, and
stop an incremental run a margin before the previous run's watermark
(:func:`shift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Generic, Protocol, TypeVar

from forumkit.dates import iso_utc


@dataclass
class Progress:
    """What every progress display needs; each collector adds its own counters."""

    requests: int = 0
    waiting: float = 0.0  # seconds the client is about to wait (0: not waiting)
    wait_reason: str = ""
    resumed: bool = False


P = TypeVar("P", bound=Progress)


class _Client(Protocol):
    requests: int
    on_wait: Callable[[float, str], None] | None


class Bookkeeper(Generic[P]):
    """Keeps ``state`` current, shows it to ``callback``, and counts the client's requests for the run.

    Takes over the client's ``on_wait``, so that a wait for a rate limit or a retry shows too.
    """

    def __init__(self, client: _Client, state: P, callback: Callable[[P], None] | None) -> None:
        self.client = client
        self.state = state
        self.callback = callback
        self.started_at = client.requests  # the client's count when this process took the run over
        self._counted = client.requests
        client.on_wait = self.on_wait

    def tick(self) -> None:
        """Show the current state."""
        self.state.requests = self.client.requests
        if self.callback:
            self.callback(self.state)

    def on_wait(self, seconds: float, reason: str) -> None:
        """Show that the client waits ``seconds`` (``reason``: pacing, rate limit, retry n)."""
        self.state.waiting, self.state.wait_reason = seconds, reason
        self.tick()
        self.state.waiting, self.state.wait_reason = 0.0, ""

    def new_requests(self) -> int:
        """Requests sent since the last call: add them to the run in the transaction that commits their data."""
        new, self._counted = self.client.requests - self._counted, self.client.requests
        return new

    @property
    def requests(self) -> int:
        """Requests sent by this process for this run."""
        return self.client.requests - self.started_at


def shift(iso: str, delta: timedelta) -> str:
    """An ISO-8601 time moved by ``delta``, in the sources' UTC format with milliseconds (truncated).

    >>> shift("2024-03-01T00:00:00.250Z", -timedelta(minutes=5))
    '2024-02-29T23:55:00.250Z'
    """
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = (moment + delta).astimezone(timezone.utc)
    return iso_utc(moment)
