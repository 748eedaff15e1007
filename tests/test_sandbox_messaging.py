"""Messaging v2, callbacks and the messaging control plane of the sandbox, all over real HTTP."""
from __future__ import annotations

import base64
import gzip
import json
import re
import socket
import threading
import time
from typing import Any, Callable, Iterator

import pytest
import requests

from bwhelpers.sandbox.magic import MAGIC_TO_NUMBERS

from _messaging_helpers import DEMO, DEMO_B, FAST, Receiver, World, free_port, send, wait_for
from conftest import SandboxClock, control

ID_RE = re.compile(r"^\d{13}[a-z0-9]{16}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
A_AUTH = (DEMO["username"], DEMO["password"])
UNOWNED_FROM = "+12015550199"  # the fictional 555-01XX block: never in the sandbox's inventory


@pytest.fixture(scope="module")
def sb(sandbox: Any) -> Iterator[Any]:
    """The session sandbox (tests/conftest.py) with fast delivery settings, restored afterwards."""
    saved = control(sandbox.url, "GET", "/_sandbox/settings", timeout=5).json()
    yield sandbox
    control(sandbox.url, "PUT", "/_sandbox/settings", json={k: saved[k] for k in FAST if k in saved}, timeout=5)


@pytest.fixture
def url(sb: Any) -> str:
    r = control(sb.url, "PUT", "/_sandbox/settings", json=FAST, timeout=5)
    assert r.status_code == 200, r.text
    return sb.url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver().start()
    yield rec
    rec.stop()


@pytest.fixture
def world(url: str) -> World:
    return World(url)


def msg(frm: str = "+19195551212", to: Any = "+19195550000", **extra: Any) -> dict[str, Any]:
    body = {"from": frm, "to": to, "text": "Good morning, this is a test message",
            "applicationId": "05851417-c78b-4636-81a2-014a54d8f119"}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def attempts(url: str, **filters: str) -> list[dict[str, Any]]:
    return control(url, "GET", "/_sandbox/callbacks", params=filters, timeout=5).json()["attempts"]


def outbox(url: str, **filters: str) -> list[dict[str, Any]]:
    return control(url, "GET", "/_sandbox/callbacks", params=filters, timeout=5).json()["callbacks"]


def settled(url: str, message_id: str, n: int = 1, timeout: float = 8) -> list[dict[str, Any]]:
    """The message's ``n`` callbacks once none is pending any more (delivered or given up): the sandbox sends a
    settled callback never again, so what a receiver holds then is all it will ever get (no waiting to see)."""
    def done() -> list[dict[str, Any]]:
        rows = outbox(url, messageId=message_id)
        return rows if len(rows) >= n and all(r["status"] != "pending" for r in rows) else []

    return wait_for(done, timeout=timeout, what=f"{n} settled callback(s) for {message_id}")


# -- 202 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_202_body_shape(url: str, legacy: bool) -> None:
    r = send(url, msg(frm="9193524444", to="9191231234"), legacy=legacy)
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    guide = ["id", "owner", "applicationId", "time", "segmentCount", "direction", "to", "from", "text"]
    assert list(body) == (guide if legacy else [*guide, "priority"])  # today's 202 adds "priority":"default"
    assert ID_RE.match(body["id"]) and len(body["id"]) == 29
    assert abs(int(body["id"][:13]) / 1000 - time.time()) < 60
    assert TIME_RE.match(body["time"])
    assert body["owner"] == body["from"] == "+19193524444"
    assert body["to"] == ["+19191231234"]
    assert body["direction"] == "out"
    assert body["segmentCount"] == 1
    assert body["applicationId"] == "05851417-c78b-4636-81a2-014a54d8f119"
    assert body["text"] == "Good morning, this is a test message"


def test_202_echoes_optional_fields(url: str) -> None:
    r = send(url, msg(to=["+19195550001", "+19195550002"], media=["https://example.com/a.png"], tag="t-1",
                      priority="high", expiration="2099-03-14T01:59:26Z"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["to"] == ["+19195550001", "+19195550002"]
    assert body["media"] == ["https://example.com/a.png"]
    assert (body["tag"], body["priority"], body["expiration"]) == ("t-1", "high", "2099-03-14T01:59:26Z")


def test_message_ids_are_unique(url: str) -> None:
    ids = {send(url, msg()).json()["id"] for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize("text,expected", [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("€" * 80, 1), ("€" * 81, 2),            # GSM-7 extension characters take two septets
    ("é" * 160, 1),                          # in the GSM-7 basic set
    ("ä½" * 35, 1), ("ä½" * 36, 2),          # UCS-2: 70 / 67
    ("😀" * 35, 1), ("😀" * 36, 2),          # surrogate pairs count twice
    ("a" * 2048, 14),
])
def test_segment_count(url: str, text: str, expected: int) -> None:
    r = send(url, msg(text=text))
    assert r.status_code == 202, r.text
    assert r.json()["segmentCount"] == expected


# -- validation -------------------------------------------------------------------------------------

def _field_errors(r: requests.Response) -> dict[str, str]:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "request-validation"
    assert body["description"] == "Your request could not be accepted"
    return {e["fieldName"]: e["description"] for e in body["fieldErrors"]}


def test_validation_notes_example(url: str) -> None:
    """The documented example: empty from and to, no text -> three field errors, in the notes' words."""
    errors = _field_errors(send(url, {"from": "", "to": "", "applicationId": "x"}))
    assert errors == {
        "from": "'from' must contain exactly one telephone number",
        "text": "'text' is required unless media is included",
        "to": "'to' must contain at least one telephone number",
    }


@pytest.mark.parametrize("body,field", [
    (msg(applicationId=None), "applicationId"),
    (msg(applicationId=""), "applicationId"),
    (msg(applicationId=42), "applicationId"),
    (msg(frm=None), "from"),
    (msg(frm="abc"), "from"),
    (msg(frm="919555121"), "from"),
    (msg(frm="+1919555121299"), "from"),
    (msg(frm="+10195551212"), "from"),
    (msg(frm=["+19195551212", "+19195551213"]), "from"),
    (msg(to=None), "to"),
    (msg(to=[]), "to"),
    (msg(to=42), "to"),
    (msg(to=["+19195550000", "nope"]), "to"),
    (msg(to=[f"+1919555{i:04d}" for i in range(11)]), "to"),
    (msg(to=["+44\uff17\uff17\uff10\uff10\uff19\uff10\uff10\uff11\uff12\uff13"]), "to"),  # fullwidth digits
    (msg(frm="+1919\u0665\u0665\u0665\u0661\u0662\u0661\u0662"), "from"),  # Arabic-Indic digits
    (msg(text=None), "text"),
    (msg(text=""), "text"),
    (msg(text=5), "text"),
    (msg(text="a" * 2049), "text"),
    (msg(media=5), "media"),
    (msg(media=["https://x/" + "a" * 4096]), "media"),
    (msg(tag="t" * 1025), "tag"),
    (msg(tag=7), "tag"),
    (msg(priority="urgent"), "priority"),
    (msg(expiration="2001-01-01T00:00:00Z"), "expiration"),
    (msg(expiration="tomorrow"), "expiration"),
])
def test_validation_errors(url: str, body: dict[str, Any], field: str) -> None:
    errors = _field_errors(send(url, body))
    assert field in errors, errors


def test_expiration_must_be_after_the_sandbox_clock(url: str, sandbox_clock: SandboxClock) -> None:
    """messaging.yml: expiration "Must be a date-time in the future": the future of the sandbox's clock (it was
    checked against the wall clock, so a clock moved on accepted a lapsed expiration)."""
    wall = time.time()
    sandbox_clock.freeze(at=wall + 2 * 86400)
    lapsed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall + 86400))
    ahead = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall + 3 * 86400))
    assert "expiration" in _field_errors(send(url, msg(expiration=lapsed)))
    assert send(url, msg(expiration=ahead)).status_code == 202


