"""
bwhelpers.sandbox.paging
~~~~~~~~~~~~~~~~~~~~~~~~

Every list page of the control plane is bounded in bytes as well as in items.

An answer is built and JSON-encoded on the one event loop while every other tenant's requests wait, so a page
stops once its answer would pass about :data:`PAGE_BYTES` (a couple of milliseconds of work), however many items
were asked for; it always holds at least one item. Its ``next`` cursor says where the older items continue, and
the client follows it (bwhelpers.sandbox_control). Review 23b N2: 1,000 messages of 2,048 characters made one
2.7 MB page of ``/_sandbox/messages`` that stalled the room while it was read.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

#: the size of one page's answer at which it stops (bins, messages, callbacks)
PAGE_BYTES = 64 * 1024


def row_bytes(row: Any) -> int:
    """What a stored row adds to an answer, roughly: its values as text, and some room for the keys around them."""
    return 200 + sum(len(str(value)) for value in tuple(row) if value is not None)


def newest(rows: Iterable[Any], limit: int, cost: Callable[[Any], int] = row_bytes) -> tuple[list[Any], bool]:
    """The page of ``rows`` (newest first, as read from a cursor): at most ``limit`` of them, stopping before
    they would pass :data:`PAGE_BYTES` of answer (but at least one); and whether older rows are left. (An answer
    of two lists, ``/_sandbox/callbacks``' log and outbox, is at most twice that.)"""
    page: list[Any] = []
    size = 0
    for row in rows:
        added = cost(row)
        if len(page) >= limit or (page and size + added > PAGE_BYTES):
            return page, True
        page.append(row)
        size += added
    return page, False
