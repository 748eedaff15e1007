"""The saved state: a typed model of what each step saves (:class:`SavedState`), kept per profile by
:class:`StateStore` in ``.bwhelpers/state.json`` in the project folder.

The model is the one place that knows the file's keys: every other module reads attributes
(``state.application.id``, ``state.sending_number``, ``state.is_done("sms")``) and writes through
``StateStore.edit(profile)``. A field added to a model (with a default) loads from older files unchanged;
a change of meaning gets a step in :data:`MIGRATIONS` and a new :data:`VERSION`.

Writes are atomic (temp file beside the real file + ``os.replace``; through a symlink to its target) and
serialized between processes with a ``filelock`` lock of ``<real file>.lock`` (:func:`.files.file_lock`). A file that
is not UTF-8, not JSON, nested too deeply or holds wrong-typed values is set aside as ``state.json.corrupt-<ts>`` with a
warning naming the file and what was kept, never silently emptied. Nothing that looks like a secret is
ever stored.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

import filelock

from . import statuses, steps
from .exceptions import StateFileError, ValidationError
from .files import atomic_write, file_lock
from .jsonmodel import Model as _Model, Wrong as _Wrong, dump as _dump, parse as _parse
from .masking import is_secret_name, registered_secrets
from .paths import default_state_path

__all__ = ["StateStore", "SavedState", "Application", "Location", "Feature", "Assignment", "Order", "A2P",
           "Message", "MediaItem", "Delivery", "default_state_path", "now_iso", "StateFileWarning", "VERSION",
           "ORDER_DONE", "ORDER_FINAL", "StepState", "declare_step", "declared_steps"]

#: the biggest state file read (a saved state is a few KB; a bigger file is refused with the state-file message)
MAX_STATE_BYTES = 16 * 1024 * 1024
#: the file format's version; MIGRATIONS[v] turns a version-v profile into a version-(v+1) one
VERSION = 2

#: an order's statuses that put numbers in service / that end the polling (bwhelpers.statuses)
ORDER_DONE = statuses.DONE
ORDER_FINAL = statuses.FINAL


class StateFileWarning(UserWarning):
    """The state file was corrupt and has been set aside."""


def now_iso() -> str:
    """The current UTC time as ISO-8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Application(_Model):
    """The application step's messaging application: its id, the callback URL(s), the sandbox request bin(s)."""

    id: str | None = None
    name: str | None = None
    callback_url: str | None = None        #: the inbound (or the guide's single legacy) callback URL
    bin: str | None = None                 #: the sandbox request bin that URL points at
    fields: str = "current"                #: "current" (Inbound/OutboundCallbackUrl) or "legacy" (CallbackUrl)
    outbound_callback_url: str | None = None
    outbound_bin: str | None = None
    created: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Location(_Model):
    """The location step's location (sippeer)."""

    id: str | None = None
    name: str | None = None
    created: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Feature(_Model):
    """SMS or MMS enabled on a location (steps 3 and 4)."""

    location_id: str | None = None
    enabled: str | None = None             #: when
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Assignment(_Model):
    """The application assigned to the location."""

    application_id: str | None = None
    location_id: str | None = None
    at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Order(_Model):
    """A number order: its id, status and numbers, and what identifies a retry of it."""

    id: str | None = None
    status: str | None = None
    numbers: list[str] = field(default_factory=list)
    criteria: dict[str, Any] | None = None
    location_id: str | None = None
    customer_order_id: str | None = None
    created: str | None = None
    updated: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class A2P(_Model):
    """The A2P step: the 10DLC campaign, its TN Option Order and the numbers on it."""

    campaign_id: str | None = None
    order_id: str | None = None
    status: str | None = None
    numbers: list[str] = field(default_factory=list)
    created: str | None = None
    updated: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Delivery(_Model):
    """A message's outcome read by polling listMessages (bwhelpers.flows.delivery): the recipients' status."""

    status: str | None = None               #: the recipients' messageStatus when they agree, else the least advanced
    final: bool = False                     #: every recipient in a final status (DELIVERED, FAILED, UNDELIVERED)
    checked: str | None = None
    recipients: list[dict[str, Any]] = field(default_factory=list)   #: {"to", "status", "errorCode"} each
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Message(_Model):
    """A message sent by the send step."""

    _ALIASES: ClassVar[dict[str, str]] = {"from_": "from"}

    id: str | None = None
    from_: str | None = None
    to: Any = None                          #: one number or a list (group message)
    sent: str | None = None
    time: str | None = None
    delivery: Delivery | None = None        #: its outcome, once polled (a real account's step 9)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MediaItem(_Model):
    """A file uploaded with the Media API (the pictures step), and what was sent with it."""

    id: str | None = None                   #: the media id (the file's name)
    url: str | None = None                  #: its media URL, what a message's ``media`` lists
    content_type: str | None = None
    size: int | None = None
    uploaded: str | None = None
    message_id: str | None = None           #: the MMS that carried it, once sent
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepState:
    """What a step's flow declares about the saved state (:func:`declare_step`): the model its object is saved as
    (a list of them with ``many``), when the step counts as done, and the few words the status table shows."""

    key: str
    model: type[_Model] | None = None
    many: bool = False
    done: Callable[["SavedState"], bool] | None = None
    detail: Callable[["SavedState"], str | None] | None = None


