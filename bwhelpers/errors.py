"""Bandwidth's error bodies (3 XML shapes and JSON) -> the matching :mod:`bwhelpers.exceptions` class.

The exception classes live in :mod:`bwhelpers.exceptions`, the fix texts in :mod:`bwhelpers.codes` and the
secret masking in :mod:`bwhelpers.masking`; they are re-exported here for callers of the old module.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from . import xmlio
from .codes import CONFLICT_CODES, FIXES, NOT_FOUND_CODES
from .exceptions import (AuthError, BandwidthError, ConflictError, MissingPrerequisiteError, NotFoundError,
                         RateLimitError, ServerError, StateFileError, TransportError, ValidationError,
                         WaitTimeoutError)
from .masking import mask, register_secret, scrub

__all__ = [
    "BandwidthError", "AuthError", "NotFoundError", "ValidationError", "ConflictError", "RateLimitError",
    "ServerError", "TransportError", "MissingPrerequisiteError", "StateFileError", "WaitTimeoutError",
    "FIXES", "CONFLICT_CODES", "NOT_FOUND_CODES", "parse_error_body", "error_from_response", "error_class_for",
    "parse_retry_after", "scrub", "register_secret", "mask",
]


def parse_error_body(body: str | bytes | None) -> dict[str, Any]:
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
        try:
            return _parse_xml_error(xmlio.parse(text))
        except (xmlio.XmlParseError, RecursionError):  # malformed, or nested deeper than the stack: show the start
            return {"description": text[:300]}
    return {"description": text[:300]}


def _parse_json_error(data: Any) -> dict[str, Any]:
    if isinstance(data, list):
        data = data[0] if data and isinstance(data[0], dict) else {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    nested = data.get("errors")
    if isinstance(nested, list) and nested and isinstance(nested[0], dict) and not data.get("description"):
        data = {**nested[0], "fieldErrors": data.get("fieldErrors")}  # 10DLC API: {"errors": [{type, description}]}
    elif isinstance(nested, dict) and nested:  # toll-free verification: {"description", "errors": {field: text}}
        data = {**data, "fieldErrors": [{"fieldName": k, "description": v} for k, v in nested.items()]}
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
    errors: list[dict[str, Any]] = []
    for rs in xmlio.ci_find_all(doc, "ResponseStatus"):
        if isinstance(rs, dict):
            code = _ci(rs, "ErrorCode")
            desc = _ci(rs, "Description")
            if code or desc:
                errors.append({"code": code, "description": desc})
    for err in xmlio.ci_find_all(doc, "Error"):
        items = err if isinstance(err, list) else [err]
        for e in items:
            if isinstance(e, dict):
                errors.append({"code": _ci(e, "Code") or _ci(e, "ErrorCode"), "description": _ci(e, "Description"),
                               "number": _ci(e, "TelephoneNumber")})
    if not errors:
        desc = None
        for key in ("Description", "ErrorMessage", "Message"):
            found = xmlio.ci_find_all(doc, key)
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
    parsed = parse_error_body(body)
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
