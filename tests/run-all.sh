#!/usr/bin/env bash
# Every test suite of errand, from a fresh machine: installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust: unit and integration tests (real binary, real processes)"
cargo test --locked --release 2>&1
