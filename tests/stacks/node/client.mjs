// The Node.js stack of the integrator tests (tests/stack_node.rs): npm `soap` (node-soap) builds
// a client from each WSDL file of the exported bundle, sets mutual TLS with the caller's
// certificate and key and the CA (ClientSSLSecurity), and calls every operation of
// ambiente.json (tests/common/stack.rs) once with the fixture's data as JavaScript values
// (xs:date as Date, xs:boolean as boolean, xs:int and xs:long as number) and once with an
// invalid request, reading codice and descrizione from the fault's detail (erroreGateway).
//
// node-soap cannot write a Date: it walks it as an object with no own keys and writes an empty
// element (`<dataRevoca></dataRevoca>`, not a valid xs:date). The client shows that for every
// operation with dates (the request node-soap builds with the Date objects, kept from the
// wire: `date_native`), then sends them as an integrator must, turning each Date into its
// calendar day (`AAAA-MM-GG`, the local day the Date was built for) before the call.
//
// node-soap validates nothing, neither what it writes nor what it reads: every request it wrote
// and every envelope received (answers and faults, with their detail) is validated here with
// xmllint against the bundle's XSD, wrapped in a small SOAP 1.1 envelope schema.
//
// Usage: node client.mjs AMBIENTE.json
// Prints one JSON object (the last line of stdout); exits 1 on anything unexpected.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import soap from 'soap';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const XS = 'http://www.w3.org/2001/XMLSchema';
const ERRORI = 'urn:tsgate:errori';
const SOAP_VERSION = createRequire(import.meta.url)('soap/package.json').version;

// --- the fixture's request as JavaScript values ---------------------------------------------

// The built-in XSD type behind a type's QName, through the simpleType restrictions of the
// schemas node-soap read (the operation's and TipiDati.xsd).
function tipoBase(client, qname) {
  const schemas = client.wsdl.definitions.schemas;
  for (let i = 0; i < 20 && qname; i++) {
    const [prefix, local] = qname.includes(':') ? qname.split(':') : ['', qname];
    if (prefix === 'xs' || prefix === 'xsd') return local;
    const tipo = Object.values(schemas)
      .map((s) => s.types && s.types[local])
      .find(Boolean);
    const restr = tipo && tipo.children.find((c) => c.$base);
    if (!restr) return null;
    qname = restr.$base;
  }
  return null;
}

// The input elements of an operation and their built-in types (date, int, boolean, string...).
function tipiInput(client, op) {
  const porte = Object.values(client.describe())[0];
  const input = Object.values(porte)[0][op].input;
  return Object.fromEntries(
    Object.entries(input).map(([k, t]) => [k.replace(/\[\]$/, ''), tipoBase(client, t)]),
  );
}

// An xs:date as a JavaScript Date: midnight of that day, local time (what `new Date(y, m, d)`
// gives an integrator).
function data(testo) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(testo);
  if (!m) throw new Error(`not a date: ${testo}`);
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function nativo(testo, tipo) {
  switch (tipo) {
    case 'date':
      return data(testo);
    case 'boolean':
      return testo === 'true' || testo === '1';
    case 'int':
    case 'long':
    case 'short':
    case 'integer':
      return Number(testo);
    default:
      return testo;
  }
}

// The children of the fixture's Richiesta (flat: one text each), repeated ones as an array.
function parametri(fixture, tipi) {
  const xml = readFileSync(fixture, 'utf8');
  const body = /<(\w+:)?Body>([\s\S]*)<\/\1?Body>/.exec(xml);
  if (!body) throw new Error(`${fixture}: no Body`);
  const p = {};
  for (const m of body[2].matchAll(/<(?:\w+:)?(\w+)>([^<]*)<\/(?:\w+:)?\1>/g)) {
    const [, nome, testo] = m;
    const v = nativo(testo, tipi[nome]);
    if (nome in p) p[nome] = [].concat(p[nome], v);
    else p[nome] = v;
  }
  return p;
}

// The workaround node-soap needs: every Date as its calendar day, in the local time zone the
// Date was built in (toISOString would give the UTC day: the day before, east of Greenwich).
function giorno(d) {
  const z = (n, w) => String(n).padStart(w, '0');
  return `${z(d.getFullYear(), 4)}-${z(d.getMonth() + 1, 2)}-${z(d.getDate(), 2)}`;
}

function senzaDate(v) {
  if (v instanceof Date) return giorno(v);
  if (Array.isArray(v)) return v.map(senzaDate);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, senzaDate(x)]));
  }
  return v;
}

