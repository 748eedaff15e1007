"""
bwhelpers.sandbox.faults
~~~~~~~~~~~~~~~~~~~~~~~~

Fault injection for client tests: the ``fail_next`` setting (``{"status": 503, "count": 2, "retry_after": 1,
"methods": [...]}``) makes the next ``count`` requests to the emulated APIs fail with ``status``.
"""
from __future__ import annotations

import json
from typing import Any

from .db import Database


def take(db: Database, method: str | None) -> dict[str, Any] | None:
    """The pending fault for a request with ``method``, counted down by one (atomically across processes), or
    None when no fault is pending for it."""
    fault = db.get_setting("fail_next")
    if not fault or int(fault.get("count", 0)) <= 0:
        return None
    methods = fault.get("methods")
    if methods and method not in methods:
        return None
    with db.transaction() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key='fail_next'").fetchone()
        current = json.loads(row["value"]) if row else None
        if not current or int(current.get("count", 0)) <= 0:
            return None
        current["count"] = int(current["count"]) - 1
        conn.execute("UPDATE settings SET value=? WHERE key='fail_next'", (json.dumps(current),))
    return dict(fault)
