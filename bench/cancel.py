#!/usr/bin/env python3
"""Cancel latency (issue 14): `task/cancel` sent → `task/finished` read on
`errand serve`'s stdout, for `sleep 30` run through the shell (sh -c, so the
shell and its child both get the signal), and for `exec sleep 30`. Not a
test: prints p50/p99/max in ms.

Usage: cancel.py ERRAND_BINARY [rounds]
"""
import os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import Server  # noqa: E402

ERRAND = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 50


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    for command in ["sleep 30", "exec sleep 30", "sleep 30; echo after", "sleep 30 | cat"]:
        with tempfile.TemporaryDirectory() as home:
            s = Server(ERRAND, home)
            s.call("initialize")
            times = []
            for _ in range(ROUNDS):
                run = s.send("task/run", {"command": command, "clientCwd": home})
                t = s.until(lambda m: m.get("id") == run)["result"]
                tid = t["id"]
                s.until(lambda m: m.get("method") == "task/started" and m["params"]["task"]["id"] == tid)
                start = time.perf_counter()
                s.send("task/cancel", {"id": tid})
                s.until(lambda m: m.get("method") == "task/finished" and m["params"]["task"]["id"] == tid)
                times.append((time.perf_counter() - start) * 1000)
                s.backlog.clear()
            s.close()
        print(f"{command:<14} cancel → task/finished: p50 {pct(times, 50):.1f} ms  p99 {pct(times, 99):.1f} ms  max {max(times):.1f} ms  (n={len(times)})")


main()
