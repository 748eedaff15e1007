"""Wire fidelity against Bandwidth's own specs (issue 14).

The oracle of every test here is Bandwidth's text, parsed at test time, never a restatement of it:
``numbers.yml`` / ``messaging.yml`` examples, the error tables of ``numbers-errors.mdx`` and the request
examples of ``messaging-webhooks.mdx`` / ``messaging-createMessage.mdx``. They are Bandwidth's public files,
kept unchanged in ``tests/data/specs/`` (where each came from: ``tests/data/specs/SOURCES.md``);
``$BW_SPECS_DIR`` points the tests at another copy, e.g. a newer one.
"""
from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import xmltodict
import yaml

from bwhelpers.sandbox import DEMO
from bwhelpers.sandbox.dashboard import exceptions as dexc
from bwhelpers.sandbox.db import Database
from bwhelpers.sandbox.messaging import models as mmodels
from conftest import SandboxClock, control

A_AUTH = (DEMO["username"], DEMO["password"])


SPECS = Path(os.environ.get("BW_SPECS_DIR") or Path(__file__).parent / "data" / "specs")
if not (SPECS / "numbers.yml").is_file():  # a missing oracle fails loudly, it never skips
    raise FileNotFoundError(f"Bandwidth's specs are not in {SPECS}: restore tests/data/specs/ or set BW_SPECS_DIR")


