#!/usr/bin/env python3
"""Threads and store connections of `errand serve` under a burst (issue #8).
Not a test: prints figures. Works with any errand since the first protocol
(it only sends task/run and task/list with params both spell alike).

Usage: serve_threads.py ERRAND_BINARY [burst]
A burst of N pipelined task/run, then N task/list; threads and open store
connections are sampled while the answers come, and again 1 s later.
"""
import json, os, subprocess, sys, tempfile, time

ERRAND = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 35


def sample(pid):
    threads = int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("Threads:")).split()[1])
    dbs = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            dbs += os.readlink(f"/proc/{pid}/fd/{fd}").endswith("errand.db")
        except OSError:
            pass  # closed meanwhile
    return threads, dbs


with tempfile.TemporaryDirectory() as home:
    env = dict(os.environ, ERRAND_HOME=home)
    p = subprocess.Popen([ERRAND, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
    frames = []
    for i in range(2 * N):
        method = "task/run" if i < N else "task/list"
        params = {"command": "true"} if i < N else {"limit": 50}
        frames.append(json.dumps({"jsonrpc": "2.0", "id": i + 1, "method": method, "params": params}).encode() + b"\n")
    idle = sample(p.pid)
    p.stdin.write(b"".join(frames))
    answered, peak, buf = 0, idle, b""
    while answered < 2 * N:
        buf += os.read(p.stdout.fileno(), 1 << 20)
        *lines, buf = buf.split(b"\n")
        answered += sum(1 for l in lines if l and b'"id"' in l and b'"method"' not in l)
        now = sample(p.pid)
        peak = (max(peak[0], now[0]), max(peak[1], now[1]))
    time.sleep(1)
    after = sample(p.pid)
    print(f"{ERRAND}: burst of {N} task/run + {N} task/list")
    print(f"  threads: idle {idle[0]}, peak {peak[0]}, 1 s after {after[0]}")
    print(f"  store connections: idle {idle[1]}, peak {peak[1]}, 1 s after {after[1]}")
    print(f"  (a new server's first sample may come before it opened the store)")
    p.stdin.close()
    p.wait(timeout=10)
    subprocess.run([ERRAND, "wait", "--all"], env=env, check=False)
