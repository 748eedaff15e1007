"""The real-account path in a real JupyterLab, in Chromium: notebooks 01, 09 and 11 with ``BW_TARGET=real`` against
a sandbox standing in for Bandwidth (no /_sandbox from the client), once with the callback receiver and once with
a callback URL nobody answers (status by polling only). Each is shown in the light and the dark theme at 1024 px;
screenshots go to artifacts/screenshots/real-{receiver,polling}-{light,dark}-NN.png.

The earlier steps (01-08) are done first by the client over HTTP, on the real path (as tests/test_browser.py's
``prepared``): their notebooks' headless run on this path, with and without the receiver, is
tests/test_real_account.py's.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from _chromium import CHROMIUM, launch_env, require
import requests
from conftest import control

from bwhelpers import steps

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]

require()

from playwright import sync_api  # noqa: E402
from test_browser import (POLL_MS, _free_port, assert_fits, dismiss_dialogs, open_and_run_all,  # noqa: E402
                          running_lab, wait_idle)


def _env(sb: Any, tmp: Path, mode: str) -> dict[str, str]:
    c = sb.credentials
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    port = _free_port()
    env.update({
        "BW_TARGET": "real", "BW_DASHBOARD_URL": f"{sb.url}/api", "BW_MESSAGING_URL": f"{sb.url}/api/v2",
        "BW_TOKEN_URL": f"{sb.url}/api/v1/oauth2/token", "BW_PLATFORM_URL": f"{sb.url}/api/v2",
        "BW_ACCOUNT_ID": c["account_id"], "BW_SITE_ID": c["site_id"], "BW_CLIENT_ID": c["client_id"],
        "BW_CLIENT_SECRET": c["client_secret"], "BW_STATE_FILE": str(tmp / "state.json"),
        "BW_CONFIG_DIR": str(tmp / "cfg"), "BW_EXPORT_DIR": str(tmp / "exports"), "BW_RECEIVER_PORT": str(port),
        "BW_TO_NUMBER": "+19192381234",  # your own phone: a real account refuses the fictional 555-01xx default
        "BW_CALLBACK_BASE_URL": f"http://127.0.0.1:{port if mode == 'receiver' else _free_port()}",
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
    })
    # every cell rendered (no windowing), so each output can be scrolled to and read
    tracker = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    return env


def _steps_done_by_the_client(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps 01-08 (application to 10DLC) done by the client with ``env``'s BW_* settings, as the notebooks would:
    the application gets the receiver's URLs and credentials when BW_CALLBACK_BASE_URL points at it."""
    from bwhelpers.connection import connect

    for name in [k for k in os.environ if k.startswith("BW_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("BW_"):
            monkeypatch.setenv(name, value)
    setup = connect(quiet=True)
    setup.progress = False
    done = []
    for result in setup.run_all(to=env["BW_TO_NUMBER"]):
        done.append(result.step)  # a step that fails raises, naming it
        if result.step == "a2p":
            break  # the send is 09's, in the browser
    assert done == [p.key for p in steps.STEPS[:steps.step("a2p").number]], done


@pytest.fixture(params=["receiver", "polling"])
def real_lab(request: Any, tmp_path: Path, fresh_sandbox: Any,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    mode = request.param
    project = tmp_path / "project"
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    sb = fresh_sandbox(reset=True, settings={})  # today's default rules, then the stand-in's below
    control(sb.url, "PUT", "/_sandbox/settings", json={
        "order_transition": {"mode": "immediate"}, "legacy_basic_auth": "decommissioned", "a2p_enforcement": True,
        "delivery_delay": 0.3, "callback_retry": {"max_attempts": 2, "backoff": [0.5], "timeout": 2}},
        timeout=10).raise_for_status()
    env = _env(sb, tmp_path, mode)
    _steps_done_by_the_client(env, monkeypatch)  # with the receiver's URL when there is one
    with running_lab(env, project, tmp_path) as base:
        try:
            yield {"base": base, "mode": mode, "sandbox": sb, "state": tmp_path / "state.json",
                   "profile": f"real-{sb.credentials['account_id']}", "cfg": tmp_path / "cfg",
                   "receiver_port": env["BW_RECEIVER_PORT"]}
        finally:
            sb.stop()


def set_theme(page: Any, theme: str) -> None:
    """Switch JupyterLab to ``theme`` and let the page settle (nothing to do when it shows that theme already)."""
    if page.evaluate("() => document.body.dataset.jpThemeName") == theme:
        return
    page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000)
    page.wait_for_timeout(800)


def both_themes(page: Any) -> list[str]:
    """The dark and the light theme, the one the page shows first: one switch (a restyle of the whole page, then
    800 ms to settle) for both, not two."""
    shown = page.evaluate("() => document.body.dataset.jpThemeName")
    return sorted(("JupyterLab Dark", "JupyterLab Light"), key=lambda t: t != shown)


def test_real_path_notebooks_in_light_and_dark(real_lab: dict[str, Any]) -> None:
    mode = real_lab["mode"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, env=launch_env(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--no-first-run", "--disable-quic"])
        context = browser.new_context(viewport={"width": 1024, "height": 900})
        page = context.new_page()
        seen: dict[str, str] = {}
        tooltips: dict[str, list[str]] = {}  # a shortened value's whole text (title), as a person hovering reads it
        try:
            focus_events = "Received 1 incoming message" if mode == "receiver" else "Text your number"
            for key, focus in (("application", "Bandwidth cannot reach these callback URLs"),
                               ("fictional", "fictional number"),
                               ("messages", "From GET /users/"), ("events", focus_events),
                               ("teardown", "✗ failing")):
                info = steps.page("messages" if key == "fictional" else key)
                # the form's fictional default, as a user who did not type their number would send it
                _form_to(real_lab, "+19195550123" if key == "fictional" else "+19192381234")
                if key == "events" and mode == "receiver":
                    _someone_texts(real_lab)
                open_and_run_all(page, real_lab["base"], info.filename)
                wait_idle(page, timeout=180_000)
                seen[key] = page.locator("#main").inner_text()
                tooltips[key] = page.eval_on_selector_all("#main .bw-short[title]", "els => els.map(e => e.title)")
                assert "Traceback" not in seen[key], (key, seen[key][-1500:])
                target = page.locator(".jp-OutputArea-output", has_text=focus).first
                target.wait_for(timeout=30_000)
                if key != "application":  # the outcome's and the receiver's tables (01's are the guide step's)
                    assert_fits(page)
                dismiss_dialogs(page)  # a JupyterLab dialog must not take a later click
                no = page.get_by_role("button", name="No", exact=True)  # JupyterLab's news pop-up
                if no.count():
                    no.first.click(force=True)
                for theme in both_themes(page):
                    set_theme(page, theme)
                    tag = "dark" if "Dark" in theme else "light"
                    target.scroll_into_view_if_needed()
                    name = "09_fictional_to" if key == "fictional" else info.notebook
                    page.screenshot(path=str(ARTIFACTS / f"real-{mode}-{tag}-{name}.png"))
                if key == "teardown":  # the summary below the preflight: partial, never a green Done
                    summary = page.locator(".bw-summary").first
                    seen["teardown-summary"] = summary.inner_text()
                    for theme in both_themes(page):
                        set_theme(page, theme)
                        summary.scroll_into_view_if_needed()
                        tag = "dark" if "Dark" in theme else "light"
                        page.screenshot(path=str(ARTIFACTS / f"real-{mode}-{tag}-13_summary.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"failure-real-{mode}.png"))
            raise
        finally:
            context.close()
            browser.close()
    assert "Callback URLs from BW_CALLBACK_BASE_URL" in seen["application"]
    # a loopback callback URL on a real account: step 1 warns, the preflight marks the check ✗ and the summary says
    # partial with the fix (review 24b, finding 1)
    assert "Bandwidth cannot reach these callback URLs" in seen["application"]
    assert "✗ failing" in seen["teardown"] and "✓ ok" in seen["teardown"]
    assert "Partial" in seen["teardown-summary"] and "callback URL" in seen["teardown-summary"], seen["teardown-summary"]
    assert "Done" not in seen["teardown-summary"]
    # the fictional default is refused before any request, naming the field and the fix (finding 3)
    assert "fictional number" in seen["fictional"] and "your own mobile number" in seen["fictional"]
    assert "Not waiting" in seen["fictional"] or "nothing was sent" in seen["fictional"]
    assert "DELIVERED" in seen["messages"]
    if mode == "receiver":
        assert "the receiver stored message-delivered" in seen["messages"]
        assert "message-delivered" in seen["events"].replace("-\n", "-")  # a type may break after its hyphen
        # the text column shows the start of the message; its whole text is the cell's tooltip
        # a short text whole (review 24e: "Thanks, got…"); a longer one would be shortened, whole in its tooltip
        assert "Got it, thanks!" in " ".join(seen["events"].split()), seen["events"][-2000:]
        assert "+19195550142" in seen["events"]
    else:
        assert "the receiver has stored none for this message yet" in seen["messages"]
        assert "Text your number to see a message-received" in seen["events"]


def _form_to(real_lab: dict[str, Any], to: str) -> None:
    """The send form's ``to`` as the user left it (kept in the saved state, as the form keeps what was typed)."""
    from bwhelpers.state import StateStore

    with StateStore(real_lab["state"]).transaction(real_lab["profile"]) as st:
        st.setdefault("forms", {})["messages"] = {"to": to, "text": "Good morning, this is a test message"}


def _someone_texts(real_lab: dict[str, Any]) -> None:
    """A person texts the account's number (the stand-in's inbound; the client never calls /_sandbox)."""
    import json

    number = json.loads(Path(real_lab["state"]).read_text())["profiles"][real_lab["profile"]]["numbers"][0]
    r = control(real_lab["sandbox"].url, "POST", "/_sandbox/inbound",
                json={"to": number, "from": "+19195550142", "text": "Got it, thanks!"}, timeout=10)
    assert r.status_code == 202, r.text
    from bwhelpers.receiver.credentials import load
    from bwhelpers.receiver_client import ReceiverClient

    creds = load(real_lab["cfg"] / "receiver.json")
    assert creds is not None
    client = ReceiverClient(f"http://127.0.0.1:{real_lab['receiver_port']}", creds)
    deadline = time.monotonic() + 30  # the stand-in delivers the callback after its delivery delay
    while not any(e.get("type") == "message-received" for e in client.events()):
        assert time.monotonic() < deadline, "the text never reached the receiver"
        time.sleep(0.2)


@pytest.fixture
def bare_real_lab(tmp_path: Path, fresh_sandbox: Any) -> Iterator[dict[str, Any]]:
    """A lab with BW_TARGET=real and the stand-in's URLs but no credentials at all (README: "give the credentials
    in the form of 00")."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    sb = fresh_sandbox(reset=True, settings={})
    control(sb.url, "PUT", "/_sandbox/settings", json={"legacy_basic_auth": "decommissioned"},
            timeout=10).raise_for_status()
    env = _env(sb, tmp_path, "polling")
    for name in ("BW_ACCOUNT_ID", "BW_SITE_ID", "BW_CLIENT_ID", "BW_CLIENT_SECRET", "BW_RECEIVER_PORT",
                 "BW_CALLBACK_BASE_URL"):
        env.pop(name)
    with running_lab(env, project, tmp_path) as base:
        try:
            yield {"base": base, "sandbox": sb, "cfg": tmp_path / "cfg", "state": tmp_path / "state.json"}
        finally:
            sb.stop()


def _themed(page: Any, name: str, at: Any) -> None:
    dismiss_dialogs(page)
    no = page.get_by_role("button", name="No", exact=True)  # JupyterLab's news pop-up
    if no.count():
        no.first.click(force=True)
    for theme in both_themes(page):
        set_theme(page, theme)
        at.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{'dark' if 'Dark' in theme else 'light'}.png"))


def test_start_here_on_a_real_account_from_nothing_to_remembered(bare_real_lab: dict[str, Any]) -> None:
    """00 with BW_TARGET=real and no credentials (review 24c, findings 1 and 2): the page speaks the form's labels
    (no Config.resolve, no "open 00_start_here" on 00, no bare "(empty body)"); after the form connects with
    Remember, the Connect cell's red box is gone and the summary is Done; with the kernel shut down and 00 run
    again, the form is filled from the remembered file (the secret as "(saved)", never its value) and says it uses
    it. Light and dark at 1024 px: real-00-{empty,connected,remembered}-{light,dark}.png."""
    lab, c = bare_real_lab, bare_real_lab["sandbox"].credentials
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, env=launch_env(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--no-first-run", "--disable-quic"])
        context = browser.new_context(viewport={"width": 1024, "height": 900})
        page = context.new_page()
        try:
            open_and_run_all(page, lab["base"], "00_start_here.ipynb")
            summary = page.locator(".bw-summary").first
            summary.wait_for(timeout=90_000)
            text = page.locator("#main").inner_text()
            for wrong in ("Config.resolve", "account_id", "client_secret", "open 00_start_here", "(empty body)",
                          "Traceback"):
                assert wrong not in text, (wrong, text[-3000:])
            assert "Not connected yet" in text and "No target yet" in text
            said = " ".join(summary.inner_text().split())
            assert "Failed" in said and "form above" in said, said
            form = page.locator(".bw-credentials").first
            _themed(page, "real-00-empty", page.locator(".bw-note", has_text="Not connected yet").first)
            _themed(page, "real-00-empty-below", summary)

            form.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            for label, value in (("Account id", c["account_id"]), ("Subaccount (site) id", c["site_id"]),
                                 ("Client ID", c["client_id"])):
                field = form.locator(".widget-text", has_text=label).first.locator("input")
                field.fill(value)
                field.press("Tab")
            form.locator(".widget-text", has_text="Client Secret").first.locator("input").fill(c["client_secret"])
            form.locator(".widget-checkbox", has_text="Remember").locator("input[type=checkbox]").check()
            form.locator("button.bw-connect").click()
            form.locator(".bw-status .bw-ok").wait_for(timeout=60_000)
            assert (lab["cfg"] / "credentials.json").exists()
            page.wait_for_function("() => !document.querySelector('.bw-error')", timeout=30_000,
                                   polling=POLL_MS)
            page.wait_for_function("() => document.querySelector('.bw-summary').innerText.includes('Done')",
                                   timeout=30_000, polling=POLL_MS)
            text = " ".join(page.locator(".jp-OutputArea").all_inner_texts())  # (the demo secret is in 00's prose)
            assert "the problem shown here before is solved" in text, text
            assert c["client_secret"] not in text
            _themed(page, "real-00-connected", page.locator(".bw-note", has_text="problem shown here before").first)

            # a later sitting: 00's kernel shut down, JupyterLab loaded again, 00 opened and run again
            for session in requests.get(f"{lab['base']}/api/sessions", timeout=10).json():
                requests.delete(f"{lab['base']}/api/sessions/{session['id']}", timeout=30)
            open_and_run_all(page, lab["base"], "00_start_here.ipynb", reload=True)
            form = page.locator(".bw-credentials").first
            form.locator(".bw-status .bw-ok").wait_for(timeout=90_000)
            value = {label: form.locator(".widget-text", has_text=label).first.locator("input").input_value()
                     for label in ("Account id", "Subaccount (site) id", "Client ID")}
            assert value == {"Account id": c["account_id"], "Subaccount (site) id": c["site_id"],
                             "Client ID": c["client_id"]}, value
            secret = form.locator(".widget-text", has_text="Client Secret").first.locator("input")
            assert secret.input_value() == "" and secret.get_attribute("placeholder") == "(saved)"
            status = " ".join(form.locator(".bw-status").inner_text().split())
            assert "Using the credentials remembered in" in status and "only this notebook" not in status, status
            assert form.locator("button.bw-forget").is_visible()
            assert c["client_secret"] not in " ".join(page.locator(".jp-OutputArea").all_inner_texts())
            assert c["client_secret"] not in page.evaluate(
                "() => [...document.querySelectorAll('.jp-OutputArea input')].map(i => i.value).join(' ')")
            _themed(page, "real-00-remembered", form)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure-real-00.png"))
            raise
        finally:
            context.close()
            browser.close()
