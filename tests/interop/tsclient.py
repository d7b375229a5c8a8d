"""Shared by the zeep interoperability scripts: a zeep client over mutual TLS for one served
WSDL, and the served XSD compiled by libxml2 (lxml) to validate what goes and comes back."""
import requests
import zeep
from lxml import etree
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def session_for(ca, cert, key):
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
    session.verify = ca
    session.cert = (cert, key)
    return session


class Service:
    """One operation's endpoint: `call(**fields)` returns the serialized answer after checking
    that both the request zeep wrote and the response are valid against the served schema."""

    def __init__(self, base, operation, session):
        endpoint = f"{base}/ws/{operation}"
        self.operation = operation
        self.history = HistoryPlugin()
        self.client = zeep.Client(f"{endpoint}?wsdl", transport=Transport(session=session),
                                  plugins=[self.history])

        # The schema as served (imports fetched through ?xsd= over the same mTLS session).
        class SessionResolver(etree.Resolver):
            def resolve(self, url, pubid, context):
                return self.resolve_string(session.get(url).content, context)

        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(SessionResolver())
        xsd_url = f"{endpoint}?xsd={operation}.xsd"
        xsd_doc = etree.fromstring(session.get(xsd_url).content, parser=parser, base_url=xsd_url)
        self.schema = etree.XMLSchema(xsd_doc, attribute_defaults=False)

    @staticmethod
    def body_child(envelope):
        return envelope.find(f"{{{SOAP11}}}Body")[0]

    def call(self, **fields):
        resp = getattr(self.client.service, self.operation)(**fields)
        self.schema.assertValid(etree.ElementTree(self.body_child(self.history.last_sent["envelope"])))
        self.schema.assertValid(etree.ElementTree(self.body_child(self.history.last_received["envelope"])))
        return zeep.helpers.serialize_object(resp, target_cls=dict)

    def fault(self, **fields):
        """The fault a call ends in: faultcode, faultstring and the gateway's codice."""
        try:
            getattr(self.client.service, self.operation)(**fields)
            return None
        except zeep.exceptions.Fault as fault:
            detail = fault.detail
            code = detail.find(".//{urn:tsgate:errori}codice").text if detail is not None else None
            return {"faultcode": str(fault.code), "faultstring": fault.message, "codice": code}
