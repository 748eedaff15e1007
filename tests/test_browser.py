"""A real JupyterLab, driven in Debian's Chromium with Playwright.

Opens 00_start_here, runs it, checks the credentials form renders (no "Loading widget…" or
"Error displaying widget"), chooses the sandbox, presses Connect and waits for OK; then opens
01_create_application, runs it, and finds the ApplicationId in the response table. Screenshots go
to artifacts/.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from conftest import stop_process_group
from guide import GUIDE_2018  # the guide's steps as in 2018 (no A2P step): a2p_enforcement off

from bwhelpers.sandbox import start

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium for the browser test (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); CI always runs this test",
                allow_module_level=True)

from playwright import sync_api  # noqa: E402  (a test dependency: missing fails loudly)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("lab")
    sandbox = start(port=0, db=tmp / "sandbox.db", order_delay=0, reset=True, settings=GUIDE_2018)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update({
        "BW_SANDBOX_URL": sandbox.url, "BW_STATE_FILE": str(tmp / "state.json"), "BW_CONFIG_DIR": str(tmp / "cfg"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
    })
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={ROOT}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--ServerApp.allow_root=True"]
    log = open(tmp / "lab.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
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
    try:
        yield {"base": base, "sandbox": sandbox, "tmp": tmp}
    finally:
        stop_process_group(proc)
        log.close()
        sandbox.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def open_and_run_all(page: Any, base: str, notebook: str) -> None:
    page.goto(f"{base}/lab/tree/notebooks/{notebook}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # wait until the kernel is connected and idle
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # the indicator turns idle before the kernel's websocket settles; give it a moment
    page.wait_for_timeout(2000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def assert_widgets_healthy(page: Any) -> None:
    text = page.locator("#main").inner_text()
    for bad in ("Error displaying widget", "Loading widget", "model not found"):
        assert bad not in text, f"'{bad}' shown in the page"


def test_start_here_form_connects_and_step_one_shows_the_application(lab: dict[str, Any], browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        open_and_run_all(page, lab["base"], "00_start_here.ipynb")
        form = page.locator(".bw-credentials").first
        form.wait_for(state="visible", timeout=90_000)
        assert form.locator("input[type=password]").count() >= 1
        # the cell that presses Connect headlessly has run; wait for it, then press it ourselves
        page.locator(".bw-status .bw-ok").first.wait_for(timeout=60_000)
        form.locator(".widget-toggle-button", has_text="Sandbox").click()
        form.locator("button.bw-connect").click()
        ok = form.locator(".bw-status .bw-ok")
        ok.wait_for(timeout=30_000)
        assert "OK" in ok.inner_text()
        assert_widgets_healthy(page)
        page.screenshot(path=str(ARTIFACTS / "browser-00_start_here.png"), full_page=True)

        open_and_run_all(page, lab["base"], "01_create_application.ipynb")
        header = page.locator(".jp-OutputArea-output table th", has_text="ApplicationId").first
        header.wait_for(timeout=90_000)
        saved = page.locator(".bw-saved").first
        saved.wait_for(timeout=30_000)
        assert "ApplicationId" in saved.inner_text()
        r = requests.get(f"{lab['sandbox'].url}/api/accounts/9900000/applications",
                         auth=("sandbox-user", "sandbox-password"), timeout=10)
        app_id = r.text.split("<ApplicationId>")[1].split("</ApplicationId>")[0]
        assert app_id in saved.inner_text()
        assert_widgets_healthy(page)
        page.screenshot(path=str(ARTIFACTS / "browser-01_create_application.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True)
        raise
    finally:
        context.close()
