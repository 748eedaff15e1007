"""
bwhelpers.sandbox.workshop.tenants
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Whose turn a workshop page takes (:mod:`bwhelpers.sandbox.fair_share`), and the hub's answers on the sandbox's clock.

The emulated APIs' credentials name their account before a request queues. The workshop's own pages carry other
proofs, and without them every page of a room behind one address (a NAT'd classroom, the hub's own machine) would
be one tenant, whose turns any one of them could fill (issue 23, review 23b N1):

* a **hub token** (``Authorization: token …``: scripts, the host's board) or the service's **HubOAuth cookie** (a
  browser after the hub's login) is its hub user: a participant's tenant is their account (their kernel and their
  browser share one turn), an admin without an account (the host) is ``hub:<name>``, and any other hub user without
  an account (a name that only logged in: names are free with the room password) ``guest:<name>``, which the
  admission ledger counts with the outsiders (:func:`bwhelpers.sandbox.admission.outsider`, rev23e E3: 128 such
  names filled the room-wide bound);
* a browser's **first page** (``/``, ``/me``, ``/me/phone``, ``/board`` asking for HTML with no credentials at all:
  its handler only redirects to the hub's login) is ``first:address:<ip>``, an allowance and turn of its own outside
  every room-wide bound (:data:`bwhelpers.sandbox.admission.FIRST_PAGE`, rev23e E2 residue), and so is the hub's
  OAuth redirect back to the service that follows it, when its ``state`` is the one the first page signed
  (``first:oauth:address:<ip>``);
* a **phone page opened by its signed link** (``?t=``: the page and its state polls) is the link's account (one
  HMAC; an expired or forged link is not).

The hub's answer for a token is read from HubAuth's cache when it is there (no waiting). Otherwise the token is
checked with the hub *before* the request queues, asynchronously, and the answer lands in the cache the handler
reads next, so the hub is asked once and the event loop never waits for it. Not checked ahead (the request then
waits in its address's turns, as any request without verified credentials): a token that failed lately from this
address (the failure throttle of :mod:`bwhelpers.sandbox.auth_throttle`), or when the address already has
:data:`MAX_CHECKS_PER_ADDRESS` checks in flight (so a flood of made-up tokens is one address's worth of hub
requests at a time). Of those places, a token that is not of the hub's shape (:data:`HUB_TOKEN_SHAPE`: every token
JupyterHub makes is a UUID4's hex) may take only :data:`ODD_TOKEN_CHECKS`: a flood of random strings from the
room's address never keeps a freshly minted token (the host's curl, a script) from its check (rev23f F1); and a
token of the hub's shape past its address's places waits for one (:attr:`HubCheck.queued`, first come first
served, the admission ledger's ``first:wait:`` allowance, bounded only by the connections), never refused for want
of one, however many connections a flood holds (rev23g G1): behind a flood of made-up tokens of the hub's shape it
waits for the hub's answers to those before it (nothing proves a token before the hub is asked). A token the hub
refused then waits for its answer in its address's turns for refused ones (:data:`~bwhelpers.sandbox.fair_share.
REFUSED`: all of them, paced), so a flood's connections wait there and not in the queue for the hub, which stays
short and is asked steadily.

A token the hub named a user for before (in this process's life, or before a restart: the db keeps a digest of it
and its tenant, ``workshop_known_tokens``) keeps naming that user's tenant when HubAuth's answer has expired: the request takes its user's allowance and turns (a proven tenant, never refused because
outsiders fill what unproven requests may hold, rev23e E2) and its handler asks the hub again, as HubAuth does
for every expired answer. This only decides whose allowance and turn a request takes, never whether it is
authorised: a revoked token is still refused by the handler.

HubAuth remembers the hub's answers (a user, or "no such token") for :data:`HUB_CACHE_SECONDS`, on the sandbox's
clock (:class:`HubAnswers`): a token the hub has revoked or let expire is refused at most that long after, not the
5 minutes of JupyterHub's default ``cache_max_age``.
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import tornado.httputil
import tornado.web
from jupyterhub.services.auth import HubAuth, HubOAuth

from .. import clock
from ..admission import FIRST_PAGE
from ..auth_throttle import THROTTLE
from ..db import Database
from ..forwarded import client_key
from ..disabled import any_disabled
from ..phone import models as phone_models

#: seconds HubAuth keeps the hub's answer for a token (JupyterHub's default is 300)
HUB_CACHE_SECONDS = 30
#: hub checks ahead of the queue at once for one client address (tokens in ``Authorization``; the service's signed
#: cookie has as many of its own), of which :data:`ODD_TOKEN_CHECKS` for tokens not of the hub's shape
MAX_CHECKS_PER_ADDRESS = 4
#: checks at once per address of tokens not of the hub's shape (:data:`HUB_TOKEN_SHAPE`): a flood of random
#: strings never takes the places of a token the hub could have made (rev23f F1)
ODD_TOKEN_CHECKS = 1
#: a token as JupyterHub makes every one (``jupyterhub.utils.new_token``: a UUID4's 32 hex digits, API tokens, the
#: ``jupyterhub token`` command's and OAuth access tokens alike)
HUB_TOKEN_SHAPE = re.compile(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")
#: the hub's session cookie (HubAuth keys its cache with it)
SESSION_COOKIE = "jupyterhub-session-id"
#: the longest hub token asked about (JupyterHub's are 32 characters): longer is nobody's, and never sent to the hub
MAX_TOKEN_CHARS = 256
#: the longest Cookie header or URL read here, before the request waits its turn (a browser's cookies stay well
#: below; longer ones wait in their address's turns and the handler answers them)
MAX_READ_CHARS = 8192
_PHONE = "/_sandbox/phone/"
_CALLBACK = "/oauth_callback"
#: the pages a browser opens first (their handlers redirect a visit without credentials to the hub's login: a first
#: page, :meth:`Tenants.first_page`), as paths below the prefix without a trailing slash
FIRST_PAGES = frozenset({"", "/me", "/me/phone", "/board"})
#: tokens whose user the hub named, remembered at most (then the least recently used is forgotten)
MAX_KNOWN_TOKENS = 10_000
#: OAuth logins begun by first pages and not back yet, kept at most (about 0.7 KB each; then the oldest is forgotten)
MAX_PENDING_LOGINS = 20_000
#: tokens remembered per user at most (then that user's least recently used is forgotten): one participant minting
#: tokens never pushes out anyone else's (rev23e E5)
MAX_KNOWN_PER_USER = 8


log = logging.getLogger("bwhelpers.sandbox.workshop")

#: the class HubAuth's ``cache`` must be (an instance of it: the trait's type)
ExpiringDict: type = HubAuth.class_traits()["cache"].klass


class HubAnswers(ExpiringDict):
    """HubAuth's cache of the hub's answers, whose ages follow the sandbox's clock (``now``), so tests move time
    instead of sleeping. An answer stored at a later time than the clock now shows (the clock was set back) is
    expired too."""

    def __init__(self, max_age: float, now: Callable[[], float]):
        self._now = now
        super().__init__(max_age)
        self._last_purge = now()

    def __setitem__(self, key: Any, value: Any) -> None:
        self._maybe_purge()
        self.timestamps[key] = self._now()
        self.values[key] = value

    def _expired(self, stamp: float, now: float) -> bool:
        return self.max_age > 0 and not 0 <= now - stamp <= self.max_age

    def _check_age(self, key: Any) -> None:
        if key not in self.values:
            return
        if self._expired(self.timestamps[key], self._now()):
            self.values.pop(key, None)
            self.timestamps.pop(key, None)
        self._maybe_purge()

    def _maybe_purge(self) -> None:
        if self.purge_interval > 0 and not 0 <= self._now() - self._last_purge < self.purge_interval:
            self.purge_expired()

    def purge_expired(self) -> None:
        now = self._last_purge = self._now()
        for key in [k for k, stamp in self.timestamps.items() if self._expired(stamp, now)]:
            self.values.pop(key, None)
            self.timestamps.pop(key, None)

    def clear(self) -> None:
        self.values.clear()
        self.timestamps.clear()
        self._last_purge = self._now()


class PendingLogins(ExpiringDict):
    """HubOAuth's OAuth states (a login a first page began, kept until the hub's redirect back or 10 minutes), at most
    ``limit``, the oldest forgotten first: first pages are anyone's and take no room-wide place
    (:data:`bwhelpers.sandbox.admission.FIRST_PAGE`), so without a bound a flood of them would grow the service's
    memory for 10 minutes each."""

    def __init__(self, max_age: float, limit: int):
        super().__init__(max_age)
        self.limit = limit

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self.values) > self.limit:
            oldest = next(iter(self.values))
            self.values.pop(oldest, None)
            self.timestamps.pop(oldest, None)


def hub_auth(db: Database) -> HubOAuth:
    """The service's HubOAuth (the one its handlers use), remembering the hub's answers :data:`HUB_CACHE_SECONDS`
    on the sandbox's clock, and at most :data:`MAX_PENDING_LOGINS` logins begun."""
    auth = HubOAuth.instance()
    if not isinstance(auth.cache, HubAnswers):
        auth.cache_max_age = HUB_CACHE_SECONDS
        auth.cache = HubAnswers(HUB_CACHE_SECONDS, lambda: clock.now(db))
    if not isinstance(auth._oauth_states, PendingLogins):
        auth._oauth_states = PendingLogins(auth.oauth_state_max_age, MAX_PENDING_LOGINS)
    return auth


