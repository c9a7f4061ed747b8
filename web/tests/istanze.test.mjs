// Browser test of an online istanza worked to its provvedimento, in real
// Chromium (issue 6, "done when"): a demo resident files an autorizzazione
// paesaggistica semplificata (DPR 31/2017) with its attachments, saves a
// draft, leaves, resumes it from "Le mie pratiche", submits and sees the
// protocol number; the office's responsabile takes it in charge and asks
// for an integration, and the deadline moves (the suspension, art. 2 c.7
// L. 241/1990); the citizen answers with a file and the deadline comes back
// (a same-day answer uses no days); the Soprintendenza's opinion is
// recorded; the dirigente decides; the citizen downloads the provvedimento,
// a PDF whose text carries the decision, and finds the office's messages
// on the desk of the personal area. Every page on the way has zero
// WCAG 2.1 AA violations (axe-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAccessible, launchChromium, startDemo } from './harness.mjs';

const SERVICE = 'autorizzazione-paesaggistica-semplificata';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1');

let server, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-istanze-'));
  ({ server, base } = await startDemo(['--data-dir', join(dataDir, 'demo'), '--residents', '50']));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The answers a citizen types, by field name; fields not on a page are skipped. */
const ANSWERS = {
  email: 'richiedente@example.org',
  presenta_per: 'in_proprio',
  'residenza.via': 'Via Roma',
  'residenza.civico': '1',
  'residenza.cap': '70010',
  'residenza.comune': 'Casamassima',
  qualita: 'proprietario',
  'ubicazione.via': 'Via Noicattaro',
  'ubicazione.civico': '12',
  'ubicazione.cap': '70010',
  'ubicazione.comune': 'Casamassima',
  'particelle.codice_catastale': 'B923',
  'particelle.foglio': '12',
  'particelle.particella': '345',
  tipo_vincolo: 'art142',
  lettera_art142: 'c',
  voce_allegato_b: '14',
  descrizione_intervento: 'Rifacimento della facciata con intonaco a calce e colori tradizionali.',
  rinnovo: 'no',
  tecnico_nome: 'Marco',
  tecnico_cognome: 'Verdi',
  tecnico_codice_fiscale: 'VRDGLI80A41A662Y',
  tecnico_albo: 'Ordine degli architetti della provincia di Bari',
  tecnico_iscrizione: '1234',
  tecnico_email: 'studio@example.org',
  modalita_bollo: 'esente',
  norma_esenzione: 'DPR 642/1972, allegato B',
};

/** Fills the fields of the step on screen that have an answer (empty ones only for prefilled inputs). */
async function fillStep(page) {
  for (const [name, value] of Object.entries(ANSWERS)) {
    const field = page.locator(`[name="${name}"]`);
    const n = await field.count();
    if (n === 0) continue;
    const first = field.first();
    const type = await first.evaluate((el) => (el.tagName === 'SELECT' ? 'select' : el.type));
    if (type === 'radio' || type === 'checkbox') {
      // From the keyboard, as a user without a mouse does (a box already
      // ticked, from an earlier attempt, stays ticked).
      const choice = page.locator(`[name="${name}"][value="${value}"]`);
      if (!(await choice.isChecked())) {
        await choice.focus();
        await page.keyboard.press('Space');
      }
      assert.ok(await page.locator(`[name="${name}"][value="${value}"]`).isChecked(), `${name} = ${value}`);
    } else if (type === 'select') {
      await first.selectOption(value);
    } else if (!name.startsWith('residenza.') || (await first.inputValue()) === '') {
      await first.fill(value);
    }
  }
}

/** The step's path segment from the current URL. */
function stepOf(page) {
  return new URL(page.url()).pathname.split('/').pop();
}

/** Clicks "Avanti" until the attachments page, filling each step (twice when a condition reveals fields). */
async function walkSteps(page, until) {
  for (let guard = 0; guard < 20 && stepOf(page) !== until; guard++) {
    await fillStep(page);
    await page.getByRole('button', { name: 'Avanti' }).click();
  }
  assert.equal(stepOf(page), until, `reached ${until}: ${await page.locator('main').innerText()}`);
}

