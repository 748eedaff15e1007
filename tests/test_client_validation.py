"""Input validation raises ValidationError (naming the field) before any request is made.

The clients point at a closed port: reaching the network would raise TransportError instead.
"""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from _client_helpers import assert_no_secrets
from bwhelpers import steps
from bwhelpers.dashboard import DashboardClient, build_order_type, normalize_number
from bwhelpers.errors import MissingPrerequisiteError, TransportError, ValidationError
from bwhelpers.messaging import MessagingClient


@pytest.mark.slow
def test_closed_port_is_transport_error(offline_config):
    with pytest.raises(TransportError) as ei:
        DashboardClient(offline_config).get_site()
    assert "could not connect" in str(ei.value)
    assert_no_secrets(str(ei.value) + repr(ei.value.request))
    with pytest.raises(TransportError):
        MessagingClient(offline_config).send_message("9195550100", "hi", "9195550101", "app-1")


@pytest.mark.parametrize("value", ["+1919555012", "hello", "", None, "919-555-01x0", "12345", [1]])
def test_bad_numbers_named(offline_config, value):
    m = MessagingClient(offline_config)
    with pytest.raises(ValidationError) as ei:
        m.send_message(value, "hi", "9195550101", "app-1")
    assert ei.value.field in ("to", "to[0]") and str(ei.value).startswith("to")
    with pytest.raises(ValidationError) as ei:
        m.send_message("9195550100", "hi", value, "app-1")
    assert ei.value.field == "from_"


def test_plus_one_optional():
    assert normalize_number("9195551212") == normalize_number("+19195551212") == normalize_number("(919) 555-1212")
    assert normalize_number("19195551212") == "+19195551212"


@settings(max_examples=50)
@given(st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True))
@pytest.mark.slow
def test_any_nanp_number_normalizes(digits):
    assert normalize_number(digits) == "+1" + digits == normalize_number("+1" + digits)


@pytest.mark.slow
def test_text_limits(offline_config):
    m = MessagingClient(offline_config)
    with pytest.raises(ValidationError, match="2049 characters") as ei:
        m.send_message("9195550100", "x" * 2049, "9195550101", "app-1")
    assert ei.value.field == "text" and isinstance(ei.value, ValueError)
    with pytest.raises(ValidationError, match="text") as ei:
        m.send_message("9195550100", "", "9195550101", "app-1")
    with pytest.raises(ValidationError, match="at most 10") as ei:
        m.send_message([f"91955501{i:02d}" for i in range(11)], "hi", "9195550101", "app-1")
    assert ei.value.field == "to"
    with pytest.raises(ValidationError, match="application_id"):
        m.send_message("9195550100", "hi", "9195550101", "")
    with pytest.raises(ValidationError, match="media"):
        m.send_message("9195550100", None, "9195550101", "app", media=["ftp://x"])
    # exactly 2048 and media-only pass validation, so they reach the (closed) network
    with pytest.raises(TransportError):
        m.send_message("9195550100", "x" * 2048, "9195550101", "app-1")
    with pytest.raises(TransportError):
        m.send_message("9195550100", None, "9195550101", "app-1", media="https://x/y.png")


@pytest.mark.parametrize("kwargs,field", [
    ({"areacode": "910"}, "areacode"),
    ({"area_code": "91"}, "area_code"),
    ({"area_code": "abc"}, "area_code"),
    ({"zip": "1234"}, "zip"),
    ({"state": "North Carolina"}, "state"),
    ({"city": "Cary"}, "state"),
    ({"rate_center": "CARY"}, "state"),
    ({"area_code": "910", "quantity": 0}, "quantity"),
    ({"area_code": "910", "quantity": 5001}, "quantity"),
    ({"npa_nxx": "91955"}, "npa_nxx"),
    ({"toll_free_vanity": "AB"}, "toll_free_vanity"),
    ({}, "area_code"),
])
def test_search_criteria_validated(offline_config, kwargs, field):
    d = DashboardClient(offline_config)
    with pytest.raises(ValidationError) as ei:
        d.search_numbers(**kwargs)
    assert ei.value.field == field and field in str(ei.value)
    if kwargs:
        with pytest.raises(ValidationError):
            d.order_numbers(location_id="1", **kwargs)


def test_order_types():
    assert build_order_type(area_code="910") == {"AreaCodeSearchAndOrderType": {"AreaCode": "910", "Quantity": "1"}}
    assert "RateCenterSearchAndOrderType" in build_order_type(rate_center="CARY", state="NC")
    assert "NPANXXSearchAndOrderType" in build_order_type(npa_nxx="919555")
    assert "TollFreeVanitySearchAndOrderType" in build_order_type(toll_free_vanity="NEWCARS")
    assert "TollFreeWildCharSearchAndOrderType" in build_order_type(toll_free_wildcard="8**")
    assert "StateSearchAndOrderType" in build_order_type(state="NC")
    assert "CitySearchAndOrderType" in build_order_type(city="Cary", state="NC")
    assert "ZIPSearchAndOrderType" in build_order_type(zip="27606")
    assert "LATASearchAndOrderType" in build_order_type(lata="426")
    assert "CombinedSearchAndOrderType" in build_order_type(area_code="919", zip="27606")
    assert build_order_type(numbers=["+19195551212", "9195551213"]) == {
        "ExistingTelephoneNumberOrderType": {"TelephoneNumberList": {"TelephoneNumber": ["9195551212", "9195551213"]}}}
    with pytest.raises(ValidationError, match=r"numbers\[1\]"):
        build_order_type(numbers=["9195551212", "nope"])


