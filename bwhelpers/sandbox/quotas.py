"""
bwhelpers.sandbox.quotas
~~~~~~~~~~~~~~~~~~~~~~~~

Fair shares on a shared sandbox: per-account quotas and the db size cap, one settings shape.

The ``quotas`` setting (``PUT /_sandbox/settings`` with the admin key) is an object of per-account
limits; a limit of ``null`` means unlimited. A standalone sandbox has none by default; workshop mode
starts with :data:`WORKSHOP_QUOTAS` (applied once, when its db is new, so a host's changes survive
restarts):

======================  ===================================================================  ===========
key                     what one account may hold                                            workshop
======================  ===================================================================  ===========
objects                 Dashboard and A2P objects (applications, locations, orders, ...)     500
bins                    request bins                                                          20
bin_requests            requests stored in its bins                                           500
messages                messages sent and received                                            2,000
callback_attempts       callback attempts per minute (more wait for the next minute)          120
requests_per_second     authenticated requests a second, bursts of 3 s allowed (more: 429)   20
numbers_per_order       numbers one order may ask for                                         10
numbers_in_service      numbers the account may have (reserved or in service)                 20
stored_bytes            bytes the account stores in all (bins, media, messages, callbacks,   6 MB
                        objects: :mod:`bwhelpers.sandbox.stored_bytes`)
list_objects            applications, locations (sites), SIP peers or TN option orders:      20
                        how many of each
object_bytes            bytes of one application, location, SIP peer or TN option order     16 KB
                        request
======================  ===================================================================  ===========

``list_objects`` and ``object_bytes`` keep the lists Bandwidth answers whole (no paging in its API:
applications, sites, a site's SIP peers, the TN option orders report) small: one is at most 20 x 16 KB of requests, about 0.4 MB of XML and
some 20 ms of the event loop every tenant shares, where the objects quota alone allowed 500 (a 6 MB list that
stalled the others for a quarter of a second each time it was read; review23 F6). The TN option orders report
(``GET tnoptions?orderDetails=true``) has no paging in Bandwidth's spec either: 22 orders of 250 KB made a 5.9 MB
answer that held the room for seconds (rev23c C2).

``stored_bytes`` is sized so that a room of 100 participants at their full budget (600 MB) fits the db cap
with room for the indexes and logs; for a bigger room lower it (or give the db a bigger volume and cap).

Media has its own setting of the same kind, ``media_quota_bytes`` (bytes of media an account may store, 50 MB
by default everywhere; :mod:`bwhelpers.sandbox.media`).

``max_db_mb`` (a setting of its own) caps the db file: when the db (with its WAL) is larger, requests
that would store more are answered with 507 and a description naming the fix, instead of filling the
volume. Workshop mode defaults to 800 MB (the documented Kubernetes volume is 1 GiB).

Checks are cheap: limits come from the db's settings cache (``Database.get_setting``: a change by any
connection or process binds the next request), counts stop at the limit (``LIMIT``), the db size is read
at most once a second.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from . import clock, stored_bytes
from .db import Database

SETTING = "quotas"
DB_CAP_SETTING = "max_db_mb"
KEYS = ("objects", "bins", "bin_requests", "messages", "callback_attempts", "requests_per_second", "numbers_per_order",
        "numbers_in_service", "stored_bytes", "list_objects", "object_bytes")
#: a standalone sandbox: no limit
DEFAULT_QUOTAS: dict[str, int | None] = {key: None for key in KEYS}
#: workshop mode's defaults (docs/workshop.md, Fair shares)
WORKSHOP_QUOTAS: dict[str, int | None] = {
    "objects": 500, "bins": 20, "bin_requests": 500, "messages": 2000, "callback_attempts": 120,
    "requests_per_second": 20, "numbers_per_order": 10, "numbers_in_service": 20,
    "stored_bytes": 6 * 1024 * 1024,     # a room of 100 at its full budget: 600 MB of the 800 MB cap
    "list_objects": 20, "object_bytes": 16 * 1024,  # the unpaged lists stay small (see the table above)
}
WORKSHOP_DB_MB = 800
#: participants (hub user names) a workshop provisions: 120 full ``stored_bytes`` budgets (720 MB) fit the db cap, so
#: nobody can fill the cap for the room by logging in under new names (review 23b N4)
WORKSHOP_PARTICIPANTS = 120
#: the settings a workshop's db starts with (docs/workshop.md, "Fair shares")
WORKSHOP_SETTINGS: dict[str, Any] = {
    "quotas": dict(WORKSHOP_QUOTAS),
    "max_db_mb": WORKSHOP_DB_MB,         # the documented Kubernetes volume is 1 GiB
    "max_participants": WORKSHOP_PARTICIPANTS,
    "retention": 3600,                   # delivered callbacks and bin requests are kept one hour
    "number_inventory": "per-account",   # no participant can empty an area code for the others
}
#: the tables whose rows count as an account's "objects"
OBJECT_TABLES = ("sites", "dash_applications", "dash_sippeers", "dash_orders", "dash_disconnects", "tnoption_orders",
                 "tendlc_campaigns", "tfv_requests", "api_credentials")
#: seconds a measured db size is reused (limits are read through the settings cache, never stale)
CACHE_SECONDS = 1.0


class QuotaExceeded(Exception):
    """An account reached one of its quotas (or the db its size cap); ``status`` 403 or 507."""

    def __init__(self, key: str, limit: int | None, description: str, status: int = 403):
        super().__init__(description)
        self.key, self.limit, self.description, self.status = key, limit, description, status


_cache: dict[tuple[str, str], tuple[float, Any]] = {}
_lock = threading.Lock()


def _cached(db: Database, name: str, compute: Any) -> Any:
    now = time.monotonic()
    key = (db.path, name)
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = compute()
    with _lock:
        _cache[key] = (now, value)
    return value


def invalidate() -> None:
    """Forget cached limits and sizes (after ``PUT /_sandbox/settings``)."""
    with _lock:
        _cache.clear()


def apply(db: Database) -> None:
    """After the settings changed (or at start): forget cached limits, and count stored bytes (the db's
    triggers, :mod:`bwhelpers.sandbox.stored_bytes`) exactly while the ``stored_bytes`` quota is set."""
    invalidate()
    stored_bytes.sync(db, limit(db, "stored_bytes") is not None)


def limits(db: Database) -> dict[str, int | None]:
    """Every quota (``None`` = unlimited). Read through the db's settings cache, which every commit of another
    connection or process invalidates: a quota changed anywhere binds the next request."""
    return dict(db.settings_derived(("quotas",), lambda: _limits(db)))


def _limits(db: Database) -> dict[str, int | None]:
    stored = db.get_setting(SETTING) or {}
    out = dict(DEFAULT_QUOTAS)
    if isinstance(stored, dict):
        out.update({k: v for k, v in stored.items() if k in out})
    return out


def limit(db: Database, key: str) -> int | None:
    """One quota (``None`` = unlimited), cached with the settings."""
    return db.settings_derived(("quota", key), lambda: _limit(db, key))


def _limit(db: Database, key: str) -> int | None:
    value = db.settings_derived(("quotas",), lambda: _limits(db)).get(key)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def check_setting(value: Any) -> str | None:
    """Why a ``quotas`` value cannot be stored, or None."""
    if not isinstance(value, dict):
        return f"quotas must be an object of per-account limits {{{', '.join(KEYS)}}} (null = unlimited)"
    for key, v in value.items():
        if key not in KEYS:
            return f"quotas.{key} is not a quota; known: {list(KEYS)}"
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            return f"quotas.{key} must be a whole number from 0, or null (unlimited)"
    return None


def _fix(key: str) -> str:
    return (f"delete what you no longer need, or ask the host to reset your account (the workshop board) or "
            f"to raise the quota (PUT /_sandbox/settings {{\"quotas\": {{\"{key}\": ...}}}} with the admin key)")


def bounded_count(db: Database, sql: str, params: tuple[Any, ...], cap: int) -> int:
    """``SELECT COUNT(*)`` of ``sql`` (a ``SELECT 1 ...``), counting no further than ``cap``."""
    return db.count(f"SELECT COUNT(*) FROM ({sql} LIMIT ?)", (*params, cap))


#: one statement counting an account's objects in every table of :data:`OBJECT_TABLES` (each count bounded)
_OBJECTS_SQL = "SELECT " + " + ".join(f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE account_id=? LIMIT ?))"
                                      for table in OBJECT_TABLES)


def check_objects(db: Database, account_id: str, adding: int = 1) -> None:
    cap = limit(db, "objects")
    if cap is None:
        return
    try:  # one statement, not one per table (a create request paid nine)
        have = db.count(_OBJECTS_SQL, (account_id, cap + 1) * len(OBJECT_TABLES))
    except sqlite3.OperationalError:  # an area that is not installed: table by table
        have = 0
        for table in OBJECT_TABLES:
            try:
                have += bounded_count(db, f"SELECT 1 FROM {table} WHERE account_id=?", (account_id,), cap + 1)
            except Exception:  # an area that is not installed
                continue
    if have + adding > cap:
        raise QuotaExceeded("objects", cap, f"Quota reached: this account may hold {cap} objects "
                            f"(applications, locations, orders, registrations...); {_fix('objects')}")


#: the lists Bandwidth's API answers whole (no paging), by the table that holds their objects
UNPAGED_LISTS = {"dash_applications": "applications", "sites": "locations (sites)", "dash_sippeers": "SIP peers",
                 "tnoption_orders": "TN option orders"}


def check_list(db: Database, account_id: str, table: str) -> None:
    """One more object in an unpaged list (``table``, a key of :data:`UNPAGED_LISTS`) fits ``list_objects``."""
    cap = limit(db, "list_objects")
    if cap is None:
        return
    if bounded_count(db, f"SELECT 1 FROM {table} WHERE account_id=?", (account_id,), cap + 1) + 1 > cap:
        what = UNPAGED_LISTS[table]
        raise QuotaExceeded("list_objects", cap, f"Quota reached: this account may hold {cap} {what} (their list "
                            f"is answered whole, so it is kept short); {_fix('list_objects')}")


def check_object_bytes(db: Database, table: str, size: int) -> None:
    """A request of ``size`` bytes for one object of an unpaged list fits ``object_bytes``."""
    cap = limit(db, "object_bytes")
    if cap is not None and size > cap:
        what = UNPAGED_LISTS[table]
        raise QuotaExceeded("object_bytes", cap, f"Quota reached: a request for one of the {what} may be at most "
                            f"{cap:,} bytes and this one is {size:,} (their list is answered whole, so each is kept "
                            f"small): leave out what the object does not need; {_fix('object_bytes')}")


def check_messages(db: Database, account_id: str, adding: int = 1) -> None:
    cap = limit(db, "messages")
    if cap is None:
        return
    row = db.query_one("SELECT messages FROM message_counts WHERE account_id=?", (account_id,))
    have = int(row["messages"]) if row is not None else 0
    if have + adding > cap:
        raise QuotaExceeded("messages", cap, f"Quota reached: this account may hold {cap} messages; "
                            f"{_fix('messages')}")


def bin_names(account_id: str) -> tuple[str, str]:
    """The stored names of an account's bins (``<account>/<name>``) as the range ``lo <= name < hi`` ('0' is the
    character after '/'), which the bins' name indexes search. ``name LIKE '<account>/%'`` was a scan of every
    account's bin requests (SQLite searches an index for LIKE only under NOCASE or ``case_sensitive_like``): 3 ms of
    the event loop per bin POST or in-process callback delivery once a room's 50 accounts held 500 requests each,
    0.07 ms as a range; and LIKE also took another account's id differing in letter case, ``_`` or ``%`` as this
    one's."""
    return f"{account_id}/", f"{account_id}0"


