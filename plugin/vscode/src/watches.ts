// Watches: a command or workflow run again whenever a watched file changes
// (Watch Command…, `errand run --watch` in a shell). Each run is an
// ordinary task; this keeps the open watches (watch/list) for the tree,
// asked again when the server says a watch began or ended (the `watching`
// count) or one of their runs started or ended.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import type { WatchInfo } from "./protocol";

export class Watches implements vscode.Disposable {
  private watches: WatchInfo[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private asking = false;
  private again = false;

  constructor(private readonly client: ErrandClient) {
    client.onInitialized(() => this.refresh());
    client.on("counts/changed", (c) => {
      if ((c.watching ?? 0) !== this.watches.length) this.refresh();
    });
    client.on("task/started", () => this.watches.length > 0 && this.refresh());
    client.on("task/finished", () => this.watches.length > 0 && this.refresh());
  }

  /** The open watches, newest first. */
  list(): WatchInfo[] {
    return this.watches;
  }

  /** Ask the server again; one question at a time, one more if asked meanwhile. */
  refresh(): void {
    if (this.asking) {
      this.again = true;
      return;
    }
    this.asking = true;
    void this.client
      .request("watch/list", {})
      .then((list) => {
        const shown = this.watches.length > 0 || list.length > 0;
        this.watches = list;
        if (shown) this.changed.fire();
      })
      .catch(() => undefined)
      .finally(() => {
        this.asking = false;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
