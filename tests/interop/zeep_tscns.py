#!/usr/bin/env python3
"""Independent SOAP client check of the TS-CNS services for the regional CMS: zeep reads each
served WSDL over mutual TLS with the Lombardia CMS's certificate, and every request and
response is validated against the served XSD.

Usage: zeep_tscns.py BASE_URL CA_PEM CMS_CERT CMS_KEY
Prints one JSON object; exits 1 on any failure.
"""
import datetime
import json
import sys

from tsclient import Service, session_for

ROSSI = "RSSMRA60C15F205L"
CARTA_ROSSI = "80380030000000000001"
EMITTENTE = "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT"


def main():
    base, ca, cert, key = sys.argv[1:5]
    cms = session_for(ca, cert, key)
    attivazione = Service(base, "AttivazioneTSCNS", cms)
    revoca = Service(base, "RevocaTSCNS", cms)
    serie = Service(base, "ElencoSerieCarte", cms)
    verifica = Service(base, "VerificaRinnovoCertificato", cms)
    registra = Service(base, "RegistraRinnovoCertificato", cms)

    d = datetime.date.fromisoformat
    activation = dict(codiceFiscale=ROSSI, numeroTessera=CARTA_ROSSI,
                      serialeCertificato="1A2B3C4D5E6F", emittenteCertificato=EMITTENTE,
                      dataInizioValidita=d("2024-07-01"), dataFineValidita=d("2027-06-30"),
                      dataAttivazione=d("2024-07-15"))
    results = {
        "attivazione": attivazione.call(**activation),
        "attivazione_again": attivazione.call(**activation),
        "attivazione_altro": attivazione.call(**{**activation, "serialeCertificato": "FF01"}),
        "attivazione_fault": attivazione.fault(**{**activation, "numeroTessera": "123"}),
        "revoca": revoca.call(numeroTessera="80380030000000000018", motivo="deterioramento",
                              dataRevoca=d("2026-11-20")),
        "revoca_altra_regione": revoca.call(numeroTessera="80380120000000000002", motivo="decesso",
                                            dataRevoca=d("2026-11-20")),
        "serie": serie.call(),
        "serie_st": serie.call(sigla="ST2021"),
        "verifica": verifica.call(numeroTessera="80380030009000000001", serialeCertificato="5A3F0001"),
        "verifica_non": verifica.call(numeroTessera="80380030009000000003", serialeCertificato="5A3F0003"),
        "registra": registra.call(numeroTessera="80380030009000000002", serialeCertificato="5A3F0002",
                                  serialeNuovoCertificato="5A3F1002",
                                  dataScadenzaNuovoCertificato=d("2020-06-30")),
        "verifica_gia": verifica.call(numeroTessera="80380030009000000002", serialeCertificato="5A3F1002"),
    }
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
