#!/usr/bin/env python3
"""A small local HTTP server for `make demo`: /hello answers a greeting, /echo returns the
request as JSON, /slow waits 2 s. Listens on 127.0.0.1:<port>; prints "ready" when up."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        if self.path.startswith("/echo"):
            self.reply(200, json.dumps({"method": self.command, "path": self.path,
                                        "headers": dict(self.headers), "body": body}, indent=1),
                       "application/json")
        elif self.path.startswith("/slow"):
            time.sleep(2)
            self.reply(200, "late\n")
        elif self.path.startswith("/hello"):
            self.reply(200, "hello from the demo server\nsecond line\n")
        else:
            self.reply(404, "no such page\n")

    do_GET = do_POST = do_PUT = handle_one

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    srv.serve_forever()
