"""A real JupyterHub for the workshop tests: configurable-http-proxy from npm, DummyAuthenticator,
SimpleLocalProcessSpawner, random ports on 127.0.0.1, the config written by ``workshop-config``.

``Hub(tmp).start()`` -> hub.url, hub.api(...) (as a test-only admin service), hub.login(user),
hub.user_token(user), hub.wait_ready(user), hub.run_in_kernel(user, token, code), hub.stop().
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
HTML = {"Accept": "text/html"}
SERVICE = "bw-sandbox"


def proxy_command() -> str | None:
    candidate = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(candidate) if candidate.exists() else shutil.which("configurable-http-proxy")


def free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Hub:
    def __init__(self, tmp: Path, admin: str = "host", extra_args: tuple[str, ...] = ()):
        self.extra_args = extra_args
        self.tmp = Path(tmp)
        self.state = self.tmp / "state"
        self.admin = admin
        self.port, self.hub_port, self.proxy_api_port, self.service_port = free_ports(4)
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_url = f"{self.url}/services/{SERVICE}"
        self.driver_token = secrets.token_hex(16)
        self.room_password = secrets.token_hex(8)  # $WORKSHOP_PASSWORD: every participant's
        self.host_password = secrets.token_hex(12)  # $WORKSHOP_HOST_PASSWORD: the admin's own (F11)
        self.config = self.tmp / "jupyterhub_config.py"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.tmp / "hub.log"
        self._write_config()

    def _write_config(self) -> None:
        out = subprocess.run(
            [sys.executable, "-m", "bwhelpers", "workshop-config", "--out", str(self.config),
             "--public-url", self.url, "--state-dir", str(self.state), "--admin", self.admin,
             "--service-port", str(self.service_port), "--hub-bind-url", f"http://127.0.0.1:{self.hub_port}",
             "--proxy-api-url", f"http://127.0.0.1:{self.proxy_api_port}", "--proxy-command", proxy_command() or "",
             "--order-delay", "0", "--spawner", "simple", "--trusted-room", "--authenticator", "dummy",
             "--notebooks", str(ROOT / "notebooks"), *self.extra_args],
            capture_output=True, text=True, timeout=60, env=self.env())
        assert out.returncode == 0, out.stderr
        # test-only: an admin service whose token drives the hub's REST API (tokens, servers)
        with self.config.open("a", encoding="utf-8") as fh:
            fh.write(f"""
# --- added by tests/_hub.py ---
c.JupyterHub.services.append({{"name": "test-driver", "api_token": {self.driver_token!r}}})
c.JupyterHub.load_roles.append({{"name": "test-driver", "services": ["test-driver"],
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "read:users"]}})
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.log_level = "INFO"
""")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "JUPYTERHUB_", "JPY_"))}
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["WORKSHOP_PASSWORD"], env["WORKSHOP_HOST_PASSWORD"] = self.room_password, self.host_password
        return env

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self, timeout: float = 90) -> Hub:
        fh = self.log.open("ab")
        self.proc = subprocess.Popen(["jupyterhub", "-f", str(self.config)], cwd=self.tmp, env=self.env(),
                                     stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.tail()
            try:
                hub_ok = requests.get(f"{self.url}/hub/api/", timeout=2).status_code == 200
                svc_ok = requests.get(f"{self.service_url}/_sandbox/health", timeout=2).status_code == 200
                if hub_ok and svc_ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError("the hub did not come up:\n" + self.tail())

    def stop(self) -> None:
        """Stop the hub; it stops the service, the proxy and the servers (anything left is killed)."""
        if self.proc is None:
            return
        import signal

        pids = self._children()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=40)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:  # the proxy, the service and the servers run in sessions of their own
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def _children(self) -> list[int]:
        import psutil

        try:
            return [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)] if self.proc else []
        except psutil.NoSuchProcess:
            return []

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return ""

    # -- hub API --------------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 30)
        return requests.request(method, f"{self.url}/hub/api{path}",
                                headers={"Authorization": f"token {self.driver_token}"}, **kw)

    def login(self, user: str, password: str | None = None) -> requests.Session:
        """Log in through the hub's login form, then open the service once (the hub's OAuth dance).

        The password defaults to the host's for the admin and the room's for everyone else."""
        if password is None:
            password = self.host_password if user == self.admin else self.room_password
        s = requests.Session()
        s.get(f"{self.url}/hub/login", timeout=30)
        r = s.post(f"{self.url}/hub/login?next=", data={"username": user, "password": password,
                                                         "_xsrf": s.cookies.get("_xsrf")}, timeout=60)
        assert r.status_code == 200, r.text[:500]
        r = s.get(f"{self.service_url}/", headers=HTML, timeout=30)
        assert r.status_code in (200, 403), r.text[:500]  # 403: /me before the first spawn finished
        return s

    def host_board(self, page: Any) -> None:
        """Log the host in through the hub's login form in a Playwright ``page``, straight to the service's board,
        and wait until it shows its table."""
        from urllib.parse import quote, urlparse

        page.goto(f"{self.url}/hub/login?next={quote(urlparse(self.service_url).path + '/board')}", timeout=60_000)
        page.fill("#username_input", self.admin)
        page.fill("#password_input", self.host_password)
        page.click("#login_submit")
        page.wait_for_selector("table", timeout=60_000)

    def user_token(self, user: str, expires_in: int | None = 3600) -> str:
        body: dict[str, Any] = {"note": "workshop test"}
        if expires_in:
            body["expires_in"] = expires_in
        r = self.api("POST", f"/users/{user}/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def wait_ready(self, user: str, timeout: float = 150) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{user}").json()
            server = (model.get("servers") or {}).get("")
            if server and server.get("ready"):
                return model
            if not model.get("pending") and not server:
                self.api("POST", f"/users/{user}/server")
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not become ready:\n" + self.tail())

    # -- running code in a participant's server ------------------------------------------------------
    def run_in_kernel(self, user: str, token: str, code: str, timeout: float = 240) -> str:
        """Execute ``code`` in a new kernel of ``user``'s server (Jupyter server API behind the hub) -> stdout."""
        return asyncio.run(self._run(user, token, code, timeout))

    async def _run(self, user: str, token: str, code: str, timeout: float) -> str:
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect

        auth = {"Authorization": f"token {token}"}
        http = AsyncHTTPClient()
        base = f"{self.url}/user/{user}/api/kernels"
        resp = await http.fetch(base, method="POST", body="{}", headers=auth, request_timeout=120)
        kernel = json.loads(resp.body)["id"]
        ws_url = base.replace("http://", "ws://") + f"/{kernel}/channels"
        ws = await websocket_connect(HTTPRequest(ws_url, headers=auth, request_timeout=60))
        msg_id, out, errors, replied, idle = uuid.uuid4().hex, [], [], False, False
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        try:
            deadline = time.monotonic() + timeout
            while not (replied and idle):
                raw = await asyncio.wait_for(ws.read_message(), max(1.0, deadline - time.monotonic()))
                assert raw is not None, "the kernel's websocket closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    errors.append("\n".join(msg["content"]["traceback"]))
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
        finally:
            ws.close()
            await http.fetch(f"{base}/{kernel}", method="DELETE", headers=auth, raise_error=False)
        assert not errors, "".join(out) + "\n".join(errors)
        return "".join(out)
