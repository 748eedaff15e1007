"""The sandbox's A2P area over HTTP: 10DLC campaigns, TN Option Orders (lifecycle, errors), toll-free
verification, the ``a2p_enforcement`` delivery rule and tenant isolation."""
from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from bwhelpers.sandbox import DEMO, DEMO_B
from conftest import control

CAMPAIGN_A, PENDING_A, CAMPAIGN_B = "CSBX001", "CPND001", "CSBX002"


def tn_option(tns: list[str], campaign: str | None = CAMPAIGN_A, action: str = "asSpecified", sms: str = "on",
              customer_order_id: str | None = None) -> str:
    a2p = "<A2pSettings><Action>%s</Action>%s<MessageClass>M</MessageClass></A2pSettings>" % (
        action, f"<CampaignId>{campaign}</CampaignId>" if campaign else "") if action != "none" else ""
    if action in ("off", "delete", "systemDefault"):
        a2p = f"<A2pSettings><Action>{action}</Action></A2pSettings>"
    numbers = "".join(f"<TelephoneNumber>{tn}</TelephoneNumber>" for tn in tns)
    coid = f"<CustomerOrderId>{customer_order_id}</CustomerOrderId>" if customer_order_id else ""
    return (f"<TnOptionOrder>{coid}<TnOptionGroups><TnOptionGroup><Sms>{sms}</Sms>{a2p}"
            f"<TelephoneNumbers>{numbers}</TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>")


def settings(dash: Any, **values: Any) -> None:
    r = control(dash.url, "PUT", "/_sandbox/settings", json=values, timeout=10)
    assert r.status_code == 200, r.text


def platform(dash: Any, path: str, creds: dict[str, str] | None = None, **kw: Any) -> requests.Response:
    c = creds or dash.creds
    return requests.get(f"{dash.url}/api/v2/accounts/{kw.pop('account', c['account_id'])}{path}",
                        auth=(c["username"], c["password"]), timeout=10, **kw)


def place(dash: Any, body: str) -> str:
    r = dash.post("/tnoptions", body)
    assert r.status_code == 201, r.text
    order = dash.xml(r)["TnOptionOrderResponse"]["TnOptionOrder"]
    assert order["ProcessingStatus"] == "RECEIVED"
    assert r.headers["Location"].endswith(f"/tnoptions/{order['OrderId']}")
    return order["OrderId"]


def order_doc(dash: Any, order_id: str) -> dict[str, Any]:
    r = dash.get(f"/tnoptions/{order_id}")
    assert r.status_code == 200, r.text
    return dash.xml(r)["TnOptionOrder"]


def send_and_wait(dash: Any, app: str, frm: str, to: str = "+12015550100") -> dict[str, Any]:
    r = requests.post(f"{dash.url}/api/v2/users/{dash.account_id}/messages", auth=dash.http.auth, timeout=10,
                      json={"applicationId": app, "from": frm, "to": [to], "text": "hi"})
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        msgs = control(dash.url, "GET", "/_sandbox/messages", params={"messageId": mid}, timeout=10).json()
        rec = msgs["messages"][0]["recipients"][0]
        if rec["state"] in ("delivered", "failed"):
            return rec
        time.sleep(0.05)
    raise AssertionError("the message never left 'sending'")


@pytest.fixture(autouse=True)
def enforced(dash: Any) -> None:
    """conftest's reset replays the 2018 guide; these tests are about the 2026 rules (the default)."""
    r = control(dash.url, "PUT", "/_sandbox/settings", json={"a2p_enforcement": None}, timeout=10)
    assert r.status_code == 400  # not a boolean
    control(dash.url, "POST", "/_sandbox/reset", timeout=10).raise_for_status()
    assert control(dash.url, "GET", "/_sandbox/settings", timeout=10).json()["a2p_enforcement"] is True
    settings(dash, order_transition={"mode": "immediate"})


@pytest.fixture
def world(dash: Any) -> dict[str, Any]:
    settings(dash, delivery_delay=0)
    return dash.world(url=f"{dash.url}/_sandbox/bins/tendlc", quantity=2)


# == campaigns ==================================================================================