/** Signs in on the demo page as a staff persona (in `office`, when the persona works in one). */
async function staffSignIn(context, persona, office) {
  const page = await context.newPage();
  await page.goto(`${base}/accedi/demo`);
  const card = page.locator('form').filter({ has: page.locator(`input[name="persona"][value="${persona}"]`) });
  if (office) await card.locator('select[name="ufficio"]').selectOption({ label: office });
  await card.getByRole('button').click();
  return page;
}

/** The text of the dd holding the deadline on a pratica page. */
async function deadline(page, selector) {
  return (await page.locator(selector).innerText()).match(/\d{2}\/\d{2}\/\d{4}/)?.[0];
}

/** Runs one back-office step of the pratica at `path` (optionally with a text). */
async function officeStep(page, path, action, note) {
  await page.goto(`${base}${path}`);
  const section = page.locator(`section[data-action="${action}"]`);
  assert.equal(await section.count(), 1, `${action} offered on ${path}`);
  if (note) await section.locator('textarea[name="nota"]').fill(note);
  await section.locator('button[type="submit"]').click();
  assert.equal(await page.locator('[role="alert"]').count(), 0, `${action}: ${await page.locator('main').innerText()}`);
}

test('a citizen files an autorizzazione paesaggistica and downloads its provvedimento', async () => {
  const citizen = await browser.newContext({ bypassCSP: true, acceptDownloads: true });
  const page = await citizen.newPage();

  // Sign in from the service's own link, and start.
  await page.goto(`${base}/area-personale/istanze/${SERVICE}`);
  assert.match(page.url(), /\/accedi\?ritorno=/);
  await page.getByRole('link', { name: 'accedere come un residente o un dipendente fittizio' }).click();
  await page.locator('tbody tr').first().getByRole('button', { name: 'Entra' }).click();
  assert.equal(new URL(page.url()).pathname, `/area-personale/istanze/${SERVICE}`);
  await assertAccessible(page);
  await page.getByRole('button', { name: 'Inizia' }).click();
  assert.equal(stepOf(page), 'dichiarante');
  await assertAccessible(page);

  // A required field left empty: the error is shown by the field, nothing is lost.
  await page.locator('[name="email"]').fill('');
  await page.getByRole('button', { name: 'Avanti' }).click();
  assert.equal(stepOf(page), 'dichiarante');
  assert.ok(await page.locator('[data-field="email"] [data-element="errore-campo"]').count() > 0, 'the e-mail error');
  await assertAccessible(page, 'a step with errors');

  await walkSteps(page, 'intervento');
  // Half-way: save the draft and leave.
  await fillStep(page);
  await page.getByRole('button', { name: 'Salva bozza' }).click();
  await page.goto(`${base}/area-personale/pratiche`);
  const draft = page.locator('a', { hasText: 'Riprendi' }).first();
  assert.equal(await draft.count(), 1, 'the draft is listed');
  await assertAccessible(page, 'Le mie pratiche with a draft');
  await draft.click();
  assert.equal(stepOf(page), 'intervento', 'resumed where it was left');
  assert.equal(await page.locator('[name="descrizione_intervento"]').inputValue(), ANSWERS.descrizione_intervento);

  // The rest of the steps, then the attachments, checked by content.
  await walkSteps(page, 'allegati');
  await assertAccessible(page, 'the attachments page');
  for (const [slot, name] of [
    ['relazione_paesaggistica', 'relazione.pdf'],
    ['elaborati_grafici', 'elaborati.pdf'],
    ['documentazione_fotografica', 'foto.pdf'],
  ]) {
    const form = page.locator('form').filter({ has: page.locator(`#file-${slot}`) });
    await page.setInputFiles(`#file-${slot}`, { name, mimeType: 'application/pdf', buffer: PDF });
    await form.getByRole('button', { name: 'Carica' }).click();
    assert.ok((await page.locator('main').innerText()).includes(name), `${name} attached`);
  }
  await page.getByRole('link', { name: 'Avanti' }).click();
  assert.equal(stepOf(page), 'riepilogo');
  assert.ok((await page.locator('main').innerText()).includes(ANSWERS.descrizione_intervento), 'the summary');
  await assertAccessible(page, 'the summary');
  for (const box of await page.locator('input[type="checkbox"]').all()) {
    await box.focus();
    await page.keyboard.press('Space');
    assert.ok(await box.isChecked());
  }
  await page.getByRole('button', { name: 'Invia' }).click();

  // The receipt: protocol number, office, deadline.
  const protocol = (await page.locator('[data-element="numero-protocollo"]').innerText()).trim();
  assert.match(protocol, /\d/);
  const pratica = new URL(page.url()).pathname;
  assert.match(pratica, /^\/area-personale\/pratiche\/\d+$/);
  const id = pratica.split('/').pop();
  const office = (await page.locator('[data-element="ricevuta"]').innerText()).match(/Ufficio competente: (.+)\./)[1];
  const original = await deadline(page, '[data-element="termine-pratica"]');
  assert.ok(original, 'a deadline is shown');
  await assertAccessible(page, 'the receipt');

  // The office's responsabile takes it in charge and asks for an integration.
  const staff = await browser.newContext({ bypassCSP: true });
  const desk = await staffSignIn(staff, 'responsabile', office);
  const officePage = `/backoffice/pratiche/${id}`;
  await desk.goto(`${base}${officePage}`);
  assert.equal(await deadline(desk, '[data-element="scadenza"]'), original);
  await assertAccessible(desk, 'the back-office pratica');
  await officeStep(desk, officePage, 'presa_in_carico');
  await officeStep(desk, officePage, 'richiesta_integrazione', 'Integrare la documentazione fotografica dei prospetti.');
  assert.match(await desk.locator('[data-element="stato-pratica"]').innerText(), /integrazione/i);
  const paused = await deadline(desk, '[data-element="scadenza"]');
  assert.notEqual(paused, original, 'the suspension moves the deadline');

  // The citizen sees the request and its document, and answers with a file.
  await page.goto(`${base}${pratica}`);
  assert.ok((await page.locator('[data-element="storia-pratica"]').innerText()).includes('Integrare la documentazione fotografica'));
  assert.equal(await deadline(page, '[data-element="termine-pratica"]'), paused);
  const answer = page.locator('section[data-action="integrazione"]');
  await answer.locator('textarea[name="nota"]').fill('Allego le fotografie dei prospetti.');
  await answer.locator('input[type="file"]').setInputFiles({ name: 'prospetti.pdf', mimeType: 'application/pdf', buffer: PDF });
  await answer.getByRole('button', { name: 'Invia integrazione' }).click();
  assert.equal(await page.locator('[role="alert"]').count(), 0, await page.locator('main').innerText());
  assert.equal(await deadline(page, '[data-element="termine-pratica"]'), original, 'the same-day answer gives the days back');
  await assertAccessible(page, 'the pratica after the integration');

  // The Soprintendenza's opinion, then the dirigente's decision.
  await officeStep(desk, officePage, 'richiesta_parere');
  await officeStep(desk, officePage, 'parere_favorevole', 'Parere favorevole della Soprintendenza.');
  const boss = await staffSignIn(staff, 'dirigente');
  await officeStep(boss, officePage, 'accoglimento', "Si autorizza l'intervento come da progetto allegato all'istanza.");
  assert.match(await boss.locator('[data-element="stato-pratica"]').innerText(), /accolta/i);

  // The citizen downloads the provvedimento from its step.
  await page.goto(`${base}${pratica}`);
  assert.match(await page.locator('[data-element="stato-pratica"]').innerText(), /accolta/i);
  const links = page.locator('[data-element="documento-passo"]');
  assert.ok(await links.count() >= 3, 'the request, the integration and the provvedimento');
  const [download] = await Promise.all([page.waitForEvent('download'), links.last().click()]);
  const file = await download.path();
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  assert.match(text, /Si autorizza l'intervento/);
  await assertAccessible(page, 'the concluded pratica');

  // The personal area's desk: the office's messages, the activities.
  await page.goto(`${base}/area-personale/messaggi`);
  assert.ok((await page.locator('[data-element="messaggi"]').innerText()).includes('Integrare la documentazione fotografica'));
  await assertAccessible(page, 'Messaggi');
  await page.goto(`${base}/area-personale/attivita`);
  assert.ok(await page.locator('[data-element="voce-attivita"]').count() >= 3, 'filed, integration, sign-in');
  await assertAccessible(page, 'Attività');
  for (const section of ['notifiche', 'servizi']) {
    await page.goto(`${base}/area-personale/${section}`);
    await assertAccessible(page, section);
  }
  await staff.close();
  await citizen.close();
});
