"""
bwhelpers.sandbox.clock
~~~~~~~~~~~~~~~~~~~~~~~

Time as the sandbox's models see it, and its wire formats.
"""
from __future__ import annotations

from datetime import datetime, timezone


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> the Dashboard's ``2017-09-07T02:33:39.201Z`` (None stays None)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
