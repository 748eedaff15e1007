"""Config: resolution order, credentials file, masking, derived URLs (no sandbox needed)."""
from __future__ import annotations

import json
import stat

import pytest

from _client_helpers import assert_no_secrets
from bwhelpers.config import LEGACY_MESSAGING_URL, MESSAGING_URL, Config, credentials_path
from bwhelpers.errors import ValidationError, mask

REAL = dict(account_id="5551234", site_id="42", username="api-user", password="sandbox-password",
            user_id="u-123", api_token="t-sandbox", api_secret="s-sandbox")


def test_mask_style():
    """A secret is shown fully masked: not even its last characters (00's target table showed ``********et``)."""
    assert mask("sandbox-password") == "********" and mask("sandbox-client-secret") == "********"
    assert mask("short") == "********"
    assert mask(None) == "" and mask("") == ""


def test_repr_str_masked_and_masked_dict():
    c = Config(target="real", **REAL)
    for text in (repr(c), str(c), f"{c}", json.dumps(c.masked())):
        assert_no_secrets(text)
    m = c.masked()
    assert m["password"] == "********" and m["api_token"] == "********" and m["username"] == "api-user"
    assert m["profile"] == "real-5551234"


def test_bad_target_rejected():
    with pytest.raises(ValidationError, match="target"):
        Config(target="prod")


def test_legacy_vs_current_messaging():
    cur = Config(target="real", **REAL)
    assert not cur.legacy_messaging
    assert cur.messages_url == f"{MESSAGING_URL}/users/5551234/messages"
    assert cur.messaging_auth == ("api-user", "sandbox-password")
    old = Config(target="real", messaging_url=LEGACY_MESSAGING_URL, **REAL)
    assert old.legacy_messaging
    assert old.messages_url == f"{LEGACY_MESSAGING_URL}/users/u-123/messages"
    assert old.messaging_auth == ("t-sandbox", "s-sandbox")
    sb = Config(target="sandbox", dashboard_url="http://127.0.0.1:1/api", messaging_url="http://127.0.0.1:1/v2")
    assert sb.legacy_messaging and sb.sandbox_base == "http://127.0.0.1:1"


def test_profiles():
    assert Config(target="sandbox", account_id="9900000").profile == "sandbox"
    assert Config(target="sandbox", account_id="9900001").profile == "sandbox-9900001"
    assert Config(target="real", account_id="77").profile == "real-77"
    assert Config(target="real", account_id="77", profile_name="mine").profile == "mine"


def test_env_resolution_real(isolated_env, monkeypatch):
    monkeypatch.setenv("BW_ACCOUNT_ID", "111")
    monkeypatch.setenv("BW_SITE_ID", "22")
    monkeypatch.setenv("BW_USERNAME", "env-user")
    monkeypatch.setenv("BW_PASSWORD", "sandbox-password")
    monkeypatch.setenv("BW_MESSAGING_URL", LEGACY_MESSAGING_URL)
    c = Config.resolve()
    assert c.target == "real" and c.account_id == "111" and c.username == "env-user"
    assert c.dashboard_url == "https://dashboard.bandwidth.com/api" and c.legacy_messaging
    assert c.source == "environment"
    # explicit arguments win over the environment
    c2 = Config.resolve(username="arg-user", account_id=333)
    assert c2.username == "arg-user" and c2.account_id == "333" and c2.site_id == "22"


def test_real_target_missing_fields_named(isolated_env, monkeypatch):
    monkeypatch.setenv("BW_TARGET", "real")
    monkeypatch.setenv("BW_USERNAME", "u")
    with pytest.raises(ValidationError) as ei:
        Config.resolve()
    msg = str(ei.value)
    assert "account_id" in msg and "BW_ACCOUNT_ID" in msg and "BW_PASSWORD" in msg
    assert isinstance(ei.value, ValueError)


def test_unknown_argument(isolated_env):
    with pytest.raises(ValidationError, match="pasword"):
        Config.resolve(pasword="x")


def test_credentials_file_remember_and_read(isolated_env, monkeypatch):
    c = Config(target="real", **REAL)
    path = c.remember()
    assert path == credentials_path() and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the file is below BW_CONFIG_DIR, not in the project folder
    assert str(path).startswith(str(isolated_env / "userconfig"))
    r = Config.resolve()
    assert r.target == "real" and r.password == "sandbox-password" and r.source == "credentials file"
    # env beats the file
    monkeypatch.setenv("BW_USERNAME", "from-env")
    assert Config.resolve().username == "from-env"
    assert Config.forget() and not path.exists()


def test_remember_refuses_project_folder(isolated_env, monkeypatch, tmp_path):
    proj = tmp_path / "proj2"
    (proj / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(proj)
    monkeypatch.setenv("BW_CONFIG_DIR", str(proj / "conf"))
    with pytest.raises(ValidationError, match="project folder"):
        Config(target="real", **REAL).remember()
    assert not (proj / "conf" / "credentials.json").exists()


def test_sandbox_file_creds_not_used_when_target_forced_sandbox(isolated_env, monkeypatch):
    Config(target="real", **REAL).remember()
    values = {}

    class Handle:
        url = "http://127.0.0.1:9"
        credentials = {"account_id": "9900000", "site_id": "9901", "username": "sandbox-user",
                       "password": "pw-sandbox", "user_id": "u", "api_token": "t", "api_secret": "s"}

    import bwhelpers.sandbox as sb
    monkeypatch.setattr(sb, "ensure_running", lambda url=None: values.setdefault("h", Handle()))
    monkeypatch.setenv("BW_TARGET", "sandbox")
    from bwhelpers.connection import live_config
    c = live_config(quiet=True)
    assert c.target == "sandbox" and c.account_id == "9900000" and c.username == "sandbox-user"
    assert c.dashboard_url == "http://127.0.0.1:9/api" and c.messaging_url == "http://127.0.0.1:9/api/v2"
