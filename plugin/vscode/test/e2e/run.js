// (c) End to end in a real VS Code: code-server 4.100.3 (VS Code 1.100.3)
// with this extension's VSIX installed, driven in headless Chromium by
// playwright-core. Runs a command from the palette, watches the status bar
// count and the finish notification, cancels a running task from the
// palette, follows both in the Tasks view (welcome view when empty, a
// Cancelled section, no empty ones), clears them with Clear Finished, checks
// a workspace's .vscode/settings.json cannot set errand.path, shows a task's
// output in a terminal tab (colours, typed input, going on after errand
// serve is killed), acts from the tree's context menu, and tells one of two
// windows of a task's end. Then Restricted Mode in a hostile repository and
// a wrong errand.path, each in a code-server of its own. Screenshots of each
// step go beside SCREENSHOT.
//   node test/e2e/run.js TOOLS_DIR ERRAND_BIN SCREENSHOT [VSIX]
const cp = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const http = require("node:http");

const extRoot = path.resolve(__dirname, "..", "..");
const [tools, errandBin, screenshot, vsix = path.resolve(extRoot, "..", "..", "target", "errand.vsix")] = process.argv.slice(2);
if (!tools || !errandBin || !screenshot) {
  console.error("usage: run.js TOOLS_DIR ERRAND_BIN SCREENSHOT [VSIX]");
  process.exit(2);
}
const { chromium } = require(path.join(tools, "node_modules", "playwright-core"));

function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      http
        .get(url, (res) => {
          res.resume();
          resolve();
        })
        .on("error", () => (Date.now() > deadline ? reject(new Error(`${url} not up`)) : setTimeout(attempt, 200)));
    };
    attempt();
  });
}

/** The `errand serve` processes of one ERRAND_HOME. */
function serversOf(home) {
  const pids = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (argv[1] === "serve" && environ.includes(`ERRAND_HOME=${home}`)) pids.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return pids;
}

/**
 * A code-server of its own (user data, extensions with the VSIX installed,
 * ERRAND_HOME) on a workspace folder, and a page on it. `files` are written
 * into the workspace first.
 */
async function session(browser, tmp, name, { settings = {}, files = {}, trust = false } = {}) {
  const dir = path.join(tmp, name);
  const userData = path.join(dir, "user-data");
  const extensions = path.join(dir, "extensions");
  const workspace = path.join(dir, "workspace");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, file)), { recursive: true });
    fs.writeFileSync(path.join(workspace, file), text, { mode: 0o755 });
  }
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify({
      "errand.path": errandBin,
      "workbench.startupEditor": "none",
      "security.workspace.trust.enabled": trust,
      // Untrusted without asking: the folder opens in Restricted Mode.
      "security.workspace.trust.startupPrompt": "never",
      "workbench.tips.enabled": false,
      "telemetry.telemetryLevel": "off",
      // xterm's DOM renderer: the terminal's text and colours are in the page to check.
      "terminal.integrated.gpuAcceleration": "off",
      ...settings,
    }),
  );
  const codeServer = path.join(tools, "node_modules", ".bin", "code-server");
  // The extension as users get it: the VSIX (npm run package), installed by code-server.
  const installed = cp.spawnSync(codeServer, ["--extensions-dir", extensions, "--user-data-dir", userData, "--install-extension", vsix], {
    encoding: "utf8",
  });
  if (installed.status !== 0) throw new Error(`code-server --install-extension: ${installed.stdout}${installed.stderr}`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(dir, "config"),
    XDG_DATA_HOME: path.join(dir, "data"),
    XDG_STATE_HOME: path.join(dir, "state"),
    XDG_CACHE_HOME: path.join(dir, "cache"),
    ERRAND_HOME: path.join(dir, "errand"),
  };
  const args = ["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--user-data-dir", userData, "--extensions-dir", extensions,
    "--disable-telemetry", "--disable-update-check"];
  if (!trust) args.push("--disable-workspace-trust");
  const server = cp.spawn(codeServer, [...args, workspace], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const s = { dir, workspace, env, port, server, log: "", page: undefined };
  server.stdout.on("data", (d) => (s.log += d));
  server.stderr.on("data", (d) => (s.log += d));
  s.stop = () => {
    try {
      process.kill(-server.pid, "SIGKILL"); // code-server's whole process group
    } catch {}
  };
  sessions.push(s);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60000);
  s.page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  s.open = async (page) => {
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
    await page.waitForTimeout(3000); // start-up settles
  };
  await s.open(s.page);
  s.cli = (...a) => JSON.parse(cp.execFileSync(errandBin, a, { env }).toString());
  s.palette = (title, input) => palette(s.page, title, input);
  s.showView = () => s.page.locator(".activitybar .action-item a[aria-label^='Errand']").first().click();
  return s;
}

