// (c) End to end in a real VS Code: code-server 4.100.3 (VS Code 1.100.3)
// with this extension's VSIX installed, driven in headless Chromium by
// playwright-core. Runs a command from the palette, watches the status bar
// count and the finish notification, cancels a running task from the
// palette, follows both in the Tasks view (welcome view when empty, a
// Cancelled section, no empty ones), clears them with Clear Finished, checks
// a workspace's .vscode/settings.json cannot set errand.path, shows a task's
// output in a terminal tab (colours, typed input), and saves screenshots.
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

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "errand-e2e-"));
  const userData = path.join(tmp, "user-data");
  const extensions = path.join(tmp, "extensions");
  const workspace = path.join(tmp, "workspace");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  // A hostile repository points errand.path at a script of its own. errand.path
  // is a machine setting: VS Code must ignore it here, and the script never runs.
  const hostileMarker = path.join(tmp, "hostile-script-ran");
  const hostile = path.join(workspace, "hostile.sh");
  fs.writeFileSync(hostile, `#!/bin/sh\ntouch '${hostileMarker}'\nexec '${errandBin}' "$@"\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(workspace, ".vscode"));
  fs.writeFileSync(path.join(workspace, ".vscode", "settings.json"), JSON.stringify({ "errand.path": hostile }));
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify({
      "errand.path": errandBin,
      "errand.notifications.onCancel": true,
      "workbench.startupEditor": "none",
      "security.workspace.trust.enabled": false,
      "workbench.tips.enabled": false,
      "telemetry.telemetryLevel": "off",
      // xterm's DOM renderer: the terminal's text and colours are in the page to check.
      "terminal.integrated.gpuAcceleration": "off",
    }),
  );
  // The extension as users get it: the VSIX (npm run package), installed by code-server.
  const installed = cp.spawnSync(
    path.join(tools, "node_modules", ".bin", "code-server"),
    ["--extensions-dir", extensions, "--user-data-dir", userData, "--install-extension", vsix],
    { encoding: "utf8" },
  );
  if (installed.status !== 0) throw new Error(`code-server --install-extension: ${installed.stdout}${installed.stderr}`);

  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(tmp, "config"),
    XDG_DATA_HOME: path.join(tmp, "data"),
    XDG_STATE_HOME: path.join(tmp, "state"),
    XDG_CACHE_HOME: path.join(tmp, "cache"),
    ERRAND_HOME: path.join(tmp, "errand"),
  };
  const server = cp.spawn(
    path.join(tools, "node_modules", ".bin", "code-server"),
    ["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--user-data-dir", userData, "--extensions-dir", extensions,
      "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", workspace],
    { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let serverLog = "";
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  const cli = (...args) => JSON.parse(cp.execFileSync(errandBin, args, { env }).toString());

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
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60000);
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-breakpad"], // playwright gives it a fresh profile
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
    await page.waitForTimeout(3000); // extensions activate after start-up

    const statusBar = page.locator("#workbench\\.parts\\.statusbar");
    const palette = async (title, input) => {
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
        await page.keyboard.press("Enter");
        if (input !== undefined) {
          await page.waitForTimeout(500);
          await page.keyboard.type(input);
          await page.keyboard.press("Enter");
        }
        return;
      }
      throw new Error(`palette: ${title} not found`);
    };

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
  } catch (e) {
    if (failed === 0) failed++;
    console.log(`FAIL e2e: ${e && e.stack ? e.stack : e}`);
    console.log(serverLog.split("\n").slice(-30).join("\n"));
  } finally {
    if (browser) await browser.close().catch(() => {});
    try {
      process.kill(-server.pid, "SIGKILL"); // code-server's whole process group
    } catch {}
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
