// errand's workflows, and the tasks it detects in the project, in VS Code's
// own "Tasks: Run Task" as tasks of type `errand`: a tasks.json entry
// `{ "type": "errand", "workflow": "build" }` names one, and Ctrl+Shift+B
// runs one marked as the build. Each runs `errand run -w '#name'` in a
// terminal: its output as it comes, its exit status as the task's, Ctrl+C
// detaches (the task goes on), and errand's own message when it ends.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { commandText, sanitize } from "./format";

export const TASK_TYPE = "errand";

interface ErrandTaskDefinition extends vscode.TaskDefinition {
  workflow: string;
}

export interface TaskSource {
  /** The errand binary, if one is found. */
  binary: () => string | undefined;
  /** Variables the task's errand needs beyond the window's (ERRAND_PARALLEL). */
  env: () => Record<string, string>;
  /** Where workflows are looked up. */
  dir: () => string;
}

/** Where a task runs: a workspace folder (its own workflows), or the window's folder. */
interface Place {
  dir: string;
  scope: vscode.WorkspaceFolder | vscode.TaskScope.Workspace;
}

export function registerTaskProvider(client: ErrandClient, source: TaskSource): vscode.Disposable {
  const make = (definition: ErrandTaskDefinition, place: Place, detail?: string): vscode.Task | undefined => {
    const binary = source.binary();
    if (!binary) return undefined;
    const execution = new vscode.ProcessExecution(binary, ["run", "-w", `#${definition.workflow}`], {
      cwd: place.dir,
      env: source.env(),
    });
    const task = new vscode.Task(definition, place.scope, `#${sanitize(definition.workflow)}`, TASK_TYPE, execution);
    task.detail = detail;
    // `build`, `cargo:build`, `npm:test`…: in the Build and Test groups.
    const verb = definition.workflow.split(":").at(-1);
    if (verb === "build") task.group = vscode.TaskGroup.Build;
    if (verb === "test") task.group = vscode.TaskGroup.Test;
    return task;
  };
  // Each folder of a multi-root workspace has its own workflows.
  const places = (): Place[] => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) return [{ dir: source.dir(), scope: vscode.TaskScope.Workspace }];
    return folders.map((f) => ({ dir: f.uri.fsPath, scope: f }));
  };
  return vscode.tasks.registerTaskProvider(TASK_TYPE, {
    // A workspace's workflows are its code: none in Restricted Mode.
    provideTasks: async () => {
      if (!vscode.workspace.isTrusted) return [];
      const all = await Promise.all(
        places().map(async (place) => {
          const workflows = await client.request("workflow/list", { clientCwd: place.dir });
          return workflows
            .filter((w) => !w.refused)
            .flatMap((w) => make({ type: TASK_TYPE, workflow: w.name }, place, sanitize(w.description ?? commandText(w.command))) ?? []);
        }),
      );
      return all.flat();
    },
    // A tasks.json entry: in the folder whose tasks.json names it.
    resolveTask: (task) => {
      const definition = task.definition as ErrandTaskDefinition;
      if (!vscode.workspace.isTrusted || typeof definition.workflow !== "string") return undefined;
      const scope = task.scope;
      const folder = typeof scope === "object" && scope !== null && "uri" in scope ? scope : undefined;
      return make(definition, folder ? { dir: folder.uri.fsPath, scope: folder } : places()[0]);
    },
  });
}
