"""A minimal client of `errand serve` for the benchmarks: Content-Length
framing, requests by id, notifications read in order."""
import json, os, subprocess


class Server:
    def __init__(self, errand, home):
        env = dict(os.environ, ERRAND_HOME=home)
        self.p = subprocess.Popen([errand, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        self.next_id = 1
        self.buf = b""
        # Messages `until` passed over, read first by the next `read`.
        self.backlog = []

    def send(self, method, params=None):
        i = self.next_id
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params or {}}).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return i

    def read(self):
        return self.backlog.pop(0) if self.backlog else self.next_message()

    def next_message(self):
        while b"\r\n\r\n" not in self.buf:
            self.buf += os.read(self.p.stdout.fileno(), 1 << 20)
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        n = int(head.split(b":")[1])
        while len(rest) < n:
            rest += os.read(self.p.stdout.fileno(), 1 << 20)
        self.buf = rest[n:]
        return json.loads(rest[:n])

    def until(self, pred):
        """The first message matching `pred`; the others are kept for later
        (a notification may come before the answer it follows)."""
        for k, m in enumerate(self.backlog):
            if pred(m):
                return self.backlog.pop(k)
        while True:
            m = self.next_message()
            if pred(m):
                return m
            self.backlog.append(m)

    def call(self, method, params=None):
        """The answer to a request; messages before it are dropped."""
        i = self.send(method, params)
        while True:
            m = self.read()
            if m.get("id") == i:
                return m

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)
