// (b) The extension's logic under node --test, with a STUB `vscode` module
// (test/unit/vscode-stub.js says what it fakes) and the REAL errand binary
// behind it: commands, status bar, messages, tree, output documents.
// Every test activates the extension afresh, with its own ERRAND_HOME, and
// disposes it at the end: each passes alone and in any order.
const { test } = require("node:test");
const assert = require("node:assert");
const cp = require("node:child_process");
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

const ext = require("../../out/extension");
const format = require("../../out/format");
const { TaskStore, isActive } = require("../../out/tasks");

async function until(what, cond, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An ExtensionContext's globalState, kept in memory (pass one to two activations to share it). */
const memento = () => {
  const values = new Map();
  return { get: (k, d) => (values.has(k) ? values.get(k) : d), update: async (k, v) => void values.set(k, v) };
};

const tempDir = (prefix) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** Shell for a task: wait until its own `stream` ("out" or "err") was captured with `text` in it. */
const untilCaptured = (stream, text) =>
  `until grep -qF '${text}' "$ERRAND_HOME/logs/$ERRAND_TASK_ID.${stream}" 2>/dev/null; do sleep 0.01; done`;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh activation: the stub reset, a new context, its own ERRAND_HOME
 * (or `home`), `folder` as the workspace folder, settings from `config`.
 * Resolves once the server answered initialize; undone when the test ends.
 */
async function activate(t, { home = tempDir("errand-ext-"), folder, config = {}, trusted = true, globalState = memento() } = {}) {
  stub.reset();
  Object.assign(stub.config, { path: errandBin() }, config);
  if (folder) stub.workspace.workspaceFolders = [{ uri: { fsPath: folder } }];
  stub.workspace.isTrusted = trusted;
  process.env.ERRAND_HOME = home;
  const context = { subscriptions: [], globalState, globalStorageUri: { fsPath: path.join(home, "vscode-global-storage") } };
  const api = ext.activate(context);
  const initialized = new Promise((r) => api.client.onInitialized(r));
  let disposed;
  const dispose = () =>
    (disposed ??= (async () => {
      // No task outlives its test.
      for (const task of api.store.list().filter(isActive)) await api.client.request("task/cancel", { id: task.id }).catch(() => {});
      await until("no task active", () => !api.store.list().some(isActive)).catch(() => {});
      const pid = api.client.pid;
      for (const d of context.subscriptions) d.dispose();
      if (pid) await until("errand serve exits", () => !alive(pid));
    })());
  t.after(async () => {
    await dispose();
    delete process.env.ERRAND_HOME;
    fs.rmSync(home, { recursive: true, force: true });
  });
  const init = await initialized;
  return { api, init, dispose, home };
}

/** The errand CLI on a test's own store. */
const cli = (home, ...args) => cp.spawnSync(errandBin(), args, { env: { ...process.env, ERRAND_HOME: home }, encoding: "utf8" });

/** Runs `command` through the palette and returns its task once it reached `status`. */
async function runCommand(api, command, status = "completed") {
  stub.script.inputBox.push(command);
  await stub.commands.executeCommand("errand.runCommand");
  // A task's name is its command, shortened to 60 characters.
  const name = command.length > 60 ? `${command.slice(0, 60)}…` : command;
  return until(`${command} ${status}`, () => api.store.list().find((t) => t.name === name && t.status === status));
}

test("activation registers every command the manifest declares; disposing undoes it and ends errand serve", async (t) => {
  const { api, dispose } = await activate(t);
  const manifest = require("../../package.json");
  const declared = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepStrictEqual([...stub.calls.commands.keys()].sort(), declared);
  for (const c of manifest.contributes.commands) assert.strictEqual(c.category, "Errand");
  const pid = api.client.pid;
  assert.ok(pid && alive(pid), "errand serve runs");
  await dispose();
  assert.deepStrictEqual([...stub.calls.commands.keys()], []);
  assert.deepStrictEqual([...stub.calls.providers.keys()], []);
  assert.ok(stub.calls.statusBar.disposed);
  assert.ok(!alive(pid));
});

test("Run Command…: status bar counts, then an information message with actions", async (t) => {
  await activate(t);
  stub.script.inputBox.push("sleep 0.4; echo done");
  await stub.commands.executeCommand("errand.runCommand");
  await until("1 running in the status bar", () => stub.calls.statusBar.visible && stub.calls.statusBar.text === "$(sync~spin) errand: 1 running");
  const msg = await until("a finish message", () => stub.calls.messages.find((m) => m.text.startsWith("sleep 0.4; echo done completed in")));
  assert.strictEqual(msg.kind, "info");
  assert.deepStrictEqual(msg.actions, ["Show Output", "Restart"]);
  await until("the status bar hides when idle", () => !stub.calls.statusBar.visible && stub.calls.statusBar.text === "");
});

test("a failure: an error message with the exit code and last line; the count shows", async (t) => {
  await activate(t);
  // stdout and stderr are two pipes: the task waits until its first line was captured, so the order is sure.
  stub.script.inputBox.push(`echo first; ${untilCaptured("out", "first")}; echo boom >&2; exit 3`);
  await stub.commands.executeCommand("errand.runCommand");
  const msg = await until("an error message", () => stub.calls.messages.find((m) => m.kind === "error"));
  assert.match(msg.text, /^.* failed \(exit 3\): boom$/);
  await until("1 failed", () => stub.calls.statusBar.text === "$(tasklist) errand: 1 failed");
  await stub.commands.executeCommand("errand.clearFinished");
  await until("cleared", () => !stub.calls.statusBar.visible);
});

test("a task past its timeout: the error message says it timed out", async (t) => {
  const { api } = await activate(t);
  await api.client.request("task/run", { command: "echo started; sleep 30", timeoutMs: 300 });
  const msg = await until("an error message", () => stub.calls.messages.find((m) => m.kind === "error"));
  assert.match(msg.text, /^echo started; sleep 30 failed \(timed out after 0\.3s\): started$/);
});

test("a task that retries: the tree row says which run it is, one message comes for the last run", async (t) => {
  const { api } = await activate(t);
  const flaky = "n=$(($(cat runs 2>/dev/null || echo 0) + 1)); echo $n > runs; [ $n -ge 3 ] || exit 7";
  const folder = tempDir("errand-retry-");
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  await api.client.request("task/run", { command: `${flaky}; sleep 30`, cwd: folder, retry: 3, retryDelayMs: 50 });
  // The tree may have no row yet, or only a section (between runs): look again.
  const row = () => {
    const section = stub.calls.tree.getChildren()[0];
    return section && stub.calls.tree.getChildren(section)[0];
  };
  await until("run 3/4 in the running row", () => {
    const r = row();
    return r && /^running .* · run 3\/4$/.test(stub.calls.tree.getTreeItem(r).description ?? "");
  });
  assert.ok(!stub.calls.messages.some((m) => m.kind === "error"), "no message for a run that is retried");
});

test("Clear Finished: the finished rows leave the tree and the count clears, errand keeps them, Undo brings them back, a later finish shows", async (t) => {
  const globalState = memento();
  const { api, home, dispose } = await activate(t, { globalState });
  const labels = () => stub.calls.tree.getChildren().map((g) => stub.calls.tree.getTreeItem(g).label);
  await runCommand(api, "echo one");
  await runCommand(api, "exit 5", "failed");
  await runCommand(api, "sleep 100", "running");
  await until("1 failed counted", () => /1 failed/.test(stub.calls.statusBar.text));
  assert.deepStrictEqual(labels(), ["Running (1)", "Completed (1)", "Failed (1)"]);
  stub.script.messageChoice.push(undefined); // the message is dismissed
  await stub.commands.executeCommand("errand.clearFinished");
  assert.deepStrictEqual(labels(), ["Running (1)"], "a running task stays");
  const msg = stub.calls.messages.find((m) => /cleared 2 finished tasks/.test(m.text));
  assert.deepStrictEqual(msg.actions, ["Undo"]);
  await until("the failure no longer counted", () => !/failed/.test(stub.calls.statusBar.text));
  assert.strictEqual(JSON.parse(cli(home, "ls", "--json").stdout).length, 3, "errand's history keeps them");
  await stub.commands.executeCommand("errand.refresh");
  assert.deepStrictEqual(labels(), ["Running (1)"], "a refresh does not bring them back");

  await runCommand(api, "echo two");
  assert.deepStrictEqual(labels(), ["Running (1)", "Completed (1)"], "a task ending after the clear shows");
  stub.script.messageChoice.push("Undo");
  await stub.commands.executeCommand("errand.clearFinished");
  assert.deepStrictEqual(labels(), ["Running (1)", "Completed (1)"], "Undo: back as before that clear");
  stub.script.messageChoice.push(undefined);
  await stub.commands.executeCommand("errand.clearFinished");
  assert.deepStrictEqual(labels(), ["Running (1)"]);
  await dispose();

  // The next window of this user: still cleared. (Closing the first one
  // cancelled `sleep 100`, the test's own clean-up: that end is news.)
  await activate(t, { home, globalState });
  await stub.commands.executeCommand("errand.refresh");
  assert.deepStrictEqual(labels(), ["Cancelled (1)"]);
});

test("the tree groups tasks; Cancel Task… picks a running one and cancels it", async (t) => {
  const { api } = await activate(t);
  const labels = () => stub.calls.tree.getChildren().map((g) => stub.calls.tree.getTreeItem(g).label);
  assert.deepStrictEqual(labels(), [], "no section before any task (the welcome view shows)");
  await runCommand(api, "sleep 100", "running");
  const groups = stub.calls.tree.getChildren();
  assert.deepStrictEqual(labels(), ["Running (1)"], "only sections that hold a task");
  const running = stub.calls.tree.getChildren(groups[0]);
  assert.strictEqual(running.length, 1);
  const item = stub.calls.tree.getTreeItem(running[0]);
  assert.strictEqual(item.contextValue, "task-running");
  assert.strictEqual(item.iconPath.id, "sync~spin");
  assert.match(item.tooltip, /\nsleep 100\n/);
  stub.script.quickPick.push((items) => items.find((i) => i.task.name === "sleep 100"));
  await stub.commands.executeCommand("errand.cancelTask");
  await until("cancelled", () => api.store.list().find((x) => x.name === "sleep 100").status === "cancelled");
  await runCommand(api, "exit 4", "failed");
  assert.deepStrictEqual(labels(), ["Failed (1)", "Cancelled (1)"], "a cancel is not a failure");
  const [cancelled] = stub.calls.tree.getChildren(stub.calls.tree.getChildren()[1]);
  assert.strictEqual(cancelled.name, "sleep 100");
  const description = stub.calls.tree.getTreeItem(cancelled).description;
  assert.ok(!/signal/.test(description), `the TERM errand sent is not news: ${description}`);
  assert.match(stub.calls.tree.getTreeItem(stub.calls.tree.getChildren(stub.calls.tree.getChildren()[0])[0]).description, /exit 4/);
});

test("Restricted Mode: no workspace build and no workflow of the workspace runs; typed commands do", async (t) => {
  const folder = tempDir("errand-untrusted-");
  const marker = path.join(folder, "hostile-code-ran");
  fs.mkdirSync(path.join(folder, "target", "release"), { recursive: true });
  fs.writeFileSync(path.join(folder, "target", "release", "errand"), `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(folder, "errand.toml"), `build = "touch '${marker}'"\n`);
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));

  // No errand.path and none on PATH: a trusted workspace would use its own build; an untrusted one must not.
  const savedPath = process.env.PATH;
  process.env.PATH = "/usr/bin:/bin";
  stub.reset();
  Object.assign(stub.config, { path: "" });
  stub.workspace.workspaceFolders = [{ uri: { fsPath: folder } }];
  stub.workspace.isTrusted = false;
  const context = { subscriptions: [], globalState: memento(), globalStorageUri: { fsPath: tempDir("errand-storage-") } };
  try {
    ext.activate(context);
    stub.script.inputBox.push("true");
    await stub.commands.executeCommand("errand.runCommand");
    const msg = await until("an error message", () => stub.calls.messages.find((m) => m.kind === "error"));
    assert.match(msg.text, /errand binary not found/);
  } finally {
    for (const d of context.subscriptions) d.dispose();
    process.env.PATH = savedPath;
  }
  assert.ok(!fs.existsSync(marker), "the workspace's target/release/errand did not run");

  // With the real binary: a typed command runs, a workflow of the workspace does not.
  const { api, home } = await activate(t, { folder, trusted: false });
  await runCommand(api, "echo typed");
  await stub.commands.executeCommand("errand.runWorkflow");
  const warning = stub.calls.messages.find((m) => m.kind === "warning");
  assert.match(warning.text, /Restricted Mode/);
  assert.strictEqual(stub.calls.quickPicks.length, 0, "no workflow was offered");
  const names = JSON.parse(cli(home, "ls", "--json").stdout).map((x) => x.name);
  assert.deepStrictEqual(names, ["echo typed"]);
  // A workflow typed as #name, or a workflow's task restarted: refused too.
  stub.calls.messages.length = 0;
  stub.script.inputBox.push("#build");
  await stub.commands.executeCommand("errand.runCommand");
  assert.match(stub.calls.messages.find((m) => m.kind === "warning").text, /Restricted Mode/);
  assert.strictEqual(cli(home, "ls", "--json").stdout.includes("build"), false);
  const wf = { ...api.store.list()[0], id: "zzzz", workflow: "build" };
  await stub.commands.executeCommand("errand.restartTask", wf);
  assert.strictEqual(stub.calls.messages.filter((m) => m.kind === "warning").length, 2);
  assert.ok(!fs.existsSync(marker), "no workflow ran");
  // Trusted now: the workflow runs.
  stub.grantTrust();
  stub.script.quickPick.push((items) => items.find((i) => i.name === "build"));
  await stub.commands.executeCommand("errand.runWorkflow");
  await until("the workflow ran once trusted", () => fs.existsSync(marker));
});

test("settings apply at once: a binary set after start-up is used, a new parallel limit restarts the server with it", async (t) => {
  const home = tempDir("errand-ext-");
  process.env.ERRAND_HOME = home;
  stub.reset();
  Object.assign(stub.config, { path: path.join(home, "no-such-errand") });
  const context = { subscriptions: [], globalState: memento(), globalStorageUri: { fsPath: tempDir("errand-storage-") } };
  const api = ext.activate(context);
  t.after(async () => {
    for (const task of api.store.list().filter(isActive)) await api.client.request("task/cancel", { id: task.id }).catch(() => {});
    const pid = api.client.pid;
    for (const d of context.subscriptions) d.dispose();
    if (pid) await until("errand serve exits", () => !alive(pid));
    delete process.env.ERRAND_HOME;
    fs.rmSync(home, { recursive: true, force: true });
  });
  assert.strictEqual(api.client.pid, undefined, "no binary, no server");
  let inits = 0;
  api.client.onInitialized(() => inits++);
  stub.changeConfig({ path: errandBin() }, ["errand.path"]);
  await until("initialized with the binary set", () => inits === 1);
  const first = api.client.pid;
  await runCommand(api, "echo after the change");
  // A folderless window's message comes 0.7 s after the end (a window holding the folder goes first).
  await until("its message", () => stub.calls.messages.some((m) => m.text.includes("echo after the change completed")));

  const env = (pid) => fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  assert.ok(!env(first).includes("ERRAND_PARALLEL=3"));
  stub.changeConfig({ "notifications.onComplete": false }, ["errand.notifications.onComplete"]);
  assert.strictEqual(api.client.pid, first, "a notification setting needs no new server");
  stub.changeConfig({ parallel: 3 }, ["errand.parallel"]);
  await until("a new server, initialized", () => inits === 2 && api.client.pid !== first);
  assert.ok(env(api.client.pid).includes("ERRAND_PARALLEL=3"), "the new server has the new limit");
  await until("the old server exits", () => !alive(first));
  const messages = stub.calls.messages.length;
  await runCommand(api, "echo through the new server");
  assert.strictEqual(stub.calls.messages.length, messages, "onComplete = false, read at its use");
});

test("Show Output… opens one terminal tab per task: colours and \\r as written, lines end \\r\\n, typing reaches the task, Ctrl+D closes its stdin", async (t) => {
  const { api } = await activate(t);
  const script = `printf '\\033[31mred\\033[0m\\n'; printf 'a\\rb\\n'; read line; echo "got $line"; cat; echo "eof seen"`;
  const task = await runCommand(api, script, "running");
  await stub.commands.executeCommand("errand.showOutput", task);
  const term = stub.calls.terminals.at(-1);
  assert.match(term.name, /^errand: printf/);
  await until("the coloured line and the carriage return, as written", () => term.text.includes("\x1b[31mred\x1b[0m\r\na\rb\r\n"));
  term.type("\x1b[A\x1b[3~"); // arrows and Delete edit nothing, and show nothing
  term.type("hi thf");
  term.type("\x7fere\r"); // a backspace edits the line before it is sent
  await until("the line reached the task", () => term.text.includes("got hi there\r\n"));
  assert.ok(term.text.includes("\r\nhi thf\b \bere\r\n"), "typing is echoed, the backspace too");
  assert.ok(!term.text.includes("[A") && !term.text.includes("[3~"), "no half of an escape sequence");
  term.type("\x04");
  await until("its stdin closed, it ended", () => /eof seen\r\n[\s\S]*\[errand\] completed in/.test(term.text));
  await stub.commands.executeCommand("errand.showOutput", task);
  assert.strictEqual(stub.calls.terminals.length, 1, "the same tab again");
  assert.strictEqual(term.shows, 2);
  term.type("q");
  assert.ok(term.disposed, "a key closes the tab once the task ended");
  await stub.commands.executeCommand("errand.showOutput", task);
  assert.strictEqual(stub.calls.terminals.length, 2, "a closed tab opens anew");
  await until("all of it again, read from the start", () => stub.calls.terminals[1].text.includes("got hi there\r\neof seen\r\n"));
});

test("Ctrl+C in a task's terminal cancels the task", async (t) => {
  const { api } = await activate(t);
  const task = await runCommand(api, "echo waiting; sleep 100", "running");
  await stub.commands.executeCommand("errand.showOutput", task);
  const term = stub.calls.terminals.at(-1);
  await until("its output", () => term.text.includes("waiting\r\n"));
  term.type("\x03");
  await until("cancelled", () => api.store.byId.get(task.id)?.status === "cancelled");
  await until("and the tab says so", () => term.text.includes("[errand] cancelled"));
});

test("a task's terminal goes on after errand serve is killed mid-follow: nothing lost, nothing twice", async (t) => {
  const { api } = await activate(t);
  const dir = tempDir("errand-release-");
  const [first, second] = [path.join(dir, "a"), path.join(dir, "b")];
  const script = `echo one; until [ -e '${first}' ]; do sleep 0.01; done; echo two; until [ -e '${second}' ]; do sleep 0.01; done; echo three`;
  const task = await runCommand(api, script, "running");
  await stub.commands.executeCommand("errand.showOutput", task);
  const term = stub.calls.terminals.at(-1);
  await until("the first line", () => term.text === "one\r\n");
  const old = api.client.pid;
  process.kill(old, "SIGKILL");
  fs.writeFileSync(first, ""); // written while no server runs
  await until("a new server", () => api.client.pid && api.client.pid !== old);
  await until("caught up from where it was", () => term.text === "one\r\ntwo\r\n");
  fs.writeFileSync(second, "");
  await until("and follows again", () => term.text.startsWith("one\r\ntwo\r\nthree\r\n") && term.text.includes("[errand] completed"));
});

test("a terminal behind a fast writer says it skips and shows the newest; a huge finished output replays its start, a notice, the tail", async (t) => {
  const { api } = await activate(t);
  const dir = tempDir("errand-fast-");
  const go = path.join(dir, "go");
  // 30 MB at once (cat of a file) once the tab follows.
  const script = `seq -f '%0100g' 1 300000 > '${dir}/big'; echo ready; until [ -e '${go}' ]; do sleep 0.01; done; cat '${dir}/big'; echo fin`;
  const task = await runCommand(api, script, "running");
  await stub.commands.executeCommand("errand.showOutput", task);
  const term = stub.calls.terminals.at(-1);
  // Read up to "ready": whenever the follow starts, 30 MB are ahead of it.
  await until("caught up", () => term.text.includes("ready"), 30000);
  fs.writeFileSync(go, "");
  await until("the end", () => /0300000\r\nfin\r\n[\s\S]*\[errand\] completed/.test(term.text), 30000);
  assert.ok(term.text.includes(`[errand] too fast to show: skipping to the newest (errand logs ${task.id} has all)`), "the skip is said");
  assert.ok(term.text.length < 12 << 20, `not all 30 MB were written to the tab: ${term.text.length}`);

  const done = await runCommand(api, "seq -f '%0100g' 1 200000; echo fin", "completed");
  await stub.commands.executeCommand("errand.showOutput", done);
  const second = stub.calls.terminals.at(-1);
  await until("the end", () => /0200000\r\nfin\r\n[\s\S]*\[errand\] completed/.test(second.text), 30000);
  assert.ok(second.text.startsWith("0000"), "from the start");
  assert.ok(second.text.includes(`[errand] skipped to the last 1000 lines (errand logs ${done.id} has all)`));
  assert.ok(second.text.length < 6 << 20, `4 MiB, then the tail: ${second.text.length}`);
});

test("Open Output as Text… shows the output so far in a document", async (t) => {
  const { api } = await activate(t);
  const task = await runCommand(api, "printf 'one\\ntwo\\n'");
  await stub.commands.executeCommand("errand.openOutputAsText", task);
  const doc = stub.calls.documents.at(-1);
  assert.strictEqual(doc.uri.toString(), `errand-output:/${task.id}/printf 'one_ntwo_n'.log`, "the tab is named after the task");
  assert.strictEqual(doc.getText(), "one\ntwo\n");
});

test("the tree's actions: Delete (with Undo) and Cancel act on every selected row, Mark Read, Copy Command, Rerun Last", async (t) => {
  const { api, home } = await activate(t);
  const a = await runCommand(api, "echo alpha");
  const b = await runCommand(api, "echo bravo");
  // Right-click on a, with a and b selected: both go, then come back.
  let undo;
  stub.script.messageChoice.push(new Promise((r) => (undo = r)));
  const deleting = stub.commands.executeCommand("errand.deleteTask", a, [a, b]);
  await until("the message", () => stub.calls.messages.some((m) => m.text === "Errand: deleted 2 tasks" && m.actions.includes("Undo")));
  assert.deepStrictEqual(JSON.parse(cli(home, "ls", "--json").stdout), [], "errand deleted both");
  await until("gone from the tree", () => api.store.list().length === 0);
  undo("Undo");
  await deleting;
  // On a timeout, say what the extension told the user (a failed restore is an error message).
  await until("both back", () => JSON.parse(cli(home, "ls", "--json").stdout).length === 2).catch((e) => {
    throw new Error(`${e.message}; messages: ${JSON.stringify(stub.calls.messages.map((m) => m.text))}`);
  });
  await until("and in the tree", () => api.store.list().length === 2);
  // Right-click on a row outside the selection acts on that row only.
  const s1 = await runCommand(api, "sleep 101", "running");
  const s2 = await runCommand(api, "sleep 102", "running");
  await stub.commands.executeCommand("errand.cancelTask", s1, [b]);
  await until("s1 cancelled", () => api.store.byId.get(s1.id)?.status === "cancelled");
  assert.strictEqual(api.store.byId.get(s2.id).status, "running");
  await stub.commands.executeCommand("errand.cancelTask", s2, [s1, s2]);
  await until("s2 cancelled", () => api.store.byId.get(s2.id)?.status === "cancelled");
  // Mark Read: the task leaves the unread count.
  assert.strictEqual(JSON.parse(cli(home, "show", "--json", a.id).stdout).readAt, null);
  await stub.commands.executeCommand("errand.markRead", api.store.byId.get(a.id));
  assert.notStrictEqual(JSON.parse(cli(home, "show", "--json", a.id).stdout).readAt, null);
  await stub.commands.executeCommand("errand.copyCommand", b);
  assert.strictEqual(stub.calls.clipboard, "echo bravo");
  // Rerun Last runs the last command run from the palette again.
  const before = api.store.list().filter((x) => x.name === "sleep 102").length;
  await stub.commands.executeCommand("errand.rerunLast");
  await until("sleep 102 again", () => api.store.list().filter((x) => x.name === "sleep 102").length === before + 1);
  // Run Command offers the commands run before, newest first, each once.
  stub.script.inputBox.push(undefined);
  await stub.commands.executeCommand("errand.runCommand");
  assert.deepStrictEqual(stub.calls.quickPickBoxes.at(-1).shownItems.map((i) => i.label), ["sleep 102", "sleep 101", "echo bravo", "echo alpha"]);
});

test("scope: the tree and the messages cover tasks started in the window's folders; errand.scope = all covers every task", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  const elsewhere = fs.realpathSync(tempDir("errand-elsewhere-"));
  t.after(() => [folder, elsewhere].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  fs.mkdirSync(path.join(folder, "sub"));
  const { api, home } = await activate(t, { folder });
  const inside = await runCommand(api, "echo inside");
  // From a shell: one in a subfolder of the workspace, one outside it.
  const below = cp.spawnSync(errandBin(), ["run", "-w", "echo below"], { cwd: path.join(folder, "sub"), env: { ...process.env, ERRAND_HOME: home }, encoding: "utf8" });
  const outside = cp.spawnSync(errandBin(), ["run", "-w", "echo outside"], { cwd: elsewhere, env: { ...process.env, ERRAND_HOME: home }, encoding: "utf8" });
  assert.strictEqual(below.status, 0, below.stderr);
  assert.strictEqual(outside.status, 0, outside.stderr);
  await until("the outside task heard of", () => [...api.store.byId.values()].some((x) => x.name === "echo outside" && x.status === "completed"));
  await until("the subfolder's task heard of", () => stub.calls.messages.some((m) => m.text.includes("echo below completed")));
  assert.deepStrictEqual(api.store.list().map((x) => x.name).sort(), ["echo below", "echo inside"]);
  assert.ok(!stub.calls.messages.some((m) => m.text.includes("echo outside")), "no message about another folder's task");
  assert.ok(inside);
  assert.strictEqual(stub.calls.treeView.description, "this workspace");
  // The view's toggle sets errand.scope.
  await stub.commands.executeCommand("errand.showAllTasks");
  assert.deepStrictEqual(api.store.list().map((x) => x.name).sort(), ["echo below", "echo inside", "echo outside"]);
  assert.strictEqual(stub.calls.treeView.description, "all tasks");
  // A filter: name or command, any case, the older matches fetched too.
  stub.script.inputBox.push("BEL");
  await stub.commands.executeCommand("errand.filterTasks");
  assert.deepStrictEqual(api.store.list().map((x) => x.name), ["echo below"]);
  assert.strictEqual(stub.calls.treeView.description, "all tasks · filter: BEL");
  assert.strictEqual(stub.calls.context["errand.filtered"], true);
  await stub.commands.executeCommand("errand.clearFilter");
  assert.strictEqual(api.store.list().length, 3);
  assert.strictEqual(stub.calls.context["errand.filtered"], false);
  await stub.commands.executeCommand("errand.showWorkspaceTasks");
  assert.deepStrictEqual(api.store.list().map((x) => x.name).sort(), ["echo below", "echo inside"]);
  // Clear Finished here leaves another project's failure unread and listed there.
  const failure = cp.spawnSync(errandBin(), ["run", "--name", "outside-failure", "--", "sh", "-c", "exit 3"], { cwd: elsewhere, env: { ...process.env, ERRAND_HOME: home }, encoding: "utf8" });
  assert.strictEqual(cli(home, "wait", failure.stdout.trim()).status, 3);
  stub.script.messageChoice.push(undefined);
  await stub.commands.executeCommand("errand.clearFinished");
  assert.deepStrictEqual(api.store.list(), [], "this workspace's tasks cleared");
  assert.strictEqual(JSON.parse(cli(home, "show", "--json", failure.stdout.trim()).stdout).readAt, null, "the other project's failure stays unread");
  await stub.commands.executeCommand("errand.showAllTasks");
  assert.ok(api.store.list().some((x) => x.name === "outside-failure"), "and shows under all tasks");
});

test("a filter finds older tasks than the newest page holds", async (t) => {
  const { api, home } = await activate(t);
  const needle = cli(home, "run", "-w", "--name", "needle-task", "--", "true");
  assert.strictEqual(needle.status, 0, needle.stderr);
  // 210 newer tasks: the window's first page (200) no longer holds the needle.
  const many = cp.spawnSync("sh", ["-c", `for i in $(seq 210); do "${errandBin()}" run -- true >/dev/null; done; "${errandBin()}" wait --all`], {
    env: { ...process.env, ERRAND_HOME: home },
    encoding: "utf8",
  });
  assert.strictEqual(many.status, 0, many.stderr);
  // Once the window heard of every end, it forgets what it heard.
  await until("all heard of", () => api.store.list().filter((x) => x.name === "true" && x.status === "completed").length === 210, 60000);
  api.store.byId.clear();
  await api.store.refresh();
  assert.ok(!api.store.list().some((x) => x.name === "needle-task"), "not among the newest 200");
  stub.script.inputBox.push("needle");
  await stub.commands.executeCommand("errand.filterTasks");
  assert.deepStrictEqual(api.store.list().map((x) => x.name), ["needle-task"]);
});

test("of the windows that hear a task end, the first to claim it tells the user", () => {
  const scope = require("../../out/scope");
  const dir = path.join(tempDir("errand-claims-"), "claims");
  assert.strictEqual(scope.claimNotification(dir, "k3vq", 1), true, "the first window");
  assert.strictEqual(scope.claimNotification(dir, "k3vq", 1), false, "a second window stays quiet");
  assert.strictEqual(scope.claimNotification(dir, "k3vq", 2), true, "another end is another claim");
  assert.strictEqual(fs.statSync(dir).mode & 0o077, 0, "private to the user");
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

test("a wrong binary (errand.path = /bin/false): a few tries, then one warning with Open Settings, and a clear error for a command", async (t) => {
  const { api } = await activate(t);
  stub.changeConfig({ path: "/bin/false" }, ["errand.path"]);
  const warning = await until("one warning", () => stub.calls.messages.find((m) => /keeps exiting at start/.test(m.text)));
  assert.ok(warning.text.includes("/bin/false") && warning.actions.includes("Open Settings"), warning.text);
  await new Promise((r) => setTimeout(r, 3000));
  assert.strictEqual(stub.calls.messages.filter((m) => /keeps exiting/.test(m.text)).length, 1, "no restart loop, one warning");
  assert.strictEqual(api.client.pid, undefined, "no server left running or restarting");
  stub.script.inputBox.push("echo never");
  await stub.commands.executeCommand("errand.runCommand");
  const err = await until("a clear error", () => stub.calls.messages.find((m) => m.kind === "error"));
  // Given up: no new try per command (how it ended: its exit, or the broken pipe when a write came first).
  assert.match(err.text, /errand serve keeps exiting at start \((exit code 1|write failed: .*EPIPE.*)\)/);
  // A right binary again: it works at once.
  stub.changeConfig({ path: errandBin() }, ["errand.path"]);
  await runCommand(api, "echo back");
});

test("Restart Task… from a tree item makes a new task", async (t) => {
  const { api } = await activate(t);
  const done = await runCommand(api, "echo again");
  await stub.commands.executeCommand("errand.restartTask", done);
  const again = await until("restarted", () => api.store.list().find((x) => x.restartedFrom === done.id));
  assert.strictEqual(again.name, "echo again");
});

test("Run Command… and Run Workflow… run from the workspace folder (clientCwd)", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.writeFileSync(path.join(folder, "errand.toml"), 'hello = { command = "echo wf-hello", description = "Say hello" }\n');
  // Tasks the project defines for its own tools are offered too, under their tool.
  fs.writeFileSync(path.join(folder, "package.json"), JSON.stringify({ scripts: { lint: "eslint ." } }));
  fs.mkdirSync(path.join(folder, ".vscode"));
  fs.writeFileSync(
    path.join(folder, ".vscode", "tasks.json"),
    '{ "version": "2.0.0", "tasks": [ { "label": "Lint file", "type": "shell", "command": "eslint ${file}" }, ] }',
  );
  const { api } = await activate(t, { folder });
  const cmd = await runCommand(api, "pwd");
  assert.strictEqual(cmd.cwd, folder);
  stub.script.quickPick.push((items) => items.find((i) => i.label === "#hello"));
  await stub.commands.executeCommand("errand.runWorkflow");
  const offered = stub.calls.quickPicks.at(-1).items;
  const separator = stub.QuickPickItemKind.Separator;
  assert.deepStrictEqual(
    offered.map((i) => (i.kind === separator ? `-- ${i.label}` : [i.label, i.description])),
    ["-- errand", ["#hello", "Say hello"], "-- npm", ["#npm:lint", "eslint ."], "-- vscode", ["#vscode:Lint file", "eslint ${file}"]],
  );
  assert.match(offered.at(-1).detail, /Cannot run here: it uses \$\{file\}/);
  const wf = await until("the workflow completed", () => api.store.list().find((x) => x.workflow === "hello" && x.status === "completed"));
  assert.strictEqual(wf.cwd, folder);
  // One errand cannot run says why, and starts nothing.
  stub.script.quickPick.push((items) => items.find((i) => i.label === "#vscode:Lint file"));
  await stub.commands.executeCommand("errand.runWorkflow");
  assert.match(stub.calls.messages.find((m) => m.kind === "warning").text, /#vscode:Lint file cannot run here: it uses \$\{file\}/);
  assert.strictEqual(api.store.list().length, 2);
});

test("a failed build fills the Problems panel; the same task running again clears it; Show Problems on any task", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.writeFileSync(path.join(folder, "main.c"), "int main(void) {\n  return missing;\n}\n");
  const { api } = await activate(t, { folder });
  // A real gcc: what it prints is what the server reads.
  const build = await runCommand(api, "gcc -c main.c -o /dev/null", "failed");
  const file = path.join(folder, "main.c");
  const shown = await until("the Problems panel filled", () => stub.calls.problems.get(file));
  // gcc's error, and its note.
  assert.deepStrictEqual(shown.map((d) => d.severity), [stub.DiagnosticSeverity.Error, stub.DiagnosticSeverity.Information]);
  const [problem] = shown;
  assert.deepStrictEqual([problem.range.start.line, problem.range.start.character], [1, 9]);
  assert.strictEqual(problem.severity, stub.DiagnosticSeverity.Error);
  assert.match(problem.message, /missing/);
  assert.strictEqual(problem.source, "errand: gcc");
  // Fixed, and run again: it starts, and the panel clears at once.
  fs.writeFileSync(path.join(folder, "main.c"), "int main(void) {\n  return 0;\n}\n");
  await stub.commands.executeCommand("errand.restartTask", api.store.list().find((x) => x.id === build.id));
  await until("cleared when the same task runs again", () => !stub.calls.problems.has(file));
  // On demand, from any finished task: none here, and a message says so.
  const again = await until("the rerun completed", () => api.store.list().find((x) => x.restartedFrom === build.id && x.status === "completed"));
  await stub.commands.executeCommand("errand.showProblems", again);
  assert.match(stub.calls.messages.at(-1).text, /no compiler or linter messages in the output of gcc -c main.c/);
  await stub.commands.executeCommand("errand.showProblems", api.store.list().find((x) => x.id === build.id));
  assert.strictEqual(stub.calls.problems.get(file).length, 2, "the failed one's messages, on request");
  assert.deepStrictEqual(stub.calls.builtins, ["workbench.actions.view.problems"]);
});

test("tsc --watch: the Problems panel follows each compile cycle while it runs", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.mkdirSync(path.join(folder, "src"));
  fs.writeFileSync(path.join(folder, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true }, include: ["src"] }));
  const file = path.join(folder, "src", "a.ts");
  fs.writeFileSync(file, 'export const a: string = "x";\n');
  const { api } = await activate(t, { folder });
  // The real tsc, from this extension's own npm packages.
  const watch = await runCommand(api, `node ${require.resolve("typescript/bin/tsc")} --watch -p .`, "running");
  t.after(() => api.client.request("task/cancel", { id: watch.id }).catch(() => undefined));
  await until("the first, clean cycle", () => api.store.list().find((x) => x.id === watch.id)?.diagnostics, 60000);
  assert.strictEqual(stub.calls.problems.has(file), false);
  fs.writeFileSync(file, "export const a: string = 1;\n");
  const shown = await until("the error in the Problems panel", () => stub.calls.problems.get(file), 20000);
  assert.deepStrictEqual(shown.map((d) => [d.range.start.line, d.range.start.character, d.code, d.source]), [[0, 13, "TS2322", "errand: tsc"]]);
  assert.strictEqual(api.store.list().find((x) => x.id === watch.id).status, "running", "while tsc runs");
  // A server killed mid-watch, the panel emptied: the next server's client catches up.
  stub.calls.problems.clear();
  const old = api.client.pid;
  process.kill(old, "SIGKILL");
  await until("a new server", () => api.client.pid && api.client.pid !== old);
  await until("caught up with the last cycle", () => stub.calls.problems.get(file), 20000);
  fs.writeFileSync(file, 'export const a: string = "y";\n');
  await until("the fix clears it", () => !stub.calls.problems.has(file), 20000);
});

test("Watch Command: a Watching row with its runs, a save reruns it, Stop Watching ends it", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.writeFileSync(path.join(folder, "notes.txt"), "one\n");
  const { api } = await activate(t, { folder });
  stub.script.inputBox.push("echo checked");
  await stub.commands.executeCommand("errand.watchCommand");
  assert.match(stub.calls.messages.at(-1).text, /Errand: watching .* \(w\d+\): it runs now and on every change/);
  const tree = stub.calls.tree;
  const watchRow = () => {
    const [top] = tree.getChildren();
    if (!top || !/^Watching \(1\)$/.test(tree.getTreeItem(top).label)) return undefined;
    return tree.getChildren(top)[0];
  };
  const described = (want) => until(`the watch's row says ${want}`, () => {
    const row = watchRow();
    return row && tree.getTreeItem(row).description.includes(want) && row;
  });
  const row = await described("1 run · completed");
  const item = tree.getTreeItem(row);
  assert.strictEqual(item.label, "echo checked");
  assert.strictEqual(item.contextValue, "watch");
  assert.strictEqual(item.command.command, "errand.showOutput", "a click shows its latest run");
  fs.writeFileSync(path.join(folder, "notes.txt"), "two\n");
  const again = await described("2 runs · completed");
  await stub.commands.executeCommand("errand.endWatch", again);
  await until("the Watching section gone", () => api.watches.list().length === 0 && !watchRow());
  const { tasks } = await api.client.request("task/list", {});
  assert.strictEqual(tasks.length, 2, "two runs, no more");
});

