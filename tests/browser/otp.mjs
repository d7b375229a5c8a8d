// "Caricamento App Immuni" (seed 004): the pincode gate and its lock, each validation error
// beside its field with no call, the captcha ("altra immagine", single use), both outcomes with
// the transaction id, a user without the profile. The captcha answer is read from the session
// row with psql ($DATABASE_URL), as only a person could read the image. $PINCODE is ROSSI's,
// $OTP1 a valid OTP; $OTP_CONTROLLO the same with a wrong check character.
import { assert, BASE, context, shot, login, messaggi, cookieSessione, scenario } from './lib.mjs';
import { execFileSync } from 'node:child_process';

const DB = process.env.DATABASE_URL;

async function captchaDi(ctx) {
  const token = (await cookieSessione(ctx)).value;
  assert.match(token, /^[0-9a-f]{64}$/);
  return execFileSync('psql', [DB, '-Atc',
    `SELECT captcha FROM sessione WHERE token_hash = sha256(convert_to('${token}', 'UTF8'))`], { encoding: 'utf8' }).trim();
}

// Today + n days in Italian time, as the gateway counts them (a UTC date is a day behind
// between midnight in Rome and midnight UTC).
function giorni(n) {
  return execFileSync('psql', [DB, '-Atc',
    `SELECT ((now() AT TIME ZONE 'Europe/Rome')::date + ${Number(n)})::text`], { encoding: 'utf8' }).trim();
}

async function invia(page, ctx, { otp, data, captcha }) {
  await page.getByLabel('Codice OTP:*').fill(otp);
  await page.getByLabel('Data Inizio Sintomi:*').fill(data);
  await page.getByLabel('Codice di sicurezza:').fill(captcha ?? await captchaDi(ctx));
  await page.getByRole('button', { name: 'Invia Dati' }).click();
}

async function erroreCampo(page, campo, re) {
  assert.equal(await page.locator(`#${campo}`).getAttribute('aria-invalid'), 'true', campo);
  assert.match(await page.locator(`#${campo}-errore`).innerText(), re);
}