def check_bins(db: Database, account_id: str, bin_key: str, storing: bool = True) -> None:
    """Before a request is stored in bin ``bin_key`` (``<account>/<name>``), or (``storing=False``) before the bin
    is configured: a new bin must fit the ``bins`` quota either way."""
    lim = limits(db)
    if not storing:
        lim["bin_requests"] = None
    bins, stored = lim.get("bins"), lim.get("bin_requests")
    if bins is not None and db.query_one("SELECT 1 FROM request_bins WHERE name=?", (bin_key,)) is None:
        have = bounded_count(db, "SELECT 1 FROM request_bins WHERE name >= ? AND name < ?", bin_names(account_id),
                             bins + 1)
        if have >= bins:
            raise QuotaExceeded("bins", bins, f"Quota reached: this account may have {bins} request bins; "
                                f"{_fix('bins')} (DELETE /_sandbox/bins/<name> empties one)")
    if stored is not None:
        have = bounded_count(db, "SELECT 1 FROM bin_requests WHERE name >= ? AND name < ?", bin_names(account_id),
                             stored + 1)
        if have >= stored:
            raise QuotaExceeded("bin_requests", stored, f"Quota reached: this account's bins may hold {stored} "
                                f"requests; {_fix('bin_requests')} (DELETE /_sandbox/bins/<name> empties one)")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def check_stored(db: Database, account_id: str, adding: int = 0) -> None:
    """Before the account stores ``adding`` more bytes (a request's body): its ``stored_bytes`` quota."""
    cap = limit(db, "stored_bytes")
    if cap is None:
        return
    have = stored_bytes.of(db, account_id)
    if have + max(0, adding) > cap:
        raise QuotaExceeded("stored_bytes", cap, f"Quota reached: this account may store {_mb(cap)} in all (request "
                            f"bins, media, messages, callbacks, objects) and holds {_mb(have)}; this request would "
                            f"add {_mb(max(0, adding))}; {_fix('stored_bytes')} (DELETE /_sandbox/bins/<name> empties "
                            "a bin)")


