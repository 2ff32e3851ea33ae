// A task's live output in a terminal tab: colours and `\r` as a shell shows
// them, read from the start and followed while the task runs, picked up
// again where it was after errand serve restarts (nothing lost or repeated),
// one tab per task, reused. Typing sends a line to the task's stdin, Ctrl+D
// closes it, Ctrl+C cancels the task.
import * as vscode from "vscode";
import type { ErrandClient } from "./client";
import { duration, sanitize, statusName } from "./format";
import type { OutputEvent, Task } from "./protocol";

/** A catch-up replays this many reads (1 MiB each) at most; past them, a notice and the last lines. */
const CATCH_UP_READS = 4;
/** The tail a capped catch-up shows, in lines. */
const TAIL_LINES = 1000;
/** While a follow skips, its notice is repeated this often (ms). */
const NOTICE_EVERY = 3000;

/** CSI (ESC [ … final byte) and SS3 (ESC O x) sequences, and a lone ESC. */
const ESCAPES = /\x1b(\[[0-?]*[ -/]*[@-~]|O.|)/g;

/** Does the character take two columns (CJK, fullwidth, most emoji)? */
function isWide(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

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
  private pending = false;
  /** The last event skipped output; when its notice was written. */
  private skipping = false;
  private noticed = 0;
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

  /** Read what is not shown yet, then follow from there (or end). */
  resume(): void {
    // One waiting catch-up does for any number of reasons to catch up.
    if (!this.opened || this.ended || this.pending) return;
    this.pending = true;
    this.queue = this.queue
      .then(() => {
        this.pending = false;
        return this.catchUp();
      })
      .catch((e: unknown) => this.notice(e instanceof Error ? e.message : String(e)));
  }

  appended(ev: OutputEvent): void {
    if (!this.opened || this.ended || ev.next <= this.offset) return; // shown already
    if (ev.from !== this.offset) {
      // A gap or an overlap: the server's position and ours parted (a follow
      // crossed an event on its way). Read on from ours and follow from there.
      this.resume();
      return;
    }
    this.offset = ev.next;
    // Skipping: said when it starts, and again now and then.
    if (ev.skipped > 0 && (!this.skipping || Date.now() - this.noticed >= NOTICE_EVERY)) {
      this.notice(vscode.l10n.t("too fast to show: skipping to the newest (errand logs {0} has all)", this.task.id));
      this.noticed = Date.now();
    }
    this.skipping = ev.skipped > 0;
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
    // Arrows, Home, Delete… arrive as escape sequences: they edit nothing here.
    for (const ch of data.replace(ESCAPES, "")) {
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
        const chars = [...this.line];
        const last = chars.pop();
        if (last !== undefined) {
          this.line = chars.join("");
          this.written.fire(isWide(last) ? "\b\b  \b\b" : "\b \b");
        }
      } else if (ch >= " ") {
        this.line += ch;
        this.written.fire(ch);
      }
    }
  }

  private send(input: { text: string | null; eof?: boolean }): void {
    void this.client.request("task/sendInput", { id: this.task.id, ...input }).catch((e) => this.notice(String(e)));
  }

  private async catchUp(): Promise<void> {
    let reads = 0;
    for (;;) {
      if (!this.opened || this.ended) return;
      const from = this.offset;
      // Past the cap: a notice and the tail, not a gigabyte of scrollback.
      const capped = reads >= CATCH_UP_READS;
      const params = capped
        ? { id: this.task.id, lines: TAIL_LINES }
        : { id: this.task.id, offset: from, maxBytes: 1 << 20 };
      const r = await this.client.request("task/output", params);
      if (!this.opened) return; // closed meanwhile: close() unfollowed
      // An event moved the offset meanwhile: this read overlaps it, read again.
      if (this.offset !== from) continue;
      if (capped) this.notice(vscode.l10n.t("skipped to the last {0} lines (errand logs {1} has all)", TAIL_LINES, this.task.id));
      reads++;
      this.write(r.data);
      this.offset = r.next;
      if (r.more) continue;
      if (r.finished) {
        await this.end();
        return;
      }
      await this.client.request("task/follow", { id: this.task.id, from: this.offset });
      // Closed while that follow was on its way: close()'s unfollow went first.
      if (!this.opened) await this.client.request("task/unfollow", { id: this.task.id });
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
