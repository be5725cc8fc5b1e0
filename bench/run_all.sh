#!/usr/bin/env bash
# Every benchmark in one go (`make bench`). Needs PostgreSQL and Redis; each bench gets a database
# of its own, derived from BENCH_DATABASE_URL (…/atelier_bench → …/atelier_bench_items, …).
# Output: var/bench/<name>.txt, and everything on the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
BASE="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/atelier_bench}"
OUT=var/bench
mkdir -p "$OUT"

db() {  # a database URL for one bench, created if missing
    local url="${BASE}_$1" name="${BASE##*/}_$1" server="${BASE%/*}"
    "$PY" - "$server/postgres" "$name" <<'PYEOF'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [sys.argv[2]]).fetchone():
        conn.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PYEOF
    echo "$url"
}

run() {  # run NAME CMD... : tee the output into var/bench/NAME.txt
    local name="$1"; shift
    echo "== $name: $*"
    "$@" 2>&1 | tee "$OUT/$name.txt"
}

run items env DATABASE_URL="$(db items)" "$PY" bench/items.py --small
run media "$PY" bench/media.py
run generation env DATABASE_URL="$(db generation)" "$PY" bench/generation.py
run subjects env DATABASE_URL="$(db subjects)" "$PY" bench/subjects.py
run load env BENCH_DATABASE_URL="$(db load)" "$PY" bench/load.py
echo "numbers in $OUT/; summarise them in docs/performance.md"
