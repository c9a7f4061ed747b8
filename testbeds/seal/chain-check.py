#!/usr/bin/env python3
"""An independent verifier of Palazzo's sealed certificates (issue 5), as a
third party would write it from docs/seal-format.md, with other people's
code only: pycose (with cbor2 < 6), cbor2 and cryptography for the COSE
and CWT parts, zxing-cpp and pillow for the QR code. Used by
crates/services/tests/certificati_catena.rs.

  chain-check.py verify --trust-list FILE --list-key PEM
                        [--status-list FILE] [--now SECONDS]   < text
      Verifies the PZ1 text on stdin against the comune's PUBLISHED trust
      list (the bytes of /.well-known/palazzo/trust-list) whose COSE_Sign1
      must verify with the list key PEM (/.well-known/palazzo/
      trust-list-key), and optionally a status list token (the bytes of
      /.well-known/palazzo/status-list/<n>, signed by the same list key).
      Checks in the order of docs/seal-format.md:
        altered      not PZ1: + Base45 of a COSE_Sign1 with alg -7/-8 and an
                     empty unprotected header, or no trusted key with the
                     seal's kid verifies the signature, or bad claims;
        unknown_key  no trust list entry has the kid, or iat is outside the
                     entry's not_before..not_after, or the entry may not
                     seal the document type, or iss is not the list's;
        revoked      the status list for the seal's uri and iss has bit
                     idx set (bit idx % 8, least significant first, of byte
                     idx // 8, after zlib inflation);
        expired      exp <= now (now defaults to the clock; nascita and
                     storico di residenza have no exp);
        valid        otherwise.
      Prints one JSON object: verdict, reason, kid, iss, iat, exp, cti,
      doc_type, hash_only, pairs (the printed [label, value] pairs),
      record_hash, status ({idx, uri} or null) and status_checked (whether
      the status list given was the seal's). Exit 0 when valid, 1 for any
      other verdict, 3 when the trust list or the status list does not
      verify with the list key (no verdict), 2 on bad usage or a crash.

  chain-check.py qr IMAGE [--blur-jpeg]
      Decodes the QR code in IMAGE with zxing-cpp and prints its text (exit
      1 when none). With --blur-jpeg the image is first degraded as a poor
      scan would be: a Gaussian blur of radius 1 pixel, then JPEG at
      quality 25 (pillow).

By hand, for a certificate downloaded from a comune (Palazzo serves the
three files; `python` is the seal venv, testbeds/seal/setup.sh prints it):

  curl -so trust.cwt  https://<comune>/.well-known/palazzo/trust-list
  curl -so list.pem   https://<comune>/.well-known/palazzo/trust-list-key
  curl -so status.cwt https://<comune>/.well-known/palazzo/status-list/2026
  pdftoppm -r 150 -png -singlefile certificato.pdf page
  python testbeds/seal/chain-check.py qr page.png > seal.txt
  python testbeds/seal/chain-check.py verify --trust-list trust.cwt \\
      --list-key list.pem --status-list status.cwt < seal.txt
"""
import argparse
import hashlib
import io
import json
import sys
import time
import zlib

TRUST_LIST_TYP = "application/palazzo-trust-list+cwt"
STATUS_LIST_TYP = "application/statuslist+cwt"
COSE_TYP = 16  # RFC 9596


class ListRefused(Exception):
    """The trust list or the status list does not verify with the list key."""


def header(hdr, label):
    """A header value by its integer label, whether pycose knows the
    attribute (a class with an identifier) or keeps the bare integer."""
    for k, v in hdr.items():
        if k == label or getattr(k, "identifier", None) == label:
            return v
    return None


def cose_key(spki_der):
    from cryptography.hazmat.primitives import serialization
    from pycose.keys import CoseKey

    public = serialization.load_der_public_key(spki_der)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return CoseKey.from_pem_public_key(pem)


def kid_of(spki_der):
    return hashlib.sha256(spki_der).digest()[:8]


def verifies(msg, spki_der):
    msg.key = cose_key(spki_der)
    try:
        return bool(msg.verify_signature())
    except Exception:  # noqa: BLE001 - a key that does not fit does not verify
        return False


def signed_list(data, list_spki, typ, what):
    """The payload of a list signed by the list key, or ListRefused."""
    import cbor2
    from pycose.messages import Sign1Message

    try:
        msg = Sign1Message.decode(data)
    except Exception as e:  # noqa: BLE001
        raise ListRefused(f"{what}: not a COSE_Sign1 ({e})") from e
    if header(msg.phdr, COSE_TYP) != typ:
        raise ListRefused(f"{what}: typ is not {typ}")
    if header(msg.phdr, 4) != kid_of(list_spki):
        raise ListRefused(f"{what}: not signed by the list key (kid)")
    if not verifies(msg, list_spki):
        raise ListRefused(f"{what}: the signature does not verify with the list key")
    return cbor2.loads(msg.payload)


def trust_list(data, list_spki):
    payload = signed_list(data, list_spki, TRUST_LIST_TYP, "trust list")
    entries = []
    for e in payload[-65538]:
        spki = e[2]
        if e[1] != kid_of(spki):
            raise ListRefused("trust list: an entry's kid is not SHA-256(SPKI)[:8]")
        entries.append(
            {
                "kid": e[1],
                "spki": spki,
                "not_before": e[3],
                "not_after": e.get(4),
                "doc_types": list(e[5]),
            }
        )
    return {"iss": payload[1], "iat": payload[6], "entries": entries}


