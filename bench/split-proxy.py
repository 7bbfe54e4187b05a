#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A second, different metadata server for the benchmarks: Python's
http.server in front of the fake, forwarding every request to it.

It behaves as http.server does, and as some real servers do: HTTP/1.1
keep-alive, the status line and headers written in one segment, the body
in a second one. On a reused connection a client whose delayed ACK holds
the first segment stalls ~40 ms before the second arrives (Nagle on this
side). Our fake writes the whole answer at once and never shows this.

Usage: split-proxy.py LISTEN_PORT UPSTREAM_HOST:PORT
"""
import http.client
import http.server
import socketserver
import sys
import threading

UPSTREAM = None
_local = threading.local()


def upstream():
    conn = getattr(_local, "conn", None)
    if conn is None:
        host, port = UPSTREAM.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        _local.conn = conn
    return conn


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        for attempt in (0, 1):
            try:
                conn = upstream()
                conn.request(method, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                break
            except (http.client.HTTPException, OSError):
                _local.conn = None
                if attempt:
                    self.send_error(502)
                    return
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()  # flushes the status line and headers: one segment
        self.wfile.write(data)  # the body: a second one

    def do_GET(self):
        self.forward("GET")

    def do_POST(self):
        self.forward("POST")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global UPSTREAM
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    UPSTREAM = sys.argv[2]
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()


if __name__ == "__main__":
    main()
