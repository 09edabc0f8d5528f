"""Failures the fake Hub can inject, answered the way the Hub and its proxies answer.

A collector meets these on the real Hub: 429s of the API rate limit (with the
IETF ``RateLimit`` headers, or only ``Retry-After``), 5xx pages from the
gateway (504 on deep pages is a known complaint), bodies cut short, an HTML
page instead of JSON, dropped connections, slow answers. See
``shared/notes/hub-api.md`` §5 and §6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forumkit.fakes.loopback import Fault as LoopbackFault
from typing import Any

KINDS = ("rate_limit", "retry_after", "status", "slow", "truncated", "html", "reset")

JSON = "application/json; charset=utf-8"
_GATEWAY = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
            "</h1></center>\r\n</body>\r\n</html>\r\n")
_CLOUDFRONT = ("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<HTML><HEAD><TITLE>ERROR: The "
               "request could not be satisfied</TITLE></HEAD><BODY><H1>The request could not be satisfied.</H1>"
               "</BODY></HTML>\n")
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Time-out"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # str, or a JSON-able value
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault(LoopbackFault):
    """Make matching requests fail.

    ``path`` is a regular expression searched in ``path?query`` ("" matches
    every request); ``times`` is how many matching requests it spoils (-1:
    all). ``delay`` seconds pass before any answer; kind ``"slow"`` then
    answers normally. ``status`` is used by kind ``"status"``; ``retry_after``
    is the ``t`` of kind ``"rate_limit"`` (``RateLimit: "api";r=0;t=N``) and
    the ``Retry-After`` of kind ``"retry_after"``.
    """

    kinds = KINDS


def rate_limited(wait: int, quota: int = 500, window: int = 300) -> Reply:
    """The Hub's 429: RateLimit headers (IETF draft v9) and a JSON error."""
    return Reply(429, {"error": f"We had to rate limit you, you hit the quota of {quota} api requests per "
                                f"{window // 60} minutes period. Upgrade to a PRO user or Enterprise Hub to get "
                                "a higher quota."},
                 headers={"RateLimit": f'"api";r=0;t={wait}',
                          "RateLimit-Policy": f'"fixed window";"api";q={quota};w={window}'})


def fault_reply(fault: Fault) -> Reply | None:
    """The answer of a fault that replaces the real one (None for slow, truncated and reset)."""
    if fault.kind == "rate_limit":
        return rate_limited(fault.retry_after)
    if fault.kind == "retry_after":
        return Reply(429, "Too Many Requests", "text/plain; charset=utf-8", {"Retry-After": str(fault.retry_after)})
    if fault.kind == "html":
        return Reply(200, _CLOUDFRONT, "text/html; charset=utf-8")
    if fault.kind == "status":
        return status_reply(fault.status)
    return None


def status_reply(status: int) -> Reply:
    """An error as the layer that produces it would: the gateway's HTML for 502-504, JSON from the Hub else."""
    reason = REASONS.get(status, "Error")
    if status in (502, 503, 504):
        return Reply(status, _GATEWAY.format(status=status, reason=reason), "text/html")
    return Reply(status, {"error": reason})
