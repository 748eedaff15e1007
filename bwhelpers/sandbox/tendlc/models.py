"""
State of the A2P area: 10DLC campaigns, the numbers assigned to them, TN Option Orders and
toll-free verification requests. Every row carries ``account_id``; no account sees another's.

Campaigns. Brand and campaign registration (The Campaign Registry) happens in the Bandwidth App
and takes days, so the sandbox skips it: every account starts with two campaigns, seeded on first
use (and again after a reset):

* the **pre-registered** one, status ``REGISTERED`` — ``CSBX001`` on the demo account ``9900000``,
  ``CSBX002`` on ``9900001``, ``CS`` + 5 characters of the account id's hash on any other account;
* a **pending** one, status ``PENDING`` (registration not finished): ``CPND001`` / ``CPND002`` /
  ``CP`` + the same 5 characters. Assigning a number to it fails with 12192 (not active).

TN Option Orders are validated when posted (a bad body is refused with 400); each number's result
is decided then too, and revealed by the lifecycle, computed on read from the same
``order_transition`` setting number orders use: RECEIVED -> PROCESSING -> COMPLETE / PARTIAL /
FAILED. While an order is not finished its numbers read ``PROCESSING`` on the campaign; then
``SUCCESS`` (or ``FAILURE`` when the campaign is not registered).

Toll-free verification requests go PENDING -> VERIFIED on the same transition; a submission whose
``businessAddress.url`` contains ``unreachable`` is declined instead (UNVERIFIED, denial 511,
resubmission allowed).

:func:`a2p_block` is what the messaging area asks before it delivers a message (setting
``a2p_enforcement``, default true).
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from typing import Any

from .. import db as dbmod
from .. import magic
from .. import clock
from ..clock import iso
from ..db import Database
from ..numbers import TOLL_FREE_NPAS, normalize_tn
from . import exceptions as exc

SCHEMA = """
CREATE TABLE IF NOT EXISTS tendlc_campaigns (
    account_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    brand_id TEXT NOT NULL,
    status TEXT NOT NULL,
    use_case TEXT NOT NULL,
    description TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (account_id, campaign_id)
);
CREATE TABLE IF NOT EXISTS tendlc_numbers (
    account_id TEXT NOT NULL,
    tn TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    order_id TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (account_id, tn)
);
CREATE TABLE IF NOT EXISTS tnoption_orders (
    order_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    customer_order_id TEXT,
    groups TEXT NOT NULL,
    tns TEXT NOT NULL,
    outcome TEXT NOT NULL,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    created REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tnoption_orders_account ON tnoption_orders(account_id, created);
CREATE TABLE IF NOT EXISTS tfv_requests (
    account_id TEXT NOT NULL,
    tn TEXT NOT NULL,
    ticket TEXT NOT NULL,
    submission TEXT NOT NULL,
    outcome TEXT NOT NULL,
    decline TEXT,
    created REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, tn)
)
"""
dbmod.register_schema(SCHEMA)
# a final registration, a campaign and a send's A2P verdict are cached with the tables they are read from
# (bwhelpers.sandbox.db.Database.derived)
for _table in ("tendlc_campaigns", "tendlc_numbers", "tnoption_orders"):
    dbmod.register_cached_table(_table)

#: the documented pre-registered (REGISTERED) and pending campaigns of the demo accounts
DEMO_CAMPAIGNS = {"9900000": (magic.DEMO_REGISTERED_CAMPAIGN, magic.DEMO_PENDING_CAMPAIGN),
                  "9900001": ("CSBX002", "CPND002")}
REGISTERED, PENDING = "REGISTERED", "PENDING"
NUMBER_STATUSES = ("PROCESSING", "SUCCESS", "FAILURE")
ACTIONS = ("asSpecified", "systemDefault", "off", "delete", "unchanged")
SMS_VALUES = ("on", "off", "systemdefault", "unchanged")
#: numbers.yml TnOptionGroup: NumberFormat and RPIDFormat take these (compared ignoring case); another value is the
#: whole order's 400 with the code numbers-errors.mdx gives it (the spec's own CreateTnOptionOrder 400 example is
#: 5081 "Number Format 'wrong' is invalid.")
FORMAT_VALUES = ("10digit", "11digit", "e164", "unchanged", "systemdefault")
FORMAT_CODES = {"NumberFormat": 5081, "RPIDFormat": 5089}
MAX_TNS = 5000
PAGE_MAX = 250
TFV_DECLINE_MAGIC = magic.TFV_DECLINE_MAGIC
TFV_DECLINE = {"denialStatusCode": 511, "declineReasonDescription":
               "Invalid Information - Can't Validate URL - Website is not accessible / not available",
               "resubmitAllowed": True}
TFN_4795 = (4795, "tfn-not-verified")
TEN_DLC_4476 = (4476, "Source TN not registered to a 10DLC campaign")
_CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def e164(ten: str) -> str:
    return "+1" + ten


def is_toll_free(ten: str) -> bool:
    return ten[:3] in TOLL_FREE_NPAS


# == campaigns =====================================================================================

def campaign_ids(account_id: str) -> tuple[str, str]:
    """(pre-registered, pending) campaign ids of an account (documented for the demo accounts)."""
    if account_id in DEMO_CAMPAIGNS:
        return DEMO_CAMPAIGNS[account_id]
    h = hashlib.sha256(account_id.encode()).hexdigest().upper()[:5]
    return "CS" + h, "CP" + h


def _seed(conn: sqlite3.Connection, account_id: str) -> None:
    if conn.execute("SELECT 1 FROM tendlc_campaigns WHERE account_id=? LIMIT 1", (account_id,)).fetchone():
        return
    if conn.execute("SELECT 1 FROM accounts WHERE account_id=?", (account_id,)).fetchone() is None:
        return
    registered, pending = campaign_ids(account_id)
    brand = "B" + registered[1:]
    now = clock.now(conn)
    conn.execute("INSERT OR IGNORE INTO tendlc_campaigns VALUES (?,?,?,?,?,?,?)",
                 (account_id, registered, brand, REGISTERED, "MIXED",
                  "Sandbox pre-registered campaign: the brand and campaign registration a real account does "
                  "in the Bandwidth App (it takes days) is already done", now))
    conn.execute("INSERT OR IGNORE INTO tendlc_campaigns VALUES (?,?,?,?,?,?,?)",
                 (account_id, pending, brand, PENDING, "MIXED",
                  "Sandbox campaign whose registration is still pending: numbers cannot be assigned to it yet",
                  now + 0.001))


def seed(db: Database, account_id: str) -> None:
    if db.recall(("campaigns seeded", account_id)) is not None:
        return
    if db.query_one("SELECT 1 FROM tendlc_campaigns WHERE account_id=? LIMIT 1", (account_id,)):
        db.remember(("campaigns seeded", account_id), (True,))  # until the table changes (a wipe, another seed)
        return
    with db.transaction() as conn:
        _seed(conn, account_id)


def _campaign_wire(row: sqlite3.Row) -> dict[str, Any]:
    return {"campaignId": row["campaign_id"], "brandId": row["brand_id"], "status": row["status"],
            "usecase": row["use_case"], "description": row["description"], "createDate": iso(row["created"])}


def list_campaigns(db: Database, account_id: str) -> list[dict[str, Any]]:
    seed(db, account_id)
    rows = db.query("SELECT * FROM tendlc_campaigns WHERE account_id=? ORDER BY created, campaign_id", (account_id,))
    return [_campaign_wire(r) for r in rows]


def get_campaign(db: Database, account_id: str, campaign_id: str) -> dict[str, Any] | None:
    seed(db, account_id)
    found = db.derived(("campaign", account_id, campaign_id), lambda: _get_campaign(db, account_id, campaign_id))
    return dict(found) if found is not None else None


def _get_campaign(db: Database, account_id: str, campaign_id: str) -> dict[str, Any] | None:
    row = db.query_one("SELECT * FROM tendlc_campaigns WHERE account_id=? AND campaign_id=?",
                       (account_id, campaign_id))
    return _campaign_wire(row) if row else None


# == lifecycle (shared by TN Option Orders and toll-free verification) ===============================

def _transition(db: Database) -> dict[str, Any]:
    t = db.get_setting("order_transition") or {}
    return t if isinstance(t, dict) else {}


def phase(created: float, polls: int, transition: dict[str, Any], now: float) -> str:
    """RECEIVED, PROCESSING or DONE for something created at ``created`` and read ``polls`` times."""
    mode = transition.get("mode", "seconds")
    if mode == "immediate":
        return "DONE"
    if mode == "polls":
        n = int(transition.get("polls", 2))
        return "DONE" if polls >= n else ("PROCESSING" if polls >= 1 else "RECEIVED")
    seconds = float(transition.get("seconds", 2.0))
    age = now - created
    if age >= seconds:
        return "DONE"
    return "PROCESSING" if age >= seconds / 2 else "RECEIVED"


def _order_phases(db: Database, order_ids: set[str]) -> dict[str, str]:
    if not order_ids:
        return {}
    transition, now = _transition(db), clock.now(db)
    marks = ",".join("?" * len(order_ids))
    rows = db.query(f"SELECT order_id, created, polls FROM tnoption_orders WHERE order_id IN ({marks})",
                    list(order_ids))
    return {r["order_id"]: phase(r["created"], r["polls"], transition, now) for r in rows}


# == registrations (numbers on campaigns) ==========================================================

def _registrations(db: Database, account_id: str, campaign_id: str | None = None,
                   tn: str | None = None) -> list[dict[str, Any]]:
    _settle_numbers(db)
    return _registrations_final(db, account_id, campaign_id, tn)[0]


def _registrations_final(db: Database, account_id: str, campaign_id: str | None = None,
                         tn: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """(the registrations, are they final: every order behind them DONE); orders settled by the caller."""
    # a disconnected number leaves its campaign with it
    sql = ("SELECT n.* FROM tendlc_numbers n JOIN dash_tns t ON t.tn=n.tn AND t.account_id=n.account_id "
           "AND t.status='inservice' WHERE n.account_id=?")
    args: list[Any] = [account_id]
    if campaign_id is not None:
        sql += " AND n.campaign_id=?"
        args.append(campaign_id)
    if tn is not None:
        sql += " AND n.tn=?"
        args.append(tn)
    rows = db.query(sql + " ORDER BY n.tn", args)
    phases = _order_phases(db, {r["order_id"] for r in rows})
    out = []
    for r in rows:
        done = phases.get(r["order_id"], "DONE") == "DONE"
        if r["outcome"] == "REMOVED":
            if done:
                continue
            status = "PROCESSING"
        else:
            status = r["outcome"] if done else "PROCESSING"
        out.append({"phoneNumber": e164(r["tn"]), "campaignId": r["campaign_id"], "status": status})
    return out, all(p == "DONE" for p in phases.values())


def campaign_numbers(db: Database, account_id: str, campaign_id: str, phone_number: str | None = None
                     ) -> list[dict[str, Any]] | None:
    """Numbers on a campaign (None when the campaign is not the account's)."""
    if get_campaign(db, account_id, campaign_id) is None:
        return None
    ten = normalize_tn(phone_number) if phone_number else None
    if phone_number and ten is None:
        return []
    return _registrations(db, account_id, campaign_id=campaign_id, tn=ten)


def account_numbers(db: Database, account_id: str) -> list[dict[str, Any]]:
    return _registrations(db, account_id)


def registration(db: Database, account_id: str, tn: str) -> dict[str, Any] | None:
    """The number's registration on a campaign (None when it has none). Cached once final (every TN Option Order
    behind it DONE: only a write, or the clock set back, changes it then)."""
    ten = normalize_tn(tn)
    if ten is None:
        return None
    _settle_numbers(db)
    key = ("registration", account_id, ten)
    cached = db.recall(key)
    if cached is not None:
        return dict(cached[0]) if cached[0] else None
    found, final = _registrations_final(db, account_id, tn=ten)
    if final:
        db.remember(key, (found[0] if found else None,))
    return dict(found[0]) if found else None


def _in_service(conn: sqlite3.Connection, account_id: str, ten: str) -> sqlite3.Row | None:
    """The account's in-service number (the dashboard area's table; orders settled by the caller)."""
    return conn.execute("SELECT tn, peer_id FROM dash_tns WHERE tn=? AND account_id=? AND status='inservice'",
                        (ten, account_id)).fetchone()


def _settle_numbers(db: Database) -> None:
    from ..dashboard.models import settle  # a missing area fails loudly

    settle(db)


def number_on_account(db: Database, account_id: str, ten: str) -> bool:
    _settle_numbers(db)
    return db.query_one("SELECT 1 FROM dash_tns WHERE tn=? AND account_id=? AND status='inservice'",
                        (ten, account_id)) is not None


# == TN Option Orders ==============================================================================

def _t(node: Any) -> str | None:
    from .. import xmlio

    if node is None:
        return None
    value = xmlio.text(node)
    return "" if value is None else value


def _as_list(node: Any) -> list[Any]:
    if node is None:
        return []
    return node if isinstance(node, list) else [node]


def parse_order(content: Any) -> dict[str, Any]:
    """``<TnOptionOrder>`` content -> {customer_order_id, groups: [{options, a2p, tns}]}; bad bodies raise 400."""
    if not isinstance(content, dict):
        raise exc.malformed("TnOptionOrder must contain TnOptionGroups/TnOptionGroup elements, each with "
                            "TelephoneNumbers/TelephoneNumber")
    customer_order_id = _t(content.get("CustomerOrderId")) or None
    groups_node = content.get("TnOptionGroups")
    groups = _as_list(groups_node.get("TnOptionGroup")) if isinstance(groups_node, dict) else []
    if not groups:
        raise exc.malformed("TnOptionOrder has no TnOptionGroups/TnOptionGroup: add one group with the options "
                            "(e.g. <Sms>on</Sms> and <A2pSettings>) and <TelephoneNumbers>")
    parsed, seen = [], set()
    total = 0
    for i, g in enumerate(groups, 1):
        if not isinstance(g, dict):
            raise exc.malformed(f"TnOptionGroup {i} is empty: give it options and TelephoneNumbers")
        tns_node = g.get("TelephoneNumbers")
        raw_tns = [_t(x) or "" for x in _as_list(tns_node.get("TelephoneNumber"))] if isinstance(tns_node, dict) else []
        if not raw_tns:
            raise exc.order_rejected(5073, exc.text(5073) + f" TnOptionGroup {i} has no "
                                     "TelephoneNumbers/TelephoneNumber")
        tns = []
        for raw in raw_tns:
            ten = normalize_tn(raw)
            if ten is None:
                raise exc.order_rejected(5070, exc.text(5070) + f" '{exc.safe(raw)}': use 10 digits "
                                         "(9195551234) or E.164 (+19195551234)")
            if ten in seen:
                raise exc.order_rejected(5093, exc.text(5093) + f" ({ten})")
            seen.add(ten)
            tns.append(ten)
        total += len(tns)
        options: dict[str, Any] = {}
        for key, value in g.items():
            if key in ("TelephoneNumbers", "A2pSettings"):
                continue
            options[key] = value
        for key, code in FORMAT_CODES.items():
            if key in options and (_t(options[key]) or "").lower() not in FORMAT_VALUES:
                raise exc.order_rejected(code, exc.text(code, _t(options[key]) or "") +
                                         " Valid values are: 10digit, 11digit, e164, unchanged, systemDefault")
        sms = options.get("Sms")
        if sms is not None and (_t(sms) or "").lower() not in SMS_VALUES:
            raise exc.order_rejected(5113, exc.text(5113, _t(sms), "on, off, systemDefault, unchanged"))
        a2p = None
        if "A2pSettings" in g:
            node = g["A2pSettings"] if isinstance(g["A2pSettings"], dict) else {}
            action = _t(node.get("Action")) or "asSpecified"
            match = next((a for a in ACTIONS if a.lower() == action.lower()), None)
            if match is None:
                raise exc.order_rejected(5138, exc.text(5138) + f" (got '{exc.safe(action)}')")
            campaign = _t(node.get("CampaignId")) or None
            message_class = _t(node.get("MessageClass")) or None
            if match == "asSpecified":
                if not campaign:
                    raise exc.malformed("A2pSettings/CampaignId is required when Action is asSpecified: give the "
                                        "id of a REGISTERED 10DLC campaign (GET /api/v2/accounts/{a}/tendlc/campaigns)"
                                        " (code 1003 is the sandbox's choice)")
                if not _CAMPAIGN_ID.match(campaign):
                    raise exc.order_rejected(12822, exc.text(12822, campaign))
                if sms is not None and (_t(sms) or "").lower() == "off":
                    raise exc.order_rejected(5132, exc.text(5132) + ": send <Sms>on</Sms> or leave Sms out")
            elif campaign or message_class:
                raise exc.order_rejected(5134, exc.text(5134, "CampaignId" if campaign else "MessageClass"))
            a2p = {"Action": match, "CampaignId": campaign, "MessageClass": message_class}
        if a2p is None and not options:
            raise exc.order_rejected(5115, exc.text(5115, ", ".join(tns[:3]) + ("..." if len(tns) > 3 else "")))
        parsed.append({"options": options, "a2p": a2p, "tns": tns})
    if total > MAX_TNS:
        raise exc.order_rejected(5095, exc.text(5095, MAX_TNS))
    return {"customer_order_id": customer_order_id, "groups": parsed}


def _group_echo(group: dict[str, Any]) -> dict[str, Any]:
    echo = dict(group["options"])
    if group["a2p"] is not None:
        a2p = group["a2p"]
        echo["A2pSettings"] = {k: a2p[k] for k in ("MessageClass", "CampaignId", "Action") if a2p.get(k)}
    echo["TelephoneNumbers"] = {"TelephoneNumber": list(group["tns"])}
    return echo


def create_order(db: Database, account_id: str, username: str, req: dict[str, Any]) -> dict[str, Any]:
    """Store a TN Option Order; each number's result is decided now and shown as the order progresses."""
    from ..dashboard.models import location_messaging

    _settle_numbers(db)
    seed(db, account_id)
    now = clock.now(db)
    order_id = str(uuid.uuid4())
    errors: list[list[Any]] = []
    warnings: list[list[Any]] = []
    all_tns: list[str] = []
    ok = 0
    with db.transaction() as conn:
        campaigns = {r["campaign_id"]: r["status"] for r in conn.execute(
            "SELECT campaign_id, status FROM tendlc_campaigns WHERE account_id=?", (account_id,))}
        for group in req["groups"]:
            a2p = group["a2p"]
            for ten in group["tns"]:
                all_tns.append(ten)
                row = _in_service(conn, account_id, ten)
                if row is None:
                    errors.append([5076, exc.text(5076) + f" {ten} is not in service on account {account_id}", ten])
                    continue
                if a2p is None or a2p["Action"] == "unchanged":
                    ok += 1
                    continue
                current = conn.execute("SELECT * FROM tendlc_numbers WHERE account_id=? AND tn=?",
                                       (account_id, ten)).fetchone()
                if a2p["Action"] != "asSpecified":  # off / delete / systemDefault: leave the campaign
                    if current is not None:
                        conn.execute("UPDATE tendlc_numbers SET outcome='REMOVED', order_id=?, updated=? "
                                     "WHERE account_id=? AND tn=?", (order_id, now, account_id, ten))
                    else:
                        warnings.append([ten, "The number is not assigned to a 10DLC campaign; nothing to remove."])
                    ok += 1
                    continue
                campaign = a2p["CampaignId"]
                if is_toll_free(ten):
                    errors.append([5126, exc.text(5126) + f" {ten} is toll-free: toll-free numbers need toll-free "
                                   "verification, not a 10DLC campaign", ten])
                    continue
                if campaign not in campaigns:
                    errors.append([12128, exc.text(12128, campaign), ten])
                    continue
                loc = location_messaging(db, account_id, row["peer_id"])
                if not loc.get("sms"):
                    errors.append([5145, exc.text(5145) + f": the location of {ten} has no SMS feature (HTTP); "
                                   "enable SMS on it first", ten])
                    continue
                if current is not None and current["campaign_id"] == campaign and current["outcome"] == "SUCCESS":
                    warnings.append([ten, f"The number is already assigned to campaign {campaign} or is in "
                                          "processing."])
                    ok += 1
                    continue
                if campaigns[campaign] != REGISTERED:
                    errors.append([12192, exc.text(12192, campaign) + f" (its status is {campaigns[campaign]})", ten])
                    outcome = "FAILURE"
                else:
                    outcome = "SUCCESS"
                    ok += 1
                conn.execute("INSERT OR REPLACE INTO tendlc_numbers VALUES (?,?,?,?,?,?)",
                             (account_id, ten, campaign, outcome, order_id, now))
        status = "COMPLETE" if not errors else ("PARTIAL" if ok else "FAILED")
        conn.execute("INSERT INTO tnoption_orders (order_id, account_id, created_by, customer_order_id, groups, tns, "
                     "outcome, errors, warnings, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (order_id, account_id, username, req.get("customer_order_id"),
                      json.dumps([_group_echo(g) for g in req["groups"]]), json.dumps(all_tns), status,
                      json.dumps(errors), json.dumps(warnings), now))
    return _wire(_order_row(db, account_id, order_id), "RECEIVED", now)  # the 201 always says RECEIVED


