"""The client's A2P step against a real sandbox (a2p_enforcement on): Setup.list_campaigns / register_a2p /
registration / request_tfv, the errors for bad input (named value + fix, before any request where possible),
diagnose's parity with ``band message preflight``, and the toll-free path."""
from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from _client_helpers import SECRETS, assert_no_secrets, config_for, sandbox_settings
from bwhelpers.a2p import A2PClient, check_campaign_id, is_toll_free
from bwhelpers.exceptions import MissingPrerequisiteError, NotFoundError, ValidationError
from bwhelpers.sandbox import DEMO_B
from bwhelpers.setup import Setup
from bwhelpers.tables import campaigns_frame, diagnose_frame


@pytest.fixture(autouse=True)
def enforced(clean_sandbox: Any) -> None:
    """conftest's clean sandbox replays the 2018 guide; these tests are about today's rules (the default)."""
    sandbox_settings(clean_sandbox, a2p_enforcement=True)


def _until_numbers(s: Setup) -> None:
    s.create_application()
    s.create_location()
    s.enable_sms()
    s.enable_mms()
    s.assign_application()
    s.order_numbers()
    s.wait_for_order(progress=False)


def _last_event(s: Setup) -> dict[str, Any]:
    return s.wait_for_event("message-delivered", timeout=15, accept_failure=True)


@pytest.mark.slow
def test_register_a2p_assigns_the_saved_number_and_the_send_is_delivered(setup: Setup) -> None:
    _until_numbers(setup)
    frame = campaigns_frame(setup.list_campaigns())
    assert list(frame.columns[:2]) == ["campaignId", "status"]
    assert frame.set_index("campaignId").status.to_dict() == {"CSBX001": "REGISTERED", "CPND001": "PENDING"}
    placed: list[Any] = []
    result = setup.register_a2p(on_placed=placed.append)
    assert result.status == "COMPLETE" and result.exchange.method == "GET" and "tnoptions" in result.exchange.url
    [post] = placed
    assert (post.exchange.method, post.exchange.status, post.status) == ("POST", 201, "RECEIVED")
    assert "<CampaignId>CSBX001</CampaignId>" in post.exchange.request_body and post.id == result.id
    saved = setup.saved["a2p"]
    assert saved == {**saved, "campaign_id": "CSBX001", "order_id": result.id, "status": "COMPLETE",
                     "numbers": setup.saved["numbers"]}
    reg = setup.registration()
    assert (reg.status, reg.data["campaignId"]) == ("SUCCESS", "CSBX001")
    setup.send_message("+19195550100", "hello")
    assert _last_event(setup)["type"] == "message-delivered"
    # re-running makes no second TN Option Order; asking for a new one says why not
    again = setup.register_a2p()
    assert again.reused and again.id == result.id
    with pytest.raises(ValidationError, match=r"already assigned to campaign CSBX001.*without new=True") as err:
        setup.register_a2p(new=True)
    assert err.value.field == "numbers"
    assert len(setup.a2p.list_tn_option_orders().records) == 1


def test_skipping_the_step_fails_with_4476_and_diagnose_says_so_first(setup: Setup) -> None:
    _until_numbers(setup)
    setup.send_message("+19195550100", "hello")
    ev = _last_event(setup)
    assert (ev["type"], ev["errorCode"]) == ("message-failed", 4476)
    diag = diagnose_frame(setup.diagnose())
    first = diag.iloc[0]
    assert (first.check, bool(first.ok)) == ("10DLC registration", False)
    assert "4476" in first.finding and "register_a2p()" in first.fix and "step 8" in first.fix
    assert diag.ok.sum() == len(diag) - 1, diag.to_string()
    assert {"callback URL", "application linked to a location"} <= set(diag.check)
    assert not [s for s in setup.status() if s["key"] == "a2p"][0]["done"]


@pytest.mark.parametrize("campaign, message", [
    ("CNOSUCH", r"'CNOSUCH' is not a campaign of account 9900000 \(its campaigns: CSBX001 \(REGISTERED\), CPND001"),
    ("CSBX002", r"'CSBX002' is not a campaign of account 9900000"),   # the other tenant's campaign
    ("CPND001", r"CPND001 is PENDING, not REGISTERED.*CSBX001"),
    ("bad id!", r"'bad id!' is not a campaign id"),
])
def test_register_a2p_refuses_a_wrong_campaign_before_ordering(setup: Setup, campaign: str, message: str) -> None:
    _until_numbers(setup)
    with pytest.raises(ValidationError, match=message) as err:
        setup.register_a2p(campaign_id=campaign)
    assert err.value.field == "campaign_id"
    assert setup.a2p.list_tn_option_orders().records == []
    assert "a2p" not in setup.saved


