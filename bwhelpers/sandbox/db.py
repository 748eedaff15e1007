"""
bwhelpers.sandbox.db
~~~~~~~~~~~~~~~~~~~~

SQLite state for the sandbox: one file, WAL mode, shared by every process pointed at it.
Each API area contributes its own DDL (``SCHEMA`` in its ``models.py``); this module owns the
core tables (schema version, accounts, sites, settings) and the connection handling.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from collections.abc import Callable
from typing import Any, Iterable, TypeVar

_S = TypeVar("_S")

SCHEMA_VERSION = 1
log = logging.getLogger("bwhelpers.sandbox.db")

CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE,
    legacy_hash TEXT NOT NULL,
    created REAL NOT NULL,
    api_token TEXT,
    disabled REAL
);
CREATE TABLE IF NOT EXISTS sites (
    site_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    name TEXT NOT NULL,
    description TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

#: how long one read scope (a request, a dispatcher tick) trusts the ``PRAGMA data_version`` it checked first
SCOPE_SECONDS = 0.05
#: the read scope of the running request (task) or tick: {id(connection): (data_version, when checked)}
_scope: contextvars.ContextVar[dict[int, tuple[int, float]] | None] = contextvars.ContextVar(
    "bwhelpers_sandbox_read_scope", default=None)
#: an unset setting (cached like any value)
_MISSING = object()
#: nothing cached under a key
_UNCACHED = object()


def begin_scope() -> contextvars.Token[dict[int, tuple[int, float]] | None]:
    """Start a read scope in the running context (a request's task: ``BaseHandler.prepare``; a tick: with
    :func:`end_scope`): the settings/meta cache checks ``PRAGMA data_version`` once per connection in it (again
    after :data:`SCOPE_SECONDS`) instead of at every read, so a change committed by another connection or process
    binds the next request, not the middle of one. Writes through this connection drop the cache at once."""
    return _scope.set({})


def end_scope(token: contextvars.Token[dict[int, tuple[int, float]] | None]) -> None:
    _scope.reset(token)


#: tables whose rows feed :meth:`Database.derived` values: a write to one through a connection drops its cache
#: (temporary triggers), a commit by another connection moves ``PRAGMA data_version`` (areas add theirs with
#: :func:`register_cached_table`; tables written by every request must not be here)
_cached_tables: list[str] = ["settings", "meta"]
#: the tables of the :data:`_BASE` part of :meth:`Database._part`: only their writes drop it
_BASE_TABLES = frozenset({"settings", "meta"})
#: the parts of a connection's cache (:meth:`Database._part`) besides one per table: values derived from any cached
#: tables, and the settings and meta rows
_ANY, _BASE = "\0any", "\0base"


def _part_name(table: str) -> str:
    """The part of a connection's cache (:meth:`Database._part`) that values made of a cached table live in."""
    if table not in _cached_tables:
        raise ValueError(f"{table} is not a cached table (register_cached_table)")
    return _BASE if table in _BASE_TABLES else table


#: the Database of each open connection (so code handed a connection inside a transaction reads the same cache)
_owners: dict[int, "Database"] = {}


def register_cached_table(table: str) -> None:
    """Let :meth:`Database.derived` values read ``table``: its writes drop the cache."""
    if table not in _cached_tables:
        _cached_tables.append(table)


def owner(conn: Any) -> "Database | None":
    """The :class:`Database` whose connection ``conn`` is (None for a connection made elsewhere)."""
    return _owners.get(id(conn))


_extra_schemas: list[str] = []
#: a digest of the legacy API token (token_digest: the token itself is never stored), so token:secret is checked
#: against one account's hash, found by the token's digest (O(1) in the number of accounts); older dbs get the column
_extra_columns: list[tuple[str, str, str]] = [("accounts", "api_token", "TEXT"),
                                              ("accounts", "disabled", "REAL")]  # bwhelpers.sandbox.disabled


