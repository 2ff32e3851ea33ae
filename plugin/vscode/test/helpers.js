// Shared by the node tests: where the errand binary is.
const path = require("node:path");
const fs = require("node:fs");

function errandBin() {
  if (process.env.ERRAND_BIN) return process.env.ERRAND_BIN;
  const root = path.resolve(__dirname, "..", "..", "..");
  for (const build of ["release", "debug"]) {
    const p = path.join(root, "target", build, "errand");
    if (fs.existsSync(p)) return p;
  }
  throw new Error("build errand first (cargo build --release) or set ERRAND_BIN");
}

module.exports = { errandBin };
