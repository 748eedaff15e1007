"""Exceptions for bwhelpers, parsed from Bandwidth's XML and JSON error shapes.

Every error carries the HTTP status, Bandwidth's own ``code`` and ``description``, the ``fix`` where one
is known, and scrubbed copies of the request and response (never an Authorization header or a secret).
"""
from __future__ import annotations

import json
import re
import threading
from typing import Any, Mapping

__all__ = [
    "BandwidthError", "AuthError", "NotFoundError", "ValidationError", "ConflictError", "RateLimitError",
    "ServerError", "TransportError", "MissingPrerequisiteError", "StateFileError", "WaitTimeoutError", "OrderTimeoutError",
    "FIXES", "CONFLICT_CODES", "NOT_FOUND_CODES", "parse_error_body", "error_from_response", "scrub",
    "register_secret", "mask",
]

# --------------------------------------------------------------------------------------------- secrets

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
MASK = "********"
_SECRET_XML = re.compile(r"(<(?:[A-Za-z]*Password|[A-Za-z]*Secret|[A-Za-z]*Token)\s*>)(.*?)(</)", re.I | re.S)
_SECRET_JSON = re.compile(r'("(?:password|secret|token|api_?secret|api_?token|authorization)"\s*:\s*")([^"]*)(")', re.I)


def mask(value: str | None) -> str:
    """Mask a secret for display: ``sandbox-password`` -> ``********rd`` (only the last two characters of a
    long value, enough to tell two secrets apart); values under 12 characters -> ``********``."""
    if not value:
        return ""
    if len(value) < 12:
        return MASK
    return f"{MASK}{value[-2:]}"


def register_secret(value: str | None) -> None:
    """Remember a secret value so :func:`scrub` removes it from any text shown to the user."""
    if value and len(value) >= 3:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def scrub(text: Any) -> Any:
    """Remove registered secrets and password/secret/token XML or JSON fields from ``text``."""
    if text is None:
        return None
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return text
    if not isinstance(text, str):
        return text
    text = _SECRET_XML.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _SECRET_JSON.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    return text


# ------------------------------------------------------------------------------------------- fix table

FIXES: dict[str, str] = {
    # step order (ConflictError)
    "13645": "enable SMS (step 3) before assigning the application (step 5)",
    "13623": "enable SMS (step 3) before enabling MMS (step 4)",
    "12784": "enable SMS (step 3) before enabling MMS (step 4)",
    "13613": "delete the SMS feature (delete_sms) before deleting the location; teardown order is "
             "unassign -> disconnect numbers -> delete MMS -> delete SMS -> delete location -> delete application",
    "13622": "delete the MMS feature (delete_mms) before deleting the location",
    "13624": "delete the MMS feature (delete_mms) before deleting the SMS feature",
    "13673": "disconnect the location's numbers (disconnect_numbers) before disabling SMS",
    "12107": "unassign the application from every location (unassign_application) before deleting it",
    "13629": "the application id does not exist: create the application (step 1) and assign its ApplicationId",
    "13648": "assign a Messaging-V2 application (step 1 creates one)",
    "13679": "remove the proxy peer settings before deleting the location",
    "5019": "the order is still pending: wait for it (step 7) before changing it",
    # not found
    "13563": "the location (sippeer) does not exist: create it (step 2) or check the location id",
    "23019": "the application does not exist: create it (step 1) or check the application id",
    "1016": "the resource does not exist: check the id",
    # validation
    "12801": "ServiceType must be Messaging-V2",
    "12802": "give the application a callback URL (callback_url=...)",
    "12803": "the callback URL is not a valid URL: use http(s)://host[:port]/path",
    "12806": "give the application a name (name=...)",
    "12812": "use an https:// callback URL when callback credentials are set",
    "13567": "Protocol must be HTTP",
    "13609": "ask Bandwidth support to enable account-level HTTP messaging settings",
    "5005": "the number was taken meanwhile: search again (search_numbers) and order another",
    "5009": "quantity must be between 1 and 5000",
    "5016": "the SiteId is invalid: check BW_SITE_ID (your sub-account id)",
    "5022": "SiteId is required: set BW_SITE_ID (your sub-account id)",
    "5023": "the location (PeerId) is invalid: create the location (step 2) under this site",
    "5018": "no numbers are available for these criteria: try another area code or allow a back order",
    "5017": "only part of the quantity is available: allow a partial order (partial_allowed=True)",
    "5020": "no default location on the site: create the location with default=True (step 2)",
    "4010": "give at least one search criterion (area_code=, zip=, state=, ...)",
    "1001": "access denied: check the username/password and that the user has the needed roles",
    "9011": "enable SMS on the location (step 3)",
    "9012": "finish the messaging setup: steps 3-5 (SMS, MMS, assign application)",
    "5145": "enable SMS on the location (step 3)",
    "13032": "enable SMS on the location (step 3)",
    # messaging (JSON types and callback error codes)
    "request-validation": "fix the fields named in the error (to, from, text, applicationId)",
    "unauthorized": "check the messaging credentials (username:password, or token:secret for the legacy API)",
    "authentication-error": "check the messaging credentials (username:password, or token:secret for the legacy API)",
    "forbidden": "the user lacks the messaging role, or the account id in the URL is not yours",
    "max-message-queue-size-exceeded": "slow down: send fewer messages per second (bulk_send(rate=...))",
    "4452": "the from number's location is assigned another application: use that applicationId or re-assign (step 5)",
    "4435": "send to at most 10 recipients per message",
    "4405": "the from number is not one of your numbers: order one (step 6) and use it",
    "4476": "register the number on a 10DLC campaign",
    "4795": "verify the toll-free number before sending",
}

