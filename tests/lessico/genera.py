"""The cases of the generated lexical test (tests/lessico.rs): for every simple element of every
operation's request, a set of lexical forms, each judged by the published schema.

For each operation, the valid sample request `fixtures/requests/<Op>.xml` is the base; for each
simple element its XSD type allows in the request (present in the sample or not: an absent
optional element is inserted at its place in the sequence), the element's text is replaced by
each form of the set for its type's primitive (dates with and without time zones, integers
with signs, leading zeros and whitespace, the four booleans, strings padded and cut...). Each
resulting Body element is judged by two independent validators, xmlschema (Python, XSD 1.0)
and xmllint (libxml2); the verdict is theirs, and a form on which they disagree is reported
and fails the run, with one known exception: libxml2 (2.9.14, Debian 12) checks the range
facets of a type derived from xs:int/xs:long on the text before collapsing its whitespace, so
it refuses ` 1 ` for doseType although XSD 1.0 (part 2, 4.3.6: whiteSpace collapse is fixed for
every non-string type) and xmlschema accept it; there the specification's verdict stands. Prints one JSON array of cases:
{"op", "field", "value", "valid", "envelope"}.

Usage: genera.py XSD_DIR FIXTURES_DIR
"""

import json
import os
import subprocess
import sys
import tempfile

import xmlschema
from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XS = "http://www.w3.org/2001/XMLSchema"

OPERAZIONI = [
    "AttivazioneTSCNS",
    "RevocaTSCNS",
    "ElencoSerieCarte",
    "VerificaRinnovoCertificato",
    "RegistraRinnovoCertificato",
    "ElencoRevoche",
    "ConfermaRevoche",
    "VerificaAssistitoFuoriRegione",
    "TrasmissionePrenotazione",
    "TrasmissioneSomministrazione",
    "VerificaSomministrazioni",
]

DATE = [
    "2028-01-31", "2028-01-31Z", "2028-01-31+01:00", "2028-01-31-05:00", "2028-01-31+14:00",
    "2028-01-31-14:00", "2028-01-31+00:00", "2028-01-31+14:01", "2028-01-31+15:00",
    "2028-01-31+1:00", "2028-01-31+0100", "2028-01-31z", "2028-01-31 Z", " 2028-01-31 ",
    "\n\t2028-01-31Z\r\n", "2028-1-31", "28-01-31", "12028-01-31", "0000-01-01", "2028-02-30",
    "2024-02-29", "2100-02-29", "2000-02-29", "2028-13-01", "2028-01-31T00:00:00",
    "31/01/2028", "-2028-01-31", "", " ",
]
INTEGER = [
    "0", "1", "+1", "01", "001", "-0", "+0", " 1 ", "\n1\t", "-1", "9", "10", "+9", "09",
    "1000", "1001", "1.0", "1e0", "", " ", "+", "-", "a", "1 2", "2147483647", "2147483648",
    "9223372036854775807", "9223372036854775808",
]
BOOLEAN = ["true", "false", "1", "0", " true ", "\tfalse\n", "TRUE", "True", "yes", "", "2", "01"]


def string_forms(value, enumeration):
    forms = [value, " " + value, value + " ", "\t" + value + "\n", value.lower(), value.upper(),
             value[:-1], value + value[-1:], value + "X", "", " ", value.replace(value[:1], "  ", 1)]
    for e in enumeration:
        forms += [e, " " + e, e + " "]
    return forms


def primitive(xsd_type):
    t = xsd_type
    while t is not None and not t.is_global() or (t is not None and t.target_namespace != XS):
        t = t.base_type
    return t.local_name if t is not None else "string"


def forms_for(xsd_type, value):
    p = primitive(xsd_type)
    if p == "date":
        return DATE
    if p in ("int", "long", "short", "integer", "nonNegativeInteger", "positiveInteger"):
        return INTEGER
    if p == "boolean":
        return BOOLEAN
    enumeration = []
    t = xsd_type
    while t is not None and t.target_namespace != XS:
        enumeration += [str(e) for e in (getattr(t, "enumeration", None) or [])]
        t = t.base_type
    return string_forms(value or "A", enumeration)


