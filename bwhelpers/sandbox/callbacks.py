"""
bwhelpers.sandbox.callbacks
~~~~~~~~~~~~~~~~~~~~~~~~~~~

Webhook delivery, as the real service does it: an outbox in sqlite, drained on the serving
process's IOLoop with :class:`tornado.httpclient.AsyncHTTPClient`.

* Each event is a row of ``callback_outbox`` (pending → delivered | gave-up). A serving process
  claims due rows atomically (``UPDATE … WHERE claimed_by IS NULL``), so two processes on one db
  never deliver the same row twice, and pending rows survive a restart.
* ``POST`` with ``Content-Type: application/json; charset=utf-8`` and ``User-Agent: BandwidthAPI/v2``. The first
  attempt never carries credentials; a ``401`` with ``WWW-Authenticate: Basic`` is answered at once
  with a resend using the application's callback credentials. A 401 without that header is not
  retried with credentials (it is logged, like any other failure).
* Non-2xx, connection errors and timeouts are retried with the backoff of the ``callback_retry``
  setting (``max_attempts``, ``backoff`` list of seconds, ``timeout``), then the row gives up.
* Every attempt is written to ``callback_attempts`` (``GET /_sandbox/callbacks``).
* Fair turns: at most :data:`MAX_IN_FLIGHT` deliveries are in flight over HTTP; in workshop mode one account
  holds at most :data:`ACCOUNT_SHARE` of them, and in every mode an account with none in flight is always given
  one, even when the pool is full, and each claim takes the accounts' rows in turns (every account's first due
  row, then every account's second, ...): one account's slow receiver or backlog never starves another's.
* Every target is checked by the callback URL policy (:mod:`bwhelpers.sandbox.callback_policy`) on the
  address the connection uses; a refused target is logged as refused, with no response detail, and
  the callback gives up at once. Each account may make the ``callback_attempts`` quota of attempts a
  minute (:mod:`bwhelpers.sandbox.quotas`); more wait for the next minute.
* Only the receiver's status and headers are read: no ``Accept-Encoding`` is sent and nothing is decoded; the body
  is discarded as it comes, and one over :data:`RESPONSE_READ_MAX` bytes is not read on. Once the head arrived,
  its status is the answer, whatever becomes of the body.
* A delivery to one of the sandbox's own request bins carries ``X-Sandbox-Delivery``
  (:mod:`bwhelpers.sandbox.delivery_signature`: signed for that account, that URL and a time window,
  single use), so the bin records it for that account and refuses forgeries (the header goes nowhere else).

The module also keeps the request bins (``/_sandbox/bins/{name}``), the sandbox's requestb.in.
"""
from __future__ import annotations

import base64
import collections
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import clock, delivery_signature, paging, quotas
from .callback_policy import CallbackPolicy, CallbackRefused, PolicyResolver
from .db import Database, begin_scope, end_scope, register_cached_table, register_schema

log = logging.getLogger("bwhelpers.sandbox.callbacks")

