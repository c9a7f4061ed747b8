// Browser test of the back-office editor of the online services (issue 6)
// in real Chromium: the comune's administrator opens "Servizi online e
// moduli", starts a new service, and builds it with the keyboard only
// (typing in labelled inputs, pressing the buttons with Enter): a step, a
// field, a compound condition on an attachment, the preview, the
// publication. The list, the editor (also with an error shown and with the
// condition) and the preview have zero WCAG 2.1 AA violations. (axe needs
// JavaScript in the page; that the editor works without it is proven by
// crates/palazzo/tests/servizi_online_web.rs, which posts plain forms.)
// The administrator also writes a new card of the catalogue with the
// keyboard: an error first (shown next to the field, axe clean), then the
// card, which is on the portal at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAccessible, launchChromium, startDemo } from './harness.mjs';

let server, browser, base, dataDir;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'palazzo-servizi-'));
  ({ server, base } = await startDemo(['--data-dir', join(dataDir, 'demo'), '--residents', '5']));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Focuses the button named `name` and presses Enter, as a keyboard user. */
async function press(page, name) {
  const button = page.getByRole('button', { name, exact: true }).first();
  await button.focus();
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

test('an administrator builds and publishes a service with the keyboard', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  await page.goto(`${base}/accedi/demo`);
  await page.locator('form', { hasText: 'Amministratore del Comune' }).getByRole('button').click();
  await page.getByRole('link', { name: 'Servizi online e moduli' }).click();
  assert.equal(new URL(page.url()).pathname, '/backoffice/servizi-online');
  await assertAccessible(page, 'list of online services');

  await page.getByRole('link', { name: 'Nuovo servizio' }).click();
  await assertAccessible(page, 'editor of a new service');
  const card = await page.getByLabel('Scheda del catalogo a cui appartiene il servizio').inputValue();
  assert.ok(card, 'a card is offered');
  await page.getByLabel('Titolo del modulo').fill('Domanda di prova');
  await page.getByLabel('Classificazione dei fascicoli nel titolario (es. VI.3)').fill('I.8');
  await page.getByLabel('Titolo del passo').last().fill('Richiedente');
  await press(page, 'Aggiungi passo');
  assert.match(await page.locator('[data-passo="richiedente"] legend').first().innerText(), /Richiedente/);

  // An empty label is an error shown next to the field, in Italian.
  await press(page, 'Aggiungi campo al passo Richiedente');
  assert.match(await page.locator('[data-element="errore-elemento"]').first().innerText(), /vuoto/);
  await assertAccessible(page, 'editor with an error');
  await page.getByLabel('Etichetta', { exact: true }).first().fill('Motivo della domanda');
  await page.getByLabel('Tipo', { exact: true }).first().selectOption('testo_lungo');
  await press(page, 'Applica le modifiche');
  assert.equal(await page.locator('[data-element="errore-elemento"]').count(), 0);

  // A compound condition on an attachment: asked when the reason is filled
  // in or says «urgente», built clause by clause with the keyboard.
  await page.locator('#nuovo-allegato-etichetta').fill('Documento di supporto');
  await press(page, 'Aggiungi allegato');
  const motivo = await page.locator('#p0-c0-id').inputValue();
  const cond = page.locator('#a0-cond');
  await cond.getByLabel("Con più condizioni, mostra l'allegato quando").selectOption('almeno_una');
  await cond.locator('[data-element="nuova-clausola"]').getByLabel('Campo').selectOption(motivo);
  await cond.locator('[data-element="nuova-clausola"]').getByLabel('Confronto').selectOption('compilato');
  await press(page, "Aggiungi la condizione dell'allegato Documento di supporto");
  await cond.locator('[data-element="nuova-clausola"]').getByLabel('Campo').selectOption(motivo);
  await cond.locator('[data-element="nuova-clausola"]').getByLabel('Valore', { exact: false }).fill('urgente');
  await press(page, "Aggiungi la condizione dell'allegato Documento di supporto");
  assert.equal(await cond.locator('[data-element="clausola"]').count(), 2);
  assert.equal(await cond.getAttribute('data-modo'), 'almeno_una');
  assert.equal(await cond.locator('[data-element="clausola"]').nth(1).getByLabel('Valore', { exact: false }).inputValue(), 'urgente');
  assert.equal(await page.locator('[data-element="errore-elemento"], [data-element="errore-clausola"]').count(), 0);
  await assertAccessible(page, 'editor with a compound condition');

  await press(page, 'Anteprima');
  await assertAccessible(page, 'preview');
  assert.ok(await page.getByLabel('Motivo della domanda').isVisible(), 'the citizen\'s field');
  await press(page, 'Pubblica');
  assert.match(await page.locator('[data-element="servizio-pubblicato"]').innerText(), /versione 1/);
  assert.equal(await page.locator(`[data-servizio="${card}"] [data-element="versione"]`).innerText(), '1');
  await context.close();
});

test('an administrator writes a new card of the catalogue with the keyboard', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  await page.goto(`${base}/accedi/demo`);
  await page.locator('form', { hasText: 'Amministratore del Comune' }).getByRole('button').click();
  await page.getByRole('link', { name: 'Schede dei servizi' }).click();
  assert.equal(new URL(page.url()).pathname, '/backoffice/schede-servizio');
  await assertAccessible(page, 'list of the cards');
  await page.getByRole('link', { name: 'Nuova scheda' }).click();
  await assertAccessible(page, 'form of a new card');

  // A first try without the sections: every problem next to its field.
  await page.getByLabel('Identificativo', { exact: true }).fill('bonus-bebe');
  await page.getByLabel('Titolo', { exact: true }).fill('Bonus bebè comunale');
  await press(page, 'Salva la scheda');
  assert.match(await page.locator('[data-element="errori-scheda"]').innerText(), /Correggi/);
  assert.match(await page.locator('[data-errore="audience"]').innerText(), /A chi è rivolto/);
  assert.equal(await page.getByLabel('Titolo', { exact: true }).inputValue(), 'Bonus bebè comunale');
  await assertAccessible(page, 'form of a card with errors');

  await page.getByLabel('Categoria').selectOption('salute-benessere-e-assistenza');
  const office = await page.getByLabel('Ufficio responsabile').locator('option').nth(1).getAttribute('value');
  await page.getByLabel('Ufficio responsabile').selectOption(office);
  for (const [label, text] of [
    ['Descrizione breve', 'Un contributo per ogni nuovo nato o adottato.'],
    ['A chi è rivolto', 'Famiglie residenti con un nuovo nato.'],
    ['Come fare', 'Presenta la domanda online.'],
    ['Cosa serve', 'SPID o CIE.'],
    ['Cosa si ottiene', 'Un contributo di 500 euro.'],
    ['Tempi e scadenze', 'Entro 30 giorni.'],
    ['Accedi al servizio', 'Online con SPID o CIE.'],
    ['Condizioni di servizio', 'Termini e condizioni.'],
    ['Tipo di servizio', 'Salute, benessere e assistenza'],
  ]) {
    await page.getByLabel(label, { exact: true }).fill(text);
  }
  await page.getByLabel('Nascita', { exact: true }).focus();
  await page.keyboard.press('Space');
  await press(page, 'Salva la scheda');
  assert.equal(new URL(page.url()).pathname, '/backoffice/schede-servizio');
  assert.match(await page.locator('[data-element="scheda-salvata"]').innerText(), /Bonus bebè comunale/);

  await page.goto(`${base}/servizi/salute-benessere-e-assistenza/bonus-bebe`);
  assert.match(await page.locator('h1').first().innerText(), /Bonus bebè comunale/);
  await context.close();
});
