#!/bin/bash
# usage: benches/generator_reads.sh SERVE_BINARY STRESS_BINARY
# zen serve --http (SERVE_BINARY), then `zen stress --url -d 5s --tool version` with the given
# stress binary; prints the server's per-tool counts afterwards.
set -e
SERVE=$1; STRESS=$2
D=$(mktemp -d)
ZEN_RUNTIME_DIR=$D/run ZEN_DATA_DIR=$D/data $SERVE serve --http 127.0.0.1:0 2> $D/serve.log &
PID=$!
for i in $(seq 100); do grep -q "endpoint=" $D/serve.log 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o "endpoint=[^ ]*" $D/serve.log | head -1 | cut -d= -f2)
TEL=$(grep -o "url=[^ ]*" $D/serve.log | head -1 | cut -d= -f2)
ZEN_RUNTIME_DIR=$D/run $STRESS stress --url $URL --tool version -c 2 -d 5s --json > $D/r.json 2> $D/stress.log || true
curl -s $TEL/snapshot | python3 -c "import json,sys; s=json.load(sys.stdin); print({k:v['total_operations'] for k,v in s['tools'].items() if v['total_operations']})"
python3 -c "import json; r=json.load(open('$D/r.json')); print('sent', r['calls']['total'], 'server side', r['server'] is not None)"
kill $PID; wait $PID 2>/dev/null || true
