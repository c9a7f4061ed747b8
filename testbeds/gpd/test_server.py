"""Tests of the local pagoPA GPD simulator (server.py), run with the venv of
setup.sh: `$(bash testbeds/gpd/setup.sh) -m pytest -q testbeds/gpd`.

Each test talks HTTP to a real server.py on a free port, as Palazzo's client
will. The server validates every request and every response against the
contract itself, so every answer checked here has also passed the contract's
response validation (a response that does not is a 500, which no test below
expects except the ones that break responses on purpose).
"""
import copy
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
BASE = "/gpd/debt-positions-service/v1"
KEY = "test-key-123"
ORG = "80004990727"  # a comune (11-digit CF)
PROVINCE = "80000110728"  # the province that receives TEFA
CONTRACT_SHA256 = "984b497cb93ce140925a46736af4ec31194f69c3148b5f6d623a0330631534d4"


# --- harness ------------------------------------------------------------------


class Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--port", "0", "--api-key", KEY, "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError("server.py did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line.split()[1])
        self.root = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()

    def call(self, method, path, body=None, key=KEY, raw=None, headers=None, base=BASE):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = dict(headers or {})
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        if key is not None:
            h["Ocp-Apim-Subscription-Key"] = key
        req = urllib.request.Request(self.root + base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text, hdrs = r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read().decode(), e.headers
        return status, (json.loads(text) if text else None), hdrs

    def sim(self, method, path, body=None):
        return self.call(method, path, body, key=None, base="/__simulator")[:2]


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def gpd(server):
    """The module's server, emptied and with the real clock."""
    assert server.sim("POST", "/reset")[0] == 200
    return server


def tari(iupd="80004990727-TARI-2027-0001", iuv="01000000000000144", tari_cents=18_734, tefa_cents=937, **kw):
    """A TARI+TEFA position: one option, two transfers (comune, province)."""
    p = {
        "iupd": iupd,
        "type": "F",
        "fiscalCode": "RSSMRA80A01H501U",
        "fullName": "Mario Rossi",
        "streetName": "Via Roma",
        "civicNumber": "1",
        "postalCode": "70010",
        "city": "Casamassima",
        "province": "BA",
        "country": "IT",
        "companyName": "Comune di Casamassima",
        "officeName": "Ufficio Tributi",
        "switchToExpired": False,
        "paymentOption": [
            {
                "iuv": iuv,
                "amount": tari_cents + tefa_cents,
                "description": "TARI 2027 rata unica",
                "isPartialPayment": False,
                "dueDate": "2027-07-31T23:59:59Z",
                "transfer": [
                    {
                        "idTransfer": "1",
                        "amount": tari_cents,
                        "remittanceInformation": "TARI 2027",
                        "category": "9/0101108TS/",
                        "iban": "IT60X0542811101000000123456",
                    },
                    {
                        "idTransfer": "2",
                        "amount": tefa_cents,
                        "organizationFiscalCode": PROVINCE,
                        "remittanceInformation": "TEFA 2027",
                        "category": "9/0201133IM/",
                        "iban": "IT60X0542811101000000654321",
                    },
                ],
            }
        ],
    }
    p.update(kw)
    return p


def instalments(iupd="80004990727-TARI-2027-RATE"):
    """One single-payment option and two instalments."""
    p = tari(iupd=iupd, iuv="01000000000000200")
    single = p["paymentOption"][0]
    rates = []
    for n, (iuv, due) in enumerate([("01000000000000201", "2027-05-31T23:59:59Z"), ("01000000000000202", "2027-09-30T23:59:59Z")], 1):
        r = copy.deepcopy(single)
        r.update(iuv=iuv, dueDate=due, isPartialPayment=True, amount=9_836, description="TARI 2027 rata %d" % n)
        r["transfer"][0]["amount"] = 9_367
        r["transfer"][1]["amount"] = 469
        rates.append(r)
    p["paymentOption"] = [single] + rates
    return p


def create(gpd, body, publish=False, org=ORG):
    return gpd.call("POST", "/organizations/%s/debtpositions?toPublish=%s" % (org, str(publish).lower()), body)


def get(gpd, iupd, org=ORG):
    return gpd.call("GET", "/organizations/%s/debtpositions/%s" % (org, iupd))


def assert_problem(status, body, code, *words):
    assert status == code, body
    assert body["status"] == code and body["title"] and body["detail"], body
    for w in words:
        assert w in body["detail"], (w, body)


# --- creation and reading -----------------------------------------------------


def test_tari_tefa_position_is_created_and_readable(gpd):
    status, body, hdrs = create(gpd, tari())
    assert status == 201, body
    assert body["status"] == "DRAFT"
    assert body["iupd"] == "80004990727-TARI-2027-0001"
    assert body["fiscalCode"] == "RSSMRA80A01H501U" and body["fullName"] == "Mario Rossi"
    (opt,) = body["paymentOption"]
    assert opt["amount"] == 19_671 and opt["iuv"] == "01000000000000144"
    # A NAV not given is aux digit 3 followed by the IUV.
    assert opt["nav"] == "301000000000000144"
    t1, t2 = opt["transfer"]
    assert (t1["organizationFiscalCode"], t1["amount"]) == (ORG, 18_734)
    assert (t2["organizationFiscalCode"], t2["amount"]) == (PROVINCE, 937)
    assert hdrs["X-Request-Id"]

    status, got, _ = get(gpd, "80004990727-TARI-2027-0001")
    assert status == 200, got
    assert got["organizationFiscalCode"] == ORG and got["status"] == "DRAFT"
    assert got["companyName"] == "Comune di Casamassima" and got["officeName"] == "Ufficio Tributi"
    (opt,) = got["paymentOption"]
    assert opt["status"] == "PO_UNPAID" and opt["dueDate"] == "2027-07-31T23:59:59.000Z"
    assert [(t["idTransfer"], t["organizationFiscalCode"], t["amount"], t["category"], t["status"]) for t in opt["transfer"]] == [
        ("1", ORG, 18_734, "9/0101108TS/", "T_UNREPORTED"),
        ("2", PROVINCE, 937, "9/0201133IM/", "T_UNREPORTED"),
    ]


def test_x_request_id_is_echoed(gpd):
    _, _, hdrs = gpd.call("GET", "/info", headers={"X-Request-Id": "abc-123"})
    assert hdrs["X-Request-Id"] == "abc-123"


def test_unknown_position_is_404(gpd):
    status, body, _ = get(gpd, "NOPE-1")
    assert_problem(status, body, 404, "NOPE-1")


# --- each rejection -----------------------------------------------------------


def test_transfers_not_adding_up_to_the_amount_are_refused(gpd):
    p = tari()
    p["paymentOption"][0]["amount"] += 1
    status, body, _ = create(gpd, p)
    assert_problem(status, body, 400, "add up to 19671", "19672")
    assert get(gpd, p["iupd"])[0] == 404


def test_due_date_before_validity_date_is_refused(gpd):
    p = tari(validityDate="2027-08-01T00:00:00Z")
    status, body, _ = create(gpd, p)
    assert_problem(status, body, 400, "dueDate", "validityDate")
    assert get(gpd, p["iupd"])[0] == 404


def test_validity_date_in_the_past_is_refused(gpd):
    status, body, _ = create(gpd, tari(validityDate="2020-01-01T00:00:00Z"))
    assert_problem(status, body, 400, "validityDate")


def test_due_date_in_the_past_is_refused(gpd):
    p = tari()
    p["paymentOption"][0]["dueDate"] = "2020-01-31T23:59:59Z"
    assert_problem(*create(gpd, p)[:2], 400, "dueDate")


def test_duplicate_iupd_is_409(gpd):
    assert create(gpd, tari())[0] == 201
    status, body, _ = create(gpd, tari(iuv="01000000000000999"))
    assert_problem(status, body, 409, "IUPD")


def test_duplicate_iuv_or_nav_is_409_within_the_organization(gpd):
    assert create(gpd, tari())[0] == 201
    status, body, _ = create(gpd, tari(iupd="OTHER-1"))
    assert_problem(status, body, 409, "IUV 01000000000000144")
    # Another IUV but the same NAV given explicitly.
    p = tari(iupd="OTHER-2", iuv="01000000000000145")
    p["paymentOption"][0]["nav"] = "301000000000000144"
    assert_problem(*create(gpd, p)[:2], 409, "NAV 301000000000000144")
    assert get(gpd, "OTHER-1")[0] == 404 and get(gpd, "OTHER-2")[0] == 404
    # The same IUV at another organization is another debt.
    assert create(gpd, tari(), org="00000000001")[0] == 201


def test_transfer_without_iban_or_with_iban_and_stamp_is_refused(gpd):
    p = tari()
    del p["paymentOption"][0]["transfer"][1]["iban"]
    assert_problem(*create(gpd, p)[:2], 400, "transfer[1]")
    p = tari()
    p["paymentOption"][0]["transfer"][0]["stamp"] = {"hashDocument": "abc", "stampType": "01", "provincialResidence": "BA"}
    assert_problem(*create(gpd, p)[:2], 400, "mutually exclusive")


def test_update_after_payment_is_409(gpd):
    assert create(gpd, tari(), publish=True)[0] == 201
    assert gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)[0] == 200
    p = tari(fullName="Maria Rossi")
    status, body, _ = gpd.call("PUT", "/organizations/%s/debtpositions/%s" % (ORG, p["iupd"]), p)
    assert_problem(status, body, 409, "PAID")
    assert get(gpd, p["iupd"])[1]["status"] == "PAID"


def test_update_before_payment_replaces_the_position_and_goes_back_to_draft(gpd):
    assert create(gpd, tari(), publish=True)[1]["status"] == "VALID"
    p = tari(fullName="Maria Rossi", tari_cents=20_000, tefa_cents=1_000)
    status, body, _ = gpd.call("PUT", "/organizations/%s/debtpositions/%s" % (ORG, p["iupd"]), p)
    assert status == 200, body
    assert body["status"] == "DRAFT" and body["fullName"] == "Maria Rossi"
    got = get(gpd, p["iupd"])[1]
    assert got["paymentOption"][0]["amount"] == 21_000
    # toPublish=true on update publishes again.
    status, body, _ = gpd.call("PUT", "/organizations/%s/debtpositions/%s?toPublish=true" % (ORG, p["iupd"]), p)
    assert (status, body["status"]) == (200, "VALID")
    # The body's IUPD must be the path's.
    status, body, _ = gpd.call("PUT", "/organizations/%s/debtpositions/OTHER" % ORG, p)
    assert status == 404
    assert create(gpd, tari(iupd="OTHER", iuv="01000000000000777"))[0] == 201
    status, body, _ = gpd.call("PUT", "/organizations/%s/debtpositions/OTHER" % ORG, p)
    assert_problem(status, body, 400, "differs")


def test_update_cannot_take_another_positions_iuv(gpd):
    assert create(gpd, tari())[0] == 201
    assert create(gpd, tari(iupd="SECOND", iuv="01000000000000888"))[0] == 201
    p = tari(iupd="SECOND")  # the first one's IUV
    status, body, _ = gpd.call("PUT", "/organizations/%s/debtpositions/SECOND" % ORG, p)
    assert_problem(status, body, 409, "IUV")


def test_delete_after_payment_is_409_before_payment_200(gpd):
    assert create(gpd, tari(), publish=True)[0] == 201
    assert create(gpd, tari(iupd="DRAFT-1", iuv="01000000000000300"))[0] == 201
    assert gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)[0] == 200
    status, body, _ = gpd.call("DELETE", "/organizations/%s/debtpositions/%s" % (ORG, tari()["iupd"]))
    assert_problem(status, body, 409, "payment")
    assert get(gpd, tari()["iupd"])[0] == 200
    status, body, _ = gpd.call("DELETE", "/organizations/%s/debtpositions/DRAFT-1" % ORG)
    assert (status, body) == (200, "OK")
    assert get(gpd, "DRAFT-1")[0] == 404
    # Its IUV is free again.
    assert create(gpd, tari(iupd="DRAFT-2", iuv="01000000000000300"))[0] == 201


