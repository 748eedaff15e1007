"""The whole walkthrough, run twice in one environment, once per test run: shared by tests/test_notebooks.py (the
steps carry their IDs, each notebook's DataFrames checked in its kernel, a re-run creates nothing twice) and
tests/test_reliability_secrets.py (nothing the runs produced holds a secret). Their tests are one xdist group,
"walkthrough" (conftest.XDIST_GROUPS for the secrets module, a mark on test_notebooks' walkthrough test), so
conftest's session fixture ``walkthrough`` runs once, in that group's worker.

The environment is the one the secrets check needs and the notebooks' check accepts: a sandbox process of its own
(DEBUG log file, db under tmp), today's rules (A2P enforced), API users decommissioned (the notebooks must run on
OAuth), orders COMPLETE after 0.3 s; a fresh account with distinctive credentials, given to the kernels in BW_*
variables; the kernels log at DEBUG into a file (an IPython startup file in a private ``IPYTHONDIR``).

1. every notebook in order, each in a fresh kernel, with a probe cell run afterwards in the same kernel (the JSON it
   prints: the real DataFrames and variables); the executed notebooks are written to ``probed/``;
2. the objects on the sandbox counted; then the whole sequence again, headless (the CLI's ``run_notebooks``), into
   ``executed/``, its kernels' ipc socket folders recorded; the objects counted again.

Nothing here asserts: the run records what happened (a notebook's errors, return codes, what was printed to
stdout/stderr at the file-descriptor level, kernels left running) and each test asserts its part, naming the
notebook. A failed notebook does not stop the run (the next notebooks show their missing prerequisite).
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import nbformat
import requests

from _reliability_support import TIMEOUT, SandboxProcess
from conftest import control

#: the account the walkthrough runs on: distinctive values, so the secrets check can search for every one
CREDS = {"account_id": "9977001", "site_id": "9977", "username": "leaktest-user-7f3a",
         "password": "PW-ZqX9-leak-4b1e-SECRET", "user_id": "u-leak-7f3a", "api_token": "TOK-8c2d-leak-SECRET",
         "api_secret": "SEC-1e5f-leak-SECRET", "client_id": "leaktest-client-7f3a",
         "client_secret": "CS-2d9a-leak-SECRET"}
ENV_NAMES = {"account_id": "BW_ACCOUNT_ID", "site_id": "BW_SITE_ID", "username": "BW_USERNAME",
             "password": "BW_PASSWORD", "user_id": "BW_USER_ID", "api_token": "BW_API_TOKEN",
             "api_secret": "BW_API_SECRET", "client_id": "BW_CLIENT_ID", "client_secret": "BW_CLIENT_SECRET"}

#: page key -> a cell run after the notebook in its kernel, printing JSON (tests/test_notebooks.py checks it)
PROBES = {
    "application": "import json; from bwhelpers.tables import result_frame; df = result_frame(app); "
                   "print(json.dumps({'cols': list(df.columns), 'id': app.id, 'rows': len(df)}))",
    "location": "import json; from bwhelpers.tables import result_frame; "
                "print(json.dumps({'id': location.id, 'cols': list(result_frame(location).columns)}))",
    "orders": "import json; from bwhelpers.tables import result_frame; "
              "print(json.dumps({'status': order.status, 'found': len(result_frame(found))}))",
    "numbers": "import json; from bwhelpers.tables import result_frame; "
               "print(json.dumps({'status': order.status, 'numbers': order.numbers, "
               "'cols': list(result_frame(order).columns)}))",
    "a2p": "import json; from bwhelpers.tables import result_frame; r = page.registration(); "
           "print(json.dumps({'status': a2p.status, 'id': a2p.id, 'reg': r['status'].tolist(), "
           "'campaigns': page.campaigns()['campaignId'].tolist()}))",
    "messages": "import json; from bwhelpers.tables import result_frame; "
                "ev = page.setup.wait_for_event(accept_failure=True, timeout=10); "
                "print(json.dumps({'id': message.id, 'cols': list(result_frame(message).columns), "
                "'delivered': ev['type'] == 'message-delivered'}))",
    "pictures": "import json; print(json.dumps({'sent': bool(mms and mms.id), 'pics': [p.content_type for "
                "p in pictures], 'media': page.setup.current.media[-1].id, "
                "'carried': page.setup.current.media[-1].message_id == mms.id}))",
    "events": "import json; df = page.events(); print(json.dumps({'types': sorted(set(df['type'])), "
              "'codes': [str(c) for c in df['errorCode'].dropna()], "
              "'explained': list(df.get('error_name', []))}))",
    "teardown": "import json; df = page.diagnose(); print(json.dumps({'cols': list(df.columns), "
                "'rows': len(df)}))",
}


def execute(path: Path, probe: str | None = None, timeout: int = 120) -> tuple[Any, Any]:
    """Run a notebook in a fresh kernel; optionally run ``probe`` afterwards in the same kernel and
    return the JSON it prints (so tests inspect the real DataFrames and variables)."""
    from bwhelpers.notebooks import notebook_client

    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path, timeout=timeout)
    probed = None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        if probe:
            cell = nbformat.v4.new_code_cell(probe)
            nb.cells.append(cell)
            client.execute_cell(cell, len(nb.cells) - 1)
            nb.cells.pop()
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            probed = json.loads(text.strip().splitlines()[-1])
    return nb, probed


def errors(nb: Any) -> list[str]:
    """Error outputs, and tracebacks printed to stderr."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{out.get('ename')}: {out.get('evalue')}")
            elif out.get("name") == "stderr" and "Traceback (most recent call last)" in out.get("text", ""):
                found.append(out["text"][-500:])
    return found


