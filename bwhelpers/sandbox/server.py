"""
bwhelpers.sandbox.server
~~~~~~~~~~~~~~~~~~~~~~~~

Assembles the tornado application from the route tables of every API area and runs it, either
in the foreground (``python -m bwhelpers.sandbox``) or in a daemon thread (``start()``).
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import threading
from types import ModuleType
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from .core import DEMO, DEMO_B, NotFoundHandler, SandboxContext, create_account, ensure_defaults
from .db import Database

log = logging.getLogger("bwhelpers.sandbox")

#: API areas, each a package with ``urls.url_paths`` (a list of (regex, handler)) and optional
#: ``on_start(ctx)`` / ``on_stop(ctx)`` hooks run on the server's IOLoop.
AREAS = ("control", "oauth", "dashboard", "messaging", "tendlc")


def load_areas() -> list[ModuleType]:
    return [importlib.import_module(f"bwhelpers.sandbox.{name}") for name in AREAS]  # a missing area fails loudly


def make_app(ctx: SandboxContext, areas: list[ModuleType]) -> tornado.web.Application:
    routes: list[Any] = []
    for area in areas:
        urls = importlib.import_module(f"{area.__name__}.urls")
        routes.extend(urls.url_paths)
    return tornado.web.Application(
        routes,
        default_handler_class=NotFoundHandler,
        sandbox=ctx,
        compress_response=False,
        xsrf_cookies=False,
        log_function=_log_request,
    )


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Access log at DEBUG (never the Authorization header or the body)."""
    logging.getLogger("bwhelpers.sandbox.access").debug(
        "%s %s %s %.1fms", handler.get_status(), handler.request.method, handler.request.path,
        1000.0 * handler.request.request_time())


def prepare_db(db_path: str, accounts: list[dict[str, str]] | None = None, reset: bool = False,
               settings: dict[str, Any] | None = None) -> Database:
    load_areas()  # registers every area's schema before the db is opened
    db = Database(db_path)
    if reset:
        db.wipe()
    for creds in accounts or [DEMO, DEMO_B]:
        create_account(db, creds)
    ensure_defaults(db, settings)
    return db


class SandboxServer:
    """One listening server. ``run()`` blocks; ``start_thread()`` returns once it is listening."""

    def __init__(self, db: Database, host: str = "127.0.0.1", port: int = 8765):
        self.db, self.host, self.port = db, host, port
        self.areas = load_areas()
        self.ctx = SandboxContext(db=db)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            sockets = tornado.netutil.bind_sockets(self.port, self.host, family=socket.AF_INET)
            self.port = sockets[0].getsockname()[1]
            self.ctx.base_url = self.url
            app = make_app(self.ctx, self.areas)
            server = tornado.httpserver.HTTPServer(app, max_body_size=16 * 1024 * 1024, xheaders=False)
            server.add_sockets(sockets)
            for area in self.areas:
                hook = getattr(area, "on_start", None)
                if hook:
                    hook(self.ctx)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for area in self.areas:
                hook = getattr(area, "on_stop", None)
                if hook:
                    try:
                        hook(self.ctx)
                    except Exception:  # pragma: no cover
                        log.exception("on_stop hook failed")
            server.stop()
            await server.close_all_connections()

    def run(self) -> None:
        asyncio.run(self._main())
        if self._error:
            raise self._error

    def start_thread(self, timeout: float = 15.0) -> None:
        def target() -> None:
            try:
                asyncio.run(self._main())
            except BaseException as exc:  # pragma: no cover
                self._error = exc
                self._ready.set()

        self._thread = threading.Thread(target=target, name=f"bwhelpers-sandbox:{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the sandbox did not start within %.0f s" % timeout)
        if self._error:
            raise self._error

    def stop(self) -> None:
        if self._loop and self._stop and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:
                pass
        if self._thread:
            self._thread.join(timeout=10)
        self.db.close()
