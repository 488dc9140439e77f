#!/usr/bin/env bash
# Exact nearest-neighbour search on one MosaicDB node (default flags)
# against PostgreSQL 15 with pgvector (default settings, no vector index:
# the exact answer) and in-process SQLite, in one run on this machine
# (benches/vector_knn.rs does the loading, querying and checking).
#
# pgvector is not packaged for Debian's PostgreSQL 15: build it from its
# source first (`make && make install` with postgresql-server-dev-15) to
# have the PostgreSQL column; without it the script measures MosaicDB and
# SQLite and says so. Run as root (PostgreSQL runs as the postgres user).
#
# Usage: benches/vector-knn.sh [ROWS] [DIMS]   (default 100000 128)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-100000}
DIMS=${2:-128}
PASSWORD=mosaic-bench-password
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs psql jq

build_with_bench vector_knn

WORK=$(mktemp -d /tmp/mosaic-knn.XXXXXX)
chmod 755 "$WORK"
MOSAIC_PID=
cleanup() {
  [ -n "$MOSAIC_PID" ] && kill "$MOSAIC_PID" 2>/dev/null || true
  [ -n "${PG_PID:-}" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start_pg
PG_ARGS=()
if psql -X -Atq "$PG_CONN" -c "CREATE EXTENSION vector" >/dev/null 2>&1; then
  PG_ARGS=(--pg "$PG_CONN")
else
  echo "PostgreSQL has no pgvector here: its column is left out" >&2
fi

MOSAIC_PASSWORD=$PASSWORD "$MOSAIC_BIN" --data "$WORK/mosaic" \
  --listen 127.0.0.1:0 --cluster-addr 127.0.0.1:0 >"$WORK/mosaic.log" 2>&1 &
MOSAIC_PID=$!
for _ in $(seq 300); do [ -f "$WORK/mosaic/node.json" ] && break; sleep 0.05; done
MOSAIC_CONN="postgresql://mosaic:$PASSWORD@$(jq -r .pg_addr "$WORK/mosaic/node.json")/mosaic"

"$BENCH_BIN" --mosaic "$MOSAIC_CONN" "${PG_ARGS[@]}" --rows "$ROWS" --dims "$DIMS" --dir "$WORK"
