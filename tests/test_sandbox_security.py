"""Safe on a shared host (issue 13), sandbox side, over HTTP against real sandboxes on 127.0.0.1.

* the control plane: per-tenant endpoints need that account's credentials and show only it; global
  ones need the admin key (generated at first start, 0600 beside the db, or --admin-key-file);
* DNS-rebinding guard (Host allow-list, no Host echoed into Location), CSRF guard (content type);
* oversize bodies refused with the documented 413 before they are buffered; idle connections closed;
* the db, its folder and the key file private; the password from an env var or a file, not argv;
* ``GET /orders?customerOrderId=`` and the instance proof of ``/_sandbox/health?nonce=``.
"""
from __future__ import annotations

import base64
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from bwhelpers.sandbox import ADMIN_HEADER, DEMO, DEMO_B, admin_key, admin_key_path, instance_proof

from _messaging_helpers import FAST, World, send, wait_for
from conftest import admin, control, stop_process_group

A_AUTH = (DEMO["username"], DEMO["password"])
B_AUTH = (DEMO_B["username"], DEMO_B["password"])
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def url(clean_sandbox: Any) -> str:
    assert control(clean_sandbox.url, "PUT", "/_sandbox/settings", json=FAST).status_code == 200
    return clean_sandbox.url


def _msg(frm: str, app: str, text: str) -> dict[str, Any]:
    return {"from": frm, "to": ["+19195550111"], "text": text, "applicationId": app}


@pytest.fixture
def two_tenants(url: str) -> dict[str, Any]:
    """A and B each with an application, a location, a number and one sent message."""
    wa = World(url, DEMO).provision(f"{url}/_sandbox/bins/default")
    wb = World(url, DEMO_B).provision(f"{url}/_sandbox/bins/default")
    ma = send(url, _msg(wa["number"], wa["app_id"], "A's secret text"), creds=DEMO).json()
    mb = send(url, _msg(wb["number"], wb["app_id"], "B's secret text"), creds=DEMO_B).json()
    wait_for(lambda: control(url, "GET", "/_sandbox/bins/default", DEMO).json()["events"], what="A's event")
    wait_for(lambda: control(url, "GET", "/_sandbox/bins/default", DEMO_B).json()["events"], what="B's event")
    return {"a": wa, "b": wb, "ma": ma, "mb": mb}


# -- the control plane --------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/_sandbox/messages"), ("GET", "/_sandbox/callbacks"), ("GET", "/_sandbox/bins"),
    ("GET", "/_sandbox/bins/default"), ("PUT", "/_sandbox/bins/default"), ("DELETE", "/_sandbox/bins/default"),
    ("POST", "/_sandbox/inbound"), ("GET", "/_sandbox/settings"), ("PUT", "/_sandbox/settings"),
    ("POST", "/_sandbox/reset"), ("POST", "/_sandbox/accounts"),
])
def test_control_plane_needs_credentials(url: str, method: str, path: str) -> None:
    r = requests.request(method, f"{url}{path}", json={}, timeout=10)
    assert r.status_code == 401, r.text
    assert "error" in r.json()
    wrong = requests.request(method, f"{url}{path}", json={}, auth=(DEMO["username"], "not-the-password"),
                             timeout=10)
    assert wrong.status_code == 401


def test_public_endpoints_stay_public(url: str) -> None:
    assert requests.get(f"{url}/_sandbox/health", timeout=10).json()["service"] == "bwhelpers-sandbox"
    assert requests.get(f"{url}/_sandbox/magic-numbers", timeout=10).status_code == 200


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/_sandbox/reset", {}),
    ("PUT", "/_sandbox/settings", {"rate_limit_per_second": 5}),
    ("POST", "/_sandbox/accounts", {**DEMO, "password": "taken-over"}),
])
def test_global_endpoints_need_the_admin_key(url: str, method: str, path: str, body: dict[str, Any]) -> None:
    for auth in (A_AUTH, B_AUTH):
        r = requests.request(method, f"{url}{path}", json=body, auth=auth, timeout=10)
        assert r.status_code == 403 and "admin key" in r.json()["error"], r.text
    r = requests.request(method, f"{url}{path}", json=body, headers={ADMIN_HEADER: "wrong-key"}, timeout=10)
    assert r.status_code == 403
    # nothing changed: A's password still works, the settings are the test's
    assert requests.get(f"{url}/api/accounts/{DEMO['account_id']}/sites", auth=A_AUTH, timeout=10).status_code == 200
    assert control(url, "GET", "/_sandbox/settings").json()["rate_limit_per_second"] == 0