def test_publish_only_from_draft(gpd):
    iupd = tari()["iupd"]
    assert create(gpd, tari(), publish=True)[1]["status"] == "VALID"
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/%s/publish" % (ORG, iupd))
    assert_problem(status, body, 409, "VALID", "publishable")
    # INVALID is not publishable either.
    assert gpd.call("POST", "/organizations/%s/debtpositions/%s/invalidate" % (ORG, iupd))[0] == 200
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/%s/publish" % (ORG, iupd))
    assert_problem(status, body, 409, "INVALID")


def test_invalidate_from_draft_is_409(gpd):
    assert create(gpd, tari())[0] == 201
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/%s/invalidate" % (ORG, tari()["iupd"]))
    assert_problem(status, body, 409, "DRAFT", "invalidable")
    assert get(gpd, tari()["iupd"])[1]["status"] == "DRAFT"


def test_missing_or_wrong_api_key_is_401(gpd):
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions" % ORG, tari(), key=None)
    assert (status, body) == (401, None)
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions" % ORG, tari(), key="wrong")
    assert (status, body) == (401, None)
    assert gpd.call("GET", "/info", key=None)[0] == 401
    assert gpd.call("GET", "/organizations/%s/debtpositions" % ORG, key="")[0] == 401
    # Nothing was created.
    assert get(gpd, tari()["iupd"])[0] == 404