const sessions = [];

/** Run a palette command (and type into the box it opens). */
async function palette(page, title, input) {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("F1");
    await page.waitForSelector(".quick-input-widget", { state: "visible", timeout: 10000 });
    await page.keyboard.type(title);
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 5000 }); // the list occasionally stays empty: retry
    } catch {
      continue;
    }
    // The row itself: Enter takes the best fuzzy match, which may be
    // another command ("Tasks: Run Task" ranks "Errand: Restart Task" first).
    await row.click();
    if (input !== undefined) {
      // The command's own box: open, and no longer the palette's ">…" (on
      // a loaded machine it opens well after the palette closes).
      await page.waitForFunction(
        () => {
          const box = document.querySelector(".quick-input-widget .quick-input-box input");
          return !!box && box.offsetParent !== null && !box.value.startsWith(">");
        },
        null,
        { timeout: 20000 },
      );
      await page.keyboard.type(input);
      await page.keyboard.press("Enter");
    }
    return;
  }
  throw new Error(`palette: ${title} not found`);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "errand-e2e-"));
  let browser;
  let passed = 0;
  let failed = 0;
  const check = (name, ok, detail = "") => {
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
    if (!ok) throw new Error(name);
  };
  try {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-breakpad"], // playwright gives it a fresh profile
    });
    // A hostile repository points errand.path at a script of its own. errand.path
    // is a machine setting: VS Code must ignore it here, and the script never runs.
    const hostileMarker = path.join(tmp, "hostile-script-ran");
    const hostileFiles = (workspace) => ({
      "hostile.sh": `#!/bin/sh\ntouch '${hostileMarker}'\nexec '${errandBin}' "$@"\n`,
      ".vscode/settings.json": JSON.stringify({ "errand.path": path.join(workspace, "hostile.sh") }),
    });
    const main = await session(browser, tmp, "main", {
      settings: { "errand.notifications.onCancel": true },
      // errand.toml also activates the extension at start-up.
      files: { ...hostileFiles(path.join(tmp, "main", "workspace")), "errand.toml": 'hello = { command = "echo from-workflow" }\n' },
    });
    const { page, env, port, workspace, cli } = main;
    const palette = main.palette;

    const statusBar = page.locator("#workbench\\.parts\\.statusbar");
    // The tree view in its own container: empty, it offers to run something.
    await page.locator(".activitybar .action-item a[aria-label^='Errand']").first().click();
    await page.getByText("No tasks to show").first().waitFor({ timeout: 20000 });
    check("the empty tree shows the welcome view", (await page.locator(".welcome-view-content .monaco-button", { hasText: "Run Command" }).count()) > 0);

    // Run a command from the palette: the status bar counts it, a notification reports its end.
    await palette("Errand: Run Command", "sleep 2; echo e2e-done");
    await statusBar.getByText("1 running").waitFor({ timeout: 20000 });
    check("the status bar shows 1 running", true);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-running.png") });
    const toast = page.locator(".notifications-toasts").getByText(/completed in/);
    await toast.waitFor({ timeout: 20000 });
    check("a notification says it completed", (await toast.textContent()).includes("sleep 2; echo e2e-done"));
    const actions = page.locator(".notifications-toasts .monaco-button", { hasText: "Show Output" });
    check("the notification offers Show Output", (await actions.count()) > 0);
    await statusBar.getByText("1 running").waitFor({ state: "detached", timeout: 20000 });
    check("the status bar empties when idle", true);

    // Cancel a running task from the palette.
    await palette("Errand: Run Command", "sleep 100");
    await statusBar.getByText("1 running").waitFor({ timeout: 20000 });
    await palette("Errand: Cancel Task");
    const pick = page.locator(".quick-input-list .monaco-list-row", { hasText: "sleep 100" }).first();
    await pick.waitFor({ timeout: 10000 });
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-cancel-pick.png") });
    await pick.click();
    await page.locator(".notifications-toasts").getByText(/sleep 100 cancelled/).waitFor({ timeout: 20000 });
    const cancelled = cli("ls", "--json", "--status", "cancelled");
    check("the task is cancelled in the store", cancelled.length === 1 && cancelled[0].name === "sleep 100", JSON.stringify(cancelled));
    await statusBar.getByText("running").waitFor({ state: "detached", timeout: 20000 });
    check("the status bar no longer counts it", true);

    // The tree, open since the start, followed both tasks.
    await page.locator(".monaco-list-row", { hasText: "Completed (1)" }).first().waitFor({ timeout: 20000 });
    await page.locator(".monaco-list-row", { hasText: "Cancelled (1)" }).first().waitFor({ timeout: 20000 });
    check("the tree view lists the tasks by status, a cancel under Cancelled", true);
    const sections = await page.locator(".monaco-list-row").allTextContents();
    check("no empty section, and nothing under Failed", !sections.some((r) => /^(Running|Queued|Failed) \(/.test(r.trim())), JSON.stringify(sections));
    check("the workspace's errand.path was ignored (its script never ran)", !fs.existsSync(hostileMarker));
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
    console.log(`screenshot: ${screenshot}`);

    // Clear Finished: the rows leave the tree (errand keeps them), Undo is offered.
    await palette("Errand: Clear Finished");
    await page.locator(".notifications-toasts").getByText(/cleared 2 finished tasks/).waitFor({ timeout: 20000 });
    await page.getByText("No tasks to show").first().waitFor({ timeout: 20000 });
    check("Clear Finished empties the tree", (await page.locator(".monaco-list-row", { hasText: "Completed (1)" }).count()) === 0);
    check("errand's history keeps the cleared tasks", cli("ls", "--json").length === 2);
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-cleared.png") });

    // Output in a terminal tab: colours as a shell shows them, and what is typed reaches the task.
    await palette("Errand: Run Command", "printf '\\033[31mred-words\\033[0m\\n'; read x; echo \"got $x\"");
    await statusBar.getByText("1 running").waitFor({ timeout: 20000 });
    await palette("Errand: Show Output");
    const outputPick = page.locator(".quick-input-list .monaco-list-row", { hasText: "red-words" }).first();
    await outputPick.waitFor({ timeout: 10000 });
    await outputPick.click();
    const rows = page.locator(".terminal-wrapper.active .xterm-rows");
    await rows.getByText("red-words").first().waitFor({ timeout: 20000 });
    const red = await rows.locator("span", { hasText: "red-words" }).first().getAttribute("class");
    check("the terminal tab shows the task's red as red", /xterm-fg-1\b/.test(red ?? ""), `class=${red}`);
    await page.locator(".terminal-wrapper.active .xterm").click();
    await page.keyboard.type("typed-line");
    await page.keyboard.press("Enter");
    await rows.getByText("got typed-line").first().waitFor({ timeout: 20000 });
    check("a line typed in the terminal reaches the task", true);
    await rows.getByText(/\[errand\] completed/).first().waitFor({ timeout: 20000 });
    check("the terminal says how the task ended", true);
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-terminal.png") });

    // A workflow of the project's errand.toml, from the palette.
    await palette("Errand: Run Workflow");
    const wfPick = page.locator(".quick-input-list .monaco-list-row", { hasText: "#hello" }).first();
    await wfPick.waitFor({ timeout: 10000 });
    await wfPick.click();
    await page.locator(".notifications-toasts").getByText(/hello completed in/).first().waitFor({ timeout: 20000 });
    check("a workflow runs from Run Workflow…", cli("ls", "--json").some((t) => t.workflow === "hello" && t.status === "completed"));

    // The window's errand serve killed mid-follow: the terminal goes on from where it was.
    const ticks = "for i in 1 2 3 4 5 6 7 8; do echo tick-$i; sleep 0.4; done";
    await palette("Errand: Run Command", ticks);
    await palette("Errand: Show Output");
    const tickPick = page.locator(".quick-input-list .monaco-list-row", { hasText: "tick-$i" }).first();
    await tickPick.waitFor({ timeout: 10000 });
    await tickPick.click();
    await rows.getByText("tick-2").first().waitFor({ timeout: 20000 });
    const killed = serversOf(env.ERRAND_HOME);
    for (const pid of killed) process.kill(pid, "SIGKILL");
    check("the window's errand serve was killed", killed.length === 1, JSON.stringify(killed));
    await rows.getByText(/\[errand\] completed/).first().waitFor({ timeout: 30000 });
    const shown = (await rows.locator(":scope > div").allTextContents()).map((r) => r.trim()).filter((r) => r.startsWith("tick-"));
    check("after the restart every line came once, in order", JSON.stringify(shown) === JSON.stringify([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `tick-${i}`)), JSON.stringify(shown));
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-refollow.png") });

    // Right-click a row: the task's actions; Delete takes it out of errand's history.
    await page.keyboard.press("Escape");
    const row = page.locator(".monaco-list-row", { hasText: "tick-$i" }).first();
    const menu = page.locator(".context-view .monaco-menu");
    // Right after the refollow the workbench may still be settling and drop
    // the first right-click (seen once in CI): try again, as a user would.
    for (let attempt = 1; ; attempt++) {
      await row.click({ button: "right" });
      try {
        await menu.waitFor({ timeout: 5000 });
        break;
      } catch (e) {
        if (attempt === 3) throw e;
        await page.keyboard.press("Escape");
      }
    }
    const items = (await menu.locator(".action-label").allTextContents()).map((t) => t.trim()).filter((t) => t);
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-context-menu.png") });
    for (const want of ["Show Output…", "Open Output as Text…", "Show Details…", "Restart Task…", "Delete Task…", "Copy Command"]) {
      check(`the context menu offers ${want}`, items.includes(want), JSON.stringify(items));
    }
    await menu.locator(".action-label", { hasText: "Delete Task…" }).click();
    await page.locator(".notifications-toasts").getByText(/deleted/).first().waitFor({ timeout: 20000 });
    check("Delete took it out of errand's history", !cli("ls", "--json").some((t) => t.name.startsWith("for i in")));

    // A second window on the same folder: one message for a task, not two.
    const second = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await second.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await second.waitForSelector(".monaco-workbench", { timeout: 60000 });
    await second.locator(".activitybar .action-item a[aria-label^='Errand']").first().click(); // activates it there
    await second.getByText("Completed (").first().waitFor({ timeout: 20000 }); // its extension runs and sees the tasks
    await palette("Errand: Run Command", "echo two-windows");
    const toastIn = (p) => p.locator(".notifications-toasts").getByText(/two-windows completed in/);
    await Promise.race([toastIn(page).waitFor({ timeout: 20000 }), toastIn(second).waitFor({ timeout: 20000 })]);
    // Both windows heard of it (their trees list it); the other's message, if any, has arrived by now.
    for (const p of [page, second]) await p.locator(".monaco-list-row", { hasText: "echo two-windows" }).first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(2000);
    const shownIn = [await toastIn(page).count(), await toastIn(second).count()];
    check("two windows, one message", shownIn[0] + shownIn[1] === 1, JSON.stringify(shownIn));
    await second.close();

    // A failing build (a real gcc) fills the Problems panel.
    fs.writeFileSync(path.join(workspace, "broken.c"), "int main(void) {\n  return missing;\n}\n");
    await palette("Errand: Run Command", "gcc -c broken.c -o /dev/null");
    await page.locator(".notifications-toasts").getByText(/gcc -c broken.c -o \/dev\/null failed/).first().waitFor({ timeout: 30000 });
    await page.keyboard.press("Control+Shift+M"); // the Problems panel
    await page.locator(".markers-panel").getByText(/missing/).first().waitFor({ timeout: 20000 });
    check("a failed build fills the Problems panel", (await page.locator(".markers-panel").getByText("broken.c").count()) > 0);
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-problems.png") });

    // VS Code's own Tasks: Run Task lists errand's workflows.
    await palette("Tasks: Run Task");
    const taskRows = page.locator(".quick-input-list .monaco-list-row");
    // Its first page lists the task types (grunt, npm…, errand): narrow it to errand's.
    await taskRows.filter({ hasText: "Show All Tasks" }).first().waitFor({ timeout: 20000 });
    await page.keyboard.type("errand");
    await taskRows.filter({ hasText: "errand" }).first().waitFor({ timeout: 20000 });
    await page.keyboard.press("Enter");
    await taskRows.filter({ hasText: "#hello" }).first().waitFor({ timeout: 20000 });
    check("Tasks: Run Task lists an errand workflow", true);
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-run-task.png") });
    await page.keyboard.press("Escape");

    main.stop();

    // Restricted Mode, in a hostile repository: its errand.toml workflow and
    // its errand.path script never run; a command the user types does.
    const pwned = path.join(tmp, "workflow-ran");
    const restricted = await session(browser, tmp, "restricted", {
      trust: true,
      files: { ...hostileFiles(path.join(tmp, "restricted", "workspace")), "errand.toml": `pwn = { command = "touch '${pwned}'" }\n` },
    });
    await restricted.page.getByText("Restricted Mode").first().waitFor({ timeout: 20000 });
    await restricted.showView();
    await restricted.palette("Errand: Run Command", "#pwn");
    await restricted.page.locator(".notifications-toasts").getByText(/do not run in Restricted Mode/).first().waitFor({ timeout: 20000 });
    await restricted.palette("Errand: Run Command", "echo typed-in-restricted");
    await restricted.page.locator(".notifications-toasts").getByText(/typed-in-restricted completed in/).first().waitFor({ timeout: 20000 });
    check("Restricted Mode: a typed command runs", true);
    check("Restricted Mode: the workspace's workflow never ran", !fs.existsSync(pwned) && restricted.cli("ls", "--json").length === 1);
    check("Restricted Mode: the workspace's errand.path script never ran", !fs.existsSync(hostileMarker));
    await restricted.page.screenshot({ path: screenshot.replace(/\.png$/, "-restricted.png") });
    restricted.stop();

    // A wrong binary: a few tries, then one warning with Open Settings; no restart loop.
    const wrong = await session(browser, tmp, "wrong-binary", { settings: { "errand.path": "/bin/false" } });
    await wrong.showView();
    const warning = wrong.page.locator(".notifications-toasts").getByText(/keeps exiting at start/);
    await warning.first().waitFor({ timeout: 30000 });
    await wrong.page.waitForTimeout(3000);
    check("a wrong binary: one warning", (await warning.count()) === 1, String(await warning.count()));
    check("the warning offers Open Settings", (await wrong.page.locator(".notifications-toasts .monaco-button", { hasText: "Open Settings" }).count()) > 0);
    await wrong.page.screenshot({ path: screenshot.replace(/\.png$/, "-wrong-binary.png") });
  } catch (e) {
    if (failed === 0) failed++;
    console.log(`FAIL e2e: ${e && e.stack ? e.stack : e}`);
    const failedShot = screenshot.replace(/\.png$/, "-failed.png");
    await browser?.contexts()[0]?.pages()[0]?.screenshot({ path: failedShot }).then(() => console.log(`screenshot: ${failedShot}`)).catch(() => {});
    for (const x of sessions) console.log(x.log.split("\n").slice(-15).join("\n"));
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const x of sessions) x.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
