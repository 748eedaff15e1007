"""The receiver's durable storage: every accepted event once (sqlite, committed before the 2xx answer).

An event is stored under :func:`bwhelpers.events.event_key`, so Bandwidth's at-least-once redeliveries are kept
once. Refused requests (401 without or with wrong credentials, 413, 400) are counted in ``rejections``, never
stored as events.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..events import event_key

__all__ = ["EventStore", "default_db_path", "MAX_EVENTS"]

#: events kept; the oldest are pruned beyond this (callbacks are personal data: the store stays bounded)
MAX_EVENTS = 100_000
#: refused requests kept (the newest), for the status counts
MAX_REJECTIONS = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    received_at REAL NOT NULL,
    path TEXT NOT NULL,
    type TEXT,
    message_id TEXT,
    recipient TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_message ON events (message_id);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    path TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    events INTEGER NOT NULL,
    new INTEGER NOT NULL
);
"""


def default_db_path() -> Path:
    """``$BW_RECEIVER_DB``, else ``receiver.db`` in the user's config folder (beside its credentials)."""
    from ..paths import config_dir

    env = os.environ.get("BW_RECEIVER_DB")
    return Path(env).expanduser() if env else config_dir() / "receiver.db"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d}Z"


class EventStore:
    """One sqlite file (WAL, synchronous FULL: an acknowledged event survives a crash of the process)."""

    def __init__(self, path: str | os.PathLike[str], max_events: int = MAX_EVENTS):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # personal data: this user only
        os.close(fd)
        self.max_events = max_events
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, events: list[dict[str, Any]], path: str) -> tuple[int, int]:
        """Store ``events`` (one transaction, committed on return); (new, duplicates)."""
        now = time.time()
        new = 0
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for ev in events:
                    msg: dict[str, Any] = ev["message"] if isinstance(ev.get("message"), dict) else {}
                    cur = self._conn.execute(
                        "INSERT OR IGNORE INTO events (key, received_at, path, type, message_id, recipient, body) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (event_key(ev), now, path, str(ev.get("type") or ""), str(msg.get("id") or "") or None,
                         str(ev.get("to") or "") or None, json.dumps(ev)))
                    new += cur.rowcount
                self._conn.execute("INSERT INTO deliveries (time, events, new) VALUES (?,?,?)",
                                   (now, len(events), new))
                if new:
                    self._prune()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return new, len(events) - new

    def _prune(self) -> None:
        row = self._conn.execute("SELECT MAX(id) FROM events").fetchone()
        top = int(row[0] or 0)
        if top > self.max_events:
            self._conn.execute("DELETE FROM events WHERE id <= ?", (top - self.max_events,))
        self._conn.execute("DELETE FROM rejections WHERE id <= (SELECT MAX(id) FROM rejections) - ?", (MAX_REJECTIONS,))
        self._conn.execute("DELETE FROM deliveries WHERE id <= (SELECT MAX(id) FROM deliveries) - 1000")

    def reject(self, status: int, reason: str, path: str) -> None:
        """Count a refused request; only the newest :data:`MAX_REJECTIONS` are kept (a stranger flooding a public
        tunnel URL with refused POSTs must not grow the file without end)."""
        with self._lock:
            cur = self._conn.execute("INSERT INTO rejections (time, status, reason, path) VALUES (?,?,?,?)",
                                     (time.time(), status, reason, path))
            self._conn.execute("DELETE FROM rejections WHERE id <= ?", (int(cur.lastrowid or 0) - MAX_REJECTIONS,))

    def events(self, after: int = 0, limit: int = 500, message_id: str | None = None) -> list[dict[str, Any]]:
        """Stored events with ``id > after``, oldest first; each is Bandwidth's event plus ``_id``,
        ``_received_at`` and ``_path``."""
        sql, args = "SELECT * FROM events WHERE id > ?", list[Any]([after])
        if message_id:
            sql += " AND message_id = ?"
            args.append(message_id)
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        out = []
        for r in rows:
            ev = json.loads(r["body"])
            ev.update({"_id": r["id"], "_received_at": _iso(r["received_at"]), "_path": r["path"]})
            out.append(ev)
        return out

    def stats(self) -> dict[str, Any]:
        """How many events are stored, when the last arrived, and why requests were refused."""
        with self._lock:
            count, last = self._conn.execute("SELECT COUNT(*), MAX(received_at) FROM events").fetchone()
            rejected = {r["reason"]: r["n"] for r in self._conn.execute(
                "SELECT reason, COUNT(*) AS n FROM rejections GROUP BY reason")}
            last_rej = self._conn.execute("SELECT * FROM rejections ORDER BY id DESC LIMIT 1").fetchone()
            deliveries = self._conn.execute("SELECT COUNT(*), MAX(time) FROM deliveries").fetchone()
        return {"events": int(count or 0), "last_event_at": _iso(last) if last else None,
                "last_event_age": (time.time() - last) if last else None,
                "deliveries": int(deliveries[0] or 0),
                "rejected": rejected,
                "last_rejected": None if last_rej is None else {
                    "time": _iso(last_rej["time"]), "status": last_rej["status"], "reason": last_rej["reason"]}}
