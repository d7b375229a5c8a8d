#!/usr/bin/env python3
"""Independent SOAP client check of the TS-CNS revocation notices: zeep reads the served WSDLs of
ElencoRevoche and ConfermaRevoche over mutual TLS with the CMS certificates of Lombardia and
Lazio, and every request and response is validated against the served XSD. The notices of
fixtures/tscns/eventi.csv must be queued (1, 2, 4 for 030; 3, 5 for 120).

Usage: zeep_tscns_revoche.py BASE_URL CA_PEM LOMBARDIA_CERT LOMBARDIA_KEY LAZIO_CERT LAZIO_KEY
Prints one JSON object; exits 1 on any failure.
"""
import json
import sys

from tsclient import Service, session_for


def main():
    base, ca, lom_cert, lom_key, laz_cert, laz_key = sys.argv[1:7]
    lombardia = session_for(ca, lom_cert, lom_key)
    lazio = session_for(ca, laz_cert, laz_key)
    elenco = Service(base, "ElencoRevoche", lombardia)
    conferma = Service(base, "ConfermaRevoche", lombardia)
    elenco_lazio = Service(base, "ElencoRevoche", lazio)
    conferma_lazio = Service(base, "ConfermaRevoche", lazio)

    results = {
        "elenco": elenco.call(),
        "pagina_1": elenco.call(numeroMassimo=2),
        "pagina_2": elenco.call(cursore=2, numeroMassimo=2),
        "conferma_00": conferma.call(idComunicazione=[1, 1]),
        "elenco_dopo": elenco.call(cursore=0),
        "lazio": elenco_lazio.call(),
        "conferma_01": conferma_lazio.call(idComunicazione=[2, 3]),
        "lazio_dopo": elenco_lazio.call(),
        "fault": elenco.fault(numeroMassimo=0),
    }
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
