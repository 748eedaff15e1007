"""
bwhelpers.sandbox.server
~~~~~~~~~~~~~~~~~~~~~~~~

Assembles the tornado application from the route tables of every API area and runs it, either
in the foreground (``python -m bwhelpers.sandbox``) or in a daemon thread (``start()``).
"""
from __future__ import annotations

import asyncio
import gc
import importlib
import inspect
import logging
import os
import re
import socket
import threading
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.ioloop
import tornado.netutil
import tornado.web

from .accounts import DEMO, DEMO_B, create_account
from .base import BaseHandler
from .context import SandboxContext
from . import admission, delivery_signature, forwarded, guards, linger, quotas
from .admission import Busy, Ledger, Ticket
from .fair_share import PACED_BUSY, REFUSED, FairShare, Turn, proves_account, tenant_and_principal
from .auth import AUTH_TABLES
from .guards import LOCAL_HOSTS, MAX_BODY_BYTES, OVERSIZE_HEADER
from .keys import ADMIN_HEADER, same_secret
from .settings import ensure_defaults
from .db import Database, begin_scope, end_scope
from .control.exceptions import NoControlEndpoint
from .exceptions import DashboardError
from .messaging.exceptions import SpringNotFound

log = logging.getLogger("bwhelpers.sandbox")

#: API areas, each a package with ``urls.url_paths`` (a list of (regex, handler)) and optional
#: ``on_start(ctx)`` / ``on_stop(ctx)`` hooks run on the server's IOLoop.
AREAS = ("control", "oauth", "dashboard", "messaging", "tendlc", "media", "phone")


def load_areas() -> list[ModuleType]:
    return [importlib.import_module(f"bwhelpers.sandbox.{name}") for name in AREAS]  # a missing area fails loudly


#: the longest request line and headers read: well above guards.MAX_URL_BYTES, so an over-long URL gets its 414
MAX_HEAD_BYTES = 1024 * 1024


class NotFoundHandler(BaseHandler):
    """Anything no route matches: 404 in the shape of the API the path belongs to."""

    def prepare(self) -> None:
        path = self.request.path
        if path.startswith("/_sandbox"):
            self.api = "control"
        elif "/messages" in path or path.startswith(("/v2/", "/api/v2/")):
            self.api = "messaging"
        refusal = guards.check_host(self.request.host, self.ctx.allowed_hosts) or guards.check_url_length(self.request)
        if refusal is not None:  # a 404 changes nothing: no CSRF rule, and the body limit is enforced before buffering
            raise self.refused(refusal)
        if self.api == "messaging":
            raise SpringNotFound(path)  # the messaging gateway answers unknown paths with Spring's 404 body
        if self.api == "control":
            raise NoControlEndpoint(path)
        raise DashboardError(404, f"The resource {path} does not exist", status=404)


#: bytes one socket read takes (tornado's default is 64 KB, a zero-filled buffer allocated for every read, the one
#: that finds nothing left included: some 5 % of the CPU of a small API request; a request's head and JSON body fit
#: in one read of this size, an upload takes more reads)
READ_CHUNK_BYTES = 16 * 1024
#: seconds an idle keep-alive connection is kept, and a body may take to arrive
IDLE_CONNECTION_TIMEOUT = 60.0
#: seconds a request's body may take to arrive once its head is in (tornado's ``body_timeout``, set per request by
#: :class:`_BodyLimit` and only for a body not yet wholly read: tornado wraps a timed body read in a task of its own,
#: some 7 % of the CPU of a small POST, for a body that, already in memory, cannot be late)
BODY_TIMEOUT = 30.0
#: seconds tornado's own body timeout (a close without an answer) waits after ours (an answer: 408) in workshop mode
BODY_TIMEOUT_BACKSTOP = 5.0


#: the garbage collector's thresholds in a process that only serves: the youngest generation collected every 10,000
#: net allocations instead of 700 (a request's cycles die young either way), the older ones less often
SERVING_GC_THRESHOLDS = (10_000, 50, 100)


def serving_gc() -> None:
    """Tune the cyclic garbage collector of a process that only serves, once it is ready: what its start allocated
    (modules, routes, caches) is frozen, never scanned again, and collections are rarer (:data:`SERVING_GC_THRESHOLDS`).
    With the defaults, collections took about 4-5 % of the CPU of a POST (gen2 passes over the ~40,000 objects of the
    start among them). Never done to a process the sandbox only runs a thread in (a kernel, a test)."""
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)


def _close_hint(hint: Any) -> None:
    """A tenant check (:meth:`SandboxApplication.tenant_hint`) whose request is never served: it gives its place back
    (the hub is never asked)."""
    if hint is not None and not isinstance(hint, str):
        close = getattr(hint, "close", None)
        if callable(close):
            close()


