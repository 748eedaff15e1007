"""
State of the Dashboard (Iris) API area: applications, sites, SIP peers (locations), messaging
features, application assignment, number orders, numbers and disconnects.

Every row carries ``account_id``. Telephone numbers are globally unique across accounts
(``dash_tns.tn`` is the primary key) and are allocated inside one ``BEGIN IMMEDIATE``
transaction, so two processes sharing the db never hand out the same number.

Order status is computed when read (moto's ManagedState idea), from the ``order_transition``
setting: ``immediate``, ``seconds`` (N seconds after creation) or ``polls`` (the first N GETs of
the order still show RECEIVED). No background threads. Numbers are reserved when the order is
created and go in service when the order reaches its terminal status.

Functions other areas use: :func:`get_application`, :func:`callback_targets`,
:func:`number_owner`, :func:`location_messaging`.
"""
from __future__ import annotations

import functools
import json
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

from .. import db as dbmod
from .. import numbers
from .. import clock
from ..clock import iso
from ..db import Database
from . import exceptions as exc

SCHEMA = """
CREATE TABLE IF NOT EXISTS dash_site_ext (
    site_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    customer_name TEXT,
    address TEXT
);
CREATE TABLE IF NOT EXISTS dash_applications (
    application_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    app_name TEXT NOT NULL,
    doc TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dash_applications_account ON dash_applications(account_id);
CREATE TABLE IF NOT EXISTS dash_sippeers (
    peer_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    peer_name TEXT NOT NULL,
    description TEXT,
    is_default INTEGER NOT NULL DEFAULT 0,
    extra TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dash_sippeers_site ON dash_sippeers(account_id, site_id);
CREATE TABLE IF NOT EXISTS dash_sms (
    peer_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    http_settings TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dash_mms (
    peer_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    proxy_peer_id TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dash_app_settings (
    peer_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    application_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dash_tns (
    tn TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    order_id TEXT,
    status TEXT NOT NULL,
    city TEXT, state TEXT, rate_center TEXT, lata TEXT,
    created REAL NOT NULL,
    activated REAL
);
CREATE INDEX IF NOT EXISTS dash_tns_account ON dash_tns(account_id, status);
CREATE INDEX IF NOT EXISTS dash_tns_order ON dash_tns(order_id);
CREATE TABLE IF NOT EXISTS dash_orders (
    order_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    customer_order_id TEXT,
    site_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    order_type TEXT NOT NULL,
    echo TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    completed TEXT NOT NULL,
    failed TEXT NOT NULL,
    errors TEXT NOT NULL,
    created REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    finalized INTEGER NOT NULL DEFAULT 0,
    completed_at REAL,
    closed INTEGER NOT NULL DEFAULT 0,
    last_modified REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dash_orders_account ON dash_orders(account_id, created);
CREATE TABLE IF NOT EXISTS dash_disconnects (
    order_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    customer_order_id TEXT,
    numbers TEXT NOT NULL,
    protected TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dash_disconnects_account ON dash_disconnects(account_id, created);
CREATE INDEX IF NOT EXISTS dash_orders_pending ON dash_orders(finalized);
CREATE TABLE IF NOT EXISTS inventory_slots (
    account_id TEXT PRIMARY KEY,
    slot INTEGER NOT NULL UNIQUE
)
"""
dbmod.register_schema(SCHEMA)
# the messaging area's look-ups (number owner, location features, application callbacks) are cached with these
for _table in ("dash_orders", "dash_tns", "dash_sms", "dash_mms", "dash_app_settings", "dash_applications"):
    dbmod.register_cached_table(_table)
dbmod.register_column("dash_disconnects", "failed", "TEXT")
dbmod.register_column("dash_disconnects", "mode", "TEXT")

DEFAULT_PROXY_PEER_ID = "539692"


def _next_id(conn: sqlite3.Connection, name: str, start: int, taken_sql: str) -> str:
    """Next numeric id from a shared counter, skipping ids already used (call inside a transaction)."""
    row = conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
    value = start if row is None else int(row["value"]) + 1
    while conn.execute(taken_sql, (str(value),)).fetchone() is not None:
        value += 1
    conn.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
    return str(value)


def seed(db: Database) -> str:
    return str(db.get_setting("number_seed", numbers.DEFAULT_SEED) or numbers.DEFAULT_SEED)


# == applications ==================================================================================

APP_URL_FIELDS = ("CallbackUrl", "MsgCallbackUrl", "InboundCallbackUrl", "OutboundCallbackUrl")
APP_CRED_FIELDS = ("CallbackCreds", "InboundCallbackCreds", "OutboundCallbackCreds")


def _app_row(db: Database, account_id: str, app_id: str) -> sqlite3.Row:
    row = db.query_one("SELECT * FROM dash_applications WHERE application_id=? AND account_id=?",
                       (app_id, account_id))
    if row is None:
        raise exc.AppNotFound(app_id)
    return row


