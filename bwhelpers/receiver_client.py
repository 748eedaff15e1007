"""The toolkit's side of the callback receiver: where Bandwidth reaches it, and reading its stored events.

``BW_CALLBACK_BASE_URL`` is the public URL at which Bandwidth reaches the receiver (a tunnel or your own server);
the application's inbound and outbound URLs derive from it (:func:`callback_urls`). :class:`ReceiverClient` reads
the events the receiver stored, on this machine, with the key from the user's config folder; it sends the key
only to a receiver that first proves it holds it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from .exceptions import TransportError, ValidationError
from .receiver import BASE_URL_ENV, INBOUND_PATH, OUTBOUND_PATH, PORT_ENV, ReceiverPortError, configured_port, verify
from .receiver.credentials import ReceiverCredentials, credentials_path, load, load_or_create

__all__ = ["CallbackBase", "callback_base", "callback_urls", "ReceiverClient", "receiver_credentials",
           "HTTPS_RULE"]

#: what the real service requires (Bandwidth error 12812), in words the notebooks and warnings repeat
HTTPS_RULE = ("Bandwidth requires an https:// callback URL when callback credentials are set (error 12812), and "
              "callbacks carry phone numbers and texts")


@dataclass(frozen=True)
class CallbackBase:
    """``BW_CALLBACK_BASE_URL``, checked: the URL, and a warning when the real service would refuse it."""

    url: str
    warning: str | None = None

    @property
    def inbound(self) -> str:
        return self.url + INBOUND_PATH

    @property
    def outbound(self) -> str:
        return self.url + OUTBOUND_PATH


def callback_base(real: bool, value: str | None = None) -> CallbackBase | None:
    """``BW_CALLBACK_BASE_URL`` (or ``value``) checked before any request; None when unset.

    Not a URL -> ValidationError naming the variable and the fix. ``http://`` for a real account -> a warning
    naming the rule (a loopback host is allowed: the rehearsal's stand-in service reaches it directly)."""
    raw = (os.environ.get(BASE_URL_ENV, "") if value is None else value).strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"{BASE_URL_ENV}: {raw[:80]!r} is not a URL ({exc}). Fix: set it to the public "
                              "https:// URL of your tunnel or server, e.g. https://abc123.trycloudflare.com",
                              field=BASE_URL_ENV) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in raw:
        raise ValidationError(f"{BASE_URL_ENV}: {raw[:80]!r} is not an http(s) URL. Fix: set it to the public "
                              "https:// URL of your tunnel or server, e.g. https://abc123.trycloudflare.com",
                              field=BASE_URL_ENV)
    if parts.username or parts.password:
        raise ValidationError(f"{BASE_URL_ENV}: remove the user:password from the URL; bwhelpers generates the "
                              "callback credentials and sets them on the application", field=BASE_URL_ENV)
    if parts.query or parts.fragment:
        raise ValidationError(f"{BASE_URL_ENV}: {raw[:80]!r} has a query or fragment; give the base URL only (the "
                              f"application's URLs add {INBOUND_PATH} and {OUTBOUND_PATH})", field=BASE_URL_ENV)
    del port
    url = raw.rstrip("/")
    warning = None
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if real and parts.scheme == "http" and not local:
        warning = (f"{BASE_URL_ENV} is http://: {HTTPS_RULE}. Fix: use the https:// URL your tunnel gives "
                   "(cloudflared and ngrok give one), or put TLS on your own server")
    return CallbackBase(url, warning)


def callback_urls(base: CallbackBase) -> dict[str, str]:
    """The application's two URLs: ``{"inbound": ..., "outbound": ...}``."""
    return {"inbound": base.inbound, "outbound": base.outbound}


def receiver_credentials(create: bool = True) -> ReceiverCredentials | None:
    """The callback credentials for the application (generated and kept 0600 in the config folder)."""
    return load_or_create() if create else load()


class ReceiverClient:
    """Reads the local receiver's events (``/_receiver/events``) and status with the receiver's key."""

    def __init__(self, url: str, credentials: ReceiverCredentials, timeout: float = 5.0):
        self.url, self._creds, self.timeout = url.rstrip("/"), credentials, timeout
        self.session = requests.Session()
        self.session.trust_env = False  # a local call: never through a proxy

    def __repr__(self) -> str:
        return f"<ReceiverClient {self.url}>"

    @classmethod
    def local(cls) -> "ReceiverClient | None":
        """The receiver on ``BW_RECEIVER_PORT`` (default 8766) when it runs and proves it holds this user's key;
        None otherwise (not running, no credentials yet, or another program on the port)."""
        creds = load()
        if creds is None:
            return None
        try:
            port = configured_port()
        except ReceiverPortError:
            return None
        url = f"http://127.0.0.1:{port}"
        return cls(url, creds) if verify(url, creds.key, timeout=1.0) else None

    def _get(self, path: str, **params: Any) -> Any:
        try:
            resp = self.session.get(f"{self.url}{path}", params=params or None, timeout=self.timeout,
                                    headers={"Authorization": f"Bearer {self._creds.key}"})
        except requests.RequestException as exc:
            raise TransportError(f"callback receiver at {self.url}: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise TransportError(f"callback receiver at {self.url} answered {resp.status_code}: {resp.text[:200]}",
                                 status=resp.status_code)
        return resp.json()

    def events(self, message_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Every stored event (oldest first), or those of ``message_id``."""
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            params: dict[str, Any] = {"after": after, "limit": min(limit - len(out), 1000)}
            if message_id:
                params["messageId"] = message_id
            page = self._get("/_receiver/events", **params)
            events = page.get("events") or []
            out.extend(events)
            if not events or len(out) >= limit:
                return out
            after = int(page.get("last") or 0)

    def status(self) -> dict[str, Any]:
        """Stored events, the last one's age, refusals by reason."""
        return self._get("/_receiver/status")


def describe_setup() -> dict[str, Any]:
    """Where things are, for the notebooks' notes (never a secret)."""
    return {"credentials": str(credentials_path()), "port_env": PORT_ENV, "base_env": BASE_URL_ENV}