def _buffered(conn: Any) -> int:
    """Bytes of the connection's stream read but not yet consumed (tornado's read buffer; 0 when unknown)."""
    size = getattr(getattr(conn, "stream", None), "_read_buffer_size", 0)
    return size if isinstance(size, int) else 0


class _BodyLimit(tornado.httputil.HTTPMessageDelegate):
    """Refuses an over-limit body from its headers (or as soon as a chunked body passes the limit), so it is
    never buffered: the handler runs at once with an empty body and answers the API's documented 413; the
    rest of the body is discarded by tornado, which closes the connection after the answer."""

    def __init__(self, inner: tornado.httputil.HTTPMessageDelegate, conn: Any, limit: int,
                 larger: Any = None, tenant: Any = None, turn: Any = None, ledger: Ledger | None = None,
                 share: FairShare | None = None):
        self.inner, self.conn, self.limit = inner, conn, limit
        #: ``larger(start_line, headers)``: the limit of a request that may carry more (an authenticated media
        #: upload), or None: decided from the headers, before any of the body is read
        self.larger = larger
        self.received, self.refused = 0, False
        self.headers: tornado.httputil.HTTPHeaders | None = None
        self.uri = ""
        #: ``tenant(headers, uri)``: whose request this is, (tenant, hint), decided from the head (workshop mode,
        #: :mod:`.fair_share`); ``turn(tenant, hint)``: its place among its tenant's, when its body is in
        self.tenant, self.turn = tenant, turn
        self.whose: tuple[str, Any] | None = None
        #: requests and bytes in flight per tenant (workshop mode, :mod:`.admission`)
        self.ledger = ledger
        self.ticket: Ticket | None = None
        self.busy = False
        #: workshop mode: the turns in which a tenant's 429s for being over its bound are answered (:meth:`_hold`)
        self.share = share
        self.held: Turn | None = None
        #: workshop mode: answers 408 when the body is not in after its timeout (:data:`admission.SLOW_BODY`)
        self.timer: Any = None

    def headers_received(self, start_line: Any, headers: tornado.httputil.HTTPHeaders) -> Any:
        headers.pop(OVERSIZE_HEADER, None)  # only this class sets it
        self.headers = headers
        self.uri = str(getattr(start_line, "path", "") or "")
        bigger = self.larger(start_line, headers) if self.larger else None
        if bigger:
            self.limit = bigger
            self.conn.set_max_body_size(bigger)
        try:
            length = int(headers.get("Content-Length", "0").split(",")[0].strip() or 0)
        except ValueError:
            length = 0
        if self.tenant is not None:
            self.whose = self.tenant(headers, self.uri, str(getattr(start_line, "method", "") or ""))
        chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        #: a body still to come has a deadline; one read with its head cannot be late, and has none (tornado runs a
        #: timed body read as a task of its own: some 7 % of the CPU of a small POST)
        pending = chunked or (length > 0 and _buffered(self.conn) < length)
        if self.ledger is not None and self.whose is not None:
            body = length > 0 or chunked
            key = admission.ledger_key(*self.whose, body=body)
            got = self.ledger.admit(key, max(0, min(length, self.limit)))
            if isinstance(got, Busy):
                if got.status == 429 and self.share is not None and not pending:
                    self._hold(got, key)
                else:
                    self._busy(got)
                return None
            self.ticket = self.conn.bw_ticket = got
            if pending:  # answered 408 if it is not in by then (behind the hub's proxy, never a silent close: D4)
                wait = admission.OUTSIDER_BODY_TIMEOUT if admission.outsider(got.tenant) else BODY_TIMEOUT
                self.conn.set_body_timeout(wait + BODY_TIMEOUT_BACKSTOP)
                self.timer = tornado.ioloop.IOLoop.current().call_later(wait, self._too_slow)
        elif pending:
            self.conn.set_body_timeout(BODY_TIMEOUT)
        if length > self.limit:
            self.conn.set_max_body_size(length)  # read and dropped after the answer, not tornado's bare 400
            result = self.inner.headers_received(start_line, headers)
            self._refuse()
            return result
        if chunked:
            self.conn.set_max_body_size(4 * self.limit)  # so the handler answers 413 before tornado's 400
        return self.inner.headers_received(start_line, headers)

    def _busy(self, busy: Busy) -> None:
        """Answer ``busy`` at once, unread body and all, and close the connection (:mod:`.admission`)."""
        self.busy = True
        self._stop_timer()
        if self.ledger is not None:  # what the client still sends is dropped for a moment (rev23e E4)
            linger.after_answer(self.conn)
        _close_hint(self.whose[1] if self.whose is not None else None)  # the hub is never asked about it
        self._answer(busy)

    def _hold(self, busy: Busy, key: str) -> None:
        """A tenant over its bound (``key``'s allowance full): its 429 is answered in the tenant's turns for such
        answers (:data:`.fair_share.PACED_BUSY`: all of them, half a second after each), the first at once. Answered
        from the head each at once, a client holding more connections than its bound and ignoring ``Retry-After``
        got one per round trip: 600-1,100 a second through the hub's proxy, and another participant's p99 went 7-29
        times its idle figure (rev23h H1). Only for a request with nothing unread (no body, or all of it in): it
        holds nothing but its connection meanwhile; a client that leaves gives its turn back at once."""
        self.busy = True
        _close_hint(self.whose[1] if self.whose is not None else None)  # the hub is never asked about it
        assert self.share is not None
        turn = self.held = Turn(self.share, PACED_BUSY + key)
        # tornado tells a delegate of its connection's end only while it reads the request (as in finish)
        self.conn.set_close_callback(self._left)

        def answer() -> None:
            self._answer(busy)
            turn.finished(busy.status)  # the tenant's next such answer waits PAUSE_AFTER_429

        turn.start(answer)

    def _answer(self, busy: Busy) -> None:
        headers, body = busy.answer()
        self.conn.write_headers(tornado.httputil.ResponseStartLine("HTTP/1.1", busy.status, busy.reason),
                                tornado.httputil.HTTPHeaders(headers), body)
        self.conn.finish()

    def _stop_timer(self) -> None:
        if self.timer is not None:
            tornado.ioloop.IOLoop.current().remove_timeout(self.timer)
            self.timer = None

    def _too_slow(self) -> None:
        """The body did not arrive in time: 408, never a close without an answer (which the hub's proxy turns into a
        render of the hub's error page, rev23d D4)."""
        self.timer = None
        if self.refused or self.busy or self.closed or self.finished:
            return
        if self.ticket is not None:
            self.ticket.release()
        self._busy(admission.SLOW_BODY)

    def _refuse(self) -> None:
        self.refused = True
        self._stop_timer()
        if self.ledger is not None:  # answered 413 with the body unread: dropped for a moment (rev23e E4)
            linger.after_answer(self.conn)
        _close_hint(self.whose[1] if self.whose is not None else None)  # answered 413 at once: never checked
        assert self.headers is not None
        self.headers[OVERSIZE_HEADER] = "1"
        # the partial body is never parsed (a cut multipart form would be tornado's bare 400, not the 413)
        self.headers.pop("Content-Type", None)
        self.inner.finish()

    def data_received(self, chunk: bytes) -> Any:
        if self.refused or self.busy:
            return None
        self.received += len(chunk)
        if self.ticket is not None and self.received > self.ticket.bytes:  # a chunked body: counted as it comes
            busy = self.ticket.grow(self.received - self.ticket.bytes)
            if busy is not None:
                self.ticket.release()
                self._busy(busy)
                return None
        if self.received > self.limit:
            self._refuse()
            return None
        return self.inner.data_received(chunk)

    finished = False

    def finish(self) -> None:
        if self.refused or self.busy:
            return
        self.finished = True
        self._stop_timer()
        turn = self.turn(*self.whose) if self.turn is not None and self.whose is not None else None
        if turn is None:
            self.inner.finish()
            return
        # tornado tells a delegate of its connection's end only while it reads the request; from here until the
        # handler runs (and sets its own), the client leaving while its check or turn waits must still give back
        # its places, or they stay taken until the hub has answered every check ahead (the stuck state, rev23g G1)
        self.conn.set_close_callback(self._left)
        if inspect.isawaitable(turn):  # its tenant is being checked (a hub token: the workshop's pages)
            tornado.ioloop.IOLoop.current().add_future(asyncio.ensure_future(turn), self._decided)
            return
        self._start(turn)

    def _decided(self, future: Any) -> None:
        if self.closed:  # the client left while its tenant was checked
            return
        self._start(future.result())

    def _start(self, turn: Any) -> None:
        self.conn.bw_turn = turn  # released by SandboxApplication.log_request when the answer is written
        turn.start(self.inner.finish)

    closed = False

    def on_connection_close(self) -> None:
        self._left()
        if not self.refused and not self.busy:
            self.inner.on_connection_close()

    def _left(self) -> None:
        """The client left before its answer: its check leaves the queue for the hub (or gives its place back), its
        turn passes on, its ticket is released (each at most once; the handler never runs)."""
        self.closed = True
        self._stop_timer()
        if self.held is not None and self.held.state == "waiting":  # its 429 is never written: the next one's turn
            self.held.finished()
        if self.whose is not None:  # left before its body was in, or while its check waits for a place: never made
            _close_hint(self.whose[1])
        turn = getattr(self.conn, "bw_turn", None)
        if turn is not None:
            turn.finished()
        if self.ticket is not None:
            self.ticket.release()


