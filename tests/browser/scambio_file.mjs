// "Scambio File": ROSSI (ASL 120/001, profile SCAMBIO_FILE) sees only region 120's files, of
// both kinds, downloads one of each and the saved bytes have the SHA-256 the page shows; the
// URL of region 030's file, an unknown id and a malformed id give the same refusal page.
// BIANCHI (030) sees only 030's file; VERDI (no SCAMBIO_FILE) is refused.
// $NOTIFICA_120, $NOTIFICA_030, $REVOCA_120 = "<id> <file name>" of the files the Rust test made.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { assert, BASE, context, shot, login, messaggi, logout, scenario } from './lib.mjs';

const file = (v) => {
  const [id, nome] = process.env[v].split(' ');
  return { id, nome };
};
const N120 = file('NOTIFICA_120');
const N030 = file('NOTIFICA_030');
const R120 = file('REVOCA_120');

async function elenco(page) {
  return (await page.locator('table.file tbody th[scope=row]').allInnerTexts()).sort();
}

// Clicks the row's "Scarica", checks the saved file's name and that its SHA-256 is the page's.
async function scarica(page, riga, nome) {
  const sha = (await riga.locator('code.impronta').innerText()).trim();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    riga.getByRole('link', { name: `Scarica ${nome}` }).click(),
  ]);
  assert.equal(download.suggestedFilename(), nome);
  const bytes = fs.readFileSync(await download.path());
  assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), sha);
  return sha;
}

async function nonDisponibile(page, percorso, stato = 404) {
  const r = await page.goto(`${BASE}${percorso}`);
  assert.equal(r.status(), stato, percorso);
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await page.getByRole('link', { name: 'Scambio File' }).click();
  await page.waitForURL(`${BASE}/servizi/file`);
  assert.equal(
    (await page.locator('nav.briciole').innerText()).replace(/\s+/g, ' ').trim(),
    'Ti trovi in : Home - Servizi On Line - Scambio File',
  );
  assert.equal(await page.locator('h2', { hasText: 'Messaggi' }).count(), 1);
  assert.match(await page.locator('table.file caption').innerText(), /File disponibili per la regione 120 - Lazio/);
  assert.deepEqual(await elenco(page), [N120.nome, R120.nome].sort());
  assert.equal(await page.getByText(N030.nome).count(), 0);

  const notifica = page.locator(`#notifiche-${N120.id}`);
  assert.match(await notifica.innerText(), /Notifica prenotazioni multiple/);
  assert.match(await notifica.innerText(), /\d\d\/\d\d\/\d{4} \d\d:\d\d/);
  const revoca = page.locator(`#revoche-${R120.id}`);
  assert.match(await revoca.innerText(), /Comunicazioni di revoca TS-CNS/);
  await shot(page, 'scambio_file');
  const sha_notifica = await scarica(page, notifica, N120.nome);
  const sha_revoca = await scarica(page, revoca, R120.nome);

  // Another region's file and a file that does not exist: the same page, nothing told apart.
  const altra = await nonDisponibile(page, `/servizi/file/notifiche/${N030.id}`);
  assert.match(altra, /File non disponibile/i);
  assert.match(altra, /Torna a Scambio File/);
  assert.match(altra, /Il file richiesto non è disponibile per la regione dell'utenza\./);
  assert.doesNotMatch(altra, new RegExp(N030.nome));
  await shot(page, 'file_non_disponibile');
  assert.equal(await nonDisponibile(page, '/servizi/file/notifiche/999999999'), altra);
  assert.equal(await nonDisponibile(page, '/servizi/file/revoche/999999999'), altra);
  assert.equal(await nonDisponibile(page, '/servizi/file/revoche/abc'), altra);
  await page.goto(`${BASE}/servizi`);
  await logout(page);

  // Lombardia's operator: only 030's file, no revocation file.
  await login(page, 'BNCGPP75C45F205F', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await page.goto(`${BASE}/servizi/file`);
  assert.deepEqual(await elenco(page), [N030.nome]);
  await logout(page);

  // No SCAMBIO_FILE profile: no menu entry, the page and the downloads are refused.
  await login(page, 'VRDLCU70M10H501X', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  assert.equal(await page.getByRole('link', { name: 'Scambio File' }).count(), 0);
  const rifiuto = await nonDisponibile(page, '/servizi/file', 403);
  assert.match(rifiuto, /Servizio non abilitato per l'utenza/);
  assert.match(await messaggi(page), /Messaggi/);
  await shot(page, 'non_abilitato');
  assert.match(await nonDisponibile(page, `/servizi/file/notifiche/${N120.id}`, 403), /Servizio non abilitato per l'utenza/);

  return { sha_notifica, sha_revoca };
});
