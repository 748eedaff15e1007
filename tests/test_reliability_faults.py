"""Faults: the sandbox killed mid-walkthrough, a misbehaving network or server, a failing callback
receiver, and a Jupyter kernel killed with ``kill -9`` while it writes the state file.

* The walkthrough (``bwhelpers.Setup``) survives ``kill -9`` of the sandbox process: the step that hits the
  dead server fails with a clear TransportError and changes nothing; after a restart on the same port
  and db the saved IDs are intact and the next step continues. Nothing is created twice.
* Idempotent calls (GET/PUT/DELETE) are retried on 429/500/503 (honouring ``Retry-After``), on refused
  connections and on timeouts; creates (POST) never are, so nothing is duplicated; after the last
  retry the error says what happened and what to do.
* Callbacks to a receiver that is down, slower than the timeout, or answering 500 are retried with
  backoff, every attempt is in ``/_sandbox/callbacks``, and after recovery each event arrives exactly once.
"""
from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from guide import GUIDE_2018  # the guide's steps as in 2018 (no A2P step): a2p_enforcement off

import _reliability_report as report
from _reliability_report import add, item
from _reliability_support import TIMEOUT, BlackHole, Receiver, SandboxProcess, free_port
from bwhelpers.config import Config
from bwhelpers.errors import (BandwidthError, RateLimitError, ServerError, TransportError)
from bwhelpers.sandbox import DEMO
from bwhelpers.setup import Setup
from bwhelpers.state import StateStore
from conftest import control, serve_in_thread

plugin = report.fixture()


def config_for(url: str, creds: dict[str, str] = DEMO) -> Config:
    return Config(target="sandbox", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                  account_id=creds["account_id"], site_id=creds["site_id"], username=creds["username"],
                  password=creds["password"], user_id=creds["user_id"], api_token=creds["api_token"],
                  api_secret=creds["api_secret"], sandbox_url=url)


def count(url: str, path: str, element: str, creds: dict[str, str] = DEMO) -> int:
    r = requests.get(f"{url}/api/accounts/{creds['account_id']}{path}", auth=(creds["username"], creds["password"]),
                     timeout=TIMEOUT)
    if r.status_code == 204:
        return 0
    assert r.status_code == 200, r.text
    return r.text.count(f"<{element}>")


def message_count(url: str) -> int:
    r = requests.get(f"{url}/api/v2/users/9900000/messages", auth=(DEMO["username"], DEMO["password"]),
                     params={"limit": 1000}, timeout=TIMEOUT)
    return len({m["messageId"] for m in r.json()["messages"]})


# -- the sandbox killed mid-walkthrough -------------------------------------------------------------

@pytest.mark.slow
def test_sandbox_killed_mid_walkthrough_and_restarted(tmp_path: Path) -> None:
    sb = SandboxProcess(tmp_path / "sandbox.db", order_delay=0.5).start(reset=True)
    try:
        sb.settings(delivery_delay=0)
        setup = Setup(config_for(sb.url), StateStore(tmp_path / "state.json"), progress=False)
        app = setup.create_application().id
        loc = setup.create_location().id
        setup.enable_sms()
        saved_before = setup.state.path.read_bytes()

        sb.kill9()  # 1: between step 3 and step 4
        started = time.monotonic()
        with pytest.raises(TransportError, match="could not connect") as info:
            setup.enable_mms()
        assert time.monotonic() - started < 15
        assert "BW_SANDBOX_URL" in str(info.value) and "Traceback" not in str(info.value)
        assert setup.state.path.read_bytes() == saved_before, "a failed step changed the saved state"
        sb.start()
        item("faults", "sandbox `kill -9` between steps 3 and 4: the next step failed with a clear TransportError, "
                       "saved state untouched; after the restart the walkthrough continued")
        add("faults", "sandbox kill -9 and restart")

        assert setup.saved["application"]["id"] == app and setup.saved["location"]["id"] == loc
        setup.enable_mms()
        setup.assign_application()
        order = setup.order_numbers()
        assert order.status == "RECEIVED"

        sb.kill9()  # 2: with an order still RECEIVED
        sb.start()
        add("faults", "sandbox kill -9 and restart")
        item("faults", "sandbox `kill -9` with an order still RECEIVED: after the restart the order completed and "
                       "the message was sent")
        done = setup.wait_for_order(timeout=20)
        assert done.status == "COMPLETE" and done.numbers
        sent = setup.send_message("+19195550100", "after two crashes")
        assert sent.id
        # re-running every step reuses the saved objects: nothing was created twice
        list(setup.run_all())
        assert count(sb.url, "/applications", "ApplicationId") == 1
        assert count(sb.url, "/sites/9901/sippeers", "PeerId") == 1
        assert count(sb.url, "/orders", "OrderIdUserIdDate") == 1
        diag = setup.diagnose()
        assert all(c["ok"] for c in diag), diag
        saved = setup.saved
        assert saved["application"]["id"] == app and saved["location"]["id"] == loc
        assert saved["numbers"] == done.numbers
    finally:
        sb.stop()