class CappedHTTPServer(tornado.httpserver.HTTPServer):
    """tornado's HTTP server with a bound on open connections: :data:`.admission.MAX_CONNECTIONS` in all and
    :data:`.admission.PER_PEER_CONNECTIONS` from one client (:meth:`peer_key`; the trusted proxy's clients are
    counted per request, :mod:`.admission`). A connection past a bound is answered 503 and closed at once."""

    max_connections = admission.MAX_CONNECTIONS
    per_peer = admission.PER_PEER_CONNECTIONS
    trusted: tuple[Any, ...] = ()
    refused = 0

    def peer_key(self, stream: Any, peer: str) -> str | None:
        """Whom a connection counts against: its address (an IPv6 one by its /64), or on loopback its socket's OS
        user (a participant's kernel under TLJH or ``--spawner local``); None for the trusted proxy and this
        service's own OS user (the proxy the hub started, kernels of a trusted room), counted only in all."""
        if not peer:
            return None
        if forwarded.is_loopback(peer):
            sock = getattr(stream, "socket", None)
            try:
                owner = forwarded.socket_owner(sock.getsockname()[:2], sock.getpeername()[:2]) if sock else None
            except OSError:
                owner = None
            own = owner is None or owner in (0, os.geteuid())
            if stream is not None:  # what forwarded.proxy_connection would find again: one lookup per connection
                stream.bw_proxy = own and forwarded.is_trusted(peer, self.trusted)
            return None if own else f"uid:{owner}"
        return None if forwarded.is_trusted(peer, self.trusted) else forwarded.client_key(peer)

    def handle_stream(self, stream: Any, address: Any) -> None:
        peer = str(address[0]) if isinstance(address, tuple) and address else ""
        key = self.peer_key(stream, peer) if len(self._connections) < self.max_connections else None
        per_peer: dict[str, int] = self.__dict__.setdefault("_per_peer", {})
        if len(self._connections) >= self.max_connections or (key and per_peer.get(key, 0) >= self.per_peer):
            self.refused += 1
            if self.refused in (1, 10, 100) or self.refused % 1000 == 0:
                log.warning("refused %d connection(s) in all (now from %s): over %d open, or %d from one client",
                            self.refused, key or peer, self.max_connections, self.per_peer)
            try:  # an answer, not a silent close: the hub's proxy passes it on (rev23d D4)
                stream.socket.send(admission.REFUSED_CONNECTION)
            except (OSError, AttributeError):
                pass
            stream.close()
            return
        if key:
            per_peer[key] = per_peer.get(key, 0) + 1
            stream.bw_peer_key = key
        super().handle_stream(stream, address)

    def on_close(self, server_conn: Any) -> None:
        super().on_close(server_conn)
        key = getattr(getattr(server_conn, "stream", None), "bw_peer_key", None)
        per_peer: dict[str, int] = self.__dict__.setdefault("_per_peer", {})
        if key in per_peer:
            per_peer[key] -= 1
            if per_peer[key] <= 0:
                del per_peer[key]


