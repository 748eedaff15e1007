"""
bwhelpers.sandbox.workshop.models
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

State of workshop mode: one sandbox account per JupyterHub user (``workshop_participants``), the
API errors each account hit (``workshop_errors``), the hub tokens whose user the hub named (``workshop_known_tokens``:
a digest and the tenant, for :mod:`.tenants`, so a restart forgets no one), and each participant's progress, computed on
read from that account's own objects in the sandbox (applications, locations, features, orders,
numbers, messages and their events).

Participants' secrets are never stored: they are derived from the service key with HMAC, so a
re-spawn (or a restart of the hub or the service) gives the same credentials, and the db only
holds the usual salted hashes.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from .. import clock, stored_bytes
from ..numbers import INVENTORY_SLOTS
from ..db import Database, register_schema
from ..disabled import set_disabled

SCHEMA = """
CREATE TABLE IF NOT EXISTS workshop_participants (
    username TEXT PRIMARY KEY,
    account_id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    serial INTEGER NOT NULL UNIQUE,
    created REAL NOT NULL,
    spawns INTEGER NOT NULL DEFAULT 0,
    resets INTEGER NOT NULL DEFAULT 0,
    last_spawn REAL
);
CREATE TABLE IF NOT EXISTS workshop_errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    time REAL NOT NULL,
    status INTEGER NOT NULL,
    code TEXT,
    description TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    step TEXT
);
CREATE INDEX IF NOT EXISTS workshop_errors_account ON workshop_errors(account_id, id);
CREATE TABLE IF NOT EXISTS workshop_known_tokens (
    digest TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    used REAL NOT NULL
)
"""
register_schema(SCHEMA)

#: Participant account ids are 99200001, 99200002, ... (the demo accounts are 9900000/9900001).
ACCOUNT_BASE = 99200000
#: Their sites (subaccounts) are 92001, 92002, ...
SITE_BASE = 92000
#: JupyterHub user names are normalized by the hub; anything else (a slash, a control character) is refused.
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
#: :data:`USERNAME_RE` in words (the hub's login form says it too: ``bwhelpers.workshop_auth``)
USERNAME_RULE = "letters a-z and digits, and . _ @ + - after the first, up to 100 characters"

#: The board's columns: (key, title), in the walkthrough's order, so column n is notebook n. The keys and the
#: order are the client's step table's (``bwhelpers.steps.STEPS``; the sandbox imports nothing of the client,
#: tests/test_workshop_service.py checks the two agree). "a2p" is registering the number for A2P messaging
#: (a 10DLC campaign or toll-free verification), between the numbers and the message.
STEPS: list[tuple[str, str]] = [
    ("application", "Application"),
    ("location", "Location"),
    ("sms", "SMS"),
    ("mms", "MMS"),
    ("assigned", "Assign app"),
    ("orders", "Order"),
    ("numbers", "Numbers"),
    ("a2p", "10DLC / TFV"),
    ("messages", "Message"),
]
#: the steps a participant must have done to count as done (A2P only where the sandbox enforces it)
GUIDE_STEPS = ("application", "location", "sms", "mms", "assigned", "orders", "numbers", "messages")
A2P_CODES = ("4476", "4795")

# which step an API request belongs to (matched on the unprefixed path), for "failed" cells
_STEP_OF_PATH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/api/accounts/[^/]+/applications"), "application"),
    (re.compile(r"^/api/accounts/[^/]+/sites/[^/]+/sippeers/[^/]+/products/messaging/features/sms"), "sms"),
    (re.compile(r"^/api/accounts/[^/]+/sites/[^/]+/sippeers/[^/]+/products/messaging/features/mms"), "mms"),
    (re.compile(r"^/api/accounts/[^/]+/sites/[^/]+/sippeers/[^/]+/products/messaging/applicationSettings"), "assigned"),
    (re.compile(r"^/api/accounts/[^/]+/sites/[^/]+/sippeers/?[^/]*$"), "location"),
    (re.compile(r"^/api/accounts/[^/]+/(orders|availableNumbers)"), "orders"),
    (re.compile(r"^/api/accounts/[^/]+/tnoptions"), "a2p"),
    (re.compile(r"^/api/v2/accounts/[^/]+/(tendlc|tollFreeVerification|phoneNumbers/[^/]+/tollFreeVerification)"),
     "a2p"),
    (re.compile(r"^(/api)?/v2/users/[^/]+/messages"), "messages"),
]


class WorkshopError(Exception):
    """A refused workshop request: ``status`` and a description naming the problem and the fix."""

    def __init__(self, description: str, status: int = 400):
        super().__init__(description)
        self.description, self.status = description, status


def check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise WorkshopError(f"participant {username!r}: not a JupyterHub user name ({USERNAME_RULE})", status=400)
    return username


def step_of(path: str) -> str | None:
    for pattern, step in _STEP_OF_PATH:
        if pattern.search(path):
            return step
    return None


# -- credentials -----------------------------------------------------------------------------------

def derive(key: bytes, username: str, purpose: str) -> str:
    """A stable secret for ``username`` (HMAC-SHA256 of the service key), URL-safe, 32 hex characters."""
    return hmac.new(key, f"bwhelpers-workshop:{purpose}:{username}".encode(), hashlib.sha256).hexdigest()[:32]


def credentials(row: Any, key: bytes) -> dict[str, str]:
    """The full credentials of a participant row (secrets derived, never read from the db)."""
    name, serial = row["username"], int(row["serial"])
    return {
        "account_id": row["account_id"],
        "site_id": row["site_id"],
        "username": f"ws-{serial}",
        "password": derive(key, name, "password"),
        "user_id": f"u-ws-{serial}",
        "api_token": f"t-ws-{serial}",
        "api_secret": derive(key, name, "api-secret"),
        "client_id": f"ws-{serial}-client",
        "client_secret": derive(key, name, "client-secret"),
    }


def participant(db: Database, username: str) -> Any:
    return db.query_one("SELECT * FROM workshop_participants WHERE username=?", (username,))


def participant_by_account(db: Database, account_id: str) -> Any:
    return db.query_one("SELECT * FROM workshop_participants WHERE account_id=?", (account_id,))


def participants(db: Database) -> list[Any]:
    return db.query("SELECT * FROM workshop_participants ORDER BY serial")


def removed(db: Database, row: Any) -> float | None:
    """When the host removed this participant (their account disabled: :mod:`bwhelpers.sandbox.disabled`), or None."""
    found = db.query_one("SELECT disabled FROM accounts WHERE account_id=?", (row["account_id"],))
    return None if found is None or found["disabled"] is None else float(found["disabled"])


def _counted(conn: Any) -> int:
    """Participants who count in ``max_participants``: every one but those the host removed."""
    return int(conn.execute("SELECT COUNT(*) FROM workshop_participants p LEFT JOIN accounts a ON "
                            "a.account_id=p.account_id WHERE a.disabled IS NULL").fetchone()[0])


def room_full(db: Database, count: int) -> None:
    """403 when ``count`` participants already reach the ``max_participants`` setting (names are free to whoever
    has the room password; each new one is a new account with its own quotas, review 23b N4)."""
    cap = db.get_setting("max_participants", None)
    if isinstance(cap, int) and not isinstance(cap, bool) and cap > INVENTORY_SLOTS <= count:
        # a number stored before the bound (PUT and --max-participants refuse it now: issue 23 N3)
        raise WorkshopError(f"the room is full: {count} participants have a sandbox account, the most a workshop "
                            f"holds ({INVENTORY_SLOTS}: each has their own block of the number inventory; the stored "
                            f"max_participants {cap} predates that bound); removing a participant frees a place; for "
                            "a bigger event run a second hub with its own sandbox", status=403)
    if isinstance(cap, int) and not isinstance(cap, bool) and count >= cap:
        raise WorkshopError(f"the room is full: {count} participants have a sandbox account and max_participants is "
                            f"{cap}; the host can raise it: configure(..., max_participants=N) in the hub's generated "
                            "jupyterhub_config.py, then restart the hub (that number is also the hub's "
                            "active_server_limit, N plus the admins, and the sandbox stores it at its start; "
                            "PUT /_sandbox/settings {\"max_participants\": N} with the admin key changes only the "
                            "sandbox's, until its next start); each participant may store up to the stored_bytes "
                            "quota of the max_db_mb cap", status=403)


def provision(db: Database, username: str, key: bytes, create_account: Any) -> tuple[dict[str, str], bool]:
    """The participant's credentials, creating the account (with its site) on first use.

    ``create_account(db, creds)`` makes the sandbox account (core's, or the OAuth-aware one).
    Returns (credentials, created). Idempotent: a re-spawn gets the same account and secrets.
    """
    check_username(username)
    now = clock.now(db)
    created = False
    row = participant(db, username)
    if row is None:
        with db.transaction() as conn:
            row = conn.execute("SELECT * FROM workshop_participants WHERE username=?", (username,)).fetchone()
            if row is None:
                room_full(db, _counted(conn))
                serial = int(conn.execute("SELECT COALESCE(MAX(serial), 0) + 1 FROM workshop_participants")
                             .fetchone()[0])
                account_id, site_id = str(ACCOUNT_BASE + serial), str(SITE_BASE + serial)
                while conn.execute("SELECT 1 FROM accounts WHERE account_id=? UNION SELECT 1 FROM sites "
                                   "WHERE site_id=?", (account_id, site_id)).fetchone():
                    serial += 1
                    account_id, site_id = str(ACCOUNT_BASE + serial), str(SITE_BASE + serial)
                conn.execute("INSERT INTO workshop_participants (username, account_id, site_id, serial, created) "
                             "VALUES (?,?,?,?,?)", (username, account_id, site_id, serial, now))
                created = True
        row = participant(db, username)
    if not created and removed(db, row) is not None:
        raise WorkshopError(f"participant {username!r} was removed by the host: their sandbox account is disabled; "
                            f"the host can let them back in (POST /participants/{username}/readmit, or the board)",
                            status=403)
    creds = credentials(row, key)
    if created or db.query_one("SELECT 1 FROM accounts WHERE account_id=?", (row["account_id"],)) is None:
        create_account(db, creds)
    db.execute("UPDATE workshop_participants SET spawns=spawns+1, last_spawn=? WHERE username=?", (now, username))
    return creds, created


def _known(db: Database, username: str) -> Any:
    row = participant(db, username)
    if row is None:
        raise WorkshopError(f"participant {username!r} is not known to this workshop; they get an account when "
                            "they first start their server", status=404)
    return row


def reset(db: Database, username: str, key: bytes, create_account: Any) -> dict[str, Any]:
    """Delete every object of one participant's account (numbers go back to the inventory); keep the account,
    its site and its credentials, so the participant's running server keeps working."""
    row = _known(db, username)
    if removed(db, row) is not None:
        raise WorkshopError(f"participant {username!r} was removed: let them back in first (readmit)", status=409)
    removed_rows = _empty(db, row)
    db.execute("UPDATE workshop_participants SET resets=resets+1 WHERE username=?", (username,))
    create_account(db, credentials(row, key))
    return {"participant": username, "account_id": row["account_id"], "removed": removed_rows}


def remove(db: Database, username: str) -> dict[str, Any]:
    """The host expels a participant: every object of their account is deleted (as :func:`reset`: numbers go back,
    callbacks stop) and the account is disabled, so each of its credentials (Basic, token:secret, API credentials
    and tokens issued before, phone links) is refused at once; it no longer counts in ``max_participants``.
    Idempotent."""
    row = _known(db, username)
    when = removed(db, row)
    set_disabled(db, row["account_id"], True)  # first: no request of theirs passes while the data goes
    # its API credentials stay (refused while it is disabled): their right secret is told why, not "unknown client"
    emptied = _empty(db, row, keep=("api_credentials",)) if when is None else 0
    return {"participant": username, "account_id": row["account_id"], "removed": emptied, "disabled": True}


def readmit(db: Database, username: str, key: bytes, create_account: Any) -> dict[str, Any]:
    """Undo :func:`remove`: the account works again with the same credentials (their server's still hold them);
    refused (403) when the room is full."""
    row = _known(db, username)
    if removed(db, row) is not None:
        with db.transaction() as conn:
            room_full(db, _counted(conn))
            conn.execute("UPDATE accounts SET disabled=NULL WHERE account_id=?", (row["account_id"],))
        create_account(db, credentials(row, key))  # its API credential and site again (emptied by the removal)
    return {"participant": username, "account_id": row["account_id"], "disabled": False}


def _empty(db: Database, row: Any, keep: tuple[str, ...] = ()) -> int:
    """Delete every object of a participant's account but the account, its own site, its participant row and the
    tables in ``keep``."""
    account_id = row["account_id"]
    count = 0
    with db.transaction() as conn:
        # the account's data (stored_bytes.owned: every table of tenant data, its bins too) and its bookkeeping
        for table, owner in stored_bytes.owned(conn).items():
            if table in keep:
                continue
            site = " AND site_id<>?" if table == "sites" else ""  # its own site stays, so its server keeps working
            args = (account_id, row["site_id"]) if site else (account_id,)
            count += conn.execute(f'DELETE FROM "{table}" WHERE {owner.format(row=table)}=?{site}', args).rowcount
        for table in stored_bytes.NOT_COUNTED:
            if table not in ("accounts", "workshop_participants", "account_bytes") and conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone():
                conn.execute(f'DELETE FROM "{table}" WHERE account_id=?', (account_id,))
    return count


# -- errors ----------------------------------------------------------------------------------------

def record_error(db: Database, account_id: str, status: int, code: str | None, description: str | None,
                 method: str, path: str) -> None:
    """Remember an error answer of the emulated APIs (the board shows the last one; 20 kept per account)."""
    with db.transaction() as conn:
        conn.execute("INSERT INTO workshop_errors (account_id, time, status, code, description, method, path, step) "
                     "VALUES (?,?,?,?,?,?,?,?)", (account_id, clock.now(conn), status, code,
                                                  (description or "")[:300], method, path[:300], step_of(path)))
        conn.execute("DELETE FROM workshop_errors WHERE account_id=? AND id NOT IN (SELECT id FROM workshop_errors "
                     "WHERE account_id=? ORDER BY id DESC LIMIT 20)", (account_id, account_id))


# -- progress --------------------------------------------------------------------------------------

def _count(db: Database, sql: str, *params: Any) -> int:
    row = db.query_one(sql, params)
    return int(row[0]) if row is not None else 0


def progress(db: Database, account_id: str) -> dict[str, Any]:
    """One participant's row of the board: each step done/pending/failed, last error, messages."""
    from ..dashboard import models as dash

    now = clock.now(db)
    done = {
        "application": _count(db, "SELECT COUNT(*) FROM dash_applications WHERE account_id=?", account_id) > 0,
        "location": _count(db, "SELECT COUNT(*) FROM dash_sippeers WHERE account_id=?", account_id) > 0,
        "sms": _count(db, "SELECT COUNT(*) FROM dash_sms WHERE account_id=?", account_id) > 0,
        "mms": _count(db, "SELECT COUNT(*) FROM dash_mms WHERE account_id=?", account_id) > 0,
        "assigned": _count(db, "SELECT COUNT(*) FROM dash_app_settings WHERE account_id=?", account_id) > 0,
    }
    dash.settle(db)  # order status is computed on read: finalize what is due first
    last_order = db.query_one(f"SELECT {dash.STATUS_SQL} AS st FROM dash_orders WHERE account_id=? "
                              "ORDER BY created DESC, rowid DESC LIMIT 1", (account_id,))
    done["orders"] = last_order is not None
    done["numbers"] = _count(db, "SELECT COUNT(*) FROM dash_tns WHERE account_id=? AND status='inservice'", account_id) > 0
    sent = _count(db, "SELECT COUNT(*) FROM messages WHERE account_id=? AND direction='out'", account_id)
    delivered = _count(db, "SELECT COUNT(*) FROM message_events WHERE account_id=? AND type='message-delivered' "
                           "AND due_at<=?", account_id, now)
    failed_events = db.query("SELECT error_code, description, due_at FROM message_events WHERE account_id=? AND "
                             "type='message-failed' AND due_at<=? ORDER BY due_at DESC LIMIT 1", (account_id, now))
    done["messages"] = delivered > 0
    done["a2p"], a2p_failed = _a2p(db, account_id)
    enforced = bool(db.get_setting("a2p_enforcement", True))
    errors = db.query("SELECT * FROM workshop_errors WHERE account_id=? ORDER BY id DESC", (account_id,))
    failed_steps = {e["step"] for e in errors if e["step"]}
    steps: dict[str, str] = {}
    for key, _title in STEPS:
        if done[key]:
            steps[key] = "done"
        elif key in failed_steps:
            steps[key] = "failed"
        else:
            steps[key] = "pending"
    if not done["numbers"] and last_order is not None and last_order["st"] == "FAILED":
        steps["numbers"] = "failed"
    if not done["messages"] and failed_events:
        steps["messages"] = "failed"
    if not done["a2p"]:
        if a2p_failed or (failed_events and str(failed_events[0]["error_code"]) in A2P_CODES):
            steps["a2p"] = "failed"
        elif not enforced and steps["a2p"] != "failed":
            steps["a2p"] = "not needed"  # a2p_enforcement off: the 2018 guide's eight steps
    last_error = None
    if errors:
        e = errors[0]
        last_error = {"time": e["time"], "status": e["status"], "code": e["code"], "description": e["description"],
                      "request": f"{e['method']} {e['path']}"}
    if failed_events and (last_error is None or failed_events[0]["due_at"] > last_error["time"]):
        ev = failed_events[0]
        last_error = {"time": ev["due_at"], "status": None, "code": str(ev["error_code"]),
                      "description": ev["description"], "request": "message-failed callback"}
    return {"account_id": account_id, "steps": steps, "last_error": last_error,
            "messages": {"sent": sent, "delivered": delivered},
            "done": all(steps[k] == "done" for k in GUIDE_STEPS) and steps["a2p"] in ("done", "not needed")}


def _a2p(db: Database, account_id: str) -> tuple[bool, bool]:
    """(a number of the account is registered for A2P, a registration failed) from the A2P area's state."""
    try:
        from ..tendlc import models as a2p
    except ImportError:  # pragma: no cover - a sandbox without the A2P area
        return False, False
    registrations = a2p.account_numbers(db, account_id)
    registered = any(r["status"] == "SUCCESS" for r in registrations)
    failed = any(r["status"] == "FAILURE" for r in registrations)
    for row in db.query("SELECT tn FROM tfv_requests WHERE account_id=?", (account_id,)):
        status = a2p.tfv_status(db, account_id, row["tn"])
        registered = registered or status == "VERIFIED"
        failed = failed or status == "UNVERIFIED"
    return registered, failed
