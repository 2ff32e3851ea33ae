// A STUB of the `vscode` module (VS Code itself cannot run under node
// --test): just enough API for the extension to activate, with every UI call
// recorded so tests can assert on what a user would have seen. reset() puts
// it back to nothing between tests. The end-to-end test (test/e2e) runs the
// same extension in a real VS Code.
const calls = {};
const script = {};
const config = {};

/** A settings change, as VS Code reports it: `keys` changed (e.g. "errand.path"). */
function changeConfig(values, keys) {
  Object.assign(config, values);
  const event = { affectsConfiguration: (section) => keys.some((k) => k === section || k.startsWith(`${section}.`)) };
  for (const fn of [...calls.configListeners]) fn(event);
}

/** The user trusts the workspace. */
function grantTrust() {
  module.exports.workspace.isTrusted = true;
  for (const fn of [...calls.trustListeners]) fn();
}

function reset() {
  Object.assign(calls, {
    messages: [],
    commands: new Map(),
    statusBar: null,
    tree: null,
    quickPicks: [],
    inputBoxes: [],
    documents: [],
    providers: new Map(),
    configListeners: [],
    trustListeners: [],
    terminals: [],
    clipboard: "",
    context: {},
    quickPickBoxes: [],
    // The Problems panel: file path -> its diagnostics (as set last).
    problems: new Map(),
    // Commands of VS Code's own that the extension ran.
    builtins: [],
    // Task providers by type.
    taskProviders: new Map(),
  });
  Object.assign(script, { inputBox: [], quickPick: [], messageChoice: [] });
  for (const k of Object.keys(config)) delete config[k];
  module.exports.workspace.workspaceFolders = undefined;
  module.exports.workspace.isTrusted = true;
}

class EventEmitter {
  constructor() {
    this.listeners = [];
    this.event = (fn) => {
      this.listeners.push(fn);
      return {
        dispose: () => {
          const i = this.listeners.indexOf(fn);
          if (i >= 0) this.listeners.splice(i, 1);
        },
      };
    };
  }
  fire(v) {
    for (const l of [...this.listeners]) l(v);
  }
  dispose() {
    this.listeners = [];
  }
}

class Range {
  constructor(startLine, startCharacter, endLine, endCharacter) {
    Object.assign(this, { start: { line: startLine, character: startCharacter }, end: { line: endLine, character: endCharacter } });
  }
}

class Diagnostic {
  constructor(range, message, severity) {
    Object.assign(this, { range, message, severity });
  }
}

class ProcessExecution {
  constructor(process, args, options) {
    Object.assign(this, { process, args, options });
  }
}

class Task {
  constructor(definition, scope, name, source, execution) {
    Object.assign(this, { definition, scope, name, source, execution });
  }
}

class TreeItem {
  constructor(label, collapsibleState) {
    this.label = label;
    this.collapsibleState = collapsibleState;
  }
}

class ThemeIcon {
  constructor(id) {
    this.id = id;
  }
}

const message = (kind) => async (text, ...actions) => {
  calls.messages.push({ kind, text, actions });
  return script.messageChoice.shift();
};

/** Removes `value` from a registry when disposed, if it is still the one registered. */
const registered = (map, key, value) => {
  map.set(key, value);
  return { dispose: () => map.get(key) === value && map.delete(key) };
};

