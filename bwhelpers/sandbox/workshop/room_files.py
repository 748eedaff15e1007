"""The room's small JSON files beside the sandbox db, which the board and the hub's authenticator share (the login
alarm, the switch closing the room to new names and when it was last opened again, the new-names alarm, the
current join link): THE way they are written; and the two alarms' one record (read while fresh, raised by the hub).

Each is replaced whole (a reader sees the old record or the new one, never half of one), created with mode 0600 and
never written through a symlink put in its place.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any


def replace(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Replace the file at ``path`` with ``record`` as JSON (errors are the caller's)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    os.replace(tmp, target)


def remove(path: str | os.PathLike[str]) -> None:
    """Remove the file at ``path`` (gone already is fine)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- the room's alarms (the login alarm, :mod:`.login_alarm`; the new-names alarm, :mod:`.new_names`) --------------
#
# Both are one record in one shape, written by the hub's authenticator and shown by the board while fresh: ``since``
# and ``last`` (Unix times: the alarm's start and its latest event), a count of the events of the last ``window``
# seconds (``failures``, ``names``), ``addresses`` (how many addresses sent them) and ``refused`` (logins refused
# since the alarm started).

_MAX_BYTES = 4096


@dataclasses.dataclass(frozen=True)
class AlarmFile:
    """One of the room's alarms: its file's name beside the db, the name of its count, and its window (seconds of
    events it counts, and how long the board shows it after its latest event)."""

    filename: str
    count: str
    window: float

    def path_beside(self, db_path: str | os.PathLike[str]) -> Path:
        """Where the alarm of the hub whose sandbox db is ``db_path`` is kept."""
        return Path(db_path).with_name(self.filename)

    def read(self, path: str | os.PathLike[str], now: float | None = None) -> dict[str, Any] | None:
        """The alarm at ``path`` while it is fresh (its latest event within the window), else None (no file, a
        damaged one, too big)."""
        try:
            with open(path, "rb") as fh:
                raw = fh.read(_MAX_BYTES + 1)
            record: Any = json.loads(raw) if len(raw) <= _MAX_BYTES else {}
            fields = {k: float(record[k]) for k in ("since", "last")} | {
                k: int(record[k]) for k in (self.count, "addresses", "refused")}
        except (OSError, ValueError, TypeError, KeyError, OverflowError):  # Overflow: a count of 1e999 (infinite)
            return None
        if not (math.isfinite(fields["since"]) and math.isfinite(fields["last"])):  # the board could not say when
            return None
        now = time.time() if now is None else now
        return fields if 0 <= now - fields["last"] < self.window else None


def alarm_times(alarm: dict[str, Any]) -> tuple[str, str]:
    """The alarm's start and latest event as the board says them (local ``HH:MM:SS``)."""
    return (time.strftime("%H:%M:%S", time.localtime(alarm["since"])),
            time.strftime("%H:%M:%S", time.localtime(alarm["last"])))


class Alarm:
    """One room-wide alarm (``kind``) as the hub's authenticator raises it: the (when, address) events of its last
    window (on the authenticator's clock), its record (None while there is none) and when it was last logged and
    written. The caller logs and writes when :meth:`raise_` says so (its own words and file)."""

    def __init__(self, kind: AlarmFile, maxlen: int) -> None:
        self.count = kind.count
        self.window = kind.window
        self.events: collections.deque[tuple[float, str]] = collections.deque(maxlen=maxlen)
        self.record: dict[str, Any] | None = None
        self.logged = 0.0
        self.written = 0.0

    def end(self) -> None:
        """The alarm is over (its record and events forgotten)."""
        self.record = None
        self.events.clear()

    def raise_(self, now: float, refused: bool, writes: bool) -> tuple[dict[str, Any], list[tuple[str, int]] | None,
                                                                      bool]:
        """Start or update the alarm at ``now`` (a refused login counted when ``refused``): its record, the five
        addresses with the most events when it is to be logged (at its start, then once a minute; else None), and
        whether it is to be written (``writes``: there is a file; at its start and first refusal, then at most every
        5 s)."""
        while self.events and now - self.events[0][0] >= self.window:
            self.events.popleft()
        wall = time.time()
        alarm = self.record
        if alarm is None or wall - alarm["last"] >= self.window:
            alarm = self.record = {"since": wall, "last": wall, self.count: 0, "addresses": 0, "refused": 0}
            self.logged = self.written = 0.0
        alarm.update({"last": wall, self.count: len(self.events), "addresses": len({a for _t, a in self.events}),
                      "refused": alarm["refused"] + int(refused)})
        top = None
        if self.logged == 0.0 or now - self.logged >= 60.0:
            self.logged = now
            top = collections.Counter(a for _t, a in self.events).most_common(5)
        first_refusal = refused and alarm["refused"] == 1
        write = writes and (self.written == 0.0 or first_refusal or now - self.written >= 5.0)
        if write:
            self.written = now
        return alarm, top, write
