// Lockout: four wrong passwords say how many attempts are left, the fifth locks the account,
// and then even the right password is refused with the time the lock ends.
import { assert, BASE, context, shot, login, messaggi, scenario } from './lib.mjs';

const CF = 'GLLNDR90B12F205N';

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  for (let i = 1; i <= 4; i++) {
    await login(page, CF, `Sbagliata.${i}`);
    const m = await messaggi(page);
    assert.match(m, /Codice Identificativo o Parola chiave errati\./);
    assert.match(m, /Dopo 5 tentativi errati consecutivi l'utenza viene bloccata per 15 minuti\./);
    // The typed codice stays, the password does not.
    assert.equal(await page.getByLabel('Codice Identificativo').inputValue(), CF);
    assert.equal(await page.getByLabel('Parola chiave').inputValue(), '');
  }
  await login(page, CF, 'Sbagliata.5');
  assert.match(await messaggi(page), /L'utenza è stata bloccata per 15 minuti: riprovare dopo le \d\d:\d\d\./);
  await login(page, CF, 'Demo.Tsgate1');
  const m = await messaggi(page);
  assert.match(m, /Utenza bloccata per troppi tentativi errati: riprovare dopo le \d\d:\d\d\./);
  assert.equal(page.url(), `${BASE}/accesso/credenziali`);
  await shot(page, 'bloccato');
  // An unknown user gets exactly the words of a wrong password of an existing one.
  await login(page, 'RSSMRA80A01H501U', 'Sbagliata.1');
  const esistente = await messaggi(page);
  await login(page, 'XXXXXX00X00X000X', 'Qualsiasi.1');
  assert.equal(await messaggi(page), esistente);
  // Both fields are marked and point at the message.
  assert.equal(await page.getByLabel('Codice Identificativo').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Parola chiave').getAttribute('aria-describedby'), 'errore-credenziali');
  // A password typed into the codice field is not kept.
  await login(page, 'una parola chiave', 'Qualsiasi.1');
});