def test_other_client_inputs(offline_config):
    d = DashboardClient(offline_config)
    with pytest.raises(ValidationError, match="callback_url"):
        d.create_application("Demo", "not a url")
    with pytest.raises(ValidationError, match="name"):
        d.create_application("", "https://x.org/cb")
    with pytest.raises(ValidationError, match="location_id"):
        d.enable_sms("")
    with pytest.raises(ValidationError, match="location_id"):
        d.get_location("../../etc")
    with pytest.raises(ValidationError, match="numbers"):
        d.disconnect_numbers([])
    with pytest.raises(ValidationError, match="order_id"):
        d.get_order(None)


def test_setup_prerequisites_named(offline_config, tmp_path):
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    s = Setup(offline_config, StateStore(tmp_path / "state.json"), progress=False)
    with pytest.raises(MissingPrerequisiteError, match=r"No location saved: run step 2 .*02_create_location"):
        s.enable_sms()
    with pytest.raises(MissingPrerequisiteError, match="step 1"):
        s.assign_application()
    with pytest.raises(MissingPrerequisiteError, match="step 2"):
        s.order_numbers()
    with pytest.raises(MissingPrerequisiteError, match="step 6"):
        s.get_order()
    with pytest.raises(MissingPrerequisiteError, match="step 1"):
        s.send_message("9195550100", "hi")
    assert [x["done"] for x in s.status()] == [False] * len(steps.STEPS)
    with pytest.raises(MissingPrerequisiteError, match="step 7"):
        s.register_a2p()
    with pytest.raises(MissingPrerequisiteError, match="step 8"):
        s.get_a2p_order()
    assert len(s.status()) == len(steps.STEPS) and s.status()[6]["notebook"] == "07_check_order_status.ipynb"
    assert s.status()[7]["notebook"] == "08_register_a2p.ipynb" and s.status()[8]["notebook"] == "09_send_message.ipynb"


def test_real_target_requires_callback_url(tmp_path):
    from bwhelpers.config import Config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    cfg = Config(target="real", dashboard_url="http://127.0.0.1:9/api", account_id="1", site_id="2",
                 username="u", password="sandbox-password")
    with pytest.raises(ValidationError, match="callback_url"):
        Setup(cfg, StateStore(tmp_path / "s.json")).create_application()


@pytest.mark.slow
def test_reprs_of_credential_holders_have_no_secrets(offline_config, tmp_path):
    from bwhelpers.http import make_session
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    s = Setup(offline_config, StateStore(tmp_path / "state.json"))
    objs = [offline_config, DashboardClient(offline_config), MessagingClient(offline_config), s,
            make_session(offline_config), offline_config.masked()]
    for o in objs:
        assert_no_secrets(repr(o) + str(o))
    try:
        s.dashboard.get_site()
    except TransportError as exc:
        assert_no_secrets(str(exc) + repr(exc) + exc.exchange.as_http())


@pytest.mark.parametrize("criterion,value,ok", [
    ("area_code", "910", True), ("area_code", "110", False), ("area_code", "91", False),
    ("toll_free_wildcard", "8**", True), ("toll_free_wildcard", "833", True), ("toll_free_wildcard", "8*", False),
    ("toll_free_wildcard", "8***", False), ("npa_nxx", "919555", True), ("npa_nxx", "019555", False),
    ("zip", "27606", True), ("zip", "2760", False), ("state", "NC", True), ("state", "N1", False),
])
def test_the_order_form_and_the_client_accept_the_same_criteria(criterion: str, value: str, ok: bool) -> None:
    """One validator (bwhelpers.criteria): what the form refuses, the client refuses before any request."""
    from bwhelpers.widgets import order_form

    form = order_form(default_criterion=criterion, default_value=value)
    form_ok = not form.errors
    try:
        build_order_type(**{criterion: value})
        client_ok = True
    except ValidationError as exc:
        client_ok = False
        assert exc.field == criterion
    assert form_ok == client_ok == ok


def test_a_mistyped_account_or_site_id_is_named_with_its_own_example_and_where_it_came_from(
        offline_config: Any) -> None:
    """review-real-account R4: an account id example was the site's ('9901') and no fix was named; still no
    request (offline_config points at a closed port: a request would be a TransportError)."""
    with pytest.raises(ValidationError) as caught:
        DashboardClient(offline_config.replace(account_id="55512a4")).get_site()
    text = str(caught.value)
    assert caught.value.field == "account_id" and "'55512a4' is not an id. Fix:" in text, text
    assert "like '9900000'" in text and "BW_ACCOUNT_ID" in text and caught.value.fix, text
    with pytest.raises(ValidationError) as caught:
        DashboardClient(offline_config.replace(site_id="24a80")).get_site()
    assert caught.value.field == "site_id" and "like '9901'" in str(caught.value) and "BW_SITE_ID" in str(caught.value)
