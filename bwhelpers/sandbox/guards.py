"""
bwhelpers.sandbox.guards
~~~~~~~~~~~~~~~~~~~~~~~~

The shared-host guards, checked before any auth or state (docs/ARCHITECTURE.md, "Shared-host rules"):
a Host the sandbox does not serve (DNS rebinding: 421), an over-limit body (413, refused before it is
buffered: ``server._BodyLimit`` sets :data:`OVERSIZE_HEADER`), and a state-changing request a
cross-origin page could send without a CORS preflight (CSRF: an ``Origin`` of another site is 403, a
body of another content type 415).

The checks are pure: they answer a :class:`Refusal` (or None) and the handler renders it in its API's
error shape (:meth:`bwhelpers.sandbox.base.BaseHandler.refused`).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import tornado.httputil

MAX_BODY_BYTES = 256 * 1024
#: longest request target (path and query) answered; longer ones get 414 (the server reads request heads up to
#: server.MAX_HEAD_BYTES, so a long URL is answered, not dropped)
MAX_URL_BYTES = 16 * 1024
#: header set by SandboxApplication (never trusted from the client) when a body is over the limit
OVERSIZE_HEADER = "X-Bwhelpers-Oversize"
#: Host names every sandbox serves (plus the interface it binds and --allow-host names)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: content types a state-changing request must carry (a browser cannot send them cross-origin without
#: a CORS preflight, which the sandbox never grants): the CSRF guard
STATE_CHANGING_TYPES = frozenset({"application/json", "application/xml", "text/xml"})
#: methods a page may send anywhere without a preflight only when they change nothing
READ_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Refusal:
    """A guard's answer: the HTTP status, the Messaging API's error ``type`` and the text."""

    status: int
    kind: str
    description: str


#: the error must not echo the Host: the page that sent it controls it
MISDIRECTED = Refusal(421, "misdirected-request",
                      "This sandbox does not serve the host name in the request's Host header "
                      "(DNS-rebinding guard). Use http://127.0.0.1:<port>, or start the sandbox with "
                      "--allow-host NAME for the names it should answer to.")
CROSS_ORIGIN = Refusal(403, "forbidden", "Cross-origin requests are refused (CSRF guard): the "
                       "Origin header names a site this sandbox does not serve.")


def hostname(host: str | None) -> str:
    """A Host header's (or an origin's host:port) name without the port, lower case ('' when absent)."""
    return _hostname(host) if host is None or len(host) <= 255 else _hostname.__wrapped__(host)


@functools.lru_cache(maxsize=1024)  # a pure function of the header: a few Host values come back on every request
def _hostname(host: str | None) -> str:
    return tornado.httputil.split_host_and_port(host or "")[0].strip("[]").lower()


def serves(allowed: frozenset[str], name: str) -> bool:
    """Is ``name`` (no port, lower case) one of the names the sandbox answers to?"""
    return "*" in allowed or name in allowed


def check_host(host: str | None, allowed: frozenset[str]) -> Refusal | None:
    """The DNS-rebinding guard: a request must name a host the sandbox serves."""
    return None if serves(allowed, hostname(host)) else MISDIRECTED


URL_TOO_LONG = Refusal(414, "uri-too-long", f"The request URL is longer than {MAX_URL_BYTES} bytes: send long "
                       "values in the body, or fewer query parameters")


def check_url_length(request: tornado.httputil.HTTPServerRequest) -> Refusal | None:
    """An over-long request target is 414 (answered: the server reads heads far beyond it)."""
    return URL_TOO_LONG if len(request.uri or "") > MAX_URL_BYTES else None


def oversize(request: tornado.httputil.HTTPServerRequest, limit: int = MAX_BODY_BYTES) -> bool:
    """Is the body over ``limit`` (refused unread by the server, or buffered over it)? Clears the
    server's mark, so the handler's answer does not carry it."""
    marked = request.headers.pop(OVERSIZE_HEADER, None)
    return bool(marked) or len(request.body or b"") > limit


def check_origin(method: str, origin: str | None, allowed: frozenset[str]) -> Refusal | None:
    """A state-changing request whose ``Origin`` names another site is refused (403)."""
    if not origin or method in READ_METHODS:
        return None
    return None if serves(allowed, hostname(origin.split("://", 1)[-1].split("/", 1)[0])) else CROSS_ORIGIN


def content_type(request: tornado.httputil.HTTPServerRequest) -> str:
    """The request's media type without parameters, lower case ('' when absent)."""
    return (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def check_csrf(request: tornado.httputil.HTTPServerRequest, allowed: frozenset[str], *, strict: bool,
               authenticated: Callable[[], bool]) -> Refusal | None:
    """The CSRF guard: a cross-origin ``Origin`` (403), then a state-changing body of a type a page can send
    cross-origin without a preflight (415).

    ``strict`` (the control plane) refuses every such body. The emulated APIs parse every state-changing body
    with their own parsers, which refuse any other type in the service's own 415 shape after the 401 the real
    service answers first; what those parsers would let through is a body without Content-Type (a Blob in
    fetch()) from an ``authenticated()`` request: refused here.
    """
    method = request.method or "GET"
    refusal = check_origin(method, request.headers.get("Origin"), allowed)
    if refusal is not None:
        return refusal
    if method in READ_METHODS or method == "DELETE":
        return None  # DELETE (like PUT and PATCH) is never sent cross-origin without a preflight
    if method in ("PUT", "PATCH") and not request.body:
        return None
    ctype = content_type(request)
    if ctype in STATE_CHANGING_TYPES or ctype.endswith(("+json", "+xml")):
        return None
    if not strict and (ctype or not request.body or not authenticated()):
        return None
    return Refusal(415, "unsupported-content-type",
                   f"{method} requests must send Content-Type application/json or application/xml "
                   f"(got {ctype or 'none'!r}); a browser page cannot send those across origins (CSRF guard).")
