"""
bwhelpers.sandbox
~~~~~~~~~~~~~~~~~

A faithful, stateful local emulator of the Bandwidth Dashboard (XML) and Messaging v2 (JSON)
APIs. It is the default target whenever no real credentials are given::

    >>> from bwhelpers.sandbox import start
    >>> sb = start(port=0)            # background thread, ready when it returns
    >>> sb.url.startswith("http://127.0.0.1:")
    True
    >>> sb.stop()

State lives in a SQLite file (WAL), so several processes pointed at the same file share it, and
it survives restarts. If a sandbox already serves the requested port, ``start`` reuses it.

The control plane's global endpoints need the admin key (``{db}.admin-key``, 0600, created at the
first start): ``admin_key(db)`` / ``admin_key_for(url)`` read it, ``handle.admin_headers()`` sends it.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .demo import DEMO, DEMO_B
from .keys import ADMIN_HEADER, admin_key, admin_key_path, instance_proof

__all__ = ["DEMO", "DEMO_B", "DEFAULT_PORT", "SandboxHandle", "start", "ensure_running", "probe", "verify",
           "expected_key", "SandboxIdentityError", "SandboxBusyError", "admin_key",
           "admin_key_for", "admin_key_path", "admin_headers", "instance_proof", "ADMIN_HEADER"]

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
    #: the control plane's admin key (None when this process cannot read it)
    admin_key: str | None = field(default=None, repr=False)

    def admin_headers(self) -> dict[str, str]:
        """``{"X-Sandbox-Admin-Key": key}`` for reset, global settings and accounts (empty when unknown)."""
        key = self.admin_key or admin_key_for(self.url)
        return {ADMIN_HEADER: key} if key else {}

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

#: seconds a kernel waits for the health answer of the sandbox it was pointed at (``BW_SANDBOX_URL``): a workshop's
#: sandbox answers the unauthenticated probes of a room in a few lanes (one client address: the proxy's), so when 50
#: kernels start at once the last one's answer comes seconds later (2 s gave "no sandbox answers" to most of them;
#: a refused connection still fails at once); a busy answer (429/503) is asked again within it (:mod:`.health_retry`)
IDENTIFY_TIMEOUT = 10.0


def probe(url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The health document of a sandbox at ``url``, or None if nothing (or something else) answers."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_sandbox/health", timeout=timeout) as resp:
            doc = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return doc if isinstance(doc, dict) and doc.get("service") == SERVICE_NAME else None


def admin_key_for(url: str, timeout: float = 2.0) -> str | None:
    """The admin key of the sandbox at ``url`` if this process can read it (``BW_SANDBOX_ADMIN_KEY``/``_FILE``,
    or this user's private key file beside the db that sandbox reports) and the sandbox proves it holds that key
    (:func:`verify`): a server squatting the port never gets it. None otherwise."""
    found = identify(url, timeout=timeout, tenant=False)  # the admin key itself is proved (one health request)
    return found.key if found.verified else None


class SandboxIdentityError(ConnectionError):
    """The server at a sandbox URL could not prove it is the expected sandbox: no credential was sent."""


class SandboxBusyError(ConnectionError):
    """The sandbox at a URL answered busy (429/503) to every health request within the window."""


def expected_key(url: str, timeout: float = 2.0) -> str | None:
    """The key the sandbox at ``url`` must prove it holds: ``BW_SANDBOX_ADMIN_KEY``/``_FILE``, the key of a
    sandbox this process started at ``url``, else the key file beside the db it reports, if that file is
    this user's own and private (0600). None when there is none to check against."""
    from .keys import ADMIN_KEY_ENV, ADMIN_KEY_FILE_ENV, admin_key_path, trusted_key_file

    if os.environ.get(ADMIN_KEY_ENV) or os.environ.get(ADMIN_KEY_FILE_ENV):
        return admin_key()
    running = _running.get(url.rstrip("/"))
    if running is not None and running.admin_key:
        return running.admin_key
    doc = probe(url, timeout=timeout)
    if not doc or not isinstance(doc.get("db"), str):
        return None
    return trusted_key_file(admin_key_path(doc["db"]))


@dataclass(frozen=True)
class Identity:
    """What one ``GET /_sandbox/health?nonce=…`` tells of the server at a URL (:func:`identify`)."""

    #: the health document when a sandbox answered, else None (nothing, or something else, answers)
    doc: dict[str, Any] | None
    #: the key it had to prove it holds (None: none to check against)
    key: str | None
    #: did it prove it (the instance key's tenant proof with ``BW_SANDBOX_INSTANCE_KEY``)
    verified: bool
    #: the status (429 or 503) of a sandbox that answered busy to every attempt within the window, else 0
    busy: int = 0


def identify(url: str, timeout: float = 2.0, tenant: bool = True) -> Identity:
    """:func:`probe`, :func:`expected_key` and :func:`verify` in one request: the health document answered to a
    fresh nonce names the db (whose key file is the key to check) and carries the proof. Sends no credential.

    A busy answer (429/503: a workshop's service holding too much at once) is asked again after its ``Retry-After``
    within ``timeout`` seconds (:mod:`.health_retry`); if every attempt is busy, :attr:`Identity.busy` says so."""
    import hmac
    import secrets
    import urllib.parse

    from .keys import ADMIN_KEY_ENV, ADMIN_KEY_FILE_ENV, INSTANCE_KEY_ENV, admin_key_path, tenant_proof, \
        trusted_key_file

    import requests

    from . import health_retry

    nonce = secrets.token_hex(16)
    try:
        resp = health_retry.get(f"{url.rstrip('/')}/_sandbox/health?nonce={nonce}", timeout)
        if resp.status_code in health_retry.BUSY:  # there, but busy through the whole window
            return Identity(None, None, False, busy=resp.status_code)
        resp.raise_for_status()
        doc = resp.json()
    except (OSError, ValueError, requests.RequestException):
        return Identity(None, None, False)
    if not isinstance(doc, dict) or doc.get("service") != SERVICE_NAME:
        return Identity(None, None, False)
    running = _running.get(url.rstrip("/"))
    if os.environ.get(ADMIN_KEY_ENV) or os.environ.get(ADMIN_KEY_FILE_ENV):
        key = admin_key()
    elif running is not None and running.admin_key:
        key = running.admin_key
    else:
        key = trusted_key_file(admin_key_path(doc["db"])) if isinstance(doc.get("db"), str) else None
    tenant_key = os.environ.get(INSTANCE_KEY_ENV, "").strip() if tenant else ""
    if tenant_key:  # a shared setup (JupyterHub): the operator gave this kernel the sandbox's instance key
        proof = doc.get("tenant_proof")
        return Identity(doc, key, isinstance(proof, str) and hmac.compare_digest(proof, tenant_proof(tenant_key, nonce)))
    proof = doc.get("proof")
    port = urllib.parse.urlsplit(url).port or 80
    return Identity(doc, key, isinstance(proof, str) and key is not None
                    and hmac.compare_digest(proof, instance_proof(key, nonce, port)))


def verify(url: str, timeout: float = 2.0, tenant: bool = True) -> bool:
    """Does the server at ``url`` prove (HMAC over a fresh nonce and its port) that it holds the expected
    sandbox key? Sends no credential; False for anything else (a port squatter, a relay, no key to check).

    With ``BW_SANDBOX_INSTANCE_KEY`` (a shared setup: JupyterHub's spawner sets it) and ``tenant``, the proof
    is the instance key's ``tenant_proof`` instead (not bound to the port: a proxy sits in between)."""
    import secrets
    import urllib.parse

    from .keys import INSTANCE_KEY_ENV, tenant_proof

    tenant_key = os.environ.get(INSTANCE_KEY_ENV, "").strip() if tenant else ""
    key = None if tenant_key else expected_key(url, timeout=timeout)
    if not key and not tenant_key:
        return False
    nonce = secrets.token_hex(16)
    port = urllib.parse.urlsplit(url).port or 80
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_sandbox/health?nonce={nonce}", timeout=timeout) as resp:
            doc = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return False
    import hmac

    if not isinstance(doc, dict):
        return False
    if tenant_key:  # a shared setup (JupyterHub): the operator gave this kernel the sandbox's instance key
        proof = doc.get("tenant_proof")
        return isinstance(proof, str) and hmac.compare_digest(proof, tenant_proof(tenant_key, nonce))
    proof = doc.get("proof")
    return isinstance(proof, str) and key is not None and hmac.compare_digest(proof, instance_proof(key, nonce, port))


def admin_headers(url: str) -> dict[str, str]:
    """The admin-key header for the sandbox at ``url`` (empty when this process cannot read the key)."""
    key = admin_key_for(url)
    return {ADMIN_HEADER: key} if key else {}


def start(port: int = 0, db: str | os.PathLike[str] | None = None, host: str = "127.0.0.1",
          credentials: dict[str, str] | None = None, reset: bool = False, order_delay: float | None = None,
          settings: dict[str, Any] | None = None, reuse: bool = True,
          admin_key_file: str | os.PathLike[str] | None = None,
          allow_hosts: list[str] | tuple[str, ...] | None = None,
          idle_timeout: float | None = None) -> SandboxHandle:
    """Start a sandbox in a background thread and return once it is listening.

    :param port: TCP port; 0 picks a free one. If a sandbox already serves ``port``, it is reused.
    :param db: SQLite file (default ``.bwhelpers/sandbox.db`` in the project, or ``BW_SANDBOX_DB``).
    :param credentials: the account to create (default: the documented demo account).
    :param reset: wipe the db first.
    :param order_delay: seconds an order stays RECEIVED (0 = immediate).
    :param settings: other runtime settings (see ``/_sandbox/settings``).
    :param admin_key_file: a file holding the admin key (default ``{db}.admin-key``, created 0600).
    :param allow_hosts: more Host names to answer to (DNS-rebinding guard; 127.0.0.1/localhost always).
    :param idle_timeout: seconds an idle keep-alive connection is kept (default 60).
    """
    from .db import default_db_path
    from .server import SandboxServer, prepare_db

    creds = dict(credentials or DEMO)
    if port and reuse:
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        if probe(url, timeout=0.5):
            if not verify(url):
                raise OSError(f"port {port} is taken by a server that answers like a sandbox but cannot prove it "
                              f"is yours; choose another port")
            return SandboxHandle(url=url, credentials=creds, reused=True, admin_key=expected_key(url))
    db_path = str(db) if db is not None else str(default_db_path())
    merged = dict(settings or {})
    if order_delay is not None:
        merged["order_transition"] = ({"mode": "immediate"} if order_delay <= 0
                                      else {"mode": "seconds", "seconds": float(order_delay)})
    accounts = [creds] if credentials else [DEMO, DEMO_B]
    database = prepare_db(db_path, accounts=accounts, reset=reset, settings=merged)
    from .keys import ensure_admin_key

    key = ensure_admin_key(db_path, admin_key_file)
    from .server import IDLE_CONNECTION_TIMEOUT

    server = SandboxServer(database, host=host, port=port, admin_key=key, allow_hosts=allow_hosts,
                           idle_timeout=float(idle_timeout) if idle_timeout is not None else IDLE_CONNECTION_TIMEOUT)
    try:
        server.start_thread()
    except OSError as exc:
        here = f"http://127.0.0.1:{port}"
        if port and reuse and probe(here, timeout=1.0) and verify(here):
            return SandboxHandle(url=here, credentials=creds, reused=True, admin_key=expected_key(here))
        raise OSError(f"cannot start the sandbox on {host}:{port}: {exc.strerror or exc}; "
                      f"choose another port (--port) or stop what is using it") from None
    handle = SandboxHandle(url=server.url, credentials=creds, db_path=db_path, _server=server, admin_key=key)
    _running[handle.url] = handle
    return handle


def ensure_running(url: str | None = None, db: str | os.PathLike[str] | None = None) -> SandboxHandle:
    """The sandbox every kernel shares: reuse ``url``/``BW_SANDBOX_URL``/port 8765, else start one.

    With ``db`` (the headless run: its own ``BW_SANDBOX_DB``), the sandbox on port 8765 is shared only when it keeps
    its state in that file; one keeping another's (an open JupyterLab of another project or user setup) is left
    alone and a sandbox on ``db`` starts on a free port.

    A sandbox found at a URL is used only once it proves it is the expected one (:func:`verify`), before
    any credential is sent: a server squatting port 8765 is passed over (a sandbox of our own starts on a
    free port), and one at ``BW_SANDBOX_URL`` that cannot prove it raises :class:`SandboxIdentityError`.

    Credentials are the demo account's; with ``BW_SANDBOX_URL`` (a custom sandbox) ``BW_USERNAME``,
    ``BW_CLIENT_ID`` etc. say otherwise (a sandbox started with ``--username``/``--password`` or
    ``--client-id``/``--client-secret`` needs them). Without it they are a real account's and never used.
    """
    creds = dict(DEMO)
    custom = bool(url or os.environ.get("BW_SANDBOX_URL"))
    for key, env in (("account_id", "BW_ACCOUNT_ID"), ("site_id", "BW_SITE_ID"), ("username", "BW_USERNAME"),
                     ("password", "BW_PASSWORD"), ("user_id", "BW_USER_ID"), ("api_token", "BW_API_TOKEN"),
                     ("api_secret", "BW_API_SECRET"), ("client_id", "BW_CLIENT_ID"),
                     ("client_secret", "BW_CLIENT_SECRET")):
        if custom and os.environ.get(env):
            creds[key] = os.environ[env]
    url = url or os.environ.get("BW_SANDBOX_URL")
    if url:
        url = url.rstrip("/")
        found = identify(url, timeout=IDENTIFY_TIMEOUT)  # one health request: a sandbox, its key, its proof
        if found.doc is not None:
            if not found.verified:
                raise SandboxIdentityError(
                    f"the server at {url} (BW_SANDBOX_URL) answers like a sandbox but cannot prove it is yours: "
                    f"no key to check it against, or a wrong proof (another program may be squatting the port). "
                    f"No credential was sent. Fix: start your sandbox (`python -m bwhelpers.sandbox`), or give its "
                    f"admin key file with BW_SANDBOX_ADMIN_KEY_FILE")
            return SandboxHandle(url=url, credentials=creds, reused=True, admin_key=found.key)
        if found.busy:
            raise SandboxBusyError(
                f"the sandbox at {url} (BW_SANDBOX_URL) is busy: it answered {found.busy} to every health request "
                f"for {IDENTIFY_TIMEOUT:g} s (it is there, serving others). Fix: try again in a moment (run this "
                f"again); if it stays busy, tell the workshop's host")
        raise ConnectionError(f"no sandbox answers at {url} (BW_SANDBOX_URL). Fix: start one with "
                              f"`python -m bwhelpers.sandbox` or unset BW_SANDBOX_URL")
    for handle in _running.values():
        return handle
    default = f"http://127.0.0.1:{DEFAULT_PORT}"
    found = identify(default, timeout=0.5)
    if found.doc is not None:
        if found.verified and db is not None and not _same_file(found.doc.get("db"), db):
            return start(port=0, db=db, reuse=False)  # another state's sandbox: not stepped on
        if found.verified:
            return SandboxHandle(url=default, credentials=creds, db_path=str(found.doc.get("db") or "") or None,
                                 reused=True, admin_key=found.key)
        import logging

        logging.getLogger("bwhelpers").warning(
            "bwhelpers: the server on port %d answers like a sandbox but cannot prove it is yours (no credential "
            "was sent); starting a sandbox of your own on a free port", DEFAULT_PORT)
        return start(port=0, reuse=False)
    try:
        return start(port=DEFAULT_PORT, db=db)
    except OSError:
        return start(port=0, db=db)


def _same_file(a: object, b: str | os.PathLike[str]) -> bool:
    try:
        return isinstance(a, str) and Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
