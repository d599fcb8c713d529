#!/usr/bin/env python3
"""Peak RSS of `zen serve` under hostile input (issue 15), standard library only.

    python3 benches/serve_bounds.py http  [ZEN] [N=10000]   # N HTTP initialize POSTs, new session each
    python3 benches/serve_bounds.py sessions [ZEN] [N=5000] # RSS per open session (cap raised to N)
    python3 benches/serve_bounds.py stdio [ZEN] [N=100000]  # N chat requests written, none read

ZEN defaults to target/release/zen. Prints one JSON line of figures.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time

INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "bench", "version": "1"}}})


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Peak(threading.Thread):
    """Samples a process's RSS every 10 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, False

    def run(self):
        while not self.done:
            try:
                self.peak = max(self.peak, rss(self.pid))
            except OSError:
                return
            time.sleep(0.01)


def start_http(zen, env):
    proc = subprocess.Popen([zen, "serve", "--http", "127.0.0.1:0", "--no-telemetry"],
                            env={**os.environ, "LOG_LEVEL": "warn,zen=info", **env},
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"endpoint=http://([\d.]+):(\d+)/mcp", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, m.group(1), int(m.group(2))
    raise SystemExit("zen serve --http did not start")


def initialize_many(host, port, n):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    statuses = {}
    for _ in range(n):
        conn.request("POST", "/mcp", INIT, {"content-type": "application/json",
                                            "accept": "application/json, text/event-stream"})
        resp = conn.getresponse()
        resp.read()
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
    return statuses


def bench_http(zen, n, env):
    proc, host, port = start_http(zen, env)
    base = rss(proc.pid)
    peak = Peak(proc.pid)
    peak.start()
    t0 = time.time()
    statuses = initialize_many(host, port, n)
    seconds = time.time() - t0
    time.sleep(0.2)
    peak.done = True
    end = rss(proc.pid)
    proc.terminate()
    proc.wait(timeout=30)
    return {"requests": n, "statuses": statuses, "seconds": round(seconds, 1),
            "rss_start_mib": round(base / 2**20, 1), "rss_end_mib": round(end / 2**20, 1),
            "rss_peak_mib": round(peak.peak / 2**20, 1)}


def bench_sessions(zen, n):
    out = bench_http(zen, n, {"ZEN_MAX_SESSIONS": str(n)})
    out["bytes_per_session"] = int((out["rss_end_mib"] - out["rss_start_mib"]) * 2**20 / n)
    return out


def bench_stdio(zen, n):
    proc = subprocess.Popen([zen, "serve", "--no-telemetry"],
                            env={**os.environ, "LOG_LEVEL": "warn", "ZEN_SIM_LATENCY_MS": "20"},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    proc.stdin.write((INIT + "\n" + json.dumps(
        {"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n").encode())
    proc.stdin.flush()
    proc.stdout.readline()
    base = rss(proc.pid)
    peak = Peak(proc.pid)
    peak.start()
    written = [0]

    def write():
        for i in range(2, n + 2):
            proc.stdin.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                                          "params": {"name": "chat", "arguments": {
                                              "prompt": f"hello {i}"}}}) + "\n").encode())
            written[0] = i - 1
        proc.stdin.flush()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    # Unread: wait until the writer is done or stalled for 2 s by zen's backpressure.
    last, since = -1, time.time()
    while writer.is_alive() and time.time() - since < 2:
        if written[0] != last:
            last, since = written[0], time.time()
        time.sleep(0.05)
    stalled_at = written[0]
    unread_peak = peak.peak
    t0 = time.time()
    answered = 0
    while answered < n:
        if not proc.stdout.readline():
            break
        answered += 1
    seconds = time.time() - t0
    peak.done = True
    proc.stdin.close()
    proc.wait(timeout=60)
    return {"requests": n, "written_before_stall": stalled_at, "answered": answered,
            "read_seconds": round(seconds, 1), "rss_start_mib": round(base / 2**20, 1),
            "rss_peak_unread_mib": round(unread_peak / 2**20, 1),
            "rss_peak_mib": round(peak.peak / 2**20, 1)}


def main():
    mode = sys.argv[1]
    zen = sys.argv[2] if len(sys.argv) > 2 else "target/release/zen"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else {"http": 10000, "sessions": 5000,
                                                     "stdio": 100000}[mode]
    result = {"http": lambda: bench_http(zen, n, {}), "sessions": lambda: bench_sessions(zen, n),
              "stdio": lambda: bench_stdio(zen, n)}[mode]()
    print(json.dumps({"mode": mode, **result}))


if __name__ == "__main__":
    main()
