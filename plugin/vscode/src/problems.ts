// Build errors in the Problems panel: when a task of this window's scope
// ends with messages counted in its output, the compiler and linter messages of its output (task/diagnostics:
// the server reads them, never this thread) fill errand's collection, kept
// per task name and cleared when a task of that name starts again; a
// watch-mode tool's (tsc --watch) are replaced at each compile cycle's end
// (task/diagnosticsChanged).
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import type { Diagnostic, Task } from "./protocol";
import { inScope } from "./scope";

const SEVERITY: Record<Diagnostic["severity"], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** The server counted messages in its output (warnings of a build that
 * passed too); a server that did not count: load a failure's. */
function worthLoading(task: Task): boolean {
  const c = task.diagnostics;
  return c ? c.errors + c.warnings + c.infos > 0 : task.status === "failed";
}

export class Problems implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("errand");
  /** What each task name put in the panel, by file. */
  private readonly byName = new Map<string, Map<string, vscode.Diagnostic[]>>();
  /** Starts and compile cycles seen per task name: a load that a newer
   * one overtook is dropped. */
  private readonly changes = new Map<string, number>();

  constructor(private readonly client: ErrandClient) {
    client.on("task/started", (e) => {
      this.changed(e.task.name);
      this.clear(e.task.name);
    });
    client.on("task/finished", (e) => {
      if (worthLoading(e.task) && inScope(e.task)) void this.load(e.task).catch(() => undefined);
    });
    // A watch-mode tool's compile cycle ended: its messages replace the last cycle's.
    client.on("task/diagnosticsChanged", (r) => {
      this.changed(r.task.name);
      if (inScope(r.task)) this.show(r.task.name, r.diagnostics);
    });
    client.onInitialized(() => void this.catchUp().catch(() => undefined));
  }

  /** After (re)connecting: running watch-mode tools' last cycles (a running
   * task has counts once a cycle ended), which no notification repeats
   * before their next cycle; none clears stale ones. */
  private async catchUp(): Promise<void> {
    const before = new Map(this.changes);
    const { tasks } = await this.client.request("task/list", { status: ["running"] });
    for (const task of tasks) if (task.diagnostics && inScope(task)) await this.load(task, before.get(task.name) ?? 0);
  }

  private changed(name: string): void {
    this.changes.set(name, (this.changes.get(name) ?? 0) + 1);
  }

  /** Fill the panel from a task's output; how many messages it holds.
   * `before`: the task name's changes when what asked for it was known. */
  async load(task: Task, before = this.changes.get(task.name) ?? 0): Promise<number> {
    const result = await this.client.request("task/diagnostics", { id: task.id });
    // A task of that name started, or a newer cycle came, meanwhile: these are stale.
    if ((this.changes.get(task.name) ?? 0) !== before) return result.diagnostics.length;
    this.show(task.name, result.diagnostics);
    return result.diagnostics.length;
  }

  /** Put a task name's messages in the panel, in place of its last. */
  private show(name: string, diagnostics: Diagnostic[]): void {
    const files = new Map<string, vscode.Diagnostic[]>();
    for (const d of diagnostics) {
      const line = Math.max(d.line - 1, 0);
      const column = Math.max((d.column ?? 1) - 1, 0);
      const item = new vscode.Diagnostic(new vscode.Range(line, column, line, column), d.message, SEVERITY[d.severity]);
      item.source = `errand: ${d.source}`;
      if (d.code) item.code = d.code;
      files.set(d.file, [...(files.get(d.file) ?? []), item]);
    }
    this.clear(name);
    this.byName.set(name, files);
    for (const file of files.keys()) this.refresh(file);
  }

  private clear(name: string): void {
    const files = this.byName.get(name);
    if (!files) return;
    this.byName.delete(name);
    for (const file of files.keys()) this.refresh(file);
  }

  /** A file's entry: what every task name holds for it. */
  private refresh(file: string): void {
    const all = [...this.byName.values()].flatMap((files) => files.get(file) ?? []);
    this.collection.set(vscode.Uri.file(file), all.length > 0 ? all : undefined);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
