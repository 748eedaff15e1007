"""Concurrency: several processes on one state file and one sandbox, and many clients on many accounts.

* Two processes walk all eight steps at the same time on the same state file (two accounts, two
  profiles), then two processes append to the SAME profile at the same time: no lost update, no
  corrupt file, every saved ID exists on the sandbox.
* 20 concurrent clients across 5 accounts: every object is visible only to its own account, and no
  phone number is handed out twice.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from guide import GUIDE_2018  # the guide's steps as in 2018 (no A2P step): a2p_enforcement off

import _reliability_report as report
from _reliability_report import add, item, record
from _reliability_support import ROOT, TIMEOUT
from bwhelpers.config import Config
from bwhelpers.sandbox import DEMO, DEMO_B
from bwhelpers.setup import Setup
from bwhelpers.state import StateStore
from conftest import control

plugin = report.fixture()


@pytest.fixture(scope="module")
def sb(sandbox_factory: Callable[..., Any]) -> Iterator[Any]:
    handle = sandbox_factory(order_delay=0.2, reset=True, settings={"delivery_delay": 0, **GUIDE_2018})
    yield handle
    handle.stop()


def config_for(url: str, c: dict[str, str], **kw: Any) -> Config:
    return Config(target="sandbox", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                  account_id=c["account_id"], site_id=c["site_id"], username=c["username"], password=c["password"],
                  user_id=c["user_id"], api_token=c["api_token"], api_secret=c["api_secret"], sandbox_url=url, **kw)


def get(url: str, c: dict[str, str], path: str, account: str | None = None) -> requests.Response:
    return requests.get(f"{url}/api/accounts/{account or c['account_id']}{path}", auth=(c["username"], c["password"]),
                        timeout=TIMEOUT)


WALKER = textwrap.dedent("""
    import json, sys
    from bwhelpers.config import Config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore
    url, creds, state, mode, n = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    cfg = Config(target="sandbox", dashboard_url=url + "/api", messaging_url=url + "/api/v2", sandbox_url=url,
                 **{k: creds[k] for k in ("account_id", "site_id", "username", "password", "user_id", "api_token",
                                          "api_secret")})
    s = Setup(cfg, StateStore(state), progress=False)
    if mode == "walk":
        for result in s.run_all(to="+19195550100", text="walk"):
            pass
    for i in range(n):
        s.send_message("+1919555%04d" % (1000 + i), mode + "-%d" % i)
    print(json.dumps({"profile": s.profile}))
