#!/usr/bin/env python3
"""Cancel latency (issue 14): `task/cancel` sent → `task/finished` read on
`errand serve`'s stdout, for `sleep 30` run through the shell (sh -c, so the
shell and its child both get the signal), and for `exec sleep 30`. Not a
test: prints p50/p99/max in ms.

Usage: cancel.py ERRAND_BINARY [rounds]
"""
import json, os, subprocess, sys, tempfile, time

ERRAND = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 50


class Server:
    def __init__(self, home):
        env = dict(os.environ, ERRAND_HOME=home)
        self.p = subprocess.Popen([ERRAND, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        self.next_id = 1
        self.buf = b""
        self.backlog = []

    def send(self, method, params=None):
        i = self.next_id
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params or {}}).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return i

    def read(self):
        while b"\r\n\r\n" not in self.buf:
            self.buf += os.read(self.p.stdout.fileno(), 1 << 20)
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        n = int(head.split(b":")[1])
        while len(rest) < n:
            rest += os.read(self.p.stdout.fileno(), 1 << 20)
        self.buf = rest[n:]
        return json.loads(rest[:n])

    def until(self, pred):
        # A notification may come before the answer it follows: kept for later.
        for k, m in enumerate(self.backlog):
            if pred(m):
                return self.backlog.pop(k)
        while True:
            m = self.read()
            if pred(m):
                return m
            self.backlog.append(m)

    def call(self, method, params=None):
        i = self.send(method, params)
        return self.until(lambda m: m.get("id") == i)["result"]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    for command in ["sleep 30", "exec sleep 30", "sleep 30; echo after", "sleep 30 | cat"]:
        with tempfile.TemporaryDirectory() as home:
            s = Server(home)
            s.call("initialize", {})
            times = []
            for _ in range(ROUNDS):
                t = s.call("task/run", {"command": command, "clientCwd": home})
                tid = t["id"]
                s.until(lambda m: m.get("method") == "task/started" and m["params"]["task"]["id"] == tid)
                start = time.perf_counter()
                s.send("task/cancel", {"id": tid})
                s.until(lambda m: m.get("method") == "task/finished" and m["params"]["task"]["id"] == tid)
                times.append((time.perf_counter() - start) * 1000)
                s.backlog.clear()
            s.p.stdin.close()
            s.p.wait()
        print(f"{command:<14} cancel → task/finished: p50 {pct(times, 50):.1f} ms  p99 {pct(times, 99):.1f} ms  max {max(times):.1f} ms  (n={len(times)})")


main()