def test_takeover_by_rekeying_is_refused_and_admin_can_rekey(url: str) -> None:
    for _ in range(10):
        r = requests.post(f"{url}/_sandbox/accounts", json={**DEMO, "password": "taken-over"}, auth=B_AUTH,
                          timeout=10)
        assert r.status_code == 403
    assert requests.get(f"{url}/api/accounts/{DEMO['account_id']}/sites", auth=(DEMO["username"], "taken-over"),
                        timeout=10).status_code == 401
    r = control(url, "POST", "/_sandbox/accounts", json={**DEMO, "password": "rekeyed-by-admin"})
    assert r.status_code == 201, r.text
    assert requests.get(f"{url}/api/accounts/{DEMO['account_id']}/sites", auth=(DEMO["username"], "rekeyed-by-admin"),
                        timeout=10).status_code == 200


def test_tenants_see_only_their_own_messages_and_callbacks(url: str, two_tenants: dict[str, Any]) -> None:
    ma, mb = two_tenants["ma"]["id"], two_tenants["mb"]["id"]
    mine = control(url, "GET", "/_sandbox/messages", DEMO).json()["messages"]
    assert {m["id"] for m in mine} == {ma}
    assert "B's secret text" not in str(mine)
    assert control(url, "GET", "/_sandbox/messages", DEMO_B, params={"accountId": DEMO["account_id"]}).status_code == 403
    assert control(url, "GET", "/_sandbox/messages", DEMO_B, params={"messageId": ma}).json()["messages"] == []
    log = control(url, "GET", "/_sandbox/callbacks", DEMO_B).json()
    assert {a["messageId"] for a in log["attempts"]} == {mb}
    assert {c["accountId"] for c in log["callbacks"]} == {DEMO_B["account_id"]}
    assert control(url, "GET", "/_sandbox/callbacks", DEMO_B, params={"accountId": DEMO["account_id"]}).status_code == 403
    # the admin key sees everyone
    every = control(url, "GET", "/_sandbox/messages").json()["messages"]
    assert {ma, mb} <= {m["id"] for m in every}


def test_bins_are_per_account(url: str, two_tenants: dict[str, Any]) -> None:
    a_events = control(url, "GET", "/_sandbox/bins/default", DEMO).json()["events"]
    b_events = control(url, "GET", "/_sandbox/bins/default", DEMO_B).json()["events"]
    assert {e["message"]["id"] for e in a_events} == {two_tenants["ma"]["id"]}
    assert {e["message"]["id"] for e in b_events} == {two_tenants["mb"]["id"]}
    # B cannot empty A's bin: B's DELETE empties B's own
    control(url, "DELETE", "/_sandbox/bins/default", DEMO_B)
    assert control(url, "GET", "/_sandbox/bins/default", DEMO).json()["events"] == a_events
    # forged events are refused, unsigned or with a made-up signature
    forged = [{"type": "message-received", "message": {"id": "forged"}}]
    assert requests.post(f"{url}/_sandbox/bins/default", json=forged, timeout=10).status_code == 401
    bad = {"X-Sandbox-Delivery": f"{DEMO['account_id']}.abcd.{'f' * 64}"}
    assert requests.post(f"{url}/_sandbox/bins/default", json=forged, headers=bad, timeout=10).status_code == 401
    assert "forged" not in str(control(url, "GET", "/_sandbox/bins/default", DEMO).json())


def test_inbound_only_to_your_own_numbers(url: str, two_tenants: dict[str, Any]) -> None:
    to_a = two_tenants["a"]["number"]
    r = control(url, "POST", "/_sandbox/inbound", DEMO_B, json={"to": to_a, "from": "+19195550100", "text": "hi"})
    assert r.status_code == 404 and "your account" in r.json()["error"]
    r = control(url, "POST", "/_sandbox/inbound", DEMO, json={"to": to_a, "from": "+19195550100", "text": "hi"})
    assert r.status_code == 202, r.text


