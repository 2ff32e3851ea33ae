// The palette commands (and the tree's inline actions, which call them with
// the task as argument).
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { commandText, describe, ICONS, sanitize } from "./format";
import type { OutputDocuments } from "./outputDocuments";
import type { Task } from "./protocol";
import { isActive, TaskStore } from "./tasks";
import { runsWorkflow, workspaceCodeAllowed } from "./trust";

export function registerCommands(client: ErrandClient, store: TaskStore, outputs: OutputDocuments): vscode.Disposable[] {
  const fail = (e: unknown) => void vscode.window.showErrorMessage(`Errand: ${e instanceof Error ? e.message : String(e)}`);
  const command = (name: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(name, (...args: unknown[]) => fn(...args).catch(fail));
  const pick = (arg: unknown, filter: (t: Task) => boolean, placeHolder: string) => pickTask(store, arg, filter, placeHolder);

  return [
    command("errand.runCommand", async () => {
      const cmd = await vscode.window.showInputBox({ prompt: "Command to run in the background", placeHolder: "cargo build" });
      if (!cmd || (runsWorkflow(cmd) && !workspaceCodeAllowed())) return;
      await client.request("task/run", { command: cmd, clientCwd: workspaceFolder() });
    }),
    command("errand.runWorkflow", async () => {
      if (!workspaceCodeAllowed()) return;
      const wfs = await client.request("workflow/list", { clientCwd: workspaceFolder() });
      if (wfs.length === 0) {
        void vscode.window.showInformationMessage("Errand: no workflows (add an errand.toml to the project)");
        return;
      }
      const choice = await vscode.window.showQuickPick(
        wfs.map((w) => ({ label: `#${sanitize(w.name)}`, description: sanitize(w.description ?? commandText(w.command)), name: w.name })),
        { placeHolder: "Workflow to run" },
      );
      if (choice) await client.request("task/run", { workflow: choice.name, clientCwd: workspaceFolder() });
    }),
    command("errand.showTasks", () => showTasks(client, store, outputs)),
    command("errand.cancelTask", async (arg) => {
      const t = await pick(arg, isActive, "Task to cancel");
      if (t) await client.request("task/cancel", { id: t.id });
    }),
    command("errand.restartTask", async (arg) => {
      const t = await pick(arg, (x) => !isActive(x), "Task to restart");
      if (t) await restartTask(client, t);
    }),
    command("errand.showOutput", async (arg) => {
      const t = await pick(arg, () => true, "Output of task");
      if (t) await outputs.open(t.id);
    }),
    command("errand.clearFinished", async () => {
      await client.request("task/markRead", { all: true });
      await store.refresh();
      const clear = store.clearFinished();
      if (clear.cleared === 0) return;
      const n = clear.cleared;
      const undo = await vscode.window.showInformationMessage(
        `Errand: cleared ${n} finished ${n === 1 ? "task" : "tasks"} from the list (errand ls still has them)`,
        "Undo",
      );
      // The rows come back; they stay read.
      if (undo === "Undo") store.undoClear(clear);
    }),
    command("errand.refresh", () => store.refresh()),
  ];
}

/** Restart a task, unless it runs a workflow in Restricted Mode. */
export async function restartTask(client: ErrandClient, t: Task): Promise<void> {
  if (runsWorkflow(t) && !workspaceCodeAllowed()) return;
  await client.request("task/restart", { id: t.id });
}

/** Every task by group, then what to do with the one chosen. */
async function showTasks(client: ErrandClient, store: TaskStore, outputs: OutputDocuments): Promise<void> {
  await store.refresh();
  const items: (vscode.QuickPickItem & { task?: Task })[] = [];
  for (const g of store.grouped()) {
    items.push({ label: `${g.label} (${g.tasks.length})`, kind: vscode.QuickPickItemKind.Separator });
    for (const t of g.tasks.slice(0, 50)) items.push(taskItem(t));
  }
  const t = (await vscode.window.showQuickPick(items, { placeHolder: "Errand tasks", matchOnDescription: true }))?.task;
  if (!t) return;
  const actions = isActive(t) ? ["Show Output", "Cancel"] : ["Show Output", "Restart", "Delete"];
  const action = await vscode.window.showQuickPick(actions, { placeHolder: `${sanitize(t.name)} (${t.status})` });
  if (action === "Show Output") await outputs.open(t.id);
  if (action === "Cancel") await client.request("task/cancel", { id: t.id });
  if (action === "Restart") await restartTask(client, t);
  if (action === "Delete") await client.request("task/delete", { id: t.id });
}

/** A task from a tree item, or picked from a list. */
async function pickTask(store: TaskStore, arg: unknown, filter: (t: Task) => boolean, placeHolder: string): Promise<Task | undefined> {
  if (arg && typeof arg === "object" && "id" in arg) return arg as Task;
  await store.refresh();
  const items = store.list().filter(filter).map(taskItem);
  if (items.length === 0) {
    void vscode.window.showInformationMessage("Errand: no task to choose from");
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
