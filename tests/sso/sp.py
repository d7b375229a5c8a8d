"""An independent SAML service provider for tsgate's SSO tests: pysaml2 (which verifies with the
xmlsec1 program) plays a regional vaccination platform or the Piattaforma Nazionale.

Two commands, each printing one JSON line:

  sp.py richiesta --entity-id URL --acs URL --sign-cert PEM --sign-key PEM --idp-metadata FILE
        [--relay TEXT] [--livello 1|2]
      A signed AuthnRequest for the IdP's SSO endpoint, HTTP-Redirect binding:
      {"id": ..., "url": ...} (the URL carries SAMLRequest, RelayState, SigAlg, Signature).

  sp.py verifica --entity-id URL --acs URL --sign-cert PEM --sign-key PEM --idp-metadata FILE
        --response-file FILE [--in-response-to ID]
      Parses a base64 SAMLResponse the way the SP's ACS would, with pysaml2's checks:
      signatures (Response and Assertion required), Destination, Audience, validity window,
      InResponseTo (unsolicited allowed only without --in-response-to), and reports
      {"ok": true, "attributes": {...}, "name_id": ..., "name_qualifier": ..., "authn_context":
      ..., "in_response_to": ..., "issuer": ...} or {"ok": false, "error": "Class: message",
      "status": [...]} (status codes of an error Response). Exit status 0 either way.
"""

import argparse
import json
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.samlp import RequestedAuthnContext
from saml2.saml import AuthnContextClassRef
from saml2.sigver import get_xmlsec_binary


def config(a, allow_unsolicited):
    c = SPConfig()
    c.load(
        {
            "entityid": a.entity_id,
            "xmlsec_binary": get_xmlsec_binary(["/usr/bin"]),
            "key_file": a.sign_key,
            "cert_file": a.sign_cert,
            "metadata": {"local": [a.idp_metadata]},
            "accepted_time_diff": 0,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(a.acs, BINDING_HTTP_POST)],
                    },
                    "want_assertions_signed": True,
                    "want_response_signed": True,
                    "authn_requests_signed": True,
                    "allow_unsolicited": allow_unsolicited,
                    "allow_unknown_attributes": True,
                    "name_id_format": NAMEID_FORMAT_TRANSIENT,
                    "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                    "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
                }
            },
        }
    )
    return c


def richiesta(a):
    client = Saml2Client(config(a, False))
    idp = next(iter(client.metadata.identity_providers()))
    dest = client.metadata.single_sign_on_service(idp, BINDING_HTTP_REDIRECT)[0]["location"]
    contesto = RequestedAuthnContext(
        authn_context_class_ref=[
            AuthnContextClassRef(text=f"https://www.spid.gov.it/SpidL{a.livello}")
        ],
        comparison="minimum",
    )
    req_id, req = client.create_authn_request(
        dest,
        binding=BINDING_HTTP_POST,
        requested_authn_context=contesto,
        sign=False,
    )
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(req),
        dest,
        relay_state=a.relay,
        sign=True,
        sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    )
    url = dict(info["headers"])["Location"]
    print(json.dumps({"id": req_id, "url": url}))


def verifica(a):
    client = Saml2Client(config(a, a.in_response_to is None))
    with open(a.response_file) as f:
        saml_response = f.read().strip()
    outstanding = {a.in_response_to: "/"} if a.in_response_to else {}
    try:
        r = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding)
    except Exception as e:  # pysaml2 raises for every refusal; the class says which
        status = []
        s = getattr(e, "args", [])
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}", "status": status}))
        return
    if r is None or r.assertion is None:
        # pysaml2 logs some refusals (a Destination not ours) and returns no assertion.
        print(json.dumps({"ok": False, "error": "no valid assertion", "status": []}))
        return
    name_id = r.assertion.subject.name_id
    contesto = r.assertion.authn_statement[0].authn_context.authn_context_class_ref.text
    # The attributes by their SAML names, from the verified assertion.
    attributi = {}
    for st in r.assertion.attribute_statement:
        for at in st.attribute:
            attributi[at.name] = [v.text for v in at.attribute_value]
    print(
        json.dumps(
            {
                "ok": True,
                "attributes": attributi,
                "name_id": name_id.text,
                "name_id_format": name_id.format,
                "name_qualifier": name_id.name_qualifier,
                "authn_context": contesto,
                "in_response_to": r.in_response_to,
                "issuer": r.issuer(),
                "audience": [a.text for c in r.assertion.conditions.audience_restriction for a in c.audience],
                "not_on_or_after": r.assertion.conditions.not_on_or_after,
            }
        )
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for nome in ("richiesta", "verifica"):
        s = sub.add_parser(nome)
        s.add_argument("--entity-id", required=True)
        s.add_argument("--acs", required=True)
        s.add_argument("--sign-cert", required=True)
        s.add_argument("--sign-key", required=True)
        s.add_argument("--idp-metadata", required=True)
        if nome == "richiesta":
            s.add_argument("--relay")
            s.add_argument("--livello", default="1")
        else:
            s.add_argument("--response-file", required=True)
            s.add_argument("--in-response-to")
    a = p.parse_args()
    (richiesta if a.cmd == "richiesta" else verifica)(a)


if __name__ == "__main__":
    sys.exit(main())
