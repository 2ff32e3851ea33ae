#!/usr/bin/env python3
"""Live diagnostics figures (issue 16, item 3), through the real binary:

- cycle end -> editor told: the time from a watch-mode tool printing its
  end-of-cycle line (tsc's "Found 1 error. Watching for file changes.")
  to `task/diagnosticsChanged` arriving at an `errand serve` client, with
  the cycle's error in it, CYCLES times (default 20). The tool is a shell
  loop that prints one cycle per line written to a FIFO, so the clock
  starts at the write, not at a compiler's own speed;
- the real `tsc --watch` (plugin/vscode's npm packages): save -> the
  error in a notification, SAVES times (default 5), tsc's compile included;
- the capture cost of looking for cycle ends, on OUTPUT_MB (default 100)
  of output whose every line holds a tool's word ("compiled"), and on
  `seq`, against the same with matching off (`--matcher none`).

    python3 bench/cycle.py            # ERRAND_BIN, CYCLES, SAVES, OUTPUT_MB
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ERRAND_BIN", os.path.join(ROOT, "target", "release", "errand"))
CYCLES = int(os.environ.get("CYCLES", "20"))
SAVES = int(os.environ.get("SAVES", "5"))
OUTPUT_MB = int(os.environ.get("OUTPUT_MB", "100"))
TSC = os.path.join(ROOT, "plugin", "vscode", "node_modules", "typescript", "bin", "tsc")


def summary(ms):
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"median {statistics.median(ms):.0f} ms, p99 {p99:.0f}, max {ms[-1]:.0f} (n={len(ms)})"


def diagnostics_of(server, task_id, want):
    m = server.until(
        lambda m: m.get("method") == "task/diagnosticsChanged"
        and m["params"]["task"]["id"] == task_id
        and len(m["params"]["diagnostics"]) == want
    )
    return m["params"]


def fifo_cycles(home, work):
    server = Server(BIN, home)
    server.call("initialize", {"clientName": "bench", "protocolVersion": 2})
    fifo = os.path.join(work, "cycles")
    os.mkfifo(fifo)
    with open(os.path.join(work, "a.ts"), "w") as f:
        f.write("export const a: string = 1;\n")
    tool = (
        f"exec 3<> {fifo}; while read -r n <&3; do "
        "echo \"a.ts(1,14): error TS2322: Type 'number' is not assignable to type 'string'.\"; "
        'echo "[10:00:00 AM] Found 1 error. Watching for file changes."; done'
    )
    task = server.call("task/run", {"command": tool, "cwd": work, "name": "fifo watch"})["result"]
    took = []
    with open(fifo, "w") as w:
        for k in range(CYCLES):
            t0 = time.monotonic()
            w.write(f"{k}\n")
            w.flush()
            diagnostics_of(server, task["id"], 1)
            took.append((time.monotonic() - t0) * 1000)
            time.sleep(0.25)  # cycles are edits apart, not a flood (recorded at most every 200 ms)
    server.call("task/cancel", {"id": task["id"]})
    server.p.kill()
    return took


def tsc_saves(home, work):
    if not os.path.exists(TSC):
        return None
    server = Server(BIN, home)
    server.call("initialize", {"clientName": "bench", "protocolVersion": 2})
    os.makedirs(os.path.join(work, "src"))
    with open(os.path.join(work, "tsconfig.json"), "w") as f:
        json.dump({"compilerOptions": {"strict": True, "noEmit": True}, "include": ["src"]}, f)
    src = os.path.join(work, "src", "a.ts")
    with open(src, "w") as f:
        f.write('export const a: string = "x";\n')
    task = server.call("task/run", {"argv": ["node", TSC, "--watch", "-p", "."], "cwd": work, "name": "tsc"})["result"]
    diagnostics_of(server, task["id"], 0)
    took = []
    for k in range(SAVES):
        t0 = time.monotonic()
        with open(src, "w") as f:
            f.write(f"export const a: string = {k};\n")
        diagnostics_of(server, task["id"], 1)
        took.append((time.monotonic() - t0) * 1000)
        with open(src, "w") as f:
            f.write('export const a: string = "x";\n')
        diagnostics_of(server, task["id"], 0)
    server.call("task/cancel", {"id": task["id"]})
    server.p.kill()
    return took


def capture_cost(home):
    env = dict(os.environ, ERRAND_HOME=home)
    rows = []
    for label, cmd in [
        (f"{OUTPUT_MB} MB, every line 'compiled'", f"yes 'compiled x' | head -c {OUTPUT_MB * 1000000}"),
        ("seq 1 30000000 (259 MB)", "seq 1 30000000"),
    ]:
        for matcher in (["--matcher", "none"], []):
            best = None
            for _ in range(3):
                out = subprocess.run([BIN, "run", "--json", *matcher, cmd], capture_output=True, text=True, env=env)
                task_id = json.loads(out.stdout)["id"]
                subprocess.run([BIN, "wait", task_id], capture_output=True, env=env)
                t = json.loads(subprocess.run([BIN, "show", "--json", task_id], capture_output=True, text=True, env=env).stdout)
                ms = t["endedAt"] - t["startedAt"]
                best = ms if best is None else min(best, ms)
            rows.append((label, "matching off" if matcher else "cycle ends looked for", best))
    return rows


def main():
    base = tempfile.mkdtemp(prefix="errand-cycle-")
    try:
        for name in ("h1", "w1", "h2", "w2", "h3"):
            os.makedirs(os.path.join(base, name))
        took = fifo_cycles(os.path.join(base, "h1"), os.path.join(base, "w1"))
        print(f"cycle end -> task/diagnosticsChanged: {summary(took)}")
        took = tsc_saves(os.path.join(base, "h2"), os.path.join(base, "w2"))
        if took is None:
            print("tsc --watch: skipped (npm ci in plugin/vscode first)")
        else:
            print(f"tsc --watch, save -> the error in task/diagnosticsChanged: {summary(took)}")
        for label, how, ms in capture_cost(os.path.join(base, "h3")):
            print(f"capture of {label}, {how}: {ms} ms (best of 3)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
