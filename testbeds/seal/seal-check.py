#!/usr/bin/env python3
"""Independent checks of the PZ1 seal (docs/seal-format.md) with other
people's code: pycose (with cbor2 < 6), base45, cryptography, zxing-cpp.

  seal-check.py verify SPKI_HEX      < text   PZ1 text on stdin
      Strips "PZ1:", Base45-decodes (base45), inflates only after a 0x78
      zlib header, decodes the COSE_Sign1 (pycose), checks that the
      protected header has alg -7 or -8 and kid = SHA-256(SPKI)[:8], verifies
      the signature with the key (cryptography -> pycose), decodes the CWT
      claims (cbor2) and prints them as JSON. Exit 0 when the signature
      verifies, 1 when it does not, 2 on a crash.

  seal-check.py qr IMAGE              decodes the QR code in IMAGE (PGM/PNG)
      with zxing-cpp and prints its text. Exit 1 when there is none.
"""
import hashlib
import json
import sys
import zlib


def verify(spki_hex: str) -> int:
    import base45
    import cbor2
    from cryptography.hazmat.primitives import serialization
    from pycose.headers import KID, Algorithm
    from pycose.keys import CoseKey
    from pycose.messages import Sign1Message

    text = sys.stdin.read()
    if not text.startswith("PZ1:"):
        print(json.dumps({"error": "no PZ1: prefix"}))
        return 1
    try:
        raw = base45.b45decode(text[4:])
    except Exception as e:  # noqa: BLE001 - any decoding failure is a refusal
        print(json.dumps({"error": f"base45: {e}"}))
        return 1
    if raw[:1] == b"\x78":
        raw = zlib.decompress(raw)
    spki = bytes.fromhex(spki_hex)
    try:
        msg = Sign1Message.decode(raw)
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"COSE: {e}"}))
        return 1
    alg = msg.phdr.get(Algorithm)
    kid = msg.phdr.get(KID)
    alg_id = getattr(alg, "identifier", alg)
    if alg_id not in (-7, -8):
        print(json.dumps({"error": f"alg {alg_id}"}))
        return 1
    if kid != hashlib.sha256(spki).digest()[:8]:
        print(json.dumps({"error": "kid is not SHA-256(SPKI)[:8]"}))
        return 1
    public = serialization.load_der_public_key(spki)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    msg.key = CoseKey.from_pem_public_key(pem)
    try:
        ok = msg.verify_signature()
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"verify: {e}"}))
        return 1
    if not ok:
        print(json.dumps({"error": "signature does not verify"}))
        return 1
    claims = cbor2.loads(msg.payload)
    palazzo = claims[-65537]
    out = {
        "alg": alg_id,
        "kid": kid.hex(),
        "iss": claims[1],
        "iat": claims[6],
        "exp": claims.get(4),
        "cti": claims[7].hex(),
        "version": palazzo[1],
        "doc_type": palazzo[2],
        "pairs": [list(p) for p in palazzo[3]],
        "record_hash": palazzo[4].hex(),
        "hash_only": palazzo.get(5) == 1,
        "status": claims.get(65535),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


def qr(path: str) -> int:
    import zxingcpp
    from PIL import Image

    found = [
        b for b in zxingcpp.read_barcodes(Image.open(path))
        if b.format == zxingcpp.BarcodeFormat.QRCode
    ]
    if not found:
        return 1
    sys.stdout.write(found[0].text)
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        return verify(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "qr":
        return qr(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        print(f"seal-check.py crashed: {e!r}", file=sys.stderr)
        sys.exit(2)
