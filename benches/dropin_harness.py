#!/usr/bin/env python3
"""Drive zen and the Python server (pal-mcp-server, formerly zen-mcp-server) with the same
arguments, over stdio with the official Python MCP SDK, both against one fake
OpenAI-compatible provider on 127.0.0.1 (no key, no network).

For each of the 18 tools of tests/compat/zen-mcp-server-9.4.1-arguments.json, on each server:
  1. a call with every argument (step 1 of a workflow),
  2. the final step with every argument (workflow tools),
  3. a call with only the required arguments,
and the tools/list schema of each server compared with the interface file. clink runs each
server's own built-in `claude` client, which finds a fake `claude` first on PATH. Then, with
--consensus-runs N, consensus of three models: zen's one call, zen's step shape and the Python
server's step shape, alternated, wall time until all three answers are in hand.

    python3 benches/dropin_harness.py --zen target/release/zen \
        --pal /tmp/pal-venv/bin/pal-mcp-server --latency-ms 200 --consensus-runs 7

Run it with a Python that has `mcp` installed (the SDK client); the Python server runs from its
own venv. Without --pal only zen is driven.
"""
import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parent.parent
INTERFACE = ROOT / "tests/compat/zen-mcp-server-9.4.1-arguments.json"
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42m"
         "NkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
MODEL = "gpt-5"
# The `claude` both servers' built-in clink client runs: it reads the prompt on stdin and answers
# in Claude Code's `--output-format json` shape, which both servers parse.
FAKE_CLAUDE = """#!/bin/sh
cat > /dev/null
printf '%s' '{"type": "result", "subtype": "success", "is_error": false, "result": "the fake claude read the prompt", "session_id": "harness", "modelUsage": {"fake-claude": {}}}'
"""