def test_admin_key_file_is_private_and_stable(tmp_path: Path, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "new" / "sandbox.db"
    first = sandbox_factory(db=db)
    try:
        key_file = admin_key_path(db)
        assert key_file == tmp_path / "new" / "sandbox.db.admin-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
        key = key_file.read_text().strip()
        assert len(key) >= 32 and first.admin_key == key == admin_key(db)
        assert key not in repr(first)
        r = requests.post(f"{first.url}/_sandbox/reset", json={}, headers={ADMIN_HEADER: key}, timeout=10)
        assert r.status_code == 200
    finally:
        first.stop()
    second = sandbox_factory(db=db)
    try:
        assert second.admin_key == key  # the key survives restarts
        for suffix in ("-wal", "-shm"):
            extra = Path(str(db) + suffix)
            if extra.exists():
                assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0
    finally:
        second.stop()


def test_admin_key_file_option_for_shared_setups(tmp_path: Path, sandbox_factory: Callable[..., Any]) -> None:
    key_file = tmp_path / "operator" / "admin.key"
    key_file.parent.mkdir(mode=0o700)
    key_file.write_text("operator-chosen-key-0123456789abcdef\n")
    db = tmp_path / "shared.db"
    sb = sandbox_factory(db=db, admin_key_file=key_file)
    try:
        assert not admin_key_path(db).exists()  # no second key beside the db
        assert requests.post(f"{sb.url}/_sandbox/reset", json={}, headers={ADMIN_HEADER: "operator-chosen-key-"
                             "0123456789abcdef"}, timeout=10).status_code == 200
        assert requests.post(f"{sb.url}/_sandbox/reset", json={}, auth=A_AUTH, timeout=10).status_code == 403
    finally:
        sb.stop()


def test_health_proves_the_instance(url: str, sandbox: Any) -> None:
    doc = requests.get(f"{url}/_sandbox/health", params={"nonce": "n-123"}, timeout=10).json()
    port = int(url.rsplit(":", 1)[1])
    assert doc["proof"] == instance_proof(sandbox.admin_key, "n-123", port)
    assert doc["proof"] != instance_proof(sandbox.admin_key, "n-123", port + 1)  # bound to the port
    assert doc["db_instance"] and sandbox.admin_key not in str(doc)


# -- DNS rebinding and CSRF ----------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "attacker"])
def test_foreign_host_header_is_refused(url: str, host: str) -> None:
    r = requests.get(f"{url}/api/accounts/{DEMO['account_id']}/applications", auth=A_AUTH, headers={"Host": host},
                     timeout=10)
    assert r.status_code == 421 and host not in r.text
    r = requests.get(f"{url}/_sandbox/messages", auth=A_AUTH, headers={"Host": host}, timeout=10)
    assert r.status_code == 421 and host not in r.text


def test_location_never_echoes_a_foreign_host(url: str) -> None:
    body = ("<Application><AppName>Loc</AppName><CallbackUrl>https://example.com/cb</CallbackUrl>"
            "<CallbackCreds/></Application>")
    r = requests.post(f"{url}/api/accounts/{DEMO['account_id']}/applications", data=body, auth=A_AUTH,
                      headers={"Content-Type": "application/xml", "Host": "evil.example"}, timeout=10)
    assert r.status_code == 421 and "Location" not in r.headers
    port = url.rsplit(":", 1)[1]
    r = requests.post(f"{url}/api/accounts/{DEMO['account_id']}/applications", data=body, auth=A_AUTH,
                      headers={"Content-Type": "application/xml", "Host": f"localhost:{port}"}, timeout=10)
    assert r.status_code == 201 and r.headers["Location"].startswith(f"http://localhost:{port}/api/")


def test_allow_host_adds_a_name(tmp_path: Path, sandbox_factory: Callable[..., Any]) -> None:
    sb = sandbox_factory(db=tmp_path / "hosts.db", allow_hosts=["sandbox.internal"])
    try:
        assert requests.get(f"{sb.url}/_sandbox/health", headers={"Host": "sandbox.internal"},
                            timeout=10).status_code == 200
        assert requests.get(f"{sb.url}/_sandbox/health", headers={"Host": "other.internal"},
                            timeout=10).status_code == 421
    finally:
        sb.stop()


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None])
def test_control_plane_refuses_browser_sendable_posts(url: str, ctype: str | None) -> None:
    if ctype == "multipart/form-data":  # a well-formed form, as a browser would send it
        kw: dict[str, Any] = {"files": {"f": ("a.json", b'{"x": 1}')}}
    else:
        kw = {"data": b'{"x": 1}' if ctype else None, "headers": {"Content-Type": ctype} if ctype else {}}
    r = requests.post(f"{url}/_sandbox/reset", headers={**kw.pop("headers", {}), **admin(url)}, timeout=10, **kw)
    assert r.status_code == 415 and "CSRF" in r.json()["error"], r.text
    assert control(url, "GET", "/_sandbox/settings").json()["delivery_delay"] == FAST["delivery_delay"]  # no reset
    r = requests.post(f"{url}/_sandbox/inbound", data=b'{"to": "+19195550100"}', auth=A_AUTH,
                      headers={"Content-Type": ctype or ""}, timeout=10)
    assert r.status_code in ((400, 415) if ctype == "multipart/form-data" else (415,))  # 400: no boundary


