"""What one participant can store on the shared workshop sandbox (issue 23, review F5/F7/F10): every table of tenant
data is counted in its stored_bytes quota, new bins count against ``bins`` however they are made, sites are objects,
and a host's reset empties everything a participant stored; and the review's hardening items (F1, F2, F8, F13, F14).
Against the workshop service as the hub starts it."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from _workshop_service import workshop_service

XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with workshop_service(tmp_path_factory.mktemp("workshop-storage"), "--order-delay", "0") as svc:
        settings(svc, quotas={"requests_per_second": None})
        yield svc


def provision(service: dict[str, Any], name: str) -> dict[str, str]:
    r = requests.post(f"{service['url']}/participants/{name}", headers=service["key"], timeout=30)
    assert r.status_code in (200, 201), r.text
    return dict(r.json()["credentials"])


def settings(service: dict[str, Any], **values: Any) -> None:
    r = requests.put(f"{service['url']}/_sandbox/settings", headers={**service["key"], **JSON}, json=values,
                     timeout=30)
    assert r.status_code == 200, r.text


def dash(service: dict[str, Any], creds: dict[str, str], method: str, path: str, body: str | None = None
         ) -> requests.Response:
    return requests.request(method, f"{service['url']}/api/accounts/{creds['account_id']}{path}", data=body,
                            auth=(creds["username"], creds["password"]), headers=XML, timeout=30)


def counted(service: dict[str, Any], account_id: str) -> int:
    with sqlite3.connect(service["db"]) as conn:
        row = conn.execute("SELECT bytes FROM account_bytes WHERE account_id=?", (account_id,)).fetchone()
    return int(row[0]) if row else 0


def test_every_table_of_tenant_data_is_counted(service: dict[str, Any]) -> None:
    """By construction: each table of the live db with an account column (or a bin's name) has its byte-counting
    triggers, except the sandbox's own bookkeeping named in stored_bytes.NOT_COUNTED."""
    from bwhelpers.sandbox import stored_bytes

    with sqlite3.connect(service["db"]) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
        tenant = [t for t in tables if t in stored_bytes.BY_NAME or "account_id" in
                  {c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')}]
    for table in ("sites", "dash_site_ext", "dash_mms", "dash_app_settings", "dash_tns", "request_bins",
                  "dash_applications", "bin_requests"):
        assert table in tenant, table
    missing = [t for t in tenant if t not in stored_bytes.NOT_COUNTED and f"bytes_{t}_ins" not in triggers]
    assert not missing, f"tables of tenant data outside the stored_bytes quota: {missing}"


def test_sites_and_mms_settings_count_against_the_quotas(service: dict[str, Any]) -> None:
    creds = provision(service, "sites")
    before = counted(service, creds["account_id"])
    r = dash(service, creds, "POST", "/sites", "<Site><Name>s</Name><Description>" + "S" * 500 +
             "</Description><CustomerName>" + "C" * 500 + "</CustomerName></Site>")
    assert r.status_code == 201, r.text
    assert counted(service, creds["account_id"]) - before >= 1_000  # sites and dash_site_ext are counted
    peer = dash(service, creds, "POST", f"/sites/{creds['site_id']}/sippeers", "<SipPeer><PeerName>p</PeerName></SipPeer>")
    assert peer.status_code == 201, peer.text
    peer_id = peer.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    feature = f"/sites/{creds['site_id']}/sippeers/{peer_id}/products/messaging/features"
    r = dash(service, creds, "POST", f"{feature}/sms",
             "<SipPeerSmsFeature><SipPeerSmsFeatureSettings><TollFree>false</TollFree><ShortCode>false</ShortCode>"
             "<Protocol>HTTP</Protocol><Zone1>true</Zone1><Zone2>false</Zone2><Zone3>false</Zone3><Zone4>false"
             "</Zone4><Zone5>false</Zone5></SipPeerSmsFeatureSettings><HttpSettings><ProxyPeerId>539692"
             "</ProxyPeerId></HttpSettings></SipPeerSmsFeature>")
    assert r.status_code in (200, 201), r.text
    before = counted(service, creds["account_id"])
    r = dash(service, creds, "POST", f"{feature}/mms", "<MmsFeature><MmsSettings><Protocol>HTTP</Protocol></MmsSettings>"
             "<Protocols><HTTP><HttpSettings><ProxyPeerId>" + "P" * 100_000 + "</ProxyPeerId></HttpSettings></HTTP>"
             "</Protocols></MmsFeature>")
    assert r.status_code == 400 and "ProxyPeerId" in r.text and "512" in r.text, r.text  # refused, naming it
    r = dash(service, creds, "POST", f"{feature}/mms", "<MmsFeature><MmsSettings><Protocol>HTTP</Protocol></MmsSettings>"
             "<Protocols><HTTP><HttpSettings><ProxyPeerId>" + "P" * 500 + "</ProxyPeerId></HttpSettings></HTTP>"
             "</Protocols></MmsFeature>")
    assert r.status_code == 201 and counted(service, creds["account_id"]) - before >= 500, r.text  # counted
    # sites are objects: the objects quota stops them like applications
    settings(service, quotas={"objects": 8})  # it holds 2 sites, a SIP peer and its API credential
    try:
        codes = [dash(service, creds, "POST", "/sites", f"<Site><Name>n{i}</Name></Site>").status_code
                 for i in range(6)]
        assert codes[0] == 201 and codes[-1] == 403 and "objects" in dash(
            service, creds, "POST", "/sites", "<Site><Name>n</Name></Site>").text, codes
        # and the stored_bytes quota stops a big site
        settings(service, quotas={"objects": 500, "stored_bytes": counted(service, creds["account_id"]) + 300})
        r = dash(service, creds, "POST", "/sites", "<Site><Name>big</Name><Description>" + "S" * 500
                 + "</Description></Site>")
        assert r.status_code == 403 and "stored_bytes" in r.text, r.text
    finally:
        settings(service, quotas={"objects": 500, "stored_bytes": 6 * 1024 * 1024})


def test_bin_configuration_counts_against_the_bin_quotas_and_the_db_cap(service: dict[str, Any]) -> None:
    creds = provision(service, "binner")
    auth = (creds["username"], creds["password"])

    def put(name: str, require: str | None = "u:p") -> requests.Response:
        return requests.put(f"{service['url']}/_sandbox/bins/{name}", auth=auth, json={"require_auth": require},
                            timeout=30)

    r = put("long", "u:" + "p" * 300)
    assert r.status_code == 400 and "require_auth" in r.json()["error"] and "200" in r.json()["error"], r.text
    settings(service, quotas={"bins": 3})
    try:
        codes = [put(f"b{i}").status_code for i in range(4)]
        assert codes == [200, 200, 200, 403], codes
        assert "bins" in put("b3").json()["error"]
        assert put("b0", "u:q").status_code == 200  # configuring a bin it has is no new bin
    finally:
        settings(service, quotas={"bins": 20})
    before = counted(service, creds["account_id"])
    assert put("b4", "u:" + "p" * 190).status_code == 200
    assert counted(service, creds["account_id"]) - before >= 190  # the configuration is counted
    settings(service, max_db_mb=0.001)
    try:
        r = put("b5")  # the size is cached for a second, but a settings change forgets it (quotas.apply)
        assert r.status_code == 507 and "max_db_mb" in r.json()["error"], r.text
    finally:
        settings(service, max_db_mb=800)


def test_a_reset_empties_the_participants_bins_too(service: dict[str, Any]) -> None:
    creds = provision(service, "resetme")
    auth = (creds["username"], creds["password"])
    for i in range(3):
        assert requests.put(f"{service['url']}/_sandbox/bins/c{i}", auth=auth, json={"require_auth": "u:p"},
                            timeout=30).status_code == 200
        assert requests.post(f"{service['url']}/_sandbox/bins/c{i}", auth=auth, json={"n": i},
                             timeout=30).status_code in (200, 204, 401)
    assert dash(service, creds, "POST", "/sites", "<Site><Name>x</Name></Site>").status_code == 201
    r = requests.post(f"{service['url']}/participants/resetme/reset", headers=service["key"], timeout=30)
    assert r.status_code in (200, 303), r.text
    with sqlite3.connect(service["db"]) as conn:
        bins = conn.execute("SELECT COUNT(*) FROM request_bins WHERE name LIKE ?", (creds["account_id"] + "/%",)
                            ).fetchone()[0]
        reqs = conn.execute("SELECT COUNT(*) FROM bin_requests WHERE name LIKE ?", (creds["account_id"] + "/%",)
                            ).fetchone()[0]
        sites = conn.execute("SELECT COUNT(*) FROM sites WHERE account_id=?", (creds["account_id"],)).fetchone()[0]
    assert (bins, reqs, sites) == (0, 0, 1)  # its own site stays
    assert counted(service, creds["account_id"]) < 2_000  # what is left: the account's own site and credentials
    assert requests.get(f"{service['url']}/_sandbox/bins/c0", auth=auth, timeout=30).json()["count"] == 0


def test_one_credential_is_read_by_its_owner_only(service: dict[str, Any]) -> None:
    mine, other = provision(service, "cred-a"), provision(service, "cred-b")
    auth = (mine["username"], mine["password"])
    listed = requests.get(f"{service['url']}/_sandbox/credentials", auth=auth, timeout=30).json()["credentials"]
    client_id = listed[0]["client_id"]
    r = requests.get(f"{service['url']}/_sandbox/credentials/{client_id}", auth=auth, timeout=30)
    assert r.status_code == 200 and r.json()["client_id"] == client_id and "secret" not in r.text, r.text
    r = requests.get(f"{service['url']}/_sandbox/credentials/{client_id}", timeout=30,
                     auth=(other["username"], other["password"]))
    assert r.status_code == 404, r.text  # another participant's: not shown
    assert requests.get(f"{service['url']}/_sandbox/credentials/{client_id}", timeout=30).status_code == 401


def test_deeply_nested_json_is_a_400_on_every_route(service: dict[str, Any]) -> None:
    creds = provision(service, "deep")
    auth = (creds["username"], creds["password"])
    deep = b"[" * 100_000 + b"]" * 100_000
    for method, path in (("POST", "/_sandbox/inbound"), ("PUT", "/_sandbox/bins/deep"),
                         ("POST", f"/_sandbox/phone/{creds['account_id']}/reply"),
                         ("POST", f"/api/v2/users/{creds['account_id']}/messages")):
        r = requests.request(method, f"{service['url']}{path}", auth=auth, data=deep, headers=JSON, timeout=60)
        assert r.status_code == 400 and "nested too deeply" in r.text, (path, r.status_code, r.text[:300])


@pytest.mark.parametrize("target", ["http://[2002:a9fe:a9fe::]/latest/meta-data/", "http://[2002:7f00:1::]/",
                                    "http://[fec0::1]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/"])
def test_ipv6_forms_of_refused_addresses_are_refused(service: dict[str, Any], target: str) -> None:
    creds = provision(service, "sixtofour")
    r = dash(service, creds, "POST", "/applications", "<Application><ServiceType>Messaging-V2</ServiceType><AppName>t"
             f"</AppName><CallbackUrl>{target}</CallbackUrl></Application>")
    assert r.status_code in (400, 409) and "12803" in r.text and "CallbackUrl" in r.text, r.text


def test_the_workshop_pages_cannot_be_framed(service: dict[str, Any]) -> None:
    for path in ("/board", "/me", "/"):
        r = requests.get(f"{service['url']}{path}", headers={**service["key"], "Accept": "text/html"}, timeout=30,
                         allow_redirects=False)
        assert r.headers.get("X-Frame-Options") == "DENY", (path, r.status_code, dict(r.headers))
        assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), path


def test_a_backslash_cannot_make_a_relative_link_leave_the_site() -> None:
    from bwhelpers.views import safe_href

    for bad in ("/\\evil.com", "/\\/evil.com", "\\/evil.com", "https:evil.com", "http:///evil.com", "//evil.com"):
        assert safe_href(bad) is None, bad
    for good in ("/services/bw-sandbox/board", "10_send_picture.ipynb", "https://example.com/x?a=b"):
        assert safe_href(good) == good


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/sites", "<Site><Name>s</Name><Description>" + "S" * 600 + "</Description></Site>", "Description"),
    ("/sites", "<Site><Name>s</Name><CustomerName>" + "C" * 600 + "</CustomerName></Site>", "CustomerName"),
    ("/applications", "<Application><ServiceType>Messaging-V2</ServiceType><AppName>" + "A" * 600 + "</AppName>"
     "<CallbackUrl>https://example.com/</CallbackUrl></Application>", "AppName"),
    ("/applications", "<Application><ServiceType>Messaging-V2</ServiceType><AppName>a</AppName><CallbackUrl>"
     "https://example.com/" + "p" * 3000 + "</CallbackUrl></Application>", "CallbackUrl"),
], ids=["site-Description", "site-CustomerName", "application-AppName", "application-CallbackUrl"])
def test_free_text_fields_are_bounded_so_lists_stay_small(service: dict[str, Any], path: str, body: str,
                                                          field: str) -> None:
    """Applications, sites and SIP peers have no paging in Bandwidth's API: their lists stay small because each
    field is bounded (and the objects quota bounds how many); a longer one is a 400 naming the field."""
    creds = provision(service, "longtext")
    r = dash(service, creds, "POST", path, body)
    assert r.status_code == 400 and "<ErrorCode>" in r.text and field in r.text and "shorten" in r.text, r.text


