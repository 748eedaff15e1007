"""
Errors of the ``/_sandbox`` control plane, one class per error (moto's ``exceptions.py`` style). The body is
``{"error": <text>}`` (:class:`bwhelpers.sandbox.exceptions.ControlError`); the control plane is the sandbox's own,
so every text is the sandbox's choice: it names the field, the problem and the fix.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..exceptions import ControlError
from ..keys import ADMIN_HEADER

# -- who may call -----------------------------------------------------------------------------------


class AuthenticationRequired(ControlError):
    """401: no or wrong account credentials."""

    status = 401

    def __init__(self, reason: str | None = None):
        detail = f" ({reason})" if reason else ""
        super().__init__(f"authentication required{detail}: send your sandbox account's credentials (HTTP Basic "
                         "username:password, or Bearer with an access token), or the admin key in the "
                         f"{ADMIN_HEADER} header for global endpoints",
                         headers={"WWW-Authenticate": 'Basic realm="bwhelpers sandbox"'})


class NoAccess(ControlError):
    """403: the credentials do not cover the account asked for."""

    status = 403
    description = "forbidden: these credentials do not give access to that account"


class AdminKeyRequired(ControlError):
    """401: a global endpoint called without any credential."""

    status = 401
    description = (f"this endpoint affects every tenant and needs the sandbox admin key in the {ADMIN_HEADER} header "
                   "(it is in the file printed on the sandbox banner, <db>.admin-key; bwhelpers.sandbox.admin_key() "
                   "reads it)")


class AdminKeyNeeded(ControlError):
    """403: a global endpoint called with account credentials (or a wrong admin key)."""

    status = 403
    description = (f"forbidden: this endpoint affects every tenant and needs the sandbox admin key ({ADMIN_HEADER}); "
                   "account credentials are not enough")


class NoControlEndpoint(ControlError):
    """404: no control endpoint at that path."""

    status = 404

    def __init__(self, path: str):
        super().__init__(f"No control endpoint at {path}")


# -- bodies and arguments ---------------------------------------------------------------------------

class NotJson(ControlError):
    """400: the body does not parse as JSON."""

    def __init__(self, detail: object):
        super().__init__(f"the body must be JSON: {detail}")


class NotAnObject(ControlError):
    """400: the body is JSON but not the object the endpoint takes."""

    def __init__(self, shape: str):
        super().__init__(f"send a JSON object {shape}")


class MissingFields(ControlError):
    """400: required fields are missing or empty."""

    def __init__(self, fields: Sequence[str], note: str = ""):
        super().__init__(f"missing or empty field(s): {list(fields)}" + (f" ({note})" if note else ""))


class NonceTooLong(ControlError):
    """400: the health check's ``nonce`` is over 200 characters."""

    description = "nonce: at most 200 characters"


class BadLimit(ControlError):
    """400: ``limit`` of a paged list is not a whole number in range."""

    def __init__(self, maximum: int, default: int):
        super().__init__(f"limit must be a whole number from 1 to {maximum} (default {default})")


class BadCursor(ControlError):
    """400: a paging cursor that no earlier page returned."""

    def __init__(self, name: str):
        super().__init__(f"{name} must be the cursor an earlier page returned in 'next'")


# -- settings ---------------------------------------------------------------------------------------

class UnknownSettings(ControlError):
    """400: ``PUT /_sandbox/settings`` names settings the sandbox does not have."""

    def __init__(self, unknown: Sequence[str], known: Sequence[str]):
        super().__init__(f"unknown setting(s) {list(unknown)}; known: {list(known)}")


class InvalidSetting(ControlError):
    """400: a setting's value that every later request would trip over."""

    def __init__(self, name: str, rule: str):
        super().__init__(f"{name} must be {rule}")


class UnknownClockFields(ControlError):
    """400: a clock change with fields the clock does not take."""

    def __init__(self, unknown: Sequence[str], known: Sequence[str]):
        super().__init__(f"unknown field(s) {list(unknown)} for /_sandbox/clock; known: {list(known)}")


