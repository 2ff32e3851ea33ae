#!/usr/bin/env bash
# Is Cargo.toml's rust-version honest? Only one toolchain can be installed
# here, so errand cannot be built with the declared one. Two checks stand in:
# clippy's incompatible_msrv lint (in CI with -D warnings) refuses std APIs
# newer than rust-version in errand's own code, and this script refuses a
# rust-version older than what any locked dependency (for this platform) needs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --locked --filter-platform "$(rustc -vV | sed -n 's/^host: //p')" | python3 -c '
import json, sys
meta = json.load(sys.stdin)
ids = {n["id"] for n in meta["resolve"]["nodes"]}
def key(v): return tuple((list(map(int, v.split("."))) + [0, 0])[:3])
root = next(p for p in meta["packages"] if p["name"] == "errand")
declared = root["rust_version"]
needs = [(p["rust_version"], p["name"]) for p in meta["packages"] if p["id"] in ids and p.get("rust_version") and p["name"] != "errand"]
top = max(needs, key=lambda n: key(n[0]))
if key(declared) < key(top[0]):
    sys.exit(f"rust-version {declared} is older than {top[1]} needs ({top[0]}): raise it in Cargo.toml")
print(f"rust-version {declared}: the locked dependencies need at most {top[0]} ({top[1]})")
'
