// GraphiQL in a real headless Chromium (Debian's /usr/bin/chromium), against the real server
// binary started the way the README's quick start does (`cargo run`: `serve` on the default
// SQLite file in the working directory, here a fresh temporary one). Every request to another
// origin is blocked, and any attempt fails the test, as do console errors and CSP violations.
// A newcomer signs in through the panel with the printed one-time password, goes through the
// forced password change, runs `{ me { login } }`, reloads, is still signed in, and signs out.
//
//   cargo build && (cd tests/browser && npm ci && npm test)
//   UPDATE_SCREENSHOT=1 npm test     # also rewrites docs/graphiql.png (README)
//
// ADMIN_CENTER_BIN (default target/debug/admin-center) and CHROMIUM (default
// /usr/bin/chromium) point elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = resolve(ROOT, process.env.ADMIN_CENTER_BIN || 'target/debug/admin-center');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? join(ROOT, 'docs/graphiql.png')
  : join(ROOT, 'target/graphiql.png');
// The headers editor (the variables editor beside it is hidden).
const HEADERS = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
const NEW_PASSWORD = 'Explorer-Passw0rd!';
// A step that waits longer than this has failed (the server and the page answer in well under).
const STEP_MS = 20_000;

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

// Starts `admin-center` (no command: `serve`) in an empty directory, as `cargo run` does in a
// fresh checkout; only the port is chosen, so tests can run side by side. Resolves with the
// login and one-time password it prints on first start.
async function startServer(dir) {
  const port = await freePort();
  const server = spawn(BIN, [], {
    cwd: dir,
    // Nothing from the caller's environment (a DATABASE_URL there must not be used).
    env: { PATH: process.env.PATH, BIND: `127.0.0.1:${port}`, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  server.stdout.on('data', (chunk) => (out += chunk));
  server.stderr.on('data', (chunk) => (err += chunk));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited ${server.exitCode}:\n${out}\n${err}`);
    if (Date.now() > deadline) {
      server.kill('SIGKILL');
      throw new Error(`server not ready within ${STEP_MS} ms:\n${out}\n${err}`);
    }
    const login = /Company manager login:\s*(\S+)/.exec(out);
    const password = /One-time password:\s*(\S+)/.exec(out);
    const ready = login && password && (await fetch(`${base}/readyz`).then((r) => r.ok, () => false));
    if (ready) return { server, base, login: login[1], password: password[1], logs: () => out + err };
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The text of one of GraphiQL's CodeMirror editors.
function editorText(page, selector) {
  return page.locator(`${selector} .CodeMirror`).first().evaluate((el) => el.CodeMirror.getValue());
}

async function waitForEditorText(page, selector, predicate, what) {
  const deadline = Date.now() + STEP_MS;
  let text = '';
  while (Date.now() < deadline) {
    text = await editorText(page, selector);
    if (predicate(text)) return text;
    await page.waitForTimeout(100);
  }
  assert.fail(`${what}; ${selector} shows:\n${text}`);
}

async function runQuery(page, query) {
  await page.locator('.graphiql-query-editor .CodeMirror').first().click();
  await page.keyboard.press('Control+A');
  // insertText types no keys, so CodeMirror adds no closing brackets of its own.
  await page.keyboard.insertText(query);
  await execute(page);
}

// The run button, once GraphiQL has parsed the editor: while it still holds several
// operations (the examples), the button opens a menu to pick one instead of running.
async function execute(page) {
  await page.waitForFunction(() => {
    const button = document.querySelector('.graphiql-execute-button');
    return button && !button.hasAttribute('aria-haspopup');
  });
  await page.getByRole('button', { name: /^Execute query/ }).click();
}

test('a newcomer signs in to GraphiQL with the one-time password, offline', { timeout: 180_000 }, async (t) => {
  assert.ok(existsSync(BIN), `${BIN} is missing: run \`cargo build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'admin-center-graphiql-'));
  const app = await startServer(dir);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As Debian's Chromium needs on a CI machine: no sandbox as root, no GPU, and none of
    // Chromium's own calls home. Playwright gives each launch a fresh, empty profile.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(async () => {
    await browser.close();
    app.server.kill('SIGTERM');
    await new Promise((r) => (app.server.exitCode === null ? app.server.on('exit', r) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const elsewhere = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === app.base) return route.continue();
    elsewhere.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  // CSP violations reach the page as events (Chromium also logs them to the console).
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const graphqlRequests = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/graphql') {
      graphqlRequests.push({ body: request.postData() || '', authorization: request.headers().authorization });
    }
  });
  page.setDefaultTimeout(STEP_MS);
  try {
    await drive(page, app, graphqlRequests);
  } catch (error) {
    // What the page showed, for whoever reads the CI log.
    const shot = join(ROOT, 'target/graphiql-failure.png');
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot }).catch(() => {});
    const sent = graphqlRequests.map((r) => r.body.slice(0, 100));
    console.log(
      `screenshot of the failure: ${shot}\nGraphQL requests: ${JSON.stringify(sent)}\n` +
        `problems so far: ${problems.join('\n')}\nserver:\n${app.logs()}`,
    );
    throw error;
  }
  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual(elsewhere, [], 'the page tried to reach another origin');
  assert.deepEqual(violations, [], 'CSP violations');
  assert.deepEqual(problems, [], 'console errors or failed requests');
  console.log(`screenshot: ${SCREENSHOT}`);
});

async function drive(page, app, graphqlRequests) {

  // The page renders, with the sign-in panel open.
  await page.goto(`${app.base}/graphiql`);
  await page.locator('.graphiql-container').waitFor();
  assert.equal(await page.title(), 'admin-center GraphiQL');
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.waitFor();

  // GraphiQL's dialogs add a <style> element: the CSP lets it in by nonce.
  await page.getByRole('button', { name: 'Open settings dialog' }).click();
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  // Sign in with the printed one-time password: the session is restricted to a password change.
  await signIn.getByLabel('Login').fill(app.login);
  await signIn.getByLabel('Password').fill(app.password);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  const change = page.getByRole('form', { name: 'Change password' });
  await change.waitFor();
  await change.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await change.getByLabel('New password again').fill(NEW_PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await change.waitFor({ state: 'detached' });
  await page.getByText(`Signed in as ${app.login}`).waitFor();

  // The token is in the headers editor, and the query sends it.
  const headers = await waitForEditorText(page, HEADERS, (text) => /"Authorization": "Bearer /.test(text), 'no token in the headers editor');
  const token = JSON.parse(headers).Authorization.slice('Bearer '.length);
  assert.equal(await page.evaluate(() => window.localStorage.length && JSON.stringify(window.localStorage).includes('Bearer')), false, 'the token reached localStorage');
  await runQuery(page, '{ me { login } }');
  await waitForEditorText(page, '.graphiql-response', (text) => text.includes(`"login": "${app.login}"`), 'me.login not answered');
  const sent = graphqlRequests.filter((r) => r.body.includes('me { login }'));
  assert.equal(sent.at(-1)?.authorization, `Bearer ${token}`);
  // GraphiQL records the query in its history (localStorage), without the headers.
  await page.waitForFunction(() => (localStorage.getItem('graphiql:queries') || '').includes('me { login }'));
  const inLocalStorage = () => page.evaluate((t) => JSON.stringify({ ...window.localStorage }).includes(t), token);
  assert.equal(await inLocalStorage(), false, 'the token reached localStorage with the history');

  // After a reload the tab is still signed in, and queries still carry the token. (GraphiQL
  // saves its tabs half a second after a change: reloading sooner would open a second tab.)
  await page.waitForFunction(() => (localStorage.getItem('graphiql:tabState') || '').includes('me { login }'));
  await page.reload();
  await page.locator('.graphiql-container').waitFor();
  await page.getByText(`Signed in as ${app.login}`).waitFor();
  await waitForEditorText(page, HEADERS, (text) => text.includes(`Bearer ${token}`), 'token lost on reload');
  await execute(page);
  await waitForEditorText(page, '.graphiql-response', (text) => text.includes(`"login": "${app.login}"`), 'me.login not answered after reload');
  assert.equal(graphqlRequests.at(-1).authorization, `Bearer ${token}`);
  assert.equal(await inLocalStorage(), false, 'the token reached localStorage after the reload');

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  // Signing out ends the session on the server and forgets the token.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
  await waitForEditorText(page, HEADERS, (text) => !text.includes('Bearer'), 'token left in the headers editor');
  assert.equal(await page.evaluate((t) => JSON.stringify(window.sessionStorage).includes(t), token), false, 'token kept');
  const after = await fetch(`${app.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { login } }' }),
  });
  assert.equal(after.status, 401, 'the session still works after signing out');
}
