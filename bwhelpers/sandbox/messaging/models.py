"""
bwhelpers.sandbox.messaging.models
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Messaging v2 state: messages, their per-recipient outcome events, and the per-account rate
counter. The send path mirrors the real service: validate the request (400), accept it (202),
then decide the outcome *after* the 202 and report it only through callbacks.

Outcome rules for an outbound message, checked in this order (first match wins):

=======================================================  ======  =========================================
condition                                                code    description
=======================================================  ======  =========================================
``from`` is on no account                                4405    rejected-unallocated-from-number
``from`` is on another account                           4407    rejected-account-not-defined-from-number
the application is not on the account, or it is not      4452    rejected-wrong-application-id
the one assigned to the ``from`` number's location
the location has no SMS feature                          4403    rejected-forbidden-from-number
media given but the location has no MMS feature          4001    service-not-allowed
a media URL on this service's media endpoint that the     4410    media-unavailable
account does not store (another account's, deleted)
a toll-free ``from`` and over 525 KB of stored media      4411    rejected-message-size-limit-exceeded
(``a2p_enforcement``) a local ``from`` not SUCCESS on a  4476    Source TN not registered to a 10DLC campaign
REGISTERED 10DLC campaign; a toll-free one not VERIFIED  4795    tfn-not-verified
``to`` is a magic number (``magic.MAGIC_TO_NUMBERS``)    table   table
otherwise                                                —       message-delivered, "ok"
=======================================================  ======  =========================================

Callbacks go to the *requested* application's callback URL when that application exists on the
account; otherwise nothing can be delivered and the attempt log says so.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import operator
import os
import re
import string
import time
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any

from .. import callbacks, clock, paging, quotas
from ..dashboard import models as dashboard_models
from ..db import Database, register_schema
from ..magic import MAGIC_TO_BY_NUMBER
from ..media import models as media_models
from ..numbers import MEMO_TEXT, TOLL_FREE_NPAS
from ..query_numbers import SQLITE_MAX, whole_number

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    owner TEXT NOT NULL,
    application_id TEXT,
    from_tn TEXT NOT NULL,
    to_json TEXT NOT NULL,
    text TEXT,
    media_json TEXT,
    tag TEXT,
    priority TEXT,
    expiration TEXT,
    segment_count INTEGER NOT NULL,
    time TEXT NOT NULL,
    created REAL NOT NULL,
    endpoint TEXT
);
DROP INDEX IF EXISTS messages_account;
CREATE INDEX IF NOT EXISTS messages_acct ON messages (account_id);
CREATE TABLE IF NOT EXISTS message_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    type TEXT NOT NULL,
    error_code INTEGER,
    description TEXT,
    due_at REAL NOT NULL,
    callback_id INTEGER,
    note TEXT
);
CREATE INDEX IF NOT EXISTS message_events_msg ON message_events (message_id);
CREATE INDEX IF NOT EXISTS message_events_account ON message_events (account_id, id);
CREATE INDEX IF NOT EXISTS message_events_recipient ON message_events (account_id, recipient, id);
CREATE INDEX IF NOT EXISTS messages_from ON messages (account_id, from_tn);
CREATE TABLE IF NOT EXISTS message_counts (
    account_id TEXT PRIMARY KEY,
    items INTEGER NOT NULL,
    messages INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_windows (
    account_id TEXT NOT NULL,
    window INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (account_id, window)
)
"""
register_schema(SCHEMA)

DESCRIPTIONS = {
    4001: "service-not-allowed",
    4403: "rejected-forbidden-from-number",
    4405: "rejected-unallocated-from-number",
    4407: "rejected-account-not-defined-from-number",
    4452: "rejected-wrong-application-id",
    4410: "media-unavailable",
    4411: "rejected-message-size-limit-exceeded",
}
DELIVERED_DESCRIPTION = "ok"
#: message-delivered of an MMS or a group message: handed to Bandwidth's MMSC, not a handset receipt
#: (messaging-webhooks.mdx, "MMS / Group MMS Delivered to Carrier"; "ok" is the SMS one)
CARRIER_DELIVERED_DESCRIPTION = "Message delivered to carrier"
RECEIVED_DESCRIPTION = "Incoming message received"
MAX_RECIPIENTS = 10
MAX_TEXT = 2048
MAX_MEDIA_URL = 4096
MAX_MEDIA = media_models.MAX_ATTACHMENTS  # attachments per message (Bandwidth support article 12823216)
MAX_TAG = 1024

# -- ids, times, segments ------------------------------------------------------------------------

_ALNUM = string.ascii_lowercase + string.digits
#: random bytes -> base-36 digits: the 252 byte values below 7 * 36 each name one digit (7 bytes per digit, so every
#: digit is equally likely); the 4 values above are dropped (``bytes.translate(..., delete=...)``)
_DIGIT_OF_BYTE = bytes(ord(_ALNUM[b % 36]) if b < 252 else 0 for b in range(256))
_DROPPED_BYTES = bytes(range(252, 256))


def new_message_id(now: float | None = None) -> str:
    """29 characters like ``15047516192013g5tuga77zsa6jrp``: epoch millis + 16 lowercase alnum (uniform, from
    ``os.urandom`` mapped by one ``bytes.translate``)."""
    millis = int((now if now is not None else time.time()) * 1000)
    digits = os.urandom(24).translate(_DIGIT_OF_BYTE, _DROPPED_BYTES)  # fewer than 16 of 24 left: ~1 in 10^10
    while len(digits) < 16:
        digits += os.urandom(4).translate(_DIGIT_OF_BYTE, _DROPPED_BYTES)
    return f"{millis:013d}{digits[:16].decode('ascii')}"


def iso_time(ts: float) -> str:
    return callbacks.iso(ts)


GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
_GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENDED)


def segment_count(text: str | None, media: list[str] | None = None) -> int:
    """SMS segments: GSM-7 160 (153 per part), else UCS-2 70 (67 per part). MMS counts as one."""
    if media:
        return 1
    text = text or ""
    if not text:
        return 1
    if _GSM7.issuperset(text):  # one set operation, not a generator over every character
        units = len(text) + (sum(1 for c in text if c in GSM7_EXTENDED) if not GSM7_EXTENDED.isdisjoint(text) else 0)
        single, part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    return 1 if units <= single else math.ceil(units / part)


# -- validation ----------------------------------------------------------------------------------

#: ASCII digits only: a str pattern's \d also takes other scripts' digits (a "to" of "+44" and fullwidth digits
#: was accepted and stored as it came)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$", re.ASCII)
_NANP = re.compile(r"^\+1[2-9]\d{9}$", re.ASCII)  # NPA must not start with 0 or 1 (the guide uses NXX 123)


