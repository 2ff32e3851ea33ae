// Which tasks this window is about: by default those started in its
// workspace folders (the task's directory under one of them), or all with
// errand.scope = "all". A folderless window shows all. And of the windows
// that hear a task end, one tells the user.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import type { Task } from "./protocol";

export function inScope(t: Task): boolean {
  if (vscode.workspace.getConfiguration("errand").get<string>("scope", "workspace") === "all") return true;
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) return true;
  return folders.some((f) => within(t.cwd, f.uri.fsPath));
}

function within(dir: string, folder: string): boolean {
  const rel = path.relative(folder, dir);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Where windows leave their claims: private to the user. */
function claims(): string {
  const dir = path.join(os.tmpdir(), `errand-vscode-${os.userInfo().uid}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * True for the first window (of this user, on this machine) to claim the
 * end of task `id`: it shows the message, the others stay quiet. Creating a
 * file with O_EXCL is the one atomic step all windows share.
 */
export function claimNotification(id: string, endedAt: number | null): boolean {
  try {
    fs.closeSync(fs.openSync(path.join(claims(), `${id}-${endedAt ?? 0}`), "wx", 0o600));
    return true;
  } catch (e) {
    // Taken by another window; any other failure: better twice than never.
    return (e as NodeJS.ErrnoException).code !== "EEXIST";
  }
}

/** Claims older than a day are of no use: tidied at activation. */
export function tidyClaims(now = Date.now()): void {
  try {
    const dir = claims();
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (now - fs.statSync(p).mtimeMs > 86_400_000) fs.rmSync(p, { force: true });
    }
  } catch {
    // Nothing to tidy, or not ours to.
  }
}