USER_AGENT = "BandwidthAPI/v2"
DELIVERY_HEADER = delivery_signature.HEADER
BIN_PATH = "/_sandbox/bins/"
#: messaging-webhooks.mdx: every example request carries the charset
CONTENT_TYPE = "application/json; charset=utf-8"
#: claims older than this (seconds, plus the request timeout) belong to a dead process
STALE_CLAIM = 30.0
POLL_INTERVAL_MS = 50
#: how a target refused by the callback URL policy shows in the log (no status, no response detail)
REFUSED = "refused by the sandbox's callback URL policy"
#: deliveries over HTTP in flight at once (the room's pool)
MAX_IN_FLIGHT = 32
#: workshop mode: the most of the pool one account may hold. A receiver that accepts and never answers holds a
#: slot for the whole attempt timeout; without a share, two participants' tarpits would hold every slot and
#: everyone's delivery receipts would wait behind them
ACCOUNT_SHARE = 4
#: candidates one claim reads (the due rows of accounts that may take more, oldest first)
CLAIM_WINDOW = 4 * MAX_IN_FLIGHT
#: in-process bin deliveries one claim records (in its transaction, on the loop: about 40 us each). The whole
#: window, so that under a backlog each due row is read by one claim, not by four (a batch of 32 left the other 96
#: candidates to be read and ranked again by the next three ticks)
LOCAL_BATCH = CLAIM_WINDOW
#: seconds a claim that found only the rows of accounts at their share is trusted (that read scans all of their due
#: rows: ~5 ms for a backlog of 10,000, which every tick would cost the loop while a tarpit holds its share)
BLOCKED_RECHECK = 0.5
#: connections each HTTP client may open (more than the dispatcher ever has in flight, so none waits in its queue)
_CLIENT_CONNECTIONS = 1024
#: the most of a receiver's answer body read (then the connection is dropped). Only the status and the headers
#: count; the body is never kept nor decoded (no ``Accept-Encoding``: a 98 KB gzip that inflates to 100 MB costs
#: nothing), so the sandbox's memory and its event loop stay out of a receiver's reach
RESPONSE_READ_MAX = 64 * 1024
#: the client's read buffer: the head (tornado's 64 KB header cap) and a body chunk fit
_READ_BUFFER = 4 * RESPONSE_READ_MAX
#: a bin name as the control plane's route takes it (anything else is left to HTTP, which answers as it does)
_LOCAL_BIN_NAME = re.compile(r"[A-Za-z0-9._~-]{1,100}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    message_id TEXT,
    event_type TEXT,
    recipient TEXT,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    cb_user TEXT,
    cb_password TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    claimed_at REAL,
    created REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS callback_outbox_due ON callback_outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS callback_outbox_msg ON callback_outbox (message_id);
CREATE TABLE IF NOT EXISTS callback_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    callback_id INTEGER,
    account_id TEXT,
    message_id TEXT,
    event_type TEXT,
    recipient TEXT,
    attempt INTEGER,
    time REAL NOT NULL,
    url TEXT,
    status_code INTEGER,
    error TEXT,
    auth_used INTEGER NOT NULL DEFAULT 0,
    elapsed_ms REAL,
    instance TEXT
);
CREATE INDEX IF NOT EXISTS callback_attempts_msg ON callback_attempts (message_id);
CREATE INDEX IF NOT EXISTS callback_attempts_account ON callback_attempts (account_id, id);
CREATE INDEX IF NOT EXISTS callback_outbox_account ON callback_outbox (account_id, id);
CREATE TABLE IF NOT EXISTS request_bins (
    name TEXT PRIMARY KEY,
    require_auth TEXT,
    status INTEGER,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bin_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    time REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT,
    headers TEXT NOT NULL,
    authorized INTEGER NOT NULL,
    status INTEGER NOT NULL,
    body TEXT
);
CREATE INDEX IF NOT EXISTS bin_requests_name ON bin_requests (name, id);
CREATE INDEX IF NOT EXISTS bin_requests_time ON bin_requests (time);
CREATE INDEX IF NOT EXISTS callback_outbox_delivered ON callback_outbox (status, delivered_at);
CREATE INDEX IF NOT EXISTS callback_attempts_callback ON callback_attempts (callback_id)
"""
register_schema(SCHEMA)
register_cached_table("request_bins")  # bin_config


#: (an epoch second, its ``%Y-%m-%dT%H:%M:%S``): the times of one second share it
_iso_second: tuple[int, str] = (-1, "")


def iso(ts: float) -> str:
    """Epoch seconds -> ``2017-09-07T02:33:39.201Z``."""
    global _iso_second
    second = math.floor(ts)
    cached = _iso_second
    if cached[0] != second:
        cached = _iso_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return cached[1] + f".{int(round((ts % 1) * 1000)) % 1000:03d}Z"


# -- outbox ---------------------------------------------------------------------------------------

def claimed_rows_sql(n: int) -> str:
    """A claim's read of the ``n`` rows it chose, inside its transaction (parameters: the ids, the sandbox's now,
    the stale-claim time): those still due and unclaimed. Found by primary key: the unary ``+`` keeps sqlite off
    the due index ``(status, next_attempt_at)``, which it would otherwise pick and scan every due row of for the
    few ids (a backlog of thousands, read again on each tick)."""
    return (f"SELECT * FROM callback_outbox WHERE id IN ({','.join('?' * n)}) AND +status='pending' AND "
            "+next_attempt_at<=? AND (+claimed_by IS NULL OR +claimed_at<?) ORDER BY id")


def enqueue(conn: Any, *, account_id: str, url: str, body: Any, due: float, message_id: str | None = None,
            event_type: str | None = None, recipient: str | None = None, user: str | None = None,
            password: str | None = None, created: float | None = None) -> int:
    """Add one event to the outbox inside the caller's transaction (``created``: on the sandbox's clock, now when
    not given); returns its id."""
    cur = conn.execute(
        "INSERT INTO callback_outbox (account_id, message_id, event_type, recipient, url, body, cb_user, "
        "cb_password, next_attempt_at, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (account_id, message_id, event_type, recipient, url, body if isinstance(body, str) else json.dumps(body),
         user, password, due, clock.now(conn) if created is None else created),
    )
    return int(cur.lastrowid or 0)


ATTEMPT_SQL = ("INSERT INTO callback_attempts (callback_id, account_id, message_id, event_type, recipient, attempt, "
               "time, url, status_code, error, auth_used, elapsed_ms, instance) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


def log_attempt(conn_or_db: Any, *, callback_id: int | None, account_id: str | None, message_id: str | None,
                event_type: str | None, recipient: str | None, attempt: int | None, url: str | None,
                status_code: int | None, error: str | None, auth_used: bool, elapsed_ms: float | None,
                instance: str | None = None) -> None:
    conn_or_db.execute(
        ATTEMPT_SQL,
        (callback_id, account_id, message_id, event_type, recipient, attempt, clock.now(conn_or_db), url, status_code, error,
         1 if auth_used else 0, None if elapsed_ms is None else round(elapsed_ms, 1), instance),
    )


def retry_policy(db: Database) -> dict[str, Any]:
    """The ``callback_retry`` setting with its defaults (cached with the settings: the caller must not change it)."""
    return db.derived(("retry_policy",), lambda: _retry_policy(db))


def _retry_policy(db: Database) -> dict[str, Any]:
    policy = dict(db.get_setting("callback_retry") or {})
    attempts = int(policy.get("max_attempts", 6) or 1)
    backoff = policy.get("backoff") or [1, 2, 4, 8, 16]
    if isinstance(backoff, (int, float)):
        backoff = [float(backoff)]
    return {"max_attempts": max(1, attempts), "backoff": [float(b) for b in backoff],
            "timeout": float(policy.get("timeout", 10) or 10)}


def attempts_log(db: Database, account_id: str | None = None, message_id: str | None = None,
                 event_type: str | None = None, limit: int = 1000,
                 before: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the delivery log (oldest first) and the ``before`` cursor of the older page."""
    rows, older = _filtered(db, "callback_attempts", account_id, message_id, event_type, limit, before)
    return [{
        "id": r["id"], "time": iso(r["time"]), "callbackId": r["callback_id"], "accountId": r["account_id"],
        "messageId": r["message_id"], "type": r["event_type"], "to": r["recipient"], "attempt": r["attempt"],
        "url": r["url"], "statusCode": r["status_code"], "error": r["error"], "authUsed": bool(r["auth_used"]),
        "elapsedMs": r["elapsed_ms"],
    } for r in rows], older


def outbox_view(row: Any) -> dict[str, Any]:
    """An outbox row for the control plane (never the callback password)."""
    return {
        "id": row["id"], "accountId": row["account_id"], "messageId": row["message_id"], "type": row["event_type"],
        "to": row["recipient"], "url": row["url"], "status": row["status"], "attempts": row["attempts"],
        "hasCredentials": bool(row["cb_user"]), "nextAttemptAt": iso(row["next_attempt_at"]),
        "created": iso(row["created"]), "deliveredAt": iso(row["delivered_at"]) if row["delivered_at"] else None,
        "lastError": row["last_error"], "body": json.loads(row["body"]),
    }