def test_eleven_recipients_rejected_ten_accepted(url: str) -> None:
    errors = _field_errors(send(url, msg(to=[f"+1919555{i:04d}" for i in range(11)])))
    assert "at most 10" in errors["to"] and "4435" in errors["to"]
    assert send(url, msg(to=[f"+1919555{i:04d}" for i in range(10)])).status_code == 202


def test_limits_accepted_at_the_boundary(url: str) -> None:
    assert send(url, msg(text="a" * 2048)).status_code == 202
    assert send(url, msg(tag="t" * 1024)).status_code == 202
    assert send(url, msg(media=["https://x/" + "a" * 4086])).status_code == 202
    # with media, text is optional and not limited to 2048
    assert send(url, msg(text=None, media=["https://x/a.png"])).status_code == 202
    assert send(url, msg(text="a" * 3000, media=["https://x/a.png"])).status_code == 202


def test_to_as_string_and_us_numbers_normalized(url: str) -> None:
    body = send(url, msg(frm="19193524444", to="(919) 123-1234")).json()
    assert body["from"] == "+19193524444" and body["to"] == ["+19191231234"]
    body = send(url, msg(to=["+447700900123", "9191231234", "+19191231234"])).json()
    assert body["to"] == ["+447700900123", "+19191231234"]


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null"])
def test_non_object_body(url: str, raw: bytes) -> None:
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=raw,
                      headers={"Content-Type": "application/json"}, auth=A_AUTH, timeout=5)
    assert r.status_code == 400 and r.json()["type"] == "request-validation"


def test_malformed_json_is_400(url: str) -> None:
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=b'{"from": ',
                      headers={"Content-Type": "application/json"}, auth=A_AUTH, timeout=5)
    assert r.status_code == 400
    assert r.json()["type"] == "request-validation"


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", None])
def test_wrong_content_type_is_415(url: str, ctype: str | None) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=json.dumps(msg()).encode(),
                      headers=headers, auth=A_AUTH, timeout=5)
    assert r.status_code == 415
    assert r.json()["type"] == "unsupported-content-type"


def test_415_says_what_the_docs_say(url: str) -> None:
    """messaging-errors.mdx's 415 body, word for word, naming the Content-Type received."""
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=json.dumps(msg()).encode(),
                      headers={"Content-Type": "text/plain;charset=UTF-8"}, auth=A_AUTH, timeout=5)
    assert r.status_code == 415 and r.json() == {
        "type": "unsupported-content-type",
        "description": "Content type 'text/plain;charset=UTF-8' not supported. Please use 'application/json'"}


def test_json_with_charset_is_accepted(url: str) -> None:
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=json.dumps(msg()).encode(),
                      headers={"Content-Type": "application/json; charset=utf-8"}, auth=A_AUTH, timeout=5)
    assert r.status_code == 202


def test_body_too_large_is_413(url: str) -> None:
    r = send(url, msg(text="a" * 300_000))
    assert r.status_code == 413
    assert r.json()["type"] == "request-entity-too-large"


# -- auth, tenants, 404, 405, 429 ---------------------------------------------------------------------

UNAUTHORIZED = {"type": "unauthorized", "description": "Authentication Failed"}
FORBIDDEN = {"type": "forbidden", "description": "Access Denied"}


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("auth", [None, ("sandbox-user", "wrong"), ("nobody", "x")], ids=["none", "badpw", "nouser"])
def test_401_current(url: str, method: str, auth: Any) -> None:
    r = requests.request(method, f"{url}/api/v2/users/{DEMO['account_id']}/messages", json=msg(), auth=auth,
                         timeout=5)
    assert r.status_code == 401 and r.json() == UNAUTHORIZED


@pytest.mark.parametrize("auth", [None, ("t-sandbox", "wrong"), ("sandbox-user", "sandbox-password")],
                         ids=["none", "badsecret", "username-on-legacy"])
def test_401_legacy(url: str, auth: Any) -> None:
    r = requests.post(f"{url}/v2/users/{DEMO['user_id']}/messages", json=msg(), auth=auth, timeout=5)
    assert r.status_code == 401 and r.json() == UNAUTHORIZED


def test_token_secret_not_accepted_on_current_endpoint(url: str) -> None:
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", json=msg(),
                      auth=(DEMO["api_token"], DEMO["api_secret"]), timeout=5)
    assert r.status_code == 401


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_403_other_account(url: str, method: str) -> None:
    r = requests.request(method, f"{url}/api/v2/users/{DEMO['account_id']}/messages", json=msg(),
                         auth=(DEMO_B["username"], DEMO_B["password"]), timeout=5)
    assert r.status_code == 403 and r.json() == FORBIDDEN
    r = requests.request(method, f"{url}/v2/users/{DEMO['user_id']}/messages", json=msg(),
                         auth=(DEMO_B["api_token"], DEMO_B["api_secret"]), timeout=5)
    assert r.status_code == 403 and r.json() == FORBIDDEN


