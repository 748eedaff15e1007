"""The official ``bandwidth-sdk`` (OpenAPI-generated, strict pydantic models) against the sandbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from _messaging_helpers import DEMO, DEMO_B, FAST
from conftest import control

if TYPE_CHECKING:
    from bandwidth.api.messages_api import MessagesApi

# bandwidth-sdk is imported by the tests that use it (a missing SDK fails them loudly; the README installs it), not
# at collection: its pydantic models cost 1.5 s of CPU in every process that imports it, every xdist worker included
# (conftest.XDIST_GROUPS: one worker). The import takes 2-4 s, so these tests are slow: the full suite runs them.
pytestmark = pytest.mark.slow

APP_ID = "05851417-c78b-4636-81a2-014a54d8f119"


@pytest.fixture(scope="module")
def sb(sandbox: Any) -> Iterator[Any]:
    """The session sandbox (tests/conftest.py) with fast settings, restored afterwards."""

    saved = control(sandbox.url, "GET", "/_sandbox/settings", timeout=5).json()
    control(sandbox.url, "PUT", "/_sandbox/settings", json=FAST, timeout=5)
    yield sandbox
    control(sandbox.url, "PUT", "/_sandbox/settings", json={k: saved[k] for k in FAST if k in saved}, timeout=5)


def api(sb: Any, creds: dict[str, str] = DEMO, password: str | None = None) -> MessagesApi:
    from bandwidth import ApiClient, Configuration, MessagesApi

    cfg = Configuration(host=f"{sb.url}/api/v2", username=creds["username"],
                        password=password if password is not None else creds["password"],
                        ignore_operation_servers=True)
    return MessagesApi(ApiClient(cfg))


def test_create_message_returns_parsed_202(sb: Any) -> None:
    from bandwidth import Message, MessageDirectionEnum, MessageRequest

    resp = api(sb).create_message_with_http_info(DEMO["account_id"], MessageRequest(
        application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="Hello from the SDK"))
    assert resp.status_code == 202
    m = resp.data
    assert isinstance(m, Message)
    assert len(m.id) == 29 and m.owner == "+19193524444" and m.var_from == "+19193524444"
    assert m.to == ["+19191231234"] and m.application_id == APP_ID
    assert m.direction == MessageDirectionEnum.OUT and m.segment_count == 1
    assert m.time.tzinfo is not None and m.text == "Hello from the SDK"


def test_create_message_with_optional_fields(sb: Any) -> None:
    from bandwidth import MessageRequest, PriorityEnum

    expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0)
    m = api(sb).create_message(DEMO["account_id"], MessageRequest(
        application_id=APP_ID, to=["+19191231234", "+19191231235"], var_from="+19193524444", text="x" * 200,
        media=["https://example.com/a.png"], tag="sdk", priority=PriorityEnum.HIGH, expiration=expiry))
    assert m.priority == PriorityEnum.HIGH and m.tag == "sdk" and m.media == ["https://example.com/a.png"]
    assert m.expiration == expiry and len(m.to) == 2


def test_list_messages_parses(sb: Any) -> None:
    from bandwidth import MessageRequest, MessagesList

    sent = api(sb).create_message(DEMO["account_id"], MessageRequest(
        application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="listed"))
    listed = api(sb).list_messages(DEMO["account_id"], message_id=sent.id)
    assert isinstance(listed, MessagesList)
    assert listed.total_count == 1 and listed.messages[0].message_id == sent.id
    assert listed.messages[0].source_tn == "+19193524444"


def test_errors_map_to_sdk_exceptions(sb: Any) -> None:
    from bandwidth import MessageRequest
    from bandwidth.exceptions import BadRequestException, ForbiddenException, UnauthorizedException

    with pytest.raises(BadRequestException) as info:
        api(sb).create_message(DEMO["account_id"], MessageRequest(
            application_id=APP_ID, to=["not-a-number"], var_from="+19193524444", text="x"))
    assert info.value.status == 400 and "request-validation" in info.value.body
    with pytest.raises(UnauthorizedException):
        api(sb, password="wrong").create_message(DEMO["account_id"], MessageRequest(
            application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="x"))
    with pytest.raises(ForbiddenException):
        api(sb, DEMO_B).create_message(DEMO["account_id"], MessageRequest(
            application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="x"))


def test_rate_limit_surfaces_as_429(sb: Any) -> None:
    from bandwidth import ApiException, MessageRequest

    control(sb.url, "PUT", "/_sandbox/settings", json={"rate_limit_per_second": 1}, timeout=5)
    try:
        statuses = []
        for _ in range(6):
            try:
                api(sb).create_message(DEMO["account_id"], MessageRequest(
                    application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="x"))
                statuses.append(202)
            except ApiException as exc:
                statuses.append(exc.status)
                assert exc.headers.get("Retry-After")
                break
        assert statuses[-1] == 429
    finally:
        control(sb.url, "PUT", "/_sandbox/settings", json={"rate_limit_per_second": 0}, timeout=5)


# -- OAuth 2.0 client credentials (the only way into a real account from 2026-12-02) ----------------

def oauth_api(sb: Any, creds: dict[str, str] = DEMO, secret: str | None = None) -> MessagesApi:
    from bandwidth import ApiClient, Configuration, MessagesApi

    cfg = Configuration(host=f"{sb.url}/api/v2", client_id=creds["client_id"],
                        client_secret=secret if secret is not None else creds["client_secret"],
                        access_token_url=f"{sb.url}/api/v1/oauth2/token", ignore_operation_servers=True)
    return MessagesApi(ApiClient(cfg))


@pytest.fixture
def decommissioned(sb: Any) -> Iterator[Any]:
    """Basic auth with API users refused, as on the real service from 2026-12-02."""

    control(sb.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "decommissioned"}, timeout=5)
    yield sb
    control(sb.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "allowed"}, timeout=5)


def test_sdk_sends_and_lists_with_client_credentials_only(decommissioned: Any) -> None:
    from bandwidth import MessageRequest
    from bandwidth.exceptions import UnauthorizedException

    sb = decommissioned
    client = oauth_api(sb)
    resp = client.create_message_with_http_info(DEMO["account_id"], MessageRequest(
        application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="Hello over OAuth"))
    assert resp.status_code == 202 and resp.data.text == "Hello over OAuth"
    listed = client.list_messages(DEMO["account_id"], message_id=resp.data.id)
    assert listed.total_count == 1 and listed.messages[0].message_id == resp.data.id
    # the SDK fetched one token from the sandbox and reuses it while it is fresh
    token = client.api_client.configuration.temp_access_token
    assert token and token.count(".") == 2
    client.list_messages(DEMO["account_id"], message_id=resp.data.id)
    assert client.api_client.configuration.temp_access_token == token
    # the same call with the API user's username:password is refused
    with pytest.raises(UnauthorizedException) as info:
        api(sb).list_messages(DEMO["account_id"])
    assert "2026-12-02" in info.value.body


def test_sdk_oauth_errors_map_to_sdk_exceptions(decommissioned: Any) -> None:
    from bandwidth import MessageRequest
    from bandwidth.exceptions import ForbiddenException

    with pytest.raises(ForbiddenException) as info:  # B's token on A's URL
        oauth_api(decommissioned, DEMO_B).create_message(DEMO["account_id"], MessageRequest(
            application_id=APP_ID, to=["+19191231234"], var_from="+19193524444", text="x"))
    assert info.value.status == 403
    # a wrong secret: the SDK does not check the token response's status (bandwidth-sdk 23.x), so it fails
    # reading the missing access_token; the sandbox's answer itself is RFC 6749's invalid_client
    with pytest.raises(KeyError, match="access_token"):
        oauth_api(decommissioned, secret="wrong").list_messages(DEMO["account_id"])
