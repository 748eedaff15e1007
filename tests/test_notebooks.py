"""The walkthrough notebooks, executed for real (nbclient kernels) against a real sandbox over HTTP.

* committed notebooks carry no outputs and no widget state;
* the whole sequence runs headless, in order, and leaves the expected saved state and objects;
* the DataFrames the cells build are checked inside the kernel, not as HTML strings;
* with the sandbox's a2p_enforcement on (the default), the walkthrough ends message-delivered; skipping
  notebook 08 (10DLC) ends message-failed 4476, explained, and diagnose lists it first;
* re-running the sequence (headless, as the CLI does) creates no second application, location, order or TN Option
  Order, and leaves no kernel or ipc socket folder behind;
* each numbered notebook run alone after a reset ends with "run notebook NN first", not an error;
* executed notebooks (outputs, metadata, widget state) contain no secret: tests/test_reliability_secrets.py runs the
  whole walkthrough with distinctive credentials (OAuth) and scans the notebooks, their HTML, the state, the exports
  and every log (one walkthrough for both checks: it was run here a third time for a subset of that scan).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest
import requests

from bwhelpers import steps
from bwhelpers.notebooks import NOTEBOOK_DIR, find_notebooks, notebook_client, run_notebooks
from conftest import control

NOTEBOOKS = find_notebooks(NOTEBOOK_DIR)
NAMES = [p.stem for p in NOTEBOOKS]
#: notebook name -> its page's key (PROBES and the probes are keyed by page)
PAGE_KEYS = {p.notebook: p.key for p in steps.PAGES}


def test_the_walkthrough_has_every_step() -> None:
    assert NAMES == [p.notebook for p in steps.PAGES] and len(NAMES) >= 14


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_committed_notebooks_are_stripped(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, f"{path.name} carries saved widget state"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebooks_have_the_same_sections(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for section in ("## Overview", "## Prerequisites", "## Summary", "## What's next"):
        assert section in text, f"{path.name} lacks {section}"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "opens with a title"
    # the fixed text under the computed summary cannot contradict it (after a teardown the summary says "Run 01")
    nxt = next(c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## What's next"))
    assert nxt.split("\n", 2)[2].startswith("When this step is done"), f"{path.name}: {nxt!r}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert len(cell.source.strip().splitlines()) <= 5, f"{path.name}: a code cell over 5 lines"


# -- executing ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nb_sandbox(sandbox_factory: Any) -> Iterator[Any]:
    """Today's rules (a2p_enforcement on, the default), not the session sandbox's 2018 guide; nb_env resets it."""
    handle = sandbox_factory(order_delay=0.3, reset=True, settings={})
    yield handle
    handle.stop()


@pytest.fixture
def nb_env(nb_sandbox: Any, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Kernels inherit this: the test sandbox, a private state file, no credentials file."""
    monkeypatch.setenv("BW_SANDBOX_URL", nb_sandbox.url)
    monkeypatch.setenv("BW_STATE_FILE", str(tmp_path / "state.json"))
    monkeypatch.setenv("TQDM_MININTERVAL", "0.05")
    control(nb_sandbox.url, "POST", "/_sandbox/reset", timeout=10).raise_for_status()
    # API users are decommissioned, as on the real service since 2026-12-02: the notebooks must run on OAuth
    control(nb_sandbox.url, "PUT", "/_sandbox/settings", json={"order_transition": {"mode": "seconds", "seconds": 0.3},
                                                              "legacy_basic_auth": "decommissioned"},
                 timeout=10).raise_for_status()
    return {"url": nb_sandbox.url, "state": tmp_path / "state.json", "out": tmp_path / "out",
            "creds": nb_sandbox.credentials}


def execute(path: Path, probe: str | None = None, timeout: int = 120) -> tuple[Any, Any]:
    """Run a notebook in a fresh kernel; optionally run ``probe`` afterwards in the same kernel and
    return the JSON it prints (so tests inspect the real DataFrames and variables)."""
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


def outputs_text(nb: Any) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for value in (out.get("data") or {}).values():
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


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