def big_application(i: int) -> str:
    """The biggest application a request can describe: every text at its cap (quotas and xmlio.MAX_*_CHARS)."""
    url = "https://example.com/" + "u" * (2048 - len("https://example.com/"))
    return (f"<Application><ServiceType>Messaging-V2</ServiceType><AppName>{i:03d}{'A' * 509}</AppName>"
            f"<InboundCallbackUrl>{url}</InboundCallbackUrl><OutboundCallbackUrl>{url}</OutboundCallbackUrl>"
            f"<InboundCallbackCreds><UserId>{'i' * 512}</UserId><Password>p</Password></InboundCallbackCreds>"
            f"<OutboundCallbackCreds><UserId>{'o' * 512}</UserId><Password>p</Password></OutboundCallbackCreds>"
            "</Application>")


@pytest.mark.slow  # 20 applications and their list
def test_unpaged_lists_stay_small(service: dict[str, Any]) -> None:
    """F6: applications, sites and a site's SIP peers have no paging in Bandwidth's API, so their lists are answered
    whole on the event loop every participant shares. In a workshop each list holds at most ``list_objects`` objects
    of at most ``object_bytes`` each (a 403 naming the quota and the fix beyond), so the biggest list one participant
    can build is ~0.3 MB, not the 6 MB the objects and stored_bytes quotas alone allowed."""
    from bwhelpers.sandbox.quotas import WORKSHOP_QUOTAS

    cap, size = WORKSHOP_QUOTAS["list_objects"], WORKSHOP_QUOTAS["object_bytes"]
    assert cap and size
    creds = provision(service, "lister")
    codes = [dash(service, creds, "POST", "/applications", big_application(i)).status_code for i in range(cap + 1)]
    assert codes == [201] * cap + [403], codes
    r = dash(service, creds, "POST", "/applications", big_application(99))
    assert r.status_code == 403 and "list_objects" in r.text and f"{cap} applications" in r.text, r.text
    listed = dash(service, creds, "GET", "/applications")
    assert listed.status_code == 200 and listed.text.count("<ApplicationId>") == cap
    assert len(listed.content) <= cap * size, len(listed.content)
    # an object described by more than object_bytes (each field within its own cap) is refused, new or changed
    address = "".join(f"<Line{i}>{'a' * 500}</Line{i}>" for i in range(40))  # 20 KB of 500-character fields
    r = dash(service, creds, "POST", "/sites", f"<Site><Name>big</Name><Address>{address}</Address></Site>")
    assert r.status_code == 403 and "object_bytes" in r.text and f"{size:,}" in r.text, r.text
    r = dash(service, creds, "POST", f"/sites/{creds['site_id']}/sippeers",
             f"<SipPeer><PeerName>p</PeerName>{address}</SipPeer>")
    assert r.status_code == 403 and "object_bytes" in r.text, r.text
    app_id = listed.text.split("<ApplicationId>")[1].split("<")[0]
    r = dash(service, creds, "PUT", f"/applications/{app_id}", big_application(1).replace(
        "</Application>", f"<RequestedCallbackTypes>{address}</RequestedCallbackTypes></Application>"))
    assert r.status_code == 403 and "object_bytes" in r.text, r.text
    # within the caps all is as before
    assert dash(service, creds, "POST", "/sites", "<Site><Name>ok</Name><Address><City>Raleigh</City>"
                "<StateCode>NC</StateCode></Address></Site>").status_code == 201