def check_numbers(db: Database, account_id: str, quantity: int) -> None:
    """Before an order of ``quantity`` numbers."""
    lim = limits(db)
    per_order, in_service = lim.get("numbers_per_order"), lim.get("numbers_in_service")
    if per_order is not None and quantity > per_order:
        raise QuotaExceeded("numbers_per_order", per_order,
                            f"Quantity {quantity} is over this sandbox's limit of {per_order} numbers per order; "
                            f"order {per_order} or fewer", status=400)
    if in_service is not None:
        have = bounded_count(db, "SELECT 1 FROM dash_tns WHERE account_id=?", (account_id,), in_service + 1)
        if have + quantity > in_service:
            raise QuotaExceeded("numbers_in_service", in_service,
                                f"Quota reached: this account may have {in_service} numbers and has {have}; "
                                f"disconnect numbers you no longer need, or {_fix('numbers_in_service')}")


# -- the db size cap ----------------------------------------------------------------------------------

def db_bytes(db: Database) -> int:
    """The db file with its WAL, in bytes (0 for an in-memory db)."""
    def read() -> int:
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.stat(db.path + suffix).st_size
            except OSError:
                pass
        return total
    return int(_cached(db, "db_bytes", read))


def check_db_size(db: Database) -> None:
    """507 when the db is over the ``max_db_mb`` setting (nothing more is stored until it shrinks)."""
    cap = db.get_setting(DB_CAP_SETTING)  # the settings cache: a change binds the next request
    if not isinstance(cap, (int, float)) or isinstance(cap, bool) or cap <= 0:
        return
    size = db_bytes(db)
    if size > cap * 1024 * 1024:
        raise QuotaExceeded(DB_CAP_SETTING, int(cap), f"The sandbox's database is full ({size // (1024 * 1024)} MB "
                            f"of its {cap} MB cap): nothing more can be stored. The host can reset accounts (the "
                            "workshop board), shorten the retention setting, or raise max_db_mb", status=507)