_DECLARED: dict[str, StepState] = {}


def declare_step(key: str, model: type[_Model] | None = None, *, many: bool = False,
                 done: Callable[["SavedState"], bool] | None = None,
                 detail: Callable[["SavedState"], str | None] | None = None) -> StepState:
    """Declare a step's saved object (kept under the step's key; :meth:`SavedState.part` reads it typed,
    :meth:`SavedState.set_part` writes it), its ``done`` rule and its ``detail``. A flow module calls this for its
    step, so the state module needs no edit for a new step; files written before the step load unchanged (the key
    is simply absent)."""
    steps.page(key)  # KeyError naming the valid keys
    if key in {f.name for f in dataclasses.fields(SavedState)}:
        raise ValueError(f"{key!r} is a field of SavedState already; declare only new steps' objects")
    declared = StepState(key, model, many, done, detail)
    _DECLARED[key] = declared
    return declared


def declared_steps() -> dict[str, StepState]:
    """The steps whose saved object, done rule or detail a flow declared (key -> :class:`StepState`)."""
    return dict(_DECLARED)


@dataclass
class SavedState(_Model):
    """One profile's saved state, and the facts derived from it.

    New steps add their object here as a field with a default (``media: Media | None = None``), so files
    written before it load unchanged."""

    application: Application | None = None
    location: Location | None = None
    sms: Feature | None = None
    mms: Feature | None = None
    assigned: Assignment | None = None
    orders: list[Order] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    a2p: A2P | None = None
    messages: list[Message] = field(default_factory=list)
    #: files uploaded with the Media API by the pictures step (oldest first)
    media: list[MediaItem] = field(default_factory=list)
    #: the values the user last typed in each step's form (never passwords), kept over teardown
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str = "state") -> "SavedState":
        """A profile's dict as the model (wrong-typed values dropped; see :meth:`parse` for the list)."""
        return cls.parse(data, where)[0]

    @classmethod
    def parse(cls, data: Any, where: str = "state") -> "tuple[SavedState, list[str]]":
        """The model and the problems found (``where.key: what was wrong``), each dropped value named."""
        if isinstance(data, SavedState):
            return data, []
        if not isinstance(data, dict):
            return cls(), [f"{where}: expected an object, got {type(data).__name__}"]
        problems: list[str] = []
        return cls._from(data, where, problems), problems

    def to_dict(self) -> dict[str, Any]:
        """The profile in the file's shape; unset objects and empty lists are left out."""
        return {k: v for k, v in super().to_dict().items() if v not in (None, [], {})}

    # ------------------------------------------------------------------ the objects of declared steps
    def part(self, key: str) -> Any:
        """The saved object of a declared step (:func:`declare_step`), typed: its model (None when not saved), or a
        list of them with ``many``. A wrong-typed value reads as not saved (the file keeps it as it is)."""
        declared = _DECLARED.get(key)
        if declared is None:
            raise KeyError(f"no step {key!r} declared its saved object; declared: {sorted(_DECLARED)}")
        raw = self.extra.get(key)
        tp: Any = declared.model if declared.model is not None else Any
        tp = list[tp] if declared.many else tp
        if raw is None:
            return [] if declared.many else None
        try:
            return _parse(tp, raw, key, [])
        except _Wrong:
            return [] if declared.many else None

    def set_part(self, key: str, value: Any) -> None:
        """Save (or with None / [] forget) a declared step's object."""
        if key not in _DECLARED:
            raise KeyError(f"no step {key!r} declared its saved object; declared: {sorted(_DECLARED)}")
        if value is None or value == []:
            self.extra.pop(key, None)
        else:
            self.extra[key] = _dump(value)

    # ------------------------------------------------------------------ derived facts
    @property
    def sending_number(self) -> str | None:
        """The number messages are sent from: the first saved one (step 7 saves them)."""
        return self.numbers[0] if self.numbers else None

    @property
    def last_order(self) -> Order | None:
        """The most recent saved order."""
        return self.orders[-1] if self.orders else None

    @property
    def last_message(self) -> Message | None:
        """The most recent message sent by the send step."""
        return self.messages[-1] if self.messages else None

    @property
    def last_text(self) -> Message | None:
        """The most recent message sent without media (the send step's text; the pictures step's MMS is not it)."""
        return next((m for m in reversed(self.messages) if not m.extra.get("media")), self.last_message)

    @property
    def application_id(self) -> str | None:
        """The saved application's id."""
        return self.application.id if self.application else None

    @property
    def location_id(self) -> str | None:
        """The saved location's id."""
        return self.location.id if self.location else None

    def _feature_on(self, feature: Feature | None) -> bool:
        return bool(self.location_id) and feature is not None and feature.location_id == self.location_id

    def is_done(self, key: str) -> bool:
        """Is the guide step ``key`` done, judged from the saved state? (a FAILED last order is not done)"""
        assigned = self.assigned
        a2p = self.a2p
        last = self.last_order
        done: dict[str, Callable[[], bool]] = {
            "application": lambda: bool(self.application_id),
            "location": lambda: bool(self.location_id),
            "sms": lambda: self._feature_on(self.sms),
            "mms": lambda: self._feature_on(self.mms),
            "assigned": lambda: bool(self.application_id) and assigned is not None
            and assigned.application_id == self.application_id and assigned.location_id == self.location_id,
            "orders": lambda: last is not None and last.status != statuses.FAILED,
            "numbers": lambda: bool(self.numbers),
            "a2p": lambda: a2p is not None and a2p.status == statuses.COMPLETE and bool(self.numbers)
            and set(self.numbers) <= set(a2p.numbers),
            "messages": lambda: bool(self.messages),
        }
        steps.step(key)  # KeyError naming the valid keys
        if key in done:
            return done[key]()
        declared = _DECLARED.get(key)
        return bool(declared.done(self)) if declared is not None and declared.done is not None else False

    def step_status(self, key: str) -> str:
        """``done``, ``pending``, ``failed`` (the last order FAILED) or ``partial`` (PARTIAL / BACKORDERED)."""
        last = self.last_order
        if key in ("orders", "numbers") and last is not None:
            if last.status == statuses.FAILED and (key == "orders" or not self.numbers):
                return "failed"
            if last.status in statuses.SHORT:
                return "partial"
        return "done" if self.is_done(key) else "pending"

    def detail(self, key: str) -> str:
        """What the step saved, in a few words (its id; the numbers; the campaign and order)."""
        last = self.last_order
        if key == "orders" and last is not None and last.status in statuses.SHORT | {statuses.FAILED}:
            return f"{last.id} ({last.status})"
        values = {"application": self.application_id, "location": self.location_id,
                  "orders": last.id if last else None, "numbers": ", ".join(self.numbers),
                  "a2p": " ".join(x for x in (self.a2p.campaign_id, self.a2p.order_id) if x) if self.a2p else None,
                  "messages": self.last_text.id if self.last_text else None}
        declared = _DECLARED.get(key)
        if key not in values and declared is not None and declared.detail is not None:
            return declared.detail(self) or ""
        return values.get(key) or ""


