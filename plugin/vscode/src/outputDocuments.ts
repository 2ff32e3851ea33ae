// A task's output as a read-only document, errand-output:/ID.log, that grows
// while the task runs.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import type { OutputEvent } from "./protocol";

export const OUTPUT_SCHEME = "errand-output";

export class OutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly text = new Map<string, string>();
  /** Where each followed task's output goes on: a new server after a restart is asked to follow from there. */
  private readonly following = new Map<string, number>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: ErrandClient) {
    client.on("task/outputAppended", (ev) => this.append(ev));
    client.onInitialized(() => {
      for (const id of this.following.keys()) void this.catchUp(id).catch(() => undefined);
    });
  }

  static uri(id: string): vscode.Uri {
    return vscode.Uri.parse(`${OUTPUT_SCHEME}:/${id}.log`);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.text.get(uri.path.replace(/^\//, "").replace(/\.log$/, "")) ?? "";
  }

  /** Read what is there, follow what comes, and show it in an editor tab. */
  async open(id: string): Promise<void> {
    this.text.set(id, "");
    this.following.set(id, 0);
    await this.catchUp(id);
    const doc = await vscode.workspace.openTextDocument(OutputDocuments.uri(id));
    this.changed.fire(doc.uri);
    await vscode.window.showTextDocument(doc, { preview: false });
  }

  /** Read from where the text ends, then follow while the task runs. */
  private async catchUp(id: string): Promise<void> {
    let offset = this.following.get(id) ?? 0;
    for (;;) {
      const r = await this.client.request("task/output", { id, offset, maxBytes: 4 << 20 });
      this.text.set(id, (this.text.get(id) ?? "") + r.data);
      offset = r.next;
      this.following.set(id, offset);
      if (r.more) continue;
      if (r.finished) this.following.delete(id);
      else await this.client.request("task/follow", { id, from: offset });
      break;
    }
    this.changed.fire(OutputDocuments.uri(id));
  }

  private append(ev: OutputEvent): void {
    if (!this.text.has(ev.id)) return;
    if (this.following.get(ev.id) !== ev.from) return; // already read (a restart's catch-up crossed it)
    this.following.set(ev.id, ev.next);
    this.text.set(ev.id, (this.text.get(ev.id) ?? "") + ev.data);
    this.changed.fire(OutputDocuments.uri(ev.id));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
