"""The callback receiver (bwhelpers.receiver): Bandwidth's way of authenticating, durable once-only storage, bounded
bodies and rate, events served to this machine only, and its credentials kept out of the project and out of sight.

Each test runs a real receiver (a thread, or ``python -m bwhelpers receiver`` in a subprocess) on 127.0.0.1 and
talks HTTP to it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from bwhelpers import receiver
from bwhelpers.receiver.credentials import CredentialsError, credentials_path, load_or_create
from bwhelpers.receiver_client import ReceiverClient


def _event(n: int, kind: str = "message-delivered") -> dict[str, Any]:
    return {"type": kind, "time": f"2026-12-06T12:00:{n % 60:02d}.{n // 60:03d}Z", "to": "+19195550123",
            "description": "ok", "message": {"id": f"msg-{n}", "from": "+19105550100", "text": "",
                                             "direction": "out"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def rcv(isolated_env: Path) -> Iterator[Any]:
    handle = receiver.start(port=0, db=isolated_env / "receiver.db", reuse=False)
    yield handle
    handle.stop()


@pytest.fixture
def creds(rcv: Any) -> Any:
    return load_or_create()


def test_bandwidths_way_challenge_then_basic_stored_once(rcv: Any, creds: Any) -> None:
    url = f"{rcv.url}/callbacks/outbound"
    body = [_event(1)]
    first = requests.post(url, json=body, timeout=5)  # Bandwidth's first attempt carries no credentials
    assert first.status_code == 401 and first.headers["WWW-Authenticate"].startswith("Basic")
    again = requests.post(url, json=body, auth=(creds.user, creds.password), timeout=5)
    assert again.status_code == 204
    # an at-least-once redelivery, and a single object instead of an array (api-docs#1180)
    assert requests.post(url, json=body, auth=(creds.user, creds.password), timeout=5).status_code == 204
    assert requests.post(url, json=body[0], auth=(creds.user, creds.password), timeout=5).status_code == 204
    inbound = _event(2, "message-received")
    inbound["message"].update(text="Hi there", direction="in")
    assert requests.post(f"{rcv.url}/callbacks/inbound", json=[inbound], auth=(creds.user, creds.password),
                         timeout=5).status_code == 204
    client = ReceiverClient(rcv.url, creds)
    events = client.events()
    assert [e["type"] for e in events] == ["message-delivered", "message-received"]
    assert events[1]["message"]["text"] == "Hi there" and events[1]["_path"] == "inbound"
    assert [e["message"]["id"] for e in client.events(message_id="msg-2")] == ["msg-2"]


def test_wrong_credentials_get_401_logged_not_stored(rcv: Any, creds: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="bwhelpers.receiver"):
        r = requests.post(f"{rcv.url}/callbacks/outbound", json=[_event(3)], auth=(creds.user, "not-the-password"),
                          timeout=5)
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    assert any("wrong credentials" in m for m in caplog.messages)
    assert creds.password not in caplog.text
    client = ReceiverClient(rcv.url, creds)
    assert client.events() == []
    assert client.status()["rejected"]["wrong credentials"] == 1


def test_oversized_bodies_get_413_and_bad_bodies_400(rcv: Any, creds: Any) -> None:
    url = f"{rcv.url}/callbacks/outbound"
    big = b"[" + b" " * (300 * 1024) + b"]"
    r = requests.post(url, data=big, headers={"Content-Type": "application/json"}, auth=(creds.user, creds.password),
                      timeout=5)
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 10_000

    r = requests.post(url, data=chunks(), headers={"Content-Type": "application/json"},
                      auth=(creds.user, creds.password), timeout=5)
    assert r.status_code == 413
    for bad in (b"not json", b"[1, 2]", b"{}", b"[]"):
        r = requests.post(url, data=bad, headers={"Content-Type": "application/json"},
                          auth=(creds.user, creds.password), timeout=5)
        assert r.status_code == 400, bad
    client = ReceiverClient(rcv.url, creds)
    assert client.events() == []
    assert client.status()["rejected"]["body too large"] == 2


def test_rate_is_bounded_with_retry_after(isolated_env: Path) -> None:
    handle = receiver.start(port=0, db=isolated_env / "r.db", rate=2, reuse=False)
    creds = load_or_create()
    try:
        answers = [requests.post(f"{handle.url}/callbacks/outbound", json=[_event(i)], auth=(creds.user,
                                 creds.password), timeout=5) for i in range(10)]
    finally:
        handle.stop()
    codes = [a.status_code for a in answers]
    assert 204 in codes and 429 in codes, codes
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)


@pytest.mark.slow  # 250 requests to a receiver of its own
def test_a_flood_of_refused_requests_does_not_grow_the_store(isolated_env: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A stranger who finds the tunnel URL and POSTs without credentials: each refusal is counted, but the store
    keeps only the newest MAX_REJECTIONS of them (the file must not grow without end). The cap is lowered for the
    test (1000 in use; the rule does not depend on its value), so the flood is 250 requests, not 1,150."""
    from bwhelpers.receiver import store

    assert store.MAX_REJECTIONS == 1000
    monkeypatch.setattr(store, "MAX_REJECTIONS", 100)  # read at each refusal by this process's receiver
    db = isolated_env / "flood.db"
    handle = receiver.start(port=0, db=db, reuse=False)
    creds = load_or_create()
    try:
        codes: set[int | str] = set()
        with requests.Session() as stranger:
            for _ in range(store.MAX_REJECTIONS + 150):
                try:
                    codes.add(stranger.post(f"{handle.url}/callbacks/inbound", data=b"[]", timeout=5).status_code)
                except requests.ConnectionError:
                    # a 429 is sent from the headers, before the body is read, and then the receiver hangs up: a
                    # request already on that kept-alive connection is reset (the session reconnects for the next)
                    codes.add("reset")
        assert 401 in codes and codes <= {401, 429, "reset"}, codes
        status = ReceiverClient(handle.url, creds).status()
    finally:
        handle.stop()
    assert sum(status["rejected"].values()) == store.MAX_REJECTIONS, status["rejected"]