def _order_row(db: Database, account_id: str, order_id: str) -> sqlite3.Row:
    row = db.query_one("SELECT * FROM tnoption_orders WHERE order_id=? AND account_id=?", (order_id, account_id))
    if row is None:
        raise exc.OrderNotFound(order_id)
    return row


def _status(row: sqlite3.Row, transition: dict[str, Any], now: float) -> str:
    p = phase(row["created"], row["polls"], transition, now)
    return row["outcome"] if p == "DONE" else p


def _done_at(row: sqlite3.Row, transition: dict[str, Any], now: float) -> float:
    """When a finished order / verification finished (its LastModifiedDate, modifiedDateTime): a fixed time, not the
    time of the read (each GET moved it). ``polls`` mode does not store the poll that finished it: ``now`` there."""
    mode = transition.get("mode", "seconds")
    if mode == "seconds":
        return min(now, row["created"] + float(transition.get("seconds", 2.0)))
    if mode == "immediate":
        return float(row["created"])
    return now


def _wire(row: sqlite3.Row, status: str, modified: float) -> dict[str, Any]:
    done = status not in ("RECEIVED", "PROCESSING")
    body: dict[str, Any] = {}
    if row["customer_order_id"]:
        body["CustomerOrderId"] = row["customer_order_id"]
    body.update({"OrderCreateDate": iso(row["created"]), "AccountId": row["account_id"],
                 "CreatedByUser": row["created_by"], "OrderId": row["order_id"], "LastModifiedDate": iso(modified),
                 "ProcessingStatus": status,
                 "TnOptionGroups": {"TnOptionGroup": json.loads(row["groups"])}})
    errors = json.loads(row["errors"]) if done else []
    body["ErrorList"] = {"Error": [{"Code": str(c), "Description": d, "TelephoneNumber": tn}
                                   for c, d, tn in errors]} if errors else None
    warnings = json.loads(row["warnings"]) if done else []
    if warnings:
        body["Warnings"] = {"Warning": [{"TelephoneNumber": tn, "Description": d} for tn, d in warnings]}
    return body


