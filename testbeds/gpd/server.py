#!/usr/bin/env python3
"""A local pagoPA GPD (Gestione Posizioni Debitorie) simulator for tests.

Usage: server.py [--port N] [--api-key KEY] [--state FILE] [--port-file FILE]
                 [--contract FILE] [--tamper-responses] [--quiet]

Listens on 127.0.0.1:N (0, the default, picks a free port) and prints
"READY <port>" on stdout once it accepts connections (and writes the port to
--port-file, if given). Stops on SIGTERM/SIGINT.

The contract is the published OpenAPI 3.1 document of pagopa-debt-position
(contract/openapi_external_v1.json, a verbatim copy). Its paths are served
under the contract's own base path, /gpd/debt-positions-service/v1 (the path
of both published servers), so a client's base URL is
http://127.0.0.1:<port>/gpd/debt-positions-service/v1 where it would be
https://api.uat.platform.pagopa.it/gpd/debt-positions-service/v1.

Every request is validated against the contract with openapi-core before any
rule runs: a missing or wrong API key (the ApiKey scheme, header
Ocp-Apim-Subscription-Key) is 401; a body, a query or a path parameter that
violates the contract is 400 with a ProblemJson (404 for an operation whose
contract has no 400). Every response the simulator produces is validated
against the contract before it is sent: one that does not validate is
replaced by a 500 ProblemJson titled "Simulator response violates the
contract" and logged on stderr with "CONTRACT VIOLATION" (a simulator bug
fails loudly). --tamper-responses breaks every response body on purpose, to
prove that check works.

Business rules (domain/taxes-pagopa.md §4.5 and the contract's README), see
docs/pagopa-gpd-simulator.md for the list.

Test-only endpoints, outside the contract and its base path (no API key):
  GET  /__simulator/health
  POST /__simulator/pay/{organizationfiscalcode}/{nav}   a payment through
       pagoPA, as the nodo would report it to GPD
  GET|POST /__simulator/clock                            the simulator's time
  POST /__simulator/reset                                forget every position
"""
import argparse
import copy
import datetime as dt
import json
import os
import signal
import sys
import threading
import traceback
import uuid

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.validation.request.exceptions import SecurityValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONTRACT = os.path.join(HERE, "contract", "openapi_external_v1.json")
BASE = "/gpd/debt-positions-service/v1"
SIM = "/__simulator"
DEFAULT_API_KEY = "palazzo-gpd-test-key"

# Position states (the contract's PaymentPositionModel.status).
DRAFT, PUBLISHED, VALID, INVALID, EXPIRED = "DRAFT", "PUBLISHED", "VALID", "INVALID", "EXPIRED"
PARTIALLY_PAID, PAID, REPORTED = "PARTIALLY_PAID", "PAID", "REPORTED"
# An update (PUT) is allowed only before any payment and while the position is
# live; a delete only while nothing has been paid.
UPDATABLE = (DRAFT, PUBLISHED, VALID)
NOT_DELETABLE = (PARTIALLY_PAID, PAID, REPORTED)
INVALIDATABLE = (PUBLISHED, VALID)
PAYABLE = (VALID, PARTIALLY_PAID)


# --- The contract -------------------------------------------------------------

# Java's \h (horizontal whitespace), which Python's re does not know, as the
# members of a character class.
JAVA_H = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"


def adapt_contract(doc):
    """Two in-memory translations of the published document (the file is
    never edited), each needed because the document was generated from Java:

    - boolean defaults written as strings ("default": "true") become
      booleans, so that openapi-spec-validator accepts the document;
    - Java's \\h inside a `pattern` character class is spelled out, so that
      Python's re (used by jsonschema) compiles it with the same meaning.

    Adds the relative server /gpd/debt-positions-service/v1 in front of the
    published ones, so that requests to 127.0.0.1 match.
    """

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "boolean" and node.get("default") in ("true", "false"):
                node["default"] = node["default"] == "true"
            pat = node.get("pattern")
            if isinstance(pat, str) and "\\h" in pat:
                if not (pat.startswith("[") and pat.index("\\h") < pat.index("]")):
                    raise ValueError("\\h outside a character class in pattern %r" % pat)
                node["pattern"] = pat.replace("\\h", JAVA_H)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    doc = copy.deepcopy(doc)
    walk(doc)
    published = [s["url"] for s in doc.get("servers", [])]
    if not all(u.endswith(BASE) for u in published):
        raise ValueError("the contract's servers %r do not end in %s" % (published, BASE))
    doc["servers"] = [{"url": BASE, "description": "local simulator"}] + doc["servers"]
    return doc


