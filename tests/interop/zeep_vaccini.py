#!/usr/bin/env python3
"""Independent SOAP client check of the AVN transmissions and VerificaSomministrazioni: zeep
reads each served WSDL over mutual TLS (the AVN's certificate for the transmissions, a
region's for the check) and every request and response is validated against the served XSD.

Usage: zeep_vaccini.py BASE_URL CA_PEM AVN_CERT AVN_KEY REGION_CERT REGION_KEY
Prints one JSON object; exits 1 on any failure.
"""
import json
import sys

from tsclient import Service, session_for

ROSSI = "RSSMRA60C15F205L"


def main():
    base, ca, avn_cert, avn_key, reg_cert, reg_key = sys.argv[1:7]
    avn = session_for(ca, avn_cert, avn_key)
    prenotazione = Service(base, "TrasmissionePrenotazione", avn)
    somministrazione = Service(base, "TrasmissioneSomministrazione", avn)
    verifica = Service(base, "VerificaSomministrazioni", session_for(ca, reg_cert, reg_key))

    booking = dict(tipoOperazione="I", codiceRegione="030", identificativoAssistito=ROSSI,
                   regionePrenotazione="030", codiceAIC="049269018",
                   dataPrenotazione="2026-12-15", dose=2)
    dose = dict(tipoOperazione="I", codiceRegione="030", identificativoAssistito=ROSSI,
                regioneSomministrazione="030", codiceAIC="049269018")
    results = {
        "prenotazione_I": prenotazione.call(**booking),
        "prenotazione_I_again": prenotazione.call(**booking),
        "prenotazione_V_missing": prenotazione.call(**{**booking, "tipoOperazione": "V", "dose": 3}),
        "somministrazione_1": somministrazione.call(**dose, dataSomministrazione="2026-01-10", dose=1),
        "somministrazione_3": somministrazione.call(**dose, dataSomministrazione="2026-03-10", dose=3),
        "somministrazione_3_deroga": somministrazione.call(
            **dose, dataSomministrazione="2026-03-10", dose=3, derogaSequenzaDosi=True),
        "verifica_00": verifica.call(codiceFiscale=ROSSI, numeroTessera="80380030000000000001"),
        "verifica_01": verifica.call(codiceFiscale="RCCMNL83S18D969H", numeroTessera="80380030000000000001"),
        "verifica_fault": verifica.fault(codiceFiscale=ROSSI),
    }
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