class AttemptBudget:
    """The per-account cap on callback attempts (``callback_attempts`` per minute), kept by the dispatcher. The
    minute is on the sandbox's clock (:mod:`bwhelpers.sandbox.clock`), as the postponed attempts' due times are."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def snapshot(self) -> dict[str, tuple[float, int]]:
        """The counts as they are (for :meth:`restore` when the attempts counted since are rolled back)."""
        return dict(self._windows)

    def restore(self, snapshot: dict[str, tuple[float, int]]) -> None:
        self._windows = dict(snapshot)

    def take(self, db: Database, account_id: str, now: float | None = None) -> float | None:
        """None when an attempt may go now (and count it), else the seconds until it may."""
        cap = limit(db, "callback_attempts")
        if cap is None:
            return None
        now = clock.now(db) if now is None else now
        start, used = self._windows.get(account_id, (now, 0))
        if not 0 <= now - start < self.WINDOW:  # a new minute, or the clock was set back before this one began
            start, used = now, 0
        if used >= cap:
            return max(0.5, self.WINDOW - (now - start))
        self._windows[account_id] = (start, used + 1)
        if len(self._windows) > 10_000:
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.WINDOW}
        return None


class RequestRate:
    """The per-account request rate (``requests_per_second``; bursts of three seconds' worth), so one tenant's
    flood is answered with cheap 429s instead of taking the event loop from the others."""

    BURST_SECONDS = 3.0

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, db: Database, account_id: str, now: float | None = None) -> int | None:
        """None when the request may go (and count it), else the seconds to wait."""
        rate = limit(db, "requests_per_second")
        if not rate:
            return None
        now = time.monotonic() if now is None else now
        burst = rate * self.BURST_SECONDS
        with self._lock:
            tokens, since = self._buckets.get(account_id, (burst, now))
            tokens = min(burst, tokens + (now - since) * rate)
            if tokens < 1.0:
                self._buckets[account_id] = (tokens, now)
                return max(1, int((1.0 - tokens) / rate + 0.999))
            self._buckets[account_id] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.BURST_SECONDS}
        return None


#: the request rate of this serving process
REQUEST_RATE = RequestRate()
