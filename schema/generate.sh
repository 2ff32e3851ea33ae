#!/usr/bin/env bash
# Write every file generated from the protocol (defined once, in src/protocol):
# the OpenRPC document and the editor clients' types. A test fails when one
# of them is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
errand=target/debug/errand
"$errand" __schema openrpc > schema/errand.openrpc.json
"$errand" __schema typescript > plugin/vscode/src/protocol.ts
"$errand" __schema lua > plugin/nvim/lua/errand/protocol.lua
