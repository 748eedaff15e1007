"""The room's login alarm: what the hub's authenticator tells the host's board about guessing at the login form.

The hub's authenticator (``bwhelpers.workshop_auth.WorkshopAuthenticator``, in the hub's process) writes the alarm
into :data:`FILENAME` beside the sandbox's db (the state dir, which both share) while failed logins from many
addresses have used up the room's allowance; the board (:mod:`.board`) shows it while it is fresh. One small JSON
object, replaced whole (``os.replace``): ``since`` and ``last`` (Unix times: the alarm's start and its latest
refused or failed login), ``failures`` and ``addresses`` (failed logins, and how many addresses sent them, in the
last :data:`WINDOW` seconds) and ``refused`` (logins refused room-wide since the alarm started).
"""
from __future__ import annotations

from typing import Any

from bwhelpers.sandbox.workshop import room_files

FILENAME = "login-alarm.json"
#: seconds of failed logins the alarm counts, and how long the board shows it after its latest refusal
WINDOW = 600.0
ALARM = room_files.AlarmFile(FILENAME, "failures", WINDOW)

#: where the alarm of the hub whose sandbox db is ``db_path`` is kept (``path_beside(db_path)``); the alarm at
#: ``path`` while it is fresh, its latest refusal within :data:`WINDOW`, else None (``read(path, now=None)``); replace
#: the alarm at ``path`` with ``record``, errors the caller's to log (``write(path, record)``)
path_beside, read, write = ALARM.path_beside, ALARM.read, room_files.replace


def describe(alarm: dict[str, Any]) -> str:
    """The alarm in the host's words (one sentence, no markup)."""
    since, last = room_files.alarm_times(alarm)
    return (f"Login alarm since {since}: {alarm['failures']} failed logins from {alarm['addresses']} addresses in "
            f"the last {int(WINDOW // 60)} minutes (latest {last}). Logins from addresses that have not logged in "
            f"before are refused while the guessing goes on ({alarm['refused']} so far); participants already in "
            "are not affected. The hub's log names the addresses.")