def test_bodies_and_parameters_violating_the_schema_are_400(gpd):
    p = tari()
    del p["fullName"]
    assert_problem(*create(gpd, p)[:2], 400, "fullName")
    p = tari()
    p["paymentOption"][0]["amount"] = "19671"
    assert_problem(*create(gpd, p)[:2], 400, "is not of type 'integer'")
    p = tari(type="X")
    assert_problem(*create(gpd, p)[:2], 400, "'X' is not one of")
    p = tari()
    p["paymentOption"][0]["transfer"][0]["idTransfer"] = "6"
    assert_problem(*create(gpd, p)[:2], 400, "'6' is not one of")
    p = tari()
    p["paymentOption"][0]["dueDate"] = "2027-07-31T23:59:59"  # no offset: not RFC 3339
    assert_problem(*create(gpd, p)[:2], 400, "date-time")
    p = tari(companyName="x" * 141)
    assert_problem(*create(gpd, p)[:2], 400, "is too long")
    p = tari()
    del p["paymentOption"][0]["isPartialPayment"]
    assert_problem(*create(gpd, p)[:2], 400, "isPartialPayment")
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions" % ORG, raw=b"{not json")
    assert_problem(status, body, 400)
    status, body, _ = gpd.call("GET", "/organizations/%s/debtpositions?limit=51" % ORG)
    assert_problem(status, body, 400, "limit")
    status, body, _ = gpd.call("GET", "/organizations/%s/debtpositions?status=PAYED" % ORG)
    assert_problem(status, body, 400, "status")
    status, body, _ = gpd.call("GET", "/organizations/%s/debtpositions?due_date_from=31-07-2027" % ORG)
    assert_problem(status, body, 400, "due_date_from")
    assert gpd.call("GET", "/organizations/%s/debtpositions" % ORG)[1]["payment_position_list"] == []


def test_operations_outside_the_contract(gpd):
    assert gpd.call("GET", "/organizations/%s/nothing" % ORG)[0] == 404
    assert gpd.call("PATCH", "/info")[0] == 405
    # The contract's paths are served only under its base path.
    assert gpd.call("GET", "/info", base="")[0] == 404


# --- the state machine --------------------------------------------------------


def test_state_machine_draft_published_valid_paid(gpd):
    iupd = tari()["iupd"]
    soon = time.time() + 3600
    validity = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon))
    assert create(gpd, tari(validityDate=validity))[1]["status"] == "DRAFT"
    # A DRAFT cannot be paid.
    status, body = gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)
    assert_problem(status, body, 422, "DRAFT")
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/%s/publish" % (ORG, iupd))
    assert (status, body["status"]) == (200, "PUBLISHED"), body
    assert get(gpd, iupd)[1]["publishDate"]
    # PUBLISHED is not payable before its validity date...
    assert gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)[0] == 422
    # ...and becomes VALID once the clock reaches it.
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon + 60))
    assert gpd.sim("POST", "/clock", {"now": later})[0] == 200
    assert get(gpd, iupd)[1]["status"] == "VALID"
    status, body = gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)
    assert (status, body["status"]) == (200, "PO_PAID"), body
    got = get(gpd, iupd)[1]
    assert got["status"] == "PAID" and got["paymentDate"] == body["paymentDate"]


