"""Atomic file writes: THE one way the client writes a file (state, credentials, Postman exports).

The text goes to a temp file in the same folder, is flushed to disk, and replaces the target in one
``os.replace``: a reader sees the old file or the new one, never half of one, and a process killed mid-write
leaves only a temp file, which a later write removes once it is stale (a process looks at most every
:data:`SWEEP_EVERY_SECONDS` per file).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

__all__ = ["atomic_write"]

#: temp files of killed writers older than this (seconds) are removed by a later write
STALE_TEMP_SECONDS = 300.0
#: a process looks for them beside a file at most this often (seconds): a listing of the folder per write was a
#: tenth of a save's CPU, for files that only a killed writer leaves
SWEEP_EVERY_SECONDS = 30.0
_SWEPT: dict[Path, float] = {}


def atomic_write(path: str | os.PathLike[str], text: str, *, mode: int = 0o600, dir_mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically with permissions ``mode``; returns the path.

    ``dir_mode`` creates a missing folder with those permissions. The caller resolves symlinks when the
    target, not the link, is meant (the state file does)."""
    target = Path(path)
    if dir_mode is None:
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _remove_stale_temps(target)
    return target


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
