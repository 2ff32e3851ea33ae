// The window's copy of errand's tasks, kept current from the server: pushed
// changes as they come, the newest page on refresh(). No `vscode` import of
// its own (format's words go through VS Code's l10n).
import type { ErrandClient } from "./client";
import { commandText } from "./format";
import type { ProgressEvent, Status, Task } from "./protocol";

export const GROUPS: { label: string; statuses: Status[] }[] = [
  { label: "Running", statuses: ["running"] },
  { label: "Queued", statuses: ["queued"] },
  { label: "Completed", statuses: ["completed"] },
  { label: "Failed", statuses: ["failed", "lost"] },
  { label: "Cancelled", statuses: ["cancelled"] },
];

const RANK: Record<Status, number> = { queued: 1, running: 2, completed: 3, failed: 3, cancelled: 3, lost: 3 };

export function isActive(t: Task): boolean {
  return t.status === "running" || t.status === "queued";
}

const endOf = (t: Task): number => t.endedAt ?? t.createdAt;

/** Cleared from view: finished, read, and ended at or before the mark. */
function cleared(t: Task, mark: number): boolean {
  return !isActive(t) && t.readAt !== null && endOf(t) <= mark;
}

function memoryMark(): ClearedMark {
  let ms = 0;
  return { load: () => ms, save: (v) => void (ms = v) };
}

/** What the store needs of the client (a test passes a fake). */
export type TaskSource = Pick<ErrandClient, "request" | "on" | "onInitialized">;

/** Where the "cleared up to" mark is kept between sessions (VS Code: globalState). */
export interface ClearedMark {
  load(): number;
  save(ms: number): void;
}

export class TaskStore {
  readonly byId = new Map<string, Task>();
  private readonly listeners: (() => void)[] = [];
  /** Only tasks whose name or command holds this (any case); "" for all. */
  private text = "";
  constructor(
    private readonly client: TaskSource,
    /** Read tasks that ended at or before the mark (ms) are cleared from view;
     * errand's history keeps them. Read at each use: another window may move it. */
    private readonly mark: ClearedMark = memoryMark(),
    /** The tasks this window is about (the rest stay out of view). */
    private readonly scope: (t: Task) => boolean = () => true,
  ) {
    client.on("task/queued", (e) => this.update(e.task));
    client.on("task/started", (e) => this.update(e.task));
    client.on("task/updated", (e) => this.update(e.task));
    client.on("task/ready", (e) => this.update(e.task));
    // A watch-mode tool's compile cycle: its row counts that cycle's problems.
    client.on("task/diagnosticsChanged", (r) => this.update(r.task));
    client.on("task/finished", (e) => this.update(e.task));
    client.on("task/progress", (e) => this.progress(e));
    client.onInitialized(() => this.refresh());
  }

  onDidChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  get filter(): string {
    return this.text;
  }

  /** Show only the tasks whose name or command holds `text` ("": all), the
   * older matches fetched from the server too. */
  async setFilter(text: string): Promise<void> {
    this.text = text.trim();
    this.changed();
    await this.refresh();
  }

  /** The newest tasks from the server (that match the filter). */
  async refresh(): Promise<void> {
    const r = await this.client.request("task/list", { limit: 200, text: this.text || null });
    for (const t of r.tasks) this.merge(t);
    this.changed();
  }

  /** From a notification: always the newest word. */
  update(t: Task): void {
    this.byId.set(t.id, t);
    this.changed();
  }

  /** From a response, which a notification may have overtaken: never step back. */
  merge(t: Task): Task {
    const known = this.byId.get(t.id);
    if (!known || RANK[t.status] >= RANK[known.status]) {
      this.byId.set(t.id, t);
    }
    return this.byId.get(t.id) ?? t;
  }

  /** Tell the views again (what is in scope changed). */
  changedScope(): void {
    this.changed();
  }

  /** Visible tasks, newest first. */
  list(): Task[] {
    const mark = this.mark.load();
    return [...this.byId.values()]
      .filter((t) => t.deletedAt === null && !cleared(t, mark) && this.scope(t) && this.matches(t))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /**
   * Clear the finished tasks shown now from view (not from errand's
   * history); call it once they are read. The mark is the last of their
   * ends, not the clock, and an unread task is never hidden: a task that
   * ends meanwhile stays. Returns how many left the view and what undo needs.
   */
  clearFinished(): { cleared: number; before: number; after: number } {
    const finished = this.list().filter((t) => !isActive(t));
    const before = this.mark.load();
    const after = Math.max(before, ...finished.map(endOf));
    this.mark.save(after);
    this.changed();
    return { cleared: finished.filter((t) => cleared(t, after)).length, before, after };
  }

  /** Undo a clear, unless a later one (in any window) moved the mark since. */
  undoClear(c: { before: number; after: number }): void {
    if (this.mark.load() !== c.after) return;
    this.mark.save(c.before);
    this.changed();
  }

  /** The sections that hold a task, in GROUPS order (an empty one is noise). */
  grouped(): { label: string; tasks: Task[] }[] {
    const all = this.list();
    return GROUPS.map((g) => ({ label: g.label, tasks: all.filter((t) => g.statuses.includes(t.status)) })).filter(
      (g) => g.tasks.length > 0,
    );
  }

  private matches(t: Task): boolean {
    if (this.text === "") return true;
    const text = this.text.toLowerCase();
    return t.name.toLowerCase().includes(text) || commandText(t.command).toLowerCase().includes(text);
  }

  private progress(ev: ProgressEvent): void {
    const t = this.byId.get(ev.id);
    if (!t) return;
    this.byId.set(t.id, { ...t, progress: ev.progress, progressMessage: ev.progressMessage, etaAt: ev.etaAt });
    this.changed();
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}
