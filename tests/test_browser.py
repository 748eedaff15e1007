"""A real JupyterLab (started by ``python -m bwhelpers lab``), driven in Debian's Chromium with Playwright.

* 00 → 01: the credentials form renders (no "Loading widget…" or "Error displaying widget"), Connect says OK,
  and 01 shows the ApplicationId in its response;
* the failure paths: a 907 order shows a red bar and a failure callout in 07 and saves no number; the wait after
  a refused send (to="12345") returns at once saying nothing was sent;
* 03's response fits the notebook's width (element widths measured against the cell's);
* a form keeps the user's value across Run All, asks before a second application, and a saved and reopened
  notebook shows no stale widget.

The notebooks are copies in a temporary folder (JupyterLab saves what it opens; tracked files stay untouched).
Screenshots go to artifacts/screenshots/.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from _chromium import CHROMIUM, launch_env, require
import requests
from conftest import control, stop_process_group
from guide import GUIDE_2018  # the guide's steps as in 2018 (no A2P step): a2p_enforcement off

from bwhelpers import steps

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require()

from playwright import sync_api  # noqa: E402  (a test dependency: missing fails loudly)


#: how often a long wait (a notebook's run, a kernel's restart) checks the page, in ms: Playwright's default checks
#: every animation frame, which costs Chromium about 0.1 s of CPU a second of waiting, four times this
POLL_MS = 250


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_lab(env: dict[str, str], project: Path, tmp: Path) -> Iterator[str]:
    """``python -m bwhelpers lab`` on a free port with ``env``, serving ``project``, without a token (loopback only);
    yields its base URL once /api/status answers, and stops its process group after."""
    port = _free_port()
    cmd = [sys.executable, "-m", "bwhelpers", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={project}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--LabApp.expose_app_in_browser=True"]
    log = open(tmp / "lab.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=project)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/status", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(tmp / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError("jupyter lab did not answer within 90 s")
        yield base
    finally:
        stop_process_group(proc)
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, sandbox_factory: Any) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("lab")
    project = tmp / "project"
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    sandbox = sandbox_factory(order_delay=0, reset=True)  # the 2018 guide's rules
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update({
        "BW_SANDBOX_URL": sandbox.url, "BW_STATE_FILE": str(tmp / "state.json"), "BW_CONFIG_DIR": str(tmp / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
    })
    with running_lab(env, project, tmp) as base:
        try:
            yield {"base": base, "sandbox": sandbox, "tmp": tmp, "project": project, "state": tmp / "state.json"}
        finally:
            sandbox.stop()


class LabTab:
    """The one JupyterLab page a module's tests share (one Chromium, one context): JupyterLab loads once and each
    test resizes the page and opens its notebooks inside it (``open_notebook``). Loading JupyterLab costs Chromium
    and the server 7-16 s of CPU (a new context: 16), opening a notebook inside it about 1 s. A test that failed
    leaves the page behind: the next test gets a new context, so one failure cannot spill into the next test."""

    def __init__(self, chromium: Any) -> None:
        self.chromium = chromium
        self.context: Any = None
        self.failures = 0

    def page(self, width: int, height: int, failures: int = 0) -> Any:
        """The shared page at ``width`` x ``height`` (a new context after ``failures`` grew: a test failed)."""
        if self.context is not None and (failures != self.failures or not self.context.pages):
            self.context.close()
            self.context = None
        self.failures = failures
        if self.context is None:
            self.context = self.chromium.new_context(viewport={"width": width, "height": height})
            self.context.new_page()
        page = self.context.pages[0]
        page.set_viewport_size({"width": width, "height": height})
        dismiss_dialogs(page)  # none should be open; a test's last step must not take the next test's first click
        return page


@pytest.fixture(scope="module")
def browser() -> Iterator[LabTab]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, env=launch_env(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield LabTab(b)
        b.close()


@pytest.fixture
def tab(browser: LabTab, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``tab(width, height)``: the module's shared JupyterLab page at that size (see :class:`LabTab`)."""
    return lambda width, height: browser.page(width, height, request.session.testsfailed)


#: close every tab of the running JupyterLab without saving (a fresh workspace holds only the notebook opened next:
#: no hidden panel of an earlier one) and resolve once they are gone
CLOSE_ALL_JS = """async () => {
  const app = window.jupyterapp;
  const open = Array.from(app.shell.widgets('main'));
  for (const w of open) {
    if (w.context && w.context.model) w.context.model.dirty = false;  // the run's outputs: nothing to save
    w.close();
  }
  for (let i = 0; i < 600 && open.some(w => !w.isDisposed); i++) await new Promise(r => setTimeout(r, 50));
  return open.filter(w => !w.isDisposed).length;
}"""


