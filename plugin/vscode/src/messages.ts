// Pop-ups: a task finished (as the settings allow), and once per window the
// tasks that finished while VS Code was closed.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { restartTask } from "./commands";
import { finishedMessage, Popup, sanitize, startupSummary } from "./format";
import type { OutputTerminals } from "./outputTerminals";
import type { Task } from "./protocol";
import { claimNotification, inFolders, inScope } from "./scope";

export class Messages {
  private summarised = false;

  constructor(
    private readonly client: ErrandClient,
    private readonly terminals: OutputTerminals,
    /** Where windows claim a task's message (claimNotification). */
    private readonly claims: string,
  ) {
    client.on("task/finished", (e) => this.finished(e.task, e.outputTail));
    client.on("task/ready", (e) => this.ready(e.task));
    client.onInitialized((init) => this.startup(init.unread, init.unreadTotal, init.unreadFailed));
  }

  private finished(t: Task, tail: string): void {
    if (!inScope(t)) return;
    const s = vscode.workspace.getConfiguration("errand");
    const msg = finishedMessage(t, tail, {
      onComplete: s.get("notifications.onComplete", true),
      onFailure: s.get("notifications.onFailure", true),
      onCancel: s.get("notifications.onCancel", false),
    });
    // Several windows on one folder: the first to claim it tells.
    if (!msg) return;
    // The window whose folder holds the task claims it at once; a window that
    // shows every task (or has no folder) waits, to let that one win.
    const claim = () => {
      if (claimNotification(this.claims, t.id, t.endedAt)) void this.show(msg, [vscode.l10n.t("Show Output"), vscode.l10n.t("Restart")], t);
    };
    if (inFolders(t)) claim();
    else setTimeout(claim, 700);
  }

  /** A long-running task (a dev server) said it is ready: what waited for it starts. */
  private ready(t: Task): void {
    if (!inScope(t) || !vscode.workspace.getConfiguration("errand").get<boolean>("notifications.onReady", true)) return;
    const claim = () => {
      if (claimNotification(this.claims, `${t.id}-ready`, t.readyAt)) {
        void this.show({ kind: "info", text: vscode.l10n.t("Errand: {0} is ready", sanitize(t.name)) }, [vscode.l10n.t("Show Output")], t);
      }
    };
    if (inFolders(t)) claim();
    else setTimeout(claim, 700);
  }

  /** Once per window: after a server restart the user has seen these already. */
  private async startup(unread: Task[], total: number, failed: number): Promise<void> {
    if (this.summarised || !vscode.workspace.getConfiguration("errand").get<boolean>("notifications.onStartup", true)) return;
    this.summarised = true;
    const summary = startupSummary(unread, total, failed);
    if (!summary) return;
    void this.show(summary, [vscode.l10n.t("Show Tasks")]);
    // Failures stay unread: they count in the status bar until cleared.
    const seen = unread.filter((t) => t.status !== "failed" && t.status !== "lost").map((t) => t.id);
    if (seen.length > 0) await this.client.request("task/markRead", { ids: seen });
  }

  private async show(msg: Popup, actions: string[], t?: Task): Promise<void> {
    const fn =
      msg.kind === "error"
        ? vscode.window.showErrorMessage
        : msg.kind === "warning"
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    const choice = await fn(msg.text, ...actions);
    if (choice === vscode.l10n.t("Show Tasks")) await vscode.commands.executeCommand("errand.showTasks");
    if (!t || !choice) return;
    if (choice === vscode.l10n.t("Show Output")) this.terminals.show(t);
    if (choice === vscode.l10n.t("Restart")) await restartTask(this.client, t);
  }
}
