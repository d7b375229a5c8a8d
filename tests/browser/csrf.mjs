// CSRF: a POST with a wrong token or none is refused with a readable page and changes nothing;
// the login form too needs its token.
import { assert, BASE, context, shot, login, scenario } from './lib.mjs';

await scenario(async (b) => {
  const ctx = await context(b);
  const page = await ctx.newPage();
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);

  // The "Esci" form with a forged token.
  await page.locator('form.esci input[name=csrf]').evaluate((el) => { el.value = 'f'.repeat(64); });
  await page.getByRole('button', { name: 'Esci' }).click();
  assert.match(await page.locator('h1').innerText(), /RICHIESTA NON VALIDA/i);
  assert.match(await page.locator('main').innerText(), /il modulo è scaduto o non proviene da questo sito/);
  await shot(page, 'csrf_rifiutato');
  // Still logged in: the forged logout did nothing.
  await page.goto(`${BASE}/servizi`);
  assert.equal(page.url(), `${BASE}/servizi`);

  // A POST without any token, with the session cookie (as a forged cross-site form would).
  const r = await page.request.post(`${BASE}/password`, {
    form: { attuale: 'Demo.Tsgate1', nuova: 'Rubata.2026!', conferma: 'Rubata.2026!' },
    maxRedirects: 0,
  });
  assert.equal(r.status(), 403);

  // A login POST from a page that never got a session.
  const other = await (await context(b)).newPage();
  const l = await other.request.post(`${BASE}/accesso/credenziali`, {
    form: { codice: 'RSSMRA80A01H501U', parola: 'Demo.Tsgate1' },
    maxRedirects: 0,
  });
  assert.equal(l.status(), 403);
  const cookie = (await ctx.cookies(BASE)).find((c) => c.name === '__Host-tsgate-sessione');
  return { sessione: cookie.value };
});
