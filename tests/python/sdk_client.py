#!/usr/bin/env python3
"""An MCP client on the official Python SDK (mcp==2.3.0, .ci/python-requirements.txt), for the
server's interop tests: connect in a mode, list the tools, call each one given, print one JSON line.

usage: sdk_client.py TARGET --mode auto|legacy --calls '{"tool": {arguments}, ...}'
  TARGET  http://host:port/mcp  -> streamable HTTP
          anything else         -> a command line, started as a stdio server (shlex-split)
Prints {"protocol_version", "server", "tools", "calls": {tool: {"is_error", "text"}}}.
Exits 0 when every call answered (a tool's isError is reported, not fatal); 1 on a protocol error.
"""
import argparse
import asyncio
import json
import shlex
import sys

from mcp import Client, StdioServerParameters


def target_of(target: str):
    if target.startswith(("http://", "https://")):
        return target
    argv = shlex.split(target)
    return StdioServerParameters(command=argv[0], args=argv[1:])


async def run(target: str, mode: str, calls: dict) -> int:
    async with Client(target_of(target), mode=mode) as client:
        tools = await client.list_tools()
        results = {}
        for name, arguments in calls.items():
            result = await client.call_tool(name, arguments)
            text = [c.text for c in result.content if getattr(c, "type", None) == "text"]
            results[name] = {"is_error": bool(result.is_error), "text": "\n".join(text)[:400]}
        print(json.dumps({
            "protocol_version": client.protocol_version,
            "server": client.server_info.name if client.server_info else None,
            "tools": sorted(t.name for t in tools.tools),
            "calls": results,
        }))
        return 0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("target")
    p.add_argument("--mode", default="auto")
    p.add_argument("--calls", default="{}")
    a = p.parse_args()
    sys.exit(asyncio.run(run(a.target, a.mode, json.loads(a.calls))))


if __name__ == "__main__":
    main()
