// "Monitoraggio servizi": CONTI (MEF, every region) opens the three views from the services
// page; each has its chart (an inline SVG with its title) above the table of the same numbers,
// the groups after the first `top` summed as «Altri»; «Periodo precedente» and back; the form;
// the CSV of a table downloaded and saved for the Rust test to read back with Python's csv.
// RICCI (region 120) sees region 120's figures only and is refused region 030's, as a page and
// as CSV. $ATTESI = the seeded numbers (JSON, from the Rust test).
import { assert, BASE, context, shot, login, logout, scenario, scarica } from './lib.mjs';

const ATTESI = JSON.parse(process.env.ATTESI);

const testo = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ').trim();

// Every row of a section's table, the header first: [[text, numeric], ...].
async function tabella(page, id) {
  return page.locator(`#sez-${id} table.report`).evaluate((t) =>
    [...t.querySelectorAll('tr')].map((tr) =>
      [...tr.querySelectorAll('th, td')].map((c) => [c.textContent.trim(), c.classList.contains('numero')]),
    ),
  );
}

async function totale(page, id) {
  const riga = (await tabella(page, id)).find((r) => r[0][0] === 'Totale');
  assert.ok(riga, `row "Totale" of ${id}`);
  return riga.map((c) => c[0]);
}

// The section's chart: one inline <svg>, visible, of a readable size, titled.
async function grafico(page, id, titolo) {
  const svg = page.locator(`#sez-${id} figure.grafico > svg`);
  assert.equal(await svg.count(), 1, `chart of ${id}`);
  assert.ok(await svg.isVisible(), `chart of ${id} visible`);
  assert.equal(await svg.getAttribute('role'), 'img');
  assert.match(await svg.locator('title').first().textContent(), titolo);
  const box = await svg.boundingBox();
  assert.ok(box.width > 600 && box.height > 200, `chart of ${id}: ${JSON.stringify(box)}`);
  return svg.textContent();
}

async function clicca(page, locator) {
  const prima = page.url();
  await locator.click();
  await page.waitForURL((u) => u.href !== prima);
}

