#!/usr/bin/env bash
# Text search and cancel at a large history (issue #14). Not a test.
#   bash bench/search.sh [N]   (N tasks in history, default 100000)
# The history is built through errand itself: the queue paused, N commands
# queued with `run --batch`, 2,000 of them cancelled one by one (the cancel
# figure, with N queued), the rest cancelled, then one task run so its
# supervisor indexes them as it leaves. Then `errand ls --find` is timed for
# a rare term, a common term, a long phrase and a two-letter term (no
# trigram: a direct read), each 30 runs, median and p90, process start
# included.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
E="$PWD/target/release/errand"
N=${1:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ERRAND_HOME="$work/home"
mkdir -p "$ERRAND_HOME"
printf '[history]\nkeep_count = %d\nkeep_days = 3650\n' "$((N + 10))" > "$ERRAND_HOME/config.toml"

time_it() { # LABEL ARGS...: median and p90 of 30 runs
  python3 - "$@" <<'PY'
import subprocess, sys, time, statistics
label, cmd = sys.argv[1], sys.argv[2:]
ts = []
for i in range(33):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if i >= 3:
        ts.append(time.perf_counter() - t)
ts.sort()
print(f"{label:<40} median {statistics.median(ts) * 1000:7.2f} ms   p90 {ts[26] * 1000:7.2f} ms")
PY
}

"$E" pause --queue >/dev/null
python3 -c "
for i in range($N):
    print(f'cargo test -p crate{i % 50} -- step {i}' if i % 7 else f'make -C proj{i % 13} target{i}')
print('grep rareword /etc/hosts')
" > "$work/lines"
t0=$(date +%s.%N)
"$E" run --batch < "$work/lines" > /dev/null 2>&1 || true
t1=$(date +%s.%N)
echo "queued $N with run --batch: $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s"

"$E" ls --all --json -s queued | jq -r '.[].id' > "$work/ids"
head -2000 "$work/ids" > "$work/first"
t0=$(date +%s.%N)
xargs "$E" cancel < "$work/first" > /dev/null 2>&1
t1=$(date +%s.%N)
echo "cancel of 2000 queued tasks, $N queued: $(echo "($t1 - $t0) / 2" | bc -l | xargs printf '%.3f') ms each"

time_it "ls --find rareword (not indexed)" "$E" ls --find rareword
tail -n +2001 "$work/ids" | xargs -n 5000 "$E" cancel > /dev/null 2>&1
"$E" resume --queue > /dev/null
"$E" run true > /dev/null
"$E" wait --all
for _ in $(seq 600); do grep -qs "tasks for search" "$ERRAND_HOME"/log/* && break; sleep 0.2; done
grep -ho "indexed [0-9]* tasks for search in [0-9.]*[a-zµ]*" "$ERRAND_HOME"/log/* | tail -1

time_it "ls --find rareword" "$E" ls --find rareword
time_it "ls --find cargo (common, page of 20)" "$E" ls --find cargo
time_it "ls --find 'crate7 -- step 9999'" "$E" ls --find "crate7 -- step 9999"
time_it "ls --find ab (two letters: direct)" "$E" ls --find ab
time_it "ls (no search)" "$E" ls
