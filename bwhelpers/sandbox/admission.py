"""
bwhelpers.sandbox.admission
~~~~~~~~~~~~~~~~~~~~~~~~~~~

How much of the service one client may hold at once (workshop mode): requests in flight, bytes of body, and
connections (issue 23, rev23c: an outsider could hold 256 KB of body on each of thousands of slow connections).

Every request is counted from its head to its answer (or its connection's end) against its **tenant**
(:func:`.fair_share.tenant_of`, decided from the head before any of the body is read): a participant's account
(right credentials), the admin (the hub's spawn hook: never limited), or, for anything else, its client address
(:mod:`.forwarded`: the hub's proxy's ``X-Forwarded-For`` only from a trusted proxy). So a room of 50 arriving
through the proxy from one address (the kernels on the hub's machine, a conference NAT) is 50 accounts, each with
its own allowance, and only requests without right credentials share the address's.

* one tenant: at most :data:`PER_TENANT_REQUESTS` requests in flight and :data:`PER_TENANT_BODY_BYTES` of body
  (a request's ``Content-Length``, or what a chunked body has sent so far);
* every request without right credentials that waits for a body, together (the **outsiders' pool**):
  :data:`OUTSIDERS_REQUESTS` and :data:`OUTSIDERS_BODY_BYTES`; every request together (the admin's aside):
  :data:`ALL_REQUESTS` and :data:`ALL_BODY_BYTES`, of which every request that proves no one (an outsider's, a
  page whose hub token is being checked) together takes at most :data:`UNPROVEN_REQUESTS`: the
  other half is kept for proven tenants (an account's right credentials, a hub user the service knows), so no
  number of outsider addresses makes a participant's right credentials wait or fail (rev23e E2);
* a body without right credentials must arrive within :data:`OUTSIDER_BODY_TIMEOUT` seconds (a participant's
  within the server's ``BODY_TIMEOUT``); one that does not is answered 408, never dropped unanswered (behind the
  hub's proxy every connection closed unanswered becomes a render of the hub's own error page, rev23d D4).

Only a body can be held: a request without one (``GET``, ``HEAD``...) is answered as soon as its turn comes. So an
address's requests without a body take an allowance of their own (``head:<tenant>``), and such a page whose hub
token is still being checked with the hub its address's check allowance (``check:<tenant>``, at most a few per
address: ``tenants.MAX_CHECKS_PER_ADDRESS``; one of the hub's shape past those waits for a place,
:data:`WAITING_CHECK`, in no room-wide bound); neither is in the outsiders' pool. However many addresses fill that
pool with slow bodies, a participant's first page (the hub's OAuth redirect, its callback, a page whose hub token
the service has not seen yet) and a kernel's health probe are still served: only requests without credentials that
carry a body can be refused by it (a made-up hub token with a body proves nothing until its body is in: it is in
the pool too, rev23e E2). A browser's first page with no credentials at all (only a redirect to the hub's login)
takes no place in any room-wide bound: :data:`FIRST_PAGE`, and neither does a kernel's health probe (its lanes are
``first:probe:`` keys, rev23g G9).

Over a limit the request is answered at once, before its body is read, and its connection closed: 429 over the
tenant's own limits, 503 over everyone's, both with ``Retry-After``. Connections are bounded by the server
(:data:`MAX_CONNECTIONS`, and :data:`PER_PEER_CONNECTIONS` for a peer that is not a trusted proxy nor this
machine), since a connection that never finishes its head holds no request yet; one past a bound is answered 503
(:data:`REFUSED_CONNECTION`) and closed.
"""
from __future__ import annotations

import json
import resource
import threading
from dataclasses import dataclass

