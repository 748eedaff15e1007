"""The client's OAuth 2.0 client credentials against a real sandbox over HTTP: Config resolution, lazy token
fetch, refresh before expiry (a run longer than a short token lifetime), one re-fetch and one retry on a 401,
clear errors for a bad secret or an unreachable token URL, the legacy Basic path and its warning, diagnose."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from _client_helpers import closed_port, sandbox_settings
from conftest import SandboxClock, control, reset
from bwhelpers.config import BASIC_AUTH_WARNING, TOKEN_URL, Config
from bwhelpers.dashboard import DashboardClient
from bwhelpers.exceptions import AuthError, TokenError, TransportError, ValidationError
from bwhelpers.messaging import MessagingClient
from bwhelpers.oauth import BearerAuth, TokenSource, token_claims

pytestmark = pytest.mark.timeout(120)

SECRET = "cs-Oauth-7f1e-leak-SECRET"


@pytest.fixture(scope="module", autouse=True)
def _reset_after(sandbox: Any) -> Iterator[None]:
    """These tests change the session sandbox's settings and credentials (each starts from ``clean_sandbox``):
    reset it once they are done."""
    yield
    reset(sandbox.url)


def oauth_config(handle: Any, **changes: Any) -> Config:
    """A sandbox Config that authenticates with API credentials only (no username/password at all)."""
    c = handle.credentials
    values = dict(target="sandbox", dashboard_url=f"{handle.url}/api", messaging_url=f"{handle.url}/api/v2",
                  account_id=c["account_id"], site_id=c["site_id"], client_id=c["client_id"],
                  client_secret=c["client_secret"], token_url=f"{handle.url}/api/v1/oauth2/token",
                  sandbox_url=handle.url)
    values.update(changes)
    return Config(**values)


def credential(handle: Any, client_id: str, secret: str = SECRET, roles: list[str] | None = None) -> None:
    r = control(handle.url, "POST", "/_sandbox/credentials", json={
        "account_id": handle.credentials["account_id"], "client_id": client_id, "client_secret": secret,
        "roles": roles or ["Messaging", "Numbers"]}, timeout=5)
    assert r.status_code == 201, r.text


def issued(handle: Any, client_id: str) -> int:
    creds = control(handle.url, "GET", "/_sandbox/credentials", timeout=5).json()["credentials"]
    return next(c["tokens_issued"] for c in creds if c["client_id"] == client_id)


# -- Config ----------------------------------------------------------------------------------------

def test_client_credentials_from_env_mean_oauth_on_the_real_service(isolated_env: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_ACCOUNT_ID", "123")
    monkeypatch.setenv("BW_SITE_ID", "45")
    monkeypatch.setenv("BW_CLIENT_ID", "my-client")
    monkeypatch.setenv("BW_CLIENT_SECRET", SECRET)
    c = Config.resolve()
    assert c.target == "real" and c.auth_method == "oauth" and c.uses_oauth
    assert c.token_url == TOKEN_URL == "https://api.bandwidth.com/api/v1/oauth2/token"
    assert c.auth_warning is None
    assert SECRET not in repr(c) + str(c.masked()) and c.masked()["client_id"] == "my-client"
    # preferred over username/password when both are present
    monkeypatch.setenv("BW_USERNAME", "api-user")
    monkeypatch.setenv("BW_PASSWORD", "pw-123456789")
    assert Config.resolve().auth_method == "oauth"
    # BW_TOKEN_URL overrides the token endpoint; BW_AUTH=basic selects the legacy path, with its warning
    monkeypatch.setenv("BW_TOKEN_URL", "https://test.api.bandwidth.com/api/v1/oauth2/token/")
    assert Config.resolve().token_url == "https://test.api.bandwidth.com/api/v1/oauth2/token"
    monkeypatch.setenv("BW_AUTH", "basic")
    legacy = Config.resolve()
    assert legacy.auth_method == "basic" and legacy.auth_warning == BASIC_AUTH_WARNING
    assert "2026-12-02" in BASIC_AUTH_WARNING


def test_username_password_alone_is_the_legacy_path_with_a_warning(isolated_env: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_ACCOUNT_ID", "123")
    monkeypatch.setenv("BW_SITE_ID", "45")
    monkeypatch.setenv("BW_USERNAME", "api-user")
    monkeypatch.setenv("BW_PASSWORD", "pw-123456789")
    c = Config.resolve()
    assert c.target == "real" and c.auth_method == "basic" and "no longer accepts" in c.auth_warning


@pytest.mark.parametrize("env, field, words", [
    ({"BW_CLIENT_ID": "x"}, "client_secret", "BW_CLIENT_SECRET"),
    ({"BW_CLIENT_SECRET": SECRET}, "client_id", "BW_CLIENT_ID"),
    ({"BW_CLIENT_ID": "x", "BW_AUTH": "basic"}, "username", "BW_USERNAME"),
    ({"BW_CLIENT_ID": "x", "BW_CLIENT_SECRET": SECRET, "BW_AUTH": "token"}, "auth", "'oauth'"),
])
def test_incomplete_or_wrong_auth_settings_fail_before_any_request(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  env: dict[str, str], field: str, words: str) -> None:
    monkeypatch.setenv("BW_ACCOUNT_ID", "123")
    monkeypatch.setenv("BW_SITE_ID", "45")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValidationError) as info:
        Config.resolve()
    assert info.value.field == field and words in str(info.value)
    assert SECRET not in str(info.value)


def test_credentials_file_carries_client_credentials(isolated_env: Path) -> None:
    cfg = Config(target="real", account_id="123", site_id="45", client_id="file-client", client_secret=SECRET)
    path = cfg.remember()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text())["client_secret"] == SECRET
    back = Config.resolve()
    assert back.target == "real" and back.client_id == "file-client" and back.uses_oauth
    assert back.source == "credentials file"


def test_sandbox_config_derives_its_token_url(isolated_env: Path, clean_sandbox: Any) -> None:
    from bwhelpers.connection import live_config

    cfg = live_config(quiet=True, sandbox_url=clean_sandbox.url)
    assert cfg.uses_oauth and cfg.client_id == "sandbox-client-id"
    assert cfg.token_url == f"{clean_sandbox.url}/api/v1/oauth2/token"


# -- token handling --------------------------------------------------------------------------------

def test_tokens_are_fetched_lazily_once_and_sent_as_bearer(clean_sandbox: Any) -> None:
    credential(clean_sandbox, "lazy-client")
    cfg = oauth_config(clean_sandbox, client_id="lazy-client", client_secret=SECRET)
    sandbox_settings(clean_sandbox, legacy_basic_auth="decommissioned")
    d, m = DashboardClient(cfg), MessagingClient(cfg)
    assert isinstance(d.auth, BearerAuth) and d.auth.source is m.auth.source
    assert issued(clean_sandbox, "lazy-client") == 0, "no token before the first request"
    site = d.get_site()
    assert site.id == cfg.site_id
    listed = m.list_messages()
    assert issued(clean_sandbox, "lazy-client") == 1 and d.auth.source.fetches == 1
    # the display shows the scheme and hides the token
    for ex in (site.exchange, listed.exchange):
        assert ex.request_headers["Authorization"] == "Bearer ********"
        assert "Authorization: Bearer ********" in ex.as_http()
    token = d.auth.source.access_token()
    claims = token_claims(token)
    assert claims["roles"] == ["Messaging", "Numbers"] and claims["accounts"] == [cfg.account_id]
    for text in (repr(d), repr(m), repr(d.auth), repr(cfg), site.exchange.as_http(), listed.exchange.as_http()):
        assert token not in text and SECRET not in text


def test_a_run_longer_than_the_token_lifetime_keeps_working(clean_sandbox: Any, sandbox_clock: SandboxClock) -> None:
    credential(clean_sandbox, "short-ttl-client")
    sandbox_settings(clean_sandbox, token_ttl_seconds=2, legacy_basic_auth="decommissioned")
    cfg = oauth_config(clean_sandbox, client_id="short-ttl-client", client_secret=SECRET)
    d, m = DashboardClient(cfg), MessagingClient(cfg)
    source = d.auth.source
    assert m.auth.source is source  # one token source per credential in the process
    now = [sandbox_clock.now()]
    source.clock = lambda: now[0]  # the client's idea of "now" follows the sandbox's frozen clock
    calls = 0
    try:
        for _ in range(14):  # 7 s of the sandbox's time in half seconds: several 2 s lifetimes
            assert d.get_site().id == cfg.site_id
            m.list_messages()
            calls += 2
            now[0] = sandbox_clock.advance(0.5)
    finally:
        source.clock = time.time
    # several lifetimes passed: new tokens were fetched before expiry, never one per call
    assert 3 <= source.fetches < calls
    assert issued(clean_sandbox, "short-ttl-client") == source.fetches


def test_a_401_gets_one_new_token_and_one_retry(clean_sandbox: Any, sandbox_clock: SandboxClock) -> None:
    credential(clean_sandbox, "retry-client")
    cfg = oauth_config(clean_sandbox, client_id="retry-client", client_secret=SECRET)
    d = DashboardClient(cfg)
    d.get_site()
    assert d.auth.source.fetches == 1
    # the credential is replaced (same id and secret): the token held by the client is retired
    sandbox_clock.advance(1.1)  # token times are whole seconds
    credential(clean_sandbox, "retry-client")
    app = d.create_application("After rotation", "https://example.org/cb")  # a POST, sent again once
    assert app.id and d.auth.source.fetches == 2
    names = [a.get("AppName") for a in _apps(clean_sandbox)]
    assert names.count("After rotation") == 1, "the retried POST created exactly one application"
    # a 401 that persists is retried once only, then raised
    sandbox_settings(clean_sandbox, fail_next={"status": 401, "count": 2, "methods": ["GET"]})
    with pytest.raises(AuthError) as info:
        d.get_site()
    assert info.value.status == 401 and d.auth.source.fetches == 3
    assert control(clean_sandbox.url, "GET", "/_sandbox/settings", timeout=5).json()["fail_next"]["count"] == 0


def _apps(handle: Any) -> list[dict[str, Any]]:
    import xmltodict

    r = requests.get(f"{handle.url}/api/accounts/{handle.credentials['account_id']}/applications",
                     auth=(handle.credentials["username"], handle.credentials["password"]), timeout=5)
    apps = xmltodict.parse(r.content)["ApplicationProvisioningResponse"]["ApplicationList"]["Application"]
    return apps if isinstance(apps, list) else [apps]


def test_a_wrong_client_secret_is_a_clear_token_error(clean_sandbox: Any) -> None:
    cfg = oauth_config(clean_sandbox, client_id="sandbox-client-id", client_secret="Wrong-Secret-9d2c")
    with pytest.raises(TokenError) as info:
        DashboardClient(cfg).get_site()
    err = info.value
    assert isinstance(err, AuthError) and err.status == 401 and err.code == "invalid_client"
    assert "BW_CLIENT_SECRET" in str(err) and "API Credentials" in str(err) and "shown only once" in str(err)
    assert "Wrong-Secret-9d2c" not in str(err) + repr(err) + str(err.request) + str(err.response)


def test_an_unknown_client_id_is_a_clear_token_error(clean_sandbox: Any) -> None:
    cfg = oauth_config(clean_sandbox, client_id="nobody", client_secret=SECRET)
    with pytest.raises(TokenError) as info:
        MessagingClient(cfg).list_messages()
    assert info.value.code == "invalid_client" and "BW_CLIENT_ID" in str(info.value)


def test_an_unreachable_token_url_is_a_transport_error_naming_it(clean_sandbox: Any) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v1/oauth2/token"
    cfg = oauth_config(clean_sandbox, token_url=url)
    with pytest.raises(TransportError) as info:
        DashboardClient(cfg).get_site()
    assert url in str(info.value) and "BW_TOKEN_URL" in str(info.value)
    assert not isinstance(info.value, KeyError)


@pytest.mark.parametrize("path", ["/api/accounts", "/_sandbox/health", "/api/v1/oauth2/nope"])
def test_a_token_url_that_is_no_token_endpoint_is_a_clear_error(clean_sandbox: Any, path: str) -> None:
    cfg = oauth_config(clean_sandbox, token_url=f"{clean_sandbox.url}{path}")
    with pytest.raises(TokenError) as info:
        DashboardClient(cfg).get_site()
    assert "BW_TOKEN_URL" in str(info.value), str(info.value)
    assert SECRET not in str(info.value)


def test_token_source_reports_its_state_without_the_token(clean_sandbox: Any) -> None:
    source = TokenSource("sandbox-client-id", "sandbox-client-secret", f"{clean_sandbox.url}/api/v1/oauth2/token")
    assert "no token yet" in repr(source) and source.seconds_left() == 0
    token = source.access_token()
    assert token not in repr(source) and 3500 < source.seconds_left() <= 3600
    assert source.access_token() == token and source.fetches == 1


# -- the legacy Basic path -------------------------------------------------------------------------

def test_legacy_basic_is_selectable_and_warns(isolated_env: Path, clean_sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import bwhelpers

    setup = bwhelpers.connect(sandbox_url=clean_sandbox.url, auth="basic")
    assert setup.config.auth_method == "basic"
    assert "2026-12-02" in capsys.readouterr().err
    assert setup.dashboard.get_site().exchange.request_headers["Authorization"] == "Basic ********"
    sandbox_settings(clean_sandbox, legacy_basic_auth="decommissioned")
    with pytest.raises(AuthError) as info:
        setup.dashboard.get_site()
    assert info.value.status == 401 and "2026-12-02" in str(info.value)
    # the same account with its API credentials works
    assert bwhelpers.connect(sandbox_url=clean_sandbox.url, quiet=True).dashboard.get_site().id == setup.config.site_id


# -- diagnose --------------------------------------------------------------------------------------

def test_diagnose_checks_the_token_and_its_roles(clean_sandbox: Any, store: Any) -> None:
    from bwhelpers.setup import Setup

    rows = {r["check"]: r for r in Setup(oauth_config(clean_sandbox), store, progress=False).diagnose()}
    assert rows["API credentials"]["ok"] and "token from" in rows["API credentials"]["finding"]
    assert rows["credential roles"]["ok"] and "Messaging" in rows["credential roles"]["finding"]
    credential(clean_sandbox, "numbers-only", roles=["Numbers"])
    rows = {r["check"]: r for r in Setup(oauth_config(clean_sandbox, client_id="numbers-only", client_secret=SECRET),
                                         store, progress=False).diagnose()}
    assert not rows["credential roles"]["ok"] and "Messaging role" in rows["credential roles"]["fix"]
    bad = Setup(oauth_config(clean_sandbox, client_secret="Wrong-Secret-9d2c"), store, progress=False).diagnose()
    assert bad[0]["check"] == "API credentials" and not bad[0]["ok"] and "BW_CLIENT_SECRET" in bad[0]["fix"]
    assert len(bad) == 1 and "Wrong-Secret-9d2c" not in str(bad)
    # the finding says what happened, the fix says it once (not the finding repeating the fix)
    assert bad[0]["fix"] not in bad[0]["finding"] and "Fix:" not in bad[0]["finding"], bad[0]
    assert "HTTP 401" in bad[0]["finding"] or "401" in bad[0]["finding"], bad[0]


def test_threads_share_one_token_and_nothing_is_logged(clean_sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Eight threads start at once on a new credential: one token fetch; DEBUG logs hold no token or secret."""
    import logging
    from concurrent.futures import ThreadPoolExecutor

    credential(clean_sandbox, "threaded-client")
    cfg = oauth_config(clean_sandbox, client_id="threaded-client", client_secret=SECRET)
    d = DashboardClient(cfg)
    with caplog.at_level(logging.DEBUG):
        with ThreadPoolExecutor(8) as pool:
            sites = list(pool.map(lambda _: d.get_site().id, range(16)))
    assert sites == [cfg.site_id] * 16
    assert d.auth.source.fetches == 1 and issued(clean_sandbox, "threaded-client") == 1
    token = d.auth.source.access_token()
    assert caplog.records, "DEBUG logging was captured"
    assert token not in caplog.text and SECRET not in caplog.text
