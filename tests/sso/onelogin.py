"""A second independent SAML service provider for tsgate's SSO tests: OneLogin's python3-saml
(module onelogin.saml2, which verifies with the xmlsec binding) in strict mode, with
security.rejectDeprecatedAlgorithm, next to pysaml2's tests/sso/sp.py.

One command, printing one JSON line:

  onelogin.py verifica --entity-id URL --acs URL --idp-metadata FILE --response-file FILE
        [--in-response-to ID] [--now-offset-secs N]
      Parses a base64 SAMLResponse the way the SP's ACS would (received at --acs, HTTP-POST),
      with python3-saml's strict checks: XML schema, both signatures required (Response and
      Assertion, with any of the IdP metadata's signing certificates: two during a key
      rollover), no deprecated algorithm (SHA-1), Destination, Recipient, Audience, Issuer,
      validity windows, InResponseTo (checked against --in-response-to when given; unsolicited
      accepted without it), NameID and AttributeStatement present. --now-offset-secs moves the
      SP's clock (python3-saml itself allows 300 s of drift on Conditions). Reports
      {"ok": true, "attributes": {name: first value}, "name_id": ..., "name_id_format": ...,
      "name_id_nq": ..., "authn_contexts": [...], "issuers": [...], "in_response_to": ...}
      or {"ok": false, "error": "Class: message", "status": [...]} (the top and second level
      status codes of an error Response, else []). Exit status 0 either way.
"""

import argparse
import json
import os
import sys
import urllib.parse

# This file is named like the package it tests: take its own folder off the import path, or
# "import onelogin.saml2" would find this script instead of python3-saml.
_QUI = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _QUI]

from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as Parser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML


def impostazioni(a):
    """python3-saml settings: our SP, the IdP from its metadata, strict security."""
    with open(a.idp_metadata, "rb") as f:
        metadata = f.read()
    idp = Parser.parse(metadata)
    if not idp.get("idp", {}).get("singleSignOnService"):
        # Only the SSO endpoint's presence matters here (settings require one), not its binding.
        idp = Parser.parse(metadata, required_sso_binding=C.BINDING_HTTP_POST)
    # WantAuthnRequestsSigned becomes security.authnRequestsSigned, which would demand an SP key:
    # this SP only verifies Responses and sends no request.
    idp.pop("security", None)
    dati = idp.get("idp", {})
    # Every signing certificate of the metadata, whether parse() put one in x509cert or several
    # in x509certMulti: a Response signed with any of them (key rollover) is accepted.
    firma = dati.get("x509certMulti", {}).get("signing") or (
        [dati["x509cert"]] if dati.get("x509cert") else []
    )
    if firma:
        dati.pop("x509cert", None)
        dati["x509certMulti"] = {"signing": firma}
    base = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": a.entity_id,
            "assertionConsumerService": {"url": a.acs, "binding": C.BINDING_HTTP_POST},
            "NameIDFormat": C.NAMEID_TRANSIENT,
        },
        "security": {
            "wantAssertionsSigned": True,
            "wantMessagesSigned": True,
            "rejectDeprecatedAlgorithm": True,
            "wantNameId": True,
            "requestedAuthnContext": False,
            "wantAttributeStatement": True,
            "signatureAlgorithm": C.RSA_SHA256,
            "digestAlgorithm": C.SHA256,
        },
    }
    return OneLogin_Saml2_Settings(Parser.merge_settings(base, idp))


def dati_richiesta(acs, saml_response):
    """The request as python3-saml sees it: a POST to the ACS URL."""
    u = urllib.parse.urlsplit(acs)
    return {
        "https": "on" if u.scheme == "https" else "off",
        "http_host": u.netloc,  # host[:port]; python3-saml deprecates a separate server_port
        "script_name": u.path,
        "get_data": {},
        "post_data": {"SAMLResponse": saml_response},
    }


def stato(r):
    """The status codes (top level, then second level) of an error Response, else []."""
    if r is None:
        return []
    codici = OneLogin_Saml2_XML.query(r.document, "/samlp:Response/samlp:Status/samlp:StatusCode")
    if not codici or codici[0].get("Value") == C.STATUS_SUCCESS:
        return []
    fuori = [codici[0].get("Value")]
    dentro = OneLogin_Saml2_XML.query(codici[0], "./samlp:StatusCode")
    fuori += [c.get("Value") for c in dentro]
    return fuori


def esamina(settings, saml_response, acs, in_response_to):
    """python3-saml's verdict on a base64 Response, as a dict (see the module documentation)."""
    r = None
    try:
        r = OneLogin_Saml2_Response(settings, saml_response)
        r.is_valid(
            dati_richiesta(acs, saml_response), request_id=in_response_to, raise_exceptions=True
        )
        # get_nameid_data also enforces wantNameId (and the SPNameQualifier, strict).
        nome = r.get_nameid_data()
        attributi = {k: (v[0] if v else None) for k, v in r.get_attributes().items()}
        return {
            "ok": True,
            "attributes": attributi,
            "name_id": nome.get("Value"),
            "name_id_format": nome.get("Format"),
            "name_id_nq": nome.get("NameQualifier"),
            "authn_contexts": r.get_authn_contexts(),
            "issuers": r.get_issuers(),
            "in_response_to": r.get_in_response_to(),
        }
    except Exception as e:  # python3-saml raises for every refusal; the class says which
        try:
            codici = stato(r)
        except Exception:
            codici = []
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "status": codici}


def verifica(a):
    if a.now_offset_secs:
        adesso = OneLogin_Saml2_Utils.now
        OneLogin_Saml2_Utils.now = staticmethod(lambda: adesso() + a.now_offset_secs)
    settings = impostazioni(a)
    with open(a.response_file) as f:
        saml_response = f.read().strip()
    print(json.dumps(esamina(settings, saml_response, a.acs, a.in_response_to)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("verifica")
    s.add_argument("--entity-id", required=True)
    s.add_argument("--acs", required=True)
    s.add_argument("--idp-metadata", required=True)
    s.add_argument("--response-file", required=True)
    s.add_argument("--in-response-to")
    s.add_argument("--now-offset-secs", type=int, default=0)
    a = p.parse_args()
    {"verifica": verifica}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
