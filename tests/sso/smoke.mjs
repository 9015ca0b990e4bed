// A relying party in a few lines, to show that tests/sso/provider.mjs starts and signs a user
// in without a browser, exactly as the Rust integration tests will drive it: start the
// provider as a subprocess (stdin piped), read its one line, discovery, PKCE (S256), state,
// nonce, the login form, the redirects back to the callback, the code exchange, the ID token
// checked against the JWKS. Then each test knob, checked from the relying party's side.
//
//   cd tests/sso && npm ci && node smoke.mjs        (-v prints every request)
//
// Exits 0 and ends with "N passed, 0 failed" when everything holds.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { once } from 'node:events';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const verbose = process.argv.includes('-v');
const here = path.dirname(fileURLToPath(import.meta.url));
const REDIRECT_URI = 'http://127.0.0.1:9/sso/callback'; // never fetched: we stop at the redirect
const CLIENT = { client_id: 'admin-center', client_secret: 'smoke-secret-0123456789' };

const config = {
  port: 0,
  clients: [
    { ...CLIENT, redirect_uris: [REDIRECT_URI] },
    { client_id: 'short-lived', client_secret: 'short-secret-0123456789', redirect_uris: [REDIRECT_URI], id_token_ttl_seconds: 5 },
  ],
  accounts: [
    { sub: 'ada', email: 'ada@example.com', email_verified: true, name: 'Ada' },
    { sub: 'bob', email: 'bob@example.com', email_verified: false },
  ],
};

