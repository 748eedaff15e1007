"""A headless run that tells the truth (issue 24): a notebook whose step did not complete fails the run, naming the
notebook, the cell and the cause, even when no cell raised; a wait for a message the sandbox does not know ends at
once; saved callback URLs follow the sandbox when it moves to another port (a second run on a shared machine)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import nbformat
import pytest
from _client_helpers import closed_port, config_for

from bwhelpers import views
from bwhelpers.exceptions import UnknownMessageError
from bwhelpers.notebooks import expected_failures, incomplete_step, run_notebooks
from bwhelpers.setup import Setup
from bwhelpers.state import StateStore
from bwhelpers.ui.display import note_html


def _nb(*cells: tuple[str, list[str]]) -> Any:
    nb = nbformat.v4.new_notebook()
    for html, tags in cells:
        cell = nbformat.v4.new_code_cell("x")
        cell.metadata["tags"] = tags
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "x"})]
        nb.cells.append(cell)
    return nb


def test_a_box_saying_a_step_did_not_complete_fails_the_notebook_with_its_cause() -> None:
    ok = views.callout("ok", "Received message-delivered")
    info = views.callout("info", "Enabling SMS is already done")
    error = views.callout("error", "Order 1234 FAILED: no number was allocated")
    assert incomplete_step(_nb((ok, []), (info, []))) is None, "success and information are not failures"
    assert incomplete_step(_nb((ok, []), (error, []))) == (2, "Order 1234 FAILED: no number was allocated")
    prereq = note_html("⚠ Prerequisite missing for this target: <b>run 06 first</b>", "warn", incomplete=True)
    cell, cause = incomplete_step(_nb((prereq, []))) or (0, "")
    assert cell == 1 and "Prerequisite missing" in cause and "<b>" not in cause
    # a deliberate failure (a box marked expected) in a cell tagged expected-failure does not count; any other
    # failure in that cell does, and so does a deliberate one in a cell the notebook did not tag
    deliberate = views.callout("error", "Expected failure: message-failed 4720", css_class=views.EXPECTED)
    assert incomplete_step(_nb((deliberate, ["expected-failure"]), (ok, []))) is None
    assert expected_failures(_nb((deliberate, ["expected-failure"]))) == [(1, "Expected failure: message-failed 4720")]
    assert incomplete_step(_nb((error, ["expected-failure"]), (ok, []))) == (
        1, "Order 1234 FAILED: no number was allocated")
    assert incomplete_step(_nb((ok, []), (deliberate, []))) == (2, "Expected failure: message-failed 4720")


def test_the_events_notebook_tags_its_deliberate_failure() -> None:
    """The events page's wait for the failing destination's message-failed is the one cell tagged expected-failure."""
    from bwhelpers import steps

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / steps.page("events").filename,
                       as_version=4)
    tagged = [c.source for c in nb.cells if "expected-failure" in (c.metadata.get("tags") or [])]
    assert tagged == ['failed_id = failing.id if failing else None\n'
                      'page.wait_for_event("message-failed", message_id=failed_id)'], tagged


def test_a_wait_for_a_message_the_sandbox_does_not_know_ends_at_once(setup: Any) -> None:
    with pytest.raises(UnknownMessageError) as caught:
        setup.wait_for_event("message-delivered", message_id="no-such-message-id", timeout=600)
    assert "no message no-such-message-id" in str(caught.value.description)
    assert "send the message again" in str(caught.value.fix)


def test_saved_callback_urls_follow_the_sandbox_to_its_new_port(tmp_path: Path,
                                                                sandbox_factory: Callable[..., Any]) -> None:
    """The first run's sandbox made the application with its bin's URL; a second run finds the same db served on
    another port (8765 belonged to someone else): reusing the application points it at the new sandbox's bin, on
    the server and in the saved state, so the delivery receipt arrives."""
    db = tmp_path / "sandbox.db"
    store = StateStore(tmp_path / "state.json")
    first = sandbox_factory(db=db, order_delay=0, reset=True)
    try:
        s1 = Setup(config_for(first), store, progress=False)
        s1.create_application()
        old = s1.saved["application"]["callback_url"]
        assert old.startswith(first.url)
    finally:
        first.stop()
    second = sandbox_factory(db=db, order_delay=0)  # the same db served again, on another port
    try:
        assert second.url != first.url
        s2 = Setup(config_for(second), store, progress=False)
        reused = s2.create_application()
        assert reused.reused
        saved = s2.saved["application"]
        assert saved["callback_url"] == f"{second.url}/_sandbox/bins/{saved['bin']}"
        assert saved["outbound_callback_url"].startswith(second.url)
        server = s2.dashboard.get_application(saved["id"]).data
        assert server.get("InboundCallbackUrl") == saved["callback_url"], server
        assert server.get("OutboundCallbackUrl") == saved["outbound_callback_url"], server
    finally:
        second.stop()


@pytest.mark.slow
def test_the_headless_run_fails_naming_the_notebook_when_nothing_answers(
        isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Every URL at a closed port (a real account's target): nothing raises in the notebook, but its first step
    could not connect; the run exits non-zero naming the notebook, the cell and the cause."""
    port = closed_port()
    for name, value in {"BW_TARGET": "real", "BW_ACCOUNT_ID": "9900000", "BW_SITE_ID": "9901",
                        "BW_CLIENT_ID": "some-client", "BW_CLIENT_SECRET": "Some-Secret-123456",
                        "BW_DASHBOARD_URL": f"http://127.0.0.1:{port}/api",
                        "BW_MESSAGING_URL": f"http://127.0.0.1:{port}/api/v2",
                        "BW_TOKEN_URL": f"http://127.0.0.1:{port}/api/v1/oauth2/token"}.items():
        monkeypatch.setenv(name, value)
    assert run_notebooks(out=tmp_path / "out", only=["00_start_here", "01_create_application"], quiet=True) == 1
    err = capsys.readouterr().err
    assert "FAILED: 00_start_here.ipynb, code cell" in err, err
    # the cause, not only the kind of error: what could not be reached, and how to fix it
    line = next(ln for ln in err.splitlines() if ln.startswith("FAILED: 00_start_here.ipynb"))
    assert "TransportError: " in line and "could not connect" in line and f"127.0.0.1:{port}" in line, line


