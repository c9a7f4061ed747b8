// Browser test of the anagrafe certificates in real Chromium (issue 5): a
// demo resident signs in, asks for a certificate from the personal area,
// downloads the PDF with the page's own link, and checks it on the public
// verification page, which says the contrassegno is valid and the file
// carries the comune's PAdES seal; a copy with one byte changed is caught.
// The certificate and verification pages have zero WCAG 2.1 AA violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAccessible, launchChromium, startDemo } from './harness.mjs';

let server, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-certificati-'));
  ({ server, base } = await startDemo(['--data-dir', join(dataDir, 'demo'), '--residents', '50']));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function verify(page, name, buffer) {
  await page.goto(`${base}/verifica`);
  await page.setInputFiles('#file', { name, mimeType: 'application/pdf', buffer });
  await page.getByRole('button', { name: 'Verifica' }).click();
  const esito = page.locator('[data-element="esito"]');
  return {
    verdict: await esito.getAttribute('data-verdict'),
    fileSeal: await page.locator('[data-element="sigillo-file"]').getAttribute('data-state'),
  };
}

test('a resident gets a certificate, downloads it and the verification page accepts it', async () => {
  const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true });
  const page = await context.newPage();

  await page.goto(`${base}/area-personale/certificati`);
  assert.match(page.url(), /\/accedi\?ritorno=/);
  await page.getByRole('link', { name: 'accedere come un residente o un dipendente fittizio' }).click();
  await page.locator('tbody tr').first().getByRole('button', { name: 'Entra' }).click();
  assert.equal(new URL(page.url()).pathname, '/area-personale/certificati', 'back to the certificates');
  await assertAccessible(page);

  await page.selectOption('#tipo', 'residenza');
  await page.selectOption('#uso', 'tributi');
  await page.getByRole('button', { name: 'Richiedi il certificato' }).click();
  assert.match(await page.locator('[data-element="certificato-rilasciato"]').innerText(), /\S/);
  await assertAccessible(page);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Scarica il PDF' }).first().click(),
  ]);
  const pdf = readFileSync(await download.path());
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');

  const ok = await verify(page, download.suggestedFilename(), pdf);
  assert.equal(ok.verdict, 'valid');
  assert.equal(ok.fileSeal, 'valido');
  assert.match(await page.locator('[data-element="dati-sigillati"]').innerText(), /Residenza|Certificato/i);
  await assertAccessible(page);

  // One byte of the file changed (the XMP's creator tool): the PAdES seal
  // no longer holds, and the certificate is reported as altered.
  const changed = Buffer.from(pdf);
  const at = changed.indexOf('Palazzo</');
  assert.ok(at > 0);
  changed[at + 6] = '0'.charCodeAt(0);
  const bad = await verify(page, 'modificato.pdf', changed);
  assert.equal(bad.verdict, 'altered');
  assert.equal(bad.fileSeal, 'non_valido');
  await context.close();
});
