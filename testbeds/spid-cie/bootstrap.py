#!/usr/bin/env python
"""Create the Palazzo test federation from nothing (fresh SQLite DBs).

  bootstrap.py --ta http://127.0.0.1:8100 --ta-db STATE/ta.sqlite3 \
               [--cie http://127.0.0.1:8102 --cie-db STATE/cie.sqlite3] \
               --out STATE/federation.json

Migrates every DB, then:
  * TA  (entity id = --ta) with federation_entity endpoints, max_path_length 1;
  * SPID OP at <TA>/oidc/op in the TA DB (same process as the TA);
  * CIE OP at <CIE>/oidc/op in the CIE DB (second process), registered at the TA;
  * OPs registered as FederationDescendant with a profile + trust mark;
  * the test users (users.py) in every OP DB.
Writes federation.json (TA entity id + public federation JWKS, OP entity ids, DB paths).
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fedlib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ta", required=True)
    ap.add_argument("--ta-db", required=True)
    ap.add_argument("--cie")
    ap.add_argument("--cie-db")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    ta_sub = a.ta.rstrip("/")
    extra = {"cie": a.cie_db} if a.cie else {}
    t0 = time.monotonic()
    fedlib.setup_django(a.ta_db, extra, profile="spid", base_url=ta_sub, ta=ta_sub)

    from django.core.management import call_command
    from django.contrib.auth import get_user_model
    from spid_cie_oidc.entity.models import FederationEntityConfiguration as FEC
    import users

    for db in ["default", *extra]:
        call_command("migrate", database=db, verbosity=0, interactive=False)

    # Trust Anchor
    ta = FEC.objects.create(
        sub=ta_sub, entity_type="federation_entity", is_active=True,
        constraints={"max_path_length": 1},
        metadata={"federation_entity": fedlib.federation_entity_md(
            ta_sub, "Palazzo Test Trust Anchor", authority=True)},
    )
    fedlib.ensure_profiles()

    def make_op(db, base, profile):
        op_sub = f"{base.rstrip('/')}/oidc/op"
        core = fedlib.new_core_jwk()
        md = fedlib.op_metadata(op_sub, profile, fedlib.public_jwk(core))
        fedlib.validate_op_metadata(md, profile)
        op = FEC(
            sub=op_sub, entity_type="openid_provider", is_active=True,
            authority_hints=[ta_sub], jwks_core=[core],
            metadata={"federation_entity": fedlib.federation_entity_md(
                op_sub, f"Palazzo test {profile.upper()} OP"), "openid_provider": md},
        )
        op.save(using=db)
        pid, tm = fedlib.register_descendant(op_sub, op.public_jwks, "openid_provider",
                                             f"{profile.upper()} OP")
        op.trust_marks = [{"id": pid, "trust_mark_type": pid, "trust_mark": tm}]
        op.save(using=db, update_fields=["trust_marks"])
        User = get_user_model()
        for u in users.CITIZENS:
            User.objects.db_manager(db).create_user(
                username=u["username"], password=users.password(u), email=u["email"],
                first_name=u["given_name"], last_name=u["family_name"],
                attributes=users.attributes(u))
        User.objects.db_manager(db).create_superuser(
            username="admin", password=users.ADMIN_PASSWORD, email="admin@palazzo.test")
        return op_sub

    ops = {"spid": make_op("default", ta_sub, "spid")}
    if a.cie:
        ops["cie"] = make_op("cie", a.cie, "cie")

    ta.refresh_from_db()
    out = {
        "trust_anchor": ta_sub,
        "trust_anchor_jwks": {"keys": ta.public_jwks},
        "openid_providers": ops,
        "databases": {"ta": str(Path(a.ta_db).resolve()),
                      **({"cie": str(Path(a.cie_db).resolve())} if a.cie else {})},
        "python": sys.executable,
        "bootstrap_seconds": round(time.monotonic() - t0, 2),
    }
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
