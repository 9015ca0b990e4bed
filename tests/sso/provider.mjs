// An OpenID Connect provider for the single sign-on tests: the certified `oidc-provider`
// package (not ours, not patched), with our configuration, a login page a test can drive
// without a browser, and test-only control endpoints under /__test/.
//
// Start:   node tests/sso/provider.mjs CONFIG.json
//     or:  SSO_PROVIDER_CONFIG='{"port":0,...}' node tests/sso/provider.mjs
//
// CONFIG (JSON):
//   {
//     "port": 0,                                   // 0: pick a free port
//     "clients": [{
//       "client_id": "admin-center",
//       "client_secret": "a-long-secret",
//       "redirect_uris": ["http://127.0.0.1:8080/sso/callback"],
//       "token_endpoint_auth_method": "client_secret_basic",   // optional (or _post)
//       "id_token_ttl_seconds": 3600                           // optional
//     }],
//     "accounts": [{ "sub": "u-1", "email": "ada@example.com", "email_verified": true,
//                    "name": "Ada" }]               // name optional
//   }
//
// When it listens it prints ONE line on stdout, then nothing else there (logs go to stderr):
//   {"issuer":"http://127.0.0.1:PORT"}
// It runs until killed (SIGTERM, SIGINT) or until its standard input closes, so a test that
// holds the stdin pipe and dies does not leave it running (SSO_PROVIDER_KEEP_STDIN=1 turns that
// off, for a provider started by hand with no stdin).
//
// What it serves (discovery at /.well-known/openid-configuration): authorization code flow
// only, PKCE (S256) required for every client, RS256 ID tokens carrying `nonce`, `email`,
// `email_verified` (and `name` with scope profile) in the ID token itself, not only at
// userinfo (conformIdTokenClaims: false). Plain http on 127.0.0.1: oidc-provider accepts an
// http issuer and http redirect URIs for web clients using the code flow (only the implicit
// flow insists on https), so no special setting is needed; cookies are then not `Secure`.
//
// Signing in without a browser (the interaction; consent is never asked, see loadExistingGrant):
//   1. GET  <authorization_endpoint>?response_type=code&client_id=…&redirect_uri=…&scope=openid%20email
//           &state=…&nonce=…&code_challenge=…&code_challenge_method=S256
//      → 303 Location: /interaction/<uid>
//        Set-Cookie: _interaction=<uid>; path=/interaction/<uid>  (+ _interaction.sig)
//        Set-Cookie: _interaction_resume=<uid>; path=/auth/<uid>  (+ _interaction_resume.sig)
//   2. (optional) GET /interaction/<uid> with those cookies → 200, an HTML form (input `login`).
//   3. POST /interaction/<uid>/login, Content-Type application/x-www-form-urlencoded,
//           body `login=<sub or email>`, Cookie: _interaction=…; _interaction.sig=…
//      → 303 Location: <issuer>/auth/<uid>        (unknown login: 200, the form again, with an error)
//   4. GET  /auth/<uid>, Cookie: _interaction_resume=…; _interaction_resume.sig=…
//      → 303 Location: <redirect_uri>?code=…&state=…&iss=<issuer>
//        Set-Cookie: _session=… (+ .sig): the provider's own session; a later authorization
//        request carrying it skips the login (send prompt=login, or a fresh cookie jar, to avoid)
//   POST /interaction/<uid>/abort instead of 3 → 303 to /auth/<uid> → 303 to
//        <redirect_uri>?error=access_denied&state=…
//   A client that sends every cookie it was given back to this host (names are all that
//   matter; paths may be ignored) follows the redirects as they come. No CSRF token here: this
//   is a test identity provider.
//
// Test-only control endpoints (JSON in, JSON out; not part of any standard):
//   POST /__test/rotate-keys            body {} or {"retire_old": true}
//        A new RS256 key signs from now on; the JWKS lists it first, then the older ones
//        (dropped with retire_old). A relying party holding the old JWKS meets an unknown kid.
//        → {"kid": "<new kid>", "jwks": ["<kid>", …]}
//   POST /__test/next-id-token          body {"client_id": "…", "claims": {…}, "unknown_key": false,
//                                                 "alg": "RS256"}
//        The NEXT ID token the token endpoint returns to that client (to any client when
//        client_id is left out) is re-signed by us after these claims are merged over its
//        payload (a null value removes a claim): {"aud": "someone-else"}, {"nonce": "not-yours"},
//        {"exp": <epoch seconds>}, {"iss": "…"}, {"azp": "…"}. With "unknown_key": true it is
//        signed by a key the JWKS never lists (kid "unknown-…"). With "alg": "none" it carries
//        no signature at all (header alg none, no kid); with "alg": "HS256" it is signed with
//        HMAC-SHA256 under the client's own client_secret (header alg HS256, no kid). One shot:
//        the token after that is untouched again. → {"armed": true}
//   PUT  /__test/accounts               body {"sub": …, "email": …, "email_verified": …}
//        Adds or replaces an account (e.g. an identity whose e-mail is not verified).
//        → {"accounts": <count>}
//   PUT  /__test/clients                body one client, as in CONFIG
//        Adds or replaces a client (a provider shared by several tests, each relying party on
//        its own port, gives each its own client). → {"clients": <count>}
//   GET  /__test/last-id-token           → {"id_token": "<the last one issued>" | null}
//   GET  /__test/hits                    → {"hits": {"<path>": <count>, …}}
//        How many requests each path got since the start (the control endpoints are not
//        counted), e.g. "/.well-known/openid-configuration", "/jwks", "/token".

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const log = (...args) => console.error('[sso-provider]', ...args);

