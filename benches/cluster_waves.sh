#!/bin/bash
# 60 chat calls of 200 ms over two instances sharing a limit of 10: wall time, 5 runs.
set -u
ZEN=${ZEN:-target/release/zen}
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT=$(free_port)
redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
RPID=$!
sleep 0.5
R=redis://127.0.0.1:$PORT/
A=$(free_port); B=$(free_port)
export ZEN_STORE=memory ZEN_SHARED_LIMITS=$R ZEN_PROVIDER_LIMITS=simulated=10 ZEN_SIM_LATENCY_MS=200 ZEN_NO_TELEMETRY=true
$ZEN serve --http 127.0.0.1:$A 2>/dev/null & PA=$!
$ZEN serve --http 127.0.0.1:$B 2>/dev/null & PB=$!
sleep 1.5
for i in 1 2 3 4 5; do
  $ZEN stress --url http://127.0.0.1:$A/mcp --url http://127.0.0.1:$B/mcp -c 60 -n 60 --json 2>/dev/null |
    python3 -c 'import json,sys;r=json.load(sys.stdin);print("wall %.3f s ok %d failed %d p50 %.0f ms max %.0f ms" % (r["elapsed_secs"], r["calls"]["ok"], r["calls"]["failed"], r["latency"]["p50_ms"], r["latency"]["max_ms"]), [t["ok"] for t in r["targets"]])'
done
# Local limits for comparison: each instance allows 10, so 20 in flight.
kill $PA $PB; wait $PA $PB 2>/dev/null
unset ZEN_SHARED_LIMITS
$ZEN serve --http 127.0.0.1:$A 2>/dev/null & PA=$!
$ZEN serve --http 127.0.0.1:$B 2>/dev/null & PB=$!
sleep 1.5
for i in 1 2 3; do
  $ZEN stress --url http://127.0.0.1:$A/mcp --url http://127.0.0.1:$B/mcp -c 60 -n 60 --json 2>/dev/null |
    python3 -c 'import json,sys;r=json.load(sys.stdin);print("local: wall %.3f s ok %d" % (r["elapsed_secs"], r["calls"]["ok"]))'
done
kill $PA $PB $RPID; wait 2>/dev/null