class FakeProvider:
    """OpenAI-compatible chat completions: waits `latency` then answers; counts requests."""

    def __init__(self, latency):
        self.latency = latency
        self.requests = 0
        self.inside = 0
        self.peak = 0
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # /v1/models, for servers that list them
                self.reply({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with provider.lock:
                    provider.requests += 1
                    provider.inside += 1
                    provider.peak = max(provider.peak, provider.inside)
                time.sleep(provider.latency)
                with provider.lock:
                    provider.inside -= 1
                self.reply({
                    "id": "fake", "object": "chat.completion", "created": 0,
                    "model": body.get("model", MODEL),
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {
                        "role": "assistant", "content": "A fake provider's answer."}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                })

            def reply(self, value):
                data = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def value_for(name, schema, place, thread):
    """The same generator as tests/it/compat_python.rs, with the model both servers know."""
    by_name = {
        "continuation_id": thread,
        "model": MODEL,
        # By path: clink hands images to its CLI by path (zen refuses a data: URL there).
        "images": [place["image"]],
        "working_directory_absolute_path": place["dir"],
        "path": place["dir"],
        "models": [{"model": MODEL, "stance": "for", "stance_prompt": "Argue for it, honestly."},
                   {"model": MODEL, "stance": "against"}],
        "issues_found": [{"severity": "high", "description": "harness issue"}],
        "model_responses": [{"model": MODEL, "verdict": "earlier view"}],
        "cli_name": "claude",
    }
    for paths in ("absolute_file_paths", "relevant_files", "files_checked", "style_guide_examples"):
        by_name[paths] = [place["file"]]
    if name in by_name:
        return by_name[name]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema["type"]
    return {
        "string": f"harness check of {name}",
        "integer": schema.get("minimum", 1),
        "number": 0.5,
        "boolean": True,
        "array": [f"harness item of {name}"],
    }[kind]


def summarize(result):
    """ok/error, the structured status (or the JSON status in the text), the first words."""
    text = "".join(getattr(c, "text", "") for c in result.content)
    status = (result.structured_content or {}).get("status")
    if status is None:
        try:
            status = json.loads(text).get("status")
        except (ValueError, AttributeError):
            status = None
    return {"ok": not result.is_error, "status": status, "text": text[:160].replace("\n", " ")}


@asynccontextmanager
async def server(command, env):
    # The Python server takes working directories only inside its workspace root (its cwd).
    params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=env["HOME"])
    async with stdio_client(params, errlog=open(os.devnull, "w")) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def call(session, tool, args):
    started = time.perf_counter()
    try:
        result = await session.call_tool(tool, args)
        out = summarize(result)
    except Exception as e:  # an unknown tool is a JSON-RPC error; the SDK raises
        out = {"ok": False, "status": None, "text": f"{type(e).__name__}: {e}"[:160]}
    out["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return out


async def new_thread(session, place):
    result = await session.call_tool("chat", {
        "prompt": "start a thread", "working_directory_absolute_path": place["dir"], "model": MODEL})
    structured = result.structured_content or {}
    if structured.get("continuation_offer"):
        return structured["continuation_offer"]["continuation_id"]
    text = "".join(getattr(c, "text", "") for c in result.content)
    try:
        return json.loads(text)["continuation_offer"]["continuation_id"]
    except (ValueError, KeyError, TypeError):
        return "00000000-0000-0000-0000-000000000000"


def continuation_of(result_text, fallback):
    """The thread a workflow's step 1 started (structured or in the JSON text)."""
    for source in (result_text,):
        try:
            value = json.loads(source)
        except (ValueError, TypeError):
            continue
        for key in ("continuation_id",):
            if value.get(key):
                return value[key]
        offer = value.get("continuation_offer") or {}
        if offer.get("continuation_id"):
            return offer["continuation_id"]
    return fallback


async def drive(session, interface, place):
    listed = {t.name: t for t in (await session.list_tools()).tools}
    report = {}
    for tool, spec in sorted(interface.items()):
        props, required = spec["properties"], spec["required"]
        row = {"listed": tool in listed}
        if tool in listed:
            schema = listed[tool].input_schema.get("properties", {})
            row["missing_args"] = sorted(set(props) - set(schema))
            extra_required = set(listed[tool].input_schema.get("required", [])) - set(required)
            row["extra_required"] = sorted(extra_required)
        thread = await new_thread(session, place)
        every = {n: value_for(n, s, place, thread) for n, s in props.items()}
        if "next_step_required" in every:
            every["next_step_required"] = True
        result = await session.call_tool(tool, every) if tool in listed else None
        row["every"] = summarize(result) if result else {"ok": False, "status": None, "text": "not listed"}
        if "step_number" in props and result is not None:
            text = "".join(getattr(c, "text", "") for c in result.content)
            started = (result.structured_content or {}).get("continuation_id") or continuation_of(text, thread)
            last = {n: value_for(n, s, place, started) for n, s in props.items()}
            last.update(step_number=2, next_step_required=False)
            row["final"] = await call(session, tool, last)
        only = {n: value_for(n, props[n], place, thread) for n in required}
        row["required"] = await call(session, tool, only)
        report[tool] = row
    return report


async def consensus_timings(zen_cmd, pal_cmd, env_of, runs):
    """Wall time to all three answers: zen one call, zen steps, the Python server's steps."""
    models = [{"model": MODEL, "stance": s} for s in ("for", "against", "neutral")]
    one_call = {"prompt": "Should we cache provider replies?", "models": models}

    async def steps(session):
        first = await session.call_tool("consensus", {
            "step": "Should we cache provider replies?", "step_number": 1, "total_steps": 3,
            "next_step_required": True, "findings": "my own view", "models": models})
        text = "".join(getattr(c, "text", "") for c in first.content)
        thread = (first.structured_content or {}).get("continuation_id") or continuation_of(text, None)
        for n in (2, 3):
            await session.call_tool("consensus", {
                "step": f"notes on answer {n - 1}", "step_number": n, "total_steps": 3,
                "next_step_required": n < 3, "findings": "noted", "continuation_id": thread})

    shapes = [("zen one call", zen_cmd, lambda s: s.call_tool("consensus", one_call)),
              ("zen steps", zen_cmd, steps)]
    if pal_cmd:
        shapes.append(("python steps", pal_cmd, steps))
    times = {name: [] for name, _, _ in shapes}
    sessions = {}
    async with server(zen_cmd, env_of("zen")) as zen, \
            (server(pal_cmd, env_of("pal")) if pal_cmd else _none()) as pal:
        sessions = {"zen one call": zen, "zen steps": zen, "python steps": pal}
        for name, _, run in shapes:  # warm each path once
            await run(sessions[name])
        for _ in range(runs):
            for name, _, run in shapes:  # alternated
                started = time.perf_counter()
                await run(sessions[name])
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"median_ms": round(statistics.median(v), 1), "runs_ms": [round(x) for x in v]}
            for name, v in times.items()}


