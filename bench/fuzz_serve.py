#!/usr/bin/env python3
"""Fuzz `errand serve` (not run in CI; python3 stdlib only).

    python3 bench/fuzz_serve.py [--bin target/release/errand] [--frames 1000000] [--seed N]

Sends N frames in sessions that alternate the two framings (Content-Length
headers; newline-delimited JSON: the first message decides): mutated valid
requests of every method in schema/errand.openrpc.json, junk bytes, bad and
short Content-Length headers, deep nesting, huge batches, odd ids (negative,
fractional, huge, strings). Every reply must be JSON-RPC 2.0: "jsonrpc":
"2.0", an id equal to one sent (as written) or null, exactly one of result
and error. Counts crashes (the server ending on its own or by a signal; it is
restarted and the run goes on), invalid replies, frames/s, and the server's
peak RSS (VmHWM). Requests with side effects are kept harmless: task/run only
ever runs `true`, and `shutdown` ends a session (a new server follows).
The server runs in its own temporary ERRAND_HOME.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "schema", "errand.openrpc.json")
FRAMES_PER_SESSION = 20000


class Num:
    """A JSON number kept as written (ids are compared exactly)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


def id_key(value):
    if isinstance(value, Num):
        return ("n", value.text)
    if isinstance(value, str):
        return ("s", value)
    return None


def parse_keep_numbers(data):
    return json.loads(data, parse_int=Num, parse_float=Num, parse_constant=Num)


# ---------------------------------------------------------------- generators


class Gen:
    def __init__(self, rng, schema, tmp):
        self.rng = rng
        self.tmp = tmp
        self.methods = {m["name"]: m["params"] for m in schema["methods"]}
        self.components = schema.get("components", {}).get("schemas", {})
        self.known_ids = ["zzzz", "0000"]
        self.counter = 0

    # ids: raw JSON text and its key
    def odd_id(self):
        r = self.rng
        self.counter += 1
        n = self.counter
        choice = r.randrange(12)
        if choice == 0:
            text = str(-n)
        elif choice == 1:
            text = f"{n}.{r.randrange(1, 1000)}"
        elif choice == 2:
            text = str(2**70 + n)
        elif choice == 3:
            text = f"-{n}.5e-3"
        elif choice == 4:
            text = f"{n}e2"
        elif choice == 5:
            text = json.dumps(f"id-{n}-\u00e9\u2603\U0001f600")
        elif choice == 6:
            text = json.dumps(f"x{n}" + "\n\t\"\\\u0000")
        elif choice == 7:
            text = json.dumps(str(n))
        elif choice == 8:
            text = "1" + "0" * r.randrange(20, 60) + str(n)
        else:
            text = str(n)
        return text

    def value(self, depth=0):
        r = self.rng
        c = r.randrange(10 if depth < 3 else 7)
        if c == 0:
            return None
        if c == 1:
            return r.choice([True, False])
        if c == 2:
            return r.choice([0, -1, 1, 2**31, 2**32, 2**63, 2**64 + 1, -(2**63) - 1, 10**30])
        if c == 3:
            return r.choice([0.5, -1.5, 1e300, 3.0])
        if c == 4:
            return r.choice(["", "a", "x" * r.randrange(1, 200), "\u0000\u001b[31m", "\ud7ff\uffff", "ß" * 10])
        if c == 5:
            return "".join(chr(r.randrange(1, 0x2FF)) for _ in range(r.randrange(0, 30)))
        if c == 6:
            return self.rng.choice(self.known_ids)
        if c == 7:
            return [self.value(depth + 1) for _ in range(r.randrange(0, 4))]
        return {self.rng.choice(["id", "x", "command", "stream", "limit", "a"]): self.value(depth + 1) for _ in range(r.randrange(0, 3))}

    def from_schema(self, name, schema):
        r = self.rng
        if name in ("id",):
            return r.choice(self.known_ids) if r.random() < 0.7 else r.choice(["", "z", "ZZZZ", "00"])
        if "$ref" in schema:
            target = self.components.get(schema["$ref"].split("/")[-1], {})
            return self.from_schema(name, target)
        if "enum" in schema:
            return r.choice(schema["enum"])
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.from_schema(name, r.choice(schema[key]))
        if "const" in schema:
            return schema["const"]
        types = schema.get("type", "string")
        if isinstance(types, list):
            types = r.choice(types)
        if types == "null":
            return None
        if types == "string":
            if name in ("clientCwd", "cwd"):
                return r.choice([self.tmp, self.tmp + "/nope", "relative/dir"])
            return r.choice(["", "abc", "running", "both", "x" * 50])
        if types == "integer":
            return r.choice([0, 1, 5, 100, 10000, 2**32 - 1])
        if types == "boolean":
            return r.choice([True, False])
        if types == "array":
            return [self.from_schema(name + "[]", schema.get("items", {})) for _ in range(r.randrange(0, 3))]
        if types == "object":
            return {f"K{i}": "v" for i in range(r.randrange(0, 3))}
        return None

    def valid_params(self, method):
        params = {}
        for p in self.methods.get(method, []):
            if p.get("required") or self.rng.random() < 0.5:
                params[p["name"]] = self.from_schema(p["name"], p["schema"])
        if method == "task/run":
            params.pop("argv", None)
            params.pop("workflow", None)
            params["command"] = "true"
        return params

    def mutate(self, msg):
        r = self.rng
        for _ in range(r.randrange(1, 4)):
            c = r.randrange(12)
            if c == 0:
                msg.pop(r.choice(["jsonrpc", "id", "method", "params"]), None)
            elif c == 1:
                msg["jsonrpc"] = r.choice(["1.0", 2, None, "2.0 ", ""])
            elif c == 2:
                msg["method"] = r.choice(["task/nope", "Task/List", "task/list ", "", 7, None, ["task/list"], "rpc.discover"])
            elif c == 3:
                msg["params"] = r.choice([None, [], [None], "params", 42, True, [msg.get("params") or {}], [{}, {}]])
            elif c == 4 and isinstance(msg.get("params"), dict):
                msg["params"][r.choice(["id", "limit", "stream", "tailLines", "offset", "text", "eof", "status", "ids", "all", "from", "unknownField", "processId", "capabilities"])] = self.value()
            elif c == 5 and isinstance(msg.get("params"), dict) and msg["params"]:
                msg["params"].pop(r.choice(list(msg["params"])))
            elif c == 6:
                msg["extra"] = self.value()
            elif c == 7 and isinstance(msg.get("params"), dict):
                msg["params"]["text"] = "y" * r.randrange(0, 200000)
            elif c == 8:
                msg["id"] = self.value()
            else:
                pass
        return msg