let passed = 0;
let failed = 0;
function check(what, ok, detail = '') {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}`);
}

// ---- the provider as a subprocess -------------------------------------------------------

const child = spawn(process.execPath, [path.join(here, 'provider.mjs')], {
  env: { ...process.env, SSO_PROVIDER_CONFIG: JSON.stringify(config) },
  stdio: ['pipe', 'pipe', verbose ? 'inherit' : 'ignore'],
});
const [firstLine] = await once(readline.createInterface({ input: child.stdout }), 'line');
const { issuer } = JSON.parse(firstLine);
console.log(`provider ready: ${firstLine}`);

// ---- HTTP with a cookie jar by hand, no redirect following -------------------------------

const jar = new Map(); // name -> value; every cookie goes back to the provider (one host)
async function request(method, url, { body, headers = {} } = {}) {
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(url, {
    method,
    body,
    redirect: 'manual',
    headers: { ...headers, ...(cookie ? { cookie } : {}) },
  });
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const [name, ...rest] = pair.split('=');
    const value = rest.join('=');
    const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
    if (expired || value === '') jar.delete(name.trim());
    else jar.set(name.trim(), value);
  }
  if (verbose) console.log(`  ${method} ${url} -> ${res.status} ${res.headers.get('location') ?? ''}`);
  return res;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const random = () => b64url(crypto.randomBytes(32));
const decode = (jwt) => {
  const [h, p] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
};

const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
check('discovery names the issuer', discovery.issuer === issuer);
check('discovery offers S256 PKCE', discovery.code_challenge_methods_supported?.includes('S256'));

/// One sign-in: returns what the callback received and the relying party's secrets.
async function signIn({ client = CLIENT, login = 'ada', tamperNonce = false, redirectUri = REDIRECT_URI } = {}) {
  jar.clear();
  const verifier = random();
  const state = random();
  const nonce = random();
  const auth = new URL(discovery.authorization_endpoint);
  auth.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state,
    nonce: tamperNonce ? 'an-attackers-nonce' : nonce,
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();

  let res = await request('GET', auth);
  const interaction = new URL(res.headers.get('location'), issuer);
  res = await request('GET', interaction);
  const page = await res.text();
  if (!page.includes('name="login"')) throw new Error(`no login form: ${res.status} ${page}`);
  res = await request('POST', `${interaction}/login`, {
    body: new URLSearchParams({ login }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (res.status === 200 && (await res.text()).includes('unknown login')) throw new Error('unknown login');
  // Follow the provider's redirects until one leaves for the relying party's callback.
  const next = () => {
    if (res.status !== 302 && res.status !== 303) throw new Error(`expected a redirect, got ${res.status}`);
    return new URL(res.headers.get('location'), issuer);
  };
  let location = next();
  while (location.origin === issuer) {
    res = await request('GET', location);
    location = next();
  }
  return { callback: location, verifier, state, nonce, client, redirectUri };
}

async function exchange({ callback, verifier, client, redirectUri }) {
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code'),
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  return { status: res.status, body: await res.json() };
}

/// The relying party's checks; returns the list of problems (empty: accepted).
async function verify(idToken, { nonce, client = CLIENT }) {
  const { header, payload } = decode(idToken);
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  const problems = [];
  if (!jwk) problems.push(`unknown kid ${header.kid}`);
  else {
    const [h, p, s] = idToken.split('.');
    const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
    if (!ok) problems.push('bad signature');
  }
  if (header.alg !== 'RS256') problems.push(`alg ${header.alg}`);
  if (payload.iss !== issuer) problems.push('iss');
  const aud = [].concat(payload.aud);
  if (!aud.includes(client.client_id) || (aud.length > 1 && payload.azp !== client.client_id)) problems.push('aud');
  if (payload.nonce !== nonce) problems.push('nonce');
  if (!(payload.exp > Date.now() / 1000)) problems.push('exp');
  if (payload.email_verified !== true) problems.push('email_verified');
  return problems;
}

try {
  // 1. The normal path, printed in full.
  const ok = await signIn();
  console.log(`callback: ${ok.callback}`);
  check('callback carries code, our state and the issuer', ok.callback.searchParams.get('code') && ok.callback.searchParams.get('state') === ok.state && ok.callback.searchParams.get('iss') === issuer);
  const tokens = await exchange(ok);
  check('code exchange answers 200 with an id_token', tokens.status === 200 && typeof tokens.body.id_token === 'string', JSON.stringify(tokens.body).slice(0, 120));
  const decoded = decode(tokens.body.id_token);
  console.log(`ID token header:  ${JSON.stringify(decoded.header)}`);
  console.log(`ID token payload: ${JSON.stringify(decoded.payload)}`);
  check('ID token verifies (signature, iss, aud, nonce, exp, email_verified)', (await verify(tokens.body.id_token, ok)).length === 0, (await verify(tokens.body.id_token, ok)).join(','));
  check('email is in the ID token itself', decoded.payload.email === 'ada@example.com');

  // (e) replayed callback: the provider refuses the code the second time too (the relying
  // party must refuse it first, from its own single-use state).
  const again = await exchange(ok);
  check('a code exchanged twice is invalid_grant', again.status === 400 && again.body.error === 'invalid_grant');

  // PKCE is enforced: a wrong verifier is refused.
  const noPkce = await signIn();
  const wrongVerifier = await exchange({ ...noPkce, verifier: random() });
  check('a wrong code_verifier is invalid_grant', wrongVerifier.status === 400 && wrongVerifier.body.error === 'invalid_grant');

  // (a) wrong nonce: the test rewrites the nonce of the authorization URL.
  const n = await signIn({ tamperNonce: true });
  const nTokens = await exchange(n);
  check('(a) nonce changed in the URL: the RP sees a foreign nonce', (await verify(nTokens.body.id_token, n)).join() === 'nonce');

  // (b) another audience, via the next-id-token knob.
  await request('POST', `${issuer}/__test/next-id-token`, { body: JSON.stringify({ claims: { aud: 'someone-else' } }) });
  const b = await signIn();
  const bTokens = await exchange(b);
  check('(b) knob aud=someone-else: the RP sees a wrong audience', (await verify(bTokens.body.id_token, b)).join() === 'aud');
  const after = await signIn();
  check('    the knob is one shot', (await verify((await exchange(after)).body.id_token, after)).length === 0);

  // (c) expired: a client whose ID tokens live 5 s; the RP's clock moves (here: exp checked
  // against now + 60 s, as a ManualClock advanced by a minute would).
  const short = { client_id: 'short-lived', client_secret: 'short-secret-0123456789' };
  const c = await signIn({ client: short });
  const cTokens = await exchange(c);
  const cPayload = decode(cTokens.body.id_token).payload;
  check('(c) id_token_ttl_seconds: exp - iat = 5', cPayload.exp - cPayload.iat === 5);
  check('    a minute later it is expired', cPayload.exp < Date.now() / 1000 + 60);
  // and the same through the knob, with no clock at all
  await request('POST', `${issuer}/__test/next-id-token`, { body: JSON.stringify({ claims: { exp: Math.floor(Date.now() / 1000) - 120 } }) });
  const c2 = await signIn();
  check('    knob exp in the past: the RP sees expired', (await verify((await exchange(c2)).body.id_token, c2)).join() === 'exp');

  // (d) unverified e-mail.
  const d = await signIn({ login: 'bob@example.com' });
  const dPayload = decode((await exchange(d)).body.id_token).payload;
  check('(d) an unverified account: email_verified false in the ID token', dPayload.email_verified === false && dPayload.email === 'bob@example.com');

  // Key rotation: the next ID token carries a kid the RP's cached JWKS does not hold.
  const before = decode(tokens.body.id_token).header.kid;
  const rotated = await (await request('POST', `${issuer}/__test/rotate-keys`, { body: '{}' })).json();
  const r = await signIn();
  const rToken = (await exchange(r)).body.id_token;
  check('rotate-keys: the next ID token has the new kid', decode(rToken).header.kid === rotated.kid && rotated.kid !== before);
  check('    the JWKS lists the new key and keeps the old one', rotated.jwks.length === 2 && rotated.jwks.includes(before));
  check('    it verifies against the refreshed JWKS', (await verify(rToken, r)).length === 0);
  const retired = await (await request('POST', `${issuer}/__test/rotate-keys`, { body: '{"retire_old":true}' })).json();
  check('    retire_old leaves one key', retired.jwks.length === 1);

  // A signature by a key the JWKS never lists.
  await request('POST', `${issuer}/__test/next-id-token`, { body: JSON.stringify({ unknown_key: true }) });
  const u = await signIn();
  check('unknown_key: a kid the JWKS does not hold', (await verify((await exchange(u)).body.id_token, u)).join().startsWith('unknown kid'));

  // The alg knobs: no signature at all, and an HMAC under the client's own secret.
  await request('POST', `${issuer}/__test/next-id-token`, { body: JSON.stringify({ alg: 'none' }) });
  const none = await signIn();
  const noneToken = (await exchange(none)).body.id_token;
  check('alg none: header alg none, no kid, an empty signature', decode(noneToken).header.alg === 'none' && !decode(noneToken).header.kid && noneToken.endsWith('.'));
  await request('POST', `${issuer}/__test/next-id-token`, { body: JSON.stringify({ alg: 'HS256' }) });
  const hs = await signIn();
  const hsToken = (await exchange(hs)).body.id_token;
  const [hsHeader, hsPayload, hsMac] = hsToken.split('.');
  check('alg HS256: an HMAC-SHA256 under the client secret', decode(hsToken).header.alg === 'HS256' && crypto.createHmac('sha256', CLIENT.client_secret).update(`${hsHeader}.${hsPayload}`).digest('base64url') === hsMac);

  // Requests counted per path.
  const { hits } = await (await request('GET', `${issuer}/__test/hits`)).json();
  check('GET /__test/hits counts discovery, keys and token requests', hits['/.well-known/openid-configuration'] >= 1 && hits['/jwks'] >= 1 && hits['/token'] >= 10 && hits['/__test/hits'] === undefined);

  // Accounts added at run time; an unknown login gets the form again.
  await request('PUT', `${issuer}/__test/accounts`, { body: JSON.stringify({ sub: 'cy', email: 'cy@example.com', email_verified: true }) });
  const cy = await signIn({ login: 'cy' });
  check('PUT /__test/accounts: the new account signs in', decode((await exchange(cy)).body.id_token).payload.sub === 'cy');
  let failedLogin;
  try { await signIn({ login: 'nobody' }); } catch (e) { failedLogin = e; }
  check('an unknown login gets the form again, with "unknown login"', failedLogin?.message === 'unknown login');

  // A client added at run time (one provider shared by tests on several ports), and a knob
  // armed for one client only.
  const other = { client_id: 'added', client_secret: 'added-secret-0123456789' };
  await request('PUT', `${issuer}/__test/clients`, { body: JSON.stringify({ ...other, redirect_uris: ['http://127.0.0.1:10/sso/callback'] }) });
  await request('POST', `${issuer}/__test/next-id-token`, { body: JSON.stringify({ client_id: 'added', claims: { aud: 'someone-else' } }) });
  const mine = await signIn();
  check('a knob armed for another client leaves this one alone', (await verify((await exchange(mine)).body.id_token, mine)).length === 0);
  const added = await signIn({ client: other, redirectUri: 'http://127.0.0.1:10/sso/callback' });
  check('PUT /__test/clients: the new client signs in, and its knob fires', added.callback.origin === 'http://127.0.0.1:10' && (await verify((await exchange(added)).body.id_token, added)).join() === 'aud');
} catch (err) {
  check(`no exception: ${err.stack}`, false);
} finally {
  child.stdin.end(); // closing stdin stops the provider
}
const [code] = await once(child, 'exit');
check('the provider exits when its stdin closes', code === 0);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
