#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, as root:
# PostgreSQL 15 server and client (psql for tests/psql.rs; initdb, pg_ctl
# and pgbench for the benchmark's PostgreSQL and for checking sql/slt
# expectations against the real thing), PostGIS 3 for it (sql/slt/geometry.slt
# runs there with CREATE EXTENSION postgis), and iptables, with which
# tests/partition.rs cuts a node off on loopback. Safe to run again: it does nothing
# when everything is already there.
set -euo pipefail

# Install Debian packages (as root; says which when it cannot).
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to install: $*" >&2
    exit 1
  fi
  echo "install-test-deps: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@"
}

packages=(postgresql-15 postgresql-client-15 postgresql-15-postgis-3 iptables)
pg_bin=/usr/lib/postgresql/15/bin

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# Every tool the tests and benchmarks call, checked rather than assumed.
for tool in psql pgbench iptables; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "install-test-deps: $tool is not on PATH" >&2
    exit 1
  }
done
[ -f /usr/share/postgresql/15/extension/postgis.control ] || {
  echo "install-test-deps: PostGIS for PostgreSQL 15 is missing" >&2
  exit 1
}
for tool in initdb pg_ctl postgres; do
  [ -x "$pg_bin/$tool" ] || {
    echo "install-test-deps: $pg_bin/$tool is missing" >&2
    exit 1
  }
done
# Node.js and node-postgres for tests/compat_node.rs: Debian's nodejs and
# npm when there is no node yet, then the pg version locked in
# tests/compat/node/package-lock.json, installed with npm ci into that
# project's node_modules (git-ignored). npm ci runs again only when the
# lock file changed since the last install.
node_project="$(cd "$(dirname "$0")/.." && pwd)/tests/compat/node"
node_missing=()
command -v node >/dev/null 2>&1 || node_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || node_missing+=(npm)
if [ "${#node_missing[@]}" -gt 0 ]; then
  apt_install "${node_missing[@]}"
fi
if ! cmp -s "$node_project/package-lock.json" "$node_project/node_modules/.mosaic-installed-lock.json"; then
  echo "install-test-deps: npm ci in tests/compat/node"
  (cd "$node_project" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$node_project/package-lock.json" "$node_project/node_modules/.mosaic-installed-lock.json"
fi
echo "install-test-deps: node $(node --version), pg $(cd "$node_project" && node -p 'require("pg/package.json").version')"

# PgBouncer for tests/compat_pgbouncer.rs, which starts it in the
# foreground itself (as root with -u nobody): Debian's package, whose
# systemd unit is not needed and is left as Debian installs it.
if ! dpkg -s pgbouncer >/dev/null 2>&1; then
  apt_install pgbouncer
fi
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || {
  echo "install-test-deps: pgbouncer is missing" >&2
  exit 1
}
echo "install-test-deps: $("$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" --version | head -1)"

# A JDK and Debian's PostgreSQL JDBC driver (/usr/share/java/postgresql.jar)
# for tests/compat_jdbc.rs, which compiles tests/compat/jdbc/Compat.java.
jdbc_missing=()
command -v javac >/dev/null 2>&1 || jdbc_missing+=(default-jdk-headless)
[ -f /usr/share/java/postgresql.jar ] || jdbc_missing+=(libpostgresql-jdbc-java)
if [ "${#jdbc_missing[@]}" -gt 0 ]; then
  apt_install "${jdbc_missing[@]}"
fi
for tool in java javac; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "install-test-deps: $tool is not on PATH" >&2
    exit 1
  }
done
echo "install-test-deps: $(javac -version 2>&1), PostgreSQL JDBC $(dpkg-query -W -f='${Version}' libpostgresql-jdbc-java 2>/dev/null || echo '(jar not from a package)')"

# Python drivers for tests/compat_python.rs, pinned to major versions;
# pgvector-python (with numpy, which it needs) for test_vector.py;
# shapely, the reference geometry library of test_geometry.py.
python_modules="import psycopg, psycopg2, asyncpg, pytest, sqlalchemy, alembic, pgvector, numpy, shapely"
python_packages=('psycopg[binary]>=3,<4' 'psycopg2-binary>=2.9,<3' 'asyncpg>=0.29,<1' 'pytest>=8,<9' 'sqlalchemy>=2,<3' 'alembic>=1.13,<2' 'pgvector>=0.3,<1' 'numpy>=1.26,<3' 'shapely>=2,<3')
command -v python3 >/dev/null 2>&1 || {
  echo "install-test-deps: python3 is not on PATH" >&2
  exit 1
}
if ! python3 -c "$python_modules" >/dev/null 2>&1; then
  echo "install-test-deps: pip installing ${python_packages[*]}"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    # Debian's python3 comes without pip; its package brings it.
    apt_install python3-pip
  fi
  # Debian's system Python refuses pip installs without this flag (PEP 668);
  # a pip too old to know it installs without it. pip's own errors show.
  pip_flags=(-q)
  if python3 -m pip install --help 2>/dev/null | grep -q -- --break-system-packages; then
    pip_flags+=(--break-system-packages)
  fi
  python3 -m pip install "${pip_flags[@]}" "${python_packages[@]}"
  python3 -c "$python_modules" || {
    echo "install-test-deps: Python drivers still missing after pip install" >&2
    exit 1
  }
fi

echo "install-test-deps: ok ($(psql --version); $(python3 -c 'import importlib.metadata, psycopg, psycopg2, asyncpg, pytest, sqlalchemy, alembic, numpy; print("psycopg", psycopg.__version__, "psycopg2", psycopg2.__version__.split()[0], "asyncpg", asyncpg.__version__, "pytest", pytest.__version__, "sqlalchemy", sqlalchemy.__version__, "alembic", alembic.__version__, "pgvector", importlib.metadata.version("pgvector"), "numpy", numpy.__version__, "shapely", importlib.metadata.version("shapely"))'))"
