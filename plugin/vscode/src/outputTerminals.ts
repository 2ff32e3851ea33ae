// A task's live output in a terminal tab: colours and `\r` as a shell shows
// them, read from the start and followed while the task runs, picked up
// again where it was after errand serve restarts (nothing lost or repeated),
// one tab per task, reused. Typing sends a line to the task's stdin, Ctrl+D
// closes it, Ctrl+C cancels the task.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { duration, sanitize, statusName } from "./format";
import type { OutputEvent, Task } from "./protocol";

export class OutputTerminals implements vscode.Disposable {
  private readonly shown = new Map<string, TaskTerminal>();

  constructor(private readonly client: ErrandClient) {
    client.on("task/outputAppended", (ev) => this.shown.get(ev.id)?.appended(ev));
    client.on("task/finished", (ev) => this.shown.get(ev.task.id)?.finished(ev.task));
    // A new server knows nothing of the old one's follows.
    client.onInitialized(() => {
      for (const t of this.shown.values()) t.resume();
    });
  }

  /** The task's terminal, opened (or brought forward if it is open). */
  show(task: Task): void {
    let shown = this.shown.get(task.id);
    if (!shown) {
      shown = new TaskTerminal(this.client, task, () => this.shown.delete(task.id));
      this.shown.set(task.id, shown);
    }
    shown.terminal.show();
  }

  dispose(): void {
    for (const t of [...this.shown.values()]) t.terminal.dispose();
  }
}

/** The pseudoterminal of one task. */
class TaskTerminal implements vscode.Pseudoterminal {
  private readonly written = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.written.event;
  readonly terminal: vscode.Terminal;
  /** Where the output shown so far ends (the protocol's `next`). */
  private offset = 0;
  private opened = false;
  /** The end was shown: no more output, a key closes the tab. */
  private ended = false;
  private final: Task | undefined;
  /** What the user typed since the last Enter. */
  private line = "";
  /** Catch-ups run one after another. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ErrandClient,
    private readonly task: Task,
    private readonly onGone: () => void,
  ) {
    const name = sanitize(task.name);
    this.terminal = vscode.window.createTerminal({
      name: `errand: ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`,
      pty: this,
      iconPath: new vscode.ThemeIcon("tasklist"),
      // Its process is errand's: a reloaded window reopens it from the tree.
      isTransient: true,
    });
  }

  open(): void {
    this.opened = true;
    this.resume();
  }

  close(): void {
    this.opened = false;
    if (!this.ended) void this.client.request("task/unfollow", { id: this.task.id }).catch(() => undefined);
    this.onGone();
  }

  /** Read what is not shown yet, then follow (or end). */
  resume(): void {
    if (!this.opened || this.ended) return;
    this.queue = this.queue.then(() => this.catchUp()).catch(() => undefined);
  }

  appended(ev: OutputEvent): void {
    // Already read, or not yet: a catch-up crossed it, and reads on from `offset`.
    if (!this.opened || this.ended || ev.from !== this.offset) return;
    this.offset = ev.next;
    this.write(ev.data);
  }

  finished(task: Task): void {
    this.final = task;
    this.resume();
  }

  handleInput(data: string): void {
    if (this.ended) {
      this.terminal.dispose();
      return;
    }
    for (const ch of data) {
      if (ch === "\r" || ch === "\n") {
        this.written.fire("\r\n");
        this.send({ text: `${this.line}\n` });
        this.line = "";
      } else if (ch === "\x04") {
        this.written.fire("^D\r\n");
        this.send({ text: this.line || null, eof: true });
        this.line = "";
      } else if (ch === "\x03") {
        this.written.fire("^C\r\n");
        this.line = "";
        void this.client.request("task/cancel", { id: this.task.id }).catch((e) => this.notice(String(e)));
      } else if (ch === "\x7f" || ch === "\b") {
        if (this.line.length > 0) {
          this.line = [...this.line].slice(0, -1).join("");
          this.written.fire("\b \b");
        }
      } else if (ch >= " ") {
        this.line += ch;
        this.written.fire(ch);
      }
      // Other control keys (arrows arrive as ESC sequences) edit nothing here.
    }
  }

  private send(input: { text: string | null; eof?: boolean }): void {
    void this.client.request("task/sendInput", { id: this.task.id, ...input }).catch((e) => this.notice(String(e)));
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      if (!this.opened || this.ended) return;
      const from = this.offset;
      const r = await this.client.request("task/output", { id: this.task.id, offset: from, maxBytes: 1 << 20 });
      // An event moved the offset meanwhile: this read overlaps it, read again.
      if (this.offset !== from) continue;
      this.write(r.data);
      this.offset = r.next;
      if (r.more) continue;
      if (r.finished) {
        await this.end();
        return;
      }
      await this.client.request("task/follow", { id: this.task.id, from: this.offset });
      return;
    }
  }

  /** The last line: how the task ended. */
  private async end(): Promise<void> {
    const t = this.final ?? (await this.client.request("task/get", { id: this.task.id })).task;
    this.ended = true;
    const how =
      t.status === "completed"
        ? vscode.l10n.t("completed in {0}", duration(t.durationMs))
        : t.exitCode !== null
          ? `${statusName(t.status)} (${vscode.l10n.t("exit {0}", t.exitCode)})`
          : t.signal !== null
            ? `${statusName(t.status)} (${vscode.l10n.t("signal {0}", t.signal)})`
            : statusName(t.status);
    this.notice(`${how} · ${vscode.l10n.t("press any key to close")}`);
  }

  private notice(text: string): void {
    this.written.fire(`\r\n\x1b[2m[errand] ${sanitize(text)}\x1b[0m\r\n`);
  }

  /** A pipe's "\n" is a terminal's "\r\n". */
  private write(data: string): void {
    if (data !== "") this.written.fire(data.replace(/\r?\n/g, "\r\n"));
  }
}