def credential_ident(token: str) -> str:
    """The failure throttle's name for a hub token (a digest: the token is never kept)."""
    return "hub\0" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


def cache_key(token: str, session: str) -> str:
    """HubAuth's cache key of a token (as ``HubAuth.user_for_token`` builds it)."""
    return f"token:{session}:{hashlib.sha256(token.encode('utf8', 'replace')).hexdigest()}"


def _cookies(headers: Any) -> dict[str, str]:
    """The request's cookies, parsed as tornado parses them for the handler."""
    out: dict[str, str] = {}
    for raw in headers.get_list("Cookie"):
        out.update(tornado.httputil.parse_cookie(raw))
    return out


class HubCheck:
    """One of an address's checks of a hub token: the hub is asked when it is awaited (once its request's body is
    in); :meth:`close` when it never will be (the request was refused, timed out or left) gives the address's place
    back, as the answer does (an outsider's abandoned requests would otherwise use up its address's checks for
    good). A check made without a place (``queued``: a token of the hub's shape while its address's places are all
    taken) waits for one, first come first served, and then asks the hub (rev23f F1)."""

    __slots__ = ("tenants", "token", "session", "address", "state", "key", "signed", "queued", "shaped", "future")

    def __init__(self, tenants: Tenants, token: str, session: str, address: str, key: str = "",
                 signed: bool = False, queued: bool = False, shaped: bool = False):
        self.tenants, self.token, self.session, self.address = tenants, token, session, address
        self.key = key or cache_key(token, session)
        #: the token came in the service's signed cookie (not made up): the admission ledger's ``signed:`` allowance
        self.signed = signed
        #: made without a place: waits for one
        self.queued = queued
        #: a token of the hub's shape in ``Authorization``: the admission ledger's ``first:wait:`` allowance, whether
        #: it had a place or waits for one (its request holds that allowance until answered, one at a time per
        #: address after the hub's answer: in the 16 of ``check:`` a flood's answered checks filled it)
        self.shaped = shaped or queued
        self.future: asyncio.Future[None] | None = None
        self.state = "new"

    def __await__(self) -> Any:
        return self._ask().__await__()

    async def _ask(self) -> str | None:
        if self.state != "new":
            return None
        if self.queued:
            self.state = "waiting"
            self.future = asyncio.get_running_loop().create_future()
            self.tenants._queue.setdefault(self.address, collections.deque()).append(self.future)
            try:
                await self.future  # a place passed on to it (Tenants._done)
            except asyncio.CancelledError:  # closed while it waited: it holds no place
                return None
        self.state = "asked"
        try:
            return await self.tenants._ask_hub(self.token, self.session, self.key)
        finally:
            self.tenants._done(self.address)

    def close(self) -> None:
        """The request is never served (or its client left): give back the place, or leave the queue; a check
        already asked is left alone."""
        if self.state == "new":
            self.state = "closed"
            if not self.queued:
                self.tenants._done(self.address)
        elif self.state == "waiting" and self.future is not None:
            self.state = "closed"
            queue = self.tenants._queue.get(self.address)
            if queue is not None and self.future in queue:
                queue.remove(self.future)
                if not queue:
                    del self.tenants._queue[self.address]
            self.future.cancel()