def order_wire(db: Database, account_id: str, order_id: str, count_poll: bool = True) -> dict[str, Any]:
    """``GET /tnoptions/{id}``: the order, its status computed now (a GET counts as a poll)."""
    transition, now = _transition(db), clock.now(db)
    row = _order_row(db, account_id, order_id)
    status = _status(row, transition, now)
    if count_poll:
        db.execute("UPDATE tnoption_orders SET polls=polls+1 WHERE order_id=?", (order_id,))
    done = status not in ("RECEIVED", "PROCESSING")
    modified = _done_at(row, transition, now) if done else row["created"]
    return _wire(row, status, modified)


def list_orders(db: Database, account_id: str, statuses: list[str] | None = None, tn: str | None = None,
                customer_order_id: str | None = None, details: bool = False) -> dict[str, Any]:
    transition, now = _transition(db), clock.now(db)
    ten = normalize_tn(tn) if tn else None
    wanted = {s.strip().upper() for st in (statuses or []) for s in st.split(",") if s.strip()}
    rows = db.query("SELECT * FROM tnoption_orders WHERE account_id=? ORDER BY created, rowid", (account_id,))
    items = []
    for row in rows:
        status = _status(row, transition, now)
        if wanted and status not in wanted:
            continue
        if tn and (ten is None or ten not in json.loads(row["tns"])):
            continue
        if customer_order_id and row["customer_order_id"] != customer_order_id:
            continue
        done = status not in ("RECEIVED", "PROCESSING")
        modified = _done_at(row, transition, now) if done else row["created"]
        if details:
            items.append(_wire(row, status, modified))
        else:
            items.append({"accountId": row["account_id"], "CountOfTNs": len(json.loads(row["tns"])),
                          "userId": row["created_by"], "lastModifiedDate": iso(modified),
                          "OrderDate": iso(row["created"]), "OrderType": "tn_option", "OrderStatus": status,
                          "OrderId": row["order_id"]})
    body: dict[str, Any] = {"TotalCount": len(items)}
    if items:
        body["TnOptionOrder" if details else "TnOptionOrderSummary"] = items
    return {"TnOptionOrders": body}


