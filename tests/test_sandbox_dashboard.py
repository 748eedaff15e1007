"""The sandbox's Dashboard (Iris) XML API over real HTTP: every endpoint, every documented error
code, the order lifecycle in each transition mode, magic areas, tenant isolation, persistence and
two processes sharing one db."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Iterator

import pytest
import requests

from bwhelpers.sandbox import DEMO, DEMO_B
from bwhelpers.sandbox import magic, numbers
from bwhelpers.sandbox.db import Database
from bwhelpers.sandbox.dashboard import models

from conftest import control, MMS_BODY, SMS_BODY, SandboxClock, XmlSession


def err(s: XmlSession, r: requests.Response, root: str) -> tuple[str, str]:
    """(code, description) of a ResponseStatus error body with root ``root``."""
    body = s.xml(r)
    assert list(body) == [root], r.text
    status = body[root]["ResponseStatus"]
    return status["ErrorCode"], status["Description"]


def err_list(s: XmlSession, r: requests.Response, root: str = "OrderResponse") -> list[dict[str, Any]]:
    body = s.xml(r)
    assert list(body) == [root], r.text
    return body[root]["ErrorList"]["Error"]


def search_err(s: XmlSession, r: requests.Response) -> str:
    return s.xml(r)["SearchResult"]["Error"]["Code"]


# == the guide, steps 1-8, exact bodies ===========================================================

GUIDE_APP = """<Application>
  <AppName>Demo Server</AppName>
  <CallbackUrl>https://requestb.in/zuaqjbzu</CallbackUrl>
  <CallbackCreds/>
</Application>"""

GUIDE_PEER = """<SipPeer>
  <PeerName>Bandwidth Messaging 2 test2</PeerName>
  <IsDefaultPeer>true</IsDefaultPeer>
</SipPeer>"""


def test_guide_walk_exact_bodies(dash: XmlSession) -> None:
    a = dash.account_id
    # 1 application
    r = dash.post(f"/api/accounts/{a}/applications", GUIDE_APP)
    assert r.status_code == 201
    assert r.headers["Content-Type"].startswith("application/xml")
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    app = dash.xml(r)["ApplicationProvisioningResponse"]["Application"]
    # the guide's elements, in its order, plus the deprecated MsgCallbackUrl mirror numbers.yml's responses carry
    assert list(app) == ["ApplicationId", "ServiceType", "AppName", "CallbackUrl", "MsgCallbackUrl", "CallbackCreds"]
    assert app["ServiceType"] == "Messaging-V2" and app["AppName"] == "Demo Server" and app["CallbackCreds"] is None
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", app["ApplicationId"])
    app_id = app["ApplicationId"]
    # 2 location
    r = dash.post(f"/api/accounts/{a}/sites/{dash.site_id}/sippeers", GUIDE_PEER)
    assert r.status_code == 201 and r.content == b""
    loc = r.headers["Location"]
    assert re.fullmatch(rf"{re.escape(dash.url)}/api/accounts/{a}/sites/{dash.site_id}/sippeers/\d+", loc)
    peer = loc.rsplit("/", 1)[1]
    p = f"/api/accounts/{a}/sites/{dash.site_id}/sippeers/{peer}"
    # 3 SMS
    r = dash.post(p + "/products/messaging/features/sms", SMS_BODY)
    assert r.status_code == 201
    sms = dash.xml(r)["SipPeerSmsFeatureResponse"]["SipPeerSmsFeature"]
    assert sms["SipPeerSmsFeatureSettings"] == {"TollFree": "true", "ShortCode": "true", "Protocol": "HTTP",
                                                "Zone1": "true", "Zone2": "false", "Zone3": "false",
                                                "Zone4": "false", "Zone5": "false"}
    assert list(sms["SipPeerSmsFeatureSettings"]) == ["TollFree", "ShortCode", "Protocol", "Zone1", "Zone2",
                                                      "Zone3", "Zone4", "Zone5"]
    assert sms["HttpSettings"] == {"ProxyPeerId": "539692"}
    # 4 MMS: the guide's lower-case <protocol>, answered as the guide shows
    r = dash.post(p + "/products/messaging/features/mms", MMS_BODY)
    assert r.status_code == 201
    assert "<MmsSettings><protocol>HTTP</protocol></MmsSettings>" in r.text
    assert "<HttpSettings><proxyPeerId>539692</proxyPeerId></HttpSettings>" in r.text
    assert list(dash.xml(r)) == ["MmsFeatureResponse"]
    # 5 assign
    r = dash.put(p + "/products/messaging/applicationSettings",
                 f"<ApplicationsSettings>\n  <HttpMessagingV2AppId>{app_id}</HttpMessagingV2AppId>\n"
                 "</ApplicationsSettings>")
    assert r.status_code == 200
    assert dash.xml(r) == {"ApplicationsSettingsResponse": {"ApplicationsSettings": {"HttpMessagingV2AppId": app_id}}}
    # 6 order
    r = dash.post(f"/api/accounts/{a}/orders", f"""<Order>
  <AreaCodeSearchAndOrderType>
    <AreaCode>910</AreaCode>
    <Quantity>1</Quantity>
  </AreaCodeSearchAndOrderType>
  <SiteId>{dash.site_id}</SiteId>
  <PeerId>{peer}</PeerId>
