"""
bwhelpers.sandbox.auth
~~~~~~~~~~~~~~~~~~~~~~

Request authentication of the sandbox, for every API and the control plane: :func:`authenticate`
(HTTP Basic with an API user, or an OAuth 2.0 Bearer token) and the guide's legacy token:secret of a
user (:func:`legacy_user_account`). Handlers turn an :class:`AuthError` into their API's 401/403.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from typing import Any

from .db import Database, check_secret, token_digest
from . import credentials
from .disabled import REASON as DISABLED

#: The 401 description for an API user's username:password under legacy_basic_auth=decommissioned.
#: Bandwidth documents no wording for it; this text is the sandbox's own.
DECOMMISSIONED = ("Sandbox (legacy_basic_auth=decommissioned): API users (username/password) were retired on "
                  "2026-12-02. Create API credentials (Bandwidth App > Account > API Credentials), get a token "
                  "with POST /api/v1/oauth2/token (Basic client_id:client_secret, grant_type=client_credentials) "
                  "and send Authorization: Bearer <access_token>")


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic`` header, or None (absent, another scheme, malformed)."""
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
    #: a Bearer token's ``exp`` (sandbox clock seconds); None for Basic
    expires: float | None = None


class AuthError(Exception):
    """Authentication (401) or authorization (403) failed. Handlers render it in their API's shape.

    ``reason`` is safe to show; ``role`` names a missing role; ``scheme`` is the scheme the request
    tried (it picks the challenge); ``bearer_error`` is RFC 6750's error code for Bearer failures.
    """

    def __init__(self, status: int, reason: str, scheme: str = "basic", role: str | None = None,
                 bearer_error: str | None = None, decommissioned: bool = False, disabled: bool = False):
        super().__init__(reason)
        self.status, self.reason, self.scheme, self.role = status, reason, scheme, role
        self.bearer_error, self.decommissioned, self.disabled = bearer_error, decommissioned, disabled

    @property
    def told(self) -> bool:
        """Is ``reason`` the text to answer (the sandbox's own, for right credentials that still may not work)?"""
        return self.decommissioned or self.disabled

    @property
    def challenge(self) -> str:
        if self.scheme == "bearer":
            error = f', error="{self.bearer_error}"' if self.bearer_error else ""
            desc = f', error_description="{self.reason}"' if self.bearer_error else ""
            return f'Bearer realm="Bandwidth"{error}{desc}'
        return 'Basic realm="Bandwidth"'


#: Every role, for API users (the sandbox gives an API user every role).
ALL_ROLES = (credentials.ROLE_MESSAGING, credentials.ROLE_NUMBERS)


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
            claims = credentials.verify_token(db, token)
        except credentials.TokenInvalid as exc:
            raise AuthError(401, exc.reason, "bearer", bearer_error="invalid_token",
                            disabled=exc.reason == DISABLED) from None
        accounts = tuple(str(a) for a in claims["accounts"])
        roles = tuple(str(r) for r in claims["roles"])
        return authorize(Principal(accounts[0] if accounts else "", "bearer", str(claims["sub"]), roles, accounts,
                                   float(claims["exp"])), account_id, role)
    creds = parse_basic(header)
    if creds is None:
        raise AuthError(401, "Missing or malformed Authorization header")
    row = db.query_one("SELECT account_id, password_hash, disabled FROM accounts WHERE username=?", (creds[0],))
    if row is None or not check_secret(creds[1], row["password_hash"]):
        raise AuthError(401, "Invalid username or password")
    if row["disabled"] is not None:  # read from the row on every request: a remembered success does not outlive it
        raise AuthError(401, DISABLED, disabled=True)
    if db.get_setting("legacy_basic_auth", "allowed") == "decommissioned":
        raise AuthError(401, DECOMMISSIONED, decommissioned=True)
    return authorize(Principal(row["account_id"], "basic", creds[0], ALL_ROLES, (row["account_id"],)), account_id,
                     role)


def authorize(principal: Principal, account_id: str | None = None, role: str | None = None) -> Principal:
    """:func:`authenticate`'s last step: does ``principal`` (authenticated, with no account asked for) cover
    ``account_id`` and have ``role``? Returns it acting on ``account_id``; raises :class:`AuthError` 403."""
    if principal.scheme == "bearer":
        if account_id is not None and account_id not in principal.accounts:
            raise AuthError(403, "The access token does not cover this account", "bearer",
                            bearer_error="insufficient_scope")
        if role is not None and role not in principal.roles:
            raise AuthError(403, f"The API credential lacks the {role} role", "bearer", role=role,
                            bearer_error="insufficient_scope")
    elif account_id is not None and principal.account_id != account_id:
        raise AuthError(403, "The API user belongs to another account")
    if account_id is None or account_id == principal.account_id:
        return principal
    return dataclasses.replace(principal, account_id=account_id)


#: the tables whose rows an :func:`authenticate` answer is made of (besides the settings and meta rows: the signing
#: key, the clock, legacy_basic_auth): while none of them changed, a principal verified from a request's head (its
#: tenant, :mod:`.fair_share`) is what the handler's check would find again (:meth:`.Database.epoch`)
AUTH_TABLES = ("settings", "accounts", "api_credentials")


def legacy_user_account(db: Database, authorization: str | None, user_id: str) -> str:
    """The guide's era: HTTP Basic token:secret of the user in the URL. Returns the account id; raises
    :class:`AuthError` 401 (no or wrong credentials) or 403 (the token:secret of another user).

    O(1) in the number of accounts: the account is found by its API token's digest (``accounts.api_token``) and one hash
    is checked; an account from before that column was filled is checked against its own hash only."""
    creds = parse_basic(authorization)
    if creds is None:
        raise AuthError(401, "Missing or malformed Authorization header")
    given = f"{creds[0]}:{creds[1]}"
    digest = token_digest(creds[0])
    row = db.query_one("SELECT account_id, legacy_hash, api_token, disabled FROM accounts WHERE user_id=?",
                       (user_id,))
    if row is not None and (not str(row["api_token"] or "").startswith("sha256:") or row["api_token"] == digest):
        candidates = [row]  # the URL's user holds this token (or is from before the token's digest was stored)
    else:  # another user's token? (a token is one account's; a few duplicates at most, each one hash)
        candidates = _token_holders(db, digest)
    owner = next((c for c in candidates if check_secret(given, c["legacy_hash"])), None)
    if owner is None:
        raise AuthError(401, "Invalid token or secret")
    if owner["disabled"] is not None:
        raise AuthError(401, DISABLED, disabled=True)
    if row is None or owner["account_id"] != row["account_id"]:
        raise AuthError(403, "The credentials belong to another user")
    return str(row["account_id"])


def _token_holders(db: Database, digest: str) -> list[Any]:
    """The accounts holding the API token of ``digest`` (a token is one account's: a few duplicates at most)."""
    return db.query("SELECT account_id, legacy_hash, disabled FROM accounts WHERE api_token=? LIMIT 3", (digest,))


def legacy_token_account(db: Database, authorization: str | None) -> str | None:
    """The account of the guide's token:secret in ``authorization`` (found by the token, whatever user the URL
    names), else None (a disabled account's too): one hash per holder of the token."""
    creds = parse_basic(authorization)
    if creds is None:
        return None
    given = f"{creds[0]}:{creds[1]}"
    owner = next((c for c in _token_holders(db, token_digest(creds[0])) if check_secret(given, c["legacy_hash"])),
                 None)
    return None if owner is None or owner["disabled"] is not None else str(owner["account_id"])