class Tenants:
    """The tenant of a workshop page (the hook :meth:`~bwhelpers.sandbox.server.SandboxApplication.tenant_hint`)."""

    def __init__(self, db: Database, auth: HubOAuth, cookie_secret: bytes, prefix: str, link_key: str | None):
        self.db, self.auth, self.cookie_secret, self.prefix, self.link_key = db, auth, cookie_secret, prefix, link_key
        self._checking: dict[str, int] = {}
        #: checks waiting for a place, per address lane, first come first served
        self._queue: dict[str, collections.deque[asyncio.Future[None]]] = {}
        #: a token's digest -> the tenant the hub's answer named (kept after HubAuth's answer expires), least
        #: recently used first
        self._known: dict[str, str] = {}
        #: tenant -> its remembered token digests, least recently used first
        self._known_of: dict[str, dict[str, None]] = {}
        self._load()

    def _load(self) -> None:
        """What the service remembered before a restart (``workshop_known_tokens``), least recently named first:
        after a restart the room's tokens are still their users' (rev23e E5: right after a restart a flood of made-up
        tokens from the room's address made every page whose token was not checked yet 429)."""
        try:
            rows = self.db.query("SELECT digest, tenant FROM workshop_known_tokens ORDER BY used, rowid")
        except sqlite3.Error:  # pragma: no cover - a db without the table (models not imported): nothing kept
            return
        for row in rows:
            self._place("hub\0" + str(row["digest"]), str(row["tenant"]))

    def _place(self, digest: str, tenant: str) -> list[str]:
        """Put ``digest`` (most recently used) under ``tenant`` in memory; returns the digests forgotten for it."""
        gone: list[str] = []
        old = self._known.pop(digest, None)
        if old is not None:
            self._known_of.get(old, {}).pop(digest, None)
        self._known[digest] = tenant  # the most recently used last
        mine = self._known_of.setdefault(tenant, {})
        mine[digest] = None
        while len(mine) > MAX_KNOWN_PER_USER:
            first = next(iter(mine))
            self._known.pop(first, None)
            del mine[first]
            gone.append(first)
        while len(self._known) > MAX_KNOWN_TOKENS:
            first = next(iter(self._known))
            owner = self._known.pop(first)
            self._known_of.get(owner, {}).pop(first, None)
            if not self._known_of.get(owner, True):
                del self._known_of[owner]
            gone.append(first)
        return gone

    def _remember(self, token: str, tenant: str | None) -> str | None:
        """Remember that ``token`` names ``tenant`` (keyed by the token alone: a client-chosen session id makes no
        new entry), at most :data:`MAX_KNOWN_PER_USER` per user and :data:`MAX_KNOWN_TOKENS` in all, the least
        recently used forgotten first."""
        if tenant is None or tenant.startswith("guest:"):  # a guest's is asked of the hub again
            return tenant
        digest = credential_ident(token)
        new = self._known.get(digest) != tenant
        gone = self._place(digest, tenant)
        if new or gone:  # kept in the db too (a digest, never the token): a write per newly named token only
            try:
                with self.db.transaction() as conn:
                    if new:
                        conn.execute("INSERT OR REPLACE INTO workshop_known_tokens (digest, tenant, used) VALUES "
                                     "(?,?,?)", (digest.split("\0", 1)[1], tenant, clock.now(conn)))
                    conn.executemany("DELETE FROM workshop_known_tokens WHERE digest=?",
                                     [(d.split("\0", 1)[1],) for d in gone])
            except sqlite3.Error as exc:  # fairness only: the memory still has it
                log.warning("could not keep a known hub token: %s", exc)
        return tenant

    def hub_token(self, headers: Any) -> tuple[str, str, bool] | None:
        """(token, session id, signed) of a hub token in ``Authorization`` or (signed: True) in the service's signed
        HubOAuth cookie, which only the service's own OAuth login sets: no outsider can make one up."""
        if sum(len(c) for c in headers.get_list("Cookie")) > MAX_READ_CHARS:
            return None
        cookies = _cookies(headers) if headers.get("Cookie") else {}
        session = cookies.get(SESSION_COOKIE, "")
        found = self.auth.auth_header_pat.match(headers.get("Authorization", "") or "")
        if found:
            return (found.group(1), session, False) if len(found.group(1)) <= MAX_TOKEN_CHARS else None
        raw = cookies.get(self.auth.cookie_name)
        if not raw:
            return None
        value = tornado.web.decode_signed_value(self.cookie_secret, self.auth.cookie_name, raw)
        return (value.decode("ascii", "replace"), session, True) if value else None

    def of_user(self, model: Any) -> str | None:
        """``account:<id>`` of a hub user who is a participant, else ``hub:<name>`` for an admin, ``guest:<name>``
        for anyone else (None: no user)."""
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            return None
        from . import models

        row = models.participant(self.db, model["name"])
        if row is not None:
            return f"account:{row['account_id']}"
        return ("hub:" if model.get("admin") else "guest:") + model["name"]

    def __call__(self, headers: Any, uri: str, address: str) -> str | Awaitable[str | None] | None:
        """The tenant of a request the emulated APIs' credentials did not name, or an awaitable of it (a hub token
        checked with the hub first), or None (its address's)."""
        if len(uri) > MAX_READ_CHARS:
            return None
        path, _, query = uri.partition("?")
        if self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix):]
        if path.startswith(_PHONE):
            return self.phone_link(path, query)
        if path.startswith(("/api/", "/v2/", "/_sandbox")):
            return None  # the emulated APIs and the control plane: their own credentials (fair_share.tenant_of)
        found = self.hub_token(headers)
        if found is None:
            if path == _CALLBACK:
                return self.oauth_return(query, headers, address)
            return self.first_page(path, headers, address)
        token, session, signed = found
        key = cache_key(token, session)
        try:
            return self._remember(token, self.of_user(self.auth.cache[key]))
        except KeyError:
            pass
        known = self._known.get(credential_ident(token))
        if known is not None:  # named by the hub before: its user's allowance and turn; its handler asks the hub
            return known
        now = clock.now(self.db)
        if THROTTLE.blocked(address, credential_ident(token), now=now) is not None:
            return None
        # a token from the signed cookie (a browser after the service's OAuth login) is checked in places of its own:
        # made-up tokens in Authorization headers from the same address never take them (rev23e E5); in headers, a
        # token of the hub's shape has places that other strings never take (rev23f F1)
        if signed:
            slot, places = address + "#signed", MAX_CHECKS_PER_ADDRESS
        elif HUB_TOKEN_SHAPE.fullmatch(token):
            slot, places = address, MAX_CHECKS_PER_ADDRESS - ODD_TOKEN_CHECKS
            if self._checking.get(slot, 0) >= places:  # waits for a place, never refused for want of one (its queue
                return HubCheck(self, token, session, slot, key, queued=True)  # is bounded by the connections: G1)
        else:
            slot, places = address + "#odd", ODD_TOKEN_CHECKS
        if self._checking.get(slot, 0) >= places:
            return None
        self._checking[slot] = self._checking.get(slot, 0) + 1  # the caller awaits it (server._BodyLimit)
        return HubCheck(self, token, session, slot, key, signed, shaped=not signed and slot == address)

    def first_page(self, path: str, headers: Any, address: str) -> str | None:
        """``first:address:<ip>`` (:data:`~bwhelpers.sandbox.admission.FIRST_PAGE`) for a browser's first page: one
        of :data:`FIRST_PAGES` asking for HTML with no credentials (no ``Authorization``, no valid login cookie of
        the service's: none, or one signed before a restart of the service, whose cookie secret is new, rev23g G2),
        which its handler only redirects to the hub's login; else None (its address's)."""
        if path.rstrip("/") not in FIRST_PAGES or "text/html" not in headers.get("Accept", "") \
                or "Authorization" in headers:
            return None
        raw = headers.get_list("Cookie")
        if sum(len(c) for c in raw) > MAX_READ_CHARS or (raw and self._logged_in(_cookies(headers))):
            return None
        return FIRST_PAGE + "address:" + client_key(address)

    def _logged_in(self, cookies: dict[str, str]) -> bool:
        """Do ``cookies`` hold a valid login cookie of the service's (its HubOAuth cookie, signed by this process)?"""
        raw = cookies.get(self.auth.cookie_name)
        return bool(raw) and tornado.web.decode_signed_value(self.cookie_secret, self.auth.cookie_name, raw) is not None

    def oauth_return(self, query: str, headers: Any, address: str) -> str | None:
        """``first:oauth:address:<ip>`` for the hub's OAuth redirect back to the service (``/oauth_callback``, the
        second page a new browser opens) whose ``state`` matches the service's own signed state cookie (set by
        the first page: one HMAC checked, the code is the handler's), with no other credentials (a login cookie
        signed before a restart is none); else None. An
        allowance and turn of its own beside the first pages', in no room-wide bound (rev23e E2 residue, and E5
        after a restart: every browser logs in again), while that login is pending: HubOAuth forgets a state once
        its redirect back is answered, so a replay of one state cookie is its address's request like any other
        (rev23f F2), and its handler refuses it without asking the hub (:class:`.responses.OAuthCallbackHandler`).
        One at a time per address asks the hub, as before; one whose code the hub refused gives its turn to the next
        and waits for its answer among the address's refused ones (rev23g G2)."""
        if "Authorization" in headers or sum(len(c) for c in headers.get_list("Cookie")) > MAX_READ_CHARS:
            return None
        args = parse_qs(query)
        state = (args.get("state") or [""])[-1]
        if not state or not args.get("code") or len(state) > MAX_TOKEN_CHARS:
            return None
        cookies = _cookies(headers)
        if self._logged_in(cookies) or not self.auth._oauth_states.get(state):
            return None  # a login that is over (its state is used once, rev23f F2) or forgotten proves nothing
        try:
            name = self.auth.get_state_cookie_name(state)
            value = tornado.web.decode_signed_value(self.cookie_secret, name, cookies.get(name) or "")
        except Exception:  # a state that is no state of ours
            return None
        if value is None or value.decode("ascii", "replace") != state:
            return None
        return FIRST_PAGE + "oauth:address:" + client_key(address)

    def _done(self, address: str) -> None:
        queue = self._queue.get(address)
        while queue:  # the place passes to the first check waiting for one
            nxt = queue.popleft()
            if not queue:
                del self._queue[address]
            if not nxt.done():
                nxt.set_result(None)
                return
        left = self._checking.get(address, 1) - 1
        if left > 0:
            self._checking[address] = left
        else:
            self._checking.pop(address, None)

    async def _ask_hub(self, token: str, session: str, key: str) -> str | None:
        try:
            model = await self.auth.user_for_token(token, session_id=session, sync=False)
        except Exception:  # the hub is down: the handler answers it (its own call fails the same way)
            return None
        return self._remember(token, self.of_user(model))

    def phone_link(self, path: str, query: str) -> str | None:
        """``account:<id>`` of a phone page whose ``t`` is a valid signed link for the account in its path."""
        account = path[len(_PHONE):].split("/", 1)[0]
        tokens = parse_qs(query).get("t") if "t=" in query else None
        if not account.isdigit() or not tokens:
            return None
        try:
            phone_models.verify_link(self.link_key, account, tokens[-1], clock.now(self.db))
        except Exception:
            return None
        return None if any_disabled(self.db, (account,)) else "account:" + account