def open_notebook(page: Any, base: str, notebook: str, reload: bool = False) -> None:
    """``notebook`` alone in the page: opened inside the JupyterLab the page already shows (its other tabs closed),
    else (or with ``reload``: a later sitting) by loading JupyterLab with ``?reset``, a clean workspace."""
    if not reload and page.url.startswith(f"{base}/lab") and page.evaluate("() => !!window.jupyterapp"):
        left = page.evaluate(CLOSE_ALL_JS)
        assert left == 0, f"{left} tab(s) of the earlier notebooks would not close"
        # (the command's widget is not returned: Playwright would serialise JupyterLab's whole object graph)
        try:
            page.evaluate("async p => { await window.jupyterapp.commands.execute('docmanager:open', "
                          "{path: p, factory: 'Notebook'}); }", f"notebooks/{notebook}")
        except sync_api.Error as exc:  # the page dropped the command's promise (seen once under load in CI's run):
            if "garbage collected" not in str(exc):  # the notebook's cells, awaited below, still say if it opened
                raise
        # the Launcher JupyterLab opened when no tab was left: closed, as in a freshly loaded workspace
        page.evaluate("() => { for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) "
                      "{ if (!w.context) w.close(); } }")
    else:
        page.goto(f"{base}/lab/tree/notebooks/{notebook}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # wait until the kernel is connected and idle
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # the indicator turns idle before the kernel's websocket settles: wait for the session's kernel itself (a
    # notebook without a kernelspec asks for one first: the default is accepted), then a moment more (a first
    # request sent earlier can be dropped)
    dismiss_dialogs(page)
    page.evaluate(KERNEL_READY_JS)
    page.wait_for_timeout(1000)


def dismiss_dialogs(page: Any) -> None:
    """Accept any JupyterLab dialog that would take the next click or key (a kernel choice, a file changed on
    disk); under load one can open between two steps of a test."""
    for _ in range(3):
        accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
        if not accept.count():
            return
        accept.first.click(force=True)
        page.wait_for_timeout(300)


#: wait (up to 20 s) until the open notebook's kernel is connected and idle; its first request is not dropped then
KERNEL_READY_JS = """async () => {
  const ctx = window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext;
  if (!ctx) return false;
  // (bounded: a notebook without a kernelspec is ready only once its "Select Kernel" dialog is answered)
  await Promise.race([ctx.ready, new Promise(r => setTimeout(r, 20000))]);
  for (let i = 0; i < 100; i++) {
    const k = ctx.session && ctx.session.kernel;
    if (k && k.connectionStatus === 'connected' && k.status === 'idle') return true;
    await new Promise(r => setTimeout(r, 200));
  }
  return false;
}"""
#: code cells of the open notebook that never ran (``[ ]:``)
UNRUN_JS = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].filter(p => /\\[ \\]/.test(p.textContent)).length"""


def run_all(page: Any) -> None:
    """Run All Cells through JupyterLab's command registry (no menu clicks a dialog could intercept), once the
    kernel is connected and idle, and until every code cell has run: a kernel still settling can drop the first
    request, or the queue after the first cell."""
    started = ("() => [...document.querySelectorAll('.jp-InputPrompt')].some(p => /\\[(\\*|\\d+)\\]/"
               ".test(p.textContent))")
    for _ in range(3):
        dismiss_dialogs(page)
        page.evaluate(KERNEL_READY_JS)
        # not awaited: the command's promise settles only when every cell has run (or never, when the request was
        # dropped); the prompts say what ran
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_function(started, timeout=20_000, polling=POLL_MS)
        except sync_api.TimeoutError:
            dismiss_dialogs(page)
            page.wait_for_timeout(2000)
            continue
        wait_idle(page, timeout=240_000)
        if not page.evaluate(UNRUN_JS):
            return
    raise AssertionError("Run All Cells did not run every cell")


def wait_idle(page: Any, timeout: int = 120_000) -> None:
    """Until every cell has run (no [*] prompt left) and the kernel is idle."""
    page.wait_for_timeout(1000)
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))"
        " && document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")", timeout=timeout,
        polling=POLL_MS)


def open_and_run_all(page: Any, base: str, notebook: str, reload: bool = False) -> None:
    open_notebook(page, base, notebook, reload)
    run_all(page)


def run_and_find(page: Any, base: str, notebook: str, locator: Any, shot_name: str | None = None,
                 timeout: int = 90_000) -> Any:
    """Open ``notebook`` and Run All, wait for ``locator`` (what the run must show) and for the kernel to be idle,
    then take a screenshot scrolled to it when ``shot_name`` is given (artifacts/screenshots/<shot_name>.png).
    Returns the locator."""
    open_and_run_all(page, base, notebook)
    locator.wait_for(timeout=timeout)
    wait_idle(page)
    if shot_name is not None:
        shot(page, shot_name, locator)
    return locator


def fresh(lab: dict[str, Any], transition: dict[str, Any] | None = None) -> None:
    """A clean sandbox (the 2018 guide's rules) and no saved state: each test starts from nothing."""
    url = lab["sandbox"].url
    assert control(url, "POST", "/_sandbox/reset", json={}).status_code == 200
    r = control(url, "PUT", "/_sandbox/settings",
                json={**GUIDE_2018, "order_transition": transition or {"mode": "immediate"}})
    assert r.status_code == 200, r.text
    lab["state"].unlink(missing_ok=True)


def prepared(lab: dict[str, Any], monkeypatch: pytest.MonkeyPatch, upto: str, forms: dict[str, Any] | None = None
             ) -> Any:
    """The guide's steps up to ``upto`` done over HTTP by the client (as the earlier notebooks would), and the
    given form values saved as if the user had typed them."""
    from bwhelpers.connection import connect

    monkeypatch.setenv("BW_SANDBOX_URL", lab["sandbox"].url)
    monkeypatch.setenv("BW_STATE_FILE", str(lab["state"]))
    monkeypatch.setenv("BW_CONFIG_DIR", str(lab["tmp"] / "cfg"))
    for name in [k for k in os.environ if k.startswith("BW_") and k not in
                 ("BW_SANDBOX_URL", "BW_STATE_FILE", "BW_CONFIG_DIR")]:
        monkeypatch.delenv(name)
    setup = connect(quiet=True)
    setup.progress = False
    plan = [("application", setup.create_application), ("location", setup.create_location),
            ("sms", setup.enable_sms), ("mms", setup.enable_mms), ("assigned", setup.assign_application),
            ("orders", setup.order_numbers), ("numbers", setup.wait_for_order)]
    for key, call in plan:
        call()
        if key == upto:
            break
    if forms:
        with setup.state.transaction(setup.profile) as st:
            st["forms"] = forms
    return setup


def assert_fits(page: Any) -> None:
    """Every result view is no wider than its cell, and neither it nor its output area scrolls sideways (measured
    once the layout has settled: a theme switch reflows the page for a moment)."""
    measure = """() => [...document.querySelectorAll('.bw-view')].map(v => {
        const cell = v.closest('.jp-Cell'), out = v.closest('.jp-OutputArea-output');
        return {view: v.getBoundingClientRect().width, scroll: v.scrollWidth, cell: cell.clientWidth,
                out: out.clientWidth, outScroll: out.scrollWidth, text: v.innerText.slice(0, 120)};
    })"""
    widths = page.evaluate(measure)
    for _ in range(10):
        if all(w["scroll"] <= w["view"] + 1 and w["outScroll"] <= w["out"] + 1 for w in widths):
            break
        page.wait_for_timeout(500)
        widths = page.evaluate(measure)
    assert widths, "no result view found"
    for w in widths:
        assert w["view"] <= w["cell"], w
        assert w["scroll"] <= w["view"] + 1, f"the table scrolls sideways: {w}"
        assert w["outScroll"] <= w["out"] + 1, f"the output scrolls sideways: {w}"


def shot(page: Any, name: str, at: Any = None) -> None:
    """A screenshot of the page, scrolled to ``at`` (a locator) when given; JupyterLab's news pop-up dismissed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dismiss_dialogs(page)
    no = page.get_by_role("button", name="No", exact=True)
    if no.count():
        no.first.click(force=True)
        page.wait_for_timeout(300)
    if at is not None:
        at.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextlib.contextmanager
def shooting(page: Any, name: str) -> Iterator[None]:
    """On a failure inside: a screenshot of the page as it then is (``shot``: artifacts/screenshots/<name>.png), then
    the failure itself."""
    try:
        yield
    except Exception:
        shot(page, name)
        raise


def assert_widgets_healthy(page: Any) -> None:
    text = page.locator("#main").inner_text()
    for bad in ("Error displaying widget", "Loading widget", "model not found"):
        assert bad not in text, f"'{bad}' shown in the page"


def test_start_here_form_connects_and_step_one_shows_the_application(lab: dict[str, Any],
                                                                     tab: Callable[..., Any]) -> None:
    fresh(lab)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = tab(1400, 1000)
    with shooting(page, "browser-failure-00-01"):
        open_and_run_all(page, lab["base"], "00_start_here.ipynb")
        form = page.locator(".bw-credentials").first
        form.wait_for(state="visible", timeout=90_000)
        assert form.locator("input[type=password]").count() >= 1
        # the cell that presses Connect headlessly has run; wait for it, then press it ourselves
        page.locator(".bw-status .bw-ok").first.wait_for(timeout=60_000)
        # the real-account form asks for API credentials; the legacy API user sits behind a labelled toggle
        form.locator(".widget-toggle-button", has_text="Real account").click()
        client_id = form.locator(".widget-text", has_text="Client ID").first
        client_id.wait_for(state="visible", timeout=10_000)
        secret = form.locator(".widget-text", has_text="Client Secret").first
        assert secret.is_visible() and secret.locator("input[type=password]").count() == 1
        assert form.locator(".bw-legacy").first.is_hidden(), "legacy fields start hidden"
        assert "API Credentials" in form.inner_text()
        page.screenshot(path=str(ARTIFACTS / "browser-00_credentials_api.png"), full_page=True)
        form.locator(".bw-legacy-toggle input[type=checkbox]").first.check()
        legacy = form.locator(".bw-legacy").first
        legacy.wait_for(state="visible", timeout=10_000)
        assert "2026-12-02" in legacy.inner_text() and "API username" in legacy.inner_text()
        page.screenshot(path=str(ARTIFACTS / "browser-00_credentials_legacy.png"), full_page=True)
        form.locator(".bw-legacy-toggle input[type=checkbox]").first.uncheck()
        form.locator(".widget-toggle-button", has_text="Sandbox").click()
        form.locator("button.bw-connect").click()
        ok = form.locator(".bw-status .bw-ok")
        ok.wait_for(timeout=30_000)
        assert "OK" in ok.inner_text() and "API credentials (OAuth 2.0)" in ok.inner_text()
        assert_widgets_healthy(page)
        page.screenshot(path=str(ARTIFACTS / "browser-00_start_here.png"), full_page=True)

        open_and_run_all(page, lab["base"], "01_create_application.ipynb")
        header = page.locator(".jp-OutputArea-output td.bw-key", has_text="ApplicationId").first
        header.wait_for(timeout=90_000)
        saved = page.locator(".bw-saved").first
        saved.wait_for(timeout=30_000)
        assert "ApplicationId" in saved.inner_text()
        r = requests.get(f"{lab['sandbox'].url}/api/accounts/9900000/applications",
                         auth=("sandbox-user", "sandbox-password"), timeout=10)
        app_id = r.text.split("<ApplicationId>")[1].split("</ApplicationId>")[0]
        assert app_id in saved.inner_text()
        # the form teaches today's fields, and the application was created with them
        form01 = page.locator(".bw-form", has_text="InboundCallbackUrl").first
        form01.wait_for(state="visible", timeout=30_000)
        for label in ("OutboundCallbackUrl", "RequestedCallbackTypes"):
            assert label in form01.inner_text()
        form01.scroll_into_view_if_needed()
        form01.screenshot(path=str(ARTIFACTS / "browser-01_application_form.png"))
        assert "<InboundCallbackUrl>" in r.text and "<OutboundCallbackUrl>" in r.text and "<CallbackUrl>" not in r.text
        text = page.locator("#main").inner_text()
        assert "Authorization: Bearer ********" in text, "the request display shows the masked Bearer header"
        assert "eyJhbGciOi" not in text and "sandbox-client-secret" not in text
        request_view = page.locator(".jp-OutputArea-output:visible", has_text="Authorization: Bearer").first
        request_view.screenshot(path=str(ARTIFACTS / "browser-01_request_bearer.png"))
        assert_widgets_healthy(page)
        page.screenshot(path=str(ARTIFACTS / "browser-01_create_application.png"), full_page=True)


def test_start_here_real_account_speaks_the_form_and_survives_run_all(lab: dict[str, Any],
                                                                      tab: Callable[..., Any]) -> None:
    """00 at 1024 px: Real account with empty fields says what to fill in, by the form's labels, and marks exactly
    those fields (light and dark); after typing the ids, Run All keeps Real account and the ids, asks for the
    Client Secret and does not connect to the sandbox. Screenshots: browser-00_real_{missing,rerun}_{light,dark}."""
    fresh(lab)
    page = tab(1024, 900)
    try:
        with shooting(page, "browser-failure-00-real"):
            open_and_run_all(page, lab["base"], "00_start_here.ipynb")
            form = page.locator(".bw-credentials").first
            page.locator(".bw-status .bw-ok").first.wait_for(timeout=60_000)
            form.locator(".widget-toggle-button", has_text="Real account").click()
            form.locator(".widget-text", has_text="Client ID").first.wait_for(state="visible", timeout=10_000)
            form.locator("button.bw-connect").click()
            fail = form.locator(".bw-status .bw-fail")
            fail.wait_for(timeout=30_000)
            text = fail.inner_text()
            for label in ("Account id", "Subaccount (site) id", "Client ID", "Client Secret", "choose Sandbox"):
                assert label in text, (label, text)
            for internal in ("account_id", "client_secret", "BW_", "Config.resolve"):
                assert internal not in text, (internal, text)
            marked = form.locator(".bw-invalid input")
            assert marked.count() == 4 and all(marked.nth(i).is_visible() for i in range(4))
            border = page.evaluate("() => getComputedStyle(document.querySelector('.bw-invalid input')).borderTopWidth")
            assert border == "2px", border
            # the cells below no longer say the earlier sandbox connection is fine (review 24b, finding 6)
            summary = page.locator(".bw-summary").first
            page.wait_for_function("() => document.querySelector('.bw-summary').innerText.includes('Failed')",
                                   timeout=30_000, polling=POLL_MS)
            said = " ".join(summary.inner_text().split())
            assert "could not connect" in said and "Done" not in said, said
            assert page.locator(".bw-callout", has_text="The last Connect failed").count() == 1
            for theme in ("JupyterLab Dark", "JupyterLab Light"):
                set_theme(page, theme)
                shot(page, f"browser-00_real_missing_{'dark' if 'Dark' in theme else 'light'}", form)
                shot(page, f"browser-00_real_missing_below_{'dark' if 'Dark' in theme else 'light'}", summary)
            form.scroll_into_view_if_needed()  # back to the form (JupyterLab redraws cells scrolled back into view)
            page.wait_for_timeout(1500)

            form.locator(".widget-text", has_text="Account id").first.locator("input").fill("9900000")
            form.locator(".widget-text", has_text="Client ID").first.locator("input").fill("my-client-id")
            form.locator(".widget-text", has_text="Client ID").first.locator("input").press("Tab")  # done typing
            for _ in range(120):  # the kept values are saved as they change, through the kernel (slow when loaded)
                if lab["state"].exists() and "my-client-id" in lab["state"].read_text():
                    break
                page.wait_for_timeout(250)
            else:
                raise AssertionError("the typed Client ID never reached the saved state")
            run_all(page)
            form = page.locator(".bw-credentials").first
            form.wait_for(state="visible", timeout=60_000)
            active = form.locator(".widget-toggle-button.mod-active")
            assert "Real account" in active.inner_text(), "Run All kept the chosen target"
            assert form.locator(".widget-text", has_text="Account id").first.locator("input").input_value() == "9900000"
            assert form.locator(".widget-text", has_text="Client ID").first.locator("input").input_value() == "my-client-id"
            main = page.locator("#main").inner_text()
            assert "Missing Subaccount (site) id and Client Secret" in main
            assert "connected to the local sandbox" not in main, "never a silent switch to the sandbox"
            for theme in ("JupyterLab Dark", "JupyterLab Light"):
                set_theme(page, theme)
                shot(page, f"browser-00_real_rerun_{'dark' if 'Dark' in theme else 'light'}", form)
            assert_widgets_healthy(page)
    finally:
        lab["state"].unlink(missing_ok=True)


def test_a_907_order_fails_visibly_and_saves_no_number(lab: dict[str, Any], tab: Callable[..., Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fresh(lab, transition={"mode": "seconds", "seconds": 2})
    setup = prepared(lab, monkeypatch, "assigned",
                     forms={"orders": {"criterion": "area_code", "value": "907", "quantity": 1}})
    page = tab(1280, 1000)
    with shooting(page, "failure-907"):
        run_and_find(page, lab["base"], steps.page("orders").filename,
                     page.locator(".bw-callout-warn", has_text="No numbers found").first, "06_order_907_empty_search")
        failed = run_and_find(page, lab["base"], steps.page("numbers").filename,
                              page.locator(".bw-callout-error", has_text="FAILED").first)
        assert "5018" in failed.inner_text()
        assert page.locator(".bw-order-error").count() == 1 and page.locator(".bw-order-ok").count() == 0
        assert page.locator(".bw-saved").count() == 0, "nothing announced as saved"
        text = page.locator("#main").inner_text()
        assert "it/s" not in text and "Traceback" not in text
        summary = page.locator(".bw-rows").last
        assert "failed" in summary.inner_text()
        shot(page, "07_order_907_failed", failed)
        shot(page, "07_order_907_summary", summary)
        assert setup.saved.get("numbers", []) == [], "no number saved"


def test_the_wait_after_a_refused_send_returns_at_once_with_the_reason(lab: dict[str, Any], tab: Callable[..., Any],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fresh(lab)
    prepared(lab, monkeypatch, "numbers", forms={"messages": {"to": "12345", "text": "hello"}})
    page = tab(1280, 1000)
    with shooting(page, "failure-refused-send"):
        note = run_and_find(page, lab["base"], steps.page("messages").filename,
                            page.locator(".bw-callout-warn", has_text="nothing was sent").first)
        assert "to:" in note.inner_text(), note.inner_text()
        text = page.locator("#main").inner_text()
        assert "callback URL and that it is assigned" not in text and "message None" not in text
        assert page.locator(".bw-waiting").count() == 0, "no wait was started"
        assert "Traceback" not in text
        shot(page, "09_refused_send_wait", note)


#: the wait line's "stopped?" part: its height (0 while folded) and its text
STALE_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .bw-waiting .bw-stale')]
  .map(e => ({height: e.getBoundingClientRect().height, text: e.innerText}))"""


UNFOLDED_JS = ("() => { const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .bw-waiting "
               ".bw-stale'); return e && e.getBoundingClientRect().height > 0; }")


def test_a_kernel_restart_mid_wait_says_the_wait_stopped(lab: dict[str, Any], tab: Callable[..., Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """07 waits for a slow order; the kernel is restarted mid-wait. While the kernel updates the line, its
    'stopped?' part stays folded; once nothing updates it, the page itself unfolds 'No update since …: if the
    kernel was restarted or interrupted, this wait has stopped; run this cell again' (light and dark, 1024 px)."""
    fresh(lab, transition={"mode": "seconds", "seconds": 300})
    prepared(lab, monkeypatch, "orders")
    page = tab(1024, 900)
    with shooting(page, "failure-restart-mid-wait"):
        _run_all_started(page, lab["base"], steps.page("numbers").filename)
        line = page.locator(".bw-waiting", has_text="waiting for the order to settle").first
        line.wait_for(timeout=90_000)
        page.wait_for_timeout(4000)  # the kernel keeps drawing the line: its stopped? part stays folded
        live = page.evaluate(STALE_JS)
        assert live and all(s["height"] == 0 for s in live), live
        # not awaited: the command settles only once its "Restart Kernel?" dialog is answered
        page.evaluate("() => { window.jupyterapp.commands.execute('kernelmenu:restart'); }")
        page.wait_for_timeout(1500)
        dismiss_dialogs(page)  # "Restart Kernel?" -> Restart
        page.wait_for_function(UNFOLDED_JS, timeout=60_000, polling=POLL_MS)
        stale = page.evaluate(STALE_JS)[-1]
        assert "No update since" in stale["text"] and "this wait has stopped" in stale["text"], stale
        assert "run this cell again: the order is saved" in stale["text"], stale
        text = line.inner_text()
        assert "replaces this line" not in text
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            # a re-drawn output (the theme switch, scrolling) folds the line again until it is STALE_AFTER s old
            page.wait_for_function(UNFOLDED_JS, timeout=60_000, polling=POLL_MS)
            line.scroll_into_view_if_needed()
            page.evaluate("() => { const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                          ".jp-WindowedPanel-outer'); e.scrollTop += 200; }")
            page.wait_for_timeout(500)
            page.wait_for_function(UNFOLDED_JS, timeout=60_000, polling=POLL_MS)
            page.screenshot(path=str(ARTIFACTS / f"07_restart_mid_wait-{'dark' if 'Dark' in theme else 'light'}.png"))


def test_a_bad_area_code_is_named_once_by_the_forms_label(lab: dict[str, Any], tab: Callable[..., Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """06 with area code 099: the form, the Search cell and the summary call it by the form's label (Value) with
    the fix; the Order cell refers to it in one line; no internal key or exception class (light and dark)."""
    fresh(lab)
    prepared(lab, monkeypatch, "assigned", forms={"orders": {"criterion": "area_code", "value": "099",
                                                             "quantity": 1}})
    page = tab(1024, 900)
    with shooting(page, "failure-bad-area-code"):
        summary = run_and_find(page, lab["base"], steps.page("orders").filename, page.locator(".bw-summary").first)
        outputs = page.locator(".jp-OutputArea-output")
        text = " ".join(" ".join(outputs.all_inner_texts()).split())
        assert "Value: '099'" in text and "Fix it in the form above and re-run this cell" in text, text
        assert "area_code" not in text and "ValidationError" not in text, text
        assert "Skipped: fix Value in the form above first" in text
        notes = page.locator(".bw-note", has_text="'099'")
        assert notes.count() == 1, notes.all_inner_texts()
        said = " ".join(summary.inner_text().split())
        assert "Not run" in said and "Value: '099'" in said and "fix it in the form above" in said, said
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            tag = "dark" if "Dark" in theme else "light"
            shot(page, f"06_bad_area_code-{tag}", page.locator(".bw-note", has_text="'099'").first)


def test_bidi_controls_in_a_text_are_shown_by_name(lab: dict[str, Any], tab: Callable[..., Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A text with U+202E (right-to-left override): the response and events tables name it (⟨U+202E⟩) instead of
    showing what follows reversed (review 24b, finding 7); light and dark at 1024 px."""
    fresh(lab)
    prepared(lab, monkeypatch, "numbers", forms={"messages": {"to": "+19195550123", "text": "\u202eevil ok"}})
    page = tab(1024, 900)
    with shooting(page, "failure-bidi"):
        view = run_and_find(page, lab["base"], steps.page("messages").filename,
                            page.locator(".bw-view", has_text="⟨U+202E⟩").first)
        shown = page.eval_on_selector_all(".bw-view", "els => els.map(e => e.innerText).join(' ')")
        assert "\u202e" not in shown and "⟨U+202E⟩evil ok" in shown
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            shot(page, f"09_bidi_named-{'dark' if 'Dark' in theme else 'light'}", view)


def test_two_numbers_in_to_are_one_number_per_send_in_running_text(lab: dict[str, Any], tab: Callable[..., Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """09 with two numbers in ``to``: the form says "one number per send here" in our words (no "(1) The string
    supplied …" of the phonenumbers library), as running text (lines about 1.4 em apart, not the widgets' 28 px
    rows), and nothing is sent (review 24c, finding 8); light and dark at 1024 px."""
    fresh(lab)
    prepared(lab, monkeypatch, "numbers", forms={"messages": {"to": "+19195550123, +19195550124", "text": "hi"}})
    page = tab(1024, 900)
    with shooting(page, "failure-two-numbers"):
        problem = run_and_find(page, lab["base"], steps.page("messages").filename,
                               page.locator(".bw-form-problem").first)
        said = " ".join(problem.inner_text().split())
        assert "holds 2 numbers" in said and "one number per send" in said, said
        text = page.locator("#main").inner_text()
        assert "string supplied" not in text and "(1)" not in text
        gap = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('.bw-form-problem'));
            return parseFloat(s.lineHeight) / parseFloat(s.fontSize); }""")
        assert gap <= 1.5, gap
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            shot(page, f"09_two_numbers-{'dark' if 'Dark' in theme else 'light'}", problem)


#: 00's object diagram as drawn: the image's scale (drawn width / natural width), the edges' stroke colour from the
#: SVG's own style, and the notebook's background colour
DIAGRAM_JS = """() => {
  const img = document.querySelector('.jp-RenderedMermaid img');
  if (!img || !img.complete || !img.naturalWidth) return null;
  const svg = decodeURIComponent(img.src.split(',')[1]);
  const stroke = (svg.match(/\\.flowchart-link\\{stroke:([^;}]+)/) || [])[1] || null;
  const bg = getComputedStyle(img.closest('.jp-Notebook')).backgroundColor;
  return {scale: img.getBoundingClientRect().width / img.naturalWidth, width: img.getBoundingClientRect().width,
          stroke: stroke, bg: bg};
}"""


def _contrast(a: str, b: str) -> float:
    """WCAG contrast of two CSS colours (#rrggbb or rgb(...))."""
    import re

    def rgb(c: str) -> list[float]:
        c = c.strip()
        if c.startswith("#"):
            return [int(c[i:i + 2], 16) for i in (1, 3, 5)]
        return [float(x) for x in re.findall(r"[\d.]+", c)[:3]]

    def lum(c: list[float]) -> float:
        ch = [v / 255 for v in c]
        ch = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in ch]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    hi, lo = sorted((lum(rgb(a)), lum(rgb(b))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_object_diagram_reads_at_1024_in_both_themes(lab: dict[str, Any], tab: Callable[..., Any]) -> None:
    """00's Mermaid diagram (review 24c, finding 9): drawn at 1024 px with the file browser open at no less than
    0.8 of its natural size (labels about 13 px or more, not 6 px), and its arrows at least 3:1 against the page in
    the light and the dark theme; screenshots 00_diagram-{light,dark}.png."""
    page = tab(1024, 900)
    with shooting(page, "failure-diagram"):
        open_notebook(page, lab["base"], "00_start_here.ipynb")
        page.locator(".jp-RenderedMermaid img").first.wait_for(timeout=60_000)
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            page.wait_for_function(DIAGRAM_JS, timeout=30_000)
            drawn = page.evaluate(DIAGRAM_JS)
            assert drawn["scale"] >= 0.8, drawn
            assert drawn["stroke"] and _contrast(drawn["stroke"], drawn["bg"]) >= 3, drawn
            shot(page, f"00_diagram-{'dark' if 'Dark' in theme else 'light'}",
                 page.locator(".jp-RenderedMermaid").first)


@pytest.fixture(scope="module")
def sms_run(lab: dict[str, Any], browser: LabTab, request: pytest.FixtureRequest) -> Any:
    """03 (enable SMS) run once in the shared page, the location done by the client: the two tests below check what
    it shows (the response's width, the summary's Next), each failing on its own. They are next to each other in the
    module, so the page still shows 03 for the second one (the page changes only when a test opens a notebook)."""
    fresh(lab)
    with pytest.MonkeyPatch.context() as mp:
        prepared(lab, mp, "location")
    page = browser.page(1024, 900, request.session.testsfailed)
    with shooting(page, "failure-03"):
        run_and_find(page, lab["base"], steps.page("sms").filename, page.locator(".bw-summary").first)
    return page


def test_the_sms_response_fits_the_notebook_width(sms_run: Any) -> None:
    page = sms_run
    with shooting(page, "failure-03-width"):
        view = page.locator(".bw-view", has_text="SipPeerSmsFeatureSettings").first
        view.wait_for(timeout=30_000)
        view.scroll_into_view_if_needed()
        assert_fits(page)
        assert page.locator(".bw-view td.bw-key", has_text="TollFree").count() >= 1, "nested fields are rows"
        assert page.locator("th", has_text="SipPeerSmsFeatureSettings.TollFree").count() == 0
        shot(page, "03_enable_sms_fits", view)


def test_the_summary_names_the_next_notebook_from_the_step_table(sms_run: Any) -> None:
    """A notebook's What's next names no neighbour: the summary's Next, computed from the step table, links the next
    notebook and says what it does (light and dark, 1024 px: summary-next-{light,dark})."""
    nxt = steps.PAGES[steps.page("sms").number + 1]
    page = sms_run
    with shooting(page, "failure-summary-next"):
        box = page.locator(".bw-summary").first
        box.scroll_into_view_if_needed()
        text = " ".join(box.inner_text().split())
        assert f"Next: continue with {nxt.notebook} (enable MMS on the location)" in text, text
        assert "close this one first (File › Close and Shut Down Notebook)" in text, text  # one kernel per tab
        link = box.locator("a", has_text=nxt.notebook)
        assert link.count() == 1 and nxt.filename in (link.get_attribute("href") or "")
        whats_next = page.locator(".jp-MarkdownCell", has_text="What's next").last
        assert whats_next.locator("a:not(.jp-InternalAnchorLink)").count() == 0 and "its Next names the notebook" in whats_next.inner_text()
        themed_shots(page, "summary-next", whats_next)


def test_a_step_form_from_defaults_reads_cleanly(lab: dict[str, Any], tab: Callable[..., Any]) -> None:
    """``page.step_form(...)``, the form a new step gets without writing one: a text field, a checkbox and a number,
    the required blank field named in red (light and dark, 1024 px: step-form-{light,dark})."""
    import nbformat

    fresh(lab)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'from bwhelpers.walkthrough import Page\npage = Page("sms", show=False)\n'
        'page.step_form(required=("site",), site="", verbose=True, tries=2)')])
    nbformat.write(nb, lab["project"] / "notebooks" / "step_form_probe.ipynb")
    page = tab(1024, 700)
    try:
        with shooting(page, "failure-step-form"):
            form = run_and_find(page, lab["base"], "step_form_probe.ipynb",
                                page.locator(".bw-form").first, timeout=60_000)
            text = form.inner_text()
            assert "Enable SMS" in text and "site: required: type the site" in text, text
            assert form.locator("input[type=checkbox]").count() == 1 and form.locator("input[type=number]").count() == 1
            themed_shots(page, "step-form", form)
    finally:
        (lab["project"] / "notebooks" / "step_form_probe.ipynb").unlink(missing_ok=True)


def test_a_form_keeps_its_value_across_run_all_and_a_reopen(lab: dict[str, Any], tab: Callable[..., Any],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    fresh(lab)
    page = tab(1280, 1000)
    with shooting(page, "failure-form-kept"):
        run_and_find(page, lab["base"], "01_create_application.ipynb", page.locator(".bw-saved").first)
        name = page.locator(".bw-form input[type=text]").first
        name.fill("Browser server")
        name.press("Enter")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = json.loads(lab["state"].read_text())
            forms = state["profiles"]["sandbox"].get("forms", {})
            if forms.get("application", {}).get("name") == "Browser server":
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the form's value was not kept")
        run_all(page)
        ask = page.locator(".bw-callout-warn", has_text="You already have an application").first
        ask.wait_for(timeout=90_000)
        wait_idle(page)
        assert page.locator(".bw-form input[type=text]").first.input_value() == "Browser server"
        assert page.locator("button.bw-create-second").count() == 1
        r = requests.get(f"{lab['sandbox'].url}/api/accounts/9900000/applications",
                         auth=("sandbox-user", "sandbox-password"), timeout=10)
        assert r.text.count("<ApplicationId>") == 1, "no second application without asking"
        shot(page, "01_form_kept_across_run_all", ask)
        # save, then reopen: the file has no outputs or widget state, and the page shows no stale widget
        page.keyboard.press("Control+s")
        saved_file = lab["project"] / "notebooks" / "01_create_application.ipynb"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "Browser server" not in saved_file.read_text() and \
                "widget" in saved_file.read_text():
            time.sleep(0.3)
        page.wait_for_timeout(1500)
        nb = json.loads(saved_file.read_text())
        assert "widgets" not in nb["metadata"]
        assert all(c.get("outputs", []) == [] for c in nb["cells"] if c["cell_type"] == "code")
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_timeout(3000)
        assert_widgets_healthy(page)
        shot(page, "01_reopened_clean")


def _run_all_started(page: Any, base: str, notebook: str) -> None:
    """Open ``notebook`` alone (``open_notebook``: no tab of an earlier test, whose idle kernel would satisfy the
    wait), run all cells from the Run menu, and make sure the run really started (run all again if not)."""
    open_notebook(page, base, notebook)
    for _ in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]"
                ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))", timeout=45_000, polling=POLL_MS)
            return
        except sync_api.TimeoutError:
            page.wait_for_timeout(2000)
    raise AssertionError(f"{notebook}: Run All Cells did not start")


def test_a2p_step_then_the_send_in_the_browser(lab: dict[str, Any], tab: Callable[..., Any]) -> None:
    """Steps 1-7 done from Python (the same state file), today's rules on: notebook 08 assigns the number to the
    sandbox's pre-registered campaign and notebook 09's message is delivered. Screenshots: artifacts/screenshots/."""
    from bwhelpers.config import Config
    from bwhelpers.sandbox import DEMO
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    fresh(lab)
    shots = ARTIFACTS
    shots.mkdir(parents=True, exist_ok=True)
    url = lab["sandbox"].url
    control(url, "PUT", "/_sandbox/settings", json={"a2p_enforcement": True}, timeout=10).raise_for_status()
    cfg = Config(target="sandbox", sandbox_url=url, dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                 **{k: DEMO[k] for k in ("account_id", "site_id", "username", "password", "user_id", "api_token",
                                         "api_secret")})
    s = Setup(cfg, StateStore(lab["tmp"] / "state.json"), progress=False)
    for step in (s.create_application, s.create_location, s.enable_sms, s.enable_mms, s.assign_application,
                 s.order_numbers, lambda: s.wait_for_order(progress=False)):
        step()
    page = tab(1400, 1000)
    with shooting(page, "browser-a2p-failure"):
        _run_all_started(page, lab["base"], steps.page("a2p").filename)
        saved = page.locator(".bw-saved", has_text="TN Option Order id").first
        saved.wait_for(timeout=90_000)
        page.locator(".jp-OutputArea-output td", has_text="SUCCESS").first.wait_for(timeout=30_000)
        page.locator(".jp-OutputArea-output td", has_text="CSBX001").first.wait_for(timeout=30_000)
        assert s.saved["a2p"]["order_id"] in saved.inner_text()
        assert "it/s" not in page.locator("#main").inner_text(), "progress in words, not tqdm's rate"
        assert_widgets_healthy(page)
        saved.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "browser-08_register_a2p-order.png"))
        page.screenshot(path=str(shots / "browser-08_register_a2p.png"), full_page=True)

        _run_all_started(page, lab["base"], steps.page("messages").filename)
        page.locator(".bw-callout-ok", has_text="message-delivered").first.wait_for(timeout=90_000)
        assert_widgets_healthy(page)
        page.screenshot(path=str(shots / "browser-09_send_message.png"), full_page=True)


def test_the_events_table_with_meanings_and_fixes_fits(lab: dict[str, Any], tab: Callable[..., Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fresh(lab)
    setup = prepared(lab, monkeypatch, "numbers")
    setup.send_message("+12015550100", "hello")
    page = tab(1024, 900)
    with shooting(page, "failure-events-width"):
        table = run_and_find(page, lab["base"], steps.page("events").filename,
                             page.locator(".bw-rows", has_text="4720").last)
        assert "fix:" in table.inner_text() and "meaning:" in table.inner_text()
        assert table.locator("tr.bw-detail", has_text="The destination is not a valid").count() >= 1
        assert_fits(page)
        text = page.locator("#main").inner_text()
        assert "Traceback" not in text
        shot(page, "11_events_explained_fit", table)


def test_the_pictures_page_shows_the_sent_and_the_received_picture(lab: dict[str, Any], tab: Callable[..., Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Notebook 10 at 1024 px in light and dark: the uploaded picture (read back) and the picture reply are really
    drawn (decoded images, not broken icons), every text readable (4.5:1), nothing scrolls sideways."""
    fresh(lab)
    setup = prepared(lab, monkeypatch, "numbers")
    setup.send_message("+19195550100", "hello")
    page = tab(1024, 900)
    with shooting(page, "failure-pictures"):
        run_and_find(page, lab["base"], steps.page("pictures").filename, page.locator(".bw-summary").first)
        text = page.locator("#main").inner_text()
        # the wait's line is near the top: JupyterLab's default windowing ("contentVisibility") leaves cells out of
        # view out of innerText, so the whole notebook's text is read from the DOM
        whole = page.locator("#main").text_content() or ""
        assert "Traceback" not in whole and "Received message-delivered" in whole, text[-2000:]
        figures = page.locator("figure.bw-picture img")
        assert figures.count() == 2, "the upload read back and the received reply"
        for i in range(2):
            size = figures.nth(i).evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
            assert size == [True, 320, 240], size
        captions = page.locator("figure.bw-picture figcaption").all_text_contents()
        assert "smile.png" in captions[0] and "sunset.png" in captions[1], captions
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            tag = "dark" if "Dark" in theme else "light"
            low = [m for m in page.evaluate(CONTRAST_JS) if m["ratio"] < 4.5]
            assert not low, f"{tag}: text below 4.5:1: {low[:5]}"
            shot(page, f"10_pictures_sent_{tag}", figures.first)
            shot(page, f"10_pictures_received_{tag}", figures.last)
        # the pictures and their captions stay inside their output area (no sideways scrolling)
        overflow = page.evaluate("""() => [...document.querySelectorAll('figure.bw-picture')].map(f => {
            const out = f.closest('.jp-OutputArea-output');
            return {right: f.getBoundingClientRect().right, limit: out.getBoundingClientRect().right,
                    scroll: out.scrollWidth, width: out.clientWidth};
        }).filter(m => m.right > m.limit + 1 || m.scroll > m.width + 1)""")
        assert not overflow, overflow


def test_export_and_teardown_pages_read_cleanly(lab: dict[str, Any], tab: Callable[..., Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """11 shows its download links without a raw dict after them; 12's diagnose table fits and its checkbox label
    is not cut off."""
    fresh(lab)
    prepared(lab, monkeypatch, "numbers")
    page = tab(1024, 900)
    with shooting(page, "failure-export-teardown"):
        run_and_find(page, lab["base"], steps.page("postman").filename,
                     page.locator(".jp-OutputArea-output a", has_text="postman_collection.json").first)
        text = page.locator("#main").inner_text()
        assert "{'" not in text and "Traceback" not in text, "no raw dict printed"
        assert (lab["project"] / "exports").is_dir(), "exports/ in the project folder, where newman reads"
        shot(page, "12_export_links", page.locator(".jp-OutputArea-output a", has_text="postman_collection").first)
        # a set secret reads as hidden, never as a blank cell next to "set: True" ("the secret is empty")
        from bwhelpers.ui.export import SECRET_NOT_IN_FILE

        row = page.locator(".jp-OutputArea-output tr", has_text="clientSecret").first
        assert SECRET_NOT_IN_FILE in row.inner_text(), row.inner_text()
        assert "sandbox-client-secret" not in text
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            shot(page, f"12_preview_secret_hidden_{'dark' if 'Dark' in theme else 'light'}", row)
        run_and_find(page, lab["base"], steps.page("teardown").filename,
                     page.locator(".bw-rows", has_text="numbers in service").first)
        assert_fits(page)
        label = page.locator(".widget-checkbox", has_text="I understand").first
        cut = label.evaluate("el => [...el.querySelectorAll('label, span')].some(e => e.scrollWidth > e.clientWidth + 1)")
        assert not cut, "the checkbox label is cut off"
        assert "I understand this deletes the objects on the server" in label.inner_text()
        shot(page, "13_teardown_checkbox", label)
        # Tear down: the preflight above folds under a note (its ✓ rows were about the deleted objects; review 24c)
        label.locator("input[type=checkbox]").check()
        page.locator("button", has_text="Tear down").first.click()
        folded = page.locator(".bw-callout", has_text="This preflight ran before the teardown").first
        folded.wait_for(timeout=90_000)
        wait_idle(page)
        assert page.locator("details.bw-stale").count() == 1
        assert not page.locator("details.bw-stale").first.evaluate("d => d.open")
        for theme in ("JupyterLab Dark", "JupyterLab Light"):
            set_theme(page, theme)
            shot(page, f"13_preflight_after_teardown-{'dark' if 'Dark' in theme else 'light'}", folded)


def test_the_events_notebook_prints_a_link_that_opens_the_phone(lab: dict[str, Any], tab: Callable[..., Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The message_events notebook's phone cell shows a link; clicking it opens the phone of the saved number in a
    new tab, with the notebook's failing text and its error code's meaning (the phone page itself:
    tests/test_browser_phone.py)."""
    fresh(lab)
    setup = prepared(lab, monkeypatch, "numbers")
    setup.send_message("+19195550123", "hello from the walkthrough")
    page = tab(1024, 900)
    with shooting(page, "failure-phone-link"):
        callout = run_and_find(page, lab["base"], steps.page("events").filename,
                               page.locator(".jp-OutputArea-output", has_text="Your sandbox phone").first,
                               "phone-link-in-notebook", timeout=120_000)
        with page.context.expect_page() as opened:
            callout.locator("a", has_text="Open the phone of").click()
        phone = opened.value
        try:
            phone.wait_for_selector("main.phone")
            assert phone.url.startswith(f"{lab['sandbox'].url}/_sandbox/phone/")
            phone.locator(".threads .who", has_text="+12015550101").first.click()  # the notebook's failing send
            phone.locator(".why", has_text="4720").first.wait_for()
            shot(phone, "phone-from-notebook")
        finally:
            phone.close()


# -- every notebook, light and dark, at 1024 px: contrast measured, tokens whole, the file unchanged by a save ------

#: the text of every element the walkthrough renders (its boxes, tables, forms), with the colour it is painted in
#: and the background under it (ancestors' backgrounds composited), as WCAG contrast ratios
CONTRAST_JS = """() => {
  const parse = (c) => {
    let m = c.match(/^rgba?\\(([^)]+)\\)/);
    if (m) { const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
             return [p[0] / 255, p[1] / 255, p[2] / 255, p.length > 3 ? p[3] : 1]; }
    m = c.match(/^color\\(srgb ([^)]+)\\)/);
    if (m) { const p = m[1].split(/[ \\/]+/).filter(Boolean).map(Number);
             return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; }
    return null;
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const lum = (c) => { const f = (v) => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
                       return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const page = parse(getComputedStyle(document.querySelector('.jp-Notebook') || document.body).backgroundColor);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = (page && page[3] >= 1) ? page : [1, 1, 1, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const roots = '.jp-OutputArea-output [class*="bw-"], .jp-OutputArea-output .widget-html-content';
  const out = [];
  for (const el of document.querySelectorAll(roots + ', ' + roots.split(', ').map(r => r + ' *').join(', '))) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const fg = parse(getComputedStyle(el).color);
    if (!fg) continue;
    const bg = background(el);
    const text = over(fg, bg);
    const [a, b] = [lum(text) + 0.05, lum(bg) + 0.05];
    out.push({ratio: Math.max(a, b) / Math.min(a, b), text: el.textContent.trim().slice(0, 60),
              cls: el.className && el.className.baseVal === undefined ? String(el.className) : el.tagName,
              color: getComputedStyle(el).color});
  }
  return out;
}"""

#: a token (phone number, id, date, status, boolean) laid out on more than one line
WRAPPED_TOKENS_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output .bw-tok')]
  .filter(e => e.getClientRects().length > 1).map(e => e.textContent)"""


#: 00's target toggle: the chosen button's and the other one's background, and the chosen one's leading mark
TOGGLE_JS = """() => {
  const buttons = [...document.querySelectorAll('.bw-credentials .widget-toggle-button')];
  const active = buttons.find(b => b.classList.contains('mod-active')), other = buttons.find(b => b !== active);
  return {active: getComputedStyle(active).backgroundColor, other: getComputedStyle(other).backgroundColor,
          mark: getComputedStyle(active, '::before').content.replace(/"/g, '')};
}"""


def shots_through(page: Any, name: str, limit: int = 4) -> None:
    """Screenshots down the open notebook (JupyterLab scrolls the notebook inside the page): ``name-1.png``, ..."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
    height = page.evaluate(f"() => document.querySelector('{scroller}').clientHeight")
    for i in range(limit):
        top = page.evaluate(f"y => {{ const e = document.querySelector('{scroller}'); e.scrollTop = y; "
                            "return e.scrollTop; }", i * (height - 120))
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{i + 1}.png"))
        # the end: the last cell is in view (JupyterLab pads the notebook below it; a shot of the padding is empty)
        at_end = page.evaluate(f"() => {{ const e = document.querySelector('{scroller}'); "
                               "const cells = e.querySelectorAll('.jp-Cell'); const last = cells[cells.length - 1]; "
                               "return e.scrollTop + e.clientHeight >= e.scrollHeight - 2 || (last && "
                               "last.getBoundingClientRect().bottom <= e.getBoundingClientRect().bottom); }")
        if at_end or (i and top == 0):
            break
    page.evaluate(f"() => {{ document.querySelector('{scroller}').scrollTop = 0; }}")


def themed_shots(page: Any, name: str, at: Any) -> None:
    """``name-dark.png`` and ``name-light.png``, scrolled to ``at``."""
    for theme in ("JupyterLab Dark", "JupyterLab Light"):
        set_theme(page, theme)
        shot(page, f"{name}-{'dark' if 'Dark' in theme else 'light'}", at)


def set_theme(page: Any, theme: str) -> None:
    page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000)
    page.wait_for_timeout(800)


#: the open notebook's next save, as its context reports it: ``window.__bwSave`` resolves to "completed" or "failed"
SAVE_WATCH_JS = """() => {
  const ctx = window.jupyterapp.shell.currentWidget.context;
  window.__bwSave = new Promise(resolve => {
    const done = (_, state) => { if (state !== 'started') { ctx.saveState.disconnect(done); resolve(state); } };
    ctx.saveState.connect(done);
    setTimeout(() => resolve('no save within 60 s'), 60000);
  });
}"""


@pytest.mark.timeout(3000)  # the whole walkthrough, Run All in each notebook, twice themed
def test_every_notebook_in_light_and_dark_at_1024(lab: dict[str, Any], tab: Callable[..., Any]) -> None:
    """The whole walkthrough in order, as a participant runs it (Run All in each notebook, one after the other), at
    1024 px: in the light and the dark theme every text the walkthrough renders has a contrast of at least 4.5:1
    (measured from the computed colours), no token wraps inside itself, no view scrolls sideways; saving the
    notebook afterwards leaves its file byte-identical to the committed one. Screenshots: theme-{light,dark}-NN."""
    fresh(lab)
    url = lab["sandbox"].url
    control(url, "PUT", "/_sandbox/settings", json={"a2p_enforcement": True}, timeout=10).raise_for_status()
    page = tab(1024, 1400)
    worst: dict[str, float] = {}
    with shooting(page, "failure-themes"):
        for info in steps.PAGES:
            name = info.filename
            open_and_run_all(page, lab["base"], name)
            wait_idle(page, timeout=180_000)
            page.locator(".bw-summary").first.wait_for(timeout=60_000)
            assert_widgets_healthy(page)
            text = page.locator("#main").inner_text()
            assert "Traceback" not in text, name
            # both themes, the one the page shows first: one theme switch a notebook, not two (each switch restyles
            # the whole page, and settles for 800 ms)
            shown = page.evaluate("() => document.body.dataset.jpThemeName")
            for theme in sorted(("JupyterLab Dark", "JupyterLab Light"), key=lambda t: t != shown):
                if theme != shown:
                    set_theme(page, theme)
                tag = "dark" if "Dark" in theme else "light"
                shots_through(page, f"theme-{tag}-{info.notebook}")
                measured = page.evaluate(CONTRAST_JS)
                assert measured, f"{name}: nothing measured"
                low = [m for m in measured if m["ratio"] < 4.5]
                assert not low, f"{name} ({tag}): text below 4.5:1: {low[:5]}"
                worst[f"{info.notebook} {tag}"] = round(min(m["ratio"] for m in measured), 2)
                wrapped = page.evaluate(WRAPPED_TOKENS_JS)
                assert not wrapped, f"{name} ({tag}): tokens wrapped inside: {wrapped[:5]}"
                if info.key == "start":  # the chosen target is told from the other one by more than a shade
                    chosen = page.evaluate(TOGGLE_JS)
                    assert chosen["active"] != chosen["other"] and chosen["mark"].startswith("✓"), (tag, chosen)
                if page.locator(".bw-view").count():
                    assert_fits(page)
            if info.key == "postman":
                link = page.locator(".bw-downloads a[download]").first
                href = link.get_attribute("href") or ""
                # the file itself (no server round trip, any base URL), never JupyterLab's URL with its _xsrf token
                assert href.startswith("data:application/json;base64,") and "_xsrf" not in href, href[:80]
                with page.expect_download(timeout=30_000) as dl:
                    link.click()
                assert dl.value.suggested_filename.endswith(".json")
                assert page.locator(".bw-view .bw-rows").count() or page.locator("table.bw-rows").count()
            # save, then compare with the committed file: the save hook restores the committed form; the save has
            # completed before the next notebook closes this one (a save cut short by the close is an error dialog)
            page.evaluate(SAVE_WATCH_JS)
            page.keyboard.press("Control+s")
            assert page.evaluate("() => window.__bwSave") == "completed", f"{name}: the save did not complete"
            saved = lab["project"] / "notebooks" / name
            committed = (ROOT / "notebooks" / name).read_bytes()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and saved.read_bytes() != committed:
                time.sleep(0.5)
            assert saved.read_bytes() == committed, f"{name}: saving changed the committed file"
        print("lowest contrast per notebook and theme:", worst)