async def _later_turn(share: FairShare, hint: Any, fallback: str) -> Turn:
    """The turn of a request whose tenant ``hint`` is still being checked; when the check names no one (the hub
    refused the token), ``fallback``'s turns for refused ones (:data:`.fair_share.REFUSED`)."""
    try:
        tenant = await hint
    except Exception:  # pragma: no cover - a hint never raises; if it did, the request is its address's
        log.exception("could not tell a request's tenant")
        return Turn(share, fallback)
    if tenant or getattr(hint, "signed", False):  # the service's own signed cookie is no one's made-up token
        return Turn(share, tenant or fallback)
    return Turn(share, REFUSED + fallback)


class NoSniff(tornado.web.OutputTransform):
    """``X-Content-Type-Options: nosniff`` on every answer, whichever handler wrote it (the hub's OAuth callback
    and tornado's own error pages included)."""

    def transform_first_chunk(self, status_code: int, headers: tornado.httputil.HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
        headers["X-Content-Type-Options"] = "nosniff"
        return status_code, headers, chunk


#: characters that end a route regex's literal start
_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")
#: route lists kept per path start (:meth:`SandboxApplication.find_handler`); more distinct starts clear the memo
_ROUTE_MEMO_MAX = 256
#: the longest path (start) remembered: a client's long junk URL is routed, not kept
_MEMO_KEY_MAX = 256


def literal_prefix(matcher: Any) -> str:
    """What every path a route's matcher accepts starts with: the literal start of its regex ('' when there is
    none, or when the regex may not mean it literally: an alternation, a flag, a quantifier on its last
    character)."""
    regex = getattr(matcher, "regex", None)
    if not isinstance(regex, re.Pattern) or regex.flags & re.IGNORECASE or "|" in regex.pattern:
        return ""
    pattern = regex.pattern[1:] if regex.pattern.startswith("^") else regex.pattern
    out: list[str] = []
    for ch in pattern:
        if ch in _REGEX_SPECIAL:
            if ch in "*?{" and out:
                out.pop()  # the character before an optional quantifier may be absent
            break
        out.append(ch)
    return "".join(out)


#: (the routes, how many, each with its literal start, {path start: the routes it may match})
_RouteMemo = tuple[Any, int, list[tuple[str, Any]], dict[str, list[Any]]]


def _path_start(path: str) -> str:
    """The path up to and including its third ``/`` (``/api/v2/``), or all of it."""
    cut = path.find("/", path.find("/", 1) + 1) if path.startswith("/") else -1
    return path if cut < 0 else path[:cut + 1]


class SandboxApplication(tornado.web.Application):
    #: workshop mode: one request of each tenant in the loop at a time (:mod:`.fair_share`)
    fair_share: FairShare | None = None
    #: workshop mode: requests and body bytes in flight per tenant (:mod:`.admission`)
    ledger: Ledger | None = None

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        """tornado's routing, asking only the routes a path can match: those whose regex's literal start
        (:func:`literal_prefix`) agrees with the path's start (in their order; a route's own regex still decides).
        Some 40 routes are not each tried against every request."""
        if len(self.default_router.rules) != 1:  # add_handlers() gave host-specific routes: tornado's own way
            return super().find_handler(request, **kwargs)
        router = self.wildcard_router
        memo: _RouteMemo | None = self.__dict__.get("_route_memo")
        if memo is None or memo[0] is not router.rules or memo[1] != len(router.rules):
            gated = [(literal_prefix(rule.matcher), rule) for rule in router.rules]
            memo = self.__dict__["_route_memo"] = (router.rules, len(router.rules), gated, {})
        start = _path_start(request.path)
        candidates = memo[3].get(start)
        if candidates is None:
            candidates = [rule for prefix, rule in memo[2] if prefix.startswith(start) or start.startswith(prefix)]
            if len(start) <= _MEMO_KEY_MAX:
                if len(memo[3]) >= _ROUTE_MEMO_MAX:
                    memo[3].clear()
                memo[3][start] = candidates
        for rule in candidates:
            params = rule.matcher.match(request)
            if params is not None:
                if rule.target_kwargs:
                    params["target_kwargs"] = rule.target_kwargs
                delegate = router.get_target_delegate(rule.target, request, **params)
                if delegate is not None:
                    return delegate
        default = self.settings.get("default_handler_class")
        if default:
            return self.get_handler_delegate(request, default, self.settings.get("default_handler_args", {}))
        return self.get_handler_delegate(request, tornado.web.ErrorHandler, {"status_code": 404})

    def start_request(self, server_conn: object, request_conn: Any) -> tornado.httputil.HTTPMessageDelegate:
        ctx = self.settings["sandbox"]
        if ctx.workshop and self.fair_share is None:
            self.fair_share = FairShare()
            self.ledger = Ledger()
        tenant = turn = None
        if self.fair_share is not None:
            share = self.fair_share
            health = f"{ctx.url_prefix}/_sandbox/health"

            def tenant(headers: tornado.httputil.HTTPHeaders, uri: str, method: str = "") -> tuple[str, Any]:
                """(tenant, hint): decided from the head, before the body is read (:mod:`.admission`)."""
                peer = str(getattr(getattr(request_conn, "context", None), "remote_ip", "") or "")
                address = forwarded.client_address(peer, headers.get("X-Forwarded-For"), ctx.trusted_proxies,
                                                   request_conn)
                signed = headers.get(delivery_signature.HEADER)
                delivery = delivery_signature.verify(ctx.admin_key, signed, headers.get("Host") or "", uri,
                                                     use=False) if signed else None
                admin = same_secret(headers.get(ADMIN_HEADER), ctx.admin_key)
                scope = begin_scope()  # the credential's cached reads check other connections' commits once, not per read
                try:
                    authorization = headers.get("Authorization")
                    who, principal = tenant_and_principal(ctx.db, authorization, address, delivery, admin)
                    # the handler takes this principal instead of authenticating the request again, while nothing it
                    # was made of changed (BaseHandler.head_principal)
                    request_conn.bw_principal = None if principal is None else (
                        authorization, principal, ctx.db.epoch(AUTH_TABLES))
                finally:
                    end_scope(scope)
                if not who.startswith("address:"):
                    return who, None
                if uri.split("?", 1)[0] == health:  # in lanes of their own (FairShare.PROBE_LANES)
                    return who, share.probe_lane(address)
                hint = self.tenant_hint(headers, uri, address)
                if isinstance(hint, str) and hint.startswith(admission.FIRST_PAGE) and method not in ("GET", "HEAD"):
                    hint = None  # a first page is a browser's GET (admission.FIRST_PAGE)
                return who, hint

            def turn(who: str, hint: Any) -> Turn | Awaitable[Turn]:
                if inspect.isawaitable(hint):
                    return _later_turn(share, hint, who)
                return Turn(share, hint or who)

        def larger(start_line: Any, headers: tornado.httputil.HTTPHeaders) -> int | None:
            return self.larger_body_limit(start_line, headers, request_conn)
        return _BodyLimit(super().start_request(server_conn, request_conn), request_conn, MAX_BODY_BYTES,
                          larger, tenant, turn, self.ledger, self.fair_share)

    def tenant_hint(self, headers: tornado.httputil.HTTPHeaders, uri: str, address: str) -> Any:
        """The tenant of a request that no emulated API's credentials name (its address's otherwise): a string, an
        awaitable of one (or of None), or None. The workshop's pages have their own proofs
        (:mod:`bwhelpers.sandbox.workshop.tenants`)."""
        return None

    async def refused_turn(self, request: tornado.httputil.HTTPServerRequest,
                           on_close: Callable[[], None] | None = None) -> bool:
        """A request whose credentials the hub just refused (a made-up OAuth code) gives its turn back, so its
        lane's next request goes now, and waits for one among its address's refused ones
        (:data:`.fair_share.REFUSED`: all of them, paced, each 429 half a second) before it is answered: a flood's
        connections wait there, behind answers already decided, not in front of a newcomer's question to the hub
        (rev23g G2). False when its client left meanwhile (nothing to answer); True at once outside workshop mode.

        A client that leaves while it waits gives its places back at once (the connection's close callback, as
        ``_BodyLimit`` sets it before the handler runs, rev23g G1): its ticket (its address's ``first:oauth:`` place)
        and its turn, which passes on unanswered and without a pause when it comes; one that left while the hub was
        asked (its connection closed already) gives them back and is False at once. ``on_close``: the handler's own
        close callback (``RequestHandler.on_connection_close``, which this one replaces), called too."""
        share, conn = self.fair_share, request.connection
        turn = getattr(conn, "bw_turn", None)
        if share is None or turn is None:
            return True
        ctx = self.settings["sandbox"]
        address = forwarded.client_address(request.remote_ip or "", request.headers.get("X-Forwarded-For"),
                                           ctx.trusted_proxies, conn)
        turn.finished()  # its lane's next request goes now
        stream = getattr(conn, "stream", None)
        if stream is not None and stream.closed():  # it left while the hub was asked: its close callback has run already
            conn.bw_turn = None  # type: ignore[union-attr]
            ticket = getattr(conn, "bw_ticket", None)
            if ticket is not None:
                ticket.release()
            return False
        later = Turn(share, REFUSED + "address:" + forwarded.client_key(address))
        conn.bw_turn = later  # type: ignore[union-attr]  # released by log_request once answered
        came: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def settle(result: bool) -> None:
            if not came.done():
                came.set_result(result)

        later.left = lambda: settle(False)

        def gone() -> None:
            if later.state == "waiting":  # not once its answer is on its way (nor cutting its 429's pause short)
                later.finished()  # cancelled: passes on when it comes; came is False
                ticket = getattr(conn, "bw_ticket", None)
                if ticket is not None:
                    ticket.release()
            if on_close is not None:
                on_close()

        conn.set_close_callback(gone)  # type: ignore[union-attr]  # HTTP1Connection's
        later.start(lambda: settle(True))
        return await came

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """The answer is written: the tenant's next request may go (:mod:`.fair_share`), then the access log."""
        connection = handler.request.connection
        turn = getattr(connection, "bw_turn", None)
        if turn is not None:
            connection.bw_turn = None  # type: ignore[union-attr]
            turn.finished(handler.get_status())
        ticket = getattr(connection, "bw_ticket", None)
        if ticket is not None:
            ticket.release()
        super().log_request(handler)

    def larger_body_limit(self, start_line: Any, headers: Any, conn: Any = None) -> int | None:
        """The body limit of a request to a path an area declared (``urls.body_limits``: media uploads, the phone's
        reply box), else None. Only for the route's method and a request that proves the path's account before its
        body is read (:func:`.fair_share.proves_account`, or the area's own ``gate``: the phone's signed link), so
        an outsider's connection buffers at most the default limit (rev23c C4: 3.6 MB each, unauthenticated)."""
        path = str(getattr(start_line, "path", "") or "")
        found = self.body_limit_rule(path.split("?", 1)[0])
        if found is None:
            return None
        limit, method, match, gate = found
        if str(getattr(start_line, "method", "")).upper() != method:
            return None
        ctx = self.settings["sandbox"]
        account = match.groupdict().get("account_id") or ""
        peer = forwarded.connection_peer(conn) if conn is not None else ""
        address = forwarded.client_address(peer, headers.get("X-Forwarded-For"), ctx.trusted_proxies, conn)
        if gate is not None and gate(ctx, account, path, headers):
            return limit
        return limit if proves_account(ctx.db, ctx.admin_key, account, headers, address) else None

    def body_limit_rule(self, path: str) -> tuple[int, str, Any, Any] | None:
        """The ``urls.body_limits`` rule matching ``path``: (limit, method, match, gate), or None."""
        prefix = self.settings["sandbox"].url_prefix
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]
        for pattern, limit, method, gate in self.settings.get("body_limits", ()):
            match = pattern.fullmatch(path)
            if match:
                return int(limit), method, match, gate
        return None