class Contract:
    """The contract, loaded once: openapi-core (which validates the document
    itself with openapi-spec-validator) plus a router built from its paths."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        self.doc = adapt_contract(raw)
        self.version = raw["info"]["version"]
        self.api = OpenAPI.from_dict(self.doc)
        schemes = self.doc["components"]["securitySchemes"]
        (scheme,) = schemes.values()
        if scheme["type"] != "apiKey" or scheme["in"] != "header":
            raise ValueError("unexpected security scheme %r" % scheme)
        self.key_header = scheme["name"]
        rules = []
        for p, item in self.doc["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                rules.append(
                    Rule(
                        BASE + p.replace("{", "<").replace("}", ">"),
                        endpoint=op["operationId"],
                        methods=[method.upper()],
                    )
                )
        self.router = Map(rules, strict_slashes=False, merge_slashes=False)
        self.statuses = {
            item[m]["operationId"]: set(item[m]["responses"])
            for p, item in self.doc["paths"].items()
            for m in item
            if m != "parameters"
        }

    def check_request(self, request):
        """openapi-core's verdict on a request: (errors, query params)."""
        result = self.api.unmarshal_request(WerkzeugOpenAPIRequest(request))
        return result.errors, dict(result.parameters.query or {})

    def check_response(self, request, response):
        """Raises when `response` (a werkzeug Response) does not satisfy the
        contract for `request`."""
        self.api.validate_response(
            WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)
        )


def describe(err):
    """A readable account of an openapi-core error, with the schema errors."""
    parts = [str(err) or type(err).__name__]
    seen = set()
    e = err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        for se in getattr(e, "schema_errors", ()) or ():
            where = "/".join(str(x) for x in se.absolute_path)
            parts.append("%s%s" % (where + ": " if where else "", se.message))
        e = e.__cause__ or e.__context__
    return "; ".join(dict.fromkeys(parts))


# --- Time ---------------------------------------------------------------------


def fmt(t):
    """UTC RFC 3339 with milliseconds and Z, the form of every date-time the
    simulator writes."""
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse(s):
    """A date-time the contract's validator has accepted (RFC 3339, with an
    offset), as an aware datetime."""
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    if t.tzinfo is None:
        raise Problem(400, "Bad Request", "date-time without an offset: %s" % s)
    return t


def as_date(v):
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v))


def as_datetime(v):
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    return parse(str(v))


# --- Errors -------------------------------------------------------------------


class Problem(Exception):
    """An answer with a ProblemJson body."""

    def __init__(self, status, title, detail):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail

    def body(self):
        return {"title": self.title, "status": self.status, "detail": self.detail}


def bad(detail):
    return Problem(400, "Bad Request", detail)


def conflict(detail):
    return Problem(409, "Conflict", detail)


def not_found(detail):
    return Problem(404, "Not Found", detail)


# --- The debt positions -------------------------------------------------------

POSITION_FIELDS = (
    "iupd", "type", "payStandIn", "fiscalCode", "fullName", "streetName", "civicNumber",
    "postalCode", "city", "province", "region", "country", "email", "phone",
    "switchToExpired", "companyName", "officeName", "validityDate",
)


def clean(d):
    return {k: v for k, v in d.items() if v is not None}


