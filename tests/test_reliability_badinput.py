"""Bad input: a battery of malformed, hostile and invalid requests against a real sandbox over HTTP.

Every case must get the service's documented 4xx status AND error body (Dashboard XML
``ResponseStatus/ErrorCode``, ``ErrorList/Error/Code``, ``SearchResult/Error`` or Messaging JSON
``{type, description[, fieldErrors]}``), never a 5xx, a traceback or a hang (every request has a
timeout), and the account's objects are the same afterwards (a snapshot of every list endpoint).

SQL metacharacters go into every string field: each value is either refused (4xx) or stored and
echoed back literally, and nothing else changes.

The same battery goes through the bwhelpers API: each bad argument raises ``ValidationError`` naming
the field, before any request (the client points at a closed port and every send is counted).
"""
from __future__ import annotations

import http.client
import json
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
import xmltodict
from guide import GUIDE_2018  # the guide's steps as in 2018 (no A2P step): a2p_enforcement off

import _reliability_report as report
from _reliability_report import add
from _reliability_support import TIMEOUT, free_port, snapshot
from bwhelpers.sandbox import DEMO, DEMO_B

plugin = report.fixture()
JSON_TYPES = {"request-validation", "unauthorized", "forbidden", "unsupported-content-type", "method-not-allowed",
              "request-entity-too-large"}

A = "/api/accounts/9900000"
XML = {"Content-Type": "application/xml; charset=utf-8"}
JSON = {"Content-Type": "application/json"}
SQL = "x'); DROP TABLE accounts; -- \" OR 1=1 /* % _ \\"
SMS_OK = ("<SipPeerSmsFeature><SipPeerSmsFeatureSettings><TollFree>true</TollFree><ShortCode>true</ShortCode>"
          "<Protocol>HTTP</Protocol><Zone1>true</Zone1><Zone2>false</Zone2><Zone3>false</Zone3><Zone4>false</Zone4>"
          "<Zone5>false</Zone5></SipPeerSmsFeatureSettings><HttpSettings><ProxyPeerId>539692</ProxyPeerId>"
          "</HttpSettings></SipPeerSmsFeature>")
MMS_OK = ("<MmsFeature><MmsSettings><protocol>HTTP</protocol></MmsSettings><Protocols><HTTP><HttpSettings>"
          "<ProxyPeerId>539692</ProxyPeerId></HttpSettings></HTTP></Protocols></MmsFeature>")
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
          + ']><Application><AppName>&lol9;</AppName><CallbackUrl>https://a.example/cb</CallbackUrl></Application>')
