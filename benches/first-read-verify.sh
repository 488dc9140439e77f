#!/usr/bin/env bash
# What verifying shards costs the first read after a restart: a node
# verifies each shard against its id the first time the process reads it
# (src/store/scrub.rs; shards it sealed itself count as verified), so the
# first full scan after a start reads every shard twice.
#
# Builds mosaic in release, starts one node with --shard-max-rows 100000
# (and --scrub-interval-secs high, so the background scrub does not run
# beside the reads; it still runs once at start), loads ROWS rows and
# seals them. Then, RESTARTS times: SIGTERM, start again, wait until the
# start's background scrub has verified every shard (the log says how long
# it took), and time the first and second `SELECT count(*), sum(v)`; then
# restart and time them at once, while that scrub still runs. Timings are
# psql's \timing, in ms.
# Prints a markdown table; cleans up on any exit.
#
# Usage: benches/first-read-verify.sh [ROWS] [RESTARTS]   (default 1000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-1000000}
RESTARTS=${2:-3}
PASSWORD=mosaic-bench-password
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs psql jq
build_mosaic

WORK=$(mktemp -d /tmp/mosaic-verify.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start() {
  rm -f "$WORK/data/node.json"
  MOSAIC_PASSWORD=$PASSWORD "$BIN" --data "$WORK/data" --listen 127.0.0.1:0 \
    --cluster-addr 127.0.0.1:0 --shard-max-rows 100000 --scrub-interval-secs 100000 \
    >>"$WORK/node.log" 2>&1 &
  PID=$!
  for _ in $(seq 400); do [ -f "$WORK/data/node.json" ] && break; sleep 0.05; done
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
sql() {
  local pg; pg=$(jq -r .pg_addr "$WORK/data/node.json")
  PGPASSWORD=$PASSWORD psql -X -h "${pg%:*}" -p "${pg##*:}" -U mosaic -d mosaic -Atq "$@"
}
# The milliseconds psql's \timing reports for one statement.
timed() { sql -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }

start
sql -c "CREATE TABLE t (id int PRIMARY KEY, v int, pad text)" \
    -c "INSERT INTO t SELECT i, i % 1000, md5(i::text) FROM generate_series(1, $ROWS) i" \
    -c "SELECT mosaic.seal('t')" >/dev/null
SHARDS=$(sql -c "SELECT count(*) FROM mosaic.shards WHERE table_name = 't'")
Q="SELECT count(*), sum(v) FROM t"

echo "$ROWS rows in $SHARDS shards; \`$Q\` after a restart, ms"
echo
echo "| restart | start's scrub of every shard | first read, scrub done | second read | first read at once (scrub beside it) | second read |"
echo "|---:|---:|---:|---:|---:|---:|"
for r in $(seq "$RESTARTS"); do
  # The first read after the start's scrub pass has verified every shard.
  stop
  : >"$WORK/node.log"
  start
  until grep -q "scrub: every shard sound" "$WORK/node.log"; do sleep 0.05; done
  pass=$(grep "scrub: every shard sound" "$WORK/node.log" | tail -1 | sed -n 's/.*ms=\([0-9]*\).*/\1/p')
  a1=$(timed "$Q"); a2=$(timed "$Q")
  # The first read while that pass runs: both verify.
  stop
  : >"$WORK/node.log"
  start
  b1=$(timed "$Q"); b2=$(timed "$Q")
  : >"$WORK/node.log"
  echo "| $r | $pass | $a1 | $a2 | $b1 | $b2 |"
done
stop
