// SPID sign-in in real Chromium against the real local federation of
// testbeds/spid-cie (spid-cie-oidc from PyPI: trust anchor + SPID OP + CIE OP).
// A synthetic citizen opens the personal area, is sent to sign in, clicks
// "Entra con SPID", logs in and consents at the OP, and lands back in the
// personal area seeing only their own data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { assertAccessible } from './harness.mjs';

const BIN = process.env.PALAZZO_BIN;
const CHROMIUM = process.env.PALAZZO_CHROMIUM || '/usr/bin/chromium';
const TESTBED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'testbeds', 'spid-cie');

let server, browser, base, dataDir, stateDir, fed;

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
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-spid-'));
  stateDir = join(dataDir, 'federation');
  // The federation, on free ports (start.sh refuses busy ones; it never skips).
  execFileSync('bash', [join(TESTBED, 'start.sh'), stateDir, String(await freePort()), String(await freePort())],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  fed = JSON.parse(readFileSync(join(stateDir, 'federation.json'), 'utf8'));

  // Palazzo's demo with the federation configured; entity id = its own URL.
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = join(dataDir, 'palazzo.toml');
  writeFileSync(config, [
    '[federation]',
    `public_base_url = "${base}"`,
    '[[federation.providers]]',
    'kind = "spid"',
    `entity_id = "${fed.openid_providers.spid}"`,
    'label = "SPID di prova"',
    // A second SPID provider (the CIE OP, only listed): the SPID button
    // becomes the AgID list of identity providers.
    '[[federation.providers]]',
    'kind = "spid"',
    `entity_id = "${fed.openid_providers.cie}"`,
    'label = "Altro SPID di prova"',
    '[[federation.providers]]',
    'kind = "cie"',
    `entity_id = "${fed.openid_providers.cie}"`,
    '[[federation.trust_anchors]]',
    `entity_id = "${fed.trust_anchor}"`,
    `jwks = '${JSON.stringify(fed.trust_anchor_jwks)}'`,
    '',
  ].join('\n'));
  server = spawn(BIN, ['demo', '--config', config, '--data-dir', join(dataDir, 'demo'),
    '--listen', `127.0.0.1:${port}`, '--residents', '50'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  await waitFor(`${base}/healthz`);

  // Register our relying party at the trust anchor with its federation key.
  const ec = await (await fetch(`${base}/.well-known/openid-federation`)).text();
  const claims = JSON.parse(Buffer.from(ec.split('.')[1], 'base64url').toString('utf8'));
  assert.equal(claims.sub, base);
  execFileSync('python3', [join(TESTBED, 'register_rp.py'), '--state', stateDir, base, JSON.stringify(claims.jwks)],
    { stdio: ['ignore', 'ignore', 'inherit'] });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (stateDir) {
    try { execFileSync('bash', [join(TESTBED, 'stop.sh'), stateDir]); } catch { /* already stopped */ }
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the SPID button opens the list of identity providers without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/accedi`);
  await page.locator('[data-element="spid-login"]').click();
  const link = page.locator('[data-element="spid-idp"]', { hasText: /^SPID di prova$/ });
  assert.ok(await link.isVisible());
  assert.equal(await link.getAttribute('href'), `/accedi/spid?op=${encodeURIComponent(fed.openid_providers.spid)}`);
  await context.close();
});

test('a citizen signs in with SPID from the personal area and sees only their own data', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/area-personale`);
  assert.match(page.url(), /\/accedi\?ritorno=%2Farea-personale$/);
  const spid = page.locator('[data-element="spid-login"]');
  assert.equal((await spid.innerText()).trim(), 'Entra con SPID');
  assert.equal(await spid.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(0, 102, 204)');
  assert.equal(await page.locator('[data-element="cie-login"]').innerText().then((t) => t.trim()), 'Entra con CIE');

  await assertAccessible(page, '/accedi (SPID list closed)');
  const idps = page.locator('[data-element="spid-idp"]');
  assert.equal(await idps.first().isVisible(), false, 'the list opens on demand');
  await spid.click();
  assert.deepEqual((await idps.allInnerTexts()).map((t) => t.trim()).sort(), ['Altro SPID di prova', 'SPID di prova']);
  await assertAccessible(page, '/accedi (SPID list open)');
  await idps.filter({ hasText: /^SPID di prova$/ }).click();
  await page.waitForURL((u) => u.href.startsWith(`${fed.openid_providers.spid}/authorization`));
  await page.fill('#id_username', 'mario.rossi');
  await page.fill('#id_password', 'cittadino-test');
  await page.click('#submit');
  await page.waitForURL((u) => u.href.startsWith(`${fed.openid_providers.spid}/consent`));
  await page.click('#agree');
  await page.waitForURL(`${base}/area-personale`);

  const text = await page.locator('main').innerText();
  assert.match(text, /RSSMRA80A01H501U/);
  assert.match(text, /Mario/);
  assert.match(text, /Rossi/);
  assert.match(text, /SPID livello 2/);
  // Only their own data: no other citizen's codice fiscale appears.
  const codes = text.match(/\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b/g) || [];
  assert.deepEqual([...new Set(codes)], ['RSSMRA80A01H501U']);
  const data = await page.request.get(`${base}/area-personale/dati.json`);
  assert.equal(data.status(), 200);
  const mine = JSON.stringify(await data.json());
  assert.match(mine, /RSSMRA80A01H501U/);
  assert.doesNotMatch(mine, /BNCGLI85L55F205B/);
  await context.close();
});
