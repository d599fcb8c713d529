#!/usr/bin/env python3
"""Two or more zen builds over stdio, runs alternated in one sitting: server CPU per `version`
call (and server-everything's per `echo`, when given), medians. The machine's speed moves by
1.5x within an hour, so a change is judged only against its base measured beside it.

usage: stdio_ab.py BIN[,BIN...] RUNS SECONDS [PARTS] [EVERYTHING_INDEX_JS NODE]
  PARTS: comma-separated protocols (2026-07-28, 2025-11-25) and/or `everything`
  (default 2026-07-28,2025-11-25; `everything` needs the last two arguments)
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocol_cost import run_stress_stdio  # noqa: E402


def main():
    bins = [os.path.abspath(b) for b in sys.argv[1].split(",")]
    runs, secs = int(sys.argv[2]), int(sys.argv[3])
    parts = (sys.argv[4] if len(sys.argv) > 4 else "2026-07-28,2025-11-25").split(",")
    everything = sys.argv[5:7] if len(sys.argv) > 6 else None
    figures = {}
    for run in range(runs):
        for zen in bins:
            for part in parts:
                if part == "everything":
                    if not everything:
                        sys.exit("`everything` needs EVERYTHING_INDEX_JS and NODE")
                    stdio = f"{everything[1]} {everything[0]} stdio"
                    fig = run_stress_stdio(zen, secs, "auto", stdio, "echo", '{"message":"hi"}')
                else:
                    fig = run_stress_stdio(zen, secs, part)
                figures.setdefault((zen, part), []).append(fig)
                print(f"run {run + 1} {zen} {part:11} {fig['calls_per_sec']:7.0f} calls/s  "
                      f"server {fig['server_us']:5.1f} µs/call  "
                      f"generator {fig['generator_us']:5.1f} µs/call", flush=True)
    for (zen, part), figs in figures.items():
        server = [f["server_us"] for f in figs]
        print(f"median {zen} {part:11} server {statistics.median(server):5.1f} µs/call  "
              f"{statistics.median(f['calls_per_sec'] for f in figs):7.0f} calls/s  "
              f"generator {statistics.median(f['generator_us'] for f in figs):5.1f} µs/call  "
              f"per run: {', '.join(f'{s:.1f}' for s in server)}")


if __name__ == "__main__":
    main()
