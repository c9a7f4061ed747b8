// Browser tests in real Chromium (Debian package) driven by Playwright, with
// axe-core: zero WCAG 2.1 AA violations on the home page, the four
// first-level pages, a service card and the FAQ; the rating widget behaves as
// the modello Comuni validator expects (C.SI.2.5) and works end to end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAccessible, launchChromium, startDemo } from './harness.mjs';

let server, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-browser-'));
  ({ server, base } = await startDemo(['--data-dir', join(dataDir, 'demo'), '--residents', '200']));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function newPage() {
  // bypassCSP only so that axe-core can be injected; the pages' own CSP is
  // asserted by the Rust HTTP tests.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

async function firstServiceCard(page) {
  await page.goto(`${base}/servizi`);
  const href = await page.locator('[data-element="service-link"]').first().getAttribute('href');
  assert.ok(href, 'the Servizi page links service cards');
  return href;
}

const PAGES = ['/', '/amministrazione', '/novita', '/servizi', '/vivere-il-comune', '/domande-frequenti'];

test('zero WCAG 2.1 AA violations (axe-core) on the main pages and a service card', async () => {
  const page = await newPage();
  const card = await firstServiceCard(page);
  for (const path of [...PAGES, card]) {
    const response = await page.goto(`${base}${path}`);
    assert.equal(response.status(), 200, path);
    await assertAccessible(page, path);
  }
  await page.context().close();
});

test('fonts: headings and paragraphs use Titillium Web / Lora, served locally and loaded', async () => {
  const page = await newPage();
  await page.goto(`${base}/`);
  await page.evaluate(() => document.fonts.ready);
  const fonts = await page.evaluate(() => ({
    h1: getComputedStyle(document.querySelector('h1')).fontFamily,
    p: getComputedStyle(document.querySelector('main p')).fontFamily,
    loaded: [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replaceAll('"', '')),
    version: getComputedStyle(document.documentElement).getPropertyValue('--bootstrap-italia-version').trim(),
  }));
  assert.match(fonts.h1, /Titillium Web/);
  assert.match(fonts.p, /(Titillium Web|Lora)/);
  assert.ok(fonts.loaded.includes('Titillium Web'), `loaded fonts: ${fonts.loaded}`);
  assert.match(fonts.version, /^'?2\.\d+\.\d+'?$/, 'Bootstrap Italia 2.x CSS is present');
  await page.context().close();
});

test('rating widget: negative questions for 1-3 stars, positive for 4-5 (validator behaviour)', async () => {
  const page = await newPage();
  for (const path of ['/servizi', await firstServiceCard(page)]) {
    await page.goto(`${base}${path}`);
    const fb = page.locator('[data-element="feedback"]');
    await fb.scrollIntoViewIfNeeded();
    assert.equal(await page.locator('[data-element="feedback-title"]').innerText(), 'Quanto sono chiare le informazioni su questa pagina?');
    for (let n = 1; n <= 5; n++) {
      await page.locator(`label[data-element="feedback-rate-${n}"]`).click();
      const negative = await page.locator('fieldset[data-element="feedback-rating-negative"]').isVisible();
      const positive = await page.locator('fieldset[data-element="feedback-rating-positive"]').isVisible();
      assert.equal(negative, n <= 3, `${path}: negative fieldset visibility at ${n} stars`);
      assert.equal(positive, n >= 4, `${path}: positive fieldset visibility at ${n} stars`);
    }
  }
  await page.context().close();
});

test('rating widget: a rating is submitted without JavaScript and thanked', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/novita`);
  await page.locator('label[data-element="feedback-rate-2"]').click();
  await page.locator('fieldset[data-element="feedback-rating-negative"] label[data-element="feedback-rating-answer"]').first().click();
  await page.locator('[data-element="feedback-input-text"]').fill('Mancano le date degli avvisi.');
  await Promise.all([page.waitForNavigation(), page.locator('[data-element="feedback"] button[type="submit"]').click()]);
  assert.match(page.url(), /valutazione=grazie/);
  assert.match(await page.locator('[data-element="feedback"]').innerText(), /Grazie/i);
  await context.close();
});

test('main menu: exactly the four first-level items, in order, each data-element once', async () => {
  const page = await newPage();
  await page.goto(`${base}/`);
  const items = await page.evaluate(() => ['management', 'news', 'all-services', 'live', 'custom-submenu']
    .flatMap((d) => [...document.querySelectorAll(`[data-element="${d}"]`)].map((e) => e.textContent.trim())));
  assert.deepEqual(items, ['Amministrazione', 'Novità', 'Servizi', 'Vivere Casamassima']);
  await page.context().close();
});
