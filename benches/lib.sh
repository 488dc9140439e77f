# Shared by the scripts in benches/ (sourced; start_pg expects WORK,
# PASSWORD and PGBIN to be set, and runs as root).

# needs TOOL...: stop unless each is on PATH.
needs() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "needs $tool (scripts/install-test-deps.sh)" >&2; exit 1; }
  done
}

# build_mosaic: the release binary, built first, as BIN.
build_mosaic() {
  echo "==> building mosaic (release)" >&2
  cargo build --release --bin mosaic >&2
  BIN=target/release/mosaic
}

# build_with_bench BENCH: the release binary and bench BENCH, in one build
# (so dev-dependency feature unification cannot make a second release
# build of the crate), as MOSAIC_BIN and BENCH_BIN.
build_with_bench() {
  local artifacts
  echo "==> building mosaic and the bench (release)" >&2
  artifacts=$(cargo build --release --bin mosaic --bench "$1" \
    --message-format=json-render-diagnostics)
  artifact() {
    jq -r --arg n "$1" 'select(.reason == "compiler-artifact" and .target.name == $n
      and .executable != null) | .executable' <<<"$artifacts" | tail -n 1
  }
  MOSAIC_BIN=$(artifact mosaic)
  BENCH_BIN=$(artifact "$1")
  [ -x "$MOSAIC_BIN" ] && [ -x "$BENCH_BIN" ] || { echo "build produced no executables" >&2; exit 1; }
}

# A loopback TCP port nobody listens on.
spare_port() {
  local p
  for p in $(seq 54320 54999); do
    if [ -z "$(ss -Htln "( sport = :$p )")" ]; then echo "$p"; return; fi
  done
  echo "no spare port" >&2
  return 1
}

# start_pg: a PostgreSQL 15 cluster in $WORK/pg with default settings
# (initdb -E UTF8 --locale=C, SCRAM on loopback); sets PG_PORT, PG_PID and
# PG_CONN. The caller's cleanup stops it.
start_pg() {
  PG_PORT=$(spare_port)
  mkdir "$WORK/pg" "$WORK/pgsock"
  printf '%s\n' "$PASSWORD" >"$WORK/pwfile"
  chmod 600 "$WORK/pwfile"
  chown postgres:postgres "$WORK/pg" "$WORK/pgsock" "$WORK/pwfile"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -U postgres --pwfile="$WORK/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1
  touch "$WORK/pg.log" && chown postgres:postgres "$WORK/pg.log"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK/pgsock" start >&2
  PG_PID=$(head -1 "$WORK/pg/postmaster.pid")
  PG_CONN="host=127.0.0.1 port=$PG_PORT user=postgres password=$PASSWORD dbname=postgres"
}

# start_mosaic BIN: one node with its data in $WORK/mosaic (log in
# $WORK/mosaic.log, password $PASSWORD), on ports of its choosing; sets
# MOSAIC_PID and MOSAIC_ADDR (host:port of its PostgreSQL listener) once
# it is ready, fails if it exits or is not ready within 30 s.
start_mosaic() {
  MOSAIC_PASSWORD=$PASSWORD "$1" --data "$WORK/mosaic" \
    --listen 127.0.0.1:0 --cluster-addr 127.0.0.1:0 >"$WORK/mosaic.log" 2>&1 &
  MOSAIC_PID=$!
  wait_ready mosaic "$MOSAIC_PID" "$WORK/mosaic" || return 1
  MOSAIC_ADDR=$(jq -r .pg_addr "$WORK/mosaic/node.json")
}

# wait_ready NAME PID DATA: wait until the node PID writes DATA/node.json
# (it is ready); fails if it exits first or is not ready within 30 s.
wait_ready() {
  for _ in $(seq 300); do
    [ -f "$3/node.json" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "$1 exited during startup" >&2; return 1; }
    sleep 0.1
  done
  echo "$1 not ready after 30 s" >&2
  return 1
}

# stop_mosaic PID: SIGTERM (the node seals and hands off), SIGKILL after 10 s.
stop_mosaic() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1"
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$1" 2>/dev/null
}

# stop_pg: the cluster start_pg started, if it runs (fast shutdown, else
# SIGKILL).
stop_pg() {
  [ -f "$WORK/pg/postmaster.pid" ] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w stop >/dev/null 2>&1 \
    || kill -KILL "$(head -1 "$WORK/pg/postmaster.pid")" 2>/dev/null
}

# bench_cleanup: the EXIT trap of a bench with one node (MOSAIC_PID) and
# start_pg's cluster: stops both, shows their logs' tails when the bench
# failed, removes $WORK and exits with the bench's status.
bench_cleanup() {
  local rc=$?
  set +e
  stop_mosaic "$MOSAIC_PID"
  stop_pg
  if [ "$rc" -ne 0 ]; then
    for log in "$WORK/mosaic.log" "$WORK/pg.log"; do
      [ -f "$log" ] && { echo "--- tail of $log" >&2; tail -n 30 "$log" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
