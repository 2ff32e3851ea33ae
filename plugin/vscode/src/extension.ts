// errand for VS Code: palette commands, a status bar count, finish and
// failure messages, a tree of tasks, live output in an editor tab.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { ErrandConnection } from "./connection";
import * as model from "./model";

const OUTPUT_SCHEME = "errand-output";

/** The binary: the setting, then PATH, then the workspace's own build. */
export function findBinary(setting: string, pathEnv: string, folders: string[]): string | undefined {
  const executable = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (setting) return executable(setting) ? setting : undefined;
  for (const dir of pathEnv.split(path.delimiter)) {
    if (dir && executable(path.join(dir, "errand"))) return path.join(dir, "errand");
  }
  for (const folder of folders) {
    for (const build of ["release", "debug"]) {
      const p = path.join(folder, "target", build, "errand");
      if (executable(p)) return p;
    }
  }
  return undefined;
}

interface OutputEvent {
  id: string;
  from: number;
  next: number;
  data: string;
}

/** Read-only documents errand-output:/ID that grow while the task runs. */
class OutputDocuments implements vscode.TextDocumentContentProvider {
  private readonly text = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly api: Api) {}

  static uri(id: string): vscode.Uri {
    return vscode.Uri.parse(`${OUTPUT_SCHEME}:/${id}.log`);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.text.get(uri.path.replace(/^\//, "").replace(/\.log$/, "")) ?? "";
  }

  append(ev: OutputEvent): void {
    if (!this.text.has(ev.id)) return;
    this.text.set(ev.id, (this.text.get(ev.id) ?? "") + ev.data);
    this.changed.fire(OutputDocuments.uri(ev.id));
  }

  async open(id: string): Promise<void> {
    this.text.set(id, "");
    let offset = 0;
    for (;;) {
      const r = await this.api.conn.request<{ data: string; next: number; more: boolean; finished: boolean }>("task/output", {
        id,
        offset,
        max_bytes: 4 << 20,
      });
      this.text.set(id, (this.text.get(id) ?? "") + r.data);
      offset = r.next;
      if (r.more) continue;
      if (!r.finished) await this.api.conn.request("task/follow", { id, from: offset });
      break;
    }
    const doc = await vscode.workspace.openTextDocument(OutputDocuments.uri(id));
    this.changed.fire(doc.uri);
    await vscode.window.showTextDocument(doc, { preview: false });
  }
}

/** A section of the tree (tasks carry a `group` field of their own). */
class Section {
  constructor(
    readonly label: string,
    readonly tasks: model.Task[],
  ) {}
}

type Node = Section | model.Task;

class TaskTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: model.TaskStore) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.store.grouped().map((g) => new Section(g.label, g.tasks));
    return node instanceof Section ? node.tasks : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof Section) {
      const item = new vscode.TreeItem(
        `${node.label} (${node.tasks.length})`,
        node.tasks.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
      );
      item.contextValue = "group";
      return item;
    }
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = model.describe(node);
    item.tooltip = `${node.id} · ${node.status}\n${node.command.shell ?? (node.command.argv ?? []).join(" ")}\n${node.cwd}`;
    item.iconPath = new vscode.ThemeIcon(model.ICONS[node.status]);
    item.contextValue = `task-${node.status}`;
    item.command = { command: "errand.showOutput", title: "Show Output", arguments: [node] };
    return item;
  }
}

export class Api {
  readonly store = new model.TaskStore();
  readonly conn: ErrandConnection;
  readonly tree: TaskTree;
  readonly outputs: OutputDocuments;
  readonly status: vscode.StatusBarItem;
  private summarised = false;

