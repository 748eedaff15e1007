"""
bwhelpers.sandbox.credentials
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

API credentials (client id, salted hash of the client secret, roles) per
account, and the per-sandbox JWT signing key (kept in the ``meta`` table, so ``/_sandbox/reset``
and ``/_sandbox/settings`` never show or change it).

Tokens are real JWTs signed with HS256 (PyJWT). Claims: ``sub`` (client id), ``accounts`` (list of
account ids), ``roles`` (list), ``express`` (false), ``iat``, ``exp``, ``jti`` and ``iss``. Bandwidth
documents ``accounts``/``roles``/``express`` (read by its CLI); the signing algorithm, ``iss`` and
``jti`` are the sandbox's choice.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable
from typing import Any

import jwt

from . import clock
from .db import Database, check_secret, hash_secret, register_cached_table, register_schema
from .disabled import REASON as DISABLED, AccountDisabled, any_disabled

#: The role every send and message listing needs (Bandwidth's name for it).
ROLE_MESSAGING = "Messaging"
#: The one number-management role the sandbox asks for on every Dashboard endpoint. Bandwidth names
#: its roles in the App ("Messaging", "Voice", "Numbers", ...); which role guards which Dashboard call
#: is not documented, so one role for the whole Dashboard is the sandbox's choice.
ROLE_NUMBERS = "Numbers"
#: Roles a credential gets unless it is created with others.
DEFAULT_ROLES = (ROLE_MESSAGING, ROLE_NUMBERS)

ALGORITHM = "HS256"
ISSUER = "bwhelpers-sandbox"
DEFAULT_TTL = 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_credentials (
    client_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    secret_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS api_credentials_account ON api_credentials(account_id);
"""
register_schema(SCHEMA)
register_cached_table("api_credentials")  # credential_state: a change refuses earlier tokens at once


class TokenInvalid(Exception):
    """A Bearer token that cannot be used; ``reason`` is short and safe to show (never the token)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def signing_key(db: Database) -> str:
    """This sandbox's HS256 key: created once (random, 256 bits), shared by every process on the db."""
    return db.meta_secret("jwt_signing_key", 32)


def clean_roles(roles: Any) -> list[str]:
    """Validate a roles list (JSON input): non-empty strings, deduplicated, in the given order."""
    if roles is None:
        return list(DEFAULT_ROLES)
    if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
        raise ValueError("roles must be a list of role names such as ['Messaging', 'Numbers']")
    out: list[str] = []
    for r in roles:
        if r.strip() not in out:
            out.append(r.strip())
    return out


