"""StateStore: the IDs each step saves, in ``.bwhelpers/state.json`` in the project folder, per profile.

Writes are atomic (temp file in the same folder + ``os.replace``) and serialized between processes with
``fcntl.flock`` on ``state.json.lock``. A corrupt file is set aside as ``state.json.corrupt-<ts>`` and
reported, never silently emptied. Nothing that looks like a secret is ever stored.
"""
from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import re
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .exceptions import StateFileError, ValidationError
from .masking import registered_secrets
from .paths import default_state_path

__all__ = ["StateStore", "default_state_path", "now_iso", "StateFileWarning"]

VERSION = 1
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|credential|authori[sz]ation|api_?key|private", re.I)


class StateFileWarning(UserWarning):
    """The state file was corrupt and has been set aside."""


def now_iso() -> str:
    """The current UTC time as ISO-8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _check_no_secrets(obj: Any, where: str = "state") -> None:
    secrets = registered_secrets()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY.search(k):
                raise StateFileError(f"refusing to save {where}.{k}: it looks like a secret and the state file "
                                     "must never hold credentials")
            _check_no_secrets(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_no_secrets(v, f"{where}[{i}]")
    elif isinstance(obj, str) and obj in secrets:
        raise StateFileError(f"refusing to save {where}: the value is a credential")


class StateStore:
    """Saved IDs per profile (``'sandbox'``, ``'real-<account>'``) in a JSON file, safe across kernels."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ValidationError(f"path: expected a file path, got {type(path).__name__}", field="path")
        self.path = Path(path).expanduser() if path else default_state_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.last_corrupt: Path | None = None

    def __repr__(self) -> str:
        return f"StateStore({str(self.path)!r})"

    # ------------------------------------------------------------------ low level
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_raw(self) -> dict[str, Any]:
        """Read the file (caller holds the lock when it may repair it). Corrupt -> set aside + warn."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": VERSION, "profiles": {}}
        except OSError as exc:
            raise StateFileError(f"cannot read the state file {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
                raise ValueError("top level must be an object with a 'profiles' object")
        except ValueError as exc:
            return self._set_aside(exc)
        data.setdefault("version", VERSION)
        data.setdefault("profiles", {})
        return data

    def _set_aside(self, exc: Exception) -> dict[str, Any]:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
        except FileNotFoundError:  # another process already set it aside
            return {"version": VERSION, "profiles": {}}
        self.last_corrupt = target
        warnings.warn(StateFileWarning(
            f"the state file {self.path} was corrupt ({exc}); it was kept as {target.name} and a fresh state "
            "starts now. Saved IDs can be copied back from that file by hand."), stacklevel=4)
        return {"version": VERSION, "profiles": {}}

    def _write_raw(self, data: dict[str, Any]) -> None:
        _check_no_secrets(data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=2, sort_keys=True, default=str)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._clean_stale_temps()

    def _clean_stale_temps(self, older_than: float = 300.0) -> None:
        cutoff = time.time() - older_than
        for p in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if p.stat().st_mtime < cutoff:
                    p.unlink()

    # ------------------------------------------------------------------ public
    def load(self) -> dict[str, Any]:
        """The whole file as a dict (a corrupt file is set aside, reported, and an empty state returned)."""
        try:
            text = self.path.read_text(encoding="utf-8")
            data = json.loads(text)
            if isinstance(data, dict) and isinstance(data.get("profiles", {}), dict):
                data.setdefault("profiles", {})
                return data
        except FileNotFoundError:
            return {"version": VERSION, "profiles": {}}
        except (ValueError, OSError):
            pass
        with self._locked():
            return self._read_raw()

    def get(self, profile: str) -> dict[str, Any]:
        """A copy of one profile's saved state (empty dict if none)."""
        return copy.deepcopy(self.load()["profiles"].get(profile, {}))

    def profiles(self) -> list[str]:
        """The profiles that have saved state."""
        return sorted(self.load()["profiles"])

    @contextlib.contextmanager
    def step_lock(self, profile: str, step: str, timeout: float = 300.0) -> Iterator[None]:
        """Hold the cross-process lock of one create step of one profile (check -> create -> save runs once
        at a time, so concurrent runs create one object). A :class:`filelock.FileLock` beside the state file;
        the state file's own lock stays free meanwhile (other steps and reads go on)."""
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{profile}.{step}")[:120]
        lock = filelock.FileLock(str(self.path.with_name(f"{self.path.name}.{name}.lock")), timeout=timeout,
                                 mode=0o600)
        try:
            with lock:
                yield
        except filelock.Timeout:
            raise StateFileError(f"{step}: another process has been running this step on profile {profile!r} for "
                                 f"{timeout:g} s; wait for it, or remove {lock.lock_file} if no such process "
                                 "exists") from None

    @contextlib.contextmanager
    def transaction(self, profile: str) -> Iterator[dict[str, Any]]:
        """Lock, read, yield the profile's dict for changes, then write atomically (nothing on error)."""
        with self._locked():
            data = self._read_raw()
            current = data["profiles"].setdefault(profile, {})
            before = copy.deepcopy(current)
            yield current
            if current != before:
                current["updated"] = now_iso()
                data["version"] = VERSION
                self._write_raw(data)

    def update(self, profile: str, **fields: Any) -> dict[str, Any]:
        """Set top-level keys of a profile; returns the new profile state."""
        with self.transaction(profile) as st:
            st.update(fields)
            return copy.deepcopy(st)

    def reset(self, profile: str | None = None) -> None:
        """Forget one profile's saved IDs (or every profile's when ``profile`` is None)."""
        if profile is not None and not isinstance(profile, str):
            raise ValidationError(f"profile: expected a profile name, got {type(profile).__name__}", field="profile")
        with self._locked():
            data = self._read_raw()
            if profile is None:
                data["profiles"] = {}
            else:
                data["profiles"].pop(profile, None)
            self._write_raw(data)