await scenario(async (b) => {
  const ctx = await context(b);
  const page = await ctx.newPage();
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await page.getByRole('link', { name: 'Caricamento App Immuni' }).click();
  assert.match(await page.locator('.briciole').innerText(), /Ti trovi in : Home - Servizi Online - Caricamento App Immuni/);
  assert.match(await page.locator('main').innerText(), /Inserire il pincode per accedere al servizio per la trasmissione del codice OTP/);
  await shot(page, 'otp_pincode');

  // Two wrong pincodes, then the right one.
  for (const n of [2, 1]) {
    await page.getByLabel('Pincode:*').fill('0000000000');
    await page.getByRole('button', { name: 'Conferma' }).click();
    assert.match(await page.locator('#pincode-errore').innerText(), new RegExp(`Pincode errato\\. Tentativi rimasti prima del blocco del servizio per questa sessione: ${n}\\.`));
  }
  await page.getByLabel('Pincode:*').fill(process.env.PINCODE);
  await page.getByRole('button', { name: 'Conferma' }).click();
  await page.waitForURL(`${BASE}/servizi/otp`);
  assert.match(await page.locator('main').innerText(), /Servizio per la trasmissione del codice OTP/);
  await shot(page, 'otp_modulo');

  // "altra immagine" gives another image.
  const prima = await page.locator('img.captcha').getAttribute('src');
  assert.match(prima, /^data:image\/png;base64,/);
  await page.getByRole('link', { name: 'altra immagine' }).click();
  assert.notEqual(await page.locator('img.captcha').getAttribute('src'), prima);

  const oggi = giorni(0);
  // Each validation error beside its field (no call is made: checked by the Rust test).
  await invia(page, ctx, { otp: 'AAAAAAAAA0', data: oggi });
  await erroreCampo(page, 'otp', /Codice OTP: il carattere «0» in posizione 10 non è ammesso/);
  assert.match(await messaggi(page), /I dati non sono stati inviati: correggere i campi indicati\./);
  await shot(page, 'otp_errore');
  await invia(page, ctx, { otp: process.env.OTP_CONTROLLO, data: oggi });
  await erroreCampo(page, 'otp', /Codice OTP: carattere di controllo errato/);
  await invia(page, ctx, { otp: 'ABC', data: oggi });
  await erroreCampo(page, 'otp', /Codice OTP: sono richiesti 10 caratteri \(inseriti 3\)/);
  await invia(page, ctx, { otp: process.env.OTP1, data: giorni(2) });
  await erroreCampo(page, 'data', /Data inizio sintomi: non può essere nel futuro/);
  await invia(page, ctx, { otp: process.env.OTP1, data: giorni(-182) });
  await erroreCampo(page, 'data', /Data inizio sintomi: non può essere anteriore di più di 180 giorni/);
  await invia(page, ctx, { otp: process.env.OTP1, data: oggi, captcha: 'ZZZZZ' });
  await erroreCampo(page, 'captcha', /Codice di sicurezza errato o scaduto/);
  // The captcha works once: the answer of a used image no longer counts.
  const usata = await captchaDi(ctx);
  await invia(page, ctx, { otp: 'ABC', data: oggi, captcha: usata });
  await invia(page, ctx, { otp: process.env.OTP1, data: oggi, captcha: usata });
  await erroreCampo(page, 'captcha', /Codice di sicurezza errato o scaduto/);

  // Positive, then the same OTP again: negative, already authorised.
  await invia(page, ctx, { otp: process.env.OTP1.toLowerCase(), data: giorni(-3) });
  let testo = await page.locator('main').innerText();
  assert.match(testo, /Operazione effettuata correttamente\./);
  const id1 = testo.match(/Id transazione: ([0-9a-f-]{36})/)[1];
  assert.match(await page.locator('.briciole').innerText(), /Home - Servizi Online - Caricamento App Immuni - Esito Transazione/);
  await shot(page, 'otp_esito_positivo');
  await page.getByRole('link', { name: 'Torna alla Home' }).click();
  await page.waitForURL(`${BASE}/servizi`);
  await page.goto(`${BASE}/servizi/otp`);
  await invia(page, ctx, { otp: process.env.OTP1, data: giorni(-3) });
  testo = await page.locator('main').innerText();
  assert.match(testo, /Operazione conclusa con esito negativo\./);
  assert.match(testo, /Motivo: OTP già autorizzato/);
  const id2 = testo.match(/Id transazione: ([0-9a-f-]{36})/)[1];
  await shot(page, 'otp_esito_negativo');

  // A new session: three wrong pincodes lock the service for it.
  const ctx2 = await context(b);
  const p2 = await ctx2.newPage();
  await login(p2, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await p2.goto(`${BASE}/servizi/otp`);
  for (let i = 0; i < 3; i++) {
    await p2.getByLabel('Pincode:*').fill('1111111111');
    await p2.getByRole('button', { name: 'Conferma' }).click();
  }
  assert.match(await p2.locator('main').innerText(), /bloccato per questa sessione: il pincode è stato inserito in modo errato per tre volte/);
  await shot(p2, 'otp_bloccato');
  const r = await p2.goto(`${BASE}/servizi/otp`);
  assert.equal(r.status(), 403);

  // Without the profile: no menu entry, and a refusal.
  const p3 = await (await context(b)).newPage();
  await login(p3, 'VRDLCU70M10H501X', 'Demo.Tsgate1');
  await p3.waitForURL(`${BASE}/servizi`);
  assert.equal(await p3.getByRole('link', { name: 'Caricamento App Immuni' }).count(), 0);
  const n = await p3.goto(`${BASE}/servizi/otp`);
  assert.equal(n.status(), 403);
  assert.match(await p3.locator('main').innerText(), /Servizio non abilitato per l'utenza/);
  return { id1, id2 };
});