test("a build that passes with warnings still shows them, and its row counts them", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.writeFileSync(path.join(folder, "warn.c"), "int main(void) {\n  int unused;\n  return 0;\n}\n");
  const { api } = await activate(t, { folder });
  const build = await runCommand(api, "gcc -Wall -c warn.c -o /dev/null", "completed");
  const file = path.join(folder, "warn.c");
  const shown = await until("the warning in the Problems panel", () => stub.calls.problems.get(file));
  assert.deepStrictEqual(shown.map((d) => d.severity), [stub.DiagnosticSeverity.Warning]);
  assert.deepStrictEqual(api.store.list().find((x) => x.id === build.id).diagnostics, { errors: 0, warnings: 1, infos: 0 });
  const row = stub.calls.tree.getChildren(stub.calls.tree.getChildren().find((g) => stub.calls.tree.getChildren(g).length > 0));
  assert.match(stub.calls.tree.getTreeItem(row[0]).description, /1 problem$/);
});

test("Tasks: Run Task lists errand's workflows and detected tasks as type errand; the task it gives runs errand run -w", async (t) => {
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.writeFileSync(path.join(folder, "errand.toml"), 'build = { command = "echo built; exit 3", description = "Build it" }\n');
  fs.writeFileSync(path.join(folder, "Makefile"), "test:\n\t@echo tested\n");
  const { api, home } = await activate(t, { folder, trusted: false });
  const provider = stub.calls.taskProviders.get("errand");
  // Restricted Mode: the workspace's workflows are its code.
  assert.deepStrictEqual(await provider.provideTasks(), []);
  stub.grantTrust();
  const tasks = await provider.provideTasks();
  assert.deepStrictEqual(
    tasks.map((x) => [x.name, x.definition.workflow, x.detail, x.group?.id]),
    [["#build", "build", "Build it", "build"], ["#make:test", "make:test", "make test", "test"]],
  );
  const build = tasks[0];
  assert.strictEqual(build.source, "errand");
  assert.deepStrictEqual(build.execution.args, ["run", "-w", "#build"]);
  assert.strictEqual(build.execution.options.cwd, folder);
  // What VS Code's terminal would run: the real binary, in the foreground.
  const ran = cp.spawnSync(build.execution.process, build.execution.args, {
    cwd: build.execution.options.cwd,
    env: { ...process.env, ...build.execution.options.env, ERRAND_HOME: home },
  });
  assert.strictEqual(ran.status, 3, "the workflow's own exit status");
  assert.match(ran.stdout.toString(), /built/);
  await until("the window heard of it", () => api.store.list().find((x) => x.workflow === "build" && x.status === "failed"));
  // A tasks.json entry naming a workflow resolves to the same.
  const resolved = provider.resolveTask({ definition: { type: "errand", workflow: "make:test" } });
  assert.deepStrictEqual(resolved.execution.args, ["run", "-w", "#make:test"]);
  // In a multi-root workspace, in the folder whose tasks.json names it.
  const other = { uri: { fsPath: path.join(folder, "other") } };
  assert.strictEqual(provider.resolveTask({ definition: { type: "errand", workflow: "x" }, scope: other }).execution.options.cwd, other.uri.fsPath);
  assert.strictEqual(provider.resolveTask({ definition: { type: "errand" } }), undefined);
});