</Order>""")
    assert r.status_code == 201
    body = dash.xml(r)["OrderResponse"]
    assert list(body) == ["Order", "OrderStatus"] and body["OrderStatus"] == "RECEIVED"
    order = body["Order"]
    assert list(order) == ["OrderCreateDate", "PeerId", "BackOrderRequested", "id", "AreaCodeSearchAndOrderType",
                           "PartialAllowed", "SiteId"]
    assert order["PeerId"] == peer and order["SiteId"] == dash.site_id
    assert order["BackOrderRequested"] == "false" and order["PartialAllowed"] == "true"
    assert order["AreaCodeSearchAndOrderType"] == {"AreaCode": "910", "Quantity": "1"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", order["OrderCreateDate"])
    assert r.headers["Location"] == f"{dash.url}/api/accounts/{a}/orders/{order['id']}"
    # 7 status
    r = dash.get(f"/api/accounts/{a}/orders/{order['id']}", headers={"Content-Type": "application/xml"})
    assert r.status_code == 200
    st = dash.xml(r)["OrderResponse"]
    assert st["OrderStatus"] == "COMPLETE"
    assert st["CompletedQuantity"] == "1" and st["FailedQuantity"] == "0"
    assert st["CreatedByUser"] == DEMO["username"]
    assert st["Summary"] == "1 number ordered in (910)"
    tn = st["CompletedNumbers"]["TelephoneNumber"][0]["FullNumber"]
    assert tn.startswith("910") and numbers.is_valid_tn(tn)
    for key in ("LastModifiedDate", "OrderCompleteDate", "Order"):
        assert key in st
    assert "<ErrorList/>" in r.text and "<FailedNumbers/>" in r.text
    # 8 send (guide era: legacy endpoint, token:secret)
    r = requests.post(f"{dash.url}/v2/users/{DEMO['user_id']}/messages", auth=(DEMO["api_token"], DEMO["api_secret"]),
                      json={"from": f"+1{tn}", "to": "+19191231234", "text": "Good morning, this is a test message",
                            "applicationId": app_id}, timeout=10)
    assert r.status_code == 202, r.text
    assert r.json()["applicationId"] == app_id


def test_guide_numbers_are_in_service_and_owned(dash: XmlSession, sandbox: Any) -> None:
    w = dash.world()
    db = Database(sandbox.db_path)
    owner = models.number_owner(db, "+1" + w["tns"][0])
    assert owner == {"account_id": DEMO["account_id"], "site_id": dash.site_id, "location_id": w["peer"],
                     "tn": w["tns"][0]}
    assert models.number_owner(db, w["tns"][0])["location_id"] == w["peer"]
    assert models.number_owner(db, "+19999999999") is None
    assert models.location_messaging(db, DEMO["account_id"], w["peer"]) == {"sms": True, "mms": True,
                                                                            "application_id": w["app"]}
    assert models.location_messaging(db, DEMO_B["account_id"], w["peer"])["sms"] is False


# == applications ================================================================================

def test_application_variants_and_password_never_echoed(dash: XmlSession, sandbox: Any) -> None:
    r = dash.post("/applications", "<Application><ServiceType>Messaging-V2</ServiceType><AppName>Msg</AppName>"
                                   "<MsgCallbackUrl>https://example.com/cb</MsgCallbackUrl>"
                                   "<CallbackCreds><UserId>u1</UserId><Password>s3cret</Password></CallbackCreds>"
                                   "</Application>")
    assert r.status_code == 201, r.text
    assert "s3cret" not in r.text and "Password" not in r.text
    app = dash.xml(r)["ApplicationProvisioningResponse"]["Application"]
    assert app["MsgCallbackUrl"] == "https://example.com/cb" and app["CallbackCreds"] == {"UserId": "u1"}
    assert r.headers["Location"].endswith(f"/applications/{app['ApplicationId']}")
    r2 = dash.post("/applications", "<Application><AppName>New</AppName>"
                                    "<InboundCallbackUrl>https://in.example.com/x</InboundCallbackUrl>"
                                    "<OutboundCallbackUrl>https://out.example.com/x</OutboundCallbackUrl>"
                                    "<InboundCallbackCreds><UserId>iu</UserId><Password>ip</Password>"
                                    "</InboundCallbackCreds>"
                                    "<RequestedCallbackTypes><CallbackType>message-delivered</CallbackType>"
                                    "<CallbackType>message-failed</CallbackType></RequestedCallbackTypes>"
                                    "</Application>")
    assert r2.status_code == 201, r2.text
    new = dash.xml(r2)["ApplicationProvisioningResponse"]["Application"]
    assert new["InboundCallbackCreds"] == {"UserId": "iu"} and "ip" not in r2.text
    assert new["RequestedCallbackTypes"]["CallbackType"] == ["message-delivered", "message-failed"]
    db = Database(sandbox.db_path)
    got = models.get_application(db, DEMO["account_id"], app["ApplicationId"])
    assert got["callback_url"] == "https://example.com/cb" and got["inbound_callback_url"] == "https://example.com/cb"
    assert (got["callback_user"], got["callback_password"]) == ("u1", "s3cret")
    got2 = models.get_application(db, DEMO["account_id"], new["ApplicationId"])
    assert got2["callback_url"] == "https://out.example.com/x"
    assert got2["inbound_callback_url"] == "https://in.example.com/x"
    assert (got2["inbound_callback_user"], got2["inbound_callback_password"]) == ("iu", "ip")
    assert got2["callback_user"] is None
    assert models.callback_targets(db, DEMO["account_id"], new["ApplicationId"], "in") == [
        {"url": "https://in.example.com/x", "user": "iu", "password": "ip"}]
    assert models.callback_targets(db, DEMO["account_id"], new["ApplicationId"], "outbound")[0]["url"] == \
        "https://out.example.com/x"
    assert models.get_application(db, DEMO_B["account_id"], app["ApplicationId"]) is None
    assert models.callback_targets(db, DEMO_B["account_id"], app["ApplicationId"], "out") == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/_sandbox/bins/demo", "http://localhost:9000/cb"])
def test_localhost_http_with_creds_is_accepted(dash: XmlSession, url: str) -> None:
    r = dash.post("/applications", f"<Application><AppName>Local</AppName><CallbackUrl>{url}</CallbackUrl>"
                                   "<CallbackCreds><UserId>u</UserId><Password>p</Password></CallbackCreds>"
                                   "</Application>")
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("body,code", [
    ("<Application><ServiceType>Voice-V2</ServiceType><AppName>x</AppName>"
     "<CallbackUrl>https://a.example/x</CallbackUrl></Application>", "12801"),
    ("<Application><AppName>x</AppName></Application>", "12802"),
    ("<Application><AppName>x</AppName><OutboundCallbackUrl>https://a.example/x</OutboundCallbackUrl></Application>",
     "12802"),
    ("<Application><AppName>x</AppName><CallbackUrl>ftp://a.example/x</CallbackUrl></Application>", "12803"),
    ("<Application><AppName>x</AppName><CallbackUrl>not a url</CallbackUrl></Application>", "12803"),
    ("<Application><AppName>x</AppName><CallbackUrl>https://a.example:22/x</CallbackUrl></Application>", "12803"),
    ("<Application><CallbackUrl>https://a.example/x</CallbackUrl></Application>", "12806"),
    ("<Application><AppName></AppName><CallbackUrl>https://a.example/x</CallbackUrl></Application>", "12806"),
    ("<Application><AppName>x</AppName><CallbackUrl>http://a.example/x</CallbackUrl>"
     "<CallbackCreds><UserId>u</UserId><Password>p</Password></CallbackCreds></Application>", "12812"),
    ("<Application><AppName>x</AppName><InboundCallbackUrl>http://a.example/x</InboundCallbackUrl>"
     "<InboundCallbackCreds><UserId>u</UserId><Password>p</Password></InboundCallbackCreds></Application>", "12812"),
    ("<Application><AppName>x</AppName><MsgCallbackUrl>https://a.example/x</MsgCallbackUrl>"
     "<InboundCallbackUrl>https://a.example/y</InboundCallbackUrl></Application>", "13065"),
    ("<Application><AppName>x</AppName><CallbackUrl>https://a.example/x</CallbackUrl>"
     "<OutboundCallbackUrl>https://a.example/y</OutboundCallbackUrl></Application>", "13065"),
    ("<Application><AppName>x</AppName><InboundCallbackUrl>https://a.example/x</InboundCallbackUrl>"
     "<CallbackCreds><UserId>u</UserId><Password>p</Password></CallbackCreds>"
     "<InboundCallbackCreds><UserId>u</UserId><Password>p</Password></InboundCallbackCreds></Application>", "13066"),
    ("<Application><AppName>x</AppName><CallbackUrl>https://a.example/x</CallbackUrl>"
     "<CallBackCreds><UserId>u</UserId></CallBackCreds></Application>", "1003"),
])
def test_application_errors(dash: XmlSession, body: str, code: str) -> None:
    r = dash.post("/applications", body)
    assert r.status_code == 400, r.text
    assert err(dash, r, "ApplicationProvisioningResponse")[0] == code


def test_the_application_list_is_each_applications_own_answer_even_after_changes(dash: XmlSession) -> None:
    """Bench 8 (issue 23): each application of the list is rendered once per stored version and reused, so a tenant
    re-reading its biggest list no longer holds the event loop for tens of milliseconds. The list must still be
    exactly the applications as stored now: each element byte for byte the one GET /applications/{id} answers, and
    a renamed application is listed renamed."""
    import re

    ids = [dash.create_app(name=f"Listed {i}") for i in range(3)]

    def listed() -> str:
        r = dash.get("/applications")
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/xml; charset=utf-8"
        return r.text

    def own(app_id: str) -> str:
        text = dash.get(f"/applications/{app_id}").text
        found = re.search(r"<Application>.*</Application>", text, re.S)
        assert found, text[:500]
        return found.group(0)

    first = listed()
    assert first == listed()  # the second read (from the rendered items) is the same answer
    assert first.endswith("".join(own(i) for i in ids) + "</ApplicationList></ApplicationProvisioningResponse>")
    assert dash.patch(f"/applications/{ids[1]}", "<Application><AppName>Renamed</AppName></Application>"
                      ).status_code == 200
    after = listed()
    assert "Renamed" in after and "Listed 1" not in after and own(ids[1]) in after
    gone = own(ids[0])
    assert dash.delete(f"/applications/{ids[0]}").status_code == 200
    assert gone not in listed() and listed().count("<Application>") == 2


def test_application_crud(dash: XmlSession) -> None:
    r = dash.get("/applications")
    assert r.status_code == 200 and dash.xml(r) == {"ApplicationProvisioningResponse": {"ApplicationList": None}}
    a1, a2 = dash.create_app(name="One"), dash.create_app(name="Two")
    apps = dash.xml(dash.get("/applications"))["ApplicationProvisioningResponse"]["ApplicationList"]["Application"]
    assert [a["ApplicationId"] for a in apps] == [a1, a2]
    r = dash.get(f"/applications/{a1}")
    assert r.status_code == 200
    assert dash.xml(r)["ApplicationProvisioningResponse"]["Application"]["AppName"] == "One"
    # PUT replaces, PATCH merges
    r = dash.put(f"/applications/{a1}", "<Application><AppName>Renamed</AppName>"
                                        "<CallbackUrl>https://new.example/cb</CallbackUrl></Application>")
    assert r.status_code == 200
    app = dash.xml(r)["ApplicationProvisioningResponse"]["Application"]
    assert app["AppName"] == "Renamed" and app["CallbackUrl"] == "https://new.example/cb" and "CallbackCreds" not in app
    r = dash.patch(f"/applications/{a1}", "<Application><AppName>Patched</AppName></Application>")
    assert r.status_code == 200
    app = dash.xml(r)["ApplicationProvisioningResponse"]["Application"]
    assert app["AppName"] == "Patched" and app["CallbackUrl"] == "https://new.example/cb"
    r = dash.put(f"/applications/{a1}", "<Application><ServiceType>Voice-V2</ServiceType><AppName>x</AppName>"
                                        "<CallbackUrl>https://a.example/x</CallbackUrl></Application>")
    assert r.status_code == 400 and err(dash, r, "ApplicationProvisioningResponse")[0] in ("12801", "12964")
    # delete
    r = dash.delete(f"/applications/{a2}")
    assert r.status_code == 200 and r.content == b""
    r = dash.get(f"/applications/{a2}")
    assert r.status_code == 404
    code, text = err(dash, r, "ApplicationProvisioningResponse")
    assert code == "23019" and text == f"Application with ID {a2} was not found"
    for method in ("put", "patch"):
        r = getattr(dash, method)(f"/applications/{a2}", "<Application><AppName>x</AppName></Application>")
        assert r.status_code == 404
    assert dash.delete(f"/applications/{a2}").status_code == 404


def test_application_delete_refused_while_assigned_12107(dash: XmlSession) -> None:
    w = dash.world()
    r = dash.get(f"/applications/{w['app']}/associatedsippeers")
    assert r.status_code == 200
    peers = dash.xml(r)["AssociatedSipPeersResponse"]["AssociatedSipPeers"]["AssociatedSipPeer"]
    assert peers == [{"SiteId": dash.site_id, "SiteName": "Sandbox Site", "PeerId": w["peer"], "PeerName": "Loc"}]
    r = dash.delete(f"/applications/{w['app']}")
    assert r.status_code == 400
    code, text = err(dash, r, "ApplicationProvisioningResponse")
    assert code == "12107" and w["peer"] in text
    assert dash.put(dash.peer_path(w["peer"]) + "/products/messaging/applicationSettings",
                    "<ApplicationsSettings>REMOVE</ApplicationsSettings>").status_code == 200
    r = dash.get(f"/applications/{w['app']}/associatedsippeers")
    assert dash.xml(r) == {"AssociatedSipPeersResponse": {"AssociatedSipPeers": None}}
    assert dash.delete(f"/applications/{w['app']}").status_code == 200
    assert dash.get(f"/applications/{w['app']}/associatedsippeers").status_code == 404


# == sites =======================================================================================

def test_sites(dash: XmlSession) -> None:
    r = dash.get("/sites")
    assert r.status_code == 200
    sites = dash.xml(r)["SitesResponse"]["Sites"]["Site"]
    assert [s["Id"] for s in sites] == [dash.site_id]
    r = dash.post("/sites", "<Site><Name>Second</Name><Description>d</Description><CustomerName>c</CustomerName>"
                            "<Address><HouseNumber>1</HouseNumber><StreetName>Main</StreetName><City>Raleigh</City>"
                            "<StateCode>NC</StateCode><Zip>27601</Zip><AddressType>Billing</AddressType></Address>"
                            "</Site>")
    assert r.status_code == 201, r.text
    site = dash.xml(r)["SiteResponse"]["Site"]
    assert site["Id"].isdigit() and site["Name"] == "Second"
    assert r.headers["Location"].endswith(f"/sites/{site['Id']}")
    r = dash.get(f"/sites/{site['Id']}")
    got = dash.xml(r)["SiteResponse"]["Site"]
    assert got["Address"]["City"] == "Raleigh" and got["CustomerName"] == "c" and got["Description"] == "d"
    assert len(dash.xml(dash.get("/sites"))["SitesResponse"]["Sites"]["Site"]) == 2
    r = dash.post("/sites", "<Site><Description>no name</Description></Site>")
    assert r.status_code == 400 and err(dash, r, "SiteResponse")[0] == "1003"
    r = dash.get("/sites/424242")
    assert r.status_code == 404 and err(dash, r, "SiteResponse")[0] == "12016"  # numbers.yml GET /sites/{id}
    # a new site holds locations
    peer = dash.create_peer(site_id=site["Id"])
    assert dash.get(dash.peer_path(peer, site["Id"])).status_code == 200


def test_site_update_and_delete_as_numbers_yml_documents(dash: XmlSession) -> None:
    """numbers.yml UpdateSite (PUT /sites/{id} -> 200 SiteResponse) and DeleteSite (200; "Sites can only be deleted
    if there are no SIP Peers attached to it"); both were 405."""
    r = dash.post("/sites", "<Site><Name>Old</Name><Description>d</Description></Site>")
    site = dash.xml(r)["SiteResponse"]["Site"]["Id"]
    r = dash.put(f"/sites/{site}", "<Site><Name>Raleigh</Name><Description>SIP gateway</Description>"
                                   "<CustomerName>BW</CustomerName><Address><HouseNumber>1600</HouseNumber><StreetName>"
                                   "PENNSYLVANIA</StreetName><City>WASHINGTON</City><StateCode>DC</StateCode><Zip>20006"
                                   "</Zip><AddressType>Service</AddressType></Address></Site>")
    assert r.status_code == 200, r.text
    got = dash.xml(r)["SiteResponse"]["Site"]
    assert (got["Id"], got["Name"], got["Description"], got["CustomerName"]) == (site, "Raleigh", "SIP gateway", "BW")
    assert dash.xml(dash.get(f"/sites/{site}"))["SiteResponse"]["Site"]["Address"]["City"] == "WASHINGTON"
    r = dash.put(f"/sites/{site}", "<Site><Description>no name</Description></Site>")
    assert r.status_code == 400 and err(dash, r, "SiteResponse")[0] == "1003"
    # a site with a location is not deleted; without one it is, and then it is 12016
    peer = dash.create_peer(site_id=site)
    r = dash.delete(f"/sites/{site}")
    assert r.status_code == 400 and "SIP peer" in err(dash, r, "SiteResponse")[1], r.text
    assert dash.delete(dash.peer_path(peer, site)).status_code == 200
    r = dash.delete(f"/sites/{site}")
    assert r.status_code == 200 and r.content == b""
    assert dash.get(f"/sites/{site}").status_code == 404
    assert dash.delete(f"/sites/{site}").status_code == 404
    assert [s["Id"] for s in dash.xml(dash.get("/sites"))["SitesResponse"]["Sites"]["Site"]] == [dash.site_id]


# == SIP peers ===================================================================================

def test_sippeer_crud(dash: XmlSession) -> None:
    p1 = dash.create_peer("First", default=True)
    p2 = dash.create_peer("Second", default=False)
    assert p1.isdigit() and p2.isdigit() and int(p2) > int(p1)
    r = dash.get(f"/sites/{dash.site_id}/sippeers")
    assert r.status_code == 200
    peers = dash.xml(r)["TNSipPeersResponse"]["SipPeers"]["SipPeer"]
    assert [(p["PeerId"], p["PeerName"], p["IsDefaultPeer"]) for p in peers] == [
        (p1, "First", "true"), (p2, "Second", "false")]
    r = dash.get(dash.peer_path(p1))
    assert r.status_code == 200
    assert dash.xml(r)["SipPeerResponse"]["SipPeer"]["PeerName"] == "First"
    # a new default unsets the previous one
    p3 = dash.create_peer("Third", default=True)
    defaults = {p["PeerId"]: p["IsDefaultPeer"] for p in
                dash.xml(dash.get(f"/sites/{dash.site_id}/sippeers"))["TNSipPeersResponse"]["SipPeers"]["SipPeer"]}
    assert defaults == {p1: "false", p2: "false", p3: "true"}
    # PUT
    r = dash.put(dash.peer_path(p2), "<SipPeer><PeerName>Renamed</PeerName><Description>x</Description>"
                                     "<IsDefaultPeer>true</IsDefaultPeer></SipPeer>")
    assert r.status_code == 200
    got = dash.xml(dash.get(dash.peer_path(p2)))["SipPeerResponse"]["SipPeer"]
    assert (got["PeerName"], got["Description"], got["IsDefaultPeer"]) == ("Renamed", "x", "true")
    assert dash.xml(dash.get(dash.peer_path(p3)))["SipPeerResponse"]["SipPeer"]["IsDefaultPeer"] == "false"
    # DELETE
    r = dash.delete(dash.peer_path(p1))
    assert r.status_code == 200
    r = dash.get(dash.peer_path(p1))
    assert r.status_code == 400
    code, text = err(dash, r, "SipPeerResponse")
    assert code == "13563"
    assert text == f"Sip Peer '{p1}' account '{dash.account_id}' and site '{dash.site_id}' does not exist"


def test_sippeer_names_are_distinct_per_site_13524(dash: XmlSession) -> None:
    """numbers.yml CreateSipPeer 409 "Conflict - Sip Peer with such name already exists"; numbers-errors.mdx 13524
    "SipPeer name '%s' already exists for Account '%s' and Site '%s'". The sandbox created a twin."""
    first = dash.create_peer("Twin")
    r = dash.post(f"/sites/{dash.site_id}/sippeers", "<SipPeer><PeerName>Twin</PeerName></SipPeer>")
    assert r.status_code == 409, r.text
    assert err(dash, r, "SipPeerResponse") == (
        "13524", f"SipPeer name 'Twin' already exists for Account '{dash.account_id}' and Site '{dash.site_id}'")
    # renaming another location to it is refused too; keeping one's own name is not a conflict
    other = dash.create_peer("Other")
    r = dash.put(dash.peer_path(other), "<SipPeer><PeerName>Twin</PeerName></SipPeer>")
    assert r.status_code == 409 and err(dash, r, "SipPeerResponse")[0] == "13524"
    assert dash.put(dash.peer_path(first), "<SipPeer><PeerName>Twin</PeerName></SipPeer>").status_code == 200
    # the name is per site: another site may use it; once the location is gone the name is free again
    site = dash.xml(dash.post("/sites", "<Site><Name>Second</Name></Site>"))["SiteResponse"]["Site"]["Id"]
    dash.create_peer("Twin", site_id=site)
    assert dash.delete(dash.peer_path(first)).status_code == 200
    dash.create_peer("Twin")


def test_sippeer_long_name_is_accepted_with_a_warning(dash: XmlSession) -> None:
    r = dash.post(f"/sites/{dash.site_id}/sippeers", GUIDE_PEER)
    assert r.status_code == 201 and "10 characters" in r.headers.get("X-Sandbox-Warning", "")


@pytest.mark.parametrize("body,code,status", [
    ("<SipPeer><IsDefaultPeer>true</IsDefaultPeer></SipPeer>", "1003", 400),
    ("<SipPeer><PeerName>x</PeerName><IsDefaultPeer>maybe</IsDefaultPeer></SipPeer>", "1003", 400),
])
def test_sippeer_create_errors(dash: XmlSession, body: str, code: str, status: int) -> None:
    r = dash.post(f"/sites/{dash.site_id}/sippeers", body)
    assert r.status_code == status and err(dash, r, "SipPeerResponse")[0] == code


def test_sippeer_unknown_site(dash: XmlSession) -> None:
    r = dash.post("/sites/777777/sippeers", "<SipPeer><PeerName>x</PeerName></SipPeer>")
    assert r.status_code == 404 and err(dash, r, "SipPeerResponse")[0] == "12016"
    assert dash.get("/sites/777777/sippeers").status_code == 404
    r = dash.get("/sites/777777/sippeers/1")
    assert r.status_code == 400 and err(dash, r, "SipPeerResponse")[0] == "13563"


def test_sippeer_delete_rules_13613_13616(dash: XmlSession) -> None:
    w = dash.world()
    r = dash.delete(dash.peer_path(w["peer"]))
    assert r.status_code == 400 and err(dash, r, "SipPeerResponse")[0] == "13613"
    r = dash.get(dash.peer_path(w["peer"]) + "/tns")
    assert r.status_code == 200
    tns = dash.xml(r)["SipPeerTelephoneNumbersResponse"]["SipPeerTelephoneNumbers"]["SipPeerTelephoneNumber"]
    assert [t["FullNumber"] for t in tns] == w["tns"]
    # a location without SMS but with numbers
    p = dash.create_peer("Plain", default=False)
    dash.order_numbers(p, "919")
    r = dash.delete(dash.peer_path(p))
    assert r.status_code == 400 and err(dash, r, "SipPeerResponse")[0] == "13616"
    empty = dash.create_peer("Empty", default=False)
    r = dash.get(dash.peer_path(empty) + "/tns")
    assert dash.xml(r) == {"SipPeerTelephoneNumbersResponse": {"SipPeerTelephoneNumbers": None}}


def test_teardown_in_the_documented_order(dash: XmlSession) -> None:
    w = dash.world()
    p = dash.peer_path(w["peer"]) + "/products/messaging"
    # wrong order first: each refused with its code
    assert err(dash, dash.delete(f"/applications/{w['app']}"), "ApplicationProvisioningResponse")[0] == "12107"
    assert err(dash, dash.delete(p + "/features/sms"), "SipPeerSmsFeatureResponse")[0] == "13624"
    assert err(dash, dash.delete(dash.peer_path(w["peer"])), "SipPeerResponse")[0] == "13613"
    # the documented order
    assert dash.put(p + "/applicationSettings", "<ApplicationsSettings>REMOVE</ApplicationsSettings>").status_code == 200
    r = dash.post("/disconnects", "<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType>"
                                  f"<TelephoneNumberList><TelephoneNumber>{w['tns'][0]}</TelephoneNumber>"
                                  "</TelephoneNumberList></DisconnectTelephoneNumberOrderType>"
                                  "</DisconnectTelephoneNumberOrder>")
    assert r.status_code == 201
    assert dash.delete(p + "/features/mms").status_code == 200
    assert dash.delete(p + "/features/sms").status_code == 200
    assert dash.delete(dash.peer_path(w["peer"])).status_code == 200
    assert dash.delete(f"/applications/{w['app']}").status_code == 200


# == SMS =========================================================================================

def sms_path(s: XmlSession, peer: str) -> str:
    return s.peer_path(peer) + "/products/messaging/features/sms"


def test_sms_crud(dash: XmlSession) -> None:
    peer = dash.create_peer()
    r = dash.get(sms_path(dash, peer))
    assert r.status_code == 404 and err(dash, r, "SipPeerSmsFeatureResponse")[0] == "1016"
    dash.enable_sms(peer)
    r = dash.get(sms_path(dash, peer))
    assert r.status_code == 200
    assert dash.xml(r)["SipPeerSmsFeatureResponse"]["SipPeerSmsFeature"]["HttpSettings"]["ProxyPeerId"] == "539692"
    assert dash.xml(dash.get(dash.peer_path(peer)))["SipPeerResponse"]["SipPeer"]["ShortMessagingProtocol"] == "HTTP"
    r = dash.post(sms_path(dash, peer), SMS_BODY)
    assert r.status_code == 400 and err(dash, r, "SipPeerSmsFeatureResponse")[0] == "13606"
    r = dash.put(sms_path(dash, peer), SMS_BODY.replace("<TollFree>true", "<TollFree>false"))
    assert r.status_code == 200
    assert dash.xml(r)["SipPeerSmsFeatureResponse"]["SipPeerSmsFeature"]["SipPeerSmsFeatureSettings"]["TollFree"] == \
        "false"
    assert dash.delete(sms_path(dash, peer)).status_code == 200
    assert dash.get(sms_path(dash, peer)).status_code == 404
    assert dash.delete(sms_path(dash, peer)).status_code == 404
    assert dash.put(sms_path(dash, peer), SMS_BODY).status_code == 404


def test_sms_defaults_and_a2p_fields(dash: XmlSession) -> None:
    peer = dash.create_peer()
    r = dash.post(sms_path(dash, peer), "<SipPeerSmsFeature><SipPeerSmsFeatureSettings><A2pLongCode>DefaultOn"
                                        "</A2pLongCode><Protocol>HTTP</Protocol><Zone1>true</Zone1>"
                                        "</SipPeerSmsFeatureSettings><HttpSettings /></SipPeerSmsFeature>")
    assert r.status_code == 201, r.text
    f = dash.xml(r)["SipPeerSmsFeatureResponse"]["SipPeerSmsFeature"]
    assert f["SipPeerSmsFeatureSettings"]["A2pLongCode"] == "DefaultOn"
    assert f["SipPeerSmsFeatureSettings"]["TollFree"] == "false"
    assert f["HttpSettings"]["ProxyPeerId"] == "539692"


@pytest.mark.parametrize("body,code,text", [
    (SMS_BODY.replace("<Protocol>HTTP</Protocol>", "<protocol>HTTP</protocol>"), "13567", "case-sensitive"),
    (SMS_BODY.replace("<Protocol>HTTP</Protocol>", "<Protocol>SIP</Protocol>"), "13567", "SIP"),
    (SMS_BODY.replace("<Protocol>HTTP</Protocol>", ""), "1003", "Protocol"),
    (SMS_BODY.replace("<Zone1>true</Zone1>", "<Zone1>false</Zone1>"), "1003", "Zone1"),
    (SMS_BODY.replace("<Zone1>true</Zone1>", ""), "1003", "Zone1"),
    (SMS_BODY.replace("<TollFree>true</TollFree>", "<TollFree>yes</TollFree>"), "1003", "TollFree"),
    ("<SipPeerSmsFeature><HttpSettings/></SipPeerSmsFeature>", "1003", "SipPeerSmsFeatureSettings"),
])
def test_sms_errors(dash: XmlSession, body: str, code: str, text: str) -> None:
    peer = dash.create_peer()
    r = dash.post(sms_path(dash, peer), body)
    assert r.status_code == 400
    got_code, description = err(dash, r, "SipPeerSmsFeatureResponse")
    assert got_code == code and text in description


def test_sms_delete_refused_while_numbers_13673(dash: XmlSession) -> None:
    peer = dash.create_peer()
    dash.enable_sms(peer)
    dash.order_numbers(peer)
    r = dash.delete(sms_path(dash, peer))
    assert r.status_code == 400 and err(dash, r, "SipPeerSmsFeatureResponse")[0] == "13673"


# == MMS =========================================================================================

def mms_path(s: XmlSession, peer: str) -> str:
    return s.peer_path(peer) + "/products/messaging/features/mms"


def test_mms_before_sms_is_400(dash: XmlSession) -> None:
    peer = dash.create_peer()
    r = dash.post(mms_path(dash, peer), MMS_BODY)
    assert r.status_code == 400
    code, text = err(dash, r, "MmsFeatureResponse")
    assert code in ("12784", "13623") and "MMS can only be enabled once SMS has been enabled" in text


def test_mms_crud_and_protocol_either_case(dash: XmlSession) -> None:
    peer = dash.create_peer()
    dash.enable_sms(peer)
    upper = MMS_BODY.replace("<protocol>HTTP</protocol>", "<Protocol>HTTP</Protocol>")
    r = dash.post(mms_path(dash, peer), upper)
    assert r.status_code == 201 and "<protocol>HTTP</protocol>" in r.text
    r = dash.get(mms_path(dash, peer))
    assert r.status_code == 200
    assert dash.xml(r)["MmsFeatureResponse"]["MmsFeature"]["Protocols"]["HTTP"]["HttpSettings"]["proxyPeerId"] == \
        "539692"
    r = dash.get(mms_path(dash, peer) + "/settings")
    assert r.status_code == 200
    assert dash.xml(r) == {"MmsFeatureMmsSettingsResponse": {"MmsSettings": {"Protocol": "HTTP"}}}
    assert dash.post(mms_path(dash, peer), MMS_BODY).status_code == 400
    r = dash.put(mms_path(dash, peer), MMS_BODY)
    assert r.status_code == 200 and r.content == b""
    r = dash.post(mms_path(dash, peer), MMS_BODY.replace(">HTTP</protocol>", ">MM4</protocol>"))
    assert r.status_code == 400 and err(dash, r, "MmsFeatureResponse")[0] == "13567"
    assert dash.delete(mms_path(dash, peer)).status_code == 200
    assert dash.get(mms_path(dash, peer)).status_code == 404
    assert dash.get(mms_path(dash, peer) + "/settings").status_code == 404
    assert dash.delete(mms_path(dash, peer)).status_code == 404
    assert dash.put(mms_path(dash, peer), MMS_BODY).status_code == 404
    # and now SMS can go
    assert dash.delete(sms_path(dash, peer)).status_code == 200


# == application settings ========================================================================

def appset_path(s: XmlSession, peer: str) -> str:
    return s.peer_path(peer) + "/products/messaging/applicationSettings"


def test_application_settings(dash: XmlSession) -> None:
    app = dash.create_app()
    peer = dash.create_peer()
    r = dash.get(appset_path(dash, peer))
    assert r.status_code == 200
    assert dash.xml(r) == {"ApplicationsSettingsResponse": {"ApplicationsSettings": None}}
    r = dash.assign(peer, app)  # before SMS
    assert r.status_code == 400
    code, text = err(dash, r, "ApplicationsSettingsResponse")
    assert code == "13645"
    assert text == "Please assign SMS or MM4 protocol to HTTP before associating the application to the location"
    dash.enable_sms(peer)
    r = dash.assign(peer, "00000000-0000-0000-0000-000000000000")
    assert r.status_code == 400
    assert err(dash, r, "ApplicationsSettingsResponse") == (
        "13629", "Application with id '00000000-0000-0000-0000-000000000000' not found")
    assert dash.assign(peer, app).status_code == 200
    r = dash.get(appset_path(dash, peer))
    assert dash.xml(r)["ApplicationsSettingsResponse"]["ApplicationsSettings"]["HttpMessagingV2AppId"] == app
    r = dash.put(appset_path(dash, peer), "<ApplicationsSettings>REMOVE</ApplicationsSettings>")
    assert r.status_code == 200
    assert dash.xml(dash.get(appset_path(dash, peer))) == {"ApplicationsSettingsResponse": {"ApplicationsSettings": None}}
    # one app may serve several locations
    other = dash.create_peer("Other", default=False)
    dash.enable_sms(other)
    assert dash.assign(peer, app).status_code == 200 and dash.assign(other, app).status_code == 200
    assert len(dash.xml(dash.get(f"/applications/{app}/associatedsippeers"))["AssociatedSipPeersResponse"][
        "AssociatedSipPeers"]["AssociatedSipPeer"]) == 2


@pytest.mark.parametrize("body", ["<ApplicationsSettings>DELETE</ApplicationsSettings>",
                                  "<ApplicationsSettings><httpMessagingV2AppId>x</httpMessagingV2AppId>"
                                  "</ApplicationsSettings>",
                                  "<ApplicationsSettings><HttpMessagingV2AppId/></ApplicationsSettings>"])
def test_application_settings_bad_value_13628(dash: XmlSession, body: str) -> None:
    peer = dash.create_peer()
    dash.enable_sms(peer)
    r = dash.put(appset_path(dash, peer), body)
    assert r.status_code == 400 and err(dash, r, "ApplicationsSettingsResponse")[0] == "13628"


def test_application_settings_post_is_405(dash: XmlSession) -> None:
    app = dash.create_app()
    peer = dash.create_peer()
    dash.enable_sms(peer)
    r = dash.post(appset_path(dash, peer), f"<ApplicationsSettings><HttpMessagingV2AppId>{app}</HttpMessagingV2AppId>"
                                          "</ApplicationsSettings>")
    assert r.status_code == 405 and "PUT" in r.headers.get("Allow", "")
    assert "use PUT" in err(dash, r, "ApplicationsSettingsResponse")[1]


def test_doc_slip_applications_path_gets_a_hint(dash: XmlSession) -> None:
    peer = dash.create_peer()
    r = dash.put(dash.peer_path(peer) + "/products/messaging/applications",
                 "<ApplicationsSettings><HttpMessagingV2AppId>x</HttpMessagingV2AppId></ApplicationsSettings>")
    assert r.status_code == 404 and "applicationSettings" in r.text


# == available numbers ===========================================================================

@pytest.mark.parametrize("params,check", [
    ({"areaCode": "919"}, lambda tn, d: tn.startswith("919")),
    ({"zip": "27601"}, lambda tn, d: d["City"] == "Raleigh"),
    ({"zip": "12345"}, lambda tn, d: True),
    ({"city": "Durham", "state": "NC"}, lambda tn, d: d["City"] == "Durham" and d["State"] == "NC"),
    ({"state": "NC"}, lambda tn, d: d["State"] == "NC"),
    ({"npaNxx": "919239"}, lambda tn, d: tn.startswith("919239")),
    ({"npaNxxx": "9192393"}, lambda tn, d: tn.startswith("9192393")),  # numbers.yml GetAvailableTns: 7-digit prefix
    ({"rateCenter": "RALEIGH", "state": "NC"}, lambda tn, d: d["RateCenter"] == "RALEIGH"),
    ({"lata": "426"}, lambda tn, d: d["LATA"] == "426"),
    ({"tollFreeVanity": "NEWCARS"}, lambda tn, d: tn.endswith("6392277") and tn[:3] in numbers.TOLL_FREE_NPAS),
    ({"tollFreeWildCardPattern": "8**"}, lambda tn, d: tn[:3] in numbers.TOLL_FREE_NPAS),
    ({"tollFreeWildCardPattern": "88*"}, lambda tn, d: tn[:3] == "888"),
])
def test_search_criteria(dash: XmlSession, params: dict[str, str], check: Any) -> None:
    r = dash.get("/availableNumbers", params={**params, "quantity": 5, "enableTNDetail": "true"})
    assert r.status_code == 200, r.text
    body = dash.xml(r)["SearchResult"]
    details = body["TelephoneNumberDetailList"]["TelephoneNumberDetail"]
    assert int(body["ResultCount"]) == len(details) >= 1
    for d in details:
        assert list(d) == ["City", "LATA", "RateCenter", "State", "FullNumber", "Tier", "VendorId", "VendorName"]
        assert numbers.is_valid_tn(d["FullNumber"]) and check(d["FullNumber"], d), d
    r = dash.get("/availableNumbers", params={**params, "quantity": 3})
    tns = dash.xml(r)["SearchResult"]["TelephoneNumberList"]["TelephoneNumber"]
    assert len(tns) <= 3 and len(set(tns)) == len(tns)


@pytest.mark.parametrize("params,check", [
    ({"areaCode": "919", "city": "Cary", "state": "NC"}, lambda d: d["FullNumber"][:3] == "919" and d["City"] == "Cary"),
    ({"areaCode": "919", "rateCenter": "DURHAM", "state": "NC"}, lambda d: d["RateCenter"] == "DURHAM"),
    ({"state": "NC", "zip": "28401"}, lambda d: d["City"] == "Wilmington"),
    ({"lata": "426", "city": "Raleigh", "state": "NC"}, lambda d: d["City"] == "Raleigh" and d["LATA"] == "426"),
])
def test_search_combinational_parameters_narrow_the_result(dash: XmlSession, params: dict[str, str],
                                                           check: Any) -> None:
    """numbers.yml GetAvailableTns: areaCode combines with "rateCenter (state required), city (state required),
    state, lata, zip" (and so on for each search type): every parameter given narrows the result."""
    r = dash.get("/availableNumbers", params={**params, "quantity": 5, "enableTNDetail": "true"})
    assert r.status_code == 200, r.text
    details = dash.xml(r)["SearchResult"]["TelephoneNumberDetailList"]["TelephoneNumberDetail"]
    assert len(details) == 5 and all(check(d) for d in details), details
    # contradictory parameters find nothing (the empty SearchResult), and city without state is still 4010
    r = dash.get("/availableNumbers", params={"areaCode": "919", "state": "CA"})
    assert r.status_code == 200 and dash.xml(r)["SearchResult"]["ResultCount"] == "0"
    r = dash.get("/availableNumbers", params={"areaCode": "919", "city": "Cary"})
    assert r.status_code == 400 and search_err(dash, r) == "4010"


def test_search_defaults_quantity_orderby_and_no_reservation(dash: XmlSession) -> None:
    r = dash.get("/availableNumbers", params={"areaCode": "919"})
    body = dash.xml(r)["SearchResult"]
    assert body["ResultCount"] == str(numbers.NPA_INVENTORY) == str(len(body["TelephoneNumberList"]["TelephoneNumber"]))
    first = dash.xml(dash.get("/availableNumbers", params={"areaCode": "919", "quantity": 2}))
    again = dash.xml(dash.get("/availableNumbers", params={"areaCode": "919", "quantity": 2}))
    assert first == again  # deterministic, and searching reserves nothing
    ordered = dash.xml(dash.get("/availableNumbers", params={"areaCode": "919", "quantity": 10,
                                                             "orderBy": "fullNumber"}))
    tns = ordered["SearchResult"]["TelephoneNumberList"]["TelephoneNumber"]
    assert tns == sorted(tns)


def test_search_excludes_numbers_taken_by_any_account(dash: XmlSession, dash_b: XmlSession) -> None:
    before = dash.xml(dash.get("/availableNumbers", params={"areaCode": "910", "quantity": 3}))
    first = before["SearchResult"]["TelephoneNumberList"]["TelephoneNumber"][0]
    peer_b = dash_b.create_peer()
    got = dash_b.order_numbers(peer_b, "910")
    assert got == [first]
    after = dash.xml(dash.get("/availableNumbers", params={"areaCode": "910", "quantity": 3}))
    assert first not in after["SearchResult"]["TelephoneNumberList"]["TelephoneNumber"]


@pytest.mark.parametrize("params,code", [
    ({}, "4010"),
    ({"quantity": "5"}, "4010"),
    ({"city": "Raleigh"}, "4010"),
    ({"areaCode": "9a9"}, "4001"),
    ({"areaCode": "099"}, "4001"),
    ({"areaCode": "999"}, "4001"),
    ({"zip": "2760"}, "4002"),
    ({"npaNxx": "919111"}, "4003"),
    ({"npaNxxx": "919239"}, "4003"),
    ({"areaCode": "919", "localVanity": "DOGS"}, "4000"),  # not emulated: refused by name, not ignored
    ({"state": "XX"}, "4004"),
    ({"areaCode": "919", "quantity": "0"}, "4000"),
    ({"areaCode": "919", "quantity": "5001"}, "4000"),
    ({"areaCode": "919", "quantity": "lots"}, "4000"),
    ({"areaCode": "919", "enableTNDetail": "yes"}, "4000"),
    ({"areaCode": "919", "orderBy": "random"}, "4000"),
    ({"tollFreeVanity": "AB"}, "4012"),
    ({"tollFreeWildCardPattern": "91*"}, "4013"),
])
def test_search_errors(dash: XmlSession, params: dict[str, str], code: str) -> None:
    r = dash.get("/availableNumbers", params=params)
    assert r.status_code == 400
    assert search_err(dash, r) == code
    assert dash.xml(r)["SearchResult"]["Error"]["Description"]


@pytest.mark.parametrize("params,count", [
    ({"areaCode": magic.NO_INVENTORY_AREA}, 0),
    ({"state": "AK"}, 0),
    ({"zip": "99501"}, 0),
    ({"tollFreeVanity": magic.NO_INVENTORY_VANITY}, 0),
    ({"areaCode": magic.PARTIAL_INVENTORY_AREA}, magic.PARTIAL_INVENTORY_COUNT),
    ({"state": "WY"}, magic.PARTIAL_INVENTORY_COUNT),
])
def test_search_magic_areas(dash: XmlSession, params: dict[str, str], count: int) -> None:
    r = dash.get("/availableNumbers", params=params)
    assert r.status_code == 200
    body = dash.xml(r)["SearchResult"]
    assert body["ResultCount"] == str(count)
    if count == 0:
        assert "TelephoneNumberList" not in body


# == orders ======================================================================================

def disconnect_body(*tns: str, extra: str = "") -> str:
    """A DisconnectTelephoneNumberOrder of ``tns`` (``extra``: more elements of its order type)."""
    numbers = "".join(f"<TelephoneNumber>{tn}</TelephoneNumber>" for tn in tns)
    return ("<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType><TelephoneNumberList>"
            f"{numbers}</TelephoneNumberList>{extra}</DisconnectTelephoneNumberOrderType>"
            "</DisconnectTelephoneNumberOrder>")


def order_body(site: str, peer: str | None, inner: str, extra: str = "") -> str:
    return f"<Order>{inner}<SiteId>{site}</SiteId>{f'<PeerId>{peer}</PeerId>' if peer else ''}{extra}</Order>"


def get_order(s: XmlSession, r: requests.Response) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    oid = s.xml(r)["OrderResponse"]["Order"]["id"]
    got = s.get(f"/orders/{oid}")
    assert got.status_code == 200
    return s.xml(got)["OrderResponse"]


@pytest.mark.parametrize("inner,prefix", [
    ("<AreaCodeSearchAndOrderType><AreaCode>919</AreaCode><Quantity>2</Quantity></AreaCodeSearchAndOrderType>",
     "919"),
    ("<ZIPSearchAndOrderType><Zip>28401</Zip><Quantity>2</Quantity></ZIPSearchAndOrderType>", "910"),
    ("<CitySearchAndOrderType><City>Charlotte</City><State>NC</State><Quantity>2</Quantity></CitySearchAndOrderType>",
     "704"),
    ("<StateSearchAndOrderType><State>NC</State><Quantity>2</Quantity></StateSearchAndOrderType>", ""),
    ("<NPANXXSearchAndOrderType><NpaNxx>919239</NpaNxx><Quantity>2</Quantity></NPANXXSearchAndOrderType>", "919239"),
    ("<RateCenterSearchAndOrderType><RateCenter>DURHAM</RateCenter><State>NC</State><Quantity>2</Quantity>"
     "</RateCenterSearchAndOrderType>", "919"),
    ("<TollFreeVanitySearchAndOrderType><TollFreeVanity>NEWCARS</TollFreeVanity><Quantity>2</Quantity>"
     "</TollFreeVanitySearchAndOrderType>", "8"),
    ("<TollFreeWildCharSearchAndOrderType><TollFreeWildCardPattern>8**</TollFreeWildCardPattern><Quantity>2"
     "</Quantity></TollFreeWildCharSearchAndOrderType>", "8"),
    ("<LATASearchAndOrderType><Lata>426</Lata><Quantity>2</Quantity></LATASearchAndOrderType>", "919"),
    ("<ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>9192345678</TelephoneNumber>"
     "<TelephoneNumber>+19192345679</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType>",
     "919234567"),
])
def test_order_types(dash: XmlSession, inner: str, prefix: str) -> None:
    peer = dash.create_peer()
    r = dash.post("/orders", order_body(dash.site_id, peer, inner))
    assert r.status_code == 201, r.text
    order = dash.xml(r)["OrderResponse"]["Order"]
    otype = re.match(r"<(\w+)>", inner).group(1)
    assert otype in order
    body = get_order(dash, r)
    assert body["OrderStatus"] == "COMPLETE", body
    tns = [n["FullNumber"] for n in body["CompletedNumbers"]["TelephoneNumber"]]
    assert len(tns) == 2 and all(tn.startswith(prefix) and numbers.is_valid_tn(tn) for tn in tns)
    assert body["Summary"].startswith("2 numbers ordered in (")
    listed = requests.get(f"{dash.url}/api/accounts/{dash.account_id}/inserviceNumbers", auth=dash.http.auth,
                          timeout=10)
    assert set(tns) <= set(dash.xml(listed)["TNs"]["TelephoneNumbers"]["TelephoneNumber"])


def test_combined_search_and_order_type_orders_what_its_criteria_narrow_to(dash: XmlSession) -> None:
    """numbers.yml CreateOrder lists CombinedSearchAndOrderType (Quantity, AreaCode, RateCenter, State, NpaNxx, Lata,
    City, Zip, ...): each element given narrows the numbers, as in GET availableNumbers."""
    peer = dash.create_peer()
    inner = ("<CombinedSearchAndOrderType><Quantity>2</Quantity><AreaCode>919</AreaCode><City>Cary</City>"
             "<State>NC</State></CombinedSearchAndOrderType>")
    r = dash.post("/orders", order_body(dash.site_id, peer, inner))
    assert r.status_code == 201, r.text
    assert dash.xml(r)["OrderResponse"]["Order"]["CombinedSearchAndOrderType"]["City"] == "Cary"
    body = get_order(dash, r)
    assert body["OrderStatus"] == "COMPLETE", body
    tns = [n["FullNumber"] for n in body["CompletedNumbers"]["TelephoneNumber"]]
    assert len(tns) == 2 and all(tn.startswith("919") and numbers.describe(tn).city == "Cary" for tn in tns), tns
    for bad, code in (("<Quantity>1</Quantity>", "1003"), ("<City>Cary</City>", "4010"), ("<AreaCode>9a9</AreaCode>",
                                                                                          "4001")):
        r = dash.post("/orders", order_body(dash.site_id, peer, f"<CombinedSearchAndOrderType>{bad}"
                                                                 "</CombinedSearchAndOrderType>"))
        assert r.status_code == 400 and err_list(dash, r)[0]["Code"] == code, r.text


def test_order_uses_default_peer_and_default_quantity(dash: XmlSession) -> None:
    peer = dash.create_peer(default=True)
    r = dash.post("/orders", order_body(dash.site_id, None, "<AreaCodeSearchAndOrderType><AreaCode>919</AreaCode>"
                                                           "</AreaCodeSearchAndOrderType>",
                                        "<CustomerOrderId>my-order 1</CustomerOrderId><Name>Named</Name>"))
    order = dash.xml(r)["OrderResponse"]["Order"]
    assert order["PeerId"] == peer and order["CustomerOrderId"] == "my-order 1" and order["Name"] == "Named"
    assert order["AreaCodeSearchAndOrderType"]["Quantity"] == "1"
    assert get_order(dash, r)["CompletedQuantity"] == "1"


@pytest.mark.parametrize("case,code", [
    ("bad_site", "5016"), ("no_site", "5022"), ("bad_peer", "5023"), ("peer_of_other_site", "5023"),
    ("no_default", "5020"), ("qty0", "5009"), ("qty_big", "5009"), ("qty_text", "5009"), ("customer_id", "5052"),
    ("backorder_npanxx", "5522"), ("no_type", "1003"), ("two_types", "1003"), ("bad_area", "4001"),
    ("missing_area", "1003"), ("bad_partial", "1003"),
])
def test_order_errors(dash: XmlSession, case: str, code: str) -> None:
    area = "<AreaCodeSearchAndOrderType><AreaCode>919</AreaCode><Quantity>1</Quantity></AreaCodeSearchAndOrderType>"
    peer = dash.create_peer(default=False)
    site = dash.site_id
    site2 = dash.xml(dash.post("/sites", "<Site><Name>S2</Name></Site>"))["SiteResponse"]["Site"]["Id"]
    body = {
        "bad_site": order_body("424242", peer, area),
        "no_site": f"<Order>{area}<PeerId>{peer}</PeerId></Order>",
        "bad_peer": order_body(site, "99999999", area),
        "peer_of_other_site": order_body(site2, peer, area),
        "no_default": order_body(site, None, area),
        "qty0": order_body(site, peer, area.replace("<Quantity>1", "<Quantity>0")),
        "qty_big": order_body(site, peer, area.replace("<Quantity>1", "<Quantity>5001")),
        "qty_text": order_body(site, peer, area.replace("<Quantity>1", "<Quantity>one")),
        "customer_id": order_body(site, peer, area, "<CustomerOrderId>bad_id!</CustomerOrderId>"),
        "backorder_npanxx": order_body(site, peer, "<NPANXXSearchAndOrderType><NpaNxx>919239</NpaNxx>"
                                                   "</NPANXXSearchAndOrderType>",
                                       "<BackOrderRequested>true</BackOrderRequested>"),
        "no_type": order_body(site, peer, ""),
        "two_types": order_body(site, peer, area + area.replace("AreaCodeSearch", "StateSearch")),
        "bad_area": order_body(site, peer, area.replace(">919<", ">999<")),
        "missing_area": order_body(site, peer, area.replace("<AreaCode>919</AreaCode>", "")),
        "bad_partial": order_body(site, peer, area, "<PartialAllowed>perhaps</PartialAllowed>"),
    }[case]
    r = dash.post("/orders", body)
    assert r.status_code == 400, r.text
    errors = err_list(dash, r)
    assert errors[0]["Code"] == code and errors[0]["Description"]
    if code != "5022":
        assert "Order" in dash.xml(r)["OrderResponse"]  # the request is echoed


def test_order_error_texts(dash: XmlSession) -> None:
    r = dash.post("/orders", order_body("424242", None, "<AreaCodeSearchAndOrderType><AreaCode>919</AreaCode>"
                                                        "</AreaCodeSearchAndOrderType>"))
    assert err_list(dash, r)[0] == {"Code": "5016", "Description": "The SiteId submitted is invalid."}


@pytest.mark.parametrize("raw,ctype", [
    (b"<Order><SiteId>", "application/xml"),
    (b"<NotAnOrder/>", "application/xml"),
    (b"<Order><SiteId>\xff\xfe</SiteId></Order>", "application/xml"),
    (b"", "application/xml"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Order>&a;</Order>', "application/xml"),
])
def test_order_malformed_bodies_are_400_in_order_shape(dash: XmlSession, raw: bytes, ctype: str) -> None:
    r = dash.post("/orders", raw, headers={"Content-Type": ctype})
    assert r.status_code == 400
    assert err_list(dash, r)[0]["Code"] == "400"


def test_order_unknown_is_404(dash: XmlSession) -> None:
    for oid in ("00000000-0000-0000-0000-000000000000", "nope", "%2e%2e", "%2e%2e%2fsites", "%00"):
        r = dash.get(f"/orders/{oid}")
        assert r.status_code == 404, (oid, r.text)
        assert "OrderResponse" in dash.xml(r)


def test_order_list(dash: XmlSession) -> None:
    r = dash.get("/orders")
    assert r.status_code == 200
    assert dash.xml(r) == {"ResponseSelectWrapper": {"ListOrderIdUserIdDate": {"TotalCount": "0"}}}
    peer = dash.create_peer()
    ids = []
    for _ in range(3):
        r = dash.order(peer, "919")
        ids.append(dash.xml(r)["OrderResponse"]["Order"]["id"])
    body = dash.xml(dash.get("/orders", params={"page": 1, "size": 2}))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]
    assert body["TotalCount"] == "3" and [o["orderId"] for o in body["OrderIdUserIdDate"]] == ids[:2]
    assert "next" in body["Links"]
    item = body["OrderIdUserIdDate"][0]
    assert item["OrderStatus"] == "COMPLETE" and item["userId"] == DEMO["username"] and item["CountOfTNs"] == "1"
    failed = dash.xml(dash.get("/orders", params={"status": "FAILED"}))
    assert failed["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["TotalCount"] == "0"


def test_numbers_unique_across_accounts(dash: XmlSession, dash_b: XmlSession) -> None:
    pa, pb = dash.create_peer(), dash_b.create_peer()
    a = dash.order_numbers(pa, "919", 5)
    b = dash_b.order_numbers(pb, "919", 5)
    assert not set(a) & set(b)
    # an existing number of A cannot be ordered by B: 5005
    r = dash_b.post("/orders", order_body(dash_b.site_id, pb, "<ExistingTelephoneNumberOrderType><TelephoneNumberList>"
                                                              f"<TelephoneNumber>{a[0]}</TelephoneNumber>"
                                                              "</TelephoneNumberList></ExistingTelephoneNumberOrderType>"))
    body = get_order(dash_b, r)
    assert body["OrderStatus"] == "FAILED"
    assert body["ErrorList"]["Error"][0] == {"Code": "5005", "Description": "The telephone number is unavailable for "
                                                                          "ordering", "TelephoneNumber": a[0]}
    assert body["FailedNumbers"]["FullNumber"] == [a[0]] and body["FailedQuantity"] == "1"


def test_existing_partial_and_partial_not_allowed(dash: XmlSession) -> None:
    peer = dash.create_peer()
    taken = dash.order_numbers(peer, "919")[0]
    lst = (f"<ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>{taken}</TelephoneNumber>"
           "<TelephoneNumber>9192345670</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType>")
    body = get_order(dash, dash.post("/orders", order_body(dash.site_id, peer, lst)))
    assert body["OrderStatus"] == "PARTIAL"
    assert [n["FullNumber"] for n in body["CompletedNumbers"]["TelephoneNumber"]] == ["9192345670"]
    assert body["FailedNumbers"]["FullNumber"] == [taken]
    lst2 = lst.replace("9192345670", "9192345671")
    body = get_order(dash, dash.post("/orders", order_body(dash.site_id, peer, lst2,
                                                           "<PartialAllowed>false</PartialAllowed>")))
    assert body["OrderStatus"] == "FAILED" and body["CompletedNumbers"] is None


# -- magic areas --------------------------------------------------------------------------------

def test_magic_no_inventory_failed_5018(dash: XmlSession) -> None:
    peer = dash.create_peer()
    body = get_order(dash, dash.order(peer, magic.NO_INVENTORY_AREA, 1))
    assert body["OrderStatus"] == "FAILED"
    assert body["ErrorList"]["Error"][0]["Code"] == "5018"
    assert body["CompletedQuantity"] == "0" and body["FailedQuantity"] == "1"
    assert body["Summary"] == "1 number requested"
    assert dash.get("/inserviceNumbers").status_code == 204


def test_magic_partial_inventory(dash: XmlSession) -> None:
    peer = dash.create_peer()
    body = get_order(dash, dash.order(peer, magic.PARTIAL_INVENTORY_AREA, 5))
    assert body["OrderStatus"] == "PARTIAL"
    assert body["ErrorList"]["Error"][0]["Code"] == "5017"
    assert body["CompletedQuantity"] == str(magic.PARTIAL_INVENTORY_COUNT) and body["FailedQuantity"] == "3"
    tns = [n["FullNumber"] for n in body["CompletedNumbers"]["TelephoneNumber"]]
    assert all(tn.startswith(magic.PARTIAL_INVENTORY_AREA) for tn in tns)
    in_service = dash.xml(dash.get("/inserviceNumbers"))["TNs"]["TelephoneNumbers"]["TelephoneNumber"]
    assert sorted(in_service) == sorted(tns)
    # inventory is now exhausted: the same order fails
    assert get_order(dash, dash.order(peer, magic.PARTIAL_INVENTORY_AREA, 1))["OrderStatus"] == "FAILED"


def test_an_accounts_inventory_is_the_same_when_read_one_number_at_a_time() -> None:
    # an order reads an account's inventory lazily (issue 25: checking all 500 numbers of a workshop account's slot
    # cost 30 ms of CPU per order): the numbers and their order are those of the whole inventory
    seed = numbers.DEFAULT_SEED
    for npa in ("919", "212", "808", magic.PARTIAL_INVENTORY_AREA, magic.NO_INVENTORY_AREA):
        for slot in (None, 0, 7, numbers.INVENTORY_SLOTS - 1, numbers.INVENTORY_SLOTS + 3):
            assert [n.tn for n in numbers.candidates({"areaCode": npa}, seed, slot)] == \
                list(numbers.npa_inventory(seed, npa, slot)), (npa, slot)
    want = list(numbers.npa_inventory(seed, "919", 7)[:3])
    assert [n.tn for n in numbers.select({"areaCode": "919"}, 3, set(), seed, 7)] == want
    taken = set(want[:2])
    assert [n.tn for n in numbers.select({"areaCode": "919"}, 1, taken, seed, 7)] == [want[2]]


def test_magic_partial_not_allowed_fails(dash: XmlSession) -> None:
    peer = dash.create_peer()
    body = get_order(dash, dash.order(peer, magic.PARTIAL_INVENTORY_AREA, 5,
                                      "<PartialAllowed>false</PartialAllowed>"))
    assert body["OrderStatus"] == "FAILED" and body["ErrorList"]["Error"][0]["Code"] == "5017"
    assert dash.get("/inserviceNumbers").status_code == 204
    # the inventory was not consumed
    assert get_order(dash, dash.order(peer, magic.PARTIAL_INVENTORY_AREA, 2))["OrderStatus"] == "COMPLETE"


def test_magic_backorder_and_close(dash: XmlSession) -> None:
    peer = dash.create_peer()
    r = dash.order(peer, magic.NO_INVENTORY_AREA, 2, "<BackOrderRequested>true</BackOrderRequested>")
    assert dash.xml(r)["OrderResponse"]["Order"]["BackOrderRequested"] == "true"
    body = get_order(dash, r)
    assert body["OrderStatus"] == "BACKORDERED" and body["ErrorList"]["Error"][0]["Code"] == "5520"
    assert body["PendingQuantity"] == "2"
    oid = body["Order"]["id"]
    r = dash.put(f"/orders/{oid}", "<Order><CloseOrder>true</CloseOrder></Order>")
    assert r.status_code == 200
    body = dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]
    assert body["OrderStatus"] == "FAILED" and "5521" in [e["Code"] for e in body["ErrorList"]["Error"]]
    # only backorders can be closed
    r = dash.put(f"/orders/{oid}", "<Order><CloseOrder>true</CloseOrder></Order>")
    assert r.status_code == 400 and err_list(dash, r)[0]["Code"] == "5060"
    r = dash.put(f"/orders/{oid}", "<Order><Name>x</Name></Order>")
    assert r.status_code == 400
    assert dash.put("/orders/unknown", "<Order><CloseOrder>true</CloseOrder></Order>").status_code == 404


def test_magic_table_is_served(clean_sandbox: Any) -> None:
    r = requests.get(f"{clean_sandbox.url}/_sandbox/magic-numbers", timeout=10)
    assert r.status_code == 200, r.text
    assert magic.NO_INVENTORY_AREA in r.text and magic.PARTIAL_INVENTORY_AREA in r.text


# -- lifecycle modes ----------------------------------------------------------------------------

def set_transition(url: str, transition: dict[str, Any]) -> None:
    assert control(url, "PUT", "/_sandbox/settings", json={"order_transition": transition}, timeout=10).status_code == 200


def test_lifecycle_seconds(dash: XmlSession, sandbox: Any, sandbox_clock: SandboxClock) -> None:
    set_transition(sandbox.url, {"mode": "seconds", "seconds": 0.6})
    peer = dash.create_peer()
    r = dash.order(peer, "919")
    oid = dash.xml(r)["OrderResponse"]["Order"]["id"]
    body = dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]
    assert body["OrderStatus"] == "RECEIVED" and body["CompletedQuantity"] == "0" and "OrderCompleteDate" not in body
    assert body["PendingQuantity"] == "1"
    db = Database(sandbox.db_path)
    # reserved, not in service yet: not usable for messaging, not listed
    assert dash.get("/inserviceNumbers").status_code == 204
    sandbox_clock.advance(0.5)
    assert dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] == "RECEIVED"
    sandbox_clock.advance(0.2)
    # settles on any read, even without polling the order
    assert dash.get("/inserviceNumbers").status_code == 200
    body = dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]
    assert body["OrderStatus"] == "COMPLETE" and body["CompletedQuantity"] == "1"
    tn = body["CompletedNumbers"]["TelephoneNumber"][0]["FullNumber"]
    assert models.number_owner(db, tn) is not None


