// Every user-facing string has its Chinese (zh-cn), checked from the source:
// the manifest's %keys% in package.nls.json and package.nls.zh-cn.json, and
// each vscode.l10n.t("…") message in l10n/bundle.l10n.zh-cn.json with the
// same {n} placeholders. (code-server 4.100.3 without a language pack cannot
// switch its own UI to Chinese here, so the bundles are checked this way;
// VS Code picks them by its display language.)
const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const read = (f) => fs.readFileSync(path.join(root, f), "utf8");
const json = (f) => JSON.parse(read(f));
const sources = fs.readdirSync(path.join(root, "src")).filter((f) => f.endsWith(".ts")).map((f) => [f, read(path.join("src", f))]);
const placeholders = (s) => [...s.matchAll(/\{\d+\}/g)].map((m) => m[0]).sort();

test("the manifest: every %key% in English and in Chinese, nothing left untranslated", () => {
  const manifest = read("package.json");
  const keys = [...manifest.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]);
  const en = json("package.nls.json");
  const zh = json("package.nls.zh-cn.json");
  assert.deepStrictEqual(Object.keys(en).sort(), [...new Set(keys)].sort(), "package.nls.json holds exactly the keys used");
  assert.deepStrictEqual(Object.keys(zh).sort(), Object.keys(en).sort(), "package.nls.zh-cn.json too");
  for (const c of JSON.parse(manifest).contributes.commands) assert.match(c.title, /^%.+%$/, c.command);
  for (const [k, v] of Object.entries(zh)) assert.ok(v.trim() !== "" && (v !== en[k] || k.endsWith("title")), `${k} is translated`);
});

test("the code: every l10n.t message has its Chinese, with the same placeholders, and no message skips l10n", () => {
  const zh = json("l10n/bundle.l10n.zh-cn.json");
  const used = new Set();
  for (const [file, text] of sources) {
    for (const m of text.matchAll(/l10n\.t\(\s*"((?:[^"\\]|\\.)*)"/g)) used.add(JSON.parse(`"${m[1]}"`));
    // A message built without l10n.t would stay English.
    assert.doesNotMatch(text, /show(Information|Warning|Error)Message\(\s*[`"]/, `${file}: a message without l10n.t`);
    assert.doesNotMatch(text, /(prompt|placeHolder): [`"][A-Z]/, `${file}: a prompt without l10n.t`);
  }
  assert.ok(used.size > 50, `found ${used.size} messages`);
  for (const msg of used) {
    assert.ok(msg in zh, `no Chinese for ${JSON.stringify(msg)}`);
    assert.deepStrictEqual(placeholders(zh[msg]), placeholders(msg), msg);
  }
  assert.deepStrictEqual(Object.keys(zh).filter((k) => !used.has(k)), [], "no stale entries in the bundle");
  assert.strictEqual(json("package.json").l10n, "./l10n");
});
