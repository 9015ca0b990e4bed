#!/usr/bin/env bash
# The multi-replica check with its figures (BENCHMARKS.md): three release replicas on one
# PostgreSQL database behind HAProxy; throughput with 1 and 3 replicas, one replica killed and
# restarted under load, revocations seen by every replica (examples/replicas.rs says what it
# checks). CI runs the same program on the debug build with short phases.
# Usage: bench/replicas.sh [PG_URL]   (default postgres://postgres@127.0.0.1:5432/postgres)
# Needs haproxy (apt-get install haproxy). Environment: SECS (default 15), CLIENTS (16).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { echo "needs haproxy: apt-get install haproxy"; exit 1; }
cargo build --release --quiet --example replicas
cargo build --release --quiet
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-target}")
"$TARGET/release/examples/replicas" --bin "$TARGET/release/admin-center" \
  --pg "${1:-postgres://postgres@127.0.0.1:5432/postgres}" --secs "${SECS:-15}" --clients "${CLIENTS:-16}"