def safe(msg):
    """task/run only ever runs `true`; nothing but the dedicated frames shuts down."""
    if not isinstance(msg, dict):
        return msg
    if msg.get("method") == "shutdown":
        msg["method"] = "task/counts"
    if msg.get("method") == "task/run":
        ps = msg.get("params")
        objs = [ps] if isinstance(ps, dict) else [p for p in ps if isinstance(p, dict)] if isinstance(ps, list) else []
        for p in objs:
            if isinstance(p.get("command"), str):
                p["command"] = "true"
            if isinstance(p.get("argv"), list):
                p["argv"] = ["true" if isinstance(a, str) else a for a in p["argv"]]
            if isinstance(p.get("workflow"), str):
                p["workflow"] = "no-such-workflow"
            if isinstance(p.get("cwd"), str):
                p["cwd"] = "/nonexistent-fuzz"
            for k in ("clientCwd",):
                if isinstance(p.get(k), str):
                    p[k] = "/nonexistent-fuzz"
    return msg


def encode(msg, id_text):
    """Serialise with the id spliced in exactly as written."""
    if id_text is None or "id" not in msg:
        return json.dumps(msg, ensure_ascii=False)
    msg = dict(msg)
    msg["id"] = "__ID__"
    return json.dumps(msg, ensure_ascii=False).replace('"__ID__"', id_text, 1)


# ---------------------------------------------------------------- session