def normalize_tn(value: Any) -> str | None:
    """E.164, with ``+1`` optional for 10-digit US numbers. None when it is not a phone number."""
    if not isinstance(value, str):
        return None
    return _normalized_tn(value) if len(value) <= MEMO_TEXT else _normalized_tn.__wrapped__(value)


@functools.lru_cache(maxsize=4096)  # a pure function of the text: every request names the same few numbers
def _normalized_tn(value: str) -> str | None:
    raw = value.strip()
    digits = re.sub(r"[\s().-]", "", raw)
    if re.fullmatch(r"\d{10}", digits):
        digits = "+1" + digits
    elif re.fullmatch(r"1\d{10}", digits):
        digits = "+" + digits
    if not _E164.match(digits):
        return None
    if digits.startswith("+1") and not _NANP.match(digits):
        return None
    return digits


def _err(field: str, description: str) -> dict[str, str]:
    return {"fieldName": field, "description": description}


def validate_request(body: Any, db: Database | None = None) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The request -> (normalized message fields, field errors); ``db``: whose clock ``expiration`` must be after
    (read only when one is given; the wall clock without ``db``)."""
    if not isinstance(body, dict):
        return {}, [_err("body", "The request body must be a JSON object")]
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {}

    app = body.get("applicationId")
    if app is None or (isinstance(app, str) and not app.strip()):
        errors.append(_err("applicationId", "'applicationId' is required"))
    elif not isinstance(app, str):
        errors.append(_err("applicationId", "'applicationId' must be a string"))
    else:
        out["applicationId"] = app.strip()

    frm = body.get("from")
    if frm is None or frm == "" or (isinstance(frm, list) and len(frm) != 1):
        errors.append(_err("from", "'from' must contain exactly one telephone number"))
    else:
        if isinstance(frm, list):
            frm = frm[0]
        tn = normalize_tn(frm)
        if tn is None:
            errors.append(_err("from", f"'from' must be a telephone number in E.164 format, like +19195551212 "
                                       f"(got {frm!r})"))
        else:
            out["from"] = tn

    to = body.get("to")
    if isinstance(to, str):
        to = [to] if to.strip() else []
    if to is None or (isinstance(to, list) and not to):
        errors.append(_err("to", "'to' must contain at least one telephone number"))
    elif not isinstance(to, list):
        errors.append(_err("to", "'to' must be a telephone number or a list of telephone numbers"))
    else:
        recipients: list[str] = []
        bad = []
        for item in to:
            tn = normalize_tn(item)
            if tn is None:
                bad.append(item)
            elif tn not in recipients:
                recipients.append(tn)
        if bad:
            errors.append(_err("to", f"'to' must contain only telephone numbers in E.164 format, like "
                                     f"+19195551212 (invalid: {', '.join(repr(b) for b in bad[:5])})"))
        elif len(recipients) > MAX_RECIPIENTS:
            errors.append(_err("to", f"'to' must contain at most {MAX_RECIPIENTS} telephone numbers "
                                     f"(a group message has at most {MAX_RECIPIENTS} recipients; code 4435 "
                                     f"forbidden-too-many-recipients)"))
        else:
            out["to"] = recipients

    media = body.get("media")
    if media is not None:
        if isinstance(media, str):
            media = [media]
        if not isinstance(media, list) or not all(isinstance(m, str) and m.strip() for m in media):
            errors.append(_err("media", "'media' must be a list of URLs"))
        elif any(len(m) > MAX_MEDIA_URL for m in media):
            errors.append(_err("media", f"each 'media' URL must be {MAX_MEDIA_URL} characters or less"))
        elif len(media) > MAX_MEDIA:
            errors.append(_err("media", f"'media' must contain at most {MAX_MEDIA} URLs (a message carries at most "
                                        f"{MAX_MEDIA} attachments; got {len(media)})"))
        elif not all(media_models.is_http_url(m) for m in media):
            bad = next(m for m in media if not media_models.is_http_url(m))
            errors.append(_err("media", f"each 'media' item must be an http or https URL (got {bad[:100]!r})"))
        elif media:
            out["media"] = media

    text = body.get("text")
    if text is not None and not isinstance(text, str):
        errors.append(_err("text", "'text' must be a string"))
    elif not text and not out.get("media") and not (isinstance(media, list) and media):
        errors.append(_err("text", "'text' is required unless media is included"))
    elif text and len(text) > MAX_TEXT and not out.get("media"):
        errors.append(_err("text", f"'text' must be {MAX_TEXT} characters or less (unless media is included)"))
    else:
        out["text"] = text or ""

    tag = body.get("tag")
    if tag is not None:
        if not isinstance(tag, str):
            errors.append(_err("tag", "'tag' must be a string"))
        elif len(tag) > MAX_TAG:
            errors.append(_err("tag", f"'tag' must be {MAX_TAG} characters or less"))
        else:
            out["tag"] = tag

    priority = body.get("priority")
    if priority is not None:
        if priority not in ("default", "high"):
            errors.append(_err("priority", "'priority' must be one of [default, high]"))
        else:
            out["priority"] = priority

    expiration = body.get("expiration")
    if expiration is not None:
        parsed = _rfc3339(expiration)
        if parsed is None:
            errors.append(_err("expiration", "'expiration' must be an RFC-3339 date-time, like 2021-03-14T01:59:26Z"))
        elif parsed.timestamp() <= (clock.now(db) if db is not None else time.time()):
            errors.append(_err("expiration", "'expiration' must be a date-time in the future"))
        else:
            out["expiration"] = expiration
    return out, errors


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


# -- rate limit ----------------------------------------------------------------------------------

def send_settings(db: Database) -> tuple[int, float, float]:
    """(``rate_limit_per_second``, ``delivery_delay``, ``slow_delivery_delay``) as a send uses them: read once per
    change of the settings (:meth:`~bwhelpers.sandbox.db.Database.derived`), not three settings reads per message."""
    return db.derived(("send settings",), lambda: (
        int(db.get_setting("rate_limit_per_second", 0) or 0), float(db.get_setting("delivery_delay", 0.2) or 0),
        float(db.get_setting("slow_delivery_delay", 5.0) or 0)))


def take_rate_slot(db: Database, account_id: str, per_second: int) -> int | None:
    """Count one message against the account's per-second window (shared by every process).

    Returns None when accepted, else the seconds until the next window (for ``Retry-After``).
    """
    if not per_second or per_second <= 0:
        return None
    now = clock.now(db)
    window = int(now)
    with db.transaction() as conn:
        row = conn.execute("SELECT count FROM rate_windows WHERE account_id=? AND window=?",
                           (account_id, window)).fetchone()
        if row is not None and int(row["count"]) >= per_second:
            return 1
        conn.execute("INSERT INTO rate_windows (account_id, window, count) VALUES (?,?,1) "
                     "ON CONFLICT(account_id, window) DO UPDATE SET count=count+1", (account_id, window))
        conn.execute("DELETE FROM rate_windows WHERE window<?", (window - 5,))
    return None


# -- dashboard look-ups (owned by the dashboard area; a broken dashboard module fails loudly) ----------

def number_owner(db: Database, tn: str) -> dict[str, Any] | None:
    return dashboard_models.number_owner(db, tn)


def location_messaging(db: Database, account_id: str, location_id: str) -> dict[str, Any]:
    return dashboard_models.location_messaging(db, account_id, location_id)


def get_application(db: Database, account_id: str, app_id: str | None) -> dict[str, Any] | None:
    if not app_id:
        return None
    return dashboard_models.get_application(db, account_id, app_id)


def _status_target(app: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(url, user, password) for message-delivered/failed events of an application."""
    if not app:
        return None, None, None
    url = app.get("callback_url") or app.get("outbound_callback_url") or app.get("inbound_callback_url")
    return url, app.get("callback_user"), app.get("callback_password")


