#!/usr/bin/env python3
"""Independent SOAP client check: Python zeep consumes the served WSDL over mutual TLS, calls
VerificaAssistitoFuoriRegione for every esito and a fault, and validates every request and
response body against the XSD served by the gateway (lxml XMLSchema).

Usage: zeep_vafr.py BASE_URL CA_PEM CERT_PEM KEY_PEM
Prints one JSON object; exits 1 on any failure.
"""
import json
import sys

from tsclient import Service, session_for


def main():
    base, ca, cert, key = sys.argv[1:5]
    vafr = Service(base, "VerificaAssistitoFuoriRegione", session_for(ca, cert, key))
    results = {}
    cases = {
        "00": dict(codiceFiscale="BNCGLI85L42H501P", numeroTessera="80380120000000000002",
                   dataScadenzaTessera="2028-01-31"),
        "01": dict(codiceFiscale="RCCMNL83S18D969H"),
        "02": dict(codiceFiscale="RSSMRA60C15F205L"),
    }
    for name, args in cases.items():
        resp = vafr.call(**args)
        results[name] = {k: (str(v) if v is not None else None) for k, v in resp.items()}
    results["fault"] = vafr.fault(codiceFiscale="RSSMRA60C15F205L", regioneChiamante="120")
    print(json.dumps(results))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
