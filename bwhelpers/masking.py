"""Secret masking: the registry of secret values, ``mask`` for display and ``scrub`` for any shown text."""
from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["MASK", "SECRET_WORDS", "is_secret_name", "mask", "register_secret", "registered_secrets", "scrub",
           "learn_secrets"]

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
#: the registered secrets, longest first (what scrub replaces), rebuilt when one is added
_LONGEST_FIRST: tuple[str, ...] = ()
MASK = "********"
#: THE words that make a field's name a secret's: its value is masked wherever it is shown (results, views,
#: exchanges' XML and JSON) and the state file refuses to hold it
SECRET_WORDS = ("password", "passphrase", "secret", "token", "credential", "authorization", "authorisation",
                "api_key", "apikey", "private_key", "privatekey")
_WORDS = "|".join(re.escape(w).replace("_", "_?") for w in SECRET_WORDS)
_SECRET_NAME = re.compile(_WORDS, re.I)
_SECRET_XML = re.compile(rf"(<(?:[A-Za-z_]*(?:{_WORDS}))\s*>)(.*?)(</)", re.I | re.S)
_SECRET_JSON = re.compile(rf'("(?:[A-Za-z_]*(?:{_WORDS}))"\s*:\s*")([^"]*)(")', re.I)
#: the words as an ASCII text lowered holds them (api_?key: both spellings)
_STEMS = tuple(sorted({w.lower() for w in SECRET_WORDS} | {w.lower().replace("_", "") for w in SECRET_WORDS}))


def _may_name_secrets(text: str) -> bool:
    """Could ``text`` hold a field named as a secret (:data:`SECRET_WORDS`)? False only when it is ASCII and none
    of the words is in it (then neither pattern can match): most bodies, read without running the patterns (they
    were most of a body's scrub). Other texts take the patterns (re.I also folds a few non-ASCII letters)."""
    if not text.isascii():
        return True
    low = text.lower()
    return any(w in low for w in _STEMS)


def is_secret_name(name: Any) -> bool:
    """Does a field called ``name`` hold a secret (``password``, ``clientSecret``, ``api_token``, ...)?"""
    return bool(_SECRET_NAME.search(str(name)))


def mask(value: str | None) -> str:
    """Mask a secret for display: any value -> ``********`` (nothing of it is shown, not even its last characters);
    no value -> ``""`` (so "not set" still reads as not set)."""
    return MASK if value else ""


def register_secret(value: str | None) -> None:
    """Remember a secret value so :func:`scrub` removes it from any text shown to the user."""
    global _LONGEST_FIRST
    if value and len(value) >= 3:
        with _SECRETS_LOCK:
            if value not in _SECRETS:
                _SECRETS.add(value)
                _LONGEST_FIRST = tuple(sorted(_SECRETS, key=len, reverse=True))


def learn_secrets(body: str) -> None:
    """Register the values of an XML or JSON body's credential fields (``<Password>``, ``"client_secret"``...), so
    they are masked wherever they are shown later: displays mask by value, never by a field's name."""
    if not _may_name_secrets(body):
        return
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
    if _may_name_secrets(text):
        text = _SECRET_XML.sub(lambda m: m.group(1) + MASK + m.group(3), text)
        text = _SECRET_JSON.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    for s in _LONGEST_FIRST:
        if s in text:
            text = text.replace(s, MASK)
    return text
