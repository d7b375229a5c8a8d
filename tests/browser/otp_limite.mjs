// The hourly limit of OTP submissions (set to 2 by the Rust test): the third gets the message.
import { assert, BASE, context, login, messaggi, scenario } from './lib.mjs';

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.goto(`${BASE}/servizi/otp`);
  await page.getByLabel('Pincode:*').fill(process.env.PINCODE);
  await page.getByRole('button', { name: 'Conferma' }).click();
  for (let i = 0; i < 2; i++) {
    await page.getByLabel('Codice OTP:*').fill('ABC');
    await page.getByRole('button', { name: 'Invia Dati' }).click();
    assert.match(await messaggi(page), /I dati non sono stati inviati/);
  }
  await page.getByLabel('Codice OTP:*').fill('ABC');
  await page.getByRole('button', { name: 'Invia Dati' }).click();
  assert.match(await messaggi(page), /È stato raggiunto il limite di 2 invii di codici OTP in un'ora: riprovare dopo le \d\d:\d\d\./);
});