def test_lifecycle_polls(dash: XmlSession, sandbox: Any) -> None:
    set_transition(sandbox.url, {"mode": "polls", "polls": 2})
    peer = dash.create_peer()
    oid = dash.xml(dash.order(peer, "919"))["OrderResponse"]["Order"]["id"]
    statuses = [dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] for _ in range(4)]
    assert statuses == ["RECEIVED", "RECEIVED", "COMPLETE", "COMPLETE"]
    # once terminal it stays terminal when the mode changes
    set_transition(sandbox.url, {"mode": "polls", "polls": 100})
    assert dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] == "COMPLETE"


def test_lifecycle_polls_failed_order(dash: XmlSession, sandbox: Any) -> None:
    set_transition(sandbox.url, {"mode": "polls", "polls": 1})
    peer = dash.create_peer()
    oid = dash.xml(dash.order(peer, magic.NO_INVENTORY_AREA))["OrderResponse"]["Order"]["id"]
    first = dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]
    assert first["OrderStatus"] == "RECEIVED" and first["ErrorList"] is None
    assert dash.xml(dash.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] == "FAILED"


def test_lifecycle_default_is_two_seconds(fresh_sandbox: Any) -> None:
    sb = fresh_sandbox(settings={})  # the default settings, not the 2018 guide's immediate orders
    clock = SandboxClock(sb.url)
    clock.freeze()
    s = XmlSession(sb.url, DEMO)
    peer = s.create_peer()
    oid = s.xml(s.order(peer, "919"))["OrderResponse"]["Order"]["id"]
    assert s.xml(s.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] == "RECEIVED"
    clock.advance(1.9)
    assert s.xml(s.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] == "RECEIVED"
    clock.advance(0.2)
    assert s.xml(s.get(f"/orders/{oid}"))["OrderResponse"]["OrderStatus"] == "COMPLETE"