def status_list(data, list_spki):
    payload = signed_list(data, list_spki, STATUS_LIST_TYP, "status list")
    sl = payload[65533]
    if sl.get("bits") != 1:
        raise ListRefused("status list: only 1-bit lists are supported")
    return {"iss": payload[1], "uri": payload[2], "bits": zlib.decompress(sl["lst"])}


def is_set(bits, idx):
    """Bit idx of the list (IETF Token Status List: bit idx % 8, least
    significant first, of byte idx // 8); False beyond the list."""
    byte = idx // 8
    return byte < len(bits) and (bits[byte] >> (idx % 8)) & 1 == 1


def verdict(text, trust, status, now):
    """(verdict, reason, details) of a PZ1 text."""
    import base45
    import cbor2
    from pycose.headers import KID, Algorithm
    from pycose.messages import Sign1Message

    out = {"kid": None}
    text = text.strip()
    if not text.startswith("PZ1:"):
        return "altered", "no PZ1: prefix", out
    try:
        raw = base45.b45decode(text[4:])
        if raw[:1] == b"\x78":
            raw = zlib.decompress(raw)
        msg = Sign1Message.decode(raw)
    except Exception as e:  # noqa: BLE001 - any decoding failure is altered
        return "altered", f"not a COSE_Sign1: {e}", out
    alg = msg.phdr.get(Algorithm)
    alg = getattr(alg, "identifier", alg)
    kid = msg.phdr.get(KID)
    if alg not in (-7, -8) or not isinstance(kid, bytes) or len(kid) != 8:
        return "altered", "alg or kid", out
    if msg.uhdr or header(msg.phdr, COSE_TYP) is not None:
        return "altered", "not a seal's header", out
    out["kid"] = kid.hex()
    candidates = [e for e in trust["entries"] if e["kid"] == kid]
    if not candidates:
        return "unknown_key", "kid not in the trust list", out
    good = [e for e in candidates if verifies(msg, e["spki"])]
    if not good:
        return "altered", "signature does not verify", out
    try:
        claims = cbor2.loads(msg.payload)
        pz = claims[-65537]
        st = claims.get(65535)
        out.update(
            {
                "iss": claims[1],
                "iat": claims[6],
                "exp": claims.get(4),
                "cti": claims[7].hex(),
                "doc_type": pz[2],
                "hash_only": pz.get(5) == 1,
                "pairs": [[p[0], p[1]] for p in pz[3]],
                "record_hash": pz[4].hex(),
                "status": None
                if st is None
                else {"idx": st["status_list"]["idx"], "uri": st["status_list"]["uri"]},
            }
        )
    except Exception as e:  # noqa: BLE001
        return "altered", f"claims: {e!r}", out
    iat = out["iat"]
    in_period = [
        e
        for e in good
        if e["not_before"] <= iat and (e["not_after"] is None or iat <= e["not_after"])
    ]
    if out["iss"] != trust["iss"]:
        return "unknown_key", "issuer is not the trust list's", out
    if not in_period:
        return "unknown_key", "key not valid at iat", out
    if not any(out["doc_type"] in e["doc_types"] for e in in_period):
        return "unknown_key", "key may not seal this document type", out
    out["status_checked"] = False
    if status is not None and out["status"] is not None:
        if status["uri"] == out["status"]["uri"] and status["iss"] == out["iss"]:
            out["status_checked"] = True
            if is_set(status["bits"], out["status"]["idx"]):
                return "revoked", None, out
    if out["exp"] is not None and out["exp"] <= now:
        return "expired", None, out
    return "valid", None, out


def read_pem_spki(path):
    from cryptography.hazmat.primitives import serialization

    with open(path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cmd_verify(args):
    list_spki = read_pem_spki(args.list_key)
    try:
        with open(args.trust_list, "rb") as f:
            trust = trust_list(f.read(), list_spki)
        status = None
        if args.status_list:
            with open(args.status_list, "rb") as f:
                status = status_list(f.read(), list_spki)
    except ListRefused as e:
        print(json.dumps({"verdict": None, "error": str(e)}))
        return 3
    now = args.now if args.now is not None else int(time.time())
    v, reason, out = verdict(sys.stdin.read(), trust, status, now)
    print(json.dumps({"verdict": v, "reason": reason, **out}, ensure_ascii=False))
    return 0 if v == "valid" else 1


def cmd_qr(args):
    import zxingcpp
    from PIL import Image, ImageFilter

    img = Image.open(args.image)
    if args.blur_jpeg:
        buf = io.BytesIO()
        img.convert("RGB").filter(ImageFilter.GaussianBlur(1)).save(
            buf, format="JPEG", quality=25
        )
        buf.seek(0)
        img = Image.open(buf)
    found = [
        b
        for b in zxingcpp.read_barcodes(img)
        if b.format == zxingcpp.BarcodeFormat.QRCode
    ]
    if not found:
        return 1
    sys.stdout.write(found[0].text)
    return 0


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--trust-list", required=True)
    v.add_argument("--list-key", required=True)
    v.add_argument("--status-list")
    v.add_argument("--now", type=int)
    q = sub.add_parser("qr")
    q.add_argument("image")
    q.add_argument("--blur-jpeg", action="store_true")
    args = p.parse_args()
    return cmd_verify(args) if args.cmd == "verify" else cmd_qr(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001
        print(f"chain-check.py crashed: {e!r}", file=sys.stderr)
        sys.exit(2)
