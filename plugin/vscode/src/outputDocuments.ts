// A task's output as plain text, errand-output:/ID.log: everything written so
// far, to search or save. Live output, colours and input are the terminal's
// (outputTerminals.ts); opening the document again reads it afresh.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { sanitize } from "./format";

export const OUTPUT_SCHEME = "errand-output";

export class OutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly text = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: ErrandClient) {}

  /** errand-output:/ID/NAME.log: the tab reads as the task's name. */
  static uri(id: string, name: string): vscode.Uri {
    const file = sanitize(name).replace(/[/\\?#%]/g, "_").slice(0, 60) || id;
    return vscode.Uri.from({ scheme: OUTPUT_SCHEME, path: `/${id}/${file}.log` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.text.get(uri.path.split("/")[1] ?? "") ?? "";
  }

  /** Read the output to where it ends now and show it in an editor tab. */
  async open(id: string, name: string): Promise<void> {
    let text = "";
    for (let offset = 0; ; ) {
      const r = await this.client.request("task/output", { id, offset, maxBytes: 4 << 20 });
      text += r.data;
      offset = r.next;
      if (!r.more) break;
    }
    this.text.set(id, text);
    const uri = OutputDocuments.uri(id, name);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
