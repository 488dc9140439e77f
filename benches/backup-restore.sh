#!/usr/bin/env bash
# What `mosaic backup` and `mosaic restore` cost against pg_dump and
# pg_restore of the same rows on PostgreSQL 15, and against SQLite's own
# online backup (Python's sqlite3 `backup`, in process) of a file holding
# them, measured in one run on this machine.
#
# Builds mosaic in release and starts one node (default flags; shards of
# 100,000 rows) and a PostgreSQL 15 cluster (default settings), loads ROWS
# rows `(id int PRIMARY KEY, v int, pad text)` into each (the node's are
# sealed), then times, in seconds (wall clock, `date +%s.%N`):
# - a full backup into an empty folder (`mosaic backup`, `pg_dump -Fc`),
# - the same backup again into the same folder (mosaic copies no shard it
#   has; pg_dump writes everything again),
# - a restore into a fresh node / a fresh database (`mosaic restore`,
#   `pg_restore`), checked by counting the rows afterwards,
# - SQLite: `backup()` of a file with the same rows to another file.
# Prints a markdown table; cleans up on any exit. Run as root (PostgreSQL
# runs as the postgres user).
#
# Usage: benches/backup-restore.sh [ROWS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${1:-1000000}
PASSWORD=mosaic-bench-password
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs psql jq python3 "$PGBIN/pg_dump" "$PGBIN/pg_restore"
build_mosaic

WORK=$(mktemp -d /tmp/mosaic-backup.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${PG_PID:-}" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME: a node with its data in $WORK/NAME; its pg address in ADDR_NAME.
start() {
  MOSAIC_PASSWORD=$PASSWORD "$BIN" --data "$WORK/$1" --listen 127.0.0.1:0 \
    --cluster-addr 127.0.0.1:0 >>"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 400); do [ -f "$WORK/$1/node.json" ] && break; sleep 0.05; done
}
url() { echo "postgresql://mosaic:$PASSWORD@$(jq -r .pg_addr "$WORK/$1/node.json")/mosaic"; }
sql() { psql -X -Atq "$(url "$1")" -c "$2"; }
now() { date +%s.%N; }
took() { echo "$(now) - $1" | bc -l | xargs printf '%.2f'; }

start a
sql a "CREATE TABLE t (id int PRIMARY KEY, v int, pad text)" >/dev/null
sql a "INSERT INTO t SELECT i, i % 1000, md5(i::text) FROM generate_series(1, $ROWS) i" >/dev/null
sql a "SELECT mosaic.seal('t')" >/dev/null
SHARDS=$(sql a "SELECT count(*) FROM mosaic.shards WHERE table_name = 't'")
BYTES=$(du -sb "$WORK/a/shards" | cut -f1)

t=$(now); "$BIN" backup --to "$WORK/bk" --url "$(url a)" >/dev/null 2>&1; m_full=$(took "$t")
t=$(now); "$BIN" backup --to "$WORK/bk" --url "$(url a)" >/dev/null 2>&1; m_again=$(took "$t")
start b
t=$(now); "$BIN" restore --from "$WORK/bk" --url "$(url b)" >/dev/null 2>&1; m_restore=$(took "$t")
m_rows=$(sql b "SELECT count(*) FROM t")

start_pg
psql -X -Atq "$PG_CONN" -c "CREATE TABLE t (id int PRIMARY KEY, v int, pad text)" \
  -c "INSERT INTO t SELECT i, i % 1000, md5(i::text) FROM generate_series(1, $ROWS) i" >/dev/null
export PGPASSWORD=$PASSWORD
t=$(now); "$PGBIN/pg_dump" -Fc -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$WORK/pg.dump" postgres; p_full=$(took "$t")
t=$(now); "$PGBIN/pg_dump" -Fc -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$WORK/pg.dump" postgres; p_again=$(took "$t")
psql -X -Atq "$PG_CONN" -c "CREATE DATABASE restored" >/dev/null
t=$(now); "$PGBIN/pg_restore" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d restored "$WORK/pg.dump"; p_restore=$(took "$t")
p_rows=$(psql -X -Atq "${PG_CONN/dbname=postgres/dbname=restored}" -c "SELECT count(*) FROM t")

s_full=$(python3 - "$WORK" "$ROWS" <<'PY'
import hashlib, sqlite3, sys, time
work, rows = sys.argv[1], int(sys.argv[2])
src = sqlite3.connect(f"{work}/src.db")
src.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)")
src.executemany("INSERT INTO t VALUES (?, ?, ?)",
                ((i, i % 1000, hashlib.md5(str(i).encode()).hexdigest()) for i in range(1, rows + 1)))
src.commit()
dst = sqlite3.connect(f"{work}/dst.db")
t = time.perf_counter()
src.backup(dst)
print(f"{time.perf_counter() - t:.2f}")
PY
)

echo "$ROWS rows (\`id int PRIMARY KEY, v int, pad text\`): MosaicDB in $SHARDS shards ($BYTES bytes of shard files); seconds"
echo
echo "| | MosaicDB | PostgreSQL 15 | SQLite (in process) |"
echo "|---|---:|---:|---:|"
echo "| full backup (\`mosaic backup\` / \`pg_dump -Fc\` / \`backup()\`) | $m_full | $p_full | $s_full |"
echo "| the same backup again | $m_again | $p_again | – |"
echo "| restore into a fresh node / database | $m_restore | $p_restore | – |"
echo "| rows after the restore | $m_rows | $p_rows | – |"