@pytest.mark.slow
def test_register_a2p_refuses_numbers_that_are_not_yours(setup: Setup, sandbox: Any) -> None:
    _until_numbers(setup)
    other = Setup(config_for(sandbox, **{k: DEMO_B[k] for k in ("account_id", "site_id", "username", "password")}),
                  setup.state, progress=False)
    _until_numbers(other)
    theirs = other.saved["numbers"][0]
    with pytest.raises(ValidationError, match=re.escape(theirs) + " is not a number of account 9900000") as err:
        setup.register_a2p(numbers=[theirs])
    assert err.value.field == "numbers"
    with pytest.raises(ValidationError, match="numbers"):
        setup.register_a2p(numbers=["not a number"])
    assert setup.a2p.list_tn_option_orders().records == []
    # each tenant sees its own campaign only
    assert [c["campaignId"] for c in other.list_campaigns().records][0] == "CSBX002"


def test_polling_an_unknown_order_names_it_and_the_fix(setup: Setup) -> None:
    with pytest.raises(MissingPrerequisiteError, match="step 8"):
        setup.get_a2p_order()
    with pytest.raises(NotFoundError, match=r"TN Option Order 'no-such-order' does not exist.*Fix") as err:
        setup.get_a2p_order("no-such-order")
    assert err.value.status == 404
    for bad in ("bad id/../x", "..", ".", "", 12.5):
        with pytest.raises(ValidationError, match="order_id"):  # refused before any request
            setup.a2p.get_tn_option_order(bad)


def test_client_validates_before_any_request(cfg: Any) -> None:
    client = A2PClient(cfg)
    for bad in (None, "", "a b", "x" * 65):
        with pytest.raises(ValidationError, match="campaign_id"):
            check_campaign_id(bad)
    with pytest.raises(ValidationError, match="numbers"):
        client.create_tn_option_order([], "CSBX001")
    with pytest.raises(ValidationError, match="listed twice"):
        client.create_tn_option_order(["+19195551234", "9195551234"], "CSBX001")
    with pytest.raises(ValidationError, match="limit"):
        client.list_campaigns(limit=0)
    with pytest.raises(ValidationError, match="not a toll-free number"):
        client.tfv_status("+19195551234")
    assert is_toll_free("+18005550100") and not is_toll_free("9195551234")


TFV = {
    "businessAddress": {"name": "Demo Co", "addr1": "1 Main St", "city": "Raleigh", "state": "NC", "zip": "27606",
                        "url": "https://demo.example.org"},
    "businessContact": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@demo.example.org",
                        "phoneNumber": "+19192654500"},
    "messageVolume": 1000, "useCase": "2FA", "useCaseSummary": "One-time passcodes",
    "productionMessageContent": "Your code is 123456",
    "optInWorkflow": {"description": "Sign-up form", "imageUrls": ["https://demo.example.org/optin.png"]},
    "businessEntityType": "PRIVATE_PROFIT",
}


@pytest.mark.slow
def test_toll_free_path(setup: Setup, sandbox: Any) -> None:
    sandbox_settings(sandbox, order_transition={"mode": "polls", "polls": 1})
    setup.create_application()
    setup.create_location()
    setup.enable_sms()
    setup.enable_mms()
    setup.assign_application()
    setup.order_numbers(area_code=None, toll_free_wildcard="8**")
    setup.wait_for_order(progress=False)
    tfn = setup.saved["numbers"][0]
    assert is_toll_free(tfn)
    with pytest.raises(ValidationError, match="toll-free: a 10DLC campaign is for local numbers.*request_tfv"):
        setup.register_a2p()
    diag = diagnose_frame(setup.diagnose())
    assert diag.iloc[0].check == "toll-free verification" and "4795" in diag.iloc[0].finding
    setup.send_message("+19195550100", "hello")
    assert _last_event(setup)["errorCode"] == 4795
    with pytest.raises(ValidationError, match="businessAddress"):
        setup.request_tfv({"useCase": "2FA"})
    assert setup.request_tfv(TFV).status == "PENDING"
    assert setup.registration().status == "PENDING"
    assert setup.registration().status == "VERIFIED"
    setup.send_message("+19195550100", "hello again")
    assert _last_event(setup)["type"] == "message-delivered"
    assert diagnose_frame(setup.diagnose()).ok.all()


def test_no_secret_in_a2p_results(setup: Setup) -> None:
    _until_numbers(setup)
    result = setup.register_a2p()
    assert_no_secrets(repr(result) + str(result.rows()) + str(result.exchange.request) + str(result.exchange.response_body))
    shown = {k.lower(): v for k, v in result.exchange.request_headers.items()}
    assert shown.get("authorization") in (None, "Basic ********", "Bearer ********"), "only the scheme is shown"
    text = setup.state.path.read_text()
    for secret in SECRETS:
        assert secret not in text
    r = requests.get(f"{setup.config.a2p_url}/accounts/9900000/tendlc/campaigns", timeout=5)
    assert r.status_code == 401  # the platform API needs credentials too