function readConfig() {
  const path = process.argv[2];
  const text = path ? fs.readFileSync(path, 'utf8') : process.env.SSO_PROVIDER_CONFIG;
  if (!text) {
    throw new Error('give a config file path as the first argument or SSO_PROVIDER_CONFIG');
  }
  const config = JSON.parse(text);
  if (!Array.isArray(config.clients) || !Array.isArray(config.accounts)) {
    throw new Error('config needs "clients" and "accounts" arrays');
  }
  return config;
}

const config = readConfig();

// Accounts by sub; the login form takes a sub or an e-mail address.
const accounts = new Map();
function putAccount(account) {
  if (typeof account?.sub !== 'string' || !account.sub) {
    throw new Error('an account needs a non-empty "sub"');
  }
  accounts.set(account.sub, {
    sub: account.sub,
    email: account.email,
    email_verified: account.email_verified ?? false,
    name: account.name,
  });
}
config.accounts.forEach(putAccount);

function findLogin(login) {
  if (accounts.has(login)) return accounts.get(login);
  const wanted = String(login).toLowerCase();
  return [...accounts.values()].find((a) => a.email?.toLowerCase() === wanted);
}

// Clients by client_id, as given in CONFIG (oidc-provider's clients are fixed when it is
// built: adding one builds a new instance, see useProvider).
const clients = new Map();
function putClient(client) {
  if (typeof client?.client_id !== 'string' || !Array.isArray(client.redirect_uris)) {
    throw new Error('a client needs "client_id" and "redirect_uris"');
  }
  clients.set(client.client_id, client);
}
config.clients.forEach(putClient);

// ---- keys -------------------------------------------------------------------------------

function newSigningKey(prefix = 'key') {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `${prefix}-${crypto.randomUUID()}`, alg: 'RS256', use: 'sig' };
}

// Newest first: oidc-provider signs with the first key that fits the algorithm.
let signingKeys = [newSigningKey()];

// ---- tampering with the next ID token (our code, after oidc-provider has answered) -------

// Knobs armed for the next ID token, by client_id ('*': whichever client comes first).
const nextIdToken = new Map();
let lastIdToken = null;

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

function resign(idToken, { claims = {}, unknown_key: unknownKey = false, alg = 'RS256' }, clientId) {
  const [headerPart, payloadPart] = idToken.split('.');
  const header = unb64json(headerPart);
  const payload = unb64json(payloadPart);
  for (const [name, value] of Object.entries(claims)) {
    if (value === null) delete payload[name];
    else payload[name] = value;
  }
  if (alg === 'none') {
    const { kid: _kid, ...rest } = header;
    return `${b64json({ ...rest, alg: 'none' })}.${b64json(payload)}.`;
  }
  if (alg === 'HS256') {
    const { kid: _kid, ...rest } = header;
    const input = `${b64json({ ...rest, alg: 'HS256' })}.${b64json(payload)}`;
    const secret = clients.get(clientId)?.client_secret;
    if (typeof secret !== 'string') throw new Error(`no client_secret for ${clientId}`);
    const mac = crypto.createHmac('sha256', secret).update(input).digest('base64url');
    return `${input}.${mac}`;
  }
  if (alg !== 'RS256') throw new Error(`unsupported alg knob ${alg}`);
  const key = unknownKey ? newSigningKey('unknown') : signingKeys[0];
  const newHeader = { ...header, alg: 'RS256', kid: key.kid };
  const input = `${b64json(newHeader)}.${b64json(payload)}`;
  const privateKey = crypto.createPrivateKey({ key: key, format: 'jwk' });
  const signature = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  return `${input}.${signature}`;
}

// ---- the provider -----------------------------------------------------------------------