def test_the_credentials_list_is_paged_as_every_control_plane_list(service: dict[str, Any]) -> None:
    """rev23h H6: ``GET /_sandbox/credentials`` had no page: a participant's 492 credentials (long client ids and
    descriptions, up to the ``objects`` quota) were one answer of 233 KB, about 7 ms of the shared event loop a call,
    and each call read the whole room's token counters. It pages as the other control-plane lists: at most
    ``limit`` (1,000) and about 64 KB a page, ``next`` the ``after`` of the following page (null on the last);
    following it gives each credential once, in the order they were made; a wrong limit or cursor is a 400 saying
    what it takes; another participant's are never listed."""
    from bwhelpers.sandbox.paging import PAGE_BYTES

    mine, other = provision(service, "cred-many"), provision(service, "cred-other")
    auth = (mine["username"], mine["password"])
    url = f"{service['url']}/_sandbox/credentials"
    made = [f"cm-{i:03d}-" + "c" * 150 for i in range(160)]  # 160 x ~450 bytes listed: past one page of 64 KB
    for client_id in made:
        r = requests.post(url, auth=auth, timeout=30, json={"account_id": mine["account_id"], "client_id": client_id,
                                                             "client_secret": "s" * 64, "description": "d" * 200})
        assert r.status_code == 201, r.text
    seen, pages, after = [], [], None
    while True:
        r = requests.get(url, auth=auth, timeout=30, params={"after": after} if after is not None else {})
        assert r.status_code == 200, r.text
        assert len(r.content) <= PAGE_BYTES + 1024, len(r.content)  # one item's worth past the budget at most
        pages.append(len(r.json()["credentials"]))
        seen += [c["client_id"] for c in r.json()["credentials"]]
        after = r.json()["next"]
        if after is None:
            break
    assert len(pages) >= 2 and [c for c in seen if c.startswith("cm-")] == made, pages
    assert len(seen) == len(set(seen)) and all(c["account_id"] for c in r.json()["credentials"])
    r = requests.get(url, auth=auth, timeout=30, params={"limit": 7})
    assert r.status_code == 200 and len(r.json()["credentials"]) == 7 and r.json()["next"] is not None
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"after": "x"}, {"after": "-1"}):
        r = requests.get(url, auth=auth, timeout=30, params=bad)
        assert r.status_code == 400 and ("limit" in r.text or "after" in r.text), (bad, r.text)
    theirs = requests.get(url, auth=(other["username"], other["password"]), timeout=30).json()
    assert not any(c["client_id"].startswith("cm-") for c in theirs["credentials"]) and theirs["next"] is None


