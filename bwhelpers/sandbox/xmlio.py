"""
bwhelpers.sandbox.xmlio
~~~~~~~~~~~~~~~~~~~~~~~

One serializer for every Dashboard response (errors included) and one safe parser for every
request body. Bodies are ordered dicts; field order is the wire order.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import xmltodict

XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
#: The Content-Type of every Dashboard response body, as the guide shows it.
CONTENT_TYPE = "application/xml; charset=utf-8"

#: Elements that may repeat, in requests and responses.
REPEATABLE = (
    "TelephoneNumber", "FullNumber", "Error", "SipPeer", "Application", "Site", "AssociatedSipPeer",
    "OrderIdUserIdDate", "TelephoneNumberDetail", "CallbackType", "ReservationId", "TnAttribute",
)

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlBodyError(ValueError):
    """The request body is not acceptable XML."""


def render(root: str, body: Any) -> str:
    """``render("SiteResponse", {"Site": {...}})`` -> XML text with the service's declaration."""
    doc = xmltodict.unparse({root: _clean(body)}, full_document=False, short_empty_elements=True)
    return XML_DECL + doc


#: list items rendered before, by what they were rendered from (:func:`render_list`); bounded by their characters
_FRAGMENTS: dict[Any, str] = {}
_FRAGMENT_MAX_CHARS = 8 * 1024 * 1024
_fragment_chars = 0


def render_list(root: str, list_key: str, item_key: str, items: Iterable[tuple[Hashable, Callable[[], Any]]],
                head: dict[str, Any] | None = None) -> str:
    """``render(root, {list_key: {**head, item_key: [item, ...]}})`` (``{list_key: head or None}`` when there are
    none) for items
    given as ``(key, make)``: ``key`` names what the item is made from (its stored row, whole), ``make()`` builds
    it. An item is rendered once per key and reused: a tenant re-reading its biggest unpaged list (applications:
    ``list_objects`` × ``object_bytes``, 170 KB) costs a join instead of xmltodict's render of every element, tens
    of milliseconds of the event loop that every other tenant waited behind (issue 23, bench 8)."""
    global _fragment_chars
    parts = []
    for key, make in items:
        cache_key = (item_key, key)
        fragment = _FRAGMENTS.get(cache_key)
        if fragment is None:
            fragment = xmltodict.unparse({item_key: _clean(make())}, full_document=False, short_empty_elements=True)
            if _fragment_chars + len(fragment) > _FRAGMENT_MAX_CHARS:
                _FRAGMENTS.clear()
                _fragment_chars = 0
            _FRAGMENTS[cache_key] = fragment
            _fragment_chars += len(fragment)
        parts.append(fragment)
    if not parts:
        return render(root, {list_key: head or None})
    before = "".join(xmltodict.unparse({k: _clean(v)}, full_document=False, short_empty_elements=True)
                     for k, v in (head or {}).items())
    return f"{XML_DECL}<{root}><{list_key}>{before}{''.join(parts)}</{list_key}></{root}>"


def by_content(items: Iterable[Any]) -> list[tuple[Hashable, Callable[[], Any]]]:
    """Items built already, for :func:`render_list`, each keyed by its whole content (JSON text, in its order)."""
    return [(json.dumps(item, default=str), functools.partial(_same, item)) for item in items]


def _same(item: Any) -> Any:
    return item


def _clean(value: Any) -> Any:
    """Booleans become ``true``/``false``; None becomes an empty element; numbers become text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (int, float)):
        return str(value)
    return value


def parse(body: bytes | str, max_depth: int = 32) -> dict[str, Any]:
    """Parse a request body; refuse DTDs and entities outright (no XXE, no billion laughs)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw or not raw.strip():
        raise XmlBodyError("the request body is empty; send an XML document")
    if _DOCTYPE.search(raw):
        raise XmlBodyError("DOCTYPE and ENTITY declarations are not allowed")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XmlBodyError(f"the request body is not valid UTF-8 (byte {exc.start})") from None
    try:
        doc = xmltodict.parse(raw, disable_entities=True, force_list=REPEATABLE, strip_whitespace=True)
    except Exception as exc:  # expat errors, ValueError from xmltodict
        raise XmlBodyError(f"the request body is not well-formed XML: {exc}") from None
    if not isinstance(doc, dict) or len(doc) != 1:
        raise XmlBodyError("the XML document must have exactly one root element")
    if _depth(doc) > max_depth:
        raise XmlBodyError("the XML document is nested too deeply")
    return doc


#: longest text the sandbox stores in one element of a request (a URL: MAX_URL_CHARS), so that no list of an account's
#: objects (applications, sites, SIP peers: unpaged in Bandwidth's API) grows past what the objects quota times
#: these allows
MAX_TEXT_CHARS = 512
MAX_URL_CHARS = 2048


def overlong(value: Any, tag: str = "") -> tuple[str, int, int] | None:
    """The first element of a parsed request whose text is over its limit: (its name, its length, the limit)."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = overlong(item, str(key).lstrip("@"))
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = overlong(item, tag)
            if found:
                return found
    elif isinstance(value, str):
        limit = MAX_URL_CHARS if tag.lower().endswith(("url", "uri")) else MAX_TEXT_CHARS
        if len(value) > limit:
            return tag, len(value), limit
    return None


def _depth(value: Any, level: int = 0) -> int:
    if level > 64:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def text(node: Any) -> str | None:
    """The text of an element as parsed by xmltodict (handles attributes and force_list)."""
    if isinstance(node, list):
        node = node[0] if node else None
    if isinstance(node, dict):
        node = node.get("#text")
    if node is None:
        return None
    return str(node).strip()


def get(node: Any, *names: str, ci: bool = False) -> Any:
    """Walk child elements by name; with ``ci`` match names case-insensitively."""
    for name in names:
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict):
            return None
        if ci:
            match = next((k for k in node if k.lower() == name.lower()), None)
            node = node.get(match) if match is not None else None
        else:
            node = node.get(name)
    return node


def as_bool(value: Any) -> bool | None:
    """``true``/``false`` (any case) -> bool; None stays None; anything else raises ValueError."""
    value = text(value)
    if value is None or value == "":
        return None
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    raise ValueError(value)
