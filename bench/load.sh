#!/usr/bin/env bash
# Load benchmark: seed one account (1,000 teams, 10,000 reps, 500 managers), start the release
# server, sign in, and drive real HTTP load with wrk at two authenticated queries:
#   managers(first: 50) { rights teams }          and   team(id) { reps(first: 100) }
# Usage: bench/load.sh [DATABASE_URL]   (default: a temp SQLite file)
# Needs wrk (apt-get install wrk). Environment: DURATION (default 15s), CONNECTIONS (16).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk"; exit 1; }
cargo build --release --quiet --example seed_load
cargo build --release --quiet
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
URL=${1:-"sqlite://$TMP/load.db?mode=rwc"}
SEED=$(target/release/examples/seed_load "$URL")
json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])$2)" "$1"; }
LOGIN=$(json "$SEED" '["ownerLogin"]'); PASSWORD=$(json "$SEED" '["ownerPassword"]'); TEAM=$(json "$SEED" '["teamId"]')
# The API takes global ids (src/graphql/scalars.rs: base64url of "Team:<uuid, simple>").
TEAM=$(python3 -c 'import base64,sys,uuid; print(base64.urlsafe_b64encode(f"Team:{uuid.UUID(sys.argv[1]).hex}".encode()).decode().rstrip("="))' "$TEAM")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATABASE_URL="$URL" BIND="127.0.0.1:$PORT" RUST_LOG=warn target/release/admin-center serve >/dev/null 2>&1 &
PID=$!
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.05; done
BODY=$(python3 -c 'import json,sys; print(json.dumps({"query": "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }", "variables": {"l": sys.argv[1], "p": sys.argv[2]}}))' "$LOGIN" "$PASSWORD")
export TOKEN=$(curl -s -H 'content-type: application/json' -d "$BODY" "http://127.0.0.1:$PORT/graphql" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["token"])')
run() {
  echo "$1"
  export BODY="$2"
  curl -s -H 'content-type: application/json' -H "Authorization: Bearer $TOKEN" -d "$BODY" "http://127.0.0.1:$PORT/graphql" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); assert "errors" not in d, d; print("  response bytes:", len(json.dumps(d)))'
  wrk -t2 -c"${CONNECTIONS:-16}" -d"${DURATION:-15s}" -s bench/post.lua "http://127.0.0.1:$PORT/graphql" | grep -E '^  (requests|Non-2xx)'
}
echo "database: ${URL%%\?*}"
run "managers(first: 50) with rights and teams" \
  '{"query":"{ managers(first: 50) { totalCount nodes { id login rights { addDeleteReps changeRepNameLogin sessionReplay } teams { id name } } } }"}'
run "team(id) { reps(first: 100) }" \
  "{\"query\":\"query(\$t: ID!) { team(id: \$t) { name reps(first: 100) { totalCount nodes { id login name } } } }\",\"variables\":{\"t\":\"$TEAM\"}}"
