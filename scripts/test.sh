#!/usr/bin/env bash
# The one command that checks MosaicDB: formatting, lints, and every test
# (unit tests, integration tests against real nodes, sql/slt semantics,
# psql). CI runs exactly this (.ci/run), after scripts/install-test-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo fmt --check"
cargo fmt --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "==> cargo test --all-targets --no-fail-fast"
cargo test --all-targets --no-fail-fast
