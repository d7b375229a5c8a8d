#!/usr/bin/env python3
"""The Python stacks of the integrator tests (tests/stack_python.rs): zeep or suds reads each
operation's WSDL from the exported bundle and calls it over mutual TLS with the caller's
certificate, once with the fixture's data as Python values (xs:date as datetime.date,
xs:boolean as bool, xs:int and xs:long as int) and once with an invalid request, reading the
fault's typed detail (erroreGateway). Neither stack checks facets, so every request written and
every body received is also validated here against the bundle's XSD (lxml, libxml2).

Usage: client.py --stack zeep|suds AMBIENTE.json   (ambiente.json: tests/common/stack.rs)
Prints one JSON object (the last line of stdout); exits 1 on anything unexpected.
"""
import argparse
import datetime
import glob
import json
import os
import ssl
import sys
import traceback
import urllib.request
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
ERRORI = "urn:tsgate:errori"


# --- The data: fixtures read into Python values by the schema's types -----------------------

def qname(ctx, value):
    prefix, _, local = value.rpartition(":")
    return f"{{{ctx.nsmap.get(prefix or None, '')}}}{local}"


def tipi_elementi(bundle, op):
    """The built-in XSD type of every element the operation's schema declares, by local name,
    following simpleType restrictions through the imported schemas (TipiDati.xsd)."""
    semplici = {}
    for xsd in glob.glob(os.path.join(bundle, "*.xsd")):
        doc = etree.parse(xsd).getroot()
        tns = doc.get("targetNamespace")
        for r in doc.iterfind(f".//{{{XS}}}simpleType[@name]/{{{XS}}}restriction[@base]"):
            semplici[f"{{{tns}}}{r.getparent().get('name')}"] = qname(r, r.get("base"))
    tipi = {}
    for e in etree.parse(os.path.join(bundle, f"{op}.xsd")).iterfind(f".//{{{XS}}}element[@type]"):
        t = qname(e, e.get("type"))
        for _ in range(20):
            if t not in semplici:
                break
            t = semplici[t]
        if t.startswith(f"{{{XS}}}"):
            tipi[e.get("name")] = t[len(XS) + 2:]
    return tipi


def nativo(testo, tipo):
    if tipo == "date":
        return datetime.date.fromisoformat(testo)
    if tipo == "boolean":
        return testo in ("true", "1")
    if tipo in ("int", "long", "short", "integer"):
        return int(testo)
    return testo


def parametri(fixture, tipi):
    """The fixture's Richiesta as keyword arguments: each child, repeated ones as a list."""
    richiesta = etree.parse(fixture).find(f"{{{SOAP11}}}Body")[0]
    p = {}
    for c in richiesta.iterchildren(etree.Element):
        nome = etree.QName(c).localname
        v = nativo(c.text or "", tipi.get(nome))
        if nome in p:
            p[nome] = (p[nome] if isinstance(p[nome], list) else [p[nome]]) + [v]
        else:
            p[nome] = v
    return p


def invalido(op, p):
    """One invalid request per operation: the fixture's data with one value that breaks a facet
    of the schema (still a Python value of the right type)."""
    if op == "ElencoSerieCarte":
        return {"sigla": "X1"}
    if op == "ElencoRevoche":
        return {**p, "numeroMassimo": 0}
    if op == "ConfermaRevoche":
        return {"idComunicazione": [0]}
    if op in ("TrasmissionePrenotazione", "TrasmissioneSomministrazione"):
        return {**p, "dose": 0}
    return {**p, "numeroTessera": "123"}


# --- Validation of what goes and comes back --------------------------------------------------

class Schemi:
    def __init__(self, bundle):
        self.bundle = bundle
        self.cache = {}
        self.validati = 0

    def schema(self, name):
        if name not in self.cache:
            self.cache[name] = etree.XMLSchema(etree.parse(os.path.join(self.bundle, name)))
        return self.cache[name]

    def valida(self, element, xsd, dove):
        doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
        s = self.schema(xsd)
        if not s.validate(doc):
            raise AssertionError(f"{dove}: not valid against {xsd}: {s.error_log.last_error}: "
                                 f"{etree.tostring(element).decode()}")

    def corpo(self, envelope, xsd, dove, conta=False):
        """Validates the Body's child of a raw SOAP message (bytes) and returns the envelope."""
        root = etree.fromstring(envelope, etree.XMLParser(resolve_entities=False, no_network=True))
        body = root.find(f"{{{SOAP11}}}Body")
        if body is None or len(body) == 0:
            raise AssertionError(f"{dove}: no SOAP Body child")
        self.valida(body[0], xsd, dove)
        if conta:
            self.validati += 1
        return root

    def dettaglio(self, envelope, dove):
        root = etree.fromstring(envelope, etree.XMLParser(resolve_entities=False, no_network=True))
        det = root.find(f".//{{{ERRORI}}}erroreGateway")
        if det is None:
            raise AssertionError(f"{dove}: fault without erroreGateway detail: {envelope!r}")
        self.valida(det, "ErroreGateway.xsd", dove)
        self.validati += 1


def date_scritte(envelope, tipi):
    root = etree.fromstring(envelope)
    return {etree.QName(e).localname: e.text
            for e in root.find(f"{{{SOAP11}}}Body").iter(etree.Element)
            if tipi.get(etree.QName(e).localname) == "date"}


def in_json(v, tipi, path=""):
    """A received value as JSON; `tipi` collects the Python type of every non-str leaf."""
    if isinstance(v, dict):
        return {k: in_json(x, tipi, f"{path}/{k}") for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [in_json(x, tipi, f"{path}/{i}") for i, x in enumerate(v)]
    if v is not None and not isinstance(v, str):
        tipi[path] = type(v).__name__
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, (bool, int, float)) or v is None:
        return v
    return str(v)