# == in service numbers and disconnects ==========================================================

def test_inservice_numbers(dash: XmlSession) -> None:
    assert dash.get("/inserviceNumbers").status_code == 204
    assert dash.get("/inserviceNumbers").content == b""
    peer = dash.create_peer()
    a = dash.order_numbers(peer, "919", 2)
    b = dash.order_numbers(peer, "704", 1)
    r = dash.get("/inserviceNumbers")
    assert r.status_code == 200
    body = dash.xml(r)["TNs"]
    assert body["TotalCount"] == "3" and body["TelephoneNumbers"]["Count"] == "3"
    assert sorted(body["TelephoneNumbers"]["TelephoneNumber"]) == sorted(a + b)
    assert "first" in body["Links"]
    f = dash.xml(dash.get("/inserviceNumbers", params={"areacode": "704"}))["TNs"]
    assert f["TelephoneNumbers"]["TelephoneNumber"] == b
    assert dash.get("/inserviceNumbers", params={"state": "TX"}).status_code == 204
    assert dash.xml(dash.get("/inserviceNumbers", params={"state": "nc"}))["TNs"]["TotalCount"] == "3"
    page = dash.xml(dash.get("/inserviceNumbers", params={"size": 2, "page": 2}))["TNs"]
    assert page["TotalCount"] == "3" and page["TelephoneNumbers"]["Count"] == "1"
    assert dash.get("/inserviceNumbers", params={"size": "x"}).status_code == 400
    r = dash.get(f"/sites/{dash.site_id}/inserviceNumbers")
    assert dash.xml(r)["TNs"]["TotalCount"] == "3"
    assert dash.get("/sites/555555/inserviceNumbers").status_code == 404


