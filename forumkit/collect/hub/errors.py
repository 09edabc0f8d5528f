"""Errors of the Hub collector, in forumkit's one exception tree (root :class:`ForumkitError`).

Each names the URL that failed, so that the CLI's one line says where, and
carries the hint that nothing stored was lost: a crawl resumes from its last
committed cursor when run again.
"""

from __future__ import annotations

from forumkit.errors import ForumkitError


class HubError(ForumkitError):
    """The Hub answered in a way the collector cannot use. Carries the URL and the HTTP status, if any."""

    hint = "nothing stored was lost: run the same command again to resume"

    def __init__(self, message: str, *, url: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class HubUnavailable(HubError):
    """The Hub kept failing (5xx, timeouts, resets, 429s) after every retry."""


class HubBadResponse(HubError):
    """The Hub sent something that is not the JSON array of models the API promises."""


class HubRefused(HubError):
    """The Hub refused the request (4xx other than 429): a bad filter, a wrong endpoint, no access."""

    hint = "check --endpoint and the filters"