test("start-up: one summary of what finished while VS Code was closed; failures stay unread", async (t) => {
  const home = tempDir("errand-ext-");
  // Started and waited for without being watched (`run -w` shows the output,
  // which marks a task read).
  const ok = cli(home, "run", "--name", "ok-task", "--", "true").stdout.trim();
  const bad = cli(home, "run", "--name", "bad-task", "--", "sh", "-c", "exit 4").stdout.trim();
  assert.strictEqual(cli(home, "wait", ok, bad).status, 4);
  const { init } = await activate(t, { home });
  assert.strictEqual(init.unread.length, 2);
  const msg = await until("a summary", () => stub.calls.messages.find((m) => /while VS Code was closed/.test(m.text)));
  assert.strictEqual(msg.kind, "warning");
  assert.match(msg.text, /^2 tasks finished while VS Code was closed \(1 failed\): (bad-task, ok-task|ok-task, bad-task)$/);
  assert.deepStrictEqual(msg.actions, ["Show Tasks"]);
  await until("1 failed in the status bar", () => stub.calls.statusBar.text === "$(tasklist) errand: 1 failed");
  const readAt = () => Object.fromEntries(JSON.parse(cli(home, "ls", "--json").stdout).map((x) => [x.name, x.readAt]));
  await until("the completed task marked read", () => readAt()["ok-task"] !== null);
  assert.strictEqual(readAt()["bad-task"], null);
});

