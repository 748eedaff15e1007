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
#: the Media API's list (Bandwidth's: "at most 1000 files", then a ``Continuation-Token``): 1,000 files of ids up
#: to about 60 characters still fit one page, 1 KB ids about 120 (rev23c C3: 2.1 MB pages held the room)
MEDIA_PAGE_BYTES = 4 * PAGE_BYTES


#: what :func:`row_bytes` counts at least for a row: a page never holds more than PAGE_BYTES // MIN_ROW_BYTES + 1
#: rows, so a query need read no more
MIN_ROW_BYTES = 200


def row_bytes(row: Any) -> int:
    """What a stored row adds to an answer, roughly: its values as text, and some room for the keys around them."""
    return MIN_ROW_BYTES + sum(len(str(value)) for value in tuple(row) if value is not None)


def newest(rows: Iterable[Any], limit: int, cost: Callable[[Any], int] = row_bytes,
           budget: int = PAGE_BYTES) -> tuple[list[Any], bool]:
    """The page of ``rows`` (newest first, as read from a cursor): at most ``limit`` of them, stopping before
    they would pass ``budget`` bytes of answer (:data:`PAGE_BYTES`; but at least one); and whether more rows are
    left. (An answer of two lists, ``/_sandbox/callbacks``' log and outbox, is at most twice that.)"""
    page: list[Any] = []
    size = 0
    for row in rows:
        added = cost(row)
        if len(page) >= limit or (page and size + added > budget):
            return page, True
        page.append(row)
        size += added
    return page, False
