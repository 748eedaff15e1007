"""Plain helpers of the client tests (the fixtures themselves are in conftest.py)."""
from __future__ import annotations

import socket
from typing import Any


from bwhelpers.config import Config
from conftest import control

SECRETS = ("sandbox-password", "t-sandbox", "s-sandbox", "hunter2-callback-pw")


def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_for(handle: Any, **changes: Any) -> Config:
    """A Config for a running sandbox handle (demo account unless changed)."""
    c = handle.credentials
    values = dict(target="sandbox", dashboard_url=f"{handle.url}/api", messaging_url=f"{handle.url}/api/v2",
                  account_id=c["account_id"], site_id=c["site_id"], username=c["username"], password=c["password"],
                  user_id=c.get("user_id"), api_token=c.get("api_token"), api_secret=c.get("api_secret"),
                  sandbox_url=handle.url)
    values.update(changes)
    return Config(**values)


def sandbox_settings(handle: Any, **settings: Any) -> None:
    """PUT /_sandbox/settings (JSON)."""
    r = control(handle.url, "PUT", "/_sandbox/settings", json=settings, timeout=5)
    assert r.status_code < 300, r.text


def assert_no_secrets(text: str) -> None:
    for s in SECRETS:
        assert s not in text, f"secret {s!r} leaked into: {text[:500]}"
