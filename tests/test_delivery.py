"""A message's outcome on a real account, against the sandbox standing in for Bandwidth (no /_sandbox from the
client): the status polled from listMessages (per recipient, errorCode explained, 429 waited out as told), the
application created with the receiver's URLs and credentials, its callbacks stored by the receiver, and the
receiver's checks in diagnose(). Also the sandbox's listMessages lifecycle, checked against the spec's enums.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from _client_helpers import sandbox_settings
from bwhelpers import receiver
from bwhelpers.codes import MESSAGE_STATUSES, explain_status
from bwhelpers.config import Config
from bwhelpers.exceptions import ValidationError
from bwhelpers.receiver_client import callback_base
from bwhelpers.setup import Setup
from bwhelpers.state import StateStore
from conftest import control, reset, serve_in_thread


@functools.cache
def _spec() -> dict[str, Any]:
    import yaml  # libyaml's loader when there is one (0.13 s for this spec; the pure-Python one takes 1 s)

    text = (Path(__file__).parent / "data" / "specs" / "bandwidth.yml").read_text()
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _spec_enum(name: str) -> list[str]:
    return _spec()["components"]["schemas"][name]["enum"]


@pytest.fixture(scope="module", autouse=True)
def _reset_after(sandbox: Any) -> Iterator[None]:
    """``real`` decommissions Basic on the worker's session sandbox: reset it once these tests are done (the
    modules that share that sandbox next, e.g. test_sandbox_messaging, send with Basic)."""
    yield
    reset(sandbox.url)


@pytest.fixture
def rcv(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    handle = receiver.start(port=0, db=isolated_env / "receiver.db", reuse=False)
    monkeypatch.setenv("BW_RECEIVER_PORT", str(handle.port))
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", f"http://127.0.0.1:{handle.port}/")
    yield handle
    handle.stop()


def _real_setup(sb: Any, tmp: Path) -> Setup:
    c = sb.credentials
    cfg = Config(target="real", dashboard_url=f"{sb.url}/api", messaging_url=f"{sb.url}/api/v2",
                 token_url=f"{sb.url}/api/v1/oauth2/token", platform_url=f"{sb.url}/api/v2",
                 account_id=c["account_id"], site_id=c["site_id"], client_id=c["client_id"],
                 client_secret=c["client_secret"])
    return Setup(cfg, StateStore(tmp / "state.json"), progress=False)


@pytest.fixture
def real(clean_sandbox: Any, isolated_env: Path) -> Setup:
    sandbox_settings(clean_sandbox, delivery_delay=0.05, legacy_basic_auth="decommissioned",
                     callback_retry={"max_attempts": 3, "backoff": [0.2], "timeout": 2})
    return _real_setup(clean_sandbox, isolated_env)


def _ready(setup: Setup) -> None:
    setup.create_application()
    setup.create_location()
    setup.enable_sms()
    setup.enable_mms()
    setup.assign_application()
    setup.order_numbers()
    setup.wait_for_order(timeout=10)
    setup.register_a2p()  # a real account sends only from a number on a REGISTERED 10DLC campaign


def _send_to_magic(setup: Setup, to: Any, text: str) -> Any:
    """A send to the stand-in's magic failing numbers (555-01xx): a real account's send refuses fictional numbers
    before the request (Messages.check_billed_send), so these go past that check, as the picture send does once it
    has checked."""
    return setup.message_flow.send_message(to, text, checked=True)


def test_the_outcome_by_polling_and_the_receipt_at_the_receiver(real: Setup, rcv: Any) -> None:
    _ready(real)
    app = real.dashboard.get_application(real.saved["application"]["id"]).data
    assert app["InboundCallbackUrl"] == f"{rcv.url}/callbacks/inbound"
    assert app["OutboundCallbackUrl"] == f"{rcv.url}/callbacks/outbound"
    from bwhelpers.receiver.credentials import load

    creds = load()
    assert creds is not None and app["OutboundCallbackCreds"]["UserId"] == creds.user
    real.send_message("+19192381234", "hello")
    words: list[str] = []
    outcome = real.delivery_status(timeout=10, on_poll=lambda w, _: words.append(w))
    assert outcome.final and outcome.delivered and outcome.status == "DELIVERED"
    assert words[-1] == "+19192381234 DELIVERED"
    assert real.saved["messages"][-1]["delivery"]["status"] == "DELIVERED"
    event = real.wait_for_event("message-delivered", timeout=10)  # the receiver stored the callback
    assert event["message"]["id"] == outcome.message_id
    assert [e["type"] for e in real.events()] == ["message-delivered"]
    checks = {r["check"]: r for r in real.diagnose()}
    for name in ("callback receiver running", "application URLs match", "callback credentials set",
                 "last callback"):
        assert checks[name]["ok"], checks[name]


def test_a_strangers_refused_post_does_not_ask_to_recreate_the_application(real: Setup, rcv: Any) -> None:
    """On a public URL anyone can POST: with the application sending the receiver's credentials, callbacks refused
    for wrong credentials are someone else's, and the preflight says refusing them is right instead of asking to
    create the application again (review 24c, finding 10)."""
    import requests

    _ready(real)
    for auth in (("stranger", "guess"), ("stranger", "guess2")):
        r = requests.post(f"{rcv.url}/callbacks/inbound", json=[{"type": "message-received"}], auth=auth, timeout=5)
        assert r.status_code == 401
    row = {r["check"]: r for r in real.diagnose()}["refused callbacks"]
    assert row["ok"] and "someone else" in row["finding"] and "new=True" not in row["finding"] + row["fix"], row
    assert {r["check"]: r for r in real.diagnose()}["callback credentials set"]["ok"]


def test_a_failed_message_per_recipient_with_its_code_explained(real: Setup, rcv: Any) -> None:
    _ready(real)
    _send_to_magic(real, ["+19192381234", "+12015550101"], "one of two fails")  # 0101: the 4720 magic number
    outcome = real.delivery_status(timeout=10)
    assert outcome.final and not outcome.delivered
    by_to = {r.to: r for r in outcome.recipients}
    assert by_to["+19192381234"].status == "DELIVERED" and by_to["+19192381234"].error_code == 0
    assert by_to["+12015550101"].status == "FAILED" and by_to["+12015550101"].error_code == 4720
    failed = next(r for r in outcome.records() if r["status"] == "FAILED")
    assert failed["name"] == "invalid-destination-address" and "to number" in failed["fix"]


def test_the_pages_summaries_follow_the_real_outcome(real: Setup, rcv: Any) -> None:
    """09's and 11's summaries are computed from the polled outcome and the receiver's events on a real account
    too (11 said "nothing ran yet" under a table of events; 09 said done under an UNDELIVERED box)."""
    from bwhelpers.walkthrough import Page

    from bwhelpers.ui.output import capture

    _ready(real)
    # 11 before any event: the empty table says why (events come only through the receiver's public URL)
    with capture() as seen:
        Page("events", setup=real, show=False).events()
    said = " ".join(getattr(o, "data", "") or o._repr_html_() for o in seen)
    assert "holds no events yet" in said and "BW_CALLBACK_BASE_URL" in said, said[:500]
    page = Page("messages", setup=real, show=False)
    real.send_message("+19192381234", "hello")
    page.wait_for_event("message-delivered", timeout=10)
    sent_id = real.saved["messages"][-1]["id"]
    assert page.verdict()[0] == "done" and page.outcomes == [("done", f"message {sent_id} DELIVERED")]
    events = Page("events", setup=real, show=False)
    assert events.verdict()[0] == "not run"
    events.events()
    kind, what, _ = events.verdict()
    assert kind == "done" and "receiver holds 1 event(s)" in what, what
    failing = Page("messages", setup=real, show=False)
    sent = _send_to_magic(real, "+12015550101", "fails")  # 0101: the 4720 magic number
    failing.wait_for_event("message-delivered", message_id=sent.id, timeout=10)
    kind, what, _ = failing.verdict()
    assert kind != "done" and "FAILED (4720): the message did not reach the phone" in what, (kind, what)
    # the receiver's loopback URL is named for what it is, not as a "placeholder"
    finding = {r["check"]: r for r in real.diagnose()}["callback URL"]["finding"]
    assert "loopback" in finding and "BW_CALLBACK_BASE_URL" in finding and "placeholder" not in finding


@pytest.mark.slow
def test_a_poll_meeting_429_waits_as_told(real: Setup, rcv: Any) -> None:
    _ready(real)
    real.send_message("+19192381234", "rate limited")
    sandbox_settings_url = real.config.dashboard_url[:-4]
    r = control(sandbox_settings_url, "PUT", "/_sandbox/settings",
                json={"fail_next": {"status": 429, "count": 1, "retry_after": 7, "methods": ["GET"]}})
    assert r.status_code == 200
    slept: list[float] = []
    words: list[str] = []
    from bwhelpers.flows.delivery import delivery_status

    outcome = delivery_status(real.ctx, timeout=30, on_poll=lambda w, _: words.append(w), sleep=slept.append)
    assert outcome.rate_limit_waits == [7.0] and slept[0] == 7.0  # exactly what Retry-After said, no more polls
    assert any("waiting 7 s as the Messaging API asks (429 Retry-After)" in w for w in words)
    assert outcome.final and outcome.delivered
    # a Retry-After longer than the time left: the poll stops and says so instead of sleeping past its timeout
    control(sandbox_settings_url, "PUT", "/_sandbox/settings",
            json={"fail_next": {"status": 429, "count": 1, "retry_after": 300, "methods": ["GET"]}})
    slept.clear()
    outcome = delivery_status(real.ctx, timeout=5, sleep=slept.append)
    assert outcome.rate_limited == 300 and slept == []


def test_no_callback_url_on_a_real_account_says_what_to_set(real: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BW_CALLBACK_BASE_URL", raising=False)
    with pytest.raises(ValidationError) as info:
        real.create_application()
    text = str(info.value)
    assert "BW_CALLBACK_BASE_URL" in text and "InboundCallbackUrl" in text and "step 1" in text
    # review-real-account R5: the README's "polling needs no public URL", said where the run stops
    assert "No public URL at all?" in text and "polling listMessages" in text, text
    assert "application" not in real.saved
    assert real.dashboard.list_applications().records in ([], None)


@pytest.mark.parametrize("value,problem", [
    ("not a url", "is not an http(s) URL"),
    ("ftp://example.org/x", "is not an http(s) URL"),
    ("https://user:pw@example.org", "remove the user:password"),
    ("https://example.org/?a=1", "query or fragment"),
    ("https://[::1", "is not a URL"),
])
def test_a_callback_base_url_that_is_not_a_url_is_refused(value: str, problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        callback_base(real=True, value=value)
    assert info.value.field == "BW_CALLBACK_BASE_URL" and problem in str(info.value)
    assert "Fix" in str(info.value) or "remove" in str(info.value) or "give the base" in str(info.value)


def test_http_where_the_real_service_needs_https_warns_naming_the_rule() -> None:
    base = callback_base(real=True, value="http://callbacks.example.org/bw/")
    assert base is not None and base.url == "http://callbacks.example.org/bw"
    assert base.warning is not None and "12812" in base.warning and "https" in base.warning
    assert callback_base(real=True, value="https://abc.trycloudflare.com").warning is None
    assert callback_base(real=True, value="http://127.0.0.1:8766").warning is None  # local rehearsal


@pytest.mark.slow
def test_sandbox_list_messages_follows_the_callbacks_lifecycle(clean_sandbox: Any, isolated_env: Path,
                                                               rcv: Any) -> None:
    """SENDING (errorCode 0) until the event is due and its callback goes out, then DELIVERED / FAILED with the
    callback's errorCode; only values of the spec's messageStatusEnum; a filter outside the enum is a 400."""
    real = _real_setup(clean_sandbox, isolated_env)
    _ready(real)
    enum = _spec_enum("messageStatusEnum")
    assert set(MESSAGE_STATUSES) == set(enum)  # every documented status has a meaning and a verdict
    sandbox_settings(clean_sandbox, delivery_delay=600)
    sent = _send_to_magic(real, "+12015550101", "later")
    item = real.messaging.list_messages(messageId=sent.id).records[0]
    assert item["messageStatus"] == "SENDING" and item["errorCode"] == 0
    assert item["messageStatus"] in enum and item["messageDirection"] == "OUTBOUND"
    assert real.events() == []  # no callback before the status changes
    sandbox_settings(clean_sandbox, delivery_delay=0)
    sent = _send_to_magic(real, "+12015550101", "now")
    item = real.messaging.list_messages(messageId=sent.id).records[0]
    assert item["messageStatus"] == "FAILED" and item["errorCode"] == 4720
    event = real.wait_for_event("message-failed", message_id=sent.id, timeout=10)
    assert event["errorCode"] == item["errorCode"]
    assert explain_status("FAILED", 4720)["name"] == "invalid-destination-address"
    c = clean_sandbox.credentials
    token = requests.post(f"{clean_sandbox.url}/api/v1/oauth2/token", auth=(c["client_id"], c["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=5).json()["access_token"]
    for query, field in (("messageStatus=BOGUS", "messageStatus"), ("messageDirection=out", "messageDirection"),
                         ("errorCode=abc", "errorCode")):
        r = requests.get(f"{clean_sandbox.url}/api/v2/users/{c['account_id']}/messages?{query}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 400 and r.json()["fieldErrors"][0]["fieldName"] == field


def test_connect_checks_the_receiver_settings_before_any_request(clean_sandbox: Any, isolated_env: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: Any) -> None:
    import socketserver

    from bwhelpers.connection import live_config

    c = clean_sandbox.credentials
    for name, value in {"BW_TARGET": "real", "BW_DASHBOARD_URL": f"{clean_sandbox.url}/api",
                        "BW_ACCOUNT_ID": c["account_id"], "BW_SITE_ID": c["site_id"],
                        "BW_CLIENT_ID": c["client_id"], "BW_CLIENT_SECRET": c["client_secret"]}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "callbacks please")
    with pytest.raises(ValidationError, match="BW_CALLBACK_BASE_URL"):
        live_config(quiet=True)
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "https://abc123.trycloudflare.com")
    monkeypatch.setenv("BW_RECEIVER_PORT", "eighty")
    with pytest.raises(ValidationError, match="BW_RECEIVER_PORT='eighty' is not a port number"):
        live_config(quiet=True)
    class Hangup(socketserver.BaseRequestHandler):
        def handle(self) -> None:  # takes the connection and closes it, speaking no HTTP
            pass

    # another program holds the port: connecting still works, and says so (one that never answers, which the
    # receiver's probe waits out: tests/test_receiver.py::test_port_in_use_names_the_port_and_the_fix)
    squatter = socketserver.TCPServer(("127.0.0.1", 0), Hangup)
    serve_in_thread(squatter)
    try:
        port = squatter.server_address[1]
        monkeypatch.setenv("BW_RECEIVER_PORT", str(port))
        assert live_config().target == "real"
    finally:
        squatter.shutdown()
        squatter.server_close()
    err = capsys.readouterr().err
    assert f"port {port}" in err and "BW_RECEIVER_PORT" in err and "polling" in err


def test_the_send_form_takes_your_own_number_on_a_real_account(real: Setup, clean_sandbox: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """On a real account the destination is your own phone: BW_TO_NUMBER (headless runs) puts it in the form, else
    the field starts empty (never the sandbox's fictional 555-01xx number); the sandbox keeps its destination."""
    from bwhelpers import guide
    from bwhelpers.walkthrough import Page

    monkeypatch.setenv(guide.TO_NUMBER_ENV, " +19195550199 ")
    assert Page("messages", setup=real, show=False).message_form().values["to"] == "+19195550199"
    monkeypatch.delenv(guide.TO_NUMBER_ENV)
    assert Page("messages", setup=real, show=False).message_form().values["to"] == ""
