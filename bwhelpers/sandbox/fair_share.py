"""
bwhelpers.sandbox.fair_share
~~~~~~~~~~~~~~~~~~~~~~~~~~~~

One tenant's flood cannot queue in front of another tenant's request (workshop mode).

The sandbox serves every request on one event loop, and a handler runs to its end once started. A tenant
with four connections could keep four requests (each a big page, a message with its fan-out) ready in the
loop at every turn, and another tenant's request would wait behind all of them. So each **tenant** has at most
one request in the loop at a time: a tenant's next request is admitted when its previous one has answered,
and meanwhile every other tenant's requests go by. Another tenant's request waits for at most one request of
the flooder's, however many connections the flooder opens.

Who the tenant is is decided before the handler runs, without trusting claims:

* a request with right credentials is its **account**: Basic (an API user, the token endpoint's client id and
  secret, the guide's token:secret) or Bearer. Credentials verified recently cost a dictionary lookup; others
  cost one key derivation (PBKDF2, 1,000 rounds: well under a millisecond), unless the failure throttle
  (:mod:`.auth_throttle`) would refuse this very credential, which is then never derived here. So a
  participant's *first* request (after a spawn, a restart or 5 idle minutes) and every OAuth token fetch never
  wait behind the failures of others who share its client address: on the hub's machine every kernel reaches
  the service from 127.0.0.1 through the proxy (issue 23, review 23b N1);
* a request with the sandbox's admin key (the hub's spawn hook provisioning a participant) is the **admin**;
* a callback delivered into one of the sandbox's own bins with a valid ``X-Sandbox-Delivery`` signature is the
  account it was sent for (a tenant's callbacks take the tenant's turns, not someone else's);
* anything else (no or wrong credentials) is its **client address** (:mod:`.forwarded`: the proxy's word only
  from a trusted proxy; an IPv6 address by its /64), so one address's flood of wrong passwords is one tenant,
  paced by its 429s; an address's health probes take :attr:`FairShare.PROBE_LANES` turns of their own (a room's
  kernels all probe at once).

Naming someone else's user in a request with the wrong password therefore never takes their turn.

A tenant answered 429 (over its ``requests_per_second`` quota, or throttled for failed logins) waits
:data:`PAUSE_AFTER_429` before its next request is admitted: a flood that ignores ``Retry-After`` is slowed
down to a couple of requests a second instead of costing the loop a turn (and the machine a client busy loop)
for every answer.
"""
from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import tornado.ioloop

from . import clock, credentials
from .admission import FIRST_PAGE
from .auth import Principal, authenticate, legacy_token_account, parse_basic
from .auth_throttle import THROTTLE, cached_only, credential_key
from .db import Database
from .disabled import AccountDisabled
from .forwarded import client_key
from .keys import ADMIN_HEADER, same_secret


def verified_account(db: Database, authorization: str, address: str) -> str | None:
    """The account of right credentials in ``authorization`` (Basic: API user, API client, token:secret; or Bearer),
    else None. At most one key derivation per stored credential found by the claimed id, none when the throttle
    would refuse this credential from ``address`` (then only remembered successes count)."""
    return verified(db, authorization, address)[0]


def verified(db: Database, authorization: str, address: str) -> tuple[str | None, Principal | None]:
    """:func:`verified_account`, and the :class:`~.auth.Principal` when the credentials are what
    :func:`~.auth.authenticate` accepts (an API user or a Bearer token; not an API client's or the guide's
    token:secret, which only their own handlers take)."""
    basic = parse_basic(authorization)
    refused = basic is not None and THROTTLE.blocked(address, credential_key(*basic), now=clock.now(db)) is not None
    token = cached_only.set(refused)
    try:
        try:
            principal = authenticate(db, authorization)
            return principal.account_id, principal
        except Exception:
            if basic is None:
                return None, None
        try:  # POST /api/v1/oauth2/token: Basic client_id:client_secret
            client = credentials.check_client(db, *basic)
        except AccountDisabled:  # refused by its handler: no account's turn
            return None, None
        if client is not None:
            return str(client["account_id"]), None
        return legacy_token_account(db, authorization), None  # the guide's token:secret
    finally:
        cached_only.reset(token)


def proves_account(db: Database, admin_key: str | None, account_id: str, headers: Any, address: str) -> bool:
    """Do a request's headers prove ``account_id`` (right credentials for it, as :func:`verified_account` checks them,
    or the admin key)? Asked before a large body is read (rev23c C4), so outsiders never get a bigger buffer."""
    if same_secret(headers.get(ADMIN_HEADER), admin_key):
        return True
    authorization = headers.get("Authorization")
    return bool(authorization) and verified_account(db, authorization, address) == account_id


def tenant_of(db: Database, authorization: str | None, address: str, delivery: str | None = None,
              admin: bool = False) -> str:
    """The fairness key of a request: ``account:<id>`` for right credentials or a valid delivery signature
    (``delivery``: the account it names, checked by the caller), ``admin`` for the admin key (``admin``: checked by
    the caller), else ``address:<ip>``."""
    return tenant_and_principal(db, authorization, address, delivery, admin)[0]


def tenant_and_principal(db: Database, authorization: str | None, address: str, delivery: str | None = None,
                         admin: bool = False) -> tuple[str, Principal | None]:
    """:func:`tenant_of`, and the :class:`~.auth.Principal` its credentials authenticated as, if any (the server
    hands it to the handler, which then does not authenticate the request a second time)."""
    if delivery:
        return "account:" + delivery, None
    if admin:
        return "admin", None
    if authorization:
        account, principal = verified(db, authorization, address)
        if account:
            return "account:" + account, principal
    return "address:" + client_key(address), None


