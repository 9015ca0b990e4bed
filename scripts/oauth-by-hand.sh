#!/usr/bin/env bash
# The OAuth 2 flow of a developer app, by hand with curl, against a server you run
# (README "OAuth 2 for developer apps"). It plays every part in turn: the operator (CLI), a
# company manager (GraphQL), the API manager in a browser (the sign-in and consent pages), and
# the app (token endpoint, GraphQL with the access token, refresh, revocation).
#
#   ./scripts/oauth-by-hand.sh            # builds and starts a throwaway server on SQLite
#   BIN=target/release/admin-center ./scripts/oauth-by-hand.sh
#
# Needs curl, jq and python3 (for PKCE and HTML parsing).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/debug/admin-center}
[ -x "$BIN" ] || cargo build -q
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$WORK/demo.db?mode=rwc" BIND="127.0.0.1:$PORT" RUST_LOG=warn
trap 'kill $SERVER 2>/dev/null || true; [ -n "${KEEP_LOG:-}" ] && cp "$WORK/server.log" /tmp/oauth-demo.log; rm -rf "$WORK"' EXIT
say() { printf '\n== %s\n' "$*"; }
gql() { # gql TOKEN QUERY [VARIABLES]
  curl -sf "$BASE/graphql" -H 'content-type: application/json' -H "authorization: Bearer $1" \
    -d "$(jq -nc --arg q "$2" --argjson v "${3:-{\}}" '{query:$q, variables:$v}')"
}
login() { # login LOGIN PASSWORD -> token (changing a one-time password first)
  local t
  t=$(curl -sf "$BASE/graphql" -H 'content-type: application/json' -d "$(jq -nc --arg l "$1" --arg p "$2" \
    '{query:"mutation($l:String!,$p:String!){login(login:$l,password:$p){token restriction}}",variables:{l:$l,p:$p}}')")
  if [ "$(jq -r .data.login.restriction <<<"$t")" = PASSWORD_CHANGE ]; then
    gql "$(jq -r .data.login.token <<<"$t")" \
      'mutation($o:String!,$n:String!){changePassword(currentPassword:$o,newPassword:$n){token}}' \
      "$(jq -nc --arg o "$2" --arg n "$3" '{o:$o,n:$n}')" | jq -r .data.changePassword.token
  else jq -r .data.login.token <<<"$t"; fi
}
hidden() { # hidden FIELDS FROM AN HTML PAGE, as curl --data-urlencode arguments (one per line)
  python3 -c 'import html,re,sys
for n,v in re.findall(r"<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"", sys.stdin.read()):
    print(n+"="+html.unescape(v))'
}

say "operator: an account that allows API managers"
"$BIN" migrate
ACCOUNT=$("$BIN" account create --name Demo --owner-login demo-owner --owner-email owner@example.com \
  --allow-api-managers --json)
"$BIN" serve >"$WORK/server.log" 2>&1 & SERVER=$!
for _ in $(seq 50); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done
OWNER=$(login demo-owner "$(jq -r .ownerPassword <<<"$ACCOUNT")" 'Owner-Passw0rd!')

say "company manager: an API manager and a developer app"
gql "$OWNER" 'mutation{createApiManager(input:{login:"provisioner",name:"Provisioning bot",email:"bot@example.com",password:"Initial-Passw0rd!"}){id}}' >/dev/null
login provisioner 'Initial-Passw0rd!' 'Bot-Passw0rd-2026!' >/dev/null   # its one-time password, changed once
APP=$(gql "$OWNER" 'mutation{registerDeveloperApp(input:{name:"HR sync",description:"Creates reps from the HR system",
  redirectUris:["http://127.0.0.1:9999/callback"],scopes:[REPS_READ,REPS_WRITE,TEAMS_READ],confidential:true}){app{id clientId} clientSecret}}')
APP_ID=$(jq -r .data.registerDeveloperApp.app.id <<<"$APP")
CLIENT_ID=$(jq -r .data.registerDeveloperApp.app.clientId <<<"$APP")
CLIENT_SECRET=$(jq -r .data.registerDeveloperApp.clientSecret <<<"$APP")
echo "client_id=$CLIENT_ID (secret shown once)"
curl -sf "$BASE/.well-known/oauth-authorization-server" | jq -c '{issuer, token_endpoint, code_challenge_methods_supported}'