def test_to_publish_without_validity_date_is_valid_at_once(gpd):
    status, body, _ = create(gpd, tari(), publish=True)
    assert (status, body["status"]) == (201, "VALID")
    assert body["validityDate"]
    # Publishing a DRAFT without validity date: VALID too.
    assert create(gpd, tari(iupd="D2", iuv="01000000000000400"))[1]["status"] == "DRAFT"
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/D2/publish" % ORG)
    assert (status, body["status"]) == (200, "VALID")


def test_valid_to_invalid_is_not_payable(gpd):
    iupd = tari()["iupd"]
    assert create(gpd, tari(), publish=True)[0] == 201
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/%s/invalidate" % (ORG, iupd))
    assert (status, body["status"]) == (200, "INVALID")
    assert gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)[0] == 422
    assert gpd.call("POST", "/organizations/%s/debtpositions/%s/invalidate" % (ORG, iupd))[0] == 409
    # An INVALID position is not updatable, but can be deleted.
    assert gpd.call("PUT", "/organizations/%s/debtpositions/%s" % (ORG, iupd), tari())[0] == 409
    assert gpd.call("DELETE", "/organizations/%s/debtpositions/%s" % (ORG, iupd))[0] == 200


def test_published_can_be_invalidated(gpd):
    validity = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert create(gpd, tari(validityDate=validity), publish=True)[1]["status"] == "PUBLISHED"
    status, body, _ = gpd.call("POST", "/organizations/%s/debtpositions/%s/invalidate" % (ORG, tari()["iupd"]))
    assert (status, body["status"]) == (200, "INVALID")


