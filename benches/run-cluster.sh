#!/usr/bin/env bash
# MosaicDB on 1 node vs a 3-node cluster on this machine (and PostgreSQL 15
# when it is installed), in one command.
#
# Builds mosaic and the bench in release, starts one standalone MosaicDB
# node, a 3-node cluster (nodes 2 and 3 join through node 1) and, if
# Debian's postgresql-15 is present, a PostgreSQL 15 cluster with default
# settings, all on loopback in one temp dir; runs benches/cluster/ against
# them; stops everything and removes the dir on any exit. The report goes
# to stdout, progress to stderr.
#
# Last comes the failover phase (the bench's --failover; --no-failover
# leaves it out): seal at node 1 and wait until every shard of bench_kv
# has 2 holders, record the GROUP BY and top-k answers, kill -9 node 3,
# then time the first GROUP BY after the kill, how long node 1 takes to
# list node 3 as down, the two scans with node 3 dead (answers checked
# against the healthy ones) and how long until every shard has 2 live
# holders again. bash reports node 3 as "Killed" on stderr; cleanup then
# finds it gone, which stop_pid allows.
#
# Usage: benches/run-cluster.sh [--shard-max-rows N] [--no-pg] [--no-failover] [bench flags]
#   bench flags: --rows N (600000), --runs N (5), --point-queries N (1000),
#   --seed N (42), --shuffle (COPY the rows in a random order)
# PostgreSQL needs root (it runs as user postgres); without root or without
# postgresql-15 it is left out.
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=/usr/lib/postgresql/15/bin
# Loopback only, throwaway servers; one password for all of them.
PASSWORD=mosaic-bench-password
SHARD_MAX_ROWS=20000
WITH_PG=1
FAILOVER=(--failover)
BENCH_ARGS=()
COMMAND_LINE="benches/run-cluster.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --shard-max-rows) SHARD_MAX_ROWS=$2; shift 2 ;;
    --shard-max-rows=*) SHARD_MAX_ROWS=${1#*=}; shift ;;
    --no-pg) WITH_PG=0; shift ;;
    --no-failover) FAILOVER=(); shift ;;
    *) BENCH_ARGS+=("$1"); shift ;;
  esac
done
if [ "$WITH_PG" = 1 ] && { [ ! -x "$PGBIN/postgres" ] || [ "$(id -u)" != 0 ]; }; then
  echo "==> PostgreSQL 15 not installed or not root: leaving it out" >&2
  WITH_PG=0
fi

# shellcheck source=benches/lib.sh
. benches/lib.sh

build_with_bench cluster

WORK=$(mktemp -d /tmp/mosaic-cluster-bench.XXXXXX)
chmod 755 "$WORK"
NODE_PIDS=()

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null
}

cleanup() {
  local rc=$?
  set +e
  for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
  if [ -f "$WORK/pg/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null 2>&1 \
      || kill -KILL "$(head -1 "$WORK/pg/postmaster.pid")" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] && { echo "--- tail of $log" >&2; tail -n 30 "$log" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_node NAME [--join ADDR]: starts a node in $WORK/NAME, waits for its
# node.json; sets NODE_CONN, NODE_PID and NODE_CLUSTER_ADDR.
start_node() {
  local name=$1
  shift
  MOSAIC_PASSWORD=$PASSWORD "$MOSAIC_BIN" --data "$WORK/$name" \
    --listen 127.0.0.1:0 --cluster-addr 127.0.0.1:0 --node-name "$name" \
    --shard-max-rows "$SHARD_MAX_ROWS" "$@" >"$WORK/$name.log" 2>&1 &
  local pid=$!
  NODE_PIDS+=("$pid")
  wait_ready "$name" "$pid" "$WORK/$name" || exit 1
  local addr
  addr=$(jq -r .pg_addr "$WORK/$name/node.json")
  NODE_PID=$(jq -r .pid "$WORK/$name/node.json")
  NODE_CLUSTER_ADDR=$(jq -r .cluster_addr "$WORK/$name/node.json")
  NODE_CONN="host=${addr%:*} port=${addr##*:} user=mosaic password=$PASSWORD dbname=bench"
}

echo "==> starting a standalone MosaicDB node" >&2
start_node single
SERVERS=(--single "$NODE_CONN" --single-pid "$NODE_PID")

echo "==> starting a 3-node MosaicDB cluster" >&2
start_node n1
SEED=$NODE_CLUSTER_ADDR
SERVERS+=(--cluster "$NODE_CONN" --cluster-pid "$NODE_PID")
for name in n2 n3; do
  start_node "$name" --join "$SEED"
  SERVERS+=(--cluster "$NODE_CONN" --cluster-pid "$NODE_PID")
done

if [ "$WITH_PG" = 1 ]; then
  echo "==> starting PostgreSQL 15" >&2
  start_pg
  SERVERS+=(--pg "$PG_CONN" --pg-pid "$PG_PID")
fi

echo "## MosaicDB: 1 node vs 3 nodes on one machine"
echo
echo "- command: \`$COMMAND_LINE\`"
echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' (dirty)')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/^Mem:/ {print $2}') GiB memory"
[ "$WITH_PG" = 1 ] && echo "- PostgreSQL: $("$PGBIN/postgres" --version)"
echo "- load average before the run (the machine is shared): $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "==> running the benchmark" >&2
"$BENCH_BIN" "${SERVERS[@]}" --shard-max-rows "$SHARD_MAX_ROWS" "${FAILOVER[@]}" "${BENCH_ARGS[@]}"
