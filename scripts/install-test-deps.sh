#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, as root:
# PostgreSQL 15 server and client (psql for tests/psql.rs; initdb, pg_ctl
# and pgbench for the benchmark's PostgreSQL and for checking sql/slt
# expectations against the real thing). Safe to run again: it does nothing
# when everything is already there.
set -euo pipefail

packages=(postgresql-15 postgresql-client-15)
pg_bin=/usr/lib/postgresql/15/bin

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-test-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Every tool the tests and benchmarks call, checked rather than assumed.
for tool in psql pgbench; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "install-test-deps: $tool is not on PATH" >&2
    exit 1
  }
done
for tool in initdb pg_ctl postgres; do
  [ -x "$pg_bin/$tool" ] || {
    echo "install-test-deps: $pg_bin/$tool is missing" >&2
    exit 1
  }
done
echo "install-test-deps: ok ($(psql --version))"
