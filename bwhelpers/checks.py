"""Type checks at the public API's boundary (a leaf module): a wrong type is a :class:`ValidationError` that
names the field and the expected type, raised before any request, never a raw ``TypeError``/``AttributeError``
from deep inside, and never silently accepted (``default='no'`` must not create a *default* location).

Also :func:`split_url_credentials`: ``https://user:pw@host/x`` -> the URL without them, plus the credentials,
so a URL with credentials is never saved or shown as given.
"""
from __future__ import annotations

import math
import urllib.parse
from typing import Any

from .exceptions import ValidationError

__all__ = ["check_bool", "check_int", "check_number", "check_str", "check_choice", "split_url_credentials",
           "strip_url_credentials"]


def _kind(value: Any) -> str:
    return type(value).__name__


def check_bool(value: Any, field: str) -> bool:
    """``True``/``False`` only (not 'no', 1 or None)."""
    if not isinstance(value, bool):
        raise ValidationError(f"{field}: expected True or False, got {_kind(value)} {value!r:.40}", field=field)
    return value


def check_int(value: Any, field: str, minimum: int | None = None, optional: bool = False) -> int | None:
    """A whole number (not '4', 4.0 or True)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field}: expected a whole number, got {_kind(value)} {value!r:.40}", field=field)
    if minimum is not None and value < minimum:
        raise ValidationError(f"{field}: {value} is too small; give a whole number from {minimum}", field=field)
    return value


def check_number(value: Any, field: str, minimum: float | None = 0.0, optional: bool = False,
                 positive: bool = False) -> float | None:
    """A finite number of seconds/messages (not '5', NaN or True)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(f"{field}: expected a number, got {_kind(value)} {value!r:.40}", field=field)
    if positive and value <= 0:
        raise ValidationError(f"{field}: {value} must be greater than 0", field=field)
    if minimum is not None and value < minimum:
        raise ValidationError(f"{field}: {value} must be at least {minimum:g}", field=field)
    return float(value)


def check_str(value: Any, field: str, optional: bool = False) -> str | None:
    """A string (not bytes, a number or a list)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field}: expected a string, got {_kind(value)} {value!r:.40}", field=field)
    return value


def check_choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(f"{field}: {value!r:.40} is not one of {', '.join(choices)}", field=field)
    return value


def split_url_credentials(url: str, user: str | None = None,
                          password: str | None = None) -> tuple[str, str | None, str | None]:
    """``(url without user:password@, user, password)``; credentials in the URL fill ``user``/``password`` when
    those are not given (they then travel as the application's callback credentials, never in the URL)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url, user, password
    if parts.username is None and parts.password is None:
        return url, user, password
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    url_user = urllib.parse.unquote(parts.username) if parts.username else None
    url_password = urllib.parse.unquote(parts.password) if parts.password else None
    return clean, user if user is not None else url_user, password if password is not None else url_password


def strip_url_credentials(url: Any) -> Any:
    """``url`` without ``user:password@`` (anything that is not a string is returned as is)."""
    if not isinstance(url, str) or "@" not in url:
        return url
    return split_url_credentials(url)[0]