def register_schema(ddl: str) -> None:
    """Add an API area's DDL; it is applied (idempotently) whenever a database is opened."""
    if ddl not in _extra_schemas:
        _extra_schemas.append(ddl)


def register_column(table: str, column: str, decl: str) -> None:
    """A column added after a table first shipped: ``ALTER TABLE … ADD COLUMN`` on dbs that lack it."""
    if (table, column, decl) not in _extra_columns:
        _extra_columns.append((table, column, decl))


def default_db_path() -> Path:
    """``.bwhelpers/sandbox.db`` in the project folder (gitignored), or ``BW_SANDBOX_DB``."""
    env = os.environ.get("BW_SANDBOX_DB")
    if env:
        return Path(env).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "bwhelpers").is_dir():
            return folder / ".bwhelpers" / "sandbox.db"
    pkg_root = Path(__file__).resolve().parents[2]
    if (pkg_root / "pyproject.toml").exists():
        return pkg_root / ".bwhelpers" / "sandbox.db"
    return Path.home() / ".bwhelpers" / "sandbox.db"


def token_digest(token: str) -> str:
    """An unsalted SHA-256 of a legacy API token: a lookup key that does not hold the token (the secret half of
    token:secret is checked against the salted ``legacy_hash``)."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    """A salted PBKDF2 hash: the sandbox db never holds account passwords or API secrets. The pair is remembered
    as a verified success (:func:`check_secret`), as if checked at once: a participant provisioned by this process
    pays no second key derivation at their first request (one of their first token fetch's three milliseconds of
    service CPU, issue 25)."""
    salt = os.urandom(8).hex()
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), 1000).hex()
    stored = f"{salt}${digest}"
    _remember_verified((stored, hashlib.sha256(secret.encode()).digest()))
    return stored


#: (stored hash, sha256 of the secret) pairs verified by PBKDF2 in this process, with when (monotonic). Keyed by
#: the stored salted hash, so a changed password (a new hash) is verified afresh; only successes are kept, for
#: auth_throttle.SUCCESS_TTL seconds, and only the secret's digest (never the secret) is held. Bounded.
_VERIFIED: dict[tuple[str, bytes], float] = {}
_VERIFIED_MAX = 4096
_verified_lock = threading.Lock()


def check_secret(secret: str, stored: str) -> bool:
    """Does ``secret`` match the salted PBKDF2 ``stored`` hash? (Successes are remembered briefly per process;
    while a client address is throttled, only remembered successes count: bwhelpers.sandbox.auth_throttle.)"""
    from .auth_throttle import SUCCESS_TTL, cached_only

    key = (stored, hashlib.sha256(secret.encode()).digest())
    when = _VERIFIED.get(key)
    if when is not None and time.monotonic() - when < SUCCESS_TTL:
        return True
    if cached_only.get():
        return False
    try:
        salt, digest = stored.split("$", 1)
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return False
    got = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt_bytes, 1000).hex()
    ok = hashlib.sha256(got.encode()).digest() == hashlib.sha256(digest.encode()).digest()
    if ok:
        _remember_verified(key)
    return ok


def _remember_verified(key: tuple[str, bytes]) -> None:
    from .auth_throttle import SUCCESS_TTL

    with _verified_lock:
        if len(_VERIFIED) >= _VERIFIED_MAX:
            now = time.monotonic()
            for old in [k for k, t in _VERIFIED.items() if now - t >= SUCCESS_TTL]:
                del _VERIFIED[old]
            if len(_VERIFIED) >= _VERIFIED_MAX:
                _VERIFIED.clear()
        _VERIFIED[key] = time.monotonic()


#: a reset rewrites the file (``VACUUM``) only when the deleted rows left at least this many free pages (4 MB at
#: sqlite's 4 KB pages): a workshop's or a load test's db shrinks back; a small one is not rewritten every time
VACUUM_MIN_FREE_PAGES = 1024


class Database:
    """A path plus one sqlite3 connection per thread."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        if self.path != ":memory:":
            _private_file(Path(self.path))
        self._local = threading.local()
        self._init_lock = threading.Lock()
        self._checkpointer: Checkpointer | None = None
        self._checkpoint_users = 0
        self.migrate()
        self.instance_id = self._instance_id()

    def _instance_id(self) -> str:
        """A random id naming this db (not a secret: /_sandbox/health shows it)."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='instance_id'").fetchone()
            if row is not None:
                return str(row["value"])
            value = uuid.uuid4().hex
            conn.execute("INSERT INTO meta VALUES ('instance_id', ?)", (value,))
        return value

    def connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # 32 MB of page cache (the default is 2 MB): the upper levels of every index stay in memory at a
            # million messages, so a page of a list or an insert touches no more pages than on an empty db
            conn.execute("PRAGMA cache_size=-32768")
            conn.execute("PRAGMA foreign_keys=ON")
            # statement and savepoint journals in memory: the dispatcher's batch of in-process bin deliveries runs
            # in a savepoint, and its journal (past 64 KB) was a temp file in /var/tmp created, written and
            # unlinked on every tick (issue 25)
            conn.execute("PRAGMA temp_store=MEMORY")
            if self._checkpointer is not None:
                conn.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_FALLBACK_PAGES}")
            self._local.conn = conn
            self._local.conn_id = id(conn)
            _owners[id(conn)] = self
        return conn

    def start_checkpointer(self) -> None:
        """Checkpoint on a thread of this process (:class:`Checkpointer`) instead of in the serving thread's commits
        (a file db). Each server starts it; :meth:`stop_checkpointer` ends it once every server that started it
        asked."""
        self._checkpoint_users += 1
        if self.path == ":memory:" or self._checkpointer is not None:
            return
        self._checkpointer = Checkpointer(self.path)
        self._autocheckpoint(CHECKPOINT_FALLBACK_PAGES)  # connections opened later get it in connect()

    def stop_checkpointer(self) -> None:
        self._checkpoint_users = max(0, self._checkpoint_users - 1)
        if self._checkpoint_users:
            return
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            self._autocheckpoint(SQLITE_AUTOCHECKPOINT_PAGES)
            checkpointer.stop()

    def _autocheckpoint(self, pages: int) -> None:
        """``PRAGMA wal_autocheckpoint`` of this thread's connection, when it has one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            _owners.pop(id(conn), None)
            conn.close()
            self._local.conn = None
            self._local.parts = None
            self._local.watched = 0

    # -- a per-connection cache of the settings and meta tables and of values derived from cached tables ------
    def _cache(self) -> dict[Any, Any]:
        return self._part(_ANY)

    def _version(self) -> int:
        """This connection's ``PRAGMA data_version`` as this read scope knows it (:func:`begin_scope`: checked once
        per scope and connection, again after :data:`SCOPE_SECONDS`; outside a scope at every call). The path taken
        when :meth:`_part`'s own fast path misses."""
        local = self._local
        scope = _scope.get()
        conn = self.connect()
        if getattr(local, "watched", 0) != len(_cached_tables) or getattr(local, "parts", None) is None:
            self._watch(conn)
        if scope is None:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])
        checked = scope.get(id(conn))
        now = time.monotonic()
        if checked is None or now - checked[1] > SCOPE_SECONDS:
            checked = scope[id(conn)] = (conn.execute("PRAGMA data_version").fetchone()[0], now)
        return int(checked[0])

    def _part(self, name: str) -> dict[Any, Any]:
        """One part of this connection's cache of the cached tables (:func:`register_cached_table`), kept while
        nothing changed what it is made of: ``PRAGMA data_version`` moves when another connection (thread or
        process) commits (:meth:`_version`), and temporary triggers on this connection drop a part when it writes
        one of its tables itself (set_setting, fault countdowns, the clock, a wipe, a new application...; also
        rolled-back writes: what a transaction reads after its own write to a cached table is not kept).

        The parts: :data:`_ANY`, values derived from any cached tables (dropped by a write to any of them);
        :data:`_BASE`, the ``settings`` and ``meta`` rows with the settings parsed (:meth:`_cached_table`,
        :meth:`get_setting`, :meth:`settings_derived`: dropped by writes to those two only); and one per table
        named by :meth:`derived`'s ``table`` (dropped by writes to that table only). So most write requests (an
        application, a number's owner, an order) leave the settings, the clock, the accounts' disabled flags and
        the credentials' versions cached."""
        local = self._local
        parts = getattr(local, "parts", None)
        scope = _scope.get()
        if parts is not None and scope is not None and local.watched == len(_cached_tables):
            checked = scope.get(local.conn_id)  # the fast path (a dozen reads a request): checked in this scope
            if checked is not None and time.monotonic() - checked[1] <= SCOPE_SECONDS:
                part = parts.get(name)
                if part is not None and part[0] == checked[0]:
                    return part[1]
        version = self._version()
        parts = self._local.parts
        part = parts.get(name)
        if part is None or part[0] != version:
            part = parts[name] = (version, {})
        return part[1]

    def _keep(self, tables: dict[Any, Any], key: Any, value: Any) -> None:
        """Cache ``value`` unless this connection's open transaction wrote a cached table (it may roll back)."""
        local = self._local
        if local.tx_wrote:
            if self.connect().in_transaction:
                return
            local.tx_wrote = False
        tables[key] = value

    def _cached_table(self, table: str) -> dict[str, str]:
        """The rows of ``settings`` or ``meta`` as {key: raw value} (cached, see :meth:`_part`)."""
        tables = self._part(_BASE)
        rows = tables.get(table)
        if rows is None:
            rows = {str(r[0]): str(r[1]) for r in self.connect().execute(f"SELECT key, value FROM {table}")}
            self._keep(tables, table, rows)
        return rows

    def derived(self, key: tuple[Any, ...], compute: Callable[[], _S], table: str | None = None) -> _S:
        """``compute()``, a value made only of rows of cached tables (:func:`register_cached_table`; settings and
        meta are) and not of the time, cached with them (:meth:`_part`). The caller must not change it. With
        ``table``: a value made only of that one cached table's rows, kept over writes to the others."""
        name = _ANY if table is None else _part_name(table)
        hit = self._part(name).get(key, _UNCACHED)
        if hit is not _UNCACHED:
            return hit
        value = compute()
        self._keep(self._part(name), key, value)
        return value

    def settings_derived(self, key: tuple[Any, ...], compute: Callable[[], _S]) -> _S:
        """:meth:`derived` for a value made only of the ``settings`` and ``meta`` rows (:meth:`get_setting`,
        :meth:`meta_value`): kept with them, so a write to another cached table leaves it (see :meth:`_part`)."""
        return self.derived(key, compute, "settings")

    def epoch(self, tables: tuple[str, ...]) -> tuple[dict[Any, Any], ...]:
        """What the cache holds now for values made of ``tables`` (cached ones): :meth:`same_epoch` of it is True
        later while none of them changed (no write by this connection, no commit by another one)."""
        return tuple(self._part(_part_name(t)) for t in tables)

    def same_epoch(self, tables: tuple[str, ...], epoch: tuple[dict[Any, Any], ...]) -> bool:
        """Is :meth:`epoch` of ``tables`` still ``epoch`` (nothing in them changed since)?"""
        return all(self._part(_part_name(t)) is part for t, part in zip(tables, epoch))

    def recall(self, key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """What :meth:`remember` kept under ``key`` while the cached tables did not change (None: nothing)."""
        hit = self._cache().get(key)
        return hit if isinstance(hit, tuple) else None

    def remember(self, key: tuple[Any, ...], value: tuple[Any, ...]) -> None:
        """Keep ``value`` (a tuple made only of cached tables' rows) under ``key``, like :meth:`derived`, for a
        value that is worth keeping only sometimes (a final registration, not one still in progress)."""
        self._keep(self._cache(), key, value)

    def _watch(self, conn: sqlite3.Connection) -> None:
        local = self._local

        parts: dict[str, tuple[int, dict[Any, Any]]] = {}

        def changed(table: str) -> None:
            parts.pop(_ANY, None)
            parts.pop(_part_name(table), None)
            local.tx_wrote = True

        conn.create_function("bwhelpers_cache_changed", 1, changed, deterministic=False)
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in _cached_tables:
            if table not in have:
                continue
            for event in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS bwhelpers_{table}_{event.lower()} AFTER {event} ON "
                             f"main.{table} BEGIN SELECT bwhelpers_cache_changed('{table}'); END")
        local.parts = parts
        local.tx_wrote = False
        local.watched = len(_cached_tables)

    def thread_state(self, name: str, factory: Callable[[], _S]) -> _S:
        """A per-thread object of this db (made by ``factory`` on first use), beside the thread's connection."""
        states = getattr(self._local, "states", None)
        if states is None:
            states = self._local.states = {}
        value = states.get(name)
        if value is None:
            value = states[name] = factory()
        return value

    def meta_value(self, key: str) -> str | None:
        """A value of the ``meta`` table (cached, see :meth:`_cached_table`)."""
        return self._cached_table("meta").get(key)

    def meta_secret(self, key: str, nbytes: int) -> str:
        """The ``meta`` table's secret ``key``: made once (``nbytes`` random bytes, hex), the same for every process
        on the db (the first writer wins), shown by no API."""
        cached = self.meta_value(key)
        if cached is not None:
            return cached
        import secrets

        self.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, secrets.token_hex(nbytes)))
        row = self.query_one("SELECT value FROM meta WHERE key=?", (key,))
        assert row is not None
        return str(row["value"])

    def migrate(self) -> None:
        with self._init_lock:
            conn = self.connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for ddl in (CORE_SCHEMA, *_extra_schemas):
                    for stmt in _split(ddl):
                        conn.execute(stmt)
                for table, column, decl in _extra_columns:
                    have = {r["name"] for r in conn.execute(f'PRAGMA table_info("{table}")')}
                    if have and column not in have:
                        conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {decl}')
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row["value"]) > SCHEMA_VERSION:
                    raise RuntimeError(
                        f"sandbox db {self.path} has schema version {row['value']}, newer than this "
                        f"bwhelpers ({SCHEMA_VERSION}); upgrade bwhelpers or start with --reset"
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        row = self.query_one("SELECT value FROM meta WHERE key='schema_version'")
        return int(row["value"]) if row else 0

    # -- small helpers -------------------------------------------------------------------------
    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.connect().execute(sql, tuple(params))

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self.connect().execute(sql, tuple(params)).fetchall()

    def query_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        return self.connect().execute(sql, tuple(params)).fetchone()

    def count(self, sql: str, params: Iterable[Any] = ()) -> int:
        """The first column of the first row of ``sql`` as an int (0 when there is no row)."""
        row = self.query_one(sql, params)
        return int(row[0]) if row is not None and row[0] is not None else 0

    def transaction(self) -> "_Tx":
        """``with db.transaction() as conn:`` — BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""
        return _Tx(self.connect())

    def next_counter(self, name: str, start: int) -> int:
        """A monotonically increasing number shared by every process using this db."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
            value = start if row is None else int(row["value"]) + 1
            conn.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
        return value

    # -- settings ------------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        """A setting's value (``default`` when unset); a list or object is the caller's own copy."""
        value = self.settings_derived(("setting", key), lambda: _parsed(self._cached_table("settings").get(key)))
        if value is _MISSING:
            return default
        if isinstance(value, (dict, list)):
            return json.loads(self._cached_table("settings")[key])
        return value

    def set_setting(self, key: str, value: Any) -> None:
        self.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))

    def all_settings(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.query("SELECT key, value FROM settings")}

    # -- reset ---------------------------------------------------------------------------------
    def wipe(self, vacuum: bool = True) -> None:
        """Delete every row of every table except the schema version, then ``VACUUM`` so the file shrinks back
        when the rows freed at least :data:`VACUUM_MIN_FREE_PAGES` pages (rewriting a small file on every reset
        costs more than it gives back; skipped, with a log line, while another process holds the db busy)."""
        with self.transaction() as conn:
            conn.execute("PRAGMA defer_foreign_keys=ON")
            tables = [r["name"] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for t in tables:
                if t != "meta":
                    conn.execute(f'DELETE FROM "{t}"')
        if vacuum and self.path != ":memory:" and self.free_pages() >= VACUUM_MIN_FREE_PAGES:
            self.vacuum()

    def free_pages(self) -> int:
        """Pages of the file that hold no data (``PRAGMA freelist_count``)."""
        return int(self.connect().execute("PRAGMA freelist_count").fetchone()[0])

    def vacuum(self) -> bool:
        """``VACUUM`` and truncate the WAL; False when the db was busy."""
        conn = self.connect()
        conn.execute("PRAGMA busy_timeout=2000")
        try:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return True
        except sqlite3.OperationalError as exc:
            log.info("sandbox db %s: VACUUM skipped (%s)", self.path, exc)
            return False
        finally:
            conn.execute("PRAGMA busy_timeout=30000")


#: WAL pages after which a connection whose db has a :class:`Checkpointer` checkpoints in its own commit (only when
#: the checkpointer falls that far behind; sqlite's default, for every other connection, is 1,000)
CHECKPOINT_FALLBACK_PAGES = 10_000
SQLITE_AUTOCHECKPOINT_PAGES = 1000
#: seconds between the checkpointer's passes
CHECKPOINT_INTERVAL = 0.25


class Checkpointer:
    """Copies a db's WAL back into its file (``PRAGMA wal_checkpoint(PASSIVE)``) on a thread of its own.

    Without it sqlite checkpoints inside the commit that passes 1,000 WAL pages, on the serving thread: the copy and
    its ``fsync`` stall the event loop (tens of milliseconds on a busy disk) every few hundred messages. The serving
    connections then checkpoint themselves only past :data:`CHECKPOINT_FALLBACK_PAGES` (should this thread stop).
    A checkpoint only moves committed pages: what a commit made durable stays so (a ``kill -9`` loses nothing)."""

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.path, self.interval = path, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bwhelpers-sandbox-checkpoint:{path}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:  # pragma: no cover - the serving connections checkpoint themselves (the fallback)
            log.warning("sandbox db %s: no background checkpoints", self.path, exc_info=True)
            return
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    log.debug("sandbox db %s: checkpoint skipped", self.path, exc_info=True)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class _Tx:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        for attempt in range(50):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:  # pragma: no cover - contention
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.02)
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def _parsed(raw: str | None) -> Any:
    return _MISSING if raw is None else json.loads(raw)


def _private_file(path: Path) -> None:
    """The db holds callback passwords: create its folder 0700 (when new) and the file 0600 (sqlite gives its
    -wal and -shm files the db file's mode). An existing db of ours is tightened to 0600."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif path.parent.name == ".bwhelpers":  # our own folder (the default): private too
        try:
            if path.parent.stat().st_uid == os.getuid() and path.parent.stat().st_mode & 0o077:
                path.parent.chmod(0o700)
        except OSError:
            pass
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # read-only place: sqlite reports the real problem
    os.close(fd)
    for suffix in ("", "-wal", "-shm"):
        try:
            target = Path(str(path) + suffix)
            if target.exists() and target.stat().st_uid == os.getuid() and target.stat().st_mode & 0o077:
                target.chmod(0o600)
        except OSError:
            pass


def _split(ddl: str) -> list[str]:
    return [s.strip() for s in ddl.split(";") if s.strip()]
