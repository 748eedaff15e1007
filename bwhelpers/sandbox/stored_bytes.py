"""
bwhelpers.sandbox.stored_bytes
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

How many bytes each account stores, kept by the db itself, so the ``stored_bytes`` quota
(:mod:`bwhelpers.sandbox.quotas`) is one primary-key read whatever the account holds.

SQLite triggers on every table of an account's data (:func:`owned`: each table with an ``account_id`` column
but the sandbox's own bookkeeping of :data:`NOT_COUNTED`, and the bins, keyed by name) add a row's size to
``account_bytes.bytes`` when it is inserted, and take it off when it is deleted or replaced: every
writer (each API, the callback dispatcher, retention pruning, a reset, another process on the same db)
is counted, and nothing else has to remember to. A row's size is the bytes of its text and blob columns
plus :data:`ROW_OVERHEAD`.

The triggers exist only while the quota is set (workshop mode sets it; :func:`sync` after a settings
change): a local sandbox without the quota pays nothing on its write path. When they are (re)installed,
the counts are recomputed from the tables in the same transaction.
"""
from __future__ import annotations

import hashlib
from typing import Any

from .db import Database, register_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS account_bytes (
    account_id TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL
)
"""
register_schema(SCHEMA)

#: bytes counted per row on top of its text and blob columns (ids, numbers, the row's own bookkeeping)
ROW_OVERHEAD = 64
#: the tables whose rows belong to an account by their ``name`` (``"<account>/<bin>"``), not an ``account_id``
#: column, and the SQL of that account (``{row}`` is NEW, OLD or the table)
BY_NAME: dict[str, str] = {
    "bin_requests": "substr({row}.name, 1, instr({row}.name, '/') - 1)",
    "request_bins": "substr({row}.name, 1, instr({row}.name, '/') - 1)",
}
#: the tables with an ``account_id`` column that are NOT counted, and why: the sandbox writes them, a fixed size
#: per account (the account itself, its counters, its bounded error log), never what a tenant sends
NOT_COUNTED: dict[str, str] = {
    "accounts": "the account itself: one row, made by the sandbox",
    "inventory_slots": "the account's block of the number inventory: one row, made by the sandbox",
    "account_bytes": "this count",
    "message_counts": "a counter row",
    "rate_windows": "a counter row",
    "workshop_participants": "the workshop's own row of the participant",
    "workshop_errors": "the board's error log, 20 rows per account of at most 300 characters",
}
PREFIX = "bytes_"
META_KEY = "account_bytes_triggers"


def _size(columns: list[str], row: str) -> str:
    parts = [f"COALESCE(length(CAST({row}.\"{c}\" AS BLOB)), 0)" for c in columns]
    return f"({ROW_OVERHEAD} + {' + '.join(parts) if parts else '0'})"


def _add(account: str, size: str) -> str:
    return (f"INSERT INTO account_bytes (account_id, bytes) VALUES ({account}, {size}) "
            "ON CONFLICT(account_id) DO UPDATE SET bytes = bytes + excluded.bytes;")


def _take(account: str, size: str) -> str:
    return f"UPDATE account_bytes SET bytes = bytes - {size} WHERE account_id = {account};"


def owned(conn: Any) -> dict[str, str]:
    """Every table of this db holding an account's data, and the SQL of the account a row belongs to (``{row}``):
    each table with an ``account_id`` column (except :data:`NOT_COUNTED`) and the :data:`BY_NAME` ones. Found in
    the db itself, so a new table of tenant data is counted (and emptied by a reset) without a list to extend."""
    out: dict[str, str] = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                                 "ORDER BY name"):
        if table in BY_NAME:
            out[table] = BY_NAME[table]
        elif table not in NOT_COUNTED and "account_id" in {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}:
            out[table] = "{row}.account_id"
    return out


def _triggers(conn: Any) -> dict[str, tuple[str, str]]:
    """name -> (trigger DDL, the backfill statement of its table) for the tables this db has."""
    out: dict[str, tuple[str, str]] = {}
    for table, account in owned(conn).items():
        cols = [(r[1], str(r[2] or "").upper()) for r in conn.execute(f'PRAGMA table_info("{table}")')]
        sized = [name for name, kind in cols if kind in ("TEXT", "BLOB", "")]
        new, old = account.format(row="NEW"), account.format(row="OLD")
        size_new, size_old = _size(sized, "NEW"), _size(sized, "OLD")
        plain = account.format(row=f'"{table}"')
        backfill = (f"INSERT INTO account_bytes (account_id, bytes) SELECT {plain}, SUM({_size(sized, table)}) "
                    f'FROM "{table}" WHERE true GROUP BY 1 '
                    "ON CONFLICT(account_id) DO UPDATE SET bytes = bytes + excluded.bytes")
        watched = ", ".join(f'"{c}"' for c in sized)
        out[f"{PREFIX}{table}_ins"] = (
            f'CREATE TRIGGER "{PREFIX}{table}_ins" AFTER INSERT ON "{table}" BEGIN {_add(new, size_new)} END',
            backfill)
        out[f"{PREFIX}{table}_del"] = (
            f'CREATE TRIGGER "{PREFIX}{table}_del" AFTER DELETE ON "{table}" BEGIN {_take(old, size_old)} END', "")
        if sized:
            out[f"{PREFIX}{table}_upd"] = (
                f'CREATE TRIGGER "{PREFIX}{table}_upd" AFTER UPDATE OF {watched} ON "{table}" BEGIN '
                f"{_take(old, size_old)} {_add(new, size_new)} END", "")
    return out


def sync(db: Database, on: bool) -> None:
    """Install the triggers (and recount every account) when ``on`` and they are missing or out of date; drop
    them when not ``on``."""
    with db.transaction() as conn:
        wanted = _triggers(conn) if on else {}
        signature = hashlib.sha256("\n".join(ddl for ddl, _ in wanted.values()).encode()).hexdigest() if on else ""
        have = {r[0]: r[1] for r in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND name LIKE ?", (PREFIX + "%",))}
        row = conn.execute("SELECT value FROM meta WHERE key=?", (META_KEY,)).fetchone()
        if (row[0] if row else "") == signature and set(have) == set(wanted):
            return
        for name in have:
            conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        conn.execute("DELETE FROM account_bytes")
        conn.execute("DELETE FROM meta WHERE key=?", (META_KEY,))
        if not on:
            return
        for ddl, backfill in wanted.values():
            if backfill:
                conn.execute(backfill)
            conn.execute(ddl)
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (META_KEY, signature))


def of(db: Database, account_id: str) -> int:
    """The bytes ``account_id`` stores (0 when nothing is counted)."""
    row = db.query_one("SELECT bytes FROM account_bytes WHERE account_id=?", (account_id,))
    return max(0, int(row["bytes"])) if row is not None else 0