def outbox_list(db: Database, account_id: str | None = None, message_id: str | None = None,
                event_type: str | None = None, limit: int = 1000,
                before: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the outbox (oldest first) and the ``before`` cursor of the older page."""
    rows, older = _filtered(db, "callback_outbox", account_id, message_id, event_type, limit, before)
    return [outbox_view(r) for r in rows], older


def _filtered(db: Database, table: str, account_id: str | None, message_id: str | None, event_type: str | None,
              limit: int, before: int | None = None) -> tuple[list[Any], int | None]:
    """The newest ``limit`` rows of ``table`` matching the filters (and older than ``before``), oldest first, as
    a page bounded in bytes (:mod:`.paging`), and the ``before`` cursor of the older page (None when none)."""
    sql, args = f"SELECT * FROM {table} WHERE 1=1", list[Any]()
    for col, value in (("account_id", account_id), ("message_id", message_id), ("event_type", event_type)):
        if value:
            sql += f" AND {col}=?"
            args.append(value)
    if before is not None:
        sql += " AND id<?"
        args.append(before)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit + 1)
    cursor = db.execute(sql, args)
    rows, more = paging.newest(cursor, limit)
    cursor.close()
    return list(reversed(rows)), rows[-1]["id"] if more else None


# -- retention ------------------------------------------------------------------------------------

PRUNE_BATCH = 5000


def retention_seconds(db: Database) -> float | None:
    value = db.get_setting("retention")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def prune(db: Database, older_than: float, now: float | None = None) -> dict[str, int]:
    """Delete delivered callbacks (outbox rows and their attempts) and bin requests older than
    ``older_than`` seconds, in bounded batches so one call never holds the write lock for long.
    Pending and given-up callbacks are kept: they are what a user still needs to look at."""
    cutoff = (clock.now(db) if now is None else now) - older_than
    counts = {"callbacks": 0, "attempts": 0, "bin_requests": 0}
    with db.transaction() as conn:
        ids = [r["id"] for r in conn.execute(
            "SELECT id FROM callback_outbox WHERE status='delivered' AND delivered_at<? LIMIT ?",
            (cutoff, PRUNE_BATCH))]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            counts["attempts"] += conn.execute(
                f"DELETE FROM callback_attempts WHERE callback_id IN ({marks})", chunk).rowcount
            counts["callbacks"] += conn.execute(f"DELETE FROM callback_outbox WHERE id IN ({marks})", chunk).rowcount
        counts["bin_requests"] = conn.execute(
            "DELETE FROM bin_requests WHERE id IN (SELECT id FROM bin_requests WHERE time<? LIMIT ?)",
            (cutoff, PRUNE_BATCH)).rowcount
    return counts


# -- the dispatcher -------------------------------------------------------------------------------

class Dispatcher:
    """Drains the outbox on the current IOLoop. ``start()`` / ``stop()`` from the server hooks."""

    def __init__(self, db: Database, instance: str | None = None, signing_key: str | None = None,
                 bin_prefix: str = "", policy: CallbackPolicy | None = None,
                 local_origins: frozenset[tuple[str, int]] = frozenset(), account_share: int | None = None):
        self.db = db
        #: the most HTTP deliveries one account may have in flight (None: the whole pool; workshop: ACCOUNT_SHARE)
        self.account_share = account_share
        #: HTTP deliveries in flight, by account
        self.in_flight_by_account: collections.Counter[str] = collections.Counter()
        #: (host, port) pairs at which this very process serves its bins with no proxy in between: a callback to
        #: one of its bins there is recorded in-process (see :meth:`_deliver_local`), signed deliveries only
        self.local_origins = local_origins if signing_key else frozenset()
        #: the path the service is served below (workshop mode), which its application strips before routing
        self.bin_prefix = bin_prefix.rstrip("/")
        #: (the local_origins it was made for, {url: local_bin(url)})
        self._local_seen: tuple[frozenset[tuple[str, int]], dict[str, Any]] = (self.local_origins, {})
        self.instance = instance or uuid.uuid4().hex
        self.signing_key = signing_key
        # where callbacks may go; the sandbox's own bins live below bin_prefix (workshop mode: /services/<name>)
        self.policy = policy or CallbackPolicy(bin_prefix=bin_prefix)
        self.budget = quotas.AttemptBudget()
        self._periodic: Any = None
        self._client: Any = None
        self._own_client: Any = None
        self._in_flight = 0
        self._stopped = False
        self._seq = 0
        self._next_prune = 0.0
        self._clock_state: Any = None
        #: (the accounts left out, when) of a claim that found nothing else due: while the same accounts are left
        #: out, the next claims skip the read (it scans every due row of theirs) for BLOCKED_RECHECK seconds
        self._blocked: tuple[tuple[str, ...], float] | None = None
        #: whether the last claim read a full window of candidates (CLAIM_WINDOW): more rows may be due behind it
        self.window_full = False

    def start(self) -> None:
        import tornado.httpclient
        import tornado.ioloop

        # every target but the sandbox's own bins: the policy checks the addresses the connection will use. The
        # clients never queue: the dispatcher bounds what is in flight (the pool, plus one per account beyond it)
        # a receiver's answer is read up to RESPONSE_READ_MAX bytes (see _Answer)
        bounded = {"max_body_size": RESPONSE_READ_MAX, "max_buffer_size": _READ_BUFFER}
        self._client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=_CLIENT_CONNECTIONS,
                                                          resolver=PolicyResolver(policy=self.policy), **bounded)
        self._own_client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=_CLIENT_CONNECTIONS,
                                                              **bounded)
        self._periodic = tornado.ioloop.PeriodicCallback(self.tick, POLL_INTERVAL_MS)
        self._periodic.start()

    def stop(self) -> None:
        self._stopped = True
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
        # hand back what we claimed but did not finish: the next serving process picks it up
        try:
            self.db.execute("UPDATE callback_outbox SET claimed_by=NULL, claimed_at=NULL "
                            "WHERE claimed_by LIKE ? AND status='pending'", (self.instance + ":%",))
        except Exception:  # pragma: no cover - db closed underneath us
            log.debug("could not release callback claims", exc_info=True)
        for client in (self._client, self._own_client):
            if client is not None:
                client.close()
        self._client = self._own_client = None

    # one poll
    def tick(self) -> None:
        if self._stopped:
            return
        scope = begin_scope()  # the settings read once per tick (bwhelpers.sandbox.db.begin_scope)
        try:
            self._tick()
        finally:
            end_scope(scope)

    def _tick(self) -> None:
        self._maybe_prune()
        try:
            rows = self._claim(self._claimed)
        except Exception:
            log.exception("callback outbox claim failed")
            return
        import tornado.ioloop

        loop = tornado.ioloop.IOLoop.current()
        for row in rows:
            self._in_flight += 1
            self.in_flight_by_account[str(row["account_id"])] += 1
            loop.spawn_callback(self._run, dict(row))
        # a backlog (the claim's window was full: more rows may be due behind it): the next claim after the requests
        # waiting now, not after POLL_INTERVAL_MS. Signalled by the window, not by how many own-bin rows were
        # recorded: a window mixing own-bin and HTTP rows, or one of which another process took some ids meanwhile,
        # records fewer than LOCAL_BATCH and would otherwise leave the rest of the backlog to the next poll
        if self.window_full:
            loop.add_callback(self.tick)

    def _claimed(self, conn: Any, rows: list[Any], token: str, wall: float) -> list[Any]:
        """Inside the claim's transaction: record the rows bound for this process's own bins
        (:meth:`_deliver_local`) and claim the others for delivery over HTTP (returned). A recorded callback
        is committed with its claim, so a ``kill -9`` loses either nothing or the whole, still pending, batch."""
        local, http = [], []
        for row in rows:
            target = self.local_bin(row["url"])
            if target is not None:
                local.append((dict(row), target))
            else:
                http.append(row)
        if http:
            conn.execute(f"UPDATE callback_outbox SET claimed_by=?, claimed_at=? WHERE id IN "
                         f"({','.join('?' * len(http))})", (token, wall, *(row["id"] for row in http)))
        if local:
            self._deliver_local(local, conn)
        return http

    def _maybe_prune(self) -> None:
        """Apply the ``retention`` setting (seconds, off when null) every quarter of it (0.25 s to 60 s), and at
        once when the sandbox's clock was moved (``/_sandbox/clock``)."""
        now = time.monotonic()
        moved = self._clock_moved()
        if now < self._next_prune and not moved:
            return
        try:
            retention = retention_seconds(self.db)
            self._next_prune = now + (min(60.0, max(0.25, retention / 4)) if retention is not None else 5.0)
            if retention is not None:
                prune(self.db, retention)
        except Exception:
            log.exception("callback retention pruning failed")
            self._next_prune = now + 5.0

    def _clock_moved(self) -> bool:
        state = clock.state(self.db)
        moved, self._clock_state = state != self._clock_state, state
        return moved

    def _full_accounts(self) -> list[str]:
        """Accounts that may not start another HTTP delivery now: those at their share, and, while the pool is
        full, every account that has one in flight (an account with none is always given one)."""
        pool_full = self._in_flight >= MAX_IN_FLIGHT
        return sorted(a for a, n in self.in_flight_by_account.items()
                      if n > 0 and (pool_full or (self.account_share is not None and n >= self.account_share)))

    def choose(self, candidates: list[Any]) -> list[int]:
        """The ids one claim takes from ``candidates`` (due rows, oldest first): in turns, every account's first,
        then every account's second, ...; in-process bin deliveries (they hold no slot) up to a batch of
        :data:`LOCAL_BATCH`; HTTP deliveries within the pool and each account's share, and one for an account
        with none in flight even when the pool is full."""
        turns: collections.Counter[str] = collections.Counter()
        ranked = []
        for order, row in enumerate(candidates):
            account = str(row["account_id"])
            ranked.append((turns[account], order, row))
            turns[account] += 1
        taken: list[int] = []
        local = 0
        in_flight = self._in_flight
        by_account = collections.Counter(self.in_flight_by_account)
        for _, _, row in sorted(ranked, key=lambda t: (t[0], t[1])):
            account = str(row["account_id"])
            if self.local_bin(row["url"]) is not None:
                if local < LOCAL_BATCH:
                    local += 1
                    taken.append(int(row["id"]))
                continue
            if self.account_share is not None and by_account[account] >= self.account_share:
                continue
            if in_flight >= MAX_IN_FLIGHT and by_account[account] > 0:
                continue
            in_flight += 1
            by_account[account] += 1
            taken.append(int(row["id"]))
        return taken

    def claim(self) -> list[Any]:
        """Claim the due rows this process delivers now (:meth:`choose`); other processes never get them."""
        def claim_all(conn: Any, rows: list[Any], token: str, wall: float) -> list[Any]:
            if rows:
                conn.execute(f"UPDATE callback_outbox SET claimed_by=?, claimed_at=? WHERE id IN "
                             f"({','.join('?' * len(rows))})", (token, wall, *(row["id"] for row in rows)))
            return conn.execute("SELECT * FROM callback_outbox WHERE claimed_by=? AND status='pending' ORDER BY id",
                                (token,)).fetchall()
        return self._claim(claim_all)

    def _claim(self, take: Callable[[Any, list[Any], str, float], list[Any]]) -> list[Any]:
        """The due rows :meth:`choose` picks, read again in one write transaction (so no other process takes
        them meanwhile) and handed to ``take(conn, rows, claim token, wall time)`` there; returns what it returns."""
        self.window_full = False
        # due times are on the sandbox's clock; claims coordinate processes, so they are on the wall clock
        now, wall = clock.now(self.db), time.time()
        stale_before = wall - STALE_CLAIM - retry_policy(self.db)["timeout"]
        due = ("status='pending' AND next_attempt_at<=? AND (claimed_by IS NULL OR claimed_at<?)")
        # cheap read first, so idle polls never take the write lock
        if self.db.query_one(f"SELECT 1 FROM callback_outbox WHERE {due} LIMIT 1", (now, stale_before)) is None:
            return []
        full = tuple(self._full_accounts())
        if full and self._blocked is not None and self._blocked[0] == full and \
                time.monotonic() - self._blocked[1] < BLOCKED_RECHECK:
            return []  # the same accounts hold their shares: nothing of anyone else's was due a moment ago
        skip = f" AND account_id NOT IN ({','.join('?' * len(full))})" if full else ""
        candidates = self.db.query(
            f"SELECT id, account_id, url FROM callback_outbox WHERE {due}{skip} ORDER BY next_attempt_at, id LIMIT ?",
            (now, stale_before, *full, CLAIM_WINDOW))
        self._blocked = (full, time.monotonic()) if full and not candidates else None
        self.window_full = len(candidates) >= CLAIM_WINDOW
        ids = self.choose(candidates)
        if not ids:
            return []
        self._seq += 1
        token = f"{self.instance}:{self._seq}"
        with self.db.transaction() as conn:
            rows = conn.execute(claimed_rows_sql(len(ids)), (*ids, now, stale_before)).fetchall()
            return take(conn, rows, token, wall)

    # -- the sandbox's own bins, in-process ---------------------------------------------------------
    def local_bin(self, url: str) -> tuple[str, str, str, str] | None:
        """(host header, path, query, bin name) when ``url`` is one of this process's own bins reached directly
        (:attr:`local_origins`), else None (delivered over HTTP like any other target). Remembered per URL (an
        application's few callback URLs come back with every message) while :attr:`local_origins` is the same."""
        if self._local_seen[0] is not self.local_origins:
            self._local_seen = (self.local_origins, {})
        seen = self._local_seen[1]
        if url in seen:
            return seen[url]
        found = self._local_bin(url)
        if len(seen) >= 1024:
            seen.clear()
        seen[url] = found
        return found

    def _local_bin(self, url: str) -> tuple[str, str, str, str] | None:
        if not self.local_origins or not url.startswith("http://"):
            return None
        try:
            parts = urlsplit(url)
            origin = ((parts.hostname or "").lower(), parts.port or 80)
        except ValueError:
            return None
        path = parts.path
        if self.bin_prefix:  # a workshop's bins are below its prefix, and its handlers see the path without it
            if not path.startswith(self.bin_prefix + "/"):
                return None
            path = path[len(self.bin_prefix):]
        if origin not in self.local_origins or parts.fragment or "@" in parts.netloc or \
                not path.startswith(BIN_PATH) or not _LOCAL_BIN_NAME.fullmatch(path[len(BIN_PATH):]):
            return None
        return parts.netloc, path, parts.query, path[len(BIN_PATH):]

    def _deliver_local(self, batch: list[tuple[dict[str, Any], tuple[str, str, str, str]]], conn: Any) -> None:
        """Record callbacks to this process's own bins without HTTP, inside the caller's transaction (the claim's):
        the same request the bin would record from :meth:`_post` (headers as tornado's client sends them, the 401
        challenge and the resend with the callback credentials, ``?require_auth=``/``?status=``, quotas), its
        attempt, and the outbox row's new state. The batch is written with one statement per table; when a row
        raises, the batch is rolled back and recorded again row by row, each in a savepoint of its own (the one that
        raises is rolled back alone and counted as a failed attempt)."""
        policy = retry_policy(self.db)
        budget = self.budget.snapshot()
        conn.execute("SAVEPOINT local_batch")
        try:
            _LocalBatch(self, conn, policy).record(batch)
        except Exception:
            conn.execute("ROLLBACK TO local_batch")
            self.budget.restore(budget)
            for one in batch:
                conn.execute("SAVEPOINT local_delivery")
                try:
                    _LocalBatch(self, conn, policy).record([one])
                except Exception:
                    conn.execute("ROLLBACK TO local_delivery")
                    log.exception("callback %s delivery crashed", one[0].get("id"))
                    self._finish(one[0], ok=False, error="internal sandbox error while delivering", policy=policy)
                conn.execute("RELEASE local_delivery")
        conn.execute("RELEASE local_batch")

    def _postpone(self, row: dict[str, Any], wait: float) -> None:
        """The account's ``callback_attempts`` quota for this minute is spent: later, uncounted."""
        self.db.execute("UPDATE callback_outbox SET next_attempt_at=?, claimed_by=NULL, claimed_at=NULL, "
                        "last_error=? WHERE id=?", (clock.now(self.db) + wait, f"waiting: this account made its "
                        f"{quotas.limit(self.db, 'callback_attempts')} callback attempts of this minute", row["id"]))

    async def _run(self, row: dict[str, Any]) -> None:
        try:
            await self.deliver(row)
        except Exception:  # pragma: no cover - never let the loop die
            log.exception("callback %s delivery crashed", row.get("id"))
            try:
                self._finish(row, ok=False, error="internal sandbox error while delivering")
            except Exception:
                log.exception("callback %s could not be rescheduled", row.get("id"))
        finally:
            self._in_flight -= 1
            account = str(row["account_id"])
            self.in_flight_by_account[account] -= 1
            if self.in_flight_by_account[account] <= 0:
                del self.in_flight_by_account[account]

    async def _post(self, row: dict[str, Any], attempt: int, auth: bool,
                    timeout: float) -> tuple[int | None, "_Answer | None", str | None]:
        import tornado.httpclient

        headers = {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
        own = self.policy.is_own_bin(row["url"])
        if self.signing_key and own:
            headers[DELIVERY_HEADER] = delivery_signature.sign(self.signing_key, str(row["account_id"]), row["url"])
        if auth:
            token = base64.b64encode(f"{row['cb_user']}:{row['cb_password'] or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        answer = _Answer()
        request = tornado.httpclient.HTTPRequest(
            row["url"], method="POST", body=row["body"], headers=headers, request_timeout=timeout,
            connect_timeout=timeout, follow_redirects=False, validate_cert=False, decompress_response=False,
            header_callback=answer.header_line, streaming_callback=answer.discard)
        started = time.monotonic()
        code: int | None = None
        response: _Answer | None = None
        error: str | None = None
        try:
            client = self._own_client if own else self._client
            if client is None:
                raise RuntimeError("the sandbox is stopping")
            if not own:
                self.policy.check_url(row["url"])
            fetched = await client.fetch(request, raise_error=False)
            code = fetched.code
            if code == 599 and isinstance(fetched.error, CallbackRefused):
                raise fetched.error
            response = answer
            if code == 599:
                error = str(fetched.error or "connection failed")
                code = None
            elif not 200 <= code < 300:
                error = f"HTTP {code}"
        except CallbackRefused as exc:  # no status, no response detail: the log must not map the host's network
            error = f"{REFUSED}: {exc.reason}"
            response, code = None, None
        except Exception as exc:  # connection refused, DNS, timeout, client closed
            # once the receiver's head arrived, its status is its answer: the body (over RESPONSE_READ_MAX bytes, cut
            # short or late) is never used
            code = answer.code
            if code is None:
                error = f"{type(exc).__name__}: {exc}"
            else:
                response = answer
                error = None if 200 <= code < 300 else f"HTTP {code}"
        # a policy refusal's time is not shown: how long its name took to resolve (or not) would tell whether it
        # exists on the hub's network (review F5, after rev23h H7)
        elapsed = None if error is not None and error.startswith(REFUSED) else 1000.0 * (time.monotonic() - started)
        if code == 401 and not auth:
            challenge = (response.headers.get("WWW-Authenticate") or "") if response is not None else ""
            if not challenge.lower().startswith("basic"):
                error = "HTTP 401 without a WWW-Authenticate: Basic challenge (credentials are not sent)"
            elif not row.get("cb_user"):
                error = "HTTP 401 Basic challenge, but the application has no callback credentials"
            else:
                error = "HTTP 401 Basic challenge: resending at once with the callback credentials"
        log_attempt(self.db, callback_id=row["id"], account_id=row["account_id"], message_id=row["message_id"],
                    event_type=row["event_type"], recipient=row["recipient"], attempt=attempt, url=row["url"],
                    status_code=code, error=error, auth_used=auth, elapsed_ms=elapsed, instance=self.instance)
        return code, response, error

    async def deliver(self, row: dict[str, Any]) -> None:
        wait = self.budget.take(self.db, str(row["account_id"]))
        if wait is not None:
            self._postpone(row, wait)
            return
        policy = retry_policy(self.db)
        attempt = int(row["attempts"]) + 1
        code, response, error = await self._post(row, attempt, auth=False, timeout=policy["timeout"])
        if error and error.startswith(REFUSED):  # never retried: the target stays refused
            self._finish(row, ok=False, error=error, policy={**policy, "max_attempts": 1})
            return
        if code == 401 and row.get("cb_user") and response is not None and \
                (response.headers.get("WWW-Authenticate") or "").lower().startswith("basic"):
            code, response, error = await self._post(row, attempt, auth=True, timeout=policy["timeout"])
        ok = code is not None and 200 <= code < 300
        self._finish(row, ok=ok, error=error, policy=policy)

    def _finish(self, row: dict[str, Any], ok: bool, error: str | None = None,
                policy: dict[str, Any] | None = None) -> None:
        now = clock.now(self.db)
        attempts = int(row["attempts"]) + 1
        if ok:
            self.db.execute("UPDATE callback_outbox SET status='delivered', attempts=?, delivered_at=?, "
                            "claimed_by=NULL, claimed_at=NULL, last_error=NULL WHERE id=?", (attempts, now, row["id"]))
            return
        policy = policy or retry_policy(self.db)
        if attempts >= policy["max_attempts"]:
            self.db.execute("UPDATE callback_outbox SET status='gave-up', attempts=?, claimed_by=NULL, "
                            "claimed_at=NULL, last_error=? WHERE id=?", (attempts, error, row["id"]))
            log.warning("callback %s to %s gave up after %d attempts: %s", row["id"], row["url"], attempts, error)
            return
        backoff = policy["backoff"]
        delay = backoff[min(attempts - 1, len(backoff) - 1)] if backoff else 1.0
        self.db.execute("UPDATE callback_outbox SET attempts=?, next_attempt_at=?, claimed_by=NULL, claimed_at=NULL, "
                        "last_error=? WHERE id=?", (attempts, now + delay, error, row["id"]))


class _Answer:
    """What a delivery reads of a receiver's answer: the status line and the headers (``header_callback``); the
    body is counted and dropped as it comes (``streaming_callback``), never kept nor decoded (the client stops
    reading past :data:`RESPONSE_READ_MAX` bytes)."""

    def __init__(self) -> None:
        import tornado.httputil

        self.code: int | None = None
        self.headers = tornado.httputil.HTTPHeaders()
        self.body_bytes = 0

    def header_line(self, line: str) -> None:
        import tornado.httputil

        if line.startswith("HTTP/"):
            self.code = tornado.httputil.parse_response_start_line(line.rstrip()).code
            self.headers = tornado.httputil.HTTPHeaders()
        elif line.strip():
            self.headers.parse_line(line)

    def discard(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)


def _headers_json(host: str, length: str) -> str:
    """``json.dumps`` of the headers :meth:`_LocalBatch.post` records (the same text, without encoding the
    constant ones again for every callback)."""
    return f'{_HEADERS_JSON[0]}{json.dumps(host)}, "Content-Length": {json.dumps(length)}{_HEADERS_JSON[1]}'


_HEADERS_JSON = ('{"Content-Type": ' + json.dumps(CONTENT_TYPE) + ', "User-Agent": ' + json.dumps(USER_AGENT)
                 + ', "Connection": "close", "Host": ', '}')


class _LocalBatch:
    """One batch of callbacks recorded in this process's own bins (:meth:`Dispatcher._deliver_local`): what each
    would have sent and what the bin answers, then one ``executemany`` per table. While a quota on bins or stored
    bytes is set, each request is stored at once instead, so the next one's quota check counts it."""

    def __init__(self, dispatcher: "Dispatcher", conn: Any, policy: dict[str, Any]) -> None:
        self.d, self.conn, self.policy = dispatcher, conn, policy
        self.db = dispatcher.db
        self.now = clock.now(conn)
        lim = quotas.limits(self.db)
        #: a quota reads what the batch stored so far: store each request at once
        self.strict = any(lim.get(k) is not None for k in ("bins", "bin_requests", "stored_bytes"))
        self.db_full: quotas.QuotaExceeded | None = None
        try:
            quotas.check_db_size(self.db)
        except quotas.QuotaExceeded as exc:
            self.db_full = exc
        #: no callback_attempts quota: no attempt is counted (AttemptBudget.take would answer None for each)
        self.unbudgeted = quotas.limit(self.db, "callback_attempts") is None
        self.configs: dict[str, dict[str, Any] | None] = {}
        self.bins: list[tuple[Any, ...]] = []
        self.new_bins: dict[str, None] = {}
        self.attempts: list[tuple[Any, ...]] = []
        self.done: dict[str, list[tuple[Any, ...]]] = {"delivered": [], "gave-up": [], "retry": []}

    def record(self, batch: list[tuple[dict[str, Any], tuple[str, str, str, str]]]) -> None:
        for row, target in batch:
            wait = None if self.unbudgeted else self.d.budget.take(self.db, str(row["account_id"]), self.now)
            if wait is not None:
                self.d._postpone(row, wait)
                continue
            attempt = int(row["attempts"]) + 1
            code, error = self.post(row, target, attempt, auth=False)
            if code == 401 and row.get("cb_user"):
                code, error = self.post(row, target, attempt, auth=True)
            self.finish(row, ok=code is not None and 200 <= code < 300, error=error)
        self.flush()

    def config(self, key: str) -> dict[str, Any] | None:
        if key not in self.configs:
            self.configs[key] = bin_config(self.db, key)
        return self.configs[key]

    def post(self, row: dict[str, Any], target: tuple[str, str, str, str], attempt: int,
             auth: bool) -> tuple[int | None, str | None]:
        host, path, query, name = target
        started = time.monotonic()
        body = row["body"]
        account = str(row["account_id"])
        # what tornado's simple_httpclient sends for _post's request, in its order (Authorization is never recorded)
        headers = {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT, "Connection": "close", "Host": host,
                   "Content-Length": str(len(body.encode("utf-8")))}
        args = parse_qs(query, keep_blank_values=True) if query else {}

        def arg(key: str) -> str | None:
            values = args.get(key)
            return values[-1].strip() if values else None  # RequestHandler.get_argument: the last, stripped

        key = f"{account}/{name}"
        error: str | None = None
        try:
            if self.db_full is not None:
                raise self.db_full
            if self.strict:
                quotas.check_bins(self.db, account, key)
                quotas.check_stored(self.db, account, len(body))
            creds = (str(row["cb_user"]), str(row["cb_password"] or "")) if auth else None
            config = self.config(key)
            code, authorized = bin_answer(config or {}, arg("require_auth") or None, arg("status") or None,
                                          creds, auth)
            request = (key, self.now, "POST", path, query, _headers_json(host, headers["Content-Length"]),
                       1 if authorized else 0, code, body)
            if self.strict:
                insert_bin_request(self.conn, key, method="POST", path=path, query=query, headers=headers,
                                   authorized=authorized, status=code, body=body, exists=config is not None)
            else:
                if config is None:
                    self.new_bins[key] = None
                self.bins.append(request)
        except quotas.QuotaExceeded as exc:
            code = exc.status
        except BadBinStatus:
            code = 400
        if not 200 <= code < 300:
            error = f"HTTP {code}"
        if code == 401 and not auth:  # the bin's challenge is always Basic
            error = ("HTTP 401 Basic challenge: resending at once with the callback credentials" if row.get("cb_user")
                     else "HTTP 401 Basic challenge, but the application has no callback credentials")
        self.attempts.append((row["id"], row["account_id"], row["message_id"], row["event_type"], row["recipient"],
                              attempt, self.now, row["url"], code, error, 1 if auth else 0,
                              round(1000.0 * (time.monotonic() - started), 1), self.d.instance))
        return code, error

    def finish(self, row: dict[str, Any], ok: bool, error: str | None) -> None:
        """The outbox row's new state (as :meth:`Dispatcher._finish` writes it)."""
        attempts = int(row["attempts"]) + 1
        if ok:
            self.done["delivered"].append((attempts, self.now, row["id"]))
        elif attempts >= self.policy["max_attempts"]:
            self.done["gave-up"].append((attempts, error, row["id"]))
            log.warning("callback %s to %s gave up after %d attempts: %s", row["id"], row["url"], attempts, error)
        else:
            backoff = self.policy["backoff"]
            delay = backoff[min(attempts - 1, len(backoff) - 1)] if backoff else 1.0
            self.done["retry"].append((attempts, self.now + delay, error, row["id"]))

    def flush(self) -> None:
        conn = self.conn
        if self.new_bins:
            conn.executemany("INSERT OR IGNORE INTO request_bins (name, created) VALUES (?,?)",
                             [(key, self.now) for key in self.new_bins])
        if self.bins:
            conn.executemany(BIN_REQUEST_SQL, self.bins)
        if self.attempts:
            conn.executemany(ATTEMPT_SQL, self.attempts)
        if self.done["delivered"]:
            conn.executemany("UPDATE callback_outbox SET status='delivered', attempts=?, delivered_at=?, "
                             "claimed_by=NULL, claimed_at=NULL, last_error=NULL WHERE id=?", self.done["delivered"])
        if self.done["gave-up"]:
            conn.executemany("UPDATE callback_outbox SET status='gave-up', attempts=?, claimed_by=NULL, "
                             "claimed_at=NULL, last_error=? WHERE id=?", self.done["gave-up"])
        if self.done["retry"]:
            conn.executemany("UPDATE callback_outbox SET attempts=?, next_attempt_at=?, claimed_by=NULL, "
                             "claimed_at=NULL, last_error=? WHERE id=?", self.done["retry"])


# -- request bins ---------------------------------------------------------------------------------

def bin_config(db: Database, name: str) -> dict[str, Any] | None:
    """A bin's configuration (None when the bin does not exist yet; cached with the table)."""
    found = db.derived(("bin", name), lambda: _bin_config(db, name))
    return None if found is None else dict(found)


def _bin_config(db: Database, name: str) -> dict[str, Any] | None:
    row = db.query_one("SELECT * FROM request_bins WHERE name=?", (name,))
    if row is None:
        return None
    return {"name": row["name"], "require_auth": row["require_auth"], "status": row["status"],
            "created": iso(row["created"])}


def configure_bin(db: Database, name: str, require_auth: str | None = None, status: int | None = None) -> dict[str, Any]:
    with db.transaction() as conn:
        conn.execute("INSERT INTO request_bins (name, require_auth, status, created) VALUES (?,?,?,?) "
                     "ON CONFLICT(name) DO UPDATE SET require_auth=excluded.require_auth, status=excluded.status",
                     (name, require_auth, status, clock.now(conn)))
    return bin_config(db, name) or {}


class BadBinStatus(ValueError):
    """A bin's answer status (``?status=`` or its configuration) that is not an HTTP status code."""


def bin_answer(config: dict[str, Any], require_arg: str | None, status_arg: str | None,
               creds: tuple[str, str] | None, has_authorization: bool) -> tuple[int, bool]:
    """(the status a bin answers a request with, was the request authorized): ``?require_auth=user:pass`` (or the
    bin's configuration) answers 401 until the right Basic credentials come; ``?status=`` (or the configuration)
    picks the answer, 204 by default. Raises :class:`BadBinStatus`."""
    require = require_arg or config.get("require_auth")
    try:
        status = int(status_arg) if status_arg else int(config.get("status") or 204)
    except ValueError:
        raise BadBinStatus(status_arg) from None
    if not 200 <= status <= 599:
        raise BadBinStatus(status)
    if require:
        authorized = creds is not None and f"{creds[0]}:{creds[1]}" == require
        if not authorized:
            status = 401
    else:
        authorized = has_authorization
    return status, authorized


BIN_REQUEST_SQL = ("INSERT INTO bin_requests (name, time, method, path, query, headers, authorized, status, body) "
                   "VALUES (?,?,?,?,?,?,?,?,?)")


def insert_bin_request(conn: Any, name: str, *, method: str, path: str, query: str, headers: dict[str, str],
                       authorized: bool, status: int, body: str, exists: bool = False) -> int:
    """Store one request of bin ``name`` inside the caller's transaction (creating the bin unless it ``exists``);
    returns its id."""
    now = clock.now(conn)
    if not exists:
        conn.execute("INSERT OR IGNORE INTO request_bins (name, created) VALUES (?,?)", (name, now))
    cur = conn.execute(BIN_REQUEST_SQL,
                       (name, now, method, path, query, json.dumps(headers), 1 if authorized else 0, status, body))
    return int(cur.lastrowid or 0)


def record_bin_request(db: Database, name: str, *, method: str, path: str, query: str, headers: dict[str, str],
                       authorized: bool, status: int, body: str) -> int:
    with db.transaction() as conn:
        return insert_bin_request(conn, name, method=method, path=path, query=query, headers=headers,
                                  authorized=authorized, status=status, body=body)


#: a page of a bin holds at most this many requests, and stops early once its answer would pass paging.PAGE_BYTES
#: (clients follow ``next`` for the older pages: SandboxControl.bin does)
BIN_PAGE_MAX = 1000


def bin_contents(db: Database, name: str, limit: int = BIN_PAGE_MAX, before: int | None = None) -> dict[str, Any]:
    """The newest ``limit`` requests of a bin (older than ``before``), oldest first, and their callback events;
    a page stops early once its answer (each body three times: as sent, parsed, among the events) would pass
    :data:`~.paging.PAGE_BYTES`, but always holds at least one request. ``next`` is the ``before`` cursor of the
    older page (None when there is none); ``count`` is how many the bin holds."""
    requests_ = []
    events: list[Any] = []
    sql, args = "SELECT * FROM bin_requests WHERE name=?", list[Any]([name])
    if before is not None:
        sql += " AND id<?"
        args.append(before)
    # a cursor, not a list: only the rows the page takes are read (a page of small requests, not 1,001 big ones)
    cursor = db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, min(limit, BIN_PAGE_MAX) + 1))
    rows, more = paging.newest(cursor, min(limit, BIN_PAGE_MAX),
                               lambda r: 3 * len(r["body"] or "") + len(r["headers"] or ""))
    cursor.close()
    total = db.count("SELECT COUNT(*) FROM bin_requests WHERE name=?", (name,))
    for r in reversed(rows):
        parsed: Any = None
        try:
            parsed = json.loads(r["body"]) if r["body"] else None
        except ValueError:
            parsed = None
        requests_.append({
            "id": r["id"], "time": iso(r["time"]), "method": r["method"], "path": r["path"], "query": r["query"],
            "headers": json.loads(r["headers"]), "authorized": bool(r["authorized"]), "status": r["status"],
            "body": r["body"], "json": parsed,
        })
        if 200 <= r["status"] < 300 and parsed is not None:
            events.extend(parsed if isinstance(parsed, list) else [parsed])
    return {"name": name, "config": bin_config(db, name), "count": total, "requests": requests_,
            "events": events, "next": rows[-1]["id"] if more else None}


def delete_bin(db: Database, name: str) -> int:
    with db.transaction() as conn:
        n = conn.execute("DELETE FROM bin_requests WHERE name=?", (name,)).rowcount
        conn.execute("DELETE FROM request_bins WHERE name=?", (name,))
    return n