test("a server speaking another protocol version: one clear warning, even after it restarts", async (t) => {
  const dir = tempDir("errand-fake-");
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, "initialize.log");
  const fake = path.join(dir, "errand");
  fs.writeFileSync(
    fake,
    `#!${process.execPath}
// A fake errand serve that answers initialize with protocol version 1.
const fs = require("fs");
const rpc = require(${JSON.stringify(require.resolve("vscode-jsonrpc/node"))});
const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
conn.onRequest("initialize", (params) => {
  fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(params) + "\\n");
  return { server: "errand", version: "0.0.1-fake", protocolVersion: 1, pid: process.pid, dataDir: "/nowhere",
    limits: { parallel: 1, cancelGraceSecs: 5, maxFrameBytes: 1 << 20 }, counts: { running: 0, queued: 0, failed: 0 }, unread: [] };
});
conn.onRequest("task/list", () => ({ tasks: [], nextCursor: null }));
conn.listen();
process.stdin.on("end", () => process.exit(0));
`,
    { mode: 0o755 },
  );
  const { api } = await activate(t, { config: { path: fake } });
  const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : []);
  assert.deepStrictEqual(lines(), [{ clientName: "vscode", clientVersion: "1.100.0-stub", protocolVersion: 2 }]);
  const warnings = () => stub.calls.messages.filter((m) => m.kind === "warning");
  await until("a warning", () => warnings().length === 1);
  assert.match(warnings()[0].text, /errand 0\.0\.1-fake speaks protocol version 1, this extension version 2/);

  let initialized = 0;
  api.client.onInitialized(() => initialized++);
  const first = api.client.pid;
  process.kill(first, "SIGKILL");
  // The warning comes before the initialized listeners run: once they ran, a second warning would be there.
  await until("restarted and initialized again", () => initialized === 1 && api.client.pid !== first);
  assert.strictEqual(lines().length, 2);
  assert.strictEqual(warnings().length, 1, "warned once only");
});

