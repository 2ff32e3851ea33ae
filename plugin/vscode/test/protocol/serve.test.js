// (a) vscode-jsonrpc — the client library the extension uses — against the
// real `errand serve`: run, list, cancel, and the pushed task/finished.
const { test } = require("node:test");
const assert = require("node:assert");
const cp = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const rpc = require("vscode-jsonrpc/node");
const { errandBin } = require("../helpers");

function serve() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "errand-proto-"));
  const child = cp.spawn(errandBin(), ["serve"], { env: { ...process.env, ERRAND_HOME: home }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const notes = [];
  const waiters = [];
  conn.onNotification((method, params) => {
    notes.push({ method, params });
    for (const w of [...waiters]) w();
  });
  conn.listen();
  const notification = (method, pred = () => true, ms = 15000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const n = notes.find((x) => x.method === method && pred(x.params));
        if (n) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve(n.params);
        }
      };
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${ms} ms`)), ms);
      waiters.push(check);
      check();
    });
  const close = async () => {
    conn.dispose();
    child.stdin.end();
    await new Promise((r) => child.once("exit", r));
    return stderr;
  };
  return { conn, notification, close, child };
}

test("run, finished notification, list, cancel through vscode-jsonrpc", async () => {
  const s = serve();
  const init = await s.conn.sendRequest("initialize", { client_name: "node-test" });
  assert.strictEqual(init.server, "errand");
  assert.strictEqual(init.protocol_version, 1);

  const t = await s.conn.sendRequest("task/run", { command: "echo hello; exit 2", name: "greet" });
  assert.strictEqual(t.status, "queued");
  const fin = await s.notification("task/finished", (p) => p.task.id === t.id);
  assert.strictEqual(fin.task.status, "failed");
  assert.strictEqual(fin.task.exit_code, 2);
  assert.strictEqual(fin.output_tail, "hello\n");
  await s.notification("counts/changed", (p) => p.failed === 1);

  const long = await s.conn.sendRequest("task/run", { argv: ["sleep", "100"] });
  await s.notification("task/started", (p) => p.task.id === long.id);
  const list = await s.conn.sendRequest("task/list", { status: ["running"] });
  assert.deepStrictEqual(list.tasks.map((x) => x.id), [long.id]);
  const c = await s.conn.sendRequest("task/cancel", { id: long.id });
  assert.strictEqual(c.action, "signalled");
  const end = await s.notification("task/finished", (p) => p.task.id === long.id);
  assert.strictEqual(end.task.status, "cancelled");

  await assert.rejects(s.conn.sendRequest("task/get", { id: "zzzz" }), (e) => e.code === -32001);
  await assert.rejects(s.conn.sendRequest("task/get", { id: 7 }), (e) => e.code === -32602 && /id/.test(e.data));
  assert.strictEqual(await s.close(), "", "stderr stays silent");
});

test("a dead server rejects pending requests once the connection is disposed", async () => {
  const s = serve();
  await s.conn.sendRequest("initialize", {});
  process.kill(s.child.pid, "SIGSTOP");
  const pending = s.conn.sendRequest("task/counts", {});
  process.kill(s.child.pid, "SIGKILL");
  await new Promise((r) => s.child.once("exit", r));
  s.conn.dispose();
  await assert.rejects(pending);
});
