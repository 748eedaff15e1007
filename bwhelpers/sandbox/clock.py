"""
bwhelpers.sandbox.clock
~~~~~~~~~~~~~~~~~~~~~~~

Time as the sandbox's models see it: :func:`now`. Every lifetime and delay of the emulated service reads it
(access-token lifetimes, order and A2P transitions, the messaging rate window, callback delivery delays and
retries, retention, timestamps of created objects), so tests and demos can freeze and advance time instead of
sleeping, as moto's managed state does.

The clock lives in the db's ``meta`` table (key ``clock``), shared by every process on the db:
``{"frozen_at": null, "offset": 0}`` is the wall clock; ``offset`` shifts it; ``frozen_at`` stops it there.
``/_sandbox/clock`` (admin) reads it and freezes, advances, sets, resumes or goes back to the wall clock; it is the
one way to change it. ``/_sandbox/reset`` does not turn time back (like the JWT signing key, the clock survives a
reset): tokens and objects made before a reset stay "before" it. Setting the time back (``at``, ``wall``) is the
caller's choice, with what it implies (a token issued at a later time than the new one stays valid until its
``exp``).

Not on this clock: what coordinates processes and connections (callback claims, HTTP timeouts, the server's
uptime), which must follow real time.
"""
from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone
from typing import Any

from .db import Database, owner

#: the key of the clock's state in the ``meta`` table
KEY = "clock"
#: the clock's default state: the wall clock
WALL: dict[str, Any] = {"frozen_at": None, "offset": 0.0}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def valid(value: object) -> bool:
    """Is ``value`` a clock setting ``{"frozen_at": seconds | null, "offset": seconds}``?"""
    return isinstance(value, dict) and set(value) <= {"frozen_at", "offset"} \
        and (value.get("frozen_at") is None or _number(value["frozen_at"]) and value["frozen_at"] >= 0) \
        and _number(value.get("offset", 0.0))


def read(state: Any) -> float:
    """The time a clock setting shows now."""
    if not valid(state):
        return time.time()
    if state.get("frozen_at") is not None:
        return float(state["frozen_at"])
    return time.time() + float(state.get("offset") or 0.0)


def state(db: Database | sqlite3.Connection) -> Any:
    """The clock's stored state (None: the wall clock); ``db`` may be a connection inside a transaction."""
    if not isinstance(db, Database):
        # a connection inside a transaction: its Database's cache when it has one (a write to meta in this
        # transaction drops it, and what it reads after is not kept)
        found = owner(db)
        if found is None or found.connect() is not db:
            return _read_row(db)
        db = found
    # parsed once, cached until the meta table changes (the caller must not change it)
    return db.settings_derived(("clock",), lambda: _parse(db.meta_value(KEY)))


def _read_row(db: sqlite3.Connection) -> Any:
    """The stored state read from the table itself (a read-modify-write in a transaction)."""
    row = db.execute("SELECT value FROM meta WHERE key=?", (KEY,)).fetchone()
    return json.loads(row[0]) if row is not None else None


def _parse(raw: str | None) -> Any:
    return json.loads(raw) if raw is not None else None


def now(db: Database | sqlite3.Connection) -> float:
    """The sandbox's time (epoch seconds); ``db`` may be a connection inside a transaction."""
    return read(state(db))


def describe(current: Any) -> dict[str, Any]:
    """The answer of ``GET /_sandbox/clock`` for the stored state ``current``."""
    shown = read(current)
    clean = current if valid(current) else WALL
    return {"now": shown, "iso": iso(shown), "frozen": clean.get("frozen_at") is not None,
            "offset": round(shown - time.time(), 6) if clean.get("frozen_at") is not None
            else float(clean.get("offset") or 0.0)}


def change(db: Database, *, freeze: bool | None = None, advance: float = 0.0, at: float | None = None,
           wall: bool = False) -> dict[str, Any]:
    """Change the clock atomically and return :func:`describe` of the new state.

    ``wall`` goes back to the wall clock; ``at`` sets the time; ``advance`` moves it forward (seconds, may be
    fractional); ``freeze`` True stops it (at the time it shows after ``at``/``advance``), False lets it run on
    from the time it shows. Unchanged parts keep their state (a frozen clock advanced stays frozen).
    """
    with db.transaction() as conn:
        current = _read_row(conn)
        if wall or not valid(current):
            current = dict(WALL)
        if freeze is not None or at is not None or advance:
            frozen = current.get("frozen_at") is not None if freeze is None else freeze
            target = (float(at) if at is not None else read(current)) + float(advance)
            current = {"frozen_at": target, "offset": 0.0} if frozen else \
                {"frozen_at": None, "offset": target - time.time()}
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (KEY, json.dumps(current)))
    return describe(current)


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> the Dashboard's ``2017-09-07T02:33:39.201Z`` (None stays None)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