def app_wire(app_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``Application`` element in the order of numbers.yml's examples; never a password.

    As the docs' responses do, ``MsgCallbackUrl`` (deprecated, read by the Node SDK) always carries the
    inbound URL and ``MsgCallbackCreds`` the inbound credentials' user; the guide's ``CallbackUrl`` and
    ``CallbackCreds`` are echoed when the request used them.
    """
    out: dict[str, Any] = {"ApplicationId": app_id, "ServiceType": doc.get("ServiceType", "Messaging-V2"),
                           "AppName": doc.get("AppName")}
    inbound = doc.get("InboundCallbackUrl") or doc.get("MsgCallbackUrl") or doc.get("CallbackUrl")
    if doc.get("CallbackUrl"):
        out["CallbackUrl"] = doc["CallbackUrl"]
    if inbound:
        out["MsgCallbackUrl"] = inbound
    for key in ("InboundCallbackUrl", "OutboundCallbackUrl"):
        if doc.get(key):
            out[key] = doc[key]
    if "CallbackCreds" in doc and doc["CallbackCreds"] is not None:
        user = doc["CallbackCreds"].get("UserId")
        out["CallbackCreds"] = {"UserId": user} if user else None
    in_user = (doc.get("InboundCallbackCreds") or {}).get("UserId")
    if in_user:
        out["MsgCallbackCreds"] = {"UserId": in_user}
    for key in ("InboundCallbackCreds", "OutboundCallbackCreds"):
        if key in doc and doc[key] is not None:
            user = doc[key].get("UserId")
            out[key] = {"UserId": user} if user else None
    if doc.get("RequestedCallbackTypes"):
        out["RequestedCallbackTypes"] = {"CallbackType": list(doc["RequestedCallbackTypes"])}
    return out


def create_application(db: Database, account_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    app_id = str(uuid.uuid4())
    with db.transaction() as conn:
        conn.execute("INSERT INTO dash_applications VALUES (?,?,?,?,?)",
                     (app_id, account_id, doc["AppName"], json.dumps(doc), clock.now(db)))
    return app_wire(app_id, doc)


def application_doc(db: Database, account_id: str, app_id: str) -> dict[str, Any]:
    return json.loads(_app_row(db, account_id, app_id)["doc"])


def get_application_wire(db: Database, account_id: str, app_id: str) -> dict[str, Any]:
    return app_wire(app_id, application_doc(db, account_id, app_id))


def list_applications(db: Database, account_id: str) -> list[dict[str, Any]]:
    return [make() for _key, make in application_items(db, account_id)]


def application_items(db: Database, account_id: str) -> list[tuple[tuple[str, str], Callable[[], dict[str, Any]]]]:
    """The account's applications as ``(key, make)`` for :func:`bwhelpers.sandbox.xmlio.render_list`: the key is the
    stored row (id and document), ``make()`` its wire form."""
    rows = db.query("SELECT application_id, doc FROM dash_applications WHERE account_id=? ORDER BY created, rowid",
                    (account_id,))
    return [((r["application_id"], r["doc"]),
             functools.partial(_app_from_row, r["application_id"], r["doc"])) for r in rows]


def _app_from_row(app_id: str, doc: str) -> dict[str, Any]:
    return app_wire(app_id, json.loads(doc))


def update_application(db: Database, account_id: str, app_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    with db.transaction() as conn:
        row = conn.execute("SELECT doc FROM dash_applications WHERE application_id=? AND account_id=?",
                           (app_id, account_id)).fetchone()
        if row is None:
            raise exc.AppNotFound(app_id)
        old = json.loads(row["doc"])
        if doc.get("ServiceType", old.get("ServiceType")) != old.get("ServiceType"):
            raise exc.ServiceTypeImmutable()
        conn.execute("UPDATE dash_applications SET doc=?, app_name=? WHERE application_id=?",
                     (json.dumps(doc), doc["AppName"], app_id))
    return app_wire(app_id, doc)


def delete_application(db: Database, account_id: str, app_id: str) -> None:
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM dash_applications WHERE application_id=? AND account_id=?",
                        (app_id, account_id)).fetchone() is None:
            raise exc.AppNotFound(app_id)
        refs = [r["peer_id"] for r in conn.execute(
            "SELECT peer_id FROM dash_app_settings WHERE application_id=? AND account_id=? ORDER BY peer_id",
            (app_id, account_id))]
        if refs:
            raise exc.AppReferenced(refs)
        conn.execute("DELETE FROM dash_applications WHERE application_id=?", (app_id,))


def associated_sippeers(db: Database, account_id: str, app_id: str) -> list[dict[str, Any]]:
    if db.query_one("SELECT 1 FROM dash_applications WHERE application_id=? AND account_id=?",
                    (app_id, account_id)) is None:
        raise exc.AssociatedAppNotFound(app_id)
    rows = db.query(
        "SELECT s.site_id, st.name AS site_name, p.peer_id, p.peer_name FROM dash_app_settings s "
        "JOIN dash_sippeers p ON p.peer_id=s.peer_id JOIN sites st ON st.site_id=s.site_id "
        "WHERE s.application_id=? AND s.account_id=? ORDER BY CAST(p.peer_id AS INTEGER)", (app_id, account_id))
    return [{"SiteId": r["site_id"], "SiteName": r["site_name"], "PeerId": r["peer_id"], "PeerName": r["peer_name"]}
            for r in rows]


def get_application(db: Database, account_id: str, app_id: str) -> dict[str, Any] | None:
    """For the messaging area: the application's callback settings, or None if it does not exist.

    Keys: application_id, name, service_type, callback_url (effective URL for message-delivered /
    message-failed / message-sending), inbound_callback_url (for message-received),
    outbound_callback_url, callback_user / callback_password (credentials for the status URL),
    inbound_callback_user / inbound_callback_password, requested_callback_types.
    """
    if not app_id:
        return None
    found = db.derived(("application", str(account_id), str(app_id)), lambda: _application(db, account_id, app_id),
                       table="dash_applications")
    return None if found is None else {**found, "requested_callback_types": list(found["requested_callback_types"])}


def _application(db: Database, account_id: str, app_id: str) -> dict[str, Any] | None:
    row = db.query_one("SELECT doc FROM dash_applications WHERE application_id=? AND account_id=?",
                       (str(app_id), str(account_id)))
    if row is None:
        return None
    doc = json.loads(row["doc"])
    general = doc.get("CallbackUrl") or doc.get("MsgCallbackUrl")
    gen_creds = doc.get("CallbackCreds") or {}
    inbound = doc.get("InboundCallbackUrl") or general
    in_creds = doc.get("InboundCallbackCreds") or gen_creds
    if doc.get("OutboundCallbackUrl"):
        outbound, out_creds = doc["OutboundCallbackUrl"], doc.get("OutboundCallbackCreds") or gen_creds
    else:  # sandbox choice: with no OutboundCallbackUrl, status events go where inbound ones do
        outbound, out_creds = inbound, doc.get("OutboundCallbackCreds") or in_creds
    return {
        "application_id": str(app_id),
        "name": doc.get("AppName"),
        "service_type": doc.get("ServiceType", "Messaging-V2"),
        "callback_url": outbound,
        "outbound_callback_url": outbound,
        "inbound_callback_url": inbound,
        "callback_user": out_creds.get("UserId") or None,
        "callback_password": out_creds.get("Password") or None,
        "inbound_callback_user": in_creds.get("UserId") or None,
        "inbound_callback_password": in_creds.get("Password") or None,
        "requested_callback_types": list(doc.get("RequestedCallbackTypes") or []),
    }


def callback_targets(db: Database, account_id: str, app_id: str, direction: str) -> list[dict[str, Any]]:
    """Where events of ``direction`` go: ``[{"url", "user", "password"}]`` (empty if the app is unknown).

    ``direction``: "in"/"inbound" (message-received) or "out"/"outbound" (delivered/failed/sending).
    """
    app = get_application(db, account_id, app_id)
    if app is None:
        return []
    if direction.lower().startswith("in"):
        url, user, password = app["inbound_callback_url"], app["inbound_callback_user"], app["inbound_callback_password"]
    else:
        url, user, password = app["callback_url"], app["callback_user"], app["callback_password"]
    return [{"url": url, "user": user, "password": password}] if url else []


# == sites =========================================================================================

def site_row(db: Database, account_id: str, site_id: str) -> sqlite3.Row | None:
    return db.query_one("SELECT * FROM sites WHERE site_id=? AND account_id=?", (site_id, account_id))


def require_site(db: Database, account_id: str, site_id: str, root: str = exc.SITE) -> sqlite3.Row:
    row = site_row(db, account_id, site_id)
    if row is None:
        raise exc.SiteNotFound(site_id, root=root)
    return row


def site_wire(db: Database, row: sqlite3.Row, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": row["site_id"], "Name": row["name"]}
    if row["description"]:
        out["Description"] = row["description"]
    if full:
        ext = db.query_one("SELECT * FROM dash_site_ext WHERE site_id=?", (row["site_id"],))
        if ext is not None:
            if ext["customer_name"]:
                out["CustomerName"] = ext["customer_name"]
            if ext["address"]:
                out["Address"] = json.loads(ext["address"])
    return out


def list_sites(db: Database, account_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM sites WHERE account_id=? ORDER BY created, rowid", (account_id,))
    return [site_wire(db, r, full=False) for r in rows]


def create_site(db: Database, account_id: str, name: str, description: str | None, customer_name: str | None,
                address: dict[str, Any] | None) -> dict[str, Any]:
    with db.transaction() as conn:
        site_id = _next_id(conn, "dash_site_id", 10001, "SELECT 1 FROM sites WHERE site_id=?")
        now = clock.now(db)
        conn.execute("INSERT INTO sites VALUES (?,?,?,?,?)", (site_id, account_id, name, description, now))
        conn.execute("INSERT INTO dash_site_ext VALUES (?,?,?,?)",
                     (site_id, account_id, customer_name, json.dumps(address) if address else None))
    return site_wire(db, require_site(db, account_id, site_id))


def update_site(db: Database, account_id: str, site_id: str, name: str, description: str | None,
                customer_name: str | None, address: dict[str, Any] | None) -> dict[str, Any]:
    """PUT /sites/{id}: the body replaces the site's fields (numbers.yml UpdateSite)."""
    with db.transaction() as conn:
        conn.execute("UPDATE sites SET name=?, description=? WHERE site_id=? AND account_id=?",
                     (name, description, site_id, account_id))
        conn.execute("INSERT OR REPLACE INTO dash_site_ext VALUES (?,?,?,?)",
                     (site_id, account_id, customer_name, json.dumps(address) if address else None))
    return site_wire(db, require_site(db, account_id, site_id))


def delete_site(db: Database, account_id: str, site_id: str) -> None:
    """DELETE /sites/{id}: only a site without SIP peers (numbers.yml DeleteSite)."""
    with db.transaction() as conn:
        peers = conn.execute("SELECT COUNT(*) AS n FROM dash_sippeers WHERE account_id=? AND site_id=?",
                             (account_id, site_id)).fetchone()["n"]
        if peers:
            raise exc.SiteHasSipPeers(site_id, peers)
        conn.execute("DELETE FROM dash_site_ext WHERE site_id=? AND account_id=?", (site_id, account_id))
        conn.execute("DELETE FROM sites WHERE site_id=? AND account_id=?", (site_id, account_id))


# == SIP peers (locations) =========================================================================

def peer_row(db: Database, account_id: str, site_id: str, peer_id: str) -> sqlite3.Row | None:
    return db.query_one("SELECT * FROM dash_sippeers WHERE peer_id=? AND site_id=? AND account_id=?",
                        (peer_id, site_id, account_id))


def require_peer(db: Database, account_id: str, site_id: str, peer_id: str, root: str = exc.PEER) -> sqlite3.Row:
    row = peer_row(db, account_id, site_id, peer_id)
    if row is None:
        raise exc.SipPeerNotFound(peer_id, account_id, site_id, root=root)
    return row


def peer_wire(db: Database, row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {"PeerId": row["peer_id"], "PeerName": row["peer_name"]}
    if row["description"]:
        out["Description"] = row["description"]
    out["IsDefaultPeer"] = bool(row["is_default"])
    sms = db.query_one("SELECT settings FROM dash_sms WHERE peer_id=?", (row["peer_id"],))
    if sms is not None:
        out["ShortMessagingProtocol"] = json.loads(sms["settings"]).get("Protocol", "HTTP")
    for k, v in json.loads(row["extra"] or "{}").items():
        out.setdefault(k, v)
    return out


def list_peers(db: Database, account_id: str, site_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM dash_sippeers WHERE account_id=? AND site_id=? ORDER BY CAST(peer_id AS INTEGER)",
                    (account_id, site_id))
    return [peer_wire(db, r) for r in rows]


def create_peer(db: Database, account_id: str, site_id: str, name: str, description: str | None,
                is_default: bool, extra: dict[str, Any]) -> str:
    with db.transaction() as conn:
        _check_peer_name(conn, account_id, site_id, name)
        peer_id = _next_id(conn, "dash_peer_id", 500001, "SELECT 1 FROM dash_sippeers WHERE peer_id=?")
        if is_default:
            conn.execute("UPDATE dash_sippeers SET is_default=0 WHERE account_id=? AND site_id=?", (account_id, site_id))
        conn.execute("INSERT INTO dash_sippeers VALUES (?,?,?,?,?,?,?,?)",
                     (peer_id, account_id, site_id, name, description, int(is_default), json.dumps(extra),
                      clock.now(db)))
    return peer_id


def _check_peer_name(conn: sqlite3.Connection, account_id: str, site_id: str, name: str,
                     peer_id: str | None = None) -> None:
    """A site's locations have distinct names (13524, 409)."""
    if conn.execute("SELECT 1 FROM dash_sippeers WHERE account_id=? AND site_id=? AND peer_name=? AND peer_id IS NOT ?",
                    (account_id, site_id, name, peer_id)).fetchone():
        raise exc.SipPeerNameTaken(name, account_id, site_id)


def update_peer(db: Database, account_id: str, site_id: str, peer_id: str, name: str | None,
                description: str | None, is_default: bool | None, extra: dict[str, Any]) -> None:
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM dash_sippeers WHERE peer_id=? AND site_id=? AND account_id=?",
                           (peer_id, site_id, account_id)).fetchone()
        if row is None:
            raise exc.SipPeerNotFound(peer_id, account_id, site_id)
        if name is not None:
            _check_peer_name(conn, account_id, site_id, name, peer_id)
        if is_default:
            conn.execute("UPDATE dash_sippeers SET is_default=0 WHERE account_id=? AND site_id=?", (account_id, site_id))
        merged = json.loads(row["extra"] or "{}")
        merged.update(extra)
        conn.execute("UPDATE dash_sippeers SET peer_name=?, description=?, is_default=?, extra=? WHERE peer_id=?",
                     (name if name is not None else row["peer_name"],
                      description if description is not None else row["description"],
                      int(is_default) if is_default is not None else row["is_default"], json.dumps(merged), peer_id))


def delete_peer(db: Database, account_id: str, site_id: str, peer_id: str) -> None:
    settle(db)
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM dash_sippeers WHERE peer_id=? AND site_id=? AND account_id=?",
                        (peer_id, site_id, account_id)).fetchone() is None:
            raise exc.SipPeerNotFound(peer_id, account_id, site_id)
        if conn.execute("SELECT 1 FROM dash_sms WHERE peer_id=?", (peer_id,)).fetchone():
            raise exc.SipPeerHasSms()
        if conn.execute("SELECT 1 FROM dash_mms WHERE peer_id=?", (peer_id,)).fetchone():
            raise exc.SipPeerHasMms()
        count = conn.execute("SELECT COUNT(*) AS n FROM dash_tns WHERE peer_id=?", (peer_id,)).fetchone()["n"]
        if count:
            raise exc.SipPeerHasNumbers(count)
        conn.execute("DELETE FROM dash_app_settings WHERE peer_id=?", (peer_id,))
        conn.execute("DELETE FROM dash_sippeers WHERE peer_id=?", (peer_id,))


