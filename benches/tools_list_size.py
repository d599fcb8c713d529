#!/usr/bin/env python3
"""Size of zen's tools/list reply over stdio, raw JSON-RPC (no SDK needed).
usage: tools_list_size.py ZEN_BINARY [DISABLED_TOOLS]
Prints the bytes of the whole JSON-RPC line and of its `result`, and each tool's share."""
import json, os, subprocess, sys

env = dict(os.environ, ZEN_STORE="memory", ZEN_NO_TELEMETRY="true", LOG_LEVEL="error")
if len(sys.argv) > 2:
    env["DISABLED_TOOLS"] = sys.argv[2]
zen = subprocess.Popen([sys.argv[1], "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

def send(msg):
    zen.stdin.write((json.dumps(msg) + "\n").encode())
    zen.stdin.flush()

send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
      "capabilities": {}, "clientInfo": {"name": "size", "version": "0"}}})
zen.stdout.readline()
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
line = zen.stdout.readline()
zen.stdin.close()
zen.wait(timeout=10)
reply = json.loads(line)
tools = reply["result"]["tools"]
print(f"tools/list: {len(tools)} tools, {len(line.rstrip())} bytes on the wire "
      f"(result {len(json.dumps(reply['result'], separators=(',', ':')))} bytes)")
for t in tools:
    print(f"  {t['name']:<11} {len(json.dumps(t, separators=(',', ':'))):>5} bytes")