#: seconds a tenant's next request waits after one of its requests was answered 429 (a flood's turns are spaced out,
#: whatever the flooder does with Retry-After)
PAUSE_AFTER_429 = 0.5
#: the turns of requests whose credentials the hub has just refused (``refused:address:<ip>``: a made-up hub token,
#: :mod:`.workshop.tenants`, or OAuth code, ``SandboxApplication.refused_turn``): their answers are known (401 or
#: 400, or the failure throttle's 429) and they wait for them
#: here, all of them (no :attr:`FairShare.MAX_WAITING`: each holds only its connection, which the server bounds),
#: paced as any tenant's. So a flood's connections wait behind answers already decided instead of coming back at
#: once with new made-up tokens to queue for the hub in front of a newcomer's real one (rev23g G1: with 500
#: connections from the room's address the hub was asked 215 times a second, a fresh token's p50 1.2 s)
REFUSED = "refused:"
#: the turns of a tenant's 429s for being over its bound of requests in flight (``busy:<ledger key>``,
#: ``server._BodyLimit._hold``): each holds only its connection (which the server bounds), so all of them wait (no
#: :attr:`FairShare.MAX_WAITING`), answered one at a time, :data:`PAUSE_AFTER_429` apart: a client with 20-300
#: connections ignoring ``Retry-After`` got 600-1,100 of them a second through the hub's proxy (rev23h H1)
PACED_BUSY = "busy:"
#: lanes whose requests all wait their turn, however many
_ALL_WAIT = (REFUSED, PACED_BUSY)


class FairShare:
    """Per-tenant admission: one request of each tenant in the loop at a time, the rest wait their turn (FIFO)."""

    #: at most this many requests of one tenant wait; beyond, they are admitted at once (nothing is ever refused
    #: here: the request rate quota answers floods with 429 before they get this far), except :data:`REFUSED`'s
    MAX_WAITING = 256

    #: a client address's health probes (``GET /_sandbox/health``, without credentials by design: a kernel proves
    #: its sandbox before it sends any) take turns in this many lanes of their own, not in the address's one: a
    #: room's kernels all probe from the proxy's address when they start, and in one lane the 50th waited behind
    #: 49 rounds of the loop (18 s at a load of 17: "no sandbox answers"). A probe's answer is small and constant,
    #: so a flood of probes takes at most this many small turns a round. A lane is a first page's kind of ledger key
    #: (``first:probe:<n>:<address>``, :data:`.admission.FIRST_PAGE`): a bodyless GET that holds only its connection
    #: until its turn, so it waits there, bounded only by the connections, never 429 for want of places (rev23g G9:
    #: with the address's 16 a lane, a flood of 150-300 connections of probes made other kernels' probes 429) and in
    #: no room-wide bound
    PROBE_LANES = 8

    def __init__(self) -> None:
        self._waiting: dict[str, collections.deque[Callable[[], None]]] = {}
        self._probes = 0

    def probe_lane(self, address: str) -> str:
        """The tenant of a health probe from ``address`` (its lanes taken in turn)."""
        self._probes = (self._probes + 1) % self.PROBE_LANES
        return f"{FIRST_PAGE}probe:{self._probes}:{address}"

    def admit(self, tenant: str, run: Callable[[], None]) -> bool:
        """Run ``run`` now if ``tenant`` has no request in the loop, else when its turn comes. True when it ran now
        (the caller must :meth:`done` it)."""
        queue = self._waiting.get(tenant)
        if queue is None:
            self._waiting[tenant] = collections.deque()
            run()
            return True
        if len(queue) >= self.MAX_WAITING and not tenant.startswith(_ALL_WAIT):
            run()
            return True
        queue.append(run)
        return False

    def done(self, tenant: str) -> None:
        """The tenant's request in the loop has answered: admit its next one (on a later turn of the loop, after
        what is ready now)."""
        queue = self._waiting.get(tenant)
        if queue is None:
            return
        if not queue:
            del self._waiting[tenant]
            return
        nxt = queue.popleft()
        tornado.ioloop.IOLoop.current().add_callback(nxt)

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())


class Turn:
    """One request's place in a :class:`FairShare` (held by the server's message delegate)."""

    __slots__ = ("share", "tenant", "state", "left")

    def __init__(self, share: FairShare, tenant: str):
        self.share, self.tenant, self.state = share, tenant, "waiting"
        #: called when the client leaves while the request waits (its turn is then passed on, never run)
        self.left: Callable[[], None] | None = None

    def start(self, run: Callable[[], None]) -> None:
        def go() -> None:
            if self.state == "cancelled":  # the client went away while it waited: its turn passes on
                self.state = "done"
                self.share.done(self.tenant)
                return
            self.state = "running"
            run()

        self.share.admit(self.tenant, go)

    def finished(self, status: int = 200) -> None:
        """The answer is written (or the connection closed): the tenant's next request may go, after
        :data:`PAUSE_AFTER_429` when the answer was a 429 (the tenant is over its request rate or guessing
        passwords: its next requests wait instead of taking turns of the loop that others need)."""
        if self.state == "running" and status == 429:
            self.state = "pausing"
            tornado.ioloop.IOLoop.current().call_later(PAUSE_AFTER_429, self.finished)
            return
        if self.state in ("running", "pausing"):
            self.state = "done"
            self.share.done(self.tenant)
        elif self.state == "waiting":
            self.state = "cancelled"
            if self.left is not None:
                self.left()

