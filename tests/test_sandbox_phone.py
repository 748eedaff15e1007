"""The phone page (bwhelpers/sandbox/phone) over HTTP against a real sandbox: who may see it (credentials, signed
links that expire, other accounts never), what it shows (threads, delivery ticks with the error code's meaning,
hostile texts escaped), and the reply box (a form with the page's token -> a message-received and its callback,
the same path as POST /_sandbox/inbound). The browser side (screenshots, contrast) is tests/test_browser_phone.py."""
from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from _messaging_helpers import FAST, wait_for
from conftest import SandboxClock, XmlSession, control, reset

from bwhelpers.codes import explain
from bwhelpers.sandbox import DEMO, DEMO_B
from bwhelpers.sandbox.phone import models

HTML = {"Accept": "text/html"}
HOSTILE = "<img src=x onerror=alert(1)></textarea><script>alert('x')</script> & \"q\""


def _auth(creds: dict[str, str]) -> tuple[str, str]:
    return creds["username"], creds["password"]


@pytest.fixture
def world(sandbox: Any) -> dict[str, Any]:
    """Both demo accounts with an application (callbacks into a request bin), a location with SMS+MMS and a
    number; account A sent a delivered text, a failing one (magic 4720) and got a reply."""
    reset(sandbox.url)
    r = control(sandbox.url, "PUT", "/_sandbox/settings", json={**FAST, "slow_delivery_delay": 600})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = {"url": sandbox.url}
    for name, creds in (("a", DEMO), ("b", DEMO_B)):
        dash = XmlSession(sandbox.url, creds)
        w = dash.world(url=f"{sandbox.url}/_sandbox/bins/phone")
        w["tn"] = "+1" + w["tns"][0]
        out[name] = w
    a = out["a"]
    for to, text in (("+19195550123", "Hello from A"), ("+12015550101", "This one fails")):
        send(sandbox.url, DEMO, a, to, text)
    send(sandbox.url, DEMO_B, out["b"], "+19195550123", "SECRET-OF-B")
    r = control(sandbox.url, "POST", "/_sandbox/inbound", DEMO, json={"to": a["tn"], "from": "+19195550123",
                                                                       "text": "Reply to A"})
    assert r.status_code == 202, r.text
    wait_for(lambda: len(bin_events(sandbox.url, DEMO)) >= 3, what="A's three callbacks")
    return out


def send(url: str, creds: dict[str, str], w: dict[str, Any], to: str, text: str) -> str:
    r = requests.post(f"{url}/api/v2/users/{creds['account_id']}/messages", auth=_auth(creds), timeout=10,
                      json={"from": w["tn"], "to": [to], "text": text, "applicationId": w["app"]})
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def bin_events(url: str, creds: dict[str, str]) -> list[dict[str, Any]]:
    r = control(url, "GET", "/_sandbox/bins/phone", creds)
    return list(r.json().get("events") or []) if r.status_code == 200 else []


def link(url: str, creds: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    r = control(url, "POST", "/_sandbox/phone/link", creds, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def page(url: str, account: str, creds: dict[str, str] | None = None, **params: str) -> requests.Response:
    return requests.get(f"{url}/_sandbox/phone/{account}", params=params, headers=HTML, timeout=10,
                        auth=_auth(creds) if creds else None)


def token_of(answer: dict[str, Any]) -> str:
    return parse_qs(urlparse(answer["url"]).query)["t"][0]


def form_fields(text: str) -> dict[str, str]:
    form = re.search(r'<form class="reply".*?</form>', text, re.S)
    assert form, "the conversation has no reply box"
    return {m.group(1): html.unescape(m.group(2))
            for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))}


# -- who may see it -------------------------------------------------------------------------------