// Key rotation and a new client each build a new Provider instance. Flows in progress go on:
// the cookie signing keys are the same, and oidc-provider's in-memory adapter keeps its data
// in one store per process, shared by every instance.
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    clients: [...clients.values()].map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    })),
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Scope claims go in the ID token too, not only at userinfo: the relying party reads
    // `email` and `email_verified` from the ID token.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Consent is implied: every authorization request gets a grant for the OIDC scopes it
    // asked for, so the only interaction is the login.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      await grant.save();
      return grant;
    },
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: async () => {
          const current = accounts.get(sub) ?? account;
          const claims = { sub, email_verified: current.email_verified };
          if (current.email !== undefined) claims.email = current.email;
          if (current.name !== undefined) claims.name = current.name;
          return claims;
        },
      };
    },
    ttl: {
      IdToken: (_ctx, _token, client) => clients.get(client.clientId)?.id_token_ttl_seconds ?? 3600,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>error</title><h1>${escape(out.error)}</h1><p>${escape(out.error_description ?? '')}</p>`;
    },
  });

  // Post-processing of the token endpoint's answer: the one place the test knobs touch what
  // oidc-provider issued (a documented extension point, `provider.use`).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || !ctx.body?.id_token) return;
    const armedFor = [ctx.oidc.client.clientId, '*'].find((id) => nextIdToken.has(id));
    if (armedFor !== undefined) {
      const knob = nextIdToken.get(armedFor);
      nextIdToken.delete(armedFor);
      ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, knob, ctx.oidc.client.clientId) };
      log('next ID token re-signed with', JSON.stringify(knob));
    }
    lastIdToken = ctx.body.id_token;
  });

  provider.on('server_error', (_ctx, err) => log('server_error', err));
  return provider;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- HTTP: our routes first, then oidc-provider -----------------------------------------

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const json = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));

function loginPage(uid, clientId, error) {
  return `<!doctype html><meta charset="utf-8"><title>Test IdP sign-in</title>
<h1>Sign in to ${escape(clientId)}</h1>
${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label>Subject or e-mail <input name="login" autofocus></label>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button>Cancel</button></form>`;
}

let provider;
let handler; // provider.callback(), rebuilt with the provider

function useProvider(next) {
  provider = next;
  handler = next.callback();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    return send(res, 400, 'text/plain', 'interaction cookie does not match the URL\n');
  }
  const clientId = details.params.client_id;
  if (action === undefined && req.method === 'GET') {
    return send(res, 200, 'text/html; charset=utf-8', loginPage(uid, clientId));
  }
  if (action === 'login' && req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const account = findLogin(form.get('login') ?? '');
    if (!account) {
      return send(res, 200, 'text/html; charset=utf-8', loginPage(uid, clientId, 'unknown login'));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false },
    );
  }
  if (action === 'abort' && req.method === 'POST') {
    return provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 405, 'text/plain', 'method not allowed\n');
}

async function control(req, res, path) {
  if (path === '/__test/rotate-keys' && req.method === 'POST') {
    const body = JSON.parse((await readBody(req)) || '{}');
    const key = newSigningKey();
    signingKeys = body.retire_old ? [key] : [key, ...signingKeys];
    useProvider(buildProvider(provider.issuer));
    log('signing key rotated to', key.kid);
    return json(res, 200, { kid: key.kid, jwks: signingKeys.map((k) => k.kid) });
  }
  if (path === '/__test/next-id-token' && req.method === 'POST') {
    const body = JSON.parse((await readBody(req)) || '{}');
    nextIdToken.set(body.client_id ?? '*', {
      claims: body.claims ?? {},
      unknown_key: Boolean(body.unknown_key),
      alg: body.alg ?? 'RS256',
    });
    return json(res, 200, { armed: true });
  }
  if (path === '/__test/accounts' && req.method === 'PUT') {
    putAccount(JSON.parse(await readBody(req)));
    return json(res, 200, { accounts: accounts.size });
  }
  if (path === '/__test/clients' && req.method === 'PUT') {
    const client = JSON.parse(await readBody(req));
    const before = clients.get(client?.client_id);
    putClient(client);
    try {
      useProvider(buildProvider(provider.issuer));
    } catch (err) {
      // oidc-provider refused the metadata: keep the clients that worked.
      if (before) clients.set(before.client_id, before);
      else clients.delete(client.client_id);
      throw err;
    }
    return json(res, 200, { clients: clients.size });
  }
  if (path === '/__test/hits' && req.method === 'GET') {
    return json(res, 200, { hits: Object.fromEntries(hits) });
  }
  if (path === '/__test/last-id-token' && req.method === 'GET') {
    return json(res, 200, { id_token: lastIdToken });
  }
  return json(res, 404, { error: 'no such control endpoint' });
}

// Requests per path, the control endpoints left out (GET /__test/hits).
const hits = new Map();

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    if (path.startsWith('/__test/')) return await control(req, res, path);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const m = path.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/);
    if (m) return await interaction(req, res, m[1], m[2]);
    return handler(req, res);
  } catch (err) {
    log('error on', req.method, path, err);
    if (!res.headersSent) {
      // A control request that is not understood is the test's mistake: 400, with the reason.
      const status = err.statusCode ?? (path.startsWith('/__test/') ? 400 : 500);
      json(res, status, { error: err.name, error_description: err.message });
    }
  }
});

server.listen(config.port ?? 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  useProvider(buildProvider(issuer));
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  log('listening at', issuer);
});

if (process.env.SSO_PROVIDER_KEEP_STDIN !== '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
