"""The official ``bandwidth-numbers-sdk`` (``bandwidth_numbers``, the old iris SDK) against the sandbox.

The SDK has no applications / SMS / MMS / applicationSettings support (bandwidth-api-notes §6), so
it covers sites, locations, search, orders, in-service numbers and disconnects. No workaround is
needed on Python 3.11 for the success paths; the SDK's error formatting calls ``getchildren()``
(removed in Python 3.9) and so falls back to the raw body bytes in ``RestError`` — the test below
pins that known SDK behaviour instead of patching it.
"""
from __future__ import annotations

from typing import Any

import pytest

from bandwidth_numbers import Account, Client, RestError

from bwhelpers.sandbox import DEMO, DEMO_B
from conftest import control


def account(url: str, creds: dict[str, str] = DEMO) -> Any:
    client = Client(url=f"{url}/api", account_id=creds["account_id"], username=creds["username"],
                    password=creds["password"])
    return Account(client=client)


def test_sdk_location_search_order_and_read_back(clean_sandbox: Any) -> None:
    acc = account(clean_sandbox.url)
    sites = acc.sites.list()
    assert [s.id for s in sites.items] == [DEMO["site_id"]]
    site = acc.sites.get(DEMO["site_id"])
    assert site.name == "Sandbox Site"

    # create a location: the SDK takes the id from the last segment of the Location header
    peer = site.sip_peers.create({"peer_name": "SDK Loc", "is_default_peer": "true"})
    assert peer.id and peer.id.isdigit()
    got = site.sip_peers.get(peer.id)
    assert (got.peer_name, got.is_default_peer) == ("SDK Loc", "true")
    assert peer.id in [p.peer_id for p in site.sip_peers.list().items]

    # search
    found = list(acc.available_numbers.list({"areaCode": "818", "quantity": 3}).items)  # the SDK reuses the list
    assert len(found) == 3 and all(tn.startswith("818") for tn in found)
    detail = acc.available_numbers.list({"areaCode": "818", "quantity": 2, "enableTNDetail": "true"}).items
    assert [d.full_number for d in detail] == found[:2]
    assert detail[0].state == "CA" and detail[0].rate_center

    # order and read the completed order
    order = acc.orders.create({"name": "SDK order", "site_id": DEMO["site_id"], "peer_id": peer.id,
                               "area_code_search_and_order_type": {"area_code": "818", "quantity": 1}})
    assert order.id and order.order_status == "RECEIVED"
    response = acc.orders.get(order.id)
    assert response.order_status == "COMPLETE"
    assert response.completed_quantity == "1" and response.failed_quantity == "0"
    assert response.completed_numbers.items == [found[0]]
    assert response.order.site_id == DEMO["site_id"] and response.order.peer_id == peer.id
    tn = response.completed_numbers.items[0]

    # the number is in service, on the location
    assert tn in list(acc.in_service_numbers.list({"page": 1, "size": 10}).items)
    assert [t.full_number for t in peer.tns.list().items] == [tn]

    # orders list
    listed = acc.orders.list({"page": 1, "size": 20}).items
    assert order.id in [o.order_id for o in listed]

    # disconnect, then the location can go
    disc = acc.disconnects.create({"name": "disc",
                                   "disconnect_telephone_number_order_type": {
                                       "telephone_number_list": {"telephone_number": [tn]}}})
    assert disc.id
    assert tn not in (acc.in_service_numbers.list({"page": 1, "size": 10}).items or [])
    assert peer.delete() is True


def test_sdk_site_save_and_delete(clean_sandbox: Any) -> None:
    """Site.save() on a loaded site is the SDK's PUT /sites/{id}, Site.delete() its DELETE (both were 405)."""
    acc = account(clean_sandbox.url)
    site = acc.sites.create({"name": "SDK Site", "description": "first",
                             "address": {"house_number": "1", "street_name": "Main", "city": "Raleigh",
                                         "state_code": "NC", "zip": "27606", "address_type": "Service"}})
    site.description = "second"
    site.save()  # returns None; a refused PUT raises RestError
    assert acc.sites.get(site.id).description == "second"
    assert site.delete() is True
    assert site.id not in [s.id for s in acc.sites.list().items]