def peer_tns(db: Database, account_id: str, peer_id: str) -> list[str]:
    settle(db)
    return [r["tn"] for r in db.query(
        "SELECT tn FROM dash_tns WHERE account_id=? AND peer_id=? AND status='inservice' ORDER BY tn",
        (account_id, peer_id))]


# == messaging features ============================================================================

SMS_SETTINGS_ORDER = ("TollFree", "ShortCode", "A2pLongCode", "A2pMessageClass", "A2pCampaignId", "Protocol",
                      "Zone1", "Zone2", "Zone3", "Zone4", "Zone5")


def sms_wire(settings: dict[str, Any], http: dict[str, Any]) -> dict[str, Any]:
    ordered = {k: settings[k] for k in SMS_SETTINGS_ORDER if k in settings}
    ordered.update({k: v for k, v in settings.items() if k not in ordered})
    return {"SipPeerSmsFeatureSettings": ordered, "HttpSettings": http or None}


def get_sms(db: Database, account_id: str, peer_id: str) -> dict[str, Any] | None:
    row = db.query_one("SELECT * FROM dash_sms WHERE peer_id=? AND account_id=?", (peer_id, account_id))
    if row is None:
        return None
    return sms_wire(json.loads(row["settings"]), json.loads(row["http_settings"]))