  constructor(private readonly log: vscode.OutputChannel) {
    this.tree = new TaskTree(this.store);
    this.outputs = new OutputDocuments(this);
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.status.command = "errand.showTasks";
    this.status.name = "Errand";
    this.conn = new ErrandConnection(
      () => findBinary(
        this.settings().get<string>("path", ""),
        process.env.PATH ?? "",
        (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      ),
      () => {
        const parallel = this.settings().get<number | null>("parallel", null);
        return parallel ? { ...process.env, ERRAND_PARALLEL: String(parallel) } : process.env;
      },
      (method, params) => this.notified(method, params),
      (line) => this.log.appendLine(line),
    );
    this.conn.onStart(() => void this.initialize());
  }

  settings(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("errand");
  }

  cwd(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  setCounts(c: model.Counts): void {
    this.store.counts = c;
    const text = model.statusText(c);
    this.status.text = text;
    this.status.tooltip = "Errand: show tasks";
    if (text) this.status.show();
    else this.status.hide();
  }

  private async initialize(): Promise<void> {
    try {
      const init = await this.conn.request<{ counts: model.Counts; unread: model.Task[] }>("initialize", {
        client_name: "vscode",
        client_version: vscode.version,
      });
      this.setCounts(init.counts);
      await this.refresh();
      if (!this.summarised && this.settings().get<boolean>("notifications.onStartup", true)) {
        this.summarised = true;
        const summary = model.startupSummary(init.unread);
        if (summary) {
          void this.show(summary, []);
          // Failures stay unread: they count in the status bar until cleared.
          const seen = init.unread.filter((t) => t.status !== "failed" && t.status !== "lost").map((t) => t.id);
          if (seen.length > 0) await this.conn.request("task/markRead", { ids: seen });
        }
      }
    } catch (e) {
      this.log.appendLine(`initialize failed: ${String(e)}`);
    }
  }

  async refresh(): Promise<void> {
    const r = await this.conn.request<{ tasks: model.Task[] }>("task/list", { limit: 200 });
    for (const t of r.tasks) this.store.merge(t);
    this.tree.refresh();
  }

  private notified(method: string, params: unknown): void {
    const p = params as { task?: model.Task; output_tail?: string };
    switch (method) {
      case "task/queued":
      case "task/started":
      case "task/updated":
        if (p.task) this.store.update(p.task);
        break;
      case "task/progress": {
        const ev = params as { id: string; progress: number | null };
        const t = this.store.byId.get(ev.id);
        if (t) t.progress = ev.progress;
        break;
      }
      case "task/finished":
        if (p.task) {
          this.store.update(p.task);
          this.finished(p.task, p.output_tail ?? "");
        }
        break;
      case "counts/changed":
        this.setCounts(params as model.Counts);
        return;
      case "task/outputAppended":
        this.outputs.append(params as OutputEvent);
        return;
    }
    this.tree.refresh();
  }

  private finished(t: model.Task, tail: string): void {
    const s = this.settings();
    const msg = model.finishedMessage(t, tail, {
      onComplete: s.get("notifications.onComplete", true),
      onFailure: s.get("notifications.onFailure", true),
      onCancel: s.get("notifications.onCancel", false),
    });
    if (msg) void this.show(msg, ["Show Output", "Restart"], t);
  }

  private async show(msg: model.Popup, actions: string[], t?: model.Task): Promise<void> {
    const fn =
      msg.kind === "error"
        ? vscode.window.showErrorMessage
        : msg.kind === "warning"
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    const choice = await fn(msg.text, ...actions);
    if (!t || !choice) return;
    if (choice === "Show Output") await this.outputs.open(t.id);
    if (choice === "Restart") await this.conn.request("task/restart", { id: t.id });
  }

  /** A task from a tree item, or picked from a list. */
  async pick(arg: unknown, filter: (t: model.Task) => boolean, placeHolder: string): Promise<model.Task | undefined> {
    if (arg && typeof arg === "object" && "id" in arg) return arg as model.Task;
    await this.refresh();
    const items = this.store
      .list()
      .filter(filter)
      .map((t) => ({ label: `$(${model.ICONS[t.status]}) ${t.name}`, description: `${t.id} · ${model.describe(t)}`, task: t }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage("Errand: no task to choose from");
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true }))?.task;
  }
}

export function activate(context: vscode.ExtensionContext): Api {
  const log = vscode.window.createOutputChannel("Errand");
  const api = new Api(log);
  const fail = (e: unknown) => void vscode.window.showErrorMessage(`Errand: ${e instanceof Error ? e.message : String(e)}`);
  const command = (name: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(name, (...args: unknown[]) => fn(...args).catch(fail));

  context.subscriptions.push(
    log,
    api.status,
    vscode.workspace.registerTextDocumentContentProvider(OUTPUT_SCHEME, api.outputs),
    vscode.window.createTreeView("errandTasks", { treeDataProvider: api.tree, showCollapseAll: false }),
    command("errand.runCommand", async () => {
      const cmd = await vscode.window.showInputBox({ prompt: "Command to run in the background", placeHolder: "cargo build" });
      if (cmd) await api.conn.request("task/run", { command: cmd, cwd: api.cwd() });
    }),
    command("errand.runWorkflow", async () => {
      const wfs = await api.conn.request<{ name: string; description: string | null; command: model.Task["command"] }[]>(
        "workflow/list",
        { cwd: api.cwd() },
      );
      if (wfs.length === 0) {
        void vscode.window.showInformationMessage("Errand: no workflows (add an errand.toml to the project)");
        return;
      }
      const choice = await vscode.window.showQuickPick(
        wfs.map((w) => ({ label: `#${w.name}`, description: w.description ?? w.command.shell ?? (w.command.argv ?? []).join(" "), name: w.name })),
        { placeHolder: "Workflow to run" },
      );
      if (choice) await api.conn.request("task/run", { workflow: choice.name, cwd: api.cwd() });
    }),
    command("errand.showTasks", async () => {
      await api.refresh();
      const items: (vscode.QuickPickItem & { task?: model.Task })[] = [];
      for (const g of api.store.grouped()) {
        items.push({ label: `${g.label} (${g.tasks.length})`, kind: vscode.QuickPickItemKind.Separator });
        for (const t of g.tasks.slice(0, 50)) {
          items.push({ label: `$(${model.ICONS[t.status]}) ${t.name}`, description: `${t.id} · ${model.describe(t)}`, task: t });
        }
      }
      const choice = await vscode.window.showQuickPick(items, { placeHolder: "Errand tasks", matchOnDescription: true });
      const t = choice?.task;
      if (!t) return;
      const actions = model.isActive(t) ? ["Show Output", "Cancel"] : ["Show Output", "Restart", "Delete"];
      const action = await vscode.window.showQuickPick(actions, { placeHolder: `${t.name} (${t.status})` });
      if (action === "Show Output") await api.outputs.open(t.id);
      if (action === "Cancel") await api.conn.request("task/cancel", { id: t.id });
      if (action === "Restart") await api.conn.request("task/restart", { id: t.id });
      if (action === "Delete") await api.conn.request("task/delete", { id: t.id });
    }),
    command("errand.cancelTask", async (arg) => {
      const t = await api.pick(arg, model.isActive, "Task to cancel");
      if (t) await api.conn.request("task/cancel", { id: t.id });
    }),
    command("errand.restartTask", async (arg) => {
      const t = await api.pick(arg, (x) => !model.isActive(x), "Task to restart");
      if (t) await api.conn.request("task/restart", { id: t.id });
    }),
    command("errand.showOutput", async (arg) => {
      const t = await api.pick(arg, () => true, "Output of task");
      if (t) await api.outputs.open(t.id);
    }),
    command("errand.clearFinished", async () => {
      await api.conn.request("task/markRead", { all: true });
      await api.refresh();
    }),
    command("errand.refresh", () => api.refresh()),
    { dispose: () => api.conn.dispose() },
  );
  // Relative times in the tree stay roughly current.
  const tick = setInterval(() => api.tree.refresh(), 30_000);
  context.subscriptions.push({ dispose: () => clearInterval(tick) });
  try {
    api.conn.ensure();
  } catch (e) {
    log.appendLine(String(e));
  }
  return api;
}

export function deactivate(): void {}