def test_demo_accounts_start_with_a_registered_and_a_pending_campaign(dash: Any) -> None:
    r = platform(dash, "/tendlc/campaigns")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert [(c["campaignId"], c["status"]) for c in body["data"]] == [(CAMPAIGN_A, "REGISTERED"),
                                                                      (PENDING_A, "PENDING")]
    assert body["page"]["totalElements"] == 2
    paged = platform(dash, "/tendlc/campaigns", params={"limit": 1, "offset": 1}).json()
    assert [c["campaignId"] for c in paged["data"]] == [PENDING_A] and paged["page"]["totalElements"] == 2
    assert platform(dash, f"/tendlc/campaigns/{CAMPAIGN_A}").json()["status"] == "REGISTERED"
    bad = platform(dash, "/tendlc/campaigns", params={"limit": "0"})
    assert bad.status_code == 400 and "limit" in bad.json()["errors"][0]["description"]


def test_campaigns_are_isolated_between_accounts(dash: Any, dash_b: Any) -> None:
    b = platform(dash_b, "/tendlc/campaigns").json()
    assert [c["campaignId"] for c in b["data"]][0] == CAMPAIGN_B
    # A cannot read B's campaigns by URL (403), nor see B's campaign under its own account (404)
    assert platform(dash, "/tendlc/campaigns", account=DEMO_B["account_id"]).status_code == 403
    r = platform(dash, f"/tendlc/campaigns/{CAMPAIGN_B}/phoneNumbers")
    assert r.status_code == 404 and CAMPAIGN_B in r.json()["errors"][0]["description"]
    assert platform(dash, "/tendlc/campaigns", creds={**DEMO, "password": "wrong"}).status_code == 401


def test_a_new_account_gets_its_own_registered_campaign(dash: Any) -> None:
    creds = {"account_id": "9912345", "site_id": "9912", "username": "tenant-c", "password": "pw-c",
             "user_id": "u-c", "api_token": "t-c", "api_secret": "s-c"}
    r = control(dash.url, "POST", "/_sandbox/accounts", json=creds, timeout=10)
    assert r.status_code == 201, r.text
    data = platform(dash, "/tendlc/campaigns", creds=creds).json()["data"]
    registered = [c["campaignId"] for c in data if c["status"] == "REGISTERED"]
    assert len(registered) == 1 and registered[0] not in (CAMPAIGN_A, CAMPAIGN_B)


# == TN Option Orders ===========================================================================

def test_tn_option_order_lifecycle_and_number_registration(dash: Any, world: dict[str, Any]) -> None:
    settings(dash, order_transition={"mode": "polls", "polls": 3})
    tn = world["tns"][0]
    order_id = place(dash, tn_option(["+1" + tn], customer_order_id="a2p-1"))
    # the number reads PROCESSING on the campaign until the order finishes
    reg = platform(dash, f"/tendlc/phoneNumbers/+1{tn}").json()
    assert reg == {"phoneNumber": "+1" + tn, "campaignId": CAMPAIGN_A, "status": "PROCESSING"}
    seen = [order_doc(dash, order_id)["ProcessingStatus"] for _ in range(4)]
    assert seen == ["RECEIVED", "PROCESSING", "PROCESSING", "COMPLETE"]
    done = order_doc(dash, order_id)
    assert done["AccountId"] == DEMO["account_id"] and done["CreatedByUser"] == DEMO["username"]
    assert done["CustomerOrderId"] == "a2p-1" and done["ErrorList"] is None
    group = done["TnOptionGroups"]["TnOptionGroup"]
    group = group[0] if isinstance(group, list) else group
    assert group["A2pSettings"]["CampaignId"] == CAMPAIGN_A and group["TelephoneNumbers"]["TelephoneNumber"] == [tn]
    reg = platform(dash, f"/tendlc/phoneNumbers/+1{tn}").json()
    assert reg["status"] == "SUCCESS"
    on_campaign = platform(dash, f"/tendlc/campaigns/{CAMPAIGN_A}/phoneNumbers", params={"phoneNumber": "+1" + tn})
    assert on_campaign.json()["data"] == [reg]
    listing = dash.xml(dash.get("/tnoptions", params={"status": "COMPLETE", "tn": tn}))
    summary = listing["TnOptionOrderReportResponse"]["TnOptionOrders"]
    assert summary["TotalCount"] == "1" and summary["TnOptionOrderSummary"]["OrderId"] == order_id
    assert summary["TnOptionOrderSummary"]["OrderType"] == "tn_option"
    empty = dash.xml(dash.get("/tnoptions", params={"status": "FAILED"}))
    assert empty["TnOptionOrderReportResponse"]["TnOptionOrders"]["TotalCount"] == "0"


