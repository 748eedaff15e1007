"""The receiver's HTTP server (tornado): Bandwidth's callbacks in, stored events out to this machine only.

* ``POST /callbacks/inbound`` and ``/callbacks/outbound`` (the application's two URLs; ``/callbacks`` too): the
  way Bandwidth sends them, a first attempt without credentials gets ``401`` + ``WWW-Authenticate: Basic``, the
  resend with the application's callback credentials is stored (a JSON array of events, or a single event) and
  answered ``204`` at once. Wrong credentials: ``401``, logged, not stored. Bodies over ``max_body`` bytes:
  ``413`` (refused from the headers, never buffered). Over ``rate`` requests per second: ``429`` with
  ``Retry-After`` (Bandwidth retries a non-2xx answer).
* ``GET /_receiver/health?nonce=``: the service name and a proof (HMAC of the nonce and the port with the
  receiver's key), so a kernel sends its key only to the receiver that holds it, never to a port squatter.
* ``GET /_receiver/events?after=&limit=&messageId=`` and ``GET /_receiver/status``: only from this machine (a
  loopback peer, no proxy or tunnel forwarding headers) with ``Authorization: Bearer <key>``.
"""
from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import socket
import threading
import time
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from . import INBOUND_PATH, OUTBOUND_PATH, SERVICE_NAME, proof
from .credentials import ReceiverCredentials
from .store import EventStore

__all__ = ["ReceiverServer", "make_app", "MAX_BODY", "RATE"]

log = logging.getLogger("bwhelpers.receiver")

#: bytes of one callback request (a few events; MMS bodies carry media URLs, not media)
MAX_BODY = 256 * 1024
#: requests per second accepted (a burst of twice that is absorbed)
RATE = 50.0
REALM = 'Basic realm="bwhelpers callback receiver", charset="UTF-8"'
#: headers a proxy or tunnel (ngrok, cloudflared, a reverse proxy) adds: such a request is not from this machine
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip", "Cf-Connecting-Ip", "X-Forwarded-Host",
                      "Ngrok-Trace-Id")
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


class _Bucket:
    """A token bucket: ``rate`` per second, ``burst`` at most."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float | None:
        """None when allowed, else the seconds until a token is free."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return None
            return (1 - self.tokens) / self.rate


class _Base(tornado.web.RequestHandler):
    def initialize(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx

    @property
    def store(self) -> EventStore:
        return self.ctx["store"]

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data))

    def refuse(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        for name, value in (headers or {}).items():
            self.set_header(name, value)
        self.write_json({"type": "refused", "description": description}, status)

    def check_xsrf_cookie(self) -> None:  # no cookies, no browser forms: nothing to protect
        return None


@tornado.web.stream_request_body
class CallbackHandler(_Base):
    """Bandwidth's POSTs (inbound or outbound URL)."""

    def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_big = False
        if self.request.method != "POST":
            return
        wait = self.ctx["bucket"].take()
        if wait is not None:
            self.store.reject(429, "rate limit", self.request.path)
            self.refuse(429, f"more than {self.ctx['rate']:g} callbacks per second; retry later",
                        {"Retry-After": str(max(1, int(wait + 0.999)))})
            return
        try:
            length = int((self.request.headers.get("Content-Length") or "0").split(",")[0].strip() or 0)
        except ValueError:
            length = 0
        conn: Any = self.request.connection
        if length > self.ctx["max_body"]:
            self._too_big = True
            conn.set_max_body_size(length)  # read and dropped, never buffered
        else:
            conn.set_max_body_size(4 * self.ctx["max_body"])

    def data_received(self, chunk: bytes) -> None:
        if self._too_big:
            return
        self._size += len(chunk)
        if self._size > self.ctx["max_body"]:
            self._too_big, self._chunks = True, []
            return
        self._chunks.append(chunk)

    def _authorized(self) -> str | None:
        """None when the request carries the callback credentials, else the reason it does not."""
        header = self.request.headers.get("Authorization") or ""
        if not header:
            return "no credentials (the challenge Bandwidth answers with them)"
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return f"{scheme[:20]} credentials instead of Basic"
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return "unreadable Basic credentials"
        creds: ReceiverCredentials = self.ctx["credentials"]
        ok_user = hmac.compare_digest(user.encode(), creds.user.encode())
        ok_password = hmac.compare_digest(password.encode(), creds.password.encode())
        return None if ok_user and ok_password else "wrong credentials"

    def post(self, kind: str | None = None) -> None:
        path = self.request.path
        if self._too_big:
            self.store.reject(413, "body too large", path)
            log.warning("receiver: refused a %s-byte callback to %s (limit %d): 413",
                        self.request.headers.get("Content-Length") or "chunked", path, self.ctx["max_body"])
            self.refuse(413, f"the body exceeds {self.ctx['max_body']} bytes")
            return
        problem = self._authorized()
        if problem is not None:
            self.store.reject(401, problem, path)
            if problem.startswith("no credentials"):
                log.debug("receiver: challenge to %s (no credentials)", path)
            else:
                log.warning("receiver: refused a callback to %s: %s (401, not stored)", path, problem)
            self.refuse(401, "callback credentials required", {"WWW-Authenticate": REALM})
            return
        try:
            doc = json.loads(b"".join(self._chunks).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            doc = None
        events = doc if isinstance(doc, list) else [doc] if isinstance(doc, dict) else None
        if not events or not all(isinstance(e, dict) and isinstance(e.get("type"), str) for e in events):
            self.store.reject(400, "not Bandwidth events", path)
            log.warning("receiver: refused a callback to %s: the body is not a JSON array of events (400)", path)
            self.refuse(400, "expected a JSON array of Bandwidth message events (or one event object)")
            return
        new, dup = self.store.add(events, "inbound" if kind == "inbound" else "outbound" if kind else "callbacks")
        log.info("receiver: %d event(s) on %s (%d new, %d already stored)", len(events), path, new, dup)
        self.set_status(204)
        self.finish()

    def get(self, kind: str | None = None) -> None:
        self.set_header("Allow", "POST")
        self.refuse(405, "this is a bwhelpers callback receiver: Bandwidth POSTs message events here")


class HealthHandler(_Base):
    def get(self) -> None:
        nonce = self.get_argument("nonce", "")[:64]
        doc: dict[str, Any] = {"service": SERVICE_NAME}
        if nonce:
            doc["proof"] = proof(self.ctx["credentials"].key, nonce, self.ctx["port"])
        self.write_json(doc)


class _Local(_Base):
    """Only this machine, with the key."""

    def prepare(self) -> None:
        remote = self.request.remote_ip or ""
        if remote not in LOOPBACK or any(self.request.headers.get(h) for h in FORWARDING_HEADERS):
            self.store.reject(403, "stored events asked from outside this machine", self.request.path)
            self.refuse(403, "stored events are served to this machine only")
            return
        header = self.request.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        key = self.ctx["credentials"].key
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), key.encode()):
            self.refuse(401, "the receiver's key is required (bwhelpers reads it from the user's config folder)",
                        {"WWW-Authenticate": 'Bearer realm="bwhelpers receiver"'})


