// What the extension knows of tasks, and how it shows them: plain logic,
// no `vscode` import, so it is tested directly.

export type Status = "queued" | "running" | "completed" | "failed" | "cancelled" | "lost";

export interface Task {
  id: string;
  name: string;
  command: { shell?: string; argv?: string[] };
  cwd: string;
  status: Status;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  duration_ms: number | null;
  exit_code: number | null;
  signal: number | null;
  error: string | null;
  progress: number | null;
  read_at: number | null;
  deleted_at: number | null;
  restarted_from: string | null;
}

export interface Counts {
  running: number;
  queued: number;
  failed: number;
}

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

/** Tasks by id, fed by responses and notifications. */
export class TaskStore {
  readonly byId = new Map<string, Task>();
  counts: Counts = { running: 0, queued: 0, failed: 0 };

  /** From a notification: always the newest word. */
  update(t: Task): void {
    this.byId.set(t.id, t);
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
    return [...this.byId.values()].filter((t) => t.deleted_at === null).sort((a, b) => b.created_at - a.created_at);
  }

  grouped(): { label: string; tasks: Task[] }[] {
    const all = this.list();
    return GROUPS.map((g) => ({ label: g.label, tasks: all.filter((t) => g.statuses.includes(t.status)) }));
  }
}

/** The status bar text ("" when idle: the item hides). */
export function statusText(c: Counts): string {
  const parts: string[] = [];
  if (c.running > 0) parts.push(`$(sync~spin) ${c.running} running`);
  if (c.queued > 0) parts.push(`$(clock) ${c.queued} queued`);
  if (c.failed > 0) parts.push(`$(error) ${c.failed} failed`);
  return parts.join(" · ");
}

export function duration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.floor(ms / 1000) % 60).padStart(2, "0")}s`;
  return `${Math.floor(ms / 3_600_000)}h${String(Math.floor(ms / 60_000) % 60).padStart(2, "0")}m`;
}

export function relative(ms: number | null, now = Date.now()): string {
  if (ms === null) return "";
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export const ICONS: Record<Status, string> = {
  running: "sync~spin",
  queued: "clock",
  completed: "pass",
  failed: "error",
  cancelled: "circle-slash",
  lost: "question",
};

/** A one-line description of a task for lists. */
export function describe(t: Task, now = Date.now()): string {
  const bits = [relative(t.ended_at ?? t.started_at ?? t.created_at, now)];
  if (t.duration_ms !== null) bits.push(duration(t.duration_ms));
  if (t.exit_code !== null && t.exit_code !== 0) bits.push(`exit ${t.exit_code}`);
  if (t.signal !== null) bits.push(`signal ${t.signal}`);
  if (t.progress !== null) bits.push(`${Math.round(t.progress)}%`);
  return bits.filter((b) => b !== "").join(" · ");
}

export interface Popup {
  kind: "info" | "error" | "warning";
  text: string;
}

/** The message for a task that ended, or null when that kind is switched off. */
export function finishedMessage(
  t: Task,
  tail: string,
  enabled: { onComplete: boolean; onFailure: boolean; onCancel: boolean },
): Popup | null {
  if (t.status === "completed") {
    return enabled.onComplete ? { kind: "info", text: `✓ ${t.name} completed in ${duration(t.duration_ms)}` } : null;
  }
  if (t.status === "failed" || t.status === "lost") {
    if (!enabled.onFailure) return null;
    const why = t.exit_code !== null ? `exit ${t.exit_code}` : t.signal !== null ? `signal ${t.signal}` : t.status;
    const last = lastLine(tail) || t.error || "";
    return { kind: "error", text: `✗ ${t.name} failed (${why})${last ? `: ${last}` : ""}` };
  }
  if (t.status === "cancelled") {
    return enabled.onCancel ? { kind: "warning", text: `⊘ ${t.name} cancelled` } : null;
  }
  return null;
}

export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.length > 0 ? lines[lines.length - 1] : "";
}

/** One message for the tasks that finished while no editor was open. */
export function startupSummary(unread: Task[]): Popup | null {
  if (unread.length === 0) return null;
  const failed = unread.filter((t) => t.status === "failed" || t.status === "lost").length;
  const names = unread.slice(0, 5).map((t) => t.name).join(", ");
  const more = unread.length > 5 ? ` and ${unread.length - 5} more` : "";
  const head = `${unread.length} task${unread.length === 1 ? "" : "s"} finished while VS Code was closed`;
  return { kind: failed > 0 ? "warning" : "info", text: `${head}${failed > 0 ? ` (${failed} failed)` : ""}: ${names}${more}` };
}
