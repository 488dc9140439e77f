#!/usr/bin/env bash
# Spatial queries over points on one MosaicDB node (default flags) against
# PostgreSQL 15 with PostGIS (default settings, a GiST index on the
# points) and in-process SQLite with an R*Tree, in one run on this machine
# (benches/geometry_knn.rs does the loading, querying and checking).
# PostGIS comes from Debian's postgresql-15-postgis-3, which
# scripts/install-test-deps.sh installs. Run as root (PostgreSQL runs as
# the postgres user).
#
# Usage: benches/geometry-knn.sh [ROWS] [RADIUS]   (default 1000000 5)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-1000000}
RADIUS=${2:-5}
PASSWORD=mosaic-bench-password
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs psql jq

build_with_bench geometry_knn

WORK=$(mktemp -d /tmp/mosaic-geo.XXXXXX)
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

MOSAIC_PASSWORD=$PASSWORD "$MOSAIC_BIN" --data "$WORK/mosaic" \
  --listen 127.0.0.1:0 --cluster-addr 127.0.0.1:0 >"$WORK/mosaic.log" 2>&1 &
MOSAIC_PID=$!
for _ in $(seq 300); do [ -f "$WORK/mosaic/node.json" ] && break; sleep 0.05; done
MOSAIC_CONN="postgresql://mosaic:$PASSWORD@$(jq -r .pg_addr "$WORK/mosaic/node.json")/mosaic"

"$BENCH_BIN" --mosaic "$MOSAIC_CONN" --pg "$PG_CONN" --rows "$ROWS" --radius "$RADIUS" --dir "$WORK"
