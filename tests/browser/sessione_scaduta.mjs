// A session idle past the timeout (made so by the Rust test): the next page goes back to the
// access page and says why. $SESSIONE is the cookie value of that session.
import { assert, BASE, context, shot, messaggi, scenario } from './lib.mjs';

await scenario(async (b) => {
  const ctx = await context(b);
  const u = new URL(BASE);
  await ctx.addCookies([{ name: '__Host-tsgate-sessione', value: process.env.SESSIONE, domain: u.hostname,
    path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  const page = await ctx.newPage();
  await page.goto(`${BASE}/servizi`);
  assert.equal(page.url(), `${BASE}/?esito=scaduta`);
  assert.match(await messaggi(page), /La sessione è scaduta per inattività: accedere di nuovo\./);
  await shot(page, 'sessione_scaduta');
});
