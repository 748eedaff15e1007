"""
bwhelpers.sandbox.workshop.service
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

The sandbox as a JupyterHub-managed service. The hub starts it (``c.JupyterHub.services`` with a
command) and proxies ``/services/<name>/`` to it; every route — the emulated APIs, the ``/_sandbox``
control plane, the board — is served below that prefix::

    python -m bwhelpers.sandbox.workshop --db /srv/workshop/sandbox.db --public-url http://127.0.0.1:8000

It reads the hub's environment (``JUPYTERHUB_SERVICE_URL`` to listen on, ``JUPYTERHUB_SERVICE_PREFIX``,
and the OAuth client variables ``HubOAuth`` uses). Two key files live next to the db (mode 0600,
created on first start): the admin key (``<db>.admin-key``; the spawner hook sends it to provision
participants) and the participants' secret (``<db>.workshop-secret``; their passwords and API
secrets are derived from it, so they survive restarts without being stored).
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import tornado.web

from ..server import SandboxApplication

log = logging.getLogger("bwhelpers.sandbox.workshop")


@dataclass
class WorkshopSettings:
    """What the workshop handlers need (``application.settings['workshop']``)."""

    prefix: str  # "/services/bw-sandbox" (no trailing slash)
    public_url: str  # what kernels use as BW_SANDBOX_URL: the proxy's URL + prefix
    admin_key: str = field(repr=False)
    secret: bytes = field(repr=False)
    create_account: Any = None
    refresh: int = 5
    #: the hub's public URL (``…/hub/``) when JupyterHub gives it (``JUPYTERHUB_PUBLIC_HUB_URL``: with a public URL or
    #: subdomains), for the join link; '' : the host the board was opened at
    hub_url: str = ""
    #: user servers share the hub's origin (no ``subdomain_host``: ``JUPYTERHUB_HOST`` empty); the board says so
    same_origin: bool = True


class PrefixedApplication(SandboxApplication):
    """Routes requests below ``url_prefix``; handlers see the path without it (``request.uri`` is kept)."""

    url_prefix = ""
    #: who a workshop page's request is (hub token or cookie, signed phone link): :mod:`.tenants`
    tenants: Any = None

    def tenant_hint(self, headers: Any, uri: str, address: str) -> Any:
        return self.tenants(headers, uri, address) if self.tenants is not None else None

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        prefix = self.url_prefix
        if prefix and (request.path == prefix or request.path.startswith(prefix + "/")):
            request.path = request.path[len(prefix):] or "/"
        return super().find_handler(request, **kwargs)


def read_key_file(path: Path, nbytes: int = 32) -> str:
    """The key in ``path``; created (0600, random; the first of concurrent starts wins) if missing."""
    from ..keys import read_key_file as read, write_private

    key = read(path)
    if key:
        return key
    write_private(path, secrets.token_urlsafe(nbytes) + "\n")
    key = read(path)
    if not key:  # pragma: no cover - the file vanished under us
        raise RuntimeError(f"cannot write the workshop secret to {path}")
    return key


def workshop_defaults(db: Any) -> None:
    """Workshop mode's db: no public account (the README's demo accounts are disabled if an older db has them),
    and, the first time, the settings of :data:`~bwhelpers.sandbox.quotas.WORKSHOP_SETTINGS` (applied once, so the
    host's later changes with ``PUT /_sandbox/settings`` survive restarts)."""
    from ..accounts import disable_public_accounts
    from ..quotas import WORKSHOP_QUOTAS, WORKSHOP_SETTINGS, apply

    disable_public_accounts(db)
    with db.transaction() as conn:
        first = conn.execute("INSERT OR IGNORE INTO meta VALUES ('workshop_defaults', '1')").rowcount == 1
    if first:
        for key, value in WORKSHOP_SETTINGS.items():
            db.set_setting(key, value)
    else:  # quotas that came after this db was made start at the workshop's defaults (the host's own are kept)
        stored = db.get_setting("quotas")
        if isinstance(stored, dict) and any(key not in stored for key in WORKSHOP_QUOTAS):
            db.set_setting("quotas", {**{k: v for k, v in WORKSHOP_QUOTAS.items() if k not in stored}, **stored})
    apply(db)  # the stored_bytes quota: the db counts each account's bytes


def error_recorder(db: Any, previous: Any) -> Any:
    """An access-log function that also remembers each participant's error answers (for the board).

    Only requests that authenticated as that participant count (``handler.principal``, set by the sandbox's
    authentication): a request without valid credentials, or with another account's, is never written on
    someone's row, whatever URL it names."""
    from . import models

    def account_of(handler: Any) -> str | None:
        principal = getattr(handler, "principal", None)
        return str(principal.account_id) if principal is not None and principal.account_id else None

    def log_request(handler: Any) -> None:
        previous(handler)
        status = handler.get_status()
        if status < 400 or getattr(handler, "api", None) not in ("dashboard", "messaging"):
            return
        if status == 404 and handler.request.method in ("GET", "HEAD"):
            return  # a read-back that finds nothing (the client checks before it creates): not a participant's error
        try:
            account = account_of(handler)
            if not account or models.participant_by_account(db, account) is None:
                return
            err = getattr(handler, "sandbox_error", None)
            code = getattr(err, "code", None) or getattr(err, "type", None)
            models.record_error(db, account, status, str(code) if code is not None else None,
                                getattr(err, "description", None) or str(err or ""), handler.request.method,
                                handler.request.path)
        except Exception:  # pragma: no cover - the board must never break a request
            log.exception("could not record an error for the board")

    return log_request


def make_workshop_app(settings: WorkshopSettings, cookie_secret: bytes) -> Any:
    """An ``app_factory`` for :class:`~bwhelpers.sandbox.server.SandboxServer`."""
    from ..server import log_request, make_app
    from .urls import url_paths

    def factory(ctx: Any, areas: list[Any]) -> tornado.web.Application:
        from .tenants import Tenants, hub_auth

        ctx.url_prefix = settings.prefix
        app = make_app(ctx, areas, app_class=PrefixedApplication, extra_routes=url_paths,
                       workshop=settings, cookie_secret=cookie_secret,
                       log_function=error_recorder(ctx.db, log_request))
        assert isinstance(app, PrefixedApplication)
        app.url_prefix = settings.prefix
        app.tenants = Tenants(ctx.db, hub_auth(ctx.db), cookie_secret, settings.prefix, ctx.admin_key)
        return app

    return factory


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bwhelpers.sandbox.workshop",
                                description="The Bandwidth sandbox as a JupyterHub service (workshop mode).")
    p.add_argument("--db", required=True, help="SQLite file of the sandbox (keep it on persistent storage)")
    p.add_argument("--public-url", default=os.environ.get("JUPYTERHUB_PUBLIC_URL") or "http://127.0.0.1:8000",
                   help="the hub's URL as the participants' kernels reach it (default http://127.0.0.1:8000)")
    p.add_argument("--admin-key-file", default=None,
                   help="the sandbox's admin key (default <db>.admin-key, created on the first start)")
    p.add_argument("--secret-file", default=None, help="participants' secret (default <db>.workshop-secret)")
    p.add_argument("--order-delay", type=float, default=None, help="seconds an order stays RECEIVED (default 2)")
    p.add_argument("--listen", default=None,
                   help="interface to listen on (default the host of $JUPYTERHUB_SERVICE_URL; 0.0.0.0 on Kubernetes, "
                        "where the proxy runs in another pod)")
    p.add_argument("--allow-host", action="append", default=[],
                   help="another Host name the service answers to (the --public-url host is always allowed)")
    p.add_argument("--a2p-enforcement", choices=["on", "off"], default=None,
                   help="deliver only from numbers registered for A2P (10DLC/TFV) (default: the sandbox's, on)")
    p.add_argument("--allow-callback-host", action="append", default=[], metavar="HOST",
                   help="a host callbacks may go to although it is loopback, private or the hub's own (a name, an "
                        "address or a network such as 10.1.0.0/16); the sandbox's own bins are always allowed")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDRESS",
                   help="an address or network the hub's proxy connects from: X-Forwarded-For is believed only from "
                        "there (default loopback, the proxy on this machine; on Kubernetes the proxy pods' network)")
    p.add_argument("--max-participants", type=int, default=None, metavar="N",
                   help="store the max_participants setting at every start (workshop-config's configure() passes its "
                        "max_participants, the number its hub's active_server_limit is made of: the room's size has "
                        "one home, the generated jupyterhub_config.py; a PUT /_sandbox/settings lasts until the next "
                        "start). From 1 to 200 (each participant has their own block of the number inventory). "
                        "Default: keep the stored setting")
    p.add_argument("--refresh", type=int, default=5, help="seconds between board refreshes (default 5)")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..server import configure_logging

    configure_logging(args.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # imported with jupyterhub's auth helpers
    service_url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if not service_url or not prefix:
        print("error: JUPYTERHUB_SERVICE_URL / JUPYTERHUB_SERVICE_PREFIX are not set: this command is started by "
              "JupyterHub (c.JupyterHub.services); see `python -m bwhelpers workshop-config`", file=sys.stderr)
        return 2
    bind = urlparse(service_url)
    from ..forwarded import networks

    from ..numbers import INVENTORY_SLOTS

    if args.max_participants is not None and not 1 <= args.max_participants <= INVENTORY_SLOTS:
        print(f"error: --max-participants must be from 1 to {INVENTORY_SLOTS} (each participant has one of the number "
              f"inventory's {INVENTORY_SLOTS} blocks, never another's; for a bigger event run a second hub with its "
              "own sandbox)", file=sys.stderr)
        return 2
    try:
        networks(args.trusted_proxy)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prefix = "/" + prefix.strip("/")
    from ..accounts import create_account
    from ..server import SandboxServer, prepare_db
    from . import models  # noqa: F401  (registers the schema before the db opens)

    db_path = Path(args.db).expanduser().resolve()
    from ..keys import ensure_admin_key

    try:  # the sandbox's admin key: --admin-key-file, else <db>.admin-key (created on the first start)
        admin_key = ensure_admin_key(db_path, args.admin_key_file)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    secret = read_key_file(Path(args.secret_file) if args.secret_file else Path(f"{db_path}.workshop-secret"))
    extra = {}
    if args.order_delay is not None:
        extra["order_transition"] = ({"mode": "immediate"} if args.order_delay <= 0
                                     else {"mode": "seconds", "seconds": args.order_delay})
    if args.a2p_enforcement is not None:
        extra["a2p_enforcement"] = args.a2p_enforcement == "on"
    db = prepare_db(str(db_path), accounts=[], settings=extra)
    workshop_defaults(db)
    if args.max_participants is not None:  # after the once-only defaults: configure()'s number wins (review F2)
        db.set_setting("max_participants", args.max_participants)
    public_url = args.public_url.rstrip("/") + prefix
    settings = WorkshopSettings(prefix=prefix, public_url=public_url, admin_key=admin_key,
                                secret=secret.encode("utf-8"), create_account=create_account, refresh=args.refresh,
                                hub_url=os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL", ""),
                                same_origin=not os.environ.get("JUPYTERHUB_HOST"))
    listen = args.listen or bind.hostname or "127.0.0.1"
    hosts = [h for h in [urlparse(public_url).hostname, *args.allow_host] if h]
    server = SandboxServer(db, host=listen, port=bind.port or 80, admin_key=admin_key, allow_hosts=hosts,
                           app_factory=make_workshop_app(settings, secrets.token_bytes(32)), public_url=public_url,
                           xheaders=True, workshop=True, allow_callback_hosts=args.allow_callback_host,
                           trusted_proxies=args.trusted_proxy or None)

    def _term(signum: int, frame: Any) -> None:  # the hub stops services with SIGINT, then SIGTERM
        if not server.request_stop():
            raise KeyboardInterrupt

    # set both explicitly: a hub started in the background of a shell passes SIGINT on as "ignored"
    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    log.info("workshop sandbox on %s, reached at %s (db %s)", server.url, public_url, db_path)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        db.close()
    return 0
