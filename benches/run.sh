#!/usr/bin/env bash
# MosaicDB vs PostgreSQL 15 vs in-process SQLite, in one command.
#
# Builds mosaic in release, starts a PostgreSQL 15 cluster (Debian's
# postgresql-15, default settings, fsync and synchronous_commit on) and a
# MosaicDB node (default --shard-max-rows), both on spare loopback ports in
# one temp dir, runs benches/mosaic_vs_pg.rs against both, stops both and
# prints a markdown table on stdout. Cleans up on any exit.
#
# Usage: benches/run.sh [--rows N] [--duration SECS] [--runs N] [--seed N]
#   (flags go to the bench binary; defaults 1000000 rows, 10 s, 5 runs)
# Needs root (PostgreSQL runs as user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=/usr/lib/postgresql/15/bin
# Loopback only, throwaway clusters; the same password for both servers.
PASSWORD=mosaic-bench-password

if [ ! -x "$PGBIN/postgres" ]; then
  echo "==> installing postgresql-15" >&2
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2
fi

# shellcheck source=benches/lib.sh
. benches/lib.sh

build_with_bench mosaic_vs_pg

WORK=$(mktemp -d /tmp/mosaic-bench.XXXXXX)
chmod 755 "$WORK"
MOSAIC_PID=

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

echo "==> starting PostgreSQL 15" >&2
start_pg

echo "==> starting MosaicDB" >&2
start_mosaic "$MOSAIC_BIN"
MOSAIC_NODE_PID=$(jq -r .pid "$WORK/mosaic/node.json")
MOSAIC_CONN="host=${MOSAIC_ADDR%:*} port=${MOSAIC_ADDR##*:} user=mosaic password=$PASSWORD dbname=bench"

echo "## MosaicDB vs PostgreSQL 15 vs in-process SQLite"
echo
echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' (dirty)')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/^Mem:/ {print $2}') GiB memory"
echo "- PostgreSQL: $("$PGBIN/postgres" --version)"
echo "- load average before the run (the machine is shared): $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- flags: ${*:-(defaults)}"
echo

echo "==> running the benchmark" >&2
"$BENCH_BIN" \
  --mosaic "$MOSAIC_CONN" --mosaic-pid "$MOSAIC_NODE_PID" \
  --pg "$PG_CONN" --pg-pid "$PG_PID" "$@"
