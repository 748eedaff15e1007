"""
bwhelpers.sandbox.core
~~~~~~~~~~~~~~~~~~~~~~

What every emulated endpoint shares: the sandbox context (db + settings), accounts, request
authentication (:func:`authenticate`: HTTP Basic with an API user, or an OAuth 2.0 Bearer token;
the control plane reuses it through :meth:`BaseHandler.request_account`), the shared-host guards
(Host allow-list, CSRF content-type rule, body limit), safe XML/JSON parsing, and rendering of
bodies and errors. Handlers never let a traceback out: anything unexpected becomes a 500 in the
service's error shape.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import tornado.httputil
import tornado.web

from . import xmlio
from .db import Database, check_secret, hash_secret
from .exceptions import ControlError, DashboardError, MessagingError, SandboxError
from .keys import ADMIN_HEADER, same_secret
from .oauth import models as oauth_models
from .auth_throttle import THROTTLE, cached_only
from .quotas import QuotaExceeded, check_db_size

_T = TypeVar("_T")

log = logging.getLogger("bwhelpers.sandbox")

MAX_BODY_BYTES = 256 * 1024
#: longest request target (path and query) answered; longer ones get 414 (the server reads request heads up to
#: server.MAX_HEAD_BYTES, so a long URL is answered, not dropped)
MAX_URL_BYTES = 16 * 1024
XML_CONTENT_TYPE = xmlio.CONTENT_TYPE
#: header set by SandboxApplication (never trusted from the client) when a body is over the limit
OVERSIZE_HEADER = "X-Bwhelpers-Oversize"
#: Host names every sandbox serves (plus the interface it binds and --allow-host names)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: content types a state-changing request must carry (a browser cannot send them cross-origin without
#: a CORS preflight, which the sandbox never grants): the CSRF guard
STATE_CHANGING_TYPES = frozenset({"application/json", "application/xml", "text/xml"})

#: The documented demo account (README, docs/ARCHITECTURE.md). Public and fake.
DEMO = {
    "account_id": "9900000",
    "site_id": "9901",
    "username": "sandbox-user",
    "password": "sandbox-password",
    "user_id": "u-sandbox",
    "api_token": "t-sandbox",
    "api_secret": "s-sandbox",
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
}
#: A second account, for tenant-isolation tests and demos.
DEMO_B = {
    "account_id": "9900001",
    "site_id": "9911",
    "username": "sandbox-user-b",
    "password": "sandbox-password-b",
    "user_id": "u-sandbox-b",
    "api_token": "t-sandbox-b",
    "api_secret": "s-sandbox-b",
    "client_id": "sandbox-client-id-b",
    "client_secret": "sandbox-client-secret-b",
}


@dataclass
class SandboxContext:
    """Shared by all handlers of one server: the db and the runtime settings."""

    db: Database
    base_url: str = ""
    #: path prefix the server is reached under (a hub's ``/services/<name>``; "" when standalone)
    url_prefix: str = ""
    started: float = field(default_factory=time.time)
    #: this serving process (callback claims); ``db.instance_id`` names the db for clients
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: the key the global control-plane endpoints require (bwhelpers.sandbox.keys)
    admin_key: str | None = field(default=None, repr=False)
    #: the key tenants may hold to check this sandbox (health ?nonce= -> tenant_proof)
    instance_key: str | None = field(default=None, repr=False)
    #: Host names (no port) requests may carry; "*" allows any (only for a trusted proxy in front)
    allowed_hosts: frozenset[str] = LOCAL_HOSTS
    port: int = 0
    #: workshop mode (a room of strangers on a hub): no public accounts, the strict callback policy, quotas
    workshop: bool = False
    #: where callbacks may go (bwhelpers.sandbox.callback_policy.CallbackPolicy; set by the server at start)
    callback_policy: Any = None
    #: may the public health endpoint name the db's path? (a local sandbox: its key file lies beside it)
    show_db_path: bool = True


DEFAULT_SETTINGS: dict[str, Any] = {
    # order lifecycle: mode immediate | seconds | polls
    "order_transition": {"mode": "seconds", "seconds": 2.0, "polls": 2},
    # per-account messages per second accepted by POST /messages (0 = unlimited)
    "rate_limit_per_second": 0,
    # callback delivery
    "callback_retry": {"max_attempts": 6, "backoff": [1, 2, 4, 8, 16], "timeout": 10},
    "delivery_delay": 0.2,
    "slow_delivery_delay": 5.0,
    # fault injection for client tests: {"status": 503, "count": 2, "retry_after": 1, "methods": [...]}
    "fail_next": None,
    # seed of the deterministic number inventory (bwhelpers.sandbox.numbers)
    "number_seed": "bwhelpers-sandbox",
    # lifetime of OAuth access tokens from POST /api/v1/oauth2/token (the answer's expires_in)
    "token_ttl_seconds": 3600,
    # API users' username:password (HTTP Basic): "allowed" (the guide's requests replay verbatim) or
    # "decommissioned" (401, as on the real service from 2026-12-02; only API credentials work)
    "legacy_basic_auth": "allowed",
    # seconds after which delivered callbacks (and their attempts) and request-bin requests are pruned
    # (null = keep everything, the default)
    "retention": None,
    # 2026 carrier rules (sandbox/tendlc): a local number must be SUCCESS on a REGISTERED 10DLC campaign
    # (else message-failed 4476), a toll-free number VERIFIED (else 4795); false replays the 2018 guide
    "a2p_enforcement": True,
    # per-account quotas (bwhelpers.sandbox.quotas; null = unlimited; workshop mode starts with its own)
    "quotas": {"objects": None, "bins": None, "bin_requests": None, "messages": None, "media_bytes": None,
               "callback_attempts": None, "numbers_per_order": None, "numbers_in_service": None},
    # the db size cap in MB (null = none): over it, requests that store more get 507 (bwhelpers.sandbox.quotas)
    "max_db_mb": None,
    # number inventory: "shared" (one per area code for everyone) or "per-account" (each account has its own
    # block of every exchange, so no account can empty an area for the others; workshop mode's default)
    "number_inventory": "shared",
}

LEGACY_BASIC_MODES = ("allowed", "decommissioned")
#: The 401 description for an API user's username:password under legacy_basic_auth=decommissioned.
#: Bandwidth documents no wording for it; this text is the sandbox's own.
DECOMMISSIONED = ("Sandbox (legacy_basic_auth=decommissioned): API users (username/password) were retired on "
                  "2026-12-02. Create API credentials (Bandwidth App > Account > API Credentials), get a token "
                  "with POST /api/v1/oauth2/token (Basic client_id:client_secret, grant_type=client_credentials) "
                  "and send Authorization: Bearer <access_token>")


def ensure_defaults(db: Database, overrides: dict[str, Any] | None = None) -> None:
    for key, value in DEFAULT_SETTINGS.items():
        if db.get_setting(key, "__missing__") == "__missing__":
            db.set_setting(key, value)
    for key, value in (overrides or {}).items():
        db.set_setting(key, value)


# -- accounts -----------------------------------------------------------------------------------

def create_account(db: Database, creds: dict[str, str], site_name: str = "Sandbox Site") -> None:
    """Create (or replace the credentials of) an account with one site.

    With ``client_id``/``client_secret`` in ``creds`` the account also gets that API credential
    (roles ``creds["roles"]``, default Messaging + Numbers).
    """
    now = time.time()
    with db.transaction() as conn:
        row = conn.execute("SELECT account_id FROM accounts WHERE account_id=?", (creds["account_id"],)).fetchone()
        legacy = hash_secret(f"{creds['api_token']}:{creds['api_secret']}")
        if row is None:
            conn.execute(
                "INSERT INTO accounts (account_id, username, password_hash, user_id, legacy_hash, created, api_token) "
                "VALUES (?,?,?,?,?,?,?)",
                (creds["account_id"], creds["username"], hash_secret(creds["password"]), creds["user_id"],
                 legacy, now, creds["api_token"]),
            )
        else:
            conn.execute(
                "UPDATE accounts SET username=?, password_hash=?, user_id=?, legacy_hash=?, api_token=? "
                "WHERE account_id=?",
                (creds["username"], hash_secret(creds["password"]), creds["user_id"], legacy, creds["api_token"],
                 creds["account_id"]),
            )
        if creds.get("site_id") and conn.execute(
                "SELECT 1 FROM sites WHERE site_id=?", (creds["site_id"],)).fetchone() is None:
            conn.execute("INSERT INTO sites VALUES (?,?,?,?,?)",
                         (creds["site_id"], creds["account_id"], site_name, "Created by the sandbox", now))
        if creds.get("client_id") and creds.get("client_secret"):
            oauth_models.set_credential(conn, creds["account_id"], creds["client_id"], creds["client_secret"],
                                        creds.get("roles"), description="Created by the sandbox")


def disable_public_accounts(db: Database) -> None:
    """Workshop mode: the README's public demo accounts (:data:`DEMO`, :data:`DEMO_B`) get no way in. A db that
    has them keeps their rows (objects may point at them) but their passwords, token secrets and API
    credentials stop working."""
    ids = (DEMO["account_id"], DEMO_B["account_id"])
    with db.transaction() as conn:
        conn.execute("UPDATE accounts SET password_hash='disabled', legacy_hash='disabled' WHERE account_id IN (?,?)",
                     ids)
        conn.execute("DELETE FROM api_credentials WHERE account_id IN (?,?)", ids)


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if ":" not in decoded:
        return None
    user, _, password = decoded.partition(":")
    return user, password


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as. ``account_id`` is the account it may act on."""

    account_id: str
    scheme: str                 # "basic" (an API user) or "bearer" (an OAuth access token)
    subject: str                # the username or the client id (never a secret)
    roles: tuple[str, ...]
    accounts: tuple[str, ...]


