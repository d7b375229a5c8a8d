// Forced password change: at the first login (NERI) and after 90 days (ROSSI, made old by the
// Rust test); nothing else opens until it is done; the rules are on the page and each error
// sits beside its field.
import { assert, BASE, context, shot, login, messaggi, logout, scenario } from './lib.mjs';

const NUOVA = 'Nuova-Sicura.2026';

async function errore(page, campo) {
  const input = page.locator(`#${campo}`);
  assert.equal(await input.getAttribute('aria-invalid'), 'true', `${campo} marked invalid`);
  return page.locator(`#${campo}-errore`).innerText();
}

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  await login(page, 'NREPLA85T50H501Z', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/password`);
  const testo = await page.locator('main').innerText();
  assert.match(testo, /Primo accesso: è necessario scegliere una nuova parola chiave/);
  assert.match(testo, /da 8 a 64 caratteri/);
  assert.match(testo, /almeno un carattere speciale/);
  await shot(page, 'cambio_password');
  // Nothing else opens before the change.
  await page.goto(`${BASE}/servizi`);
  assert.equal(page.url(), `${BASE}/password`);

  const compila = async (attuale, nuova, conferma) => {
    await page.getByLabel('Parola chiave attuale').fill(attuale);
    await page.getByLabel('Nuova parola chiave', { exact: true }).fill(nuova);
    await page.getByLabel('Conferma nuova parola chiave').fill(conferma);
    await page.getByRole('button', { name: 'CONFERMA' }).click();
  };
  await compila('Sbagliata.1', NUOVA, NUOVA);
  assert.match(await errore(page, 'attuale'), /Parola chiave attuale errata/);
  await compila('Demo.Tsgate1', 'SenzaSpeciali2026', 'SenzaSpeciali2026');
  assert.match(await errore(page, 'nuova'), /almeno un carattere speciale/);
  await shot(page, 'cambio_password_errore');
  await compila('Demo.Tsgate1', 'Paola.Neri.2026', 'Paola.Neri.2026');
  assert.match(await errore(page, 'nuova'), /non deve contenere il Codice Identificativo, il cognome o il nome/);
  await compila('Demo.Tsgate1', 'Demo.Tsgate1', 'Demo.Tsgate1');
  assert.match(await errore(page, 'nuova'), /diversa da quella attuale/);
  await compila('Demo.Tsgate1', NUOVA, NUOVA + 'x');
  assert.match(await errore(page, 'conferma'), /non coincidono/);
  await compila('Demo.Tsgate1', NUOVA, NUOVA);
  await page.waitForURL(`${BASE}/servizi`);
  assert.match(await messaggi(page), /Parola chiave modificata correttamente\./);
  assert.doesNotMatch(await page.locator('main').innerText(), /Ultimo cambio password su SistemaTS:\s*Non Presente/);
  await logout(page);
  // The old password is gone, the new one opens the services directly.
  await login(page, 'NREPLA85T50H501Z', 'Demo.Tsgate1');
  assert.match(await messaggi(page), /errati/);
  await login(page, 'NREPLA85T50H501Z', NUOVA);
  await page.waitForURL(`${BASE}/servizi`);
  await logout(page);

  // ROSSI's password is older than 90 days.
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/password`);
  assert.match(await page.locator('main').innerText(), /La parola chiave è scaduta \(è più vecchia di 90 giorni\)/);
});