def test_switch_to_expired_after_the_due_date(gpd):
    assert create(gpd, tari(switchToExpired=True), publish=True)[0] == 201
    assert create(gpd, tari(iupd="KEEP", iuv="01000000000000500"), publish=True)[0] == 201
    assert gpd.sim("POST", "/clock", {"now": "2027-08-01T00:00:00Z"})[0] == 200
    assert get(gpd, tari()["iupd"])[1]["status"] == "EXPIRED"
    assert get(gpd, "KEEP")[1]["status"] == "VALID"  # switchToExpired false: still payable
    assert gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)[0] == 422
    assert gpd.sim("POST", "/pay/%s/301000000000000500" % ORG)[0] == 200


def test_instalments_partially_paid_then_paid(gpd):
    p = instalments()
    assert create(gpd, p, publish=True)[0] == 201
    status, body = gpd.sim("POST", "/pay/%s/301000000000000201" % ORG, {"amount": 9_836, "pspCompany": "Banca Test"})
    assert status == 200 and body["pspCompany"] == "Banca Test"
    got = get(gpd, p["iupd"])[1]
    assert got["status"] == "PARTIALLY_PAID"
    assert [o["status"] for o in got["paymentOption"]] == ["PO_UNPAID", "PO_PAID", "PO_UNPAID"]
    # Once an instalment is paid the single payment is no longer payable.
    assert_problem(*gpd.sim("POST", "/pay/%s/301000000000000200" % ORG), 422, "partially paid")
    # Nor can the position be deleted or updated.
    assert gpd.call("DELETE", "/organizations/%s/debtpositions/%s" % (ORG, p["iupd"]))[0] == 409
    assert gpd.call("PUT", "/organizations/%s/debtpositions/%s" % (ORG, p["iupd"]), p)[0] == 409
    assert gpd.sim("POST", "/pay/%s/301000000000000202" % ORG)[0] == 200
    assert get(gpd, p["iupd"])[1]["status"] == "PAID"


