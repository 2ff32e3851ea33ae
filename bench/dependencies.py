#!/usr/bin/env python3
"""Dependency scheduling overhead: a 1000-task chain (each `--after` the one
before), a 1000-wide fan-in (one task `--after` all of them), and the same
1000 tasks with no dependencies. Reports the time from a dependency's end to
its dependent's start (p50, p99, max, from the store's own timestamps) and
the wall time of each shape.

    python3 bench/dependencies.py [path/to/errand] [N]

Each shape runs in a fresh ERRAND_HOME; tasks run `true`.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ERRAND = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/errand")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def errand(home, *args):
    env = dict(os.environ, ERRAND_HOME=home)
    env.pop("ERRAND_TASK_ID", None)
    out = subprocess.run([ERRAND, *args], env=env, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit(f"errand {args[:3]}: {out.stderr}")
    return out.stdout


def tasks(home):
    return {t["id"]: t for t in json.loads(errand(home, "ls", "--json", "--all"))}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def gaps(all_tasks):
    """Start of each dependent minus the end of its last dependency, in ms."""
    out = []
    for t in all_tasks.values():
        if t["dependsOn"]:
            ready = max(all_tasks[d]["endedAt"] for d in t["dependsOn"])
            out.append(t["startedAt"] - ready)
    return out


def shape(name, submit):
    with tempfile.TemporaryDirectory() as home:
        # Hold the queue while submitting: the figures are about scheduling,
        # not about how fast one shell loop submits.
        errand(home, "pause", "--queue")
        submit(home)
        start = time.monotonic()
        errand(home, "resume", "--queue")
        errand(home, "wait", "--all")
        wall = time.monotonic() - start
        all_tasks = tasks(home)
        assert all(t["status"] == "completed" for t in all_tasks.values()), "every task completed"
        g = gaps(all_tasks)
        line = f"{name:<26} {len(all_tasks):>5} tasks  {wall:6.2f} s"
        if g:
            line += f"   dependency end → start: p50 {statistics.median(g):.0f} ms, p99 {pct(g, 99)} ms, max {max(g)} ms"
        print(line, flush=True)


def chain(home):
    previous = errand(home, "run", "true").strip()
    for _ in range(N - 1):
        previous = errand(home, "run", "--after", previous, "true").strip()


def fan_in(home):
    ids = [errand(home, "run", "true").strip() for _ in range(N)]
    errand(home, "run", "--after", ",".join(ids), "true")


def independent(home):
    for _ in range(N):
        errand(home, "run", "true")


print(f"errand {errand(tempfile.gettempdir(), '--version').strip()}, N = {N}, {os.cpu_count()} cores")
shape("no dependencies", independent)
shape(f"chain of {N}", chain)
shape(f"fan-in of {N} into 1", fan_in)