def test_disconnects(dash: XmlSession) -> None:
    peer = dash.create_peer()
    tns = dash.order_numbers(peer, "919", 2)
    r = dash.post("/disconnects", "<DisconnectTelephoneNumberOrder><CustomerOrderId>disc-1</CustomerOrderId>"
                                  "<DisconnectTelephoneNumberOrderType><TelephoneNumberList>"
                                  f"<TelephoneNumber>{tns[0]}</TelephoneNumber></TelephoneNumberList>"
                                  "<Protected>UNCHANGED</Protected></DisconnectTelephoneNumberOrderType>"
                                  "</DisconnectTelephoneNumberOrder>")
    assert r.status_code == 201, r.text
    body = dash.xml(r)["DisconnectTelephoneNumberOrderResponse"]
    assert body["OrderStatus"] == "RECEIVED"
    did = body["orderRequest"]["id"]
    assert r.headers["Location"].endswith(f"/disconnects/{did}")
    assert body["orderRequest"]["CustomerOrderId"] == "disc-1"
    listed = dash.xml(dash.get("/inserviceNumbers"))["TNs"]["TelephoneNumbers"]["TelephoneNumber"]
    assert listed == [tns[1]]
    r = dash.get(f"/disconnects/{did}")
    assert r.status_code == 200
    got = dash.xml(r)["DisconnectTelephoneNumberOrderResponse"]
    assert got["OrderStatus"] == "COMPLETE"
    assert got["orderRequest"]["DisconnectTelephoneNumberOrderType"]["TelephoneNumberList"]["TelephoneNumber"] == \
        [tns[0]]
    lst = dash.xml(dash.get("/disconnects"))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]
    assert lst["TotalCount"] == "1" and lst["OrderIdUserIdDate"][0]["OrderId"] == did
    assert dash.get("/disconnects/nope").status_code == 404
    # a number that is no longer in service is accepted (201) and fails later with 5006; the other one goes
    r = dash.post("/disconnects", disconnect_body(tns[0], tns[1]))
    assert r.status_code == 201, r.text
    oid = dash.xml(r)["DisconnectTelephoneNumberOrderResponse"]["orderRequest"]["id"]
    got = dash.xml(dash.get(f"/disconnects/{oid}"))["DisconnectTelephoneNumberOrderResponse"]
    assert got["OrderStatus"] == "PARTIAL" and [e["Code"] for e in got["ErrorList"]["Error"]] == ["5006"]
    assert got["ErrorList"]["Error"][0]["TelephoneNumber"] == tns[0]
    assert dash.get("/inserviceNumbers").status_code == 204  # both are gone now
    r = dash.post("/disconnects", "<DisconnectTelephoneNumberOrder/>")
    assert r.status_code == 400
    # the number is back in inventory and can be ordered again
    r = dash.post("/orders", order_body(dash.site_id, peer, "<ExistingTelephoneNumberOrderType><TelephoneNumberList>"
                                                           f"<TelephoneNumber>{tns[0]}</TelephoneNumber>"
                                                           "</TelephoneNumberList></ExistingTelephoneNumberOrderType>"))
    assert get_order(dash, r)["OrderStatus"] == "COMPLETE"


