#!/usr/bin/env bash
# Measures, on the release build: time from process start to the first /readyz 200 on an
# existing (already migrated) database, and resident memory once idle.
# Usage: bench/startup.sh [DATABASE_URL]   (default: a temp SQLite file)
# Build first: cargo build --release
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/admin-center
[ -x "$BIN" ] || { echo "build first: cargo build --release"; exit 1; }
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
URL=${1:-"sqlite://$TMP/bench.db?mode=rwc"}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL="$URL" BIND="127.0.0.1:$PORT" RUST_LOG=warn
"$BIN" migrate
PID=
for run in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$BIN" serve >/dev/null 2>&1 &
  PID=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ]; do
    sleep 0.002
  done
  end=$(date +%s%N)
  echo "run $run: start to /readyz 200: $(( (end - start) / 1000000 )) ms"
  if [ "$run" = 5 ]; then
    for _ in $(seq 1 20); do curl -s -o /dev/null "http://127.0.0.1:$PORT/readyz"; done
    curl -s -o /dev/null -H 'content-type: application/json' -d '{"query":"{ me { id } }"}' "http://127.0.0.1:$PORT/graphql"
    sleep 3
    echo "idle resident memory: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$PID/status)"
  fi
  kill $PID; wait $PID 2>/dev/null || true
done
