// errand for VS Code: palette commands, a status bar count, finish and
// failure messages, a tree of tasks, live output in a terminal tab. This file
// only wires the parts together.
import * as path from "path";
import * as vscode from "vscode";
import { findBinary } from "./binary";
import { ErrandClient } from "./client";
import { registerCommands, runDir } from "./commands";
import { Messages } from "./messages";
import { OUTPUT_SCHEME, OutputDocuments } from "./outputDocuments";
import { OutputTerminals } from "./outputTerminals";
import { Problems } from "./problems";
import { inScope, scopeKey, tidyClaims } from "./scope";
import { StatusBar } from "./statusBar";
import { Watches } from "./watches";
import { registerTaskProvider } from "./taskProvider";
import { TaskStore } from "./tasks";
import { TaskTree } from "./tree";

/** What activate returns: for tests, and for other extensions. */
export interface ErrandApi {
  client: ErrandClient;
  store: TaskStore;
  watches: Watches;
}

/** One warning with a way to fix it. Tasks run on without a server; this window just cannot see them. */
function binaryProblem(text: string): void {
  void vscode.window.showWarningMessage(text, vscode.l10n.t("Open Settings")).then((choice) => {
    if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "errand.path");
  });
}

function noBinary(): string {
  const set = vscode.workspace.getConfiguration("errand").get<string>("path", "");
  return set
    ? vscode.l10n.t("Errand: errand.path is set to {0}, which is not an executable file.", set)
    : vscode.l10n.t("Errand: no errand binary found: set errand.path, or put errand on PATH.");
}

export function activate(context: vscode.ExtensionContext): ErrandApi {
  const settings = () => vscode.workspace.getConfiguration("errand");
  const log = vscode.window.createOutputChannel("Errand");
  const binary = () =>
    findBinary(
      settings().get<string>("path", ""),
      process.env.PATH ?? "",
      // A workspace's own build is code from the workspace: only when trusted.
      vscode.workspace.isTrusted ? (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) : [],
    );
  const parallel = (): Record<string, string> => {
    const limit = settings().get<number | null>("parallel", null);
    return limit ? { ERRAND_PARALLEL: String(limit) } : {};
  };
  const client = new ErrandClient({
    binary,
    env: () => ({ ...process.env, ...parallel() }),
    clientVersion: vscode.version,
    log: (line) => log.appendLine(line),
    versionMismatch: (version, theirs, ours) =>
      void vscode.window.showWarningMessage(
        vscode.l10n.t(
          "Errand: errand {0} speaks protocol version {1}, this extension version {2}. Some features may fail: update whichever of the two is older.",
          version,
          theirs,
          ours,
        ),
      ),
    gaveUp: (why) =>
      binaryProblem(
        vscode.l10n.t(
          "Errand: errand serve ({0}) keeps exiting at start ({1}). Is errand.path an errand binary?",
          settings().get<string>("path", "") || vscode.l10n.t("from PATH"),
          why,
        ),
      ),
  });
  const restart = () => {
    client.restart();
    if (client.pid === undefined) binaryProblem(noBinary());
  };
  // Subscription order matters: the store hears of a finished task before the message about it.
  // One mark per view (this workspace's tasks, or all): clearing here hides nothing of another project's.
  const clearedKey = () => `errand.clearedUpTo:${scopeKey()}`;
  const store = new TaskStore(client, {
    load: () => context.globalState.get<number>(clearedKey(), 0),
    save: (ms) => void context.globalState.update(clearedKey(), ms),
  }, inScope);
  const documents = new OutputDocuments(client);
  const terminals = new OutputTerminals(client);
  const watches = new Watches(client);
  const tree = new TaskTree(store, watches);
  const treeView = vscode.window.createTreeView("errandTasks", { treeDataProvider: tree, showCollapseAll: false, canSelectMany: true });
  // The view's title says what it leaves out.
  store.onDidChange(() => {
    const all = settings().get<string>("scope", "workspace") === "all";
    const bits = [all ? vscode.l10n.t("all tasks") : vscode.l10n.t("this workspace")];
    if (store.filter) bits.push(vscode.l10n.t("filter: {0}", store.filter));
    treeView.description = bits.join(" · ");
  });
  const claims = path.join(context.globalStorageUri.fsPath, "claims");
  new Messages(client, terminals, claims);
  const problems = new Problems(client);

  context.subscriptions.push(
    log,
    client,
    tree,
    documents,
    terminals,
    new StatusBar(client, store),
    vscode.workspace.registerTextDocumentContentProvider(OUTPUT_SCHEME, documents),
    treeView,
    problems,
    registerTaskProvider(client, { binary, env: parallel, dir: runDir }),
    watches,
    ...registerCommands(client, store, { terminals, documents, problems }, context.globalState, watches),
    // The binary and the server's environment come from settings: a change
    // takes a new server (the notification settings are read at each use).
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("errand.path") || e.affectsConfiguration("errand.parallel")) restart();
      if (e.affectsConfiguration("errand.scope")) store.changedScope();
    }),
    // Trusted now: the workspace's own build may be the binary.
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => store.changedScope()),
  );
  tidyClaims(claims);
  client.start();
  if (client.pid === undefined) binaryProblem(noBinary());
  return { client, store, watches };
}

export function deactivate(): void {}
