#!/usr/bin/env python3
"""clink's overhead per call over a fake CLI.

Usage: python3 benches/clink_overhead.py target/release/zen [rounds] [calls]

Writes a fake CLI (a /bin/sh script that reads its prompt and prints one line) and a clink client
file for it in a temp directory, then alternates, `rounds` times:
  - direct: the fake CLI run `calls` times in a row from Python (subprocess, prompt on stdin),
    the median wall time of one run;
  - clink: `zen stress -c 1 -n CALLS --tool clink` (zen spawns its own `zen serve` over stdio),
    the p50 latency of one call, which is the CLI run plus everything zen does around it (pool,
    thread checkout and append in the sqlite store, prompt assembly, environment, process group,
    output parse, reply);
  - version: the same stress run on the `version` tool, zen's per-call cost without clink.
Prints every round and the medians; clink's overhead is clink's p50 minus the direct run.
Standard library only.
"""
import json, os, statistics, subprocess, sys, tempfile, time

FAKE_CLI = "#!/bin/sh\ncat > /dev/null\necho 'the fake CLI answers'\n"


def direct(cli, prompt, calls):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        subprocess.run([cli], input=prompt, stdout=subprocess.PIPE, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def stress(zen, env, tool, args, calls):
    cmd = [zen, "stress", "-c", "1", "-n", str(calls), "--tool", tool, "--json"]
    if args is not None:
        cmd += ["--args", json.dumps(args)]
    for key, value in env.items():
        cmd += ["--env", f"{key}={value}"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
    report = json.loads(out)
    assert report["calls"]["ok"] == calls, (report["calls"], report["errors"])
    return report["latency"]["p50_ms"], report["throughput_per_sec"]


def main():
    zen = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    with tempfile.TemporaryDirectory() as tmp:
        cli = os.path.join(tmp, "fake-cli")
        with open(cli, "w") as f:
            f.write(FAKE_CLI)
        os.chmod(cli, 0o755)
        clients = os.path.join(tmp, "clients")
        os.mkdir(clients)
        with open(os.path.join(clients, "fake.json"), "w") as f:
            json.dump({"name": "fake", "command": cli, "parser": "text"}, f)
        # The same size of prompt the CLI gets from clink (role prompt, guidance, request).
        prompt = b"x" * 1100
        env = {"CLI_CLIENTS_CONFIG_PATH": clients, "ZEN_DATA_DIR": os.path.join(tmp, "data")}
        args = {"prompt": "hi", "cli_name": "fake"}
        rows = []
        for i in range(rounds):
            d = direct(cli, prompt, calls)
            c, c_rate = stress(zen, env, "clink", args, calls)
            v, _ = stress(zen, env, "version", None, calls)
            rows.append((d, c, v))
            print(f"round {i + 1}: direct {d:.3f} ms, clink p50 {c:.3f} ms ({c_rate:.0f} calls/s), "
                  f"version p50 {v:.3f} ms, overhead {c - d:.3f} ms")
        med = [statistics.median(r[k] for r in rows) for k in range(3)]
        print(f"median: direct {med[0]:.3f} ms, clink p50 {med[1]:.3f} ms, version p50 {med[2]:.3f} ms, "
              f"clink overhead {med[1] - med[0]:.3f} ms per call")


if __name__ == "__main__":
    main()
