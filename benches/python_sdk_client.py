#!/usr/bin/env python3
"""Interop check with an independent MCP client: the official Python SDK (pip install mcp).

Usage: python3 benches/python_sdk_client.py target/release/zen            # stdio
       python3 benches/python_sdk_client.py http://127.0.0.1:8931/mcp      # streamable HTTP
Lists tools, chats, continues the conversation, and calls listmodels, version and metrics.
"""
import asyncio, sys

from mcp import Client, StdioServerParameters


async def exercise(session):
    tools = await session.list_tools()
    names = sorted(t.name for t in tools.tools)
    print("tools:", names)
    assert {"chat", "consensus", "codereview", "listmodels", "metrics", "threads", "version"} <= set(names), names
    first = await session.call_tool("chat", {"prompt": "hello from the python sdk"})
    assert not first.is_error, first
    thread = first.structured_content["continuation_id"]
    second = await session.call_tool("chat", {"prompt": "and again", "continuation_id": thread})
    assert not second.is_error and "Read 4 messages" in second.content[0].text, second
    bad = await session.call_tool("chat", {"prompt": 7})
    assert bad.is_error and "prompt" in bad.content[0].text, bad
    for tool in ["listmodels", "version"]:
        r = await session.call_tool(tool, {})
        assert not r.is_error, r
        # A few lines for people; the figures, as data, in structured content.
        assert r.content[0].text and r.structured_content["status"] == "success", r
    # metrics: a summary in text, the figures in structured content.
    metrics = await session.call_tool("metrics", {"detail": True})
    assert not metrics.is_error and "calls" in metrics.content[0].text, metrics
    print("chat calls seen by zen:", metrics.structured_content["tools"]["chat"]["total_operations"])
    print("OK: the Python SDK client talks to zen")


async def main(target):
    server = target if target.startswith("http") else StdioServerParameters(command=target, args=["serve"])
    async with Client(server) as session:
        await exercise(session)


asyncio.run(main(sys.argv[1]))