# -- network and server faults: retries, no duplicate creates, clear errors ---------------------------

@pytest.fixture(scope="module")
def live(sandbox_factory: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    from conftest import XmlSession

    handle = sandbox_factory(order_delay=0, reset=True, settings={"delivery_delay": 0, **GUIDE_2018})
    w = XmlSession(handle.url, DEMO).world()
    w["url"] = handle.url
    yield w
    handle.stop()


def fail_next(url: str, status: int, count: int, retry_after: float | None = None,
              methods: list[str] | None = None) -> None:
    fault = {"status": status, "count": count, "retry_after": retry_after, "methods": methods}
    r = control(url, "PUT", "/_sandbox/settings", json={"fail_next": fault}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def faults_left(url: str) -> int:
    fault = control(url, "GET", "/_sandbox/settings", timeout=TIMEOUT).json().get("fail_next") or {}
    return int(fault.get("count", 0))


@pytest.fixture
def setup_live(live: dict[str, Any], tmp_path: Path) -> Iterator[Setup]:
    store = StateStore(tmp_path / "state.json")
    store.update("sandbox", application={"id": live["app"], "name": "Demo Server"},
                 location={"id": live["peer"], "name": "Loc"}, numbers=["+1" + live["tns"][0]])
    yield Setup(config_for(live["url"]), store, progress=False)
    control(live['url'], "PUT", "/_sandbox/settings", json={"fail_next": None}, timeout=TIMEOUT)


@pytest.mark.parametrize("status,retry_after", [(503, 1), (503, None), (500, None), (429, 1), (429, None)])
@pytest.mark.slow
def test_idempotent_calls_are_retried_until_they_succeed(live: dict[str, Any], setup_live: Setup, status: int,
                                                         retry_after: float | None) -> None:
    fail_next(live["url"], status, 2, retry_after)
    started = time.monotonic()
    result = setup_live.dashboard.get_application(live["app"])  # GET
    elapsed = time.monotonic() - started
    assert result.id == live["app"] and faults_left(live["url"]) == 0
    if retry_after:
        assert elapsed >= 2 * retry_after * 0.9, f"Retry-After was not honoured ({elapsed:.2f} s)"
    fail_next(live["url"], status, 2, retry_after, methods=["PUT"])
    assert setup_live.assign_application().id == live["app"]  # PUT
    assert faults_left(live["url"]) == 0
    item("faults", f"HTTP {status} twice ({'Retry-After: %s' % retry_after if retry_after else 'no Retry-After'}) "
                   "on GET and PUT: retried, then succeeded")


@pytest.mark.parametrize("status,cls", [(500, ServerError), (503, ServerError), (429, RateLimitError)])
@pytest.mark.slow
def test_persistent_failures_end_with_a_clear_error(live: dict[str, Any], setup_live: Setup, status: int,
                                                    cls: type[BandwidthError]) -> None:
    fail_next(live["url"], status, 50, retry_after=0 if status == 429 else None)
    with pytest.raises(cls) as info:
        setup_live.dashboard.get_location(live["peer"])
    attempts = 50 - faults_left(live["url"])
    assert attempts == 4, f"expected 1 try + 3 retries, saw {attempts}"
    text = str(info.value)
    assert f"HTTP {status}" in text and "Fix:" in text and info.value.status == status
    item("faults", f"HTTP {status} on every try: {cls.__name__} after 1 try + 3 retries: `{text[:110]}...`")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_creates_are_never_retried_or_duplicated(live: dict[str, Any], setup_live: Setup, status: int) -> None:
    url = live["url"]
    before = {"apps": count(url, "/applications", "ApplicationId"),
              "peers": count(url, "/sites/9901/sippeers", "PeerId"),
              "orders": count(url, "/orders?size=5000", "OrderIdUserIdDate"), "messages": message_count(url)}
    d, m = setup_live.dashboard, setup_live.messaging
    creates = [lambda: d.create_application("Retry App", "https://a.example/cb"),
               lambda: d.create_location("Retry Loc", default=False),
               lambda: d.order_numbers(area_code="910", location_id=live["peer"]),
               lambda: m.send_message("+19195550100", "once", "+1" + live["tns"][0], live["app"])]
    for create in creates:
        fail_next(url, status, 1, retry_after=1, methods=["POST"])
        with pytest.raises(BandwidthError) as info:
            create()
        assert info.value.status == status and faults_left(url) == 0, "a POST was retried"
    after = {"apps": count(url, "/applications", "ApplicationId"),
             "peers": count(url, "/sites/9901/sippeers", "PeerId"),
             "orders": count(url, "/orders?size=5000", "OrderIdUserIdDate"), "messages": message_count(url)}
    assert after == before, "a failed create left an object behind"
    # the caller's own retry creates exactly one
    created = d.create_application("Retry App", "https://a.example/cb")
    assert count(url, "/applications", "ApplicationId") == before["apps"] + 1
    d.delete_application(created.id)
    item("faults", f"HTTP {status} on POST (application, location, order, message): raised at once, never re-sent, "
                   "no object left behind")


@pytest.mark.slow  # four 429s answered with Retry-After back-offs
def test_bulk_send_resends_only_what_was_not_accepted(live: dict[str, Any], setup_live: Setup) -> None:
    url = live["url"]
    before = message_count(url)
    fail_next(url, 429, 4, retry_after=0.2, methods=["POST"])
    from bwhelpers.tables import bulk_frame
    df = bulk_frame(setup_live.messaging.bulk_send([f"+1919555{i:04d}" for i in range(200, 210)], "bulk",
                                                   "+1" + live["tns"][0], live["app"], concurrency=4, progress=False))
    assert (df["status"] == "accepted").all(), df.to_string()
    assert df["attempts"].sum() == 10 + 4 and faults_left(url) == 0
    assert message_count(url) == before + 10, "a message was sent twice or lost"
    item("faults", "429 four times during a 10-message bulk_send: 14 attempts, exactly 10 messages on the sandbox")


@pytest.mark.slow
def test_connection_refused_is_retried_then_clear(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    setup = Setup(config_for(url), StateStore(tmp_path / "state.json"), progress=False)
    for call in (lambda: setup.dashboard.get_site(), lambda: setup.create_application(),
                 lambda: setup.messaging.send_message("+19195550100", "x", "+19195550101", "app")):
        started = time.monotonic()
        with pytest.raises(TransportError, match="could not connect") as info:
            call()
        assert time.monotonic() - started < 10
        assert "Fix:" in str(info.value)
    assert not setup.state.path.exists() or setup.saved == {}
    item("faults", "connection refused (GET, POST create, message send): TransportError naming the URL and the fix, "
                   "within seconds; nothing saved")


def settled(hole: BlackHole, expected: int) -> None:
    """Wait until the hole's accept thread has taken at least ``expected`` connections (the client's tries are all in
    the listen backlog when its error is raised; a loaded machine's thread accepts them later), then 0.3 s more, so
    one too many would be counted too."""
    deadline = time.monotonic() + 30
    while hole.connections < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)


@pytest.mark.slow
def test_timeouts_retry_reads_but_never_creates(tmp_path: Path) -> None:
    from bwhelpers.dashboard import DashboardClient
    from bwhelpers.http import make_session

    hole = BlackHole()
    try:
        cfg = config_for(hole.url)
        d = DashboardClient(cfg, session=make_session(cfg, timeout=(1.0, 0.4), backoff_factor=0.05))
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            d.get_application("d775585a-ed5b-4a49-8b96-f68c0a993ebe")
        assert time.monotonic() - started < 8
        settled(hole, 4)
        assert hole.connections == 4, f"GET: expected 1 try + 3 retries, saw {hole.connections}"
        before = hole.connections
        with pytest.raises(TransportError, match="timed out"):
            d.create_application("Slow", "https://a.example/cb")
        settled(hole, before + 1)
        assert hole.connections - before == 1, "a POST was re-sent after a timeout"
    finally:
        hole.close()
    item("faults", "a server that accepts and never answers: GET timed out 4 times (1 + 3 retries) then "
                   "TransportError; POST sent once only")


def test_garbage_success_body_is_a_clear_error(tmp_path: Path) -> None:
    """A proxy's HTML page with 200: a BandwidthError naming the URL, not an XML/JSON parser crash."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Proxy(BaseHTTPRequestHandler):
        def _page(self) -> None:
            body = b"<html><body>Sign in to the captive portal</body>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    serve_in_thread(srv)
    try:
        setup = Setup(config_for(f"http://127.0.0.1:{srv.server_address[1]}"), StateStore(tmp_path / "s.json"),
                      progress=False)
        with pytest.raises(BandwidthError, match="not the Dashboard's XML"):
            setup.dashboard.get_site()
        with pytest.raises(BandwidthError, match="not the Messaging API's JSON"):
            setup.messaging.send_message("+19195550100", "x", "+19195550101", "app")
    finally:
        srv.shutdown()
        srv.server_close()
    item("faults", "an HTML page with HTTP 200 (captive portal/proxy): BandwidthError naming the URL, no parser crash")


# -- callbacks: receiver down, slow, failing; exactly once after recovery ------------------------------

@pytest.fixture
def cb_world(fresh_sandbox: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    from conftest import XmlSession

    receiver = Receiver(slow_seconds=1.6)
    handle = fresh_sandbox(order_delay=0, reset=True,
                           settings={"delivery_delay": 0, **GUIDE_2018, "callback_retry": {"max_attempts": 12, "backoff": [0.3, 0.6, 1.0],
                                                                     "timeout": 1.0}})
    s = XmlSession(handle.url, DEMO)
    world = s.world(url=receiver.url)
    app, tn = world["app"], "+1" + world["tns"][0]
    yield {"url": handle.url, "app": app, "tn": tn, "receiver": receiver, "s": s}
    receiver.down()
    handle.stop()


def send_messages(w: dict[str, Any], n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = w["s"].http.post(f"{w['url']}/api/v2/users/9900000/messages", timeout=TIMEOUT,
                             json={"to": [f"+1919555{i:04d}", "+19195559999"], "from": w["tn"], "text": f"m{i}",
                                   "applicationId": w["app"]})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


def wait_delivered(url: str, ids: list[str], timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        doc = control(url, "GET", "/_sandbox/callbacks", params={"accountId": "9900000"}, timeout=TIMEOUT).json()
        mine = [c for c in doc["callbacks"] if c["messageId"] in ids]
        if mine and all(c["status"] == "delivered" for c in mine):
            return doc
        if time.monotonic() > deadline:
            pytest.fail(f"not delivered: {[(c['messageId'], c['status'], c['lastError']) for c in mine]}")
        time.sleep(0.1)


def wait_failed_attempts(url: str, ids: list[str], per_message: int, at_least: int = 2, timeout: float = 30.0) -> None:
    """Until every callback of the messages ``ids`` has made ``at_least`` attempts (the failing receiver answered
    them all): the retry logic's progress, read from the sandbox's attempt log instead of guessed with a sleep."""
    deadline = time.monotonic() + timeout
    while True:
        doc = control(url, "GET", "/_sandbox/callbacks", params={"accountId": "9900000"}, timeout=TIMEOUT).json()
        mine = [c for c in doc["callbacks"] if c["messageId"] in ids]
        if len(mine) == per_message * len(ids) and all(c["attempts"] >= at_least for c in mine):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"fewer than {at_least} attempts: {[(c['messageId'], c['attempts']) for c in mine]}")
        time.sleep(0.1)


def assert_exactly_once(w: dict[str, Any], ids: list[str], doc: dict[str, Any], mode: str) -> None:
    receiver: Receiver = w["receiver"]
    outbox = [c for c in doc["callbacks"] if c["messageId"] in ids]
    expected = {(c["messageId"], c["type"], c["to"]) for c in outbox}
    assert len(expected) == len(ids) * 2
    with receiver.lock:
        acked = [(e["message"]["id"], e["type"], e["to"]) for e in receiver.acked]
        received = list(receiver.requests)
    assert sorted(acked) == sorted(expected), "an event was lost or delivered twice"
    attempts = [a for a in doc["attempts"] if a["messageId"] in ids]
    failed = [a for a in attempts if not (a["statusCode"] and 200 <= a["statusCode"] < 300)]
    assert failed, "no failed attempt was logged"
    for c in outbox:
        mine = sorted((a for a in attempts if a["callbackId"] == c["id"]), key=lambda a: a["id"])
        assert len(mine) == c["attempts"] and mine[-1]["statusCode"] == 200, mine
        assert all(a["error"] for a in mine[:-1]), "a failed attempt was logged without its error"
    if mode != "down":  # every request the receiver saw is in the attempt log
        seen = sum(1 for _, events, _ in received for e in events if e["message"]["id"] in ids)
        assert seen == len(attempts), (seen, len(attempts))
    # the backoff grows: the gaps between one event's attempts are at least the configured delays
    first = min(outbox, key=lambda c: c["id"])
    times = [a for a in attempts if a["callbackId"] == first["id"]]
    stamps = [datetime.fromisoformat(a["time"].replace("Z", "+00:00")).timestamp()
              for a in sorted(times, key=lambda a: a["id"])]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert gaps and gaps[0] >= 0.25, gaps
    add("faults", f"callback receiver {mode}: attempts logged", len(attempts))
    add("faults", f"callback receiver {mode}: events delivered exactly once", len(expected))


@pytest.mark.parametrize("mode", ["down", "error", "slow"])
@pytest.mark.slow
def test_callbacks_survive_a_failing_receiver_exactly_once(cb_world: dict[str, Any], mode: str) -> None:
    receiver: Receiver = cb_world["receiver"]
    if mode != "down":
        receiver.up()
        receiver.mode = mode
    ids = send_messages(cb_world, 3)
    wait_failed_attempts(cb_world["url"], ids, per_message=2)  # retried with backoff: two failed attempts each
    if mode == "down":
        receiver.up()
    receiver.mode = "ok"
    doc = wait_delivered(cb_world["url"], ids)
    assert_exactly_once(cb_world, ids, doc, mode)
    item("faults", f"callback receiver {'down (connection refused)' if mode == 'down' else 'answering 500' if mode == 'error' else 'slower than the 1 s timeout'} "
                   "until each callback had failed twice: retried with backoff, every attempt logged, each event delivered exactly "
                   "once after recovery")


@pytest.mark.slow
def test_callbacks_to_a_failing_bin_arrive_exactly_once(cb_world: dict[str, Any]) -> None:
    """The sandbox's own request bin answering 500, then recovering."""
    url, s = cb_world["url"], cb_world["s"]
    bin_url = f"{url}/_sandbox/bins/flaky"
    s.http.put(bin_url, json={"status": 500}, timeout=TIMEOUT).raise_for_status()  # the account's own bin
    app = s.create_app(url=bin_url, name="Bin")
    peer = s.create_peer(name="BinLoc", default=False)
    s.enable_sms(peer)
    assert s.assign(peer, app).status_code == 200
    tn = "+1" + s.order_numbers(peer)[0]
    ids = []
    for i in range(3):
        r = s.http.post(f"{url}/api/v2/users/9900000/messages", timeout=TIMEOUT,
                        json={"to": [f"+1919555{i:04d}"], "from": tn, "text": "x", "applicationId": app})
        ids.append(r.json()["id"])
    wait_failed_attempts(url, ids, per_message=1)  # the bin answered 500 to two attempts of each callback
    s.http.put(bin_url, json={"status": 204}, timeout=TIMEOUT).raise_for_status()
    wait_delivered(url, ids)
    contents = s.http.get(bin_url, timeout=TIMEOUT).json()
    events = [(e["message"]["id"], e["type"]) for e in contents["events"]]
    assert sorted(events) == sorted((i, "message-delivered") for i in ids)
    assert sum(1 for r in contents["requests"] if r["status"] == 500) >= 3
    add("faults", "request bin answering 500: events delivered exactly once", len(ids))
    item("faults", "the sandbox request bin answering 500 for 1.5 s: retried, each event in the bin exactly once")


# -- a Jupyter kernel killed with kill -9 while it writes the state file -------------------------------

KERNEL_CODE = textwrap.dedent("""
    import bwhelpers, json
    setup = bwhelpers.connect()
    setup.create_application()
    setup.create_location()
    big = "x" * 20000
    i = 0
    while True:
        i += 1
        with setup.state.transaction(setup.profile) as st:
            st["counter"] = i
            st["blob"] = [big] * 25
        if i % 7 == 0:
            setup.order_numbers(new=True, area_code="919")
        if i == 3:
            open({marker!r}, "w").write("ready")
""")


@pytest.mark.slow
def test_kernel_killed_mid_write_leaves_a_valid_state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           fresh_sandbox: Callable[..., Any]) -> None:
    from jupyter_client.manager import start_new_kernel

    handle = fresh_sandbox(order_delay=0, reset=True)
    state = tmp_path / "state.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(BW_SANDBOX_URL=handle.url, BW_STATE_FILE=str(state), BW_CONFIG_DIR=str(tmp_path / "cfg"),
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    kills = 0
    try:
        for attempt in range(3):
            marker = tmp_path / f"ready-{attempt}"
            km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
            try:
                kc.execute(KERNEL_CODE.format(marker=str(marker)))
                deadline = time.monotonic() + 60
                while not marker.exists():
                    assert time.monotonic() < deadline, "the kernel never started writing"
                    time.sleep(0.02)
                time.sleep(0.15 + 0.2 * attempt)
                os.kill(km.provisioner.pid, signal.SIGKILL)  # the kernel process, mid-loop
                kills += 1
            finally:
                kc.stop_channels()
                try:
                    km.shutdown_kernel(now=True)
                except Exception:
                    pass
            data = json.loads(state.read_text(encoding="utf-8"))  # complete, valid JSON
            saved = data["profiles"]["sandbox"]
            assert saved["counter"] >= 3 and len(saved["blob"]) == 25
            loaded = StateStore(state).get("sandbox")
            assert loaded["counter"] == saved["counter"]
            # every saved order exists on the server: no half-written entry
            auth = (DEMO["username"], DEMO["password"])
            for o in loaded.get("orders", []):
                r = requests.get(f"{handle.url}/api/accounts/9900000/orders/{o['id']}", auth=auth, timeout=TIMEOUT)
                assert r.status_code == 200, o
        assert not list(tmp_path.glob("state.json.corrupt-*"))
    finally:
        handle.stop()
    add("faults", "Jupyter kernel kill -9 while writing the state file", kills)
    item("faults", f"a Jupyter kernel (bwhelpers.connect() writing the state file in a loop, placing orders) killed "
                   f"with `kill -9` {kills} times: the state file was complete, valid JSON every time, no corrupt copy")
