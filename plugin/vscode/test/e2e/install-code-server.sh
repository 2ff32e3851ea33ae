#!/usr/bin/env bash
# Installs what the end-to-end test needs, once (cached in target/):
# code-server 4.100.3 (VS Code 1.100.3; the last line that accepts node 20),
# Debian's chromium, and playwright-core. The steps follow
# shared/notes/editor-testing.md: VS Code's own downloads are not reachable here.
set -euo pipefail
dest=${1:?usage: install-code-server.sh DEST}
if [ -x "$dest/node_modules/.bin/code-server" ] && command -v chromium >/dev/null; then
  exit 0
fi
if ! command -v chromium >/dev/null || ! command -v rg >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ripgrep libkrb5-dev >/dev/null
fi
# @vscode/ripgrep downloads rg from GitHub in its postinstall; seed its cache
# with Debian's rg instead.
tmp=${TMPDIR:-/tmp}
cache="$tmp/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
if [ ! -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
  stage=$(mktemp -d)
  cp "$(command -v rg)" "$stage/rg"
  tar -C "$stage" -czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg
  rm -rf "$stage"
fi
mkdir -p "$dest"
cd "$dest"
[ -f package.json ] || echo '{"name":"errand-e2e-tools","private":true}' > package.json
npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --loglevel=error \
  code-server@4.100.3 playwright-core@1.55.0