# == toll-free verification ========================================================================

_TFN = re.compile(r"^\+1(800|833|844|855|866|877|888)[2-9]\d{6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ENTITY_TYPES = ("SOLE_PROPRIETOR", "PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "GOVERNMENT")


def tfn_e164(value: str) -> str | None:
    """A toll-free number in the spec's ``tfPhoneNumber`` form (``+18005555555``), or None."""
    ten = normalize_tn(value)
    if ten is None:
        return None
    candidate = e164(ten)
    return candidate if _TFN.match(candidate) else None


def _str_field(errors: dict[str, str], obj: dict[str, Any], key: str, prefix: str, required: bool = True,
               max_len: int = 500) -> None:
    value = obj.get(key)
    name = f"{prefix}{key}"
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = f"{name} is required."
        return
    if not isinstance(value, str):
        errors[name] = f"{name} must be a string."
    elif len(value) > max_len:
        errors[name] = f"{name} must be {max_len} characters or less."


def validate_submission(body: Any, with_numbers: bool) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """A verificationRequest (``with_numbers``) or a submission -> (submission, numbers, field errors)."""
    errors: dict[str, str] = {}
    if not isinstance(body, dict):
        return {}, [], {"body": "The request body must be a JSON object."}
    numbers: list[str] = []
    if with_numbers:
        raw = body.get("phoneNumbers")
        if not isinstance(raw, list) or not raw:
            errors["phoneNumbers"] = "phoneNumbers is required: a list of 1 to 10 toll-free numbers like +18005555555."
        elif len(raw) > 10:
            errors["phoneNumbers"] = "phoneNumbers must contain at most 10 numbers."
        else:
            bad = [str(n) for n in raw if not isinstance(n, str) or tfn_e164(n) != n]
            if bad:
                errors["phoneNumbers"] = (f"phoneNumbers must be toll-free numbers in E.164 format like +18005555555 "
                                          f"(invalid: {', '.join(exc.safe(b) for b in bad[:3])}).")
            numbers = [n for n in raw if isinstance(n, str) and tfn_e164(n) == n]
    address = body.get("businessAddress")
    if not isinstance(address, dict):
        errors["businessAddress"] = "businessAddress is required: {name, addr1, city, state, zip, url}."
    else:
        for key in ("name", "addr1", "city", "state", "zip", "url"):
            _str_field(errors, address, key, "businessAddress.")
    contact = body.get("businessContact")
    if not isinstance(contact, dict):
        errors["businessContact"] = "businessContact is required: {firstName, lastName, email, phoneNumber}."
    else:
        for key in ("firstName", "lastName", "email", "phoneNumber"):
            _str_field(errors, contact, key, "businessContact.")
        email = contact.get("email")
        if isinstance(email, str) and email and not _EMAIL.match(email):
            errors["businessContact.email"] = "Business contact email is not a valid email address."
    volume = body.get("messageVolume")
    if not isinstance(volume, int) or isinstance(volume, bool) or not 10 <= volume <= 10_000_000:
        errors["messageVolume"] = "messageVolume is required: the estimated monthly messages, from 10 to 10000000."
    for key in ("useCase", "useCaseSummary", "productionMessageContent"):
        _str_field(errors, body, key, "")
    opt_in = body.get("optInWorkflow")
    if not isinstance(opt_in, dict) or not isinstance(opt_in.get("description"), str) or not opt_in["description"] \
            or not isinstance(opt_in.get("imageUrls"), list):
        errors["optInWorkflow"] = "optInWorkflow is required: {description, imageUrls: [...]}."
    entity = body.get("businessEntityType")
    if entity not in ENTITY_TYPES:
        errors["businessEntityType"] = f"businessEntityType is required: one of {', '.join(ENTITY_TYPES)}."
    for key in ("privacyPolicyUrl", "termsAndConditionsUrl", "businessDba", "additionalInformation"):
        _str_field(errors, body, key, "", required=False)
    submission = {k: v for k, v in body.items() if k != "phoneNumbers"}
    return submission, numbers, errors