def _inbound_target(app: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    if not app:
        return None, None, None
    url = app.get("inbound_callback_url") or app.get("callback_url")
    return url, app.get("inbound_callback_user") or app.get("callback_user"), \
        app.get("inbound_callback_password") or app.get("callback_password")


# -- sending --------------------------------------------------------------------------------------

def _outcome(db: Database, account_id: str, msg: dict[str, Any], own_hosts: frozenset[str],
             app: dict[str, Any] | None) -> tuple[int | None, str | None]:
    """The failure that applies to every recipient (error code, description), or (None, None); ``app`` is the
    requested application on the account (None when it is not there)."""
    owner = number_owner(db, msg["from"])
    if owner is None:
        return 4405, DESCRIPTIONS[4405]
    if str(owner.get("account_id")) != str(account_id):
        return 4407, DESCRIPTIONS[4407]
    loc = location_messaging(db, account_id, str(owner.get("location_id")))
    if app is None or not loc.get("application_id") or loc.get("application_id") != msg["applicationId"]:
        return 4452, DESCRIPTIONS[4452]
    if not loc.get("sms"):
        return 4403, DESCRIPTIONS[4403]
    if msg.get("media") and not loc.get("mms"):
        return 4001, DESCRIPTIONS[4001]
    if msg.get("media"):
        total, missing = media_models.resolve_send(db, account_id, msg["media"], own_hosts)
        if missing:
            return 4410, DESCRIPTIONS[4410]
        if msg["from"][2:5] in TOLL_FREE_NPAS and total > media_models.TOLL_FREE_MMS_BYTES:
            return 4411, DESCRIPTIONS[4411]
    return _a2p_block(db, account_id, msg["from"])


def _verdict(db: Database, account_id: str, msg: dict[str, Any], own_hosts: frozenset[str]
             ) -> tuple[dict[str, Any] | None, int | None, str | None]:
    """(the requested application on the account, :func:`_outcome`) of a send. Without media it is remembered per
    account, ``from`` and application while the tables it is read from do not change and it is final (no A2P
    registration of the number still in progress, no toll-free verification): the same send is decided again only
    after a change."""
    if msg.get("media"):  # stored media may change without touching a cached table
        app = get_application(db, account_id, msg["applicationId"])
        return (app, *_outcome(db, account_id, msg, own_hosts, app))
    dashboard_models.settle(db)  # an order that came due writes (and so drops what is remembered) first
    key = ("send verdict", account_id, msg["from"], msg["applicationId"])
    hit = db.recall(key)
    if hit is not None:
        return hit[0], hit[1], hit[2]
    app = get_application(db, account_id, msg["applicationId"])
    code, description = _outcome(db, account_id, msg, own_hosts, app)
    if code in (4405, 4407, 4452, 4403) or _a2p_final(db, account_id, msg["from"]):
        db.remember(key, (app, code, description))
    return app, code, description


def _a2p_final(db: Database, account_id: str, from_tn: str) -> bool:
    from ..tendlc.models import a2p_final  # a missing area fails loudly

    return a2p_final(db, account_id, from_tn)


def _a2p_block(db: Database, account_id: str, from_tn: str) -> tuple[int | None, str | None]:
    """The 2026 carrier rules (10DLC / toll-free verification), owned by the tendlc area."""
    from ..tendlc.models import a2p_block  # a missing area fails loudly

    return a2p_block(db, account_id, from_tn) or (None, None)


def message_body(row: dict[str, Any], for_callback: bool = False, to: list[str] | None = None) -> dict[str, Any]:
    """The wire shape of a message (202 body, or ``message`` inside a callback); ``to``: the recipients, when the
    caller has them (else read from the row's ``to_json``)."""
    body: dict[str, Any] = {
        "id": row["id"], "owner": row["owner"], "applicationId": row["application_id"], "time": row["time"],
        "segmentCount": row["segment_count"], "direction": row["direction"],
        "to": list(to) if to is not None else json.loads(row["to_json"]),
        "from": row["from_tn"], "text": row["text"] or "",
    }
    media = json.loads(row["media_json"]) if row.get("media_json") else None
    if for_callback:
        if row["direction"] == "out":
            body["text"] = ""  # delivery receipts never carry the text
        body["tag"] = row.get("tag") or ""
        body["priority"] = row.get("priority") or "default"
        if media:
            body["media"] = media
        if row.get("expiration"):
            body["expiration"] = row["expiration"]
        return body
    if media:
        body["media"] = media
    for key in ("tag", "priority", "expiration"):
        if row.get(key) is not None:
            body[key] = row[key]
    if row["direction"] == "out" and row.get("endpoint") == "current":
        # messaging-createMessage.mdx: today's 202 always carries it; the guide's (legacy endpoint) 202 does not
        body.setdefault("priority", "default")
    return body


def create_outbound(db: Database, account_id: str, msg: dict[str, Any], endpoint: str = "current",
                    own_hosts: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Store an accepted message and schedule one delivered/failed event per recipient (``own_hosts``: the host
    names of this service, whose media URLs are the account's stored media).

    Returns the 202 body.
    """
    write, body = plan_outbound(db, account_id, msg, endpoint=endpoint, own_hosts=own_hosts)
    with db.transaction() as conn:
        write(conn)
    return body


def plan_outbound(db: Database, account_id: str, msg: dict[str, Any], endpoint: str = "current",
                  own_hosts: frozenset[str] = frozenset()) -> tuple[Callable[[Any], None], dict[str, Any]]:
    """What :func:`create_outbound` does, in two parts: (the writes, a function of a connection inside a
    transaction, which also re-checks the account's ``messages`` quota there; the 202 body). The outcome, the
    callback target and the settings are read now; the handler applies the writes through
    :mod:`bwhelpers.sandbox.group_commit` and answers the body once they are committed."""
    now = clock.now(db)
    row = {
        "id": new_message_id(now), "account_id": account_id, "direction": "out", "owner": msg["from"],
        "application_id": msg["applicationId"], "from_tn": msg["from"], "to_json": json.dumps(msg["to"]),
        "text": msg.get("text", ""), "media_json": json.dumps(msg["media"]) if msg.get("media") else None,
        "tag": msg.get("tag"), "priority": msg.get("priority"), "expiration": msg.get("expiration"),
        "segment_count": segment_count(msg.get("text"), msg.get("media")), "time": iso_time(now),
        "created": now, "endpoint": endpoint,
    }
    app, code, description = _verdict(db, account_id, msg, own_hosts)
    url, user, password = _status_target(app)
    requested = list((app or {}).get("requested_callback_types") or [])
    delay, slow = send_settings(db)[1:]

    in_callback = message_body(row, for_callback=True, to=msg["to"])  # the same ``message`` in every event
    delivered = CARRIER_DELIVERED_DESCRIPTION if msg.get("media") or len(msg["to"]) > 1 else DELIVERED_DESCRIPTION
    on_time = iso_time(now + delay)

    def write(conn: Any) -> None:
        quotas.check_messages(db, account_id)  # again, inside the transaction: a group must not overshoot it
        _insert_message(conn, row, items=len(msg["to"]))  # one count for the message and its events
        for recipient in msg["to"]:
            r_code, r_desc, due, magic = code, description, now + delay, None
            if code is None:
                magic = MAGIC_TO_BY_NUMBER.get(recipient)
                if magic and magic["outcome"] == "failed":
                    r_code, r_desc = int(magic["errorCode"]), magic["description"]
                elif magic and magic["outcome"] == "slow":
                    due = now + slow
            kind = "message-failed" if r_code is not None else "message-delivered"
            event: dict[str, Any] = {
                "type": kind, "time": on_time if due == now + delay else iso_time(due),
                "description": r_desc if r_code is not None else delivered,
                "to": recipient, "message": in_callback,
            }
            if r_code is not None:
                event["errorCode"] = r_code
            wanted = not requested or kind in requested
            _schedule(conn, account_id=account_id, message_id=row["id"], recipient=recipient, kind=kind,
                      error_code=r_code, description=event["description"], due=due, event=event,
                      url=url if wanted else None, user=user, password=password, app_id=msg["applicationId"],
                      note=None if wanted else f"{kind} is not in the application's RequestedCallbackTypes "
                                               f"{requested}: no callback is sent", counted=True, created=now)
            if kind == "message-delivered" and magic and magic["outcome"] == "auto-reply":
                _auto_reply(conn, db, account_id, row, recipient, app, due + max(delay, 0.05))

    return write, message_body(row, to=msg["to"])


MESSAGE_COLUMNS = ("id", "account_id", "direction", "owner", "application_id", "from_tn", "to_json", "text",
                   "media_json", "tag", "priority", "expiration", "segment_count", "time", "created", "endpoint")
MESSAGE_SQL = (f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
               f"VALUES ({','.join('?' * len(MESSAGE_COLUMNS))})")
#: a message row's values in :data:`MESSAGE_COLUMNS` order
_message_values = operator.itemgetter(*MESSAGE_COLUMNS)


def _insert_message(conn: Any, row: dict[str, Any], items: int = 0) -> None:
    """The message row, counted with ``items`` of its events (those the caller stores with ``counted=True``)."""
    conn.execute(MESSAGE_SQL, _message_values(row))
    count_items(conn, row["account_id"], items, 1)


def _schedule(conn: Any, *, account_id: str, message_id: str, recipient: str, kind: str, error_code: int | None,
              description: str, due: float, event: dict[str, Any], url: str | None, user: str | None,
              password: str | None, app_id: str | None, note: str | None = None, counted: bool = False,
              created: float | None = None) -> None:
    """One recipient's outcome event, and its callback in the outbox (``created``: the message's time on the
    sandbox's clock, when the caller has it; else read now)."""
    callback_id = None
    if url:
        callback_id = callbacks.enqueue(conn, account_id=account_id, url=url, body=[event], due=due,
                                        message_id=message_id, event_type=kind, recipient=recipient,
                                        user=user, password=password, created=created)
    else:
        note = note or (f"application {app_id!r} does not exist on account {account_id} (or has no callback URL): "
                        f"the {kind} event cannot be delivered")
        callbacks.log_attempt(conn, callback_id=None, account_id=account_id, message_id=message_id, event_type=kind,
                              recipient=recipient, attempt=0, url=None, status_code=None, error=note,
                              auth_used=False, elapsed_ms=None)
        import logging

        logging.getLogger("bwhelpers.sandbox.messaging").info(note)
    insert_event(conn, (message_id, account_id, recipient, kind, error_code, description, due, callback_id, note),
                 counted=counted)


EVENT_SQL = ("INSERT INTO message_events (message_id, account_id, recipient, type, error_code, description, due_at, "
             "callback_id, note) VALUES (?,?,?,?,?,?,?,?,?)")


def count_items(conn: Any, account_id: str, items: int, messages: int = 0) -> None:
    """Keep ``message_counts`` (the unfiltered ``totalCount`` in O(1)) in step with the rows."""
    conn.execute("INSERT INTO message_counts (account_id, items, messages) VALUES (?,?,?) ON CONFLICT(account_id) "
                 "DO UPDATE SET items=items+excluded.items, messages=messages+excluded.messages",
                 (account_id, items, messages))


def insert_event(conn: Any, values: tuple[Any, ...], counted: bool = False) -> None:
    """One per-recipient outcome row (one ``listMessages`` item); ``counted``: the caller counted it already."""
    conn.execute(EVENT_SQL, values)
    if not counted:
        count_items(conn, values[1], 1)


def _auto_reply(conn: Any, db: Database, account_id: str, original: dict[str, Any], magic_tn: str,
                app: dict[str, Any] | None, due: float) -> None:
    text = f"Auto-reply from the sandbox: you said {original['text']!r}" if original.get("text") \
        else "Auto-reply from the sandbox"
    _create_inbound(conn, account_id=account_id, to_tn=original["from_tn"], from_tn=magic_tn, text=text,
                    media=None, app_id=original["application_id"], app=app, due=due)


def _create_inbound(conn: Any, *, account_id: str, to_tn: str, from_tn: str, text: str, media: list[str] | None,
                    app_id: str | None, app: dict[str, Any] | None, due: float,
                    message_id: str | None = None, cc: list[str] | None = None) -> dict[str, Any]:
    now = clock.now(conn)
    row = {
        "id": message_id or new_message_id(now), "account_id": account_id, "direction": "in", "owner": to_tn,
        "application_id": app_id, "from_tn": from_tn, "to_json": json.dumps([to_tn, *(cc or [])]), "text": text,
        "media_json": json.dumps(media) if media else None, "tag": None, "priority": None, "expiration": None,
        "segment_count": segment_count(text, media), "time": iso_time(now), "created": now, "endpoint": "inbound",
    }
    _insert_message(conn, row)
    message = message_body(row)
    message["time"] = row["time"]
    event = {"type": "message-received", "time": iso_time(due), "description": RECEIVED_DESCRIPTION,
             "to": to_tn, "message": message}
    url, user, password = _inbound_target(app)
    _schedule(conn, account_id=account_id, message_id=str(row["id"]), recipient=to_tn, kind="message-received",
              error_code=None, description=RECEIVED_DESCRIPTION, due=due, event=event, url=url, user=user,
              password=password, app_id=app_id)
    return {"message": message, "event": event}


class InboundError(Exception):
    """Why an inbound message cannot be simulated (``status`` 400 or 404)."""

    def __init__(self, description: str, status: int = 400):
        super().__init__(description)
        self.description, self.status = description, status


def create_inbound(db: Database, to: Any, frm: Any, text: Any, media: Any = None,
                   account_id: str | None = None, media_base: str = "", cc: Any = None) -> dict[str, Any]:
    """Simulate a text from ``frm`` to one of the accounts' numbers: a message-received callback.
    ``account_id`` (the caller's account) limits ``to`` to that account's numbers. ``cc`` (the other people of a
    group conversation) makes it a group message: ``message.to`` lists the account's number and them, as Bandwidth's
    message-received for a group MMS does (group messages are MMS: the location needs MMS).

    ``media`` items are http(s) URLs (passed on as they are) or pictures: ``{"sample": name}`` (a built-in one),
    ``{"mediaId": id}`` (a copy of an upload) or ``{"filename", "contentType", "content"}`` (base64). A picture is
    stored in the receiving account's media as ``{messageId}/{n}/{filename}`` and the event carries its URL on this
    service's media endpoint (``media_base`` + ``/api/v2/users/{a}/media/…``), which needs the account's
    credentials, as on Bandwidth."""
    only = account_id
    to_tn, from_tn = normalize_tn(to), normalize_tn(frm)
    if to_tn is None:
        raise InboundError("'to' must be one of your telephone numbers, in E.164 format")
    if from_tn is None:
        raise InboundError("'from' must be a telephone number in E.164 format, like +19195551212")
    others: list[str] = []
    for item in cc or []:
        tn = normalize_tn(item)
        if tn is None:
            raise InboundError("each other recipient of a group must be a telephone number in E.164 format")
        if tn not in (to_tn, from_tn) and tn not in others:
            others.append(tn)
    if len(others) + 1 > MAX_RECIPIENTS:
        raise InboundError(f"a group message has at most {MAX_RECIPIENTS} recipients")
    if media is not None and (not isinstance(media, list) or not all(isinstance(m, (str, dict)) for m in media)):
        raise InboundError("'media' must be a list of URLs or pictures ({\"sample\": name}, {\"mediaId\": id} or "
                           "{\"filename\", \"contentType\", \"content\": base64})")
    if media and len(media) > MAX_MEDIA:
        raise InboundError(f"'media' must contain at most {MAX_MEDIA} items")
    if media and not all(media_models.is_http_url(m) for m in media if isinstance(m, str)):
        raise InboundError("each 'media' URL must be an http or https URL")
    if text is not None and not isinstance(text, str):
        raise InboundError("'text' must be a string")
    if not text and not media:
        raise InboundError("'text' is required unless media is included")
    owner = number_owner(db, to_tn)
    if owner is None or (only is not None and str(owner["account_id"]) != only):
        raise InboundError(f"{to_tn} is not a number of {'your account' if only else 'any sandbox account'} "
                           f"(order one first)", status=404)
    account_id = str(owner["account_id"])
    loc = location_messaging(db, account_id, str(owner.get("location_id")))
    if not loc.get("sms"):
        raise InboundError(f"the location of {to_tn} has no SMS feature: the message would not be delivered")
    if (media or others) and not loc.get("mms"):
        what = "picture" if media else "group"
        raise InboundError(f"the location of {to_tn} has no MMS feature: the {what} message would not be delivered")
    app_id = loc.get("application_id")
    if not app_id:
        raise InboundError(f"no application is assigned to the location of {to_tn}: Bandwidth would drop the "
                           f"message (assign one with PUT .../products/messaging/applicationSettings)")
    app = get_application(db, account_id, app_id)
    if app is None:
        raise InboundError(f"the application {app_id} assigned to the location of {to_tn} does not exist")
    delay = float(db.get_setting("delivery_delay", 0.2) or 0)
    message_id = new_message_id()
    urls: list[str] = []
    pictures: list[tuple[str, media_models.Picture]] = []
    for index, item in enumerate(media or []):
        if isinstance(item, str):
            urls.append(item)
            continue
        try:
            picture = media_models.inbound_picture(db, account_id, item)
        except ValueError as exc:
            raise InboundError(f"media item {index}: {exc}") from None
        media_id = f"{message_id}/{index}/{picture.filename}"
        pictures.append((media_id, picture))
        urls.append(media_base.rstrip("/") + media_models.media_path(account_id, media_id))
    quota = db.get_setting("media_quota_bytes", media_models.DEFAULT_QUOTA_BYTES)
    try:
        with db.transaction() as conn:
            for media_id, picture in pictures:
                media_models.store_inbound(conn, account_id, media_id, picture.content, picture.content_type,
                                           quota=quota if isinstance(quota, int) else None)
            result = _create_inbound(conn, account_id=account_id, to_tn=to_tn, from_tn=from_tn, text=text or "",
                                     media=urls or None, app_id=app_id, app=app, due=clock.now(db) + delay,
                                     message_id=message_id, cc=others)
    except media_models.QuotaExceeded as exc:
        raise InboundError(f"the pictures would take account {account_id} over its media quota ({exc.quota} "
                           f"bytes): delete some media first") from None
    result["accountId"] = account_id
    result["callbackUrl"] = _inbound_target(app)[0]
    return result


# -- reading --------------------------------------------------------------------------------------

def _state(ev: Any, now: float) -> str:
    if ev["type"] == "message-received":
        return "received"
    if now < ev["due_at"]:
        return "sending"
    return "delivered" if ev["type"] == "message-delivered" else "failed"


def _events_by_message(db: Database, ids: list[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    if not ids:
        return out
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for ev in db.query(
                f"SELECT e.*, o.status AS cb_status, o.attempts AS cb_attempts, o.url AS cb_url FROM message_events e "
                f"LEFT JOIN callback_outbox o ON o.id=e.callback_id WHERE e.message_id IN ({marks}) ORDER BY e.id",
                chunk):
            out.setdefault(ev["message_id"], []).append(ev)
    return out


#: listMessages' ``messageStatus`` follows the callbacks' lifecycle, per recipient: an outbound item is SENDING
#: until its event is due (the moment its message-delivered / message-failed callback is sent), then DELIVERED or
#: FAILED (with that event's ``errorCode``); an inbound one is RECEIVED. Bandwidth's ``messageStatusEnum`` has
#: four more values (ACCEPTED QUEUED SENT UNDELIVERED) whose transitions it does not document: the sandbox never
#: reports them, and a filter on them matches nothing.
_LIST_STATUS = {"sending": "SENDING", "delivered": "DELIVERED", "failed": "FAILED", "received": "RECEIVED"}
#: bandwidth.yml ``messageStatusEnum``
MESSAGE_STATUSES = ("RECEIVED", "QUEUED", "SENDING", "SENT", "FAILED", "DELIVERED", "ACCEPTED", "UNDELIVERED")
#: bandwidth.yml ``listMessageDirectionEnum`` and ``messageTypeEnum``
LIST_DIRECTIONS = ("INBOUND", "OUTBOUND")
MESSAGE_TYPES = ("sms", "mms", "rcs")
#: the listMessages query parameters the sandbox applies (messaging.yml; bandwidth.yml adds the segment and size
#: ranges and the rest; its bwQueued and carrierQueued are not applied)
LIST_FILTERS = ("messageId", "sourceTn", "destinationTn", "messageStatus", "messageDirection", "messageType",
                "errorCode", "fromDateTime", "toDateTime", "carrierName", "campaignId", "fromSegmentCount",
                "toSegmentCount", "fromMessageSize", "toMessageSize", "product", "location", "callingNumberCountryA3",
                "calledNumberCountryA3", "fromBwLatency", "fromCarrierLatency")
#: bandwidth.yml filters on item fields the sandbox never reports (a product, a location, countries, the Advanced
#: Quality Metrics latencies): given one, no item matches
UNREPORTED_FILTERS = ("carrierName", "campaignId", "product", "location", "callingNumberCountryA3",
                      "calledNumberCountryA3", "fromBwLatency", "fromCarrierLatency")


def filter_problems(f: dict[str, str]) -> list[dict[str, str]]:
    """``fieldErrors`` for listMessages filters outside the spec's enums (a 400, as for any bad parameter)."""
    out = []
    for key, allowed in (("messageStatus", MESSAGE_STATUSES), ("messageDirection", LIST_DIRECTIONS),
                         ("messageType", MESSAGE_TYPES)):
        value = f.get(key)
        if value and value not in allowed:
            out.append(_err(key, f"'{key}' must be one of {', '.join(allowed)} (got {value[:40]!r})"))
    code = f.get("errorCode")
    if code and whole_number(code) is None:  # str.isdigit() let '²' (a 500 in int()) and 20-digit codes through
        out.append(_err("errorCode", f"'errorCode' must be a whole number, like 4720 (got {code[:40]!r})"))
    for key in ("fromDateTime", "toDateTime"):
        value = f.get(key)
        if value and list_time(value) is None:
            out.append(_err(key, f"'{key}' must be an ISO 8601 date-time, like 2022-09-14T18:20:16.000Z "
                                 f"(got {value[:40]!r})"))
    for key in ("fromSegmentCount", "toSegmentCount", "fromMessageSize", "toMessageSize"):
        value = f.get(key)
        if value and whole_number(value) is None:
            out.append(_err(key, f"'{key}' must be a whole number, like 1 (got {value[:40]!r})"))
    return out


def list_time(value: str) -> float | None:
    """A listMessages ``fromDateTime``/``toDateTime`` (ISO 8601; UTC when it names no offset) as epoch seconds, or
    None when it is not a date-time."""
    text = value.strip()
    try:  # Python 3.10's fromisoformat reads no "Z"
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


#: ``limitTotalCount=true``: messaging.yml caps totalCount at this
TOTAL_COUNT_CAP = 10_000


class PageTokenError(ValueError):
    """A ``pageToken`` this sandbox did not hand out."""


def encode_token(direction: str, event_id: int) -> str:
    """An opaque base64 ``pageToken`` (messaging.yml: "A base64 encoded value used for pagination")."""
    return base64.urlsafe_b64encode(f"{direction}{event_id}".encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        direction, value = raw[0], int(raw[1:])
    except (ValueError, IndexError, UnicodeDecodeError, binascii.Error):
        raise PageTokenError(token) from None
    if direction not in "abo" or not 0 <= value <= SQLITE_MAX:  # a larger one was a 500 (sqlite's int overflow)
        raise PageTokenError(token)
    return direction, value


#: listMessages ``sort`` fields the sandbox orders by -> their column (messaging.yml: "The field and direction to
#: sort by combined with a colon. Direction is either asc or desc.")
SORT_COLUMNS = {"receiveTime": "m.created", "messageId": "m.id", "sourceTn": "m.from_tn",
                "destinationTn": "e.recipient", "segmentCount": "m.segment_count"}


def parse_sort(value: str) -> tuple[str, str] | None:
    """``sort`` (``sourceTn:desc``) as (column, ``ASC``/``DESC``), or None when it names no field of
    :data:`SORT_COLUMNS` or no direction."""
    field, _, direction = value.partition(":")
    column = SORT_COLUMNS.get(field.strip())
    order = {"asc": "ASC", "desc": "DESC"}.get(direction.strip().lower())
    return (column, order) if column and order else None


def _sorted_page(db: Database, where: str, args: list[Any], sort: tuple[str, str], limit: int,
                 page_token: str | None) -> tuple[list[Any], str | None, str | None]:
    """A ``sort``ed page (the row id breaks ties): (rows, next token, previous token). Offset paging, the
    ``pageToken`` base64 of ``o`` and the offset (the spec's limit speaks of "the sum of limit and after"); only
    sorted lists pay for an offset, the default order keeps its keyset."""
    kind, offset = decode_token(page_token) if page_token else ("o", 0)
    if kind != "o":
        raise PageTokenError(page_token or "")
    column, order = sort
    rows = db.query("SELECT e.id AS eid, e.recipient, e.type AS ev_type, e.error_code, e.due_at, m.* FROM "
                    f"message_events e JOIN messages m ON m.id=e.message_id WHERE {where} "
                    f"ORDER BY {column} {order}, e.id {order} LIMIT ? OFFSET ?", [*args, limit + 1, offset])
    nxt = encode_token("o", offset + limit) if len(rows) > limit else None
    return rows[:limit], nxt, encode_token("o", max(0, offset - limit)) if offset else None


def _list_where(account_id: str, f: dict[str, str], now: float) -> tuple[str, list[Any]]:
    """SQL conditions of the ``listMessages`` filters (every one on an indexed or joined column)."""
    where, args = ["e.account_id=?"], list[Any]([account_id])
    if f.get("messageId"):
        where.append("e.message_id=?")
        args.append(f["messageId"])
    for key, col in (("sourceTn", "m.from_tn"), ("destinationTn", "e.recipient")):
        if f.get(key):
            parts = [p.strip() for p in f[key].split(",") if p.strip()]
            exact = [normalize_tn(p) or p for p in parts]
            if len(parts) == 1 and normalize_tn(parts[0]) is None:
                where.append(f"instr({col}, ?) > 0")
                args.append(parts[0])
            else:
                where.append(f"{col} IN ({','.join('?' * len(exact))})")
                args.extend(exact)
    status = f.get("messageStatus")
    if status:
        cond = {"RECEIVED": "e.type='message-received'",
                "SENDING": "e.type<>'message-received' AND e.due_at>?",
                "DELIVERED": "e.type='message-delivered' AND e.due_at<=?",
                "FAILED": "e.type='message-failed' AND e.due_at<=?"}.get(status)
        if cond is None:
            where.append("0")
        else:
            where.append(cond)
            args.extend([now] * cond.count("?"))
    direction = f.get("messageDirection")
    if direction:
        where.append("m.direction=?")
        args.append({"OUTBOUND": "out", "INBOUND": "in"}.get(direction, "?"))
    kind = f.get("messageType")
    if kind:
        where.append({"sms": "m.media_json IS NULL", "mms": "m.media_json IS NOT NULL"}.get(kind, "0"))
    for key, op in (("fromDateTime", ">="), ("toDateTime", "<=")):  # the receive time (messaging.yml), inclusive
        if f.get(key):
            where.append(f"m.created{op}?")
            args.append(list_time(f[key]))
    for key, column, op in (("fromSegmentCount", "m.segment_count", ">="), ("toSegmentCount", "m.segment_count", "<="),
                            # an item's messageSize: the text's UTF-8 bytes (_list_item)
                            ("fromMessageSize", "length(CAST(COALESCE(m.text, '') AS BLOB))", ">="),
                            ("toMessageSize", "length(CAST(COALESCE(m.text, '') AS BLOB))", "<=")):
        if f.get(key):
            where.append(f"{column}{op}?")
            args.append(int(f[key]))
    if any(f.get(key) for key in UNREPORTED_FILTERS):
        where.append("0")  # no item carries the field (carrierName, campaignId, ... are absent): none matches
    code = f.get("errorCode")
    if code:
        if code == "0":
            where.append("NOT (e.type='message-failed' AND e.due_at<=?)")
            args.append(now)
        else:
            where.append("e.type='message-failed' AND e.due_at<=? AND e.error_code=?")
            args.extend([now, int(code) if code.isdigit() else -1])
    return " AND ".join(where), args


def _list_item(r: Any, now: float) -> dict[str, Any]:
    media = json.loads(r["media_json"]) if r["media_json"] else []
    state = _state({"type": r["ev_type"], "due_at": r["due_at"]}, now)
    item = {
        "messageId": r["id"], "accountId": r["account_id"], "sourceTn": r["from_tn"],
        "destinationTn": r["recipient"], "messageStatus": _LIST_STATUS[state],
        "messageDirection": "OUTBOUND" if r["direction"] == "out" else "INBOUND",
        "messageType": "mms" if media else "sms", "segmentCount": r["segment_count"],
        "errorCode": int(r["error_code"]) if state == "failed" and r["error_code"] is not None else 0,
        "receiveTime": r["time"], "carrierName": None,
        "messageSize": len((r["text"] or "").encode("utf-8")), "messageLength": len(r["text"] or ""),
        "attachmentCount": len(media), "recipientCount": len(json.loads(r["to_json"])),
        "campaignClass": None, "campaignId": None,
    }
    return {k: v for k, v in item.items() if v is not None}


def list_messages(db: Database, account_id: str, filters: dict[str, str], limit: int = 100,
                  page_token: str | None = None, limit_total: bool = False,
                  sort: tuple[str, str] | None = None) -> dict[str, Any]:
    """``GET /users/{a}/messages``: one item per message and recipient, newest first (``listMessageItem``).

    Keyset paging on the per-recipient row id, so a page costs O(limit) however many messages are stored:
    ``pageToken`` is opaque (base64 of a direction and a row id). ``totalCount`` comes from a counter when
    there is no filter, else from a COUNT over the indexed filters (capped at 10,000 with
    ``limitTotalCount=true``). Returns ``{"totalCount", "messages", "next", "prev"}`` (tokens or None). ``sort``:
    (column, direction) of :func:`parse_sort`, paged by :func:`_sorted_page`.
    """
    now = clock.now(db)
    where, args = _list_where(account_id, filters, now)
    if sort is not None:
        rows, nxt, prev = _sorted_page(db, where, args, sort, limit, page_token)
        return {"totalCount": _list_total(db, account_id, where, args, limit_total), "messages":
                [_list_item(r, now) for r in rows], "next": nxt, "prev": prev}
    direction, anchor = decode_token(page_token) if page_token else ("a", None)
    if direction == "o":  # a sorted list's token without its sort
        raise PageTokenError(page_token or "")
    page_where, page_args = where, list(args)
    if anchor is not None:
        page_where += " AND e.id<?" if direction == "a" else " AND e.id>?"
        page_args.append(anchor)
    order = "DESC" if direction == "a" else "ASC"
    sql = ("SELECT e.id AS eid, e.recipient, e.type AS ev_type, e.error_code, e.due_at, m.* FROM message_events e "
           f"JOIN messages m ON m.id=e.message_id WHERE {page_where} ORDER BY e.id {order} LIMIT ?")
    rows = db.query(sql, [*page_args, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "b":
        rows = list(reversed(rows))
    items = [_list_item(r, now) for r in rows]
    nxt = prev = None
    if rows:
        first, last = rows[0]["eid"], rows[-1]["eid"]
        older = more if direction == "a" else anchor is not None
        newer = (anchor is not None) if direction == "a" else more
        if older:
            nxt = encode_token("a", last)
        if newer:
            prev = encode_token("b", first)
    return {"totalCount": _list_total(db, account_id, where, args, limit_total), "messages": items, "next": nxt,
            "prev": prev}


def _list_total(db: Database, account_id: str, where: str, args: list[Any], limit_total: bool) -> int:
    """listMessages' ``totalCount``: the account's counter when there is no filter, else a COUNT."""
    if where == "e.account_id=?":
        row = db.query_one("SELECT items FROM message_counts WHERE account_id=?", (account_id,))
        total = int(row["items"]) if row else 0
        return min(total, TOTAL_COUNT_CAP) if limit_total else total
    count_sql = f"SELECT 1 FROM message_events e JOIN messages m ON m.id=e.message_id WHERE {where}"
    if limit_total:
        count_sql += f" LIMIT {TOTAL_COUNT_CAP}"
    return db.count(f"SELECT COUNT(*) FROM ({count_sql})", args)


def sandbox_messages(db: Database, account_id: str | None = None, message_id: str | None = None,
                     limit: int = 1000, before: int | None = None) -> dict[str, Any]:
    """One page of messages with their per-recipient delivery state (control plane).

    The newest ``limit`` messages older than the cursor ``before``, oldest first, stopping at about
    :data:`~bwhelpers.sandbox.paging.PAGE_BYTES` of answer; ``next`` is the cursor of the page of older messages, or None when there is none (nothing is ever cut silently).
    """
    now = clock.now(db)
    sql, args = "SELECT rowid AS seq, * FROM messages WHERE 1=1", list[Any]()
    if account_id:
        sql += " AND account_id=?"
        args.append(account_id)
    if message_id:
        sql += " AND id=?"
        args.append(message_id)
    if before is not None:
        sql += " AND rowid<?"
        args.append(before)
    sql += " ORDER BY rowid DESC LIMIT ?"
    args.append(limit + 1)
    cursor = db.execute(sql, args)
    rows, more = paging.newest(cursor, limit)  # bounded in bytes too: big texts make short pages
    cursor.close()
    nxt = rows[-1]["seq"] if more else None
    rows.reverse()
    events = _events_by_message(db, [r["id"] for r in rows])
    out = []
    for r in rows:
        body = message_body(dict(r))
        body["accountId"] = r["account_id"]
        recipients = []
        for ev in events.get(r["id"], []):
            recipients.append({
                "to": ev["recipient"], "state": _state(ev, now), "type": ev["type"],
                "errorCode": ev["error_code"], "description": ev["description"], "eventTime": iso_time(ev["due_at"]),
                # seconds until the event is due (its callback sent) on the sandbox's clock, while it is not yet: a
                # waiting client sleeps that long instead of polling
                **({"dueIn": round(ev["due_at"] - now, 3)} if now < ev["due_at"] else {}),
                "callback": None if ev["callback_id"] is None else {
                    "id": ev["callback_id"], "url": ev["cb_url"], "status": ev["cb_status"],
                    "attempts": ev["cb_attempts"]},
                "note": ev["note"],
            })
        body["recipients"] = recipients
        out.append(body)
    return {"messages": out, "next": nxt}


# -- bulk seeding (benchmarks, load tests) ----------------------------------------------------------

def seed_delivered(db: Database, account_id: str, application_id: str, from_tn: str, count: int,
                   callback_url: str | None = None, batch: int = 20_000, start: float | None = None) -> int:
    """Store ``count`` outbound messages as if each had been sent and its ``message-delivered`` callback
    delivered once: the same rows :func:`create_outbound` and the dispatcher write (message, per-recipient
    event, delivered outbox row with its body, one attempt), in large transactions without HTTP.
    Recipients cycle over ordinary 919-555 numbers; times are spread one millisecond apart from ``start``.
    Returns the number stored."""
    from_tn = normalize_tn(from_tn) or from_tn
    t0 = clock.now(db) - count / 1000.0 if start is None else start
    done = 0
    while done < count:
        n = min(batch, count - done)
        messages, events, outbox, attempts = [], [], [], []
        with db.transaction() as conn:
            next_cb = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM callback_outbox").fetchone()[0]
            for i in range(n):
                now = t0 + (done + i) / 1000.0
                to = f"+1919555{(done + i) % 10000:04d}"
                row = {
                    "id": new_message_id(now), "account_id": account_id, "direction": "out", "owner": from_tn,
                    "application_id": application_id, "from_tn": from_tn, "to_json": json.dumps([to]),
                    "text": "seeded", "media_json": None, "tag": None, "priority": None, "expiration": None,
                    "segment_count": 1, "time": iso_time(now), "created": now, "endpoint": "current",
                }
                messages.append(tuple(row[c] for c in MESSAGE_COLUMNS))
                due = now + 0.2
                cb_id = next_cb + i if callback_url else None
                events.append((row["id"], account_id, to, "message-delivered", None, DELIVERED_DESCRIPTION, due,
                               cb_id, None))
                if callback_url:
                    body = json.dumps([{"type": "message-delivered", "time": iso_time(due),
                                        "description": DELIVERED_DESCRIPTION, "to": to,
                                        "message": message_body(row, for_callback=True)}])
                    outbox.append((cb_id, account_id, row["id"], "message-delivered", to, callback_url, body, 1, due,
                                   "delivered", now, due + 0.01))
                    attempts.append((cb_id, account_id, row["id"], "message-delivered", to, 1, due + 0.01,
                                     callback_url, 204, None, 0, 1.0, "seed"))
            conn.executemany(MESSAGE_SQL, messages)
            conn.executemany(EVENT_SQL, events)
            if outbox:
                conn.executemany(
                    "INSERT INTO callback_outbox (id, account_id, message_id, event_type, recipient, url, body, "
                    "attempts, next_attempt_at, status, created, delivered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    outbox)
                conn.executemany(
                    "INSERT INTO callback_attempts (callback_id, account_id, message_id, event_type, recipient, "
                    "attempt, time, url, status_code, error, auth_used, elapsed_ms, instance) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", attempts)
            count_items(conn, account_id, n, n)
        done += n
    return done
