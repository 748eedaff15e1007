"""
bwhelpers.sandbox.base
~~~~~~~~~~~~~~~~~~~~~~

The base handler every endpoint shares: the shared-host guards (:mod:`.guards`), fault injection
(:mod:`.faults`), request authentication (:mod:`.auth`) turned into the API's 401/403, safe XML/JSON body
parsing, and rendering of bodies and errors. Handlers never let a traceback out: anything unexpected becomes a
500 in the service's error shape.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import tornado.httputil
import tornado.web

from . import clock, faults, forwarded, guards, jsonio, xmlio
from .auth import (ALL_ROLES, AUTH_TABLES, AuthError, Principal, authenticate, authorize, legacy_user_account,
                   parse_basic)
from .context import SandboxContext
from .db import Database, begin_scope
from .exceptions import ControlError, DashboardError, MessagingError, SandboxError
from .guards import MAX_BODY_BYTES
from .auth_throttle import THROTTLE, cached_only, credential_key
from .keys import ADMIN_HEADER, same_secret
from .quotas import REQUEST_RATE, QuotaExceeded, check_db_size, limit

_T = TypeVar("_T")

log = logging.getLogger("bwhelpers.sandbox")

XML_CONTENT_TYPE = xmlio.CONTENT_TYPE
#: the Server header of every answer
SERVER = "bwhelpers-sandbox"
#: (epoch second, its HTTP date): the Date header of the answers of that second
_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """The ``Date`` header for now (RFC 9110 IMF-fixdate), formatted once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, tornado.httputil.format_timestamp(now))
    return _date[1]


