"""Answers every POST with the bytes of one file, on loopback: the answers ``parse_answers.py`` reads.

``python benchmarks/answer_server.py FOLDER`` prints its URL first; a POST to ``<url>?answer=NAME`` gets the
bytes of ``FOLDER/NAME`` (keep-alive, with their ``Content-Length``). It runs in its own process, so that the
memory a client uses to read an answer is all the reading process holds.
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    folder = ""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        name = parse_qs(urlsplit(self.path).query).get("answer", [""])[0]
        with open(os.path.join(self.folder, os.path.basename(name)), "rb") as answer:
            body = answer.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main(folder: str) -> None:
    _Answer.folder = folder
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/apimanager.ashx", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
