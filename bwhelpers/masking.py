"""Secret masking: the registry of secret values, ``mask`` for display and ``scrub`` for any shown text."""
from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["MASK", "mask", "register_secret", "registered_secrets", "scrub", "learn_secrets"]

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
MASK = "********"
_SECRET_XML = re.compile(r"(<(?:[A-Za-z]*Password|[A-Za-z]*Secret|[A-Za-z]*Token)\s*>)(.*?)(</)", re.I | re.S)
_SECRET_JSON = re.compile(r'("(?:password|secret|token|api_?secret|api_?token|authorization|client_?secret|'
                          r'access_?token)"\s*:\s*")([^"]*)(")', re.I)


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


def learn_secrets(body: str) -> None:
    """Register the values of an XML or JSON body's credential fields (``<Password>``, ``"client_secret"``...), so
    they are masked wherever they are shown later: displays mask by value, never by a field's name."""
    for pattern in (_SECRET_XML, _SECRET_JSON):
        for m in pattern.finditer(body):
            value = m.group(2).strip()
            if value and value != MASK:
                register_secret(value)


def registered_secrets() -> frozenset[str]:
    """A snapshot of the registered secret values (the state file refuses to store any of them)."""
    with _SECRETS_LOCK:
        return frozenset(_SECRETS)


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
    for s in sorted(registered_secrets(), key=len, reverse=True):
        if s in text:
            text = text.replace(s, MASK)
    return text