class BaseHandler(tornado.web.RequestHandler):
    """Common behaviour. Subclasses set ``api`` to 'dashboard', 'messaging' or 'control'."""

    api = "dashboard"
    #: the largest body this handler accepts (media uploads raise it; the server admits the same per path)
    max_body_bytes = MAX_BODY_BYTES
    #: root element used for Dashboard errors raised by this handler
    error_root = "ErrorResponse"

    @property
    def ctx(self) -> SandboxContext:
        return self.application.settings["sandbox"]

    @property
    def db(self) -> Database:
        return self.ctx.db

    def clear(self) -> None:
        """tornado's ``clear`` (a fresh answer: headers, no body, 200) with this service's headers set at once
        (``Server``, ``X-Content-Type-Options: nosniff``, no ``Content-Type`` until the handler picks one) and the
        ``Date`` header formatted once a second instead of on every request; then :meth:`set_default_headers`."""
        self._headers = tornado.httputil.HTTPHeaders(
            {"Server": SERVER, "Date": http_date(), "X-Content-Type-Options": "nosniff"})
        self.set_default_headers()
        self._write_buffer = []
        self._status_code = 200
        self._reason = tornado.httputil.responses[200]

    def set_default_headers(self) -> None:
        """Headers of every answer of a handler (this service's are set by :meth:`clear`)."""

    def compute_etag(self) -> str | None:
        """No ``Etag``: Bandwidth's APIs send none, and tornado's default hashed every GET answer's body (a SHA-1 of a
        169 KB application list per read, on the event loop every tenant shares: bench measure 8)."""
        return None

    def prepare(self) -> None:
        begin_scope()  # the settings cache checks for other connections' commits once in this request (its task)
        self.guard()
        if self.request.method in ("POST", "PUT", "PATCH") and self.api not in ("control", "oauth"):
            check_db_size(self.db)  # 507 instead of filling the volume (the control plane checks where it stores)
        self.inject_fault()

    # -- shared-host guards ----------------------------------------------------------------------
    def guard(self) -> None:
        """Refuse what a shared host must not serve, before any auth or state (:mod:`bwhelpers.sandbox.guards`)."""
        refusal = guards.check_host(self.request.host, self.ctx.allowed_hosts) or guards.check_url_length(self.request)
        if refusal is not None:
            raise self.refused(refusal)
        if guards.oversize(self.request, self.max_body_bytes):
            raise self.too_large()
        self.check_csrf()

    def check_csrf(self) -> None:
        """The CSRF rule (:func:`bwhelpers.sandbox.guards.check_csrf`); the control plane's is strict."""
        refusal = guards.check_csrf(self.request, self.ctx.allowed_hosts, strict=self.api == "control",
                                    authenticated=lambda: self.request_account() is not None)
        if refusal is not None:
            raise self.refused(refusal)

    def too_large(self) -> SandboxError:
        if self.api == "messaging":
            return MessagingError("request-entity-too-large",
                                  f"The request body exceeds {MAX_BODY_BYTES} bytes", status=413)
        if self.api in ("oauth", "control"):
            return self.generic_error(413, f"The request body exceeds the limit of {MAX_BODY_BYTES} bytes")
        return DashboardError(413, f"The request body exceeds the limit of {MAX_BODY_BYTES} bytes",
                              status=413, root=self.error_root)

    def request_hostname(self) -> str:
        """The Host header's name without the port, lower case ('' when absent)."""
        return guards.hostname(self.request.host)

    def refused(self, refusal: guards.Refusal) -> SandboxError:
        """A guard's :class:`~bwhelpers.sandbox.guards.Refusal` in this API's error shape."""
        if self.api == "messaging":
            return MessagingError(refusal.kind, refusal.description, status=refusal.status)
        return self.generic_error(refusal.status, refusal.description)

    def inject_fault(self) -> None:
        """Fail this request if the ``fail_next`` setting says so (:mod:`bwhelpers.sandbox.faults`)."""
        if self.api in ("control", "oauth"):  # faults target the emulated APIs, not token fetches
            return
        fault = faults.take(self.db, self.request.method)
        if fault is None:
            return
        status = int(fault.get("status", 503))
        headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
        if self.api == "messaging":
            # bandwidth.yml: a 429 of listMessages (GET) is rate_limit_exceeded, one of createMessage the queue's
            kind = "service-unavailable" if status != 429 else (
                "rate_limit_exceeded" if self.request.method == "GET" else "max-message-queue-size-exceeded")
            err: SandboxError = MessagingError(kind, "Injected fault (sandbox fail_next setting)", status=status,
                                               headers=headers)
        else:
            err = DashboardError(status, "Injected fault (sandbox fail_next setting)", status=status,
                                 root=self.error_root)
            err.headers = headers
        raise err

    # -- auth ------------------------------------------------------------------------------------
    #: who the request authenticated as (set by auth_account / auth_principal)
    principal: Principal | None = None

    def credentials(self) -> tuple[str, str] | None:
        return parse_basic(self.request.headers.get("Authorization"))

    def unauthorized(self, err: AuthError | None = None) -> SandboxError:
        challenge = err.challenge if err is not None else 'Basic realm="Bandwidth"'
        if self.api == "messaging":
            # Bandwidth documents {"type":"unauthorized","description":"Authentication Failed"}; the
            # decommissioned text and the Bearer reason (in WWW-Authenticate) are the sandbox's own.
            text = err.reason if err is not None and err.told else "Authentication Failed"
            return MessagingError("unauthorized", text, status=401, headers={"WWW-Authenticate": challenge})
        if err is not None and err.told:
            text = err.reason
        elif err is not None and err.scheme == "bearer":
            text = (f"Authentication failed: {err.reason}. Get a new token from POST /api/v1/oauth2/token "
                    "and send Authorization: Bearer <access_token>")
        else:
            text = "Authentication failed: missing or invalid username and password"
        dash = DashboardError(401, text, status=401, root="ErrorResponse")
        bearer = err is not None and err.scheme == "bearer"
        dash.headers = {"WWW-Authenticate": challenge if bearer else 'Basic realm="Dashboard"'}
        return dash

    def forbidden(self, err: AuthError | None = None) -> SandboxError:
        role = err.role if err is not None else None
        headers = {"WWW-Authenticate": err.challenge} if err is not None and err.scheme == "bearer" else {}
        if role:  # the sandbox's wording: Bandwidth documents "Access Denied" only
            hint = (f"Access Denied: the API credential does not have the {role} role. Add the role to the "
                    "credential (Bandwidth App > Account > API Credentials) and get a new token")
        else:
            hint = "Access Denied"
        if self.api == "messaging":
            return MessagingError("forbidden", hint, status=403, headers=headers)
        dash = DashboardError(1001, hint, status=403, root="ErrorResponse")
        dash.headers = headers
        return dash

    def auth_error(self, err: AuthError) -> SandboxError:
        """An :class:`AuthError` in this handler's API shape."""
        return self.unauthorized(err) if err.status == 401 else self.forbidden(err)

    def check_credentials(self, check: Callable[[], _T]) -> _T:
        """Run one credential check under the failure throttle (:mod:`bwhelpers.sandbox.auth_throttle`; workshop
        mode): while this client address is throttled, a credential (user name and secret) that already failed is
        429 without a key derivation; any other is checked once, so a participant's right password passes however
        much someone behind the same address guessed at their user name (a wrong one is 429 too); a 401 counts
        against the address."""
        if not self.ctx.workshop:  # a local sandbox has one user, whose tests probe 401s on purpose
            return check()
        address = self.client_address()
        basic = self.credentials()
        ident = credential_key(*basic) if basic else None  # Bearer tokens are checked by an HMAC, no derivation
        now = clock.now(self.db)  # the buckets refill on the sandbox's clock (tests freeze it instead of racing it)
        wait = THROTTLE.blocked(address, ident, now=now)  # this very credential failed lately from an emptied bucket
        empty = THROTTLE.blocked(address, now=now)  # the address's bucket is empty, whatever the credential
        token = cached_only.set(wait is not None)
        try:
            return check()
        except Exception as exc:
            if getattr(exc, "status", None) == 401:
                if wait is not None:
                    raise self.throttled(wait) from None
                THROTTLE.failed(address, ident, now=now)
                if empty is not None:  # a new credential was checked (it may be someone's right one): still 429
                    raise self.throttled(empty) from None
            raise
        finally:
            cached_only.reset(token)

    def client_address(self) -> str:
        """The client's address: as the hub's proxy reports it (the last ``X-Forwarded-For`` entry, which
        configurable-http-proxy appends) on a connection from a trusted proxy, else the connection's own address
        (:mod:`bwhelpers.sandbox.forwarded`; a client-sent ``X-Real-Ip`` is never believed)."""
        return forwarded.client_address(self.request.remote_ip or "", self.request.headers.get("X-Forwarded-For"),
                                        self.ctx.trusted_proxies, self.request.connection)

    def throttled(self, retry_after: int) -> SandboxError:
        err = self.generic_error(429, f"Too many failed authentications from your address: retry in {retry_after} s "
                                      "with valid credentials")
        err.headers = {**err.headers, "Retry-After": str(retry_after)}
        return err

    def head_principal(self) -> Principal | None:
        """Workshop mode: who this request's head authenticated as (its tenant, :mod:`.fair_share`, found by
        :func:`authenticate` itself), while the settings, accounts and credentials it was made of did not change
        since (:data:`~.auth.AUTH_TABLES`: no write by this process, no commit by another one) and a Bearer token's
        lifetime still holds; else None (the request is authenticated again). One authentication per request, not
        two."""
        seen = getattr(self.request.connection, "bw_principal", None)
        if seen is None:
            return None
        authorization, principal, epoch = seen
        if authorization != self.request.headers.get("Authorization") or not self.db.same_epoch(AUTH_TABLES, epoch):
            return None
        if principal.expires is not None and principal.expires <= clock.now(self.db):
            return None
        return principal

    def auth_principal(self, account_id: str | None = None, role: str | None = None) -> Principal:
        """:func:`authenticate` this request; failures become 401/403 in this API's error shape."""
        seen = self.head_principal()
        if seen is not None:
            try:
                self.principal = authorize(seen, account_id, role)
            except AuthError as err:
                raise self.auth_error(err) from None
            self.check_rate(self.principal.account_id)
            return self.principal

        def check() -> Principal:
            try:
                return authenticate(self.db, self.request.headers.get("Authorization"), account_id, role)
            except AuthError as err:
                raise self.auth_error(err) from None
        self.principal = self.check_credentials(check)
        self.check_rate(self.principal.account_id)
        return self.principal

    def check_rate(self, account_id: str) -> None:
        """Workshop mode: the account's ``requests_per_second`` quota (429 with Retry-After beyond it)."""
        if not self.ctx.workshop:
            return
        wait = REQUEST_RATE.take(self.db, account_id)
        if wait is not None:
            err = self.generic_error(429, f"Too many requests from this account: at most {limit(self.db, 'requests_per_second')} "
                                          f"a second (the requests_per_second quota); retry in {wait} s")
            err.headers = {**err.headers, "Retry-After": str(wait)}
            raise err

    def auth_account(self, account_id: str, role: str | None = None) -> str:
        """Basic (an API user) or Bearer (an access token) valid (else 401), covering ``account_id`` and
        having ``role`` (else 403). Returns the account id."""
        return self.auth_principal(account_id, role).account_id

    def request_account(self) -> str | None:
        """The account the request's credentials (Basic or Bearer, via :func:`authenticate`) act on, or None
        (no or wrong credentials). Never raises: for guards that only need to know whether a request is
        authenticated."""
        seen = self.head_principal()
        if seen is not None:
            return seen.account_id

        def check() -> str:
            try:
                return authenticate(self.db, self.request.headers.get("Authorization")).account_id
            except AuthError as err:
                raise self.auth_error(err) from None
        try:
            return self.check_credentials(check)
        except SandboxError as err:
            if err.status == 429:
                raise
            return None

    def require_account(self) -> str:
        """The authenticated account (else 401/403 in this API's shape)."""
        return self.auth_principal().account_id

    def is_admin(self) -> bool:
        """Does the request carry the sandbox's admin key (``X-Sandbox-Admin-Key``)?"""
        return same_secret(self.request.headers.get(ADMIN_HEADER), self.ctx.admin_key)

    def auth_legacy_user(self, user_id: str) -> str:
        """The guide's era: token:secret of the user in the URL (:func:`~bwhelpers.sandbox.auth.legacy_user_account`).
        Returns the account id."""
        def check() -> str:
            try:
                return legacy_user_account(self.db, self.request.headers.get("Authorization"), user_id)
            except AuthError as err:
                raise (self.forbidden() if err.status == 403 else self.unauthorized(err if err.told else None)
                       ) from None
        account = self.check_credentials(check)
        self.check_rate(account)
        creds = self.credentials()
        self.principal = Principal(account, "legacy", creds[0] if creds else "", ALL_ROLES, (account,))
        return account

    # -- bodies ----------------------------------------------------------------------------------
    def xml_body(self, expected_root: str | tuple[str, ...] | None = None) -> tuple[str, Any]:
        """Parse the XML body -> (root name, content). Wrong content type/root -> 400 in the service shape."""
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype not in ("application/xml", "text/xml"):
            raise DashboardError(415, f"Content-Type '{ctype}' is not supported; send application/xml",
                                 status=415, root=self.error_root)
        try:
            doc = xmlio.parse(self.request.body)
        except xmlio.XmlBodyError as exc:
            raise DashboardError(400, f"Invalid XML: {exc}", root=self.error_root) from None
        root = next(iter(doc))
        too_long = xmlio.overlong(doc)
        if too_long:
            field, length, cap = too_long
            raise DashboardError(1003, f"{field} is {length} characters long; the sandbox takes at most {cap} "
                                 f"characters in {field}: shorten it", root=self.error_root)
        roots = (expected_root,) if isinstance(expected_root, str) else expected_root
        if roots and root not in roots:
            raise DashboardError(
                400, f"Unexpected root element <{root}>; expected <{roots[0]}>", root=self.error_root)
        content = doc[root]
        return root, content if content is not None else {}

    def json_body(self) -> Any:
        raw = self.request.headers.get("Content-Type") or ""
        if raw.split(";")[0].strip().lower() != "application/json":
            # messaging-errors.mdx's 415, word for word (with the Content-Type received)
            raise MessagingError("unsupported-content-type", f"Content type '{raw[:200]}' not supported. Please use "
                                                             f"'application/json'", status=415)
        try:
            body = jsonio.parse(self.request.body)
        except jsonio.JsonBodyError as exc:
            raise MessagingError("request-validation", f"Your request could not be parsed: {exc}",
                                 field_errors=[]) from None
        return body

    # -- output ----------------------------------------------------------------------------------
    def send_xml(self, root: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.set_status(status)
        for k, v in (headers or {}).items():
            self.set_header(k, v)
        self.set_header("Content-Type", XML_CONTENT_TYPE)
        self.finish(xmlio.render(root, body))

    def send_empty(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.set_status(status)
        for k, v in (headers or {}).items():
            self.set_header(k, v)
        self.finish()

    def send_json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.set_status(status)
        for k, v in (headers or {}).items():
            self.set_header(k, v)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body))

    def absolute(self, path: str) -> str:
        """An absolute URL on this server (for ``Location`` headers). The Host is echoed only when it is one the
        sandbox serves (the guard refused any other), rebuilt from its parsed name and port; behind a hub's proxy
        the service prefix (``ctx.url_prefix``) is put back (``base_url`` already carries it)."""
        name, port = tornado.httputil.split_host_and_port(self.request.host or "")
        name = name.strip("[]").lower()
        if not name or not guards.serves(self.ctx.allowed_hosts, name) or not all(c.isalnum() or c in ".-:" for c in name):
            return f"{self.ctx.base_url}{path}"
        shown = f"[{name}]" if ":" in name else name
        proto = forwarded.protocol(self.request.remote_ip or "", self.request.protocol,
                                   self.request.headers.get("X-Forwarded-Proto"), self.ctx.trusted_proxies,
                                   self.request.connection)
        return f"{proto}://{shown}{f':{port}' if port else ''}{self.ctx.url_prefix}{path}"

    # -- errors ----------------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, SandboxError):
            err = exc
        elif isinstance(exc, QuotaExceeded):  # a quota or the db size cap (bwhelpers.sandbox.quotas)
            err = self.generic_error(exc.status, exc.description)
        elif isinstance(exc, tornado.web.HTTPError) and exc.status_code == 405 or status_code == 405:
            err = self.generic_error(405, f"Method {self.request.method} is not allowed on {self.request.path}")
            self.set_header("Allow", ", ".join(m for m in ("GET", "POST", "PUT", "DELETE", "PATCH")
                                               if type(self).__dict__.get(m.lower())))
        elif status_code < 500:
            err = self.generic_error(status_code, self._reason or "Bad request")
        else:
            log.error("sandbox internal error on %s %s", self.request.method, self.request.path,
                      exc_info=kwargs.get("exc_info"))
            err = self.generic_error(500, "Internal sandbox error")
        self.set_status(err.status)
        for k, v in err.headers.items():
            self.set_header(k, v)
        ctype, body = err.render()
        self.set_header("Content-Type", ctype)
        self.sandbox_error = err  # read by the access log of workshop mode (the board's "last error")
        self.finish(body)

    def generic_error(self, status: int, description: str) -> SandboxError:
        if self.api == "messaging":
            kind = {400: "request-validation", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                    414: "uri-too-long", 429: "too-many-requests", 500: "internal-server-error",
                    507: "insufficient-storage"}.get(status, "error")
            return MessagingError(kind, description, status=status)
        if self.api == "control":
            return ControlError(description, status=status)
        return DashboardError(status, description, status=status, root=self.error_root)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, (SandboxError, QuotaExceeded)):  # answered in write_error: no traceback to log
            log.debug("%s %s -> %s %s", self.request.method, self.request.path, value.status, value)
            return
        super().log_exception(typ, value, tb)
