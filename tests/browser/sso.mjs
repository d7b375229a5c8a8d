// Operator SSO end to end: the browser starts at a pysaml2 platform (tests/sso/sp.py servi),
// is sent to tsgate with a signed AuthnRequest, logs in (credentials or CNS), chooses, and
// arrives back at the platform, whose page shows what pysaml2 verified. $SP_LAZIO and $SP_PN
// are the platforms' base URLs; $CERTS maps a name to {certPath, keyPath}.
import { assert, BASE, context, shot, messaggi, login, scenario } from './lib.mjs';

const SP_LAZIO = process.env.SP_LAZIO;
const SP_PN = process.env.SP_PN;
const CERTS = JSON.parse(process.env.CERTS);
const PAROLA = 'Demo.Tsgate1';
const SCELTA = `${BASE}/servizi/vaccinazioni`;

// The platform's page after its ACS checked the Response.
async function arrivo(page, sp, nome) {
  await page.waitForURL(`${sp}/acs`);
  const titolo = await page.locator('h1').innerText();
  if (titolo !== `${nome}: accesso riuscito`) {
    const errore = await page.locator('#errore').innerText().catch(() => '');
    assert.fail(`${titolo}: ${errore}`);
  }
  const attributi = await page.$$eval('#attributi dt', (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  return {
    attributi,
    contesto: await page.locator('#contesto').innerText(),
    inRisposta: await page.locator('#in-risposta').innerText(),
    relay: await page.locator('#relay').innerText(),
  };
}

// A platform-initiated start: the platform redirects to tsgate, whose page moves on by itself
// (meta refresh) to the access page, since this browser has no session yet.
async function dallaPiattaforma(page, sp, query) {
  await page.goto(`${sp}/login?${query}`);
  await page.waitForURL(`${BASE}/`);
  assert.match(await page.locator('main').innerText(), /Scegliere la modalità di accesso/);
}

async function voci(page) {
  return page.locator('table.elenco tbody tr').allInnerTexts();
}

function accedi(page, etichetta) {
  return page.getByRole('button', { name: etichetta });
}

function attesi(a, atteso) {
  for (const [k, v] of Object.entries(atteso)) assert.equal(a[k], v, `${k} in ${JSON.stringify(a)}`);
}

await scenario(async (b) => {
  // 1. BIANCHI, credentials, asked for by the Lazio platform: the login runs first, then the
  // choice offers only what Lazio's platform serves (ASL 003 of Lazio, not Lombardia's ASL
  // through the PN).
  let page = await (await context(b)).newPage();
  await dallaPiattaforma(page, SP_LAZIO, 'relay=ritorno-lazio');
  await login(page, 'BNCNNA78D52H501J', PAROLA);
  await page.waitForURL(SCELTA);
  assert.match(await page.locator('main').innerText(), /Accesso richiesto dalla piattaforma https:\/\/lazio\.example\/sp/);
  let righe = await voci(page);
  assert.equal(righe.length, 1, righe.join('\n'));
  assert.match(righe[0], /120 - .*ASL 003/);
  assert.match(righe[0], /Piattaforma regionale/);
  await shot(page, 'sso_scelta_lazio');
  await accedi(page, /^Accedi: 120 - .*ASL 003/).click();
  let a = await arrivo(page, SP_LAZIO, 'Regione Lazio');
  await shot(page, 'sso_arrivo_lazio');
  attesi(a.attributi, {
    fiscalNumber: 'TINIT-BNCNNA78D52H501J', codiceFiscale: 'BNCNNA78D52H501J', name: 'ANNA',
    familyName: 'BIANCHI', tipoOperatore: 'MEDICO', codiceRegione: '120', codiceAsl: '003',
  });
  assert.equal(a.contesto, 'https://www.spid.gov.it/SpidL1');
  assert.match(a.inRisposta, /^\S+$/, 'InResponseTo of the request');
  assert.equal(a.relay, 'ritorno-lazio');
  const primo = a;

  // 2. The same session, IdP-initiated from the menu: Lombardia's ASL goes through the PN
  // with Lombardia's code; no InResponseTo.
  await page.goto(`${BASE}/servizi`);
  await page.getByRole('link', { name: 'Vaccinazioni anti SARS-CoV-2' }).click();
  await page.waitForURL(SCELTA);
  righe = await voci(page);
  assert.equal(righe.length, 3, righe.join('\n'));
  assert.match(righe.join('\n'), /030 - .*ASL 002.*Piattaforma Nazionale/);
  assert.match(righe.join('\n'), /300 - .*\(regione virtuale\).*Piattaforma Nazionale/);
  await shot(page, 'sso_scelta_menu');
  await accedi(page, /^Accedi: 030 - .*ASL 002/).click();
  a = await arrivo(page, SP_PN, 'Piattaforma Nazionale');
  attesi(a.attributi, { codiceRegione: '030', codiceAsl: '002', fiscalNumber: 'TINIT-BNCNNA78D52H501J' });
  assert.equal(a.inRisposta, '');

  // 3. BIANCHI with her CNS smart card, Lazio asking for SpidL2: registration of the card,
  // login, choice, SpidL2 at the platform.
  page = await (await context(b, CERTS.bianchi)).newPage();
  await dallaPiattaforma(page, SP_LAZIO, 'livello=2&relay=carta');
  await page.getByRole('link', { name: 'Accedi con smart card' }).click();
  await page.getByRole('link', { name: 'Effettua la login' }).click();
  await page.waitForURL(`${BASE}/accesso/cns/registra`);
  await page.getByRole('button', { name: 'Conferma registrazione' }).click();
  await page.getByRole('link', { name: 'Effettua la login' }).click();
  await page.waitForURL(SCELTA);
  await accedi(page, /^Accedi: 120 - .*ASL 003/).click();
  a = await arrivo(page, SP_LAZIO, 'Regione Lazio');
  await shot(page, 'sso_arrivo_cns');
  attesi(a.attributi, { codiceRegione: '120', codiceAsl: '003', codiceFiscale: 'BNCNNA78D52H501J' });
  assert.equal(a.contesto, 'https://www.spid.gov.it/SpidL2');
  assert.equal(a.relay, 'carta');
  assert.notEqual(a.inRisposta, primo.inRisposta);

  // 4. COSTA, a pharmacist: Lazio does not accept his type. He sees why, no button; the
  // cancel gives the platform an error status, which it refuses.
  page = await (await context(b)).newPage();
  await dallaPiattaforma(page, SP_LAZIO, 'relay=farmacista');
  await login(page, 'CSTGNN82H14F205R', PAROLA);
  await page.waitForURL(SCELTA);
  assert.match(await messaggi(page), /Nessuna piattaforma vaccinale è disponibile per l'utenza/);
  righe = await voci(page);
  assert.match(righe.join('\n'), /120 - .*ASL 003.*Non disponibile: La piattaforma non ammette il tipo di operatore dell'utenza\./s);
  assert.equal(await page.getByRole('button', { name: /^Accedi/ }).count(), 0);
  await shot(page, 'sso_tipo_non_ammesso');
  await page.getByRole('button', { name: 'Annulla e torna alla piattaforma' }).click();
  await page.waitForURL(`${SP_LAZIO}/acs`);
  assert.equal(await page.locator('h1').innerText(), 'Regione Lazio: accesso rifiutato');
  assert.match(await page.locator('#errore').innerText(), /AuthnFailed|Status|annullat/i);
  // From the menu, nothing reachable either (the virtual region does not accept pharmacists).
  await page.goto(SCELTA);
  assert.match(await messaggi(page), /Nessuna piattaforma vaccinale è disponibile/);
  assert.equal(await page.getByRole('button', { name: /^Accedi/ }).count(), 0);
  assert.ok((await voci(page)).length >= 1, 'the refused lines are shown with their reason');

  // 5. MARINO, a nurse of Campania: the region is not enrolled; the virtual region 300
  // (Ministero della Difesa) is, through the PN.
  page = await (await context(b)).newPage();
  await login(page, 'MRNLSE88E61F839Q', PAROLA);
  await page.waitForURL(`${BASE}/servizi`);
  await page.getByRole('link', { name: 'Vaccinazioni anti SARS-CoV-2' }).click();
  await page.waitForURL(SCELTA);
  const testo = (await voci(page)).join('\n');
  assert.match(testo, /150 - .*ASL 001.*Non disponibile: La regione non aderisce al servizio/s);
  await shot(page, 'sso_regione_non_iscritta');
  await accedi(page, /^Accedi: 300 - /).click();
  a = await arrivo(page, SP_PN, 'Piattaforma Nazionale');
  await shot(page, 'sso_arrivo_pn_300');
  attesi(a.attributi, { codiceRegione: '300', tipoOperatore: 'INFERMIERE', fiscalNumber: 'TINIT-MRNLSE88E61F839Q' });
  assert.equal(a.attributi.codiceAsl, undefined);
  assert.equal(a.inRisposta, '');
  return { attributi: primo.attributi };
});