PER_TENANT_REQUESTS = 16
PER_TENANT_BODY_BYTES = 4 * 1024 * 1024
OUTSIDERS_REQUESTS = 512
OUTSIDERS_BODY_BYTES = 64 * 1024 * 1024
#: every tenant's together (the admin aside): 128 tenants' full allowances (the room's default cap is 120 accounts),
#: so no handful of accounts (one participant under many hub names) reaches it (rev23d D7)
ALL_REQUESTS = 128 * PER_TENANT_REQUESTS
ALL_BODY_BYTES = 128 * PER_TENANT_BODY_BYTES
#: every request that proves no one together (outsiders', hub-token checks'): half of all, the
#: other half kept for proven tenants (rev23e E2: 384 addresses' checks filled the room-wide bound)
UNPROVEN_REQUESTS = ALL_REQUESTS // 2
#: the ledger keys of requests that prove no one (:func:`ledger_key`; a guest's name proves nothing: names are free)
_UNPROVEN = ("address:", "guest:", "head:", "check:", "signed:")
#: the ledger keys of the outsiders' pool (:func:`outsider`)
_OUTSIDERS = ("address:", "guest:")
#: the ledger key (and turn) of a workshop's **first page** (``first:address:<ip>``, :mod:`.workshop.tenants`): a
#: browser's ``GET`` with no credentials at all and no body, which only gets a redirect to the hub's login. Its
#: address's allowance of its own (:data:`FIRST_PAGE_REQUESTS`: bounded only by the connections) and its own turn,
#: and in no room-wide bound (the outsiders' pool, the unproven half, all): outsiders holding requests, from however
#: many addresses or from the same one, never make it wait or refuse it (rev23e E2 residue). It holds nothing to be
#: held by: answered as soon as its own turn comes (one at a time per address, as every tenant's), so a flood of
#: them is paced per address as any other. The hub's OAuth redirect back that follows it (its ``state`` signed by
#: that first page) is ``first:oauth:address:<ip>``, a page whose hub token of the hub's shape is checked with
#: the hub (or waits for a place to be) ``first:wait:address:<ip>`` (:data:`WAITING_CHECK`), and a kernel's health
#: probe (bodyless, uncredentialed by design) one of its address's lanes ``first:probe:<n>:<ip>``
#: (:attr:`.fair_share.FairShare.PROBE_LANES`, rev23g G9).
FIRST_PAGE = "first:"
OUTSIDER_BODY_TIMEOUT = 10.0
PER_PEER_CONNECTIONS = 256
#: the ledger key of a bodyless page whose hub token (of the hub's shape) is checked with the hub or waits for one
#: of its address's check places (``tenants.HubCheck.shaped``): like a first page it holds nothing but its
#: connection until its turn, so it is in no room-wide bound (rev23f F1: a flood of made-up tokens from the room's
#: address made a never-seen token 429 while the address's places, or the 16 in flight of its checks answered and
#: waiting for the address's turn, were taken)
WAITING_CHECK = "first:wait:"
#: headroom of file descriptors kept for the db, the log and the callbacks' outgoing connections
_FD_HEADROOM = 256


def _max_connections() -> int:
    try:
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (OSError, ValueError):  # pragma: no cover
        soft = 1024
    if soft == resource.RLIM_INFINITY:  # pragma: no cover
        soft = 65536
    return max(64, min(4096, soft - _FD_HEADROOM))


#: open connections served at once (a new one past it is closed unanswered): 4,096, or the process's file
#: descriptor limit less a headroom
MAX_CONNECTIONS = _max_connections()
#: first pages, OAuth returns, hub checks and health probe lanes (``first:`` keys) in flight per address: as many as
#: the service holds connections (each holds only its connection, which :data:`MAX_CONNECTIONS` bounds; nothing else
#: is kept per request), not one client's connections' worth: however many connections one client opens, a new
#: browser's first page and its OAuth return, a freshly minted token and a kernel's health probe from its address
#: wait their turn instead of being refused (rev23g G1, G2, G9: with 256 per address, or 16 per probe lane, a flood
#: of 150-500 connections from the room's address made them 429)
FIRST_PAGE_REQUESTS = MAX_CONNECTIONS


@dataclass(frozen=True)
class Busy:
    """A refusal: the status, the reason phrase, the text and ``Retry-After``."""

    status: int
    reason: str
    text: str
    retry_after: int = 1

    def answer(self) -> tuple[dict[str, str], bytes]:
        """The answer's headers and JSON body (the Messaging API's error shape)."""
        kind = {429: "too-many-requests", 408: "request-timeout"}.get(self.status, "service-unavailable")
        body = json.dumps({"type": kind,
                           "description": self.text}).encode()
        return ({"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close",
                 "Retry-After": str(self.retry_after), "X-Content-Type-Options": "nosniff"}, body)


TENANT_BUSY = Busy(429, "Too Many Requests",
                   f"Too many requests at once: at most {PER_TENANT_REQUESTS} requests and "
                   f"{PER_TENANT_BODY_BYTES // (1024 * 1024)} MB of body in flight per client. Wait for your "
                   "answers before sending more.")