# ---------------------------------------------------------------------------------------------- migrations
def _v1_to_v2(profile: dict[str, Any]) -> dict[str, Any]:
    """Version 1 files were written before today's application fields: their application is the guide's
    legacy ``CallbackUrl`` one."""
    app = profile.get("application")
    if isinstance(app, dict) and "fields" not in app:
        app = dict(app, fields="legacy")
        app.setdefault("outbound_callback_url", None)
        app.setdefault("outbound_bin", None)
        profile = dict(profile, application=app)
    return profile


#: version -> the function that turns one profile of that version into the next version's
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """The whole file's dict brought to :data:`VERSION` (a file without a version is version 1)."""
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        version = 1
    profiles = data.get("profiles", {})
    while version < VERSION:
        step = MIGRATIONS[version]
        profiles = {name: step(p) if isinstance(p, dict) else p for name, p in profiles.items()}
        version += 1
    return dict(data, version=max(version, VERSION), profiles=profiles)


#: the keys the state file has (a few dozen names): is each a secret's name? (asked once per name, not per save)
_SECRET_KEY: dict[str, bool] = {}


def _secret_name(key: str) -> bool:
    secret = _SECRET_KEY.get(key)
    if secret is None:
        secret = is_secret_name(key)
        if len(_SECRET_KEY) < 4096:
            _SECRET_KEY[key] = secret
    return secret


