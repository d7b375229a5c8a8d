// Profilo Utente (seed 004) and Stampa pincode: the PDF is read back with pdftotext; a new
// pincode replaces the old one.
import { assert, BASE, context, shot, login, messaggi, scarica, testoPdf, scenario } from './lib.mjs';

function pincodeDi(testo) {
  const m = testo.match(/Pincode:?\s+(\d{10})\b/);
  assert.ok(m, `no 10-digit pincode in:\n${testo}`);
  return m[1];
}

await scenario(async (b) => {
  const page = await (await context(b)).newPage();
  await login(page, 'RSSMRA80A01H501U', 'Demo.Tsgate1');
  await page.waitForURL(`${BASE}/servizi`);
  await page.getByRole('link', { name: 'Profilo Utente' }).click();
  await page.waitForURL(`${BASE}/profilo`);
  const t = await page.locator('main').innerText();
  assert.match(await page.locator('.briciole').innerText(), /Ti trovi in : Home - Servizi On Line - Profilo Utente/);
  for (const re of [/Riepilogo Dati Personali/, /Codice Fiscale:\s*RSSMRA80A01H501U/, /Cognome Nome:\s*ROSSI MARIO/,
    /Data di nascita:\s*01\/01\/1980/, /Sesso:\s*M/, /Luogo di nascita:\s*ROMA \(RM\)/, /Riepilogo dati lavorativi/,
    /Indirizzo lavoro:\s*Via Cristoforo Colombo 112 - 00147 - ROMA \(RM\)/, /Telefono:\s*06123456/, /Fax:\s*Non Presente/,
    /e-mail:\s*mario.rossi@asl1.lazio.example/, /Il pincode non è ancora stato generato/]) {
    assert.match(t, re);
  }
  await shot(page, 'profilo');

  const primo = await scarica(page, page.locator('main').getByRole('link', { name: 'Stampa pincode' }), 'pincode-1.pdf');
  assert.equal(primo.suggerito, 'pincode.pdf');
  const testo1 = testoPdf(primo.file);
  assert.match(testo1, /Progetto Tessera Sanitaria/);
  assert.match(testo1, /RSSMRA80A01H501U/);
  assert.match(testo1, /ROSSI/);
  const p1 = pincodeDi(testo1);
  // Printing again gives the same pincode.
  await page.reload();
  assert.match(await page.locator('main').innerText(), /Pincode generato il \d\d\/\d\d\/\d{4} \d\d:\d\d/);
  const ancora = pincodeDi(testoPdf((await scarica(page, page.locator('main').getByRole('link', { name: 'Stampa pincode' }), 'pincode-1b.pdf')).file));
  assert.equal(ancora, p1);

  await page.getByRole('button', { name: 'Genera nuovo pincode' }).click();
  await page.waitForURL(`${BASE}/profilo`);
  assert.match(await messaggi(page), /Nuovo pincode generato: il precedente non è più valido/);
  const p2 = pincodeDi(testoPdf((await scarica(page, page.locator('main').getByRole('link', { name: 'Stampa pincode' }), 'pincode-2.pdf')).file));
  assert.notEqual(p2, p1);
  return { pincode: [p1, p2] };
});