def test_the_headless_run_never_steps_on_an_open_labs_sandbox(isolated_env: Path, tmp_path: Path,
                                                                sandbox_factory: Callable[..., Any],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A JupyterLab's sandbox holds the well-known port (its state in its own db). A headless run with another
    BW_SANDBOX_DB (its own state) starts a sandbox of its own on a free port and says so, leaving the lab's alone;
    a run on the lab's own db shares it, and says that too (review 24d: a run's number showed up on the lab's phone)."""
    from bwhelpers import sandbox
    from bwhelpers.connection import share_sandbox

    lab = sandbox_factory(order_delay=0, reset=True)
    monkeypatch.setattr(sandbox, "DEFAULT_PORT", int(lab.url.rsplit(":", 1)[1]))
    monkeypatch.setattr(sandbox, "_running", {})  # as in the run's own process: the lab's sandbox is another's
    monkeypatch.delenv("BW_SANDBOX_URL", raising=False)
    monkeypatch.setenv("BW_SANDBOX_DB", str(tmp_path / "run.db"))
    own = share_sandbox()
    try:
        assert own is not None and own.url != lab.url and own.db_path == str(tmp_path / "run.db")
        said = capsys.readouterr().out
        assert f"sandbox: {own.url}, started for this run on {own.db_path}; stopped at its end" in said, said
    finally:
        if own is not None:
            own.stop()
    monkeypatch.delenv("BW_SANDBOX_URL")
    monkeypatch.setenv("BW_SANDBOX_DB", str(lab.db_path))
    assert share_sandbox() is None  # the lab's: reused, not stopped by the run
    assert f"sandbox: {lab.url}, already running on this run's db" in capsys.readouterr().out