def _declined(submission: dict[str, Any]) -> bool:
    url = (submission.get("businessAddress") or {}).get("url") or ""
    return TFV_DECLINE_MAGIC in str(url).lower()


def _tfv_row(db: Database, account_id: str, ten: str) -> sqlite3.Row | None:
    return db.query_one("SELECT * FROM tfv_requests WHERE account_id=? AND tn=?", (account_id, ten))


def _tfv_status(row: sqlite3.Row | None, transition: dict[str, Any], now: float) -> str:
    if row is None:
        return "UNVERIFIED"
    return row["outcome"] if phase(row["created"], row["polls"], transition, now) == "DONE" else "PENDING"


def tfv_status(db: Database, account_id: str, number: str) -> str:
    """VERIFIED | PENDING | UNVERIFIED of one of the account's toll-free numbers (no poll counted)."""
    ten = normalize_tn(number)
    if ten is None:
        return "UNVERIFIED"
    return _tfv_status(_tfv_row(db, account_id, ten), _transition(db), clock.now(db))


def submit_tfv(db: Database, account_id: str, numbers: list[str], submission: dict[str, Any],
               update: bool = False) -> None:
    """Store a verification request for each number (``update``: resubmit a declined one)."""
    transition, now = _transition(db), clock.now(db)
    problems: list[str] = []
    for n in numbers:
        ten = normalize_tn(n) or ""
        if not number_on_account(db, account_id, ten):
            problems.append(f"{n} is not a number of account {account_id}")
            continue
        row = _tfv_row(db, account_id, ten)
        status = _tfv_status(row, transition, now)
        if update:
            if row is None:
                problems.append(f"{n} has no verification request to update; submit one with POST "
                                f"/accounts/{account_id}/tollFreeVerification")
            elif status != "UNVERIFIED" or not json.loads(row["decline"] or "{}").get("resubmitAllowed"):
                problems.append(f"{n} cannot be resubmitted: its status is {status} (only a declined request with "
                                "resubmitAllowed can be updated)")
        elif row is not None and status in ("PENDING", "VERIFIED"):
            problems.append(f"{n} already has a verification request (status {status})")
        elif row is not None:
            problems.append(f"{n} was declined: resubmit with PUT /accounts/{account_id}/phoneNumbers/{n}"
                            "/tollFreeVerification")
    if problems:
        raise exc.tfv_invalid({"phoneNumbers": "; ".join(problems) + "."})
    outcome = "UNVERIFIED" if _declined(submission) else "VERIFIED"
    decline = json.dumps(TFV_DECLINE) if outcome == "UNVERIFIED" else None
    with db.transaction() as conn:
        for n in numbers:
            ten = normalize_tn(n) or n
            conn.execute("INSERT OR REPLACE INTO tfv_requests VALUES (?,?,?,?,?,?,?,0)",
                         (account_id, ten, str(uuid.uuid4()), json.dumps(submission), outcome, decline, now))