def test_the_page_needs_the_accounts_credentials_or_its_link(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    r = page(url, DEMO["account_id"])
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic"), "the browser asks for the account's credentials"
    assert r.headers["Content-Type"].startswith("text/html") and "Reply to A" not in r.text
    assert "credentials" in r.text
    r = page(url, DEMO["account_id"], {**DEMO, "password": "wrong"})
    assert r.status_code == 401 and "Reply to A" not in r.text
    r = page(url, DEMO["account_id"], DEMO)
    assert r.status_code == 200, r.text
    assert a["tn"] in r.text and "+19195550123" in r.text and "+12015550101" in r.text
    # the API credential (client id and secret) works in the browser's prompt too, also once API users are retired
    r = control(url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "decommissioned"})
    assert r.status_code == 200
    try:
        assert page(url, DEMO["account_id"], DEMO).status_code == 401
        r = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}", headers=HTML, timeout=10,
                         auth=(DEMO["client_id"], DEMO["client_secret"]))
        assert r.status_code == 200 and "Reply to A" in r.text
        r = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}", headers=HTML, timeout=10,
                         auth=(DEMO_B["client_id"], DEMO_B["client_secret"]))
        assert r.status_code == 403 and "Reply to A" not in r.text
        r = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}", headers=HTML, timeout=10,
                         auth=(DEMO["client_id"], "wrong"))
        assert r.status_code == 401 and "Reply to A" not in r.text
    finally:
        control(url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "allowed"})
    # a script (no text/html) gets the control plane's JSON errors
    r = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}", timeout=10)
    assert r.status_code == 401 and "error" in r.json()


def test_accounts_never_see_each_other(world: dict[str, Any]) -> None:
    url, a, b = world["url"], world["a"], world["b"]
    # B's credentials on A's page: 403, nothing of A
    r = page(url, DEMO["account_id"], DEMO_B)
    assert r.status_code == 403 and "Reply to A" not in r.text and a["tn"] not in r.text
    # A's link on B's page: refused
    token = token_of(link(url, DEMO))
    r = page(url, DEMO_B["account_id"], t=token)
    assert r.status_code == 401 and "SECRET-OF-B" not in r.text
    # B's number on A's page (credentials or link): 404, no data
    for r in (page(url, DEMO["account_id"], DEMO, number=b["tn"]),
              page(url, DEMO["account_id"], t=token, number=b["tn"])):
        assert r.status_code == 404, r.text
        assert "SECRET-OF-B" not in r.text
    # B's own page shows B's text, and not A's
    r = page(url, DEMO_B["account_id"], DEMO_B, number=b["tn"], **{"with": "+19195550123"})
    assert r.status_code == 200 and "SECRET-OF-B" in r.text and "Hello from A" not in r.text
    r = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+19195550123"})
    assert "Hello from A" in r.text and "SECRET-OF-B" not in r.text
    # a link for another account needs the admin key
    r = control(url, "POST", "/_sandbox/phone/link", DEMO, json={}, params={"accountId": DEMO_B["account_id"]})
    assert r.status_code == 403
    r = control(url, "POST", "/_sandbox/phone/link", None, json={}, params={"accountId": DEMO_B["account_id"]})
    assert r.status_code == 201 and f"/_sandbox/phone/{DEMO_B['account_id']}?" in r.json()["url"]
    # a number of B's in a link request of A's: 404
    r = control(url, "POST", "/_sandbox/phone/link", DEMO, json={"number": b["tn"]})
    assert r.status_code == 404


def test_a_signed_link_works_until_it_expires(world: dict[str, Any], sandbox: Any,
                                              sandbox_clock: SandboxClock) -> None:
    url, a = world["url"], world["a"]
    now = sandbox_clock.now()  # frozen
    answer = link(url, DEMO, ttl=120, number=a["tn"])
    assert answer["url"].startswith(f"{url}/_sandbox/phone/{DEMO['account_id']}?")
    assert answer["ttl"] == 120 and answer["expires"] == int(now) + 120
    r = requests.get(answer["url"], headers=HTML, timeout=10)
    assert r.status_code == 200 and "Reply to A" in r.text and "link valid until" in r.text
    assert "WWW-Authenticate" not in r.headers
    now = sandbox_clock.advance(119)
    assert requests.get(answer["url"], headers=HTML, timeout=10).status_code == 200, "valid until it expires"
    now = sandbox_clock.advance(1.1)
    r = requests.get(answer["url"], headers=HTML, timeout=10)
    assert r.status_code == 401 and "expired" in r.text, "expired on the sandbox's clock"
    # the same account and key, an expiry already past on the sandbox's clock: refused as expired
    key = sandbox.admin_key
    expired = models.sign_link(key, DEMO["account_id"], int(now) - 1)
    r = page(url, DEMO["account_id"], t=expired)
    assert r.status_code == 401 and "expired" in r.text and "Reply to A" not in r.text
    assert requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}/state", params={"t": expired},
                        timeout=10).status_code == 401, "the page's polling stops too"
    # a forged expiry (the signature no longer matches), another sandbox's key, garbage: refused
    later = token_of(answer).split(".")[1]
    for bad in (f"{int(now) + 10_000}.{later}", models.sign_link("another-key", DEMO["account_id"], int(now) + 60),
                "garbage", "9" * 40 + ".x"):
        r = page(url, DEMO["account_id"], t=bad)
        assert r.status_code == 401 and "Reply to A" not in r.text, bad
    # ttl bounds
    for ttl in (0, 5, 86401, "60", True):
        r = control(url, "POST", "/_sandbox/phone/link", DEMO, json={"ttl": ttl})
        assert r.status_code == 400 and "ttl" in r.json()["error"], ttl


