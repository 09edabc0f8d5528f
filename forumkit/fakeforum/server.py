"""Serve a :class:`FakeForum` over HTTP on loopback, like an anonymous view of a Discourse site.

A ``ThreadingHTTPServer`` in a daemon thread, speaking HTTP/1.1 with keep-alive
and Nagle disabled, so that a crawler of tens of thousands of requests (the
benchmark) is not slowed by the fake. Every request is logged in
:attr:`FakeDiscourse.requests`, and :class:`Fault` objects make chosen requests
fail the way real forums fail.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

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


@dataclass(frozen=True)
class RequestRecord:
    """One request the server received: ``time`` is ``time.monotonic()`` on arrival.

    ``status`` is what was answered, 0 when the connection was reset instead.
    """

    time: float
    wall: float
    method: str
    path: str
    query: str
    status: int
    user_agent: str


class FakeDiscourse:
    """A fake Discourse server; use as a context manager or with :meth:`start`/:meth:`stop`.

    ``robots_txt``, ``latency`` (seconds added to every answer), ``tags_as_objects``
    (newest Discourse's ``{id, name, slug}`` tags) and ``mega_topic_threshold``
    (posts from which a topic omits its ``stream``) may be changed while serving.
    """

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
        self.forum = forum
        self.host = host
        self.port = port
        self.tags_as_objects = tags_as_objects
        self.mega_topic_threshold = mega_topic_threshold
        self.latency = latency
        self.robots_txt = robots_txt
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._faults: list[list[Any]] = []  # [fault, requests it may still spoil]
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeDiscourse:
        """Bind (``port=0``: a free port) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._httpd = _Server((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-discourse-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeDiscourse:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:53211`` (the port is known once started)."""
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------- observation
    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request received so far, in the order they were answered."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def add_fault(self, fault: Fault) -> Fault:
        """Arm a fault; faults are tried in the order added, the first match wins."""
        with self._lock:
            self._faults.append([fault, fault.times])
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ---------------------------------------------------------------- serving
    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request (called by the handler thread).

        The request is logged before the answer leaves, so a client that has its
        answer always finds the request in :attr:`requests`.
        """
        arrived, wall = time.monotonic(), time.time()
        length = int(handler.headers.get("Content-Length") or 0)
        if length:  # a request body must be consumed, or it would corrupt the keep-alive stream
            handler.rfile.read(length)
        path, _, query = handler.path.partition("?")
        fault = self._take_fault(f"{path}?{query}")
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay > 0:
            time.sleep(delay)
        reply = None
        if fault is None or fault.kind != "reset":
            reply = (fault_reply(fault) if fault else None) or self._answer(handler, path, query)
        record = RequestRecord(arrived, wall, handler.command, path, query, reply.status if reply else 0,
                               handler.headers.get("User-Agent", ""))
        with self._lock:
            self._requests.append(record)
        if reply is None:
            _reset(handler)
            return
        body = _encode(reply)
        if fault is not None and fault.kind == "truncated":
            body = body[: len(body) // 2]
        self._send(handler, reply, body)

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for entry in self._faults:
                fault, left = entry
                if left != 0 and fault.pattern.search(target):
                    if left > 0:
                        entry[1] = left - 1
                    return fault
        return None

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

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply, body: bytes) -> None:
        """Write status line, headers and body in one call (no small-packet stalls)."""
        headers = {"Server": "nginx", "Content-Type": reply.content_type, "Content-Length": str(len(body)),
                   "Vary": "Accept", **reply.headers}
        if headers.get("Location", "").startswith("/"):
            headers["Location"] = f"http://{handler.headers.get('Host', f'{self.host}:{self.port}')}" \
                                  f"{headers['Location']}"
        if handler.close_connection:
            headers["Connection"] = "close"
        reason = BaseHTTPRequestHandler.responses.get(reply.status, ("Unknown",))[0]
        head = f"HTTP/1.1 {reply.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        handler.wfile.write(head.encode("latin-1") + b"\r\n" + (b"" if handler.command == "HEAD" else body))


def _encode(reply: Reply) -> bytes:
    if isinstance(reply.body, str):
        return reply.body.encode()
    return json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Drop the connection with a TCP reset instead of answering."""
    handler.close_connection = True
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.owner.handle(self)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET  # noqa: N815 (only GET is served: the others get 404)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        """Silence http.server's stderr log: requests are in ``FakeDiscourse.requests``."""


class _Server(ThreadingHTTPServer):
    """Tracks open connections so that :meth:`FakeDiscourse.stop` can close idle keep-alives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: FakeDiscourse) -> None:
        super().__init__(address, _Handler)
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is normal here: log it, don't print a traceback."""
        logger.debug("error while answering %s", client_address, exc_info=True)