def _check_no_secrets(obj: Any, where: str = "state") -> None:
    """Refuse (StateFileError, naming where) a key with a secret's name or a registered secret value anywhere in
    ``obj``. Every save walks the whole file: a value's place is kept as (its parent's place, its key or index)
    and spelled out only for the error."""
    secrets = registered_secrets()

    def at(place: Any) -> str:
        names: list[str] = []
        while place is not None:
            place, key = place
            names.append(f"[{key}]" if isinstance(key, int) else f".{key}")
        return where + "".join(reversed(names))

    def found(place: Any) -> StateFileError:
        return StateFileError(f"refusing to save {at(place)}: the value is a credential")

    if isinstance(obj, str) and obj in secrets:
        raise found(None)
    todo: list[tuple[Any, Any]] = [(obj, None)] if isinstance(obj, (dict, list, tuple)) else []
    while todo:
        item, place = todo.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str) and _secret_name(k):
                    raise StateFileError(f"refusing to save {at((place, k))}: it looks like a secret and the state "
                                         "file must never hold credentials")
                if isinstance(v, (dict, list, tuple)):
                    todo.append((v, (place, k)))
                elif isinstance(v, str) and v in secrets:
                    raise found((place, k))
        else:
            for i, v in enumerate(item):
                if isinstance(v, (dict, list, tuple)):
                    todo.append((v, (place, i)))
                elif isinstance(v, str) and v in secrets:
                    raise found((place, i))


def _lock_of(real: Path) -> Path:
    """The state file's lock file, beside its real path (so writers through a symlink share it)."""
    return real.with_name(real.name + ".lock")


def _empty() -> dict[str, Any]:
    return {"version": VERSION, "profiles": {}}


class _Corrupt(ValueError):
    """The file cannot be used as it is: ``kept`` is what could be salvaged from it."""

    def __init__(self, reason: str, kept: dict[str, Any]):
        super().__init__(reason)
        self.kept = kept


