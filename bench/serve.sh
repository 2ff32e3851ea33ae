#!/usr/bin/env bash
# errand serve benchmarks (issue #3): notification latency, round trips,
# cold start, idle CPU and wake-ups, RSS. Needs python3 and sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
E="$PWD/target/release/errand"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty" "$work/big"
ERRAND_HOME="$work/empty" "$E" status >/dev/null
ERRAND_HOME="$work/big" "$E" status >/dev/null
sqlite3 "$work/big/errand.db" <<'SQL'
INSERT INTO envs (hash, vars) VALUES ('bench', '{}') ON CONFLICT DO NOTHING;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO tasks (id, name, command, cwd, base_env, status, created_at, started_at, ended_at, exit_code, read_at)
SELECT printf('b%06d', i), 'bench ' || i, '{"shell":"true"}', '/tmp', 'bench',
       CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END,
       1700000000000 + i * 1000, 1700000000000 + i * 1000, 1700000000500 + i * 1000,
       CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN i < 99990 THEN 1 END
FROM n;
SQL
python3 bench/serve.py "$E" "$work/empty" "$work/big" "${IDLE_SECONDS:-60}"
