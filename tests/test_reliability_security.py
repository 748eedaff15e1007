"""Reliability probes of a shared host (issue 13): what an attacker or a race on one machine tries, and what was
refused and what was lost. Figures go to the reliability report (section ``security``: ``<probe>_tried``,
``<probe>_refused``, ``<probe>_lost``); targets: nothing lost.

Probes: account takeover through the control plane, cross-tenant control-plane reads, forged writes, CSRF and
DNS-rebinding requests, port squatting (a fake ``/_sandbox/health`` must receive no credential), dot-segment and
other bad ids (no request sent), bad arguments at the API boundary, 20 concurrent processes per create step
(one object), a crash between ordering and saving (no second purchase), oversize bodies (413 before buffering),
and at-least-once callbacks shown once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

import _reliability_report as report

from bwhelpers.a2p import A2PClient
from _reliability_report import add, item
from _reliability_support import TIMEOUT, SandboxProcess, _Server
from bwhelpers.sandbox import ADMIN_HEADER, DEMO, DEMO_B
from conftest import XmlSession, admin, control, serve_in_thread
from guide import GUIDE_2018

_plugin = report.fixture()
ROOT = Path(__file__).resolve().parents[1]
A_AUTH = (DEMO["username"], DEMO["password"])
B_AUTH = (DEMO_B["username"], DEMO_B["password"])
UUID = "d775585a-ed5b-4a49-8b96-f68c0a993ebe"


def tally(probe: str, refused: bool, lost: bool = False) -> None:
    add("security", f"{probe}_tried")
    if refused:
        add("security", f"{probe}_refused")
    add("security", f"{probe}_lost", 1 if lost else 0)


@pytest.fixture(scope="module")
def world(sandbox_factory: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """A sandbox where A and B each have an application (callback: their bin ``default``), a location and a
    number, and one delivered message."""
    handle = sandbox_factory(settings={
        **GUIDE_2018, "order_transition": {"mode": "immediate"}, "delivery_delay": 0.05})
    url = handle.url
    out: dict[str, Any] = {"url": url, "handle": handle}
    for key, creds in (("a", DEMO), ("b", DEMO_B)):
        s = XmlSession(url, creds)
        w = s.world(url=f"{url}/_sandbox/bins/default")
        r = s.http.post(f"{url}/api/v2/users/{creds['account_id']}/messages", timeout=TIMEOUT, json={
            "to": ["+19195550111"], "from": "+1" + w["tns"][0], "text": f"{key}-secret-text", "applicationId": w["app"]})
        assert r.status_code == 202, r.text
        out[key] = {**w, "s": s, "message": r.json()["id"], "tn": "+1" + w["tns"][0]}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(control(url, "GET", "/_sandbox/bins/default", c).json()["events"] for c in (DEMO, DEMO_B)):
            break
        time.sleep(0.1)
    yield out
    handle.stop()


def _a_still_owns_its_account(url: str) -> bool:
    return requests.get(f"{url}/api/accounts/{DEMO['account_id']}/sites", auth=A_AUTH, timeout=TIMEOUT).status_code == 200


# -- takeover ---------------------------------------------------------------------------------------------

def test_account_takeover_attempts(world: dict[str, Any]) -> None:
    url = world["url"]
    takeover = {**DEMO, "password": "taken-over-pw"}
    attempts: list[dict[str, Any]] = [
        {}, {"auth": B_AUTH}, {"headers": {ADMIN_HEADER: "guessed-key"}}, {"auth": (DEMO["username"], "wrong")},
        {"headers": {"Authorization": "Bearer not-a-token"}},
    ]
    for kw in attempts * 2:  # 10 attempts
        r = requests.post(f"{url}/_sandbox/accounts", json=takeover, timeout=TIMEOUT, **kw)
        lost = requests.get(f"{url}/api/accounts/{DEMO['account_id']}/sites", auth=(DEMO["username"], "taken-over-pw"),
                            timeout=TIMEOUT).status_code == 200
        tally("takeover", r.status_code in (401, 403), lost)
        assert r.status_code in (401, 403) and not lost
    # an API credential for another account is a takeover too
    for kw in ({}, {"auth": B_AUTH}):
        r = requests.post(f"{url}/_sandbox/credentials", json={"account_id": DEMO["account_id"], "client_id": "evil",
                                                               "client_secret": "evil-secret"}, timeout=TIMEOUT, **kw)
        tally("takeover", r.status_code in (401, 403), r.status_code < 300)
        assert r.status_code in (401, 403)
    assert _a_still_owns_its_account(url)
    item("security", "account takeover through /_sandbox/accounts and /_sandbox/credentials: refused without the "
                     "admin key (another tenant's credentials, a guessed key, no credentials)")


# -- cross-tenant reads and forged writes -----------------------------------------------------------------

def test_cross_tenant_control_plane_reads(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    reads: list[tuple[str, dict[str, Any]]] = [
        ("/_sandbox/messages", {"accountId": DEMO["account_id"]}), ("/_sandbox/messages", {"messageId": a["message"]}),
        ("/_sandbox/messages", {}), ("/_sandbox/callbacks", {"accountId": DEMO["account_id"]}),
        ("/_sandbox/callbacks", {"messageId": a["message"]}), ("/_sandbox/callbacks", {}),
        ("/_sandbox/bins/default", {}), ("/_sandbox/bins/default", {"accountId": DEMO["account_id"]}),
        ("/_sandbox/bins", {}), ("/_sandbox/credentials", {"accountId": DEMO["account_id"]}),
    ]
    for path, params in reads:
        for kw in ({"auth": B_AUTH}, {}):
            r = requests.get(f"{url}{path}", params=params, timeout=TIMEOUT, **kw)
            leaked = a["message"] in r.text or "a-secret-text" in r.text or \
                (path.startswith("/_sandbox/credentials") and DEMO["client_id"] in r.text)
            tally("cross_tenant_read", r.status_code in (401, 403) or not leaked, leaked)
            assert not leaked, f"{path} {params} leaked A's data to {'B' if kw else 'nobody'}: {r.text[:200]}"
    item("security", "cross-tenant reads of messages, callbacks, bins and credentials through the control plane: "
                     "none of A's data reached B or an anonymous caller")


def test_forged_writes_into_another_tenant(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    before = control(url, "GET", "/_sandbox/bins/default", DEMO).json()["count"]
    forged = [{"type": "message-received", "message": {"id": "forged-event", "text": "forged"}}]
    tries: list[dict[str, Any]] = [
        {}, {"auth": B_AUTH}, {"headers": {"X-Sandbox-Delivery": f"{DEMO['account_id']}.00.{'0' * 64}"}},
        {"headers": {ADMIN_HEADER: "guessed"}, "params": {"accountId": DEMO["account_id"]}},
    ]
    for kw in tries:
        r = requests.post(f"{url}/_sandbox/bins/default", json=forged, timeout=TIMEOUT, **kw)
        tally("forged_write", r.status_code in (401, 403) or bool(kw.get("auth")))
    for kw in ({}, {"auth": B_AUTH}):
        r = requests.post(f"{url}/_sandbox/inbound", json={"to": a["tn"], "from": "+19195550100", "text": "forged"},
                          timeout=TIMEOUT, **kw)
        tally("forged_write", r.status_code in (401, 403, 404), r.status_code < 300)
        assert r.status_code in (401, 403, 404)
    time.sleep(0.3)
    doc = control(url, "GET", "/_sandbox/bins/default", DEMO).json()
    lost = doc["count"] != before or "forged" in json.dumps(doc)
    add("security", "forged_write_lost", 1 if lost else 0)
    assert not lost
    item("security", "forged events into another tenant's bin and inbound texts to another tenant's numbers: "
                     "refused (unsigned, wrong signature, other tenant's credentials land in that tenant's own bin)")


# -- CSRF and DNS rebinding -------------------------------------------------------------------------------

def _state(url: str) -> str:
    return json.dumps([control(url, "GET", "/_sandbox/settings").json(),
                       requests.get(f"{url}/api/accounts/{DEMO['account_id']}/applications", auth=A_AUTH,
                                    timeout=TIMEOUT).text])


def test_csrf_requests(world: dict[str, Any]) -> None:
    url = world["url"]
    admin_key = admin(url)
    before = _state(url)
    app_xml = ("<Application><AppName>CSRF</AppName><CallbackUrl>https://e.example/cb</CallbackUrl>"
               "<CallbackCreds/></Application>").encode()
    targets = [("/_sandbox/reset", b"{}", admin_key), ("/_sandbox/settings", b'{"rate_limit_per_second": 9}', admin_key),
               ("/_sandbox/inbound", b"{}", {}), ("/_sandbox/accounts", b"{}", admin_key),
               (f"/api/accounts/{DEMO['account_id']}/applications", app_xml, {})]
    for path, body, extra in targets:
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
            req = requests.Request("POST", f"{url}{path}", data=body, auth=A_AUTH,
                                   headers={**extra, "Origin": "https://evil.example"} if ctype == "text/plain"
                                   else dict(extra)).prepare()
            req.headers.pop("Content-Type", None)
            if ctype:
                req.headers["Content-Type"] = ctype
            r = requests.Session().send(req, timeout=TIMEOUT)
            tally("csrf", r.status_code in (403, 415))
            assert r.status_code in (403, 415), f"{path} {ctype}: {r.status_code} {r.text[:200]}"
    lost = _state(url) != before
    add("security", "csrf_lost", 1 if lost else 0)
    assert not lost
    item("security", "cross-origin style POSTs (text/plain, form, no Content-Type, foreign Origin) to reset, "
                     "settings, inbound, accounts and the Dashboard: refused, nothing changed")


def test_dns_rebinding_requests(world: dict[str, Any]) -> None:
    url = world["url"]
    for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", "attacker.test:8765"):
        for method, path, kw in (("GET", "/_sandbox/messages", {"auth": A_AUTH}),
                                 ("GET", f"/api/accounts/{DEMO['account_id']}/applications", {"auth": A_AUTH}),
                                 ("POST", "/_sandbox/reset", {"headers": admin(url)})):
            headers = {**kw.pop("headers", {}), "Host": host}
            r = requests.request(method, f"{url}{path}", headers=headers, json={}, timeout=TIMEOUT, **kw)
            echoed = host.split(":")[0] in (r.text + r.headers.get("Location", ""))
            tally("dns_rebinding", r.status_code == 421, r.status_code < 300 or echoed)
            assert r.status_code == 421 and not echoed
    item("security", "requests with a foreign Host header (DNS rebinding): refused with 421, the Host never echoed")


# -- port squatting ---------------------------------------------------------------------------------------

class _FakeSandbox:
    """Answers /_sandbox/health like a sandbox (with a made-up proof), records every request's credentials."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                fake.seen.append({k.lower(): v for k, v in self.headers.items()})
                body = json.dumps({"service": "bwhelpers-sandbox", "status": "ok", "db": "/tmp/x.db",
                                   "proof": "0" * 64}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        serve_in_thread(self.server)

    def credentials_seen(self) -> int:
        return sum(1 for h in self.seen if "authorization" in h or ADMIN_HEADER.lower() in h)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_port_squatting(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bwhelpers
    import bwhelpers.sandbox as sb
    from bwhelpers.errors import BandwidthError

    fake = _FakeSandbox()
    try:
        # 1. BW_SANDBOX_URL points at the squatter; the environment holds credentials
        monkeypatch.setenv("BW_TARGET", "sandbox")
        monkeypatch.setenv("BW_SANDBOX_URL", fake.url)
        monkeypatch.setenv("BW_USERNAME", "real-user")
        monkeypatch.setenv("BW_PASSWORD", "real-password-never-sent")
        with pytest.raises((BandwidthError, ConnectionError)) as info:
            bwhelpers.connect(quiet=True).dashboard.get_site()
        assert "prove" in str(info.value)
        tally("port_squatting", True, fake.credentials_seen() > 0)
        # 2. the squatter on the default port: passed over, a sandbox of our own starts elsewhere
        monkeypatch.delenv("BW_SANDBOX_URL")
        monkeypatch.setenv("BW_SANDBOX_DB", str(isolated_env / "own" / "sandbox.db"))
        monkeypatch.setattr(sb, "DEFAULT_PORT", fake.port)
        monkeypatch.setattr(sb, "_running", {})
        setup = bwhelpers.connect(quiet=True)
        try:
            assert setup.config.sandbox_url != fake.url
            assert setup.config.password == DEMO["password"]  # the real account's password is never used
            setup.dashboard.get_site()
            tally("port_squatting", True, fake.credentials_seen() > 0)
        finally:
            for handle in list(sb._running.values()):
                handle.stop()
        assert fake.credentials_seen() == 0, fake.seen
    finally:
        fake.stop()
    item("security", "port squatting: a fake /_sandbox/health (at BW_SANDBOX_URL, and on the default port) got no "
                     "credential; the client asks for an HMAC proof of the sandbox key first")


# -- bad ids and bad arguments ----------------------------------------------------------------------------

BAD_IDS = (".", "..", "../9911", "a/b", "", " ", "%2e%2e", "..%2F", "9901/../9911", None, "\\..", ["1"], 3.5)


def _id_calls(d: Any, m: Any, s: Any) -> dict[str, Callable[[Any], Any]]:
    return {
        "get_application": d.get_application, "delete_application": d.delete_application,
        "associated_locations": d.associated_locations, "get_location": d.get_location,
        "delete_location": d.delete_location, "location_numbers": d.location_numbers, "enable_sms": d.enable_sms,
        "enable_mms": d.enable_mms, "get_sms": d.get_sms, "delete_sms": d.delete_sms, "get_mms": d.get_mms,
        "delete_mms": d.delete_mms, "get_application_settings": d.get_application_settings,
        "unassign_application": d.unassign_application,
        "assign_application(location)": lambda v: d.assign_application(v, UUID),
        "assign_application(application)": lambda v: d.assign_application("500001", v),
        "get_order": d.get_order, "get_disconnect": d.get_disconnect, "wait_for_order": d.wait_for_order,
        "order_numbers(location)": lambda v: d.order_numbers(area_code="910", location_id=v),
        "account_id": lambda v: type(d)(d.config.replace(account_id=v)).list_applications(),
        "site_id": lambda v: type(d)(d.config.replace(site_id=v)).list_locations(),
        "messaging account_id": lambda v: type(m)(m.config.replace(account_id=v)).list_messages(),
        "a2p account_id": lambda v: A2PClient(d.config.replace(account_id=v)).list_campaigns(),
        "bin name": lambda v: s.control.bin(v),
    }


@pytest.fixture
def counted(offline_config: Any, store: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Any, list[str]]:
    from bwhelpers.dashboard import DashboardClient
    from bwhelpers.messaging import MessagingClient
    from bwhelpers.setup import Setup

    sent: list[str] = []
    real = requests.Session.send

    def counting(self: requests.Session, request: Any, **kw: Any) -> Any:
        sent.append(request.url)
        return real(self, request, **kw)

    monkeypatch.setattr(requests.Session, "send", counting)
    return DashboardClient(offline_config), MessagingClient(offline_config), Setup(offline_config, store,
                                                                                  progress=False), sent


def test_dot_segment_and_bad_ids_send_nothing(counted: tuple[Any, Any, Any, list[str]]) -> None:
    from bwhelpers.errors import BandwidthError, TransportError, ValidationError

    d, m, s, sent = counted
    for call_name, call in _id_calls(d, m, s).items():
        for bad in BAD_IDS:
            if bad is None and call_name == "order_numbers(location)":
                continue  # no location is a valid order (no PeerId)
            before = len(sent)
            try:
                call(bad)
                refused = False
            except ValidationError:
                refused = True
            except (TransportError, BandwidthError, TypeError, AttributeError):
                refused = False
            tally("bad_id", refused, len(sent) > before)
            add("security", "bad_id_requests_sent", len(sent) - before)
            assert refused and len(sent) == before, f"{call_name}({bad!r}): refused={refused}, sent={sent[before:]}"
    item("security", f"dot segments, slashes, %-escapes, empty and wrongly typed ids ({len(BAD_IDS)} values) in "
                     f"{len(_id_calls(d, m, s))} id-taking calls: refused with a ValidationError, no request sent")


def _boundary_cases(d: Any, m: Any, s: Any, store: Any) -> list[tuple[str, str, Callable[[], Any]]]:
    import bwhelpers
    from bwhelpers.config import Config
    from bwhelpers.setup import Setup

    good, cfg = "+19195550100", d.config
    store.update(s.profile, application={"id": UUID, "name": "Demo Server"}, location={"id": "500001"},
                 numbers=["+19105550100"], orders=[{"id": UUID}], messages=[{"id": "m-1"}])
    return [
        ("Config.resolve(sandbox_url=123)", "sandbox_url", lambda: Config.resolve(sandbox_url=123)),
        ("Config(dashboard_url=5)", "dashboard_url", lambda: Config(target="sandbox", dashboard_url=5)),
        ("Config(password=5)", "password", lambda: Config(target="sandbox", password=5)),
        ("Config(account_id=[1])", "account_id", lambda: Config(target="real", account_id=[1])),
        ("connect(sandbox_url=123)", "sandbox_url", lambda: bwhelpers.connect(sandbox_url=123, quiet=True)),
        ("Setup('x')", "config", lambda: Setup("x")),
        ("Setup(cfg, 'state.json')", "state", lambda: Setup(cfg, "state.json")),
        ("Setup(progress='no')", "progress", lambda: Setup(cfg, store, progress="no")),
        ("bulk_send(concurrency='4')", "concurrency", lambda: m.bulk_send([good], "hi", good, "app", concurrency="4")),
        ("bulk_send(rate='fast')", "rate", lambda: m.bulk_send([good], "hi", good, "app", rate="fast")),
        ("Setup.bulk_send(concurrency='4')", "concurrency", lambda: s.bulk_send([good], "hi", concurrency="4")),
        ("wait_for_order(timeout='5')", "timeout", lambda: d.wait_for_order(UUID, timeout="5")),
        ("Setup.wait_for_order(timeout='5')", "timeout", lambda: s.wait_for_order(timeout="5")),
        ("wait_for_event(timeout='5')", "timeout", lambda: s.wait_for_event(timeout="5")),
        ("wait_for_event('bogus')", "type", lambda: s.wait_for_event("bogus")),
        ("wait_for_event(interval=0)", "interval", lambda: s.wait_for_event(interval=0)),
        ("create_location(default='no')", "default", lambda: d.create_location("x", default="no")),
        ("Setup.create_location(default='no')", "default", lambda: s.create_location(default="no")),
        ("order_numbers(partial_allowed='x')", "partial_allowed",
         lambda: d.order_numbers(area_code="910", partial_allowed="x")),
        ("Setup.order_numbers(partial_allowed='x')", "partial_allowed", lambda: s.order_numbers(partial_allowed="x")),
        ("Setup.order_numbers(quantity='2')", "quantity", lambda: s.order_numbers(quantity="2")),
        ("Setup.order_numbers(back_order=1)", "back_order", lambda: s.order_numbers(back_order=1)),
        ("enable_sms(toll_free='yes')", "toll_free", lambda: d.enable_sms("1", toll_free="yes")),
        ("enable_sms(proxy_peer_id='../x')", "proxy_peer_id", lambda: d.enable_sms("1", proxy_peer_id="../x")),
        ("Setup.enable_sms(bogus=1)", "bogus", lambda: s.enable_sms(bogus=1)),
        ("send_message(media=5)", "media", lambda: m.send_message(good, "hi", good, "app", media=5)),
        ("send_message(tag=5)", "tag", lambda: m.send_message(good, "hi", good, "app", tag=5)),
        ("send_message(to=3.5)", "to", lambda: m.send_message(3.5, "hi", good, "app")),
        ("list_messages(foo='x')", "foo", lambda: m.list_messages(foo="x")),
        ("list_messages(limit=[1])", "limit", lambda: m.list_messages(limit=[1])),
        ("list_orders(page='../x')", "page", lambda: d.list_orders(page="../x")),
        ("list_orders(size=0)", "size", lambda: d.list_orders(size=0)),
        ("disconnect_numbers(5.5)", "numbers", lambda: d.disconnect_numbers(5.5)),
        ("teardown(disconnect_timeout='x')", "disconnect_timeout", lambda: s.teardown(disconnect_timeout="x")),
        ("Setup.send_message(text=5)", "text", lambda: s.send_message(good, 5)),
        ("Setup.create_application(name=5)", "name", lambda: s.create_application(name=5)),
        ("Setup.create_application(new='yes')", "new", lambda: s.create_application(new="yes")),
        ("Config.remember(5)", "path", lambda: cfg.remember(5)),
        ("StateStore.reset(5)", "profile", lambda: store.reset(5)),
        ("StateStore(5)", "path", lambda: type(store)(5)),
        ("search_numbers(quantity=2.5)", "quantity", lambda: d.search_numbers(area_code="910", quantity=2.5)),
        ("get_order(order_id=12)", "order_id", lambda: d.get_order(12)),
    ]


def test_bad_arguments_get_a_named_bwhelpers_error(counted: tuple[Any, Any, Any, list[str]], store: Any,
                                                   isolated_env: Path) -> None:
    from bwhelpers.errors import ValidationError

    d, m, s, sent = counted
    cases = _boundary_cases(d, m, s, store)
    for name, field, call in cases:
        before = len(sent)
        try:
            call()
            outcome = "accepted"
        except ValidationError as exc:
            outcome = "named" if exc.field == field and field in str(exc) else f"field {exc.field!r}"
        except Exception as exc:  # the probe counts raw errors, it does not hide them
            outcome = f"raw {type(exc).__name__}: {exc}"
        tally("bad_argument", outcome == "named", len(sent) > before)
        assert outcome == "named" and len(sent) == before, f"{name}: {outcome}; sent {sent[before:]}"
    item("security", f"{len(cases)} wrongly typed or out-of-range arguments at the API boundary (the issue's "
                     "examples among them): each answered with a ValidationError naming the field, no request sent")


# -- once-only create steps ------------------------------------------------------------------------------

RACE = textwrap.dedent("""
    import json, sys
    from bwhelpers.config import Config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    url, state = sys.argv[1:3]
    cfg = Config(target="sandbox", dashboard_url=url + "/api", messaging_url=url + "/api/v2", account_id="9900000",
                 site_id="9901", username="sandbox-user", password="sandbox-password", sandbox_url=url)
    while True:
        step = sys.stdin.readline().strip()  # a step's name, then "go" once every process is ready for it
        if not step:
            break
        setup = Setup(cfg, StateStore(state), progress=False)
        print("ready", flush=True)
        assert sys.stdin.readline().strip() == "go"
        result = getattr(setup, step)()
        print(json.dumps({"id": result.id, "reused": bool(getattr(result, "reused", False))}), flush=True)
""")


class Racers:
    """``n`` processes, each with a fresh ``Setup`` on one state file for every step it is given. A step starts in
    all of them at once: each says it is ready (imported, its Setup built), then all get "go" (a barrier, not a
    sleep). The processes live for all the steps of the test, as a notebook's kernel does."""

    def __init__(self, url: str, state: Path, tmp: Path, n: int = 20):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.errs = [open(tmp / f"racer-{i}.err", "w+") for i in range(n)]
        self.procs = [subprocess.Popen([sys.executable, "-c", RACE, url, str(state)], cwd=str(ROOT), env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
                      for err in self.errs]

    def _say(self, line: str) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(line + "\n")
            p.stdin.flush()

    def _hear(self) -> list[str]:
        lines = []
        for p, err in zip(self.procs, self.errs):
            assert p.stdout is not None
            line = p.stdout.readline().strip()
            if not line:
                p.wait(timeout=30)
                err.seek(0)
                raise AssertionError(f"a racing process exited with {p.returncode}: {err.read()[-2000:]}")
            lines.append(line)
        return lines

    def race(self, step: str) -> list[dict[str, Any]]:
        self._say(step)
        assert self._hear() == ["ready"] * len(self.procs)
        self._say("go")
        return [json.loads(line) for line in self._hear()]

    def close(self) -> None:
        for p in self.procs:
            if p.stdin is not None:
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for err in self.errs:
            err.close()


@pytest.mark.slow
def test_twenty_concurrent_runs_of_each_create_step(fresh_sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = fresh_sandbox(order_delay=0)
    s = XmlSession(sb.url, DEMO)
    state = tmp_path / "proj" / ".bwhelpers" / "state.json"
    def apps() -> int:
        doc = s.xml(s.get("/applications"))["ApplicationProvisioningResponse"]
        return len((doc.get("ApplicationList") or {}).get("Application") or [])

    def locations() -> int:
        doc = s.xml(s.get("/sites/9901/sippeers"))["TNSipPeersResponse"]
        peers = (doc.get("SipPeers") or {}).get("SipPeer") or []
        return sum(1 for p in peers if p.get("PeerName") == "Bandwidth Messaging 2 test")

    def orders() -> int:
        doc = s.xml(s.get("/orders", params={"page": 1, "size": 1000}))["ResponseSelectWrapper"]
        return int(doc["ListOrderIdUserIdDate"]["TotalCount"])

    counts = {"create_application": apps, "create_location": locations, "order_numbers": orders}
    racers = Racers(sb.url, state, tmp_path)
    try:
        for step in ("create_application", "create_location", "order_numbers"):
            before = counts[step]()
            results = racers.race(step)
            created = counts[step]() - before
            ids = {r["id"] for r in results}
            add("security", "once_only_tried", len(results))
            add("security", "once_only_created", created)
            add("security", "once_only_duplicates", max(0, created - 1))
            add("security", "once_only_lost", max(0, created - 1))
            assert created == 1 and len(ids) == 1, f"{step}: {created} created, ids {ids}"
            item("security", f"20 processes running {step} at the same instant on one profile: {created} created, "
                             f"{sum(r['reused'] for r in results)} reused it")
    finally:
        racers.close()


def test_crash_between_ordering_and_saving_does_not_buy_twice(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    setup.create_application()
    setup.create_location()
    setup.enable_sms()
    setup.assign_application()

    def orders() -> int:
        return len(setup.dashboard.list_orders(size=1000).records or [])

    before = orders()
    from bwhelpers.flows.provisioning import Provisioning

    real_save = Provisioning.save_order

    def crash(self: Any, result: Any, **extra: Any) -> None:
        raise KeyboardInterrupt("the kernel died right after POST /orders")

    monkeypatch.setattr(Provisioning, "save_order", crash)
    with pytest.raises(KeyboardInterrupt):
        setup.order_numbers()
    monkeypatch.setattr(Provisioning, "save_order", real_save)
    assert not setup.saved.get("orders")  # nothing saved: the crash came first
    again = setup.order_numbers()  # the retry after the crash
    bought = orders() - before
    tally("crash_reorder", bought == 1, bought > 1)
    add("security", "crash_reorder_numbers_bought", bought)
    assert bought == 1 and again.reused, f"{bought} orders placed"
    assert setup.order_numbers().id == again.id  # and a third run reuses the saved order
    item("security", "a crash between POST /orders and saving it, then a retry: the order was found by its "
                     "CustomerOrderId (GET /orders?customerOrderId=), nothing bought twice")


# -- oversize bodies -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_parallel_oversize_bodies_are_refused_before_buffering(tmp_path: Path) -> None:
    import psutil
    from concurrent.futures import ThreadPoolExecutor

    proc = SandboxProcess(tmp_path / "big.db").start(reset=True)
    try:
        rss = psutil.Process(proc.pid)
        start_mb = rss.memory_info().rss / 2 ** 20
        body = b"x" * (15 * 2 ** 20)
        peak = [start_mb]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss.memory_info().rss / 2 ** 20)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def post(i: int) -> int:
            path = f"/api/v2/users/{DEMO['account_id']}/messages" if i % 2 else \
                f"/api/accounts/{DEMO['account_id']}/applications"
            ctype = "application/json" if i % 2 else "application/xml"
            data = body if i < 20 else b"x" * (20 * 2 ** 20)
            try:
                return requests.post(f"{proc.url}{path}", data=data, auth=A_AUTH, headers={"Content-Type": ctype},
                                     timeout=60).status_code
            except requests.ConnectionError:
                return 0

        with ThreadPoolExecutor(max_workers=22) as pool:
            codes = list(pool.map(post, range(22)))
        stop.set()
        sampler.join()
        growth = peak[0] - start_mb
        for code in codes:
            tally("oversize", code == 413, code not in (413,))
        report.record("security", "oversize_rss_growth_mib", round(growth, 1))
        assert codes == [413] * 22, codes
        assert requests.get(f"{proc.url}/_sandbox/health", timeout=TIMEOUT).status_code == 200
        item("security", f"22 parallel 15-20 MB POSTs: all 413 with the documented body; sandbox RSS grew "
                         f"{growth:.1f} MiB (refused from the headers, never buffered)")
    finally:
        proc.stop()


# -- at-least-once callbacks, shown once -------------------------------------------------------------------

@pytest.mark.slow
def test_crash_then_deduplicated_events(tmp_path: Path) -> None:
    """kill -9 the sandbox while it delivers; after a restart every event arrives at least once, and the
    client's events view and wait_for_event show each exactly once (at-least-once delivery, as Bandwidth's)."""
    from bwhelpers.config import Config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    from bwhelpers.tables import events_frame

    proc = SandboxProcess(tmp_path / "crash.db").start(reset=True)
    try:
        proc.settings(delivery_delay=0.0, callback_retry={"max_attempts": 6, "backoff": [0.2], "timeout": 2})
        url = proc.url
        cfg = Config(target="sandbox", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                     account_id="9900000", site_id="9901", username="sandbox-user", password="sandbox-password",
                     sandbox_url=url)
        setup = Setup(cfg, StateStore(tmp_path / "state.json"), progress=False)
        setup.create_application()
        setup.create_location()
        setup.enable_sms()
        setup.assign_application()
        setup.order_numbers()
        setup.wait_for_order(timeout=30)
        ids = [r["id"] for r in setup.bulk_send([f"+1919555{i:04d}" for i in range(200)], text="x", rate=None)]
        proc.kill9()  # mid-delivery: some events were delivered and not yet marked
        proc.start()
        deadline = time.monotonic() + 60
        events = []
        while time.monotonic() < deadline:
            raw = setup.control.bin(setup.saved["application"]["bin"])
            delivered = {e["message"]["id"] for e in raw["events"] if e.get("type") == "message-delivered"}
            if delivered >= set(ids):
                break
            time.sleep(0.3)
        raw_events = [e for e in raw["events"] if e.get("type") == "message-delivered"]
        events = [e for e in setup.events() if e.get("type") == "message-delivered"]
        shown = events_frame(setup.events())
        lost = len(set(ids) - {e["message"]["id"] for e in events})
        add("security", "events_delivered_raw", len(raw_events))
        add("security", "events_redelivered", len(raw_events) - len({e["message"]["id"] for e in raw_events}))
        add("security", "events_shown_twice", len(events) - len({e["message"]["id"] for e in events}))
        add("security", "events_lost", lost)
        assert lost == 0 and len(events) == len(ids)
        assert len(shown[shown["type"] == "message-delivered"]) == len(ids)
        assert setup.wait_for_event("message-delivered", message_id=ids[0], timeout=5)["message"]["id"] == ids[0]
        # a redelivery of the very same event (what a crash between sending and marking causes) is shown once
        again = raw_events[0]
        requests.post(f"{url}/_sandbox/bins/{setup.saved['application']['bin']}", json=[again], auth=A_AUTH,
                      timeout=TIMEOUT)
        assert len([e for e in setup.events() if e.get("type") == "message-delivered"]) == len(ids)
        item("security", f"kill -9 during delivery of {len(ids)} callbacks, restart: {len(raw_events)} deliveries "
                         f"received ({len(raw_events) - len(ids)} redelivered), each event shown once, none lost")
    finally:
        proc.stop()
