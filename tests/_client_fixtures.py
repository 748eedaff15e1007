"""Fixtures shared by the tests/test_client_*.py modules (imported explicitly; conftest.py is the sandbox's)."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from bwhelpers.config import Config
from bwhelpers.state import StateStore
from conftest import control  # noqa: E402

SECRETS = ("sandbox-password", "t-sandbox", "s-sandbox", "hunter2-callback-pw")


def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def offline_config() -> Config:
    """A sandbox-shaped config pointing at a closed port: any request would raise TransportError."""
    url = f"http://127.0.0.1:{closed_port()}"
    return Config(target="sandbox", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                  account_id="9900000", site_id="9901", username="sandbox-user", password="sandbox-password",
                  user_id="u-sandbox", api_token="t-sandbox", api_secret="s-sandbox", sandbox_url=url)


def _sandbox_start():
    sandbox = pytest.importorskip("bwhelpers.sandbox")
    start = getattr(sandbox, "start", None)
    if start is None:
        pytest.skip("bwhelpers.sandbox.start is not available yet")
    return start


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Any]:
    """A fresh sandbox on a free port with its own database; orders complete immediately."""
    start = _sandbox_start()
    try:
        handle = start(port=0, db=tmp_path / "s.db", order_delay=0)
    except ImportError as exc:  # the sandbox is still being written
        pytest.skip(f"the sandbox cannot start yet: {exc}")
    probe = requests.get(f"{handle.url}/api/accounts/{handle.credentials['account_id']}/sites/"
                         f"{handle.credentials['site_id']}", auth=(handle.credentials["username"],
                                                                  handle.credentials["password"]), timeout=5)
    if probe.status_code == 404:
        handle.stop()
        pytest.skip("the sandbox does not serve the Dashboard API yet")
    try:
        yield handle
    finally:
        handle.stop()


def config_for(handle: Any, **changes: Any) -> Config:
    """A Config for a running sandbox handle (demo account unless changed)."""
    c = handle.credentials
    values = dict(target="sandbox", dashboard_url=f"{handle.url}/api", messaging_url=f"{handle.url}/api/v2",
                  account_id=c["account_id"], site_id=c["site_id"], username=c["username"], password=c["password"],
                  user_id=c.get("user_id"), api_token=c.get("api_token"), api_secret=c.get("api_secret"),
                  sandbox_url=handle.url)
    values.update(changes)
    return Config(**values)


@pytest.fixture
def cfg(sandbox: Any) -> Config:
    return config_for(sandbox)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "proj" / ".bwhelpers" / "state.json")


@pytest.fixture
def setup(cfg: Config, store: StateStore):
    from bwhelpers.setup import Setup
    return Setup(cfg, store, progress=False)


def sandbox_settings(handle: Any, **settings: Any) -> None:
    """PUT /_sandbox/settings (JSON)."""
    r = control(handle.url, "PUT", "/_sandbox/settings", json=settings, timeout=5)
    assert r.status_code < 300, r.text


def assert_no_secrets(text: str) -> None:
    for s in SECRETS:
        assert s not in text, f"secret {s!r} leaked into: {text[:500]}"
