"""Shared helpers for bootstrap.py and register_rp.py (Palazzo SPID/CIE test-bed).

Call setup_django() before importing anything from spid_cie_oidc.
"""
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SPID_L1 = "https://www.spid.gov.it/SpidL1"
SPID_L2 = "https://www.spid.gov.it/SpidL2"
SPID_L3 = "https://www.spid.gov.it/SpidL3"
SIG_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
ENC_ALGS = ["RSA-OAEP", "RSA-OAEP-256"]
ENC_ENCS = ["A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"]

# FederationEntityProfile ids registered at the TA
PROFILE_OP_PUBLIC = "https://127.0.0.1/openid_provider/public"
PROFILE_RP_PUBLIC = "https://127.0.0.1/openid_relying_party/public"
PROFILES = {
    PROFILE_OP_PUBLIC: ("OP public", "openid_provider"),
    PROFILE_RP_PUBLIC: ("RP public", "openid_relying_party"),
}

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def setup_django(main_db: str, extra_dbs: dict | None = None, profile: str = "spid",
                 base_url: str | None = None, ta: str | None = None):
    """Configure the test-bed settings through the environment and django.setup()."""
    os.environ["SPIDCIE_DB"] = str(main_db)
    os.environ.setdefault("SPIDCIE_PROFILE", profile)
    if base_url:
        os.environ["SPIDCIE_BASE_URL"] = base_url
    if ta:
        os.environ["SPIDCIE_TA"] = ta
    os.environ.setdefault("SPIDCIE_LOG", str(main_db) + ".admin.log")
    os.environ["DJANGO_SETTINGS_MODULE"] = "testbed.settings"
    sys.path.insert(0, str(HERE))
    import django
    from django.conf import settings

    settings.DATABASES  # force the settings module to load
    for alias, path in (extra_dbs or {}).items():
        settings.DATABASES[alias] = {
            **settings.DATABASES["default"], "NAME": str(path)
        }
    django.setup()


# --- Italian fiscal code (codice fiscale) ------------------------------------
_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] +
                [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14,
                 16, 10, 22, 25, 24, 23]))
_EVEN = {**{str(i): i for i in range(10)},
         **{chr(ord("A") + i): i for i in range(26)}}


def cf_check_char(first15: str) -> str:
    """Check character of an Italian codice fiscale (positions 1..15, 1-based odd/even)."""
    s = first15.upper()
    assert len(s) == 15, s
    total = sum((_ODD if i % 2 == 0 else _EVEN)[c] for i, c in enumerate(s))
    return chr(ord("A") + total % 26)


def cf_is_valid(cf: str) -> bool:
    return len(cf) == 16 and cf_check_char(cf[:15]) == cf[15].upper()


# --- keys ---------------------------------------------------------------------
def new_core_jwk():
    from spid_cie_oidc.entity.jwks import create_jwk
    k = create_jwk()
    k["use"] = "sig"  # without "use" the OP's userinfo crashes (KeyError: 'use')
    return k


def public_jwk(private: dict) -> dict:
    from spid_cie_oidc.entity.jwks import public_jwk_from_private_jwk
    pub = public_jwk_from_private_jwk(private)
    if private.get("use"):
        pub["use"] = private["use"]
    return pub


def parse_public_jwks(arg: str) -> list:
    """A JSON string or a file: {"keys": [...]} or [...] or a single JWK. Private parts dropped."""
    text = arg
    if not arg.lstrip().startswith(("{", "[")):
        text = Path(arg).read_text()
    data = json.loads(text)
    if isinstance(data, dict) and "keys" in data:
        data = data["keys"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise SystemExit("jwks: expected a non-empty JWK Set")
    out = []
    for k in data:
        if not isinstance(k, dict) or "kty" not in k or not k.get("kid"):
            raise SystemExit(f"jwks: every key needs kty and a non-empty kid: {k}")
        out.append({n: v for n, v in k.items() if n not in PRIVATE_MEMBERS})
    return out


# --- metadata -------------------------------------------------------------------
def federation_entity_md(sub: str, name: str, authority: bool = False) -> dict:
    from urllib.parse import urlsplit
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(sub))
    md = {
        "organization_name": name,
        "homepage_uri": sub,
        "policy_uri": f"{sub}/policy",
        "logo_uri": f"{origin}/static/svg/spid-logo-c-lb.svg",
        "contacts": ["ops@palazzo.test"],
        "federation_resolve_endpoint": f"{sub}/resolve",
    }
    if authority:
        md.update({
            "federation_fetch_endpoint": f"{sub}/fetch",
            "federation_list_endpoint": f"{sub}/list",
            "federation_trust_mark_status_endpoint": f"{sub}/trust_mark_status",
        })
    return md


