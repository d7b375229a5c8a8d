// Logs in with $CODICE / $PAROLA and expects the services page.
import { assert, BASE, context, login, scenario } from './lib.mjs';

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  await login(page, process.env.CODICE, process.env.PAROLA);
  await page.waitForURL(`${BASE}/servizi`);
  assert.match(await page.locator('main').innerText(), new RegExp(`Codice Fiscale:\\s*${process.env.CODICE}`));
});
