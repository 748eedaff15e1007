"""
bwhelpers.sandbox.phone.models
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

What the phone page shows, read from the messaging area's tables: an account's numbers, the
conversation threads of one number (grouped by the other party), and each message with its
delivery ticks decided by its per-recipient events (sent until the event is due, then delivered
or failed with the error code). Also the short-lived signed links (HMAC with a key derived from
the sandbox's admin key; the expiry is checked against the sandbox's clock) and the form token.

Bounds: a page reads at most :data:`WINDOW` newest messages of a number (through the messaging
area's indexes), lists at most :data:`MAX_THREADS` threads and shows the newest :data:`MAX_BUBBLES`
messages of a conversation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import clock
from ..db import Database
from ..magic import MAGIC_TO_BY_NUMBER
from .exceptions import LinkExpired, LinkInvalid


#: newest messages of one number a page reads
WINDOW = 2000
#: threads listed, and messages shown in one conversation
MAX_THREADS = 50
MAX_BUBBLES = 100
#: lifetime of a signed link: default and bounds (seconds)
LINK_TTL = 3600
LINK_TTL_MAX = 24 * 3600
LINK_TTL_MIN = 10

_LINK_PURPOSE = b"bwhelpers sandbox phone link v1"
_FORM_PURPOSE = b"bwhelpers sandbox phone form v1"


def now(db: Database) -> float:
    """The sandbox's clock (:mod:`bwhelpers.sandbox.clock`): link lifetimes and delivery ticks follow it."""
    return clock.now(db)


# -- signed links ---------------------------------------------------------------------------------

def _key(secret: str | None, purpose: bytes) -> bytes:
    if not secret:
        raise LinkInvalid("this sandbox has no key to sign phone links with (start it with an admin key)")
    return hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()


