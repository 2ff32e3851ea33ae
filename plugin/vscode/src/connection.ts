// The process `errand serve`: spawned over stdio, spoken to through
// vscode-jsonrpc, restarted with backoff when it dies (pending requests are
// then rejected, never left hanging). A binary that keeps dying at once (a
// wrong errand.path) is given up after a few tries, with one report.
import * as cp from "child_process";
import * as rpc from "vscode-jsonrpc/node";
import type { Method, Methods } from "./protocol";

export type NotificationHandler = (method: string, params: unknown) => void;

/** Deaths within QUICK_MS of a start, in a row, before restarts stop. */
const QUICK_DEATHS = 4;
const QUICK_MS = 10_000;

export class ErrandConnection {
  private child: cp.ChildProcess | undefined;
  private conn: rpc.MessageConnection | undefined;
  private backoffMs = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly startListeners: (() => void)[] = [];
  private quickDeaths = 0;
  /** How the last server ended, for the requests it took with it. */
  private lastDeath = "";

  constructor(
    private readonly binary: () => string | undefined,
    private readonly env: () => NodeJS.ProcessEnv,
    private readonly onNotification: NotificationHandler,
    private readonly log: (line: string) => void = () => {},
    /** Restarts stopped: the binary keeps dying (`why`: how it ended last). */
    private readonly gaveUp: (why: string) => void = () => {},
  ) {}

  /** Run after every (re)start. */
  onStart(fn: () => void): void {
    this.startListeners.push(fn);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the server unless it runs. Throws with a reason if it cannot. */
  ensure(): rpc.MessageConnection {
    if (this.conn) return this.conn;
    if (this.disposed) throw new Error("errand: the connection is closed");
    // Given up until a restart (a new setting): no respawn per request.
    if (this.quickDeaths >= QUICK_DEATHS) throw new Error(`errand serve keeps exiting at start (${this.lastDeath})`);
    const bin = this.binary();
    if (!bin) {
      throw new Error("errand binary not found: set errand.path, or put errand on PATH");
    }
    const child = cp.spawn(bin, ["serve"], { stdio: ["pipe", "pipe", "pipe"], env: this.env() });
    const conn = rpc.createMessageConnection(
      new rpc.StreamMessageReader(child.stdout!),
      new PipeWriter(child.stdin!, (e) => died(`write failed: ${String(e)}`)),
    );
    conn.onNotification((method: string, params: unknown) => this.onNotification(method, params));
    child.stderr?.on("data", (d: Buffer) => this.log(`errand serve stderr: ${d.toString()}`));
    const died = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.conn = undefined;
      this.log(`errand serve ended: ${why}`);
      this.lastDeath = why;
      this.quickDeaths = Date.now() - this.startedAt < QUICK_MS ? this.quickDeaths + 1 : 0;
      conn.dispose(); // rejects what is pending
      if (this.quickDeaths >= QUICK_DEATHS) {
        this.gaveUp(why);
        return;
      }
      this.scheduleRestart();
    };
    child.on("exit", (code, signal) => died(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.on("error", (e) => died(e.message));
    conn.listen();
    this.child = child;
    this.conn = conn;
    this.startedAt = Date.now();
    for (const fn of this.startListeners) fn();
    return conn;
  }

  async request<M extends Method>(method: M, params: Methods[M]["params"]): Promise<Methods[M]["result"]> {
    const conn = this.ensure(); // its throw rejects the promise: callers' .catch sees it
    return conn.sendRequest<Methods[M]["result"]>(method, params).catch((e: unknown) => {
      // vscode-jsonrpc's own words ("Pending response rejected since connection got disposed") mean nothing to a user.
      if (this.conn !== conn && this.lastDeath) throw new Error(`errand serve ended (${this.lastDeath}) before it answered ${method}`);
      throw e;
    });
  }

  /** Start afresh (a setting changed): the old server is let go, a new one starts now. */
  restart(): void {
    if (this.disposed) return;
    this.letGo();
    this.backoffMs = 0;
    this.quickDeaths = 0;
    try {
      this.ensure();
    } catch (e) {
      this.log(String(e));
    }
  }

  private scheduleRestart(): void {
    if (this.disposed || this.restartTimer) return;
    // Died soon after starting: wait longer each time, up to 10 s.
    this.backoffMs = Date.now() - this.startedAt < 10_000 ? Math.min(Math.max(this.backoffMs * 2, 200), 10_000) : 200;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      try {
        this.ensure();
      } catch (e) {
        this.log(String(e));
      }
    }, this.backoffMs);
  }

  dispose(): void {
    this.disposed = true;
    this.letGo();
  }

  /** Let the server go (no restart pending). It is forgotten first, so its
   * exit is not taken for a death to recover from. */
  private letGo(): void {
    const { child, conn } = this;
    this.child = undefined;
    this.conn = undefined;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    conn?.dispose();
    child?.stdin?.end(); // errand serve exits on stdin EOF; tasks keep running
  }
}

/**
 * vscode-jsonrpc 8.2.1 rejects a request whose write fails and then rethrows
 * the error where nobody can catch it (an unhandled rejection). A failed
 * write means the pipe broke: report it instead, and the connection's
 * disposal rejects the request.
 */
class PipeWriter extends rpc.StreamMessageWriter {
  constructor(
    stream: NodeJS.WritableStream,
    private readonly broken: (e: unknown) => void,
  ) {
    super(stream);
  }

  override async write(msg: rpc.Message): Promise<void> {
    try {
      await super.write(msg);
    } catch (e) {
      this.broken(e);
    }
  }
}
