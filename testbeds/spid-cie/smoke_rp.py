#!/usr/bin/env python
"""Stand-in Relying Party: proves the test federation works end to end, headlessly.

  smoke_rp.py --state STATE_DIR [--port 8190] [--user mario.rossi] [--password cittadino-test]

Serves its own Entity Configuration on 127.0.0.1:PORT, registers itself at the TA with
register_rp.py, then for every OP in federation.json: signed request object -> login form
POST -> consent POST -> callback (code, state, iss) -> token (private_key_jwt + PKCE) ->
RS256 ID token check -> userinfo JWE(JWS) decrypt -> token revocation. Prints the claims.
Run it with the test-bed venv python (cryptojwt, requests).
"""
import argparse, base64, hashlib, json, re, secrets, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from cryptojwt.jwe.jwe import factory as jwe_factory
from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jwk.rsa import new_rsa_key
from cryptojwt.jws.jws import JWS

HERE = Path(__file__).resolve().parent
L2 = "https://www.spid.gov.it/SpidL2"
CLAIMS = {
    "spid": {"userinfo": {n: {"essential": True} for n in (
        "given_name", "family_name", "email", "https://attributes.eid.gov.it/fiscal_number")}
        | {n: None for n in ("phone_number", "birthdate", "place_of_birth", "gender",
                             "https://attributes.eid.gov.it/spid_code")}},
    "cie": {"userinfo": {n: None for n in (
        "given_name", "family_name", "email", "fiscal_number", "birthdate", "place_of_birth",
        "phone_number", "email_verified")},
        "id_token": {"given_name": None, "family_name": None, "fiscal_number": None}},
}


def jwk(use):
    k = new_rsa_key(); k.add_kid()
    d = k.serialize(private=True); d["kid"] = k.kid; d["use"] = use
    return d


def pub(d):
    return {n: v for n, v in d.items() if n not in ("d", "p", "q", "dp", "dq", "qi")}


def sign(payload, key, typ=None):
    h = {"typ": typ} if typ else {}
    return JWS(json.dumps(payload), alg="RS256", **h).sign_compact([key_from_jwk_dict(key)])


