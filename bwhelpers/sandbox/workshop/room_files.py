"""The room's small JSON files beside the sandbox db, which the board and the hub's authenticator share (the login
alarm, the switch closing the room to new names and when it was last opened again, the new-names alarm, the
current join link): THE way they are written.

Each is replaced whole (a reader sees the old record or the new one, never half of one), created with mode 0600 and
never written through a symlink put in its place.
"""
from __future__ import annotations

import json
import os
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