def put_sms(db: Database, account_id: str, site_id: str, peer_id: str, settings: dict[str, Any],
            http: dict[str, Any], create: bool) -> dict[str, Any]:
    with db.transaction() as conn:
        exists = conn.execute("SELECT 1 FROM dash_sms WHERE peer_id=?", (peer_id,)).fetchone() is not None
        if create and exists:
            raise exc.SmsExists()
        if not create and not exists:
            raise exc.SmsNotFound(peer_id)
        conn.execute("INSERT OR REPLACE INTO dash_sms VALUES (?,?,?,?,?,?)",
                     (peer_id, account_id, site_id, json.dumps(settings), json.dumps(http), clock.now(db)))
    return sms_wire(settings, http)


def delete_sms(db: Database, account_id: str, peer_id: str) -> None:
    settle(db)
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM dash_sms WHERE peer_id=? AND account_id=?", (peer_id, account_id)).fetchone() \
                is None:
            raise exc.SmsNotFound(peer_id)
        if conn.execute("SELECT 1 FROM dash_mms WHERE peer_id=?", (peer_id,)).fetchone():
            raise exc.SmsHasMms()
        count = conn.execute("SELECT COUNT(*) AS n FROM dash_tns WHERE peer_id=?", (peer_id,)).fetchone()["n"]
        if count:
            raise exc.SmsHasNumbers(count)
        conn.execute("DELETE FROM dash_sms WHERE peer_id=?", (peer_id,))


def mms_wire(protocol: str, proxy: str | None) -> dict[str, Any]:
    """The guide's (and numbers.yml GET example's) casing: ``<protocol>`` and ``<proxyPeerId>``."""
    return {"MmsSettings": {"protocol": protocol},
            "Protocols": {protocol: {"HttpSettings": {"proxyPeerId": proxy} if proxy else None}}}


def get_mms(db: Database, account_id: str, peer_id: str) -> sqlite3.Row | None:
    return db.query_one("SELECT * FROM dash_mms WHERE peer_id=? AND account_id=?", (peer_id, account_id))


def put_mms(db: Database, account_id: str, site_id: str, peer_id: str, protocol: str, proxy: str | None,
            create: bool) -> dict[str, Any]:
    with db.transaction() as conn:
        sms = conn.execute("SELECT settings FROM dash_sms WHERE peer_id=?", (peer_id,)).fetchone()
        if sms is None or json.loads(sms["settings"]).get("Protocol") != "HTTP":
            raise exc.MmsBeforeSms()
        exists = conn.execute("SELECT 1 FROM dash_mms WHERE peer_id=?", (peer_id,)).fetchone() is not None
        if create and exists:
            raise exc.MmsExists()
        if not create and not exists:
            raise exc.MmsNotFound(peer_id)
        conn.execute("INSERT OR REPLACE INTO dash_mms VALUES (?,?,?,?,?,?)",
                     (peer_id, account_id, site_id, protocol, proxy, clock.now(db)))
    return mms_wire(protocol, proxy)


def delete_mms(db: Database, account_id: str, peer_id: str) -> None:
    with db.transaction() as conn:
        cur = conn.execute("DELETE FROM dash_mms WHERE peer_id=? AND account_id=?", (peer_id, account_id))
        if cur.rowcount == 0:
            raise exc.MmsNotFound(peer_id)


def get_app_settings(db: Database, account_id: str, peer_id: str) -> str | None:
    row = db.query_one("SELECT application_id FROM dash_app_settings WHERE peer_id=? AND account_id=?",
                       (peer_id, account_id))
    return row["application_id"] if row else None


def put_app_settings(db: Database, account_id: str, site_id: str, peer_id: str, app_id: str | None) -> None:
    """Assign ``app_id`` to the location (None = REMOVE)."""
    with db.transaction() as conn:
        if app_id is None:
            conn.execute("DELETE FROM dash_app_settings WHERE peer_id=? AND account_id=?", (peer_id, account_id))
            return
        if conn.execute("SELECT 1 FROM dash_applications WHERE application_id=? AND account_id=?",
                        (app_id, account_id)).fetchone() is None:
            raise exc.AppSettingsAppNotFound(app_id)
        sms = conn.execute("SELECT settings FROM dash_sms WHERE peer_id=?", (peer_id,)).fetchone()
        if sms is None or json.loads(sms["settings"]).get("Protocol") != "HTTP":
            raise exc.AppSettingsNeedsHttp()
        conn.execute("INSERT OR REPLACE INTO dash_app_settings VALUES (?,?,?,?)", (peer_id, account_id, site_id, app_id))


