#!/usr/bin/env python3
"""Benchmarks of `errand serve` (issue #3). Not a test: prints figures.

Usage: serve.py ERRAND_BINARY ERRAND_HOME_EMPTY ERRAND_HOME_100K [idle_seconds]
"""
import json, os, subprocess, sys, time, glob

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import Server  # noqa: E402

ERRAND, EMPTY, BIG = sys.argv[1], sys.argv[2], sys.argv[3]
IDLE = int(sys.argv[4]) if len(sys.argv) > 4 else 60


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def ms(x):
    return f"{x * 1000:.2f} ms"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1])


def cpu_and_switches(pid):
    ticks = 0
    switches = 0
    for t in glob.glob(f"/proc/{pid}/task/*"):
        with open(f"{t}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        with open(f"{t}/status") as f:
            for line in f:
                if "ctxt_switches" in line:
                    switches += int(line.split()[1])
    return ticks / os.sysconf("SC_CLK_TCK"), switches


print("== notification latency: task exit -> task/finished on stdout (1000 tasks, one at a time)")
s = Server(ERRAND, EMPTY)
s.call("initialize")
lat = []
for _ in range(1000):
    s.send("task/run", {"command": "date +%s%N"})
    while True:
        m = s.read()
        if m.get("method") == "task/finished":
            got = time.time_ns()
            printed = int(m["params"].get("outputTail", m["params"].get("output_tail")).strip())
            lat.append((got - printed) / 1e9)
            break
s.close()
print(f"p50 {ms(pct(lat, 50))}   p99 {ms(pct(lat, 99))}   max {ms(max(lat))}")
print("(includes the task's own exit after printing its clock; pueue's wait polls every 2 s)")

for label, home in [("empty store", EMPTY), ("100,000 tasks", BIG)]:
    print(f"\n== {label}")
    starts = []
    for _ in range(30):
        t0 = time.perf_counter()
        s = Server(ERRAND, home)
        s.call("initialize")
        starts.append(time.perf_counter() - t0)
        s.close()
    print(f"cold start (spawn -> initialize answered): p50 {ms(pct(starts, 50))}  p99 {ms(pct(starts, 99))}")
    s = Server(ERRAND, home)
    s.call("initialize")
    for method, params in [("task/list", {}), ("task/counts", {})]:
        rt = []
        for _ in range(1000):
            t0 = time.perf_counter()
            r = s.call(method, params)
            rt.append(time.perf_counter() - t0)
            assert "result" in r, r
        print(f"{method:12} round trip: p50 {ms(pct(rt, 50))}  p99 {ms(pct(rt, 99))}")
    print(f"RSS after those requests: {rss_kb(s.p.pid) / 1024:.1f} MB")
    if home == EMPTY:
        time.sleep(12)  # let the runtime's blocking threads park and expire
        cpu0, sw0 = cpu_and_switches(s.p.pid)
        time.sleep(IDLE)
        cpu1, sw1 = cpu_and_switches(s.p.pid)
        print(f"idle {IDLE} s: CPU {cpu1 - cpu0:.3f} s, context switches (wake-ups) {sw1 - sw0}, RSS {rss_kb(s.p.pid) / 1024:.1f} MB")
    s.close()