def test_assigning_again_warns_and_removing_takes_the_number_off(dash: Any, world: dict[str, Any]) -> None:
    tn = world["tns"][0]
    order_doc(dash, place(dash, tn_option([tn])))
    again = order_doc(dash, place(dash, tn_option([tn])))
    assert again["ProcessingStatus"] == "COMPLETE"
    assert again["Warnings"]["Warning"]["TelephoneNumber"] == tn
    assert "already" in again["Warnings"]["Warning"]["Description"]
    removed = order_doc(dash, place(dash, tn_option([tn], campaign=None, action="delete")))
    assert removed["ProcessingStatus"] == "COMPLETE"
    r = platform(dash, f"/tendlc/phoneNumbers/+1{tn}")
    assert r.status_code == 404 and "not assigned to a 10DLC campaign" in r.json()["errors"][0]["description"]


def test_per_number_errors_make_the_order_partial_or_failed(dash: Any, world: dict[str, Any], dash_b: Any) -> None:
    mine, other = world["tns"][0], "9195550000"
    doc = order_doc(dash, place(dash, tn_option([mine, other])))
    assert doc["ProcessingStatus"] == "PARTIAL"
    assert [(e["Code"], e["TelephoneNumber"]) for e in doc["ErrorList"]["Error"]] == [("5076", other)]
    unknown = order_doc(dash, place(dash, tn_option([world["tns"][1]], campaign="CNOSUCH")))
    assert unknown["ProcessingStatus"] == "FAILED" and unknown["ErrorList"]["Error"][0]["Code"] == "12128"
    assert "CNOSUCH" in unknown["ErrorList"]["Error"][0]["Description"]
    # another account's campaign is as unknown as a made-up one (tenant isolation)
    foreign = order_doc(dash, place(dash, tn_option([world["tns"][1]], campaign=CAMPAIGN_B)))
    assert foreign["ErrorList"]["Error"][0]["Code"] == "12128"
    pending = order_doc(dash, place(dash, tn_option([world["tns"][1]], campaign=PENDING_A)))
    assert pending["ProcessingStatus"] == "FAILED" and pending["ErrorList"]["Error"][0]["Code"] == "12192"
    reg = platform(dash, f"/tendlc/phoneNumbers/+1{world['tns'][1]}").json()
    assert reg == {"phoneNumber": f"+1{world['tns'][1]}", "campaignId": PENDING_A, "status": "FAILURE"}
    # B's order for A's number: not B's number
    b_doc = order_doc(dash_b, place(dash_b, tn_option([mine], campaign=CAMPAIGN_B)))
    assert b_doc["ErrorList"]["Error"][0]["Code"] == "5076"
    assert dash_b.get(f"/tnoptions/{unknown['OrderId']}").status_code == 404


@pytest.mark.parametrize("body, code", [
    ("<TnOptionOrder/>", "1003"),
    ("<TnOptionOrder><TnOptionGroups><TnOptionGroup><Sms>on</Sms></TnOptionGroup></TnOptionGroups></TnOptionOrder>",
     "5073"),
    (tn_option(["12345"]), "5070"),
    (tn_option(["9195551234", "+19195551234"]), "5093"),
    (tn_option(["9195551234"], action="sometimes"), "5138"),
    (tn_option(["9195551234"], campaign=None), "1003"),
    (tn_option(["9195551234"], campaign="bad id!"), "12822"),
    (tn_option(["9195551234"], sms="off"), "5132"),
    (tn_option(["9195551234"], sms="maybe"), "5113"),
    ("<TnOptionOrder><TnOptionGroups><TnOptionGroup><TelephoneNumbers><TelephoneNumber>9195551234</TelephoneNumber>"
     "</TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>", "5115"),
    ("<TnOptionOrder><unclosed>", "400"),
])
def test_malformed_tn_option_orders_are_refused(dash: Any, body: str, code: str) -> None:
    r = dash.post("/tnoptions", body)
    assert r.status_code == 400, r.text
    status = dash.xml(r)["TnOptionOrderResponse"]["ResponseStatus"]
    assert status["ErrorCode"] == code and status["Description"]
    listing = dash.xml(dash.get("/tnoptions"))["TnOptionOrderReportResponse"]["TnOptionOrders"]
    assert listing["TotalCount"] == "0"


