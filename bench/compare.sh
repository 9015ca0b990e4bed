#!/usr/bin/env bash
# admin-center side by side with PostGraphile 5 and an HTTP floor, on one throwaway PostgreSQL
# cluster seeded by examples/seed_load.rs (BENCHMARKS.md, "Side by side with PostGraphile 5").
#
#   bench/compare.sh                    # release build, ROUNDS=5, DURATION=10s
#   PROFILE=debug bench/compare.sh      # a quick smoke run: debug build, ROUNDS=1, DURATION=2s
#
# It builds admin-center and two examples (seed_load, floor), starts PostgreSQL (initdb in a
# temp dir, as the postgres user when run as root, on a free loopback port; removed on exit),
# seeds it, and starts on it: admin-center, PostGraphile 5 (bench/peer, installed with
# `npm ci` when missing) and the floor (examples/floor.rs: actix-web answering admin-center's
# own saved response bytes). It signs in to admin-center (a session token, and an app token
# through the OAuth code flow), checks every query on every server answers without errors,
# then runs each query against each server in alternating rounds with wrk (2 threads,
# 16 connections, bench/post.lua) and reads the CPU time of the server process and of every
# process of the PostgreSQL cluster from /proc before and after each run. admin-center also
# runs on SQLite (its embedded default, seeded the same way into a file), as a server of its
# own in the rounds. After the rounds, each admin-center run is repeated once paced to about
# half its median throughput (bench/post.lua's DELAY_MS), for latency below saturation.
# Prints markdown tables: medians over the rounds, the ratios, SQLite against PostgreSQL, and
# the paced runs.
#
# Needs: cargo, wrk, node (20.19+) and npm, python3, curl, PostgreSQL's initdb/pg_ctl
# (Debian: apt-get install wrk nodejs npm postgresql).
# Environment: PROFILE (release|debug), ROUNDS, DURATION (wrk's -d), WARMUP (per server and
# query, before the rounds; default 3s, debug 1s), CONNECTIONS (16), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PROFILE=${PROFILE:-release}
case "$PROFILE" in
  release) CARGO_FLAGS=(--release); ROUNDS=${ROUNDS:-5}; DURATION=${DURATION:-10s}; WARMUP=${WARMUP:-3s} ;;
  debug) CARGO_FLAGS=(); ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-2s}; WARMUP=${WARMUP:-1s} ;;
  *) echo "PROFILE must be release or debug"; exit 2 ;;
esac
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
for tool in wrk node npm python3 curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool (see the head of $0)"; exit 1; }
done
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)")
[ -x "$PGBIN/initdb" ] || PGBIN=$(dirname "$(command -v initdb || echo /nonexistent/initdb)")
[ -x "$PGBIN/initdb" ] || { echo "needs PostgreSQL's initdb (apt-get install postgresql)"; exit 1; }

