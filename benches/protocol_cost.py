#!/usr/bin/env python3
"""Server CPU per call by MCP protocol revision (issue 24): 2025 sessions against 2026-07-28
requests over HTTP (wrk as the neutral generator, and zen stress --protocol), and over stdio
(zen stress --protocol against zen serve, and against server-everything on the same load).

usage: python3 benches/protocol_cost.py ZEN_BINARY [RUNS] [SECONDS] [PARTS] [EVERYTHING_JS NODE]
  PARTS: comma-separated from wrk,stress-http,stdio (default all three)
  EVERYTHING_JS, NODE: server-everything's dist/index.js and the node to run it with (for the
  stdio comparison; skipped when not given)

Every figure is `version` (server-everything: `echo`), 32 in flight, runs of SECONDS, the variants
of a part alternated run by run; server CPU is utime+stime of the server process (and its
children) from /proc around the run, divided by the calls the generator counted. Prints one line
per run, then the medians.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from http_cost import cpu_secs, start_http  # benches/http_cost.py, beside this script

MODERN = "2026-07-28"
LEGACY = "2025-11-25"


def descendants(pid):
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return out
    for kid in kids:
        out.append(kid)
        out.extend(descendants(kid))
    return out


def start_http_endpoint(zen):
    serve, port = start_http(zen)
    return serve, f"http://127.0.0.1:{port}/mcp"


def post(url, headers, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("accept", "application/json, text/event-stream")
    for k, v in headers.items():
        request.add_header(k, v)
    with urllib.request.urlopen(request) as response:
        return dict(response.headers), response.read().decode()


def version_call(modern):
    params = {"name": "version", "arguments": {}}
    if modern:
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN,
                           "io.modelcontextprotocol/clientCapabilities": {},
                           "io.modelcontextprotocol/clientInfo": {"name": "wrk", "version": "4.1"}}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}


def wrk_script(dir, url, modern):
    """A wrk script POSTing one `version` call: a 2026-07-28 request, or one on a 2025 session
    (opened here). The call is tried once first; its reply must be a result."""
    if modern:
        headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "version"}
    else:
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "wrk", "version": "4.1"}}}
        got, _ = post(url, {}, init)
        session = {k.lower(): v for k, v in got.items()}["mcp-session-id"]
        headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY}
        post(url, headers, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    body = version_call(modern)
    _, reply = post(url, headers, body)
    assert '"isError":false' in reply, reply
    assert ('"resultType":"complete"' in reply) == modern, reply
    lines = ['wrk.method = "POST"',
             'wrk.headers["Content-Type"] = "application/json"',
             'wrk.headers["Accept"] = "application/json, text/event-stream"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    lines.append('function done(summary, latency, requests)\n'
                 '  io.write(string.format("requests=%d non2xx=%d\\n", summary.requests, summary.errors.status))\n'
                 'end')
    path = os.path.join(dir, "modern.lua" if modern else "legacy.lua")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_wrk(serve, url, script, seconds):
    before = cpu_secs(serve.pid)
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "-s", script, url],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    after = cpu_secs(serve.pid)
    line = [l for l in out.splitlines() if l.startswith("requests=")][0]
    fields = dict(kv.split("=") for kv in line.split())
    calls, bad = int(fields["requests"]), int(fields["non2xx"])
    assert bad == 0, out
    return {"calls_per_sec": calls / seconds, "server_us": (after - before) * 1e6 / calls,
            "generator_us": float("nan")}


def stress_report(out):
    r = json.loads(out)
    tools = r["tools"]
    calls = sum(t["calls"] for t in tools.values())
    errors = sum(t.get("errors", 0) for t in tools.values())
    return r, calls, errors


def run_stress_http(zen, serve, url, protocol, seconds):
    before = cpu_secs(serve.pid)
    cmd = [zen, "stress", "--url", url, "-c", "32", "-d", f"{seconds}s", "--tool", "version",
           "--protocol", protocol, "--json"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=False).stdout
    after = cpu_secs(serve.pid)
    r, calls, errors = stress_report(out)
    assert errors == 0 and r["target"]["protocol"] == protocol, r["target"]
    return {"calls_per_sec": r["throughput_per_sec"], "server_us": (after - before) * 1e6 / calls,
            "generator_us": r["generator"]["cpu_us_per_call"]}


def run_stress_stdio(zen, seconds, protocol, stdio=None, tool="version", args="{}"):
    cmd = [zen, "stress", "-c", "32", "-d", f"{seconds}s", "--tool", tool, "--args", args,
           "--protocol", protocol, "--json"]
    if stdio:
        cmd += ["--stdio", stdio]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    last = {}
    while p.poll() is None:
        for pid in descendants(p.pid):
            cpu = cpu_secs(pid)
            if cpu is not None:
                last[pid] = cpu
        time.sleep(0.05)
    r, calls, errors = stress_report(p.stdout.read())
    assert errors == 0, r["tools"]
    return {"calls_per_sec": r["throughput_per_sec"], "server_us": sum(last.values()) * 1e6 / calls,
            "generator_us": r["generator"]["cpu_us_per_call"], "protocol": r["target"]["protocol"]}


def show(label, fig):
    print(f"{label:34} {fig['calls_per_sec']:9.0f} calls/s  server {fig['server_us']:6.1f} µs/call"
          f"  generator {fig['generator_us']:6.1f} µs/call", flush=True)


def main():
    zen = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    parts = (sys.argv[4] if len(sys.argv) > 4 else "wrk,stress-http,stdio").split(",")
    everything = sys.argv[5] if len(sys.argv) > 5 else None
    node = sys.argv[6] if len(sys.argv) > 6 else "node"
    results = {}
    scratch = tempfile.mkdtemp()
    for i in range(runs):
        if "wrk" in parts or "stress-http" in parts:
            serve, url = start_http_endpoint(zen)
            try:
                for modern in ([True, False] if i % 2 else [False, True]):
                    label = f"wrk http {MODERN if modern else LEGACY + ' session'}"
                    if "wrk" in parts:
                        fig = run_wrk(serve, url, wrk_script(scratch, url, modern), seconds)
                        results.setdefault(label, []).append(fig)
                        show(f"run {i + 1} {label}", fig)
                    if "stress-http" in parts:
                        protocol = MODERN if modern else LEGACY
                        label = f"zen stress http --protocol {protocol}"
                        fig = run_stress_http(zen, serve, url, protocol, seconds)
                        results.setdefault(label, []).append(fig)
                        show(f"run {i + 1} {label}", fig)
            finally:
                serve.terminate()
                serve.wait(20)
        if "stdio" in parts:
            variants = [("zen serve stdio --protocol " + p, p, None) for p in (MODERN, LEGACY)]
            if everything:
                variants.append(("server-everything stdio (echo)", "auto", f"{node} {everything} stdio"))
            if i % 2:
                variants.reverse()
            for label, protocol, stdio in variants:
                if stdio:
                    fig = run_stress_stdio(zen, seconds, protocol, stdio, "echo", '{"message":"hi"}')
                else:
                    fig = run_stress_stdio(zen, seconds, protocol)
                results.setdefault(label, []).append(fig)
                show(f"run {i + 1} {label}", fig)
    print()
    for label, figs in results.items():
        med = {k: statistics.median(f[k] for f in figs)
               for k in ("calls_per_sec", "server_us", "generator_us")}
        spread = ", ".join(f"{f['server_us']:.1f}" for f in figs)
        show(f"median {label}", med)
        print(f"{'':34} server µs/call per run: {spread}")


if __name__ == "__main__":
    main()