# --- payments -----------------------------------------------------------------


def test_simulated_payment_and_double_payment_refused(gpd):
    assert create(gpd, tari(), publish=True)[0] == 201
    status, body = gpd.sim("POST", "/pay/%s/301000000000000144" % ORG, {"amount": 19_671, "paymentDate": "2027-03-01T10:00:00+01:00", "idReceipt": "R-1"})
    assert status == 200, body
    assert body["status"] == "PO_PAID" and body["paymentDate"] == "2027-03-01T09:00:00.000Z"
    assert body["idReceipt"] == "R-1" and body["amount"] == 19_671
    status, body = gpd.sim("POST", "/pay/%s/301000000000000144" % ORG)
    assert_problem(status, body, 409, "already paid")
    assert body["title"] == "PAA_PAGAMENTO_DUPLICATO"
    # The contract's "already paid" operation refuses it too.
    status, body, _ = gpd.call("POST", "/organizations/%s/paymentoptions/paids/301000000000000144" % ORG, {})
    assert_problem(status, body, 409, "already paid")
    got = get(gpd, tari()["iupd"])[1]
    assert got["status"] == "PAID" and got["paymentOption"][0]["idReceipt"] == "R-1"


def test_simulated_payment_refusals(gpd):
    assert create(gpd, tari(), publish=True)[0] == 201
    assert_problem(*gpd.sim("POST", "/pay/%s/399999999999999999" % ORG), 404, "399999999999999999")
    assert_problem(*gpd.sim("POST", "/pay/00000000001/301000000000000144"), 404)
    assert_problem(*gpd.sim("POST", "/pay/%s/301000000000000144" % ORG, {"amount": 100}), 422, "differs")
    assert_problem(*gpd.sim("POST", "/pay/%s/301000000000000144" % ORG, {"amount": "19671"}), 400, "integer")
    assert_problem(*gpd.sim("POST", "/pay/%s/301000000000000144" % ORG, {"psp": "x"}), 400, "unknown")
    assert get(gpd, tari()["iupd"])[1]["status"] == "VALID"


def test_set_payment_option_as_already_paid(gpd):
    assert create(gpd, tari(), publish=True)[0] == 201
    path = "/organizations/%s/paymentoptions/paids/301000000000000144" % ORG
    status, body, _ = gpd.call("POST", path, {"paymentDate": "2027-02-01T12:00:00Z"})
    assert status == 200, body
    assert body["status"] == "PO_PAID" and body["paymentDate"] == "2027-02-01T12:00:00.000Z"
    assert get(gpd, tari()["iupd"])[1]["status"] == "PAID"
    assert gpd.call("POST", path, {})[0] == 409
    assert gpd.call("POST", "/organizations/%s/paymentoptions/paids/300000000000000000" % ORG, {})[0] == 404
    assert create(gpd, tari(iupd="D", iuv="01000000000000600"))[0] == 201
    status, body, _ = gpd.call("POST", "/organizations/%s/paymentoptions/paids/301000000000000600" % ORG, {})
    assert_problem(status, body, 422, "DRAFT")
    status, body, _ = gpd.call("POST", path, {"paymentDate": "yesterday"})
    assert_problem(status, body, 400, "paymentDate")


# --- list, pagination, filters ------------------------------------------------


