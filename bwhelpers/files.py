"""Atomic file writes: THE one way the client writes a file (state, credentials, Postman exports); and the
file locks between processes (:func:`file_lock`, a :class:`filelock.FileLock` per thread and path: the state file's
own lock, taken by every save, and each create step's).

The text goes to a temp file in the same folder, is flushed to disk, and replaces the target in one
``os.replace``: a reader sees the old file or the new one, never half of one, and a process killed mid-write
leaves only a temp file, which a later write removes once it is stale (a process looks at most every
:data:`SWEEP_EVERY_SECONDS` per file).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
import time
from pathlib import Path

import filelock

__all__ = ["atomic_write", "file_lock"]

#: temp files of killed writers older than this (seconds) are removed by a later write
STALE_TEMP_SECONDS = 300.0
#: a process looks for them beside a file at most this often (seconds): a listing of the folder per write was a
#: tenth of a save's CPU, for files that only a killed writer leaves
SWEEP_EVERY_SECONDS = 30.0
_SWEPT: dict[Path, float] = {}


def atomic_write(path: str | os.PathLike[str], text: str, *, mode: int = 0o600, dir_mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically with permissions ``mode``; returns the path.

    ``dir_mode`` creates a missing folder with those permissions. The caller resolves symlinks when the
    target, not the link, is meant (the state file does).

    The temp file is ``.<name>.<pid>-<n>.tmp``, created exclusively (O_EXCL, not following a link; a name a killed
    process of the same pid left is skipped), written with one ``os.write`` (no text-file wrapper), flushed to the
    disk (``fsync``: a saved ID survives a crash of the machine, not only of the process) and renamed over the
    target."""
    target = Path(path)
    data = (text if os.linesep == "\n" else text.replace("\n", os.linesep)).encode("utf-8")  # (as text mode writes)
    fd, tmp = _create_temp(target, dir_mode)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _remove_stale_temps(target)
    return target


#: the temp files' serial numbers in this process
_SERIAL = itertools.count()
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_temp(target: Path, dir_mode: int | None) -> tuple[int, str]:
    """A new temp file beside ``target`` (its folder made when missing), open for writing: (fd, its path)."""
    folder = os.fspath(target.parent)
    prefix = os.path.join(folder, f".{target.name}.{os.getpid()}-")
    made_folder = False
    for _attempt in range(100):
        tmp = f"{prefix}{next(_SERIAL)}.tmp"
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
        except FileExistsError:  # left by a killed process that had this pid: the next number
            continue
        except FileNotFoundError:
            if made_folder:
                raise
            made_folder = True
            if dir_mode is None:
                target.parent.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    return tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")


def _remove_stale_temps(target: Path) -> None:
    now = time.monotonic()
    last = _SWEPT.get(target)
    if last is not None and now - last < SWEEP_EVERY_SECONDS:
        return
    if len(_SWEPT) >= 256:
        _SWEPT.clear()
    _SWEPT[target] = now
    cutoff = time.time() - STALE_TEMP_SECONDS
    for p in target.parent.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if p.stat().st_mtime < cutoff:
                p.unlink()


class _ThreadLocks(threading.local):
    """This thread's locks by path, and the process they were made in."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.locks: dict[str, filelock.BaseFileLock] = {}


_THREAD_LOCKS = _ThreadLocks()


def file_lock(path: str | os.PathLike[str], nested: str | None = None) -> filelock.BaseFileLock:
    """This thread's :class:`filelock.FileLock` of ``path`` (an exclusive ``flock``, mode 0600, the folder made when
    missing), made once and reused: making one is a third of its CPU per lock. Never one instance for two threads:
    a FileLock is reentrant, so both would be inside; each thread's own instance opens its own descriptor, and two
    descriptors' flocks exclude each other, in one process too (so ``thread_local=False``: the instance is this
    thread's already). A forked child makes its own (filelock refuses an instance inherited across a fork).
    Being reentrant, it lets this thread in again; ``nested`` (for a caller whose outer holder would undo an inner
    one's work: StateStore's write, a create step) makes this thread holding it already a RuntimeError of that text."""
    mine = _THREAD_LOCKS
    if mine.pid != os.getpid():
        mine.pid, mine.locks = os.getpid(), {}
    key = os.fspath(path)
    lock = mine.locks.get(key)
    if lock is None:
        lock = mine.locks[key] = filelock.FileLock(key, mode=0o600, thread_local=False)
    elif nested is not None and lock.is_locked:  # (this thread's own instance: held means held by this thread)
        raise RuntimeError(nested)
    return lock
