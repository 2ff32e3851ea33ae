// Restricted Mode: the workspace's own code (its errand.toml workflows, its
// own errand build) runs only in a trusted workspace. Typed commands are the
// user's own and run anyway.
import * as vscode from "vscode";
import type { Task } from "./protocol";

/** True if the workspace's code may run; otherwise the user is told why. */
export function workspaceCodeAllowed(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(
    vscode.l10n.t(
      "Errand: workflows do not run in Restricted Mode (they may come from this workspace's errand.toml). Trust the workspace to run them.",
    ),
  );
  return false;
}

/** Does running this typed command, or restarting this task, run a workflow? */
export function runsWorkflow(what: string | Task): boolean {
  return typeof what === "string" ? what.trimStart().startsWith("#") : what.workflow !== null;
}