say() { printf '== %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# jget JSON PYTHON-SUBSCRIPT: one value out of a JSON document.
jget() { python3 -c 'import json,sys; print(eval("json.loads(sys.argv[1])" + sys.argv[2]))' "$1" "$2"; }

say "building ($PROFILE): admin-center, examples seed_load and floor"
cargo build "${CARGO_FLAGS[@]}" --quiet --bin admin-center --example seed_load --example floor
BIN_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")/$PROFILE"
if [ ! -d bench/peer/node_modules/postgraphile ]; then
  say "installing PostGraphile (npm ci in bench/peer)"
  (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
PGL_VERSION=$(node -p 'require("./bench/peer/node_modules/postgraphile/package.json").version')

WORK=$(mktemp -d /tmp/ac-compare.XXXXXX)
chmod 711 "$WORK"  # the postgres user must reach its data directory inside
PGROOT="$WORK/pg"
mkdir -p "$PGROOT" "$WORK/floor" "$WORK/bodies"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$PGROOT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate -w stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

PG_VERSION=$("$PGBIN/postgres" --version | awk '{print $3}')
say "PostgreSQL $PG_VERSION: throwaway cluster"
PGPORT=$(free_port)
as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/log" -w \
  -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null
POSTMASTER=$(head -n 1 "$PGROOT/data/postmaster.pid")
DB_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
psql_q() { as_pg "$PGBIN/psql" -h "$PGROOT" -p "$PGPORT" -U postgres -d postgres -Atqc "$1"; }

say "seeding (examples/seed_load.rs)"
SEED=$("$BIN_DIR/examples/seed_load" "$DB_URL")
LOGIN=$(jget "$SEED" '["ownerLogin"]'); PASSWORD=$(jget "$SEED" '["ownerPassword"]'); TEAM=$(jget "$SEED" '["teamId"]')
# admin-center takes global ids (src/graphql/scalars.rs: base64url of "Team:<uuid, simple>").
team_gid() { python3 -c 'import base64,sys,uuid; print(base64.urlsafe_b64encode(f"Team:{uuid.UUID(sys.argv[1]).hex}".encode()).decode().rstrip("="))' "$1"; }
TEAM_ID=$(team_gid "$TEAM")
ACCOUNT=$(psql_q "SELECT account_id FROM teams WHERE id = '$TEAM'")
OWNER_ID=$(psql_q "SELECT id FROM managers WHERE login = '$LOGIN'")
psql_q "VACUUM ANALYZE" >/dev/null

wait_http() { # wait_http URL NAME: until it answers at all (any status)
  for _ in $(seq 1 600); do
    curl -s -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.1
  done
  echo "$2 did not start (logs in $WORK; KEEP=1 keeps them)" >&2
  exit 1
}

# serve NAME DATABASE_URL LOG: admin-center on DATABASE_URL, once ready; sets $NAME (its
# GraphQL URL) and ${NAME}_PID.
serve() {
  local port pid
  port=$(free_port)
  DATABASE_URL="$2" BIND="127.0.0.1:$port" RUST_LOG=warn \
    "$BIN_DIR/admin-center" serve >"$WORK/$3" 2>&1 &
  pid=$!; PIDS+=("$pid")
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$3" >&2; exit 1; }
    sleep 0.05
  done
  printf -v "$1" '%s' "http://127.0.0.1:$port/graphql"
  printf -v "${1}_PID" '%s' "$pid"
}

say "admin-center ($PROFILE)"
serve AC "$DB_URL" admin-center.log
gql() { # gql TOKEN QUERY [VARIABLES-JSON] -> the response body
  local auth=()
  [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
  curl -s "${AC_URL:-$AC}" -H 'content-type: application/json' "${auth[@]}" \
    -d "$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "variables": json.loads(sys.argv[2])}))' "$2" "${3:-{\}}")"
}
LOGIN_Q='mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }'
TOKEN=$(jget "$(gql '' "$LOGIN_Q" "$(python3 -c 'import json,sys; print(json.dumps({"l": sys.argv[1], "p": sys.argv[2]}))' "$LOGIN" "$PASSWORD")")" '["data"]["login"]["token"]')

# An app token: a second account that allows API managers (the CLI), an API manager and a
# confidential developer app (GraphQL, as its company manager), then the authorization code
# flow with PKCE through the sign-in and consent pages (scripts/oauth-by-hand.sh does the
# same with curl). Empty when any step fails; the app-token row is then left out.
app_token() {
  local created
  created=$(DATABASE_URL="$DB_URL" "$BIN_DIR/admin-center" account create --name "Bench apps" \
    --owner-login "bench-apps-owner" --owner-email owner@example.com --allow-api-managers --json) || return 1
  python3 - "$AC" "$(jget "$created" '["ownerPassword"]')" <<'PY'
import base64, hashlib, html, http.cookiejar, json, re, secrets, sys, urllib.parse, urllib.request

gql_url, owner_password = sys.argv[1], sys.argv[2]
base = gql_url.rsplit("/graphql", 1)[0]
redirect_uri = "http://127.0.0.1:9/callback"

def gql(token, query, variables=None):
    req = urllib.request.Request(gql_url, json.dumps({"query": query, "variables": variables or {}}).encode(),
                                 {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
    body = json.load(urllib.request.urlopen(req))
    if "errors" in body:
        sys.exit(f"app token: {query[:40]}…: {body['errors']}")
    return body["data"]

def login(name, password, new_password):
    d = gql(None, "mutation($l:String!,$p:String!){login(login:$l,password:$p){token restriction}}", {"l": name, "p": password})["login"]
    if d["restriction"] == "PASSWORD_CHANGE":
        return gql(d["token"], "mutation($o:String!,$n:String!){changePassword(currentPassword:$o,newPassword:$n){token}}",
                   {"o": password, "n": new_password})["changePassword"]["token"]
    return d["token"]

owner = login("bench-apps-owner", owner_password, "Bench-Apps-Owner-2026!")
gql(owner, 'mutation{createApiManager(input:{login:"bench-bot",name:"Bench bot",email:"bot@example.com",password:"Initial-Passw0rd!"}){id}}')
login("bench-bot", "Initial-Passw0rd!", "Bench-Bot-Passw0rd-2026!")
app = gql(owner, 'mutation($r:[String!]!){registerDeveloperApp(input:{name:"Bench",description:"bench/compare.sh",'
               'redirectUris:$r,scopes:[REPS_READ,TEAMS_READ],confidential:true}){app{clientId} clientSecret}}',
          {"r": [redirect_uri]})["registerDeveloperApp"]
client_id, secret = app["app"]["clientId"], app["clientSecret"]

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
jar = http.cookiejar.CookieJar()
browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
def hidden(page):
    return [(n, html.unescape(v)) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)]

verifier = secrets.token_urlsafe(48)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                                "scope": "reps:read teams:read", "state": "bench", "code_challenge": challenge,
                                "code_challenge_method": "S256"})
page = browser.open(f"{base}/oauth/authorize?{query}").read().decode()
page = browser.open(f"{base}/oauth/authorize", urllib.parse.urlencode(
    hidden(page) + [("login", "bench-bot"), ("password", "Bench-Bot-Passw0rd-2026!")]).encode()).read().decode()
try:
    browser.open(f"{base}/oauth/authorize", urllib.parse.urlencode(hidden(page) + [("decision", "allow")]).encode())
    sys.exit("app token: the consent page did not redirect")
except urllib.error.HTTPError as e:
    location = e.headers["location"]
code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
req = urllib.request.Request(f"{base}/oauth/token", urllib.parse.urlencode({
    "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}).encode(),
    {"authorization": f"Basic {basic}"})
print(json.load(urllib.request.urlopen(req))["access_token"])
PY
}
APP_TOKEN=$(app_token 2>"$WORK/app-token.err") || APP_TOKEN=
if [ -z "$APP_TOKEN" ]; then
  say "no app token (the app-token row is left out): $(tail -n 1 "$WORK/app-token.err")"
fi

# The queries. admin-center's are bench/load.sh's; PostGraphile's ask for the same rows with
# its own schema (Amber preset, default inflection): A reads the seeded account's managers
# (PostGraphile has no notion of account or caller, so the account is a condition), their
# `rights` (a bitmask column there, three booleans here) and their teams through
# manager_teams; B one team's first 100 reps with the count; C one manager's id by primary key
# (admin-center's `me` is the signed-in manager: a session check; PostGraphile has no auth).
# Both answer `id` with a global id (PostGraphile's Node id; its `rowId` is the uuid).
body() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "variables": json.loads(sys.argv[2])}))' "$1" "$2"; }
body '{ managers(first: 50) { totalCount nodes { id login rights { addDeleteReps changeRepNameLogin sessionReplay } teams { id name } } } }' '{}' >"$WORK/bodies/ac-A.json"
body 'query($t: ID!) { team(id: $t) { name reps(first: 100) { totalCount nodes { id login name } } } }' "{\"t\": \"$TEAM_ID\"}" >"$WORK/bodies/ac-B.json"
body '{ me { id } }' '{}' >"$WORK/bodies/ac-C.json"
body 'query($a: UUID!) { allManagers(first: 50, condition: {accountId: $a}) { totalCount nodes { id login rights managerTeamsByManagerId { nodes { teamByTeamId { id name } } } } } }' "{\"a\": \"$ACCOUNT\"}" >"$WORK/bodies/pgl-A.json"
body 'query($t: UUID!) { teamByRowId(rowId: $t) { name repsByTeamId(first: 100) { totalCount nodes { id login name } } } }' "{\"t\": \"$TEAM\"}" >"$WORK/bodies/pgl-B.json"
body 'query($m: UUID!) { managerByRowId(rowId: $m) { id } }' "{\"m\": \"$OWNER_ID\"}" >"$WORK/bodies/pgl-C.json"

# admin-center on SQLite (its embedded default), seeded the same way into a file of its own.
say "admin-center ($PROFILE) on SQLite"
SQ_URL="sqlite://$WORK/sqlite.db?mode=rwc"
SQ_SEED=$("$BIN_DIR/examples/seed_load" "$SQ_URL")
SQ_TEAM=$(jget "$SQ_SEED" '["teamId"]')
SQ_TEAM_ID=$(team_gid "$SQ_TEAM")
serve SQ "$SQ_URL" admin-center-sqlite.log
SQ_TOKEN=$(jget "$(AC_URL="$SQ" gql '' "$LOGIN_Q" "$(python3 -c 'import json,sys; print(json.dumps({"l": sys.argv[1], "p": sys.argv[2]}))' "$(jget "$SQ_SEED" '["ownerLogin"]')" "$(jget "$SQ_SEED" '["ownerPassword"]')")")" '["data"]["login"]["token"]')
body 'query($t: ID!) { team(id: $t) { name reps(first: 100) { totalCount nodes { id login name } } } }' "{\"t\": \"$SQ_TEAM_ID\"}" >"$WORK/bodies/sq-B.json"
cp "$WORK/bodies/ac-A.json" "$WORK/bodies/sq-A.json"
cp "$WORK/bodies/ac-C.json" "$WORK/bodies/sq-C.json"

# admin-center's own answers, which the floor serves.
for q in A B C; do
  curl -sf "$AC" -H 'content-type: application/json' -H "Authorization: Bearer $TOKEN" \
    -d @"$WORK/bodies/ac-$q.json" >"$WORK/floor/$q.json"
done

say "HTTP floor (examples/floor.rs)"
FL_PORT=$(free_port)
"$BIN_DIR/examples/floor" "127.0.0.1:$FL_PORT" "$WORK/floor" >"$WORK/floor.log" 2>&1 &
FL_PID=$!; PIDS+=("$FL_PID")
wait_http "http://127.0.0.1:$FL_PORT/" floor

say "PostGraphile $PGL_VERSION (bench/peer, node $(node --version))"
PGL_PORT=$(free_port)
(cd bench/peer && DATABASE_URL="$DB_URL" PORT="$PGL_PORT" NODE_ENV=production \
  exec node --require ./polyfill.cjs server.mjs >"$WORK/postgraphile.log" 2>&1) &
PGL_PID=$!; PIDS+=("$PGL_PID")
wait_http "http://127.0.0.1:$PGL_PORT/graphql" PostGraphile

# The runs: query|server|url|token|pid|body file.
SPECS=()
for q in A B C; do
  SPECS+=("$q|admin-center|$AC|$TOKEN|$AC_PID|$WORK/bodies/ac-$q.json")
  SPECS+=("$q|admin-center (SQLite)|$SQ|$SQ_TOKEN|$SQ_PID|$WORK/bodies/sq-$q.json")
  [ "$q" = C ] && [ -n "$APP_TOKEN" ] && SPECS+=("$q|admin-center (app token)|$AC|$APP_TOKEN|$AC_PID|$WORK/bodies/ac-$q.json")
  SPECS+=("$q|PostGraphile $PGL_VERSION|http://127.0.0.1:$PGL_PORT/graphql||$PGL_PID|$WORK/bodies/pgl-$q.json")
  SPECS+=("$q|HTTP floor (actix, same bytes)|http://127.0.0.1:$FL_PORT/$q|$TOKEN|$FL_PID|$WORK/bodies/ac-$q.json")
done

say "each query on each server: answered without errors?"
for spec in "${SPECS[@]}"; do
  IFS='|' read -r q server url token pid file <<<"$spec"
  auth=(); [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  curl -s "$url" -H 'content-type: application/json' "${auth[@]}" -d @"$file" \
    | python3 -c '
import json, sys
raw = sys.stdin.buffer.read()
q, server = sys.argv[1], sys.argv[2]
try:
    doc = json.loads(raw)
except ValueError:
    sys.exit(f"{q} on {server}: not JSON: {raw[:200]!r}")
if "errors" in doc or doc.get("data") is None:
    sys.exit(f"{q} on {server}: {doc}")
def count(v):  # list items anywhere in the answer: rows, however nested
    if isinstance(v, list): return len(v) + sum(count(x) for x in v)
    if isinstance(v, dict): return sum(count(x) for x in v.values())
    return 0
print(f"   {q}  {server:32} {len(raw):6} bytes, {count(doc):4} list items", file=sys.stderr)
' "$q" "$server"
done

# cpu SERVER-PID: "server-ticks database-ticks" — utime+stime of the server, and of the
# postmaster with all its children (live ones, and the exited ones it has reaped).
cpu() {
  python3 - "$1" "$POSTMASTER" <<'PY'
import os, sys
server, postmaster = sys.argv[1], sys.argv[2]
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
s = stat(server)
db = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        st = stat(pid)
    except OSError:
        continue
    if pid == postmaster:
        db += sum(int(x) for x in st[11:15])  # utime stime cutime cstime
    elif st[1] == postmaster:
        db += int(st[11]) + int(st[12])
print(int(s[11]) + int(s[12]), db)
PY
}
HZ=$(getconf CLK_TCK)

drive() { # drive DURATION SPEC [DELAY_MS] -> wrk's summary line
  local q server url token pid file
  IFS='|' read -r q server url token pid file <<<"$2"
  BODY=$(cat "$file") TOKEN="$token" DELAY_MS="${3:-}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" -s bench/post.lua "$url" \
    | grep '^  requests'
}

say "warm-up: $WARMUP per query and server"
for spec in "${SPECS[@]}"; do drive "$WARMUP" "$spec" >/dev/null; done

RESULTS="$WORK/results.tsv"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
say "$ROUNDS rounds of $DURATION per query and server (wrk -t$THREADS -c$CONNECTIONS), alternating"
N=${#SPECS[@]}
for round in $(seq 1 "$ROUNDS"); do
  for i in $(seq 0 $((N - 1))); do
    # Each round starts one run further along, so no server always follows the same one.
    spec=${SPECS[$(((i + round - 1) % N))]}
    IFS='|' read -r q server url token pid file <<<"$spec"
    read -r s0 d0 <<<"$(cpu "$pid")"
    line=$(drive "$DURATION" "$spec")
    read -r s1 d1 <<<"$(cpu "$pid")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$server" "$round" "$line" "$((s1 - s0))" "$((d1 - d0))" "$HZ" >>"$RESULTS"
    echo "   round $round  $q  ${server:0:32}$(printf '%*s' $((32 - ${#server})) '') ${line#  }" >&2
  done
done

# Latency below saturation: each admin-center run again, paced to about half its median
# throughput (each connection waits CONNECTIONS / (half the req/s) between requests).
HALF="$WORK/half.tsv"
: >"$HALF"
say "admin-center paced at about half its throughput: $DURATION per query"
for spec in "${SPECS[@]}"; do
  IFS='|' read -r q server url token pid file <<<"$spec"
  case "$server" in admin-center*) ;; *) continue ;; esac
  sat=$(awk -F'\t' -v q="$q" -v s="$server" '$1 == q && $2 == s { match($4, /, [0-9]+\/s/); print substr($4, RSTART + 2, RLENGTH - 4) }' "$RESULTS" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  delay=$(python3 -c "import sys; print(max(1, round(1000 * int(sys.argv[1]) / (float(sys.argv[2]) / 2))))" "$CONNECTIONS" "$sat")
  line=$(drive "$DURATION" "$spec" "$delay")
  printf '%s\t%s\t%s\t%s\t%s\n' "$q" "$server" "$sat" "$delay" "$line" >>"$HALF"
  echo "   $q  ${server:0:32}$(printf '%*s' $((32 - ${#server})) '') saturation $sat/s, paced ${delay} ms: ${line#  }" >&2
done

python3 - "$RESULTS" "$PROFILE" "$ROUNDS" "$DURATION" "$PGL_VERSION" "$THREADS" "$CONNECTIONS" \
  "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average before the runs $LOAD, PostgreSQL $PG_VERSION, node $(node --version)" "$HALF" <<'PY'
import re, statistics, sys
from collections import defaultdict
path, profile, rounds, duration, pgl, threads, connections, machine, half = sys.argv[1:]
runs = defaultdict(list)
order = []
for row in open(path):
    q, server, _round, line, sticks, dticks, hz = row.rstrip("\n").split("\t")
    m = re.search(r"requests (\d+), (\d+)/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms, errors (\d+)", line)
    n, rps, p50, p99, errors = int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5])
    ms = 1000 / int(hz)
    if (q, server) not in runs:
        order.append((q, server))
    runs[(q, server)].append(dict(rps=rps, p50=p50, p99=p99, errors=errors,
                                  scpu=int(sticks) * ms / max(n, 1), dcpu=int(dticks) * ms / max(n, 1)))