class AuthError(Exception):
    """Authentication (401) or authorization (403) failed. Handlers render it in their API's shape.

    ``reason`` is safe to show; ``role`` names a missing role; ``scheme`` is the scheme the request
    tried (it picks the challenge); ``bearer_error`` is RFC 6750's error code for Bearer failures.
    """

    def __init__(self, status: int, reason: str, scheme: str = "basic", role: str | None = None,
                 bearer_error: str | None = None, decommissioned: bool = False):
        super().__init__(reason)
        self.status, self.reason, self.scheme, self.role = status, reason, scheme, role
        self.bearer_error, self.decommissioned = bearer_error, decommissioned

    @property
    def challenge(self) -> str:
        if self.scheme == "bearer":
            error = f', error="{self.bearer_error}"' if self.bearer_error else ""
            desc = f', error_description="{self.reason}"' if self.bearer_error else ""
            return f'Bearer realm="Bandwidth"{error}{desc}'
        return 'Basic realm="Bandwidth"'


#: Every role, for API users (the sandbox gives an API user every role).
ALL_ROLES = (oauth_models.ROLE_MESSAGING, oauth_models.ROLE_NUMBERS)


def authenticate(db: Database, authorization: str | None, account_id: str | None = None,
                 role: str | None = None) -> Principal:
    """THE request authentication of the sandbox, for every API and the control plane.

    ``authorization`` is the request's Authorization header: ``Basic`` with an API user's
    username:password (refused with 401 when the ``legacy_basic_auth`` setting is ``decommissioned``)
    or ``Bearer`` with an access token from ``POST /api/v1/oauth2/token``. With ``account_id`` the
    credential must cover that account (else 403); with ``role`` the credential must have that role
    (else 403 naming it; API users have every role). Returns the :class:`Principal`; raises
    :class:`AuthError`.
    """
    header = (authorization or "").strip()
    scheme = header.split(" ", 1)[0].lower() if header else ""
    if scheme == "bearer":
        token = header[6:].strip()
        if not token:
            raise AuthError(401, "The Authorization header has no token after Bearer", "bearer",
                            bearer_error="invalid_request")
        try:
            claims = oauth_models.verify_token(db, token)
        except oauth_models.TokenInvalid as exc:
            raise AuthError(401, exc.reason, "bearer", bearer_error="invalid_token") from None
        accounts = tuple(str(a) for a in claims["accounts"])
        roles = tuple(str(r) for r in claims["roles"])
        if account_id is not None and account_id not in accounts:
            raise AuthError(403, "The access token does not cover this account", "bearer",
                            bearer_error="insufficient_scope")
        if role is not None and role not in roles:
            raise AuthError(403, f"The API credential lacks the {role} role", "bearer", role=role,
                            bearer_error="insufficient_scope")
        return Principal(account_id or (accounts[0] if accounts else ""), "bearer", str(claims["sub"]), roles,
                         accounts)
    creds = _basic(header)
    if creds is None:
        raise AuthError(401, "Missing or malformed Authorization header")
    row = db.query_one("SELECT account_id, password_hash FROM accounts WHERE username=?", (creds[0],))
    if row is None or not check_secret(creds[1], row["password_hash"]):
        raise AuthError(401, "Invalid username or password")
    if db.get_setting("legacy_basic_auth", "allowed") == "decommissioned":
        raise AuthError(401, DECOMMISSIONED, decommissioned=True)
    if account_id is not None and row["account_id"] != account_id:
        raise AuthError(403, "The API user belongs to another account")
    return Principal(row["account_id"], "basic", creds[0], ALL_ROLES, (row["account_id"],))


