"""The command lines: ``python -m bwhelpers.sandbox`` and ``python -m bwhelpers status|diagnose|reset-state|run-notebooks``."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, sandbox_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(BW_STATE_FILE=str(tmp_path / "state.json"), BW_CONFIG_DIR=str(tmp_path / "cfg"))
    if sandbox_url:
        env["BW_SANDBOX_URL"] = sandbox_url
    return env


def bw(args: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwhelpers", *args], env=env, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 120), cwd=ROOT, **kw)


@pytest.mark.slow
def test_sandbox_command_prints_url_and_credentials_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bwhelpers.sandbox", "--port", "0", "--db", str(tmp_path / "s.db"),
                             "--order-delay", "0", "--reset"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        first = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert m, first
        url = m.group(1)
        lines = [proc.stdout.readline() for _ in range(5)]
        banner = first + "".join(lines)
        banner += "".join(proc.stdout.readline() for _ in range(3))  # to the admin key's line
        for shown in ("9900000", "9901", "sandbox-user", "sandbox-password", "u-sandbox", "sandbox-client-id",
                      "sandbox-client-secret", "/api/v1/oauth2/token"):
            assert shown in banner
        health = requests.get(f"{url}/_sandbox/health", timeout=5).json()
        assert health["service"] == "bwhelpers-sandbox" and health["schema_version"] >= 1
        r = requests.get(f"{url}/api/accounts/9900000/sites", auth=("sandbox-user", "sandbox-password"), timeout=5)
        assert r.status_code == 200 and "<Site>" in r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped" in out
    key = Path(f"{tmp_path / 's.db'}.admin-key").read_text().strip()
    assert key and key not in banner + out + err and f"in {tmp_path / 's.db'}.admin-key (not shown" in banner


@pytest.mark.slow
def test_sandbox_command_takes_api_credentials_and_never_prints_a_custom_secret(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bwhelpers.sandbox", "--port", "0", "--db", str(tmp_path / "s.db"),
                             "--reset", "--client-id", "my-client", "--client-secret", "my-very-secret-value"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        first = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert m, first
        url = m.group(1)
        banner = first + "".join(proc.stdout.readline() for _ in range(7))
        assert "/api/v1/oauth2/token" in banner and "my-client" in banner and "(custom, not shown)" in banner
        assert "my-very-secret-value" not in banner
        r = requests.post(f"{url}/api/v1/oauth2/token", auth=("my-client", "my-very-secret-value"),
                          data={"grant_type": "client_credentials"}, timeout=5)
        assert r.status_code == 200, r.text
        r = requests.get(f"{url}/api/accounts/9900000/sites",
                         headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=5)
        assert r.status_code == 200 and "<Site>" in r.text
        # the demo client id now has the custom secret only
        r = requests.post(f"{url}/api/v1/oauth2/token", auth=("my-client", "sandbox-client-secret"),
                          data={"grant_type": "client_credentials"}, timeout=5)
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "my-very-secret-value" not in out + err


@pytest.mark.slow
def test_sandbox_command_refuses_a_busy_port_clearly(tmp_path: Path, sandbox: Any) -> None:
    port = sandbox.url.rsplit(":", 1)[1]
    # a second *sandbox* on a port that something already serves: the bind fails with a clear message
    proc = subprocess.run([sys.executable, "-m", "bwhelpers.sandbox", "--port", port, "--db", str(tmp_path / "s.db")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr


@pytest.mark.slow
def test_status_diagnose_and_reset_state(tmp_path: Path, clean_sandbox: Any) -> None:
    env = _env(tmp_path, clean_sandbox.url)
    empty = bw(["status"], env)
    assert empty.returncode == 0 and "(empty)" in empty.stdout
    bad = bw(["diagnose"], env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "application" in bad.stdout and "False" in bad.stdout
    # the credential itself is checked first: a token was fetched and its roles cover messaging and numbers
    assert "API credentials" in bad.stdout and "roles: Messaging, Numbers" in bad.stdout
    # do the eight steps, then everything checks out
    script = "import bwhelpers; s = bwhelpers.connect(); [r for r in s.run_all()]"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    good = bw(["diagnose"], env)
    assert good.returncode == 0, good.stdout
    status = bw(["status"], env)
    saved = json.loads((tmp_path / "state.json").read_text())["profiles"]["sandbox"]
    assert saved["application"]["id"] in status.stdout and saved["location"]["id"] in status.stdout
    refused = bw(["reset-state"], env, stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert json.loads((tmp_path / "state.json").read_text())["profiles"]["sandbox"]["application"]
    reset = bw(["reset-state", "--yes"], env)
    assert reset.returncode == 0, reset.stderr
    after = json.loads((tmp_path / "state.json").read_text())
    assert not after.get("profiles", {}).get("sandbox", {}).get("application")


@pytest.mark.slow
def test_run_notebooks_names_the_failing_notebook_and_cell(tmp_path: Path, sandbox: Any) -> None:
    books = tmp_path / "books"
    books.mkdir()
    ok = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("y = 2"),
                                          nbformat.v4.new_code_cell("raise ValueError('boom in cell two')")])
    never = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("z = 3")])
    for name, nb in (("00_ok", ok), ("01_bad", bad), ("02_never", never)):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, books / f"{name}.ipynb")
    env = _env(tmp_path, sandbox.url)
    env["BW_NOTEBOOK_DIR"] = str(books)
    out = tmp_path / "out"
    run = bw(["run-notebooks", "--out", str(out)], env, timeout=300)
    assert run.returncode == 1
    assert "FAILED: 01_bad.ipynb, code cell 2" in run.stderr and "boom in cell two" in run.stderr
    assert (out / "00_ok.ipynb").exists() and (out / "01_bad.ipynb").exists()
    assert not (out / "02_never.ipynb").exists(), "the runner stops at the first failure"
    assert "00_ok" in run.stdout and "FAILED" in run.stdout


def test_run_notebooks_rejects_unknown_names(tmp_path: Path, sandbox: Any) -> None:
    run = bw(["run-notebooks", "99_nope"], _env(tmp_path, sandbox.url))
    assert run.returncode == 2
    assert "99_nope" in run.stderr and "00_start_here" in run.stderr
    assert "Traceback" not in run.stderr


def test_run_notebooks_with_a_dead_sandbox_url_says_so_in_one_line(tmp_path: Path) -> None:
    """BW_SANDBOX_URL pointing at a closed port: one line naming the first notebook, the address and the fix."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = bw(["run-notebooks", "--out", str(tmp_path / "out")], _env(tmp_path, f"http://127.0.0.1:{port}"))
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("FAILED before 00_start_here.ipynb: no sandbox answers at "
                               f"http://127.0.0.1:{port}"), lines[0]
    assert "Fix: start one with `python -m bwhelpers.sandbox` or unset BW_SANDBOX_URL" in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