def test_disconnect_mode_outside_the_enum_is_5084(dash: XmlSession) -> None:
    """numbers-errors.mdx 5084 "DisconnectMode '%s' is invalid. Valid values are: ..." (the sandbox said 1003)."""
    r = dash.post("/disconnects", disconnect_body("9195551234", extra="<DisconnectMode>bogus</DisconnectMode>"))
    assert r.status_code == 400, r.text
    (error,) = err_list(dash, r, "DisconnectTelephoneNumberOrderResponse")
    assert error["Code"] == "5084" and error["Description"].startswith("DisconnectMode 'bogus' is invalid."), error


def test_disconnect_other_accounts_number_is_5006(dash: XmlSession, dash_b: XmlSession) -> None:
    tn = dash.order_numbers(dash.create_peer(), "919")[0]
    r = dash_b.post("/disconnects", disconnect_body(tn))
    assert r.status_code == 201, r.text
    oid = dash_b.xml(r)["DisconnectTelephoneNumberOrderResponse"]["orderRequest"]["id"]
    got = dash_b.xml(dash_b.get(f"/disconnects/{oid}"))["DisconnectTelephoneNumberOrderResponse"]
    assert got["OrderStatus"] == "FAILED" and got["ErrorList"]["Error"][0]["Code"] == "5006"
    assert dash.xml(dash.get("/inserviceNumbers"))["TNs"]["TelephoneNumbers"]["TelephoneNumber"] == [tn]