def test_list_pagination_filters_and_order(gpd):
    for n, (name, due) in enumerate([("B", "2027-03-31"), ("A", "2027-05-31"), ("C", "2027-07-31")]):
        p = tari(iupd="IUPD-%s" % name, iuv="0100000000000100%d" % n, companyName="Comune %s" % name)
        p["paymentOption"][0]["dueDate"] = due + "T23:59:59Z"
        assert create(gpd, p, publish=name != "C")[0] == 201
    assert gpd.sim("POST", "/pay/%s/3%s" % (ORG, "01000000000001000"))[0] == 200  # B paid

    def lst(q):
        status, body, _ = gpd.call("GET", "/organizations/%s/debtpositions?%s" % (ORG, q))
        assert status == 200, body
        return [p["iupd"] for p in body["payment_position_list"]], body["page_info"]

    # Default: newest first.
    assert lst("")[0] == ["IUPD-C", "IUPD-A", "IUPD-B"]
    assert lst("limit=2&page=0") == (["IUPD-C", "IUPD-A"], {"page": 0, "limit": 2, "items_found": 2, "total_pages": 2})
    assert lst("limit=2&page=1") == (["IUPD-B"], {"page": 1, "limit": 2, "items_found": 1, "total_pages": 2})
    assert lst("limit=2&page=5")[0] == []
    assert lst("orderby=IUPD&ordering=ASC")[0] == ["IUPD-A", "IUPD-B", "IUPD-C"]
    assert lst("orderby=COMPANY_NAME&ordering=DESC")[0] == ["IUPD-C", "IUPD-B", "IUPD-A"]
    assert lst("status=VALID")[0] == ["IUPD-A"]
    assert lst("status=PAID")[0] == ["IUPD-B"]
    assert lst("status=DRAFT")[0] == ["IUPD-C"]
    assert lst("due_date_from=2027-05-01&due_date_to=2027-07-31&orderby=IUPD&ordering=ASC")[0] == ["IUPD-A", "IUPD-C"]
    # A bound left out is 30 days from the other.
    assert lst("due_date_from=2027-05-15")[0] == ["IUPD-A"]
    assert lst("due_date_to=2027-04-15")[0] == ["IUPD-B"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert lst("payment_date_from=%s" % today)[0] == ["IUPD-B"]
    assert lst("payment_date_to=2020-01-01")[0] == []
    status, body, _ = gpd.call("GET", "/organizations/%s/debtpositions?due_date_from=2027-01-01&payment_date_from=2027-01-01" % ORG)
    assert_problem(status, body, 400, "mutually exclusive")
    # Another organization sees none of them.
    assert gpd.call("GET", "/organizations/00000000001/debtpositions")[1]["payment_position_list"] == []


def test_update_transfer_iban_massive(gpd):
    assert create(gpd, tari(), publish=True)[0] == 201
    assert create(gpd, tari(iupd="P2", iuv="01000000000000700"), publish=True)[0] == 201
    assert gpd.sim("POST", "/pay/%s/301000000000000700" % ORG)[0] == 200  # paid: untouched
    status, body, _ = gpd.call("PATCH", "/organizations/%s/debtpositions/transfers?oldIban=IT60X0542811101000000123456" % ORG, {"newIban": "IT02A0301503200000003517230"})
    assert (status, body["updatedTransfers"]) == (200, 1), body
    ibans = [t["iban"] for t in get(gpd, tari()["iupd"])[1]["paymentOption"][0]["transfer"]]
    assert ibans == ["IT02A0301503200000003517230", "IT60X0542811101000000654321"]
    assert get(gpd, "P2")[1]["paymentOption"][0]["transfer"][0]["iban"] == "IT60X0542811101000000123456"
    status, body, _ = gpd.call("PATCH", "/organizations/%s/debtpositions/transfers?oldIban=X" % ORG, {"newIban": "IT-02"})
    assert_problem(status, body, 400, "newIban")
    status, body, _ = gpd.call("PATCH", "/organizations/%s/debtpositions/transfers" % ORG, {"newIban": "IT02"})
    assert_problem(status, body, 400, "oldIban")


# --- the simulator's own responses --------------------------------------------


def test_health_and_info(gpd):
    status, body = gpd.sim("GET", "/health")
    assert status == 200 and body["status"] == "UP"
    assert body["basePath"] == BASE and body["apiKeyHeader"] == "Ocp-Apim-Subscription-Key"
    status, body, _ = gpd.call("GET", "/info")
    assert status == 200 and body["version"] == "1.1.37"


def test_a_response_violating_the_contract_fails_loudly_unit():
    """The validation function itself, on responses built by hand."""
    sys.path.insert(0, HERE)
    import server as srv
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    logged = []
    sim = srv.Simulator(srv.Contract(srv.DEFAULT_CONTRACT), srv.Store(), KEY, log=logged.append)
    env = EnvironBuilder(
        path=BASE + "/organizations/%s/debtpositions" % ORG,
        base_url="http://127.0.0.1:1",
        method="POST",
        json=tari(),
        headers={"Ocp-Apim-Subscription-Key": KEY},
        query_string="toPublish=false",
    ).get_environ()
    req = Request(env)
    good = srv.position_model(sim.store.build(ORG, tari()))
    assert sim.checked(req, srv.json_response(201, good, "r"), "r").status_code == 201
    bad_bodies = [
        (201, {k: v for k, v in good.items() if k != "companyName"}),  # a required field missing
        (201, dict(good, status="PAYED")),  # not in the enum
        (201, dict(good, paymentOption=[dict(good["paymentOption"][0], amount="1")])),  # wrong type
        (418, good),  # a status the operation does not define
        (200, good),  # create answers 201, not 200
        (400, {"title": "x", "status": "400"}),  # ProblemJson.status must be an integer
    ]
    for code, body in bad_bodies:
        out = sim.checked(req, srv.json_response(code, body, "r"), "r")
        assert out.status_code == 500, (code, body)
        problem = json.loads(out.get_data())
        assert problem["title"] == "Simulator response violates the contract"
        assert "POST %s/organizations/%s/debtpositions" % (BASE, ORG) in problem["detail"]
    assert len(logged) == len(bad_bodies)
    assert all(m.startswith("CONTRACT VIOLATION") for m in logged)
    assert "companyName" in logged[0] and "PAYED" in logged[1]


def test_a_response_violating_the_contract_fails_loudly_end_to_end():
    """--tamper-responses breaks every body: every answer is a loud 500."""
    s = Server("--tamper-responses")
    try:
        for method, path, body in [
            ("POST", "/organizations/%s/debtpositions" % ORG, tari()),
            ("GET", "/organizations/%s/debtpositions" % ORG, None),
            ("GET", "/organizations/%s/debtpositions/X" % ORG, None),
            ("GET", "/info", None),
        ]:
            status, out, _ = s.call(method, path, body)
            assert status == 500, (path, out)
            assert out["title"] == "Simulator response violates the contract"
    finally:
        err = s.stop()
    assert err.count("CONTRACT VIOLATION") == 4, err


def test_state_file_survives_a_restart(tmp_path):
    state = str(tmp_path / "gpd.json")
    s = Server("--state", state)
    try:
        assert create(s, tari(), publish=True)[0] == 201
    finally:
        s.stop()
    s = Server("--state", state)
    try:
        status, body, _ = get(s, tari()["iupd"])
        assert (status, body["status"]) == (200, "VALID")
        assert create(s, tari())[0] == 409
    finally:
        s.stop()


def test_port_file(tmp_path):
    pf = str(tmp_path / "port")
    s = Server("--port-file", pf)
    try:
        with open(pf) as f:
            assert int(f.read()) == s.port
    finally:
        s.stop()


def test_the_contract_is_the_published_one_unchanged():
    with open(os.path.join(HERE, "contract", "openapi_external_v1.json"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == CONTRACT_SHA256
