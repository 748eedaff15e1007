"""Whole numbers read from query strings and bodies: ASCII digits only, within a range that SQLite can hold.

``str.isdigit`` accepts ``"²"`` (``int`` refuses it) and any number of digits (``int`` refuses more than 4,300; SQLite
more than 2**63 - 1): each was a 500 with a traceback (issue 23, N7). :func:`whole_number` answers None for every
such value, so the caller raises its own API's 400 naming the field.
"""
from __future__ import annotations

import re

#: the largest integer SQLite stores (and binds: a larger Python int raises OverflowError)
SQLITE_MAX = 2 ** 63 - 1

_DIGITS = re.compile(r"[0-9]{1,19}")


def whole_number(raw: str | None, low: int = 0, high: int = SQLITE_MAX) -> int | None:
    """``raw`` as an int when it is 1-19 ASCII digits with a value from ``low`` to ``high``, else None."""
    if raw is None or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= min(high, SQLITE_MAX) else None


def page_number(raw: str | None, size: int) -> int | None:
    """A page number from 1 whose first row's offset, ``(page - 1) * size``, SQLite can hold, else None."""
    return whole_number(raw, 1, SQLITE_MAX // max(1, size) + 1)
