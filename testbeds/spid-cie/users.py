"""Synthetic test citizens of the SPID/CIE test-bed (non-staff), shared by both OPs.

Passwords: $SPIDCIE_USER_PASSWORD if set, otherwise the fixed value in each entry.
Every claim name the SPID and the CIE profile may request is stored (URI-named and plain),
because the OP releases a requested claim only when `attributes` has that exact key.
"""
import os

from fedlib import cf_is_valid

ADMIN_PASSWORD = os.environ.get("SPIDCIE_ADMIN_PASSWORD", "admin-test")

CITIZENS = [
    dict(username="mario.rossi", password="cittadino-test", given_name="Mario",
         family_name="Rossi", cf="RSSMRA80A01H501U", gender="M", birthdate="1980-01-01",
         pob=("H501", "RM"), email="mario.rossi@example.test", phone="+393331234567",
         address=dict(street_address="Via del Corso 1", postal_code="00186",
                      locality="Roma", region="RM", country_code="IT"),
         spid_code="PLZT0000000001"),
    dict(username="giulia.bianchi", password="cittadino-test", given_name="Giulia",
         family_name="Bianchi", cf="BNCGLI85L55F205B", gender="F", birthdate="1985-07-15",
         pob=("F205", "MI"), email="giulia.bianchi@example.test", phone="+393479876543",
         address=dict(street_address="Piazza del Duomo 2", postal_code="20122",
                      locality="Milano", region="MI", country_code="IT"),
         spid_code="PLZT0000000002"),
    dict(username="anna.esposito", password="cittadino-test", given_name="Anna",
         family_name="Esposito", cf="SPSNNA92C50F839Y", gender="F", birthdate="1992-03-10",
         pob=("F839", "NA"), email="anna.esposito@example.test", phone="+393351112233",
         address=dict(street_address="Via Toledo 10", postal_code="80134",
                      locality="Napoli", region="NA", country_code="IT"),
         spid_code="PLZT0000000003"),
]


def password(u):
    return os.environ.get("SPIDCIE_USER_PASSWORD") or u["password"]


def attributes(u):
    assert cf_is_valid(u["cf"]), u["cf"]
    tin = f"TINIT-{u['cf']}"
    pec = f"{u['username']}@pec.example.test"
    return {
        # SPID (AgID) names
        "https://attributes.eid.gov.it/spid_code": u["spid_code"],
        "https://attributes.eid.gov.it/fiscal_number": tin,
        "https://attributes.eid.gov.it/phone_number": u["phone"],
        "https://attributes.eid.gov.it/e_delivery_service": pec,
        "https://attributes.eid.gov.it/eid_exp_date": "2035-12-31",
        # plain names (OIDC standard + CIE)
        "given_name": u["given_name"],
        "family_name": u["family_name"],
        "fiscal_number": tin,
        "email": u["email"],
        "email_verified": True,
        "phone_number": u["phone"],
        "phone_number_verified": True,
        "physical_phone_number": u["phone"],
        "birthdate": u["birthdate"],
        "gender": u["gender"],
        "place_of_birth": {"locality": u["pob"][0], "region": u["pob"][1]},
        "address": u["address"],
        "e_delivery_service": pec,
        "document_details": {"type": "cartaIdentita", "document_number": "CA00000" + u["spid_code"][-2:],
                             "issuer": {"name": "ComuneRoma"},
                             "date_of_issuance": "2025-01-02", "date_of_expiry": "2035-01-02"},
        # source-attribute aliases used by spid_cie_oidc.provider.settings maps
        "date_of_birth": u["birthdate"],
        "mobile_phone": u["phone"],
        "tin": tin,
    }