// One invalid request per operation: the fixture's data with one value, still of the right
// JavaScript type, that breaks a facet of the schema.
function invalido(op, p) {
  switch (op) {
    case 'ElencoSerieCarte':
      return { sigla: 'X1' }; // [A-Za-z]{2,3}[0-9]{4}
    case 'ElencoRevoche':
      return { ...p, numeroMassimo: 0 }; // 1..1000
    case 'ConfermaRevoche':
      return { idComunicazione: [0] }; // idComunicazioneRevocaType >= 1
    case 'TrasmissionePrenotazione':
    case 'TrasmissioneSomministrazione':
      return { ...p, dose: 10 }; // 1..9
    case 'VerificaAssistitoFuoriRegione':
    case 'VerificaSomministrazioni':
      return { ...p, codiceFiscale: p.codiceFiscale.toLowerCase() }; // [A-Z0-9]{16}
    default:
      return { ...p, numeroTessera: '123' }; // 20 digits
  }
}

// --- validation with xmllint ------------------------------------------------------------------

// A SOAP 1.1 envelope schema whose Body (and Fault detail) holds, strictly validated, a global
// element of the operation's schema or of ErroreGateway.xsd. faultstring may carry xml:lang
// (WS-I Basic Profile 1.1, R1016; the gateway writes xml:lang="it").
function schemaBusta(dir, bundle, op) {
  const file = join(dir, `busta-${op}.xsd`);
  const loc = (n) => resolve(bundle, n);
  writeFileSync(
    file,
    `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="${XS}" xmlns:soapenv="${SOAP11}" targetNamespace="${SOAP11}"
           elementFormDefault="qualified">
  <xs:import namespace="${readTns(loc(`${op}.xsd`))}" schemaLocation="${loc(`${op}.xsd`)}"/>
  <xs:import namespace="${ERRORI}" schemaLocation="${loc('ErroreGateway.xsd')}"/>
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Header" minOccurs="0">
          <xs:complexType><xs:sequence>
            <xs:any namespace="##other" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="Body">
          <xs:complexType><xs:choice>
            <xs:element ref="soapenv:Fault"/>
            <xs:any namespace="##other" processContents="strict"/>
          </xs:choice></xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="Fault">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="faultcode" type="xs:QName" form="unqualified"/>
        <xs:element name="faultstring" form="unqualified">
          <xs:complexType><xs:simpleContent><xs:extension base="xs:string">
            <xs:anyAttribute namespace="##other" processContents="skip"/>
          </xs:extension></xs:simpleContent></xs:complexType>
        </xs:element>
        <xs:element name="faultactor" type="xs:anyURI" form="unqualified" minOccurs="0"/>
        <xs:element name="detail" form="unqualified" minOccurs="0">
          <xs:complexType><xs:sequence>
            <xs:any namespace="##other" processContents="strict" maxOccurs="unbounded"/>
          </xs:sequence></xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
`,
  );
  return file;
}

function readTns(xsd) {
  const m = /targetNamespace="([^"]+)"/.exec(readFileSync(xsd, 'utf8'));
  if (!m) throw new Error(`${xsd}: no targetNamespace`);
  return m[1];
}

// xmllint's verdict on an envelope: null when valid, its errors otherwise.
function errori(xml, schema) {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, '-'], {
    input: xml,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return r.status === 0 ? null : r.stderr.trim();
}

function valida(xml, schema, dove) {
  if (typeof xml !== 'string' || !xml) throw new Error(`${dove}: nothing to validate`);
  const e = errori(xml, schema);
  if (e) throw new Error(`${dove}: not valid against the bundle's XSD: ${e}\n${xml}`);
}

// The text of every element of `nomi` in a message, by local name.
function testi(xml, nomi) {
  const out = {};
  for (const n of nomi) {
    const m = new RegExp(`<(?:\\w+:)?${n}(?:\\s[^>]*)?(?:/>|>([^<]*)</(?:\\w+:)?${n}>)`).exec(xml);
    if (m) out[n] = m[1] ?? '';
  }
  return out;
}

// --- what was read ----------------------------------------------------------------------------

// The answer as JSON (Date as the UTC day node-soap parsed it to: `new Date('2026-01-10')` is
// that day's midnight UTC), and the JavaScript type of every leaf by path (Date, boolean,
// number, string; of a list, its first item's).
function leggi(v, path, tipi) {
  if (v instanceof Date) {
    tipi[path] = Number.isNaN(v.getTime()) ? 'Invalid Date' : 'Date';
    return Number.isNaN(v.getTime()) ? null : v.toISOString().slice(0, 10);
  }
  if (Array.isArray(v)) return v.map((x, i) => leggi(x, `${path}/${i}`, i ? {} : tipi));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'attributes')
        .map(([k, x]) => [k, leggi(x, `${path}/${k}`, tipi)]),
    );
  }
  tipi[path] = typeof v;
  return v;
}