def test_the_ticks_move_and_the_polling_stops_on_the_sandbox_clock(world: dict[str, Any],
                                                                  sandbox_clock: SandboxClock) -> None:
    url, a = world["url"], world["a"]
    answer = link(url, DEMO, ttl=60, number=a["tn"])
    assert answer["expires"] == int(sandbox_clock.now()) + 60
    state = f"{url}/_sandbox/phone/{DEMO['account_id']}/state"
    params = {"t": token_of(answer), "number": a["tn"], "with": "+19195550177"}
    # a text sent now shows "sent" until its event's time comes on the clock, then "delivered"
    send(url, DEMO, a, "+19195550177", "tick tock")
    first = requests.get(answer["url"] + "&with=%2B19195550177", headers=HTML, timeout=10)
    assert first.status_code == 200 and "✓ sent" in first.text and "✓✓ delivered" not in first.text
    version = requests.get(state, params=params, timeout=10).json()["version"]
    sandbox_clock.advance(59)
    later = requests.get(answer["url"] + "&with=%2B19195550177", headers=HTML, timeout=10)
    assert later.status_code == 200 and "✓✓ delivered" in later.text
    assert requests.get(state, params=params, timeout=10).json()["version"] != version, "the page reloads for it"
    sandbox_clock.advance(1.5)  # past the link's 60 s
    r = requests.get(answer["url"], headers=HTML, timeout=10)
    assert r.status_code == 401 and "expired" in r.text and "tick tock" not in r.text
    assert requests.get(state, params=params, timeout=10).status_code == 401
    # credentials still open it
    assert page(url, DEMO["account_id"], DEMO).status_code == 200


def test_every_answer_is_locked_down(world: dict[str, Any]) -> None:
    r = page(world["url"], DEMO["account_id"], DEMO)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "same-origin"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    scripts = re.findall(r"<script([^>]*)>", r.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts), "only the page's own script runs"
    r2 = page(world["url"], DEMO["account_id"], DEMO)
    assert re.search(r"'nonce-([^']+)'", r2.headers["Content-Security-Policy"]).group(1) != nonce  # type: ignore


# -- what it shows ----------------------------------------------------------------------------------