def location_messaging(db: Database, account_id: str, location_id: str) -> dict[str, Any]:
    """For the messaging area: ``{"sms": bool, "mms": bool, "application_id": str | None}``.

    ``sms``/``mms`` are True only when the feature exists with the HTTP protocol (Messaging 2.0).
    """
    return dict(db.derived(("location_messaging", str(account_id), str(location_id)),
                           lambda: _location_messaging(db, account_id, location_id)))


def _location_messaging(db: Database, account_id: str, location_id: str) -> dict[str, Any]:
    sms = db.query_one("SELECT settings FROM dash_sms WHERE peer_id=? AND account_id=?",
                       (str(location_id), str(account_id)))
    mms = db.query_one("SELECT protocol FROM dash_mms WHERE peer_id=? AND account_id=?",
                       (str(location_id), str(account_id)))
    return {
        "sms": sms is not None and json.loads(sms["settings"]).get("Protocol") == "HTTP",
        "mms": mms is not None and mms["protocol"] == "HTTP",
        "application_id": get_app_settings(db, str(account_id), str(location_id)),
    }


# == numbers =======================================================================================

def number_owner(db: Database, tn: str) -> dict[str, Any] | None:
    """For the messaging area: who has ``tn`` (E.164 or 10 digits) in service, or None.

    Returns ``{"account_id", "site_id", "location_id", "tn"}`` (``tn`` as 10 digits).
    """
    ten = numbers.normalize_tn(tn)
    if ten is None:
        return None
    settle(db)
    found = db.derived(("number_owner", ten), lambda: _number_owner(db, ten), table="dash_tns")
    return None if found is None else dict(found)


def _number_owner(db: Database, ten: str) -> dict[str, Any] | None:
    row = db.query_one("SELECT account_id, site_id, peer_id FROM dash_tns WHERE tn=? AND status='inservice'", (ten,))
    if row is None:
        return None
    return {"account_id": row["account_id"], "site_id": row["site_id"], "location_id": row["peer_id"], "tn": ten}


def taken_numbers(conn: sqlite3.Connection) -> set[str]:
    return {r["tn"] for r in conn.execute("SELECT tn FROM dash_tns")}


def _legacy_slot(account_id: str) -> int:
    """The slot an account had before slots were stored (its id mod :data:`~numbers.INVENTORY_SLOTS`): an older
    db's account keeps it when no other account holds it, so its numbers stay in its own block."""
    if account_id.isdigit():
        return int(account_id) % numbers.INVENTORY_SLOTS
    return int.from_bytes(account_id.encode()[-4:].rjust(4, b"\0"), "big") % numbers.INVENTORY_SLOTS


def inventory_slot(db: Database, account_id: str) -> int | None:
    """The account's own block of the inventory when the ``number_inventory`` setting is ``per-account``
    (workshop mode), else None (one inventory for everyone).

    The slot is stored (``inventory_slots``): an account without one gets, in one statement, its old ``id mod 200``
    if no account holds that, else the lowest slot no account holds, so two accounts never share a block (issue 23
    N3: with ``id mod 200``, participants 200 serial numbers apart shared theirs). A participant's reset or removal
    empties their account and gives the slot back (:func:`bwhelpers.sandbox.workshop.models._empty`). A workshop
    has at most ``INVENTORY_SLOTS`` participants (``max_participants``' bound); only accounts the host adds through
    ``/_sandbox/accounts`` beyond that share a block (their old ``id mod 200``)."""
    if db.get_setting("number_inventory", "shared") != "per-account":
        return None
    row = db.query_one("SELECT slot FROM inventory_slots WHERE account_id=?", (account_id,))
    if row is not None:
        return int(row["slot"])
    legacy = _legacy_slot(account_id)
    for attempt in range(2):
        db.execute("WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < ?) "
                   "INSERT OR IGNORE INTO inventory_slots (account_id, slot) SELECT ?, n FROM s "
                   "WHERE n NOT IN (SELECT slot FROM inventory_slots) ORDER BY n <> ?, n LIMIT 1",
                   (numbers.INVENTORY_SLOTS, account_id, legacy))
        row = db.query_one("SELECT slot FROM inventory_slots WHERE account_id=?", (account_id,))
        if row is not None:
            return int(row["slot"])
        if attempt == 0:  # every slot held: give back those of accounts deleted since, then try once more
            db.execute("DELETE FROM inventory_slots WHERE account_id NOT IN (SELECT account_id FROM accounts)")
    return legacy


def toll_free_salt(db: Database) -> str:
    """The secret the toll-free draws of a per-account inventory are salted with (random, created once, kept in the
    ``meta`` table, which no API shows: ``GET /_sandbox/settings`` shows the public ``number_seed`` only), so a
    participant cannot compute another's toll-free search and order its numbers first (issue 23 N2)."""
    return db.meta_secret("number_salt", 16)


def search(db: Database, criteria: dict[str, str], quantity: int, account_id: str = "") -> list[numbers.Number]:
    """Available numbers (searching reserves nothing)."""
    taken = {r["tn"] for r in db.query("SELECT tn FROM dash_tns")}
    slot = inventory_slot(db, account_id)
    return numbers.select(criteria, quantity, taken, seed(db), slot, "" if slot is None else toll_free_salt(db))


def in_service_page(db: Database, account_id: str, site_id: str | None, filters: dict[str, str] | None,
                    page: int, size: int) -> tuple[int, list[str]]:
    """(TotalCount, one page of numbers) with the filters in SQL: LIMIT/OFFSET over ``dash_tns``'s index."""
    settle(db)
    where, params = "account_id=? AND status='inservice'", list[Any]([account_id])
    if site_id is not None:
        where += " AND site_id=?"
        params.append(site_id)
    f = {k.lower(): v for k, v in (filters or {}).items() if v}
    for key, cond in (("areacode", "substr(tn,1,3)=?"), ("npanxx", "substr(tn,1,6)=?"), ("lata", "lata=?")):
        if f.get(key):
            where += f" AND {cond}"
            params.append(f[key])
    for key, col in (("state", "state"), ("ratecenter", "rate_center")):
        if f.get(key):
            where += f" AND upper({col})=?"
            params.append(f[key].upper())
    total = db.count(f"SELECT COUNT(*) FROM dash_tns WHERE {where}", params)
    rows = db.query(f"SELECT tn FROM dash_tns WHERE {where} ORDER BY tn LIMIT ? OFFSET ?",
                    [*params, size, (page - 1) * size])
    return total, [r["tn"] for r in rows]


# == orders ========================================================================================

