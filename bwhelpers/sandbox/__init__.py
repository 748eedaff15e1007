"""
bwhelpers.sandbox
~~~~~~~~~~~~~~~~~

A faithful, stateful local emulator of the Bandwidth Dashboard (XML) and Messaging v2 (JSON)
APIs. It is the default target whenever no real credentials are given::

    >>> from bwhelpers.sandbox import start
    >>> sb = start(port=0)            # background thread, ready when it returns
    >>> sb.url                         # 'http://127.0.0.1:53211'
    >>> sb.stop()

State lives in a SQLite file (WAL), so several processes pointed at the same file share it, and
it survives restarts. If a sandbox already serves the requested port, ``start`` reuses it.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .core import DEMO, DEMO_B

__all__ = ["DEMO", "DEMO_B", "DEFAULT_PORT", "SandboxHandle", "start", "ensure_running", "probe"]

DEFAULT_PORT = 8765
SERVICE_NAME = "bwhelpers-sandbox"


@dataclass
class SandboxHandle:
    """A running sandbox: its base URL, the demo credentials, and how to stop it."""

    url: str
    credentials: dict[str, str] = field(repr=False)
    db_path: str | None = None
    reused: bool = False
    _server: Any = field(default=None, repr=False)

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}/api"

    @property
    def messaging_url(self) -> str:
        return f"{self.url}/api/v2"

    @property
    def legacy_messaging_url(self) -> str:
        return f"{self.url}/v2"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint (client credentials grant)."""
        return f"{self.url}/api/v1/oauth2/token"

    def stop(self) -> None:
        """Stop the server if this process started it (a reused sandbox keeps running)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
            _running.pop(self.url, None)

    def __enter__(self) -> "SandboxHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_running: dict[str, SandboxHandle] = {}


def probe(url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The health document of a sandbox at ``url``, or None if nothing (or something else) answers."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_sandbox/health", timeout=timeout) as resp:
            doc = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return doc if isinstance(doc, dict) and doc.get("service") == SERVICE_NAME else None


def start(port: int = 0, db: str | os.PathLike[str] | None = None, host: str = "127.0.0.1",
          credentials: dict[str, str] | None = None, reset: bool = False, order_delay: float | None = None,
          settings: dict[str, Any] | None = None, reuse: bool = True) -> SandboxHandle:
    """Start a sandbox in a background thread and return once it is listening.

    :param port: TCP port; 0 picks a free one. If a sandbox already serves ``port``, it is reused.
    :param db: SQLite file (default ``.bwhelpers/sandbox.db`` in the project, or ``BW_SANDBOX_DB``).
    :param credentials: the account to create (default: the documented demo account).
    :param reset: wipe the db first.
    :param order_delay: seconds an order stays RECEIVED (0 = immediate).
    :param settings: other runtime settings (see ``/_sandbox/settings``).
    """
    from .db import default_db_path
    from .server import SandboxServer, prepare_db

    creds = dict(credentials or DEMO)
    if port and reuse:
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        if probe(url, timeout=0.5):
            return SandboxHandle(url=url, credentials=creds, reused=True)
    db_path = str(db) if db is not None else str(default_db_path())
    merged = dict(settings or {})
    if order_delay is not None:
        merged["order_transition"] = ({"mode": "immediate"} if order_delay <= 0
                                      else {"mode": "seconds", "seconds": float(order_delay)})
    accounts = [creds] if credentials else [DEMO, DEMO_B]
    database = prepare_db(db_path, accounts=accounts, reset=reset, settings=merged)
    server = SandboxServer(database, host=host, port=port)
    try:
        server.start_thread()
    except OSError as exc:
        if port and reuse and probe(f"http://127.0.0.1:{port}", timeout=1.0):
            return SandboxHandle(url=f"http://127.0.0.1:{port}", credentials=creds, reused=True)
        raise OSError(f"cannot start the sandbox on {host}:{port}: {exc.strerror or exc}; "
                      f"choose another port (--port) or stop what is using it") from None
    handle = SandboxHandle(url=server.url, credentials=creds, db_path=db_path, _server=server)
    _running[handle.url] = handle
    return handle


def ensure_running(url: str | None = None) -> SandboxHandle:
    """The sandbox every kernel shares: reuse ``url``/``BW_SANDBOX_URL``/port 8765, else start one.

    Credentials are the demo account's unless ``BW_USERNAME``, ``BW_CLIENT_ID`` etc. say otherwise (a
    sandbox started with ``--username``/``--password`` or ``--client-id``/``--client-secret`` needs them).
    """
    creds = dict(DEMO)
    for key, env in (("account_id", "BW_ACCOUNT_ID"), ("site_id", "BW_SITE_ID"), ("username", "BW_USERNAME"),
                     ("password", "BW_PASSWORD"), ("user_id", "BW_USER_ID"), ("api_token", "BW_API_TOKEN"),
                     ("api_secret", "BW_API_SECRET"), ("client_id", "BW_CLIENT_ID"),
                     ("client_secret", "BW_CLIENT_SECRET")):
        if os.environ.get(env):
            creds[key] = os.environ[env]
    url = url or os.environ.get("BW_SANDBOX_URL")
    if url:
        url = url.rstrip("/")
        if probe(url, timeout=2.0):
            return SandboxHandle(url=url, credentials=creds, reused=True)
        raise ConnectionError(f"no sandbox answers at {url} (BW_SANDBOX_URL); start one with "
                              f"`python -m bwhelpers.sandbox` or unset BW_SANDBOX_URL")
    for handle in _running.values():
        return handle
    default = f"http://127.0.0.1:{DEFAULT_PORT}"
    if probe(default, timeout=0.5):
        return SandboxHandle(url=default, credentials=creds, reused=True)
    try:
        return start(port=DEFAULT_PORT)
    except OSError:
        return start(port=0)
