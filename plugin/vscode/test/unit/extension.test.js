// (b) The extension's logic under node --test, with a STUB `vscode` module
// (test/unit/vscode-stub.js says what it fakes) and the REAL errand binary
// behind it: commands, status bar, messages, tree, output documents.
const { test, before, after } = require("node:test");
const assert = require("node:assert");
const Module = require("node:module");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { errandBin } = require("../helpers");

const stub = require("./vscode-stub");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === "vscode" ? require.resolve("./vscode-stub") : resolve.call(this, request, ...rest);
};

const model = require("../../out/model");
let ext;
let api;
const context = { subscriptions: [] };

async function until(what, cond, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(() => {
  process.env.ERRAND_HOME = fs.mkdtempSync(path.join(os.tmpdir(), "errand-ext-"));
  stub.config.path = errandBin();
  ext = require("../../out/extension");
  api = ext.activate(context);
});

after(() => {
  for (const d of context.subscriptions) d.dispose();
});

test("activation registers every command the manifest declares", () => {
  const manifest = require("../../package.json");
  const declared = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepStrictEqual([...stub.calls.commands.keys()].sort(), declared);
  for (const c of manifest.contributes.commands) assert.strictEqual(c.category, "Errand");
});

test("Run Command…: status bar counts, then an information message with actions", async () => {
  stub.script.inputBox.push("sleep 0.4; echo done");
  await stub.commands.executeCommand("errand.runCommand");
  await until("1 running in the status bar", () => stub.calls.statusBar.visible && stub.calls.statusBar.text === "$(sync~spin) 1 running");
  const msg = await until("a finish message", () => stub.calls.messages.find((m) => m.text.startsWith("✓ sleep 0.4; echo done completed in")));
  assert.strictEqual(msg.kind, "info");
  assert.deepStrictEqual(msg.actions, ["Show Output", "Restart"]);
  await until("the status bar hides when idle", () => !stub.calls.statusBar.visible && stub.calls.statusBar.text === "");
});

test("a failure: an error message with the exit code and last line; the count shows", async () => {
  stub.script.inputBox.push("echo first; echo boom >&2; exit 3");
  await stub.commands.executeCommand("errand.runCommand");
  const msg = await until("an error message", () => stub.calls.messages.find((m) => m.kind === "error"));
  assert.match(msg.text, /^✗ .* failed \(exit 3\): boom$/);
  await until("1 failed", () => stub.calls.statusBar.text === "$(error) 1 failed");
  await stub.commands.executeCommand("errand.clearFinished");
  await until("cleared", () => !stub.calls.statusBar.visible);
});

test("the tree groups tasks; Cancel Task… picks a running one and cancels it", async () => {
  stub.script.inputBox.push("sleep 100");
  await stub.commands.executeCommand("errand.runCommand");
  await until("running", () => api.store.list().some((t) => t.status === "running"));
  const groups = stub.calls.tree.getChildren();
  assert.deepStrictEqual(groups.map((g) => stub.calls.tree.getTreeItem(g).label.replace(/ \(\d+\)/, "")), ["Running", "Queued", "Completed", "Failed"]);
  const running = stub.calls.tree.getChildren(groups[0]);
  assert.strictEqual(running.length, 1);
  const item = stub.calls.tree.getTreeItem(running[0]);
  assert.strictEqual(item.contextValue, "task-running");
  assert.strictEqual(item.iconPath.id, "sync~spin");
  stub.script.quickPick.push((items) => items.find((i) => i.task.name === "sleep 100"));
  await stub.commands.executeCommand("errand.cancelTask");
  await until("cancelled", () => api.store.list().find((t) => t.name === "sleep 100").status === "cancelled");
  const failed = stub.calls.tree.getChildren(stub.calls.tree.getChildren()[3]);
  assert.ok(failed.some((t) => t.name === "sleep 100"), "cancelled tasks sit under Failed");
});

test("Show Output… opens a document that grows while the task runs", async () => {
  stub.script.inputBox.push("echo one; sleep 0.5; echo two");
  await stub.commands.executeCommand("errand.runCommand");
  const t = await until("running", () => api.store.list().find((x) => x.name.startsWith("echo one") && x.status === "running"));
  await new Promise((r) => setTimeout(r, 200));
  await stub.commands.executeCommand("errand.showOutput", t);
  const doc = stub.calls.documents.at(-1);
  assert.strictEqual(doc.uri.toString(), `errand-output:/${t.id}.log`);
  await until("both lines", () => doc.getText() === "one\ntwo\n");
});

test("Restart Task… from a tree item makes a new task", async () => {
  const done = api.store.list().find((t) => t.status === "completed");
  await stub.commands.executeCommand("errand.restartTask", done);
  await until("restarted", () => api.store.list().some((t) => t.restarted_from === done.id));
});

test("model: status text, messages, summary, and merge order", () => {
  assert.strictEqual(model.statusText({ running: 2, queued: 0, failed: 1 }), "$(sync~spin) 2 running · $(error) 1 failed");
  assert.strictEqual(model.statusText({ running: 0, queued: 0, failed: 0 }), "");
  const base = { id: "a", name: "build", command: { shell: "make" }, cwd: "/", created_at: 1, started_at: 1, ended_at: 2, duration_ms: 1500, exit_code: 0, signal: null, error: null, progress: null, read_at: null, deleted_at: null, restarted_from: null };
  const on = { onComplete: true, onFailure: true, onCancel: true };
  assert.deepStrictEqual(model.finishedMessage({ ...base, status: "completed" }, "", on), { kind: "info", text: "✓ build completed in 1.5s" });
  assert.strictEqual(model.finishedMessage({ ...base, status: "completed" }, "", { ...on, onComplete: false }), null);
  assert.deepStrictEqual(model.finishedMessage({ ...base, status: "failed", exit_code: 2 }, "a\nlast\n", on), { kind: "error", text: "✗ build failed (exit 2): last" });
  assert.strictEqual(model.startupSummary([]), null);
  assert.strictEqual(model.startupSummary([{ ...base, status: "failed" }]).kind, "warning");
  const store = new model.TaskStore();
  store.update({ ...base, status: "running" });
  store.merge({ ...base, status: "queued" });
  assert.strictEqual(store.byId.get("a").status, "running", "a stale response never steps a task back");
});