def _transition(db: Database) -> dict[str, Any]:
    t = db.get_setting("order_transition") or {}
    return t if isinstance(t, dict) else {}


def _is_due(row: sqlite3.Row, transition: dict[str, Any], now: float, polls: int | None = None) -> bool:
    if row["finalized"]:
        return True
    mode = transition.get("mode", "seconds")
    if mode == "immediate":
        return True
    if mode == "polls":
        return (row["polls"] if polls is None else polls) >= int(transition.get("polls", 2))
    return now - row["created"] >= float(transition.get("seconds", 2.0))


def _finalize(conn: sqlite3.Connection, row: sqlite3.Row, transition: dict[str, Any], now: float) -> None:
    when = now
    if transition.get("mode", "seconds") == "seconds":
        when = min(now, row["created"] + float(transition.get("seconds", 2.0)))
    if row["outcome"] in ("COMPLETE", "PARTIAL", "BACKORDERED"):
        conn.execute("UPDATE dash_tns SET status='inservice', activated=? WHERE order_id=? AND status='reserved'",
                     (when, row["order_id"]))
    conn.execute("UPDATE dash_orders SET finalized=1, completed_at=?, last_modified=? WHERE order_id=?",
                 (when, when, row["order_id"]))


def settle(db: Database) -> None:
    """Finalize every order whose time has come (time-based modes; poll counts as stored)."""
    if not db.derived(("orders pending",), lambda: bool(
            db.query("SELECT order_id FROM dash_orders WHERE finalized=0 LIMIT 1")), table="dash_orders"):
        return
    transition, now = _transition(db), clock.now(db)
    with db.transaction() as conn:
        for row in conn.execute("SELECT * FROM dash_orders WHERE finalized=0").fetchall():
            if _is_due(row, transition, now):
                _finalize(conn, row, transition, now)


def create_order(db: Database, account_id: str, username: str, req: dict[str, Any]) -> dict[str, Any]:
    """Validate and place an order; numbers are allocated (reserved) now. Returns the 201 body.

    ``req`` keys: type (element name), type_echo (dict), criteria (search criteria dict or None),
    existing (list of TNs or None), quantity, partial_allowed, back_order, site_id, peer_id,
    customer_order_id, name, echo_extra (dict of other Order children to echo).
    """
    now = clock.now(db)
    order_id = str(uuid.uuid4())
    with db.transaction() as conn:
        peer_id = req["peer_id"]
        if not peer_id:
            row = conn.execute("SELECT peer_id FROM dash_sippeers WHERE account_id=? AND site_id=? AND is_default=1",
                               (account_id, req["site_id"])).fetchone()
            if row is None:
                raise exc.NoDefaultPeer(_echo(req, None, now, peer_id))
            peer_id = row["peer_id"]
        echo = _echo(req, order_id, now, peer_id)
        taken = taken_numbers(conn)
        slot = inventory_slot(db, account_id)
        completed: list[str] = []
        failed: list[str] = []
        errors: list[list[Any]] = []
        qty = int(req["quantity"])
        details: dict[str, numbers.Number] = {}
        if req.get("existing") is not None:
            for tn in req["existing"]:
                if tn in taken or tn in completed or not numbers.existing_available(tn, seed(db), slot):
                    failed.append(tn)
                    errors.append([5005, exc.ORDER_TEXT[5005], tn])
                else:
                    completed.append(tn)
                    details[tn] = numbers.describe(tn)
            if failed and not completed:
                outcome = "FAILED"
            elif failed:
                outcome = "PARTIAL" if req["partial_allowed"] else "FAILED"
                if outcome == "FAILED":
                    completed = []
            else:
                outcome = "COMPLETE"
        else:
            got = numbers.select(req["criteria"], qty, taken, seed(db), slot,
                                 "" if slot is None else toll_free_salt(db))
            for num in got:
                details[num.tn] = num
            completed = [n.tn for n in got]
            if len(completed) >= qty:
                outcome = "COMPLETE"
            elif req["back_order"]:
                outcome = "BACKORDERED"
                errors.append([5520, exc.ORDER_TEXT[5520] + f" ({qty - len(completed)} of {qty} pending)", None])
            elif not completed:
                outcome = "FAILED"
                errors.append([5018, exc.ORDER_TEXT[5018], None])
            elif req["partial_allowed"]:
                outcome = "PARTIAL"
                errors.append([5017, exc.ORDER_TEXT[5017] + f": {len(completed)} of {qty} numbers were ordered",
                               None])
            else:
                outcome = "FAILED"
                errors.append([5017, exc.ORDER_TEXT[5017] + f" ({len(completed)} of {qty}) and PartialAllowed is "
                               "false: no number was ordered", None])
                completed = []
        for tn in completed:
            d = details[tn]
            conn.execute("INSERT INTO dash_tns (tn, account_id, site_id, peer_id, order_id, status, city, state, "
                         "rate_center, lata, created) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (tn, account_id, req["site_id"], peer_id, order_id, "reserved", d.city, d.state,
                          d.rate_center, d.lata, now))
        conn.execute(
            "INSERT INTO dash_orders (order_id, account_id, created_by, customer_order_id, site_id, peer_id, "
            "order_type, echo, quantity, outcome, completed, failed, errors, created, last_modified) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (order_id, account_id, username, req.get("customer_order_id"), req["site_id"], peer_id, req["type"],
             json.dumps(echo), qty if req.get("existing") is None else len(req["existing"]), outcome,
             json.dumps(completed), json.dumps(failed), json.dumps(errors), now, now))
    return {"Order": echo, "OrderStatus": "RECEIVED"}


def _echo(req: dict[str, Any], order_id: str | None, now: float, peer_id: str | None) -> dict[str, Any]:
    echo: dict[str, Any] = {}
    if req.get("customer_order_id"):
        echo["CustomerOrderId"] = req["customer_order_id"]
    if req.get("name"):
        echo["Name"] = req["name"]
    echo["OrderCreateDate"] = iso(now)
    if peer_id:
        echo["PeerId"] = peer_id
    echo["BackOrderRequested"] = bool(req.get("back_order"))
    if order_id:
        echo["id"] = order_id
    if req.get("type"):
        echo[req["type"]] = req.get("type_echo")
    for k, v in (req.get("echo_extra") or {}).items():
        echo[k] = v
    echo["PartialAllowed"] = bool(req.get("partial_allowed", True))
    if req.get("site_id"):
        echo["SiteId"] = req["site_id"]
    return echo


