"""The ipywidgets forms, exercised for real (no browser needed): validation in the widget, the
credentials form against a real sandbox over HTTP, and no secret left in widget state."""
from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets
import pytest

from bwhelpers import widgets
from conftest import control


def manager_state() -> str:
    return json.dumps(ipywidgets.Widget.get_manager_state(drop_defaults=False))


def test_message_form_validates_number_and_length() -> None:
    form = widgets.message_form()
    assert form.errors == {}
    form.fields["to"].value = "12345"
    assert "to" in form.errors and "E.164" in form.errors["to"]
    assert "⚠" in form.messages.value  # shown in the widget itself
    form.fields["to"].value = "919 555 0123"  # +1 optional for US numbers
    assert "to" not in form.errors
    form.fields["text"].value = "x" * 2049
    assert "2049" in form.errors["text"]
    form.fields["text"].value = "hello"
    assert form.errors == {} and form.messages.value == ""
    assert form.values == {"to": "919 555 0123", "text": "hello"}


def test_application_and_order_forms_have_working_defaults() -> None:
    app = widgets.application_form()
    assert app.errors == {} and app.values["name"] == "Demo Server"
    assert list(app.fields) == ["name", "inbound_callback_url", "outbound_callback_url", "callback_types"]
    assert app.values["callback_types"] == ("message-delivered", "message-failed")
    app.fields["inbound_callback_url"].value = "not a url"
    assert "inbound_callback_url" in app.errors
    app.fields["outbound_callback_url"].value = "ftp://x"
    assert "outbound_callback_url" in app.errors
    app.fields["callback_types"].value = ()
    assert "callback_types" in app.errors
    app.fields["name"].value = "  "
    assert "name" in app.errors
    order = widgets.order_form()
    assert order.values == {"criterion": "area_code", "value": "910", "quantity": 1}
    order.fields["criterion"].value = "zip"
    assert order.values["value"] == widgets.SEARCH_CRITERIA["zip"][1]


def test_progress_strip_reflects_saved_steps() -> None:
    class FakeSetup:
        def status(self) -> list[dict[str, Any]]:
            return [{"step": n, "done": n <= 2} for n in range(1, 10)]

    html = widgets.progress_html(widgets.done_steps(FakeSetup()), current=3)
    assert html.count("✓") == 2 and html.count("○") == 7
    assert "8. Register for A2P" in html


