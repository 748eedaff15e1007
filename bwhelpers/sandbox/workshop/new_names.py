"""The host's switch that closes the room to new names (review 23f F4), shared by the board and the hub.

With the room password anyone logs in under any name, and each name's first spawn is a new sandbox account that
takes a place in ``max_participants``. While the room is **closed to new names**, the hub's authenticator
(``bwhelpers.workshop_auth.WorkshopAuthenticator``, in the hub's process) refuses a login under a name the hub does
not know yet (403, saying so), and the service refuses to provision an account for a name that has none (403):
everyone already in (a hub user, an account) logs in and spawns as before.

The switch is one small JSON file beside the sandbox's db (the state dir both share), :data:`FILENAME`, written by
the board's route (``POST /room/close``, ``/room/open``) and read by both: ``{"since": <Unix time>, "by": <name>}``
while closed; no file while open. Replaced whole (``os.replace``), mode 0600.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from bwhelpers.sandbox.workshop import room_files

FILENAME = "room-closed.json"
_MAX_BYTES = 4096


def path_beside(db_path: str | os.PathLike[str]) -> Path:
    """Where the switch of the hub whose sandbox db is ``db_path`` is kept."""
    return Path(db_path).with_name(FILENAME)


def close(path: str | os.PathLike[str], by: str, now: float | None = None) -> dict[str, Any]:
    """Close the room to new names (kept as it is when closed already); returns the switch's record."""
    found = closed(path)
    if found is not None:
        return found
    record = {"since": time.time() if now is None else float(now), "by": str(by)[:100]}
    room_files.replace(path, record)
    return record


#: when the host last opened the room again (``{"at": <Unix time>}``): the hub's authenticator then gives the room
#: its whole allowance of new names back and ends the new-names alarm (rev23h H5)
REOPENED_FILENAME = "room-reopened.json"


def reopen(path: str | os.PathLike[str], now: float | None = None) -> None:
    """Open the room to new names again (and say when, :func:`reopened`)."""
    room_files.remove(path)
    room_files.replace(Path(path).with_name(REOPENED_FILENAME), {"at": time.time() if now is None else float(now)})


def reopened(path: str | os.PathLike[str] | None) -> float | None:
    """When the host last opened the room whose switch is at ``path`` again, or None."""
    if not path:
        return None
    try:
        with open(Path(path).with_name(REOPENED_FILENAME), "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
        record: Any = json.loads(raw) if len(raw) <= _MAX_BYTES else {}
        return float(record["at"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def closed(path: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """``{"since", "by"}`` while the room is closed to new names, else None. A file that cannot be read as the
    switch (damaged, too big) counts as closed: the host opens the room again from the board."""
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError:
        return {"since": 0.0, "by": "?"}
    try:
        record: Any = json.loads(raw) if len(raw) <= _MAX_BYTES else {}
        return {"since": float(record["since"]), "by": str(record["by"])[:100]}
    except (ValueError, TypeError, KeyError):
        return {"since": 0.0, "by": "?"}


def describe(record: dict[str, Any]) -> str:
    """The closed room in the host's words (one sentence, no markup)."""
    since = time.strftime("%H:%M", time.localtime(record["since"])) if record["since"] else "?"
    return (f"Closed to new names since {since} (by {record['by']}): a login under a name the hub does not know is "
            "refused, and no new sandbox account is made; everyone already in logs in and starts their server as "
            "before.")


# -- the new-names alarm (rev23h H5) ------------------------------------------------------------------------------
#
# The hub's authenticator bounds new names per client address and room-wide (a burst, then a refill rate). While the
# room-wide allowance is used up it refuses new names (the join link's browsers aside) and writes the alarm into
# ALARM_FILENAME beside the db for the board, in the login alarm's shape (:mod:`.login_alarm`): ``since`` and
# ``last`` (Unix times), ``names`` and ``addresses`` (new names made in the last ALARM_WINDOW seconds, and how many
# addresses made them) and ``refused`` (new names refused since the alarm started).

ALARM_FILENAME = "new-names-alarm.json"
#: seconds of new names the alarm counts, and how long the board shows it after its latest refusal
ALARM_WINDOW = 600.0
ALARM = room_files.AlarmFile(ALARM_FILENAME, "names", ALARM_WINDOW)

#: where the new-names alarm of the hub whose sandbox db is ``db_path`` is kept (``alarm_path_beside(db_path)``);
#: the new-names alarm at ``path`` while it is fresh, its latest event within :data:`ALARM_WINDOW`, else None
#: (``read_alarm(path, now=None)``); replace it with ``record``, errors the caller's to log (``write_alarm``)
alarm_path_beside, read_alarm, write_alarm = ALARM.path_beside, ALARM.read, room_files.replace


def clear_alarm(path: str | os.PathLike[str]) -> None:
    """The new-names alarm is over (the host opened the room again)."""
    room_files.remove(path)


def describe_alarm(alarm: dict[str, Any]) -> str:
    """The new-names alarm in the host's words (one sentence, no markup)."""
    since, last = room_files.alarm_times(alarm)
    return (f"New-names alarm since {since}: {alarm['names']} new names from {alarm['addresses']} addresses in the "
            f"last {int(ALARM_WINDOW // 60)} minutes (latest {last}), more than the room's bound on new names. New "
            f"names are paused except through the join link ({alarm['refused']} refused so far); everyone already in "
            "logs in as before. If these names are not your room's, close the room to new names and remove them "
            "(the room line below); latecomers get the join link. The hub's log names the addresses.")