module.exports = {
  calls,
  script,
  config,
  reset,
  changeConfig,
  grantTrust,
  version: "1.100.0-stub",
  EventEmitter,
  TreeItem,
  ThemeIcon,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  QuickPickItemKind: { Separator: -1, Default: 0 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  Range,
  Diagnostic,
  ProcessExecution,
  Task,
  TaskScope: { Global: 1, Workspace: 2 },
  TaskGroup: { Build: { id: "build" }, Test: { id: "test" } },
  tasks: {
    registerTaskProvider: (type, provider) => registered(calls.taskProviders, type, provider),
  },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  languages: {
    createDiagnosticCollection: () => ({
      set: (uri, list) => (list ? calls.problems.set(uri.fsPath, list) : calls.problems.delete(uri.fsPath)),
      dispose: () => calls.problems.clear(),
    }),
  },
  Uri: {
    file: (fsPath) => ({ scheme: "file", fsPath, path: fsPath, toString: () => `file://${fsPath}` }),
    parse: (s) => {
      const [scheme, rest] = s.split(":");
      return { scheme, path: rest, toString: () => s };
    },
    from: ({ scheme, path }) => ({ scheme, path, toString: () => `${scheme}:${path}` }),
  },
  window: {
    createOutputChannel: () => ({ appendLine() {}, dispose() {} }),
    createStatusBarItem: () => {
      calls.statusBar = {
        text: "",
        visible: false,
        disposed: false,
        show() { this.visible = true; },
        hide() { this.visible = false; },
        dispose() { this.visible = false; this.disposed = true; },
      };
      return calls.statusBar;
    },
    createTreeView: (id, opts) => {
      calls.tree = opts.treeDataProvider;
      calls.treeView = { description: undefined, dispose() {} };
      return calls.treeView;
    },
    showInformationMessage: message("info"),
    showWarningMessage: message("warning"),
    showErrorMessage: message("error"),
    showInputBox: async (opts) => {
      calls.inputBoxes.push(opts);
      return script.inputBox.shift();
    },
    // The Run Command box: what the test queued in script.inputBox is typed
    // and accepted (undefined: the box is closed). Each box is recorded.
    createQuickPick: () => {
      const [changed, accepted, hidden] = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
      const box = {
        value: "",
        items: [],
        activeItems: [],
        onDidChangeValue: changed.event,
        onDidAccept: accepted.event,
        onDidHide: hidden.event,
        show() {
          calls.quickPickBoxes.push(box);
          box.shownItems = box.items;
          const typed = script.inputBox.shift();
          Promise.resolve().then(() => {
            if (typed === undefined) return hidden.fire();
            box.value = typed;
            changed.fire(typed);
            box.activeItems = box.items.slice(0, 1);
            accepted.fire();
          });
        },
        hide() { hidden.fire(); },
        dispose() {},
      };
      return box;
    },
    showQuickPick: async (items, opts) => {
      calls.quickPicks.push({ items, opts });
      const choose = script.quickPick.shift();
      return typeof choose === "function" ? choose(items) : choose;
    },
    // A terminal records what its pseudoterminal wrote (opened at once, as
    // VS Code does when the tab shows); `type` is the user typing into it.
    createTerminal: (opts) => {
      const term = {
        name: opts.name,
        pty: opts.pty,
        text: "",
        shows: 0,
        disposed: false,
        show() { this.shows++; },
        dispose() {
          if (this.disposed) return;
          this.disposed = true;
          opts.pty.close();
        },
        type(data) { opts.pty.handleInput(data); },
      };
      opts.pty.onDidWrite((d) => (term.text += d));
      calls.terminals.push(term);
      Promise.resolve().then(() => opts.pty.open(undefined));
      return term;
    },
    showTextDocument: async (doc) => {
      calls.documents.push(doc);
      return {};
    },
  },
  workspace: {
    workspaceFolders: undefined,
    isTrusted: true,
    onDidGrantWorkspaceTrust: (fn) => {
      calls.trustListeners.push(fn);
      return { dispose: () => calls.trustListeners.splice(calls.trustListeners.indexOf(fn), 1) };
    },
    onDidChangeWorkspaceFolders: () => ({ dispose() {} }),
    onDidChangeConfiguration: (fn) => {
      calls.configListeners.push(fn);
      return { dispose: () => calls.configListeners.splice(calls.configListeners.indexOf(fn), 1) };
    },
    getConfiguration: () => ({
      get: (key, dflt) => (key in config ? config[key] : dflt),
      update: async (key, value) => changeConfig({ [key]: value }, [`errand.${key}`]),
    }),
    registerTextDocumentContentProvider: (scheme, provider) => registered(calls.providers, scheme, provider),
    openTextDocument: async (uri) => ({ uri, getText: () => calls.providers.get(uri.scheme).provideTextDocumentContent(uri) }),
  },
  // English, as VS Code gives it with no bundle for the locale: {0}, {1}… filled in.
  l10n: {
    t: (message, ...args) => message.replace(/\{(\d+)\}/g, (m, i) => (i < args.length ? String(args[i]) : m)),
  },
  env: {
    clipboard: {
      writeText: async (text) => void (calls.clipboard = text),
      readText: async () => calls.clipboard,
    },
  },
  commands: {
    registerCommand: (name, fn) => registered(calls.commands, name, fn),
    executeCommand: async (name, ...args) => {
      if (name === "setContext") return void (calls.context[args[0]] = args[1]);
      if (!calls.commands.has(name) && name.startsWith("workbench.")) return void calls.builtins.push(name);
      return calls.commands.get(name)(...args);
    },
  },
};
reset();
