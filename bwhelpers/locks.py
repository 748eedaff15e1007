"""Locks between processes on one machine: an exclusive ``flock`` of a lock file. The state store holds one while
it reads and writes its file, and one per profile and create step around check -> create -> save
(:meth:`bwhelpers.state.StateStore.step_lock`), waited for with the one polling loop.

A ``flock`` ends with its holder (a killed kernel's lock is free at once) and is the lock ``filelock.FileLock`` takes
on Unix, so a kernel of an older bwhelpers that locks the same file with filelock and this one exclude each other.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from .polling import poll

__all__ = ["exclusive", "LockTimeout", "POLL_SECONDS"]

#: how often a lock held by another is asked for again (when the wait has a timeout)
POLL_SECONDS = 0.05
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class LockTimeout(Exception):
    """Another process held the lock for the whole timeout."""


@contextlib.contextmanager
def exclusive(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive ``flock`` of ``path`` (made with its folder when missing, mode 0600): wait as long as it
    takes, or at most ``timeout`` seconds (then :class:`LockTimeout`)."""
    held: list[int] = []

    def attempt(block: bool = False) -> bool:
        try:
            fd = os.open(path, _FLAGS, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, _FLAGS, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_nlink == 0:  # removed by hand meanwhile: lock the file the next process opens
                os.close(fd)
                return False
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        held.append(fd)
        return True

    if timeout is None:
        while not attempt(block=True):
            pass
    elif not attempt():
        _value, done = poll(attempt, bool, timeout=max(0.0, timeout), interval=POLL_SECONDS)
        if not done:
            raise LockTimeout(str(path))
    try:
        yield
    finally:
        try:
            fcntl.flock(held[0], fcntl.LOCK_UN)
        finally:
            os.close(held[0])