def _order_row(conn: sqlite3.Connection, account_id: str, order_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM dash_orders WHERE order_id=? AND account_id=?", (order_id, account_id)).fetchone()
    if row is None:
        raise exc.OrderNotFound(order_id)
    return row


def _status(row: sqlite3.Row, due: bool) -> str:
    if row["closed"]:
        return "PARTIAL" if json.loads(row["completed"]) else "FAILED"
    return row["outcome"] if due else "RECEIVED"


def _summary(status: str, completed: list[str], quantity: int) -> str:
    def n(count: int) -> str:
        return f"{count} number{'s' if count != 1 else ''}"

    if status in ("COMPLETE", "PARTIAL") and completed:
        npas = ", ".join(sorted({tn[:3] for tn in completed}))
        text = f"{n(len(completed))} ordered in ({npas})"
        if status == "PARTIAL" and quantity > len(completed):
            text += f", {n(quantity - len(completed))} failed"
        return text
    if status == "BACKORDERED":
        return f"{n(quantity)} requested, {n(quantity - len(completed))} backordered"
    return f"{n(quantity)} requested"


def order_view(db: Database, account_id: str, order_id: str, count_poll: bool = True) -> dict[str, Any]:
    """The body of GET /orders/{id}; a read may move the order to its terminal status."""
    transition, now = _transition(db), clock.now(db)
    with db.transaction() as conn:
        row = _order_row(conn, account_id, order_id)
        due = _is_due(row, transition, now)
        if due and not row["finalized"]:
            _finalize(conn, row, transition, now)
        if count_poll:
            conn.execute("UPDATE dash_orders SET polls=polls+1 WHERE order_id=?", (order_id,))
        row = _order_row(conn, account_id, order_id)
    return _view(row, due)


def _view(row: sqlite3.Row, due: bool) -> dict[str, Any]:
    status = _status(row, due)
    completed = json.loads(row["completed"]) if status in ("COMPLETE", "PARTIAL", "BACKORDERED") else []
    errors = json.loads(row["errors"]) if status != "RECEIVED" else []
    if row["closed"]:
        errors = errors + [[5521, exc.ORDER_TEXT[5521], None]]
    failed = json.loads(row["failed"]) if status in ("FAILED", "PARTIAL") else []
    quantity = int(row["quantity"])
    failed_qty = 0
    if status in ("FAILED", "PARTIAL"):
        failed_qty = max(quantity - len(completed), len(failed))
    body: dict[str, Any] = {"CompletedQuantity": len(completed), "CreatedByUser": row["created_by"]}
    body["ErrorList"] = {"Error": [
        {"Code": str(c), "Description": d, **({"TelephoneNumber": tn} if tn else {})} for c, d, tn in errors
    ]} if errors else None
    body["FailedNumbers"] = {"FullNumber": failed} if failed else None
    body["LastModifiedDate"] = iso(row["last_modified"])
    if status != "RECEIVED" and row["completed_at"] is not None:
        body["OrderCompleteDate"] = iso(row["completed_at"])
    body["Order"] = json.loads(row["echo"])
    body["OrderStatus"] = status
    body["CompletedNumbers"] = {"TelephoneNumber": [{"FullNumber": tn} for tn in completed]} if completed else None
    body["Summary"] = _summary(status, completed, quantity)
    body["FailedQuantity"] = failed_qty
    if status in ("RECEIVED", "BACKORDERED"):
        body["PendingQuantity"] = quantity - len(completed) if status == "BACKORDERED" else quantity
    return body


def close_order(db: Database, account_id: str, order_id: str) -> None:
    transition, now = _transition(db), clock.now(db)
    with db.transaction() as conn:
        row = _order_row(conn, account_id, order_id)
        due = _is_due(row, transition, now)
        if _status(row, due) != "BACKORDERED":
            raise exc.OnlyBackordersClose()
        if not row["finalized"]:
            _finalize(conn, row, transition, now)
        conn.execute("UPDATE dash_orders SET closed=1, last_modified=? WHERE order_id=?", (now, order_id))


#: an order's status in SQL, valid once :func:`settle` has finalized every due order
STATUS_SQL = ("CASE WHEN closed=1 THEN (CASE WHEN completed<>'[]' THEN 'PARTIAL' ELSE 'FAILED' END) "
              "WHEN finalized=1 THEN outcome ELSE 'RECEIVED' END")


def _anchor(db: Database, table: str, account_id: str, page: int | str) -> tuple[str, list[Any]]:
    """LIMIT/OFFSET of a numeric ``page``, or the keyset of numbers.yml's ``page=<order id of the first record>``."""
    if isinstance(page, int):
        return "", []
    row = db.query_one(f"SELECT created, rowid FROM {table} WHERE order_id=? AND account_id=?", (page, account_id))
    if row is None:
        raise exc.BadPage(page)
    return " AND (created, rowid) >= (?, ?)", [row["created"], row["rowid"]]


def _page_rows(db: Database, table: str, account_id: str, where: str, args: list[Any], page: int | str,
               size: int, columns: str = "*") -> tuple[int, list[sqlite3.Row], str | None]:
    """(total, the page's rows, the order id that starts the next page) in O(page) for keyset pages."""
    total = db.count(f"SELECT COUNT(*) FROM {table} WHERE {where}", args)
    extra, extra_args = _anchor(db, table, account_id, page)
    sql = f"SELECT {columns} FROM {table} WHERE {where}{extra} ORDER BY created, rowid LIMIT ?"
    params = [*args, *extra_args, size + 1]
    if isinstance(page, int):
        sql += " OFFSET ?"
        params.append((page - 1) * size)
    rows = db.query(sql, params)
    nxt = rows[size]["order_id"] if len(rows) > size else None
    return total, rows[:size], nxt


def list_orders(db: Database, account_id: str, status: str | None = None, customer_order_id: str | None = None,
                start: float | None = None, end: float | None = None, page: int | str = 1,
                size: int = 5000) -> tuple[int, list[dict[str, Any]], str | None]:
    """One page of ``GET /orders``: (TotalCount, items, order id of the next page's first record or None)."""
    settle(db)
    where, args = "account_id=?", list[Any]([account_id])
    if status:
        where += f" AND {STATUS_SQL}=?"
        args.append(status.upper())
    if customer_order_id:
        where += " AND customer_order_id=?"
        args.append(customer_order_id)
    if start is not None:
        where += " AND created>=?"
        args.append(start)
    if end is not None:
        where += " AND created<?"
        args.append(end)
    total, rows, nxt = _page_rows(db, "dash_orders", account_id, where, args, page, size,
                                  f"*, {STATUS_SQL} AS st")
    out = []
    for row in rows:
        st = row["st"]
        completed = json.loads(row["completed"]) if st != "RECEIVED" else []
        item: dict[str, Any] = {"CountOfTNs": len(completed)}
        if row["customer_order_id"]:
            item["CustomerOrderId"] = row["customer_order_id"]
        item.update({"userId": row["created_by"], "lastModifiedDate": iso(row["last_modified"]),
                     "OrderDate": iso(row["created"]), "OrderType": "new_number", "orderId": row["order_id"],
                     "OrderStatus": st})
        details = tn_details(completed)
        if details:
            item["TelephoneNumberDetails"] = details
        out.append(item)
    return total, out, nxt


# == disconnects ===================================================================================

DISCONNECT_MODES = ("normal", "purge")


def tn_details(tns: list[str]) -> dict[str, Any] | None:
    """``TelephoneNumberDetails`` of list items (numbers.yml GET /orders example): counts per state, rate
    center, city, tier and vendor. The sandbox's numbers are all tier 0 of one vendor (its own choice)."""
    if not tns:
        return None
    states: dict[str, int] = {}
    centers: dict[str, int] = {}
    cities: dict[str, int] = {}
    for tn in tns:
        d = numbers.describe(tn)
        states[d.state] = states.get(d.state, 0) + 1
        centers[d.rate_center] = centers.get(d.rate_center, 0) + 1
        cities[d.city] = cities.get(d.city, 0) + 1
    return {
        "States": {"StateWithCount": [{"State": k, "Count": v} for k, v in sorted(states.items())]},
        "RateCenters": {"RateCenterWithCount": [{"Count": v, "RateCenter": k} for k, v in sorted(centers.items())]},
        "Cities": {"CityWithCount": [{"City": k, "Count": v} for k, v in sorted(cities.items())]},
        "Tiers": {"TierWithCount": [{"Tier": "0", "Count": len(tns)}]},
        "Vendors": {"VendorWithCount": [{"VendorId": "49", "VendorName": "Bandwidth CLEC", "Count": len(tns)}]},
    }


def create_disconnect(db: Database, account_id: str, username: str, tns: list[str], customer_order_id: str | None,
                      protected: str | None, mode: str = "normal") -> dict[str, Any]:
    """Accept the order (201 RECEIVED) as the real service does; numbers that are not in service on the
    account fail it later with 5006 (the SDK fixture's FAILED order). The others are disconnected now."""
    settle(db)
    order_id = str(uuid.uuid4())
    now = clock.now(db)
    with db.transaction() as conn:
        failed = [tn for tn in tns if conn.execute(
            "SELECT 1 FROM dash_tns WHERE tn=? AND account_id=? AND status='inservice'",
            (tn, account_id)).fetchone() is None]
        done = [tn for tn in tns if tn not in failed]
        conn.executemany("DELETE FROM dash_tns WHERE tn=? AND account_id=?", [(tn, account_id) for tn in done])
        conn.execute("INSERT INTO dash_disconnects (order_id, account_id, created_by, customer_order_id, numbers, "
                     "protected, created, failed, mode) VALUES (?,?,?,?,?,?,?,?,?)",
                     (order_id, account_id, username, customer_order_id, json.dumps(tns), protected, now,
                      json.dumps(failed), mode))
    return disconnect_request(db, account_id, order_id)


def _disconnect_row(db: Database, account_id: str, order_id: str) -> sqlite3.Row:
    row = db.query_one("SELECT * FROM dash_disconnects WHERE order_id=? AND account_id=?", (order_id, account_id))
    if row is None:
        raise exc.DisconnectNotFound(order_id)
    return row


def _disconnect_request(row: sqlite3.Row) -> dict[str, Any]:
    req: dict[str, Any] = {}
    if row["customer_order_id"]:
        req["CustomerOrderId"] = row["customer_order_id"]
    req["id"] = row["order_id"]
    req["OrderCreateDate"] = iso(row["created"])
    kind: dict[str, Any] = {"DisconnectMode": row["mode"] or "normal"}
    if row["protected"]:
        kind["Protected"] = row["protected"]
    kind["TelephoneNumberList"] = {"TelephoneNumber": json.loads(row["numbers"])}
    req["DisconnectTelephoneNumberOrderType"] = kind
    return req


def disconnect_request(db: Database, account_id: str, order_id: str) -> dict[str, Any]:
    return _disconnect_request(_disconnect_row(db, account_id, order_id))


def _disconnect_outcome(row: sqlite3.Row) -> tuple[str, list[str], list[str]]:
    tns = json.loads(row["numbers"])
    failed = json.loads(row["failed"] or "[]")
    done = [tn for tn in tns if tn not in failed]
    status = "COMPLETE" if not failed else ("FAILED" if not done else "PARTIAL")
    return status, done, failed


def disconnect_view(db: Database, account_id: str, order_id: str) -> dict[str, Any]:
    """numbers.yml ReadDisconnectOrder: ``DisconnectedTelephoneNumberList``, ``orderRequest``, ``OrderStatus``
    (plus the ``ErrorList`` of the SDK fixture when numbers failed, and the order summary fields)."""
    row = _disconnect_row(db, account_id, order_id)
    status, done, failed = _disconnect_outcome(row)
    body: dict[str, Any] = {}
    if failed:
        body["ErrorList"] = {"Error": [{"Code": str(exc.DISCONNECT_ERROR[0]),
                                        "Description": "Telephone number could not be disconnected since it is "
                                                       "not associated with your account",
                                        "TelephoneNumber": tn} for tn in failed]}
    body.update({
        "CompletedQuantity": len(done), "CreatedByUser": row["created_by"],
        "LastModifiedDate": iso(row["created"]), "OrderCompleteDate": iso(row["created"]),
        "DisconnectedTelephoneNumberList": {"TelephoneNumber": done} if done else None,
        "orderRequest": _disconnect_request(row), "OrderStatus": status,
        "CompletedNumbers": {"TelephoneNumber": [{"FullNumber": tn} for tn in done]} if done else None,
        "Summary": f"{len(done)} number{'s' if len(done) != 1 else ''} disconnected",
        "FailedQuantity": len(failed),
    })
    return body


def list_disconnects(db: Database, account_id: str, page: int | str = 1,
                     size: int = 300) -> tuple[int, list[dict[str, Any]], str | None]:
    """numbers.yml ReadDisconnectOrders items (``OrderId`` capitalised here, unlike /orders), one page."""
    total, rows, nxt = _page_rows(db, "dash_disconnects", account_id, "account_id=?", [account_id], page, size)
    out = []
    for r in rows:
        status, done, _ = _disconnect_outcome(r)
        item: dict[str, Any] = {"CountOfTNs": len(done), "userId": r["created_by"],
                                "lastModifiedDate": iso(r["created"]), "OrderId": r["order_id"],
                                "OrderType": "disconnect", "OrderDate": iso(r["created"]), "OrderStatus": status}
        details = tn_details(done)
        if details:
            item["TelephoneNumberDetails"] = details
        out.append(item)
    return total, out, nxt
