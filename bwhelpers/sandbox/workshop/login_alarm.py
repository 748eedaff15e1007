"""The room's login alarm: what the hub's authenticator tells the host's board about guessing at the login form.

The hub's authenticator (``bwhelpers.workshop_auth.WorkshopAuthenticator``, in the hub's process) writes the alarm
into :data:`FILENAME` beside the sandbox's db (the state dir, which both share) while failed logins from many
addresses have used up the room's allowance; the board (:mod:`.board`) shows it while it is fresh. One small JSON
object, replaced whole (``os.replace``): ``since`` and ``last`` (Unix times: the alarm's start and its latest
refused or failed login), ``failures`` and ``addresses`` (failed logins, and how many addresses sent them, in the
last :data:`WINDOW` seconds) and ``refused`` (logins refused room-wide since the alarm started).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from bwhelpers.sandbox.workshop import room_files

FILENAME = "login-alarm.json"
#: seconds of failed logins the alarm counts, and how long the board shows it after its latest refusal
WINDOW = 600.0
_MAX_BYTES = 4096


def path_beside(db_path: str | os.PathLike[str]) -> Path:
    """Where the alarm of the hub whose sandbox db is ``db_path`` is kept."""
    return Path(db_path).with_name(FILENAME)


def write(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Replace the alarm at ``path`` with ``record`` (errors are the caller's to log)."""
    room_files.replace(path, record)


def read(path: str | os.PathLike[str], now: float | None = None) -> dict[str, Any] | None:
    """The alarm at ``path`` while it is fresh (its latest refusal within :data:`WINDOW`), else None."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
        record = json.loads(raw) if len(raw) <= _MAX_BYTES else None
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    try:
        fields = {k: float(record[k]) for k in ("since", "last")} | {
            k: int(record[k]) for k in ("failures", "addresses", "refused")}
    except (KeyError, TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return fields if 0 <= now - fields["last"] < WINDOW else None


def describe(alarm: dict[str, Any]) -> str:
    """The alarm in the host's words (one sentence, no markup)."""
    since = time.strftime("%H:%M:%S", time.localtime(alarm["since"]))
    last = time.strftime("%H:%M:%S", time.localtime(alarm["last"]))
    return (f"Login alarm since {since}: {alarm['failures']} failed logins from {alarm['addresses']} addresses in "
            f"the last {int(WINDOW // 60)} minutes (latest {last}). Logins from addresses that have not logged in "
            f"before are refused while the guessing goes on ({alarm['refused']} so far); participants already in "
            "are not affected. The hub's log names the addresses.")