def _decode(raw: bytes) -> dict[str, Any]:
    """The file's bytes as the migrated, checked dict; _Corrupt (with what can be kept) when they aren't."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))  # a byte order mark (an editor's) is not a corruption
    except UnicodeDecodeError as exc:
        raise _Corrupt(f"not UTF-8 text (byte {exc.start})", _empty()) from None
    except RecursionError:
        raise _Corrupt("nested too deeply to read", _empty()) from None
    except ValueError as exc:
        raise _Corrupt(f"not JSON ({exc})", _empty()) from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
        raise _Corrupt("top level must be an object with a 'profiles' object", _empty())
    data = migrate(data)
    if raw in _CHECKED:  # these very bytes were read and found well-typed in this process: not checked again
        return data
    problems: list[str] = []
    profiles: dict[str, Any] = {}
    for name, profile in data["profiles"].items():
        model, found = SavedState.parse(profile, f"profiles.{name}")
        problems += found
        profiles[name] = model.to_dict() if found else profile
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise _Corrupt(f"wrong-typed values: {shown}", dict(data, profiles=profiles))
    _remember_checked(raw)
    return data


def _remember_checked(raw: bytes) -> None:
    if len(_CHECKED) >= 8:
        _CHECKED.clear()
    _CHECKED.add(raw)


#: state files' bytes this process decoded and type-checked (a notebook reads the same file a dozen times), or
#: wrote from checked profiles and a model's dict (StateStore.edit: the next read need not parse them again)
_CHECKED: set[bytes] = set()


def _kept_summary(data: dict[str, Any]) -> str:
    parts = [f"{name} ({', '.join(sorted(k for k in p if k != 'updated')) or 'nothing'})"
             for name, p in sorted(data.get("profiles", {}).items()) if isinstance(p, dict)]
    return "kept: " + ("; ".join(parts) if parts else "nothing (a fresh state starts now)")


# ---------------------------------------------------------------------------------------------- the store
class StateStore:
    """Saved IDs per profile (``'sandbox'``, ``'real-<account>'``) in a JSON file, safe across kernels."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ValidationError(f"path: expected a file path, got {type(path).__name__}", field="path")
        self.path = Path(path).expanduser() if path else default_state_path()
        self.last_corrupt: Path | None = None

    def __repr__(self) -> str:
        return f"StateStore({str(self.path)!r})"

    @property
    def real_path(self) -> Path:
        """The file written: the state file, or the target of a symlinked one (written through, not replaced)."""
        return Path(os.path.realpath(self.path))

    @property
    def lock_path(self) -> Path:
        """The inter-process lock, beside the real file (so writers through a symlink share it)."""
        return _lock_of(self.real_path)

    # ------------------------------------------------------------------ low level
    @contextlib.contextmanager
    def _locked(self) -> Iterator[Path]:
        """Hold the file's lock (:func:`.files.file_lock`; this thread holding it already is an error: an outer edit's
        save would overwrite a nested write); yields the real path it locks (the file written, resolved once)."""
        real = self.real_path
        with file_lock(_lock_of(real), nested=f"nested StateStore write: an edit()/transaction() "
                       f"on this thread holds {self.path}; its save would overwrite this write (make it in there)"):
            yield real  # (held ~1 ms at a time)

    def _read_bytes(self) -> bytes | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO in its place must not hang every command
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(f"cannot read the state file {self.path}: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise StateFileError(f"cannot read the state file {self.path}: it is not a regular file; move it "
                                     "away (or set BW_STATE_FILE to another path) and run again")
            if info.st_size > MAX_STATE_BYTES:  # a saved state is a few KB: never read a huge file whole (rev23c C7)
                raise StateFileError(f"cannot read the state file {self.path}: it is {info.st_size:,} bytes, more "
                                     f"than a state file can be ({MAX_STATE_BYTES:,}); move it away (or set "
                                     "BW_STATE_FILE to another path) and run again")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                return fh.read()
        except OSError as exc:
            raise StateFileError(f"cannot read the state file {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def _read_raw(self) -> dict[str, Any]:
        """Read the file (the caller holds the lock): corrupt -> set aside, what can be kept written back, warn."""
        raw = self._read_bytes()
        if raw is None:
            return _empty()
        try:
            return _decode(raw)
        except _Corrupt as exc:
            return self._set_aside(exc)

    def _set_aside(self, exc: _Corrupt) -> dict[str, Any]:
        real = self.real_path
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = real.with_name(f"{real.name}.corrupt-{stamp}")
        try:
            os.replace(real, target)
        except FileNotFoundError:  # another process already set it aside
            return _empty()
        self.last_corrupt = target
        kept = exc.kept
        if kept.get("profiles"):
            self._write_raw(kept)
        warnings.warn(StateFileWarning(
            f"the state file {self.path} was corrupt ({exc}); the original was kept as {target.name}, "
            f"{_kept_summary(kept)}. Saved IDs can be copied back from that file by hand."), stacklevel=4)
        return kept

    def _write_raw(self, data: dict[str, Any], *, typed: bool = False, real: Path | None = None) -> None:
        """Write the whole file (to ``real``, the real path :meth:`_locked` resolved, else resolved now); ``typed``:
        every profile in ``data`` is a model's (read and checked, or the model's own dict), so this process need
        not type-check these bytes again when it reads them."""
        _check_no_secrets(data)
        text = json.dumps(data, indent=2, sort_keys=True, default=str)
        atomic_write(real if real is not None else self.real_path, text)
        if typed:
            _remember_checked(text.encode("utf-8"))

    # ------------------------------------------------------------------ public: the whole file
    def load(self) -> dict[str, Any]:
        """The whole file as a dict (a corrupt file is set aside, reported, and what could be kept returned)."""
        raw = self._read_bytes()
        if raw is None:
            return _empty()
        try:
            return _decode(raw)
        except _Corrupt:
            pass
        with self._locked():
            return self._read_raw()

    def profiles(self) -> list[str]:
        """The profiles that have saved state."""
        return sorted(self.load()["profiles"])

    # ------------------------------------------------------------------ public: typed
    def saved(self, profile: str) -> SavedState:
        """One profile's saved state as the typed model (empty when none)."""
        return SavedState.from_dict(self.load()["profiles"].get(profile, {}), f"profiles.{profile}")

    @contextlib.contextmanager
    def edit(self, profile: str) -> Iterator[SavedState]:
        """Lock, read the profile as the model, yield it for changes, then write atomically (nothing on error)."""
        with self._locked() as real:
            data = self._read_raw()
            model = SavedState.from_dict(data["profiles"].get(profile, {}), f"profiles.{profile}")
            # what it was, as a copy: the model shares the nested values of the dict it was read from (forms,
            # criteria, extra), so a change made inside one of them is in that dict too; to_dict copies them
            before = model.to_dict()
            before.pop("updated", None)
            yield model
            new = model.to_dict()
            new.pop("updated", None)
            if new != before:  # (the stamp is the save's, not a change)
                new["updated"] = now_iso()
                data["profiles"][profile] = new
                data["version"] = VERSION
                self._write_raw(data, typed=True, real=real)

    # ------------------------------------------------------------------ public: the file's dicts
    def get(self, profile: str) -> dict[str, Any]:
        """A copy of one profile's saved state in the file's shape (empty dict if none)."""
        return copy.deepcopy(self.load()["profiles"].get(profile, {}))

    @contextlib.contextmanager
    def step_lock(self, profile: str, step: str, timeout: float = 300.0) -> Iterator[None]:
        """Hold the cross-process lock of one create step of one profile (check -> create -> save runs once
        at a time, so concurrent runs create one object): a :func:`.files.file_lock` (filelock) of
        ``<real file>.<profile>.<step>.lock``; the state file's own lock stays free meanwhile (other steps go on). The
        same step inside itself on one thread is a RuntimeError."""
        real = self.real_path
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{profile}.{step}")[:120]
        lock = file_lock(real.with_name(f"{real.name}.{name}.lock"),  # (inside itself: its object made twice)
                         nested=f"nested step lock: step {step!r} of profile {profile!r} already runs on this thread")
        try:
            with lock.acquire(timeout=timeout):
                yield
        except filelock.Timeout:
            raise StateFileError(f"{step}: another process has been running this step on profile {profile!r} for "
                                 f"{timeout:g} s; wait for it, or remove {lock.lock_file} if no such process exists") from None

    def transaction(self, profile: str) -> "contextlib.AbstractContextManager[dict[str, Any]]":
        """Lock, read, yield the profile's dict for changes, then write atomically (nothing on error)."""
        return self._transaction(profile)

    @contextlib.contextmanager
    def _transaction(self, profile: str) -> Iterator[dict[str, Any]]:
        with self._locked() as real:
            data = self._read_raw()
            current = data["profiles"].setdefault(profile, {})
            before = copy.deepcopy(current)
            yield current
            if current != before:
                current["updated"] = now_iso()
                data["version"] = VERSION
                self._write_raw(data, real=real)

    def update(self, profile: str, **fields: Any) -> dict[str, Any]:
        """Set top-level keys of a profile; returns the new profile state."""
        with self.transaction(profile) as st:
            st.update(fields)
            return copy.deepcopy(st)

    def reset(self, profile: str | None = None, *, keep_forms: bool = False) -> None:
        """Forget one profile's saved IDs (or every profile's when ``profile`` is None); ``keep_forms`` keeps
        the values the user typed in the forms."""
        if profile is not None and not isinstance(profile, str):
            raise ValidationError(f"profile: expected a profile name, got {type(profile).__name__}", field="profile")
        with self._locked():
            data = self._read_raw()
            if profile is None:
                data["profiles"] = {}
            else:
                old = data["profiles"].pop(profile, None)
                forms = old.get("forms") if keep_forms and isinstance(old, dict) else None
                if forms:
                    data["profiles"][profile] = {"forms": forms, "updated": now_iso()}
            data["version"] = VERSION
            self._write_raw(data)

