#!/usr/bin/env python
"""Register / update / remove a Relying Party at the test Trust Anchor (servers may be running).

  register_rp.py [--state DIR] <entity_id> <public_jwks_json_or_file> [--name NAME]
  register_rp.py [--state DIR] --unregister <entity_id>

<entity_id> is the RP entity id = client_id, without a trailing slash, with exactly the
host string the OP will fetch (http://127.0.0.1:PORT...).  The JWKS is the RP's *federation*
public key set (the key that signs its Entity Configuration); private members are dropped.

The state dir comes from --state or $SPIDCIE_STATE_DIR; its federation.json names the DBs.
Re-registering is idempotent and also drops the OPs' cached TrustChain / fetched
statements for that RP, so changed RP keys are picked up at the next authorization.
Runs itself under the test-bed venv when started with another python.
"""
import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", default=os.environ.get("SPIDCIE_STATE_DIR"))
    ap.add_argument("--unregister", action="store_true")
    ap.add_argument("--name", default="Palazzo RP")
    ap.add_argument("entity_id")
    ap.add_argument("jwks", nargs="?")
    a = ap.parse_args()
    if not a.state:
        sys.exit("register_rp.py: give --state DIR or set SPIDCIE_STATE_DIR")
    fed_file = Path(a.state) / "federation.json"
    if not fed_file.is_file():
        sys.exit(f"register_rp.py: {fed_file} not found (is the federation started?)")
    fed = json.loads(fed_file.read_text())
    try:
        import django  # noqa: F401
    except ImportError:
        py = fed["python"]
        os.execv(py, [py, __file__, *sys.argv[1:]])
    if not a.unregister and not a.jwks:
        sys.exit("register_rp.py: the public JWKS is required")

    sys.path.insert(0, str(HERE))
    import fedlib
    dbs = fed["databases"]
    extra = {k: v for k, v in dbs.items() if k != "ta"}
    fedlib.setup_django(dbs["ta"], extra, base_url=fed["trust_anchor"], ta=fed["trust_anchor"])
    from django.db import transaction
    from spid_cie_oidc.authority.models import FederationDescendant

    sub = a.entity_id.rstrip("/")
    if a.entity_id != sub:
        print(f"register_rp.py: note: trailing '/' dropped, entity id is {sub}", file=sys.stderr)
    with transaction.atomic():
        if a.unregister:
            FederationDescendant.objects.filter(sub=sub).delete()
        else:
            jwks = fedlib.parse_public_jwks(a.jwks)
            fedlib.register_descendant(sub, jwks, "openid_relying_party", a.name)
    fedlib.forget_entity(sub, ["default", *extra])


if __name__ == "__main__":
    main()
