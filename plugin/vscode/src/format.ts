// How tasks read: status bar text, list descriptions, finish messages. Plain
// functions; their words go through VS Code's l10n (English as written,
// l10n/bundle.l10n.*.json for other languages).
import { l10n } from "vscode";
import type { CommandSpec, Counts, Status, Task } from "./protocol";

/** A status in the user's language. */
export function statusName(s: Status): string {
  const names: Record<Status, string> = {
    running: l10n.t("running"),
    queued: l10n.t("queued"),
    completed: l10n.t("completed"),
    failed: l10n.t("failed"),
    cancelled: l10n.t("cancelled"),
    lost: l10n.t("lost"),
  };
  return names[s];
}

/** A section of the tree and the task list, in the user's language (GROUPS labels are the keys). */
export function sectionTitle(label: string): string {
  const titles: Record<string, string> = {
    Running: l10n.t("Running"),
    Queued: l10n.t("Queued"),
    Completed: l10n.t("Completed"),
    Failed: l10n.t("Failed"),
    Cancelled: l10n.t("Cancelled"),
  };
  return titles[label] ?? label;
}

export const ICONS: Record<Status, string> = {
  running: "sync~spin",
  queued: "clock",
  completed: "pass",
  failed: "error",
  cancelled: "circle-slash",
  lost: "question",
};

/** The status bar text ("" when idle: the item hides). Named, so it is not
 * taken for the Problems counter beside it, whose icons it does not use. */
export function statusText(c: Counts): string {
  const parts: string[] = [];
  if (c.running > 0) parts.push(l10n.t("{0} running", c.running));
  if (c.queued > 0) parts.push(l10n.t("{0} queued", c.queued));
  // A server older than watches sends no watching.
  const watching = c.watching ?? 0;
  if (watching > 0) parts.push(l10n.t("{0} watching", watching));
  if (c.failed > 0) parts.push(l10n.t("{0} failed", c.failed));
  if (parts.length === 0) return "";
  return `${c.running > 0 ? "$(sync~spin)" : "$(tasklist)"} errand: ${parts.join(" · ")}`;
}

/**
 * Text from a task or a project, safe to show: each control character (C0,
 * DEL, C1) as `cat -v` shows it (`^[` for ESC, `^J` for a newline, `^?` for
 * DEL, `M-^[` for U+009B), as the CLI and Neovim do.
 */
export function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x7f) return "^?";
    return code < 0x20 ? `^${String.fromCharCode(code + 0x40)}` : `M-^${String.fromCharCode(code - 0x40)}`;
  });
}

export function commandText(c: CommandSpec): string {
  return "shell" in c ? c.shell : c.argv.join(" ");
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
  if (s < 60) return l10n.t("{0}s ago", s);
  if (s < 3600) return l10n.t("{0}m ago", Math.floor(s / 60));
  if (s < 86400) return l10n.t("{0}h ago", Math.floor(s / 3600));
  return l10n.t("{0}d ago", Math.floor(s / 86400));
}

/** A one-line description of a task for lists. A task that runs or waits
 * says for how long, as of `now` (the tree redraws every second then). */
export function describe(t: Task, now = Date.now()): string {
  if (t.status === "running") {
    const running = l10n.t("running {0}", duration(now - (t.startedAt ?? now)));
    // A server older than pause sends no pausedAt.
    const paused = t.pausedAt ? l10n.t("paused") : "";
    // A server older than readiness sends no readyAt.
    const ready = t.readyAt ? l10n.t("ready") : "";
    return [running, paused, ready, runText(t), progressText(t)].filter((b) => b).join(" · ");
  }
  if (t.status === "queued") {
    const queued = l10n.t("queued {0}", duration(now - t.createdAt));
    // A server older than dependencies sends no dependsOn.
    const waitsFor = [...(t.after ? [t.after] : []), ...(t.dependsOn ?? [])];
    return waitsFor.length > 0 ? `${queued} · ${l10n.t("after {0}", waitsFor.join(", "))}` : queued;
  }
  const bits = [relative(t.endedAt ?? t.startedAt ?? t.createdAt, now)];
  if (t.durationMs !== null) bits.push(duration(t.durationMs));
  if (t.exitCode !== null && t.exitCode !== 0) bits.push(l10n.t("exit {0}", t.exitCode));
  // A cancel's TERM is errand's own: the section says it. A KILL (the
  // task outlived the grace period) is still worth saying.
  if (t.signal !== null && !(t.status === "cancelled" && t.signal === 15)) bits.push(l10n.t("signal {0}", t.signal));
  bits.push(runText(t), progressText(t), problemsText(t));
  return bits.filter((b) => b !== "").join(" · ");
}

