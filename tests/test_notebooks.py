"""The walkthrough notebooks, executed for real (nbclient kernels) against a real sandbox over HTTP.

* committed notebooks carry no outputs and no widget state;
* the whole sequence runs headless, in order, and leaves the expected saved state and objects;
* the DataFrames the cells build are checked inside the kernel, not as HTML strings;
* with the sandbox's a2p_enforcement on (the default), the walkthrough ends message-delivered; skipping
  notebook 08 (10DLC) ends message-failed 4476, explained, and diagnose lists it first;
* re-running the sequence (headless, as the CLI does) creates no second application, location, order or TN Option
  Order, and leaves no kernel or ipc socket folder behind;
* each numbered notebook run alone after a reset ends with "run notebook NN first", not an error;
* executed notebooks (outputs, metadata, widget state) contain no secret: tests/test_reliability_secrets.py scans
  what the same two runs of the walkthrough produced (conftest's ``walkthrough``, tests/_walkthrough_run.py: the
  whole walkthrough probed in each kernel, then again headless, with distinctive credentials on OAuth; one run of
  each for both modules).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

from bwhelpers import steps
from _walkthrough_run import COUNTED, CREDS, errors, execute
from bwhelpers.notebooks import NOTEBOOK_DIR, find_notebooks
from bwhelpers.sandbox.tendlc.models import campaign_ids
from conftest import control

NOTEBOOKS = find_notebooks(NOTEBOOK_DIR)
NAMES = [p.stem for p in NOTEBOOKS]


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


def outputs_text(nb: Any) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for value in (out.get("data") or {}).values():
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.xdist_group("walkthrough")  # in the secrets scan's worker: the shared run runs once (conftest)
@pytest.mark.timeout(900)  # the shared fixture runs the walkthrough twice (once per run of the suite)
def test_walkthrough_runs_in_order_and_rerun_makes_no_duplicates(walkthrough: Any) -> None:
    """The shared run (conftest's ``walkthrough``): every notebook in order, each in a fresh kernel, probed in its
    kernel; then the whole sequence again headless (the CLI's run_notebooks)."""
    run = walkthrough
    assert not run.failures, f"notebooks that could not run: {run.failures}"
    assert list(run.errors) == [p.name for p in NOTEBOOKS], f"notebooks that did not run: {run.errors.keys()}"
    for name, found in run.errors.items():
        assert not found, (name, found)
    probes = run.probes
    saved = run.saved["profiles"][run.profile]
    # the saved IDs carried from notebook to notebook, each in a fresh kernel
    assert probes["application"]["id"] == saved["application"]["id"]
    assert "ApplicationId" in probes["application"]["cols"]
    assert probes["location"]["id"] == saved["location"]["id"]
    assert probes["orders"]["found"] >= 1
    assert probes["numbers"]["status"] == "COMPLETE"
    assert probes["numbers"]["numbers"] == saved["numbers"]
    assert "CompletedQuantity" in probes["numbers"]["cols"]
    registered, pending = campaign_ids(CREDS["account_id"])  # the account's pre-registered and pending campaigns
    assert probes["a2p"] == {"status": "COMPLETE", "id": saved["a2p"]["order_id"], "reg": ["SUCCESS"],
                             "campaigns": [registered, pending]}
    assert saved["a2p"]["campaign_id"] == registered and saved["a2p"]["numbers"] == saved["numbers"]
    assert probes["messages"]["id"] == saved["messages"][0]["id"]
    assert probes["messages"]["delivered"] is True
    # the pictures page: the project's picture uploaded and sent as MMS, a picture reply downloaded and shown
    assert probes["pictures"] == {"sent": True, "pics": ["image/png"], "media": "smile.png", "carried": True}
    events = probes["events"]
    assert {"message-delivered", "message-failed", "message-received"} <= set(events["types"])
    assert "4720" in events["codes"]
    assert "invalid-destination-address" in events["explained"]
    assert probes["teardown"]["rows"] >= 4
    # the objects on the (real, HTTP) sandbox: one of each
    assert run.counts_first == {"applications": 1, "sippeers": 1, "orders": 1, "tnoptions": 1}, run.counts_first
    # the whole sequence re-run headless (the CLI's run_notebooks): nothing new is created (no second TN Option
    # Order), and each notebook's kernel (on private ipc sockets) is shut down and its own socket folder removed
    assert run.rerun_code == 0, run.streams["run_notebooks stderr"][-3000:]
    assert run.rerun_kernels == [], run.rerun_kernels
    assert len(run.rerun_folders) == len(NOTEBOOKS), "each notebook's kernel uses its own ipc socket folder"
    assert [f for f in run.rerun_folders if os.path.exists(f)] == [], "a socket folder was left behind"
    assert run.counts_rerun == run.counts_first, run.counts_rerun
    assert set(COUNTED) == set(run.counts_rerun)
    assert (run.executed / "01_create_application.html").exists()


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
