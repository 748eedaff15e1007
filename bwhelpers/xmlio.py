"""Build and parse the Dashboard's XML with xmltodict (no entities, repeatable elements always lists)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from xml.parsers.expat import ExpatError

import xmltodict

from .masking import learn_secrets

__all__ = ["FORCE_LIST", "XmlParseError", "build", "parse", "ci_get", "ci_find_all", "as_list", "first"]

FORCE_LIST: tuple[str, ...] = (
    "TelephoneNumber", "FullNumber", "Error", "SipPeer", "Application", "Site", "AssociatedSipPeer",
    "OrderIdUserIdDate", "TelephoneNumberDetail", "CallbackType",
)

XML_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


def _stringify(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return {k: _stringify(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_stringify(v) for v in value]
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def build(doc: Mapping[str, Any], *, pretty: bool = True) -> str:
    """Serialize ``{"Root": {...}}`` to an XML string with the ``<?xml ...?>`` header.

    Booleans become ``true``/``false``; ``None`` values are dropped; ``""`` gives an empty element.
    """
    if len(doc) != 1:
        raise ValueError(f"doc must have exactly one root element, got {list(doc)}")
    body = xmltodict.unparse(_stringify(doc), full_document=False, pretty=pretty, indent="  ")
    return f"{XML_HEADER}\n{body}"


class XmlParseError(ValueError):
    """The text is not well-formed XML (or not UTF-8, or it declares entities)."""


def parse(text: str | bytes | None, force_list: Iterable[str] = FORCE_LIST) -> dict[str, Any]:
    """Parse XML into a dict; entities are disabled and ``FORCE_LIST`` elements are always lists.

    Raises :class:`XmlParseError` (a ValueError) for anything that is not well-formed UTF-8 XML.
    """
    if text is None:
        return {}
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if not text.strip():
            return {}
        learn_secrets(text)  # a credential in a body (callback creds) is masked wherever its value is shown
        return xmltodict.parse(text, disable_entities=True, force_list=tuple(force_list)) or {}
    except (ExpatError, ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise XmlParseError(f"not well-formed XML: {exc}") from None


def ci_get(d: Any, *path: str, default: Any = None) -> Any:
    """Walk ``path`` through nested dicts, matching keys case-insensitively (``Protocol`` == ``protocol``).

    A list met on the way is entered at its first element.
    """
    cur = d
    for key in path:
        if isinstance(cur, list):
            cur = cur[0] if cur else None
        if not isinstance(cur, Mapping):
            return default
        low = key.lower()
        for k, v in cur.items():
            if isinstance(k, str) and k.lower() == low:
                cur = v
                break
        else:
            return default
    return default if cur is None else cur


def ci_find_all(d: Any, key: str) -> list[Any]:
    """All values stored under ``key`` (case-insensitive) anywhere in a nested structure."""
    low = key.lower()
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                if isinstance(k, str) and k.lower() == low:
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(d)
    return found


def as_list(value: Any) -> list[Any]:
    """``None`` -> ``[]``, a scalar or dict -> ``[value]``, a list -> itself."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def first(value: Any, default: Any = None) -> Any:
    """The first element of a list (or the value itself when it is not a list)."""
    if isinstance(value, list):
        return value[0] if value else default
    return default if value is None else value