def test_sdk_counts_in_service_numbers_of_the_account_and_the_site(clean_sandbox: Any) -> None:
    """numbers.yml ReadInserviceTnsCount (GET /inserviceNumbers/totals: <Quantity><Count>) and GET
    /sites/{id}/totaltns (<SiteTNsResponse><SiteTNs><TotalCount>), read by the SDK's totals / totaltns (were 404)."""
    acc = account(clean_sandbox.url)
    site = acc.sites.get(DEMO["site_id"])
    assert acc.in_service_numbers.totals.get().count == "0"
    peer = site.sip_peers.create({"peer_name": "Counted", "is_default_peer": "true"})
    acc.orders.create({"site_id": DEMO["site_id"], "peer_id": peer.id,
                       "area_code_search_and_order_type": {"area_code": "818", "quantity": "2"}})
    assert acc.in_service_numbers.totals.get().count == "2"
    assert site.totaltns.get().total_count == "2"
    other = acc.sites.create({"name": "Empty"})
    assert acc.sites.get(other.id).totaltns.get().total_count == "0"


def test_sdk_errors_raise_rest_error(clean_sandbox: Any) -> None:
    acc = account(clean_sandbox.url)
    site = acc.sites.get(DEMO["site_id"])
    with pytest.raises(RestError) as info:
        site.sip_peers.get("424242")
    # the SDK's own message formatting breaks on Python >= 3.9 (getchildren); the body is still there
    assert "13563" in str(info.value)
    with pytest.raises(RestError) as info:
        acc.orders.create({"site_id": "999999", "area_code_search_and_order_type": {"area_code": "818",
                                                                                     "quantity": 1}})
    assert "5016" in str(info.value)


def test_sdk_failed_order_is_read_not_raised(clean_sandbox: Any) -> None:
    acc = account(clean_sandbox.url)
    site = acc.sites.get(DEMO["site_id"])
    peer = site.sip_peers.create({"peer_name": "Magic", "is_default_peer": "true"})
    order = acc.orders.create({"site_id": DEMO["site_id"], "peer_id": peer.id,
                               "area_code_search_and_order_type": {"area_code": "907", "quantity": 1}})
    response = acc.orders.get(order.id)
    assert response.order_status == "FAILED"
    assert response.failed_quantity == "1"


def test_sdk_other_account_is_refused(clean_sandbox: Any) -> None:
    intruder = Client(url=f"{clean_sandbox.url}/api", account_id=DEMO["account_id"], username=DEMO_B["username"],
                      password=DEMO_B["password"])
    with pytest.raises(Exception) as info:
        Account(client=intruder).sites.list()
    assert "403" in str(info.value) or "1001" in str(info.value)


def test_sdk_works_with_an_access_token_from_the_sandbox(clean_sandbox: Any) -> None:
    """The SDK's token URL is hard-coded to production, so the token comes from the sandbox's endpoint and is
    passed in with ``access_token=``; Basic is decommissioned meanwhile."""
    import time

    import requests

    url = clean_sandbox.url
    control(url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "decommissioned"}, timeout=5)
    try:
        r = requests.post(f"{url}/api/v1/oauth2/token", auth=(DEMO["client_id"], DEMO["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=5)
        assert r.status_code == 200, r.text
        token = r.json()
        client = Client(url=f"{url}/api", account_id=DEMO["account_id"], access_token=token["access_token"],
                        access_token_expiration=int(time.time()) + token["expires_in"])
        acc = Account(client=client)
        assert [s.id for s in acc.sites.list().items] == [DEMO["site_id"]]
        peer = acc.sites.get(DEMO["site_id"]).sip_peers.create({"peer_name": "OAuth Loc", "is_default_peer": "true"})
        order = acc.orders.create({"name": "OAuth order", "site_id": DEMO["site_id"], "peer_id": peer.id,
                                   "area_code_search_and_order_type": {"area_code": "818", "quantity": 1}})
        assert acc.orders.get(order.id).order_status == "COMPLETE"
        # Basic with the API user is refused meanwhile; a token of account B is refused on A's URL
        with pytest.raises(RestError) as refused:
            account(url).sites.list()
        assert "2026-12-02" in str(refused.value)
        r = requests.post(f"{url}/api/v1/oauth2/token", auth=(DEMO_B["client_id"], DEMO_B["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=5)
        other = Account(client=Client(url=f"{url}/api", account_id=DEMO["account_id"],
                                      access_token=r.json()["access_token"],
                                      access_token_expiration=int(time.time()) + 3600))
        with pytest.raises(RestError) as info:
            other.sites.list()
        assert "1001" in str(info.value) and "Access Denied" in str(info.value)
    finally:
        control(url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "allowed"}, timeout=5)
