// The palette commands, and the tree's actions (inline and on right-click),
// which call them with the task clicked and the tasks selected.
import * as os from "os";
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { commandText, describe, duration, ICONS, sanitize, sectionTitle, statusName } from "./format";
import type { OutputDocuments } from "./outputDocuments";
import type { OutputTerminals } from "./outputTerminals";
import type { Problems } from "./problems";
import type { JsonValue, Task, WorkflowInfo } from "./protocol";
import { isActive, TaskStore } from "./tasks";
import { WatchRow } from "./tree";
import { runsWorkflow, workspaceCodeAllowed } from "./trust";
import type { Watches } from "./watches";

/** Where a task's output is shown: live in a terminal, or as text. */
export interface Outputs {
  terminals: OutputTerminals;
  documents: OutputDocuments;
  problems: Problems;
}

/** What was run last (from any window): Rerun Last runs it again. */
const LAST_RUN = "errand.lastRun";
/** The commands typed in Run Command, newest first (20). */
const HISTORY = "errand.commandHistory";
type LastRun = { command: string } | { workflow: string };

export function registerCommands(
  client: ErrandClient,
  store: TaskStore,
  outputs: Outputs,
  memory: vscode.Memento,
  watches: Watches,
): vscode.Disposable[] {
  const fail = (e: unknown) => void vscode.window.showErrorMessage(vscode.l10n.t("Errand: {0}", e instanceof Error ? e.message : String(e)));
  const command = (name: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(name, (...args: unknown[]) => fn(...args).catch(fail));
  const pick = (arg: unknown, filter: (t: Task) => boolean, placeHolder: string) => pickTask(store, arg, filter, placeHolder);
  const run = async (what: LastRun) => {
    await client.request("task/run", { ...what, clientCwd: runDir() });
    await memory.update(LAST_RUN, what);
  };
  // From the tree: the rows selected when the clicked one is among them, else the clicked one.
  const targets = async (args: unknown[], filter: (t: Task) => boolean, placeHolder: string): Promise<Task[]> => {
    const [clicked, selected] = args;
    if (Array.isArray(selected) && selected.some((t) => isTask(t) && isTask(clicked) && t.id === clicked.id)) {
      // As they are now: a row may have ended since it was drawn.
      return selected.filter(isTask).map((t) => store.byId.get(t.id) ?? t).filter(filter);
    }
    const t = await pick(clicked, filter, placeHolder);
    return t && filter(t) ? [t] : [];
  };

  return [
    command("errand.runCommand", async () => {
      const cmd = await askCommand(memory.get<string[]>(HISTORY, []));
      if (!cmd || (runsWorkflow(cmd) && !workspaceCodeAllowed())) return;
      await run({ command: cmd });
      const history = [cmd, ...memory.get<string[]>(HISTORY, []).filter((h) => h !== cmd)].slice(0, 20);
      await memory.update(HISTORY, history);
    }),
    // Run now, and again whenever a file under the folder it runs in (a
    // workflow: its `watch`) changes, until Stop Watching.
    command("errand.watchCommand", async () => {
      const cmd = await askCommand(memory.get<string[]>(HISTORY, []));
      if (!cmd || (runsWorkflow(cmd) && !workspaceCodeAllowed())) return;
      const started = await client.request("watch/start", { command: cmd, clientCwd: runDir() });
      watches.refresh();
      void vscode.window.showInformationMessage(
        vscode.l10n.t("Errand: watching {0} ({1}): it runs now and on every change", started.watch.paths.map(sanitize).join(", "), started.watch.id),
      );
    }),
    command("errand.endWatch", async (arg?: unknown) => {
      let id = arg instanceof WatchRow ? arg.watch.id : undefined;
      if (!id) {
        const open = watches.list();
        const choice = await vscode.window.showQuickPick(
          open.map((w) => ({ label: w.id, description: sanitize(w.lastRun?.name ?? ""), detail: w.paths.map(sanitize).join(", ") })),
          { placeHolder: vscode.l10n.t("Watch to stop") },
        );
        id = choice?.label;
      }
      if (!id) return;
      await client.request("watch/end", { id });
      watches.refresh();
    }),
    command("errand.runWorkflow", async () => {
      if (!workspaceCodeAllowed()) return;
      const wfs = await client.request("workflow/list", { clientCwd: runDir() });
      if (wfs.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t("Errand: no workflows (add an errand.toml to the project)"));
        return;
      }
      const choice = await vscode.window.showQuickPick(workflowItems(wfs), { placeHolder: vscode.l10n.t("Workflow to run") });
      if (!choice?.name) return;
      if (choice.refused) {
        void vscode.window.showWarningMessage(vscode.l10n.t("Errand: #{0} cannot run here: {1}", sanitize(choice.name), sanitize(choice.refused)));
        return;
      }
      await run({ workflow: choice.name });
    }),
    command("errand.rerunLast", async () => {
      const last = memory.get<LastRun>(LAST_RUN);
      if (!last) {
        void vscode.window.showInformationMessage(vscode.l10n.t("Errand: nothing run yet: Run Command… first"));
        return;
      }
      if (("workflow" in last || runsWorkflow(last.command)) && !workspaceCodeAllowed()) return;
      await run(last);
    }),
    command("errand.showTasks", () => showTasks(client, store, outputs.terminals)),
    command("errand.cancelTask", async (...args) => {
      await each(await targets(args, isActive, vscode.l10n.t("Task to cancel")), (t) => client.request("task/cancel", { id: t.id }));
    }),
    command("errand.pauseTask", async (...args) => {
      const running = (t: Task) => t.status === "running" && !t.pausedAt;
      await each(await targets(args, running, vscode.l10n.t("Task to pause")), (t) => client.request("task/pause", { id: t.id }));
    }),
    command("errand.resumeTask", async (...args) => {
      const paused = (t: Task) => t.status === "running" && !!t.pausedAt;
      await each(await targets(args, paused, vscode.l10n.t("Task to resume")), (t) => client.request("task/resume", { id: t.id }));
    }),
    command("errand.restartTask", async (arg) => {
      const t = await pick(arg, (x) => !isActive(x), vscode.l10n.t("Task to restart"));
      if (t) await restartTask(client, t);
    }),
    command("errand.showOutput", async (arg) => {
      const t = await pick(arg, () => true, vscode.l10n.t("Output of task"));
      if (t) outputs.terminals.show(t);
    }),
    command("errand.openOutputAsText", async (arg) => {
      const t = await pick(arg, () => true, vscode.l10n.t("Output of task, as text"));
      if (t) await outputs.documents.open(t.id, t.name);
    }),
    command("errand.showDetails", async (arg) => {
      const t = await pick(arg, () => true, vscode.l10n.t("Details of task"));
      if (t) await showDetails(client, t);
    }),
    command("errand.deleteTask", async (...args) => {
      const gone = await targets(args, (x) => !isActive(x), vscode.l10n.t("Task to delete from errand's history"));
      const deleted = await each(gone, async (t) => store.update(await client.request("task/delete", { id: t.id })));
      if (deleted.length === 0) return;
      const text =
        deleted.length === 1
          ? vscode.l10n.t("Errand: deleted {0}", sanitize(deleted[0].name))
          : vscode.l10n.t("Errand: deleted {0} tasks", deleted.length);
      const undo = await vscode.window.showInformationMessage(text, vscode.l10n.t("Undo"));
      if (undo) await each(deleted, async (t) => store.update(await client.request("task/restore", { id: t.id })));
    }),
    command("errand.markRead", async (...args) => {
      const read = await targets(args, (x) => !isActive(x) && x.readAt === null, vscode.l10n.t("Task to mark read"));
      if (read.length > 0) await client.request("task/markRead", { ids: read.map((t) => t.id) });
      await store.refresh();
    }),
    command("errand.showProblems", async (arg) => {
      const t = await pick(arg, (x) => !isActive(x), vscode.l10n.t("Problems of task"));
      if (!t) return;
      const count = await outputs.problems.load(t);
      if (count === 0) void vscode.window.showInformationMessage(vscode.l10n.t("Errand: no compiler or linter messages in the output of {0}", sanitize(t.name)));
      else await vscode.commands.executeCommand("workbench.actions.view.problems");
    }),
    command("errand.copyCommand", async (arg) => {
      const t = await pick(arg, () => true, vscode.l10n.t("Command of task"));
      if (t) await vscode.env.clipboard.writeText(commandText(t.command));
    }),
    command("errand.clearFinished", async () => {
      // The mark it leaves hides every read task up to it: a filtered list
      // would lose more than it shows.
      if (store.filter) {
        void vscode.window.showInformationMessage(vscode.l10n.t("Errand: Clear Finished works on the whole list: clear the filter first"));
        return;
      }
      await store.refresh();
      // Only what this window shows: other projects' failures stay unread.
      const unread = store.list().filter((t) => !isActive(t) && t.readAt === null).map((t) => t.id);
      const all = vscode.workspace.getConfiguration("errand").get<string>("scope", "workspace") === "all";
      if (all) await client.request("task/markRead", { all: true });
      else if (unread.length > 0) await client.request("task/markRead", { ids: unread });
      await store.refresh();
      const clear = store.clearFinished();
      if (clear.cleared === 0) return;
      const n = clear.cleared;
      const undo = await vscode.window.showInformationMessage(
        n === 1
          ? vscode.l10n.t("Errand: cleared 1 finished task from the list (errand ls still has it)")
          : vscode.l10n.t("Errand: cleared {0} finished tasks from the list (errand ls still has them)", n),
        vscode.l10n.t("Undo"),
      );
      // The rows come back; they stay read.
      if (undo) store.undoClear(clear);
    }),
    command("errand.refresh", () => store.refresh()),
    command("errand.filterTasks", async () => {
      const text = await vscode.window.showInputBox({
        prompt: vscode.l10n.t("Show the tasks whose name or command holds (empty: all)"),
        value: store.filter,
      });
      if (text !== undefined) await setFilter(store, text);
    }),
    command("errand.clearFilter", () => setFilter(store, "")),
    command("errand.showAllTasks", () => setScope("all")),
    command("errand.showWorkspaceTasks", () => setScope("workspace")),
  ];
}

