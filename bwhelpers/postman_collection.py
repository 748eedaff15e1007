"""The guide's Postman collection, built from a table: one :class:`Row` per request, keyed by its step.

Folder names and numbers come from :mod:`bwhelpers.steps` (``"<number> <label>"``, a variant adds ``b``); texts
name steps as ``<step:key>``, replaced by the step's number. The JavaScript every request shares (stop the run,
read an XML element, poll until a final status) is written once below and added to a request's tests only when
they use it. These are the guide's rows; a new step's flow declares its own (``StepFlow.postman``,
:mod:`bwhelpers.postman_rows`) and :func:`rows` puts them in the step table's order.
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable

from . import guide, steps
from .postman_rows import (ORDER_POLL_DELAY_MS, ORDER_POLL_MAX, POLL_DELAY as _POLL_DELAY, POLL_RESET as _POLL_RESET,
                           STOP_IF_FAILED as _STOP_IF_FAILED, XML_TEXT as _XML_TEXT, Row, poll as _poll,
                           saves as _saves, skip_unless as _skip_unless, step_refs)

__all__ = ["COLLECTION_NAME", "COLLECTION_SCHEMA", "TOKEN_FOLDER", "TOKEN_REQUEST", "TN_OPTION_CHECK", "STEPS",
           "ROWS", "Row", "rows", "step_folders", "PICTURE_FILE", "ORDER_POLL_MAX", "ORDER_POLL_DELAY_MS", "build_collection", "step_refs"]

COLLECTION_NAME = "Bandwidth Messaging 2.0 setup"
COLLECTION_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
#: the first request of the collection (OAuth 2.0), before the guide's steps
TOKEN_FOLDER = "0 Get access token"
TOKEN_REQUEST = "Get access token"
#: the second request of the A2P folder (polls the TN Option Order)
TN_OPTION_CHECK = "Check TN Option Order"

_NAMESPACE = uuid.UUID("6f1c2f0e-4b7a-5d2e-9c1a-b3a7d0e1f2a4")   # bwhelpers' uuid5 namespace (fixed forever)



def _version() -> str:
    from . import __version__
    return str(__version__)



# --------------------------------------------------------------------------- the bodies
#: The application step with today's application fields (numbers.yml CreateApplication, messaging example)
BODY_APPLICATION = """<Application>
  <ServiceType>Messaging-V2</ServiceType>
  <AppName>%s {{$timestamp}}</AppName>
  <InboundCallbackUrl>{{inboundCallbackUrl}}</InboundCallbackUrl>
  <OutboundCallbackUrl>{{outboundCallbackUrl}}</OutboundCallbackUrl>
  <RequestedCallbackTypes>
    <CallbackType>message-delivered</CallbackType>
    <CallbackType>message-failed</CallbackType>
  </RequestedCallbackTypes>
</Application>""" % guide.APPLICATION_NAME

# The guide's bodies (Bandwidth/v2-messaging apisetup.md), with {{variables}} for the values a user changes.
BODY_APPLICATION_LEGACY = """<Application>
  <AppName>%s {{$timestamp}}</AppName>
  <CallbackUrl>{{callbackUrl}}</CallbackUrl>
  <CallbackCreds/>
</Application>""" % guide.APPLICATION_NAME

BODY_LOCATION = """<SipPeer>
  <PeerName>Bandwidth Messaging 2 test2 {{$timestamp}}</PeerName>
  <IsDefaultPeer>true</IsDefaultPeer>
</SipPeer>"""

BODY_SMS = """<SipPeerSmsFeature>
  <SipPeerSmsFeatureSettings>
    <TollFree>true</TollFree>
    <ShortCode>true</ShortCode>
    <Protocol>HTTP</Protocol>
    <Zone1>true</Zone1>
    <Zone2>false</Zone2>
    <Zone3>false</Zone3>
    <Zone4>false</Zone4>
    <Zone5>false</Zone5>
  </SipPeerSmsFeatureSettings>
  <HttpSettings>
    <ProxyPeerId>%s</ProxyPeerId>
  </HttpSettings>
