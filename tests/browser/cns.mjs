// Smart-card (CNS) access with client certificates: registration and login, a new card sent
// to "Registra CNS", and each error class of seed 002. $CERTS maps a name to {certPath, keyPath}.
import { assert, BASE, context, shot, messaggi, logout, login, scarica, testoPdf, scenario } from './lib.mjs';

const CERTS = JSON.parse(process.env.CERTS);

async function conCarta(b, nome) {
  return (await context(b, nome ? CERTS[nome] : undefined)).newPage();
}

async function erroreCns(page, classe, messaggio, indicazione, codice) {
  const box = page.locator('.esito.negativo');
  assert.match(await box.locator('h2').innerText(), classe);
  assert.match(await box.innerText(), messaggio);
  assert.match(await box.innerText(), indicazione);
  assert.match(await box.innerText(), new RegExp(`Codice errore: ${codice}`));
}

await scenario(async (b) => {
  // ROSSI's first access with his card: login sends him to the registration.
  let page = await conCarta(b, 'rossi');
  await page.goto(`${BASE}/`);
  await page.getByRole('link', { name: 'Accedi con smart card' }).click();
  await shot(page, 'cns_accesso');
  await page.getByRole('link', { name: 'Effettua la login' }).click();
  await page.waitForURL(`${BASE}/accesso/cns/registra`);
  assert.match(await messaggi(page), /non è registrato \(prima volta o nuova carta\)/);
  const dati = await page.locator('main').innerText();
  assert.match(dati, /Titolare:\s*ROSSI MARIO/);
  assert.match(dati, /Codice Fiscale:\s*RSSMRA80A01H501U/);
  assert.match(dati, /Emesso da:\s*.*tsgate CA CNS di sviluppo/);
  await shot(page, 'cns_registra');
  await page.getByRole('button', { name: 'Conferma registrazione' }).click();
  assert.match(await page.locator('main').innerText(), /La CNS è registrata/);
  assert.equal(await page.getByRole('button', { name: 'Visualizza e stampa il PDF' }).count(), 0, 'no PDF for an ASL operator');
  await page.getByRole('link', { name: 'Effettua la login' }).click();
  await page.waitForURL(`${BASE}/servizi`);
  assert.match(await page.locator('main').innerText(), /Codice Fiscale:\s*RSSMRA80A01H501U/);
  await shot(page, 'cns_servizi');
  await logout(page);

  // A new card of the same operator is not the registered one.
  page = await conCarta(b, 'rossi_nuova');
  await page.goto(`${BASE}/accesso/cns/login`);
  await page.waitForURL(`${BASE}/accesso/cns/registra`);
  assert.match(await messaggi(page), /effettuare la registrazione/);

  // Class 1: the certificate.
  page = await conCarta(b, 'scaduto');
  await page.goto(`${BASE}/accesso/cns/registra`);
  await erroreCns(page, /Errore legato al certificato/, /Certificato non valido: scaduto il \d\d\/\d\d\/\d{4}/,
    /rivolgersi alla regione o all'ente emittente della CNS/, 'CNS_SCADUTO');
  await shot(page, 'cns_errore_certificato');
  page = await conCarta(b, 'estraneo');
  await page.goto(`${BASE}/accesso/cns/login`);
  await erroreCns(page, /Errore legato al certificato/, /CA non valida o non affidabile/,
    /ente emittente/, 'CNS_CA_NON_AFFIDABILE');
  page = await conCarta(b, 'senza_policy');
  await page.goto(`${BASE}/accesso/cns/registra`);
  await erroreCns(page, /Errore legato al certificato/, /non è un certificato di autenticazione CNS/,
    /ente emittente/, 'CNS_NON_AUTENTICAZIONE');
  page = await conCarta(b, null);
  const r = await page.goto(`${BASE}/accesso/cns/login`);
  assert.equal(r.status(), 403);
  await erroreCns(page, /Errore legato al certificato/, /Certificato non presente/, /ente emittente/, 'CNS_ASSENTE');

  // Class 3: the codice fiscale is nobody's.
  page = await conCarta(b, 'sconosciuto');
  await page.goto(`${BASE}/accesso/cns/registra`);
  await erroreCns(page, /Errore legato all'utenza della CNS/,
    /Il codice fiscale non è presente nella banca dati del Sistema TS/, /numero verde 800-030-070/, 'CNS_CF_SCONOSCIUTO');
  await shot(page, 'cns_errore_utenza');

  // Class 3: the codice fiscale is of an operator who is not enabled.
  page = await conCarta(b, 'disabilitato');
  await page.goto(`${BASE}/accesso/cns/login`);
  await erroreCns(page, /Errore legato all'utenza della CNS/,
    /non è abilitata all'accesso al Sistema TS/, /numero verde 800-030-070/, 'CNS_UTENZA_NON_ABILITATA');

  // A doctor registers: the PDF with credentials and pincode is offered.
  page = await conCarta(b, 'ferrari');
  await page.goto(`${BASE}/accesso/cns/registra`);
  await page.getByRole('button', { name: 'Conferma registrazione' }).click();
  assert.match(await page.locator('main').innerText(), /obbligatorio visualizzare e stampare il PDF/);
  await shot(page, 'cns_registra_medico');
  const pdf = await scarica(page, page.getByRole('button', { name: 'Visualizza e stampa il PDF' }), 'credenziali.pdf');
  const testo = testoPdf(pdf.file);
  assert.match(testo, /FRRSLV62S68H501Z/);
  const parola = testo.match(/Parola chiave[^:]*:\s+(\S{14})/);
  assert.ok(parola, `no temporary password in:\n${testo}`);
  assert.match(testo, /\b\d{10}\b/);
  // The temporary password opens the credentials login, and must be changed at once.
  const altra = await (await context(b)).newPage();
  await login(altra, 'FRRSLV62S68H501Z', parola[1]);
  await altra.waitForURL(`${BASE}/password`);
  return { parola: parola[1] };
});
