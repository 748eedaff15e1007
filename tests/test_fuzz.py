"""Property-based fuzzing (hypothesis) of the sandbox's XML and JSON request parsers over real HTTP,
and of bwhelpers' response parsing: arbitrary bodies never give a 5xx or a traceback, and the client
raises only its own documented exceptions (``BandwidthError`` subclasses; ``xmlio.XmlParseError``)."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest
import requests
import xmltodict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from guide import GUIDE_2018  # the guide's steps as in 2018 (no A2P step): a2p_enforcement off

import _reliability_report as report
from _reliability_report import add
from _reliability_support import TIMEOUT
from conftest import secrets_forgotten
from bwhelpers.sandbox import DEMO

plugin = report.fixture()

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
PURE = settings(max_examples=300, deadline=None)
A = "/api/accounts/9900000"
AUTH = (DEMO["username"], DEMO["password"])


@pytest.fixture(scope="module")
def fz(sandbox_factory: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    from conftest import XmlSession

    handle = sandbox_factory(order_delay=0, reset=True, settings={"delivery_delay": 0, **GUIDE_2018})
    s = XmlSession(handle.url, DEMO)
    w = s.world()
    w["url"], w["http"] = handle.url, requests.Session()
    w["http"].auth = AUTH
    yield w
    handle.stop()


def check(w: dict[str, Any], method: str, path: str, body: bytes, ctype: str, kind: str) -> requests.Response:
    r = w["http"].request(method, w["url"] + path, data=body, headers={"Content-Type": ctype}, timeout=TIMEOUT)
    add("fuzz", f"{kind}: requests", 1)
    if r.status_code >= 500:
        add("fuzz", f"{kind}: 5xx", 1)
    text = r.content.decode("utf-8", "replace")
    assert r.status_code < 500, f"{method} {path} {body[:200]!r} -> {r.status_code} {text[:300]}"
    assert "Traceback" not in text
    if r.status_code >= 400:
        if ctype.startswith("application/json") or "/messages" in path:
            doc = r.json()
            assert isinstance(doc.get("type"), str) and isinstance(doc.get("description"), str), doc
        else:
            doc = xmltodict.parse(r.content)
            (root, inner), = doc.items()
            assert "ResponseStatus" in inner or "ErrorList" in inner or "Error" in inner, text[:300]
    return r


XML_PATHS = [("POST", A + "/applications"), ("POST", A + "/sites/9901/sippeers"), ("POST", A + "/orders"),
             ("POST", A + "/sites"), ("PUT", A + "/sites/9901/sippeers/{peer}/products/messaging/applicationSettings"),
             ("PUT", A + "/sites/9901/sippeers/{peer}/products/messaging/features/sms"),
             ("PUT", A + "/sites/9901/sippeers/{peer}/products/messaging/features/mms"),
             ("POST", A + "/disconnects"), ("PATCH", A + "/applications/{app}")]

NAMES = ["Application", "AppName", "CallbackUrl", "CallbackCreds", "CallBackCreds", "UserId", "Password", "ServiceType",
         "InboundCallbackUrl", "RequestedCallbackTypes", "CallbackType", "SipPeer", "PeerName", "IsDefaultPeer",
         "Order", "SiteId", "PeerId", "AreaCodeSearchAndOrderType", "AreaCode", "Quantity", "ZIPSearchAndOrderType",
         "Zip", "ExistingTelephoneNumberOrderType", "TelephoneNumberList", "TelephoneNumber", "CustomerOrderId",
         "PartialAllowed", "BackOrderRequested", "ApplicationsSettings", "HttpMessagingV2AppId", "SipPeerSmsFeature",
         "SipPeerSmsFeatureSettings", "Protocol", "protocol", "Zone1", "HttpSettings", "ProxyPeerId", "MmsFeature",
         "MmsSettings", "Protocols", "HTTP", "Site", "Name", "Address", "DisconnectTelephoneNumberOrder",
         "DisconnectTelephoneNumberOrderType", "x"]
TEXTS = st.one_of(st.sampled_from(["", "true", "false", "HTTP", "REMOVE", "910", "9901", "1", "0", "-1", "5001",
                                   "https://a.example/cb", "http://127.0.0.1:1/x", "Messaging-V2", "9195550100",
                                   "' OR 1=1 --", "%", "\\", "<", "&amp;", "]]>"]),
                  st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


elements = st.recursive(
    TEXTS.map(_escape),
    lambda children: st.lists(st.tuples(st.sampled_from(NAMES), children), max_size=5).map(
        lambda kids: "".join(f"<{n}>{c}</{n}>" for n, c in kids)),
    max_leaves=25)
documents = st.tuples(st.sampled_from(NAMES), elements).map(lambda t: f"<{t[0]}>{t[1]}</{t[0]}>".encode("utf-8"))


@FUZZ
@given(path=st.sampled_from(XML_PATHS), body=st.binary(max_size=2000))
@pytest.mark.slow
def test_arbitrary_bytes_to_xml_endpoints_never_5xx(fz: dict[str, Any], path: tuple[str, str], body: bytes) -> None:
    method, p = path
    check(fz, method, p.format(**fz), body, "application/xml", "XML endpoints, arbitrary bytes")


@FUZZ
@given(path=st.sampled_from(XML_PATHS), body=documents)
@pytest.mark.slow
def test_arbitrary_xml_documents_never_5xx(fz: dict[str, Any], path: tuple[str, str], body: bytes) -> None:
    method, p = path
    check(fz, method, p.format(**fz), body, "application/xml", "XML endpoints, generated documents")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXTS,
    lambda children: st.lists(children, max_size=12) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30)
messages = st.fixed_dictionaries({}, optional={
    "to": st.one_of(json_values, st.lists(st.sampled_from(["+19195550100", "9195550101", "+1919555", "abc"]), max_size=12)),
    "from": st.one_of(json_values, st.sampled_from(["+19105550100", "{tn}"])),
    "text": json_values, "applicationId": st.one_of(json_values, st.just("{app}")), "media": json_values,
    "tag": json_values, "priority": json_values, "expiration": json_values})


@FUZZ
@given(body=st.one_of(messages, json_values))
@pytest.mark.slow
def test_arbitrary_json_to_messages_never_5xx(fz: dict[str, Any], body: Any) -> None:
    raw = json.dumps(body).replace("{tn}", "+1" + fz["tns"][0]).replace("{app}", fz["app"]).encode()
    r = check(fz, "POST", "/api/v2/users/9900000/messages", raw, "application/json", "Messaging JSON")
    assert r.status_code in (202, 400), r.text


@FUZZ
@given(body=st.binary(max_size=2000), ctype=st.sampled_from(["application/json", "application/json; charset=utf-8"]))
@pytest.mark.slow
def test_arbitrary_bytes_to_messages_never_5xx(fz: dict[str, Any], body: bytes, ctype: str) -> None:
    check(fz, "POST", "/api/v2/users/9900000/messages", body, ctype, "Messaging JSON, arbitrary bytes")


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["areaCode", "quantity", "npaNxx", "zip", "city", "state", "lata",
                                               "rateCenter", "enableTNDetail", "orderBy", "tollFreeVanity",
                                               "tollFreeWildCardPattern", "page", "size"]), TEXTS, max_size=4),
       path=st.sampled_from(["/availableNumbers", "/orders", "/inserviceNumbers"]))
@pytest.mark.slow
def test_arbitrary_query_strings_never_5xx(fz: dict[str, Any], params: dict[str, str], path: str) -> None:
    r = fz["http"].get(fz["url"] + A + path, params=params, timeout=TIMEOUT)
    add("fuzz", "Dashboard query strings: requests", 1)
    assert r.status_code < 500, (params, r.text[:300])
    if r.status_code >= 400:
        doc = xmltodict.parse(r.content)
        (_, inner), = doc.items()
        assert "Error" in inner or "ResponseStatus" in inner


# -- bwhelpers response parsing ------------------------------------------------------------------

bodies = st.one_of(st.binary(max_size=3000), st.text(max_size=3000), documents.map(lambda b: b.decode()),
                   json_values.map(json.dumps), st.just("[" * 5000), st.just('{"a":' * 5000),
                   st.just("<a>" * 3000 + "</a>" * 3000))


@PURE
@given(body=bodies)
@pytest.mark.slow
def test_parse_error_body_never_raises(body: Any) -> None:
    from bwhelpers.errors import parse_error_body

    out = parse_error_body(body)
    add("fuzz", "parse_error_body: inputs", 1)
    assert isinstance(out, dict) and set(out) <= {"code", "description", "details", "field"}
    assert all(isinstance(out[k], str) for k in ("code", "description") if k in out)


@PURE
@given(status=st.integers(400, 599), body=bodies, retry_after=st.one_of(st.none(), TEXTS))
@example(status=400, body="<Application><Password>HTTP</Password></Application>", retry_after=None)  # (found once)
@pytest.mark.slow
def test_error_from_response_builds_a_bandwidth_error(status: int, body: Any, retry_after: str | None) -> None:
    from bwhelpers.errors import BandwidthError, RateLimitError, error_class_for, error_from_response

    headers = {"Content-Type": "application/xml"} if retry_after is None else {"Retry-After": retry_after}
    from bwhelpers.masking import scrub

    with secrets_forgotten():  # an earlier example's fuzzed <Password>HTTP</Password> would mask "HTTP" here
        err = error_from_response(status, body, headers=headers)
        text = str(err)
        # a body naming a password of its own ("<Password>HTTP</Password>") has it masked everywhere, the status's
        # words too: the message names the status as every output shows it
        status_words = scrub(f"HTTP {status}")
    add("fuzz", "error_from_response: inputs", 1)
    assert isinstance(err, BandwidthError) and err.status == status
    assert type(err) is error_class_for(status, err.code), "the class follows the status and Bandwidth's code"
    assert status_words in text and str(status) in text, "the message names the status"
    if isinstance(err, RateLimitError):
        assert err.retry_after is None or err.retry_after >= 0


@PURE
@given(body=bodies)
@pytest.mark.slow
def test_xmlio_parse_raises_only_xml_parse_error(body: Any) -> None:
    from bwhelpers import xmlio

    add("fuzz", "xmlio.parse: inputs", 1)
    try:
        out = xmlio.parse(body)
    except xmlio.XmlParseError:
        return
    assert isinstance(out, dict)


class _CannedSession(requests.Session):
    """A session that answers every request with a canned status/body (no network)."""

    def __init__(self, status: int, body: bytes, ctype: str):
        super().__init__()
        self.canned = (status, body, ctype)

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:  # type: ignore[override]
        prepared = requests.Request(method, url, data=kw.get("data"), json=kw.get("json"), params=kw.get("params"),
                                    headers=kw.get("headers")).prepare()
        resp = requests.Response()
        resp.status_code, resp._content, ctype = self.canned
        resp.headers["Content-Type"] = ctype
        resp.request, resp.url, resp.encoding = prepared, prepared.url or url, "utf-8"
        return resp


APP_UUID = "d775585a-ed5b-4a49-8b96-f68c0a993ebe"  # ids are checked for their kind before any request


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from([200, 201, 202, 204, 400, 401, 403, 404, 409, 429, 500, 503]), body=bodies,
       ctype=st.sampled_from(["application/xml", "application/json", "text/html"]),
       call=st.sampled_from(["get_application", "list_applications", "get_order", "create_location", "search_numbers",
                             "send_message", "list_messages", "enable_sms", "disconnect_numbers"]))
@pytest.mark.slow
def test_clients_raise_only_documented_errors(status: int, body: Any, ctype: str, call: str) -> None:
    from bwhelpers.config import Config
    from bwhelpers.dashboard import DashboardClient
    from bwhelpers.errors import BandwidthError
    from bwhelpers.messaging import MessagingClient

    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    cfg = Config(target="sandbox", dashboard_url="http://127.0.0.1:9/api", messaging_url="http://127.0.0.1:9/api/v2",
                 account_id="9900000", site_id="9901", username="u", password="p-fuzz-secret")
    session = _CannedSession(status, raw, ctype)
    d, m = DashboardClient(cfg, session=session), MessagingClient(cfg, session=session)
    calls = {
        "get_application": lambda: d.get_application(APP_UUID), "list_applications": d.list_applications,
        "get_order": lambda: d.get_order(APP_UUID), "create_location": lambda: d.create_location("x"),
        "search_numbers": lambda: d.search_numbers(area_code="910"),
        "send_message": lambda: m.send_message("+19195550100", "hi", "+19195550101", "app"),
        "list_messages": m.list_messages, "enable_sms": lambda: d.enable_sms("1"),
        "disconnect_numbers": lambda: d.disconnect_numbers(["9195550100"]),
    }
    add("fuzz", "client calls on canned responses", 1)
    try:
        calls[call]()
    except BandwidthError as exc:
        assert "p-fuzz-secret" not in str(exc)
        if status >= 400:
            assert exc.status == status
