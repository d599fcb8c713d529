#!/usr/bin/env python3
"""Three zen stress shards (--shard i/3 --start-at T) merged, against one process running the
same load, alternated, on one zen serve --http (issue 28).

usage: python3 benches/shards_vs_one.py ZEN [RUNS] [RATE] [SECS] [TOOL]
  defaults: 3 runs, 1500 calls/s, 15 s, tool `version` (no provider: the server's own cost)

Each run: one process `zen stress --url … --rate RATE -d SECS`, then three shards told to
start 5 s ahead, merged with `zen report merge`. Prints calls, calls/s, p50, p99 and the
merge's notes for both, then the medians. Talks to 127.0.0.1 only and stops by itself.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_cost import free_port  # noqa: E402  (same folder)


def figures(path):
    r = json.load(open(path))
    return {
        "calls": r["calls"]["total"],
        "calls_per_sec": r["throughput_per_sec"],
        "p50_ms": r["latency"]["p50_ms"],
        "p99_ms": r["latency"]["p99_ms"],
        "unsent": r["calls"]["unsent"],
    }


def line(name, f):
    return (f"{name:14} {f['calls']:7.0f} calls {f['calls_per_sec']:8.1f} calls/s  "
            f"p50 {f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms  unsent {f['unsent']:.0f}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    zen = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rate = sys.argv[3] if len(sys.argv) > 3 else "1500"
    secs = sys.argv[4] if len(sys.argv) > 4 else "15"
    tool = sys.argv[5] if len(sys.argv) > 5 else "version"
    port = free_port()
    server = subprocess.Popen([zen, "serve", "--http", f"127.0.0.1:{port}", "--no-telemetry"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    url = f"http://127.0.0.1:{port}/mcp"
    load = ["stress", "--url", url, "--tool", tool, "--rate", rate, "-d", f"{secs}s", "-q"]
    results = {"one process": [], "3 shards": []}
    try:
        with tempfile.TemporaryDirectory() as d:
            for i in range(runs):
                one = os.path.join(d, f"one-{i}.json")
                subprocess.run([zen, *load, "--out", one], check=True, stdout=subprocess.DEVNULL)
                results["one process"].append(figures(one))
                start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
                files = [os.path.join(d, f"shard-{i}-{s}.json") for s in range(3)]
                procs = [subprocess.Popen([zen, *load, "--out", f, "--shard", f"{s}/3",
                                           "--start-at", start], stdout=subprocess.DEVNULL)
                         for s, f in enumerate(files)]
                for p in procs:
                    p.wait(300)
                merged = os.path.join(d, f"merged-{i}.json")
                notes = subprocess.run([zen, "report", "merge", *files, "-o", merged],
                                       capture_output=True, text=True).stderr.strip()
                results["3 shards"].append(figures(merged))
                for name in results:
                    print(f"run {i + 1} {line(name, results[name][-1])}", flush=True)
                print(f"      merge notes: {notes or 'none'}", flush=True)
    finally:
        server.terminate()
        server.wait(20)
    for name, figs in results.items():
        med = {k: statistics.median(f[k] for f in figs) for k in figs[0]}
        print(f"median {line(name, med)}", flush=True)


if __name__ == "__main__":
    main()