def test_threads_and_ticks_with_the_error_codes_meaning(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    r = page(url, DEMO["account_id"], DEMO, number=a["tn"])
    threads = re.findall(r'<span class="who">([^<]+)<', r.text)
    assert [t.strip() for t in threads] == ["+19195550123", "+12015550101"], "newest thread first"
    r = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+12015550101"})
    info = explain(4720)
    assert "✗ failed 4720" in r.text and info["name"] in r.text
    assert html.escape(info["meaning"]) in r.text, "the meaning comes from the client's table (one home)"
    assert "sandbox magic number: failed 4720" in r.text
    r = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+19195550123"})
    assert "✓✓ delivered" in r.text and "received" in r.text and "callback delivered" in r.text
    # a slow destination (magic +12015550110, slow_delivery_delay 600 s here): "sent" until its event is due
    send(url, DEMO, a, "+12015550110", "slow one")
    r = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+12015550110"})
    assert "✓ sent" in r.text and "delivered" not in r.text.split('class="msgs"')[1].split("</ol>")[0]


def test_hostile_texts_and_parameters_are_escaped(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    r = control(url, "POST", "/_sandbox/inbound", DEMO, json={"to": a["tn"], "from": "+19195550199", "text": HOSTILE})
    assert r.status_code == 202
    send(url, DEMO, a, "+19195550199", HOSTILE)
    for params in ({"number": a["tn"]}, {"number": a["tn"], "with": "+19195550199"}):
        text = page(url, DEMO["account_id"], DEMO, **params).text
        assert "<img src=x" not in text and "<script>alert" not in text and "</textarea><script>" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    for bad in ('"><script>alert(1)</script>', "<b>x</b>"):
        r = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": bad})
        assert r.status_code == 400 and "<script>alert(1)" not in r.text and "<b>x" not in r.text
        assert "E.164" in r.text
        r = page(url, DEMO["account_id"], DEMO, number=bad)
        assert r.status_code == 404 and "<script>alert(1)" not in r.text and "<b>x" not in r.text


def test_bidi_controls_in_a_text_are_shown_by_name_on_the_page(world: dict[str, Any]) -> None:
    """A reply "\u202eevil reply" would read "ylper live" on the page (review 24c, finding 10): the page names the
    control, ⟨U+202E⟩, as the notebooks' tables do; the stored text is unchanged."""
    url, a = world["url"], world["a"]
    text = "\u202eevil reply\u202c"
    r = control(url, "POST", "/_sandbox/inbound", DEMO, json={"to": a["tn"], "from": "+19195550177", "text": text})
    assert r.status_code == 202, r.text
    for params in ({"number": a["tn"]}, {"number": a["tn"], "with": "+19195550177"}):
        shown = page(url, DEMO["account_id"], DEMO, **params).text
        assert "\u202e" not in shown and "\u202c" not in shown
        assert "⟨U+202E⟩evil reply⟨U+202C⟩" in shown
    stored = control(url, "GET", "/_sandbox/messages", DEMO).json()
    assert any(m.get("text") == text for m in stored.get("messages", stored if isinstance(stored, list) else []))


# -- the reply box ----------------------------------------------------------------------------------

def test_a_reply_from_the_page_is_a_message_received_with_its_callback(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    answer = link(url, DEMO, number=a["tn"])
    token = token_of(answer)
    view = requests.get(answer["url"] + "&with=%2B19195550123", headers=HTML, timeout=10)
    fields = form_fields(view.text)
    assert fields["with"] == "+19195550123" and fields["number"] == a["tn"] and fields["t"] == token
    before = len(bin_events(url, DEMO))
    state = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}/state", timeout=10,
                         params={"t": token, "number": a["tn"], "with": "+19195550123"}).json()
    r = requests.post(f"{url}/_sandbox/phone/{DEMO['account_id']}/reply", data={**fields, "text": "From the page"},
                      headers=HTML, timeout=10, allow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith(f"/_sandbox/phone/{DEMO['account_id']}?")
    events = wait_for(lambda: [e for e in bin_events(url, DEMO) if e["message"].get("text") == "From the page"],
                      what="the reply's message-received callback")
    assert events[0]["type"] == "message-received" and events[0]["to"] == a["tn"]
    assert events[0]["message"]["from"] == "+19195550123" and len(bin_events(url, DEMO)) == before + 1
    # the same row POST /_sandbox/inbound makes: in the control plane's messages, and on the page
    msgs = control(url, "GET", "/_sandbox/messages", DEMO).json()["messages"]
    assert any(m["text"] == "From the page" and m["direction"] == "in" for m in msgs)
    after = requests.get(f"{url}{r.headers['Location']}", headers=HTML, timeout=10)
    assert "From the page" in after.text
    state2 = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}/state", timeout=10,
                          params={"t": token, "number": a["tn"], "with": "+19195550123"}).json()
    assert state2["version"] != state["version"], "the polling script sees the change"


