// Class 2 of seed 002: the security systems do not answer (the Rust test made the CNS
// revocation list unusable). $CERTS as in cns.mjs.
import { assert, BASE, context, shot, scenario } from './lib.mjs';

const CERTS = JSON.parse(process.env.CERTS);

await scenario(async (b) => {
  const page = await (await context(b, CERTS.ferrari)).newPage();
  const r = await page.goto(`${BASE}/accesso/cns/registra`);
  assert.equal(r.status(), 503);
  const box = page.locator('.esito.negativo');
  assert.match(await box.locator('h2').innerText(), /Errore legato alla registrazione sui sistemi di sicurezza/);
  assert.match(await box.innerText(), /I sistemi di sicurezza non rispondono\. Riprovare più tardi\./);
  assert.match(await box.innerText(), /numero verde 800-030-070/);
  assert.match(await box.innerText(), /Codice errore: CNS_SISTEMI_SICUREZZA/);
  await shot(page, 'cns_errore_sistemi');
});