# == tenant isolation ============================================================================

ENDPOINTS = [
    ("GET", "/applications"), ("POST", "/applications"), ("GET", "/applications/{app}"),
    ("PUT", "/applications/{app}"), ("PATCH", "/applications/{app}"), ("DELETE", "/applications/{app}"),
    ("GET", "/applications/{app}/associatedsippeers"),
    ("GET", "/sites"), ("POST", "/sites"), ("GET", "/sites/{site}"), ("GET", "/sites/{site}/inserviceNumbers"),
    ("GET", "/sites/{site}/sippeers"), ("POST", "/sites/{site}/sippeers"),
    ("GET", "{P}"), ("PUT", "{P}"), ("DELETE", "{P}"), ("GET", "{P}/tns"),
    ("GET", "{P}/products/messaging/features/sms"), ("POST", "{P}/products/messaging/features/sms"),
    ("PUT", "{P}/products/messaging/features/sms"), ("DELETE", "{P}/products/messaging/features/sms"),
    ("GET", "{P}/products/messaging/features/mms"), ("POST", "{P}/products/messaging/features/mms"),
    ("PUT", "{P}/products/messaging/features/mms"), ("DELETE", "{P}/products/messaging/features/mms"),
    ("GET", "{P}/products/messaging/features/mms/settings"),
    ("GET", "{P}/products/messaging/applicationSettings"), ("PUT", "{P}/products/messaging/applicationSettings"),
    ("GET", "/availableNumbers?areaCode=919"), ("GET", "/orders"), ("POST", "/orders"), ("GET", "/orders/{order}"),
    ("PUT", "/orders/{order}"), ("GET", "/inserviceNumbers"), ("GET", "/disconnects"), ("POST", "/disconnects"),
    ("GET", "/disconnects/{disc}"),
]

BODIES = {
    "/applications": "<Application><AppName>x</AppName><CallbackUrl>https://a.example/x</CallbackUrl></Application>",
    "/sites": "<Site><Name>x</Name></Site>",
    "sippeers": "<SipPeer><PeerName>x</PeerName></SipPeer>",
    "sms": SMS_BODY, "mms": MMS_BODY,
    "applicationSettings": "<ApplicationsSettings>REMOVE</ApplicationsSettings>",
    "/orders": "<Order><CloseOrder>true</CloseOrder></Order>",
    "/disconnects": "<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType><TelephoneNumberList>"
                    "<TelephoneNumber>9195550000</TelephoneNumber></TelephoneNumberList>"
                    "</DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>",
}


def _body_for(path: str) -> str:
    for key, body in (("applicationSettings", BODIES["applicationSettings"]), ("/features/sms", SMS_BODY),
                      ("/features/mms", MMS_BODY), ("sippeers", BODIES["sippeers"]), ("/sites", BODIES["/sites"]),
                      ("/orders", BODIES["/orders"]), ("/disconnects", BODIES["/disconnects"])):
        if key in path:
            return body
    return BODIES["/applications"]


def _fill(template: str, w: dict[str, Any], site: str) -> str:
    return (template.replace("{P}", f"/sites/{site}/sippeers/{w['peer']}").replace("{app}", w["app"])
            .replace("{site}", site).replace("{order}", w["order"]).replace("{disc}", w["disc"]))


