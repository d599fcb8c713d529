#!/usr/bin/env python3
"""The per-second series of an overloaded stdio run (issue 30): points, the gaps between them,
zero-length or call-less points, the client latency and the time in the server.

usage: python3 benches/series_overload.py ZEN_BINARY OUT.json
"""
import json, subprocess, sys, os, tempfile
zen, out = sys.argv[1], sys.argv[2]
env = dict(os.environ)
cmd = [zen, "stress", "--rate", "60", "-d", "20s", "--env", "ZEN_SIM_LATENCY_MS=50..400",
       "--env", "MAX_CONCURRENT_REQUESTS=10", "--max-error-rate", "1", "--out", out]
p = subprocess.run(cmd, capture_output=True, text=True, env=env)
r = json.load(open(out))
s = r["series"]
gaps = [b["t"] - a["t"] for a, b in zip(s, s[1:])]
empty = sum(1 for x in s if x["secs"] < 0.01 or x["calls"] == 0)
lat = r.get("latency_uncorrected") or r["latency"]
srv = (r.get("server") or {}).get("time_in_server")
pools = (r.get("server") or {}).get("pools") or []
gq = [p["queue_wait_p99_ms"] for p in pools if p["name"] == "global"]
print(json.dumps({
  "points": len(s), "gap_min": round(min(gaps), 3), "gap_max": round(max(gaps), 3),
  "empty": empty, "calls": r["calls"]["total"], "client_mean_ms": round(lat["mean_ms"], 1),
  "client_p99_ms": round(lat["p99_ms"], 1),
  "server_mean_ms": srv and round(srv["mean_ms"], 1), "server_p99_ms": srv and round(srv["p99_ms"], 1),
  "global_queue_p99_ms": gq[0] if gq else None,
}))