class Store:
    """Every debt position, by (organization fiscal code, IUPD), in memory and
    optionally in a JSON file rewritten after every change."""

    def __init__(self, state_file=None):
        self.state_file = state_file
        self.positions = {}
        self.seq = 0
        self.clock_offset = dt.timedelta(0)
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as f:
                saved = json.load(f)
            for pos in saved["positions"]:
                self.positions[(pos["organizationFiscalCode"], pos["iupd"])] = pos
            self.seq = saved.get("seq", len(self.positions))
            self.clock_offset = dt.timedelta(seconds=saved.get("clock_offset_seconds", 0))

    def save(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "positions": list(self.positions.values()),
                    "seq": self.seq,
                    "clock_offset_seconds": self.clock_offset.total_seconds(),
                },
                f,
                indent=1,
            )
        os.replace(tmp, self.state_file)

    def now(self):
        return dt.datetime.now(dt.timezone.utc) + self.clock_offset

    # The time-driven transitions GPD's schedulers make, applied whenever a
    # position is looked at: PUBLISHED → VALID once the validity date is
    # reached; VALID → EXPIRED after the last due date when switchToExpired.
    def refresh(self, pos):
        now = self.now()
        if pos["status"] == PUBLISHED and pos.get("validityDate") and parse(pos["validityDate"]) <= now:
            pos["status"] = VALID
            pos["lastUpdatedDate"] = fmt(now)
        if pos["status"] == VALID and pos.get("switchToExpired"):
            last_due = max(parse(o["dueDate"]) for o in pos["paymentOption"])
            if last_due < now:
                pos["status"] = EXPIRED
                pos["lastUpdatedDate"] = fmt(now)
        return pos

    def get(self, org, iupd):
        pos = self.positions.get((org, iupd))
        if pos is None:
            raise not_found("No debt position found with IUPD %s for organization %s" % (iupd, org))
        return self.refresh(pos)

    def of_org(self, org):
        return [self.refresh(p) for (o, _), p in self.positions.items() if o == org]

    def find_option(self, org, nav):
        for pos in self.of_org(org):
            for opt in pos["paymentOption"]:
                if opt["nav"] == nav:
                    return pos, opt
        raise not_found("No payment option found with NAV %s for organization %s" % (nav, org))

    # --- checks shared by create and update ---

    def build(self, org, body, existing=None):
        """The position described by a request body that the contract's
        validator has accepted, after the business rules (400 on a rule
        broken, 409 on an IUV or NAV already used by another position)."""
        now = self.now()
        validity = as_datetime(body.get("validityDate"))
        if validity is not None and validity < now:
            raise bad("Dates congruence error: validityDate must be >= current date")
        options = body.get("paymentOption") or []
        if not options:
            raise bad("A debt position needs at least one payment option")
        seen_iuv, seen_nav = set(), set()
        out_options = []
        for i, o in enumerate(options):
            where = "paymentOption[%d]" % i
            due = parse(o["dueDate"])
            floor = validity or now
            if due < floor:
                raise bad(
                    "Dates congruence error: %s.dueDate must be >= %s"
                    % (where, "validityDate" if validity else "current date")
                )
            if o.get("retentionDate") and parse(o["retentionDate"]) < due:
                raise bad("Dates congruence error: %s.retentionDate must be >= dueDate" % where)
            iuv = o["iuv"]
            # A NAV not given is the IUV behind aux digit 3 (SACI, aux 3).
            nav = o.get("nav") or "3" + iuv
            if iuv in seen_iuv or nav in seen_nav:
                raise bad("%s: IUV %s or NAV %s repeated within the position" % (where, iuv, nav))
            seen_iuv.add(iuv)
            seen_nav.add(nav)
            keys = [m["key"] for m in o.get("paymentOptionMetadata") or []]
            if len(keys) != len(set(keys)):
                raise bad("%s.paymentOptionMetadata: keys must be unique" % where)
            transfers = o.get("transfer") or []
            if not 1 <= len(transfers) <= 5:
                raise bad("%s: between 1 and 5 transfers are required, not %d" % (where, len(transfers)))
            ids = [t["idTransfer"] for t in transfers]
            if len(ids) != len(set(ids)):
                raise bad("%s: idTransfer must be unique within the option" % where)
            total = sum(t["amount"] for t in transfers)
            if total != o["amount"]:
                raise bad(
                    "%s: the transfers add up to %d, not to the option's amount %d"
                    % (where, total, o["amount"])
                )
            out_transfers = []
            for j, t in enumerate(transfers):
                tw = "%s.transfer[%d]" % (where, j)
                if t.get("stamp") is not None and (t.get("iban") or t.get("postalIban")):
                    raise bad("%s: stamp is mutually exclusive with iban and postalIban" % tw)
                if t.get("stamp") is None and not t.get("iban") and not t.get("postalIban"):
                    raise bad("%s: an iban, a postalIban or a stamp is required" % tw)
                tkeys = [m["key"] for m in t.get("transferMetadata") or []]
                if len(tkeys) != len(set(tkeys)):
                    raise bad("%s.transferMetadata: keys must be unique" % tw)
                out_transfers.append(
                    clean(
                        {
                            "idTransfer": t["idTransfer"],
                            "amount": t["amount"],
                            "organizationFiscalCode": t.get("organizationFiscalCode") or org,
                            "remittanceInformation": t["remittanceInformation"],
                            "category": t["category"],
                            "iban": t.get("iban"),
                            "postalIban": t.get("postalIban") or None,
                            "stamp": t.get("stamp"),
                            "companyName": t.get("companyName"),
                            "transferMetadata": t.get("transferMetadata") or [],
                            "status": "T_UNREPORTED",
                            "insertedDate": fmt(now),
                            "lastUpdatedDate": fmt(now),
                        }
                    )
                )
            out_options.append(
                clean(
                    {
                        "nav": nav,
                        "iuv": iuv,
                        "amount": o["amount"],
                        "description": o["description"],
                        "isPartialPayment": o["isPartialPayment"],
                        "dueDate": fmt(due),
                        "retentionDate": fmt(parse(o["retentionDate"])) if o.get("retentionDate") else None,
                        # fee and notificationFee are read-only: GPD's own.
                        "fee": 0,
                        "notificationFee": 0,
                        "paymentOptionMetadata": o.get("paymentOptionMetadata") or [],
                        "transfer": out_transfers,
                        "status": "PO_UNPAID",
                        "insertedDate": fmt(now),
                        "lastUpdatedDate": fmt(now),
                    }
                )
            )
        # 409: an IUV or a NAV already used by another position of the
        # organization (GPD's unique keys).
        for pos in self.of_org(org):
            if existing is not None and pos is existing:
                continue
            for opt in pos["paymentOption"]:
                if opt["iuv"] in seen_iuv:
                    raise conflict("IUV %s already used by debt position %s" % (opt["iuv"], pos["iupd"]))
                if opt["nav"] in seen_nav:
                    raise conflict("NAV %s already used by debt position %s" % (opt["nav"], pos["iupd"]))
        pos = {k: body.get(k) for k in POSITION_FIELDS}
        pos["validityDate"] = fmt(validity) if validity else None
        if pos["payStandIn"] is None:
            pos["payStandIn"] = True
        pos = clean(pos)
        pos.update(
            organizationFiscalCode=org,
            status=DRAFT,
            insertedDate=fmt(now),
            lastUpdatedDate=fmt(now),
            paymentOption=out_options,
        )
        return pos

    def publish(self, pos):
        """DRAFT → PUBLISHED, or straight to VALID when there is no validity
        date (it becomes now)."""
        now = self.now()
        if pos["status"] != DRAFT:
            raise conflict("Debt position %s is %s, not in a publishable state (DRAFT)" % (pos["iupd"], pos["status"]))
        if pos.get("validityDate") and parse(pos["validityDate"]) < now:
            raise conflict("Debt position %s: its validityDate has passed, it cannot be published" % pos["iupd"])
        pos["publishDate"] = fmt(now)
        pos["lastUpdatedDate"] = fmt(now)
        if pos.get("validityDate"):
            pos["status"] = PUBLISHED
        else:
            pos["validityDate"] = fmt(now)
            pos["status"] = VALID
        return self.refresh(pos)

    def pay(self, pos, opt, when, method=None, psp=None, receipt=None):
        """A payment of one option: refused when the option is already paid
        (409) or the position is not payable (422); otherwise the option is
        PO_PAID and the position PAID, or PARTIALLY_PAID while instalments
        remain."""
        if opt["status"] != "PO_UNPAID":
            raise Problem(
                409,
                "PAA_PAGAMENTO_DUPLICATO",
                "Payment option %s is already paid (%s)" % (opt["nav"], opt["status"]),
            )
        if pos["status"] not in PAYABLE:
            raise Problem(
                422,
                "Unprocessable Entity",
                "Debt position %s is %s, not in a payable state" % (pos["iupd"], pos["status"]),
            )
        if pos["status"] == PARTIALLY_PAID and not opt["isPartialPayment"]:
            raise Problem(
                422,
                "Unprocessable Entity",
                "Debt position %s is partially paid: its single-payment option %s is no longer payable"
                % (pos["iupd"], opt["nav"]),
            )
        now = self.now()
        opt.update(
            clean(
                {
                    "status": "PO_PAID",
                    "paymentDate": fmt(when),
                    "paymentMethod": method,
                    "pspCompany": psp,
                    "idReceipt": receipt,
                    "lastUpdatedDate": fmt(now),
                }
            )
        )
        partials = [o for o in pos["paymentOption"] if o["isPartialPayment"]]
        if not opt["isPartialPayment"] or all(o["status"] == "PO_PAID" for o in partials):
            pos["status"] = PAID
            pos["paymentDate"] = fmt(when)
        else:
            pos["status"] = PARTIALLY_PAID
        pos["lastUpdatedDate"] = fmt(now)