class InvalidClockChange(ControlError):
    """400: a clock change with a value out of range."""

    def __init__(self, name: str, rule: str):
        super().__init__(f"{name} must be {rule}")


class InvalidQuota(ControlError):
    """400: a ``quotas`` value that is not an object of known quotas with whole numbers or null."""

    def __init__(self, why: str):
        super().__init__(why)


# -- accounts and API credentials -------------------------------------------------------------------

class AlreadyOwned(ControlError):
    """409: a username, user id, site or client id that belongs to another account."""

    status = 409

    def __init__(self, what: str, value: str, owner: str):
        super().__init__(f"{what} {value!r} already belongs to account {owner}")


class BadClientId(ControlError):
    """400: a client id the Authorization header could not carry."""

    description = "client_id must be at most 200 characters without ':' or line breaks"


class BadRoles(ControlError):
    """400: roles that are not a list of known role names."""

    def __init__(self, problem: str):
        super().__init__(problem)


class NoSuchAccount(ControlError):
    """404: a credential for an account the sandbox does not have."""

    status = 404

    def __init__(self, account: str):
        super().__init__(f"no account {account!r}; create it with POST /_sandbox/accounts")


class RoleEscalation(ControlError):
    """403: a tenant granting roles its own credential lacks."""

    status = 403

    def __init__(self, extra: Sequence[str], roles: Sequence[str]):
        super().__init__(f"roles {list(extra)} are not among this credential's roles {list(roles)}: a credential "
                         "can only grant roles it has; use the admin key for others")


class ClientIdRequired(ControlError):
    """405: ``DELETE /_sandbox/credentials`` without the client id."""

    status = 405
    description = "DELETE /_sandbox/credentials/{client_id}"


class ClientIdInPostPath(ControlError):
    """405: ``POST /_sandbox/credentials/{client_id}``; a credential is created by a POST to the collection."""

    status = 405

    def __init__(self, client_id: str):
        super().__init__(f"POST is not allowed on /_sandbox/credentials/{client_id}: POST /_sandbox/credentials "
                         "with {account_id, client_id, client_secret, roles?} in the body to add or replace one",
                         headers={"Allow": "GET, DELETE"})


class NoSuchCredential(ControlError):
    """404: no API credential with that client id (or not the caller's)."""

    status = 404

    def __init__(self, client_id: str):
        super().__init__(f"no API credential {client_id!r}")


# -- messaging side: inbound, request bins ----------------------------------------------------------

class InboundRefused(ControlError):
    """An inbound message the messaging area refused (its text and status)."""

    def __init__(self, description: str, status: int):
        super().__init__(description, status=status)


class BinAccountRequired(ControlError):
    """400: the admin key used on a bin without naming the account."""

    description = "with the admin key, name the account whose bin this is: ?accountId="


class BinWriteRefused(ControlError):
    """401: a request to a bin that is neither a signed delivery nor the account's own."""

    status = 401

    def __init__(self, method: str | None):
        super().__init__(f"this request bin records only the sandbox's own callbacks and requests sent with the "
                         f"account's credentials; {method} without them is refused (so no one can forge events into "
                         "a bin)")


class BinHeadersTooLarge(ControlError):
    """431: a request to a bin whose headers are larger than a bin stores."""

    status = 431

    def __init__(self, size: int, limit: int):
        super().__init__(f"the request's headers are {size} bytes; a request bin stores at most {limit} bytes of "
                         "headers (a callback's are well under 1 KB): send the data in the body instead")


class BadBinStatus(ControlError):
    """400: a bin's answer status that is not an HTTP status code."""

    description = "status must be an HTTP status code"


class BadRequireAuth(ControlError):
    """400: a bin's ``require_auth`` that is not ``user:password``."""

    description = "require_auth must be 'user:password' (at most 200 characters) or null"
