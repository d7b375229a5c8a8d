"""An independent SAML service provider for tsgate's SSO tests: pysaml2 (which verifies with the
xmlsec1 program) plays a regional vaccination platform or the Piattaforma Nazionale.

Three commands, each printing one JSON line:

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

  sp.py servi --entity-id URL --sign-cert PEM --sign-key PEM --idp-metadata FILE --nome TEXT
        [--acs URL]
      Runs the platform for a browser until killed, over HTTPS (the signing certificate serves
      as TLS certificate) on the host and port of --acs, else on a free port of localhost:
      prints {"port": ..., "acs": ...} first.
      GET /login[?livello=1|2][&relay=TEXT] answers with the redirect to the IdP carrying a
      signed AuthnRequest; POST /acs checks the Response as `verifica` does (the requests it
      sent are outstanding, unsolicited ones allowed) and shows a page "<nome>: accesso
      riuscito" with the attributes (dl#attributi), the authentication context (p#contesto),
      InResponseTo (p#in-risposta) and RelayState (p#relay); or "<nome>: accesso rifiutato"
      with the reason (p#errore).
"""

import argparse
import html
import json
import ssl
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


def esamina(client, saml_response, outstanding):
    """pysaml2's verdict on a base64 Response, as a dict (see the module documentation)."""
    try:
        r = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding)
    except Exception as e:  # pysaml2 raises for every refusal; the class says which
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "status": []}
    if r is None or r.assertion is None:
        # pysaml2 logs some refusals (a Destination not ours) and returns no assertion.
        return {"ok": False, "error": "no valid assertion", "status": []}
    name_id = r.assertion.subject.name_id
    contesto = r.assertion.authn_statement[0].authn_context.authn_context_class_ref.text
    # The attributes by their SAML names, from the verified assertion.
    attributi = {}
    for st in r.assertion.attribute_statement:
        for at in st.attribute:
            attributi[at.name] = [v.text for v in at.attribute_value]
    return {
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


def verifica(a):
    client = Saml2Client(config(a, a.in_response_to is None))
    with open(a.response_file) as f:
        saml_response = f.read().strip()
    outstanding = {a.in_response_to: "/"} if a.in_response_to else {}
    print(json.dumps(esamina(client, saml_response, outstanding)))


def pagina(titolo, corpo):
    return (
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(titolo)}</title></head><body><h1>{html.escape(titolo)}</h1>"
        f"{corpo}</body></html>"
    ).encode()


def servi(a):
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(a.sign_cert, a.sign_key)
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # Chromium's first connection to a certificate it does not know ends in an alert
            # before it goes on regardless (ignoreHTTPSErrors): not an error of the test.
            if not isinstance(sys.exc_info()[1], ssl.SSLError):
                super().handle_error(request, client_address)

    if a.acs:
        # The address the platform is enrolled with (the demo's https://127.0.0.1:9543/acs).
        voluto = urllib.parse.urlsplit(a.acs)
        indirizzo = (voluto.hostname, voluto.port or 443)
    else:
        indirizzo = ("127.0.0.1", 0)
    server = Server(indirizzo, BaseHTTPRequestHandler)
    # The handshake runs in the handler thread (on first read), not in accept(): a browser's
    # speculative connection that sends nothing must not block the server.
    server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    port = server.server_address[1]
    # localhost, not 127.0.0.1: the browser goes from another site to tsgate and back, as
    # from a real platform (SameSite cookies apply).
    a.acs = a.acs or f"https://localhost:{port}/acs"
    client = Saml2Client(config(a, True))
    idp = next(iter(client.metadata.identity_providers()))
    sso = client.metadata.single_sign_on_service(idp, BINDING_HTTP_REDIRECT)[0]["location"]
    inviate = {}

    class Gestore(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def rispondi(self, stato, corpo, intestazioni=()):
            self.send_response(stato)
            for k, v in intestazioni:
                self.send_header(k, v)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(corpo)))
            self.end_headers()
            self.wfile.write(corpo)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/login":
                return self.rispondi(404, pagina("Non trovato", ""))
            q = dict(urllib.parse.parse_qsl(url.query))
            contesto = RequestedAuthnContext(
                authn_context_class_ref=[
                    AuthnContextClassRef(
                        text=f"https://www.spid.gov.it/SpidL{q.get('livello', '1')}"
                    )
                ],
                comparison="minimum",
            )
            req_id, req = client.create_authn_request(
                sso, binding=BINDING_HTTP_POST, requested_authn_context=contesto, sign=False
            )
            inviate[req_id] = "/"
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(req),
                sso,
                relay_state=q.get("relay", ""),
                sign=True,
                sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            )
            self.rispondi(302, b"", [("Location", dict(info["headers"])["Location"])])

        def do_POST(self):
            if self.path != "/acs":
                return self.rispondi(404, pagina("Non trovato", ""))
            n = int(self.headers.get("Content-Length", "0"))
            campi = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
            esito = esamina(client, campi.get("SAMLResponse", ""), dict(inviate))
            relay = html.escape(campi.get("RelayState", ""))
            if not esito["ok"]:
                corpo = f"<p id=\"errore\">{html.escape(esito['error'])}</p>"
                return self.rispondi(200, pagina(f"{a.nome}: accesso rifiutato", corpo))
            voci = "".join(
                f"<dt>{html.escape(k)}</dt><dd>{html.escape(v[0] or '')}</dd>"
                for k, v in sorted(esito["attributes"].items())
            )
            risposta_a = esito["in_response_to"] or ""
            corpo = (
                f"<dl id=\"attributi\">{voci}</dl>"
                f"<p id=\"contesto\">{html.escape(esito['authn_context'])}</p>"
                f"<p id=\"in-risposta\">{html.escape(risposta_a)}</p>"
                f"<p id=\"relay\">{relay}</p>"
            )
            self.rispondi(200, pagina(f"{a.nome}: accesso riuscito", corpo))

    server.RequestHandlerClass = Gestore
    print(json.dumps({"port": port, "acs": a.acs}), flush=True)
    server.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for nome in ("richiesta", "verifica", "servi"):
        s = sub.add_parser(nome)
        s.add_argument("--entity-id", required=True)
        s.add_argument("--sign-cert", required=True)
        s.add_argument("--sign-key", required=True)
        s.add_argument("--idp-metadata", required=True)
        if nome == "servi":
            s.add_argument("--nome", required=True)
            s.add_argument("--acs")
            continue
        s.add_argument("--acs", required=True)
        if nome == "richiesta":
            s.add_argument("--relay")
            s.add_argument("--livello", default="1")
        else:
            s.add_argument("--response-file", required=True)
            s.add_argument("--in-response-to")
    a = p.parse_args()
    {"richiesta": richiesta, "verifica": verifica, "servi": servi}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