class EventsHandler(_Local):
    def get(self) -> None:
        try:
            after = max(0, int(self.get_argument("after", "0") or 0))
            limit = min(1000, max(1, int(self.get_argument("limit", "500") or 500)))
        except ValueError:
            self.refuse(400, "after and limit must be whole numbers")
            return
        events = self.store.events(after=after, limit=limit, message_id=self.get_argument("messageId", "") or None)
        self.write_json({"events": events, "last": events[-1]["_id"] if events else after})


class StatusHandler(_Local):
    def get(self) -> None:
        self.write_json({**self.store.stats(), "max_body": self.ctx["max_body"], "rate": self.ctx["rate"],
                         "db": str(self.store.path)})


class NotFound(_Base):
    def prepare(self) -> None:
        self.refuse(404, "not a receiver URL: Bandwidth's callbacks go to /callbacks/inbound and /callbacks/outbound")


def make_app(ctx: dict[str, Any]) -> tornado.web.Application:
    kw = {"ctx": ctx}
    return tornado.web.Application([
        (rf"{INBOUND_PATH[:-len('/inbound')]}/(inbound|outbound)/?", CallbackHandler, kw),
        (rf"{INBOUND_PATH[:-len('/inbound')]}/?", CallbackHandler, kw),
        (r"/_receiver/health", HealthHandler, kw),
        (r"/_receiver/events", EventsHandler, kw),
        (r"/_receiver/status", StatusHandler, kw),
    ], default_handler_class=NotFound, default_handler_args=kw, compress_response=False,
        log_function=lambda h: logging.getLogger("bwhelpers.receiver.access").debug(
            "%s %s %s", h.get_status(), h.request.method, h.request.path))


assert OUTBOUND_PATH.startswith(INBOUND_PATH[:-len("/inbound")])


class ReceiverServer:
    """One listening receiver: ``run()`` blocks, ``start_thread()`` returns once it listens."""

    def __init__(self, store: EventStore, credentials: ReceiverCredentials, host: str = "127.0.0.1",
                 port: int = 0, max_body: int = MAX_BODY, rate: float = RATE):
        self.store, self.host, self.port = store, host, port
        self.ctx: dict[str, Any] = {"store": store, "credentials": credentials, "max_body": int(max_body),
                                    "rate": float(rate), "bucket": _Bucket(float(rate), 2 * float(rate)), "port": 0}
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
            self.port = self.ctx["port"] = sockets[0].getsockname()[1]
            server = tornado.httpserver.HTTPServer(make_app(self.ctx), max_body_size=4 * self.ctx["max_body"],
                                                   idle_connection_timeout=60, body_timeout=30)
            server.add_sockets(sockets)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()

    def run(self) -> None:
        asyncio.run(self._main())
        if self._error:
            raise self._error

    def start_thread(self, timeout: float = 15.0) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True,
                                        name=f"bwhelpers-receiver:{self.port}")
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the receiver did not start within {timeout:.0f} s")
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
        self.store.close()
