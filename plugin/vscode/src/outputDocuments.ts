// A task's output as a read-only document, errand-output:/ID.log, that grows
// while the task runs.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import type { OutputEvent } from "./protocol";

export const OUTPUT_SCHEME = "errand-output";

export class OutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly text = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: ErrandClient) {
    client.on("task/outputAppended", (ev) => this.append(ev));
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
    let offset = 0;
    for (;;) {
      const r = await this.client.request("task/output", { id, offset, maxBytes: 4 << 20 });
      this.text.set(id, (this.text.get(id) ?? "") + r.data);
      offset = r.next;
      if (r.more) continue;
      if (!r.finished) await this.client.request("task/follow", { id, from: offset });
      break;
    }
    const doc = await vscode.workspace.openTextDocument(OutputDocuments.uri(id));
    this.changed.fire(doc.uri);
    await vscode.window.showTextDocument(doc, { preview: false });
  }

  private append(ev: OutputEvent): void {
    if (!this.text.has(ev.id)) return;
    this.text.set(ev.id, (this.text.get(ev.id) ?? "") + ev.data);
    this.changed.fire(OutputDocuments.uri(ev.id));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
