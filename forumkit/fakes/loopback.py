"""What the fake servers (Discourse, Hub) share: a loopback HTTP server with a request log and faults.

A ``ThreadingHTTPServer`` in a daemon thread, speaking HTTP/1.1 with keep-alive
and Nagle disabled, so that a crawler of tens of thousands of requests (the
benchmarks) is not slowed by the fake. Every request is logged before its
answer leaves; armed faults (anything with ``pattern``, ``times``, ``delay`` and
``kind``) spoil matching requests: ``reset`` drops the connection, ``truncated``
cuts the body in half, others are answered by the subclass.

A subclass says what to answer (:meth:`LoopbackServer._respond`) and with which
headers (:meth:`LoopbackServer._headers`).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fault:
    """Make matching requests fail; each fake server says which ``kinds`` it knows.

    ``path`` is a regular expression searched in ``path?query`` ("" matches every
    request); ``times`` is how many matching requests it spoils (-1: all).
    ``delay`` seconds pass before any answer; kind ``"slow"`` then answers
    normally. ``status`` and ``retry_after`` are read by the kinds that need them.
    """

    kinds: ClassVar[tuple[str, ...]] = ()

    kind: str
    path: str = ""
    times: int = 1
    status: int = 500
    retry_after: int = 1
    delay: float = 0.0
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in self.kinds:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(self.kinds)}")
        object.__setattr__(self, "pattern", re.compile(self.path))


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
    authorization: str | None = None


class LoopbackServer:
    """Lifecycle, request log and faults of a fake server; use as a context manager or start()/stop()."""

    thread_name = "loopback"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self._lock = threading.RLock()
        self._requests: list[RequestRecord] = []
        self._faults: list[list[Any]] = []  # [fault, requests it may still spoil]
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> Any:
        """Bind (``port=0``: a free port) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._httpd = _Server((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.thread_name}-{self.port}", daemon=True)
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

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:53211`` (the port is known once started)."""
        return f"http://{self.host}:{self.port}"

    # -- observation and faults -------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request received so far, in the order they were answered."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def add_fault(self, fault: Any) -> Any:
        """Arm a fault; faults are tried in the order added, the first match wins."""
        with self._lock:
            self._faults.append([fault, fault.times])
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, target: str) -> Any:
        with self._lock:
            for entry in self._faults:
                fault, left = entry
                if left != 0 and fault.pattern.search(target):
                    if left > 0:
                        entry[1] = left - 1
                    return fault
        return None

    # -- serving ----------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request (called by the handler thread); it is logged before the answer leaves."""
        arrived, wall = time.monotonic(), time.time()
        length = int(handler.headers.get("Content-Length") or 0)
        if length:  # a request body must be consumed, or it would corrupt the keep-alive stream
            handler.rfile.read(length)
        path, _, query = handler.path.partition("?")
        fault = self._take_fault(f"{path}?{query}")
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay > 0:
            time.sleep(delay)
        reply = None if fault is not None and fault.kind == "reset" else self._respond(handler, path, query, fault)
        record = RequestRecord(arrived, wall, handler.command, path, query, reply.status if reply else 0,
                               handler.headers.get("User-Agent", ""), handler.headers.get("Authorization"))
        with self._lock:
            self._requests.append(record)
        if reply is None:
            _reset(handler)
            return
        body = reply.body.encode() if isinstance(reply.body, str) else \
            json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
        if fault is not None and fault.kind == "truncated":
            body = body[: len(body) // 2]
        headers = self._headers(handler, reply, body)
        if handler.close_connection:
            headers["Connection"] = "close"
        reason = BaseHTTPRequestHandler.responses.get(reply.status, ("Unknown",))[0]
        head = f"HTTP/1.1 {reply.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        # status line, headers and body in one write: no small-packet stalls
        handler.wfile.write(head.encode("latin-1") + b"\r\n" + (b"" if handler.command == "HEAD" else body))

    def _respond(self, handler: BaseHTTPRequestHandler, path: str, query: str, fault: Any) -> Any:
        """The reply (status, body, content_type, headers) to a request, ``fault`` the armed one if any."""
        raise NotImplementedError

    def _headers(self, handler: BaseHTTPRequestHandler, reply: Any, body: bytes) -> dict[str, str]:
        return {"Content-Type": reply.content_type, "Content-Length": str(len(body)), **reply.headers}


def serve_until_interrupted(server: LoopbackServer, name: str, about: str) -> int:
    """Run ``server`` until Ctrl-C, the way a fake's command line does: say where it listens, and on Ctrl-C
    say it stopped and return 130, as an interrupted forumkit command exits."""
    try:
        with server:
            print(f"{name} at {server.url}  ({about}; Ctrl-C to stop)", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        print(f"{name} stopped (Ctrl-C)", file=sys.stderr, flush=True)
        return 130
    return 0


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
        """Silence http.server's stderr log: requests are in ``LoopbackServer.requests``."""


class _Server(ThreadingHTTPServer):
    """Tracks open connections so that :meth:`LoopbackServer.stop` can close idle keep-alives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: LoopbackServer) -> None:
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
