#!/usr/bin/env python3
"""zen stress as the conformance suite's client where one command line is not enough.

Run by `conformance client --command "python3 zen_stress_client.py ZEN"` as `... ZEN URL`. For
`http-custom-headers` the suite names the tool calls to make (with their exact arguments, nulls
included, which a TOML scenario cannot hold) in MCP_CONFORMANCE_CONTEXT: each becomes one
`zen stress --url URL --tool NAME --args JSON -n 1 -c 1`. Any other scenario gets one plain
`zen stress --url URL -n 1 -c 1` calling `ZEN_TOOL` with `ZEN_ARGS` (JSON).
Exits with the first non-zero exit code of zen.
"""
import json
import os
import subprocess
import sys


def main() -> int:
    zen, url = sys.argv[1], sys.argv[-1]
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT", "{}"))
    calls = context.get("toolCalls") or [
        {"name": os.environ.get("ZEN_TOOL", "test_headers"),
         "arguments": json.loads(os.environ.get("ZEN_ARGS", "{}"))}
    ]
    for call in calls:
        cmd = [zen, "stress", "--url", url, "--tool", call["name"],
               "--args", json.dumps(call.get("arguments", {})), "-n", "1", "-c", "1"]
        code = subprocess.call(cmd)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
