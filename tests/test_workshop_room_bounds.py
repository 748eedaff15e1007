"""A workshop room's bounds on a real JupyterHub (configurable-http-proxy, the workshop's authenticator, the config
``workshop-config`` writes): what a participant sees when the sandbox refuses their spawn (rev23h H4), and the
room-wide bound on new names (rev23h H5).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _hub import SERVICE, Hub, proxy_command

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if proxy_command() is None:
        pytest.fail("configurable-http-proxy is missing: run `npm ci` (it is in package.json)")
    h = Hub(tmp_path_factory.mktemp("room-bounds"))
    h.start()
    try:
        yield h
    finally:
        h.stop()


def service(hub: Hub, method: str, path: str, **kw: Any) -> requests.Response:
    """The workshop sandbox on its own port with its admin key (as the spawn hook and scripts on the hub's machine)."""
    key = Path(f"{hub.state}/sandbox.db.admin-key").read_text().strip()
    return requests.request(method, f"http://127.0.0.1:{hub.service_port}/services/{SERVICE}{path}",
                            headers={"X-Sandbox-Admin-Key": key}, timeout=30, **kw)


def browser(hub: Hub, user: str) -> requests.Session:
    """A browser logged in to the hub as ``user`` (the room password), no spawn followed."""
    s = requests.Session()
    s.get(f"{hub.url}/hub/login", timeout=30)
    r = s.post(f"{hub.url}/hub/login?next=", data={"username": user, "password": hub.room_password,
                                                   "_xsrf": s.cookies.get("_xsrf")}, timeout=60, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text[-500:])
    return s


def spawn_refused(hub: Hub, user: str, words: str) -> None:
    """``user``'s spawn is refused 403 with the sandbox's reason: through the REST API (their own token) and on the
    spawn page of their browser; never "500 : Unhandled error starting server"."""
    hub.api("POST", f"/users/{user}")  # a hub user (added on the admin page), no server yet
    s = browser(hub, user)
    r = requests.post(f"{hub.url}/hub/api/users/{user}/server", timeout=60,
                      headers={"Authorization": f"token {hub.user_token(user)}"})
    assert r.status_code == 403, (r.status_code, r.text)
    assert words in r.json()["message"] and "The workshop refused to start your server" in r.json()["message"], r.text
    page = s.get(f"{hub.url}/hub/spawn/{user}", timeout=60)
    assert page.status_code == 403, (page.status_code, page.text[-2000:])
    assert words in page.text and "Unhandled error" not in page.text, page.text[-2000:]


def test_a_spawn_the_sandbox_refuses_is_a_403_saying_why(hub: Hub) -> None:
    """rev23h H4: the spawn hook raised RuntimeError for the sandbox's refusals, which JupyterHub shows as "500 :
    Unhandled error starting server … You can try restarting your server" (the API: 500 "Internal Server Error"), and
    retrying never works. Now it raises tornado's HTTPError(403) with the sandbox's reason as its
    ``jupyterhub_message``: the page and the API say "removed by the host" / "closed this workshop to new names" /
    "the room is full"."""
    assert service(hub, "POST", "/participants/eve").status_code == 201  # eve had a server once
    assert service(hub, "POST", "/participants/eve/remove").status_code == 200
    spawn_refused(hub, "eve", "was removed by the host")
    assert service(hub, "POST", "/room/close").status_code == 200
    try:
        spawn_refused(hub, "newbie", "closed this workshop to new names")
    finally:
        assert service(hub, "POST", "/room/open").status_code == 200
    assert service(hub, "POST", "/participants/filler").status_code == 201
    assert service(hub, "PUT", "/_sandbox/settings", json={"max_participants": 1}).status_code == 200
    try:
        spawn_refused(hub, "late", "the room is full")
    finally:
        assert service(hub, "PUT", "/_sandbox/settings", json={"max_participants": 120}).status_code == 200
    deadline = time.monotonic() + 10
    while "Error starting late's server" not in hub.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, hub.tail()
        time.sleep(0.2)
    assert "Unhandled error starting" not in hub.log.read_text(errors="replace"), hub.tail()