def op_metadata(op: str, profile: str, core_public: dict) -> dict:
    md = {
        "issuer": op,
        "organization_name": f"Palazzo test {profile.upper()} OP",
        "authorization_endpoint": f"{op}/authorization",
        "token_endpoint": f"{op}/token",
        "userinfo_endpoint": f"{op}/userinfo",
        "introspection_endpoint": f"{op}/introspection",
        "revocation_endpoint": f"{op}/revocation",
        "jwks": {"keys": [core_public]},
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": SIG_ALGS,
        "id_token_signing_alg_values_supported": SIG_ALGS,
        "userinfo_signing_alg_values_supported": SIG_ALGS,
        "request_object_signing_alg_values_supported": SIG_ALGS,
        "id_token_encryption_alg_values_supported": ENC_ALGS,
        "id_token_encryption_enc_values_supported": ENC_ENCS,
        "userinfo_encryption_alg_values_supported": ENC_ALGS,
        "userinfo_encryption_enc_values_supported": ENC_ENCS,
        "request_object_encryption_alg_values_supported": ENC_ALGS,
        "request_object_encryption_enc_values_supported": ENC_ENCS,
        "subject_types_supported": ["pairwise"],
        "request_parameter_supported": True,
        "acr_values_supported": [SPID_L1, SPID_L2, SPID_L3],
        "response_types_supported": ["code"],
        "response_modes_supported": ["form_post", "query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "scopes_supported": ["openid", "offline_access"]
        + (["profile", "email"] if profile == "cie" else []),
        "claims_parameter_supported": True,
        "authorization_response_iss_parameter_supported": True,
        "claims_supported": [
            "given_name", "family_name", "email", "email_verified", "gender", "birthdate",
            "phone_number", "phone_number_verified", "place_of_birth", "address",
            "document_details", "https://attributes.eid.gov.it/e_delivery_service",
            "https://attributes.eid.gov.it/fiscal_number",
        ],
    }
    if profile == "spid":
        md["op_name"] = "Palazzo test SPID OP"
        md["op_uri"] = op
    return md


def validate_op_metadata(md: dict, profile: str):
    from spid_cie_oidc.entity.schemas.op_metadata import OPMetadataCie, OPMetadataSpid
    (OPMetadataCie if profile == "cie" else OPMetadataSpid)(**md)


# --- federation rows -------------------------------------------------------------
def ensure_profiles(db: str = "default"):
    from spid_cie_oidc.authority.models import FederationEntityProfile
    for pid, (name, cat) in PROFILES.items():
        FederationEntityProfile.objects.using(db).update_or_create(
            profile_id=pid,
            defaults=dict(name=name, profile_category=cat,
                          trust_mark_template={"organization_type": "public",
                                               "id_code": {"ipa_code": "c_palazzo"}}),
        )


def register_descendant(sub: str, jwks: list, typ: str, name: str, db: str = "default"):
    """Create or update a FederationDescendant of the TA with its profile; returns the trust mark JWS."""
    from spid_cie_oidc.authority.models import (
        FederationDescendant, FederationEntityAssignedProfile, FederationEntityProfile)
    from spid_cie_oidc.entity.models import get_first_self_trust_anchor

    ta = get_first_self_trust_anchor() if db == "default" else None
    if ta is None:
        raise SystemExit("no active Trust Anchor in the database")
    pid = PROFILE_OP_PUBLIC if typ == "openid_provider" else PROFILE_RP_PUBLIC
    ensure_profiles(db)
    desc, _ = FederationDescendant.objects.using(db).update_or_create(
        sub=sub,
        defaults=dict(name=name[:33], type=typ, jwks=jwks, is_active=True, status="valid"),
    )
    profile = FederationEntityProfile.objects.using(db).get(profile_id=pid)
    FederationEntityAssignedProfile.objects.using(db).filter(descendant=desc).exclude(
        profile=profile).delete()
    assigned, _ = FederationEntityAssignedProfile.objects.using(db).get_or_create(
        descendant=desc, profile=profile, defaults=dict(issuer=ta))
    tm = dict(ta.trust_mark_issuers or {})
    if tm.get(pid) != [ta.sub]:
        tm[pid] = [ta.sub]
        ta.trust_mark_issuers = tm
        ta.save(update_fields=["trust_mark_issuers"])
    return pid, assigned.trust_mark_as_jws


def forget_entity(sub: str, dbs: list):
    """Drop cached trust chains / fetched statements about `sub` (OP side caches)."""
    from django.db.models import Q
    from spid_cie_oidc.entity.models import FetchedEntityStatement, TrustChain
    n = 0
    for db in dbs:
        n += TrustChain.objects.using(db).filter(sub=sub).delete()[0]
        n += FetchedEntityStatement.objects.using(db).filter(Q(sub=sub) | Q(iss=sub)).delete()[0]
    return n