def tfv_wire(db: Database, account_id: str, number: str, count_poll: bool = True) -> dict[str, Any]:
    """``GET .../phoneNumbers/{n}/tollFreeVerification`` (tfvStatus). The number must be the account's."""
    ten = normalize_tn(number) or ""
    transition, now = _transition(db), clock.now(db)
    row = _tfv_row(db, account_id, ten)
    status = _tfv_status(row, transition, now)
    body: dict[str, Any] = {"phoneNumber": e164(ten), "status": status}
    if row is None:
        return body
    if count_poll:
        db.execute("UPDATE tfv_requests SET polls=polls+1 WHERE account_id=? AND tn=?", (account_id, ten))
    body["internalTicketNumber"] = row["ticket"]
    if status == "UNVERIFIED" and row["decline"]:
        decline = json.loads(row["decline"])
        body["declineReasonDescription"] = decline["declineReasonDescription"]
        body["denialStatusCode"] = decline["denialStatusCode"]
        body["resubmitAllowed"] = decline["resubmitAllowed"]
    body["createdDateTime"] = iso(row["created"])
    p = phase(row["created"], row["polls"], transition, now)
    body["modifiedDateTime"] = iso(_done_at(row, transition, now) if p == "DONE" else row["created"])
    body["submission"] = json.loads(row["submission"])
    return body