say "app: an authorization request with PKCE (S256)"
VERIFIER=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
CHALLENGE=$(python3 -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b"=").decode())' "$VERIFIER")
STATE=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')
AUTHORIZE="$BASE/oauth/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback&scope=reps%3Aread%20teams%3Aread&state=$STATE&code_challenge=$CHALLENGE&code_challenge_method=S256"

say "API manager's browser: sign-in page, then consent page"
JAR="$WORK/cookies"
PAGE=$(curl -sf -c "$JAR" "$AUTHORIZE")
mapfile -t FIELDS < <(hidden <<<"$PAGE")
ARGS=(); for f in "${FIELDS[@]}"; do ARGS+=(--data-urlencode "$f"); done
PAGE=$(curl -sf -b "$JAR" "$BASE/oauth/authorize" "${ARGS[@]}" \
  --data-urlencode login=provisioner --data-urlencode 'password=Bot-Passw0rd-2026!')
grep -o '<li>[^<]*' <<<"$PAGE" | sed 's/<li>/  consent asks: /'
mapfile -t FIELDS < <(hidden <<<"$PAGE")
ARGS=(); for f in "${FIELDS[@]}"; do ARGS+=(--data-urlencode "$f"); done
LOCATION=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$JAR" "$BASE/oauth/authorize" "${ARGS[@]}" -d decision=allow)
echo "redirected to: ${LOCATION%%code=*}code=…"
CODE=$(python3 -c 'import sys,urllib.parse as u; q=u.parse_qs(u.urlparse(sys.argv[1]).query); assert q["state"][0]==sys.argv[2] and q["iss"][0]==sys.argv[3]; print(q["code"][0])' "$LOCATION" "$STATE" "$BASE")

say "app: code -> tokens (client_secret_basic)"
TOKENS=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" "$BASE/oauth/token" -d grant_type=authorization_code \
  --data-urlencode "code=$CODE" --data-urlencode redirect_uri=http://127.0.0.1:9999/callback \
  --data-urlencode "code_verifier=$VERIFIER")
echo "$TOKENS" | jq -c "{token_type, expires_in, scope, error, error_description}"
ACCESS=$(jq -r .access_token <<<"$TOKENS"); REFRESH=$(jq -r .refresh_token <<<"$TOKENS")
gql "$ACCESS" '{ me { login kind } teams(first: 5) { totalCount } }' | jq -c .
gql "$ACCESS" 'mutation{createTeam(input:{name:"Not in scope"}){id}}' | jq -c '.errors[0] | {message, code: .extensions.code}'

say "app: refresh (the refresh token rotates)"
TOKENS=$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" "$BASE/oauth/token" -d grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH")
ACCESS=$(jq -r .access_token <<<"$TOKENS")
MANAGER_ID=$(gql "$ACCESS" '{ me { id } }' | jq -r .data.me.id)

say "company manager: the authorized applications, then revoke"
gql "$OWNER" 'query($id:ID!){manager(id:$id){authorizedApplications{application{name} scopes lastUsedAt}}}' "$(jq -nc --arg id "$MANAGER_ID" '{id:$id}')" | jq -c .data
gql "$OWNER" 'mutation($m:ID!,$a:[ID!]!){revokeApiManagerApplications(managerId:$m,appIds:$a){id}}' "$(jq -nc --arg m "$MANAGER_ID" --arg a "$APP_ID" '{m:$m,a:[$a]}')" >/dev/null
echo "old access token now: HTTP $(curl -s -o /dev/null -w '%{http_code}' "$BASE/graphql" -H 'content-type: application/json' -H "authorization: Bearer $ACCESS" -d '{"query":"{ me { id } }"}')"
echo "refresh now: $(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" "$BASE/oauth/token" -d grant_type=refresh_token --data-urlencode "refresh_token=$(jq -r .refresh_token <<<"$TOKENS")" | jq -c .)"