def make_app(ctx: SandboxContext, areas: list[ModuleType], *, app_class: type = SandboxApplication,
             extra_routes: list[Any] | None = None, **settings: Any) -> tornado.web.Application:
    """The tornado application of every area's routes (``extra_routes`` first; ``settings`` override ours).
    ``app_class`` must be :class:`SandboxApplication` or a subclass (it enforces the body limit)."""
    routes: list[Any] = list(extra_routes or [])
    body_limits: list[tuple[re.Pattern[str], int, str, Any]] = []
    for area in areas:
        urls = importlib.import_module(f"{area.__name__}.urls")
        routes.extend(urls.url_paths)
        for rule in getattr(urls, "body_limits", ()):  # (pattern, limit, method[, gate])
            body_limits.append((re.compile(rule[0]), rule[1], rule[2], rule[3] if len(rule) > 3 else None))
    options: dict[str, Any] = dict(default_handler_class=NotFoundHandler, sandbox=ctx, compress_response=False,
                                   xsrf_cookies=False, log_function=log_request, body_limits=body_limits,
                                   transforms=[NoSniff])
    options.update(settings)
    return app_class(routes, **options)


_access_log = logging.getLogger("bwhelpers.sandbox.access")
#: the sandbox's log lines (``python -m bwhelpers.sandbox`` and the workshop service)
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def configure_logging(level: str) -> None:
    """The root logger at ``level`` with :data:`LOG_FORMAT`. The format names no source line, thread or process, so
    no record looks them up (the logging HOWTO's "Optimization"): at DEBUG the access log writes a record per
    request, and finding the caller's frame was most of its cost."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Access log at DEBUG (never the Authorization header or the body)."""
    if _access_log.isEnabledFor(logging.DEBUG):
        _access_log.debug("%s %s %s %.1fms", handler.get_status(), handler.request.method, handler.request.path,
                          1000.0 * handler.request.request_time())


