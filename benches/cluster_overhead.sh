#!/bin/bash
# Overhead of the Redis store and of shared limits per call, alternating, same sitting.
set -u
ZEN=${ZEN:-target/release/zen}
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
RPID=$!
sleep 0.5
R=redis://127.0.0.1:$PORT/
for round in 1 2 3 4 5; do
  for cfg in "sqlite local" "redis local" "sqlite shared" "redis shared"; do
    set -- $cfg
    store=sqlite; [ $1 = redis ] && store=$R
    extra=(); [ $2 = shared ] && extra=(--env ZEN_SHARED_LIMITS=$R)
    redis-cli -p $PORT flushall >/dev/null
    out=$($ZEN stress -c 32 -d 8s --env ZEN_SIM_LATENCY_MS=0 --env ZEN_STORE=$store "${extra[@]}" --json 2>/dev/null)
    echo "$round $1 $2 $(echo "$out" | python3 -c 'import json,sys;r=json.load(sys.stdin);print(round(r["throughput_per_sec"]), r["calls"]["failed"], round(r["latency"]["p99_ms"],2), [b["samples"] for b in r["errors"].values() if b["count"]])')"
  done
done
kill $RPID
