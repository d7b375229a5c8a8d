// The security administrator of ASL 120/001 (VERDI): sees only the ASL's operators, enables a
// profile, unlocks an account (ROSSI, locked by the Rust test); an operator of another ASL
// cannot be touched, and a non-administrator cannot open the page. $GALLI_ID is the id of an
// operator of ASL 120/002.
import { assert, BASE, context, shot, login, messaggi, logout, scenario } from './lib.mjs';

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  await login(page, 'VRDLCU70M10H501X', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await page.getByRole('link', { name: 'Gestione Utenze' }).click();
  await page.waitForURL(`${BASE}/servizi/utenze`);
  const righe = await page.locator('tbody tr th[scope=row]').allInnerTexts();
  assert.deepEqual(righe.sort(), ['NREPLA85T50H501Z', 'RSSMRA80A01H501U', 'VRDLCU70M10H501X']);
  const neri = page.locator('#utente-NREPLA85T50H501Z');
  const otp = neri.getByLabel('Sistema TS-Invio codice OTP');
  assert.equal(await otp.isChecked(), false);
  const rossi = page.locator('#utente-RSSMRA80A01H501U');
  assert.match(await rossi.innerText(), /Bloccata fino al \d\d\/\d\d\/\d{4} \d\d:\d\d/);
  await shot(page, 'gestione_utenze');

  await otp.check();
  await neri.getByRole('button', { name: /Salva profili/ }).click();
  await page.waitForURL(`${BASE}/servizi/utenze`);
  assert.match(await messaggi(page), /Utenza NREPLA85T50H501Z: abilitato il profilo «Sistema TS-Invio codice OTP»\./);
  assert.equal(await page.locator('#utente-NREPLA85T50H501Z').getByLabel('Sistema TS-Invio codice OTP').isChecked(), true);

  // The SSO profile (issue 13), granted and removed like the others.
  const SSO = 'Vaccinazioni anti SARS-CoV-2 — prenotazione e somministrazione';
  await page.locator('#utente-NREPLA85T50H501Z').getByLabel(SSO).check();
  await page.locator('#utente-NREPLA85T50H501Z').getByRole('button', { name: /Salva profili/ }).click();
  assert.match(await messaggi(page), new RegExp(`Utenza NREPLA85T50H501Z: abilitato il profilo «${SSO}»\\.`));
  assert.equal(await page.locator('#utente-NREPLA85T50H501Z').getByLabel(SSO).isChecked(), true);
  await page.locator('#utente-NREPLA85T50H501Z').getByLabel(SSO).uncheck();
  await page.locator('#utente-NREPLA85T50H501Z').getByRole('button', { name: /Salva profili/ }).click();
  assert.match(await messaggi(page), new RegExp(`Utenza NREPLA85T50H501Z: disabilitato il profilo «${SSO}»\\.`));
  assert.equal(await page.locator('#utente-NREPLA85T50H501Z').getByLabel('Sistema TS-Invio codice OTP').isChecked(), true);

  await page.locator('#utente-RSSMRA80A01H501U').getByRole('button', { name: /Sblocca/ }).click();
  assert.match(await messaggi(page), /Utenza RSSMRA80A01H501U sbloccata\./);
  assert.match(await page.locator('#utente-RSSMRA80A01H501U').innerText(), /Attiva/);
  await shot(page, 'gestione_utenze_dopo');

  // An operator of another ASL, with a valid CSRF token: refused.
  const csrf = await page.locator('form.profili input[name=csrf]').first().inputValue();
  const r = await page.request.post(`${BASE}/servizi/utenze/profili`, {
    form: { csrf, utente: process.env.GALLI_ID, p_INVIO_OTP: 'on' },
    maxRedirects: 0,
  });
  assert.equal(r.status(), 403);
  assert.match(await r.text(), /non appartiene alla ASL dell&#39;amministratore|non appartiene alla ASL dell'amministratore/);
  const u = await page.request.post(`${BASE}/servizi/utenze/sblocca`, {
    form: { csrf, utente: process.env.GALLI_ID },
    maxRedirects: 0,
  });
  assert.equal(u.status(), 403);
  await logout(page);

  // Not an administrator.
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  assert.equal(await page.getByRole('link', { name: 'Gestione Utenze' }).count(), 0);
  const g = await page.goto(`${BASE}/servizi/utenze`);
  assert.equal(g.status(), 403);
  assert.match(await page.locator('main').innerText(), /Servizio non abilitato per l'utenza/);
});
