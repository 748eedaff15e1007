"""Helpers shared by the reliability tests: a sandbox in a subprocess, a local callback receiver, a
misbehaving TCP server, and a snapshot of an account's objects."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from conftest import control, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 15  # every request of these tests has one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """``python -m bwhelpers.sandbox`` in a subprocess on a fixed port and db (so it can be killed and
    restarted on the same ones). ``pid`` is the server process (psutil can measure its memory)."""

    def __init__(self, db: Path, port: int | None = None, order_delay: float = 0.0, log_level: str = "WARNING",
                 extra: list[str] | None = None, env: dict[str, str] | None = None, log_file: Path | None = None):
        self.db, self.port = Path(db), port or free_port()
        self.order_delay, self.log_level, self.extra = order_delay, log_level, list(extra or [])
        self.env = env
        self.log_file = log_file
        self.proc: subprocess.Popen[str] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, reset: bool = False, timeout: float = 30.0) -> "SandboxProcess":
        args = [sys.executable, "-m", "bwhelpers.sandbox", "--port", str(self.port), "--db", str(self.db),
                "--order-delay", str(self.order_delay), "--log-level", self.log_level,
                "--a2p-enforcement", "off", *self.extra]  # these tests replay the 2018 guide (tests/guide.py GUIDE_2018)
        if reset:
            args.append("--reset")
        out = open(self.log_file, "a", encoding="utf-8") if self.log_file else subprocess.DEVNULL
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONPATH", str(ROOT))
        self.proc = subprocess.Popen(args, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT, env=env, text=True)
        if out is not subprocess.DEVNULL:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.url}/_sandbox/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the sandbox did not answer on {self.url} within {timeout} s")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def settings(self, **values: Any) -> None:
        r = control(self.url, "PUT", "/_sandbox/settings", json=values, timeout=TIMEOUT)
        assert r.status_code == 200, r.text


class _Server(ThreadingHTTPServer):
    # a deep accept queue: the default (5) drops SYNs under 32 parallel callbacks, and each drop costs the
    # sender a 1 s SYN retransmit
    request_queue_size = 512
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """A local callback receiver (HTTP server in a thread) with switchable behaviour.

    ``mode``: ``ok`` (200), ``error`` (500), ``slow`` (sleep ``slow_seconds`` then 200). ``down()`` closes
    the listening socket (connection refused); ``up()`` listens again on the same port.
    Every request is recorded as ``(mode, events)``; ``acked`` holds the events answered 2xx in ``ok`` mode.
    """

    def __init__(self, port: int | None = None, slow_seconds: float = 2.0):
        self.port = port or free_port()
        self.mode = "ok"
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, list[dict[str, Any]], float]] = []
        self.acked: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callbacks"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    events = json.loads(raw or b"[]")
                except ValueError:
                    events = []
                mode = receiver.mode
                with receiver.lock:
                    receiver.requests.append((mode, events, time.time()))
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                status = 500 if mode == "error" else 200
                body = b'{"error":"receiver failure"}' if status == 500 else b""
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the sender gave up (timeout)
                    return
                if status == 200 and mode == "ok":
                    with receiver.lock:
                        receiver.acked.extend(events if isinstance(events, list) else [events])

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def up(self) -> "Receiver":
        self.server = _Server(("127.0.0.1", self.port), self._handler())
        self.thread = serve_in_thread(self.server)
        return self

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class BlackHole:
    """A TCP server that accepts connections and never answers (for client timeouts); counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self._conns: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(0.5)
            try:
                self.requests.append(conn.recv(65536))
            except OSError:
                self.requests.append(b"")
            self._conns.append(conn)  # held open, never answered

    def close(self) -> None:
        self._stop = True
        self.thread.join(timeout=2)
        for c in self._conns:
            c.close()
        self.sock.close()


LIST_PATHS = ("/applications", "/sites", "/sites/{site}/sippeers", "/orders?size=5000", "/inserviceNumbers",
              "/disconnects")


def snapshot(url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Every list endpoint of an account (Dashboard bodies, messages, callbacks outbox count)."""
    auth = (creds["username"], creds["password"])
    base = f"{url}/api/accounts/{creds['account_id']}"
    out: dict[str, Any] = {}
    for path in LIST_PATHS:
        r = requests.get(base + path.format(site=creds["site_id"]), auth=auth, timeout=TIMEOUT)
        assert r.status_code in (200, 204), (path, r.status_code, r.text[:300])
        out[path] = (r.status_code, r.text)
    r = requests.get(f"{url}/api/v2/users/{creds['account_id']}/messages", auth=auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    out["messages"] = r.json().get("totalCount")
    r = control(url, "GET", "/_sandbox/callbacks", params={"accountId": creds["account_id"]}, timeout=TIMEOUT)
    out["callbacks"] = len(r.json().get("callbacks", []))
    return out
