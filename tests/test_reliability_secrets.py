"""Secrets: the whole walkthrough with distinctive credentials, then a scan of everything it produced.

One sandbox process (its own db, DEBUG log) gets a fresh account with distinctive credentials. With
those credentials:

1. every notebook is executed twice (conftest's ``walkthrough``, tests/_walkthrough_run.py, the run
   tests/test_notebooks.py checks too): in order with a probe cell in each kernel, then headless
   (``bwhelpers.notebooks.run_notebooks``), the kernels logging at DEBUG into a file (an IPython startup file in a
   private ``IPYTHONDIR``);
2. the command line runs at DEBUG: ``status``, ``diagnose``, ``postman --out`` (without secrets);
3. the Python API walks the steps with DEBUG logging, with callback credentials and a request bin that
   challenges with 401, provokes errors (401, 400, a transport error) and prints every repr, table and
   request/response record it has.

Then every produced file is scanned: executed notebooks of both runs (outputs and metadata, widget state) and their
HTML, state files, lock and temp files, the config folder, the Postman exports, all logs, the sandbox
db with its ``-wal``/``-shm``, and every captured stdout/stderr. A secret anywhere fails the test.

The secrets are the account password, the API token and secret, the API credential's client secret, the
Basic ``Authorization`` values built from them, every OAuth access token (any JWT: the walkthrough runs on
the API credential, so its tokens are in every request), and the callback password. The callback password is the one exception in the
sandbox db: the emulated service must keep it to authenticate its callbacks (as Bandwidth does); it
is scanned for everywhere else.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

import _reliability_report as report
from _reliability_report import item, record
from _reliability_support import ROOT, TIMEOUT
from _walkthrough_run import CREDS
from conftest import control

plugin = report.fixture()

#: every access token the sandbox signs is a JWT whose base64 header starts like this ({"alg":...)
JWT_PREFIX = b"eyJhbGciOi"
CALLBACK_USER, CALLBACK_PASSWORD = "cb-user-leak", "CBPW-3a7e-leak-SECRET"


def secrets(include_callback: bool = True) -> dict[str, bytes]:
    out = {
        "password": CREDS["password"].encode(),
        "api_token": CREDS["api_token"].encode(),
        "api_secret": CREDS["api_secret"].encode(),
        "client_secret": CREDS["client_secret"].encode(),
        "access token (JWT)": JWT_PREFIX,
        "basic username:password": base64.b64encode(f"{CREDS['username']}:{CREDS['password']}".encode()),
        "basic client_id:client_secret": base64.b64encode(f"{CREDS['client_id']}:{CREDS['client_secret']}".encode()),
        "basic token:secret": base64.b64encode(f"{CREDS['api_token']}:{CREDS['api_secret']}".encode()),
    }
    if include_callback:
        out["callback password"] = CALLBACK_PASSWORD.encode()
        out["basic callback"] = base64.b64encode(f"{CALLBACK_USER}:{CALLBACK_PASSWORD}".encode())
    return out


class Scanner:
    def __init__(self) -> None:
        self.files: list[Path] = []
        self.leaks: list[str] = []
        self.bytes = 0
        self.streams = 0

    def scan_bytes(self, label: str, blob: bytes, include_callback: bool = True) -> None:
        self.bytes += len(blob)
        for name, value in secrets(include_callback).items():
            if value in blob:
                at = blob.index(value)
                self.leaks.append(f"{name} in {label}: ...{blob[max(0, at - 80):at + 40]!r}...")

    def scan_file(self, path: Path, include_callback: bool = True) -> None:
        self.files.append(path)
        self.scan_bytes(str(path), path.read_bytes(), include_callback)

    def scan_tree(self, folder: Path, since: float = 0.0) -> None:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.stat().st_mtime >= since:
                self.scan_file(p)

    def scan_stream(self, label: str, text: str) -> None:
        self.streams += 1
        self.scan_bytes(f"captured {label}", text.encode("utf-8", "replace"))


@pytest.mark.slow
@pytest.mark.timeout(900)  # the shared fixture runs the walkthrough twice (once per run of the suite)
def test_no_secret_anywhere_after_notebooks_cli_api_and_logs(walkthrough: Any, capfd: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sb, env, tmp_path = walkthrough.sb, walkthrough.env, walkthrough.tmp
    for key in list(os.environ):
        if key.startswith("BW_"):
            monkeypatch.delenv(key)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    started = walkthrough.started
    planted = Scanner()  # the scanner itself finds a planted secret in every form it searches
    for name, value in secrets().items():
        planted.scan_bytes(f"planted {name}", b'{"Authorization": "Basic ' + value + b'"}')
    assert len(planted.leaks) == len(secrets())
    scan = Scanner()

    # 1. the notebooks, executed in kernels that inherit the environment: probed in each kernel, then headless
    assert not walkthrough.failures and not any(walkthrough.errors.values()), \
        f"the walkthrough failed (test_notebooks names the notebook): {walkthrough.failures or walkthrough.errors}"
    assert walkthrough.rerun_code == 0, \
        "the headless walkthrough failed: " + walkthrough.streams["run_notebooks stderr"][-2000:]
    for label, text in walkthrough.streams.items():
        scan.scan_stream(label, text)
    from bwhelpers import steps
    for out in (walkthrough.executed, walkthrough.probed):
        assert len(list(out.glob("*.ipynb"))) == len(steps.PAGES), out
    assert (tmp_path / "logs" / "kernels.log").stat().st_size > 0, "the kernels did not log at DEBUG"
    # the walkthrough ran on the API credential (OAuth: its tokens are among the secrets searched), and the Postman
    # notebook exported its environment into BW_EXPORT_DIR (scanned below; the project's exports/ is checked untouched)
    issued = control(sb.url, "GET", "/_sandbox/credentials", params={"accountId": CREDS["account_id"]}, timeout=TIMEOUT)
    assert issued.json()["credentials"][0]["tokens_issued"] >= 1, issued.text
    assert list((tmp_path / "exports").glob("*.postman_environment.json")), "the Postman notebook exported nothing"

    # 2. the command line at DEBUG (root logger), each in its own process
    debug_cli = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); "
                 "from bwhelpers.__main__ import main; sys.exit(main(sys.argv[1:]))")
    for args in (["status"], ["diagnose"], ["postman", "--out", str(tmp_path / "postman")], ["reset-state", "--yes"]):
        proc = subprocess.run([sys.executable, "-c", debug_cli, *args], cwd=str(ROOT), env={**os.environ, **env},
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode in (0, 1), (args, proc.stderr[-1500:])
        scan.scan_stream(f"`{' '.join(args[:1])}` stdout", proc.stdout)
        scan.scan_stream(f"`{' '.join(args[:1])}` stderr", proc.stderr)
        if args[0] == "status":
            assert CREDS["account_id"] in proc.stdout or "sandbox" in proc.stdout
    assert list((tmp_path / "postman").glob("*.postman_environment.json"))

    # 3. the Python API at DEBUG: callback credentials, a challenging bin, errors, every repr. It walks the 2018
    # guide's steps (no 10DLC step: A2P not enforced) and uses the account's Basic credentials (the bin owner's calls,
    # a Basic error case), which the walkthrough ran without (API users decommissioned)
    sb.settings(legacy_basic_auth="allowed", a2p_enforcement=False)
    api_log = tmp_path / "logs" / "api.log"
    handler = logging.FileHandler(api_log)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    printed: list[str] = []
    try:
        printed += api_walk(sb.url, tmp_path)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    captured = capfd.readouterr()
    scan.scan_stream("API stdout", captured.out)
    scan.scan_stream("API stderr", captured.err)
    scan.scan_stream("API reprs, tables and exchanges", "\n".join(printed))

    # scan every produced file; the sandbox db while it runs (with its -wal), then after a clean stop
    time.sleep(0.5)
    db = sb.db
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if p.exists():
            scan.scan_file(p, include_callback=False)
    assert Path(f"{db}-wal").exists(), "expected the sandbox's write-ahead log to be there to scan"
    sb.stop()  # the shared run's sandbox (test_notebooks asserts on what the run recorded, not on the live sandbox)
    for p in sorted(db.parent.iterdir()):
        scan.scan_file(p, include_callback=False)
    scan.scan_tree(walkthrough.executed)
    scan.scan_tree(walkthrough.probed)
    scan.scan_tree(tmp_path / "project")
    scan.scan_tree(tmp_path / "userconfig") if (tmp_path / "userconfig").exists() else None
    scan.scan_tree(tmp_path / "postman")
    scan.scan_tree(tmp_path / "logs")
    scan.scan_tree(tmp_path / "api")
    scan.scan_tree(tmp_path / "exports")  # the Postman notebook's export (BW_EXPORT_DIR: never the project's)
    for exports in (ROOT / "exports", ROOT / "notebooks" / "exports"):
        assert not exports.is_dir() or not any(f.stat().st_mtime >= started for f in exports.iterdir()), \
            f"the test run wrote into {exports}"
    assert any(p.suffix == ".ipynb" for p in scan.files) and any(p.name.endswith("-wal") for p in scan.files)
    record("secrets", "scans", 1)
    record("secrets", "files_scanned", len(scan.files))
    record("secrets", "bytes_scanned", scan.bytes)
    record("secrets", "streams_scanned", scan.streams)
    record("secrets", "secrets_searched", len(secrets()))
    record("secrets", "leaks", len(scan.leaks))
    kinds = sorted({p.suffix or p.name for p in scan.files})
    item("secrets", f"{len(steps.PAGES)} notebooks executed twice (probed in each kernel, then headless; kernels logging "
                    f"at DEBUG), CLI status/diagnose/postman/reset-state at "
                    f"DEBUG, the Python API at DEBUG with callback credentials and errors; {len(scan.files)} files "
                    f"({', '.join(kinds)}) and {scan.streams} captured streams scanned for {len(secrets())} "
                    f"secret values (plain and Basic-auth base64)")
    item("secrets", "the sandbox db (+ -wal/-shm) holds no account password, token or secret (salted hashes only); "
                    "it does hold the application's callback password, which the emulated service needs to answer "
                    "the 401 challenge, as Bandwidth does")
    assert not scan.leaks, "secrets leaked:\n" + "\n".join(scan.leaks[:20])


def api_walk(url: str, tmp: Path) -> list[str]:
    """Steps 1-8 through the API with callback credentials; print everything a user would look at."""
    from bwhelpers.errors import BandwidthError
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    from bwhelpers.tables import state_frame

    shown: list[str] = []
    r = requests.put(f"{url}/_sandbox/bins/leaky", json={"require_auth": f"{CALLBACK_USER}:{CALLBACK_PASSWORD}"},
                     auth=(CREDS["username"], CREDS["password"]), timeout=TIMEOUT)
    assert r.status_code == 200
    from bwhelpers import tables
    from bwhelpers.connection import live_config
    config = live_config()
    assert config.account_id == CREDS["account_id"] and config.is_sandbox
    assert config.uses_oauth and config.client_id == CREDS["client_id"], "the walkthrough runs on API credentials"
    setup = Setup(config, StateStore(tmp / "api" / "state.json"), progress=False)
    app = setup.create_application(name="Leak App", callback_url=f"{url}/_sandbox/bins/leaky",
                                   callback_user=CALLBACK_USER, callback_password=CALLBACK_PASSWORD)
    results = [app, setup.create_location(name="Leak Loc"), setup.enable_sms(), setup.enable_mms(),
               setup.assign_application(), setup.order_numbers(area_code="919"), setup.wait_for_order(timeout=30),
               setup.send_message("+19195550100", "secret-free text")]
    event = setup.wait_for_event("message-delivered", timeout=20)
    contents = requests.get(f"{url}/_sandbox/bins/leaky", auth=(CREDS["username"], CREDS["password"]),
                            timeout=TIMEOUT).json()
    assert any(r["authorized"] for r in contents["requests"]), "the callback never used its credentials"
    shown += [repr(config), str(config), repr(setup), json.dumps(config.masked()), json.dumps(event)]
    source = getattr(setup.dashboard.auth, "source", None)
    assert source is not None and source.fetches >= 1
    shown += [repr(setup.dashboard.auth), repr(source), repr(setup.messaging)]
    for res in results:
        shown += [repr(res), str(res.data), tables.result_frame(res).to_string(), res._repr_html_()]
        if res.exchange is not None:
            shown += [res.exchange.as_http(), repr(res.exchange), json.dumps(res.exchange.request),
                      json.dumps(res.exchange.response)]
    shown += [state_frame(setup).to_string(), tables.diagnose_frame(setup.diagnose()).to_string(),
              tables.events_frame(setup.events()).to_string(),
              tables.result_frame(setup.dashboard.get_application(app.id)).to_string()]
    bad = [lambda: Setup(config.replace(client_secret="wrong-client-secret"), setup.state,
                         progress=False).dashboard.get_site(),
           lambda: Setup(config.replace(token_url="http://127.0.0.1:9/api/v1/oauth2/token"), setup.state,
                         progress=False).dashboard.get_site(),
           lambda: Setup(config.replace(auth="basic", password="wrong-password"), setup.state,
                         progress=False).dashboard.get_site(),
           lambda: setup.dashboard.create_application("", "https://a.example/cb"),
           lambda: setup.dashboard.get_location("999999"),
           lambda: Setup(config.replace(dashboard_url="http://127.0.0.1:9/api"), setup.state,
                         progress=False).dashboard.get_site()]
    for call in bad:
        try:
            call()
        except BandwidthError as exc:
            shown += [str(exc), repr(exc), json.dumps(exc.request, default=str), json.dumps(exc.response, default=str)]
            if exc.exchange is not None:
                shown.append(exc.exchange.as_http())
        else:
            pytest.fail("expected an error")
    print("\n".join(shown))
    return shown