/** The Run Command box: type a command, or pick one run before (newest first). */
function askCommand(history: string[]): Promise<string | undefined> {
  const box = vscode.window.createQuickPick();
  box.title = vscode.l10n.t("Run Command in the background");
  box.placeholder = vscode.l10n.t("A command to run in {0} (↑↓ for one run before)", workspaceFolder() ?? vscode.l10n.t("your home directory (no folder is open)"));
  const recent = vscode.l10n.t("run before");
  const items = () => {
    const typed = box.value.trim();
    const before = history.filter((h) => h !== typed).map((h) => ({ label: h, description: recent }));
    return typed ? [{ label: typed, alwaysShow: true }, ...before] : before;
  };
  box.items = items();
  box.onDidChangeValue(() => (box.items = items()));
  return new Promise((resolve) => {
    box.onDidAccept(() => {
      // The typed row may lag the last keystroke: what was typed is the value.
      const active = box.activeItems[0];
      resolve(active?.description === recent ? active.label : box.value.trim() || undefined);
      box.hide();
    });
    box.onDidHide(() => {
      resolve(undefined);
      box.dispose();
    });
    box.show();
  });
}

/**
 * `act` on each task; one failing (ended or deleted meanwhile, in another
 * window) does not stop the rest. The failures are told in one message;
 * returns the tasks it worked for.
 */
