"""Today's application fields in the client (issue 14): InboundCallbackUrl (required), OutboundCallbackUrl,
Inbound/OutboundCallbackCreds and RequestedCallbackTypes, the guide's CallbackUrl as the legacy form, and
mixing the two refused before any request is sent. Against a real sandbox over HTTP."""
from __future__ import annotations

from typing import Any

import pytest
import requests
import xmltodict

from bwhelpers.dashboard import CALLBACK_TYPES, DashboardClient
from bwhelpers.errors import ValidationError
from bwhelpers.sandbox import DEMO

A_AUTH = (DEMO["username"], DEMO["password"])

pytestmark = pytest.mark.timeout(120)


def _apps(d: DashboardClient) -> int:
    return len(d.list_applications().records)


def test_create_application_with_todays_fields(cfg: Any) -> None:
    d = DashboardClient(cfg)
    app = d.create_application("Today", inbound_callback_url="https://in.example.org/cb",
                               outbound_callback_url="https://out.example.org/cb", inbound_user="iu",
                               inbound_password="in-secret-1", callback_types=["message-failed"])
    sent = xmltodict.parse(app.exchange.request_body)["Application"]
    assert list(sent) == ["ServiceType", "AppName", "InboundCallbackUrl", "OutboundCallbackUrl",
                          "InboundCallbackCreds", "RequestedCallbackTypes"]
    assert "CallbackUrl" not in sent and "in-secret-1" not in app.exchange.as_http()
    assert app.data["InboundCallbackUrl"] == "https://in.example.org/cb"
    assert app.data["OutboundCallbackUrl"] == "https://out.example.org/cb"
    assert app.data["MsgCallbackUrl"] == "https://in.example.org/cb"  # the deprecated mirror the docs show
    assert app.data["RequestedCallbackTypes"] == {"CallbackType": ["message-failed"]}  # a list, even of one
    assert d.get_application(app.id).data["InboundCallbackCreds"] == {"UserId": "iu"}


def test_the_guides_callback_url_still_works(cfg: Any) -> None:
    app = DashboardClient(cfg).create_application("Guide", "https://example.org/cb")
    assert "<CallbackUrl>https://example.org/cb</CallbackUrl>" in app.exchange.request_body
    assert app.data["CallbackUrl"] == "https://example.org/cb"


@pytest.mark.parametrize("kwargs,field", [
    ({"callback_url": "https://a.example/x", "inbound_callback_url": "https://a.example/y"}, "callback_url"),
    ({"callback_url": "https://a.example/x", "outbound_callback_url": "https://a.example/y"}, "callback_url"),
    ({"callback_user": "u", "callback_password": "p", "inbound_callback_url": "https://a.example/y"},
     "callback_user"),
    ({"outbound_callback_url": "https://a.example/y"}, "inbound_callback_url"),
    ({"inbound_callback_url": "https://a.example/y", "callback_types": ["message-read"]}, "callback_types"),
    ({"inbound_callback_url": "https://a.example/y", "inbound_user": "u"}, "inbound_user"),
    ({"inbound_callback_url": "https://a.example/y", "outbound_user": "u", "outbound_password": "p"},
     "outbound_user"),
    ({"inbound_callback_url": "not a url"}, "inbound_callback_url"),
])
def test_bad_combinations_are_refused_before_sending(cfg: Any, kwargs: dict[str, Any],
                                                     field: str) -> None:
    d = DashboardClient(cfg)
    before = _apps(d)
    with pytest.raises(ValidationError) as ei:
        d.create_application("Mixed", **kwargs)
    assert ei.value.field == field and field in str(ei.value)
    assert _apps(d) == before  # nothing was sent


def test_setup_defaults_to_todays_fields_and_routes_events_by_direction(clean_sandbox: Any, setup: Any) -> None:
    for _ in setup.run_all():
        pass
    saved = setup.saved["application"]
    assert saved["fields"] == "current" and saved["bin"] and saved["outbound_callback_url"] == saved["callback_url"]
    app = setup.dashboard.get_application(saved["id"]).data
    assert app["InboundCallbackUrl"] == app["OutboundCallbackUrl"] == saved["callback_url"]
    assert "CallbackUrl" not in app
    assert setup.wait_for_event("message-delivered", timeout=20)["type"] == "message-delivered"


def test_setup_with_separate_outbound_bin_reads_both(clean_sandbox: Any, setup: Any) -> None:
    out = f"{clean_sandbox.url}/_sandbox/bins/client-fields-out"
    setup.create_application(name="Split", new=True, outbound_callback_url=out,
                             callback_types=list(CALLBACK_TYPES[:2]))
    saved = setup.saved["application"]
    assert saved["outbound_bin"] == "client-fields-out" and saved["bin"] != "client-fields-out"
    for step in ("create_location", "enable_sms", "enable_mms", "assign_application", "order_numbers",
                 "wait_for_order"):
        getattr(setup, step)()
    setup.send_message(to="+19195550100", text="split")
    event = setup.wait_for_event("message-delivered", timeout=20)
    assert event["type"] == "message-delivered"
    assert requests.get(out, auth=A_AUTH, timeout=5).json()["events"][0]["type"] == "message-delivered"


def test_setup_legacy_callback_url(clean_sandbox: Any, setup: Any) -> None:
    url = f"{clean_sandbox.url}/_sandbox/bins/client-fields-legacy"
    setup.create_application(name="Legacy", new=True, callback_url=url)
    saved = setup.saved["application"]
    assert saved["fields"] == "legacy" and saved["bin"] == "client-fields-legacy"
    assert setup.dashboard.get_application(saved["id"]).data["CallbackUrl"] == url
    with pytest.raises(ValidationError):
        setup.create_application(name="Legacy", new=True, callback_url=url, inbound_callback_url=url)


def test_a_long_app_name_gets_its_own_bin(clean_sandbox: Any, setup: Any) -> None:
    """Review 24d finding 7: "Create a second application" with a ~120-character AppName failed with "name: '…' is
    not an id … (at most 100)", about the sandbox bin made from it, a value nobody typed. The bin's name is now cut
    and keeps a digest, so the application is created, and two long names still get two bins."""
    base = "Sandbox lab <b>x</b> AppName ServiceType voice v2 " * 3
    ids, bins = [], []
    for tail in ("one", "two"):
        result = setup.create_application(name=f"{base}{tail}", new=True)
        saved = setup.saved["application"]
        assert saved["name"] == f"{base}{tail}" and len(saved["bin"]) <= 64, saved
        assert setup.dashboard.get_application(saved["id"]).data["AppName"] == f"{base}{tail}"
        ids.append(result.id)
        bins.append(saved["bin"])
    assert ids[0] != ids[1] and bins[0] != bins[1], bins
    assert requests.get(f"{clean_sandbox.url}/_sandbox/bins/{bins[1]}", auth=A_AUTH, timeout=5).status_code == 200