def test_number_and_rpid_formats_are_checked_as_numbers_yml_shows(dash: Any) -> None:
    """numbers.yml CreateTnOptionOrder's 400 example: <NumberFormat>wrong</NumberFormat> is refused with 5081
    "Number Format 'wrong' is invalid."; RPIDFormat likewise with 5089 (numbers-errors.mdx); the enum's values pass."""
    def group(option: str) -> str:
        return (f"<TnOptionOrder><TnOptionGroups><TnOptionGroup>{option}<TelephoneNumbers><TelephoneNumber>"
                "9195551234</TelephoneNumber></TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>")
    for option, code, text in (("<NumberFormat>wrong</NumberFormat>", "5081", "Number Format 'wrong' is invalid."),
                               ("<RPIDFormat>wrong</RPIDFormat>", "5089", "RPID Format 'wrong' is invalid.")):
        r = dash.post("/tnoptions", group(option))
        assert r.status_code == 400, r.text
        status = dash.xml(r)["TnOptionOrderResponse"]["ResponseStatus"]
        assert status["ErrorCode"] == code and status["Description"].startswith(text), status
    assert dash.xml(dash.get("/tnoptions"))["TnOptionOrderReportResponse"]["TnOptionOrders"]["TotalCount"] == "0"
    r = dash.post("/tnoptions", group("<NumberFormat>10digit</NumberFormat><RPIDFormat>e164</RPIDFormat>"))
    assert r.status_code == 201, r.text


def test_a_finished_orders_last_modified_date_stays_put(dash: Any, world: dict[str, Any],
                                                        sandbox_clock: Any) -> None:
    """LastModifiedDate is when the order last changed (numbers.yml GetTnOptionOrder example: 58.969 after a create at
    58.789), not the time of the read: with immediate orders every GET and the list gave a new one."""
    order_id = place(dash, tn_option(world["tns"][:1]))
    first = order_doc(dash, order_id)
    assert first["ProcessingStatus"] == "COMPLETE"
    sandbox_clock.advance(90)
    again = order_doc(dash, order_id)
    assert again["LastModifiedDate"] == first["LastModifiedDate"] == first["OrderCreateDate"], again
    listed = dash.xml(dash.get("/tnoptions"))["TnOptionOrderReportResponse"]["TnOptionOrders"]["TnOptionOrderSummary"]
    listed = listed if isinstance(listed, list) else [listed]
    assert [o["lastModifiedDate"] for o in listed if o["OrderId"] == order_id] == [first["LastModifiedDate"]]


def test_unknown_tn_option_order_is_404_in_the_report_shape(dash: Any) -> None:
    r = dash.get("/tnoptions/not-an-order")
    assert r.status_code == 404
    assert dash.xml(r)["TnOptionOrderReportResponse"]["ResponseStatus"]["Description"] == \
        "The resource does not exist"


def test_a_location_without_sms_gets_5145(dash: Any) -> None:
    peer = dash.create_peer("bare")
    tns = dash.order_numbers(peer)
    doc = order_doc(dash, place(dash, tn_option(tns)))
    assert doc["ProcessingStatus"] == "FAILED" and doc["ErrorList"]["Error"][0]["Code"] == "5145"


# == the delivery rule ==========================================================================

def test_enforcement_fails_unregistered_local_numbers_with_4476(dash: Any, world: dict[str, Any]) -> None:
    frm = "+1" + world["tns"][0]
    rec = send_and_wait(dash, world["app"], frm)
    assert (rec["state"], rec["errorCode"]) == ("failed", 4476)
    order_doc(dash, place(dash, tn_option([frm])))
    assert send_and_wait(dash, world["app"], frm)["state"] == "delivered"
    # the magic `to` numbers still work for a registered number
    assert send_and_wait(dash, world["app"], frm, to="+12015550101")["errorCode"] == 4720


