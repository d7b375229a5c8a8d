// Credentials login, the services page, the cookie's attributes, rotation, logout.
import { assert, BASE, context, shot, login, messaggi, logout, cookieSessione, scenario } from './lib.mjs';

await scenario(async (b) => {
  const ctx = await context(b);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await assert.doesNotReject(page.getByRole('link', { name: 'Accedi con credenziali' }).waitFor());
  assert.match(await page.locator('.briciole').innerText(), /Ti trovi in : Home/);
  await shot(page, 'accesso');

  await page.getByRole('link', { name: 'Accedi con credenziali' }).click();
  assert.match(await page.locator('h1').innerText(), /AUTENTICAZIONE/i);
  await shot(page, 'login');
  const anonima = await cookieSessione(ctx);
  assert.ok(anonima, 'the login form opens a session for its CSRF token');
  assert.equal(anonima.secure, true);
  assert.equal(anonima.httpOnly, true);
  assert.equal(anonima.sameSite, 'Strict');
  assert.equal(anonima.path, '/');

  await login(page, 'rssmra80a01h501u', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  const testo = await page.locator('main').innerText();
  assert.match(testo, /Codice Fiscale:\s*RSSMRA80A01H501U/);
  assert.match(testo, /Nominativo:\s*ROSSI MARIO/);
  assert.match(testo, /Asl:\s*001-ASL 1 regione 120/);
  assert.match(testo, /Ultimo cambio password su SistemaTS:\s*\d\d\/\d\d\/\d{4} \d\d:\d\d/);
  const servizi = await page.locator('nav.servizi li').allInnerTexts();
  assert.deepEqual(servizi, ['Caricamento App Immuni', 'Scambio File', 'Profilo Utente']);
  await shot(page, 'servizi');
  const connessa = await cookieSessione(ctx);
  assert.notEqual(connessa.value, anonima.value, 'login rotates the session');

  await logout(page);
  assert.match(await messaggi(page), /Disconnessione effettuata/);
  assert.equal(await cookieSessione(ctx), undefined, 'logout clears the cookie');
  // The old session is gone on the server too: replaying its cookie opens nothing.
  await ctx.addCookies([{ ...connessa }]);
  await page.goto(`${BASE}/servizi`);
  assert.equal(page.url(), `${BASE}/`);

  // Second login shows the previous access.
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  assert.match(await page.locator('main').innerText(), /Ultimo accesso su SistemaTS:\s*\d\d\/\d\d\/\d{4} \d\d:\d\d/);
  return { sessione: connessa.value };
});