med = {k: {f: statistics.median(r[f] for r in v) for f in ("rps", "p50", "p99", "scpu", "dcpu")}
       | {"errors": sum(r["errors"] for r in v)} for k, v in runs.items()}
print(f"\nMedians of {rounds} alternating rounds of {duration} ({profile} build), wrk {threads} threads × {connections} connections;")
print(f"{machine}.\n")
print("| query | server | req/s | p50 ms | p99 ms | server CPU ms/req | database CPU ms/req | errors |")
print("|---|---|---|---|---|---|---|---|")
for q, server in order:
    r = med[(q, server)]
    print(f"| {q} | {server} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['scpu']:.3f} | {r['dcpu']:.3f} | {r['errors']} |")
print("\n| query | admin-center ÷ PostGraphile: req/s | p99 | CPU/req (server + database) | admin-center ÷ floor: req/s |")
print("|---|---|---|---|---|")
for q in dict.fromkeys(q for q, _ in order):
    peer = med.get((q, f"PostGraphile {pgl}"))
    floor = med.get((q, "HTTP floor (actix, same bytes)"))
    for server in (s for qq, s in order if qq == q and s.startswith("admin-center")):
        a = med[(q, server)]
        label = q if server == "admin-center" else f"{q}, {server[len('admin-center '):].strip('()')}"
        cpu = a["scpu"] + a["dcpu"]
        pcpu = peer["scpu"] + peer["dcpu"]
        print(f"| {label} | {a['rps'] / peer['rps']:.2f}× | {a['p99'] / peer['p99']:.2f}× | "
              f"{(cpu / pcpu) if pcpu else float('nan'):.2f}× | {100 * a['rps'] / floor['rps']:.0f} % |")
