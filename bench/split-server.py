#!/usr/bin/env python3
# A metadata-like HTTP/1.1 server on Python's http.server, for
# bench-mds-stall.sh: keep-alive, and each answer written as two segments,
# the headers (end_headers() flushes them) then the body, with Nagle on, as
# http.server does. Prints its port, serves until killed.
import http.server
import socketserver
import sys

BODY = b"vm-1.c.acme-prod.internal"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.headers.get("Metadata-Flavor") != "Google":
            self.send_error(403)
            return
        self.send_response(200)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", "application/text")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
