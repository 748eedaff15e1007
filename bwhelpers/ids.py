"""Ids that go into URL paths: checked for their kind, and every path segment quoted (a leaf module).

A path built from an id must never leave the resource it names: ``delete_location('..')`` must not
become ``DELETE .../sites/9901/`` (which on the real service deletes the site). So every id is checked
before any request names it, with an error naming the field, and :func:`segment` percent-quotes it
all the same (``/`` included).

Kinds, as Bandwidth's specs describe them (numbers.yml):

* ``uuid``: application ids (``ApplicationId``), order ids (``orderId``), disconnect order ids;
* ``digits``: account ids, site (sub-account) ids, location (SIP peer) ids;
* ``name``: request-bin names (the sandbox's ``[A-Za-z0-9._~-]{1,100}``, but never ``.`` or ``..``).
"""
from __future__ import annotations

import re
import urllib.parse
from typing import Any

from .exceptions import ValidationError

__all__ = ["require_id", "segment", "KINDS"]

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DIGITS = re.compile(r"[0-9]{1,20}")
_NAME = re.compile(r"[A-Za-z0-9._~-]{1,100}")

KINDS: dict[str, tuple[re.Pattern[str], str]] = {
    "uuid": (_UUID, "a UUID like 'd775585a-ed5b-4a49-8b96-f68c0a993ebe'"),
    "digits": (_DIGITS, "digits only, like '9901'"),
    "name": (_NAME, "letters, digits, '.', '_', '~' or '-' (at most 100)"),
}

#: the ids a user types (the account's, not ones a step saved): their own example and where they come from
_ACCOUNT_IDS = {"account_id": ("'9900000'", "BW_ACCOUNT_ID"), "site_id": ("'9901'", "BW_SITE_ID")}


def require_id(value: Any, field: str, kind: str = "digits") -> str:
    """``value`` as the id text, or :class:`ValidationError` naming ``field`` (never a request)."""
    pattern, expected = KINDS[kind]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"{field}: missing; give the id saved by the step that created it ({expected})",
                              field=field)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError(f"{field}: expected a string id ({expected}), got {type(value).__name__}",
                              field=field)
    text = str(value).strip()
    if text in (".", "..") or "/" in text or "\\" in text or "%" in text:
        raise ValidationError(f"{field}: {text[:60]!r} is not an id: dot segments, slashes and %-escapes would "
                              f"leave the resource's path; give {expected}", field=field)
    if not pattern.fullmatch(text):
        if kind == "digits" and field in _ACCOUNT_IDS:
            example, variable = _ACCOUNT_IDS[field]
            expected = f"digits only, like {example} (check {variable} or the form's field)"
        raise ValidationError(f"{field}: {text[:60]!r} is not an id. Fix: give {expected}", field=field,
                              fix=f"give {expected}")
    return text


def segment(value: str) -> str:
    """One URL path segment, percent-quoted (``/`` too)."""
    return urllib.parse.quote(str(value), safe="")
