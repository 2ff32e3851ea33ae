// The "Tasks" view: one section per status group, a row per task.
import * as vscode from "vscode";
import { commandText, describe, ICONS, sanitize, sectionTitle, statusName } from "./format";
import type { Task } from "./protocol";
import { isActive, type TaskStore } from "./tasks";

/** A section of the tree (tasks carry a `group` field of their own). */
class Section {
  constructor(
    readonly label: string,
    readonly tasks: Task[],
  ) {}
}

type Node = Section | Task;

export class TaskTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  // Times stay current: every second while a task runs or waits ("running
  // 12s"), every 30 s otherwise ("2m ago").
  private readonly tick = setInterval(() => {
    this.ticks++;
    if (this.store.list().some(isActive) || this.ticks % 30 === 0) this.refresh();
  }, 1000);
  private ticks = 0;

  constructor(private readonly store: TaskStore) {
    store.onDidChange(() => this.refresh());
  }

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
        `${sectionTitle(node.label)} (${node.tasks.length})`,
        node.tasks.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
      );
      item.contextValue = "group";
      return item;
    }
    const item = new vscode.TreeItem(sanitize(node.name), vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = describe(node);
    item.tooltip = `${node.id} · ${statusName(node.status)}\n${sanitize(commandText(node.command))}\n${sanitize(node.cwd)}`;
    const paused = node.status === "running" && !!node.pausedAt;
    const ready = node.status === "running" && !!node.readyAt;
    item.iconPath = new vscode.ThemeIcon(paused ? "debug-pause" : ready ? "broadcast" : ICONS[node.status]);
    item.contextValue = paused ? "task-paused" : `task-${node.status}`;
    item.command = { command: "errand.showOutput", title: vscode.l10n.t("Show Output"), arguments: [node] };
    return item;
  }

  dispose(): void {
    clearInterval(this.tick);
    this.changed.dispose();
  }
}