def sample_value(xsd_type):
    p = primitive(xsd_type)
    return {"date": "2028-01-31", "boolean": "true"}.get(p, "1")


class Xmllint:
    """xmllint over a batch of documents: one process per schema, its verdict per file."""

    def verdicts(self, xsd, docs):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, doc in enumerate(docs):
                p = os.path.join(d, f"{i}.xml")
                with open(p, "wb") as f:
                    f.write(doc)
                paths.append(p)
            out = subprocess.run(["xmllint", "--noout", "--schema", xsd, *paths],
                                 capture_output=True, text=True)
            ok = set()
            for line in out.stderr.splitlines():
                if line.endswith(" validates"):
                    ok.add(line[: -len(" validates")])
            return [p in ok for p in paths]


def cases_of(xsd_dir, fixtures, op, out, disagreements):
    schema = xmlschema.XMLSchema10(os.path.join(xsd_dir, f"{op}.xsd"))
    envelope = etree.parse(os.path.join(fixtures, f"{op}.xml"))
    body = envelope.find(f"{{{SOAP}}}Body")
    request = body[0]
    decl = schema.elements[etree.QName(request).localname]
    ns = decl.target_namespace

    def walk(xsd_el, el, path):
        """Yields (path, xsd element, lxml element) of each simple leaf, inserting absent
        optional ones (one at a time: the caller removes them again)."""
        children = list(xsd_el.type.content.iter_elements()) if xsd_el.type.has_complex_content() else []
        for child in children:
            name = child.local_name
            present = el.findall(f"{{{ns}}}{name}")
            if child.type.is_simple() or child.type.has_simple_content():
                if present:
                    yield f"{path}{name}", child, present[0], False
                else:
                    yield f"{path}{name}", child, (el, children, child), True
            elif present:
                yield from walk(child, present[0], f"{path}{name}/")

    def insert(parent, children, child):
        """Inserts an empty `child` where the sequence puts it; returns it."""
        order = [c.local_name for c in children]
        new = etree.Element(f"{{{ns}}}{child.local_name}")
        at = order.index(child.local_name)
        pos = 0
        for i, existing in enumerate(parent):
            if etree.QName(existing).localname in order[:at]:
                pos = i + 1
        parent.insert(pos, new)
        return new

    batch = []
    for path, xsd_child, target, absent in list(walk(decl, request, "")):
        if absent:
            parent, children, child = target
            el = insert(parent, children, child)
            base = sample_value(child.type)
        else:
            el = target
            base = el.text or ""
        original = el.text
        for value in forms_for(xsd_child.type, base):
            el.text = value
            batch.append((path, value, etree.tostring(request), etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")))
        if absent:
            el.getparent().remove(el)
        else:
            el.text = original
    lint = Xmllint().verdicts(os.path.join(xsd_dir, f"{op}.xsd"), [b for _, _, b, _ in batch])
    for (path, value, req, env), by_lint in zip(batch, lint):
        by_xmlschema = schema.is_valid(req.decode("utf-8"))
        libxml2_whitespace_bug = (by_xmlschema and not by_lint and value.strip() != value
                                  and value.strip().lstrip("+-").isdigit())
        if by_xmlschema != by_lint and not libxml2_whitespace_bug:
            disagreements.append({"op": op, "field": path, "value": value,
                                  "xmlschema": by_xmlschema, "xmllint": by_lint})
            continue
        out.append({"op": op, "field": path, "value": value, "valid": by_xmlschema,
                    "envelope": env.decode("utf-8")})


def main():
    xsd_dir, fixtures = sys.argv[1], sys.argv[2]
    cases, disagreements = [], []
    for op in OPERAZIONI:
        cases_of(xsd_dir, fixtures, op, cases, disagreements)
    if disagreements:
        print(json.dumps({"disagreements": disagreements}, indent=1), file=sys.stderr)
        sys.exit(1)
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
