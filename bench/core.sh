#!/usr/bin/env bash
# Core benchmarks (issue #2). Not a test: prints figures to compare by eye.
#   1. 1000 x `true` through the queue (limit 10), against the machine's own
#      floor (xargs -P10) and pueue where installed.
#   2. `errand status --short` and `errand ls` with 100,000 tasks in history.
#   3. A task writing 1 GiB to stdout: wall time against a plain redirect,
#      and the supervisor's peak RSS.
# Needs: a release build (cargo build --release), hyperfine, sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
E="$PWD/target/release/errand"
N=${N:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ERRAND_HOME="$work/home"

now() { date +%s.%N; }
elapsed() { echo "$(echo "$2 - $1" | bc -l | xargs printf '%.2f')"; }

echo "== 1. $N x true, 10 at a time"
t0=$(now); seq "$N" | xargs -P 10 -I{} sh -c true; t1=$(now)
echo "floor (xargs -P10 sh -c true):          $(elapsed "$t0" "$t1") s"

t0=$(now)
for _ in $(seq "$N"); do "$E" run true >/dev/null; done
t1=$(now)
"$E" wait --all
t2=$(now)
done_count=$("$E" ls --all --json | jq '[.[] | select(.status == "completed")] | length')
echo "errand (submit $(elapsed "$t0" "$t1") s, all done):   $(elapsed "$t0" "$t2") s   ($done_count completed)"

if command -v pueue >/dev/null && command -v pueued >/dev/null; then
  pdir="$work/pueue"; mkdir -p "$pdir/run" "$pdir/state"
  cat > "$pdir/pueue.yml" <<YML
shared:
  pueue_directory: $pdir/state
  runtime_directory: $pdir/run
  use_unix_socket: true
daemon:
  default_parallel_tasks: 10
YML
  pueued -c "$pdir/pueue.yml" -d >/dev/null 2>&1
  sleep 0.5
  pueue -c "$pdir/pueue.yml" parallel 10 >/dev/null
  t0=$(now)
  for _ in $(seq "$N"); do pueue -c "$pdir/pueue.yml" add -- true >/dev/null; done
  t1=$(now)
  pueue -c "$pdir/pueue.yml" wait >/dev/null 2>&1 || true
  t2=$(now)
  echo "pueue  (submit $(elapsed "$t0" "$t1") s, all done):   $(elapsed "$t0" "$t2") s"
  pueue -c "$pdir/pueue.yml" shutdown >/dev/null 2>&1 || true
else
  echo "pueue: not installed (cargo install pueue --locked)"
fi

echo
echo "== 2. status and ls with 100,000 tasks in history"
sqlite3 "$ERRAND_HOME/errand.db" <<'SQL'
INSERT INTO envs (hash, vars) VALUES ('bench', '{}') ON CONFLICT DO NOTHING;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO tasks (id, name, command, cwd, base_env, status, created_at, started_at, ended_at, exit_code)
SELECT printf('b%06d', i), 'bench ' || i, '{"shell":"true"}', '/tmp', 'bench',
       CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END,
       1700000000000 + i * 1000, 1700000000000 + i * 1000, 1700000000500 + i * 1000,
       CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END
FROM n;
SQL
echo "tasks in history: $(sqlite3 "$ERRAND_HOME/errand.db" 'select count(*) from tasks')"
hyperfine -N --warmup 20 --runs 300 --style basic \
  "$E status --short" "$E ls" "$E ls --status failed" 2>&1 | grep -E 'Benchmark|Time'
echo "prompt segments (aim: <= 5 ms):"
hyperfine -N --warmup 20 --runs 300 --style basic \
  "$E status --format '[{running}▶ ][{failed}✗ ][{unread} new]'" "$E status --long" 2>&1 | grep -E 'Benchmark|Time'
echo "shell completion of task ids (aim: <= 10 ms), all / a broad prefix / a narrow one:"
ERRAND_COMPLETE=bash _CLAP_COMPLETE_INDEX=2 hyperfine -N --warmup 20 --runs 300 --style basic \
  "$E -- errand cancel ''" "$E -- errand show b0" "$E -- errand show b09999" 2>&1 | grep -E 'Benchmark|Time'
if command -v pueue >/dev/null; then echo "(pueue status at 10,000 tasks: about 700 ms on this kind of machine, per the issue)"; fi

echo
echo "== 3. 1 GiB to stdout"
t0=$(now); head -c 1G /dev/zero > "$work/plain.out"; t1=$(now)
echo "plain redirect to a file:               $(elapsed "$t0" "$t1") s"
rm -f "$work/plain.out"
id=$("$E" run 'head -c 1G /dev/zero')
t0=$(now)
peak=0
while :; do
  pid=$("$E" show --json "$id" | jq -r '.pid // empty')
  [ -n "$pid" ] && break
done
wpid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || echo "")
while [ -n "$wpid" ] && [ -r "/proc/$wpid/status" ]; do
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$wpid/status" 2>/dev/null || echo 0)
  [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
  [ "$("$E" show --json "$id" | jq -r .status)" = running ] || break
  sleep 0.05
done
"$E" wait "$id"
t1=$(now)
size=$(stat -c %s "$ERRAND_HOME/logs/$id.out")
echo "through errand (captured $size bytes):  $(elapsed "$t0" "$t1") s   supervisor peak RSS: $((peak / 1024)) MB"
/usr/bin/time -f "%M" "$E" logs -n 5 --stdout "$id" 2>"$work/rss" >/dev/null
echo "errand logs -n 5 on it: peak RSS $(( $(cat "$work/rss") / 1024 )) MB"
/usr/bin/time -f "%M" "$E" status --short 2>"$work/rss" >/dev/null
echo "errand status --short: peak RSS $(( $(cat "$work/rss") / 1024 )) MB"