def verify(token, keys):
    kid = json.loads(b64d(token.split(".")[0])).get("kid")
    k = [key_from_jwk_dict(x) for x in keys if x.get("kid") == kid]
    assert k, f"no key {kid}"
    return JWS(alg="RS256").verify_compact(token, k)


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hidden(html, name):
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    assert m, f"hidden input {name} not found"
    return m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--port", type=int, default=8190)
    ap.add_argument("--user", default="mario.rossi")
    ap.add_argument("--password", default="cittadino-test")
    a = ap.parse_args()
    fed = json.loads((Path(a.state) / "federation.json").read_text())
    rp = f"http://127.0.0.1:{a.port}"
    cb = f"{rp}/callback"
    fed_key, sig_key, enc_key = jwk("sig"), jwk("sig"), jwk("enc")

    def ec():
        now = int(time.time())
        return sign({"iss": rp, "sub": rp, "iat": now, "exp": now + 3600,
                     "authority_hints": [fed["trust_anchor"]], "jwks": {"keys": [pub(fed_key)]},
                     "metadata": {"openid_relying_party": {
                         "client_id": rp, "client_name": "Palazzo smoke RP",
                         "organization_name": "Comune di Prova", "contacts": ["rp@palazzo.test"],
                         "redirect_uris": [cb], "response_types": ["code"],
                         "grant_types": ["authorization_code", "refresh_token"],
                         "client_registration_types": ["automatic"],
                         "jwks": {"keys": [pub(sig_key), pub(enc_key)]}}}},
                    fed_key, typ="entity-statement+jwt")

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path.split("?")[0] == "/.well-known/openid-federation"
            body = ec().encode() if ok else b"palazzo smoke rp\n"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/entity-statement+jwt" if ok else "text/plain")
            self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    subprocess.run([sys.executable, str(HERE / "register_rp.py"), "--state", a.state, rp,
                    json.dumps({"keys": [pub(fed_key)]})], check=True)

    for profile, op in fed["openid_providers"].items():
        t0 = time.monotonic()
        s = requests.Session()
        op_ec = s.get(f"{op}/.well-known/openid-federation").text
        op_md = verify(op_ec, json.loads(b64d(op_ec.split(".")[1]))["jwks"]["keys"])  # self-signed
        op_md = op_md["metadata"]["openid_provider"]
        op_keys = op_md["jwks"]["keys"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        scope = "openid" if profile == "spid" else "openid profile email"
        now = int(time.time())
        req = sign({"client_id": rp, "iss": rp, "aud": [op, op_md["authorization_endpoint"]],
                    "iat": now, "exp": now + 300, "jti": secrets.token_hex(8),
                    "response_type": "code", "scope": scope, "redirect_uri": cb,
                    "code_challenge": challenge, "code_challenge_method": "S256",
                    "nonce": nonce, "state": state, "acr_values": [L2], "prompt": "consent login",
                    "claims": CLAIMS[profile]}, sig_key)
        r = s.get(op_md["authorization_endpoint"], params=dict(
            client_id=rp, response_type="code", scope=scope, code_challenge=challenge,
            code_challenge_method="S256", request=req), allow_redirects=False)
        assert r.status_code == 200, (r.status_code, r.headers.get("Location"))
        bad = s.post(op_md["authorization_endpoint"], allow_redirects=False, data=dict(
            username=a.user, password="wrong-password",
            csrfmiddlewaretoken=hidden(r.text, "csrfmiddlewaretoken"),
            authz_request_object=hidden(r.text, "authz_request_object")))
        bad_login = f"{bad.status_code} form again: {'authz_request_object' in bad.text}"
        r = s.post(op_md["authorization_endpoint"], allow_redirects=False, data=dict(
            username=a.user, password=a.password,
            csrfmiddlewaretoken=hidden(r.text, "csrfmiddlewaretoken"),
            authz_request_object=hidden(r.text, "authz_request_object")))
        assert r.status_code == 302 and r.headers["Location"].endswith("/oidc/op/consent"), r.status_code
        login_location = r.headers["Location"]
        consent = requests.compat.urljoin(op, login_location)
        r = s.get(consent)
        assert r.status_code == 200, r.status_code
        agree = hidden(r.text, "agree")
        r = s.post(consent, allow_redirects=False, data=dict(
            agree=agree, csrfmiddlewaretoken=hidden(r.text, "csrfmiddlewaretoken")))
        loc = r.headers.get("Location", "")
        assert r.status_code == 302 and loc.startswith(cb + "?"), (r.status_code, loc)
        q = {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}
        assert q["state"] == state and q["iss"] == op, q

        def assertion(aud):
            n = int(time.time())
            return sign({"iss": rp, "sub": rp, "aud": [aud], "iat": n, "exp": n + 60,
                         "jti": secrets.token_hex(16)}, sig_key)
        ca_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        r = s.post(op_md["token_endpoint"], data=dict(
            grant_type="authorization_code", code=q["code"], code_verifier=verifier,
            client_id=rp, client_assertion=assertion(op_md["token_endpoint"]),
            client_assertion_type=ca_type))
        assert r.status_code == 200, (r.status_code, r.text)
        tok = r.json()
        idt = verify(tok["id_token"], op_keys)
        assert idt["iss"] == op and rp in idt["aud"] and idt["nonce"] == nonce, idt
        r = s.get(op_md["userinfo_endpoint"], headers={"Authorization": f"Bearer {tok['access_token']}"})
        assert r.status_code == 200, r.status_code
        ui_ctype = r.headers.get("Content-Type")
        inner = jwe_factory(r.text).decrypt(r.text, [key_from_jwk_dict(enc_key)]).decode()
        ui = verify(inner, op_keys)
        assert ui["sub"] == idt["sub"], (ui, idt)
        r = s.post(op_md["revocation_endpoint"], data=dict(
            token=tok["access_token"], client_id=rp, client_assertion_type=ca_type,
            client_assertion=assertion(op_md["revocation_endpoint"])))
        revoked = r.status_code
        gone = s.get(op_md["userinfo_endpoint"],
                     headers={"Authorization": f"Bearer {tok['access_token']}"}).status_code
        print(json.dumps({"profile": profile, "op": op, "seconds": round(time.monotonic() - t0, 2),
                          "wrong_password": bad_login, "login_302_location": login_location,
                          "consent_agree_value": agree, "cookies": sorted(s.cookies.keys()),
                          "userinfo_content_type": ui_ctype,
                          "id_token": idt, "userinfo": ui,
                          "revocation_status": revoked, "userinfo_after_revocation": gone},
                         indent=2, ensure_ascii=False))
    srv.shutdown()


if __name__ == "__main__":
    main()
