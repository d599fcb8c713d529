#!/usr/bin/env python3
"""zen stress and mcp-stress side by side: same target, same load, runs alternated.

usage: python3 benches/vs_mcp_stress.py ZEN MCP_STRESS SERVER_EVERYTHING_JS [RUNS] [SECS] [TARGETS]
  MCP_STRESS: the mcp-stress binary (npm install @mcp-stress/linux-x64: bin/mcp-stress)
  SERVER_EVERYTHING_JS: dist/index.js of @modelcontextprotocol/server-everything
  TARGETS: comma-separated from stdio,http,zen-http (default all three)
    stdio     server-everything over stdio, spawned by each tool, tool `echo`
    http      server-everything over streamable HTTP (started here), tool `echo`
    zen-http  zen serve --http (started here), tool `version`
    py-bearer tests/python/reach_server.py (the official Python SDK, streamable HTTP, stateless)
              requiring a bearer token, tool `echo`; zen: --bearer-token-env, mcp-stress: -H
    py-sse    the same server on the legacy HTTP+SSE transport (no token), tool `echo`;
              zen: --transport sse, mcp-stress: --sse
    everything-sse  server-everything on the legacy HTTP+SSE transport (its `sse` mode, LF line
              endings, which mcp-stress 0.2.1's SSE parser needs), tool `echo`; zen:
              --transport sse, mcp-stress: --sse, killed 5 s after its run (it never ends one
              over SSE), its figures from the NDJSON events it wrote (-o); the same for py-sse,
              where it never gets past the endpoint event (0 calls)
  The py-* targets run the server with $PYTHON (default: the CI venv, ~/.cache/zen-ci/venv).

Load: 32 calls in flight, one session, SECS seconds (default 15). For each run and tool:
calls/s from the tool's own JSON summary; the generator's CPU per call and peak RSS from
/proc/PID (its own utime+stime and VmHWM, sampled every 50 ms, children excluded); the server's
CPU per call from /proc of the server (for stdio, the generator's child). Prints one line per
run and the medians. Every process talks to 127.0.0.1 only and stops by itself.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_cost import children, cpu_secs, free_port  # noqa: E402  (same folder)


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def wait_port(port, proc):
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the server on port {port} did not start")


def watch(cmd, env=None, kill_after=None):
    """Run a generator; sample its own CPU and peak RSS (and its first child's CPU). With
    `kill_after` (seconds), kill it then if it has not ended (its figures are those sampled
    until then)."""
    env = dict(os.environ, REACH_TOKEN=TOKEN) if env is None else env
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    cpu = rss = child = child_cpu = None
    out = []
    os.set_blocking(p.stdout.fileno(), False)
    started = time.time()
    while p.poll() is None:
        if kill_after is not None and time.time() - started > kill_after:
            p.kill()
            p.wait()
            break
        cpu = cpu_secs(p.pid) or cpu
        rss = peak_rss_mb(p.pid) or rss
        if child is None:
            kids = children(p.pid)
            child = kids[0] if kids else None
        if child is not None:
            child_cpu = cpu_secs(child) or child_cpu
        chunk = p.stdout.read()
        if chunk:
            out.append(chunk)
        time.sleep(0.05)
    os.set_blocking(p.stdout.fileno(), True)
    out.append(p.stdout.read())
    return b"".join(out), cpu, rss, child_cpu


def zen_cmd(zen, target, tool, secs):
    cmd = [zen, "stress", "-c", "32", "-d", f"{secs}s", "--tool", tool, "--json"]
    if tool == "echo":
        cmd += ["--args", '{"message":"hi"}']
    return cmd + target


def zen_figures(out, tool):
    r = json.loads(out)
    return r["throughput_per_sec"], r["tools"][tool]["calls"], r["tools"][tool].get("errors", 0)


def mcp_stress_figures(out, _tool):
    r = json.loads(out)
    return r["requestsPerSecond"], r["totalRequests"], r["totalErrors"]


def mcp_stress_ndjson_figures(path):
    """mcp-stress 0.2.1 --sse never ends a run (see BENCHMARKS.md): its figures from the NDJSON
    events it wrote (one per finished call, `t` ms since its start)."""
    def figures(_out, _tool):
        lines = open(path).read().splitlines() if os.path.exists(path) else []
        events = [json.loads(line) for line in lines if '"latencyMs"' in line]
        last = max((e["t"] for e in events), default=1) / 1000
        return len(events) / last, len(events), sum(1 for e in events if not e["ok"])
    return figures


def one_run(name, cmd, figures, tool, server_pid, kill_after=None):
    before = cpu_secs(server_pid) if server_pid else None
    out, cpu, rss, child_cpu = watch(cmd, kill_after=kill_after)
    server_cpu = (cpu_secs(server_pid) - before) if server_pid else child_cpu
    rate, calls, errors = figures(out, tool)
    return {
        "tool": name,
        "calls_per_sec": rate,
        "errors": errors,
        "generator_us": cpu * 1e6 / calls if calls else float("nan"),
        "generator_rss_mb": rss,
        "server_us": server_cpu * 1e6 / calls if server_cpu and calls else float("nan"),
    }


# Issue 28: the Python SDK server of tests/python/reach_server.py, with a token or over SSE.
TOKEN = "bench-token-5c1d"
PYTHON = os.environ.get("PYTHON", os.path.expanduser("~/.cache/zen-ci/venv/bin/python"))
REACH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python",
                     "reach_server.py")


def start_server(target, zen, everything):
    port = free_port()
    if target.startswith("py-"):
        cmd = [PYTHON, REACH, "--port", str(port)]
        cmd += ["--transport", "sse"] if target == "py-sse" else ["--stateless", "--token-env",
                                                                   "REACH_TOKEN"]
        env = dict(os.environ, REACH_TOKEN=TOKEN)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, proc)
        return proc, f"http://127.0.0.1:{port}/{'sse' if target == 'py-sse' else 'mcp'}"
    if target in ("http", "everything-sse"):
        mode = "sse" if target == "everything-sse" else "streamableHttp"
        cmd = ["node", everything, mode]
        env = dict(os.environ, PORT=str(port))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, proc)
        return proc, f"http://127.0.0.1:{port}/{'sse' if mode == 'sse' else 'mcp'}"
    else:
        cmd = [zen, "serve", "--http", f"127.0.0.1:{port}", "--no-telemetry"]
        env = None
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, f"http://127.0.0.1:{port}/mcp"


def bench(target, zen, mcp_stress, everything, runs, secs):
    tool = "version" if target == "zen-http" else "echo"
    server, url = (None, None) if target == "stdio" else start_server(target, zen, everything)
    zen_target = ["--stdio", f"node {everything}"] if target == "stdio" else ["--url", url]
    ms_target = ["--", "node", everything] if target == "stdio" else ["--url", url]
    if target == "py-bearer":
        zen_target += ["--bearer-token-env", "REACH_TOKEN"]
        ms_target = ["-H", f"Authorization: Bearer {TOKEN}"] + ms_target
    if target in ("py-sse", "everything-sse"):
        zen_target += ["--transport", "sse"]
        ms_target = ["--sse"] + ms_target
    ms = [mcp_stress, "run", "-c", "32", "-d", str(secs), "--tool", tool, "--json"] + ms_target
    ms_figures, kill_after = mcp_stress_figures, None
    if target in ("everything-sse", "py-sse"):
        events = f"/tmp/vs-mcp-stress-{os.getpid()}.ndjson"
        ms = ms[:2] + ["-o", events] + ms[2:]
        ms_figures, kill_after = mcp_stress_ndjson_figures(events), secs + 5
    results = {"zen stress": [], "mcp-stress": []}
    try:
        for i in range(runs):
            for name, cmd, figures, kill in (
                ("zen stress", zen_cmd(zen, zen_target, tool, secs), zen_figures, None),
                ("mcp-stress", ms, ms_figures, kill_after),
            ):
                pid = server.pid if server else None
                if kill is not None and os.path.exists(events):
                    os.remove(events)
                fig = one_run(name, cmd, figures, tool, pid, kill)
                results[name].append(fig)
                print(f"{target:8} run {i + 1} {line(fig)}", flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(20)
    for name, figs in results.items():
        med = {k: statistics.median(f[k] for f in figs) for k in figs[0] if k != "tool"}
        print(f"{target:8} median {line(dict(med, tool=name))}", flush=True)


def line(f):
    return (f"{f['tool']:10} {f['calls_per_sec']:8.0f} calls/s  errors {f['errors']:5.0f}  "
            f"generator {f['generator_us']:6.1f} µs/call {f['generator_rss_mb']:6.1f} MB  "
            f"server {f['server_us']:6.1f} µs/call")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    zen, mcp_stress, everything = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    secs = int(sys.argv[5]) if len(sys.argv) > 5 else 15
    targets = (sys.argv[6] if len(sys.argv) > 6 else "stdio,http,zen-http").split(",")
    for target in targets:
        bench(target, zen, mcp_stress, everything, runs, secs)


if __name__ == "__main__":
    main()
