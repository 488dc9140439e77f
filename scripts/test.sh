#!/usr/bin/env bash
# The one command that checks MosaicDB on a fresh machine: it installs what
# the tests need, then formatting, lints, and every test (unit tests,
# integration tests against real nodes, sql/slt semantics, psql). CI runs
# exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need (PostgreSQL 15 client and server); quick when present.
scripts/install-test-deps.sh

echo "==> deploy/ manifests, Dockerfile, compose file, unit and dashboard"
scripts/check-deploy.sh

echo "==> cargo fmt --check"
cargo fmt --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "==> cargo test --all-targets --no-fail-fast"
cargo test --all-targets --no-fail-fast