def test_auth_checked_before_body(url: str) -> None:
    r = requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", data=b"{{{", timeout=5,
                      headers={"Content-Type": "text/plain"})
    assert r.status_code == 401


@pytest.mark.parametrize("path", ["/api/v2/users/9900000/messagez", "/api/v2/users/9900000/messages/abc/def",
                                  "/v2/users/u-sandbox/nothing", "/api/v2/nothing"])
def test_404_spring_shape(url: str, path: str) -> None:
    r = requests.get(url + path, auth=A_AUTH, timeout=5)
    assert r.status_code == 404
    body = r.json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert (body["status"], body["error"], body["path"]) == (404, "Not Found", path)


def test_404_message_and_timestamp_as_in_the_docs(url: str) -> None:
    """messaging-errors.mdx: "timestamp": "2019-09-09T19:02:19.253+0000", "message": "Not Found"."""
    body = requests.get(f"{url}/api/v2/users/{DEMO['account_id']}/messages/happy", auth=A_AUTH, timeout=5).json()
    assert body["message"] == "Not Found"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000", body["timestamp"]), body


def test_405(url: str) -> None:
    r = requests.delete(f"{url}/api/v2/users/{DEMO['account_id']}/messages", auth=A_AUTH, timeout=5)
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_429_rate_limit_with_retry_after(url: str, sandbox_clock: SandboxClock) -> None:
    # 3 per second of the sandbox's (frozen) clock: the fourth send in the same second is refused
    control(url, "PUT", "/_sandbox/settings", json={"rate_limit_per_second": 3}, timeout=5)
    sandbox_clock.freeze(at=float(int(sandbox_clock.now())) + 0.1)
    statuses = [send(url, msg()).status_code for _ in range(3)]
    limited = send(url, msg())
    assert statuses == [202, 202, 202] and limited.status_code == 429, (statuses, limited.text)
    body = limited.json()
    assert body["type"] == "max-message-queue-size-exceeded"
    assert body["description"].startswith("The SMS queue for your account is full")
    assert "180 messages per minute" in body["description"]
    assert int(limited.headers["Retry-After"]) >= 1
    # the other account has its own budget, and the window reopens
    assert send(url, msg(), creds=DEMO_B).status_code == 202
    sandbox_clock.advance(0.8)
    assert send(url, msg()).status_code == 429, "the same one-second window"
    sandbox_clock.advance(0.2)
    assert send(url, msg()).status_code == 202, "the next window"


def test_rate_limit_zero_is_unlimited(url: str) -> None:
    assert all(send(url, msg()).status_code == 202 for _ in range(15))


def test_rate_limit_shared_by_two_servers_on_one_db(tmp_path: Any, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "shared.db"
    a = sandbox_factory(db=db, settings={**FAST, "rate_limit_per_second": 3})
    b = sandbox_factory(db=db)
    try:
        codes = []
        for i in range(12):
            codes.append(send((a, b)[i % 2].url, msg()).status_code)
            if codes[-1] == 429:
                break
        assert 429 in codes and codes.count(202) <= 6
    finally:
        b.stop()
        a.stop()


# -- GET /messages --------------------------------------------------------------------------------------

def test_list_messages_both_endpoints_and_isolation(url: str) -> None:
    sent = send(url, msg(to=["+19195550011", "+19195550012"], tag="listed")).json()
    r = requests.get(f"{url}/api/v2/users/{DEMO['account_id']}/messages", params={"messageId": sent["id"]},
                     auth=A_AUTH, timeout=5)
    assert r.status_code == 200
    doc = r.json()
    assert doc["totalCount"] == 2 and {m["destinationTn"] for m in doc["messages"]} == {"+19195550011",
                                                                                       "+19195550012"}
    item = doc["messages"][0]
    assert item["messageId"] == sent["id"] and item["accountId"] == DEMO["account_id"]
    assert item["messageDirection"] == "OUTBOUND" and item["messageType"] == "sms"
    assert item["messageStatus"] in ("SENDING", "DELIVERED", "FAILED")
    legacy = requests.get(f"{url}/v2/users/{DEMO['user_id']}/messages", params={"messageId": sent["id"]},
                          auth=(DEMO["api_token"], DEMO["api_secret"]), timeout=5).json()
    assert legacy["totalCount"] == 2
    other = requests.get(f"{url}/api/v2/users/{DEMO_B['account_id']}/messages", params={"messageId": sent["id"]},
                         auth=(DEMO_B["username"], DEMO_B["password"]), timeout=5).json()
    assert other["totalCount"] == 0 and other["messages"] == []


def test_list_messages_paging_and_filters(url: str) -> None:
    for i in range(5):
        send(url, msg(frm="+19198880001", to=f"+1919777{i:04d}"))
    base = f"{url}/api/v2/users/{DEMO['account_id']}/messages"
    doc = requests.get(base, params={"sourceTn": "+19198880001", "limit": 2}, auth=A_AUTH, timeout=5).json()
    assert doc["totalCount"] == 5 and len(doc["messages"]) == 2 and doc["pageInfo"]["nextPageToken"]
    doc2 = requests.get(base, params={"sourceTn": "+19198880001", "limit": 2,
                                      "pageToken": doc["pageInfo"]["nextPageToken"]}, auth=A_AUTH, timeout=5).json()
    assert len(doc2["messages"]) == 2
    assert not {m["destinationTn"] for m in doc["messages"]} & {m["destinationTn"] for m in doc2["messages"]}
    bad = requests.get(base, params={"limit": "x"}, auth=A_AUTH, timeout=5)
    assert bad.status_code == 400


def test_list_messages_sort(url: str) -> None:
    """messaging.yml listMessages ``sort``: "The field and direction to sort by combined with a colon. Direction is
    either asc or desc." (it was ignored: every list came newest first); pages of a sorted list keep its order."""
    to = ["+19197770302", "+19197770303", "+19197770301"]
    for number in to:  # received in this order
        send(url, msg(frm="+19198880043", to=number))
    base = f"{url}/api/v2/users/{DEMO['account_id']}/messages"

    def page(**params: Any) -> dict[str, Any]:
        r = requests.get(base, params={"sourceTn": "+19198880043", **params}, auth=A_AUTH, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()

    def dest(doc: dict[str, Any]) -> list[str]:
        return [m["destinationTn"] for m in doc["messages"]]

    assert dest(page()) == to[::-1]  # no sort: newest first, as before
    assert dest(page(sort="destinationTn:asc")) == sorted(to)
    assert dest(page(sort="destinationTn:desc")) == sorted(to, reverse=True)
    assert dest(page(sort="receiveTime:asc")) == to
    first = page(sort="destinationTn:asc", limit=2)
    assert dest(first) == sorted(to)[:2] and first["totalCount"] == 3
    second = page(sort="destinationTn:asc", limit=2, pageToken=first["pageInfo"]["nextPageToken"])
    assert dest(second) == sorted(to)[2:] and "nextPageToken" not in second["pageInfo"]
    assert "sort=destinationTn%3Aasc" in second["pageInfo"]["prevPage"]
    back = page(sort="destinationTn:asc", limit=2, pageToken=second["pageInfo"]["prevPageToken"])
    assert dest(back) == sorted(to)[:2]
    for params in ({"sort": "carrierName:asc"}, {"sort": "sourceTn"}, {"sort": "sourceTn:up"},
                   {"pageToken": first["pageInfo"]["nextPageToken"]}):  # a sorted list's token without its sort
        errors = _field_errors(requests.get(base, params=params, auth=A_AUTH, timeout=5))
        assert set(errors) == {next(iter(params))}, errors


@pytest.mark.parametrize("raw", ["a" + "9" * 24, "b" + "9" * 19])
def test_page_token_past_sqlites_integers_is_a_400(url: str, raw: str) -> None:
    """A base64 token this service never returned, holding a row id past 2**63 - 1, was a 500."""
    token = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    errors = _field_errors(requests.get(f"{url}/api/v2/users/{DEMO['account_id']}/messages",
                                        params={"pageToken": token}, auth=A_AUTH, timeout=5))
    assert "pageToken" in errors


def _stamp(ts: float) -> str:
    """messaging.yml's example form of fromDateTime/toDateTime: 2022-09-14T18:20:16.000Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def test_list_messages_date_segment_carrier_and_campaign_filters(url: str, sandbox_clock: SandboxClock) -> None:
    """messaging.yml listMessages: fromDateTime/toDateTime select by receive time, bandwidth.yml's
    fromSegmentCount/toSegmentCount by segments and from/toMessageSize by size; carrierName, campaignId and
    bandwidth.yml's product, location, ... match no item (the sandbox names none of them on any item). The sandbox
    used to ignore all of them and answer every message."""
    t0 = sandbox_clock.freeze(at=float(int(sandbox_clock.now())) + 0.5)
    early = send(url, msg(frm="+19198880042")).json()["id"]
    sandbox_clock.advance(3600)
    late = send(url, msg(frm="+19198880042", text="a" * 200)).json()["id"]  # 2 segments
    base = f"{url}/api/v2/users/{DEMO['account_id']}/messages"

    def ids(**params: Any) -> list[str]:
        r = requests.get(base, params={"sourceTn": "+19198880042", **params}, auth=A_AUTH, timeout=5)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["totalCount"] == len(doc["messages"])
        return [m["messageId"] for m in doc["messages"]]

    assert ids() == [late, early]
    assert ids(fromDateTime=_stamp(t0 + 1800)) == [late]
    assert ids(toDateTime=_stamp(t0 + 1800)) == [early]
    assert ids(fromDateTime=_stamp(t0 - 60), toDateTime=_stamp(t0 + 7200)) == [late, early]
    assert ids(fromDateTime=_stamp(t0 - 86400), toDateTime=_stamp(t0 - 3600)) == []
    assert ids(fromSegmentCount=2) == [late] and ids(toSegmentCount=1) == [early]
    assert ids(carrierName="Verizon") == [] and ids(campaignId="CJEUMDK") == []
    assert ids(fromMessageSize=100) == [late] and ids(toMessageSize=36) == [early]  # the text's bytes: 200, 36
    for key in ("product", "location", "callingNumberCountryA3", "calledNumberCountryA3", "fromBwLatency",
                "fromCarrierLatency"):  # bandwidth.yml: fields no sandbox item carries
        assert ids(**{key: "1"}) == [], key
    for key, value in (("fromDateTime", "yesterday"), ("toSegmentCount", "two"), ("fromMessageSize", "-1"),
                       ("errorCode", "\u00b2"),
                       ("errorCode", "9" * 25)):  # '²' and 25 digits were a 500 (int() / sqlite overflow)
        errors = _field_errors(requests.get(base, params={key: value}, auth=A_AUTH, timeout=5))
        assert key in errors, errors


# -- outcome rules (need the Dashboard area for numbers, locations and applications) ------------------

def _one(receiver: Receiver, message_id: str, n: int = 1, timeout: float = 8) -> list[dict[str, Any]]:
    return wait_for(lambda: len(receiver.events_for(message_id)) >= n and receiver.events_for(message_id),
                    timeout=timeout, what=f"{n} callback(s) for {message_id}")


def test_delivered_when_setup_is_right(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    sent = send(url, msg(frm=w["number"], to="+19195550000", applicationId=w["app_id"], tag="my-tag")).json()
    [event] = _one(receiver, sent["id"])
    assert event["type"] == "message-delivered"
    assert event["description"] == "ok"
    assert event["to"] == "+19195550000"
    assert TIME_RE.match(event["time"])
    m = event["message"]
    assert m["id"] == sent["id"] and m["owner"] == w["number"] and m["from"] == w["number"]
    assert m["applicationId"] == w["app_id"] and m["direction"] == "out" and m["to"] == ["+19195550000"]
    assert m["text"] == "" and m["tag"] == "my-tag" and m["priority"] == "default"
    assert m["segmentCount"] == 1 and m["time"] == sent["time"]
    assert "errorCode" not in event
    req = receiver.requests[0]
    assert req["headers"]["User-Agent"] == "BandwidthAPI/v2"
    assert req["headers"]["Content-Type"] == "application/json; charset=utf-8"  # messaging-webhooks.mdx
    assert isinstance(req["json"], list) and req["auth"] is None
    [callback] = settled(url, sent["id"])
    assert callback["status"] == "delivered" and callback["attempts"] == 1
    assert len(receiver.events_for(sent["id"])) == 1  # exactly once


@pytest.mark.slow  # importing bandwidth-sdk takes 2-4 s (tests/test_sdk_messaging.py)
@pytest.mark.xdist_group("sdk")  # in the worker that imports bandwidth-sdk anyway (conftest.XDIST_GROUPS)
def test_callbacks_parse_with_the_sdk_models(url: str, world: World, receiver: Receiver) -> None:
    from bandwidth.models import InboundCallback, StatusCallback

    w = world.provision(receiver.url)
    ok = send(url, msg(frm=w["number"], applicationId=w["app_id"], priority="high")).json()
    bad = send(url, msg(frm=w["number"], to="+12015550102", applicationId=w["app_id"])).json()
    control(url, "POST", "/_sandbox/inbound", json={"to": w["number"], "from": "+19195550000", "text": "hi"},
                  timeout=5)
    _one(receiver, ok["id"])
    _one(receiver, bad["id"])
    wait_for(lambda: any(e["type"] == "message-received" for e in receiver.events()))
    for event in receiver.events():
        model = (InboundCallback if event["type"] == "message-received" else StatusCallback).from_dict(event)
        assert model.message.id == event["message"]["id"]
    failed = StatusCallback.from_dict(receiver.events_for(bad["id"])[0])
    assert failed.error_code == 4432


def test_group_message_one_event_per_recipient(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    to = ["+19195550001", "+12015550101", "+12015550104"]
    sent = send(url, msg(frm=w["number"], to=to, applicationId=w["app_id"])).json()
    events = _one(receiver, sent["id"], n=3)
    by_to = {e["to"]: e for e in events}
    assert set(by_to) == set(to)
    assert by_to["+19195550001"]["type"] == "message-delivered"
    assert by_to["+12015550101"]["errorCode"] == 4720
    assert by_to["+12015550104"]["errorCode"] == 4775
    assert all(e["message"]["to"] == to for e in events)


def test_mms_and_group_delivered_to_carrier_sms_ok(url: str, world: World, receiver: Receiver) -> None:
    """messaging-webhooks.mdx: an MMS's or a group message's message-delivered means handed to Bandwidth's MMSC,
    "Message delivered to carrier" (its MMS and Group MMS examples); "ok" is the SMS receipt."""
    w = world.provision(receiver.url)
    sms = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
    picture = send(url, msg(frm=w["number"], applicationId=w["app_id"], media=["https://example.com/a.png"])).json()
    group = send(url, msg(frm=w["number"], applicationId=w["app_id"], to=["+19195550001", "+19195550002"])).json()
    assert [e["description"] for e in _one(receiver, sms["id"])] == ["ok"]
    assert [e["description"] for e in _one(receiver, picture["id"])] == ["Message delivered to carrier"]
    assert [e["description"] for e in _one(receiver, group["id"], n=2)] == ["Message delivered to carrier"] * 2


def test_4405_from_number_on_no_account(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    sent = send(url, msg(frm=UNOWNED_FROM, applicationId=w["app_id"])).json()
    [event] = _one(receiver, sent["id"])
    assert event["type"] == "message-failed" and event["errorCode"] == 4405
    assert event["description"] == "rejected-unallocated-from-number"
    assert isinstance(event["errorCode"], int)


def test_4407_from_number_of_another_account(url: str, world: World, receiver: Receiver) -> None:
    other = Receiver().start()
    try:
        wb = World(url, DEMO_B).provision(other.url)
        wa = world.provision(receiver.url)
        sent = send(url, msg(frm=wb["number"], applicationId=wa["app_id"])).json()
        [event] = _one(receiver, sent["id"])
        assert event["errorCode"] == 4407
        assert event["description"] == "rejected-account-not-defined-from-number"
        assert [c["url"] for c in settled(url, sent["id"])] == [receiver.url]  # every callback it will ever send
        assert other.events() == []  # account B's application hears nothing of account A's message
    finally:
        other.stop()


def test_4452_application_not_assigned(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url, assign=False)
    sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
    [event] = _one(receiver, sent["id"])
    assert event["errorCode"] == 4452 and event["description"] == "rejected-wrong-application-id"


def test_4452_wrong_application_goes_to_that_apps_url(url: str, world: World, receiver: Receiver) -> None:
    other = Receiver().start()
    try:
        w = world.provision(receiver.url)
        app2 = world.create_app(other.url, name="second")
        sent = send(url, msg(frm=w["number"], applicationId=app2)).json()
        [event] = _one(other, sent["id"])
        assert event["errorCode"] == 4452
        assert receiver.events_for(sent["id"]) == []
    finally:
        other.stop()


def test_unknown_application_202_then_nothing_delivered_but_logged(url: str, world: World,
                                                                  receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    r = send(url, msg(frm=w["number"], applicationId="00000000-0000-0000-0000-000000000000"))
    assert r.status_code == 202
    mid = r.json()["id"]
    log = wait_for(lambda: attempts(url, messageId=mid), what="attempt log entry")
    assert log[0]["url"] is None and "does not exist" in log[0]["error"]
    state = control(url, "GET", "/_sandbox/messages", params={"messageId": mid}, timeout=5).json()["messages"][0]
    assert state["recipients"][0]["errorCode"] == 4452
    assert outbox(url, messageId=mid) == []  # no callback queued (in the same transaction as the log): none will come
    assert receiver.events_for(mid) == []


def test_application_of_another_account_is_unknown(url: str, world: World, receiver: Receiver) -> None:
    other = Receiver().start()
    try:
        wb = World(url, DEMO_B).provision(other.url)
        wa = world.provision(receiver.url)
        sent = send(url, msg(frm=wa["number"], applicationId=wb["app_id"])).json()
        wait_for(lambda: attempts(url, messageId=sent["id"]), what="attempt log entry")
        assert outbox(url, messageId=sent["id"]) == []  # no callback queued: none will come
        assert other.events() == [] and receiver.events_for(sent["id"]) == []
    finally:
        other.stop()


def test_4001_media_without_mms(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url, mms=False)
    sms = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
    mms = send(url, msg(frm=w["number"], applicationId=w["app_id"], media=["https://x/a.png"])).json()
    assert _one(receiver, sms["id"])[0]["type"] == "message-delivered"
    [event] = _one(receiver, mms["id"])
    assert event["errorCode"] == 4001 and event["message"]["media"] == ["https://x/a.png"]


FAILED_MAGIC = [row for row in MAGIC_TO_NUMBERS if row["outcome"] == "failed"]


@pytest.mark.parametrize("row", FAILED_MAGIC, ids=[str(r["errorCode"]) for r in FAILED_MAGIC])
def test_magic_failure_numbers(url: str, world: World, receiver: Receiver, row: dict[str, Any]) -> None:
    w = world.provision(receiver.url)
    sent = send(url, msg(frm=w["number"], to=row["number"], applicationId=w["app_id"])).json()
    [event] = _one(receiver, sent["id"])
    assert event["type"] == "message-failed"
    assert event["errorCode"] == row["errorCode"] and event["description"] == row["description"]
    listed = requests.get(f"{url}/api/v2/users/{DEMO['account_id']}/messages", params={"messageId": sent["id"]},
                          auth=A_AUTH, timeout=5).json()["messages"][0]
    assert listed["messageStatus"] == "FAILED" and listed["errorCode"] == row["errorCode"]


def test_magic_table_covers_the_required_codes() -> None:
    codes = {r["errorCode"] for r in MAGIC_TO_NUMBERS}
    assert {4720, 4432, 4470, 4775, 5620, 4476, 4795} <= codes
    outcomes = {r["outcome"] for r in MAGIC_TO_NUMBERS}
    assert {"slow", "auto-reply", "delivered", "failed"} <= outcomes
    for row in MAGIC_TO_NUMBERS:
        assert set(row) == {"number", "outcome", "errorCode", "description"}
        assert re.fullmatch(r"\+1\d{3}55501\d{2}", row["number"])


def test_magic_numbers_endpoint(url: str) -> None:
    doc = requests.get(f"{url}/_sandbox/magic-numbers", timeout=5).json()
    assert doc["to_numbers"] == MAGIC_TO_NUMBERS
    assert "areas" in doc


def test_magic_slow_delivery(url: str, world: World, receiver: Receiver, sandbox_clock: SandboxClock) -> None:
    """+12015550110 is delivered after ``slow_delivery_delay`` (1 s here) where another number takes
    ``delivery_delay``: on the sandbox's frozen clock, nothing is left to the machine's speed."""
    w = world.provision(receiver.url)
    slow = send(url, msg(frm=w["number"], to="+12015550110", applicationId=w["app_id"])).json()
    quick = send(url, msg(frm=w["number"], to="+19195550000", applicationId=w["app_id"])).json()

    def recipient(message_id: str) -> dict[str, Any]:
        state = control(url, "GET", "/_sandbox/messages", params={"messageId": message_id}, timeout=5).json()
        return state["messages"][0]["recipients"][0]

    assert recipient(slow["id"])["state"] == "sending"
    assert recipient(slow["id"])["dueIn"] == FAST["slow_delivery_delay"]
    assert recipient(quick["id"])["dueIn"] == FAST["delivery_delay"]
    sandbox_clock.advance(FAST["slow_delivery_delay"] / 2)
    assert _one(receiver, quick["id"])[0]["type"] == "message-delivered"  # the dispatcher is past the quick one
    assert recipient(slow["id"])["state"] == "sending"
    assert recipient(slow["id"])["dueIn"] == FAST["slow_delivery_delay"] / 2
    assert not receiver.events_for(slow["id"])
    sandbox_clock.advance(FAST["slow_delivery_delay"])  # well past its due time (no float sum landing a hair short)
    [event] = _one(receiver, slow["id"])
    assert event["type"] == "message-delivered"


def test_magic_auto_reply(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    sent = send(url, msg(frm=w["number"], to="+12015550111", applicationId=w["app_id"], text="ping")).json()
    assert _one(receiver, sent["id"])[0]["type"] == "message-delivered"
    reply = wait_for(lambda: [e for e in receiver.events() if e["type"] == "message-received"
                              and e["message"]["from"] == "+12015550111"], what="auto-reply")[0]
    assert reply["description"] == "Incoming message received"
    assert reply["to"] == w["number"]
    m = reply["message"]
    assert m["direction"] == "in" and m["owner"] == w["number"] and m["to"] == [w["number"]]
    assert m["applicationId"] == w["app_id"] and "ping" in m["text"] and ID_RE.match(m["id"])


# -- inbound injection -------------------------------------------------------------------------------

def test_inbound_injection(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    r = control(url, "POST", "/_sandbox/inbound", timeout=5, json={
        "to": w["number"], "from": "9195550000", "text": "Hello there", "media": ["https://x/cat.png"]})
    assert r.status_code == 202, r.text
    mid = r.json()["message"]["id"]
    [event] = _one(receiver, mid)
    assert event["type"] == "message-received" and event["description"] == "Incoming message received"
    assert event["to"] == w["number"]
    m = event["message"]
    assert (m["direction"], m["owner"], m["from"], m["to"]) == ("in", w["number"], "+19195550000", [w["number"]])
    assert m["text"] == "Hello there" and m["media"] == ["https://x/cat.png"] and m["applicationId"] == w["app_id"]
    listed = requests.get(f"{url}/api/v2/users/{DEMO['account_id']}/messages", params={"messageId": mid},
                          auth=A_AUTH, timeout=5).json()["messages"][0]
    assert listed["messageDirection"] == "INBOUND" and listed["messageStatus"] == "RECEIVED"


def test_inbound_errors(url: str, world: World, receiver: Receiver) -> None:
    r = control(url, "POST", "/_sandbox/inbound", json={"to": UNOWNED_FROM, "from": "+19195550000", "text": "x"},
                      timeout=5)
    assert r.status_code == 404 and "not a number" in r.json()["error"]
    w = world.provision(receiver.url, assign=False)
    r = control(url, "POST", "/_sandbox/inbound", json={"to": w["number"], "from": "+19195550000", "text": "x"},
                      timeout=5)
    assert r.status_code == 400 and "no application" in r.json()["error"]
    for body in ({"to": w["number"], "from": "nope", "text": "x"}, {"to": w["number"], "from": "+19195550000"},
                 {"to": "x", "from": "+19195550000", "text": "x"}):
        r = control(url, "POST", "/_sandbox/inbound", json=body, timeout=5)
        assert r.status_code == 400, body
    assert control(url, "POST", "/_sandbox/inbound", data=b"{", headers={"Content-Type": "application/json"},
                   timeout=5).status_code == 400


# -- callback delivery: auth challenge, retries, log ----------------------------------------------------

def test_401_challenge_then_credentials(url: str, world: World) -> None:
    rec = Receiver(mode="challenge", creds=("cbuser", "cb-secret")).start()
    try:
        w = world.provision(rec.url, cb_creds=("cbuser", "cb-secret"))
        sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
        [event] = _one(rec, sent["id"])
        assert event["type"] == "message-delivered"
        first, second = rec.requests[0], rec.requests[1]
        assert first["auth"] is None and second["authorized"]
        assert first["json"] == second["json"]
        log = wait_for(lambda: len(attempts(url, messageId=sent["id"])) >= 2 and attempts(url, messageId=sent["id"]))
        assert [(a["statusCode"], a["authUsed"]) for a in log] == [(401, False), (200, True)]
        assert outbox(url, messageId=sent["id"])[0]["status"] == "delivered"
        assert len(rec.requests) == 2
    finally:
        rec.stop()


def test_a_gzip_bomb_answer_is_neither_inflated_nor_read_on(url: str, world: World) -> None:
    """review23d D3: a receiver answers 200 with ``Content-Encoding: gzip`` and 64 MB of gzip members (each 20 MB
    of zeros inflated): the sandbox records the 200 and stops reading at the head, and serves others meanwhile."""
    member = gzip.compress(bytes(20 << 20), 1)
    body_size = 64 << 20
    seen: dict[str, Any] = {}
    listener = socket.create_server(("127.0.0.1", 0))

    def receive() -> None:
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            head, _, rest = head.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(rest) < length:
                rest += conn.recv(65536)
            seen["head"] = head.decode("latin-1")
            # the delivery is in flight: another tenant is served meanwhile
            seen["other"] = requests.get(f"{url}/api/accounts/{DEMO_B['account_id']}/applications",
                                         auth=(DEMO_B["username"], DEMO_B["password"]), timeout=30).status_code
            sent = 0
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                             b"Content-Length: %d\r\n\r\n" % body_size)
                while sent < body_size:
                    piece = member[:body_size - sent]
                    conn.sendall(piece)
                    sent += len(piece)
            except OSError:
                pass
            seen["sent"] = sent

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        w = world.provision(f"http://127.0.0.1:{listener.getsockname()[1]}/callbacks")
        sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
        [callback] = settled(url, sent["id"], timeout=30)
        thread.join(30)
    finally:
        listener.close()
    assert callback["status"] == "delivered" and callback["attempts"] == 1
    [attempt] = attempts(url, messageId=sent["id"])
    assert attempt["statusCode"] == 200 and attempt["error"] is None
    assert seen["other"] == 200
    assert "accept-encoding" not in seen["head"].lower()  # the sandbox asks for no content coding
    # what the sandbox read is bounded: the receiver could not push its 64 MB (the socket buffers hold at most
    # tcp_rmem + tcp_wmem), and nothing of the answer is kept
    assert seen["sent"] < body_size, "the sandbox read the whole 64 MB answer"
    assert "gzip" not in json.dumps(attempt)


@pytest.mark.slow
def test_401_without_challenge_header_never_sends_credentials(url: str, world: World) -> None:
    rec = Receiver(mode="challenge-noheader", creds=("cbuser", "cb-secret")).start()
    try:
        w = world.provision(rec.url, cb_creds=("cbuser", "cb-secret"))
        sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
        box = wait_for(lambda: [c for c in outbox(url, messageId=sent["id"]) if c["status"] == "gave-up"],
                       timeout=10, what="gave-up")
        assert box[0]["attempts"] == FAST["callback_retry"]["max_attempts"]
        assert all(r["auth"] is None for r in rec.requests)
        log = attempts(url, messageId=sent["id"])
        assert all(not a["authUsed"] and a["statusCode"] == 401 for a in log)
        assert "WWW-Authenticate" in log[0]["error"]
    finally:
        rec.stop()


@pytest.mark.slow
def test_retries_until_receiver_recovers_exactly_once(url: str, world: World) -> None:
    port = free_port()
    rec = Receiver(port=port)
    w = world.provision(rec.url)
    sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
    try:
        wait_for(lambda: len(attempts(url, messageId=sent["id"])) >= 2, what="two failed attempts")
        rec.start()
        [event] = _one(rec, sent["id"])
        assert event["type"] == "message-delivered"
        [callback] = settled(url, sent["id"])
        assert callback["status"] == "delivered"
        assert len(rec.requests) == 1
        log = attempts(url, messageId=sent["id"])
        assert all(a["statusCode"] is None and a["error"] for a in log[:-1])
        assert log[-1]["statusCode"] == 200
        times = [time.mktime(time.strptime(a["time"][:19], "%Y-%m-%dT%H:%M:%S")) + float(a["time"][19:23])
                 for a in log]
        assert times[1] - times[0] >= 0.25  # backoff, not a hot loop
        box = outbox(url, messageId=sent["id"])[0]
        assert box["status"] == "delivered" and box["attempts"] == len(log)
    finally:
        rec.stop()


@pytest.mark.slow
def test_non_2xx_retried_then_gives_up(url: str, world: World) -> None:
    rec = Receiver(mode="error").start()
    try:
        w = world.provision(rec.url)
        sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
        wait_for(lambda: [c for c in outbox(url, messageId=sent["id"]) if c["status"] == "gave-up"], timeout=10)
        assert len(rec.requests) == FAST["callback_retry"]["max_attempts"]
        assert [a["statusCode"] for a in attempts(url, messageId=sent["id"])] == [500] * len(rec.requests)
    finally:
        rec.stop()


def test_attempt_log_filters(url: str, world: World, receiver: Receiver) -> None:
    w = world.provision(receiver.url)
    a = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
    b = send(url, msg(frm=w["number"], to="+12015550103", applicationId=w["app_id"])).json()
    _one(receiver, a["id"])
    _one(receiver, b["id"])
    settled(url, a["id"])  # the receiver holds a callback before the sandbox has logged its attempt
    settled(url, b["id"])
    assert {x["messageId"] for x in attempts(url, messageId=a["id"])} == {a["id"]}
    failed = attempts(url, type="message-failed", accountId=DEMO["account_id"])
    assert b["id"] in {x["messageId"] for x in failed} and a["id"] not in {x["messageId"] for x in failed}
    assert attempts(url, accountId=DEMO_B["account_id"], messageId=a["id"]) == []
    entry = attempts(url, messageId=a["id"])[0]
    assert set(entry) >= {"time", "url", "statusCode", "error", "authUsed", "elapsedMs", "type", "messageId"}
    states = control(url, "GET", "/_sandbox/messages", params={"accountId": DEMO["account_id"]}, timeout=5).json()
    by_id = {m["id"]: m for m in states["messages"]}
    assert by_id[a["id"]]["recipients"][0]["state"] == "delivered"
    assert by_id[b["id"]]["recipients"][0]["state"] == "failed"
    assert by_id[b["id"]]["recipients"][0]["callback"]["status"] == "delivered"


# -- bins ------------------------------------------------------------------------------------------------

def test_bin_roundtrip(url: str) -> None:
    name = f"bin-{time.time_ns()}"
    own = f"/_sandbox/bins/{name}"
    r = control(url, "POST", own, DEMO, json=[{"type": "message-delivered", "n": 1}])
    assert r.status_code in (200, 204)
    # the admin key may write into a named account's bin; no Authorization header -> authorized False
    control(url, "POST", f"{own}?accountId={DEMO['account_id']}", data=b"not json",
            headers={"Content-Type": "application/json"})
    doc = control(url, "GET", own, DEMO).json()
    assert doc["count"] == 2 and doc["name"] == name
    first, second = doc["requests"]
    assert first["json"] == [{"type": "message-delivered", "n": 1}] and first["authorized"] is True
    assert "Authorization" not in first["headers"] and "authorization" not in {k.lower() for k in first["headers"]}
    assert second["body"] == "not json" and second["json"] is None and second["authorized"] is False
    assert doc["events"] == [{"type": "message-delivered", "n": 1}]
    assert control(url, "GET", own, DEMO_B).json()["count"] == 0  # B's bin of the same name is another bin
    assert name in {b["name"] for b in control(url, "GET", "/_sandbox/bins", DEMO).json()["bins"]}
    assert name not in {b["name"] for b in control(url, "GET", "/_sandbox/bins", DEMO_B).json()["bins"]}
    assert control(url, "DELETE", own, DEMO).json()["deleted"] == 2
    assert control(url, "GET", own, DEMO).json()["count"] == 0


def test_bin_refuses_unsigned_and_foreign_writes(url: str) -> None:
    name = f"forge-{time.time_ns()}"
    own = f"/_sandbox/bins/{name}"
    forged = [{"type": "message-received", "message": {"text": "forged"}}]
    assert requests.post(f"{url}{own}", json=forged, timeout=5).status_code == 401
    fake_sig = {"X-Sandbox-Delivery": f"{DEMO['account_id']}.00.{'0' * 64}"}
    assert requests.post(f"{url}{own}", json=forged, headers=fake_sig, timeout=5).status_code == 401
    # B's credentials write into B's bin, never A's
    assert control(url, "POST", own, DEMO_B, json=forged).status_code in (200, 204)
    assert control(url, "GET", own, DEMO).json()["count"] == 0
    assert requests.get(f"{url}{own}", timeout=5).status_code == 401
    assert control(url, "GET", f"{own}?accountId={DEMO['account_id']}", DEMO_B).status_code == 403


def test_bin_require_auth(url: str) -> None:
    name = f"auth-{time.time_ns()}"
    own = f"/_sandbox/bins/{name}"
    as_a = f"accountId={DEMO['account_id']}"  # admin key writes into A's bin; Basic carries the callback creds
    r = control(url, "POST", f"{own}?require_auth=a:b&{as_a}", json=[{"x": 1}])
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    r = control(url, "POST", f"{own}?require_auth=a:b&{as_a}", json=[{"x": 2}], auth=("a", "b"))
    assert r.status_code in (200, 204)
    control(url, "PUT", own, DEMO, json={"require_auth": "c:d"})
    assert control(url, "POST", f"{own}?{as_a}", json=[{"x": 3}], auth=("a", "b")).status_code == 401
    doc = control(url, "GET", own, DEMO).json()
    assert [r["authorized"] for r in doc["requests"]] == [False, True, False]
    assert doc["events"] == [{"x": 2}]
    assert control(url, "PUT", own, DEMO, json={"require_auth": "nocolon"}).status_code == 400


def test_callbacks_into_a_bin_with_challenge(url: str, world: World) -> None:
    name = f"cb-{time.time_ns()}"
    w = world.provision(f"{url}/_sandbox/bins/{name}?require_auth=hook:pw", cb_creds=("hook", "pw"))
    sent = send(url, msg(frm=w["number"], applicationId=w["app_id"])).json()
    doc = wait_for(lambda: (d := control(url, "GET", f"/_sandbox/bins/{name}", DEMO).json())["events"] and d)
    assert [r["authorized"] for r in doc["requests"]] == [False, True]
    assert doc["requests"][1]["headers"]["User-Agent"] == "BandwidthAPI/v2"
    assert "X-Sandbox-Delivery" not in doc["requests"][1]["headers"]  # the signature is not recorded
    assert doc["events"][0]["message"]["id"] == sent["id"]
    assert control(url, "GET", f"/_sandbox/bins/{name}", DEMO_B).json()["count"] == 0


# -- persistence and several serving processes -------------------------------------------------------

def test_bins_survive_restart(tmp_path: Any, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "bins.db"
    first = sandbox_factory(db=db, settings=FAST)
    control(first.url, "POST", "/_sandbox/bins/keep", DEMO, json=[{"type": "message-received"}])
    first.stop()
    second = sandbox_factory(db=db)
    try:
        doc = control(second.url, "GET", "/_sandbox/bins/keep", DEMO).json()
        assert doc["events"] == [{"type": "message-received"}]
    finally:
        second.stop()


@pytest.mark.slow
def test_pending_callbacks_survive_restart(tmp_path: Any, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "restart.db"
    first = sandbox_factory(db=db, settings={**FAST, "delivery_delay": 1.0})
    SandboxClock(first.url).freeze()  # the clock lives in the db: the second server reads the same time
    rec = Receiver(port=free_port())
    try:
        w = World(first.url).provision(rec.url)
        sent = send(first.url, msg(frm=w["number"], applicationId=w["app_id"])).json()
        first.stop()  # before the event is due
        rec.start()
        second = sandbox_factory(db=db)
        try:
            [pending] = outbox(second.url, messageId=sent["id"])
            assert pending["status"] == "pending" and rec.requests == []  # kept, and not sent before it is due
            SandboxClock(second.url).advance(1.3)
            [event] = _one(rec, sent["id"])
            assert event["type"] == "message-delivered"
            assert [c["status"] for c in settled(second.url, sent["id"])] == ["delivered"]
            assert len(rec.requests) == 1
        finally:
            second.stop()
    finally:
        first.stop()
        rec.stop()


@pytest.mark.slow
def test_two_servers_one_db_deliver_each_event_once(tmp_path: Any, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "two.db"
    a = sandbox_factory(db=db, settings={**FAST, "delivery_delay": 0.3})
    b = sandbox_factory(db=db)
    rec = Receiver().start()
    try:
        w = World(a.url).provision(rec.url)
        ids = [send((a, b)[i % 2].url, msg(frm=w["number"], to=f"+1919666{i:04d}",
                                           applicationId=w["app_id"])).json()["id"] for i in range(30)]
        wait_for(lambda: len(rec.events()) >= 30, timeout=15, what="30 callbacks")
        for message_id in ids:
            settled(a.url, message_id)  # none pending: nothing more will be sent
        got = [e["message"]["id"] for e in rec.events()]
        assert sorted(got) == sorted(ids)
        senders = {x["id"]: x for x in control(a.url, "GET", "/_sandbox/callbacks", timeout=5).json()["callbacks"]}
        assert all(senders_row["status"] == "delivered" for senders_row in senders.values())
    finally:
        rec.stop()
        b.stop()
        a.stop()