#: what each allowance of one client address that is not its tenant's (:func:`ledger_key`) counts, for the 429's text
#: (the first prefix that matches; ``first:`` ones are bounded by :data:`FIRST_PAGE_REQUESTS`, the others by
#: :data:`PER_TENANT_REQUESTS`): a client told "at most 16 requests" when 4,096 OAuth returns were in flight from its
#: address was told the wrong bound and the wrong thing
ALLOWANCES = (
    (FIRST_PAGE + "oauth:", "returns from the hub's login (its OAuth redirect back to the sandbox)"),
    (WAITING_CHECK, "pages whose hub token is checked with the hub or waits to be"),
    (FIRST_PAGE + "probe:", "health probes (in one of its lanes)"),
    (FIRST_PAGE, "first pages (a browser's page before it has logged in: the redirect to the hub's login)"),
    ("head:", "requests without credentials and without a body"),
    ("check:", "pages whose token is being checked with the hub"),
    ("signed:", "pages whose login cookie is being checked with the hub"),
)


def allowance_busy(key: str, most: int) -> Busy:
    """The 429 of a full allowance of ledger key ``key`` holding at most ``most`` requests: :data:`TENANT_BUSY` for a
    tenant's own (an account, a hub user, an address's requests with a body), else a text naming the bound and what
    it counts (:data:`ALLOWANCES`)."""
    for prefix, what in ALLOWANCES:
        if key.startswith(prefix):
            return _allowance_busy(what, most)
    return TENANT_BUSY


_BUSY_TEXTS: dict[tuple[str, int], Busy] = {}


def _allowance_busy(what: str, most: int) -> Busy:
    busy = _BUSY_TEXTS.get((what, most))
    if busy is None:
        busy = _BUSY_TEXTS[(what, most)] = Busy(
            429, "Too Many Requests", f"Too many requests at once: at most {most:,} {what} in flight from one client "
            "address. Wait for their answers before sending more.")
    return busy


ALL_BUSY = Busy(503, "Service Unavailable",
                "The service is holding too many requests at once: try again in a moment.")
SLOW_BODY = Busy(408, "Request Timeout",
                 "The request's body did not arrive in time: send the whole request at once.")


def _refused_connection() -> bytes:
    headers, body = ALL_BUSY.answer()
    return ("HTTP/1.1 503 Service Unavailable\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n").encode("latin-1") + body


#: what a connection past the server's bounds gets before it is closed (an answer, so the hub's proxy passes it on
#: instead of rendering the hub's error page for it, rev23d D4)
REFUSED_CONNECTION = _refused_connection()


def outsider(tenant: str) -> bool:
    """Is ``tenant`` a client address (no right credentials), or a hub user with no account who is not an admin
    (``guest:<name>``, :mod:`.workshop.tenants`: a name that only logged in, free with the room password, rev23e
    E3), not an account, the host or the admin? As a ledger key: is it in the outsiders' pool? (A health probe
    lane, ``head:`` and ``check:`` keys are not: see :func:`ledger_key`.)"""
    return tenant.startswith(_OUTSIDERS)


def ledger_key(tenant: str, hint: object = None, body: bool = True) -> str:
    """Whose allowance a request takes: its tenant's, or the one its ``hint`` already proves (a string: a hub user
    known by their token or the service's signed login cookie, a signed phone link's account: the workshop's own
    pages are never outsiders, rev23d D1), or for a health probe its lane's (from
    :meth:`.fair_share.FairShare.probe_lane`, a ``first:probe:`` key: a room's kernels all probe from the proxy's
    address when they start; bounded only by the connections, rev23g G9). A request whose hub token is still being checked with the hub (its hint
    an awaitable) takes its address's check allowance (``check:``; the service asks the hub about at most a few
    tokens of one address at once, ``tenants.MAX_CHECKS_PER_ADDRESS``), and an outsider's request without a
    ``body`` its address's allowance for those (``head:``): a participant's first page after a restart never waits
    behind an outsider's slow requests from the same address, and neither is in the outsiders' pool. A token from
    the service's signed login cookie (a browser after its OAuth login: not made up) is checked in an allowance of
    its own (``signed:``), which made-up tokens in ``Authorization`` headers never take (rev23e E5). A request with
    a body and no proof yet is its address's (in the outsiders' pool), a hub token or not."""
    if isinstance(hint, str) and hint:
        return tenant if body and hint.startswith(FIRST_PAGE) else hint  # a first page has no body
    if not body and tenant.startswith("address:"):
        if hint is None:
            return "head:" + tenant
        if getattr(hint, "shaped", False):
            return WAITING_CHECK + tenant
        return ("signed:" if getattr(hint, "signed", False) else "check:") + tenant
    return tenant


def unproven(key: str) -> bool:
    """Does a request of ledger key ``key`` prove no one (:data:`UNPROVEN_REQUESTS`)?"""
    return key.startswith(_UNPROVEN)


