"""A tiny HTTP server on loopback that answers from a script: for answers a real WizIQ server would not give.

Each scripted answer is an HTTP status, headers and body, or an action: ``reset`` (close the socket without
answering), ``delay`` (wait, then answer), ``trickle`` (send the body slowly).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # None, "reset", "delay", "trickle", "truncate", "chunked"
    seconds: float = 0.0


@dataclass
class Received:
    path: str
    query: dict[str, str]
    form: dict[str, str]
    client_port: int
    headers: dict[str, str] = field(default_factory=dict)


def ok(method: str, inner: str = "") -> bytes:
    """A WizIQ success answer for ``method``."""
    return (
        f'<rsp status="ok" call_id="c0ffee"><method>{method}</method><{method} status="true">{inner}</{method}></rsp>'
    ).encode()


def fail(code: int, msg: str) -> bytes:
    return f'<rsp status="fail" call_id="c0ffee"><error code="{code}" msg="{msg}"/></rsp>'.encode()


class ScriptedServer:
    def __init__(self) -> None:
        self.script: deque[Answer] = deque()
        self.default = Answer(ok("get_account_info"))
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                parts = urlsplit(self.path)
                with server._lock:
                    server.received.append(
                        Received(
                            parts.path,
                            {k: v[0] for k, v in parse_qs(parts.query).items()},
                            {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()},
                            self.client_address[1],
                            dict(self.headers.items()),
                        )
                    )
                    answer = server.script.popleft() if server.script else server.default
                server._answer(self, answer)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up on a scripted answer is what some tests ask for

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/apimanager.ashx"

    def then(self, *answers: Answer) -> ScriptedServer:
        self.script.extend(answers)
        return self

    def _answer(self, handler: BaseHTTPRequestHandler, answer: Answer) -> None:
        if answer.action == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            handler.connection.close()
            return
        if answer.action == "delay":
            time.sleep(answer.seconds)
        handler.send_response(answer.status)
        headers = {"Content-Type": "text/xml; charset=utf-8", **answer.headers}
        declared = len(answer.body) * (2 if answer.action == "truncate" else 1)
        if answer.action == "chunked":
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers.setdefault("Content-Length", str(declared))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if answer.action == "chunked":
            for start in range(0, len(answer.body), 65536):
                piece = answer.body[start : start + 65536]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")
        elif answer.action == "trickle":
            for i in range(len(answer.body)):
                handler.wfile.write(answer.body[i : i + 1])
                handler.wfile.flush()
                time.sleep(answer.seconds)
        else:
            handler.wfile.write(answer.body)
        if answer.action == "truncate":
            handler.close_connection = True

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
