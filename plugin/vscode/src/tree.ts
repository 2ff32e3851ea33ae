// The "Tasks" view: the open watches first, then one section per status
// group, a row per task.
import * as vscode from "vscode";
import { commandText, describe, ICONS, sanitize, sectionTitle, statusName } from "./format";
import type { Task, WatchInfo } from "./protocol";
import { isActive, type TaskStore } from "./tasks";
import type { Watches } from "./watches";

/** A section of the tree (tasks carry a `group` field of their own). */
class Section {
  constructor(
    readonly label: string,
    readonly tasks: Task[],
  ) {}
}

/** The open watches' section. */
class WatchSection {
  constructor(readonly watches: WatchInfo[]) {}
}

/** A watch's row (its runs and its latest run's outcome). */
export class WatchRow {
  constructor(readonly watch: WatchInfo) {}
}

type Node = Section | WatchSection | WatchRow | Task;

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

  constructor(
    private readonly store: TaskStore,
    private readonly watches: Watches,
  ) {
    store.onDidChange(() => this.refresh());
    watches.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      const watches = this.watches.list();
      const sections: Node[] = this.store.grouped().map((g) => new Section(g.label, g.tasks));
      return watches.length > 0 ? [new WatchSection(watches), ...sections] : sections;
    }
    if (node instanceof WatchSection) return node.watches.map((w) => new WatchRow(w));
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
    if (node instanceof WatchSection) {
      const item = new vscode.TreeItem(vscode.l10n.t("Watching ({0})", node.watches.length), vscode.TreeItemCollapsibleState.Expanded);
      item.contextValue = "group";
      return item;
    }
    if (node instanceof WatchRow) return watchItem(node.watch);
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

/** A watch's row: its latest run's name, its runs, that run's outcome. */
function watchItem(w: WatchInfo): vscode.TreeItem {
  const last = w.lastRun;
  const item = new vscode.TreeItem(sanitize(last?.name ?? w.paths.join(", ")), vscode.TreeItemCollapsibleState.None);
  item.id = w.id;
  const runs = w.runs === 1 ? vscode.l10n.t("1 run") : vscode.l10n.t("{0} runs", w.runs);
  const outcome = w.state === "lost" ? vscode.l10n.t("lost: its watcher died") : last ? statusName(last.status) : "";
  item.description = [w.id, runs, outcome].filter((x) => x).join(" · ");
  item.tooltip = `${w.id} · ${vscode.l10n.t("watching {0}", w.paths.map(sanitize).join(", "))}`;
  item.iconPath = new vscode.ThemeIcon(w.state === "lost" ? "warning" : "eye");
  item.contextValue = "watch";
  if (last) item.command = { command: "errand.showOutput", title: vscode.l10n.t("Show Output"), arguments: [last] };
  return item;
}