def test_emulated_apis_refuse_untyped_bodies(url: str) -> None:
    body = ("<Application><AppName>X</AppName><CallbackUrl>https://example.com/cb</CallbackUrl>"
            "<CallbackCreds/></Application>")
    before = requests.get(f"{url}/api/accounts/{DEMO['account_id']}/applications", auth=A_AUTH, timeout=10).text
    for ctype in (None, "text/plain"):
        req = requests.Request("POST", f"{url}/api/accounts/{DEMO['account_id']}/applications", data=body.encode(),
                               auth=A_AUTH).prepare()
        req.headers.pop("Content-Type", None)
        if ctype:
            req.headers["Content-Type"] = ctype
        r = requests.Session().send(req, timeout=10)
        assert r.status_code == 415, r.text
    after = requests.get(f"{url}/api/accounts/{DEMO['account_id']}/applications", auth=A_AUTH, timeout=10).text
    assert before == after


def test_cross_origin_writes_are_refused(url: str) -> None:
    r = requests.post(f"{url}/_sandbox/inbound", json={}, auth=A_AUTH, headers={"Origin": "https://evil.example"},
                      timeout=10)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = requests.post(f"{url}/_sandbox/inbound", json={}, auth=A_AUTH, headers={"Origin": url}, timeout=10)
    assert r.status_code == 400  # same origin: reaches the handler (which wants to/from/text)


# -- body size and idle connections ---------------------------------------------------------------------

@pytest.mark.parametrize("size_mb", [1, 15, 20])
def test_oversize_bodies_get_the_documented_413(url: str, size_mb: int) -> None:
    big = b"x" * (size_mb * 1024 * 1024)
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=big, auth=A_AUTH,
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413 and r.json()["type"] == "request-entity-too-large"
    r = requests.post(f"{url}/api/accounts/{DEMO['account_id']}/applications", data=big, auth=A_AUTH,
                      headers={"Content-Type": "application/xml"}, timeout=60)
    assert r.status_code == 413 and "<ErrorCode>413</ErrorCode>" in r.text
    assert r.headers["Content-Type"].startswith("application/xml")