# --- The views the contract defines -------------------------------------------


def transfer_model(t):
    return clean({k: t.get(k) for k in (
        "idTransfer", "amount", "organizationFiscalCode", "remittanceInformation", "category",
        "iban", "postalIban", "stamp", "companyName", "transferMetadata")})


def option_model(o):
    d = clean({k: o.get(k) for k in (
        "nav", "iuv", "amount", "description", "isPartialPayment", "dueDate", "retentionDate",
        "fee", "notificationFee", "paymentOptionMetadata")})
    d["transfer"] = [transfer_model(t) for t in o["transfer"]]
    return d


def position_model(p):
    """PaymentPositionModel (create, update, publish, invalidate)."""
    d = clean({k: p.get(k) for k in POSITION_FIELDS + ("paymentDate", "status")})
    d["paymentOption"] = [option_model(o) for o in p["paymentOption"]]
    return d


def transfer_response(t):
    return clean({k: t.get(k) for k in (
        "organizationFiscalCode", "companyName", "idTransfer", "amount", "remittanceInformation",
        "category", "iban", "postalIban", "stamp", "insertedDate", "status", "lastUpdatedDate",
        "transferMetadata")})


def option_response(p, o):
    d = clean({k: o.get(k) for k in (
        "nav", "iuv", "amount", "description", "isPartialPayment", "dueDate", "retentionDate",
        "paymentDate", "reportingDate", "insertedDate", "paymentMethod", "fee", "notificationFee",
        "pspCompany", "idReceipt", "idFlowReporting", "status", "lastUpdatedDate",
        "paymentOptionMetadata")})
    d["organizationFiscalCode"] = p["organizationFiscalCode"]
    d["transfer"] = [transfer_response(t) for t in o["transfer"]]
    return d


