"""The exception classes of bwhelpers (and nothing else).

Every error carries the HTTP status, Bandwidth's own ``code`` and ``description``, the ``fix`` where one
is known (from :mod:`bwhelpers.codes`), and scrubbed copies of the request and response.
"""
from __future__ import annotations

from typing import Any, Mapping

from .codes import fix_for
from .masking import scrub

__all__ = [
    "BandwidthError", "AuthError", "TokenError", "NotFoundError", "ValidationError", "ConflictError", "RateLimitError",
    "ServerError", "TransportError", "MissingPrerequisiteError", "StateFileError", "WaitTimeoutError",
    "UnknownMessageError",
]


class BandwidthError(Exception):
    """Base class: an error from Bandwidth (or this package), with its code, description and fix."""

    def __init__(self, message: str | None = None, *, request: Mapping[str, Any] | None = None,
                 response: Mapping[str, Any] | None = None, status: int | None = None,
                 code: str | int | None = None, description: str | None = None, fix: str | None = None,
                 field: str | None = None, exchange: Any = None, details: list[dict[str, Any]] | None = None):
        self.request = dict(request) if request else None
        self.response = dict(response) if response else None
        self.status = status
        self.code = None if code is None else str(code)
        self.description = scrub(description) if description else description
        self.fix = fix if fix is not None else fix_for(self.code, status)
        self.field = field
        self.exchange = exchange
        self.details = details or []
        if message is None:
            message = self._compose()
        super().__init__(scrub(message))

    def _compose(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.request:
            parts.append(f"{self.request.get('method', '')} {self.request.get('url', '')}".strip())
        head = " ".join(parts)
        body = f"{self.code}: " if self.code else ""
        body += self.description or "no description"
        msg = f"{head}: {body}" if head else body
        if self.fix:
            msg += f". Fix: {self.fix}"
        return msg

    def __reduce__(self):  # keep pickling (e.g. across processes) working
        return (_rebuild, (type(self), str(self), self.status, self.code, self.description, self.fix, self.field))


def _rebuild(cls, message, status, code, description, fix, field):
    err = cls.__new__(cls)
    BandwidthError.__init__(err, message, status=status, code=code, description=description, fix=fix, field=field)
    return err


class AuthError(BandwidthError):
    """Credentials rejected (HTTP 401) or not allowed (HTTP 403)."""


class TokenError(AuthError):
    """The OAuth 2.0 token request failed: a wrong Client ID or Secret (``code`` "invalid_client"), a credential
    without access, or a token URL that is not a token endpoint. (An unreachable token URL is a TransportError.)"""


class NotFoundError(BandwidthError):
    """The object does not exist (HTTP 404, or Bandwidth's 'does not exist' codes such as 13563)."""


class ValidationError(BandwidthError, ValueError):
    """Bad input: rejected by Bandwidth (HTTP 400) or by this package before any request."""


class ConflictError(BandwidthError):
    """The steps were done in the wrong order (e.g. 13645 assign before SMS, 12107 delete a used app)."""


class RateLimitError(BandwidthError):
    """Too many requests (HTTP 429); ``retry_after`` holds the server's advice in seconds."""

    retry_after: float | None = None


class ServerError(BandwidthError):
    """Bandwidth (or the sandbox) failed (HTTP 5xx)."""


class TransportError(BandwidthError):
    """No HTTP answer: connection refused, DNS failure or timeout."""


class MissingPrerequisiteError(BandwidthError):
    """A step needs an ID that an earlier step saves; the message names the step to run first."""


class StateFileError(BandwidthError):
    """The saved-state file is unreadable, corrupt, or would have held a secret."""


class WaitTimeoutError(BandwidthError, TimeoutError):
    """Something waited for (an order's final status, a callback event) did not happen in time."""


class UnknownMessageError(WaitTimeoutError):
    """A wait for the events of a message the sandbox does not know: it ends at once, since none can come."""
