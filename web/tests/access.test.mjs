// Browser tests of sign-in and the personal area in real Chromium: the
// demonstration sign-in of `palazzo demo` (clearly marked), a citizen who
// starts from the personal area lands back in it and sees only their own
// data, completes the contacts form without JavaScript, and signs out; the
// sign-in, demo and personal-area pages have zero WCAG 2.1 AA violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.PALAZZO_BIN;
const CHROMIUM = process.env.PALAZZO_CHROMIUM || '/usr/bin/chromium';

let server, browser, base, dataDir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(url, ms = 60000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not answer ${url}`);
}

before(async () => {
  assert.ok(BIN, 'PALAZZO_BIN must name the palazzo binary');
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-access-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['demo', '--data-dir', join(dataDir, 'demo'), '--listen', `127.0.0.1:${port}`, '--residents', '50'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  await waitFor(`${base}/healthz`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function axe(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const summary = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
  assert.deepEqual(summary, [], `axe violations on ${page.url()}`);
  assert.ok(result.passes.length > 10, 'axe actually ran');
}

test('a citizen signs in from the personal area, lands back, sees only their data, edits contacts and signs out', async () => {
  const context = await browser.newContext({ bypassCSP: true, javaScriptEnabled: false });
  const page = await context.newPage();

  await page.goto(`${base}/area-personale`);
  assert.match(page.url(), /\/accedi\?ritorno=%2Farea-personale$/);
  await page.getByRole('link', { name: 'accedere come un residente o un dipendente fittizio' }).click();
  assert.match(page.url(), /\/accedi\/demo\?ritorno=%2Farea-personale$/);
  assert.match(await page.locator('.alert-warning').first().innerText(), /Dimostrazione/);

  // The first resident in the table.
  const row = page.locator('tbody tr').first();
  const cf = (await row.locator('code').innerText()).trim();
  const other = (await page.locator('tbody tr').nth(1).locator('code').innerText()).trim();
  await row.getByRole('button', { name: 'Entra' }).click();
  assert.equal(new URL(page.url()).pathname, '/area-personale', 'back in the personal area');
  const body = await page.locator('main, body').first().innerText();
  assert.ok(body.includes(cf), 'shows the citizen\'s codice fiscale');
  assert.ok(!body.includes(other), 'never another resident\'s');

  // Contacts, without JavaScript: a bad e-mail is refused in Italian, a good one saved.
  // Valid for the browser's own check, refused by ours (no top-level domain).
  await page.fill('#email', 'cittadino@intranet');
  await page.check('#channel-email');
  await page.getByRole('button', { name: 'Salva' }).click();
  assert.match(await page.locator('.alert-danger').innerText(), /e-mail|indirizzo/i);
  await page.fill('#email', 'cittadino@example.it');
  await page.getByRole('button', { name: 'Salva' }).click();
  assert.match(await page.locator('.alert-success').innerText(), /salvati/);
  assert.equal(await page.inputValue('#email'), 'cittadino@example.it');

  await page.getByRole('button', { name: 'Esci', exact: true }).click();
  await page.goto(`${base}/area-personale`);
  assert.match(page.url(), /\/accedi\?/, 'signed out');
  await context.close();
});

test('zero WCAG 2.1 AA violations on the sign-in, demo, personal area and back office pages', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  for (const path of ['/accedi', '/accedi/amministratore', '/accedi/demo']) {
    await page.goto(`${base}${path}`);
    await axe(page);
  }
  await page.locator('tbody tr').first().getByRole('button', { name: 'Entra' }).click();
  await axe(page);
  await page.goto(`${base}/accedi/demo`);
  // Signed in already: the demo page still lets a tester switch persona.
  await page.locator('form', { hasText: 'Amministratore del Comune' }).getByRole('button').click();
  assert.equal(new URL(page.url()).pathname, '/backoffice');
  await axe(page);
  await page.goto(`${base}/backoffice/ruoli`);
  assert.match(await page.locator('h1').innerText(), /Ruoli e permessi/);
  await axe(page);
  await context.close();
});