@pytest.fixture(scope="module")
def iso_sandbox(sandbox_factory: Callable[..., Any]) -> Iterator[Any]:
    """The isolation tests' own sandbox, so that no other test's reset touches their world."""
    with sandbox_factory(order_delay=0, reset=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def iso_world(iso_sandbox: Any) -> dict[str, Any]:
    """Account A with one of everything, built once: every request of these tests is refused (403, 401, 404, 405),
    and those that could change anything check A's world against its snapshot afterwards."""
    s = XmlSession(iso_sandbox.url, DEMO)
    w = s.world()
    extra = s.order_numbers(w["peer"], "704", 1)
    r = s.post("/disconnects", "<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType>"
                               f"<TelephoneNumberList><TelephoneNumber>{extra[0]}</TelephoneNumber>"
                               "</TelephoneNumberList></DisconnectTelephoneNumberOrderType>"
                               "</DisconnectTelephoneNumberOrder>")
    w["disc"] = s.xml(r)["DisconnectTelephoneNumberOrderResponse"]["orderRequest"]["id"]
    w["order"] = s.xml(s.get("/orders"))["ResponseSelectWrapper"]["ListOrderIdUserIdDate"]["OrderIdUserIdDate"][0][
        "orderId"]
    w["snapshot"] = snapshot(s, w)
    return w


def snapshot(s: XmlSession, w: dict[str, Any]) -> list[str]:
    p = s.peer_path(w["peer"])
    paths = ["/applications", f"/applications/{w['app']}", "/sites", f"/sites/{s.site_id}/sippeers", p,
             p + "/products/messaging/features/sms", p + "/products/messaging/features/mms",
             p + "/products/messaging/applicationSettings", "/inserviceNumbers", "/disconnects"]
    return [s.get(x).text for x in paths]


@pytest.mark.parametrize("method,template", ENDPOINTS)
def test_isolation_other_accounts_credentials_get_403(iso_sandbox: Any, iso_world: dict[str, Any], method: str,
                                                       template: str) -> None:
    b = XmlSession(iso_sandbox.url, DEMO_B, account_id=DEMO["account_id"])
    path = _fill(template, iso_world, DEMO["site_id"])
    body = _body_for(path) if method in ("POST", "PUT", "PATCH") else None
    r = b.request(method, path, body)
    assert r.status_code == 403, r.text
    assert b.xml(r)["ErrorResponse"]["ResponseStatus"]["ErrorCode"] == "1001"
    # no credentials at all: 401
    anon = requests.request(method, b.full(path), data=body, headers={"Content-Type": "application/xml"}, timeout=10)
    assert anon.status_code == 401
    if method != "GET":
        assert snapshot(XmlSession(iso_sandbox.url, DEMO), iso_world) == iso_world["snapshot"]


@pytest.mark.parametrize("method,template", ENDPOINTS)
def test_isolation_own_url_with_other_accounts_ids(iso_sandbox: Any, iso_world: dict[str, Any], method: str,
                                                   template: str) -> None:
    b = XmlSession(iso_sandbox.url, DEMO_B)
    path = _fill(template, iso_world, DEMO["site_id"])  # A's site, peer, app, order ids under B's account URL
    body = _body_for(path) if method in ("POST", "PUT", "PATCH") else None
    r = b.request(method, path, body)
    has_a_id = any(k in template for k in ("{app}", "{site}", "{P}", "{order}", "{disc}"))
    if has_a_id:
        assert r.status_code in (400, 404), (r.status_code, r.text)
        assert "ResponseStatus" in r.text or "ErrorList" in r.text
    else:
        assert r.status_code in (200, 201, 204, 400), r.text
        for secret in (iso_world["app"], iso_world["peer"], iso_world["order"], *iso_world["tns"]):
            assert secret not in r.text
    a = XmlSession(iso_sandbox.url, DEMO)
    assert snapshot(a, iso_world) == iso_world["snapshot"]


# == robustness ==================================================================================

@pytest.mark.parametrize("method,path", [
    ("DELETE", "/applications"), ("PUT", "/sites"), ("POST", "/sites/{site}"), ("POST", "{P}"),
    ("PATCH", "{P}/products/messaging/features/sms"), ("POST", "{P}/products/messaging/features/mms/settings"),
    ("DELETE", "{P}/products/messaging/applicationSettings"), ("POST", "/availableNumbers"),
    ("DELETE", "/orders"), ("DELETE", "/orders/{order}"), ("POST", "/inserviceNumbers"),
    ("DELETE", "/disconnects/{disc}"), ("POST", "/applications/{app}/associatedsippeers"),
])
def test_wrong_method_is_405(iso_sandbox: Any, iso_world: dict[str, Any], method: str, path: str) -> None:
    a = XmlSession(iso_sandbox.url, DEMO)
    r = a.request(method, _fill(path, iso_world, DEMO["site_id"]), "<x/>" if method != "DELETE" else None)
    assert r.status_code == 405, r.text
    assert "ResponseStatus" in r.text and r.headers.get("Allow")


@pytest.mark.parametrize("path,root", [
    ("/applications", "ApplicationProvisioningResponse"),
    ("/sites", "SiteResponse"),
    ("/sites/9901/sippeers", "SipPeerResponse"),
])
@pytest.mark.parametrize("raw", [b"<Application><AppName>x", b"<Wrong/>", b"\xff\xfe<a/>", b"not xml",
                                 b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'])
def test_malformed_bodies_are_400_in_resource_shape(dash: XmlSession, path: str, root: str, raw: bytes) -> None:
    r = dash.post(path, raw)
    assert r.status_code == 400, r.text
    assert list(dash.xml(r)) == [root]
    assert "Traceback" not in r.text and "root:" not in r.text


def test_wrong_content_type_is_415(dash: XmlSession) -> None:
    r = dash.post("/applications", '{"AppName": "x"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 415


def test_body_limit_is_413(dash: XmlSession) -> None:
    big = "<Application><AppName>" + "x" * 300_000 + "</AppName></Application>"
    r = dash.post("/applications", big)
    assert r.status_code == 413


@pytest.mark.parametrize("path", [
    "/sites/abc/sippeers/def", "/sites/9901/sippeers/..%2F..%2Fapplications", "/sites/9901/sippeers/%00",
    # (a literal "/applications/.." never reaches the server: clients remove dot segments, RFC 3986 5.2.4)
    "/sites/9901/sippeers/1%27%20OR%201=1", "/applications/%2e%2e", "/sites/%2e%2e",
    "/sites/9901/sippeers/99999999999999999999999999/tns", "/orders/%2e%2e%2fsites",
    "/sites/9901/sippeers/abc/products/messaging/features/sms",
])
def test_odd_ids_never_500(dash: XmlSession, path: str) -> None:
    r = dash.get(path)
    assert r.status_code in (400, 404), (r.status_code, r.text)
    assert "Traceback" not in r.text


def test_unknown_dashboard_path_is_404(dash: XmlSession) -> None:
    r = dash.get("/nothing/here")
    assert r.status_code == 404 and "ResponseStatus" in r.text


# == persistence and sharing =====================================================================

def test_persistence_across_restart(tmp_path: Any, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "persist.db"
    sb = sandbox_factory(db=db, order_delay=0)
    try:
        s = XmlSession(sb.url, DEMO)
        w = s.world()
        site = s.xml(s.post("/sites", "<Site><Name>Kept</Name></Site>"))["SiteResponse"]["Site"]["Id"]
    finally:
        sb.stop()
    sb2 = sandbox_factory(db=db)
    try:
        s2 = XmlSession(sb2.url, DEMO)
        assert s2.get(f"/applications/{w['app']}").status_code == 200
        assert s2.get(s2.peer_path(w["peer"])).status_code == 200
        assert s2.get(f"/sites/{site}").status_code == 200
        assert s2.get(s2.peer_path(w["peer"]) + "/products/messaging/features/sms").status_code == 200
        assert s2.get(s2.peer_path(w["peer"]) + "/products/messaging/features/mms").status_code == 200
        appset = s2.xml(s2.get(s2.peer_path(w["peer"]) + "/products/messaging/applicationSettings"))
        assert appset["ApplicationsSettingsResponse"]["ApplicationsSettings"]["HttpMessagingV2AppId"] == w["app"]
        assert s2.xml(s2.get("/inserviceNumbers"))["TNs"]["TelephoneNumbers"]["TelephoneNumber"] == w["tns"]
        # new ids do not collide with the old ones
        assert int(s2.create_peer("Again", default=False)) > int(w["peer"])
        assert w["tns"][0] not in s2.order_numbers(w["peer"], "910", 3)
    finally:
        sb2.stop()


@pytest.mark.slow
def test_two_processes_share_one_db(tmp_path: Any, sandbox_factory: Callable[..., Any]) -> None:
    db = tmp_path / "shared.db"
    sb = sandbox_factory(db=db, order_delay=0)
    # a second process on purpose (not a fixture): two processes sharing one sqlite file is what is tested
    proc = subprocess.Popen([sys.executable, "-m", "bwhelpers.sandbox", "--port", "0", "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        other_url = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = proc.stdout.readline()
            m = re.search(r"listening on (http://\S+)", line or "")
            if m:
                other_url = m.group(1)
                break
            if not line and proc.poll() is not None:
                break
        assert other_url, "the second sandbox process did not start"
        one, two = XmlSession(sb.url, DEMO), XmlSession(other_url, DEMO)
        app = one.create_app()
        assert two.get(f"/applications/{app}").status_code == 200
        peer = two.create_peer()
        assert one.get(one.peer_path(peer)).status_code == 200
        # concurrent orders through both processes never share a number
        results: list[list[str]] = []

        def worker(s: XmlSession) -> None:
            for _ in range(4):
                results.append(s.order_numbers(peer, "919", 3))

        threads = [threading.Thread(target=worker, args=(s,)) for s in (one, two, one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        all_tns = [tn for batch in results for tn in batch]
        assert len(all_tns) == 48 and len(set(all_tns)) == 48
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
        sb.stop()


def test_number_seed_setting_changes_the_inventory(dash: XmlSession, sandbox: Any) -> None:
    first = dash.xml(dash.get("/availableNumbers", params={"areaCode": "919", "quantity": 3}))
    assert control(sandbox.url, "PUT", "/_sandbox/settings", json={"number_seed": "another"}, timeout=10).status_code == 200
    second = dash.xml(dash.get("/availableNumbers", params={"areaCode": "919", "quantity": 3}))
    assert first != second
    expected = [n.tn for n in numbers.select({"areaCode": "919"}, 3, set(), "another")]
    assert second["SearchResult"]["TelephoneNumberList"]["TelephoneNumber"] == expected


# == property: any search over HTTP gives valid, distinct, deterministic numbers =================

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NPAS = sorted({npa for npas in numbers.STATE_NPAS.values() for npa in npas})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["areaCode", "state", "zip", "npaNxx"]), index=st.integers(0, 10_000),
       quantity=st.integers(1, 25))
@pytest.mark.slow  # 40 Hypothesis examples, two searches each
def test_property_search_results_are_valid(sandbox: Any, key: str, index: int, quantity: int) -> None:
    s = XmlSession(sandbox.url, DEMO)
    npa = _NPAS[index % len(_NPAS)]
    value = {"areaCode": npa, "state": sorted(numbers.STATE_NPAS)[index % len(numbers.STATE_NPAS)],
             "zip": f"{index % 100000:05d}", "npaNxx": npa + numbers.featured_nxx("x", npa)[0]
             if numbers.featured_nxx("x", npa) else npa + "234"}[key]
    r = s.get("/availableNumbers", params={key: value, "quantity": quantity})
    assert r.status_code == 200, r.text
    body = s.xml(r)["SearchResult"]
    tns = (body.get("TelephoneNumberList") or {}).get("TelephoneNumber") or []
    assert int(body["ResultCount"]) == len(tns) <= quantity
    assert len(set(tns)) == len(tns)
    assert all(numbers.is_valid_tn(tn) for tn in tns)
    if key in ("areaCode", "npaNxx"):
        assert all(tn.startswith(value) for tn in tns)
    assert s.xml(s.get("/availableNumbers", params={key: value, "quantity": quantity}))["SearchResult"] == body


def test_account_get_checks_credentials(dash: Any, dash_b: Any) -> None:
    """GET /accounts/{a} (what SDKs and CLIs call to check credentials): 200 for the owner, 403 for others."""
    r = dash.get("")
    assert r.status_code == 200, r.text
    doc = dash.xml(r)
    assert doc["AccountResponse"]["Account"]["AccountId"] == dash.account_id
    other = dash_b.get(f"/api/accounts/{dash.account_id}")
    assert other.status_code == 403 and "<ErrorCode>1001</ErrorCode>" in other.text
    anon = requests.get(dash.full(""), timeout=10)
    assert anon.status_code == 401