STATUS_FIXES: dict[int, str] = {
    401: "check the username and password (BW_USERNAME / BW_PASSWORD, or BW_API_TOKEN / BW_API_SECRET for the legacy API)",
    403: "the credentials are valid but not allowed here: check the account id (BW_ACCOUNT_ID) and the user's roles",
    404: "check the id in the URL: the object does not exist (or was deleted)",
    429: "too many requests: wait and retry (Retry-After), or lower the sending rate",
    500: "the service failed: retry later",
    502: "the service is unreachable upstream: retry later",
    503: "the service is unavailable: retry later",
    504: "the service timed out: retry later",
}

CONFLICT_CODES = frozenset({"13645", "13613", "13622", "13624", "13673", "12107", "13623", "12784", "13629",
                            "13648", "13679", "5019"})
NOT_FOUND_CODES = frozenset({"13563", "23019", "1016"})


# ----------------------------------------------------------------------------------------- exceptions

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
        self.fix = fix if fix is not None else _fix_for(self.code, status)
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


OrderTimeoutError = WaitTimeoutError


def _fix_for(code: str | None, status: int | None) -> str | None:
    if code and code in FIXES:
        return FIXES[code]
    if status in STATUS_FIXES:
        return STATUS_FIXES[status]
    if status is not None and status >= 500:
        return STATUS_FIXES[500]
    return None


# -------------------------------------------------------------------------------------------- parsing

def parse_error_body(body: str | bytes | None, content_type: str | None = None) -> dict[str, Any]:
    """Return ``{code, description, details}`` from any Bandwidth error body (3 XML shapes or JSON)."""
    if body is None:
        return {}
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = body.strip()
    if not text:
        return {}
    if text[0] in "{[":
        try:
            return _parse_json_error(json.loads(text))
        except (ValueError, RecursionError):  # RecursionError: [[[[... nested deeper than the parser's stack
            return {"description": text[:300]}
    if text.startswith("<"):
        from . import xmlio
        try:
            return _parse_xml_error(xmlio.parse(text))
        except Exception:  # malformed XML: show the start of it
            return {"description": text[:300]}
    return {"description": text[:300]}


def _parse_json_error(data: Any) -> dict[str, Any]:
    if isinstance(data, list):
        data = data[0] if data and isinstance(data[0], dict) else {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    code = data.get("type") or data.get("code") or data.get("errorCode")
    desc = data.get("description") or data.get("message") or data.get("error")
    field_errors = data.get("fieldErrors") or []
    if field_errors:
        details = [{"field": fe.get("fieldName"), "description": fe.get("description")} for fe in field_errors
                   if isinstance(fe, dict)]
        out["details"] = details
        extra = "; ".join(f"{d['field']}: {d['description']}" for d in details)
        desc = f"{desc} ({extra})" if desc else extra
        out["field"] = details[0]["field"] if len(details) == 1 else None
    if code is not None:
        out["code"] = str(code)
    if desc:
        out["description"] = str(desc)
    return out


def _parse_xml_error(doc: Mapping[str, Any]) -> dict[str, Any]:
    from .xmlio import ci_find_all
    errors: list[dict[str, Any]] = []
    for rs in ci_find_all(doc, "ResponseStatus"):
        if isinstance(rs, dict):
            code = _ci(rs, "ErrorCode")
            desc = _ci(rs, "Description")
            if code or desc:
                errors.append({"code": code, "description": desc})
    for err in ci_find_all(doc, "Error"):
        items = err if isinstance(err, list) else [err]
        for e in items:
            if isinstance(e, dict):
                errors.append({"code": _ci(e, "Code") or _ci(e, "ErrorCode"), "description": _ci(e, "Description"),
                               "number": _ci(e, "TelephoneNumber")})
    if not errors:
        desc = None
        for key in ("Description", "ErrorMessage", "Message"):
            found = ci_find_all(doc, key)
            if found and isinstance(found[0], str):
                desc = found[0]
                break
        return {"description": desc} if desc else {}
    first = errors[0]
    out: dict[str, Any] = {"details": errors}
    if first.get("code") is not None:
        out["code"] = str(first["code"])
    if first.get("description"):
        out["description"] = str(first["description"])
    return out


def _ci(d: Mapping[str, Any], key: str) -> Any:
    low = key.lower()
    for k, v in d.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return None


def error_class_for(status: int | None, code: str | None) -> type[BandwidthError]:
    """Pick the subclass for an HTTP status and a Bandwidth code."""
    if code in CONFLICT_CODES:
        return ConflictError
    if code in NOT_FOUND_CODES:
        return NotFoundError
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitError
    if status is not None and status >= 500:
        return ServerError
    if status is not None and status >= 400:
        return ValidationError
    return BandwidthError


def error_from_response(status: int, body: str | bytes | None, *, headers: Mapping[str, str] | None = None,
                        request: Mapping[str, Any] | None = None, exchange: Any = None) -> BandwidthError:
    """Build the right :class:`BandwidthError` subclass from an HTTP error response."""
    headers = dict(headers or {})
    parsed = parse_error_body(body, headers.get("Content-Type"))
    code = parsed.get("code")
    cls = error_class_for(status, code)
    response = {"status": status, "headers": headers, "body": scrub(body)}
    err = cls(request=request, response=response, status=status, code=code,
              description=parsed.get("description") or _reason(status), field=parsed.get("field"),
              exchange=exchange, details=parsed.get("details"))
    if isinstance(err, RateLimitError):
        err.retry_after = parse_retry_after(headers)
    return err


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    value = None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            value = v
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        from datetime import datetime, timezone
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None


def _reason(status: int) -> str:
    from http import HTTPStatus
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"
