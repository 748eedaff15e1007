"""The host's join link for latecomers (review 23f F5): a signed, expiring invitation, shared by the board and the hub.

Behind a venue's NAT the whole room is one client address, so an outsider guessing at the login form there pauses
that address's new browsers (the latecomers), and the room's new names share the address's bound. The host makes a
join link on the board (``POST /room/invite``); a latecomer opens it (``<hub>/hub/join?join_token=…``, a handler of
``bwhelpers.workshop_auth.WorkshopAuthenticator``), which sets a signed browser cookie naming the invitation. That
browser's logins then have allowances of their own: its failed logins count against the invitation (not the
address), and its new names against the invitation's ``names``. The room password is still needed.

The invitation is a JWT (PyJWT, HS256: ``jti``, ``exp``, ``names``) signed with a key derived from the sandbox's
admin key (:func:`signing_key`, as the phone links' key is: HMAC-SHA256 of the admin key and a purpose of its own),
which the hub's authenticator reads from the admin key file. The current invitation is one small JSON file beside
the sandbox's db (:data:`FILENAME`, 0600, replaced whole): ``{"id", "expires", "names", "made"}``; making a new link
or stopping it (``POST /room/invite/stop``) replaces or deletes it, and a link whose ``jti`` is not the current one
is refused. Expiry is checked on the caller's clock (the hub's wall clock; tests pass theirs).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from bwhelpers.sandbox.workshop import room_files

FILENAME = "join-link.json"
#: the query parameter of the link (JupyterHub's log scrubs parameters whose name contains "token")
PARAM = "join_token"
ISSUER = "bwhelpers-workshop-join"
ALGORITHM = "HS256"
#: defaults and bounds of an invitation
HOURS, MAX_HOURS = 4, 24
#: a link works for at least a minute (rev23g G5: shorter ones were expired when made)
MIN_HOURS = 1 / 60
NAMES, MAX_NAMES = 60, 1000
_PURPOSE = b"bwhelpers workshop join link v1"
_MAX_BYTES = 4096
_MAX_TOKEN_CHARS = 1024


class JoinLinkError(Exception):
    """A join link that does not let its browser in; ``status`` and a message saying what to do."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class JoinLinkInvalid(JoinLinkError):
    """400: not a join link of this hub (made up, cut short, or signed with another key)."""


class JoinLinkExpired(JoinLinkError):
    """403: the join link's time is over."""

    status = 403


class JoinLinkStopped(JoinLinkError):
    """403: the host stopped this join link or made a newer one."""

    status = 403


def path_beside(db_path: str | os.PathLike[str]) -> Path:
    """Where the current invitation of the hub whose sandbox db is ``db_path`` is kept."""
    return Path(db_path).with_name(FILENAME)


def signing_key(admin_key: str) -> bytes:
    """The invitations' key: derived from the sandbox's admin key for this purpose only."""
    if not admin_key:
        raise JoinLinkInvalid("this hub cannot check join links: the workshop sandbox's admin key is missing; ask "
                              "the host")
    return hmac.new(admin_key.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def make(path: str | os.PathLike[str], hours: float = HOURS, names: int = NAMES,
         now: float | None = None) -> dict[str, Any]:
    """A new current invitation (the previous one stops working); returns its record."""
    made = time.time() if now is None else float(now)
    record = {"id": secrets.token_urlsafe(12), "expires": int(made + hours * 3600), "names": int(names),
              "made": made}
    room_files.replace(path, record)
    return record


def stop(path: str | os.PathLike[str]) -> None:
    """No join link works any more."""
    room_files.remove(path)


def current(path: str | os.PathLike[str] | None, now: float | None = None) -> dict[str, Any] | None:
    """The current invitation while it has not expired, else None."""
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
        found: Any = json.loads(raw) if len(raw) <= _MAX_BYTES else {}
        record: dict[str, Any] = {"id": str(found["id"]), "expires": int(found["expires"]), "names": int(found["names"]),
                  "made": float(found["made"])}
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return record if (time.time() if now is None else now) < record["expires"] else None


def token(admin_key: str, record: dict[str, Any]) -> str:
    """The signed invitation of ``record`` (the same text for the same record)."""
    claims = {"iss": ISSUER, "jti": record["id"], "exp": record["expires"], "names": record["names"]}
    return jwt.encode(claims, signing_key(admin_key), algorithm=ALGORITHM)


def link(hub_url: str, admin_key: str, record: dict[str, Any]) -> str:
    """The link a latecomer opens: ``join`` below the hub's URL (``https://hub.example.org/hub/``)."""
    from urllib.parse import urlencode

    return f"{hub_url.rstrip('/')}/join?{urlencode({PARAM: token(admin_key, record)})}"


def verify(admin_key: str, text: str, record: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """The claims of a join link's token that lets its browser in at ``now`` with ``record`` the current invitation;
    raises :class:`JoinLinkInvalid`, :class:`JoinLinkExpired` or :class:`JoinLinkStopped`."""
    if not text or len(text) > _MAX_TOKEN_CHARS:
        raise JoinLinkInvalid("this is not a join link of this hub (is it cut short?): copy the whole link from the "
                              "host again")
    try:
        claims = jwt.decode(text, signing_key(admin_key), algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"verify_exp": False, "require": ["exp", "jti", "names"]})
        expires, names = int(claims["exp"]), int(claims["names"])
    except (jwt.PyJWTError, TypeError, ValueError):
        raise JoinLinkInvalid("this is not a join link of this hub (is it cut short?): copy the whole link from the "
                              "host again") from None
    if now >= expires:
        when = time.strftime("%H:%M", time.localtime(expires))
        raise JoinLinkExpired(f"this join link expired at {when}: ask the host for a fresh one")
    if record is None or not hmac.compare_digest(str(claims["jti"]), record["id"]):
        raise JoinLinkStopped("the host stopped this join link or made a newer one: ask the host for the current "
                              "link")
    return {"id": str(claims["jti"]), "expires": expires, "names": names}
