// Shared steps of the portal's browser tests: Debian's chromium driven by playwright-core,
// against the real server over real TLS. The Rust test starts the server, runs one scenario
// with node, and checks the database afterwards; the scenario asserts what the pages show
// and saves a screenshot of each main page under $SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export { assert };

export const BASE = process.env.PORTALE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
assert.ok(BASE, 'PORTALE_URL is not set');
assert.ok(SHOTS, 'SCREENSHOT_DIR is not set');
fs.mkdirSync(SHOTS, { recursive: true });

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

// A fresh browser profile; `cert` = {certPath, keyPath} presents a client certificate (a CNS).
// The server certificate is the test PKI's, which the browser does not know: HTTPS errors are
// ignored for it, the TLS itself is real.
export async function context(b, cert) {
  const opts = { ignoreHTTPSErrors: true, locale: 'it-IT', viewport: { width: 1100, height: 800 } };
  if (cert) opts.clientCertificates = [{ origin: BASE, ...cert }];
  return b.newContext(opts);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export async function login(page, codice, parola) {
  await page.goto(`${BASE}/accesso/credenziali`);
  await page.getByLabel('Codice Identificativo').fill(codice);
  await page.getByLabel('Parola chiave').fill(parola);
  await page.getByRole('button', { name: 'CONFERMA' }).click();
}

export async function messaggi(page) {
  return (await page.locator('.messaggi').innerText()).replace(/\s+/g, ' ');
}

export async function logout(page) {
  await page.getByRole('button', { name: 'Esci' }).click();
  await page.waitForURL(`${BASE}/?esito=uscito`);
}

// The session cookie as the browser holds it.
export async function cookieSessione(ctx) {
  return (await ctx.cookies(BASE)).find((c) => c.name === '__Host-tsgate-sessione');
}

// Runs `steps` with a browser, prints `{"ok":true,...result}` on success; on failure prints
// the error and exits 1 (the Rust test shows the output).
export async function scenario(steps) {
  const b = await browser();
  try {
    const result = (await steps(b)) || {};
    console.log(JSON.stringify({ ok: true, ...result }));
  } catch (e) {
    console.error(e && e.stack ? e.stack : e);
    process.exitCode = 1;
  } finally {
    await b.close();
  }
}

// Clicks `trigger` (a locator) and saves the download it starts under $SCREENSHOT_DIR/`nome`.
export async function scarica(page, trigger, nome) {
  const [dl] = await Promise.all([page.waitForEvent('download'), trigger.click()]);
  const file = path.join(SHOTS, nome);
  await dl.saveAs(file);
  return { file, suggerito: dl.suggestedFilename() };
}

// The text of a PDF, as poppler's pdftotext reads it.
export function testoPdf(file) {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}
