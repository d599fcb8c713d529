#!/usr/bin/env python3
"""An MCP server on the official Python SDK (mcp==2.3.0, .ci/python-requirements.txt), for the
load client's interop tests: tools `add`, `echo`, and `ask`, which answers every call with
`resultType: "input_required"` (an elicitation a load test cannot answer).

usage: sdk_server.py [--transport stdio|streamable-http] [--port N] [--stateless]
  stdio            : MCP on stdin/stdout (dual-era: initialize, or 2026-07-28 per-request _meta)
  streamable-http  : http://127.0.0.1:PORT/mcp (dual-era); --stateless: no sessions, JSON replies
"""
import argparse

from mcp.server.mcpserver import MCPServer
from mcp_types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult

mcp = MCPServer("py-sdk-server", version="2.3.0", log_level="WARNING")


@mcp.tool()
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@mcp.tool()
def echo(message: str) -> str:
    """Echo the message back."""
    return message


@mcp.tool()
def ask(question: str) -> InputRequiredResult:
    """Ask the user (2026-07-28 MRTR): always answers input_required."""
    elicit = ElicitRequest(params=ElicitRequestFormParams(
        message=question,
        requested_schema={"type": "object", "properties": {"name": {"type": "string"}}},
    ))
    return InputRequiredResult(input_requests={"user_name": elicit}, request_state="round-1")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--transport", default="stdio", choices=["stdio", "streamable-http"])
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--stateless", action="store_true")
    a = p.parse_args()
    if a.transport == "stdio":
        mcp.run("stdio")
    else:
        mcp.run("streamable-http", host="127.0.0.1", port=a.port,
                stateless_http=a.stateless, json_response=a.stateless)


if __name__ == "__main__":
    main()