class Ticket:
    """One request's place in the :class:`Ledger` until :meth:`release`."""

    __slots__ = ("ledger", "tenant", "bytes", "released", "unproven")

    def __init__(self, ledger: Ledger, tenant: str, size: int, unproven: bool = False):
        self.ledger, self.tenant, self.bytes, self.released = ledger, tenant, size, False
        self.unproven = unproven

    def grow(self, size: int) -> Busy | None:
        """A chunked body has sent ``size`` bytes more: None while it fits, else the refusal."""
        return self.ledger._grow(self, size)

    def release(self) -> None:
        self.ledger._release(self)


class Ledger:
    """Requests in flight and their body bytes per tenant and for all outsiders (one per serving process)."""

    def __init__(self) -> None:
        self.per_tenant = (PER_TENANT_REQUESTS, PER_TENANT_BODY_BYTES)
        self.first_pages = FIRST_PAGE_REQUESTS
        self.outsiders_max = (OUTSIDERS_REQUESTS, OUTSIDERS_BODY_BYTES)
        self._tenants: dict[str, list[int]] = {}  # tenant -> [requests, bytes]
        self._outsiders = [0, 0]
        self._all = [0, 0]
        self.all_max = (ALL_REQUESTS, ALL_BODY_BYTES)
        self.unproven_max = UNPROVEN_REQUESTS
        self._unproven = 0
        self._lock = threading.Lock()

    def admit(self, tenant: str, size: int) -> Ticket | Busy:
        """A ticket for a request of ``tenant`` declaring ``size`` bytes of body, or the refusal."""
        if tenant == "admin":
            return Ticket(self, tenant, 0)
        with self._lock:
            mine = self._tenants.get(tenant) or [0, 0]
            most = self.first_pages if tenant.startswith(FIRST_PAGE) else self.per_tenant[0]
            if mine[0] + 1 > most:
                return allowance_busy(tenant, most)
            if mine[1] + size > self.per_tenant[1]:
                return TENANT_BUSY
            pooled = outsider(tenant)
            if pooled and (self._outsiders[0] + 1 > self.outsiders_max[0]
                           or self._outsiders[1] + size > self.outsiders_max[1]):
                return ALL_BUSY
            blind = tenant.startswith(_UNPROVEN)
            if blind and self._unproven + 1 > self.unproven_max:
                return ALL_BUSY
            first = tenant.startswith(FIRST_PAGE)  # its address's own allowance only (FIRST_PAGE)
            if not first and (self._all[0] + 1 > self.all_max[0] or self._all[1] + size > self.all_max[1]):
                return ALL_BUSY
            mine[0] += 1
            mine[1] += size
            if not first:
                self._all[0] += 1
                self._all[1] += size
            self._tenants[tenant] = mine
            if pooled:
                self._outsiders[0] += 1
                self._outsiders[1] += size
            if blind:
                self._unproven += 1
        return Ticket(self, tenant, size, blind)

    def _grow(self, ticket: Ticket, size: int) -> Busy | None:
        if ticket.tenant == "admin" or ticket.released:
            return None
        with self._lock:
            mine = self._tenants[ticket.tenant]
            if mine[1] + size > self.per_tenant[1]:
                return TENANT_BUSY
            if outsider(ticket.tenant) and self._outsiders[1] + size > self.outsiders_max[1]:
                return ALL_BUSY
            if self._all[1] + size > self.all_max[1]:
                return ALL_BUSY
            mine[1] += size
            self._all[1] += size
            ticket.bytes += size
            if outsider(ticket.tenant):
                self._outsiders[1] += size
        return None

    def _release(self, ticket: Ticket) -> None:
        if ticket.released:
            return
        ticket.released = True
        if ticket.tenant == "admin":
            return
        with self._lock:
            mine = self._tenants.get(ticket.tenant)
            if mine is not None:
                mine[0] -= 1
                mine[1] -= ticket.bytes
                if mine[0] <= 0:
                    del self._tenants[ticket.tenant]
            if not ticket.tenant.startswith(FIRST_PAGE):
                self._all[0] -= 1
                self._all[1] -= ticket.bytes
            if outsider(ticket.tenant):
                self._outsiders[0] -= 1
                self._outsiders[1] -= ticket.bytes
            if ticket.unproven:
                self._unproven -= 1

    def in_flight(self, tenant: str | None = None) -> tuple[int, int]:
        """(requests, body bytes) in flight for ``tenant``, or for all outsiders."""
        with self._lock:
            if tenant is None:
                return self._outsiders[0], self._outsiders[1]
            mine = self._tenants.get(tenant) or [0, 0]
            return mine[0], mine[1]