@pytest.fixture
def real_like_env(sandbox: Any, isolated_env: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A 'real account' whose URLs happen to be the sandbox: the form's real-account path, end to end."""
    monkeypatch.setenv("BW_DASHBOARD_URL", f"{sandbox.url}/api")
    monkeypatch.setenv("BW_MESSAGING_URL", f"{sandbox.url}/api/v2")
    return {"BW_ACCOUNT_ID": "9900000", "BW_SITE_ID": "9901", "BW_USERNAME": "sandbox-user"}


def test_credentials_form_reports_the_exact_error_and_clears_secrets(real_like_env: dict[str, str]) -> None:
    form = widgets.CredentialsForm(env=real_like_env)
    assert form.account_id.value == "9900000" and form.username.value == "sandbox-user"
    assert form.password.value == "" and form.password.placeholder == ""
    form.target.value = "real"
    form.password.value = "Wrong-Pa55-XYZ"
    assert form.connect() is None
    assert "AuthError" in form.status.value and "401" in form.status.value
    assert form.password.value == "", "secret fields are cleared after use"
    assert "Wrong-Pa55-XYZ" not in manager_state() and "Wrong-Pa55-XYZ" not in form.status.value

    form.password.value = "sandbox-password"
    config = form.connect()
    assert config is not None and config.target == "real" and config.account_id == "9900000"
    assert "bw-ok" in form.status.value and "OK" in form.status.value
    assert form.password.value == ""
    state = manager_state()
    assert "sandbox-password" not in state and "sandbox-password" not in repr(config)


def test_credentials_form_asks_for_api_credentials_and_connects_with_oauth(
        sandbox: Any, isolated_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The form's default real-account path: Client ID / Client Secret, a token from the (sandbox's) token URL."""
    monkeypatch.setenv("BW_DASHBOARD_URL", f"{sandbox.url}/api")
    monkeypatch.setenv("BW_MESSAGING_URL", f"{sandbox.url}/api/v2")
    monkeypatch.setenv("BW_TOKEN_URL", f"{sandbox.url}/api/v1/oauth2/token")
    control(sandbox.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "decommissioned"}, timeout=5)
    try:
        form = widgets.CredentialsForm(env={"BW_ACCOUNT_ID": "9900000", "BW_SITE_ID": "9901",
                                            "BW_CLIENT_ID": "sandbox-client-id"})
        assert form.client_id.value == "sandbox-client-id" and form.client_secret.value == ""
        assert form.legacy.value is False and form.legacy_box.layout.display == "none"
        assert "API Credentials" in form.real_box.children[2].value
        form.target.value = "real"
        form.client_secret.value = "Wrong-Client-Secret-42"
        assert form.connect() is None
        # the fix in the form's labels, not the environment's (review 24c, finding 6)
        assert "TokenError" in form.status.value and "check Client ID and Client Secret above" in form.status.value
        assert "BW_CLIENT_SECRET" not in form.status.value
        assert form.client_secret.value == "", "secret fields are cleared after use"
        assert "Wrong-Client-Secret-42" not in manager_state() + form.status.value

        form.client_secret.value = "sandbox-client-secret"
        config = form.connect()
        assert config is not None and config.target == "real" and config.uses_oauth
        assert "bw-ok" in form.status.value and "API credentials (OAuth 2.0)" in form.status.value
        assert form.client_secret.value == ""
        assert "sandbox-client-secret" not in manager_state() + repr(config) + form.status.value
        # the legacy toggle shows the API user fields; with it, Basic is used (and refused when decommissioned)
        form.legacy.value = True
        assert form.legacy_box.layout.display is None
        form.username.value, form.password.value = "sandbox-user", "sandbox-password"
        assert form.connect() is None and "2026-12-02" in form.status.value
        assert form.password.value == "" and "sandbox-password" not in manager_state()
    finally:
        control(sandbox.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "allowed"}, timeout=5)


def test_credentials_form_env_secrets_are_never_copied_into_widgets(sandbox: Any) -> None:
    env = {"BW_TARGET": "real", "BW_ACCOUNT_ID": "9900000", "BW_PASSWORD": "From-Env-Secret-77",
           "BW_API_TOKEN": "Env-Token-88", "BW_API_SECRET": "Env-Secret-99", "BW_CLIENT_SECRET": "Env-Client-Secret-66"}
    form = widgets.CredentialsForm(env=env)
    assert form.target.value == "real"
    assert form.password.value == "" and "BW_PASSWORD" in form.password.placeholder
    assert form.client_secret.value == "" and "BW_CLIENT_SECRET" in form.client_secret.placeholder
    state = manager_state()
    for secret in env.values():
        if "Secret" in secret or "Token" in secret:
            assert secret not in state


def test_credentials_form_sandbox_connects(sandbox: Any, isolated_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    seen = []
    form = widgets.CredentialsForm(env={}, on_connect=seen.append)
    assert form.target.value == "sandbox"
    form.button.click()
    assert "bw-ok" in form.status.value and "sandbox" in form.status.value
    assert seen and seen[0].is_sandbox and seen[0].dashboard_url == f"{sandbox.url}/api"


def test_colours_have_one_home_the_theme() -> None:
    """No colour literal in the client's presentation outside bwhelpers/theme.py: every view takes JupyterLab's
    --jp-* variables from the theme, so the dark theme cannot be forgotten in one place."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "bwhelpers"
    literal = re.compile(r"(?:color|background|border)[^;\"'\n]*(?:#[0-9a-fA-F]{3,8}\b|rgba?\()")
    offenders = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py") if "sandbox" not in p.parts
                 and p.name != "theme.py" for n, line in enumerate(p.read_text().splitlines(), 1)
                 if literal.search(line)]
    assert offenders == [], offenders
    from bwhelpers import theme, views

    assert "var(--jp-" in views.CSS and "var(--jp-" in theme.accent("error") and "var(--jp-" in theme.tint("ok")