def test_enforcement_waits_for_the_assignment_to_finish(dash: Any, world: dict[str, Any]) -> None:
    settings(dash, order_transition={"mode": "polls", "polls": 2})
    frm = "+1" + world["tns"][0]
    order_id = place(dash, tn_option([frm]))
    assert send_and_wait(dash, world["app"], frm)["errorCode"] == 4476  # still PROCESSING
    while order_doc(dash, order_id)["ProcessingStatus"] != "COMPLETE":
        pass
    assert send_and_wait(dash, world["app"], frm)["state"] == "delivered"


def test_without_enforcement_the_2018_guide_delivers(dash: Any, world: dict[str, Any]) -> None:
    settings(dash, a2p_enforcement=False)
    assert send_and_wait(dash, world["app"], "+1" + world["tns"][0])["state"] == "delivered"
    r = control(dash.url, "PUT", "/_sandbox/settings", json={"a2p_enforcement": "no"}, timeout=10)
    assert r.status_code == 400 and "a2p_enforcement" in r.json()["error"]


# == toll-free verification =====================================================================

TFV_REQUEST = {
    "businessAddress": {"name": "Demo Co", "addr1": "1 Main St", "city": "Raleigh", "state": "NC", "zip": "27606",
                        "url": "https://demo.example.org"},
    "businessContact": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@demo.example.org",
                        "phoneNumber": "+19192654500"},
    "messageVolume": 1000, "useCase": "2FA", "useCaseSummary": "One-time passcodes",
    "productionMessageContent": "Your code is 123456",
    "optInWorkflow": {"description": "Users opt in on the sign-up form", "imageUrls": ["https://demo.example.org/o.png"]},
    "businessEntityType": "PRIVATE_PROFIT",
}


@pytest.fixture
def toll_free(dash: Any) -> dict[str, Any]:
    settings(dash, delivery_delay=0)
    app = dash.create_app(url=f"{dash.url}/_sandbox/bins/tfv")
    peer = dash.create_peer()
    dash.enable_sms(peer)
    assert dash.assign(peer, app).status_code == 200
    r = dash.post("/orders", "<Order><TollFreeWildCharSearchAndOrderType><TollFreeWildCardPattern>8**"
                             "</TollFreeWildCardPattern><Quantity>1</Quantity></TollFreeWildCharSearchAndOrderType>"
                             f"<SiteId>{dash.site_id}</SiteId><PeerId>{peer}</PeerId></Order>")
    assert r.status_code == 201, r.text
    order = dash.xml(dash.get(f"/orders/{dash.xml(r)['OrderResponse']['Order']['id']}"))["OrderResponse"]
    tn = order["CompletedNumbers"]["TelephoneNumber"][0]["FullNumber"]
    return {"app": app, "tn": "+1" + tn}


def tfv_post(dash: Any, path: str, body: Any, method: str = "POST") -> requests.Response:
    return requests.request(method, f"{dash.url}/api/v2/accounts/{dash.account_id}{path}", json=body,
                            auth=dash.http.auth, timeout=10)


def test_toll_free_path_verification_then_delivery(dash: Any, toll_free: dict[str, Any]) -> None:
    tn = toll_free["tn"]
    status = platform(dash, f"/phoneNumbers/{tn}/tollFreeVerification")
    assert status.status_code == 200 and status.json() == {"phoneNumber": tn, "status": "UNVERIFIED"}
    assert send_and_wait(dash, toll_free["app"], tn)["errorCode"] == 4795
    # a 10DLC campaign is the wrong tool for a toll-free number
    doc = order_doc(dash, place(dash, tn_option([tn])))
    assert doc["ErrorList"]["Error"][0]["Code"] == "5126"
    settings(dash, order_transition={"mode": "polls", "polls": 2})
    r = tfv_post(dash, "/tollFreeVerification", {**TFV_REQUEST, "phoneNumbers": [tn]})
    assert r.status_code == 202, r.text
    first = platform(dash, f"/phoneNumbers/{tn}/tollFreeVerification").json()
    assert first["status"] == "PENDING" and first["submission"]["useCase"] == "2FA"
    assert "phoneNumbers" not in first["submission"] and first["internalTicketNumber"]
    assert send_and_wait(dash, toll_free["app"], tn)["errorCode"] == 4795  # PENDING is not VERIFIED
    assert platform(dash, f"/phoneNumbers/{tn}/tollFreeVerification").json()["status"] == "PENDING"
    assert platform(dash, f"/phoneNumbers/{tn}/tollFreeVerification").json()["status"] == "VERIFIED"
    assert send_and_wait(dash, toll_free["app"], tn)["state"] == "delivered"
    again = tfv_post(dash, "/tollFreeVerification", {**TFV_REQUEST, "phoneNumbers": [tn]})
    assert again.status_code == 400 and "VERIFIED" in again.json()["errors"]["phoneNumbers"]