def test_chunked_oversize_body_gets_413(url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 16384

    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=chunks(), auth=A_AUTH,
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413 and r.json()["type"] == "request-entity-too-large"
    # the server still answers normally afterwards
    assert requests.get(f"{url}/_sandbox/health", timeout=10).status_code == 200


def test_idle_connections_are_closed(tmp_path: Path, sandbox_factory: Callable[..., Any]) -> None:
    sb = sandbox_factory(db=tmp_path / "idle.db", idle_timeout=0.5)
    try:
        port = int(sb.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(10)
            assert s.recv(1) == b""  # closed by the server, never sent a byte
    finally:
        sb.stop()



@pytest.mark.slow  # about 3 s of real time: tornado's body timer runs on the wall clock, not the sandbox's
def test_a_body_that_stops_coming_is_cut_at_the_body_timeout(tmp_path: Path, sandbox_factory: Callable[..., Any],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A request whose body stops half way is closed after ``BODY_TIMEOUT`` (tornado's body timeout, which the server
    sets per request only while a body is still to come: one that arrived with its head has no timer), and a body
    sent after a pause within the timeout is answered."""
    from bwhelpers.sandbox import server

    monkeypatch.setattr(server, "BODY_TIMEOUT", 1.0)
    sb = sandbox_factory(db=tmp_path / "slow.db")
    port = int(sb.url.rsplit(":", 1)[1])
    path = f"/api/v2/users/{DEMO['account_id']}/messages"
    auth = base64.b64encode(f"{A_AUTH[0]}:{A_AUTH[1]}".encode()).decode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Basic {auth}\r\nContent-Length: 100\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(20)
            s.sendall(head + b"{" + b" " * 9)  # 10 of its 100 bytes, then nothing
            started = time.monotonic()
            assert s.recv(4096) == b""  # closed unanswered
            assert time.monotonic() - started < 15
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(20)
            s.sendall(head)
            time.sleep(0.3)  # within the timeout: its timer is armed, and does not fire
            s.sendall(b"{" + b" " * 98 + b"}")
            answer = s.recv(4096)
            assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]  # validated: no fields (not cut)
            time.sleep(1.5)  # past the timeout: the keep-alive connection still serves
            s.sendall(f"GET /_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    finally:
        sb.stop()

# -- secrets on the command line ----------------------------------------------------------------------

def _run_sandbox(tmp_path: Path, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "bwhelpers.sandbox", "--port", "0", "--db",
                             str(tmp_path / "cli.db"), *args], cwd=str(ROOT), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("BW_")}, **env})
    lines: list[str] = []
    url = ""
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1)
        if "admin key" in line:
            break
    assert url, "".join(lines)
    return proc, url, lines


@pytest.mark.parametrize("how", ["file", "env"])
def test_password_from_a_file_or_env_not_argv(tmp_path: Path, how: str) -> None:
    secret = "pw-from-" + how + "-9f8e7d"
    pw_file = tmp_path / "pw.txt"
    pw_file.write_text(secret + "\n")
    args = ["--username", "cli-user", *(["--password-file", str(pw_file)] if how == "file" else [])]
    env = {"BW_SANDBOX_PASSWORD": secret} if how == "env" else {}
    proc, url, lines = _run_sandbox(tmp_path, args, env)
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        assert secret not in cmdline
        banner = "".join(lines)
        assert secret not in banner and "(custom, not shown)" in banner
        key = admin_key(tmp_path / "cli.db")
        # the banner names the admin key's file, never the key (terminals end up on projectors and in logs)
        assert key and key not in banner and "cli.db.admin-key (not shown" in banner
        r = requests.get(f"{url}/api/accounts/{DEMO['account_id']}/sites", auth=("cli-user", secret), timeout=10)
        assert r.status_code == 200
    finally:
        stop_process_group(proc)


# -- orders by CustomerOrderId ----------------------------------------------------------------------------

def test_orders_list_filters_by_customer_order_id(dash: Any) -> None:
    peer = dash.create_peer()
    for coid in ("setup-default-order", "another-one"):
        r = dash.order(peer, extra=f"<CustomerOrderId>{coid}</CustomerOrderId>")
        assert r.status_code == 201, r.text
    doc = dash.xml(dash.get("/orders", params={"customerOrderId": "setup-default-order", "page": 1, "size": 20}))
    listing = doc["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]
    assert listing["TotalCount"] == "1"
    assert [o["CustomerOrderId"] for o in listing["OrderIdUserIdDate"]] == ["setup-default-order"]
    none = dash.xml(dash.get("/orders", params={"customerOrderId": "never-used"}))
    assert none["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["TotalCount"] == "0"