XXE = ('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       "<Application><AppName>&xxe;</AppName><CallbackUrl>https://a.example/cb</CallbackUrl></Application>")
XXE_PARAM = ('<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd"> %ext;]>'
             "<SipPeer><PeerName>x</PeerName></SipPeer>")


def app_xml(name: str = "Bad", url: str = "https://a.example/cb", extra: str = "") -> str:
    return f"<Application><AppName>{name}</AppName><CallbackUrl>{url}</CallbackUrl>{extra}</Application>"


def order_xml(inner: str = "<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode><Quantity>1</Quantity>"
                           "</AreaCodeSearchAndOrderType>", site: str = "<SiteId>9901</SiteId>", extra: str = "") -> str:
    return f"<Order>{inner}{site}{extra}</Order>"


def msg(**changes: Any) -> bytes:
    body: dict[str, Any] = {"to": ["+19195550100"], "from": "{tn}", "text": "hi", "applicationId": "{app}"}
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


RS, EL, SR, JS = "ResponseStatus", "ErrorList", "SearchResult", "json"
M = "/api/v2/users/9900000/messages"
L = "/v2/users/u-sandbox/messages"
P = A + "/sites/9901/sippeers/{peer}"
P2 = A + "/sites/9901/sippeers/{peer2}"
APPSET = P + "/products/messaging/applicationSettings"

# (id, method, path, body, request options) -> (status, shape, expected code/type or field, expected root)
CASES: list[tuple[str, str, str, Any, dict[str, Any], tuple[int, str, str | None, str | None]]] = [
    # -- XML syntax and shape -------------------------------------------------------------------
    ("malformed-app", "POST", A + "/applications", "<Application><AppName>x</AppName", {}, (400, RS, None, "ApplicationProvisioningResponse")),
    ("malformed-peer", "POST", A + "/sites/9901/sippeers", "<SipPeer><PeerName>x</Peer></SipPeer>", {}, (400, RS, None, "SipPeerResponse")),
    ("malformed-order", "POST", A + "/orders", "<Order><SiteId>9901</Order>", {}, (400, EL, None, "OrderResponse")),
    ("malformed-sms", "POST", P2 + "/products/messaging/features/sms", "<SipPeerSmsFeature><<", {}, (400, RS, None, "SipPeerSmsFeatureResponse")),
    ("malformed-appsettings", "PUT", APPSET, "<ApplicationsSettings>&bogus;</ApplicationsSettings>", {}, (400, RS, None, "ApplicationsSettingsResponse")),
    ("not-xml-at-all", "POST", A + "/applications", "AppName=x&CallbackUrl=y", {}, (400, RS, None, None)),
    ("two-roots", "POST", A + "/applications", app_xml() + app_xml(), {}, (400, RS, None, None)),
    ("wrong-root-app", "POST", A + "/applications", "<App><AppName>x</AppName></App>", {}, (400, RS, None, "ApplicationProvisioningResponse")),
    ("wrong-root-peer", "POST", A + "/sites/9901/sippeers", "<Location><PeerName>x</PeerName></Location>", {}, (400, RS, None, "SipPeerResponse")),
    ("wrong-root-appsettings", "PUT", APPSET, "<ApplicationSettings><HttpMessagingV2AppId>{app}</HttpMessagingV2AppId></ApplicationSettings>", {}, (400, RS, None, "ApplicationsSettingsResponse")),
    ("wrong-root-order-case", "POST", A + "/orders", "<order><SiteId>9901</SiteId></order>", {}, (400, EL, None, "OrderResponse")),
    ("wrong-root-sms", "POST", P2 + "/products/messaging/features/sms", SMS_OK.replace("SipPeerSmsFeature>", "SmsFeature>"), {}, (400, RS, None, "SipPeerSmsFeatureResponse")),
    ("too-deep", "POST", A + "/applications", "<a>" * 200 + "</a>" * 200, {}, (400, RS, None, None)),
    # -- casing and verb slips of an old SDK ------------------------------------------------------
    ("casing-CallBackCreds", "POST", A + "/applications", app_xml(extra="<CallBackCreds><UserId>u</UserId><Password>p</Password></CallBackCreds>"), {}, (400, RS, "1003", "ApplicationProvisioningResponse")),
    ("casing-protocol-sms", "POST", P2 + "/products/messaging/features/sms", SMS_OK.replace("<Protocol>HTTP</Protocol>", "<protocol>HTTP</protocol>"), {}, (400, RS, "13567", "SipPeerSmsFeatureResponse")),
    ("casing-PROTOCOL-sms", "POST", P2 + "/products/messaging/features/sms", SMS_OK.replace("<Protocol>HTTP</Protocol>", "<PROTOCOL>HTTP</PROTOCOL>"), {}, (400, RS, "13567", None)),
    ("post-appsettings-405", "POST", APPSET, "<ApplicationsSettings><HttpMessagingV2AppId>{app}</HttpMessagingV2AppId></ApplicationsSettings>", {}, (405, RS, "405", "ApplicationsSettingsResponse")),
    ("patch-appsettings-405", "PATCH", APPSET, "<ApplicationsSettings>REMOVE</ApplicationsSettings>", {}, (405, RS, None, None)),
    ("delete-app-collection-405", "DELETE", A + "/applications", None, {}, (405, RS, None, None)),
    ("put-orders-collection-405", "PUT", A + "/orders", order_xml(), {}, (405, None, None, None)),
    ("put-messages-405", "PUT", M, msg(), {"headers": JSON}, (405, JS, "method-not-allowed", None)),
    # -- size and attacks -------------------------------------------------------------------------
    ("oversized-xml-413", "POST", A + "/applications", app_xml(name="x" * 300_000), {}, (413, RS, "413", None)),
    ("oversized-json-413", "POST", M, msg(text="x" * 300_000), {"headers": JSON}, (413, JS, "request-entity-too-large", None)),
    ("billion-laughs", "POST", A + "/applications", LAUGHS, {}, (400, RS, None, None)),
    ("xxe-file", "POST", A + "/applications", XXE, {}, (400, RS, None, None)),
    ("xxe-parameter-entity", "POST", A + "/sites/9901/sippeers", XXE_PARAM, {}, (400, RS, None, None)),
    ("doctype-only", "POST", A + "/sites/9901/sippeers", '<!DOCTYPE SipPeer SYSTEM "x.dtd"><SipPeer><PeerName>x</PeerName></SipPeer>', {}, (400, RS, None, None)),
    ("deep-json", "POST", M, b"[" * 50_000 + b"]" * 50_000, {"headers": JSON}, (400, JS, "request-validation", None)),
    # -- values -----------------------------------------------------------------------------------
    ("non-utf8-xml", "POST", A + "/applications", app_xml(name="caf\xe9").encode("latin-1"), {}, (400, RS, None, None)),
    ("utf16-xml", "POST", A + "/applications", ('<?xml version="1.0" encoding="UTF-16"?>' + app_xml()).encode("utf-16"), {}, (400, RS, None, None)),
    ("non-utf8-json", "POST", M, b'{"text": "caf\xe9"}', {"headers": JSON}, (400, JS, "request-validation", None)),
    ("lone-surrogate-json", "POST", M, msg(text="\ud800"), {"headers": JSON}, (400, JS, "request-validation", None)),
    ("nul-in-xml", "POST", A + "/applications", app_xml(name="a&#0;b"), {}, (400, RS, None, None)),
    ("empty-body-app", "POST", A + "/applications", "", {}, (400, RS, None, None)),
    ("empty-body-order", "POST", A + "/orders", "", {}, (400, EL, None, "OrderResponse")),
    ("empty-root-app", "POST", A + "/applications", "<Application/>", {}, (400, RS, "12806", None)),
    ("missing-appname", "POST", A + "/applications", "<Application><CallbackUrl>https://a.example/cb</CallbackUrl></Application>", {}, (400, RS, "12806", None)),
    ("blank-appname", "POST", A + "/applications", app_xml(name="   "), {}, (400, RS, "12806", None)),
    ("missing-callback-url", "POST", A + "/applications", "<Application><AppName>x</AppName></Application>", {}, (400, RS, "12802", None)),
    ("bad-callback-url", "POST", A + "/applications", app_xml(url="ftp://a.example/cb"), {}, (400, RS, "12803", None)),
    ("callback-url-bad-port", "POST", A + "/applications", app_xml(url="https://a.example:99999/cb"), {}, (400, RS, "12803", None)),
    ("bad-service-type", "POST", A + "/applications", app_xml(extra="<ServiceType>Voice-V2</ServiceType>"), {}, (400, RS, "12801", None)),
    ("creds-need-https", "POST", A + "/applications", app_xml(url="http://a.example/cb", extra="<CallbackCreds><UserId>u</UserId><Password>p</Password></CallbackCreds>"), {}, (400, RS, "12812", None)),
    ("missing-peername", "POST", A + "/sites/9901/sippeers", "<SipPeer><IsDefaultPeer>true</IsDefaultPeer></SipPeer>", {}, (400, RS, "1003", "SipPeerResponse")),
    ("bad-bool", "POST", A + "/sites/9901/sippeers", "<SipPeer><PeerName>x</PeerName><IsDefaultPeer>yes</IsDefaultPeer></SipPeer>", {}, (400, RS, "1003", None)),
    ("missing-sms-settings", "POST", P2 + "/products/messaging/features/sms", "<SipPeerSmsFeature><HttpSettings/></SipPeerSmsFeature>", {}, (400, RS, "1003", None)),
    ("zone1-false", "POST", P2 + "/products/messaging/features/sms", SMS_OK.replace("<Zone1>true</Zone1>", "<Zone1>false</Zone1>"), {}, (400, RS, "1003", None)),
    ("sms-protocol-smpp", "POST", P2 + "/products/messaging/features/sms", SMS_OK.replace(">HTTP<", ">SMPP<"), {}, (400, RS, "13567", None)),
    ("mms-before-sms", "POST", P2 + "/products/messaging/features/mms", MMS_OK, {}, (400, RS, "12784", "MmsFeatureResponse")),
    ("assign-before-sms", "PUT", P2 + "/products/messaging/applicationSettings", "<ApplicationsSettings><HttpMessagingV2AppId>{app}</HttpMessagingV2AppId></ApplicationsSettings>", {}, (400, RS, "13645", None)),
    ("appsettings-empty-id", "PUT", APPSET, "<ApplicationsSettings><HttpMessagingV2AppId></HttpMessagingV2AppId></ApplicationsSettings>", {}, (400, RS, "13628", None)),
    ("appsettings-unknown-app", "PUT", APPSET, "<ApplicationsSettings><HttpMessagingV2AppId>no-such-app</HttpMessagingV2AppId></ApplicationsSettings>", {}, (400, RS, "13629", None)),
    ("appsettings-other-accounts-app", "PUT", APPSET, "<ApplicationsSettings><HttpMessagingV2AppId>{appB}</HttpMessagingV2AppId></ApplicationsSettings>", {}, (400, RS, "13629", None)),
    ("delete-peer-with-sms", "DELETE", P, None, {}, (400, RS, "13613", None)),
    ("delete-used-app", "DELETE", A + "/applications/{app}", None, {}, (400, RS, "12107", None)),
    ("order-missing-siteid", "POST", A + "/orders", order_xml(site=""), {}, (400, EL, "5022", "OrderResponse")),
    ("order-other-accounts-site", "POST", A + "/orders", order_xml(site="<SiteId>9911</SiteId>"), {}, (400, EL, "5016", None)),
    ("order-unknown-peer", "POST", A + "/orders", order_xml(extra="<PeerId>999999</PeerId>"), {}, (400, EL, "5023", None)),
    ("order-quantity-zero", "POST", A + "/orders", order_xml("<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode><Quantity>0</Quantity></AreaCodeSearchAndOrderType>"), {}, (400, EL, "5009", None)),
    ("order-quantity-text", "POST", A + "/orders", order_xml("<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode><Quantity>ten</Quantity></AreaCodeSearchAndOrderType>"), {}, (400, EL, "5009", None)),
    ("order-quantity-huge", "POST", A + "/orders", order_xml("<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode><Quantity>99999999999999999999</Quantity></AreaCodeSearchAndOrderType>"), {}, (400, EL, "5009", None)),
    ("order-no-type", "POST", A + "/orders", order_xml(inner=""), {}, (400, EL, "1003", None)),
    ("order-bad-areacode", "POST", A + "/orders", order_xml("<AreaCodeSearchAndOrderType><AreaCode>91a</AreaCode></AreaCodeSearchAndOrderType>"), {}, (400, EL, None, None)),
    ("order-bad-customer-id", "POST", A + "/orders", order_xml(extra="<CustomerOrderId>" + "x" * 41 + "</CustomerOrderId>"), {}, (400, EL, "5052", None)),
    ("search-no-criteria", "GET", A + "/availableNumbers", None, {}, (400, SR, "4010", None)),
    ("search-quantity-text", "GET", A + "/availableNumbers?areaCode=910&quantity=abc", None, {}, (400, SR, "4000", None)),
    ("search-areacode-text", "GET", A + "/availableNumbers?areaCode=abc", None, {}, (400, SR, "4001", None)),
    ("search-bad-bool", "GET", A + "/availableNumbers?areaCode=910&enableTNDetail=maybe", None, {}, (400, SR, "4000", None)),
    ("orders-bad-page", "GET", A + "/orders?page=abc", None, {}, (400, RS, "1003", None)),
    # -- ids: non-numeric, traversal, metacharacters ---------------------------------------------
    ("peer-id-text", "GET", A + "/sites/9901/sippeers/abc", None, {}, (400, RS, "13563", "SipPeerResponse")),
    ("order-id-text", "GET", A + "/orders/not-an-order", None, {}, (404, RS, None, "OrderResponse")),
    ("site-id-text", "GET", A + "/sites/abc", None, {}, (404, RS, "12016", None)),
    ("account-id-text", "GET", "/api/accounts/abc/applications", None, {}, (403, RS, "1001", None)),
    ("traversal-app-id", "GET", A + "/applications/..%2F..%2F..%2Fetc%2Fpasswd", None, {}, (404, RS, "23019", None)),
    ("traversal-peer-id", "GET", A + "/sites/9901/sippeers/..%2F..%2F9911", None, {}, (400, RS, "13563", None)),
    ("traversal-order-id", "GET", A + "/orders/..%2F..%2F_sandbox%2Freset", None, {}, (404, RS, None, None)),
    ("traversal-raw-dotdot", "POST", A + "/../../_sandbox/reset", None, {"raw": True}, (404, RS, None, None)),
    ("sql-in-app-id", "GET", A + "/applications/" + urllib.parse.quote("' OR '1'='1", safe=""), None, {}, (404, RS, "23019", None)),
    ("nul-in-app-id", "GET", A + "/applications/abc%00def", None, {}, (404, RS, "23019", None)),
    ("other-accounts-app-id", "GET", A + "/applications/{appB}", None, {}, (404, RS, "23019", None)),
    # -- messaging values -------------------------------------------------------------------------
    ("text-2049", "POST", M, msg(text="x" * 2049), {"headers": JSON}, (400, JS, "text", None)),
    ("eleven-recipients", "POST", M, msg(to=[f"+1919555{i:04d}" for i in range(100, 111)]), {"headers": JSON}, (400, JS, "to", None)),
    ("to-not-e164", "POST", M, msg(to=["12345"]), {"headers": JSON}, (400, JS, "to", None)),
    ("to-letters", "POST", M, msg(to=["+1919CALLNOW"]), {"headers": JSON}, (400, JS, "to", None)),
    ("to-npa-zero", "POST", M, msg(to=["+10195550100"]), {"headers": JSON}, (400, JS, "to", None)),
    ("from-not-e164", "POST", M, msg(**{"from": "+0 555"}), {"headers": JSON}, (400, JS, "from", None)),
    ("from-two-numbers", "POST", M, msg(**{"from": ["+19195550101", "+19195550102"]}), {"headers": JSON}, (400, JS, "from", None)),
    ("missing-application-id", "POST", M, msg(applicationId=...), {"headers": JSON}, (400, JS, "applicationId", None)),
    ("missing-everything", "POST", M, b"{}", {"headers": JSON}, (400, JS, "to", None)),
    ("text-not-string", "POST", M, msg(text=42), {"headers": JSON}, (400, JS, "text", None)),
    ("media-not-urls", "POST", M, msg(media=[1, 2]), {"headers": JSON}, (400, JS, "media", None)),
    ("priority-bad", "POST", M, msg(priority="urgent"), {"headers": JSON}, (400, JS, "priority", None)),
    ("expiration-past", "POST", M, msg(expiration="2001-01-01T00:00:00Z"), {"headers": JSON}, (400, JS, "expiration", None)),
    ("json-array-body", "POST", M, b"[1, 2, 3]", {"headers": JSON}, (400, JS, "body", None)),
    ("json-malformed", "POST", M, b'{"to": ["+19195550100"]', {"headers": JSON}, (400, JS, "request-validation", None)),
    ("list-limit-zero", "GET", M + "?limit=0", None, {}, (400, JS, "limit", None)),
    ("list-limit-text", "GET", M + "?limit=ten", None, {}, (400, JS, "limit", None)),
    # -- content type and auth --------------------------------------------------------------------
    ("ctype-text-plain-messages", "POST", M, msg(), {"headers": {"Content-Type": "text/plain"}}, (415, JS, "unsupported-content-type", None)),
    ("ctype-missing-messages", "POST", M, msg(), {"headers": {"Content-Type": ""}}, (415, JS, "unsupported-content-type", None)),
    ("ctype-json-on-xml", "POST", A + "/applications", app_xml(), {"headers": JSON}, (415, RS, "415", None)),
    ("ctype-form-on-orders", "POST", A + "/orders", order_xml(), {"headers": {"Content-Type": "application/x-www-form-urlencoded"}}, (415, EL, "415", "OrderResponse")),
    ("no-auth-dashboard", "GET", A + "/applications", None, {"auth": None}, (401, RS, None, None)),
    ("no-auth-post-dashboard", "POST", A + "/applications", app_xml(), {"auth": None}, (401, RS, None, None)),
    ("wrong-password-dashboard", "GET", A + "/sites", None, {"auth": ("sandbox-user", "wrong")}, (401, RS, None, None)),
    ("garbage-authorization", "GET", A + "/sites", None, {"auth": None, "headers": {"Authorization": "Basic !!!not-base64"}}, (401, RS, None, None)),
    ("bearer-authorization", "GET", A + "/sites", None, {"auth": None, "headers": {"Authorization": "Bearer abc.def"}}, (401, RS, None, None)),
    ("no-auth-messages", "POST", M, msg(), {"auth": None, "headers": JSON}, (401, JS, "unauthorized", None)),
    ("wrong-account-dashboard", "GET", A + "/applications", None, {"auth": "b"}, (403, RS, "1001", None)),
    ("wrong-account-post-dashboard", "POST", A + "/sites/9901/sippeers", "<SipPeer><PeerName>x</PeerName></SipPeer>", {"auth": "b"}, (403, RS, "1001", None)),
    ("wrong-account-messages", "POST", M, msg(), {"auth": "b", "headers": JSON}, (403, JS, "forbidden", None)),
    ("legacy-wrong-secret", "POST", L, msg(), {"auth": ("t-sandbox", "nope"), "headers": JSON}, (401, JS, "unauthorized", None)),
    ("legacy-other-users-token", "POST", L, msg(), {"auth": ("t-sandbox-b", "s-sandbox-b"), "headers": JSON}, (403, JS, "forbidden", None)),
]

IDS = [c[0] for c in CASES]
assert len(CASES) >= 50 and len(set(IDS)) == len(IDS)


@pytest.fixture(scope="module")
def world(sandbox_factory: Callable[..., Any]) -> Iterator[dict[str, Any]]:
    """Its own sandbox: account A with the guide's objects (and a bare location), account B with an app."""
    from conftest import XmlSession

    handle = sandbox_factory(order_delay=0, reset=True, settings={"delivery_delay": 0, **GUIDE_2018})
    a, b = XmlSession(handle.url, DEMO), XmlSession(handle.url, DEMO_B)
    w = a.world()
    w["peer2"] = a.create_peer(name="Bare", default=False)
    w["appB"] = b.create_app()
    w["tn"] = "+1" + w["tns"][0]
    w["url"] = handle.url
    w["handle"] = handle
    w["before"] = snapshot(handle.url, DEMO)
    w["before_b"] = snapshot(handle.url, DEMO_B)
    yield w
    handle.stop()


def fill(text: Any, w: dict[str, Any]) -> Any:
    if text is None:
        return None
    raw = text.encode("utf-8") if isinstance(text, str) else text
    for key in ("app", "appB", "peer2", "peer", "tn"):
        raw = raw.replace(b"{%s}" % key.encode(), str(w[key]).encode())
    return raw


def send(w: dict[str, Any], method: str, path: str, body: Any, opts: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    path = fill(path, w).decode()
    data = fill(body, w)
    auth = opts.get("auth", "a")
    auth = {"a": (DEMO["username"], DEMO["password"]), "b": (DEMO_B["username"], DEMO_B["password"])}.get(auth, auth) \
        if isinstance(auth, str) else auth
    headers = dict(XML if data is not None and not path.startswith(("/api/v2", "/v2")) else {})
    headers.update(opts.get("headers", {}))
    headers = {k: v for k, v in headers.items() if v != ""}
    if opts.get("raw"):  # the path as written, no client-side normalisation of ../
        conn = http.client.HTTPConnection("127.0.0.1", int(w["url"].rsplit(":", 1)[1]), timeout=TIMEOUT)
        import base64
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        conn.request(method, path, body=data or b"", headers=headers)
        resp = conn.getresponse()
        out = resp.status, {k: v for k, v in resp.getheaders()}, resp.read()
        conn.close()
        return out
    r = requests.request(method, w["url"] + path, data=data if data is not None else None, headers=headers,
                         auth=auth, timeout=TIMEOUT)
    return r.status_code, dict(r.headers), r.content


def check_shape(status: int, headers: dict[str, str], content: bytes, shape: str | None, code: str | None,
                root: str | None) -> None:
    ctype = (headers.get("Content-Type") or "").split(";")[0]
    if shape is None:
        assert ctype in ("application/xml", "application/json"), headers
        return
    if shape == JS:
        assert ctype == "application/json", (ctype, content[:300])
        doc = json.loads(content)
        assert isinstance(doc.get("type"), str) and doc["type"], doc
        assert isinstance(doc.get("description"), str) and doc["description"], doc
        fields = [fe["fieldName"] for fe in doc.get("fieldErrors") or []]
        for fe in doc.get("fieldErrors") or []:
            assert set(fe) == {"fieldName", "description"} and fe["description"], fe
        if code in JSON_TYPES:
            assert doc["type"] == code, doc
        elif code:
            assert doc["type"] == "request-validation" and code in fields, doc
        return
    assert ctype == "application/xml", (ctype, content[:300])
    doc = xmltodict.parse(content)
    (actual_root, body), = doc.items()
    if root:
        assert actual_root == root, (actual_root, content[:300])
    if shape == RS:
        rs = body["ResponseStatus"]
        got, desc = rs["ErrorCode"], rs["Description"]
    elif shape == EL:
        errors = body["ErrorList"]["Error"]
        first = errors[0] if isinstance(errors, list) else errors
        got, desc = first["Code"], first["Description"]
    else:
        assert actual_root == "SearchResult", actual_root
        got, desc = body["Error"]["Code"], body["Error"]["Description"]
    assert got and got.isdigit() and desc, content[:300]
    if code:
        assert got == code, (got, desc)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sandbox_refuses_bad_input(world: dict[str, Any], case: tuple[Any, ...]) -> None:
    name, method, path, body, opts, (status, shape, code, root) = case
    add("badinput", "sandbox_tried")
    got, headers, content = send(world, method, path, body, opts)
    text = content.decode("utf-8", "replace")
    if got >= 500:
        add("badinput", "sandbox_5xx")
    if "Traceback" in text or 'File "' in text:
        add("badinput", "sandbox_traceback")
    assert got < 500, f"{name}: {got} {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text and "/work/" not in text, text[:500]
    assert got == status, f"{name}: expected {status}, got {got}: {text[:400]}"
    check_shape(got, headers, content, shape, code, root)
    assert snapshot(world["url"], DEMO) == world["before"], f"{name} changed account A's objects"
    add("badinput", "sandbox_refused")


def test_state_unchanged_after_the_whole_battery(world: dict[str, Any]) -> None:
    assert snapshot(world["url"], DEMO) == world["before"]
    assert snapshot(world["url"], DEMO_B) == world["before_b"]
    r = requests.get(f"{world['url']}/_sandbox/health", timeout=TIMEOUT)
    assert r.status_code == 200
    add("badinput", "state_snapshots_equal", 2)


# -- SQL metacharacters in every string field ---------------------------------------------------------

SQL_ACCOUNT = {"account_id": "9933000", "site_id": "9933", "username": "sql-user", "password": "sql-pw-1",
               "user_id": "u-sql", "api_token": "t-sql", "api_secret": "s-sql"}


@pytest.fixture(scope="module")
def sql_world(world: dict[str, Any]) -> dict[str, Any]:
    """A third account for the literal-storage cases (its objects change; A's and B's must not)."""
    from conftest import XmlSession, control

    r = control(world['url'], "POST", "/_sandbox/accounts", json=SQL_ACCOUNT, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    s = XmlSession(world["url"], SQL_ACCOUNT)
    w = s.world()
    return {"s": s, **w}


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sql_cases() -> list[tuple[str, Callable[[Any, dict[str, Any]], None]]]:
    v = SQL

    def app_field(field: str) -> Callable[[Any, dict[str, Any]], None]:
        def run(s: Any, w: dict[str, Any]) -> None:
            name, url = (v, "https://a.example/cb") if field == "AppName" else ("SqlApp", "https://a.example/cb?q=" + urllib.parse.quote(v))
            extra = f"<CallbackCreds><UserId>{esc(v)}</UserId><Password>{esc(v)}</Password></CallbackCreds>" \
                if field == "CallbackCreds" else ""
            r = s.post("/applications", app_xml(esc(name), esc(url), extra))
            assert r.status_code == 201, r.text
            app = s.xml(r)["ApplicationProvisioningResponse"]["Application"]
            got = s.xml(s.get(f"/applications/{app['ApplicationId']}"))["ApplicationProvisioningResponse"]["Application"]
            if field == "AppName":
                assert app["AppName"] == got["AppName"] == v
            elif field == "CallbackUrl":
                assert app["CallbackUrl"] == got["CallbackUrl"] == url
            else:
                assert got["CallbackCreds"]["UserId"] == v and "Password" not in got["CallbackCreds"]
            assert s.delete(f"/applications/{app['ApplicationId']}").status_code == 200
        return run

    def site_fields(s: Any, w: dict[str, Any]) -> None:
        r = s.post("/sites", f"<Site><Name>{esc(v)}</Name><Description>{esc(v)}</Description><CustomerName>{esc(v)}"
                             f"</CustomerName><Address><City>{esc(v)}</City></Address></Site>")
        assert r.status_code == 201, r.text
        site = s.xml(r)["SiteResponse"]["Site"]
        got = s.xml(s.get(f"/sites/{site['Id']}"))["SiteResponse"]["Site"]
        assert site["Name"] == got["Name"] == v and got["Description"] == v

    def peer_fields(s: Any, w: dict[str, Any]) -> None:
        r = s.post(f"/sites/{s.site_id}/sippeers", f"<SipPeer><PeerName>{esc(v)}</PeerName><Description>{esc(v)}"
                                                 "</Description><IsDefaultPeer>false</IsDefaultPeer></SipPeer>")
        assert r.status_code == 201, r.text
        peer = r.headers["Location"].rsplit("/", 1)[1]
        got = s.xml(s.get(f"/sites/{s.site_id}/sippeers/{peer}"))["SipPeerResponse"]["SipPeer"]
        assert got["PeerName"] == v and got["Description"] == v
        assert s.delete(f"/sites/{s.site_id}/sippeers/{peer}").status_code == 200

    def sms_campaign(s: Any, w: dict[str, Any]) -> None:
        peer = s.create_peer(name="SqlSms", default=False)
        body = SMS_OK.replace("<Zone1>", f"<A2pCampaignId>{esc(v)}</A2pCampaignId><Zone1>")
        r = s.post(f"/sites/{s.site_id}/sippeers/{peer}/products/messaging/features/sms", body)
        assert r.status_code in (201, 400), r.text
        if r.status_code == 201:
            got = s.xml(s.get(f"/sites/{s.site_id}/sippeers/{peer}/products/messaging/features/sms"))
            assert got["SipPeerSmsFeatureResponse"]["SipPeerSmsFeature"]["SipPeerSmsFeatureSettings"]["A2pCampaignId"] == v
            s.delete(f"/sites/{s.site_id}/sippeers/{peer}/products/messaging/features/sms")

    def refused_order(inner: str, extra: str = "", site: str | None = None) -> Callable[[Any, dict[str, Any]], None]:
        """Refused at once (400 ErrorList), or accepted and then FAILED on read with the value echoed
        literally (the documented asynchronous failure: HTTP 200, OrderStatus FAILED, ErrorList 5005/5018)."""
        def run(s: Any, w: dict[str, Any]) -> None:
            r = s.post("/orders", order_xml(inner, site if site is not None else f"<SiteId>{s.site_id}</SiteId>", extra))
            assert r.status_code in (201, 400), r.text
            if r.status_code == 400:
                assert s.xml(r)["OrderResponse"]["ErrorList"]["Error"][0]["Code"].isdigit()
                return
            assert esc(v).replace('"', "&quot;") in r.text or esc(v) in r.text, r.text
            oid = s.xml(r)["OrderResponse"]["Order"]["id"]
            got = s.xml(s.get(f"/orders/{oid}"))["OrderResponse"]
            assert got["OrderStatus"] == "FAILED" and got["ErrorList"]["Error"][0]["Code"] in ("5005", "5018"), got
        return run

    def order_name(s: Any, w: dict[str, Any]) -> None:
        r = s.order(w["peer"], extra=f"<Name>{esc(v[:50])}</Name>")
        assert r.status_code == 201, r.text
        oid = s.xml(r)["OrderResponse"]["Order"]["id"]
        assert s.xml(s.get(f"/orders/{oid}"))["OrderResponse"]["Order"]["Name"] == v[:50]

    def query(path: str, ok: tuple[int, ...] = (200, 204, 400, 404)) -> Callable[[Any, dict[str, Any]], None]:
        def run(s: Any, w: dict[str, Any]) -> None:
            r = s.get(path.replace("{v}", urllib.parse.quote(v, safe="")))
            assert r.status_code in ok, r.text
            if r.status_code >= 400:
                assert b"<ErrorCode>" in r.content or b"<Code>" in r.content
        return run

    def message(field: str) -> Callable[[Any, dict[str, Any]], None]:
        def run(s: Any, w: dict[str, Any]) -> None:
            body = {"to": ["+19195550100"], "from": "+1" + w["tns"][0], "text": "hi", "applicationId": w["app"]}
            body[field] = v if field != "to" else [v]
            r = s.http.post(f"{s.url}/api/v2/users/{s.account_id}/messages", json=body, timeout=TIMEOUT)
            if field in ("from", "to"):
                assert r.status_code == 400 and r.json()["fieldErrors"][0]["fieldName"] == field, r.text
                return
            assert r.status_code == 202, r.text
            assert r.json()[field] == v
            listed = s.http.get(f"{s.url}/api/v2/users/{s.account_id}/messages",
                                params={"messageId": r.json()["id"]}, timeout=TIMEOUT).json()
            assert listed["totalCount"] == 1
        return run

    def inbound(s: Any, w: dict[str, Any]) -> None:
        from conftest import control

        r = control(s.url, "POST", "/_sandbox/inbound", json={"to": "+1" + w["tns"][0], "from": "+19195550100",
                                                              "text": v}, timeout=TIMEOUT)
        assert r.status_code == 202 and r.json()["message"]["text"] == v, r.text

    return [
        ("AppName", app_field("AppName")), ("CallbackUrl", app_field("CallbackUrl")),
        ("CallbackCreds", app_field("CallbackCreds")), ("Site fields", site_fields), ("SipPeer fields", peer_fields),
        ("A2pCampaignId", sms_campaign), ("Order Name", order_name),
        ("CustomerOrderId", refused_order("<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode></AreaCodeSearchAndOrderType>",
                                          f"<CustomerOrderId>{esc(v)}</CustomerOrderId>")),
        ("SiteId", refused_order("<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode></AreaCodeSearchAndOrderType>",
                                 site=f"<SiteId>{esc(v)}</SiteId>")),
        ("PeerId", refused_order("<AreaCodeSearchAndOrderType><AreaCode>910</AreaCode></AreaCodeSearchAndOrderType>",
                                 f"<PeerId>{esc(v)}</PeerId>")),
        ("AreaCode", refused_order(f"<AreaCodeSearchAndOrderType><AreaCode>{esc(v)}</AreaCode></AreaCodeSearchAndOrderType>")),
        ("City+State", refused_order(f"<CitySearchAndOrderType><City>{esc(v)}</City><State>{esc(v)}</State></CitySearchAndOrderType>")),
        ("Zip", refused_order(f"<ZIPSearchAndOrderType><Zip>{esc(v)}</Zip></ZIPSearchAndOrderType>")),
        ("RateCenter", refused_order(f"<RateCenterSearchAndOrderType><RateCenter>{esc(v)}</RateCenter><State>NC</State></RateCenterSearchAndOrderType>")),
        ("TelephoneNumber", refused_order(f"<ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>{esc(v)}</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType>")),
        ("disconnect TelephoneNumber", lambda s, w: (lambda r: (r.status_code == 400) or pytest.fail(r.text))(
            s.post("/disconnects", "<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType><TelephoneNumberList>"
                                   f"<TelephoneNumber>{esc(v)}</TelephoneNumber></TelephoneNumberList>"
                                   "</DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>"))),
        ("search areaCode", query("/availableNumbers?areaCode={v}")),
        ("search city+state", query("/availableNumbers?city={v}&state={v}")),
        ("search rateCenter", query("/availableNumbers?rateCenter={v}&state=NC")),
        ("search zip/lata/vanity", query("/availableNumbers?zip={v}&lata={v}&tollFreeVanity={v}")),
        ("orders filters", query("/orders?status={v}&customerOrderId={v}", ok=(200,))),
        ("inservice filters", query("/inserviceNumbers?areacode={v}&npanxx={v}&state={v}", ok=(200, 204))),
        ("path ids", query("/sites/{v}/sippeers/{v}/products/messaging/features/sms", ok=(400, 404))),
        ("message text", message("text")), ("message tag", message("tag")),
        ("message applicationId", message("applicationId")), ("message from", message("from")),
        ("message to", message("to")),
        # the spec's enums: a status that is not one (or a non-numeric errorCode) is refused naming the field
        ("messages list filters", lambda s, w: (lambda r: r.status_code == 200 or (
            r.status_code == 400 and {e["fieldName"] for e in r.json()["fieldErrors"]} == {"messageStatus", "errorCode"})
            or pytest.fail(r.text))(
            s.http.get(f"{s.url}/api/v2/users/{s.account_id}/messages",
                       params={"sourceTn": v, "destinationTn": v, "messageId": v, "messageStatus": v, "errorCode": v},
                       timeout=TIMEOUT))),
        ("inbound text", inbound),
    ]


SQL_CASES = _sql_cases()


@pytest.mark.parametrize("case", SQL_CASES, ids=[c[0] for c in SQL_CASES])
def test_sql_metacharacters_are_literal_or_refused(world: dict[str, Any], sql_world: dict[str, Any],
                                                   case: tuple[str, Callable[..., None]]) -> None:
    add("badinput", "sandbox_tried")
    case[1](sql_world["s"], sql_world)
    add("badinput", "sandbox_literal")
    # nothing else broke: the tables are there, the other accounts are untouched, auth still works
    assert snapshot(world["url"], DEMO) == world["before"]
    assert snapshot(world["url"], DEMO_B) == world["before_b"]


# -- the same battery through the bwhelpers API -------------------------------------------------------

def _client_cases() -> list[tuple[str, str, Callable[[Any, Any, Any], Any]]]:
    """(id, field the error must name, call(dashboard, messaging, setup))."""
    ok_url = "https://a.example/cb"
    eleven = [f"+1919555{i:04d}" for i in range(100, 111)]
    good = "+19195550100"
    return [
        ("app-name-empty", "name", lambda d, m, s: d.create_application("", ok_url)),
        ("app-name-none", "name", lambda d, m, s: d.create_application(None, ok_url)),
        ("app-name-bytes-non-utf8", "name", lambda d, m, s: d.create_application(b"caf\xe9", ok_url)),
        ("callback-url-empty", "callback_url", lambda d, m, s: d.create_application("x", "")),
        ("callback-url-ftp", "callback_url", lambda d, m, s: d.create_application("x", "ftp://a.example/cb")),
        ("callback-url-not-url", "callback_url", lambda d, m, s: d.create_application("x", "not a url")),
        ("callback-user-without-password", "callback_user", lambda d, m, s: d.create_application("x", ok_url, "u")),
        ("location-name-empty", "name", lambda d, m, s: d.create_location("  ")),
        ("location-id-traversal", "location_id", lambda d, m, s: d.get_location("../../9911")),
        ("location-id-sql", "location_id", lambda d, m, s: d.get_location("1; DROP TABLE x")),
        ("location-id-empty", "location_id", lambda d, m, s: d.get_location("")),
        ("location-id-none", "location_id", lambda d, m, s: d.delete_location(None)),
        ("sms-location-traversal", "location_id", lambda d, m, s: d.enable_sms("..%2F..")),
        ("sms-protocol-lowercase-smpp", "protocol", lambda d, m, s: d.enable_sms("1", protocol="smpp")),
        ("sms-protocol-none", "protocol", lambda d, m, s: d.enable_sms("1", protocol=None)),
        ("sms-zone1-false", "zone1", lambda d, m, s: d.enable_sms("1", zone1=False)),
        ("mms-protocol-sip", "protocol", lambda d, m, s: d.enable_mms("1", protocol="SIP")),
        ("assign-app-empty", "application_id", lambda d, m, s: d.assign_application("1", "")),
        ("assign-app-traversal", "application_id", lambda d, m, s: d.assign_application("1", "../x")),
        ("assign-location-traversal", "location_id", lambda d, m, s: d.assign_application("../x", "abc")),
        ("get-app-slash", "application_id", lambda d, m, s: d.get_application("a/b")),
        ("delete-app-percent", "application_id", lambda d, m, s: d.delete_application("%2e%2e")),
        ("search-no-criterion", "area_code", lambda d, m, s: d.search_numbers()),
        ("search-areacode-letters", "area_code", lambda d, m, s: d.search_numbers(area_code="abc")),
        ("search-areacode-short", "area_code", lambda d, m, s: d.search_numbers(area_code="91")),
        ("search-quantity-zero", "quantity", lambda d, m, s: d.search_numbers(area_code="910", quantity=0)),
        ("search-quantity-5001", "quantity", lambda d, m, s: d.search_numbers(area_code="910", quantity=5001)),
        ("search-quantity-text", "quantity", lambda d, m, s: d.search_numbers(area_code="910", quantity="5")),
        ("search-state-sql", "state", lambda d, m, s: d.search_numbers(state="N'")),
        ("search-zip-sql", "zip", lambda d, m, s: d.search_numbers(zip="9100'")),
        ("search-city-without-state", "state", lambda d, m, s: d.search_numbers(city="Raleigh")),
        ("search-unknown-kwarg", "foo", lambda d, m, s: d.search_numbers(foo="1")),
        ("search-vanity-sql", "toll_free_vanity", lambda d, m, s: d.search_numbers(toll_free_vanity="'; --")),
        ("order-areacode-letters", "area_code", lambda d, m, s: d.order_numbers(area_code="abc")),
        ("order-quantity-zero", "quantity", lambda d, m, s: d.order_numbers(quantity=0, area_code="910")),
        ("order-number-short", "numbers[0]", lambda d, m, s: d.order_numbers(numbers=["123"])),
        ("order-numbers-empty", "numbers", lambda d, m, s: d.order_numbers(numbers=[])),
        ("order-customer-id-sql", "customer_order_id", lambda d, m, s: d.order_numbers(area_code="910", customer_order_id="x'; DROP")),
        ("order-name-51", "name", lambda d, m, s: d.order_numbers(area_code="910", name="x" * 51)),
        ("order-location-traversal", "location_id", lambda d, m, s: d.order_numbers(area_code="910", location_id="../x")),
        ("get-order-empty", "order_id", lambda d, m, s: d.get_order("")),
        ("get-order-traversal", "order_id", lambda d, m, s: d.get_order("../../etc")),
        ("disconnect-empty", "numbers", lambda d, m, s: d.disconnect_numbers([])),
        ("disconnect-letters", "numbers[0]", lambda d, m, s: d.disconnect_numbers(["abc"])),
        ("send-eleven", "to", lambda d, m, s: m.send_message(eleven, "hi", good, "app")),
        ("send-no-recipient", "to", lambda d, m, s: m.send_message([], "hi", good, "app")),
        ("send-to-short", "to", lambda d, m, s: m.send_message("12345", "hi", good, "app")),
        ("send-to-letters", "to", lambda d, m, s: m.send_message("+1919CALLNOW", "hi", good, "app")),
        ("send-to-npa-zero", "to", lambda d, m, s: m.send_message("+10195550100", "hi", good, "app")),
        ("send-to-second-bad", "to[1]", lambda d, m, s: m.send_message([good, "555"], "hi", good, "app")),
        ("send-from-bad", "from_", lambda d, m, s: m.send_message(good, "hi", "12", "app")),
        ("send-text-2049", "text", lambda d, m, s: m.send_message(good, "x" * 2049, good, "app")),
        ("send-text-none", "text", lambda d, m, s: m.send_message(good, None, good, "app")),
        ("send-text-number", "text", lambda d, m, s: m.send_message(good, 42, good, "app")),
        ("send-media-ftp", "media", lambda d, m, s: m.send_message(good, None, good, "app", media="ftp://x")),
        ("send-app-empty", "application_id", lambda d, m, s: m.send_message(good, "hi", good, "")),
        ("send-tag-1025", "tag", lambda d, m, s: m.send_message(good, "hi", good, "app", tag="x" * 1025)),
        ("bulk-concurrency-zero", "concurrency", lambda d, m, s: m.bulk_send([good], "hi", good, "app", concurrency=0)),
        ("bulk-rate-negative", "rate", lambda d, m, s: m.bulk_send([good], "hi", good, "app", rate=-1)),
        ("setup-send-bad-to", "to", lambda d, m, s: s.send_message("12", "hi")),
        ("setup-order-bad-quantity", "quantity", lambda d, m, s: s.order_numbers(quantity=-1)),
        ("config-bad-target", "target", lambda d, m, s: __import__("bwhelpers.config", fromlist=["Config"]).Config(target="prod")),
    ]


CLIENT_CASES = _client_cases()


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Any, list[Any]]]:
    """Clients on a closed port, with a saved application and location, and every send counted."""
    from bwhelpers.config import Config
    from bwhelpers.dashboard import DashboardClient
    from bwhelpers.messaging import MessagingClient
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    url = f"http://127.0.0.1:{free_port()}"
    cfg = Config(target="sandbox", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2", account_id="9900000",
                 site_id="9901", username="sandbox-user", password="sandbox-password", sandbox_url=url)
    store = StateStore(tmp_path / "state.json")
    store.update("sandbox", application={"id": "app-1", "name": "Demo Server"}, location={"id": "500001"},
                 numbers=["+19105550100"])
    sent: list[Any] = []
    real_send = requests.Session.send

    def counting(self: requests.Session, request: Any, **kw: Any) -> Any:
        sent.append(request.url)
        return real_send(self, request, **kw)

    monkeypatch.setattr(requests.Session, "send", counting)
    yield DashboardClient(cfg), MessagingClient(cfg), Setup(cfg, store, progress=False), sent


@pytest.mark.parametrize("case", CLIENT_CASES, ids=[c[0] for c in CLIENT_CASES])
def test_client_refuses_bad_arguments_before_any_request(offline: tuple[Any, ...], case: tuple[Any, ...]) -> None:
    from bwhelpers.errors import BandwidthError, TransportError, ValidationError

    name, field, call = case
    dash, messaging, setup, sent = offline
    add("badinput", "client_tried")
    with pytest.raises(BandwidthError) as info:
        call(dash, messaging, setup)
    assert not isinstance(info.value, TransportError), f"{name}: a request was attempted: {info.value}"
    assert isinstance(info.value, ValidationError), f"{name}: {type(info.value).__name__}: {info.value}"
    assert info.value.field == field, f"{name}: field {info.value.field!r}, message {info.value}"
    assert str(info.value).startswith(field.split("[")[0]) or field in str(info.value), str(info.value)
    add("badinput", "client_requests_made", len(sent))
    assert sent == [], f"{name}: requests were sent: {sent}"
    add("badinput", "client_refused")


def test_client_stores_sql_metacharacters_literally(world: dict[str, Any], sql_world: dict[str, Any]) -> None:
    """Through bwhelpers: names with SQL metacharacters round-trip unchanged; nothing else changes."""
    from bwhelpers.config import Config
    from bwhelpers.dashboard import DashboardClient

    c = SQL_ACCOUNT
    cfg = Config(target="sandbox", dashboard_url=f"{world['url']}/api", messaging_url=f"{world['url']}/api/v2",
                 account_id=c["account_id"], site_id=c["site_id"], username=c["username"], password=c["password"],
                 sandbox_url=world["url"])
    d = DashboardClient(cfg)
    app = d.create_application(SQL, "https://a.example/cb?q=" + urllib.parse.quote(SQL))
    assert d.get_application(app.id).data["AppName"] == SQL
    loc = d.create_location(SQL)
    assert d.get_location(loc.id).data["PeerName"] == SQL
    d.delete_location(loc.id)
    d.delete_application(app.id)
    add("badinput", "sandbox_tried", 2)
    add("badinput", "sandbox_literal", 2)
    assert snapshot(world["url"], DEMO) == world["before"]