</SipPeerSmsFeature>""" % guide.PROXY_PEER_ID

BODY_MMS = """<MmsFeature>
  <MmsSettings>
    <protocol>HTTP</protocol>
  </MmsSettings>
  <Protocols>
    <HTTP>
      <HttpSettings>
        <ProxyPeerId>%s</ProxyPeerId>
      </HttpSettings>
    </HTTP>
  </Protocols>
</MmsFeature>""" % guide.PROXY_PEER_ID

BODY_ASSIGN = """<ApplicationsSettings>
  <HttpMessagingV2AppId>{{applicationId}}</HttpMessagingV2AppId>
</ApplicationsSettings>"""

BODY_ORDER = """<Order>
  <AreaCodeSearchAndOrderType>
    <AreaCode>%s</AreaCode>
    <Quantity>1</Quantity>
  </AreaCodeSearchAndOrderType>
  <SiteId>{{subaccount}}</SiteId>
  <PeerId>{{location}}</PeerId>
</Order>""" % guide.AREA_CODE

BODY_TN_OPTION = """<TnOptionOrder>
  <TnOptionGroups>
    <TnOptionGroup>
      <Sms>on</Sms>
      <A2pSettings>
        <Action>asSpecified</Action>
        <CampaignId>{{campaignId}}</CampaignId>
        <MessageClass>M</MessageClass>
      </A2pSettings>
      <TelephoneNumbers>
        <TelephoneNumber>{{from}}</TelephoneNumber>
      </TelephoneNumbers>
    </TnOptionGroup>
  </TnOptionGroups>
