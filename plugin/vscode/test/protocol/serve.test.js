// (a) vscode-jsonrpc — the client library the extension uses — against the
// real `errand serve`: run, list, cancel, and the pushed task/finished, in
// the camelCase protocol of src/protocol.ts (generated from the server).
const { test } = require("node:test");
const assert = require("node:assert");
const cp = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const rpc = require("vscode-jsonrpc/node");
const { errandBin } = require("../helpers");
const { PROTOCOL_VERSION, METHODS } = require("../../out/protocol");

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
  // `from`: only notifications after the first `from` count.
  const notification = (method, pred = () => true, ms = 15000, from = 0) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const n = notes.slice(from).find((x) => x.method === method && pred(x.params));
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
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
    return stderr;
  };
  return { conn, notification, close, child, notes };
}

test("run, finished notification, list, cancel through vscode-jsonrpc", async () => {
  const s = serve();
  const init = await s.conn.sendRequest("initialize", { clientName: "node-test", protocolVersion: PROTOCOL_VERSION });
  assert.strictEqual(init.server, "errand");
  assert.strictEqual(init.protocolVersion, PROTOCOL_VERSION, "the server speaks the protocol src/protocol.ts was generated from");
  assert.deepStrictEqual(Object.keys(init.limits).sort(), ["cancelGraceSecs", "maxFrameBytes", "parallel"]);

  const t = await s.conn.sendRequest("task/run", { command: "echo hello; exit 2", name: "greet" });
  assert.strictEqual(t.status, "queued");
  const fin = await s.notification("task/finished", (p) => p.task.id === t.id);
  assert.strictEqual(fin.task.status, "failed");
  assert.strictEqual(fin.task.exitCode, 2);
  assert.strictEqual(typeof fin.task.durationMs, "number");
  assert.strictEqual(fin.outputTail, "hello\n");
  await s.notification("counts/changed", (p) => p.failed === 1);

  const long = await s.conn.sendRequest("task/run", { argv: ["sleep", "100"] });
  await s.notification("task/started", (p) => p.task.id === long.id);
  const list = await s.conn.sendRequest("task/list", { status: ["running"] });
  assert.deepStrictEqual(list.tasks.map((x) => x.id), [long.id]);
  assert.strictEqual(list.nextCursor, null);
  assert.strictEqual(typeof list.tasks[0].startedAt, "number");
  assert.deepStrictEqual(await s.conn.sendRequest("task/unfollow", { id: long.id }), { wasFollowing: false });
  assert.deepStrictEqual(await s.conn.sendRequest("task/sendInput", { id: long.id, text: "x\n" }), { ok: true });
  const c = await s.conn.sendRequest("task/cancel", { id: long.id });
  assert.strictEqual(c.action, "signalled");
  const end = await s.notification("task/finished", (p) => p.task.id === long.id);
  assert.strictEqual(end.task.status, "cancelled");

  await assert.rejects(s.conn.sendRequest("task/get", { id: "zzzz" }), (e) => e.code === -32001);
  await assert.rejects(s.conn.sendRequest("task/get", { id: 7 }), (e) => e.code === -32602 && /id/.test(e.data));
  assert.strictEqual(await s.close(), "", "stderr stays silent");
});

test("clientCwd: a command runs there by default, workflows are found from there, cwd overrides", async () => {
  const s = serve();
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "errand-proto-ws-")));
  fs.mkdirSync(path.join(dir, "sub"));
  fs.writeFileSync(path.join(dir, "errand.toml"), 'hi = "echo hi"\n');
  await s.conn.sendRequest("initialize", { protocolVersion: PROTOCOL_VERSION });
  const wfs = await s.conn.sendRequest("workflow/list", { clientCwd: dir });
  assert.deepStrictEqual(wfs.map((w) => w.name), ["hi"]);
  const a = await s.conn.sendRequest("task/run", { command: "pwd", clientCwd: dir });
  assert.strictEqual(a.cwd, dir);
  const b = await s.conn.sendRequest("task/run", { command: "pwd", clientCwd: dir, cwd: "sub", unknownField: 1 });
  assert.strictEqual(b.cwd, path.join(dir, "sub"), "a relative cwd starts from clientCwd; unknown fields are ignored");
  const w = await s.conn.sendRequest("task/run", { workflow: "hi", clientCwd: dir });
  assert.strictEqual(w.workflow, "hi");
  for (const t of [a, b, w]) await s.notification("task/finished", (p) => p.task.id === t.id);
  assert.strictEqual(await s.close(), "");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("every method the generated METHODS lists is one the server knows", async () => {
  const s = serve();
  for (const m of METHODS) {
    if (m === "shutdown") continue;
    // Bad params are fine: only "method not found" would say the lists differ.
    await s.conn.sendRequest(m, {}).catch((e) => assert.notStrictEqual(e.code, -32601, `${m}: ${e.message}`));
  }
  assert.deepStrictEqual(await s.conn.sendRequest("shutdown", {}), { ok: true });
  await s.close();
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

test("tsc --watch: each compile cycle's messages arrive as task/diagnosticsChanged, an error and its fix", async () => {
  const s = serve();
  await s.conn.sendRequest("initialize", { clientName: "node-test", protocolVersion: PROTOCOL_VERSION });
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "errand-tsc-"));
  fs.mkdirSync(path.join(project, "src"));
  fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true }, include: ["src"] }));
  const file = path.join(project, "src", "a.ts");
  fs.writeFileSync(file, 'export const a: string = "x";\n');
  const tsc = require.resolve("typescript/bin/tsc");
  const t = await s.conn.sendRequest("task/run", { argv: [process.execPath, tsc, "--watch", "-p", "."], cwd: project, name: "tsc watch" });
  const cycles = (pred) => s.notification("task/diagnosticsChanged", (p) => p.task.id === t.id && pred(p), 60000, s.notes.length);

  const clean = await cycles(() => true);
  assert.deepStrictEqual(clean.diagnostics, [], "the first compile is clean");
  assert.strictEqual(clean.task.status, "running");

  fs.writeFileSync(file, "export const a: string = 1;\n");
  const broken = await cycles((p) => p.diagnostics.length > 0);
  assert.deepStrictEqual(
    broken.diagnostics.map((d) => [d.file, d.line, d.column, d.severity, d.code, d.source]),
    [[fs.realpathSync(file), 1, 14, "error", "TS2322", "tsc"]],
  );
  assert.deepStrictEqual(broken.task.diagnostics, { errors: 1, warnings: 0, infos: 0 }, "the task counts this cycle's");
  const asked = await s.conn.sendRequest("task/diagnostics", { id: t.id });
  assert.strictEqual(asked.diagnostics.length, 1, "task/diagnostics answers with the last cycle's");

  fs.writeFileSync(file, 'export const a: string = "y";\n');
  const fixed = await cycles(() => true);
  assert.deepStrictEqual(fixed.diagnostics, [], "the fix clears them");

  await s.conn.sendRequest("task/cancel", { id: t.id });
  const end = await s.notification("task/finished", (p) => p.task.id === t.id);
  assert.deepStrictEqual(end.task.diagnostics, { errors: 0, warnings: 0, infos: 0 }, "the outcome counts the last cycle");
  await s.close();
  fs.rmSync(project, { recursive: true, force: true });
});
