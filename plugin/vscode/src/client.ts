// The session with `errand serve`: initialize on every (re)start, typed
// requests, pushed notifications routed to whoever subscribed. No `vscode`
// import: the extension passes in what it needs.
import { ErrandConnection } from "./connection";
import {
  InitializeResult,
  Method,
  Methods,
  NOTIFICATIONS,
  NotificationMethod,
  Notifications,
  PROTOCOL_VERSION,
} from "./protocol";

export interface ClientOptions {
  /** The binary to start (undefined: none found). */
  binary: () => string | undefined;
  /** The server's environment, read at every start. */
  env: () => NodeJS.ProcessEnv;
  /** The editor's version, for errand's log. */
  clientVersion: string;
  log: (line: string) => void;
  /** The server speaks another protocol version (said once per window). */
  versionMismatch: (serverVersion: string, serverProtocol: number, ours: number) => void;
  /** The server keeps dying at start: restarts stopped (until restart()). */
  gaveUp?: (why: string) => void;
}

type Handlers = { [N in NotificationMethod]?: ((params: Notifications[N]) => void)[] };

export class ErrandClient {
  private readonly connection: ErrandConnection;
  private readonly handlers: Handlers = {};
  private readonly initListeners: ((init: InitializeResult) => unknown)[] = [];
  private warnedVersion = false;

  constructor(private readonly options: ClientOptions) {
    this.connection = new ErrandConnection(
      options.binary,
      options.env,
      (m, p) => this.notified(m, p),
      options.log,
      (why) => options.gaveUp?.(why),
    );
    this.connection.onStart(() => void this.initialize());
  }

  /** Start the server now rather than at the first request. */
  start(): void {
    try {
      this.connection.ensure();
    } catch (e) {
      this.options.log(String(e));
    }
  }

  /** A new server with the settings as they are now. */
  restart(): void {
    this.connection.restart();
  }

  get pid(): number | undefined {
    return this.connection.pid;
  }

  request<M extends Method>(method: M, params: Methods[M]["params"]): Promise<Methods[M]["result"]> {
    return this.connection.request(method, params);
  }

  on<N extends NotificationMethod>(method: N, fn: (params: Notifications[N]) => void): void {
    const list: ((params: Notifications[N]) => void)[] = (this.handlers[method] ??= []);
    list.push(fn);
  }

  /** Run after every successful initialize (the server restarts: again). */
  onInitialized(fn: (init: InitializeResult) => unknown): void {
    this.initListeners.push(fn);
  }

  dispose(): void {
    this.connection.dispose();
  }

  private async initialize(): Promise<void> {
    let init: InitializeResult;
    try {
      init = await this.request("initialize", {
        clientName: "vscode",
        clientVersion: this.options.clientVersion,
        protocolVersion: PROTOCOL_VERSION,
      });
    } catch (e) {
      this.options.log(`initialize failed: ${String(e)}`);
      return;
    }
    if (init.protocolVersion !== PROTOCOL_VERSION && !this.warnedVersion) {
      this.warnedVersion = true;
      this.options.versionMismatch(init.version, init.protocolVersion, PROTOCOL_VERSION);
    }
    for (const fn of this.initListeners) {
      // One listener failing must not stop the others.
      Promise.resolve()
        .then(() => fn(init))
        .catch((e) => this.options.log(`after initialize: ${String(e)}`));
    }
  }

  private notified(method: string, params: unknown): void {
    if (!isNotification(method)) {
      this.options.log(`unknown notification ${method}`);
      return;
    }
    this.dispatch(method, params as Notifications[typeof method]);
  }

  private dispatch<N extends NotificationMethod>(method: N, params: Notifications[N]): void {
    for (const fn of this.handlers[method] ?? []) {
      try {
        fn(params);
      } catch (e) {
        this.options.log(`${method} handler failed: ${String(e)}`);
      }
    }
  }
}

function isNotification(method: string): method is NotificationMethod {
  return (NOTIFICATIONS as readonly string[]).includes(method);
}