class Stats:
    def __init__(self):
        self.frames = 0
        self.replies = 0
        self.notifications = 0
        self.invalid = 0
        self.invalid_examples = []
        self.crashes = 0
        self.crash_examples = []
        self.sessions = 0
        self.shutdowns = 0
        self.peak_kib = 0
        self.stderr_bytes = 0
        self.kinds = {}
        self.reasons = {}

    def bad(self, why, data):
        self.invalid += 1
        reason = why.split(" (")[0]
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.invalid_examples) < 10:
            self.invalid_examples.append(f"{why}: {data[:300]!r}")


class Session:
    def __init__(self, args, home, framing, stats):
        self.framing = framing
        self.stats = stats
        self.sent_ids = set()
        self.lock = threading.Lock()
        env = dict(os.environ, ERRAND_HOME=home)
        env.pop("ERRAND_TASK_ID", None)
        self.proc = subprocess.Popen(
            [args.bin, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=home
        )
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        self.err_reader = threading.Thread(target=self.read_stderr, daemon=True)
        self.err_reader.start()
        self.known_ids = None

    def read_stderr(self):
        data = self.proc.stderr.read()
        self.stats.stderr_bytes += len(data)

    def read(self):
        out = self.proc.stdout
        while True:
            if self.framing == "lines":
                body = out.readline()
                if not body:
                    return
                if not body.endswith(b"\n"):
                    self.stats.bad("unterminated line", body)
                    return
            else:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        return
                    if line == b"\r\n":
                        break
                    if not line.endswith(b"\r\n") or b": " not in line:
                        self.stats.bad("bad header", line)
                        return
                    name, value = line[:-2].split(b": ", 1)
                    if name.lower() == b"content-length":
                        try:
                            length = int(value)
                        except ValueError:
                            self.stats.bad("bad Content-Length", line)
                            return
                if length is None:
                    self.stats.bad("no Content-Length", b"")
                    return
                body = out.read(length)
                if len(body) < length:
                    self.stats.bad("short body", body)
                    return
            self.check(body)

    def check(self, body):
        try:
            msg = parse_keep_numbers(body)
        except ValueError:
            self.stats.bad("not JSON", body)
            return
        items = msg if isinstance(msg, list) else [msg]
        if isinstance(msg, list) and not msg:
            self.stats.bad("empty batch answer", body)
        for m in items:
            if not isinstance(m, dict) or m.get("jsonrpc") != "2.0":
                self.stats.bad("not JSON-RPC 2.0", body)
                continue
            if "method" in m and "id" not in m:
                self.stats.notifications += 1
                if not isinstance(m.get("method"), str):
                    self.stats.bad("notification without a method name", body)
                result = m.get("params", {}).get("task", {}).get("id") if isinstance(m.get("params"), dict) else None
                if isinstance(result, str) and self.known_ids is not None and len(self.known_ids) < 50:
                    self.known_ids.append(result)
                continue
            self.stats.replies += 1
            if "id" not in m:
                self.stats.bad("no id", body)
                continue
            if m["id"] is not None:
                with self.lock:
                    ok = id_key(m["id"]) in self.sent_ids
                if not ok:
                    self.stats.bad(f"id never sent ({id_key(m['id'])})", body)
            has_result, has_error = "result" in m, "error" in m
            if has_result == has_error:
                self.stats.bad("not exactly one of result and error", body)
            elif has_error:
                e = m["error"]
                if not isinstance(e, dict) or not isinstance(e.get("code"), Num) or not isinstance(e.get("message"), str):
                    self.stats.bad("bad error object", body)
                else:
                    try:
                        int(e["code"].text)
                    except ValueError:
                        self.stats.bad("error code not an integer", body)

    def remember(self, id_text):
        if id_text is None:
            return
        try:
            key = id_key(parse_keep_numbers(id_text))
        except ValueError:
            return
        if key is not None:
            with self.lock:
                self.sent_ids.add(key)

    def frame(self, body: bytes) -> bytes:
        if self.framing == "lines":
            return body.replace(b"\n", b" ") + b"\n"
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    def write(self, data):
        try:
            self.proc.stdin.write(data)
            return True
        except (BrokenPipeError, OSError):
            return False

    def peak(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.stats.peak_kib = max(self.stats.peak_kib, int(line.split()[1]))
        except OSError:
            pass


def one_frame(gen, s, rng, stats):
    """Build and send one frame (or a piece of junk). Returns "shutdown" after a shutdown."""
    kind = rng.choices(
        ["valid", "mutated", "notification", "junk", "bad_length", "short_length", "deep", "batch", "odd_id", "shutdown"],
        weights=[30, 40, 4, 6, 3, 3, 2, 1, 10, 0.02],
    )[0]
    stats.kinds[kind] = stats.kinds.get(kind, 0) + 1
    methods = [m for m in gen.methods if m != "shutdown"]
    # task/run runs a process: keep it rare.
    method = rng.choice(methods)
    if method == "task/run" and rng.random() < 0.9:
        method = "task/counts"

    def request(mutated):
        id_text = gen.odd_id()
        msg = {"jsonrpc": "2.0", "id": 0, "method": method, "params": gen.valid_params(method)}
        if mutated:
            msg = gen.mutate(msg)
        msg = safe(msg)
        if "id" in msg and msg["id"] == 0:
            s.remember(id_text)
            return encode(msg, id_text)
        text = json.dumps(msg, ensure_ascii=False)
        if "id" in msg:
            s.remember(json.dumps(msg["id"]))
        return text

    if kind in ("valid", "mutated", "odd_id"):
        body = request(kind == "mutated").encode("utf-8", "surrogatepass")
        return s.write(s.frame(body))
    if kind == "notification":
        msg = safe({"jsonrpc": "2.0", "method": method, "params": gen.valid_params(method)})
        return s.write(s.frame(json.dumps(msg).encode()))
    if kind == "junk":
        n = rng.randrange(1, 300)
        junk = bytes(rng.randrange(256) for _ in range(n))
        if s.framing == "lines":
            return s.write(junk.replace(b"\n", b"") + b"\n")
        return s.write(junk)
    if kind == "bad_length":
        body = request(False).encode()
        header = rng.choice(
            [b"Content-Length: abc\r\n\r\n", b"Content-Length: -5\r\n\r\n", b"Content-Type: x\r\n\r\n",
             b"Content-Length: 99999999999999999999999\r\n\r\n", b"Content-Length:\r\n\r\n",
             b"Content-Length: 3\n\n", b"X" * 9000 + b"\r\n\r\n"]
        )
        if s.framing == "lines":
            return s.write(header.replace(b"\n", b" ") + body + b"\n")
        return s.write(header + body)
    if kind == "short_length":
        body = request(False).encode()
        if s.framing == "lines":
            return s.write(body[: rng.randrange(1, len(body))] + b"\n")
        cut = rng.randrange(1, len(body))
        return s.write(b"Content-Length: %d\r\n\r\n" % cut + body)
    if kind == "deep":
        depth = rng.choice([64, 127, 128, 129, 1000, 100000])
        inner = "[" * depth + "]" * depth if rng.random() < 0.5 else '{"a":' * depth + "1" + "}" * depth
        id_text = gen.odd_id()
        s.remember(id_text)
        body = f'{{"jsonrpc":"2.0","id":{id_text},"method":"task/counts","params":{{"x":{inner}}}}}'
        if rng.random() < 0.3:
            body = inner
        return s.write(s.frame(body.encode()))
    if kind == "batch":
        n = rng.choice([0, 1, 10, 1000, 5000])
        parts = []
        for _ in range(n):
            r = rng.random()
            if r < 0.1:
                v = gen.value()
                if isinstance(v, dict) and "id" in v:
                    s.remember(json.dumps(v["id"]))  # an id is an id, even in an invalid request
                parts.append(json.dumps(v))
            elif r < 0.2:
                parts.append(json.dumps(safe({"jsonrpc": "2.0", "method": "task/counts"})))
            else:
                id_text = gen.odd_id()
                s.remember(id_text)
                m = rng.choice(["task/counts", "task/get", "task/list", "workflow/list", "task/nope", "task/output"])
                msg = safe(gen.mutate({"jsonrpc": "2.0", "id": 0, "method": m, "params": gen.valid_params(m)}) if r < 0.4 else {"jsonrpc": "2.0", "id": 0, "method": m, "params": gen.valid_params(m)})
                if msg.get("id") == 0:
                    parts.append(encode(msg, id_text))
                else:
                    if "id" in msg:
                        s.remember(json.dumps(msg["id"]))
                    parts.append(json.dumps(msg))
        return s.write(s.frame(("[" + ",".join(parts) + "]").encode("utf-8", "surrogatepass")))
    # shutdown
    id_text = gen.odd_id()
    s.remember(id_text)
    s.write(s.frame(encode({"jsonrpc": "2.0", "id": 0, "method": "shutdown"}, id_text).encode()))
    return "shutdown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/errand")
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    with open(SCHEMA) as f:
        schema = json.load(f)
    tmp = tempfile.mkdtemp(prefix="errand-fuzz-")
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    gen = Gen(rng, schema, tmp)
    stats = Stats()
    started = time.monotonic()
    framing = "content-length"
    sent = 0
    try:
        while sent < args.frames:
            s = Session(args, home, framing, stats)
            s.known_ids = gen.known_ids
            stats.sessions += 1
            # Tell the server nothing first but a valid initialize, often.
            if rng.random() < 0.8:
                id_text = gen.odd_id()
                s.remember(id_text)
                s.write(s.frame(encode({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}, id_text).encode()))
            ended = None
            budget = min(FRAMES_PER_SESSION, args.frames - sent)
            for i in range(budget):
                r = one_frame(gen, s, rng, stats)
                sent += 1
                stats.frames += 1
                if i % 1000 == 0:
                    s.peak()
                if r == "shutdown":
                    ended = "shutdown"
                    stats.shutdowns += 1
                    break
                if r is False or s.proc.poll() is not None:
                    ended = "crash"
                    break
            s.peak()
            if ended != "crash":
                try:
                    s.proc.stdin.close()
                except OSError:
                    pass
            try:
                code = s.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                code = s.proc.wait()
                stats.crashes += 1
                stats.crash_examples.append(f"session {stats.sessions}: did not exit within 60 s of EOF")
            s.reader.join(timeout=30)
            if code != 0:
                stats.crashes += 1
                if len(stats.crash_examples) < 10:
                    stats.crash_examples.append(f"session {stats.sessions} ({framing}): exit {code} after {stats.frames} frames")
            elif ended == "crash":
                stats.crashes += 1
                stats.crash_examples.append(f"session {stats.sessions} ({framing}): ended on its own (exit 0)")
            framing = "lines" if framing == "content-length" else "content-length"
            elapsed = time.monotonic() - started
            print(
                f"  {stats.frames} frames, {stats.frames / elapsed:.0f}/s, replies {stats.replies}, "
                f"invalid {stats.invalid}, crashes {stats.crashes}, peak RSS {stats.peak_kib / 1024:.1f} MiB",
                file=sys.stderr,
            )
    finally:
        # Whatever tasks the fuzz queued (`true`) are done within moments.
        elapsed = time.monotonic() - started
        subprocess.run([args.bin, "wait", "--all"], env=dict(os.environ, ERRAND_HOME=home), capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"seed {seed}")
    print(f"frames sent        {stats.frames} in {elapsed:.1f} s ({stats.frames / elapsed:.0f} frames/s)")
    print(f"sessions           {stats.sessions} (both framings; {stats.shutdowns} ended by shutdown)")
    print(f"frame kinds        {dict(sorted(stats.kinds.items()))}")
    print(f"replies            {stats.replies}  notifications {stats.notifications}")
    print(f"invalid replies    {stats.invalid} {stats.reasons or ''}")
    for e in stats.invalid_examples:
        print(f"    {e}")
    print(f"crashes            {stats.crashes}")
    for e in stats.crash_examples:
        print(f"    {e}")
    print(f"server stderr      {stats.stderr_bytes} bytes")
    print(f"peak RSS (VmHWM)   {stats.peak_kib / 1024:.1f} MiB")
    sys.exit(1 if stats.crashes or stats.invalid else 0)


if __name__ == "__main__":
    main()
