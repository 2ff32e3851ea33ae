// Which tasks this window is about: by default those started in its
// workspace folders (the task's directory under one of them), or all with
// errand.scope = "all". A folderless window shows all. And of the windows
// that hear a task end, one tells the user.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import type { Task } from "./protocol";

export function inScope(t: Task): boolean {
  if (vscode.workspace.getConfiguration("errand").get<string>("scope", "workspace") === "all") return true;
  const folders = vscode.workspace.workspaceFolders ?? [];
  return folders.length === 0 || inFolders(t);
}

/** Was the task started under one of this window's folders? */
export function inFolders(t: Task): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some((f) => within(t.cwd, f.uri.fsPath));
}

function within(dir: string, folder: string): boolean {
  const rel = path.relative(folder, dir);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The key of what this window shows, for what is kept per view (the Clear Finished mark). */
export function scopeKey(): string {
  if (vscode.workspace.getConfiguration("errand").get<string>("scope", "workspace") === "all") return "all";
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath).sort();
  return folders.length === 0 ? "all" : folders.join("\n");
}

/**
 * True for the first window to claim the end of task `id`: it shows the
 * message, the others stay quiet. `dir` is shared by the windows of this
 * VS Code (its global storage: private to the user, not /tmp); creating a
 * file there with O_EXCL is the one atomic step all windows share.
 */
export function claimNotification(dir: string, id: string, endedAt: number | null): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(path.join(dir, `${id}-${endedAt ?? 0}`), "wx", 0o600));
    return true;
  } catch (e) {
    // Taken by another window; any other failure: better twice than never.
    return (e as NodeJS.ErrnoException).code !== "EEXIST";
  }
}

/** Claims older than a day are of no use: tidied at activation. */
export function tidyClaims(dir: string, now = Date.now()): void {
  try {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (now - fs.lstatSync(p).mtimeMs > 86_400_000) fs.rmSync(p, { force: true });
    }
  } catch {
    // Nothing to tidy yet.
  }
}
