"""The HTTP side: a ThreadingHTTPServer that reads WizIQ calls and writes what the emulator decided.

The handler knows HTTP only. It turns a request into ``(path, method, fields)`` for the API or
``(verb, path, query, body)`` for the control API, and carries out the :class:`Reply` it gets back,
including the broken ones (a reset connection, a cut-off body) that fault injection asks for.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

#: The paths WizIQ's clients post to (docs/wiziq-api.md §1).
_API_PATHS = frozenset({"/", "/apimanager.ashx", "/apimanager.ashx/"})
CONTROL_PREFIX = "/_emulator"
_MAX_BODY_BYTES = 10 * 1024 * 1024
XML = "text/xml; charset=utf-8"


@dataclass
class Reply:
    """What to send: a normal answer, or one broken on purpose (``action``: ``reset`` or ``truncate``)."""

    status: int = 200
    body: bytes = b""
    content_type: str = XML
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    delay: float = 0.0  # seconds to wait before answering


class _App(Protocol):
    """What the server serves: the emulator."""

    stopping: threading.Event

    def api_call(self, path: str, method: str | None, fields: dict[str, str]) -> Reply: ...

    def control(self, verb: str, path: str, query: dict[str, str], body: bytes) -> Reply: ...


class EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection (keep-alive), a deep listen queue, and open connections closed on stop."""

    daemon_threads = True
    request_queue_size = 1024  # hundreds of concurrent clients must not meet a full backlog
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: _App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._resets: set[int] = set()
        super().__init__(address, _WizIQRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._process, args=(request, client_address), name="wiziq-emulator-conn", daemon=True
        )
        with self._lock:
            self._connections[thread] = request
        thread.start()

    def _process(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def mark_reset(self, connection: socket.socket) -> None:
        """Close this connection with a TCP reset instead of a graceful FIN."""
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._lock:
            self._resets.add(id(connection))

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            reset = id(request) in self._resets
            self._resets.discard(id(request))
        if reset:
            self.close_request(request)  # no shutdown(SHUT_WR): closing with linger 0 sends the RST
        else:
            super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("WizIQ emulator: a connection ended with an error", exc_info=True)

    def close_connections(self, timeout: float = 2.0) -> None:
        """End every open (keep-alive or busy) connection and wait for its thread."""
        with self._lock:
            connections = dict(self._connections)
        for connection in connections.values():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in connections:
            thread.join(timeout)


class _WizIQRequestHandler(BaseHTTPRequestHandler):
    """POST to an API path is a WizIQ call; anything under ``/_emulator`` is the control API."""

    protocol_version = "HTTP/1.1"
    server_version = "WizIQEmulator/1.0"
    timeout = 60  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: calls are logged by method name instead of the request line."""

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, verb: str) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        app = self.server.app
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path == CONTROL_PREFIX or parts.path.startswith(CONTROL_PREFIX + "/"):
            self._send(app.control(verb, parts.path, query, body))
        elif parts.path not in _API_PATHS:
            self._send(Reply(404, b"Not Found\n", "text/plain; charset=utf-8"))
        elif verb != "POST":
            self._send(
                Reply(
                    405,
                    b"WizIQ API calls are POST requests\n",
                    "text/plain; charset=utf-8",
                    {"Allow": "POST"},
                )
            )
        else:
            fields = _parse_form(self.headers.get("Content-Type", ""), body)
            method = query.get("method") or fields.get("method") or None
            self._send(app.api_call(parts.path, method, fields))

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None when an error answer was sent instead."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length_header = self.headers.get("Content-Length", "0") or "0"
        if not length_header.isdigit():
            self._send(Reply(400, b"Bad Content-Length\n", "text/plain; charset=utf-8"), close=True)
            return None
        length = int(length_header)
        if length > _MAX_BODY_BYTES:
            self._send(Reply(413, b"Request body too large\n", "text/plain; charset=utf-8"), close=True)
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        chunks = bytearray()
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self._send(Reply(400, b"Bad chunked body\n", "text/plain; charset=utf-8"), close=True)
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(chunks)
            if len(chunks) + size > _MAX_BODY_BYTES:
                self._send(Reply(413, b"Request body too large\n", "text/plain; charset=utf-8"), close=True)
                return None
            chunks += self.rfile.read(size)
            self.rfile.readline(1024)

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        if reply.delay > 0:
            self.server.app.stopping.wait(reply.delay)
        if reply.action == "reset":
            self.server.mark_reset(self.connection)
            self.close_connection = True
            return
        truncate = reply.action == "truncate"
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if close or truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(reply.body[: len(reply.body) // 2] if truncate else reply.body)
        self.wfile.flush()


def _parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """An urlencoded or multipart/form-data body as ``name -> value`` (the first value of a repeated name)."""
    kind = content_type.split(";")[0].strip().lower()
    pairs: list[tuple[str, str]]
    if kind == "multipart/form-data":
        pairs = _multipart(content_type, body)
    else:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


def _multipart(content_type: str, body: bytes) -> list[tuple[str, str]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", errors="replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    pairs: list[tuple[str, str]] = []
    if not message.is_multipart():
        return pairs
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        pairs.append((name, data.decode(part.get_content_charset() or "utf-8", errors="replace")))
    return pairs
