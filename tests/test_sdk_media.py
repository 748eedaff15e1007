"""Bandwidth's own ``bandwidth-sdk`` ``MediaApi`` against the sandbox (issue 22 item 7): upload, list, get and
delete, with Basic and OAuth2 credentials, and the SDK's exceptions for the documented errors."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from bwhelpers.sandbox import DEMO, DEMO_B

if TYPE_CHECKING:
    from bandwidth.api.media_api import MediaApi

# bandwidth-sdk is imported by the tests that use it (a missing SDK fails them loudly; the README installs it), not
# at collection: its pydantic models cost 1.5 s of CPU in every process that imports it, every xdist worker included
# (conftest.XDIST_GROUPS: one worker). The import takes 2-4 s, so these tests are slow: the full suite runs them.
pytestmark = pytest.mark.slow

PNG = (Path(__file__).resolve().parents[1] / "bwhelpers" / "assets" / "smile.png").read_bytes()


def upload(client: MediaApi, name: str, body: bytes = PNG, ctype: str = "image/png", **kw: Any) -> None:
    """The generated SDK sets Content-Type from ``_content_type`` (its ``content_type`` header parameter is
    overwritten by the operation's default, application/json, which cannot carry bytes): pass both."""
    client.upload_media(DEMO["account_id"], name, body, content_type=ctype, _content_type=ctype, **kw)


def api(sb: Any, creds: dict[str, str] = DEMO, oauth: bool = False) -> MediaApi:
    from bandwidth import ApiClient, Configuration, MediaApi

    if oauth:
        cfg = Configuration(host=f"{sb.url}/api/v2", client_id=creds["client_id"],
                            client_secret=creds["client_secret"], access_token_url=f"{sb.url}/api/v1/oauth2/token",
                            ignore_operation_servers=True)
    else:
        cfg = Configuration(host=f"{sb.url}/api/v2", username=creds["username"], password=creds["password"],
                            ignore_operation_servers=True)
    return MediaApi(ApiClient(cfg))


@pytest.fixture
def media(sandbox: Any) -> Iterator[MediaApi]:
    client = api(sandbox)

    def clean() -> None:  # other tests of the session upload to the demo account too
        for item in client.list_media(DEMO["account_id"]):
            client.delete_media(DEMO["account_id"], item.media_name)
    clean()
    yield client
    clean()


def test_upload_list_get_delete_with_the_sdk(media: MediaApi) -> None:
    from bandwidth import Media
    from bandwidth.exceptions import NotFoundException

    acct = DEMO["account_id"]
    upload(media, "sdk-smile.png", cache_control="no-cache")
    listed = media.list_media(acct)
    assert [type(m) for m in listed] == [Media]
    assert [(m.media_name, m.content_length) for m in listed] == [("sdk-smile.png", len(PNG))]
    assert listed[0].content.endswith(f"/api/v2/users/{acct}/media/sdk-smile.png")
    got = media.get_media_with_http_info(acct, "sdk-smile.png")
    assert bytes(got.data) == PNG and got.status_code == 200 and got.headers["Content-Type"] == "image/png"
    media.delete_media(acct, "sdk-smile.png")
    assert media.list_media(acct) == []
    with pytest.raises(NotFoundException):
        media.get_media(acct, "sdk-smile.png")


def test_oauth_credentials_work_too(sandbox: Any, media: MediaApi) -> None:
    client = api(sandbox, oauth=True)
    upload(client, "oauth.png")
    assert [m.media_name for m in client.list_media(DEMO["account_id"])] == ["oauth.png"]
    assert client.api_client.configuration.temp_access_token  # it fetched a token from the sandbox


def test_another_accounts_media_and_bad_credentials_raise(sandbox: Any, media: MediaApi) -> None:
    from bandwidth.exceptions import ForbiddenException, UnauthorizedException

    upload(media, "mine.png")
    with pytest.raises(ForbiddenException):
        api(sandbox, DEMO_B).get_media(DEMO["account_id"], "mine.png")
    with pytest.raises(UnauthorizedException):
        api(sandbox, {**DEMO, "password": "wrong"}).list_media(DEMO["account_id"])