def api(env: dict[str, Any], path: str) -> requests.Response:
    """A Dashboard GET with a Bearer token (Basic is decommissioned in these tests)."""
    c = env["creds"]
    token = requests.post(f"{env['url']}/api/v1/oauth2/token", auth=(c["client_id"], c["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    return requests.get(f"{env['url']}/api/accounts/{c['account_id']}{path}",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)


def count(env: dict[str, Any], path: str, element: str) -> int:
    r = api(env, path)
    if r.status_code == 204:
        return 0
    assert r.status_code == 200, r.text
    return r.text.count(f"<{element}>")


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


def _kernel_folders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ipc socket folders (``bwk-*``) the kernels started from now on create, as they are created (other
    processes' kernels in /tmp are not looked at)."""
    import tempfile

    created: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        folder = real_mkdtemp(*args, **kwargs)
        if os.path.basename(folder).startswith("bwk-"):
            created.append(folder)
        return folder

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    return created


@pytest.mark.slow
def test_walkthrough_runs_in_order_and_rerun_makes_no_duplicates(nb_env: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    probes: dict[str, Any] = {}
    for path in NOTEBOOKS:  # probes by page key: the pages after the guide's steps move when a step is added
        key = PAGE_KEYS[path.stem]
        nb, probes[key] = execute(path, PROBES.get(key))
        assert not errors(nb), (path.name, errors(nb))
    state = json.loads(nb_env["state"].read_text())
    saved = state["profiles"]["sandbox"]
    # the saved IDs carried from notebook to notebook, each in a fresh kernel
    assert probes["application"]["id"] == saved["application"]["id"]
    assert "ApplicationId" in probes["application"]["cols"]
    assert probes["location"]["id"] == saved["location"]["id"]
    assert probes["orders"]["found"] >= 1
    assert probes["numbers"]["status"] == "COMPLETE"
    assert probes["numbers"]["numbers"] == saved["numbers"]
    assert "CompletedQuantity" in probes["numbers"]["cols"]
    assert probes["a2p"] == {"status": "COMPLETE", "id": saved["a2p"]["order_id"], "reg": ["SUCCESS"],
                                         "campaigns": ["CSBX001", "CPND001"]}
    assert saved["a2p"]["campaign_id"] == "CSBX001" and saved["a2p"]["numbers"] == saved["numbers"]
    assert probes["messages"]["id"] == saved["messages"][0]["id"]
    assert probes["messages"]["delivered"] is True
    # the pictures page: the project's picture uploaded and sent as MMS, a picture reply downloaded and shown
    assert probes["pictures"] == {"sent": True, "pics": ["image/png"], "media": "smile.png", "carried": True}
    events = probes["events"]
    assert {"message-delivered", "message-failed", "message-received"} <= set(events["types"])
    assert "4720" in events["codes"]
    assert "invalid-destination-address" in events["explained"]
    assert probes["teardown"]["rows"] >= 4
    # the objects on the (real, HTTP) sandbox
    assert count(nb_env, "/applications", "ApplicationId") == 1
    assert count(nb_env, f"/sites/{nb_env['creds']['site_id']}/sippeers", "PeerId") == 1
    orders_before = count(nb_env, "/orders", "OrderIdUserIdDate")
    assert orders_before == 1
    assert count(nb_env, "/tnoptions", "TnOptionOrderSummary") == 1
    # re-run the whole sequence headless (the CLI's run_notebooks): nothing new is created, and each notebook's
    # kernel (on private ipc sockets) is shut down and its own socket folder removed
    import psutil

    created = _kernel_folders(monkeypatch)
    assert run_notebooks(out=nb_env["out"], quiet=True) == 0
    kernels = [p for p in psutil.Process().children(recursive=True) if "ipykernel_launcher" in " ".join(p.cmdline())]
    assert kernels == [], kernels
    assert len(created) == len(NOTEBOOKS), "each notebook's kernel uses its own ipc socket folder"
    assert [f for f in created if os.path.exists(f)] == [], "a socket folder was left behind"
    assert count(nb_env, "/applications", "ApplicationId") == 1
    assert count(nb_env, f"/sites/{nb_env['creds']['site_id']}/sippeers", "PeerId") == 1
    assert count(nb_env, "/orders", "OrderIdUserIdDate") == orders_before
    assert count(nb_env, "/tnoptions", "TnOptionOrderSummary") == 1  # no second TN Option Order
    assert (nb_env["out"] / "01_create_application.html").exists()


@pytest.mark.slow
def test_skipping_the_a2p_step_ends_in_4476_explained_and_diagnosed(nb_env: dict[str, Any]) -> None:
    """Steps 1-7 done (by the client over HTTP: the walkthrough test runs their notebooks), then the send notebook
    without the 10DLC step: carriers (the sandbox) reject the unregistered number."""
    _prepare("numbers", {})
    nb, probe = execute(NOTEBOOK_DIR / steps.page("messages").filename,
                        "import json; df = page.diagnose(); "
                        "print(json.dumps({'first': df.iloc[0].to_dict(), 'failing': int((~df['ok']).sum())}))")
    assert not errors(nb), errors(nb)
    text = outputs_text(nb)
    assert "message-failed" in text and "4476" in text
    assert "TN Option Order" in text and "step 8" in text  # the fix names the step
    first = probe["first"]
    assert first["check"] == "10DLC registration" and first["ok"] is False and probe["failing"] == 1
    assert "4476" in first["finding"] and "register_a2p" in first["fix"]


STANDALONE = [p for p in NOTEBOOKS if p.stem[:2] in ("03", "04", "05", "06", "07", "08", "09", "10", "11")]


@pytest.mark.parametrize("path", STANDALONE, ids=[p.stem for p in STANDALONE])
@pytest.mark.slow
def test_each_step_alone_after_reset_says_which_notebook_first(path: Path, nb_env: dict[str, Any]) -> None:
    nb, _ = execute(path)
    text = outputs_text(nb)
    assert not errors(nb), errors(nb)
    assert "Traceback (most recent call last)" not in text
    last_outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert last_outputs, "the notebook showed nothing"
    final = re.sub(r"<[^>]+>", "", json.dumps(last_outputs[-1]))  # the text a person reads (the name is a link)
    assert "Run notebook 0" in final and "first" in final, final[:500]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            said = sum("Prerequisite missing" in json.dumps(o) for o in cell.outputs)  # boxes, not words
            assert said <= 1, f"cell {index} repeats the prerequisite warning {said} times"


@pytest.mark.parametrize("key", ["application", "location", "postman", "teardown"])
@pytest.mark.slow
def test_steps_without_prerequisites_run_alone(key: str, nb_env: dict[str, Any]) -> None:
    nb, _ = execute(NOTEBOOK_DIR / steps.page(key).filename)
    assert not errors(nb), errors(nb)


def _prepare(upto: str, forms: dict[str, Any]) -> Any:
    """Steps done by the client over HTTP up to ``upto``, and form values saved as if the user had typed them."""
    from bwhelpers.connection import connect

    setup = connect(quiet=True)
    setup.progress = False
    for key, call in (("application", setup.create_application), ("location", setup.create_location),
                      ("sms", setup.enable_sms), ("mms", setup.enable_mms), ("assigned", setup.assign_application),
                      ("orders", setup.order_numbers), ("numbers", setup.wait_for_order)):
        call()
        if key == upto:
            break
    with setup.state.transaction(setup.profile) as st:
        st["forms"] = forms
    return setup


@pytest.mark.slow
def test_a_failed_order_runs_without_a_traceback_and_saves_no_number(nb_env: dict[str, Any]) -> None:
    from bwhelpers import steps

    setup = _prepare("assigned", {"orders": {"criterion": "area_code", "value": "907", "quantity": 1}})
    texts = []
    for key in ("orders", "numbers"):
        nb, _ = execute(NOTEBOOK_DIR / steps.page(key).filename)
        assert not errors(nb), errors(nb)
        texts.append(re.sub(r"<[^>]+>", " ", outputs_text(nb)))
    assert "No numbers found" in texts[0]
    assert "FAILED: no number was allocated" in texts[1] and "5018" in texts[1]
    assert "Saved phone numbers" not in texts[1]
    assert setup.saved.get("numbers", []) == []


@pytest.mark.slow
def test_a_refused_send_runs_without_a_traceback_and_its_waits_return(nb_env: dict[str, Any]) -> None:
    from bwhelpers import steps

    setup = _prepare("numbers", {"messages": {"to": "12345", "text": "hello"}})
    nb, _ = execute(NOTEBOOK_DIR / steps.page("messages").filename)
    assert not errors(nb), errors(nb)
    text = re.sub(r"<[^>]+>", " ", outputs_text(nb))
    assert "Not waiting for message-delivered: nothing was sent" in text
    assert "within 20 s" not in text, "the wait did not run to its timeout"
    assert not setup.saved.get("messages")