def test_a_group_thread_has_a_reply_box_that_answers_in_the_group(world: dict[str, Any]) -> None:
    """A group conversation (a text to two people) offers a reply box that names who writes: the reply is a group
    message-received (``message.to`` the account's number and the other person) and lands in the same thread."""
    url, a = world["url"], world["a"]
    group = ["+19195550123", "+19195550124"]
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=_auth(DEMO), timeout=10,
                      json={"from": a["tn"], "to": group, "text": "Hello both", "applicationId": a["app"]})
    assert r.status_code == 202, r.text
    view = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": ",".join(group)})
    fields = form_fields(view.text)
    assert fields["with"] == ",".join(group)
    assert re.search(r'<select id="as" name="as">.*\+19195550124.*</select>', view.text, re.S), "who writes"
    reply = f"{url}/_sandbox/phone/{DEMO['account_id']}/reply"
    r = requests.post(reply, data={**fields, "as": "+19195550999", "text": "not in the group"}, auth=_auth(DEMO),
                      headers=HTML, timeout=10)
    assert r.status_code == 400 and "as:" in r.text
    r = requests.post(reply, data={**fields, "as": "+19195550124", "text": "Hi from the group"}, auth=_auth(DEMO),
                      headers=HTML, timeout=10, allow_redirects=False)
    assert r.status_code == 303, r.text
    events = wait_for(lambda: [e for e in bin_events(url, DEMO) if e["message"].get("text") == "Hi from the group"],
                      what="the group reply's message-received")
    message = events[0]["message"]
    assert events[0]["type"] == "message-received" and events[0]["to"] == a["tn"]
    assert message["from"] == "+19195550124" and sorted(message["to"]) == sorted([a["tn"], "+19195550123"])
    after = requests.get(f"{url}{r.headers['Location']}", headers=HTML, timeout=10, auth=_auth(DEMO))
    assert "Hi from the group" in after.text and "Hello both" in after.text, "one thread for the group"