# --- zeep -----------------------------------------------------------------------------------

class Zeep:
    def __init__(self):
        import zeep
        self.zeep = zeep
        self.nome = f"zeep {zeep.__version__}"

    def client(self, o, caller, ca):
        import requests
        from zeep.plugins import HistoryPlugin
        from zeep.transports import Transport
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
        session.verify = ca
        session.cert = (caller["cert"], caller["key"])
        self.history = HistoryPlugin()
        settings = self.zeep.Settings(strict=True, xsd_ignore_sequence_order=False)
        self.c = self.zeep.Client(o["wsdl"], transport=Transport(session=session),
                                  settings=settings, plugins=[self.history])
        self.errore = self.c.get_element(f"{{{ERRORI}}}erroreGateway")

    def chiama(self, op, p):
        r = getattr(self.c.service, op)(**p)
        return self.zeep.helpers.serialize_object(r, target_cls=dict)

    def inviato(self):
        return etree.tostring(self.history.last_sent["envelope"])

    def ricevuto(self):
        return etree.tostring(self.history.last_received["envelope"])

    def guasto(self, exc):
        """(faultcode, faultstring, typed detail) of a fault, or None if exc is not one."""
        if not isinstance(exc, self.zeep.exceptions.Fault):
            return None
        det = exc.detail.find(f"{{{ERRORI}}}erroreGateway")
        e = self.errore.parse(det, self.c.wsdl.types)  # the WSDL's typed erroreGateway
        return str(exc.code), exc.message, e


# --- suds -----------------------------------------------------------------------------------

class Suds:
    def __init__(self):
        import suds
        self.suds = suds
        self.nome = f"suds-community {suds.__version__}"

    def client(self, o, caller, ca):
        from suds.cache import NoCache
        from suds.client import Client
        from suds.plugin import MessagePlugin
        from suds.transport.http import HttpTransport

        ctx = ssl.create_default_context(cafile=ca)
        ctx.load_cert_chain(caller["cert"], caller["key"])

        class MutualTls(HttpTransport):
            """suds's urllib transport with the caller's certificate and our CA."""

            def u2handlers(self):
                return super().u2handlers() + [urllib.request.HTTPSHandler(context=ctx)]

        class Grezzo(MessagePlugin):
            """The bytes sent and received, as they went on the wire."""

            def sending(self, context):
                self.inviato = context.envelope

            def received(self, context):
                self.ricevuto = context.reply

        self.grezzo = Grezzo()
        self.c = Client(Path(o["wsdl"]).as_uri(), transport=MutualTls(), cache=NoCache(),
                        plugins=[self.grezzo], faults=True, timeout=30)

    def chiama(self, op, p):
        return self.asdict(getattr(self.c.service, op)(**p))

    def asdict(self, v):
        from suds.sudsobject import Object, asdict
        if isinstance(v, Object):
            return {k: self.asdict(x) for k, x in asdict(v).items()}
        if isinstance(v, list):
            return [self.asdict(x) for x in v]
        return v

    def inviato(self):
        return self.grezzo.inviato

    def ricevuto(self):
        # The same document suds parsed (client.last_received()), as the bytes received.
        assert self.c.last_received() is not None
        return self.grezzo.ricevuto

    def guasto(self, exc):
        if not isinstance(exc, self.suds.WebFault):
            return None
        f = exc.fault
        return str(f.faultcode), str(f.faultstring), f.detail.erroreGateway


# --- The run --------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack", choices=["zeep", "suds"], required=True)
    ap.add_argument("ambiente")
    args = ap.parse_args()
    env = json.loads(Path(args.ambiente).read_text())
    stack = Zeep() if args.stack == "zeep" else Suds()
    schemi = Schemi(env["bundle"])
    out = {"stack": stack.nome, "valid": {}, "faults": {}, "date_inviate": {}, "tipi": {}}

    def fault(exc):
        g = stack.guasto(exc)
        if g is None:
            raise exc
        schemi.dettaglio(stack.ricevuto(), "fault detail")
        code, string, e = g
        return {"faultcode": code, "faultstring": string, "codice": str(e.codice),
                "descrizione": str(e.descrizione),
                "identificativoTransazione": str(e.identificativoTransazione)}

    for o in env["operations"]:
        op = o["name"]
        stack.client(o, env["callers"][o["caller"]], env["ca"])
        tipi = tipi_elementi(env["bundle"], op)
        xsd = f"{op}.xsd"
        p = parametri(os.path.join(env["fixtures"], f"{op}.xml"), tipi)

        try:
            r = stack.chiama(op, p)
            schemi.corpo(stack.ricevuto(), xsd, f"{op} response", conta=True)
            tipi_r = {}
            out["valid"][op] = in_json(r, tipi_r)
            out["tipi"][op] = tipi_r
        except Exception as exc:  # a fault: recorded, verifica reports it
            out["valid"][op] = {"esito": None, "fault": fault(exc)}
        schemi.corpo(stack.inviato(), xsd, f"{op} request")
        sent = date_scritte(stack.inviato(), tipi)
        if sent:
            out["date_inviate"][op] = sent

        try:
            stack.chiama(op, invalido(op, p))
        except Exception as exc:
            out["faults"][op] = fault(exc)
        else:
            raise AssertionError(f"{op}: the invalid request was accepted: {stack.inviato()!r}")
    out["validati"] = schemi.validati
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang
        traceback.print_exc()
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