async function each(tasks: Task[], act: (t: Task) => Promise<unknown>): Promise<Task[]> {
  const results = await Promise.allSettled(tasks.map(act));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${sanitize(tasks[i].name)}: ${String(r.reason instanceof Error ? r.reason.message : r.reason)}`] : []));
  if (failed.length > 0) void vscode.window.showErrorMessage(vscode.l10n.t("Errand: {0}", failed.join("; ")));
  return tasks.filter((_, i) => results[i].status === "fulfilled");
}

async function setFilter(store: TaskStore, text: string): Promise<void> {
  await store.setFilter(text);
  await vscode.commands.executeCommand("setContext", "errand.filtered", store.filter !== "");
}

/** The tree's workspace / all toggle: the setting, for every window. */
async function setScope(scope: "all" | "workspace"): Promise<void> {
  await vscode.workspace.getConfiguration("errand").update("scope", scope, vscode.ConfigurationTarget.Global);
}

/** Restart a task, unless it runs a workflow in Restricted Mode. */
export async function restartTask(client: ErrandClient, t: Task): Promise<void> {
  if (runsWorkflow(t) && !workspaceCodeAllowed()) return;
  await client.request("task/restart", { id: t.id });
}

/** Every task by group, then what to do with the one chosen. */
async function showTasks(client: ErrandClient, store: TaskStore, terminals: OutputTerminals): Promise<void> {
  await store.refresh();
  const items: (vscode.QuickPickItem & { task?: Task })[] = [];
  for (const g of store.grouped()) {
    items.push({ label: `${sectionTitle(g.label)} (${g.tasks.length})`, kind: vscode.QuickPickItemKind.Separator });
    for (const t of g.tasks.slice(0, 50)) items.push(taskItem(t));
  }
  const t = (await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t("Errand tasks"), matchOnDescription: true }))?.task;
  if (!t) return;
  const [output, cancel, restart, del] = [vscode.l10n.t("Show Output"), vscode.l10n.t("Cancel"), vscode.l10n.t("Restart"), vscode.l10n.t("Delete")];
  const actions = isActive(t) ? [output, cancel] : [output, restart, del];
  const action = await vscode.window.showQuickPick(actions, { placeHolder: `${sanitize(t.name)} (${statusName(t.status)})` });
  if (action === output) terminals.show(t);
  if (action === cancel) await client.request("task/cancel", { id: t.id });
  if (action === restart) await restartTask(client, t);
  if (action === del) await client.request("task/delete", { id: t.id });
}

/** Everything errand knows of a task, in a modal dialog. */
async function showDetails(client: ErrandClient, t: Task): Promise<void> {
  const { task, outputTail, result } = await client.request("task/get", { id: t.id });
  const when = (ms: number | null) => (ms === null ? "" : new Date(ms).toLocaleString());
  const lines = [
    vscode.l10n.t("Command: {0}", commandText(task.command)),
    vscode.l10n.t("Directory: {0}", task.cwd),
    vscode.l10n.t("Status: {0}", [statusName(task.status), task.exitCode !== null ? vscode.l10n.t("exit {0}", task.exitCode) : "", task.signal !== null ? vscode.l10n.t("signal {0}", task.signal) : ""].filter((b) => b).join(" · ")),
    vscode.l10n.t("Created: {0}", when(task.createdAt)),
    task.startedAt !== null ? vscode.l10n.t("Started: {0}", when(task.startedAt)) : "",
    task.endedAt !== null ? vscode.l10n.t("Ended: {0} ({1})", when(task.endedAt), duration(task.durationMs)) : "",
    task.workflow ? vscode.l10n.t("Workflow: {0}", `#${task.workflow}`) : "",
    task.group ? vscode.l10n.t("Group: {0}", task.group) : "",
    task.error ? vscode.l10n.t("Error: {0}", task.error) : "",
    task.restartedFrom ? vscode.l10n.t("Restart of: {0}", task.restartedFrom) : "",
    task.resultError ? vscode.l10n.t("Result not kept: {0}", task.resultError) : "",
    result !== null && result !== undefined ? `\n${vscode.l10n.t("Result:")}\n${resultText(result)}` : "",
    outputTail ? `\n${vscode.l10n.t("Last output:")}\n${outputTail.trimEnd()}` : "",
  ];
  const title = `${sanitize(task.name)} · ${task.id}`; // no words to translate
  await vscode.window.showInformationMessage(title, {
    modal: true,
    detail: lines.filter((l) => l !== "").map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => sanitize(c))).join("\n"),
  });
}

