"""
bwhelpers.receiver
~~~~~~~~~~~~~~~~~~

A small callback receiver for a real Bandwidth account: Bandwidth POSTs message events to the application's
callback URLs, the receiver stores each once (sqlite) and serves them to the toolkit on this machine::

    python -m bwhelpers receiver            # foreground, port BW_RECEIVER_PORT (default 8766)

It is started on demand and shared by every kernel, as the sandbox is: :func:`ensure_running` reuses the
receiver on the port once it proves (HMAC over a fresh nonce) that it holds this user's key, else starts one in
a background thread. Bandwidth reaches it through a public URL, ``BW_CALLBACK_BASE_URL`` (a tunnel or your own
server; README "Using a real Bandwidth account"); the application's URLs are that base + ``/callbacks/inbound``
and ``/callbacks/outbound``.

Independent of the client: it imports only bwhelpers' leaves (``paths``, ``events``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PORT", "PORT_ENV", "BASE_URL_ENV", "INBOUND_PATH", "OUTBOUND_PATH", "SERVICE_NAME",
           "ReceiverHandle", "ReceiverPortError", "configured_port", "start", "ensure_running", "probe", "verify",
           "proof"]

DEFAULT_PORT = 8766
PORT_ENV = "BW_RECEIVER_PORT"
BASE_URL_ENV = "BW_CALLBACK_BASE_URL"
INBOUND_PATH = "/callbacks/inbound"
OUTBOUND_PATH = "/callbacks/outbound"
SERVICE_NAME = "bwhelpers-receiver"


class ReceiverPortError(OSError):
    """The receiver's port is not usable: not a port number, or taken by another program."""


def proof(key: str, nonce: str, port: int) -> str:
    """What a receiver holding ``key`` answers to ``nonce`` on ``port``."""
    return hmac.new(key.encode("utf-8"), f"{SERVICE_NAME}:{nonce}:{port}".encode("utf-8"),
                    hashlib.sha256).hexdigest()


def configured_port(value: str | None = None) -> int:
    """``BW_RECEIVER_PORT`` (or ``value``) as a port number; the default 8766 when unset."""
    raw = os.environ.get(PORT_ENV, "") if value is None else value
    raw = str(raw).strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ReceiverPortError(f"{PORT_ENV}={raw[:20]!r} is not a port number. Fix: set it to a free port "
                                f"from 1024 to 65535 (default {DEFAULT_PORT}), or unset it")
    return int(raw)


@dataclass
class ReceiverHandle:
    """A running receiver: its local URL and how to stop it (a reused one keeps running)."""

    url: str
    port: int
    db_path: str | None = None
    reused: bool = False
    _server: Any = field(default=None, repr=False)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            _running.pop(self.port, None)


_running: dict[int, ReceiverHandle] = {}


def probe(url: str, timeout: float = 1.0, nonce: str = "") -> dict[str, Any] | None:
    """The health document of a receiver at ``url``, or None when nothing (or something else) answers."""
    query = f"?nonce={nonce}" if nonce else ""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_receiver/health{query}", timeout=timeout) as resp:
            doc = json.loads(resp.read(4096).decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return doc if isinstance(doc, dict) and doc.get("service") == SERVICE_NAME else None


def verify(url: str, key: str, timeout: float = 2.0) -> bool:
    """Does the receiver at ``url`` prove it holds ``key``? (Nothing secret is sent.)"""
    import secrets
    import urllib.parse

    nonce = secrets.token_hex(16)
    doc = probe(url, timeout=timeout, nonce=nonce)
    port = urllib.parse.urlsplit(url).port or 80
    answer = (doc or {}).get("proof")
    return isinstance(answer, str) and hmac.compare_digest(answer, proof(key, nonce, port))


def _port_taken(port: int, cause: str) -> ReceiverPortError:
    return ReceiverPortError(
        f"the callback receiver cannot listen on port {port}: {cause}. Fix: stop the program using port {port} "
        f"(`lsof -i :{port}` names it), or choose a free port with {PORT_ENV}=<port> (and point your tunnel, "
        f"and {BASE_URL_ENV}, at it)")


def start(port: int | None = None, db: str | os.PathLike[str] | None = None, host: str = "127.0.0.1",
          max_body: int | None = None, rate: float | None = None, reuse: bool = True) -> ReceiverHandle:
    """Start a receiver in a background thread (port 0 picks a free one); reuse ours if it already listens there.

    Raises :class:`ReceiverPortError` naming the port and the fix when another program holds the port."""
    from .credentials import load_or_create
    from .server import MAX_BODY, RATE, ReceiverServer
    from .store import EventStore, default_db_path

    port = configured_port() if port is None else port
    creds = load_or_create()
    url = f"http://127.0.0.1:{port}"
    if port and reuse:
        if port in _running:  # ours, in this process: shared, and stopped only by whoever started it
            running = _running[port]
            return ReceiverHandle(url=running.url, port=port, db_path=running.db_path, reused=True)
        if probe(url, timeout=0.5) is not None:
            if verify(url, creds.key):
                return ReceiverHandle(url=url, port=port, reused=True)
            raise _port_taken(port, "another receiver, not yours (it cannot prove it holds your key), answers there")
    db_path = Path(db) if db is not None else default_db_path()
    store = EventStore(db_path)
    server = ReceiverServer(store, creds, host=host, port=port, max_body=max_body or MAX_BODY, rate=rate or RATE)
    try:
        server.start_thread()
    except OSError as exc:
        store.close()
        if port and reuse and probe(url, timeout=1.0) is not None and verify(url, creds.key):
            return ReceiverHandle(url=url, port=port, reused=True)  # another kernel won the race
        raise _port_taken(port, exc.strerror or str(exc)) from None
    handle = ReceiverHandle(url=server.url, port=server.port, db_path=str(db_path), _server=server)
    _running[handle.port] = handle
    return handle


def ensure_running(port: int | None = None) -> ReceiverHandle:
    """The receiver every kernel shares: the one on ``port`` (default ``BW_RECEIVER_PORT``, else 8766) when it
    proves it is ours, else a new one in this process."""
    return start(port=configured_port() if port is None else port, reuse=True)
