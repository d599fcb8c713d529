#!/usr/bin/env python3
"""CPU per call of zen serve and zen stress, stdio and streamable HTTP runs interleaved.

usage: python3 benches/http_cost.py ZEN_BINARY [RUNS] [DURATION] [MODES]
  MODES: comma-separated from stdio,http (default both), e.g. `http` for HTTP only.

Each run is `zen stress -c 32 -d DURATION --tool version --json`, once against a spawned
`zen serve` over stdio and once against `zen serve --http 127.0.0.1:PORT` started by this
script. Throughput and the generator's CPU per call come from the report; the server's CPU per
call from /proc/PID/stat (utime + stime) around the run (for stdio: the spawned child, sampled
every 50 ms until it exits). Prints one line per run and the medians.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_secs(pid):
    """utime + stime of a process in seconds, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_stdio(zen, duration):
    cmd = [zen, "stress", "-c", "32", "-d", duration, "--tool", "version", "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    child, last = None, None
    while p.poll() is None:
        if child is None:
            kids = children(p.pid)
            child = kids[0] if kids else None
        if child is not None:
            last = cpu_secs(child) or last
        time.sleep(0.05)
    return finish(p.stdout.read(), last)


def start_http(zen):
    """`zen serve --http` on a free port, once it accepts connections; (process, port)."""
    port = free_port()
    serve = subprocess.Popen(
        [zen, "serve", "--http", f"127.0.0.1:{port}", "--no-telemetry"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return serve, port


def run_http(zen, duration):
    serve, port = start_http(zen)
    before = cpu_secs(serve.pid)
    cmd = [zen, "stress", "--url", f"http://127.0.0.1:{port}/mcp", "-c", "32", "-d", duration,
           "--tool", "version", "--json"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=False).stdout
    after = cpu_secs(serve.pid)
    serve.terminate()
    serve.wait(20)
    return finish(out, after - before)


def finish(out, server_cpu):
    r = json.loads(out)
    calls = r["tools"]["version"]["calls"]
    return {
        "calls_per_sec": r["throughput_per_sec"],
        "server_us": server_cpu * 1e6 / calls if server_cpu else float("nan"),
        "generator_us": r["generator"]["cpu_us_per_call"],
        "p50_ms": r["latency"]["p50_ms"] if "p50_ms" in r["latency"] else None,
    }


def main():
    zen = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    duration = sys.argv[3] if len(sys.argv) > 3 else "10s"
    modes = (sys.argv[4] if len(sys.argv) > 4 else "stdio,http").split(",")
    results = {m: [] for m in modes}
    for i in range(runs):
        for mode in modes:
            fig = run_stdio(zen, duration) if mode == "stdio" else run_http(zen, duration)
            results[mode].append(fig)
            print(f"run {i + 1} {mode:5} {fig['calls_per_sec']:9.0f} calls/s  server "
                  f"{fig['server_us']:6.1f} µs/call  generator {fig['generator_us']:6.1f} µs/call",
                  flush=True)
    for mode, figs in results.items():
        med = {k: statistics.median(f[k] for f in figs)
               for k in ("calls_per_sec", "server_us", "generator_us")}
        print(f"median {mode:5} {med['calls_per_sec']:9.0f} calls/s  server "
              f"{med['server_us']:6.1f} µs/call  generator {med['generator_us']:6.1f} µs/call")


if __name__ == "__main__":
    main()
