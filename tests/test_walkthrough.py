"""The notebook page layer outside a kernel: prerequisites, errors shown not raised, and the shared
sandbox coming back when the kernel that hosted it has gone."""
from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from bwhelpers.sandbox import probe, start
from bwhelpers.walkthrough import Page


class Shown(list):
    """Everything the page displayed, as text (HTML bodies, DataFrames, widgets)."""

    @property
    def text(self) -> str:
        parts = []
        for obj in self:
            data = getattr(obj, "data", None)
            parts.append(data if isinstance(data, str) else getattr(obj, "value", None) or repr(obj))
        return re.sub(r"<[^>]+>", "", "\n".join(str(p) for p in parts))  # as a person reads it: no tags


@pytest.fixture
def shown() -> Iterator[Shown]:
    from bwhelpers.ui import output

    with output.capture(Shown()) as seen:  # the one output sink
        yield seen


@pytest.fixture
def isolated(isolated_env: Path) -> Path:
    return isolated_env


def test_missing_prerequisite_is_a_message_not_an_exception(isolated: Path, sandbox: Any,
                                                            monkeypatch: pytest.MonkeyPatch, shown: Shown) -> None:
    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    page = Page("assigned")
    assert not page.ready and page.missing == [1, 2, 3]
    assert page.assign_application() is None
    assert "Run notebook 01_create_application first" in shown.text


def test_service_errors_are_shown_with_their_fix(isolated: Path, clean_sandbox: Any,
                                                 monkeypatch: pytest.MonkeyPatch, shown: Shown) -> None:
    monkeypatch.setenv("BW_SANDBOX_URL", clean_sandbox.url)
    page = Page("location")
    assert page.create_location() is not None
    page.setup.create_application()
    # assign before SMS: the service's 13645, shown with the fix; the saved IDs stay
    saved_before = page.setup.saved
    page.needs, page.missing = (), []
    assert page.assign_application() is None
    assert "13645" in shown.text and "step 3" in shown.text.lower()
    after = page.setup.saved
    assert after["location"] == saved_before["location"] and after["application"] == saved_before["application"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_sandbox_restarts_when_its_kernel_is_gone(isolated: Path, monkeypatch: pytest.MonkeyPatch,
                                                  shown: Shown) -> None:
    """The shared sandbox's well-known port (DEFAULT_PORT, 8765) may be taken on a shared machine: the test moves
    the well-known port to a free one, so it runs everywhere (a busy 8765 cannot turn it into a skip)."""
    from bwhelpers import sandbox as sb

    port = _free_port()
    monkeypatch.setattr(sb, "DEFAULT_PORT", port)  # read at call time by ensure_running and revive_sandbox
    db = isolated / "sandbox.db"
    monkeypatch.setenv("BW_SANDBOX_DB", str(db))
    monkeypatch.setattr(sb, "_running", {})  # this process hosts no other sandbox (as in a fresh kernel)
    # start() itself, not the fixture family: "kernel A" hosts the shared sandbox on the well-known port
    first = start(port=port, db=db, order_delay=0)
    assert first.url == f"http://127.0.0.1:{port}"
    try:
        page = Page("application")  # "kernel B" reuses it
        assert page.setup.config.sandbox_base == first.url
        app = page.create_application()
        assert app is not None
    finally:
        first.stop()
    assert probe(first.url) is None
    page2 = Page("location", setup=page.setup)
    location = page2.create_location()
    try:
        assert location is not None, shown.text
        assert "running again" in shown.text
        # same db: the application made before the restart is still there
        r = requests.get(f"{first.url}/api/accounts/9900000/applications/{app.id}",
                         auth=("sandbox-user", "sandbox-password"), timeout=10)
        assert r.status_code == 200
    finally:
        for handle in list(sb._running.values()):
            handle.stop()
