#!/usr/bin/env bash
# What copying unsealed rows to a buddy costs a write, in one command.
#
# Builds mosaic in release. Then ROUNDS times, for --unsealed-copies true
# and false in turn: starts three nodes on loopback in a temp dir
# (--seal-idle-secs 3600, so nothing seals by idling), creates
# `w (k bigint, v text)` and runs pgbench against node 1 for SECS seconds
# with one single-row INSERT per transaction (prepared), at 1 client and
# at 4. Prints a markdown table of TPS and mean latency on stdout; cleans
# up on any exit.
#
# Usage: benches/unsealed-copies.sh [ROUNDS] [SECS]   (default 2, 10)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-2}
SECS=${2:-10}
PASSWORD=mosaic-bench-password
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs psql pgbench jq
build_mosaic

WORK=$(mktemp -d /tmp/mosaic-copies.XXXXXX)
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}
cleanup() {
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # dir, name, extra args…
  local dir=$1 name=$2; shift 2
  MOSAIC_PASSWORD=$PASSWORD "$BIN" --data "$dir/$name" --listen 127.0.0.1:0 \
    --cluster-addr 127.0.0.1:0 --node-name "$name" --seal-idle-secs 3600 "$@" \
    >"$dir/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -f "$dir/$name/node.json" ] && break; sleep 0.05; done
}
addr() { jq -r ".${3}_addr" "$1/$2/node.json"; }

cat >"$WORK/insert.sql" <<'EOF'
\set k random(1, 1000000000)
INSERT INTO w VALUES (:k, 'a row of some length');
EOF

echo "| round | --unsealed-copies | clients | TPS | mean latency (ms) |"
echo "|---:|---|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  for copies in true false; do
    dir="$WORK/r$round-$copies"
    mkdir -p "$dir"
    start "$dir" n1 --unsealed-copies "$copies"
    seed=$(addr "$dir" n1 cluster)
    start "$dir" n2 --join "$seed" --unsealed-copies "$copies"
    start "$dir" n3 --join "$seed" --unsealed-copies "$copies"
    pg=$(addr "$dir" n1 pg)
    export PGPASSWORD=$PASSWORD PGHOST=${pg%:*} PGPORT=${pg##*:} PGUSER=mosaic PGDATABASE=mosaic
    for _ in $(seq 200); do
      [ "$(psql -XAtqc "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive'" 2>/dev/null)" = 3 ] && break
      sleep 0.1
    done
    psql -Xqc "CREATE TABLE w (k bigint, v text)"
    for clients in 1 4; do
      out=$(pgbench -n -M prepared -f "$WORK/insert.sql" -c "$clients" -j "$clients" -T "$SECS" 2>&1)
      tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
      lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")
      printf '| %s | %s | %s | %.0f | %s |\n' "$round" "$copies" "$clients" "$tps" "$lat"
    done
    stop_all
  done
done
