#!/usr/bin/env python3
"""Independent checks of Palazzo's segnatura di protocollo (Allegato 6).

Run with the venv python of testbeds/xml/setup.sh (scripts/test exports it
as PALAZZO_XML_PYTHON):

  segnatura-check.py validate FILE [--xsd XSD]  XSD validation (xmlschema);
                                                prints VALID or INVALID: reason
  segnatura-check.py verify FILE --ca CA.pem    XAdES verification (signxml);
                                                prints VERIFIED or FAILED: Class: reason
  segnatura-check.py c14n FILE                  exc-c14n (lxml) of the document
                                                without ds:Signature, to stdout
  segnatura-check.py sign FILE --key K --cert C --out OUT
                                                XAdES-B-B enveloped signature made
                                                by signxml (c14n 1.1, as another
                                                AOO's system would send it)

Exit status 0 on VALID / VERIFIED / c14n written, 1 otherwise.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_XSD = os.environ.get(
    "PALAZZO_SEGNATURA_XSD",
    # A verbatim copy of the official AgID schemas (shared/schemas/agid-segnatura,
    # not edited), kept in the repository so a clean clone validates on its own.
    os.path.join(REPO, "testbeds", "xml", "schemas", "segnatura_protocollo.xsd"),
)
DS = "http://www.w3.org/2000/09/xmldsig#"


def validate(path, xsd):
    import xmlschema

    # A schema that cannot be loaded is a broken set-up, not an invalid
    # document: exit 3, which the Rust tests report as a crash.
    try:
        schema = xmlschema.XMLSchema(xsd)
    except Exception as e:  # noqa: BLE001
        print("cannot load the XSD %s: %s" % (xsd, e), file=sys.stderr)
        return 3
    errors = list(schema.iter_errors(path))
    if not errors:
        print("VALID")
        return 0
    for e in errors:
        print("INVALID: %s (path %s)" % (e.reason, e.path))
    return 1


def verify(path, ca):
    from signxml.xades import XAdESVerifier, XAdESSignatureConfiguration

    with open(path, "rb") as f:
        data = f.read()
    try:
        results = XAdESVerifier().verify(
            data,
            ca_pem_file=ca,
            expect_config=XAdESSignatureConfiguration(expect_references=2),
        )
    except Exception as e:  # report the class: InvalidDigest, InvalidSignature, ...
        print("FAILED: %s: %s" % (type(e).__name__, e))
        return 1
    props = [r for r in results if getattr(r, "signed_properties", None) is not None]
    print("VERIFIED references=%d signed_properties=%d" % (len(results), len(props)))
    return 0


def c14n(path):
    from lxml import etree

    tree = etree.parse(path, etree.XMLParser(remove_blank_text=False))
    root = tree.getroot()
    for sig in root.findall("{%s}Signature" % DS):
        root.remove(sig)
    sys.stdout.buffer.write(etree.tostring(tree, method="c14n", exclusive=True, with_comments=False))
    return 0


def sign(path, key, cert, out):
    from lxml import etree
    from signxml import methods
    from signxml.xades import XAdESSigner

    with open(key, "rb") as f:
        key_pem = f.read()
    alg = "ecdsa-sha256" if b"EC PRIVATE" in key_pem or b"BEGIN PRIVATE" in key_pem and _is_ec(key_pem) else "rsa-sha256"
    doc = etree.parse(path).getroot()
    signed = XAdESSigner(
        method=methods.enveloped, signature_algorithm=alg, digest_algorithm="sha256"
    ).sign(doc, key=key_pem, cert=open(cert).read())
    with open(out, "wb") as f:
        f.write(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    return 0


def _is_ec(pem):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from cryptography.hazmat.primitives.asymmetric import ec

    return isinstance(load_pem_private_key(pem, None), ec.EllipticCurvePrivateKey)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("file")
    v.add_argument("--xsd", default=DEFAULT_XSD)
    s = sub.add_parser("verify")
    s.add_argument("file")
    s.add_argument("--ca", required=True)
    c = sub.add_parser("c14n")
    c.add_argument("file")
    g = sub.add_parser("sign")
    g.add_argument("file")
    g.add_argument("--key", required=True)
    g.add_argument("--cert", required=True)
    g.add_argument("--out", required=True)
    a = p.parse_args()
    if a.cmd == "validate":
        return validate(a.file, a.xsd)
    if a.cmd == "verify":
        return verify(a.file, a.ca)
    if a.cmd == "sign":
        return sign(a.file, a.key, a.cert, a.out)
    return c14n(a.file)


if __name__ == "__main__":
    sys.exit(main())