/** A task's JSON result, indented, cut after 20 lines (`errand result` has it all). */
function resultText(result: JsonValue): string {
  const lines = JSON.stringify(result, null, 2).split("\n");
  return lines.length <= 20 ? lines.join("\n") : [...lines.slice(0, 20), `… (${lines.length - 20})`].join("\n");
}

function isTask(x: unknown): x is Task {
  return typeof x === "object" && x !== null && "id" in x && "status" in x;
}

/** A task from a tree item, or picked from a list. */
async function pickTask(store: TaskStore, arg: unknown, filter: (t: Task) => boolean, placeHolder: string): Promise<Task | undefined> {
  if (isTask(arg)) return arg;
  await store.refresh();
  const items = store.list().filter(filter).map(taskItem);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t("Errand: no task to choose from"));
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true }))?.task;
}

function taskItem(t: Task): vscode.QuickPickItem & { task: Task } {
  return { label: `$(${ICONS[t.status]}) ${sanitize(t.name)}`, description: `${t.id} · ${describe(t)}`, task: t };
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Where a task starts: the workspace folder; with none open, the home
 * directory (the prompt says so), never the extension host's directory. */
/** Where commands run and workflows are looked up: the workspace's folder, else home. */
export function runDir(): string {
  return workspaceFolder() ?? os.homedir();
}

type WorkflowItem = vscode.QuickPickItem & { name?: string; refused?: string | null };

/** errand's own workflows first, then the tasks detected in the project, under one heading per tool. */
function workflowItems(wfs: WorkflowInfo[]): WorkflowItem[] {
  const own = "errand";
  const sorted = [...wfs].sort((a, b) => (a.detected ?? "").localeCompare(b.detected ?? ""));
  const items: WorkflowItem[] = [];
  let heading: string | undefined;
  for (const w of sorted) {
    const tool = w.detected ?? own;
    if (tool !== heading) {
      items.push({ label: sanitize(tool), kind: vscode.QuickPickItemKind.Separator });
      heading = tool;
    }
    items.push({
      label: `#${sanitize(w.name)}`,
      description: sanitize(w.description ?? commandText(w.command)),
      detail: w.refused ? vscode.l10n.t("Cannot run here: {0}", sanitize(w.refused)) : undefined,
      name: w.name,
      refused: w.refused,
    });
  }
  return items;
}
