#!/usr/bin/env python3
"""Watch mode figures (issue 16), through the real binary and real files:

- set-up of a watch on a tree of FILES files (default 100,000, in folders
  of 100), and the holder's memory;
- save -> run started, SAVES times (default 20): the time from a file's
  write to the new run's `startedAt`, debounce included;
- a burst of BURST writes (default 10,000, as a `git checkout` makes):
  how many runs it caused (the aim is one);
- the holder's context switches while nothing changes for IDLE seconds
  (default 60).

    python3 bench/watch.py            # ERRAND_BIN, FILES, SAVES, BURST, IDLE
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ERRAND_BIN", os.path.join(ROOT, "target", "release", "errand"))
FILES = int(os.environ.get("FILES", "100000"))
SAVES = int(os.environ.get("SAVES", "20"))
BURST = int(os.environ.get("BURST", "10000"))
IDLE = float(os.environ.get("IDLE", "60"))


def errand(*args):
    out = subprocess.run([BIN, *args], capture_output=True, text=True, env=ENV)
    if out.returncode != 0:
        sys.exit(f"errand {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def tasks():
    return json.loads(errand("ls", "--json", "--all"))


def holder_pid():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"__watch" in cmd and f"ERRAND_HOME={HOME}".encode() in env:
            return int(pid)
    sys.exit("no watch holder found")


def status_of(pid, *keys):
    found = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in keys:
            found[key] = int(value.split()[0])
    return found


def wait_for(what, cond, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.005)
    sys.exit(f"timed out waiting for {what}")


def now_ms():
    return time.time_ns() // 1_000_000


work = tempfile.mkdtemp(prefix="errand-bench-watch-")
HOME = os.path.join(work, "home")
ENV = {**os.environ, "ERRAND_HOME": HOME}
tree = os.path.join(work, "tree")
watch = None
try:
    for i in range(FILES):
        d = os.path.join(tree, f"d{i // 10000:02}", f"d{i // 100:04}")
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i % 100:02}.txt"), "w") as f:
            f.write("x")
    folders = sum(len(dirs) for _, dirs, _ in os.walk(tree)) + 1

    start = time.perf_counter()
    watch = errand("run", "--watch", tree, "--", "true").strip()
    setup = time.perf_counter() - start
    pid = holder_pid()
    mem = status_of(pid, "VmRSS", "VmHWM")
    wait_for("the first run", lambda: any(t["status"] == "completed" for t in tasks()))

    latencies = []
    target = os.path.join(tree, "d00", "d0005", "f05.txt")
    for i in range(SAVES):
        time.sleep(0.3)
        before = len(tasks())
        saved = now_ms()
        with open(target, "w") as f:
            f.write(f"save {i}")
        new = wait_for("the rerun", lambda: (lambda ts: ts[0] if len(ts) > before and ts[0].get("startedAt") else None)(tasks()))
        latencies.append(new["startedAt"] - saved)
    latencies.sort()

    time.sleep(0.5)
    before = len(tasks())
    burst_start = time.perf_counter()
    names = [os.path.join(dp, f) for dp, _, fs in os.walk(tree) for f in fs][:BURST]
    for name in names:
        with open(name, "w") as f:
            f.write("checkout")
    burst_took = time.perf_counter() - burst_start
    time.sleep(2)
    burst_runs = len(tasks()) - before

    ctx = ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
    a = status_of(pid, *ctx)
    time.sleep(IDLE)
    b = status_of(pid, *ctx)
    wakeups = sum(b[k] - a[k] for k in ctx)
    mem_after = status_of(pid, "VmRSS", "VmHWM")
    errand("cancel", watch)
    watch = None

    print(f"errand watch ({os.path.basename(BIN)}), {FILES} files in {folders} folders")
    print(f"  set-up (errand run --watch returns, watching): {setup * 1000:.0f} ms")
    print(f"  holder RSS: {mem['VmRSS'] / 1024:.1f} MB after set-up, {mem_after['VmHWM'] / 1024:.1f} MB peak")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"  save -> run started (n={len(latencies)}): median {statistics.median(latencies):.0f} ms, "
          f"p99 {p99} ms, max {latencies[-1]} ms (debounce 100 ms)")
    print(f"  burst of {len(names)} writes over {burst_took * 1000:.0f} ms: {burst_runs} run(s)")
    print(f"  idle {IDLE:.0f} s: {wakeups} context switches of the holder")
finally:
    if watch:
        subprocess.run([BIN, "cancel", watch], capture_output=True, env=ENV)
    for t in json.loads(subprocess.run([BIN, "ls", "--json", "--all"], capture_output=True, text=True, env=ENV).stdout or "[]"):
        if t["status"] in ("running", "queued"):
            subprocess.run([BIN, "cancel", t["id"]], capture_output=True, env=ENV)
    shutil.rmtree(work, ignore_errors=True)