@functools.cache
def spec(name: str) -> dict[str, Any]:
    return yaml.load((SPECS / name).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def text(name: str) -> str:
    return (SPECS / name).read_text()


def xml_example(path: str, method: str, status: str | None = None, name: str | None = None,
                request: bool = False) -> dict[str, Any]:
    """A numbers.yml XML example (response ``status`` or the request body), parsed."""
    op = spec("numbers.yml")["paths"][path][method]
    content = op["requestBody"]["content"] if request else op["responses"][status]["content"]
    examples = content["application/xml"]["examples"]
    value = examples[name or next(iter(examples))]["value"]
    return xmltodict.parse(value)


def documented_error(code: int) -> str:
    """The text of ``code`` in numbers-errors.mdx's table."""
    m = re.search(rf"^\| {code} \| (.+?) \|$", text("numbers-errors.mdx"), re.MULTILINE)
    assert m, f"{code} is not in numbers-errors.mdx"
    return m.group(1).replace("\\_", "_")


def documented_codes() -> set[int]:
    return {int(c) for c in re.findall(r"^\| (\d+) \|", text("numbers-errors.mdx"), re.MULTILINE)}


def parse(r: requests.Response) -> dict[str, Any]:
    return xmltodict.parse(r.content)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def bin_url(url: str, name: str) -> str:
    return f"{url}/_sandbox/bins/{name}"


def bin_events(url: str, name: str) -> list[dict[str, Any]]:
    return requests.get(bin_url(url, name), auth=A_AUTH, timeout=5).json()["events"]  # A's own bin


def wait_for(fn: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    end = time.time() + timeout
    while time.time() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def messaging_world(dash: Any, app_xml: str) -> dict[str, Any]:
    """Guide steps 2-7 around an application created from ``app_xml``."""
    r = dash.post("/applications", app_xml)
    assert r.status_code == 201, r.text
    app = parse(r)["ApplicationProvisioningResponse"]["Application"]["ApplicationId"]
    peer = dash.create_peer()
    dash.enable_sms(peer)
    dash.enable_mms(peer)
    assert dash.assign(peer, app).status_code == 200
    return {"app": app, "peer": peer, "tns": dash.order_numbers(peer)}


# == mismatch 1: GET /disconnects items ==========================================================

def test_disconnect_list_items_have_the_specs_element_names(dash: Any) -> None:
    example = xml_example("/accounts/{accountId}/disconnects", "get", "200")
    spec_item = _list(example["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["OrderIdUserIdDate"])[0]
    tns = dash.order_numbers(dash.create_peer(), quantity=2)
    r = dash.post("/disconnects", "<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType>"
                                  f"<TelephoneNumberList><TelephoneNumber>{tns[0]}</TelephoneNumber>"
                                  f"<TelephoneNumber>{tns[1]}</TelephoneNumber></TelephoneNumberList>"
                                  "</DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>")
    assert r.status_code == 201, r.text
    got = parse(dash.get("/disconnects"))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]
    item = _list(got["OrderIdUserIdDate"])[0]
    assert list(item) == list(spec_item)  # OrderId (capital O), TelephoneNumberDetails, in the spec's order
    assert item["OrderId"] == parse(r)["DisconnectTelephoneNumberOrderResponse"]["orderRequest"]["id"]
    assert item["CountOfTNs"] == "2"
    # TelephoneNumberDetails: the children of the GET /orders example (the disconnect example snips them)
    orders = xml_example("/accounts/{accountId}/orders", "get", "200")
    spec_details = next(o["TelephoneNumberDetails"] for o in _list(
        orders["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["OrderIdUserIdDate"]) if "TelephoneNumberDetails" in o)
    assert set(item["TelephoneNumberDetails"]) == set(spec_details)
    states = _list(item["TelephoneNumberDetails"]["States"]["StateWithCount"])
    assert sum(int(s["Count"]) for s in states) == 2 and set(states[0]) == set(
        _list(spec_details["States"]["StateWithCount"])[0])


# == mismatch 2: associatedsippeers of an unknown application ====================================

def test_associated_sippeers_of_unknown_app_is_the_specs_404(dash: Any) -> None:
    example = xml_example("/accounts/{accountId}/applications/{applicationId}/associatedsippeers", "get", "404")
    root = next(iter(example))
    r = dash.get("/applications/non_existing/associatedsippeers")
    assert r.status_code == 404
    body = parse(r)
    assert list(body) == [root]
    assert body[root]["ResponseStatus"] == example[root]["ResponseStatus"]  # the example's own id: non_existing


# == mismatch 3: unknown site ====================================================================

def test_unknown_site_is_12016_with_the_documented_text(dash: Any) -> None:
    example = xml_example("/accounts/{accountId}/sites/{siteId}", "get", "404")
    r = dash.get("/sites/3014")
    assert r.status_code == 404
    assert parse(r) == example  # the example asks for site 3014: code, text and root all match
    assert example["SiteResponse"]["ResponseStatus"]["Description"] == documented_error(12016).replace("%s", "3014")


# == mismatch 4: the 202 always carries "priority" ==============================================

def test_send_202_has_the_docs_keys_and_default_priority(dash: Any) -> None:
    m = re.search(r"HTTP/1.1 202 Accepted\s+Content-Type: application/json\s+(\{.*?\n\})", text(
        "messaging-createMessage.mdx"), re.DOTALL)
    assert m
    example = json.loads(m.group(1))
    r = requests.post(f"{dash.url}/api/v2/users/{DEMO['account_id']}/messages", auth=A_AUTH, timeout=10,
                      json={"to": ["+19195550100"], "from": "+19195550199", "text": "Hello World",
                            "applicationId": "93de2206-9669-4e07-948d-329f4b722ee", "tag": example["tag"]})
    assert r.status_code == 202, r.text
    body = r.json()
    assert list(body) == list(example) and body["priority"] == example["priority"] == "default"


# == mismatches 5 and 7, and today's application fields =========================================

def _app_shape(app: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in app.items() if k != "ApplicationId"}


def test_create_application_with_the_specs_messaging_example(dash: Any) -> None:
    path = "/accounts/{accountId}/applications"
    request = xml_example(path, "post", request=True, name="messaging")
    expected = xml_example(path, "post", "201", name="messaging")["ApplicationProvisioningResponse"]["Application"]
    assert request["Application"]["ServiceType"] == "Messaging"  # mismatch 7: the spec's own example
    r = dash.post("/applications", xmltodict.unparse(request))
    assert r.status_code == 201, r.text
    got = parse(r)["ApplicationProvisioningResponse"]["Application"]
    assert _app_shape(got) == _app_shape(expected)  # MsgCallbackUrl/MsgCallbackCreds echoed, order and values
    assert "Password" not in r.text
    again = parse(dash.get(f"/applications/{got['ApplicationId']}"))["ApplicationProvisioningResponse"]
    assert list(again["Application"]) == list(expected)


def test_update_application_with_the_specs_put_example(dash: Any) -> None:
    path = "/accounts/{accountId}/applications/{applicationId}"
    app_id = dash.create_app()
    request = xml_example(path, "put", request=True, name="messaging")
    expected = xml_example(path, "put", "200", name="messaging")["ApplicationProvisioningResponse"]["Application"]
    r = dash.put(f"/applications/{app_id}", xmltodict.unparse(request))
    assert r.status_code == 200, r.text
    got = parse(r)["ApplicationProvisioningResponse"]["Application"]
    assert list(got) == list(expected)
    for key in ("MsgCallbackUrl", "InboundCallbackUrl", "OutboundCallbackUrl", "RequestedCallbackTypes"):
        assert got[key] == expected[key]


def test_legacy_callback_url_app_also_answers_msg_callback_url(dash: Any) -> None:
    app_id = dash.create_app(url="https://example.com/cb")
    app = parse(dash.get(f"/applications/{app_id}"))["ApplicationProvisioningResponse"]["Application"]
    assert app["CallbackUrl"] == app["MsgCallbackUrl"] == "https://example.com/cb"  # the Node SDK reads the latter


@pytest.mark.parametrize("code,body", [
    (13065, ("<MsgCallbackUrl>https://a.example/x</MsgCallbackUrl>"
             "<InboundCallbackUrl>https://a.example/y</InboundCallbackUrl>")),
    (13065, ("<InboundCallbackUrl>https://a.example/y</InboundCallbackUrl>"
             "<MsgCallbackUrl>https://a.example/x</MsgCallbackUrl><OutboundCallbackUrl>https://a.example/z"
             "</OutboundCallbackUrl>")),
    (13066, ("<InboundCallbackUrl>https://a.example/y</InboundCallbackUrl>"
             "<CallbackCreds><UserId>u</UserId><Password>p</Password></CallbackCreds>"
             "<OutboundCallbackCreds><UserId>u</UserId><Password>p</Password></OutboundCallbackCreds>")),
])
def test_mixing_deprecated_and_current_fields_is_the_documented_error(dash: Any, code: int, body: str) -> None:
    r = dash.post("/applications", f"<Application><AppName>mix</AppName>{body}</Application>")
    assert r.status_code == 400, r.text
    status = parse(r)["ApplicationProvisioningResponse"]["ResponseStatus"]
    assert status["ErrorCode"] == str(code)
    assert status["Description"].startswith(documented_error(code).rstrip("."))


def test_inbound_events_go_to_the_inbound_url_and_status_events_to_the_outbound_url(dash: Any) -> None:
    url = dash.url
    w = messaging_world(dash, "<Application><ServiceType>Messaging</ServiceType><AppName>Routed</AppName>"
                              f"<InboundCallbackUrl>{bin_url(url, 'fid-in')}</InboundCallbackUrl>"
                              f"<OutboundCallbackUrl>{bin_url(url, 'fid-out')}</OutboundCallbackUrl></Application>")
    tn = "+1" + w["tns"][0]
    sent = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=A_AUTH, timeout=10,
                         json={"to": ["+19195550100"], "from": tn, "text": "hi", "applicationId": w["app"]})
    assert sent.status_code == 202, sent.text
    out = wait_for(lambda: bin_events(url, "fid-out"), what="the status callback")
    assert [e["type"] for e in out] == ["message-delivered"]
    r = control(url, "POST", "/_sandbox/inbound", json={"to": tn, "from": "+19195550100", "text": "back"}, timeout=10)
    assert r.status_code == 202, r.text
    inbound = wait_for(lambda: bin_events(url, "fid-in"), what="the inbound callback")
    assert [e["type"] for e in inbound] == ["message-received"]
    assert [e["type"] for e in bin_events(url, "fid-out")] == ["message-delivered"]  # nothing inbound went there


def test_requested_callback_types_limit_the_status_events(dash: Any) -> None:
    url = dash.url
    w = messaging_world(dash, "<Application><AppName>OnlyFailed</AppName>"
                              f"<InboundCallbackUrl>{bin_url(url, 'fid-types')}</InboundCallbackUrl>"
                              "<RequestedCallbackTypes><CallbackType>message-failed</CallbackType>"
                              "</RequestedCallbackTypes></Application>")
    failing = next(m["number"] for m in requests.get(f"{url}/_sandbox/magic-numbers", timeout=5).json()["to_numbers"]
                   if m["outcome"] == "failed")
    tn = "+1" + w["tns"][0]
    for to in ("+19195550100", failing):
        r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=A_AUTH, timeout=10,
                          json={"to": [to], "from": tn, "text": "hi", "applicationId": w["app"]})
        assert r.status_code == 202, r.text
    events = wait_for(lambda: bin_events(url, "fid-types"), what="the failed callback")

    def not_requested() -> bool:  # the delivered event was settled as not requested: it will never be sent
        notes = control(url, "GET", "/_sandbox/callbacks", params={"type": "message-delivered"}, timeout=5).json()
        return any("RequestedCallbackTypes" in (a["error"] or "") for a in notes["attempts"])

    wait_for(not_requested, what="the delivered event settled as not requested")
    assert [e["type"] for e in bin_events(url, "fid-types")] == ["message-failed"]
    assert events[0]["to"] == failing


# == mismatch 6: DisconnectMode ==================================================================

def test_disconnect_order_echoes_the_specs_order_type_elements(dash: Any) -> None:
    path = "/accounts/{accountId}/disconnects"
    request = xml_example(path, "post", request=True)
    expected = xml_example(path, "post", "201")["DisconnectTelephoneNumberOrderResponse"]
    tns = dash.order_numbers(dash.create_peer(), quantity=3)
    request["DisconnectTelephoneNumberOrder"]["DisconnectTelephoneNumberOrderType"]["TelephoneNumberList"][
        "TelephoneNumber"] = tns
    r = dash.post("/disconnects", xmltodict.unparse(request))
    assert r.status_code == 201, r.text
    got = parse(r)["DisconnectTelephoneNumberOrderResponse"]
    assert list(got) == list(expected)
    assert set(got["orderRequest"]) == set(expected["orderRequest"])
    kind, spec_kind = (x["orderRequest"]["DisconnectTelephoneNumberOrderType"] for x in (got, expected))
    assert list(kind) == list(spec_kind) and kind["DisconnectMode"] == spec_kind["DisconnectMode"] == "normal"
    view = parse(dash.get(f"/disconnects/{got['orderRequest']['id']}"))["DisconnectTelephoneNumberOrderResponse"]
    spec_view = xml_example(path + "/{disconnectId}", "get", "200")["DisconnectTelephoneNumberOrderResponse"]
    assert set(spec_view) <= set(view)  # DisconnectedTelephoneNumberList, orderRequest, OrderStatus
    assert _list(view["DisconnectedTelephoneNumberList"]["TelephoneNumber"]) == tns


# == mismatch 10: a number not on the account fails the order later ==============================

def test_disconnect_of_a_number_not_on_the_account_is_accepted_then_fails_5006(dash: Any) -> None:
    r = dash.post("/disconnects", "<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType>"
                                  "<TelephoneNumberList><TelephoneNumber>9192755703</TelephoneNumber>"
                                  "</TelephoneNumberList></DisconnectTelephoneNumberOrderType>"
                                  "</DisconnectTelephoneNumberOrder>")
    assert r.status_code == 201, r.text
    assert parse(r)["DisconnectTelephoneNumberOrderResponse"]["OrderStatus"] == "RECEIVED"
    oid = parse(r)["DisconnectTelephoneNumberOrderResponse"]["orderRequest"]["id"]
    got = parse(dash.get(f"/disconnects/{oid}"))["DisconnectTelephoneNumberOrderResponse"]
    assert got["OrderStatus"] == "FAILED"
    error = _list(got["ErrorList"]["Error"])[0]
    assert error["Code"] == "5006" and error["TelephoneNumber"] == "9192755703"
    assert documented_error(5006) == "TelephoneNumber Disconnect Error"


# == mismatch 8: pageToken is an opaque string ===================================================

def test_list_messages_page_token_is_opaque_and_pages_without_overlap(dash: Any) -> None:
    param = spec("messaging.yml")["components"]["parameters"]["pageToken"]
    assert param["schema"]["type"] == "string"
    base = f"{dash.url}/api/v2/users/{DEMO['account_id']}/messages"
    for i in range(5):
        r = requests.post(base, auth=A_AUTH, timeout=10, json={"to": [f"+1919555{i:04d}"], "from": "+19195550199",
                                                               "text": f"p{i}", "applicationId": "x"})
        assert r.status_code == 202
    bad = requests.get(base, params={"pageToken": param["example"]}, auth=A_AUTH, timeout=5)
    assert bad.status_code == 400 and bad.json()["fieldErrors"][0]["fieldName"] == "pageToken"
    seen: list[str] = []
    doc = requests.get(base, params={"limit": 2}, auth=A_AUTH, timeout=5).json()
    pages = [doc]
    while doc["pageInfo"].get("nextPageToken"):
        token = doc["pageInfo"]["nextPageToken"]
        assert isinstance(token, str) and not token.isdigit()
        doc = requests.get(base, params={"limit": 2, "pageToken": token}, auth=A_AUTH, timeout=5).json()
        pages.append(doc)
    for page in pages:
        assert page["totalCount"] == 5
        seen += [m["destinationTn"] for m in page["messages"]]
    assert seen == [f"+1919555{i:04d}" for i in reversed(range(5))]  # newest first, each once
    assert set(pages[-1]["pageInfo"]) == {"prevPage", "prevPageToken"}
    back = requests.get(pages[-1]["pageInfo"]["prevPage"], auth=A_AUTH, timeout=5).json()
    assert [m["destinationTn"] for m in back["messages"]] == [m["destinationTn"] for m in pages[-2]["messages"]]
    assert set(spec("messaging.yml")["components"]["schemas"]["pageInfo"]["properties"]) >= set(
        pages[1]["pageInfo"])


# == mismatch 9: callbacks carry charset=utf-8 ===================================================

def test_callback_requests_have_the_docs_content_type(dash: Any) -> None:
    documented = set(re.findall(r"^Content-Type: (.+)$", text("messaging-webhooks.mdx"), re.MULTILINE))
    assert len(documented) == 1
    url = dash.url
    w = messaging_world(dash, f"<Application><AppName>Ct</AppName><CallbackUrl>{bin_url(url, 'fid-ct')}"
                              "</CallbackUrl></Application>")
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=A_AUTH, timeout=10,
                      json={"to": ["+19195550100"], "from": "+1" + w["tns"][0], "text": "hi",
                            "applicationId": w["app"]})
    assert r.status_code == 202
    req = wait_for(lambda: requests.get(bin_url(url, "fid-ct"), auth=A_AUTH, timeout=5).json()["requests"], what="a callback")[0]
    assert req["headers"]["Content-Type"] == documented.pop()


# == sandbox exceptions are classes with documented codes =======================================

def test_every_dashboard_error_class_uses_a_documented_code_or_says_it_is_the_sandboxs() -> None:
    documented = documented_codes()
    classes = [getattr(dexc, n) for n in dexc.__all__]
    assert len(classes) > 30
    for cls in classes:
        code = getattr(cls, "code_value", None) or getattr(cls, "code", None)
        if not isinstance(code, int) or code < 1000:
            continue  # HTTP-status-like codes (404, 405) and run-time codes
        assert code in documented or "sandbox code" in (cls.__doc__ or ""), cls.__name__
    assert dexc.SiteNotFound("1").code == "12016" and dexc.SiteNotFound("1").status == 404
    assert dexc.AssociatedAppNotFound("x").root == "AssociatedSipPeersResponse"


# == control plane paging, retention, VACUUM =====================================================

def test_sandbox_messages_and_callbacks_are_paged_not_cut(dash: Any) -> None:
    url = dash.url
    base = f"{url}/api/v2/users/{DEMO['account_id']}/messages"
    ids = [requests.post(base, auth=A_AUTH, timeout=10, json={"to": ["+19195550100"], "from": "+19195550199",
                                                              "text": f"c{i}", "applicationId": "x"}).json()["id"]
           for i in range(5)]
    got: list[str] = []
    params: dict[str, Any] = {"accountId": DEMO["account_id"], "limit": 2}
    while True:
        doc = control(url, "GET", "/_sandbox/messages", params=params, timeout=5).json()
        got = [m["id"] for m in doc["messages"]] + got
        if doc["next"] is None:
            break
        params["before"] = doc["next"]
    assert got == ids
    attempts: list[int] = []
    params = {"accountId": DEMO["account_id"], "limit": 2}
    while True:
        doc = control(url, "GET", "/_sandbox/callbacks", params=params, timeout=5).json()
        attempts = [a["id"] for a in doc["attempts"]] + attempts
        if doc["next"]["before"] is None:
            break
        params["before"] = doc["next"]["before"]
    assert len(attempts) == len(set(attempts)) == 5  # one "cannot be delivered" note per message
    assert control(url, "GET", "/_sandbox/messages", params={"limit": "0"}, timeout=5).status_code == 400


def test_retention_prunes_delivered_callbacks_and_bin_requests(dash: Any, sandbox_clock: SandboxClock) -> None:
    url = dash.url
    assert control(url, "GET", "/_sandbox/settings", timeout=5).json()["retention"] is None  # off by default
    w = messaging_world(dash, f"<Application><AppName>Ret</AppName><CallbackUrl>{bin_url(url, 'fid-ret')}"
                              "</CallbackUrl></Application>")

    def send_delivered() -> str:
        r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=A_AUTH, timeout=10,
                          json={"to": ["+19195550100"], "from": "+1" + w["tns"][0], "text": "hi",
                                "applicationId": w["app"]})
        mid = r.json()["id"]
        sandbox_clock.advance(1)  # past the delivery delay (0.2 s)
        wait_for(lambda: [c for c in callbacks_of(mid) if c["status"] == "delivered"], what="the delivered callback")
        return str(mid)

    def callbacks_of(mid: str) -> list[dict[str, Any]]:
        return control(url, "GET", "/_sandbox/callbacks", params={"messageId": mid}, timeout=5).json()["callbacks"]

    first = send_delivered()
    assert control(url, "PUT", "/_sandbox/settings", json={"retention": -1}, timeout=5).status_code == 400
    assert control(url, "PUT", "/_sandbox/settings", json={"retention": 3600}, timeout=5).status_code == 200
    try:
        sandbox_clock.advance(3000)
        # the dispatcher prunes before it delivers, at once after a clock move: once a later callback was
        # delivered, the 3001 s old one was looked at and kept
        second = send_delivered()
        assert callbacks_of(first) and requests.get(bin_url(url, "fid-ret"), auth=A_AUTH, timeout=5).json()["count"] == 2
        sandbox_clock.advance(700)  # the first is 3702 s old, the second 701 s
        wait_for(lambda: not callbacks_of(first), timeout=10, what="pruning")
        wait_for(lambda: requests.get(bin_url(url, "fid-ret"), auth=A_AUTH, timeout=5).json()["count"] == 1, timeout=10,
                 what="bin pruning")
        assert callbacks_of(second), "younger than the retention: kept"
        state = control(url, "GET", "/_sandbox/messages", params={"messageId": first}, timeout=5).json()["messages"]
        assert state[0]["recipients"][0]["state"] == "delivered"  # the message itself is kept
    finally:
        control(url, "PUT", "/_sandbox/settings", json={"retention": None}, timeout=5)


def test_reset_vacuums_the_db(clean_sandbox: Any) -> None:
    db = Database(clean_sandbox.db_path)
    rows = [(mmodels.new_message_id(), DEMO["account_id"], "out", "+19195550199", "x", "+19195550199",
             '["+19195550100"]', "x" * 2000, None, None, None, None, 1, "2020-01-01T00:00:00.000Z", time.time(), "current")
            for _ in range(3000)]
    with db.transaction() as conn:
        conn.executemany(mmodels.MESSAGE_SQL, rows)

    def pages() -> int:
        with sqlite3.connect(clean_sandbox.db_path) as c:
            return int(c.execute("PRAGMA page_count").fetchone()[0])

    before = pages()
    assert control(clean_sandbox.url, "POST", "/_sandbox/reset", timeout=30).status_code == 200
    assert pages() < before / 4


# == list endpoints: numbers.yml's page=<order id of the first record> ===========================

def test_orders_pages_by_the_order_id_the_next_link_names(dash: Any) -> None:
    example = spec("numbers.yml")["paths"]["/accounts/{accountId}/orders"]["get"]["responses"]["200"]["content"][
        "application/xml"]["examples"]
    raw = next(iter(example.values()))["value"]
    spec_next = re.search(r"rel=\"next\"", raw) and re.search(r"orders\?page=([0-9a-f-]{36})&size=", raw)
    assert spec_next  # the spec's next link pages by an order id
    peer = dash.create_peer()
    ids = []
    for _ in range(5):
        r = dash.order(peer, "919")
        assert r.status_code == 201, r.text
        ids.append(parse(r)["OrderResponse"]["Order"]["id"])
    got: list[str] = []
    params: dict[str, Any] = {"size": 2}
    while True:
        body = parse(dash.get("/orders", params=params))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]
        assert body["TotalCount"] == "5"
        got += [o["orderId"] for o in _list(body["OrderIdUserIdDate"])]
        nxt = body["Links"].get("next")
        if not nxt:
            break
        page = re.search(r"page=([^&]+)&size=2", nxt).group(1)
        assert page in ids  # an order id, as in the spec's example
        params = {"size": 2, "page": page}
    assert got == ids
    first = _list(parse(dash.get("/orders"))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["OrderIdUserIdDate"])
    assert "TelephoneNumberDetails" in first[0]
    assert dash.get("/orders", params={"page": "no-such-order"}).status_code == 400
