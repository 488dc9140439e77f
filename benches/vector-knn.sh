#!/usr/bin/env bash
# Exact nearest-neighbour search on one MosaicDB node (default flags) and
# on three (each loading a third of the rows) against PostgreSQL 15 with
# pgvector (default settings, no vector index: the exact answer), numpy
# brute force and in-process SQLite with sqlite-vec, in one run on this
# machine (benches/vector_knn.rs does the loading, querying and checking).
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
MOSAIC_PIDS=()
cleanup() {
  for pid in "${MOSAIC_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
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

# start_node NAME [FLAG...]: a node in $WORK/NAME; sets NODE_CONN and
# NODE_CLUSTER_ADDR once its node.json is there.
start_node() {
  local name=$1
  shift
  MOSAIC_PASSWORD=$PASSWORD "$MOSAIC_BIN" --data "$WORK/$name" --node-name "$name" \
    --listen 127.0.0.1:0 --cluster-addr 127.0.0.1:0 "$@" >"$WORK/$name.log" 2>&1 &
  MOSAIC_PIDS+=($!)
  for _ in $(seq 300); do [ -f "$WORK/$name/node.json" ] && break; sleep 0.05; done
  NODE_CONN="postgresql://mosaic:$PASSWORD@$(jq -r .pg_addr "$WORK/$name/node.json")/mosaic"
  NODE_CLUSTER_ADDR=$(jq -r .cluster_addr "$WORK/$name/node.json")
}

start_node single
SERVERS=(--mosaic "$NODE_CONN")
start_node n1
SEED=$NODE_CLUSTER_ADDR
SERVERS+=(--cluster "$NODE_CONN")
for name in n2 n3; do
  start_node "$name" --join "$SEED"
  SERVERS+=(--cluster "$NODE_CONN")
done

"$BENCH_BIN" "${SERVERS[@]}" "${PG_ARGS[@]}" --rows "$ROWS" --dims "$DIMS" --dir "$WORK"
