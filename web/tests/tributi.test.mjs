// Browser test of the IMU in real Chromium (issue 7, "done when"): the
// demo's first resident — a flat sold in May, half a flat bought in
// September, a shop, an exempt home and garage — opens "Tributi" in the
// personal area and sees the acconto and saldo with the working of each
// unit; downloads the F24 and the pagoPA notice with the page's own
// controls; the notice's QR code (read by zbarimg from the PDF rendered by
// poppler) holds a valid codice avviso (mod-93 check digits) and the
// amount shown; a payment recorded with `palazzo tributi pagamento` (a
// receipt, as pagoPA sends it) marks it paid on the page. The page has
// zero WCAG 2.1 AA violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, assertAccessible, launchChromium, startDemo } from './harness.mjs';

let server, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-tributi-'));
  ({ server, base } = await startDemo(['--data-dir', join(dataDir, 'demo'), '--residents', '5']));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
  // The server has stopped writing its data directory.
  if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
});

/** The QR codes of the first page of a PDF, by poppler and zbarimg. */
function qrCodes(pdf) {
  const file = join(dataDir, 'avviso.pdf');
  writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-r', '200', '-gray', '-png', '-singlefile', '-f', '1', '-l', '1', file, join(dataDir, 'avviso')]);
  const out = execFileSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', join(dataDir, 'avviso.png')]);
  return out.toString().split('\n').filter((l) => l);
}

/** Cents as the page writes them: `1.435,00 €`. */
function euro(cents) {
  const n = Number(cents);
  const whole = String(Math.floor(n / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${whole},${String(n % 100).padStart(2, '0')} €`;
}

/** The mod-93 check digits of an 18-digit codice avviso (aux digit 3). */
function validCodice(codice) {
  if (!/^3\d{17}$/.test(codice)) return false;
  return BigInt(codice.slice(0, 16)) % 93n === BigInt(codice.slice(16));
}

test('a resident sees the IMU with its working, downloads the F24 and the pagoPA notice, and sees it paid', async () => {
  const context = await browser.newContext({ bypassCSP: true, acceptDownloads: true });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Europe/Rome', year: 'numeric' }).format(new Date()));

  await page.goto(`${base}/area-personale/tributi?anno=${year}`);
  assert.match(page.url(), /\/accedi\?ritorno=/);
  await page.getByRole('link', { name: 'accedere come un residente o un dipendente fittizio' }).click();
  await page.locator('tbody tr').first().getByRole('button', { name: 'Entra' }).click();
  assert.equal(new URL(page.url()).pathname, '/area-personale/tributi');
  await assertAccessible(page, 'the tax page');

  // The position of the year, with the working of every unit.
  assert.equal(await page.locator('[data-element="immobile"]').count(), 5);
  const acconto = await page.locator('[data-element="totale-acconto"]').innerText();
  const saldo = await page.locator('[data-element="totale-saldo"]').innerText();
  assert.match(acconto, /^\d{1,3}(\.\d{3})*,\d{2} €$/);
  assert.match(saldo, /^\d{1,3}(\.\d{3})*,\d{2} €$/);
  const shop = page.locator('[data-element="immobile"]', { hasText: 'sub 5' });
  await shop.locator('summary').click();
  assert.match(await shop.locator('[data-element="passaggi"]').innerText(), /1,05 × 55/);

  // The F24 of the saldo, with the page's link.
  const saldoRow = page.locator('tr[data-versamento="saldo"]');
  const [f24] = await Promise.all([
    page.waitForEvent('download'),
    saldoRow.getByRole('link', { name: /F24/ }).click(),
  ]);
  assert.ok(readFileSync(await f24.path()).subarray(0, 5).equals(Buffer.from('%PDF-')));

  // The pagoPA notice of a payment still due (the saldo; after its due
  // date, the next year's acconto).
  let row = saldoRow;
  if ((await row.getByRole('button', { name: /Avviso pagoPA/ }).count()) === 0) {
    await page.goto(`${base}/area-personale/tributi?anno=${year + 1}`);
    row = page.locator('tr[data-versamento="acconto"]');
  }
  const amount = await row.locator('td').first().innerText();
  const [notice] = await Promise.all([
    page.waitForEvent('download'),
    row.getByRole('button', { name: /Avviso pagoPA/ }).click(),
  ]);
  const qr = qrCodes(readFileSync(await notice.path()));
  assert.equal(qr.length, 1, `one QR code: ${qr}`);
  const [tag, version, codice, cfEnte, cents] = qr[0].split('|');
  assert.deepEqual([tag, version], ['PAGOPA', '002']);
  assert.ok(validCodice(codice), `a valid codice avviso: ${codice}`);
  assert.match(cfEnte, /^\d{11}$/);
  assert.equal(euro(cents), amount);

  // The page now shows the notice to pay, with its number in groups of 4.
  await page.reload();
  const printed = codice.match(/.{1,4}/g).join(' ');
  assert.match(await row.locator('[data-element="stato-versamento"]').innerText(), new RegExp(`${printed} da pagare`));

  // pagoPA's receipt, recorded by the tributi office: the payment is shown.
  execFileSync(BIN, ['tributi', 'pagamento', '--codice', codice, '--ricevuta', 'RICEVUTA-PAGOPA-1',
    '--ente', 'casamassima', '--data-dir', join(dataDir, 'demo')]);
  await page.reload();
  assert.match(await row.locator('[data-element="stato-versamento"]').innerText(), /Pagato il \d{2}\/\d{2}\/\d{4}/);
  await assertAccessible(page, 'the tax page with a payment');
  await context.close();
});