def test_events_are_served_to_this_machine_only_with_the_key(rcv: Any, creds: Any) -> None:
    url = f"{rcv.url}/_receiver/events"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    key = {"Authorization": f"Bearer {creds.key}"}
    # through a tunnel or proxy (they add forwarding headers) the events are never served
    for header in ("X-Forwarded-For", "Forwarded", "Cf-Connecting-Ip"):
        assert requests.get(url, headers={**key, header: "203.0.113.9"}, timeout=5).status_code == 403
    assert requests.get(url, headers=key, timeout=5).status_code == 200
    # the health check proves who it is without sending anything secret
    health = requests.get(f"{rcv.url}/_receiver/health", timeout=5).json()
    assert health == {"service": "bwhelpers-receiver"}
    assert receiver.verify(rcv.url, creds.key) and not receiver.verify(rcv.url, "another-key")


def test_credentials_private_and_never_shown(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = load_or_create()
    path = credentials_path()
    assert path.parent == isolated_env / "userconfig"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create() == creds  # generated once
    assert creds.password not in repr(creds) and creds.key not in str(creds)
    project = isolated_env / "proj"
    (project / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(project)
    monkeypatch.setenv("BW_CONFIG_DIR", str(project / "cfg"))
    with pytest.raises(CredentialsError, match="inside the project folder"):
        load_or_create()


def test_port_in_use_names_the_port_and_the_fix(isolated_env: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(receiver.ReceiverPortError) as info:
            receiver.start(port=port, db=isolated_env / "r.db")
    text = str(info.value)
    assert f"port {port}" in text and "BW_RECEIVER_PORT" in text and f"lsof -i :{port}" in text
    with pytest.raises(receiver.ReceiverPortError, match="BW_RECEIVER_PORT='abc' is not a port number"):
        receiver.configured_port("abc")


def test_cli_reports_a_port_in_use(isolated_env: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "bwhelpers", "receiver", "--port", str(port)],
                              capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert proc.returncode == 2
    assert f"port {port}" in proc.stderr and "BW_RECEIVER_PORT" in proc.stderr
    # nothing claims it listens there before the error: the port is tried first
    assert f"127.0.0.1:{port}" not in proc.stdout and "callback receiver on" not in proc.stdout, proc.stdout


@pytest.mark.slow
def test_killed_mid_burst_keeps_every_acknowledged_event(isolated_env: Path) -> None:
    port = _free_port()
    db = isolated_env / "burst.db"
    cmd = [sys.executable, "-m", "bwhelpers", "receiver", "--port", str(port), "--db", str(db), "--rate", "10000"]
    env = dict(os.environ)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while receiver.probe(url, timeout=0.5) is None:
        assert time.monotonic() < deadline and proc.poll() is None, "the receiver did not start"
        time.sleep(0.1)
    creds = load_or_create()
    acked: list[str] = []
    stop = threading.Event()

    def burst() -> None:
        session = requests.Session()
        for n in range(100_000):
            if stop.is_set():
                return
            try:
                r = session.post(f"{url}/callbacks/outbound", json=[_event(n)], auth=(creds.user, creds.password),
                                 timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 204:
                acked.append(f"msg-{n}")

    sender = threading.Thread(target=burst)
    sender.start()
    while len(acked) < 200:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-burst, no chance to clean up
    proc.wait(timeout=10)
    stop.set()
    sender.join(timeout=10)
    handle = receiver.start(port=port, db=db, reuse=False)
    try:
        stored = {e["message"]["id"] for e in ReceiverClient(handle.url, creds).events(limit=1_000_000)}
    finally:
        handle.stop()
    assert len(acked) >= 200
    missing = [m for m in acked if m not in stored]
    assert not missing, f"{len(missing)} acknowledged event(s) lost, e.g. {missing[:3]}"


def test_receiver_stores_no_secret_and_is_private(rcv: Any, creds: Any) -> None:
    requests.post(f"{rcv.url}/callbacks/outbound", json=[_event(5)], auth=(creds.user, creds.password), timeout=5)
    db = Path(rcv.db_path)
    assert db.stat().st_mode & 0o077 == 0
    blob = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob(db.name + "-wal"))
    assert creds.password.encode() not in blob and creds.key.encode() not in blob
    assert json.loads(requests.get(f"{rcv.url}/nothing", timeout=5).text)["type"] == "refused"


def test_tunnels_name_what_is_missing_and_read_cloudflareds_url(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from bwhelpers.receiver import tunnel

    path = os.environ.get("PATH", "")
    monkeypatch.setenv("PATH", str(tmp_path))  # no cloudflared on the PATH
    with pytest.raises(tunnel.TunnelError, match="cloudflared is not installed"):
        tunnel.open_tunnel("cloudflared", 8766)
    monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)
    with pytest.raises(tunnel.TunnelError, match="NGROK_AUTHTOKEN"):
        tunnel.open_tunnel("ngrok", 8766)
    with pytest.raises(tunnel.TunnelError, match="choose one of"):
        tunnel.open_tunnel("requestbin", 8766)
    # a stand-in cloudflared prints its quick tunnel's URL in a box on stderr, as the real one does
    fake = tmp_path / "cloudflared"
    fake.write_text("#!/bin/sh\necho 'INF |  https://quiet-river-1234.trycloudflare.com  |' >&2\nexec sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{path}")
    opened = tunnel.open_tunnel("cloudflared", 8766, timeout=20)
    try:
        assert opened.public_url == "https://quiet-river-1234.trycloudflare.com"
    finally:
        opened.close()


def test_a_receiver_started_here_is_shared_and_stopped_only_by_its_starter(isolated_env: Path) -> None:
    port = _free_port()
    first = receiver.start(port=port, db=isolated_env / "shared.db")
    try:
        again = receiver.ensure_running(port=port)
        assert again.reused and again.url == first.url
        again.stop()  # a user of the shared receiver does not stop it
        assert receiver.probe(first.url) is not None
    finally:
        first.stop()
    assert receiver.probe(first.url, timeout=0.5) is None
