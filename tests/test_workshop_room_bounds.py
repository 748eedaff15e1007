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
    h = Hub(tmp_path_factory.mktemp("room-bounds"), extra_args=("--room-new-names-per-hour", "3"))
    h.start()
    try:
        yield h
    finally:
        h.stop()


def service(hub: Hub, method: str, path: str, **kw: Any) -> requests.Response:
    """The workshop sandbox on its own port with its admin key (as the spawn hook and scripts on the hub's machine)."""
    key = Path(f"{hub.state}/sandbox.db.admin-key").read_text().strip()
    headers = {"X-Sandbox-Admin-Key": key, **kw.pop("headers", {})}
    return requests.request(method, f"http://127.0.0.1:{hub.service_port}/services/{SERVICE}{path}",
                            headers=headers, timeout=30, **kw)


class _From(requests.adapters.HTTPAdapter):
    """Connections from another loopback address: the proxy appends it to X-Forwarded-For, a client of its own."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def login(hub: Hub, user: str, source: str = "127.0.0.1", session: requests.Session | None = None,
          password: str | None = None) -> tuple[requests.Session, requests.Response]:
    """A browser at ``source`` logging in to the hub as ``user`` (the room password), no spawn followed."""
    s = session or requests.Session()
    s.mount("http://", _From(source))
    s.get(f"{hub.url}/hub/login", timeout=30)
    r = s.post(f"{hub.url}/hub/login?next=", data={"username": user, "password": password or hub.room_password,
                                                   "_xsrf": s.cookies.get("_xsrf")}, timeout=60, allow_redirects=False)
    return s, r


def browser(hub: Hub, user: str) -> requests.Session:
    """A browser logged in to the hub as ``user`` (the room password), no spawn followed."""
    s, r = login(hub, user)
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


def test_new_names_past_the_rooms_bound_pause_from_every_address_and_the_host_sees_the_alarm(hub: Hub) -> None:
    """rev23h H5: one stranger with the room password made 30 new names from each of their addresses (the bound was
    per address only), 120 places from 4. With ``--room-new-names-per-hour 3`` (a burst of 3, then 3 an hour) on a
    real hub through its proxy: 3 new names from two addresses, then a new name is 429 "new names are paused" from
    either of them (both known to the hub now) and from a third; a name already in logs in again from anywhere; a
    browser with the host's join link makes its new name; the hub's log says NEW NAMES ALARM; the board (JSON and
    its page) shows the alarm."""
    codes = [login(hub, f"nn{i}", f"127.0.0.{2 + i % 2}")[1].status_code for i in range(3)]
    assert codes == [302, 302, 302], codes
    for source in ("127.0.0.2", "127.0.0.3", "127.0.0.5"):
        _s, r = login(hub, "nn-more", source)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1, (source, r.status_code, r.text[-800:])
        assert "new names are paused" in r.text and "join link" in r.text, r.text[-800:]
    assert login(hub, "nn0", "127.0.0.5")[1].status_code == 302  # a name already in: as before
    invite = service(hub, "POST", "/room/invite", json={"names": 2})
    assert invite.status_code == 200, invite.text
    latecomer = requests.Session()
    latecomer.mount("http://", _From("127.0.0.5"))
    query = invite.json()["link"].split("?", 1)[1]  # asked on the service's own port: the link names that origin
    assert latecomer.get(f"{hub.url}/hub/join?{query}", timeout=30).status_code == 200
    assert login(hub, "invited", "127.0.0.5", session=latecomer)[1].status_code == 302  # the join link: in
    deadline = time.monotonic() + 10
    while "NEW NAMES ALARM: 3 new names from 2 addresses" not in hub.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, hub.tail()
        time.sleep(0.2)
    board = service(hub, "GET", "/board.json").json()
    assert board["new_names_alarm"]["names"] == 3 and board["new_names_alarm"]["refused"] >= 1, board
    page = service(hub, "GET", "/board", headers={"Accept": "text/html"}).text
    assert 'class="notice alarm" role="alert">&#9888; New-names alarm since' in page, page[:3000]


def test_system_accounts_names_never_log_in(hub: Hub) -> None:
    """rev23h H9 on the real hub: the room password no longer logs in as root or daemon (403 saying why), while a
    wrong password is the usual failure (the form does not tell an outsider which accounts the machine has)."""
    for name in ("root", "daemon"):
        _s, r = login(hub, name, "127.0.0.6")
        assert r.status_code == 403 and "is the name of a system account" in r.text, (name, r.status_code)
        _s, r = login(hub, name, "127.0.0.6", password="wrong")
        assert r.status_code == 403 and "system account" not in r.text, name
    assert hub.api("GET", "/users/root").status_code == 404  # no hub user was made