def test_toll_free_magic_rejection_and_resubmission(dash: Any, toll_free: dict[str, Any]) -> None:
    tn = toll_free["tn"]
    bad = {**TFV_REQUEST, "businessAddress": {**TFV_REQUEST["businessAddress"], "url": "https://unreachable.example"}}
    assert tfv_post(dash, "/tollFreeVerification", {**bad, "phoneNumbers": [tn]}).status_code == 202
    doc = platform(dash, f"/phoneNumbers/{tn}/tollFreeVerification").json()
    assert doc["status"] == "UNVERIFIED" and doc["denialStatusCode"] == 511 and doc["resubmitAllowed"] is True
    assert send_and_wait(dash, toll_free["app"], tn)["errorCode"] == 4795
    r = tfv_post(dash, f"/phoneNumbers/{tn}/tollFreeVerification", {"submission": TFV_REQUEST}, method="PUT")
    assert r.status_code == 202, r.text
    assert platform(dash, f"/phoneNumbers/{tn}/tollFreeVerification").json()["status"] == "VERIFIED"


def test_toll_free_bad_requests(dash: Any, toll_free: dict[str, Any], dash_b: Any) -> None:
    tn = toll_free["tn"]
    r = tfv_post(dash, "/tollFreeVerification", {"phoneNumbers": [tn]})
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert {"businessAddress", "businessContact", "messageVolume", "optInWorkflow", "businessEntityType"} <= set(errors)
    r = tfv_post(dash, "/tollFreeVerification", {**TFV_REQUEST, "phoneNumbers": ["+19195551234"]})
    assert r.status_code == 400 and "toll-free" in r.json()["errors"]["phoneNumbers"]
    r = tfv_post(dash, "/tollFreeVerification", {**TFV_REQUEST, "phoneNumbers": ["+18005550199"]})
    assert r.status_code == 400 and "not a number of account" in r.json()["errors"]["phoneNumbers"]
    assert platform(dash, "/phoneNumbers/+19195551234/tollFreeVerification").status_code == 400
    # B cannot see A's toll-free number
    r = platform(dash_b, f"/phoneNumbers/{tn}/tollFreeVerification")
    assert r.status_code == 404 and r.json() == {"type": "Not Found", "description": "Cannot find the requested resource."}


def test_bearer_tokens_work_and_a_missing_role_is_403(dash: Any) -> None:
    def token(client_id: str, secret: str) -> str:
        r = requests.post(f"{dash.url}/api/v1/oauth2/token", auth=(client_id, secret),
                          data={"grant_type": "client_credentials"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    url = f"{dash.url}/api/v2/accounts/{DEMO['account_id']}/tendlc/campaigns"
    full = token(DEMO["client_id"], DEMO["client_secret"])
    r = requests.get(url, headers={"Authorization": f"Bearer {full}"}, timeout=10)
    assert r.status_code == 200 and r.json()["data"][0]["campaignId"] == CAMPAIGN_A
    r = control(dash.url, "POST", "/_sandbox/credentials", json={"account_id": DEMO["account_id"],
                      "client_id": "msg-only", "client_secret": "msg-only-secret", "roles": ["Messaging"]}, timeout=10)
    assert r.status_code == 201, r.text
    r = requests.get(url, headers={"Authorization": f"Bearer {token('msg-only', 'msg-only-secret')}"}, timeout=10)
    assert r.status_code == 403 and "Numbers role" in r.json()["errors"][0]["description"]
    r = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