def prepare_db(db_path: str, accounts: list[dict[str, str]] | None = None, reset: bool = False,
               settings: dict[str, Any] | None = None) -> Database:
    load_areas()  # registers every area's schema before the db is opened
    db = Database(db_path)
    if reset:
        db.wipe()
    for creds in accounts if accounts is not None else [DEMO, DEMO_B]:
        create_account(db, creds)
    ensure_defaults(db, settings)
    quotas.apply(db)  # counts stored bytes while the stored_bytes quota is set
    return db


class SandboxServer:
    """One listening server. ``run()`` blocks; ``start_thread()`` returns once it is listening."""

    def __init__(self, db: Database, host: str = "127.0.0.1", port: int = 8765, admin_key: str | None = None,
                 allow_hosts: list[str] | tuple[str, ...] | None = None,
                 idle_timeout: float = IDLE_CONNECTION_TIMEOUT, *, app_factory: Any = None,
                 public_url: str | None = None, xheaders: bool = False, workshop: bool = False,
                 allow_callback_hosts: list[str] | tuple[str, ...] | None = None,
                 trusted_proxies: list[str] | tuple[str, ...] | None = None):
        """``xheaders``: believe ``X-Forwarded-For`` / ``-Proto`` from ``trusted_proxies`` (addresses or networks;
        default loopback: the hub's proxy on the same machine), never from anyone else (:mod:`.forwarded`)."""
        from .forwarded import LOOPBACK, networks
        from .keys import ensure_admin_key, ensure_instance_key

        self.db, self.host, self.port, self.idle_timeout = db, host, port, idle_timeout
        #: ``app_factory(ctx, areas)`` builds the application (default :func:`make_app`; workshop mode adds a prefix)
        self.app_factory = app_factory or make_app
        self.public_url, self.xheaders = public_url, xheaders
        self.areas = load_areas()
        hosts = set(LOCAL_HOSTS) | {h.strip().strip("[]").lower() for h in (allow_hosts or ()) if h.strip()}
        if host not in ("0.0.0.0", "::", ""):
            hosts.add(host.strip("[]").lower())
        self.ctx = SandboxContext(db=db, admin_key=admin_key or ensure_admin_key(db.path),
                                  instance_key=ensure_instance_key(db.path),
                                  allowed_hosts=frozenset(hosts), workshop=workshop,
                                  show_db_path=not workshop and host in ("127.0.0.1", "localhost", "::1"),
                                  trusted_proxies=networks(trusted_proxies or LOOPBACK) if xheaders else ())
        self.allow_callback_hosts = tuple(allow_callback_hosts or ())
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        #: serving in a process of its own (:meth:`run`), not in a thread of someone else's (:meth:`start_thread`)
        self._own_process = False

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            sockets = tornado.netutil.bind_sockets(self.port, self.host, family=socket.AF_INET)
            self.port = sockets[0].getsockname()[1]
            self.ctx.base_url, self.ctx.port = self.public_url or self.url, self.port
            app = self.app_factory(self.ctx, self.areas)
            self.ctx.callback_policy = self.callback_policy()
            if self.host in ("127.0.0.1", "localhost", "0.0.0.0", ""):  # (a workshop's bins: below its prefix)
                self.ctx.local_bin_origins = frozenset({("127.0.0.1", self.port), ("localhost", self.port)})
            # the limit is enforced by _BodyLimit with the documented 413; tornado's own limits stop anything
            # that slips by (its max_body_size is raised per request only to discard a refused body unbuffered)
            server = (CappedHTTPServer if self.ctx.workshop else tornado.httpserver.HTTPServer)(
                app, max_body_size=MAX_BODY_BYTES, max_buffer_size=MAX_BODY_BYTES + MAX_HEAD_BYTES,
                max_header_size=MAX_HEAD_BYTES, xheaders=False,  # believed only from trusted proxies (base.py)
                idle_connection_timeout=self.idle_timeout, chunk_size=READ_CHUNK_BYTES)  # body timeout: _BodyLimit
            if isinstance(server, CappedHTTPServer):
                server.trusted = self.ctx.trusted_proxies
            server.add_sockets(sockets)
            self.db.start_checkpointer()  # WAL checkpoints off the event loop (bwhelpers.sandbox.db.Checkpointer)
            for area in self.areas:
                hook = getattr(area, "on_start", None)
                if hook:
                    hook(self.ctx)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        if self._own_process:
            serving_gc()
        try:
            await self._stop.wait()
        finally:
            for area in self.areas:
                hook = getattr(area, "on_stop", None)
                if hook:
                    try:
                        hook(self.ctx)
                    except Exception:  # pragma: no cover
                        log.exception("on_stop hook failed")
            server.stop()
            await server.close_all_connections()
            self.db.stop_checkpointer()

    def callback_policy(self) -> Any:
        """The callback URL policy of this server: its own origins (bins), the workshop's strict rules."""
        from .callback_policy import CallbackPolicy, addresses_of, origin_of
        from .machine import interface_addresses

        origins = {("127.0.0.1", self.port), ("localhost", self.port)}
        for url in (self.ctx.base_url, self.url):
            origin = origin_of(url)
            if origin:
                origins.add(origin)
        if self.host not in ("0.0.0.0", "::", ""):
            origins.add((self.host.strip("[]").lower(), self.port))
        hub: set[Any] = set()
        if self.ctx.workshop:
            for url in (self.ctx.base_url, self.public_url or ""):
                origin = origin_of(url)
                if origin:
                    hub |= addresses_of(origin[0])
            for address in interface_addresses() or ():  # every address of this machine is the hub's own
                hub |= addresses_of(address)
        return CallbackPolicy(workshop=self.ctx.workshop, own_origins=frozenset(origins),
                              bin_prefix=self.ctx.url_prefix, allowed=self.allow_callback_hosts,
                              hub_addresses=frozenset(hub))

    def run(self) -> None:
        """Serve in this thread until stopped: the process is the sandbox's own (``python -m bwhelpers.sandbox``,
        the workshop service), so its garbage collector is tuned for serving (:func:`serving_gc`)."""
        self._own_process = True
        asyncio.run(self._main())
        if self._error:
            raise self._error

    def start_thread(self, timeout: float = 15.0) -> None:
        def target() -> None:
            try:
                asyncio.run(self._main())
            except BaseException as exc:  # pragma: no cover
                self._error = exc
                self._ready.set()

        self._thread = threading.Thread(target=target, name=f"bwhelpers-sandbox:{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the sandbox did not start within %.0f s" % timeout)
        if self._error:
            raise self._error

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the server listens (or failed to start); True when it listens."""
        return self._ready.wait(timeout) and self._error is None

    def request_stop(self) -> bool:
        """Ask the serving loop to stop (thread- and signal-safe); False when it is not running."""
        if self._loop is None or self._stop is None or self._loop.is_closed():
            return False
        try:
            self._loop.call_soon_threadsafe(self._stop.set)
        except RuntimeError:
            return False
        return True

    def stop(self) -> None:
        self.request_stop()
        if self._thread:
            self._thread.join(timeout=10)
        self.db.close()
