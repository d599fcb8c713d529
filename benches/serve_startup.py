#!/usr/bin/env python3
"""Time from process start to the initialize reply of `zen serve` over stdio, then its idle RSS.

Usage: python3 benches/serve_startup.py target/release/zen [runs]
Prints one line per run and the medians. Standard library only.
"""
import json, os, statistics, subprocess, sys, time

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one(binary):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    start = time.perf_counter()
    p = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    p.stdin.write((json.dumps(INIT) + "\n").encode())
    p.stdin.flush()
    reply = json.loads(p.stdout.readline())
    elapsed_ms = (time.perf_counter() - start) * 1000
    assert reply["id"] == 1 and "result" in reply, reply
    p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    p.stdin.flush()
    time.sleep(3)  # idle: let the sampler and monitor settle
    idle_mb = rss_kb(p.pid) / 1024
    p.stdin.close()
    p.wait(timeout=15)
    return elapsed_ms, idle_mb


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    starts, rss = [], []
    for i in range(runs):
        ms, mb = one(binary)
        starts.append(ms)
        rss.append(mb)
        print(f"run {i + 1}: start to initialize reply {ms:.1f} ms, idle RSS {mb:.1f} MB")
    print(f"median: start to initialize reply {statistics.median(starts):.1f} ms, idle RSS {statistics.median(rss):.1f} MB")


if __name__ == "__main__":
    main()