def test_the_reply_box_refuses_forged_and_bad_posts(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    fields = form_fields(page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+19195550123"}).text)
    reply = f"{url}/_sandbox/phone/{DEMO['account_id']}/reply"
    before = len(bin_events(url, DEMO))
    # no token (a form another site could post with the browser's saved credentials): refused
    no_token = {k: v for k, v in fields.items() if k != "_csrf"}
    r = requests.post(reply, data={**no_token, "text": "forged"}, auth=_auth(DEMO), headers=HTML, timeout=10)
    assert r.status_code == 403 and "_csrf" in r.text
    r = requests.post(reply, data={**fields, "_csrf": "x" * 24, "text": "forged"}, auth=_auth(DEMO), timeout=10)
    assert r.status_code == 403
    # B's page token on A's page: refused
    b_fields = form_fields(page(url, DEMO_B["account_id"], DEMO_B, number=world["b"]["tn"],
                                **{"with": "+19195550123"}).text)
    r = requests.post(reply, data={**fields, "_csrf": b_fields["_csrf"], "text": "forged"}, auth=_auth(DEMO),
                      timeout=10)
    assert r.status_code == 403
    # another site's Origin: refused even with the token
    r = requests.post(reply, data={**fields, "text": "forged"}, headers={"Origin": "https://evil.example"},
                      timeout=10)
    assert r.status_code == 403
    # text/plain (what a cross-site form can also send): refused
    r = requests.post(reply, data="text=forged", headers={"Content-Type": "text/plain"}, auth=_auth(DEMO), timeout=10)
    assert r.status_code == 415
    # the right token but no credentials and no link: 401
    r = requests.post(reply, data={k: v for k, v in fields.items() if k != "t"} | {"text": "forged"}, timeout=10)
    assert r.status_code == 401
    # bad input is shown on the page, with the typed text kept
    r = requests.post(reply, data={**fields, "with": "not a number", "text": "kept <b>"}, auth=_auth(DEMO),
                      headers=HTML, timeout=10)
    assert r.status_code == 400 and "from:" in r.text and "E.164" in r.text
    r = requests.post(reply, data={**fields, "text": ""}, auth=_auth(DEMO), headers=HTML, timeout=10)
    assert r.status_code == 400 and "text" in r.text
    r = requests.post(reply, data={**fields, "number": world["b"]["tn"], "text": "to B"}, auth=_auth(DEMO),
                      headers=HTML, timeout=10)
    assert r.status_code == 400 and "not a number of your account" in r.text
    assert len(bin_events(url, DEMO)) == before, "nothing was sent"
    assert not any(e["message"].get("text") in ("forged", "to B") for e in bin_events(url, DEMO_B))
    # JSON (scripts) takes the same path as POST /_sandbox/inbound
    r = requests.post(reply, json={"to": a["tn"], "from": "+19195550123", "text": "json reply"}, auth=_auth(DEMO),
                      timeout=10)
    assert r.status_code == 202 and r.json()["message"]["text"] == "json reply"
    r = requests.post(reply, json={"to": world["b"]["tn"], "from": "+19195550123", "text": "x"}, auth=_auth(DEMO),
                      timeout=10)
    assert r.status_code == 404


def test_the_client_gives_the_link(world: dict[str, Any], sandbox: Any) -> None:
    from _client_helpers import config_for

    from bwhelpers.exceptions import ValidationError
    from bwhelpers.sandbox_control import SandboxControl

    control_ = SandboxControl(config_for(sandbox))
    doc = control_.phone_link(ttl=60, number=world["a"]["tn"])
    assert doc["ttl"] == 60 and "number=%2B1" in doc["url"]
    assert requests.get(doc["url"], headers=HTML, timeout=10).status_code == 200
    with pytest.raises(ValidationError) as exc:
        control_.phone_link(ttl=5)
    assert exc.value.field == "ttl"


@pytest.mark.slow
def test_the_notebook_cell_shows_a_link_that_opens_the_phone(setup: Any, isolated_env: Any, sandbox: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``page.phone_link()`` in a real kernel (as the send_message and message_events notebooks run it)."""
    import nbformat

    from bwhelpers.notebooks import notebook_client

    for call in (setup.create_application, setup.create_location, setup.enable_sms, setup.enable_mms,
                 setup.assign_application, setup.order_numbers, setup.wait_for_order):
        call()
    number = setup.saved["numbers"][0]
    setup.send_message("+19195550123", "seen on the phone")
    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("BW_STATE_FILE", str(setup.state.path))
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"from bwhelpers.walkthrough import Page\npage = Page({'messages'!r})"),
        nbformat.v4.new_code_cell("page.phone_link()")])
    path = isolated_env / "phone.ipynb"
    nbformat.write(notebook, path)
    client = notebook_client(notebook, path, timeout=120)
    client.execute()
    outputs = notebook.cells[1].outputs
    assert [o["output_type"] for o in outputs] == ["display_data"], outputs  # the callout only, no repr after it
    shown = outputs[0]["data"]["text/html"]
    found = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer">', shown)
    assert found, shown
    url = html.unescape(found.group(1))
    assert url.startswith(f"{sandbox.url}/_sandbox/phone/{DEMO['account_id']}?") and "until" in shown
    assert f"the phone of {number}" in shown
    view = requests.get(url + "&with=%2B19195550123", headers=HTML, timeout=10)
    assert view.status_code == 200 and "seen on the phone" in view.text


# -- pictures -------------------------------------------------------------------------------------

def test_a_picture_reply_arrives_as_mms_and_shows_inline_only_to_its_account(world: dict[str, Any]) -> None:
    from bwhelpers.sandbox.media import models as media_models

    url, a = world["url"], world["a"]
    answer = link(url, DEMO, number=a["tn"])
    fields = form_fields(requests.get(answer["url"] + "&with=%2B19195550123", headers=HTML, timeout=10).text)
    reply = f"{url}/_sandbox/phone/{DEMO['account_id']}/reply"
    own = media_models.sample_bytes("balloons")
    r = requests.post(reply, data={**fields, "text": "", "sample": "sunset"}, timeout=10, allow_redirects=False,
                      files={"picture": ("my photo (1).png", own, "image/png")})
    assert r.status_code == 303, r.text
    events = wait_for(lambda: [e for e in bin_events(url, DEMO) if e["message"].get("media")],
                      what="the picture's message-received")
    media = events[0]["message"]["media"]
    assert events[0]["type"] == "message-received" and len(media) == 2
    assert all(m.startswith(f"{url}/api/v2/users/{DEMO['account_id']}/media/") for m in media)
    assert media[1].endswith("/1/my_photo__1_.png")
    # the media endpoint needs the account's credentials, as on Bandwidth; the bytes are the ones sent
    assert requests.get(media[0], timeout=10).status_code == 401
    got = requests.get(media[1], auth=_auth(DEMO), timeout=10)
    assert got.status_code == 200 and got.content == own
    # the page shows both inline through its own route (the link's token, never the API's credentials)
    view = requests.get(f"{url}{r.headers['Location']}", headers=HTML, timeout=10)
    images = [html.unescape(src) for src in re.findall(r'<img src="([^"]+)"', view.text)]
    assert len(images) == 2 and all(src.startswith(f"/_sandbox/phone/{DEMO['account_id']}/media/") for src in images)
    picture = requests.get(f"{url}{images[1]}", timeout=10)
    assert picture.status_code == 200 and picture.content == own
    assert picture.headers["Content-Type"] == "image/png" and picture.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in picture.headers["Content-Security-Policy"]
    assert requests.get(f"{url}{images[0]}", timeout=10).content == media_models.sample_bytes("sunset")
    bare = images[1].split("?")[0]
    assert requests.get(f"{url}{bare}", timeout=10).status_code == 401
    assert requests.get(f"{url}{bare}", auth=_auth(DEMO_B), timeout=10).status_code == 403
    # B's account path with A's media id: nothing (B has no such media), and A's link does not open B's path
    b_path = bare.replace(f"/phone/{DEMO['account_id']}/", f"/phone/{DEMO_B['account_id']}/")
    assert requests.get(f"{url}{b_path}", auth=_auth(DEMO_B), timeout=10).status_code == 404
    assert requests.get(f"{url}{b_path}?t={token_of(answer)}", timeout=10).status_code == 401
    for bad in ("..%2F..%2Fetc", "a/../b", "%2e%2e/x"):
        r = requests.get(f"{url}/_sandbox/phone/{DEMO['account_id']}/media/{bad}", auth=_auth(DEMO), timeout=10)
        assert r.status_code == 404, bad


def test_pictures_that_are_not_shown_inline(world: dict[str, Any]) -> None:
    url, a = world["url"], world["a"]
    fields = form_fields(page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+19195550123"}).text)
    reply = f"{url}/_sandbox/phone/{DEMO['account_id']}/reply"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = requests.post(reply, data={**fields, "text": "an svg"}, auth=_auth(DEMO), headers=HTML, timeout=10,
                      files={"picture": ("x.svg", svg, "image/svg+xml")})
    assert r.status_code == 200 and "an svg" in r.text  # followed the 303
    assert "<img" not in r.text.split("an svg")[1].split("</li>")[0], "an SVG is never shown inline"
    href = html.unescape(re.findall(r'<a class="file" href="([^"]+)"', r.text)[-1])
    got = requests.get(f"{url}{href}", auth=_auth(DEMO), timeout=10)
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment")
    # a type the Media API does not take, and an upload over 3.5 MB: refused with the reason, nothing sent
    wait_for(lambda: [e for e in bin_events(url, DEMO) if e["message"].get("text") == "an svg"], what="the svg")
    before = len(bin_events(url, DEMO))
    r = requests.post(reply, data={**fields, "text": "exe"}, auth=_auth(DEMO), headers=HTML, timeout=10,
                      files={"picture": ("x.exe", b"MZ", "application/x-msdownload")})
    assert r.status_code == 400 and "contentType" in r.text
    r = requests.post(reply, data={**fields, "text": "big"}, auth=_auth(DEMO), headers=HTML, timeout=30,
                      files={"picture": ("big.png", b"\0" * (3_670_016 + 70_000), "image/png")})
    assert r.status_code == 413 and "3.5 MB" in r.text
    r = requests.post(reply, data={**fields, "sample": "nope"}, auth=_auth(DEMO), headers=HTML, timeout=10)
    assert r.status_code == 400 and "sample" in r.text
    assert len(bin_events(url, DEMO)) == before
    # a sent MMS whose media is elsewhere is linked, never loaded by the page
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=_auth(DEMO), timeout=10,
                      json={"from": a["tn"], "to": ["+19195550188"], "text": "look",
                            "media": ["https://example.com/cat.jpg"], "applicationId": a["app"]})
    assert r.status_code == 202, r.text
    view = page(url, DEMO["account_id"], DEMO, number=a["tn"], **{"with": "+19195550188"}).text
    assert "cat.jpg on another site (not loaded here)" in view and 'src="https://example.com' not in view