def test_connect_shows_a_busy_state_clears_the_old_status_and_every_result_is_new(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While Connect runs the button is disabled and reads "Connecting…" and the previous status is already
    replaced; each result carries its attempt number, so an identical outcome still looks new; switching the target
    clears a status that was about the other one."""
    from bwhelpers import connection
    from bwhelpers.exceptions import TransportError

    form = widgets.CredentialsForm(env={})
    seen: list[tuple[bool, str, str]] = []

    def _slow_fail(*args: Any, **kwargs: Any) -> Any:
        seen.append((form.button.disabled, form.button.description, form.status.value))
        raise TransportError("token URL unreachable", fix="check BW_TOKEN_URL")

    monkeypatch.setattr(connection, "connect_form", _slow_fail)
    form.status.value = "<span>✓ OK — connected to the local sandbox</span>"
    assert form.connect() is None
    busy, label, status = seen[0]
    assert busy and label == "Connecting…" and "Connecting to" in status and "connected to the local" not in status
    assert not form.button.disabled and form.button.description == "Connect"
    first = form.status.value
    assert "TransportError" in first and "#1" in first
    form.connect()
    assert "#2" in form.status.value and form.status.value != first, "an identical result is visibly new"
    form.target.value = "real"
    assert "Target changed" in form.status.value


def _marked(form: Any) -> set[str]:
    from bwhelpers.ui.credentials import LABELS

    return {name for name in LABELS if "bw-invalid" in getattr(form, name)._dom_classes}


def test_credentials_form_errors_speak_the_forms_labels_and_mark_the_fields(
        isolated_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real account with empty fields: the error names the form's labels and says what to do in the form (not
    env variables or Config.resolve), marks exactly the empty fields, and comes before any request (the URLs
    point at a closed port, so a request would be a TransportError). A bad id names its label, the problem
    and the fix; a typed secret that was cleared is asked for again; no secret reaches the status or the widgets."""
    monkeypatch.setenv("BW_DASHBOARD_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("BW_TOKEN_URL", "http://127.0.0.1:9/api/v1/oauth2/token")
    form = widgets.CredentialsForm(env={})
    form.target.value = "real"
    assert form.connect(clicked=True) is None
    status = html.unescape(form.status.value)
    for label in ("Account id", "Subaccount (site) id", "Client ID", "Client Secret", "choose Sandbox",
                  "API Credentials"):
        assert label in status, (label, status)
    for internal in ("account_id", "site_id", "client_id", "client_secret", "BW_", "Config.resolve", "Transport"):
        assert internal not in status, (internal, status)
    assert _marked(form) == {"account_id", "site_id", "client_id", "client_secret"}
    assert ".bw-invalid input" in form.widget.children[0].value

    form.account_id.value, form.site_id.value, form.client_id.value = "9900000", "99/01", "my-client"
    form.client_secret.value = "Typed-Secret-55"
    assert form.connect(clicked=True) is None
    status = html.unescape(form.status.value)
    assert "Subaccount (site) id: '99/01' is not an id" in status and "correct Subaccount (site) id above" in status
    assert "site_id" not in status and _marked(form) == {"site_id"}
    assert "paste it again" in status and form.client_secret.value == ""
    assert "Typed-Secret-55" not in status + manager_state()

    form.site_id.value = "9901"
    form.client_secret.value = "Typed-Secret-55"
    assert form.connect(clicked=True) is None
    status = html.unescape(form.status.value)
    assert "TransportError" in status and _marked(form) == set(), status
    assert status.index("reach 127.0.0.1") < status.index("check the token URL"), "the likely cause comes first"
    assert "paste it again" in status and "Typed-Secret-55" not in status + manager_state()


def test_credentials_form_keeps_the_choice_and_non_secret_fields_over_a_rerun(isolated_env: Any) -> None:
    """Run All builds the form again: the target and the typed ids come back from what was kept, the secret
    never is (not kept, not in widget state), and Connect then asks for the secret instead of silently
    connecting to the sandbox."""
    kept: dict[str, Any] = {}
    first = widgets.CredentialsForm(env={}).bind(None, kept.update)
    first.target.value = "real"
    first.account_id.value, first.client_id.value = "9900000", "my-client-id"
    first.client_secret.value = "Never-Kept-77"
    assert kept["target"] == "real" and kept["account_id"] == "9900000" and kept["client_id"] == "my-client-id"
    assert "Never-Kept-77" not in json.dumps(kept) and "client_secret" not in kept
    assert first.connect(clicked=True) is None and first.client_secret.value == ""  # used once, then cleared

    seen: list[Any] = []
    again = widgets.CredentialsForm(env={}, on_connect=seen.append).bind(dict(kept), kept.update)
    assert again.target.value == "real" and again.real_box.layout.display is None
    assert again.account_id.value == "9900000" and again.client_id.value == "my-client-id"
    assert again.client_secret.value == "" and "Never-Kept-77" not in manager_state()
    assert again.connect(clicked=True) is None and not seen, "never a silent switch to the sandbox"
    assert "Missing Subaccount (site) id and Client Secret" in again.status.value
    # a BW_* variable set in the environment wins over what was kept
    env_wins = widgets.CredentialsForm(env={"BW_ACCOUNT_ID": "9911111"}).bind(dict(kept), kept.update)
    assert env_wins.account_id.value == "9911111" and env_wins.target.value == "real"


def test_token_url_unreachable_fix_leads_with_the_network() -> None:
    """An unreachable token URL: the fix starts with the network/proxy (or the sandbox); the URL is questioned
    only when it is not Bandwidth's own."""
    from bwhelpers.oauth import TOKEN_URL, _reach_fix

    default = _reach_fix(TOKEN_URL)
    assert default.startswith("check that this machine can reach api.bandwidth.com") and "HTTPS_PROXY" in default
    assert "sandbox" in default and "check the token URL" not in default
    other = _reach_fix("https://tokens.example.test/oauth2/token")
    assert other.startswith("check that this machine can reach tokens.example.test")
    assert "check the token URL https://tokens.example.test/oauth2/token" in other


def test_postman_preview_shows_set_secrets_as_hidden_never_blank(sandbox: Any, isolated_env: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """12's preview: a secret that is set is never a blank cell next to ``set: True`` (which reads as "the
    secret is empty"); it says it is hidden, and whether the file carries it. No secret value is shown."""
    from bwhelpers.connection import live_config
    from bwhelpers.setup import Setup
    from bwhelpers.ui.export import SECRET_NOT_IN_FILE, export_form

    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    form = export_form(Setup(live_config(quiet=True), progress=False))
    df = getattr(form.preview(), "frame", None)
    secrets = df[(df["type"] == "secret") & df["set"].astype(bool)]
    assert len(secrets) >= 2 and set(secrets["value"]) == {SECRET_NOT_IN_FILE}, secrets
    assert "sandbox-client-secret" not in df.to_string()
    form.include_secrets.value = True
    shown = getattr(form.preview(), "frame", None)
    values = set(shown[(shown["type"] == "secret") & shown["set"].astype(bool)]["value"])
    assert SECRET_NOT_IN_FILE not in values and "" not in values and "sandbox-client-secret" not in values


def test_start_page_keeps_the_target_choice_in_the_state_file(sandbox: Any, isolated_env: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the page as 00 uses it: the choice and ids land in the saved state (never the secret) and a new
    page (Run All, a restarted kernel) starts from them."""
    import os
    from pathlib import Path

    from bwhelpers.walkthrough import Page

    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    form = Page("start").credentials_form()
    form.target.value = "real"
    form.account_id.value = "9900000"
    form.client_secret.value = "Not-In-State-31"
    text = Path(os.environ["BW_STATE_FILE"]).read_text()
    assert '"target": "real"' in text and "9900000" in text and "Not-In-State-31" not in text
    again = Page("start").credentials_form()
    assert again.target.value == "real" and again.account_id.value == "9900000" and again.client_secret.value == ""


def test_12s_export_offers_the_picture_and_says_a_changed_box_needs_a_rerun(sandbox: Any, isolated_env: Any,
                                                                            tmp_path: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 24c: the collection's picture folder uploads ``smile.png`` (written beside it), but 12 offered only
    two downloads; and ticking "Include secrets" after the preview left it and the links stale without a word."""
    from bwhelpers.connection import live_config
    from bwhelpers.setup import Setup
    from bwhelpers.ui.export import export_form
    from bwhelpers.ui.output import capture

    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    form = export_form(Setup(live_config(quiet=True), progress=False), out_dir=str(tmp_path))
    with capture() as seen:
        files = form.export()
    assert set(files) == {"environment", "collection", "picture"} and files["picture"].endswith("smile.png")
    shown = "".join(str(getattr(o, "data", "")) for o in seen)
    assert 'download="smile.png"' in shown and 'href="data:image/png;base64,' in shown, shown[:2000]
    form.include_secrets.value = True
    assert "Run the cells below again" in form.warning.value
    form.include_secrets.value = False
    assert "Run the cells below again" in form.warning.value and "no secret" in form.warning.value


def test_exporting_a_real_account_never_replaces_the_sandboxs_environment(sandbox: Any, isolated_env: Any,
                                                                          tmp_path: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 24c (finding 4's tail): both targets wrote 'Bandwidth API Keys.postman_environment.json', so exporting
    one silently replaced the other's. The sandbox keeps the guide's name (the README's newman line reads it); a real
    account's environment is named with its account, in the file and in Postman."""
    import json

    from bwhelpers.config import Config
    from bwhelpers.connection import live_config
    from bwhelpers.setup import Setup
    from bwhelpers.ui.export import export_form
    from bwhelpers.ui.output import capture

    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    c = sandbox.credentials
    real = Config(target="real", dashboard_url=f"{sandbox.url}/api", messaging_url=f"{sandbox.url}/api/v2",
                  token_url=f"{sandbox.url}/api/v1/oauth2/token", account_id="5551234", site_id=c["site_id"],
                  client_id=c["client_id"], client_secret=c["client_secret"])
    with capture():
        local = export_form(Setup(live_config(quiet=True), progress=False), out_dir=str(tmp_path)).export()
        theirs = export_form(Setup(real, progress=False), out_dir=str(tmp_path)).export()
    assert local["environment"].endswith("/Bandwidth API Keys.postman_environment.json")
    assert theirs["environment"].endswith("/Bandwidth API Keys (account 5551234).postman_environment.json")
    assert json.loads(open(local["environment"]).read())["name"] == "Bandwidth API Keys"
    assert json.loads(open(theirs["environment"]).read())["name"] == "Bandwidth API Keys (account 5551234)"
