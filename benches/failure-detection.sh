#!/usr/bin/env bash
# How fast a 3-node cluster on loopback notices failures and heals, in one
# command (as root: it cuts a node off with iptables).
#
# Builds mosaic in release and starts three nodes in a temp dir. Then,
# ROUNDS times: cuts node 3 off (its cluster port dropped both ways),
# times until node 1 lists it as down; updates one key on both sides;
# removes the rules and times until node 1 lists node 3 alive again and
# until every node returns that key once (the split's versions settled).
# Last, kill -9 of node 3 and the time until node 1 lists it as down.
# Times are polled every 20 ms through psql, so each carries up to ~40 ms
# of polling. Prints a markdown table on stdout; cleans up on any exit.
#
# Usage: benches/failure-detection.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
PASSWORD=mosaic-bench-password
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs iptables psql jq
build_mosaic

WORK=$(mktemp -d /tmp/mosaic-detect.XXXXXX)
PIDS=()
RULES=()
cleanup() {
  for r in "${RULES[@]}"; do iptables -D INPUT $r -j DROP 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start() { # name, extra args…
  local name=$1; shift
  MOSAIC_PASSWORD=$PASSWORD "$BIN" --data "$WORK/$name" --listen 127.0.0.1:0 \
    --cluster-addr 127.0.0.1:0 --node-name "$name" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [ -f "$WORK/$name/node.json" ] && break; sleep 0.05; done
}
addr() { jq -r ".${2}_addr" "$WORK/$1/node.json"; }
sql() { # node, statement
  local pg; pg=$(addr "$1" pg)
  PGPASSWORD=$PASSWORD psql -X -h "${pg%:*}" -p "${pg##*:}" -U mosaic -d mosaic -Atqc "$2" 2>/dev/null || true
}
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
wait_for() { # node, statement, answer: seconds until it answers so
  local t0; t0=$(now)
  until [ "$(sql "$1" "$2")" = "$3" ]; do
    if awk -v a="$(now)" -v b="$t0" 'BEGIN { exit !(a - b > 60) }'; then echo "timeout"; return; fi
    sleep 0.02
  done
  since "$t0"
}
state_of() { echo "SELECT state FROM mosaic.nodes WHERE node_name = '$1'"; }

start n1
SEED=$(addr n1 cluster)
start n2 --join "$SEED"
start n3 --join "$SEED"
wait_for n1 "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive'" 3 >/dev/null
sql n1 "CREATE TABLE k (id int PRIMARY KEY, v text); INSERT INTO k VALUES (1, 'base')" >/dev/null
# Sealed and copied to n3, so both sides can read (and update) the row.
sql n1 "SELECT mosaic.seal('k')" >/dev/null
for id in $(sql n1 "SELECT shard_id FROM mosaic.shards WHERE table_name = 'k'"); do
  sql n3 "SELECT mosaic.replicate('$id')" >/dev/null
done
PORT3=$(addr n3 cluster); PORT3=${PORT3##*:}

echo "| round | cut → down (s) | heal → alive (s) | heal → one version everywhere (s) |"
echo "|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  RULES=("-p udp --dport $PORT3" "-p udp --sport $PORT3" "-p tcp --dport $PORT3")
  for r in "${RULES[@]}"; do iptables -I INPUT $r -j DROP; done
  down=$(wait_for n1 "$(state_of n3)" down)
  wait_for n3 "SELECT count(*) FROM mosaic.nodes WHERE state = 'down'" 2 >/dev/null
  sql n1 "UPDATE k SET v = 'a$round' WHERE id = 1" >/dev/null
  sleep 0.05
  sql n3 "UPDATE k SET v = 'c$round' WHERE id = 1" >/dev/null
  t0=$(now)
  for r in "${RULES[@]}"; do iptables -D INPUT $r -j DROP; done
  RULES=()
  alive=$(wait_for n1 "$(state_of n3)" alive)
  for n in n1 n2 n3; do wait_for "$n" "SELECT count(*) || v FROM k WHERE id = 1 GROUP BY v" "1c$round" >/dev/null; done
  echo "| $round | $down | $alive | $(since "$t0") |"
  sleep 1
done
kill -9 "${PIDS[2]}"
echo
echo "kill -9 of n3 → listed down on n1: $(wait_for n1 "$(state_of n3)" down) s"