async function vai(page, percorso, stato = 200) {
  const r = await page.goto(`${BASE}${percorso}`);
  assert.equal(r.status(), stato, percorso);
  return r;
}

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  const errori = [];
  page.on('console', (m) => /Content Security Policy/i.test(m.text()) && errori.push(m.text()));

  // MEF: every region.
  await login(page, ATTESI.mef, 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await clicca(page, page.getByRole('link', { name: 'Monitoraggio servizi' }));
  assert.equal(page.url(), `${BASE}/servizi/monitoraggio`);
  assert.equal(await testo(page.locator('nav.briciole')), 'Ti trovi in : Home - Servizi On Line - Monitoraggio servizi');
  assert.match(await testo(page.locator('main')), /Dati di tutte le regioni/);
  for (const v of ['Traffico', 'Dati vaccinali trasmessi', 'Usi impropri']) {
    assert.equal(await page.getByRole('link', { name: v, exact: true }).count(), 1, v);
  }
  await shot(page, 'indice');

  // Traffic: by operation, the last 7 days.
  await clicca(page, page.getByRole('link', { name: 'Traffico', exact: true }));
  assert.match(page.url(), /\/servizi\/monitoraggio\/traffico$/);
  assert.equal(
    await testo(page.locator('nav.briciole')),
    'Ti trovi in : Home - Servizi On Line - Monitoraggio servizi - Traffico',
  );
  assert.match(await page.locator('h2.titolo-report').textContent(), /^Chiamate per operazione, granularità giornaliera, dal /);
  await grafico(page, 'serie', /Chiamate per operazione/);
  const barre = await grafico(page, 'distribuzione', /Chiamate per operazione/);
  assert.match(barre, /Altri/);
  const distribuzione = await tabella(page, 'distribuzione');
  assert.equal((await totale(page, 'distribuzione'))[1], ATTESI.totale_traffico);
  assert.ok(distribuzione.some((r) => r[0][0] === 'Altri (2)'), JSON.stringify(distribuzione));
  assert.equal(distribuzione.length, 1 + 3 + 1 + 1, 'header, 3 groups, Altri, Totale');
  assert.ok((await tabella(page, 'serie'))[0].some((c) => c[0] === 'Altri (2)'));
  assert.match(await testo(page.locator('main')), /gli altri 2 sono sommati in «Altri»/);
  await shot(page, 'traffico');
  const csvTraffico = await scarica(
    page,
    page.locator('#sez-distribuzione').getByRole('link', { name: 'Scarica CSV' }),
    'traffico-distribuzione.csv',
  );
  assert.match(csvTraffico.suggerito, /^tsgate-traffico-distribuzione-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);

  // The period before, and back.
  const titolo = await page.locator('h2.titolo-report').textContent();
  await clicca(page, page.getByRole('link', { name: 'Periodo precedente' }));
  assert.notEqual(await page.locator('h2.titolo-report').textContent(), titolo);
  assert.equal((await totale(page, 'distribuzione'))[1], ATTESI.totale_traffico_precedente);
  await clicca(page, page.getByRole('link', { name: 'Periodo successivo' }));
  assert.equal(await page.locator('h2.titolo-report').textContent(), titolo);
  assert.equal((await totale(page, 'distribuzione'))[1], ATTESI.totale_traffico);

  // The form: by caller.
  await page.getByLabel('Raggruppa per').selectOption('chiamante');
  await clicca(page, page.getByRole('button', { name: 'Mostra' }));
  assert.match(page.url(), /per=chiamante/);
  const chiamanti = (await tabella(page, 'distribuzione')).map((r) => r[0][0]);
  assert.deepEqual(chiamanti, ['Chiamante', 'regione-lombardia', 'regione-lazio', 'avn', 'Altri (2)', 'Totale']);
  assert.equal(await page.getByLabel('Raggruppa per').inputValue(), 'chiamante');

  // The vaccination data.
  await vai(page, '/servizi/monitoraggio');
  await clicca(page, page.getByRole('link', { name: 'Dati vaccinali trasmessi' }));
  await grafico(page, 'serie', /Prenotazioni e somministrazioni trasmesse/);
  await grafico(page, 'regioni', /Record trasmessi per regione/);
  assert.equal((await totale(page, 'regioni')).at(-1), ATTESI.totale_vaccinazioni);
  const regioniVacc = await tabella(page, 'regioni');
  assert.ok(regioniVacc.some((r) => r[0][0] === '030 - Lombardia'));
  await shot(page, 'vaccinazioni');
  const csvVacc = await scarica(
    page,
    page.locator('#sez-regioni').getByRole('link', { name: 'Scarica CSV' }),
    'vaccinazioni-regioni.csv',
  );

  // Misuse: the regions per 1,000 patients, the flags, the client IPs.
  await vai(page, '/servizi/monitoraggio');
  await clicca(page, page.getByRole('link', { name: 'Usi impropri' }));
  await grafico(page, 'regioni', /Chiamate giornaliere ogni 1\.000 assistiti/);
  await grafico(page, 'ip', /Quota delle chiamate del chiamante per IP client/);
  const segnalazioni = page.locator('#sez-segnalazioni');
  assert.equal(await segnalazioni.locator('svg').count(), 0);
  assert.equal(await segnalazioni.getByRole('link', { name: 'Scarica SVG' }).count(), 0);
  const s = await testo(segnalazioni);
  assert.match(s, /Soglia giornaliera superata/);
  assert.match(s, /IP nuovo/);
  assert.match(s, /10\.120\.0\.2/);
  await shot(page, 'anomalie');
  // A flag links to the traffic behind it.
  await clicca(page, segnalazioni.locator('table.report a').first());
  assert.match(page.url(), /\/servizi\/monitoraggio\/traffico\?/);
  await page.locator('#sez-serie figure.grafico > svg').waitFor();
  await page.goto(`${BASE}/servizi`);
  await logout(page);

  // Region 120: its figures only.
  await login(page, ATTESI.regione, 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await clicca(page, page.getByRole('link', { name: 'Monitoraggio servizi' }));
  assert.match(await testo(page.locator('main')), /Dati della sola regione 120 - Lazio/);
  await clicca(page, page.getByRole('link', { name: 'Traffico', exact: true }));
  const regione = page.getByLabel('Regione chiamante');
  assert.equal(await regione.inputValue(), '120');
  assert.equal(await regione.getAttribute('readonly'), '');
  await grafico(page, 'distribuzione', /Chiamate per operazione/);
  assert.equal((await totale(page, 'distribuzione'))[1], ATTESI.totale_traffico_120);
  assert.doesNotMatch(await testo(page.locator('main')), /Lombardia|lombardia/);
  await page.getByLabel('Raggruppa per').selectOption('regione');
  await clicca(page, page.getByRole('button', { name: 'Mostra' }));
  assert.deepEqual(
    (await tabella(page, 'distribuzione')).map((r) => r[0][0]),
    ['Regione chiamante', '120 - Lazio', 'Totale'],
  );
  await shot(page, 'traffico_regione_120');
  await vai(page, '/servizi/monitoraggio/vaccinazioni');
  assert.equal((await totale(page, 'regioni')).at(-1), ATTESI.totale_vaccinazioni_120);
  assert.doesNotMatch(await testo(page.locator('main')), /Lombardia/);

  // Another region's figures: refused as a page and as a CSV.
  await vai(page, '/servizi/monitoraggio/traffico?regione=030', 403);
  const rifiuto = await testo(page.locator('main'));
  assert.match(rifiuto, /Dati non consultabili/i);
  assert.match(rifiuto, /i dati della regione 030 non sono consultabili/);
  assert.doesNotMatch(rifiuto, /Totale|Lombardia/);
  await shot(page, 'rifiuto_regione_030');
  const csv = await page.request.get(`${BASE}/servizi/monitoraggio/traffico?regione=030&formato=csv&sezione=distribuzione`);
  assert.equal(csv.status(), 403);
  assert.match(csv.headers()['content-type'], /^text\/html/);
  assert.equal(csv.headers()['content-disposition'], undefined);
  assert.doesNotMatch(await csv.text(), /Totale;|Lombardia/);
  await page.goto(`${BASE}/servizi`);
  await logout(page);

  assert.deepEqual(errori, [], 'nothing blocked by the CSP');
  return {
    traffico: { file: csvTraffico.file, righe: distribuzione },
    vaccinazioni: { file: csvVacc.file, righe: regioniVacc },
  };
});