if ("C", "admin-center (app token)") in med:
    s, a = med[("C", "admin-center")], med[("C", "admin-center (app token)")]
    print(f"\nApp token ÷ session token on C: req/s {a['rps'] / s['rps']:.2f}×, p50 {a['p50'] / s['p50']:.2f}×, "
          f"CPU/req (server + database) {(a['scpu'] + a['dcpu']) / (s['scpu'] + s['dcpu']):.2f}×.")
for q in dict.fromkeys(q for q, _ in order):
    pg, lite = med.get((q, "admin-center")), med.get((q, "admin-center (SQLite)"))
    if pg and lite:
        print(f"SQLite ÷ PostgreSQL (admin-center) on {q}: req/s {lite['rps'] / pg['rps']:.2f}×, "
              f"p99 {lite['p99'] / pg['p99']:.2f}×, CPU/req (server + database) "
              f"{(lite['scpu'] + lite['dcpu']) / (pg['scpu'] + pg['dcpu']):.2f}×.")
paced = [row.rstrip("\n").split("\t") for row in open(half) if row.strip()]
if paced:
    print("\nPaced at about half the saturation throughput (one run each; wrk's delay() per connection):\n")
    print("| query | server | saturation req/s | paced req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for q, server, sat, delay, line in paced:
        m = re.search(r"requests (\d+), (\d+)/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms, errors (\d+)", line)
        print(f"| {q} | {server} | {int(sat):,} | {int(m[2]):,} | {float(m[3]):.2f} | {float(m[4]):.2f} | {m[5]} |")
        if int(m[5]):
            med[(q, server)]["errors"] += int(m[5])
if any(r["errors"] for r in med.values()):
    sys.exit("\nSome requests failed (the errors column): these figures are not valid.")
PY
