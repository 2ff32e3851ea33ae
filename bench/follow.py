#!/usr/bin/env python3
"""Following a fast writer (issue 14): `errand serve` follows a task that
writes SIZE MiB to stdout as fast as it can; prints serve's peak and final
RSS, its CPU time per GiB, the output bytes received, and how long after
the task's recorded end `task/finished` arrived. Not a test.

Usage: [FOLLOW=0] follow.py ERRAND_BINARY [MiB=1024]
"""
import json, os, subprocess, sys, tempfile, threading, time

ERRAND = sys.argv[1]
MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 1024


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def main():
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ERRAND_HOME=home)
        p = subprocess.Popen([ERRAND, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        f = p.stdout

        def send(i, method, params):
            body = json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}).encode()
            p.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

        buf = bytearray()

        def read():
            nonlocal buf
            while True:
                k = buf.find(b"\r\n\r\n")
                if k >= 0:
                    n = int(bytes(buf[:k]).split(b":")[1])
                    if len(buf) >= k + 4 + n:
                        body = bytes(buf[k + 4 : k + 4 + n])
                        del buf[: k + 4 + n]
                        return json.loads(body)
                chunk = os.read(f.fileno(), 1 << 20)
                if not chunk:
                    raise SystemExit("serve closed stdout")
                buf += chunk

        send(1, "initialize", {})
        while read().get("id") != 1:
            pass
        cpu0 = cpu_s(p.pid)
        cmd = f"head -c {MIB}M /dev/zero | tr '\\0' 'a'"
        send(2, "task/run", {"command": cmd, "clientCwd": home})
        tid = None
        backlog = []
        while tid is None:
            m = read()
            if m.get("id") == 2:
                tid = m["result"]["id"]
            else:
                backlog.append(m)
        # FOLLOW=0: the same run unfollowed, for the finish's own lateness.
        if os.environ.get("FOLLOW", "1") != "0":
            send(3, "task/follow", {"id": tid})
        peak = 0
        stop = threading.Event()

        def sample():
            nonlocal peak
            while not stop.is_set():
                try:
                    peak = max(peak, rss_kb(p.pid, "VmRSS:"))
                except OSError:
                    return
                time.sleep(0.02)

        threading.Thread(target=sample, daemon=True).start()
        received = 0
        while True:
            m = read()
            meth = m.get("method")
            if meth == "task/outputAppended" and m["params"]["id"] == tid:
                received += len(m["params"]["data"])
            elif meth == "task/finished" and m["params"]["task"]["id"] == tid:
                late_ms = time.time() * 1000 - m["params"]["task"]["endedAt"]
                break
        stop.set()
        cpu = cpu_s(p.pid) - cpu0
        time.sleep(1)
        after = rss_kb(p.pid, "VmRSS:")
        hwm = rss_kb(p.pid, "VmHWM:")
        p.stdin.close()
        p.wait()
        gib = MIB / 1024
        print(
            f"follow {MIB} MiB: serve RSS peak {max(peak, hwm) / 1024:.1f} MB, after {after / 1024:.1f} MB; "
            f"CPU {cpu / gib:.2f} s/GiB; received {received / 2**20:.0f} MiB before task/finished; "
            f"task/finished {late_ms:.1f} ms after the recorded end"
        )


main()
