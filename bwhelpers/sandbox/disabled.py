"""
bwhelpers.sandbox.disabled
~~~~~~~~~~~~~~~~~~~~~~~~~~

Accounts the operator disabled (``accounts.disabled``: when, or NULL): a workshop's host removing a participant
(:mod:`bwhelpers.sandbox.workshop`, issue 23 rev23e E6). Every credential of a disabled account is refused at once,
each check reading the row or the db's cache of it: its API user (Basic), the guide's token:secret, its API credentials
(the token endpoint, and access tokens issued before), and its phone page's signed links. The refusal says why only
to whoever presents the right secret, so the flag tells a guesser nothing. A Bearer token's check reads the flag
through the db's cache of derived values (``accounts`` is a cached table: any write to it, from this connection or
another, drops the cache before the next read), so a disable counts at once and a send pays no extra query.
"""
from __future__ import annotations

from collections.abc import Iterable

from . import clock
from .db import Database, register_cached_table

register_cached_table("accounts")  # any_disabled: a disable (or any other write to accounts) drops the cached answer

#: the 401 text for a right credential of a disabled account (the sandbox's own wording)
REASON = ("This account was disabled by the workshop's host (the participant was removed from the room): its "
          "credentials no longer work; ask the host if this is a mistake")


class AccountDisabled(Exception):
    """A right credential of a disabled account (the caller answers 401 with :data:`REASON`)."""

    def __init__(self) -> None:
        super().__init__(REASON)
        self.reason = REASON


def any_disabled(db: Database, account_ids: Iterable[str]) -> bool:
    """Is any of ``account_ids`` disabled? (Cached with the accounts table, which a disable writes: it counts at
    once.)"""
    ids = tuple(str(a) for a in account_ids)
    if not ids:
        return False
    return db.derived(("disabled", ids), lambda: _any_disabled(db, ids), table="accounts")


def _any_disabled(db: Database, ids: tuple[str, ...]) -> bool:
    marks = ",".join("?" * len(ids))
    return db.query_one(f"SELECT 1 FROM accounts WHERE account_id IN ({marks}) AND disabled IS NOT NULL",
                        ids) is not None


def set_disabled(db: Database, account_id: str, disabled: bool) -> None:
    """Disable ``account_id`` (from the sandbox clock's now) or enable it again."""
    db.execute("UPDATE accounts SET disabled=? WHERE account_id=?",
               (clock.now(db) if disabled else None, account_id))