def _mac(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def sign_link(secret: str | None, account_id: str, expires: int) -> str:
    """The token of a link to ``account_id``'s phone valid until ``expires`` (epoch seconds): ``{expires}.{mac}``."""
    return f"{int(expires)}.{_mac(_key(secret, _LINK_PURPOSE), f'{account_id}|{int(expires)}')}"


def link_path(secret: str | None, account_id: str, ttl: int, at: float, number: str | None = None) -> tuple[str, int]:
    """(``/_sandbox/phone/{accountId}?[number=&]t=…``, its expiry): a signed link valid ``ttl`` seconds from ``at``
    (LinkInvalid when the sandbox has no key to sign with)."""
    from urllib.parse import urlencode

    expires = int(at) + int(ttl)
    query = urlencode({**({"number": number} if number else {}), "t": sign_link(secret, account_id, expires)})
    return f"/_sandbox/phone/{account_id}?{query}", expires


def verify_link(secret: str | None, account_id: str, token: str, at: float) -> int:
    """The expiry of a valid token for ``account_id`` at time ``at``; raises LinkInvalid / LinkExpired."""
    expires_text, _, mac = (token or "").partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12 or not mac or len(mac) > 64:
        raise LinkInvalid()
    expires = int(expires_text)
    if not hmac.compare_digest(mac.encode("ascii", "replace"),
                               _mac(_key(secret, _LINK_PURPOSE), f"{account_id}|{expires}").encode("ascii")):
        raise LinkInvalid()
    if at >= expires:
        raise LinkExpired(iso(expires))
    return expires


def form_token(secret: str | None, account_id: str) -> str:
    """The page's form token (CSRF): only a page the account could open carries it."""
    return _mac(_key(secret, _FORM_PURPOSE), account_id)


def check_form_token(secret: str | None, account_id: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(token).encode("utf-8", "replace"),
                                               form_token(secret, account_id).encode("ascii"))


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


# -- what the page shows --------------------------------------------------------------------------

@dataclass
class Tick:
    """The delivery state of a message for one recipient."""

    to: str
    state: str                  #: sent | delivered | failed | received
    code: int | None = None     #: errorCode of message-failed
    description: str = ""       #: the event's description (Bandwidth's name for the outcome)
    callback: str = ""          #: the callback to the application: delivered | pending | failed | not sent


@dataclass
class Bubble:
    """One message in a conversation."""

    id: str
    seq: int
    direction: str              #: in | out
    text: str
    media: list[str]
    time: str                   #: ISO time of the message
    created: float
    ticks: list[Tick] = field(default_factory=list)


@dataclass
class Thread:
    """A conversation of one of the account's numbers with one other party (or a group)."""

    key: str                    #: the other parties, comma-separated (the page's ``with``)
    parties: list[str]
    last_text: str
    last_direction: str
    last_time: float
    count: int
    last_seq: int
    failed: bool = False


def e164(tn: str) -> str:
    return tn if tn.startswith("+") else f"+1{tn}"


def account_numbers(db: Database, account_id: str) -> list[dict[str, Any]]:
    """The account's numbers: in service (with whether a text to them would reach an application), then numbers
    that only appear in the account's newest messages (torn down since)."""
    from ..dashboard import models as dashboard_models

    dashboard_models.settle(db)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in db.query("SELECT tn, peer_id FROM dash_tns WHERE account_id=? AND status='inservice' ORDER BY tn "
                        "LIMIT 200", (account_id,)):
        loc = dashboard_models.location_messaging(db, account_id, row["peer_id"])
        number = e164(row["tn"])
        seen.add(number)
        out.append({"number": number, "in_service": True, "sms": loc["sms"], "mms": loc["mms"],
                    "application_id": loc["application_id"]})
    for row in db.query("SELECT DISTINCT owner FROM (SELECT owner FROM messages WHERE account_id=? "
                        "ORDER BY rowid DESC LIMIT ?) LIMIT 50", (account_id, WINDOW)):
        if row["owner"] not in seen:
            seen.add(row["owner"])
            out.append({"number": row["owner"], "in_service": False, "sms": False, "mms": False,
                        "application_id": None})
    return out


def _parties(row: Any) -> list[str]:
    to = json.loads(row["to_json"] or "[]")
    if row["direction"] == "in":
        return sorted({row["from_tn"], *[t for t in to if t != row["owner"]]})
    return sorted(set(to))


_COLUMNS = "m.rowid AS seq, m.id, m.direction, m.owner, m.from_tn, m.to_json, m.text, m.media_json, m.time, m.created"


def _window(db: Database, account_id: str, number: str) -> list[Any]:
    """The newest :data:`WINDOW` messages of ``number``, newest first, through the messaging area's own indexes
    (sent: ``messages_from``; received: ``message_events_recipient``), so the send path carries no extra index."""
    sent = db.query(f"SELECT {_COLUMNS} FROM messages m WHERE m.account_id=? AND m.from_tn=? AND m.direction<>'in' "
                    "ORDER BY m.rowid DESC LIMIT ?", (account_id, number, WINDOW))
    received = db.query(f"SELECT {_COLUMNS} FROM message_events e JOIN messages m ON m.id=e.message_id "
                        "WHERE e.account_id=? AND e.recipient=? AND e.type='message-received' "
                        "ORDER BY e.id DESC LIMIT ?", (account_id, number, WINDOW))
    return sorted([*sent, *received], key=lambda r: r["seq"], reverse=True)[:WINDOW]


def _events(db: Database, ids: list[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for ev in db.query(f"SELECT e.message_id, e.recipient, e.type, e.error_code, e.description, e.due_at, "
                           f"e.callback_id, o.status AS cb_status FROM message_events e LEFT JOIN callback_outbox o "
                           f"ON o.id=e.callback_id WHERE e.message_id IN ({marks}) ORDER BY e.id", chunk):
            out.setdefault(ev["message_id"], []).append(ev)
    return out


def _callback_state(ev: Any, at: float) -> str:
    if ev["callback_id"] is None:
        return "not sent"
    status = ev["cb_status"]
    if status is None or status == "delivered":  # None: delivered, then pruned by the retention setting
        return "delivered"
    return "failed" if status == "gave-up" else "pending"


def tick(ev: Any, at: float) -> Tick:
    """A recipient's state from its event: the outcome shows once its callback time has come (the ``sent``
    tick until then), as a phone shows the carrier's receipt."""
    if ev["type"] == "message-received":
        state = "received"
    elif at < ev["due_at"]:
        state = "sent"
    else:
        state = "delivered" if ev["type"] == "message-delivered" else "failed"
    return Tick(to=ev["recipient"], state=state, code=ev["error_code"] if state == "failed" else None,
                description=(ev["description"] or "") if state == "failed" else "",
                callback=_callback_state(ev, at))


def view(db: Database, account_id: str, number: str, key: str = "",
         at: float | None = None) -> tuple[list[Thread], list[Bubble]]:
    """The threads of ``number`` (one of ``account_id``'s), newest first, and the conversation with the parties
    ``key`` (comma-separated; "" for none), oldest first: one read of the number's newest messages."""
    at = now(db) if at is None else at
    found: dict[str, Thread] = {}
    newest: dict[str, str] = {}  # thread -> its newest message id
    chosen: list[Any] = []
    for row in _window(db, account_id, number):  # newest first
        parties = _parties(row)
        here = ",".join(parties)
        if here == key and len(chosen) < MAX_BUBBLES:
            chosen.append(row)
        thread = found.get(here)
        if thread is not None:
            thread.count += 1
        elif len(found) < MAX_THREADS:
            text = row["text"] or ("(picture)" if row["media_json"] else "")
            found[here] = Thread(key=here, parties=parties, last_text=text, last_direction=row["direction"],
                                 last_time=row["created"], count=1, last_seq=row["seq"])
            newest[here] = row["id"]
    chosen.reverse()
    events = _events(db, [*newest.values(), *(r["id"] for r in chosen)])
    for here, thread in found.items():
        thread.failed = any(tick(ev, at).state == "failed" for ev in events.get(newest[here], []))
    bubbles = []
    for r in chosen:
        media = json.loads(r["media_json"]) if r["media_json"] else []
        bubbles.append(Bubble(id=r["id"], seq=r["seq"], direction=r["direction"], text=r["text"] or "",
                              media=[m for m in media if isinstance(m, str)], time=r["time"], created=r["created"],
                              ticks=[tick(ev, at) for ev in events.get(r["id"], [])]))
    return list(found.values()), bubbles


def version(items: list[Any]) -> str:
    """A short fingerprint of what a page shows (the polling script reloads when it changes)."""
    doc = json.dumps([asdict(i) for i in items], sort_keys=True, default=str)
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()[:16]


def magic_name(number: str) -> str | None:
    """What a sandbox magic number does (for the thread's header), or None."""
    row = MAGIC_TO_BY_NUMBER.get(number)
    if row is None:
        return None
    return f"sandbox magic number: {row['outcome']}" + (f" {row['errorCode']}" if row.get("errorCode") else "")


_MEANINGS: dict[str, dict[str, str]] | None = None


def meaning(code: Any) -> str:
    """What a message-failed errorCode means: the client's table (``bwhelpers/data/message_error_codes.json``,
    read as data: the sandbox imports nothing of the client), or '' for a code it does not list."""
    global _MEANINGS
    if _MEANINGS is None:
        from importlib.resources import files

        _MEANINGS = json.loads(files("bwhelpers").joinpath("data/message_error_codes.json").read_text("utf-8"))
    row = _MEANINGS.get(str(code))
    return row["meaning"] if row else ""


# -- pictures ---------------------------------------------------------------------------------------

#: picture types the page shows inline (raster images: an SVG or HTML file is offered as a download instead)
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/pjpeg", "image/gif", "image/webp", "image/bmp"})


@dataclass
class Attachment:
    """A ``media`` URL of a message, as the page shows it."""

    url: str
    kind: str                   #: image | file | missing | foreign | external
    media_id: str = ""
    name: str = ""
    content_type: str = ""
    size: int = 0


def attachments(db: Database, account_id: str, urls: list[str], own_hosts: frozenset[str]) -> list[Attachment]:
    """What each media URL is: one of the account's stored files on this service (``image`` shown inline, else a
    ``file`` to download; ``missing`` when deleted), another account's (``foreign``: never shown), or a URL
    elsewhere (``external``: linked, never loaded by the page)."""
    from ..media import models as media_models

    out = []
    for url in urls:
        parsed = media_models.parse_media_url(url)
        if parsed is None or ("*" not in own_hosts and parsed[0] not in own_hosts
                              and parsed[0] != media_models.BANDWIDTH_HOST):
            out.append(Attachment(url, "external", name=url.rsplit("/", 1)[-1][:80]))
            continue
        _host, owner, media_id = parsed
        name = media_id.rsplit("/", 1)[-1][:80]
        if owner != account_id:
            out.append(Attachment(url, "foreign", name=name))
            continue
        found = media_models.get_media(db, account_id, media_id, content=False)
        if found is None:
            out.append(Attachment(url, "missing", media_id, name))
            continue
        kind = "image" if media_models.normalize_type(found.content_type) in INLINE_TYPES else "file"
        out.append(Attachment(url, kind, media_id, name, found.content_type, found.size))
    return out