@asynccontextmanager
async def _none():
    yield None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zen", required=True, help="the zen binary")
    ap.add_argument("--pal", help="the Python server's command (pal-mcp-server)")
    ap.add_argument("--latency-ms", type=float, default=200)
    ap.add_argument("--consensus-runs", type=int, default=0)
    ap.add_argument("--out", help="write the whole report as JSON here")
    args = ap.parse_args()
    provider = FakeProvider(args.latency_ms / 1000)
    interface = json.loads(INTERFACE.read_text())
    work = tempfile.mkdtemp(prefix="dropin-")
    file = Path(work, "harness.py")
    file.write_text("def harness():\n    return 1\n")
    image = Path(work, "pixel.png")
    image.write_bytes(base64.b64decode(PIXEL))
    bin_dir = Path(work, "bin")
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(FAKE_CLAUDE)
    claude.chmod(0o755)
    place = {"dir": work, "file": str(file), "image": str(image)}
    models_file = Path(work, "custom_models.json")
    models_file.write_text(json.dumps({"models": [{
        "model_name": MODEL, "aliases": [], "context_window": 400000, "max_output_tokens": 128000,
        "supports_extended_thinking": False, "supports_json_mode": True,
        "supports_function_calling": False, "supports_images": True, "max_image_size_mb": 20.0,
        "supports_temperature": True, "description": "the harness's fake model"}]}))
    path = f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    base = {"PATH": path, "HOME": work, "LOG_LEVEL": "ERROR",
            "DEFAULT_MODEL": MODEL}

    def env_of(which):
        if which == "zen":  # zen's OpenAI provider at the fake URL serves gpt-5 (vision, reasoning)
            return {**base, "OPENAI_API_KEY": "sk-harness", "OPENAI_BASE_URL": provider.url}
        return {**base, "CUSTOM_API_URL": provider.url, "CUSTOM_API_KEY": "",
                "CUSTOM_MODELS_CONFIG_PATH": str(models_file)}

    zen_cmd = [str(Path(args.zen).resolve()), "serve"]
    pal_cmd = [args.pal] if args.pal else None

    async def run():
        report = {}
        async with server(zen_cmd, env_of("zen")) as s:
            report["zen"] = await drive(s, interface, place)
        if pal_cmd:
            async with server(pal_cmd, env_of("pal")) as s:
                report["python"] = await drive(s, interface, place)
        if args.consensus_runs:
            report["consensus"] = await consensus_timings(zen_cmd, pal_cmd, env_of, args.consensus_runs)
        return report

    report = asyncio.run(run())
    servers = [s for s in ("zen", "python") if s in report]
    print(f"{'tool':<11} " + " ".join(f"{s + ' ' + c:<30}" for s in servers for c in ("every/final/required",)))
    for tool in sorted(interface):
        cells = []
        for s in servers:
            row = report[s][tool]
            marks = [("ok" if row[k]["ok"] else "ERR") for k in ("every", "final", "required") if k in row]
            cells.append(f"{'/'.join(marks):<30}")
        print(f"{tool:<11} " + " ".join(cells))
    for s in servers:
        for tool, row in sorted(report[s].items()):
            for k in ("every", "final", "required"):
                if k in row and not row[k]["ok"]:
                    print(f"  {s} {tool} {k}: {row[k]['text']}")
            if row.get("missing_args"):
                print(f"  {s} {tool}: lacks {row['missing_args']}")
    if "consensus" in report:
        print("consensus of 3 models, wall time to all answers (median ms):")
        for name, v in report["consensus"].items():
            print(f"  {name:<14} {v['median_ms']:>8}  runs {v['runs_ms']}")
    print(f"provider requests {provider.requests}, peak at once {provider.peak}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
