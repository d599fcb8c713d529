#!/usr/bin/env python3
"""A minimal OTLP/HTTP sink for benchmarks: accepts POST /v1/traces and /v1/metrics, reads the
body and answers 200 with an empty protobuf reply; counts requests and bytes on exit (Ctrl-C).
Usage: python3 benches/otlp_sink.py [PORT]   (default 14318)"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {"requests": 0, "bytes": 0}


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        COUNTS["requests"] += 1
        COUNTS["bytes"] += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 14318
    server = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(COUNTS, file=sys.stderr)
