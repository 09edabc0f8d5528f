"""Serve a :class:`FakeForum` over HTTP on loopback, like an anonymous view of a Discourse site.

The HTTP plumbing (threads, keep-alive, the request log in
:attr:`FakeDiscourse.requests`, armed faults) is :class:`forumkit.fakes.loopback.LoopbackServer`'s;
this module answers like Discourse, and :class:`Fault` objects make chosen
requests fail the way real forums fail.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote

from forumkit.fakes.loopback import LoopbackServer, RequestRecord

__all__ = ["DEFAULT_ROBOTS", "FakeDiscourse", "RequestRecord"]
from .faults import Fault, fault_reply, status_reply
from .model import FakeForum
from .views import JSON, Reply, not_found, route

logger = logging.getLogger(__name__)

#: Discourse's default robots.txt (``RobotsTxtController``): JSON paths are not disallowed.
_DISALLOWED = ("/admin/", "/auth/", "/assets/browser-update*.js", "/email/", "/session", "/user-api-key",
               "/*?api_key*", "/*?*api_key*", "/badges", "/my", "/search", "/tag/*/l", "/g", "/t/*/*.rss",
               "/c/*.rss")
DEFAULT_ROBOTS = (
    "# See http://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file\n#\n"
    "User-agent: *\n" + "".join(f"Disallow: {path}\n" for path in _DISALLOWED)
    + "\nUser-agent: Googlebot\n" + "".join(f"Disallow: {path}\n" for path in _DISALLOWED[:-2])
)

_HTML_APP = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Fake Forum</title></head>\n"
             "<body><noscript>This is a fake Discourse forum: ask for JSON (add .json or send "
             "Accept: application/json).</noscript></body>\n</html>\n")
_HTML_404 = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>Page Not Found</title></head>\n<body>"
             "<div class=\"page-not-found\"><h1>Oops! That page doesn’t exist or is private.</h1></div>"
             "</body>\n</html>\n")


class FakeDiscourse(LoopbackServer):
    """A fake Discourse server; use as a context manager or with :meth:`start`/:meth:`stop`.

    ``robots_txt``, ``latency`` (seconds added to every answer), ``tags_as_objects``
    (newest Discourse's ``{id, name, slug}`` tags) and ``mega_topic_threshold``
    (posts from which a topic omits its ``stream``) may be changed while serving.
    """

    thread_name = "fake-discourse"

    def __init__(
        self,
        forum: FakeForum,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tags_as_objects: bool = False,
        mega_topic_threshold: int = 10000,
        latency: float = 0.0,
        robots_txt: str = DEFAULT_ROBOTS,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.forum = forum
        self.tags_as_objects = tags_as_objects
        self.mega_topic_threshold = mega_topic_threshold
        self.robots_txt = robots_txt

    def _respond(self, handler: BaseHTTPRequestHandler, path: str, query: str, fault: Fault | None) -> Reply:
        return (fault_reply(fault) if fault else None) or self._answer(handler, path, query)

    def _answer(self, handler: BaseHTTPRequestHandler, path: str, query: str) -> Reply:
        if handler.command != "GET":
            return not_found()
        if path == "/robots.txt":
            return Reply(200, self.robots_txt, "text/plain; charset=utf-8")
        suffix = ".json" if path.endswith(".json") else ""
        bare = unquote(path[: -len(suffix)] if suffix else path)
        try:
            reply = route(self.forum, self, bare, parse_qs(query, keep_blank_values=True), query, suffix)
        except Exception:  # like Rails: a bug answers 500 (and is logged), not a dropped connection
            logger.exception("the fake forum failed to answer %s", handler.path)
            return status_reply(500)
        if suffix or "application/json" in handler.headers.get("Accept", "") or reply.content_type != JSON:
            return reply
        return Reply(reply.status, _HTML_404 if reply.status == 404 else _HTML_APP, "text/html; charset=utf-8")

    def _headers(self, handler: BaseHTTPRequestHandler, reply: Reply, body: bytes) -> dict[str, str]:
        headers = {"Server": "nginx", "Content-Type": reply.content_type, "Content-Length": str(len(body)),
                   "Vary": "Accept", **reply.headers}
        if headers.get("Location", "").startswith("/"):  # redirects name the host the client asked
            headers["Location"] = f"http://{handler.headers.get('Host', f'{self.host}:{self.port}')}" \
                                  f"{headers['Location']}"
        return headers