// What node-soap writes for the request built with Date objects, without sending it: a client
// whose HTTP client keeps the envelope and fails the call.
async function anteprima(o, args) {
  const client = await soap.createClientAsync(o.wsdl, {
    httpClient: {
      request(_url, _xml, cb) {
        cb(new Error('anteprima: not sent'));
      },
    },
  });
  try {
    await client[`${o.name}Async`](args);
  } catch (e) {
    if (!/anteprima/.test(e.message)) throw e;
  }
  return client.lastRequest;
}

// A fault as the report wants it, from the detail node-soap parsed; the envelope as received is
// validated against the bundle's XSD (the detail strictly, against ErroreGateway.xsd).
function guasto(e, client, schema, dove, out) {
  const fault = e.root && e.root.Envelope && e.root.Envelope.Body && e.root.Envelope.Body.Fault;
  if (!fault) throw e; // not a SOAP fault of the gateway (TLS, connection, HTTP): fail
  valida(client.lastResponse, schema, `${dove} fault`);
  out.validati++;
  const det = fault.detail && fault.detail.erroreGateway;
  if (!det) throw new Error(`${dove}: fault without erroreGateway detail: ${client.lastResponse}`);
  // An element with attributes comes as {$value, attributes}: faultstring, with its xml:lang.
  const testo = (x) => (x && typeof x === 'object' && '$value' in x ? x.$value : x);
  return {
    faultcode: testo(fault.faultcode),
    faultstring: testo(fault.faultstring),
    codice: det.codice,
    descrizione: det.descrizione,
    identificativoTransazione: det.identificativoTransazione,
  };
}

async function main(argv) {
  const env = JSON.parse(readFileSync(argv[2], 'utf8'));
  const dir = resolve('node-schemi');
  mkdirSync(dir, { recursive: true });
  const out = {
    stack: `node ${process.version} soap ${SOAP_VERSION}`,
    fuso: Intl.DateTimeFormat().resolvedOptions().timeZone,
    valid: {},
    faults: {},
    date_native: {},
    date_native_errori: {},
    date_inviate: {},
    tipi: {},
    validati: 0,
  };
  for (const o of env.operations) {
    const op = o.name;
    const caller = env.callers[o.caller];
    const client = await soap.createClientAsync(o.wsdl);
    client.setSecurity(new soap.ClientSSLSecurity(caller.key, caller.cert, env.ca));
    const tipi = tipiInput(client, op);
    const nomiDate = Object.keys(tipi).filter((k) => tipi[k] === 'date');
    const schema = schemaBusta(dir, env.bundle, op);
    const p = parametri(join(env.fixtures, `${op}.xml`), tipi);

    // What node-soap makes of the Date objects themselves.
    let args = p;
    if (nomiDate.some((n) => p[n] instanceof Date)) {
      const xml = await anteprima(o, p);
      out.date_native[op] = testi(xml, nomiDate);
      out.date_native_errori[op] = errori(xml, schema);
      args = senzaDate(p);
    }

    // The valid call.
    try {
      const [r] = await client[`${op}Async`](args);
      const tipiLetti = {};
      out.valid[op] = leggi(r, '', tipiLetti);
      out.tipi[op] = tipiLetti;
      valida(client.lastResponse, schema, `${op} response`);
      out.validati++;
    } catch (e) {
      out.valid[op] = { esito: null, fault: guasto(e, client, schema, op, out) };
    }
    valida(client.lastRequest, schema, `${op} request`);
    const inviate = testi(client.lastRequest, nomiDate);
    if (Object.keys(inviate).length) out.date_inviate[op] = inviate;
    const azione = client.lastRequestHeaders && client.lastRequestHeaders.SOAPAction;
    if (azione !== `"${o.soap_action}"`) {
      throw new Error(`${op}: SOAPAction ${azione}, not "${o.soap_action}"`);
    }

    // The invalid one.
    const sbagliata = senzaDate(invalido(op, p));
    try {
      await client[`${op}Async`](sbagliata);
      throw new Error(`${op}: the invalid request was accepted: ${client.lastRequest}`);
    } catch (e) {
      if (!e.root) throw e;
      out.faults[op] = guasto(e, client, schema, `${op} invalid`, out);
    }
    if (!errori(client.lastRequest, schema)) {
      throw new Error(`${op}: the invalid request is valid: ${client.lastRequest}`);
    }
  }
  return out;
}

try {
  const out = await main(process.argv);
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(e);
  console.log(JSON.stringify({ error: String(e && e.message) }));
  process.exit(1);
}
