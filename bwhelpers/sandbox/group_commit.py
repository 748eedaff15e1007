"""
bwhelpers.sandbox.group_commit
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Group commit: the writes of concurrent requests in one SQLite transaction.

A handler that must answer only once its writes are durable (``POST /messages``: every 202 is in the db)
``await``\\s :func:`submit` with a function of the connection. The writes submitted while the event loop runs one
round of callbacks are applied in one ``BEGIN IMMEDIATE … COMMIT`` on the loop's thread; when one of them raises,
the group is rolled back and applied again with each write in a savepoint of its own (the one that raises is rolled
back alone and its caller gets the exception; the others commit). Each caller resumes after the ``COMMIT`` returned, so nothing is answered before it is stored: a ``kill -9`` loses only writes
whose requests were never answered. One commit (and one copy of each touched page in the WAL) serves the whole
group instead of one per request.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .db import Database

T = TypeVar("T")

log = logging.getLogger("bwhelpers.sandbox.group_commit")

#: the most writes in one transaction (a longer queue commits in several)
MAX_GROUP = 256


class _Group:
    """The writes waiting for the next commit of one db on one event loop (thread)."""

    def __init__(self, db: Database, loop: asyncio.AbstractEventLoop) -> None:
        self.db, self.loop = db, loop
        self.pending: list[tuple[Callable[[Any], Any], asyncio.Future[Any]]] = []
        self.scheduled = False

    def add(self, write: Callable[[Any], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = self.loop.create_future()
        self.pending.append((write, future))
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)
        return future

    def flush(self) -> None:
        batch, self.pending = self.pending[:MAX_GROUP], self.pending[MAX_GROUP:]
        self.scheduled = bool(self.pending)
        if self.pending:
            self.loop.call_soon(self.flush)
        try:
            results = self._apply(batch, isolate=False)
        except _WriteFailed:  # one write raised: the group again, each write in a savepoint of its own
            try:
                results = self._apply(batch, isolate=True)
            except Exception as exc:
                self._fail(batch, exc)
                return
        except Exception as exc:
            self._fail(batch, exc)
            return
        for future, error, value in results:
            if future.done():  # the caller went away (cancelled): its write is stored all the same
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

    def _apply(self, batch: list[tuple[Callable[[Any], Any], asyncio.Future[Any]]], isolate: bool
               ) -> list[tuple[asyncio.Future[Any], BaseException | None, Any]]:
        """The writes in one transaction. Without ``isolate`` the first write that raises rolls the whole group back
        (:class:`_WriteFailed`); with it, each write is in a savepoint of its own and one that raises is rolled
        back alone."""
        results: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        with self.db.transaction() as conn:
            for write, future in batch:
                if not isolate:
                    try:
                        results.append((future, None, write(conn)))
                    except Exception as exc:
                        raise _WriteFailed() from exc
                    continue
                conn.execute("SAVEPOINT group_write")
                try:
                    value = write(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO group_write")
                    results.append((future, exc, None))
                else:
                    results.append((future, None, value))
                conn.execute("RELEASE group_write")
        return results

    @staticmethod
    def _fail(batch: list[tuple[Callable[[Any], Any], asyncio.Future[Any]]], exc: BaseException) -> None:
        """BEGIN or COMMIT failed: nothing of the group is stored, every caller hears it."""
        log.error("group commit of %d writes failed", len(batch), exc_info=exc)
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)


class _WriteFailed(Exception):
    """A write of a group raised: the group is rolled back and applied again with a savepoint per write."""


def submit(db: Database, write: Callable[[Any], T]) -> asyncio.Future[T]:
    """Apply ``write(conn)`` in the next group transaction of ``db`` on the running loop; the future resolves
    (with what ``write`` returned, or its exception) once that transaction has committed."""
    loop = asyncio.get_running_loop()
    groups: dict[int, _Group] = db.thread_state("group_commit", dict)
    group = groups.get(id(loop))
    if group is None or group.loop is not loop:
        group = groups[id(loop)] = _Group(db, loop)
    return group.add(write)