def delete_tfv(db: Database, account_id: str, number: str) -> bool:
    ten = normalize_tn(number) or ""
    cur = db.execute("DELETE FROM tfv_requests WHERE account_id=? AND tn=?", (account_id, ten))
    return cur.rowcount > 0


# == the delivery rule =============================================================================

def a2p_final(db: Database, account_id: str, from_tn: str) -> bool:
    """Is :func:`a2p_block`'s last answer for ``from_tn`` one that only a write to a cached table can change (the
    rule off, not a phone number, or a local number whose registration is final), not one that moves with the clock
    (a registration in progress, a toll-free verification)?"""
    if not db.get_setting("a2p_enforcement", True):
        return True
    ten = normalize_tn(from_tn)
    if ten is None:
        return True
    return not is_toll_free(ten) and db.recall(("a2p block", account_id, ten)) is not None


def a2p_block(db: Database, account_id: str, from_tn: str) -> tuple[int, str] | None:
    """Why carriers would reject a message from ``from_tn`` today, or None (setting ``a2p_enforcement``).

    A toll-free number must be VERIFIED (else 4795); a local number must be SUCCESS on a REGISTERED
    10DLC campaign (else 4476).
    """
    if not db.get_setting("a2p_enforcement", True):
        return None
    ten = normalize_tn(from_tn)
    if ten is None:
        return None
    if is_toll_free(ten):
        return None if tfv_status(db, account_id, ten) == "VERIFIED" else TFN_4795
    _settle_numbers(db)  # an order that came due (a disconnect) writes, and so drops the cached verdict
    key = ("a2p block", account_id, ten)
    verdict = db.recall(key)
    if verdict is not None:
        return verdict[0]
    reg = registration(db, account_id, ten)
    block: tuple[int, str] | None = TEN_DLC_4476
    if reg is not None and reg["status"] == "SUCCESS":
        campaign = get_campaign(db, account_id, reg["campaignId"])
        block = None if campaign is not None and campaign["status"] == REGISTERED else TEN_DLC_4476
    if db.recall(("registration", account_id, ten)) is not None:
        # the registration is final (every order behind it DONE): the verdict changes only with the cached tables
        db.remember(key, (block,))
    return block