def test_an_accounts_bin_quotas_count_its_own_bins_by_the_name_index(tmp_path: Any) -> None:
    """The bins and bin_requests quotas count an account's bins (``<account>/<name>``) as a range of the name
    indexes: ``name LIKE '<account>/%'`` scanned every account's bin requests on every bin POST and in-process
    callback delivery, and read '_' or '%' in an id as wildcards (another account's requests counted as this one's)."""
    from bwhelpers.sandbox import callbacks, quotas
    from bwhelpers.sandbox.db import Database

    db = Database(tmp_path / "sandbox.db")
    db.set_setting(quotas.SETTING, {"bins": 2, "bin_requests": 3})
    quotas.apply(db)
    request = {"method": "POST", "path": "/", "query": "", "headers": {}, "authorized": False, "status": 204,
               "body": "{}"}
    for name in ("70/a", "70/a", "70/b", "7/a", "7/a"):
        callbacks.record_bin_request(db, name, **request)
    statements: list[str] = []
    db.connect().set_trace_callback(statements.append)
    try:
        quotas.check_bins(db, "7_", "7_/new")  # 70's bins and requests are not 7_'s
        quotas.check_bins(db, "7", "7/a")  # one more request for 7's bin: 3 at most
        with pytest.raises(quotas.QuotaExceeded) as refused:
            quotas.check_bins(db, "70", "70/a")
        assert refused.value.key == "bin_requests"
        with pytest.raises(quotas.QuotaExceeded) as refused:
            quotas.check_bins(db, "70", "70/c")
        assert refused.value.key == "bins"
    finally:
        db.connect().set_trace_callback(None)
    counts = [s for s in statements if "bin_requests" in s or "request_bins" in s]
    assert counts
    for sql in counts:
        plan = " ".join(str(row[-1]) for row in db.connect().execute("EXPLAIN QUERY PLAN " + sql))
        assert "SCAN bin_requests" not in plan and "SCAN request_bins" not in plan, (sql, plan)
