"""Failures the fake server can inject, answered the way real Discourse and its proxies answer.

A scraper meets these on real forums: the per-IP limiter's plain-text 429, a
controller's JSON 429, 5xx pages from nginx, a Cloudflare HTML page with status
200, bodies cut short, connections dropped. Each :class:`Fault` reproduces one,
with the headers and bodies recorded in ``shared/notes/discourse-api.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from forumkit.fakes.loopback import Fault as LoopbackFault

from .views import Reply

KINDS = ("rate_limit_text", "rate_limit_json", "status", "slow", "truncated", "html", "reset")

_NGINX = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>"
    "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_RAILS_500 = (
    "<!DOCTYPE html>\n<html>\n<head>\n  <title>We're sorry, but something went wrong (500)</title>\n</head>\n"
    "<body>\n  <div class=\"dialog\">\n    <h1>Oops</h1>\n    <p>The software powering this discussion forum "
    "encountered an unexpected problem. We apologize for the inconvenience.</p>\n  </div>\n</body>\n</html>\n"
)
_CLOUDFLARE = (
    "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title><meta http-equiv=\"Content-Type\" "
    "content=\"text/html; charset=UTF-8\"></head><body><div class=\"main-wrapper\" role=\"main\"><div "
    "class=\"main-content\"><h1 class=\"zone-name-title h1\">discuss.fakeforum.test</h1><h2 class=\"h2\">Checking "
    "if the site connection is secure</h2></div></div></body></html>"
)
_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 410: "Gone", 422: "Unprocessable Entity",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
_ERROR_TYPES = {400: "invalid_parameters", 403: "invalid_access", 404: "not_found", 410: "not_found",
                422: "invalid_parameters"}


@dataclass(frozen=True)
class Fault(LoopbackFault):
    """Make matching requests fail.

    ``path`` is a regular expression searched in ``path?query`` ("" matches every
    request, robots.txt included); ``times`` is how many matching requests it
    spoils (-1: all). ``delay`` seconds pass before any answer; kind ``"slow"``
    then answers normally. ``status`` is used by kind ``"status"``, ``retry_after``
    by the two rate-limit kinds.
    """

    kinds = KINDS


def fault_reply(fault: Fault) -> Reply | None:
    """The answer of a fault that replaces the real one (``None`` for slow, truncated and reset)."""
    wait = fault.retry_after
    if fault.kind == "rate_limit_text":
        body = (f"Slow down, you're making too many requests.\nPlease retry again in {wait} seconds.\n"
                "Error code: ip_10_secs_limit.\n")
        return Reply(429, body, "text/plain; charset=utf-8",
                     {"Retry-After": str(wait), "Discourse-Rate-Limit-Error-Code": "ip_10_secs_limit"})
    if fault.kind == "rate_limit_json":
        unit = "second" if wait == 1 else "seconds"
        return Reply(429, {
            "errors": [f"You’ve performed this action too many times. Please wait {wait} {unit} before trying again."],
            "error_type": "rate_limit", "extras": {"wait_seconds": wait, "time_left": f"{wait} {unit}"},
        }, headers={"Retry-After": str(wait)})
    if fault.kind == "html":
        return Reply(200, _CLOUDFLARE, "text/html; charset=UTF-8")
    if fault.kind == "status":
        return status_reply(fault.status)
    return None


def status_reply(status: int) -> Reply:
    """An error page as the layer that produces it would: Rails for 500, nginx for 502-504, JSON else."""
    reason = _REASONS.get(status, "Error")
    if status == 500:
        return Reply(500, _RAILS_500, "text/html; charset=utf-8")
    if status >= 500:
        return Reply(status, _NGINX.format(status=status, reason=reason), "text/html")
    return Reply(status, {"errors": [reason], "error_type": _ERROR_TYPES.get(status, "unknown")})

