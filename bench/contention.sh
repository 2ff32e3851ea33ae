#!/usr/bin/env bash
# Many writers at once on an overloaded machine: WRITERS shell loops each
# submit PER tasks (`errand run true`) beside HOGS busy loops, with a
# parallel limit of 64. Prints the wall time until every task ended and the
# CPU all of it took. Usage: bench/contention.sh [ERRAND_BIN] [WRITERS] [PER] [HOGS]
set -euo pipefail
bin=${1:-target/release/errand}
writers=${2:-100}
per=${3:-10}
hogs=${4:-2}
home=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$home"' EXIT
export ERRAND_HOME=$home
echo 'parallel = 64' > "$home/config.toml"
"$bin" status > /dev/null
for _ in $(seq "$hogs"); do sh -c 'while :; do :; done' & done
start=$(date +%s.%N)
pids=()
for _ in $(seq "$writers"); do
  ( for _ in $(seq "$per"); do "$bin" run true > /dev/null; done ) &
  pids+=($!)
done
wait "${pids[@]}"
submitted=$(date +%s.%N)
while [ "$("$bin" status --json | jq '.queued + .running')" != 0 ]; do sleep 0.05; done
end=$(date +%s.%N)
total=$((writers * per))
ended=$("$bin" ls --json --all 2>/dev/null | jq 'length' || echo '?')
printf '%s: %d tasks from %d writers beside %d hogs: submitted in %.2f s, all ended in %.2f s (%s listed)\n' \
  "$bin" "$total" "$writers" "$hogs" "$(echo "$submitted - $start" | bc)" "$(echo "$end - $start" | bc)" "$ended"
