"""MMS in the sandbox (issue 22 item 2), over real HTTP: sends with ``media`` (at most 10 http(s) URLs; the account's
stored media or external ones), callbacks carrying ``message.media`` one per recipient, toll-free MMS over 525 KB
failing 4411, another account's media failing 4410, and inbound pictures stored on the media endpoint behind the
account's credentials."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import xmltodict

from bwhelpers.sandbox.media import models as media_models

from _messaging_helpers import DEMO, DEMO_B, FAST, Receiver, World, send, wait_for
from conftest import control

A = (DEMO["username"], DEMO["password"])
B = (DEMO_B["username"], DEMO_B["password"])
PNG = (Path(__file__).resolve().parents[1] / "bwhelpers" / "assets" / "smile.png").read_bytes()


@pytest.fixture(scope="module")
def sb(sandbox: Any) -> Iterator[Any]:
    saved = control(sandbox.url, "GET", "/_sandbox/settings", timeout=5).json()
    control(sandbox.url, "PUT", "/_sandbox/settings", json=FAST, timeout=5).raise_for_status()
    yield sandbox
    control(sandbox.url, "PUT", "/_sandbox/settings", json={k: saved[k] for k in FAST if k in saved}, timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver().start()
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def rec_mod() -> Iterator[Receiver]:
    rec = Receiver().start()
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def setup_a(sb: Any, rec_mod: Receiver) -> dict[str, str]:
    return World(sb.url).provision(rec_mod.url)


def media_url(sb: Any, name: str, account: str = DEMO["account_id"]) -> str:
    return f"{sb.url}/api/v2/users/{account}/media/{name}"


def upload(sb: Any, name: str, body: bytes = PNG, auth: Any = A, account: str = DEMO["account_id"]) -> str:
    r = requests.put(media_url(sb, name, account), data=body, headers={"Content-Type": "image/png"}, auth=auth,
                     timeout=30)
    assert r.status_code == 204, r.text
    return media_url(sb, name, account)


def mms(setup: dict[str, str], media: list[str], to: Any = "+19195550000", **extra: Any) -> dict[str, Any]:
    return {"from": setup["number"], "to": to, "applicationId": setup["app_id"], "media": media, **extra}


def events(rec: Receiver, message_id: str, n: int = 1) -> list[dict[str, Any]]:
    return wait_for(lambda: len(rec.events_for(message_id)) >= n and rec.events_for(message_id), timeout=8,
                    what=f"{n} callback(s) for {message_id}")


def field_errors(r: requests.Response) -> dict[str, str]:
    assert r.status_code == 400, r.text
    return {e["fieldName"]: e["description"] for e in r.json()["fieldErrors"]}


def test_stored_and_external_media_make_an_mms_whose_callbacks_carry_them(sb: Any, setup_a: dict[str, str],
                                                                          rec_mod: Receiver) -> None:
    stored = upload(sb, "mms-smile.png")
    media = [stored, "https://example.com/picture.jpg"]
    r = send(sb.url, mms(setup_a, media, to=["+19195550000", "+19195550001"], text="a picture"))
    assert r.status_code == 202 and r.json()["media"] == media
    got = events(rec_mod, r.json()["id"], 2)
    # group MMS: one callback per recipient, each naming its recipient in the top-level "to"
    assert sorted(e["to"] for e in got) == ["+19195550000", "+19195550001"]
    for event in got:
        assert event["type"] == "message-delivered" and event["message"]["media"] == media
        assert event["message"]["to"] == ["+19195550000", "+19195550001"]
    listed = requests.get(f"{sb.url}/api/v2/users/{DEMO['account_id']}/messages",
                          params={"messageId": r.json()["id"]}, auth=A, timeout=10).json()["messages"]
    assert {m["messageType"] for m in listed} == {"mms"} and listed[0]["attachmentCount"] == 2
    # media alone (no text) is a message too
    assert send(sb.url, mms(setup_a, [stored])).status_code == 202


def test_eleven_attachments_and_non_http_urls_are_refused_naming_media(sb: Any, setup_a: dict[str, str]) -> None:
    ten = [f"https://example.com/{i}.png" for i in range(10)]
    assert send(sb.url, mms(setup_a, ten)).status_code == 202
    assert "at most 10" in field_errors(send(sb.url, mms(setup_a, ten + ["https://example.com/10.png"])))["media"]
    for bad in ("ftp://example.com/a.png", "file:///etc/passwd", "/api/v2/users/9900000/media/a.png", "smile.png"):
        assert "http or https URL" in field_errors(send(sb.url, mms(setup_a, [bad])))["media"], bad


def test_another_accounts_or_missing_media_fail_4410(sb: Any, setup_a: dict[str, str], rec_mod: Receiver) -> None:
    theirs = upload(sb, "b-only.png", auth=B, account=DEMO_B["account_id"])
    for url in (theirs, media_url(sb, "never-uploaded.png"),
                f"https://messaging.bandwidth.com/api/v2/users/{DEMO['account_id']}/media/never-uploaded.png"):
        sent = send(sb.url, mms(setup_a, [url])).json()
        [event] = events(rec_mod, sent["id"])
        assert event["type"] == "message-failed" and event["errorCode"] == 4410, event
        assert event["description"] == "media-unavailable"


def test_toll_free_mms_over_525_kb_fails_4411(sb: Any, receiver: Receiver) -> None:
    world = World(sb.url)
    app = world.create_app(receiver.url)
    location = world.create_location("tf")
    world.enable_sms(location)
    world.enable_mms(location)
    world.assign(location, app)
    order = ("<Order><TollFreeWildCharSearchAndOrderType><TollFreeWildCardPattern>8**</TollFreeWildCardPattern>"
             f"<Quantity>1</Quantity></TollFreeWildCharSearchAndOrderType><SiteId>{world.site}</SiteId>"
             f"<PeerId>{location}</PeerId></Order>")
    r = requests.post(f"{world.base}/orders", data=order, headers={"Content-Type": "application/xml"}, auth=A,
                      timeout=10)
    assert r.status_code == 201, r.text
    order_id = xmltodict.parse(r.text)["OrderResponse"]["Order"]["id"]
    doc = wait_for(lambda: (d := xmltodict.parse(requests.get(f"{world.base}/orders/{order_id}", auth=A,
                                                              timeout=10).text)["OrderResponse"])
                   .get("OrderStatus") == "COMPLETE" and d, what="toll-free order")
    numbers = doc["CompletedNumbers"]["TelephoneNumber"]
    tn = "+1" + (numbers[0] if isinstance(numbers, list) else numbers)["FullNumber"][-10:]
    setup = {"number": tn, "app_id": app}
    half = upload(sb, "tf-half.png", b"\x89PNG" + b"\0" * 300_000)
    other = upload(sb, "tf-other.png", b"\x89PNG" + b"\0" * 300_000)
    small = send(sb.url, mms(setup, [half])).json()
    assert events(receiver, small["id"])[0]["type"] == "message-delivered"
    big = send(sb.url, mms(setup, [half, other], to=["+19195550000", "+19195550001"])).json()
    got = events(receiver, big["id"], 2)
    assert {(e["type"], e["errorCode"], e["description"]) for e in got} == \
        {("message-failed", 4411, "rejected-message-size-limit-exceeded")}
    assert 300_004 * 2 > media_models.TOLL_FREE_MMS_BYTES
    # the same two pictures from a local number are delivered (the 525 KB rule is the toll-free route's)
    local = World(sb.url).provision(receiver.url)
    sent = send(sb.url, mms(local, [media_url(sb, "tf-half.png"), media_url(sb, "tf-other.png")])).json()
    assert events(receiver, sent["id"])[0]["type"] == "message-delivered"


def inbound(sb: Any, to: str, media: list[Any], creds: dict[str, str] = DEMO, text: str = "") -> requests.Response:
    return control(sb.url, "POST", "/_sandbox/inbound", creds, json={"to": to, "from": "+19195550123",
                                                                      "text": text, "media": media}, timeout=10)


def test_inbound_pictures_arrive_on_the_media_endpoint_behind_credentials(sb: Any, setup_a: dict[str, str],
                                                                          rec_mod: Receiver) -> None:
    upload(sb, "reply-source.png")
    content = base64.b64encode(b"GIF89a-fake").decode()
    r = inbound(sb, setup_a["number"], [{"sample": "sunset"}, {"mediaId": "reply-source.png"},
                                        {"filename": "x.gif", "contentType": "image/gif", "content": content},
                                        "https://example.com/external.png"])
    assert r.status_code == 202, r.text
    message_id = r.json()["message"]["id"]
    [event] = events(rec_mod, message_id)
    assert event["type"] == "message-received" and len(event["message"]["media"]) == 4
    urls = event["message"]["media"]
    assert urls[3] == "https://example.com/external.png"
    prefix = f"{sb.url}/api/v2/users/{DEMO['account_id']}/media/{message_id}/"
    assert urls[:3] == [prefix + "0/sunset.png", prefix + "1/reply-source.png", prefix + "2/x.gif"]
    sunset = requests.get(urls[0], auth=A, timeout=10)
    assert sunset.status_code == 200 and sunset.headers["Content-Type"] == "image/png"
    assert sunset.content == media_models.sample_bytes("sunset")
    assert requests.get(urls[1], auth=A, timeout=10).content == PNG
    assert requests.get(urls[2], auth=A, timeout=10).content == b"GIF89a-fake"
    # the URLs need the account's credentials: none -> 401, another account's -> 403
    assert requests.get(urls[0], timeout=10).status_code == 401
    assert requests.get(urls[0], auth=B, timeout=10).status_code == 403
    # and the received pictures are in the account's media list, under the message id
    names = [m["mediaName"] for m in requests.get(f"{sb.url}/api/v2/users/{DEMO['account_id']}/media", auth=A,
                                                  timeout=10).json()]
    assert f"{message_id}/0/sunset.png" in names


@pytest.mark.parametrize("item, problem", [
    ({"sample": "nope"}, "'sample' must be one of"),
    ({"mediaId": "not-uploaded.png"}, "is not one of your uploaded media"),
    ({"filename": "../x.png", "contentType": "image/png", "content": "AAAA"}, "'filename'"),
    ({"filename": "x.exe", "contentType": "application/x-msdownload", "content": "AAAA"}, "'contentType'"),
    ({"filename": "x.png", "contentType": "image/png", "content": "not base64!"}, "base64"),
    ("javascript:alert(1)", "http or https"),
])
def test_bad_inbound_pictures_are_refused_naming_the_problem(sb: Any, setup_a: dict[str, str], item: Any,
                                                            problem: str) -> None:
    r = inbound(sb, setup_a["number"], [item])
    assert r.status_code == 400 and problem in r.json()["error"], r.text


def test_inbound_pictures_count_against_the_quota(sb: Any, setup_a: dict[str, str]) -> None:
    saved = control(sb.url, "GET", "/_sandbox/settings", timeout=5).json()["media_quota_bytes"]
    control(sb.url, "PUT", "/_sandbox/settings", json={"media_quota_bytes": 1}, timeout=5).raise_for_status()
    try:
        r = inbound(sb, setup_a["number"], [{"sample": "mountains"}])
        assert r.status_code == 400 and "quota" in r.json()["error"]
    finally:
        control(sb.url, "PUT", "/_sandbox/settings", json={"media_quota_bytes": saved}, timeout=5)