""")


def run_walkers(url: str, state: Path, specs: list[tuple[dict[str, str], str, int]]) -> list[str]:
    procs = [subprocess.Popen([sys.executable, "-c", WALKER, url, json.dumps(c), str(state), mode, str(n)],
                              cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c, mode, n in specs]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        outs.append(json.loads(out.strip().splitlines()[-1])["profile"])
    return outs


@pytest.mark.slow
def test_two_processes_walk_the_steps_on_one_state_file(sb: Any, tmp_path: Path) -> None:
    state = tmp_path / "shared" / "state.json"
    # 1: two accounts (two profiles) walk all eight steps at once, then send 10 messages each
    profiles = run_walkers(sb.url, state, [(DEMO, "walk", 10), (DEMO_B, "walk", 10)])
    assert profiles == ["sandbox", "sandbox-9900001"]
    # 2: two processes append to the SAME profile at once (read-modify-write of the messages list)
    run_walkers(sb.url, state, [(DEMO, "same-a", 15), (DEMO, "same-b", 15)])

    data = json.loads(state.read_text(encoding="utf-8"))  # valid JSON
    assert not list(state.parent.glob("state.json.corrupt-*"))
    for creds, profile in ((DEMO, "sandbox"), (DEMO_B, "sandbox-9900001")):
        saved = data["profiles"][profile]
        for key in ("application", "location", "sms", "mms", "assigned", "orders", "numbers", "messages"):
            assert saved.get(key), f"{profile} lost {key}"
        assert get(sb.url, creds, f"/applications/{saved['application']['id']}").status_code == 200
        assert get(sb.url, creds, f"/sites/{creds['site_id']}/sippeers/{saved['location']['id']}").status_code == 200
        assert get(sb.url, creds, "/applications").text.count("<ApplicationId>") == 1
        assert saved["assigned"]["application_id"] == saved["application"]["id"]
        texts = [m["id"] for m in saved["messages"]]
        assert len(texts) == len(set(texts))
        on_server = requests.get(f"{sb.url}/api/v2/users/{creds['account_id']}/messages", params={"limit": 1000},
                                 auth=(creds["username"], creds["password"]), timeout=TIMEOUT).json()
        server_ids = {m["messageId"] for m in on_server["messages"]}
        assert set(texts) == server_ids, "a saved message id is missing, or a sent one was not saved"
    assert len(data["profiles"]["sandbox"]["messages"]) == 1 + 10 + 30, "a concurrent update was lost"
    assert len(data["profiles"]["sandbox-9900001"]["messages"]) == 1 + 10
    add("concurrency", "processes on one state file", 4)
    add("concurrency", "concurrent state updates checked (messages saved)", 52)
    item("concurrency", "2 processes walked all 8 steps at once on one state file (2 accounts/profiles), then 2 "
                        "processes appended 15 messages each to the same profile: 52 saved messages, none lost, "
                        "file valid, every saved ID on the sandbox")


ACCOUNTS = [{"account_id": f"99100{i:02d}", "site_id": f"991{i:02d}", "username": f"tenant-{i}",
             "password": f"tenant-pw-{i}", "user_id": f"u-tenant-{i}", "api_token": f"t-tenant-{i}",
             "api_secret": f"s-tenant-{i}"} for i in range(5)]


def client(url: str, tmp: Path, i: int) -> dict[str, Any]:
    creds = ACCOUNTS[i % 5]
    s = Setup(config_for(url, creds, profile_name=f"client-{i}"), StateStore(tmp / f"state-{i}.json"), progress=False)
    app = s.create_application(name=f"App {i}").id
    loc = s.create_location(name=f"Loc {i}", default=False).id
    s.enable_sms()
    s.enable_mms()
    s.assign_application()
    s.order_numbers(area_code="910", quantity=3)
    order = s.wait_for_order(timeout=60)
    assert order.status == "COMPLETE", order.data
    msg = s.send_message("+19195550100", f"hello from client {i}").id
    return {"i": i, "account": creds["account_id"], "app": app, "loc": loc, "numbers": list(order.numbers),
            "message": msg}


@pytest.mark.slow
def test_twenty_clients_on_five_accounts_are_isolated(sb: Any, tmp_path: Path) -> None:
    for creds in ACCOUNTS:
        r = control(sb.url, "POST", "/_sandbox/accounts", json=creds, timeout=TIMEOUT)
        assert r.status_code == 201, r.text
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda i: client(sb.url, tmp_path, i), range(20)))

    numbers = [n for r in results for n in r["numbers"]]
    assert len(numbers) == 60 and len(set(numbers)) == 60, "a phone number was handed out twice"
    for creds in ACCOUNTS:
        mine = [r for r in results if r["account"] == creds["account_id"]]
        others = [r for r in results if r["account"] != creds["account_id"]]
        apps = get(sb.url, creds, "/applications").text
        assert sorted(r["app"] for r in mine) == sorted(
            a.split("</ApplicationId>")[0] for a in apps.split("<ApplicationId>")[1:])
        peers = get(sb.url, creds, f"/sites/{creds['site_id']}/sippeers").text
        assert sorted(r["loc"] for r in mine) == sorted(p.split("</PeerId>")[0] for p in peers.split("<PeerId>")[1:])
        in_service = get(sb.url, creds, "/inserviceNumbers?size=1000").text
        got = sorted("+1" + t.split("</TelephoneNumber>")[0] for t in in_service.split("<TelephoneNumber>")[1:])
        assert got == sorted(n for r in mine for n in r["numbers"])
        listed = requests.get(f"{sb.url}/api/v2/users/{creds['account_id']}/messages",
                              auth=(creds["username"], creds["password"]), timeout=TIMEOUT).json()
        assert sorted({m["messageId"] for m in listed["messages"]}) == sorted(r["message"] for r in mine)
        for other in others[:4]:  # another tenant's ids look missing; another tenant's URL is forbidden
            assert get(sb.url, creds, f"/applications/{other['app']}").status_code == 404
            assert get(sb.url, creds, f"/sites/{creds['site_id']}/sippeers/{other['loc']}").status_code == 400
            assert get(sb.url, creds, "/applications", account=other["account"]).status_code == 403
    record("concurrency", "concurrent clients", 20)
    record("concurrency", "accounts", 5)
    record("concurrency", "numbers ordered concurrently (all distinct)", len(set(numbers)))
    item("concurrency", "20 concurrent clients (threads) on 5 accounts ran steps 1-8 at once: every application, "
                        "location, number and message visible only to its own account (404/400 for other tenants' "
                        "ids, 403 for other tenants' URLs); 60 numbers ordered from one area code, none twice")