</TnOptionOrder>"""

BODY_PICTURE_MESSAGE = """{
  "from"          : "{{from}}",
  "to"            : "{{to}}",
  "text"          : "A picture from the Postman collection",
  "media"         : ["{{mediaUrl}}"],
  "applicationId" : "{{applicationId}}"
}"""
#: the file the media upload sends (export_collection writes it beside the collection; newman reads it from its
#: --working-dir, Postman asks for it)
PICTURE_FILE = "smile.png"

BODY_MESSAGE = """{
  "from"          : "{{from}}",
  "to"            : "{{to}}",
  "text"          : "%s",
  "applicationId" : "{{applicationId}}"
}""" % guide.MESSAGE_TEXT




_DASH = "dashboardUrl"
_ACCOUNT = (_DASH, "accounts", "{{account}}")
_LOC = (*_ACCOUNT, "sites", "{{subaccount}}", "sippeers", "{{location}}")
_APP_TESTS = _saves("applicationId", "xmlText(pm.response.text(), \"ApplicationId\")",
                    "ApplicationId in the response body", "<ApplicationId>", "no application")
_SEND_TESTS = (
    "var json = {};",
    "try { json = pm.response.json(); } catch (e) { json = {}; }",
    'pm.test("accepted with a message id, from the ordered number, for the application", function () {',
    "    pm.expect(json.id, \"id\").to.be.a(\"string\").and.not.be.empty;",
    "    pm.expect(json.from).to.eql(pm.environment.get(\"from\"));",
    "    pm.expect(json.applicationId).to.eql(pm.environment.get(\"applicationId\"));",
    "});",
    "if (json.id) { pm.environment.set(\"messageId\", json.id); }",
)

ROWS: tuple[Row, ...] = (
    Row("application", "Create application", "Create application", "POST",
        (_DASH, "accounts", "{{accountId}}", "applications"), (201, "Created"), _APP_TESTS, body=BODY_APPLICATION,
        about="Save the Application Id after creating the application. Today's applications have two callback "
              "URLs: `InboundCallbackUrl` receives incoming messages, `OutboundCallbackUrl` the delivery receipts "
              "chosen in `RequestedCallbackTypes`. (The guide's single `CallbackUrl` is in folder "
              "<step:application>b.)",
        description="The guide's first step with today's fields (Bandwidth's current docs). `AppName` gets a "
                    "`{{$timestamp}}` suffix so the collection can be run again on the same account. The test saves "
                    "`applicationId` from the `<ApplicationId>` of the `ApplicationProvisioningResponse`."),
    Row("location", "Create location (sippeer)", "Create location (sippeer)", "POST",
        (*_ACCOUNT, "sites", "{{subaccount}}", "sippeers"), (201, "Created"), (
            "var header = pm.response.headers.get(\"Location\") || \"\";",
            "var location = header.replace(/[?#].*$/, \"\").replace(/\\/+$/, \"\").split(\"/\").pop();",
            'pm.test("Location header ends with the new location id", function () {',
            "    pm.expect(header, \"Location header\").to.match(/\\/sippeers\\/[^\\/]+\\/?$/);",
            "});",
            "if (pm.response.code === 201 && location) {",
            "    pm.environment.set(\"location\", location);",
            "} else { stop(\"no location\"); }"),
        body=BODY_LOCATION,
        about="Save the location (sippeer) id from the `Location` header. A location is a logical grouping of "
              "numbers.",
        description="The response has no body; the test saves `location` from the last segment of the `Location` "
                    "header. `PeerName` gets a `{{$timestamp}}` suffix so reruns do not collide."),
    Row("sms", "Enable SMS on location", "Enable SMS on location", "POST",
        (*_LOC, "products", "messaging", "features", "sms"), (201, "Created"), (
            'pm.test("SMS feature echoed with Protocol HTTP", function () {',
            "    pm.expect(xmlText(pm.response.text(), \"Protocol\")).to.eql(\"HTTP\");",
            "});",
            "if (pm.response.code !== 201) { stop(\"SMS not enabled\"); }"),
        body=BODY_SMS, about="Enable SMS on the location: Protocol HTTP, Zone1 true, Zone2-5 false, ProxyPeerId " + guide.PROXY_PEER_ID + ".",
        description="The body exactly as in the guide."),
    Row("mms", "Enable MMS on location", "Enable MMS on location", "POST",
        (*_LOC, "products", "messaging", "features", "mms"), (201, "Created"), (
            'pm.test("MMS feature echoed", function () {',
            "    pm.expect(pm.response.text()).to.include(\"MmsFeature\");",
            "});",
            "if (pm.response.code !== 201) { stop(\"MMS not enabled\"); }"),
        body=BODY_MMS, about="Enable MMS on the location (note the lower-case `protocol`).",
        description="The body exactly as in the guide."),
    Row("assigned", "Assign application to location", "Assign application to location", "PUT",
        (*_LOC, "products", "messaging", "applicationSettings"), (200, "OK"), (
            'pm.test("the location now uses {{applicationId}}", function () {',
            "    pm.expect(xmlText(pm.response.text(), \"HttpMessagingV2AppId\"))"
            ".to.eql(pm.environment.get(\"applicationId\"));",
            "});",
            "if (pm.response.code !== 200) { stop(\"application not assigned\"); }"),
        body=BODY_ASSIGN, about="Assign the application created in step <step:application> to the location.",
        description="With `{{applicationId}}` saved by step <step:application>."),
    Row("orders", "Order numbers", "Order available numbers", "POST", (*_ACCOUNT, "orders"), (201, "Created"), (
            _POLL_RESET,
            *_saves("order", "xmlText(pm.response.text(), \"id\")", "order id in the response body", "<id>",
                    "no order")),
        body=BODY_ORDER,
        about="Order one number in area code " + guide.AREA_CODE + " for the sub-account and location. Save the Order Id.",
        description="The test saves `order` from the response's `<id>` and resets the order-status poll counter."),
    Row("numbers", "Check order status", "Check order status", "GET", (*_ACCOUNT, "orders", "{{order}}"),
        (200, "OK"), _poll("Check order status", "OrderStatus", "order", (
            "var completed = (/<CompletedNumbers>([\\s\\S]*?)<\\/CompletedNumbers>/i.exec(body) || [])[1] || \"\";",
            "var number = xmlText(completed, \"FullNumber\");",
            "pm.test(\"the ordered number is in CompletedNumbers\", function () {",
            "    pm.expect(number, \"CompletedNumbers/TelephoneNumber/FullNumber\").to.be.a(\"string\")"
            ".and.not.be.empty;",
            "});",
            "if (status === \"COMPLETE\" && number) {",
            "    var digits = number.replace(/\\D/g, \"\");",
            "    var e164 = digits.length === 10 ? \"+1\" + digits : \"+\" + digits;",
            "    pm.environment.set(\"orderedNumber\", e164);",
            "    pm.environment.set(\"from\", e164);",
            "} else { stop(\"order not COMPLETE: \" + status); }")),
        prerequest=_POLL_DELAY,
        about="Check the order until `<OrderStatus>COMPLETE</OrderStatus>`: the request repeats itself (up to "
              "`orderPollMax` times, `orderPollDelayMs` apart) while the order is RECEIVED.",
        description="While the status is RECEIVED the test calls `pm.execution.setNextRequest(\"Check order "
                    "status\")`; at COMPLETE it saves the first `CompletedNumbers` number as `orderedNumber` and "
                    "`from` (E.164)."),
    Row("a2p", "Register for A2P (10DLC campaign)", "Assign number to 10DLC campaign", "POST",
        (*_ACCOUNT, "tnoptions"), (201, "Created"), (
            _POLL_RESET,
            *_saves("tnOptionOrder", "xmlText(pm.response.text(), \"OrderId\")",
                    "TN Option Order id in the response body", "<OrderId>",
                    "no TN Option Order (is campaignId a REGISTERED campaign?)")),
        body=BODY_TN_OPTION,
        about="Today's step between the order and the send: US carriers deliver application-to-person texts from a "
              "local number only when it is assigned to a REGISTERED 10DLC campaign (else message-failed 4476). A "
              "TN Option Order assigns `{{from}}` to `{{campaignId}}` (`band tnoption assign`); the next request "
              "polls it until COMPLETE. The brand and campaign are registered beforehand in the Bandwidth App "
              "(days); the sandbox has a pre-registered campaign, CSBX001.",
        description="Not in the 2018 guide. The test saves `tnOptionOrder` from `<OrderId>`."),
    Row("a2p", "Register for A2P (10DLC campaign)", TN_OPTION_CHECK, "GET",
        (*_ACCOUNT, "tnoptions", "{{tnOptionOrder}}"), (200, "OK"),
        _poll(TN_OPTION_CHECK, "ProcessingStatus", "TN Option Order", (
            "if (status !== \"COMPLETE\") { stop(\"TN Option Order not COMPLETE: \" + status + \" \" + "
            "(xmlText(body, \"Description\") || \"\")); }",)),
        prerequest=_POLL_DELAY,
        description="Repeats itself while `<ProcessingStatus>` is RECEIVED or PROCESSING (like the order check); "
                    "at COMPLETE the number is SUCCESS on the campaign."),
    Row("messages", "Send text message", "Send text message", "POST",
        ("messagingUrl", "users", "{{accountId}}", "messages"), (202, "Accepted"), _SEND_TESTS, body=BODY_MESSAGE,
        language="json",
        about="Send a text message from the ordered number with the current Messaging API: "
              "`POST {{messagingUrl}}/users/{{accountId}}/messages` with the Dashboard API user's username:password. "
              "The guide (2018) used the now-retired `POST {{legacyMessagingUrl}}/users/{{userId}}/messages` with "
              "token:secret; that request is in folder <step:messages>b. Messages are sent asynchronously: 202 "
              "means accepted, delivery is reported by callback.",
        description="The guide's send on the current endpoint. `{{to}}` must be a number you may text."),
    Row("messages", "legacy endpoint", "Send text message (legacy endpoint)", "POST",
        ("legacyMessagingUrl", "users", "{{userId}}", "messages"), (202, "Accepted"), _SEND_TESTS, body=BODY_MESSAGE,
        language="json", variant="b", legacy_auth=True,
        prerequest=_skip_unless("!pm.environment.get(\"token\") || !pm.environment.get(\"userId\")",
                                "no legacy token/userId: skipping the legacy send"),
        about="The guide's original send request: `{{legacyMessagingUrl}}/users/{{userId}}/messages` with "
              "token:secret (Catapult-era API). It is skipped when `token` or `userId` is empty.",
        description="The guide's send exactly as written in 2018 (token:secret)."),
    Row("pictures", "Send picture message", "Upload picture", "PUT",
        ("messagingUrl", "users", "{{accountId}}", "media", "{{mediaName}}"), (204, "No Content"), (
            "var url = pm.environment.get(\"messagingUrl\") + \"/users/\" + pm.environment.get(\"accountId\") + "
            "\"/media/\" + encodeURIComponent(pm.variables.get(\"mediaName\"));",
            "if (pm.response.code === 204) { pm.environment.set(\"mediaUrl\", url); }",
            "else { stop(\"picture not uploaded\"); }"),
        body_file=PICTURE_FILE, content_type="image/png", language="binary",
        about="Send a picture (MMS). First upload it with the Media API: `PUT "
              "{{messagingUrl}}/users/{{accountId}}/media/{{mediaName}}` with the file's bytes as the body and its "
              "`Content-Type` (3.5 MB at most); the answer is 204 and the file's URL is its media URL, readable only "
              "with your credentials. Then send a message whose `media` lists that URL (at most 10; from a toll-free "
              "number 525 KB in total).",
        description="A binary body: the file `smile.png` (exported beside the collection; in Postman choose it "
                    "under Body > binary; newman reads it from its `--working-dir`). The test saves `mediaUrl`."),
    Row("pictures", "Send picture message", "Send picture message", "POST",
        ("messagingUrl", "users", "{{accountId}}", "messages"), (202, "Accepted"), (
            *_SEND_TESTS,
            'pm.test("the message lists the uploaded picture", function () {',
            "    pm.expect(json.media).to.eql([pm.environment.get(\"mediaUrl\")]);",
            "});"),
        body=BODY_PICTURE_MESSAGE, language="json",
        description="The same send as step <step:messages> with `media`: [`{{mediaUrl}}`]; the delivery "
                    "receipt carries it in `message.media`."),
    Row("application", "legacy CallbackUrl", "Create application (legacy CallbackUrl)", "POST",
        (_DASH, "accounts", "{{accountId}}", "applications"), (201, "Created"), _APP_TESTS,
        body=BODY_APPLICATION_LEGACY, variant="b",
        prerequest=_skip_unless("pm.environment.get(\"legacyApplication\") !== \"true\"",
                                "legacyApplication is not true: skipping the guide's CallbackUrl application"),
        about="The guide's first step as written in 2018: one `CallbackUrl` for every event (deprecated; it never "
              "mixes with InboundCallbackUrl/OutboundCallbackUrl: 13065). Skipped unless `legacyApplication` is "
              "`true`; when it runs, it replaces `applicationId` (run it before folder <step:location> to walk the "
              "guide's way).",
        description="The guide's first step exactly as written (legacy CallbackUrl)."),
)

def rows() -> tuple[Row, ...]:
    """The collection's rows: :data:`ROWS` with the rows each step's flow declares, each placed before the first row
    of a later step (so a new step's folder sits at its number)."""
    from .flows.registry import declared

    out = list(ROWS)
    for decl in declared():
        number = steps.page(decl.key).number
        at = next((i for i, r in enumerate(out) if steps.page(r.step).number > number), len(out))
        out[at:at] = decl.postman
    return tuple(out)


def step_folders() -> tuple[tuple[str, str], ...]:
    """(folder name, request name) per collection folder, in order (the first request of each folder)."""
    all_rows = rows()
    return tuple((row.folder_name, row.name) for i, row in enumerate(all_rows)
                 if i == 0 or (all_rows[i - 1].step, all_rows[i - 1].variant) != (row.step, row.variant))


#: (folder name, request name) per folder of the guide's rows (:func:`step_folders` has a new step's too)
STEPS: tuple[tuple[str, str], ...] = tuple(
    (row.folder_name, row.name) for i, row in enumerate(ROWS)
    if i == 0 or (ROWS[i - 1].step, ROWS[i - 1].variant) != (row.step, row.variant))


# --------------------------------------------------------------------------- building
_XML = ({"key": "Content-Type", "value": "application/xml; charset=utf-8"},)
_JSON = ({"key": "Content-Type", "value": "application/json; charset=utf-8"},)


def _basic(user: str, password: str) -> dict[str, Any]:
    return {"type": "basic", "basic": [
        {"key": "username", "value": "{{%s}}" % user, "type": "string"},
        {"key": "password", "value": "{{%s}}" % password, "type": "string"},
    ]}


def _bearer(token: str = "accessToken") -> dict[str, Any]:
    return {"type": "bearer", "bearer": [{"key": "token", "value": "{{%s}}" % token, "type": "string"}]}


def _script(listen: str, lines: Iterable[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": list(lines)}}


def _tests(expect: tuple[int, str], own: tuple[str, ...]) -> list[str]:
    """The shared helpers a request's tests use (only those), its status check, then its own tests."""
    code, reason = expect
    text = "\n".join(own)
    helpers = [*(_STOP_IF_FAILED if "stop(" in text or "next(" in text else ()),
               *(_XML_TEXT if "xmlText(" in text else ())]
    return [*helpers, f'pm.test("status is {code} {reason}", function () {{',
            f"    pm.response.to.have.status({code});", "});", *own]


def _item(name: str, request: dict[str, Any], tests: list[str], prerequest: tuple[str, ...] = ()) -> dict[str, Any]:
    events = ([_script("prerequest", prerequest)] if prerequest else []) + [_script("test", tests)]
    return {"id": str(uuid.uuid5(_NAMESPACE, f"item:{name}")), "name": name, "event": events, "request": request,
            "response": []}


def _row_item(row: Row, auth: dict[str, Any]) -> dict[str, Any]:
    base, *path = row.url
    headers = ({"key": "Content-Type", "value": row.content_type},) if row.content_type else \
        (_JSON if row.language == "json" else _XML)
    request: dict[str, Any] = {
        "method": row.method, "header": [dict(h) for h in headers],
        "url": {"raw": "{{%s}}/%s" % (base, "/".join(path)), "host": ["{{%s}}" % base], "path": list(path)},
        "auth": _basic("token", "secret") if row.legacy_auth else auth, "description": step_refs(row.description)}
    if row.body_file is not None:
        request["body"] = {"mode": "file", "file": {"src": row.body_file}}
    elif row.body is not None:
        request["body"] = {"mode": "raw", "raw": row.body, "options": {"raw": {"language": row.language}}}
    return _item(row.name, request, _tests(row.expect, row.tests), row.prerequest)


def _token_folder() -> dict[str, Any]:
    """The first request: OAuth 2.0 client credentials; its test stores {{accessToken}} for every later request."""
    request = {"method": "POST", "header": [{"key": "Content-Type", "value": "application/x-www-form-urlencoded"}],
               "url": "{{tokenUrl}}", "auth": _basic("clientId", "clientSecret"),
               "description": "OAuth 2.0 client credentials grant (RFC 6749 §4.4), as Bandwidth documents it.",
               "body": {"mode": "urlencoded",
                        "urlencoded": [{"key": "grant_type", "value": "client_credentials", "type": "text"}]}}
    tests = _tests((200, "OK"), (
        "var json = {};",
        "try { json = pm.response.json(); } catch (e) { json = {}; }",
        'pm.test("an access token of type bearer", function () {',
        '    pm.expect(json.access_token, "access_token").to.be.a("string").and.not.be.empty;',
        '    pm.expect(String(json.token_type).toLowerCase()).to.eql("bearer");',
        "});",
        "if (json.access_token) { pm.environment.set(\"accessToken\", json.access_token); }",
        "else { stop(\"no access token: check clientId / clientSecret / tokenUrl\"); }"))
    return {"name": TOKEN_FOLDER, "description": (
        "Get an OAuth 2.0 access token with your API credentials (Bandwidth App > Account > API Credentials): "
        "`POST {{tokenUrl}}` with Basic `{{clientId}}:{{clientSecret}}` and the form body "
        "`grant_type=client_credentials`. The test stores the answer's `access_token` as `{{accessToken}}`, which "
        "every later request sends as `Authorization: Bearer`. (Postman's own OAuth 2.0 helper is not used because "
        "newman does not fetch tokens.) Tokens last `expires_in` seconds (3600 on the real service); re-run this "
        "request when one expires."), "item": [_item(TOKEN_REQUEST, request, tests)]}


def _folders(auth: str) -> list[dict[str, Any]]:
    dash = _bearer() if auth == "oauth" else _basic("user", "password")
    folders: list[dict[str, Any]] = [_token_folder()] if auth == "oauth" else []
    for row in rows():
        if folders and folders[-1]["name"] == row.folder_name:
            folders[-1]["item"].append(_row_item(row, dash))
            continue
        about = step_refs(row.about)
        if auth == "oauth":
            about = about.replace("with the Dashboard API user's username:password", "with the Bearer {{accessToken}}")
        folders.append({"name": row.folder_name, "description": about, "item": [_row_item(row, dash)]})
    return folders


def build_collection(name: str = COLLECTION_NAME, auth: str = "oauth") -> dict[str, Any]:
    """The Postman Collection v2.1.0 document (a dict), without writing it. Deterministic for a given name.

    ``auth="oauth"`` (default): a "Get access token" request first, then Bearer ``{{accessToken}}`` everywhere;
    ``auth="basic"``: the guide's original username:password (the legacy API user; refused by the real service
    after 2026-12-02). The guide's token:secret request (the send step's folder b) is in both."""
    if auth not in ("oauth", "basic"):
        raise ValueError(f"auth: {auth!r}; use 'oauth' (API credentials) or 'basic' (legacy API user)")
    how = ("Authentication: the first request, *Get access token*, trades `{{clientId}}`/`{{clientSecret}}` "
           "(API credentials) for an OAuth 2.0 token and stores it as `{{accessToken}}`; every other request "
           "sends `Authorization: Bearer {{accessToken}}`.\n\n" if auth == "oauth" else
           "Authentication: the legacy API user's username:password (`{{user}}`/`{{password}}`, HTTP Basic), as "
           "in the guide. The real service refuses API users after 2026-12-02; export the default collection "
           "(API credentials) for a real account.\n\n")
    description = how + step_refs(
        "The requests of Bandwidth's *Messaging 2.0 API Setup* guide, in its order, generated by bwhelpers "
        f"{_version()}. Use it with the environment exported by `python -m bwhelpers postman` (or "
        "`bwhelpers.postman.export_environment()`), which holds your credentials and the saved IDs.\n\n"
        "Each request's tests check the status code and save what the next step needs with "
        "`pm.environment.set`: `applicationId` (step <step:application> body), `location` (step <step:location> "
        "`Location` header), `order` (step <step:orders> `<id>`), then `orderedNumber`/`from` (step <step:numbers> "
        "`CompletedNumbers`) and `tnOptionOrder` (step <step:a2p>, the A2P registration today's carriers require). "
        "Steps <step:numbers> and <step:a2p> repeat until the "
        f"order is COMPLETE (at most `orderPollMax` = {ORDER_POLL_MAX} checks, `orderPollDelayMs` = "
        f"{ORDER_POLL_DELAY_MS} ms apart). The whole collection runs in one go: "
        "`newman run collection.json -e environment.json`.\n\n"
        "Differences from the guide: `AppName` and `PeerName` get a `{{$timestamp}}` suffix so the collection "
        "can be re-run; step <step:application> uses today's fields (`InboundCallbackUrl` `{{inboundCallbackUrl}}`, "
        "`OutboundCallbackUrl` `{{outboundCallbackUrl}}`, `RequestedCallbackTypes`), and the guide's "
        "`CallbackUrl` (`{{callbackUrl}}`) request is in folder <step:application>b, skipped unless "
        "`legacyApplication` is `true`; the message is sent with the current endpoint "
        "`{{messagingUrl}}/users/{{accountId}}/messages` and, in folder <step:messages>b, with the "
        "guide's legacy endpoint `{{legacyMessagingUrl}}/users/{{userId}}/messages` (token:secret).\n\n"
        "Running it against a real account creates a real application and location and orders (and pays for) "
        "a real number.")
    return {
        "info": {"_postman_id": str(uuid.uuid5(_NAMESPACE, f"collection:{name}")), "name": name,
                 "description": description, "schema": COLLECTION_SCHEMA},
        "item": _folders(auth),
        "variable": [
            {"key": "orderPollMax", "value": str(ORDER_POLL_MAX), "type": "string"},
            {"key": "orderPollDelayMs", "value": str(ORDER_POLL_DELAY_MS), "type": "string"},
            {"key": "orderPollCount", "value": "0", "type": "string"},
            {"key": "mediaName", "value": PICTURE_FILE, "type": "string"},
        ],
    }
