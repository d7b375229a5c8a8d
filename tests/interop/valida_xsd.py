#!/usr/bin/env python3
"""Validates XML documents against an XSD with libxml2 (lxml), independently of the gateway.

Usage: valida_xsd.py SCHEMA.xsd DOC.xml [DOC.xml ...]
Prints one line per document ("ok" or the first error); exits 1 if any is invalid.
"""
import sys

from lxml import etree


def main():
    schema = etree.XMLSchema(etree.parse(sys.argv[1]))
    bad = 0
    for path in sys.argv[2:]:
        doc = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
        if schema.validate(doc):
            print(f"{path}: ok")
        else:
            bad += 1
            print(f"{path}: {schema.error_log.last_error}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