/** Which run of a task that retries, once one failed: "run 2/4". A server
 * older than retries sends no attempts. */
function runText(t: Task): string {
  const failed = t.attempts?.length ?? 0;
  return failed > 0 ? l10n.t("run {0}/{1}", failed + 1, (t.retries ?? 0) + 1) : "";
}

/** The compiler and linter messages its output held, as the Problems panel counts them. */
function problemsText(t: Task): string {
  const c = t.diagnostics;
  const n = c ? c.errors + c.warnings + c.infos : 0;
  if (n === 0) return "";
  return n === 1 ? l10n.t("1 problem") : l10n.t("{0} problems", n);
}

/** "40% · 1m left": progress, and when a running task should end (from
 * its progress, or from how long it took before). */
export function progressText(t: Task, now = Date.now()): string {
  const bits: string[] = [];
  if (t.progress !== null) bits.push(`${Math.round(t.progress)}%`);
  if (t.status === "running" && typeof t.etaAt === "number") bits.push(l10n.t("{0} left", duration(Math.max(0, t.etaAt - now))));
  return bits.join(" · ");
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
    return enabled.onComplete ? { kind: "info", text: l10n.t("{0} completed in {1}", sanitize(t.name), duration(t.durationMs)) } : null;
  }
  if (t.status === "failed" || t.status === "lost") {
    if (!enabled.onFailure) return null;
    const why = timedOut(t)
      ? l10n.t("timed out after {0}", duration(t.timeoutMs))
      : t.exitCode !== null
        ? l10n.t("exit {0}", t.exitCode)
        : t.signal !== null
          ? l10n.t("signal {0}", t.signal)
          : statusName(t.status);
    // The error, when no output: unless the reason already says it.
    const last = sanitize(lastLine(tail) || (timedOut(t) ? "" : (t.error ?? "")));
    const failed = l10n.t("{0} failed ({1})", sanitize(t.name), why);
    return { kind: "error", text: last ? `${failed}: ${last}` : failed };
  }
  if (t.status === "cancelled") {
    return enabled.onCancel ? { kind: "warning", text: l10n.t("{0} cancelled", sanitize(t.name)) } : null;
  }
  return null;
}

/** Stopped by its timeout (the server says so in its error). */
function timedOut(t: Task): boolean {
  return t.timeoutMs !== null && (t.error ?? "").startsWith("timed out");
}

export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.length > 0 ? lines[lines.length - 1] : "";
}

/** One message for the tasks that finished while no editor was open
 * (`unread`: the newest of them, `total`: how many in all). */
export function startupSummary(unread: Task[], total: number = unread.length, totalFailed?: number): Popup | null {
  if (unread.length === 0) return null;
  const failed = Math.max(totalFailed ?? 0, unread.filter((t) => t.status === "failed" || t.status === "lost").length);
  const names = unread
    .slice(0, 5)
    .map((t) => sanitize(t.name))
    .join(l10n.t(", "));
  const more = total > 5 ? l10n.t(" and {0} more", total - 5) : "";
  const head =
    total === 1 ? l10n.t("1 task finished while VS Code was closed") : l10n.t("{0} tasks finished while VS Code was closed", total);
  const failures = failed > 0 ? l10n.t(" ({0} failed)", failed) : "";
  return { kind: failed > 0 ? "warning" : "info", text: l10n.t("{0}{1}: {2}{3}", head, failures, names, more) };
}
