// The status bar item: running, queued and failed counts, hidden when idle.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { statusText } from "./format";
import type { Counts } from "./protocol";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);

  constructor(client: ErrandClient) {
    this.item.command = "errand.showTasks";
    this.item.name = "Errand";
    this.item.tooltip = "Errand: show tasks";
    client.onInitialized((init) => this.show(init.counts));
    client.on("counts/changed", (c) => this.show(c));
  }

  private show(c: Counts): void {
    const text = statusText(c);
    this.item.text = text;
    if (text) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