# -- handlers -----------------------------------------------------------------------------------

class BaseHandler(tornado.web.RequestHandler):
    """Common behaviour. Subclasses set ``api`` to 'dashboard', 'messaging' or 'control'."""

    api = "dashboard"
    #: root element used for Dashboard errors raised by this handler
    error_root = "ErrorResponse"

    @property
    def ctx(self) -> SandboxContext:
        return self.application.settings["sandbox"]

    @property
    def db(self) -> Database:
        return self.ctx.db

    def set_default_headers(self) -> None:
        self.set_header("Server", "bwhelpers-sandbox")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.clear_header("Content-Type")

    def prepare(self) -> None:
        self.guard()
        if self.request.method in ("POST", "PUT", "PATCH") and self.api not in ("control", "oauth"):
            check_db_size(self.db)  # 507 instead of filling the volume (the control plane checks where it stores)
        self._maybe_inject_fault()

    # -- shared-host guards ----------------------------------------------------------------------
    def guard(self) -> None:
        """Refuse what a shared host must not serve, before any auth or state: a Host the sandbox does not
        serve (DNS rebinding), an over-limit body (413, refused before it is buffered), and a state-changing
        request a cross-origin page could send without a CORS preflight (CSRF)."""
        self._check_host()
        self.check_url_length()
        if self.request.headers.get(OVERSIZE_HEADER) or len(self.request.body or b"") > MAX_BODY_BYTES:
            self.request.headers.pop(OVERSIZE_HEADER, None)
            raise self.too_large()
        self._check_csrf()

    def check_url_length(self) -> None:
        if len(self.request.uri or "") > MAX_URL_BYTES:
            raise self._generic(414, f"The request URL is longer than {MAX_URL_BYTES} bytes: send long values in "
                                     "the body, or fewer query parameters")

    def too_large(self) -> SandboxError:
        if self.api == "messaging":
            return MessagingError("request-entity-too-large",
                                  f"The request body exceeds {MAX_BODY_BYTES} bytes", status=413)
        if self.api in ("oauth", "control"):
            return self._generic(413, f"The request body exceeds the limit of {MAX_BODY_BYTES} bytes")
        return DashboardError(413, f"The request body exceeds the limit of {MAX_BODY_BYTES} bytes",
                              status=413, root=self.error_root)

    def request_hostname(self) -> str:
        """The Host header's name without the port, lower case ('' when absent)."""
        return tornado.httputil.split_host_and_port(self.request.host or "")[0].strip("[]").lower()

    def _check_host(self) -> None:
        allowed = self.ctx.allowed_hosts
        if "*" in allowed or self.request_hostname() in allowed:
            return
        # the error must not echo the Host: the page that sent it controls it
        raise self._guard_error(421, "misdirected-request",
                                "This sandbox does not serve the host name in the request's Host header "
                                "(DNS-rebinding guard). Use http://127.0.0.1:<port>, or start the sandbox with "
                                "--allow-host NAME for the names it should answer to.")

    def _check_csrf(self) -> None:
        method = self.request.method or "GET"
        origin = self.request.headers.get("Origin")
        if origin and method not in ("GET", "HEAD", "OPTIONS"):
            host = tornado.httputil.split_host_and_port(origin.split("://", 1)[-1].split("/", 1)[0])[0]
            if "*" not in self.ctx.allowed_hosts and host.strip("[]").lower() not in self.ctx.allowed_hosts:
                raise self._guard_error(403, "forbidden", "Cross-origin requests are refused (CSRF guard): the "
                                        "Origin header names a site this sandbox does not serve.")
        if method in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return  # DELETE (like PUT and PATCH) is never sent cross-origin without a preflight
        if method in ("PUT", "PATCH") and not self.request.body:
            return
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype in STATE_CHANGING_TYPES or ctype.endswith(("+json", "+xml")):
            return
        if self.api != "control":
            # The emulated APIs parse every state-changing body with xml_body/json_body, which refuse any other
            # type in the service's own 415 shape, after the 401 the real service answers first. What those
            # parsers would let through is a body without Content-Type (a Blob in fetch()): refused here.
            if ctype or not self.request.body or self.request_account() is None:
                return
        raise self._guard_error(415, "unsupported-content-type",
                                f"{method} requests must send Content-Type application/json or application/xml "
                                f"(got {ctype or 'none'!r}); a browser page cannot send those across origins "
                                "(CSRF guard).")

    def _guard_error(self, status: int, kind: str, description: str) -> SandboxError:
        if self.api == "messaging":
            return MessagingError(kind, description, status=status)
        return self._generic(status, description)

    def _maybe_inject_fault(self) -> None:
        if self.api in ("control", "oauth"):  # faults target the emulated APIs, not token fetches
            return
        fault = self.db.get_setting("fail_next")
        if not fault or int(fault.get("count", 0)) <= 0:
            return
        methods = fault.get("methods")
        if methods and self.request.method not in methods:
            return
        with self.db.transaction() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key='fail_next'").fetchone()
            current = json.loads(row["value"]) if row else None
            if not current or int(current.get("count", 0)) <= 0:
                return
            current["count"] = int(current["count"]) - 1
            conn.execute("UPDATE settings SET value=? WHERE key='fail_next'", (json.dumps(current),))
        status = int(fault.get("status", 503))
        headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else {}
        if self.api == "messaging":
            err: SandboxError = MessagingError("service-unavailable" if status != 429 else "max-message-queue-size-exceeded",
                                               "Injected fault (sandbox fail_next setting)", status=status,
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
        return _basic(self.request.headers.get("Authorization"))

    def unauthorized(self, err: AuthError | None = None) -> SandboxError:
        challenge = err.challenge if err is not None else 'Basic realm="Bandwidth"'
        if self.api == "messaging":
            # Bandwidth documents {"type":"unauthorized","description":"Authentication Failed"}; the
            # decommissioned text and the Bearer reason (in WWW-Authenticate) are the sandbox's own.
            text = err.reason if err is not None and err.decommissioned else "Authentication Failed"
            return MessagingError("unauthorized", text, status=401, headers={"WWW-Authenticate": challenge})
        if self.api == "control":
            return ControlError(f"authentication failed: {err.reason if err else 'missing credentials'}",
                                status=401)
        if err is not None and err.decommissioned:
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
        if self.api == "control":
            return ControlError(f"forbidden: {err.reason if err else 'access denied'}", status=403)
        dash = DashboardError(1001, hint, status=403, root="ErrorResponse")
        dash.headers = headers
        return dash

    def auth_error(self, err: AuthError) -> SandboxError:
        """An :class:`AuthError` in this handler's API shape."""
        return self.unauthorized(err) if err.status == 401 else self.forbidden(err)

    def check_credentials(self, check: Callable[[], _T]) -> _T:
        """Run one credential check under the failure throttle (:mod:`bwhelpers.sandbox.auth_throttle`; workshop
        mode): while this client address is throttled only recently verified credentials pass and anything else is
        429 (no key derivation); a 401 counts against the address."""
        if not self.ctx.workshop:  # a local sandbox has one user, whose tests probe 401s on purpose
            return check()
        address = self.request.remote_ip or "?"
        wait = THROTTLE.blocked(address)
        token = cached_only.set(wait is not None)
        try:
            return check()
        except Exception as exc:
            if getattr(exc, "status", None) == 401:
                if wait is not None:
                    raise self.throttled(wait) from None
                THROTTLE.failed(address)
            raise
        finally:
            cached_only.reset(token)

    def throttled(self, retry_after: int) -> SandboxError:
        err = self._generic(429, f"Too many failed authentications from your address: retry in {retry_after} s "
                                 "with valid credentials")
        err.headers = {**err.headers, "Retry-After": str(retry_after)}
        return err

    def auth_principal(self, account_id: str | None = None, role: str | None = None) -> Principal:
        """:func:`authenticate` this request; failures become 401/403 in this API's error shape."""
        def check() -> Principal:
            try:
                return authenticate(self.db, self.request.headers.get("Authorization"), account_id, role)
            except AuthError as err:
                raise self.auth_error(err) from None
        self.principal = self.check_credentials(check)
        return self.principal

    def auth_account(self, account_id: str, role: str | None = None) -> str:
        """Basic (an API user) or Bearer (an access token) valid (else 401), covering ``account_id`` and
        having ``role`` (else 403). Returns the account id."""
        return self.auth_principal(account_id, role).account_id

    def request_account(self) -> str | None:
        """The account the request's credentials (Basic or Bearer, via :func:`authenticate`) act on, or None
        (no or wrong credentials). Never raises: for guards that only need to know whether a request is
        authenticated."""
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
        """The guide's era: token:secret of the user in the URL. Returns the account id.

        O(1) in the number of accounts: the account is found by its API token and one hash is checked. Valid
        token:secret of another user is 403, anything else 401."""
        creds = self.credentials()
        if creds is None:
            raise self.unauthorized()

        def check() -> str:
            assert creds is not None
            row = self.db.query_one("SELECT account_id, legacy_hash, api_token FROM accounts WHERE user_id=?",
                                    (user_id,))
            owner = self.db.query_one("SELECT account_id, legacy_hash FROM accounts WHERE api_token=?", (creds[0],))
            if owner is None and row is not None and row["api_token"] is None:
                owner = row  # an account from before api_token was stored: its own hash
            if owner is None or not check_secret(f"{creds[0]}:{creds[1]}", owner["legacy_hash"]):
                raise self.unauthorized()
            if row is None or owner["account_id"] != row["account_id"]:
                raise self.forbidden()
            return str(row["account_id"])

        account = self.check_credentials(check)
        self.principal = Principal(account, "legacy", creds[0], ALL_ROLES, (account,))
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
        roots = (expected_root,) if isinstance(expected_root, str) else expected_root
        if roots and root not in roots:
            raise DashboardError(
                400, f"Unexpected root element <{root}>; expected <{roots[0]}>", root=self.error_root)
        content = doc[root]
        return root, content if content is not None else {}

    def json_body(self) -> Any:
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise MessagingError("unsupported-content-type",
                                 "Content-Type must be application/json", status=415)
        try:
            body = json.loads(self.request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MessagingError("request-validation", f"Your request could not be parsed: {exc}",
                                 field_errors=[]) from None
        except RecursionError:  # [[[[... nested deeper than the parser's stack
            raise MessagingError("request-validation", "Your request could not be parsed: the JSON document is "
                                 "nested too deeply", field_errors=[]) from None
        try:  # "\ud800" parses to a lone surrogate, which no store or encoder accepts
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            raise MessagingError("request-validation", "Your request could not be parsed: it contains an invalid "
                                 "Unicode escape (a lone surrogate such as \\ud800)", field_errors=[]) from None
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
        if not name or ("*" not in self.ctx.allowed_hosts and name not in self.ctx.allowed_hosts) \
                or not all(c.isalnum() or c in ".-:" for c in name):
            return f"{self.ctx.base_url}{path}"
        shown = f"[{name}]" if ":" in name else name
        return f"{self.request.protocol}://{shown}{f':{port}' if port else ''}{self.ctx.url_prefix}{path}"

    # -- errors ----------------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, SandboxError):
            err = exc
        elif isinstance(exc, QuotaExceeded):  # a quota or the db size cap (bwhelpers.sandbox.quotas)
            err = self._generic(exc.status, exc.description)
        elif isinstance(exc, tornado.web.HTTPError) and exc.status_code == 405 or status_code == 405:
            err = self._generic(405, f"Method {self.request.method} is not allowed on {self.request.path}")
            self.set_header("Allow", ", ".join(m for m in ("GET", "POST", "PUT", "DELETE", "PATCH")
                                               if type(self).__dict__.get(m.lower())))
        elif status_code < 500:
            err = self._generic(status_code, self._reason or "Bad request")
        else:
            log.error("sandbox internal error on %s %s", self.request.method, self.request.path,
                      exc_info=kwargs.get("exc_info"))
            err = self._generic(500, "Internal sandbox error")
        self.set_status(err.status)
        for k, v in err.headers.items():
            self.set_header(k, v)
        ctype, body = err.render()
        self.set_header("Content-Type", ctype)
        self.sandbox_error = err  # read by the access log of workshop mode (the board's "last error")
        self.finish(body)

    def _generic(self, status: int, description: str) -> SandboxError:
        if self.api == "messaging":
            kind = {400: "request-validation", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                    414: "uri-too-long", 429: "too-many-requests", 500: "internal-server-error",
                    507: "insufficient-storage"}.get(status, "error")
            return MessagingError(kind, description, status=status)
        if self.api == "control":
            return ControlError(description, status=status)
        if self.api == "oauth":
            from .oauth.exceptions import OAuthError
            return OAuthError("invalid_request" if status < 500 else "server_error", description, status=status)
        return DashboardError(status, description, status=status, root=self.error_root)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, SandboxError):
            log.debug("%s %s -> %s %s", self.request.method, self.request.path, value.status, value)
            return
        super().log_exception(typ, value, tb)


class NotFoundHandler(BaseHandler):
    """Anything no route matches: 404 in the shape of the API the path belongs to."""

    def prepare(self) -> None:
        path = self.request.path
        if path.startswith("/_sandbox"):
            self.api = "control"
        elif "/messages" in path or path.startswith(("/v2/", "/api/v2/")):
            self.api = "messaging"
        self._check_host()  # a 404 changes nothing: no CSRF rule, and the body limit is enforced before buffering
        self.check_url_length()
        if self.api == "messaging":
            try:  # the messaging gateway answers unknown paths with Spring's 404 body
                from .messaging.exceptions import SpringNotFound
            except ImportError:  # pragma: no cover - area not installed
                raise MessagingError("not-found", f"No resource at {path}", status=404) from None
            raise SpringNotFound(path)
        if self.api == "control":
            raise ControlError(f"No control endpoint at {path}", status=404)
        raise DashboardError(404, f"The resource {path} does not exist", status=404)
