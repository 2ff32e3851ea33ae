// The status bar item: running, queued and failed counts, hidden when idle;
// its tooltip names the running tasks with their progress and ETA.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { progressText, sanitize, statusText } from "./format";
import type { Counts } from "./protocol";
import type { TaskStore } from "./tasks";

/** Running tasks the tooltip names at most. */
const TOOLTIP_TASKS = 5;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);

  constructor(client: ErrandClient, store: TaskStore) {
    this.item.command = "errand.showTasks";
    this.item.name = "Errand";
    this.item.tooltip = vscode.l10n.t("Errand: show tasks");
    store.onDidChange(() => {
      const running = store.list().filter((t) => t.status === "running");
      const lines = running.slice(0, TOOLTIP_TASKS).map((t) => [sanitize(t.name), progressText(t)].filter((b) => b).join(" · "));
      if (running.length > TOOLTIP_TASKS) lines.push("…");
      this.item.tooltip = [vscode.l10n.t("Errand: show tasks"), ...lines].join("\n");
    });
    // Of two counts the one read at the later store change (seq) wins,
    // whatever order they arrive in; a new connection starts over.
    client.onInitialized((init) => this.show(init.counts, true));
    client.on("counts/changed", (c) => this.show(c, false));
  }

  private seq = 0;

  private show(c: Counts, fresh: boolean): void {
    if (!fresh && c.seq < this.seq) return;
    this.seq = c.seq;
    const text = statusText(c);
    this.item.text = text;
    if (text) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
