#!/usr/bin/env python3
"""Independent SOAP client check: Python zeep consumes the served WSDL over mutual TLS, calls
VerificaAssistitoFuoriRegione for every esito and a fault, and validates every response body
against the XSD served by the gateway (lxml XMLSchema).

Usage: zeep_vafr.py BASE_URL CA_PEM CERT_PEM KEY_PEM
Prints one JSON object; exits 1 on any failure.
"""
import json
import sys

import requests
import zeep
from lxml import etree
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def main():
    base, ca, cert, key = sys.argv[1:5]
    endpoint = f"{base}/ws/VerificaAssistitoFuoriRegione"
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
    session.verify = ca
    session.cert = (cert, key)
    history = HistoryPlugin()
    client = zeep.Client(f"{endpoint}?wsdl", transport=Transport(session=session), plugins=[history])

    # The schema as served (imports fetched through ?xsd= over the same mTLS session),
    # compiled by libxml2.
    class SessionResolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            return self.resolve_string(session.get(url).content, context)

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(SessionResolver())
    xsd_url = f"{endpoint}?xsd=VerificaAssistitoFuoriRegione.xsd"
    xsd_doc = etree.fromstring(session.get(xsd_url).content, parser=parser, base_url=xsd_url)
    schema = etree.XMLSchema(xsd_doc, attribute_defaults=False)

    def body_child(envelope):
        body = envelope.find(f"{{{SOAP11}}}Body")
        return body[0]

    results = {}
    cases = {
        "00": dict(codiceFiscale="BNCGLI85L42H501P", numeroTessera="80380120000000000002",
                   dataScadenzaTessera="2028-01-31"),
        "01": dict(codiceFiscale="RCCMNL83S18D969H"),
        "02": dict(codiceFiscale="RSSMRA60C15F205L"),
    }
    for name, args in cases.items():
        resp = client.service.VerificaAssistitoFuoriRegione(**args)
        received = history.last_received["envelope"]
        schema.assertValid(etree.ElementTree(body_child(received)))
        results[name] = {k: (str(v) if v is not None else None) for k, v in zeep.helpers.serialize_object(resp).items()}

    # The request zeep produced is valid too.
    schema.assertValid(etree.ElementTree(body_child(history.last_sent["envelope"])))

    try:
        client.service.VerificaAssistitoFuoriRegione(codiceFiscale="RSSMRA60C15F205L", regioneChiamante="120")
        results["fault"] = None
    except zeep.exceptions.Fault as fault:
        detail = fault.detail
        code = detail.find(".//{urn:tsgate:errori}codice").text if detail is not None else None
        results["fault"] = {"faultcode": str(fault.code), "faultstring": fault.message, "codice": code}
    print(json.dumps(results))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
