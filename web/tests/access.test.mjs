// Browser tests of sign-in and the personal area in real Chromium: the
// demonstration sign-in of `palazzo demo` (clearly marked), a citizen who
// starts from the personal area lands back in it and sees only their own
// data, completes the contacts form without JavaScript, and signs out; the
// sign-in, demo and personal-area pages have zero WCAG 2.1 AA violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAccessible, launchChromium, startDemo } from './harness.mjs';

let server, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-access-'));
  ({ server, base } = await startDemo(['--data-dir', join(dataDir, 'demo'), '--residents', '50']));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const axe = (page) => assertAccessible(page);

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