test("counts read at an older store change never replace newer ones, whatever order they arrive in", async (t) => {
  // A fake server: the real one sends out-of-order counts only in races
  // (an answer and a notification crossing), which cannot be produced on demand.
  const dir = tempDir("errand-fake-");
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = path.join(dir, "errand");
  fs.writeFileSync(
    fake,
    `#!${process.execPath}
const rpc = require(${JSON.stringify(require.resolve("vscode-jsonrpc/node"))});
const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
conn.onRequest("initialize", () => {
  setTimeout(() => {
    conn.sendNotification("counts/changed", { running: 2, queued: 0, failed: 0, seq: 7 });
    conn.sendNotification("counts/changed", { running: 9, queued: 0, failed: 0, seq: 5 });
    // Handled after the two above: the test's cue that they were handled.
    conn.sendNotification("task/finished", { outputTail: "", task: { id: "k3vq", name: "cue", command: { shell: "cue" }, cwd: "/",
      env: {}, group: null, workflow: null, status: "completed", createdAt: 1, startedAt: 1, endedAt: Date.now(), durationMs: 1, exitCode: 0,
      signal: null, error: null, progress: null, progressMessage: null, etaAt: null, readAt: null, deletedAt: null,
      restartedFrom: null, pid: null, keepChildren: false, after: null } });
  }, 50);
  return { server: "errand", version: "0.1.0", protocolVersion: 2, pid: process.pid, dataDir: "/nowhere",
    limits: { parallel: 1, cancelGraceSecs: 5, maxFrameBytes: 1 << 20 }, counts: { running: 1, queued: 0, failed: 0, seq: 4 }, unread: [] };
});
conn.onRequest("task/list", () => ({ tasks: [], nextCursor: null, seq: 4 }));
conn.listen();
process.stdin.on("end", () => process.exit(0));
`,
    { mode: 0o755 },
  );
  await activate(t, { config: { path: fake } });
  await until("the cue", () => stub.calls.messages.some((m) => m.text.includes("cue")));
  assert.strictEqual(stub.calls.statusBar.text, "$(sync~spin) errand: 2 running", "seq 5 arrived later but is older");
});