def position_response(p):
    """PaymentPositionModelBaseResponse (GET one, GET list)."""
    d = clean({k: p.get(k) for k in (
        "iupd", "organizationFiscalCode", "type", "companyName", "officeName", "insertedDate",
        "publishDate", "validityDate", "paymentDate", "status", "lastUpdatedDate")})
    d["paymentOption"] = [option_response(p, o) for o in p["paymentOption"]]
    return d


def payment_response(p, o):
    """PaymentsModelResponse (paymentoptions/paids/{nav}, and the
    simulator's own payment)."""
    d = option_response(p, o)
    d["serviceType"] = "GPD"
    return d


# --- The operations -----------------------------------------------------------


class Simulator:
    def __init__(self, contract, store, api_key, tamper=False, log=None):
        self.contract = contract
        self.store = store
        self.api_key = api_key
        self.tamper = tamper
        self.lock = threading.Lock()
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.port = None

    # -- operations of the contract, by operationId --

    def healthCheck(self, args, q, body):
        return 200, {"name": "pagopa-gpd-simulator", "version": self.contract.version, "environment": "local"}

    def createPosition(self, args, q, body):
        org = args["organizationfiscalcode"]
        if (org, body["iupd"]) in self.store.positions:
            raise conflict("A debt position with IUPD %s already exists for organization %s" % (body["iupd"], org))
        pos = self.store.build(org, body)
        self.store.seq += 1
        pos["seq"] = self.store.seq
        if q.get("toPublish"):
            self.store.publish(pos)
        self.store.positions[(org, pos["iupd"])] = pos
        self.store.save()
        return 201, position_model(pos)

    def getOrganizationDebtPositionByIUPD(self, args, q, body):
        return 200, position_response(self.store.get(args["organizationfiscalcode"], args["iupd"]))

    def updatePosition(self, args, q, body):
        org, iupd = args["organizationfiscalcode"], args["iupd"]
        old = self.store.get(org, iupd)
        if body["iupd"] != iupd:
            raise bad("The body's iupd %s differs from the path's %s" % (body["iupd"], iupd))
        if old["status"] not in UPDATABLE:
            raise conflict("Debt position %s is %s: it cannot be updated" % (iupd, old["status"]))
        pos = self.store.build(org, body, existing=old)
        pos["seq"] = old["seq"]
        pos["insertedDate"] = old["insertedDate"]
        if q.get("toPublish"):
            self.store.publish(pos)
        self.store.positions[(org, iupd)] = pos
        self.store.save()
        return 200, position_model(pos)

    def deletePosition(self, args, q, body):
        org, iupd = args["organizationfiscalcode"], args["iupd"]
        pos = self.store.get(org, iupd)
        if pos["status"] in NOT_DELETABLE:
            raise conflict("Debt position %s is %s: existing related payment found" % (iupd, pos["status"]))
        del self.store.positions[(org, iupd)]
        self.store.save()
        return 200, "OK"

    def publishPosition(self, args, q, body):
        pos = self.store.get(args["organizationfiscalcode"], args["iupd"])
        self.store.publish(pos)
        self.store.save()
        return 200, position_model(pos)

    def invalidatePosition(self, args, q, body):
        pos = self.store.get(args["organizationfiscalcode"], args["iupd"])
        if pos["status"] not in INVALIDATABLE:
            raise conflict("Debt position %s is %s, not in an invalidable state (PUBLISHED, VALID)" % (pos["iupd"], pos["status"]))
        pos["status"] = INVALID
        pos["lastUpdatedDate"] = fmt(self.store.now())
        self.store.save()
        return 200, position_model(pos)

    def setPaymentOptionAsAlreadyPaid(self, args, q, body):
        pos, opt = self.store.find_option(args["organizationfiscalcode"], args["nav"])
        when = parse(body["paymentDate"]) if body.get("paymentDate") else self.store.now()
        self.store.pay(pos, opt, when, method="OTHER")
        self.store.save()
        return 200, payment_response(pos, opt)

    def updateTransferIbanMassive(self, args, q, body):
        org = args["organizationfiscalcode"]
        old, new, limit = q["oldIban"], body["newIban"], q.get("limit", 1000)
        if limit < 1:
            raise bad("limit must be at least 1")
        if not (1 <= len(new) <= 35 and new.isascii() and new.isalnum()):
            raise bad("newIban must be 1 to 35 letters and digits")
        n = 0
        for pos in sorted(self.store.of_org(org), key=lambda p: p["seq"]):
            if pos["status"] not in UPDATABLE:
                continue
            for opt in pos["paymentOption"]:
                if opt["status"] != "PO_UNPAID":
                    continue
                for t in opt["transfer"]:
                    if t.get("iban") == old and n < limit:
                        t["iban"] = new
                        t["lastUpdatedDate"] = fmt(self.store.now())
                        n += 1
        self.store.save()
        return 200, {"description": "IBANs updated", "updatedTransfers": n}

    def getOrganizationDebtPositions(self, args, q, body):
        org = args["organizationfiscalcode"]
        limit, page = q.get("limit", 10), q.get("page", 0)
        if limit < 1:
            raise bad("limit must be at least 1")
        due = self._interval(q, "due_date_from", "due_date_to", as_date)
        paid = self._interval(q, "payment_date_from", "payment_date_to", as_date)
        paid_t = self._interval(q, "payment_date_time_from", "payment_date_time_to", as_datetime)
        if due and (paid or paid_t):
            raise bad("The due dates interval is mutually exclusive with the payment dates interval")
        found = []
        for pos in self.store.of_org(org):
            if q.get("status") and pos["status"] != q["status"]:
                continue
            if due:
                days = [parse(o["dueDate"]).date() for o in pos["paymentOption"]]
                if not any(due[0] <= d <= due[1] for d in days):
                    continue
            if paid:
                if not pos.get("paymentDate") or not paid[0] <= parse(pos["paymentDate"]).date() <= paid[1]:
                    continue
            if paid_t:
                if not pos.get("paymentDate") or not paid_t[0] <= parse(pos["paymentDate"]) <= paid_t[1]:
                    continue
            found.append(pos)
        key = {
            "INSERTED_DATE": lambda p: (p["insertedDate"], p["seq"]),
            "IUPD": lambda p: p["iupd"],
            "STATUS": lambda p: (p["status"], p["seq"]),
            "COMPANY_NAME": lambda p: (p["companyName"], p["seq"]),
        }[q.get("orderby", "INSERTED_DATE")]
        found.sort(key=key, reverse=q.get("ordering", "DESC") == "DESC")
        chunk = found[page * limit:(page + 1) * limit]
        return 200, {
            "payment_position_list": [position_response(p) for p in chunk],
            "page_info": {
                "page": page,
                "limit": limit,
                "items_found": len(chunk),
                "total_pages": (len(found) + limit - 1) // limit,
            },
        }

    @staticmethod
    def _interval(q, lo, hi, conv):
        """An interval filter; a bound left out is 30 days from the other
        (as the contract's parameter descriptions say)."""
        a, b = conv(q.get(lo)), conv(q.get(hi))
        if a is None and b is None:
            return None
        if a is None:
            a = b - dt.timedelta(days=30)
        if b is None:
            b = a + dt.timedelta(days=30)
        if a > b:
            raise bad("%s is after %s" % (lo, hi))
        return a, b

    # -- the test-only endpoints (outside the contract) --

    def sim(self, request, parts):
        method = request.method
        if parts == ["health"] and method == "GET":
            return 200, {
                "status": "UP",
                "contract": self.contract.version,
                "basePath": BASE,
                "apiKeyHeader": self.contract.key_header,
                "positions": len(self.store.positions),
            }
        if parts == ["reset"] and method == "POST":
            self.store.positions.clear()
            self.store.clock_offset = dt.timedelta(0)
            self.store.save()
            return 200, {"status": "RESET"}
        if parts == ["clock"] and method in ("GET", "POST"):
            if method == "POST":
                body = self._sim_body(request)
                if not isinstance(body.get("now"), str):
                    raise bad('the body must be {"now": "<RFC 3339 date-time with offset>"}')
                try:
                    want = parse(body["now"])
                except ValueError:
                    raise bad("now is not an RFC 3339 date-time: %s" % body["now"]) from None
                self.store.clock_offset = want - dt.datetime.now(dt.timezone.utc)
                self.store.save()
            return 200, {"now": fmt(self.store.now())}
        if len(parts) == 3 and parts[0] == "pay" and method == "POST":
            body = self._sim_body(request)
            allowed = {"amount", "paymentDate", "pspCompany", "idReceipt", "paymentMethod"}
            if set(body) - allowed:
                raise bad("unknown fields %s; allowed: %s" % (sorted(set(body) - allowed), sorted(allowed)))
            for k in allowed - {"amount"}:
                if k in body and not isinstance(body[k], str):
                    raise bad("%s must be a string" % k)
            if "amount" in body and (not isinstance(body["amount"], int) or isinstance(body["amount"], bool)):
                raise bad("amount must be an integer (euro cents)")
            pos, opt = self.store.find_option(parts[1], parts[2])
            if "amount" in body and body["amount"] != opt["amount"] and opt["status"] == "PO_UNPAID":
                raise Problem(
                    422,
                    "PAA_PAGAMENTO_SCONOSCIUTO",
                    "amount %d differs from the option's %d" % (body["amount"], opt["amount"]),
                )
            try:
                when = parse(body["paymentDate"]) if "paymentDate" in body else self.store.now()
            except ValueError:
                raise bad("paymentDate is not an RFC 3339 date-time") from None
            self.store.pay(
                pos,
                opt,
                when,
                method=body.get("paymentMethod", "CP"),
                psp=body.get("pspCompany", "PSP simulato"),
                receipt=body.get("idReceipt", uuid.uuid4().hex),
            )
            self.store.save()
            return 200, payment_response(pos, opt)
        raise not_found("No simulator endpoint %s %s" % (method, request.path))

    @staticmethod
    def _sim_body(request):
        if not request.get_data():
            return {}
        try:
            body = json.loads(request.get_data())
        except ValueError:
            raise bad("the body is not JSON") from None
        if not isinstance(body, dict):
            raise bad("the body must be a JSON object")
        return body

    # -- the WSGI application --

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request):
        req_id = request.headers.get("X-Request-Id") or str(uuid.uuid4())
        path = request.path
        if path == SIM or path.startswith(SIM + "/"):
            try:
                status, body = self.sim(request, [p for p in path[len(SIM) + 1:].split("/") if p])
            except Problem as p:
                status, body = p.status, p.body()
            except Exception:  # noqa: BLE001
                self.log("simulator error:\n" + traceback.format_exc())
                status, body = 500, {"title": "Simulator error", "status": 500, "detail": traceback.format_exc(limit=1)}
            return json_response(status, body, req_id)
        try:
            rule, args = self.contract.router.bind("localhost").match(path, method=request.method)
        except NotFound:
            return json_response(404, Problem(404, "Not Found", "No operation of the contract at %s" % path).body(), req_id)
        except MethodNotAllowed:
            return json_response(405, Problem(405, "Method Not Allowed", "%s %s is not in the contract" % (request.method, path)).body(), req_id)
        op = rule
        statuses = self.contract.statuses[op]
        errors, query = self.contract.check_request(request)
        key = request.headers.get(self.contract.key_header)
        if any(isinstance(e, SecurityValidationError) for e in errors) or key != self.api_key:
            # The contract's 401 has no body.
            response = Response(status=401, headers={"X-Request-Id": req_id})
            return self.checked(request, response, req_id)
        if errors:
            detail = "; ".join(describe(e) for e in errors)
            code = 400 if "400" in statuses else 404
            return self.checked(request, json_response(code, Problem(code, "Bad Request" if code == 400 else "Not Found", detail).body(), req_id), req_id)
        body = request.get_json(silent=True) if request.get_data() else None
        try:
            status, out = getattr(self, op)(args, query, body)
        except Problem as p:
            status, out = p.status, p.body()
        except Exception:  # noqa: BLE001
            self.log("simulator error in %s:\n%s" % (op, traceback.format_exc()))
            status, out = 500, {"title": "Simulator error", "status": 500, "detail": traceback.format_exc(limit=1)}
        if self.tamper:
            out = TAMPERED
        return self.checked(request, json_response(status, out, req_id), req_id)

    def checked(self, request, response, req_id):
        """The response if it satisfies the contract; else a loud 500."""
        try:
            self.contract.check_response(request, response)
            return response
        except Exception as e:  # noqa: BLE001
            detail = "%s %s → %d: %s" % (request.method, request.path, response.status_code, describe(e))
            self.log("CONTRACT VIOLATION by the simulator: " + detail)
            return json_response(
                500, {"title": "Simulator response violates the contract", "status": 500, "detail": detail}, req_id
            )


# A body that no response schema of the contract accepts: --tamper-responses.
TAMPERED = {"status": "NOT_A_STATUS", "page_info": 1, "name": 1, "updatedTransfers": "x"}


def json_response(status, body, req_id):
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers={"X-Request-Id": req_id},
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local pagoPA GPD simulator (tests only).")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--api-key", default=DEFAULT_API_KEY, help="the expected Ocp-Apim-Subscription-Key")
    ap.add_argument("--state", help="JSON file that keeps the positions across restarts")
    ap.add_argument("--port-file", help="write the port chosen to this file")
    ap.add_argument("--contract", default=os.environ.get("PALAZZO_GPD_CONTRACT", DEFAULT_CONTRACT))
    ap.add_argument("--tamper-responses", action="store_true", help="debug: break every response body (to prove the response check)")
    ap.add_argument("--quiet", action="store_true", help="no access log")
    a = ap.parse_args(argv)

    contract = Contract(a.contract)
    sim = Simulator(contract, Store(a.state), a.api_key, tamper=a.tamper_responses)
    if a.quiet:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", a.port, sim, threaded=True)
    port = server.server_port
    sim.port = port
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    print("READY %d" % port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    main()