def set_credential(conn: sqlite3.Connection | Database, account_id: str, client_id: str, client_secret: str,
                   roles: Iterable[str] | None = None, description: str = "") -> None:
    """Create or replace one API credential of ``account_id`` (inside the caller's transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO api_credentials (client_id, account_id, secret_hash, roles, description, created) "
        "VALUES (?,?,?,?,?,?)",
        (client_id, account_id, hash_secret(client_secret), json.dumps(list(roles or DEFAULT_ROLES)), description,
         clock.now(conn)),
    )


def credential_owner(db: Database, client_id: str) -> str | None:
    row = db.query_one("SELECT account_id FROM api_credentials WHERE client_id=?", (client_id,))
    return None if row is None else str(row["account_id"])


def _version(secret_hash: str) -> str:
    """Which setting of a credential a token was issued for: a digest of its salted secret hash (a new salt on
    every replacement, so it changes even when the sandbox clock shows the same second)."""
    return hashlib.sha256(secret_hash.encode()).hexdigest()[:16]


def credential_state(db: Database, client_id: str) -> tuple[float, str] | None:
    """(created, version) of a credential, or None when it does not exist (cached with the table)."""
    return db.derived(("credential", client_id), lambda: _credential_state(db, client_id), table="api_credentials")


def _credential_state(db: Database, client_id: str) -> tuple[float, str] | None:
    row = db.query_one("SELECT created, secret_hash FROM api_credentials WHERE client_id=?", (client_id,))
    return None if row is None else (float(row["created"]), _version(str(row["secret_hash"])))


def list_credentials(db: Database, account_id: str | None = None, limit: int = 1000,
                     after: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """A page of client ids, accounts and roles (never a secret or its hash), oldest first: at most ``limit``, and
    stopping at about :data:`~.paging.PAGE_BYTES` of answer (at least one), after the cursor ``after`` (an earlier
    page's ``next``); and the cursor of the next page, or None. Each credential's ``tokens_issued`` is read for the
    page's client ids only (rev23h H6: the list was one page of every credential, 233 KB for 492 of them, and read
    the whole room's token counters on each call)."""
    from .paging import MIN_ROW_BYTES, PAGE_BYTES, newest

    where = ["rowid > ?"] if after is not None else []
    args: list[Any] = [after] if after is not None else []
    if account_id:
        where.append("account_id=?")
        args.append(account_id)
    rows = db.query("SELECT rowid AS id, client_id, account_id, roles, description FROM api_credentials "
                    + (f"WHERE {' AND '.join(where)} " if where else "") + "ORDER BY rowid LIMIT ?",
                    (*args, min(limit, PAGE_BYTES // MIN_ROW_BYTES) + 1))  # no more than a page can hold
    page, more = newest(rows, limit)
    names = [f"tokens:{r['client_id']}" for r in page]
    issued = {r["name"][len("tokens:"):]: int(r["value"]) for r in db.query(
        f"SELECT name, value FROM counters WHERE name IN ({','.join('?' * len(names))})", names)} if names else {}
    listed = [{"client_id": r["client_id"], "account_id": r["account_id"], "roles": json.loads(r["roles"]),
               "description": r["description"], "tokens_issued": issued.get(r["client_id"], 0)} for r in page]
    return listed, (int(page[-1]["id"]) if more and page else None)


def get_credential(db: Database, client_id: str, account_id: str | None = None) -> dict[str, Any] | None:
    """One credential as :func:`list_credentials` shows it, or None (none, or not ``account_id``'s when given)."""
    row = db.query_one("SELECT client_id, account_id, roles, description FROM api_credentials WHERE client_id=?",
                       (client_id,))
    if row is None or (account_id and row["account_id"] != account_id):
        return None
    counter = db.query_one("SELECT value FROM counters WHERE name=?", (f"tokens:{client_id}",))
    return {"client_id": row["client_id"], "account_id": row["account_id"], "roles": json.loads(row["roles"]),
            "description": row["description"], "tokens_issued": int(counter["value"]) if counter else 0}


def delete_credential(db: Database, client_id: str) -> bool:
    """Revoke a credential: its tokens stop working at once."""
    return db.execute("DELETE FROM api_credentials WHERE client_id=?", (client_id,)).rowcount > 0


def check_client(db: Database, client_id: str, client_secret: str) -> dict[str, Any] | None:
    """The credential if ``client_secret`` is right, else None; :class:`~.disabled.AccountDisabled` when it is right
    but its account is disabled (read from the row every time)."""
    row = db.query_one("SELECT c.client_id, c.account_id, c.secret_hash, c.roles, a.disabled FROM api_credentials c "
                       "LEFT JOIN accounts a ON a.account_id=c.account_id WHERE c.client_id=?", (client_id,))
    if row is None or not check_secret(client_secret, row["secret_hash"]):
        return None
    if row["disabled"] is not None:
        raise AccountDisabled()
    return {"client_id": row["client_id"], "account_id": row["account_id"], "roles": json.loads(row["roles"])}


def issue_token(db: Database, credential: dict[str, Any], ttl: int) -> str:
    """A signed access token for ``credential``; counted per client id (``tokens_issued`` in the list)."""
    db.next_counter(f"tokens:{credential['client_id']}", 1)
    now = int(clock.now(db))
    state = credential_state(db, str(credential["client_id"]))
    claims = {
        "iss": ISSUER,
        "sub": credential["client_id"],
        "accounts": [credential["account_id"]],
        "roles": list(credential["roles"]),
        "express": False,
        "iat": now,
        "exp": now + int(ttl),
        "jti": uuid.uuid4().hex,
    }
    if state is not None:
        claims["cver"] = state[1]  # the credential's version: replacing it retires this token at once
    return jwt.encode(claims, signing_key(db), algorithm=ALGORITHM)


#: tokens whose signature and shape this process checked, by (signing key, token): the claims. The signature is a
#: pure function of both, so a hit is what jwt.decode would answer; the lifetime and the credential are checked on
#: every request all the same (verify_token). Bounded; only valid signatures are kept.
_DECODED: dict[tuple[str, str], dict[str, Any]] = {}
_DECODED_MAX = 4096


def _decoded(token: str, key: str) -> dict[str, Any]:
    """The claims of ``token`` signed with ``key`` (TokenInvalid when the signature or the shape is wrong)."""
    hit = _DECODED.get((key, token))
    if hit is not None:
        return dict(hit)
    try:
        # lifetimes are checked against the sandbox's clock (bwhelpers.sandbox.clock), not PyJWT's wall clock
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False,
                                     "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidSignatureError:
        raise TokenInvalid("The access token was not issued by this service (bad signature)") from None
    except jwt.PyJWTError:
        raise TokenInvalid("The access token is malformed") from None
    if len(_DECODED) >= _DECODED_MAX:
        _DECODED.clear()
    _DECODED[(key, token)] = claims
    return dict(claims)


def verify_token(db: Database, token: str) -> dict[str, Any]:
    """The claims of a valid token from this sandbox whose credential still exists and has not been re-created
    since the token was issued (so ``/_sandbox/reset`` and replacing a credential retire its tokens); else
    TokenInvalid."""
    claims = _decoded(token, signing_key(db))
    accounts, roles = claims.get("accounts"), claims.get("roles")
    if not isinstance(accounts, list) or not isinstance(roles, list) or not isinstance(claims["exp"], int) \
            or not isinstance(claims["iat"], int):
        raise TokenInvalid("The access token is malformed")
    if claims["exp"] <= clock.now(db):
        raise TokenInvalid("The access token expired")
    if any_disabled(db, accounts):  # read on every request: a token issued before the disable stops at once
        raise TokenInvalid(DISABLED)
    state = credential_state(db, str(claims["sub"]))
    if state is None:
        raise TokenInvalid("The API credential of this token no longer exists")
    created, version = state
    # the credential was re-created (or the sandbox reset) since: by its version (even within the same second of
    # the sandbox clock), or by the time for a token without one
    if claims.get("cver", version) != version or int(claims["iat"]) < int(created):
        raise TokenInvalid("The access token was issued before its API credential was last changed")
    return claims