test("control characters in names, commands and descriptions: the tree, messages and pickers show them as cat -v does", async (t) => {
  assert.strictEqual(format.sanitize("a\nb\t\x1b[31m\x7f\u009bx ✓"), "a^Jb^I^[[31m^?M-^[x ✓");
  const folder = fs.realpathSync(tempDir("errand-ws-"));
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  fs.writeFileSync(path.join(folder, "errand.toml"), 'hi = { command = "true", description = "Say\\u001b]0;owned\\u0007 hi" }\n');
  // Its tasks start from the test's directory, outside the folder.
  const { api, home } = await activate(t, { folder, config: { scope: "all" } });
  assert.strictEqual(cli(home, "run", "--name", "a\nb\x1b[2J", "--", "sh", "-c", "echo '\x1b[1m'").status, 0);
  const task = await until("the task completed", () => api.store.list().find((x) => x.status === "completed"));
  const msg = await until("a finish message", () => stub.calls.messages.find((m) => m.kind === "info"));
  assert.match(msg.text, /^a\^Jb\^\[\[2J completed in/);
  const completed = stub.calls.tree.getChildren(stub.calls.tree.getChildren().find((g) => g.label === "Completed"));
  const item = stub.calls.tree.getTreeItem(completed.find((x) => x.id === task.id));
  assert.strictEqual(item.label, "a^Jb^[[2J");
  assert.strictEqual(item.tooltip.split("\n")[1], "sh -c echo '^[[1m'");
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(item.tooltip), item.tooltip);
  stub.script.quickPick.push(() => undefined);
  await stub.commands.executeCommand("errand.runWorkflow");
  const rows = stub.calls.quickPicks.at(-1).items.filter((i) => i.kind !== stub.QuickPickItemKind.Separator);
  assert.deepStrictEqual(rows.map((i) => i.description), ["Say^[]0;owned^G hi"]);
  stub.script.quickPick.push(() => undefined);
  await stub.commands.executeCommand("errand.restartTask");
  assert.ok(stub.calls.quickPicks.at(-1).items.some((i) => i.label.endsWith(" a^Jb^[[2J")), "the task picker");
  assert.strictEqual(task.name, "a\nb\x1b[2J", "the store keeps the exact name");
  // A failure quotes its last line of output: colour codes and all, shown.
  assert.strictEqual(cli(home, "run", "--name", "f\x1b[2J", "--", "sh", "-c", "printf '\\033[31mboom\\033]0;t\\007\\r\\n'; exit 3").status, 0);
  const failed = await until("a failure message", () => stub.calls.messages.find((m) => m.kind === "error"));
  assert.strictEqual(failed.text, "f^[[2J failed (exit 3): ^[[31mboom^[]0;t^G");
});

test("formatting and the store: status text, messages, summary, merge order", () => {
  assert.strictEqual(format.statusText({ running: 2, queued: 0, failed: 1 }), "$(sync~spin) errand: 2 running · 1 failed");
  assert.strictEqual(format.statusText({ running: 0, queued: 3, failed: 1 }), "$(tasklist) errand: 3 queued · 1 failed");
  assert.strictEqual(format.statusText({ running: 0, queued: 0, failed: 0 }), "");
  const base = {
    id: "a", name: "build", command: { shell: "make" }, cwd: "/", env: {}, group: null, workflow: null,
    createdAt: 1, startedAt: 1, endedAt: 2, durationMs: 1500, exitCode: 0, signal: null, error: null,
    progress: null, progressMessage: null, etaAt: null, readAt: null, deletedAt: null, restartedFrom: null, pid: null,
  };
  const on = { onComplete: true, onFailure: true, onCancel: true };
  assert.deepStrictEqual(format.finishedMessage({ ...base, status: "completed" }, "", on), { kind: "info", text: "build completed in 1.5s" });
  assert.strictEqual(format.finishedMessage({ ...base, status: "completed" }, "", { ...on, onComplete: false }), null);
  assert.deepStrictEqual(format.finishedMessage({ ...base, status: "failed", exitCode: 2 }, "a\nlast\n", on), { kind: "error", text: "build failed (exit 2): last" });
  assert.strictEqual(format.startupSummary([]), null);
  assert.strictEqual(format.startupSummary([{ ...base, status: "failed" }]).kind, "warning");
  // The count is of them all, not of the newest 50 that came with initialize.
  assert.match(format.startupSummary([base], 2000).text, /^2000 tasks finished while VS Code was closed: .* and 1995 more$/);
  // Failures among those not listed count too.
  const capped = format.startupSummary([base], 2000, 60);
  assert.strictEqual(capped.kind, "warning");
  assert.match(capped.text, /\(60 failed\)/);
  assert.strictEqual(format.commandText({ argv: ["ls", "-l"] }), "ls -l");
  assert.strictEqual(format.describe({ ...base, status: "failed", exitCode: 2, progress: 40 }, 1002), "1s ago · 1.5s · exit 2 · 40%");
  // Running and queued tasks say for how long, not "0s ago · 0.0s".
  assert.strictEqual(format.describe({ ...base, status: "running", startedAt: 1000, endedAt: null, durationMs: 0, progress: 40 }, 73_000), "running 1m12s · 40%");
  assert.strictEqual(format.describe({ ...base, status: "queued", createdAt: 1000, startedAt: null, endedAt: null, durationMs: null }, 4000), "queued 3.0s");
  const waiting = { ...base, status: "queued", createdAt: 1000, startedAt: null, endedAt: null, durationMs: null, dependsOn: ["k3vq", "x7p2"] };
  assert.strictEqual(format.describe(waiting, 4000), "queued 3.0s · after k3vq, x7p2");
  assert.strictEqual(format.describe({ ...base, status: "failed", exitCode: 2, diagnostics: { errors: 2, warnings: 1, infos: 0 } }, 1002), "1s ago · 1.5s · exit 2 · 3 problems");
  const timedOut = { ...base, status: "failed", signal: 15, timeoutMs: 600_000, error: "timed out after 10m" };
  assert.deepStrictEqual(format.finishedMessage(timedOut, "", on), { kind: "error", text: "build failed (timed out after 10m00s)" });

  const noServer = { on() {}, onInitialized() {}, request: async () => ({ tasks: [], nextCursor: null }) };
  const store = new TaskStore(noServer);
  store.update({ ...base, status: "running" });
  store.merge({ ...base, status: "queued" });
  assert.strictEqual(store.byId.get("a").status, "running", "a stale response never steps a task back");
  store.update({ ...base, id: "b", createdAt: 5, status: "completed", deletedAt: 6 });
  assert.deepStrictEqual(store.list().map((x) => x.id), ["a"], "deleted tasks are hidden");

  // Clearing: only read tasks leave the view; two windows share one mark.
  let mark = 0;
  const shared = { load: () => mark, save: (v) => (mark = v) };
  const one = new TaskStore(noServer, shared);
  const two = new TaskStore(noServer, shared);
  const read = { ...base, status: "completed", readAt: 3 };
  for (const w of [one, two]) {
    w.update({ ...read, id: "r1", endedAt: 10 });
    w.update({ ...base, id: "u1", status: "failed", endedAt: 5 }); // unread: it stays
  }
  const first = one.clearFinished();
  assert.deepStrictEqual([first.cleared, mark], [1, 10]);
  assert.deepStrictEqual(one.list().map((x) => x.id), ["u1"], "an unread task is never cleared");
  assert.deepStrictEqual(two.list().map((x) => x.id), ["u1"], "the other window sees the clear");
  two.update({ ...read, id: "r2", endedAt: 20 });
  const second = two.clearFinished();
  one.undoClear(first);
  assert.strictEqual(mark, 20, "an undo after a later clear does nothing");
  two.undoClear(second);
  assert.strictEqual(mark, 10);
  assert.deepStrictEqual(format.describe({ ...base, status: "cancelled", signal: 15 }, 1002), "1s ago · 1.5s");
  assert.deepStrictEqual(format.describe({ ...base, status: "cancelled", signal: 9 }, 1002), "1s ago · 1.5s · signal 9", "a KILL is news");
});

test("the tree's pause and resume: the row says paused with a pause icon, then runs again; progress from the output shows with an ETA", async (t) => {
  const { api } = await activate(t);
  await runCommand(api, "printf '[3/10] compiling\\n'; sleep 100", "running");
  const row = () => stub.calls.tree.getChildren(stub.calls.tree.getChildren()[0])[0];
  await until("progress read from the output, with an ETA", () => /· 30% · .+ left$/.test(stub.calls.tree.getTreeItem(row()).description ?? ""));
  assert.match(stub.calls.statusBar.tooltip, /\nprintf .* · 30% · .+ left/, "the status bar's tooltip names it");
  await stub.commands.executeCommand("errand.pauseTask", row());
  await until("the row says paused", () => stub.calls.tree.getTreeItem(row()).contextValue === "task-paused");
  const paused = stub.calls.tree.getTreeItem(row());
  assert.strictEqual(paused.iconPath.id, "debug-pause");
  assert.match(paused.description, /· paused/);
  await stub.commands.executeCommand("errand.resumeTask", row());
  await until("running again", () => stub.calls.tree.getTreeItem(row()).contextValue === "task-running");
  assert.ok(!/paused/.test(stub.calls.tree.getTreeItem(row()).description));
});

test("a long-running task: a message once it is ready, the tree and the status bar say so; a watch counts", async (t) => {
  const { api, home } = await activate(t);
  const folder = tempDir("errand-ext-watch-");
  t.after(() => fs.rmSync(folder, { recursive: true, force: true }));
  const watch = cli(home, "run", "--watch", folder, "--", "true");
  assert.strictEqual(watch.status, 0, watch.stderr);
  await until("1 watching in the status bar", () => /1 watching/.test(stub.calls.statusBar.text));
  const run = cli(home, "run", "--ready", "^listening", "echo starting; sleep 0.3; echo listening; sleep 60");
  assert.strictEqual(run.status, 0, run.stderr);
  const id = run.stdout.trim();
  const msg = await until("a ready message", () => stub.calls.messages.find((m) => /is ready$/.test(m.text)));
  assert.strictEqual(msg.kind, "info");
  assert.deepStrictEqual(msg.actions, ["Show Output"]);
  const item = await until("a ready row", () => {
    // Below the open watch's section.
    const running = stub.calls.tree.getChildren().find((n) => /^Running/.test(stub.calls.tree.getTreeItem(n).label));
    const row = running && stub.calls.tree.getChildren(running).find((n) => n.id === id);
    return row && stub.calls.tree.getTreeItem(row);
  });
  assert.strictEqual(item.iconPath.id, "broadcast");
  assert.match(item.description, /^running .* · ready$/);
  assert.strictEqual(item.contextValue, "task-running", "it is cancelled as any running task");
  assert.strictEqual(cli(home, "cancel", watch.stdout.trim()).status, 0);
  await until("no watch counted", () => !/watching/.test(stub.calls.statusBar.text));
});
