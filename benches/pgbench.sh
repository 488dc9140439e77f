#!/usr/bin/env bash
# pgbench itself against MosaicDB and PostgreSQL 15, in one run.
#
# Builds mosaic in release, starts a PostgreSQL 15 cluster (Debian's
# postgresql-15, default settings) and a MosaicDB node (default flags), both
# on spare loopback ports in one temp dir, and runs against each, over TCP
# with the same password: `pgbench -i -s SCALE` (wall time), then the
# select-only script with `-M prepared` and `-M simple` at 1 and 4 clients
# and the default TPC-B-like script at 1 and 4 clients, DURATION seconds each,
# the two servers interleaved per line. Prints a markdown table on stdout.
#
# Usage: benches/pgbench.sh [SCALE] [DURATION]   (defaults 10 and 10)
# Needs root (PostgreSQL runs as user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${1:-10}
DURATION=${2:-10}
PGBIN=/usr/lib/postgresql/15/bin
PASSWORD=mosaic-bench-password

# shellcheck source=benches/lib.sh
. benches/lib.sh
needs pgbench jq
build_mosaic

WORK=$(mktemp -d /tmp/mosaic-pgbench.XXXXXX)
chmod 755 "$WORK"
MOSAIC_PID=

trap bench_cleanup EXIT
trap 'exit 130' INT TERM

echo "==> starting PostgreSQL 15" >&2
start_pg
runuser -u postgres -- psql -X -q -h "$WORK/pgsock" -p "$PG_PORT" -U postgres -c "CREATE DATABASE bench" >&2

echo "==> starting MosaicDB" >&2
start_mosaic "$BIN"

export PGPASSWORD=$PASSWORD
MOSAIC=(-h 127.0.0.1 -p "${MOSAIC_ADDR##*:}" -U mosaic bench)
PG=(-h 127.0.0.1 -p "$PG_PORT" -U postgres bench)

# init SERVER...: seconds `pgbench -i` took.
init() {
  local t0 t1
  t0=$(date +%s.%N)
  pgbench -q -i -s "$SCALE" "$@" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; return 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

# tps ARGS... -- SERVER...: the run's transactions per second.
tps() {
  local args=() out
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  out=$(pgbench -n -T "$DURATION" "${args[@]}" "$@" 2>&1) || { echo "$out" >&2; return 1; }
  grep -oP 'tps = \K[0-9.]+' <<<"$out" | head -1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "## pgbench: MosaicDB vs PostgreSQL 15"
echo
echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' (dirty)')"
echo "- machine: $(nproc) CPUs, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- scale $SCALE, $DURATION s per run, both servers over TCP on loopback"
echo
echo "| run | MosaicDB | PostgreSQL 15 | MosaicDB/PG |"
echo "|---|---:|---:|---:|"
echo "==> pgbench -i" >&2
m=$(init "${MOSAIC[@]}")
p=$(init "${PG[@]}")
echo "| \`pgbench -i -s $SCALE\`, wall time (s; lower is better) | $m | $p | $(ratio "$m" "$p")× slower |"
while IFS='|' read -r label args; do
  echo "==> $label" >&2
  # shellcheck disable=SC2086 # the flags are words
  m=$(tps $args -- "${MOSAIC[@]}")
  # shellcheck disable=SC2086
  p=$(tps $args -- "${PG[@]}")
  echo "| \`$label\`, TPS | ${m%.*} | ${p%.*} | $(ratio "$m" "$p")× |"
done <<'RUNS'
-S -M prepared, 1 client|-S -M prepared -c 1
-S -M prepared, 4 clients -j 2|-S -M prepared -c 4 -j 2
-S -M simple, 1 client|-S -M simple -c 1
-S -M simple, 4 clients -j 2|-S -M simple -c 4 -j 2
TPC-B (default script), 1 client|-c 1
TPC-B (default script), 4 clients -j 2|-c 4 -j 2
RUNS
