// The window's copy of errand's tasks, kept current from the server: pushed
// changes as they come, the newest page on refresh(). No `vscode` import.
import type { ErrandClient } from "./client";
import type { ProgressEvent, Status, Task } from "./protocol";

export const GROUPS: { label: string; statuses: Status[] }[] = [
  { label: "Running", statuses: ["running"] },
  { label: "Queued", statuses: ["queued"] },
  { label: "Completed", statuses: ["completed"] },
  { label: "Failed", statuses: ["failed", "lost", "cancelled"] },
];

const RANK: Record<Status, number> = { queued: 1, running: 2, completed: 3, failed: 3, cancelled: 3, lost: 3 };

export function isActive(t: Task): boolean {
  return t.status === "running" || t.status === "queued";
}

/** What the store needs of the client (a test passes a fake). */
export type TaskSource = Pick<ErrandClient, "request" | "on" | "onInitialized">;

export class TaskStore {
  readonly byId = new Map<string, Task>();
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly client: TaskSource) {
    client.on("task/queued", (e) => this.update(e.task));
    client.on("task/started", (e) => this.update(e.task));
    client.on("task/updated", (e) => this.update(e.task));
    client.on("task/finished", (e) => this.update(e.task));
    client.on("task/progress", (e) => this.progress(e));
    client.onInitialized(() => this.refresh());
  }

  onDidChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** The newest tasks from the server. */
  async refresh(): Promise<void> {
    const r = await this.client.request("task/list", { limit: 200 });
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

  /** Visible tasks, newest first. */
  list(): Task[] {
    return [...this.byId.values()].filter((t) => t.deletedAt === null).sort((a, b) => b.createdAt - a.createdAt);
  }

  grouped(): { label: string; tasks: Task[] }[] {
    const all = this.list();
    return GROUPS.map((g) => ({ label: g.label, tasks: all.filter((t) => g.statuses.includes(t.status)) }));
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