def count(url: str, creds: dict[str, str], path: str, element: str) -> int:
    """How many ``<element>`` a Dashboard GET lists (a Bearer token: Basic is decommissioned here)."""
    token = requests.post(f"{url}/api/v1/oauth2/token", auth=(creds["client_id"], creds["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=TIMEOUT).json()["access_token"]
    r = requests.get(f"{url}/api/accounts/{creds['account_id']}{path}",
                     headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    if r.status_code == 204:
        return 0
    r.raise_for_status()
    return r.text.count(f"<{element}>")


#: what test_notebooks counts after each run: label -> (path, element)
COUNTED = {"applications": ("/applications", "ApplicationId"),
           "sippeers": (f"/sites/{CREDS['site_id']}/sippeers", "PeerId"),
           "orders": ("/orders", "OrderIdUserIdDate"),
           "tnoptions": ("/tnoptions", "TnOptionOrderSummary")}


@dataclass
class Walkthrough:
    """What the two runs did (see the module's docstring)."""

    sb: SandboxProcess
    env: dict[str, str]  #: the BW_* variables and IPYTHONDIR the kernels ran with
    tmp: Path
    started: float  #: wall-clock time before the runs (files written since then are the runs')
    state: Path
    profile: str = ""
    saved: dict[str, Any] = field(default_factory=dict)  #: the state file after run 1 (parsed)
    probes: dict[str, Any] = field(default_factory=dict)  #: page key -> the probe's JSON (run 1)
    errors: dict[str, list[str]] = field(default_factory=dict)  #: notebook file -> its errors (run 1)
    failures: dict[str, str] = field(default_factory=dict)  #: notebook file -> why it could not run (run 1)
    counts_first: dict[str, int] = field(default_factory=dict)
    rerun_code: int | None = None
    rerun_kernels: list[str] = field(default_factory=list)  #: kernels still running after run 2
    rerun_folders: list[str] = field(default_factory=list)  #: the ipc socket folders run 2's kernels created
    counts_rerun: dict[str, int] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)  #: label -> what went to stdout/stderr

    @property
    def probed(self) -> Path:
        return self.tmp / "probed"

    @property
    def executed(self) -> Path:
        return self.tmp / "executed"


@contextlib.contextmanager
def _output_to(folder: Path, label: str, streams: dict[str, str]) -> Iterator[None]:
    """stdout and stderr, of this process (sys and file descriptor) and of the kernels it starts (they inherit the
    descriptors), into files; their texts are kept in ``streams`` (what pytest's capfd gives a test)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: open(folder / f"{label}.{name}", "w+", encoding="utf-8") for name in ("out", "err")}
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {1: os.dup(1), 2: os.dup(2)}
    try:
        os.dup2(files["out"].fileno(), 1)
        os.dup2(files["err"].fileno(), 2)
        with contextlib.redirect_stdout(files["out"]), contextlib.redirect_stderr(files["err"]):
            yield
    finally:
        for f in files.values():
            f.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        for name, f in files.items():
            f.seek(0)
            streams[f"{label} {'stdout' if name == 'out' else 'stderr'}"] = f.read()
            f.close()


def run(tmp: Path) -> Walkthrough:
    """Start the sandbox, make the account, run the walkthrough twice (see the module's docstring). The caller
    stops ``.sb`` (it is stopped here if the run raises)."""
    (tmp / "logs").mkdir(parents=True)
    sb = SandboxProcess(tmp / "sandbox" / "sandbox.db", order_delay=0.2, log_level="DEBUG",
                        log_file=tmp / "logs" / "sandbox.log", extra=["--a2p-enforcement", "on"])
    sb.start(reset=True)
    try:
        return _walk(sb, tmp)
    except BaseException:
        sb.stop()
        raise


def _walk(sb: SandboxProcess, tmp: Path) -> Walkthrough:
    import psutil

    from bwhelpers import steps
    from bwhelpers.notebooks import NOTEBOOK_DIR, find_notebooks, run_notebooks

    r = control(sb.url, "POST", "/_sandbox/accounts", json=CREDS, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    # today's rules (A2P enforced: the walkthrough ends delivered only through its 10DLC step), API users
    # decommissioned as on the real service since 2026-12-02 (the notebooks must run on OAuth), quick orders
    sb.settings(delivery_delay=0.05, a2p_enforcement=True, legacy_basic_auth="decommissioned",
                order_transition={"mode": "seconds", "seconds": 0.3})
    state = tmp / "project" / ".bwhelpers" / "state.json"
    env = {"BW_TARGET": "sandbox", "BW_SANDBOX_URL": sb.url, "BW_DASHBOARD_URL": f"{sb.url}/api",
           "BW_MESSAGING_URL": f"{sb.url}/api/v2", "BW_STATE_FILE": str(state),
           "BW_CONFIG_DIR": str(tmp / "userconfig"), "BW_EXPORT_DIR": str(tmp / "exports"),
           "TQDM_MININTERVAL": "0.05"}
    env.update({ENV_NAMES[k]: v for k, v in CREDS.items()})
    # the kernels log at DEBUG into a file: an IPython startup file in a private IPYTHONDIR
    startup = tmp / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-debug-logging.py").write_text(
        "import logging\nlogging.basicConfig(level=logging.DEBUG, filename=%r, "
        "format='%%(asctime)s %%(name)s %%(levelname)s %%(message)s')\n" % str(tmp / "logs" / "kernels.log"))
    env["IPYTHONDIR"] = str(tmp / "ipython")
    done = Walkthrough(sb=sb, env=env, tmp=tmp, started=time.time() - 1, state=state)
    keys = {p.notebook: p.key for p in steps.PAGES}
    created: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        folder = real_mkdtemp(*args, **kwargs)
        if os.path.basename(folder).startswith("bwk-"):
            created.append(folder)
        return folder

    with _pytest_monkeypatch() as mp:
        for name in [k for k in os.environ if k.startswith("BW_")]:
            mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        with _output_to(tmp / "logs", "probed-run", done.streams):
            for path in find_notebooks(NOTEBOOK_DIR):
                key = keys[path.stem]
                try:
                    nb, done.probes[key] = execute(path, PROBES.get(key))
                except Exception as exc:  # a cell that raised, a probe that printed no JSON: its test says which
                    done.failures[path.name] = f"{type(exc).__name__}: {str(exc)[-1500:]}"
                    continue
                done.errors[path.name] = errors(nb)
                done.probed.mkdir(exist_ok=True)
                nbformat.write(nb, done.probed / path.name)
        done.counts_first = {k: count(sb.url, CREDS, *v) for k, v in COUNTED.items()}
        done.saved = json.loads(state.read_text()) if state.exists() else {}
        mp.setattr(tempfile, "mkdtemp", recording_mkdtemp)
        with _output_to(tmp / "logs", "run_notebooks", done.streams):
            done.rerun_code = run_notebooks(out=done.executed, quiet=True)
        mp.setattr(tempfile, "mkdtemp", real_mkdtemp)
        done.rerun_kernels = [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)
                              if "ipykernel_launcher" in " ".join(p.cmdline())]
        done.rerun_folders = created
        done.counts_rerun = {k: count(sb.url, CREDS, *v) for k, v in COUNTED.items()}
        from bwhelpers.connection import live_config

        done.profile = live_config().profile
    return done


@contextlib.contextmanager
def _pytest_monkeypatch() -> Iterator[Any]:
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        yield mp
