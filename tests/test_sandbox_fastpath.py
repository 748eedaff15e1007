"""The sandbox's fast POST /messages path (issue 25), over HTTP against real sandboxes on 127.0.0.1.

* Group commit (``bwhelpers.sandbox.group_commit``): a concurrent burst is answered 202 and every 202 is stored
  with its own id; requests refused inside a group (the ``messages`` quota, re-checked in the transaction) roll
  back alone and the quota is never overshot; a ``kill -9`` right after the 202s loses none of them.
* The settings/meta cache (``Database.get_setting``, ``clock.now``, ``credentials.signing_key``): a setting changed
  through the control plane, through a second server on the same db, or by another sqlite connection, counts on
  the next request; the sandbox clock expires a token whose signature is cached; a revoked credential or a new
  signing key refuses the token at once.
* In-process delivery to the sandbox's own bins (``Dispatcher._deliver_local``): the bin records what an HTTP
  delivery records (headers, body, the 401 challenge and the Basic resend), field by field.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from _messaging_helpers import FAST, World, send, wait_for
from _reliability_support import SandboxProcess
from conftest import SandboxClock, control, reset

from bwhelpers.sandbox import DEMO, DEMO_B

TIMEOUT = 15
BURST = 50


@pytest.fixture(scope="module")
def sb(sandbox_factory: Any) -> Iterator[Any]:
    with sandbox_factory(order_delay=0, settings=FAST) as handle:
        yield handle


@pytest.fixture
def world(sb: Any) -> dict[str, str]:
    """A clean account with an application (callbacks to a bin of this sandbox), a location and one number."""
    reset(sb.url)
    settings(sb.url, **{k: v for k, v in FAST.items() if k != "order_transition"}, quotas={"messages": None})
    return World(sb.url).provision(f"{sb.url}/_sandbox/bins/fastpath")


def settings(url: str, **values: Any) -> None:
    r = control(url, "PUT", "/_sandbox/settings", json=values, timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def message(world: dict[str, str], text: str) -> dict[str, Any]:
    return {"from": world["number"], "to": ["+12025550142"], "text": text, "applicationId": world["app_id"]}


def stored_ids(db_path: str, account_id: str = DEMO["account_id"]) -> set[str]:
    """The outbound message ids in the db, read by a connection of this test (not the server's)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute("SELECT id FROM messages WHERE account_id=? AND direction='out'", (account_id,))
        return {str(r[0]) for r in rows}


def burst(url: str, bodies: list[Any], headers: dict[str, str] | None = None) -> list[requests.Response]:
    """POST every body at once (one thread and connection each)."""
    auth = None if headers else (DEMO["username"], DEMO["password"])

    def post(body: Any) -> requests.Response:
        return requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", json=body, headers=headers,
                             auth=auth, timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


# -- group commit -----------------------------------------------------------------------------------

def test_a_concurrent_burst_is_all_accepted_and_all_stored(sb: Any, world: dict[str, str]) -> None:
    responses = burst(sb.url, [message(world, f"burst {i}") for i in range(BURST)])
    assert [r.status_code for r in responses] == [202] * BURST, [r.text for r in responses if r.status_code != 202]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == BURST, "every 202 carries its own message id"
    assert [r.json()["text"] for r in responses] == [f"burst {i}" for i in range(BURST)]
    assert set(ids) <= stored_ids(sb.db_path), "a 202 is answered only once its message is committed"
    with sqlite3.connect(f"file:{sb.db_path}?mode=ro", uri=True, timeout=30) as conn:  # the counts kept in step
        counted = conn.execute("SELECT items, messages FROM message_counts WHERE account_id=?",
                               (DEMO["account_id"],)).fetchone()
        rows = conn.execute("SELECT (SELECT COUNT(*) FROM message_events WHERE account_id=?), (SELECT COUNT(*) FROM "
                            "messages WHERE account_id=?)", (DEMO["account_id"],) * 2).fetchone()
    assert tuple(counted) == tuple(rows) and rows[1] >= BURST, (counted, rows)
    for mid in ids[:5]:  # and the API reads them back as sent
        got = requests.get(f"{sb.url}/api/v2/users/{DEMO['account_id']}/messages", params={"messageId": mid},
                           auth=(DEMO["username"], DEMO["password"]), timeout=TIMEOUT)
        assert got.status_code == 200, got.text
        assert [m["messageId"] for m in got.json()["messages"]] == [mid]


def test_refused_requests_in_a_burst_leave_their_neighbours_stored(sb: Any, world: dict[str, str]) -> None:
    good = [message(world, f"good {i}") for i in range(20)]
    bad: list[Any] = [{**message(world, "no to"), "to": []}, {**message(world, "x"), "applicationId": ""},
                      {"from": world["number"]}, {**message(world, "bad to"), "to": ["not a number"]}] * 5
    bodies = [b for pair in zip(good, bad) for b in pair]
    responses = burst(sb.url, bodies)
    codes = [r.status_code for r in responses]
    assert codes[0::2] == [202] * 20, [r.text for r in responses[0::2] if r.status_code != 202]
    assert codes[1::2] == [400] * 20, [r.text for r in responses[1::2]]
    ids = {r.json()["id"] for r in responses[0::2]}
    assert len(ids) == 20 and stored_ids(sb.db_path) == ids


def test_a_burst_cannot_overshoot_the_messages_quota(sb: Any, world: dict[str, str]) -> None:
    """Writes refused by the quota check inside the group transaction roll back alone: exactly the quota is
    stored, each accepted message is one of them, every other request gets the quota's 403."""
    quota = 12
    settings(sb.url, quotas={"messages": quota})
    try:
        responses = burst(sb.url, [message(world, f"quota {i}") for i in range(BURST)])
        accepted = [r for r in responses if r.status_code == 202]
        refused = [r for r in responses if r.status_code != 202]
        assert len(accepted) == quota, [r.status_code for r in responses]
        assert {r.status_code for r in refused} == {403}, [r.text for r in refused]
        assert all("Quota reached" in r.text and str(quota) in r.text for r in refused)
        assert stored_ids(sb.db_path) == {r.json()["id"] for r in accepted}
        # the quota holds for the next request too
        r = send(sb.url, message(world, "one more"))
        assert r.status_code == 403 and len(stored_ids(sb.db_path)) == quota
    finally:
        settings(sb.url, quotas={"messages": None})


@pytest.mark.slow
def test_kill_9_right_after_a_burst_of_202s_loses_none(tmp_path: Path) -> None:
    """Every 202 of a concurrent burst is in the db when the sandbox is killed with SIGKILL the moment the last
    answer arrived, and a restart on that db lists them all."""
    proc = SandboxProcess(tmp_path / "sandbox.db", order_delay=0).start(reset=True)
    try:
        settings(proc.url, rate_limit_per_second=0, delivery_delay=3600)  # the callbacks stay pending
        world = World(proc.url).provision(f"{proc.url}/_sandbox/bins/kill9")
        responses = burst(proc.url, [message(world, f"kill {i}") for i in range(BURST)])
        proc.kill9()
        assert [r.status_code for r in responses] == [202] * BURST
        ids = {r.json()["id"] for r in responses}
        assert len(ids) == BURST and ids <= stored_ids(str(proc.db))
        proc.start()
        for mid in sorted(ids)[:3]:
            got = requests.get(f"{proc.url}/api/v2/users/{DEMO['account_id']}/messages",
                               params={"messageId": mid}, auth=(DEMO["username"], DEMO["password"]), timeout=TIMEOUT)
            assert got.status_code == 200 and [m["messageId"] for m in got.json()["messages"]] == [mid]
    finally:
        proc.stop()


# -- the settings and meta cache --------------------------------------------------------------------

def _two_in_one_second(url: str, world: dict[str, str]) -> list[int]:
    return [send(url, message(world, f"rate {i}")).status_code for i in range(2)]


def test_a_setting_changed_anywhere_counts_on_the_next_request(sb: Any, world: dict[str, str],
                                                              sandbox_factory: Any) -> None:
    """``rate_limit_per_second`` read through the cache: changed by this server's control plane, by a second
    server on the same db, and by a plain sqlite connection of another program, each counts at once."""
    clock = SandboxClock(sb.url)
    clock.freeze()  # both requests fall in one rate window
    other = sandbox_factory(db=sb.db_path)
    try:
        assert _two_in_one_second(sb.url, world) == [202, 202]  # the settings are cached now
        settings(sb.url, rate_limit_per_second=1)
        clock.advance(1)
        assert _two_in_one_second(sb.url, world) == [202, 429]
        settings(other.url, rate_limit_per_second=0)  # another server (its own connection) on the same db
        assert _two_in_one_second(sb.url, world) == [202, 202]
        with sqlite3.connect(sb.db_path, timeout=30) as conn:  # another program
            conn.execute("UPDATE settings SET value=? WHERE key='rate_limit_per_second'", (json.dumps(1),))
        clock.advance(1)
        assert _two_in_one_second(sb.url, world) == [202, 429]
    finally:
        other.stop()
        settings(sb.url, rate_limit_per_second=0)
        clock.wall()


def test_a_fault_countdown_is_shared_by_two_servers_on_one_db(sb: Any, world: dict[str, str],
                                                              sandbox_factory: Any) -> None:
    """``fail_next`` is read through each server's cache and counted down by whichever server takes a fault:
    each count is spent once across both servers, and the next request after the last one succeeds."""
    other = sandbox_factory(db=sb.db_path)
    try:
        assert send(other.url, message(world, "warm")).status_code == 202  # both caches hold the settings
        assert send(sb.url, message(world, "warm")).status_code == 202
        settings(other.url, fail_next={"status": 503, "count": 3, "methods": ["POST"]})
        codes = [send(url, message(world, "fault")).status_code for url in (sb.url, other.url, sb.url, other.url,
                                                                              sb.url)]
        assert codes == [503, 503, 503, 202, 202]
    finally:
        other.stop()
        settings(sb.url, fail_next=None)


def test_a_quota_changed_by_another_connection_counts_on_the_next_request(sb: Any, world: dict[str, str]) -> None:
    """The ``quotas`` setting written by another program on the db binds the very next request (no stale
    per-process copy of the limits)."""
    assert send(sb.url, message(world, "first")).status_code == 202  # the limits are read now
    with sqlite3.connect(sb.db_path, timeout=30) as conn:
        conn.execute("INSERT OR REPLACE INTO settings VALUES ('quotas', ?)", (json.dumps({"messages": 1}),))
    try:
        r = send(sb.url, message(world, "second"))
        assert r.status_code == 403 and "Quota reached" in r.text, r.text
        assert len(stored_ids(sb.db_path)) == 1
    finally:
        settings(sb.url, quotas={"messages": None})


def _token(url: str, client_id: str = DEMO["client_id"], secret: str = DEMO["client_secret"]) -> str:
    r = requests.post(f"{url}/api/v1/oauth2/token", auth=(client_id, secret),
                      data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _bearer_send(url: str, world: dict[str, str], token: str) -> requests.Response:
    return requests.post(f"{url}/api/v2/users/{DEMO['account_id']}/messages", json=message(world, "bearer"),
                         headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)


def test_the_sandbox_clock_expires_a_cached_token(sb: Any, world: dict[str, str], sandbox_factory: Any) -> None:
    """A token verified (and its signature cached) by earlier requests expires when the clock passes its exp,
    whether the clock is moved through this server or through another server on the same db."""
    settings(sb.url, token_ttl_seconds=60)
    clock = SandboxClock(sb.url)
    clock.freeze(at=float(int(clock.now())))
    other = sandbox_factory(db=sb.db_path)
    try:
        for mover in (sb.url, other.url):
            token = _token(sb.url)
            assert [_bearer_send(sb.url, world, token).status_code for _ in range(2)] == [202, 202]
            SandboxClock(mover).advance(59)
            assert _bearer_send(sb.url, world, token).status_code == 202
            SandboxClock(mover).advance(1)
            r = _bearer_send(sb.url, world, token)
            assert r.status_code == 401 and "expired" in r.headers.get("WWW-Authenticate", ""), r.text
    finally:
        other.stop()
        clock.wall()
        settings(sb.url, token_ttl_seconds=3600)


def test_a_revoked_credential_or_a_new_signing_key_refuses_a_cached_token_at_once(
        sb: Any, world: dict[str, str]) -> None:
    r = control(sb.url, "POST", "/_sandbox/credentials", json={
        "account_id": DEMO["account_id"], "client_id": "fastpath-client", "client_secret": "fastpath-secret-1",
        "roles": ["Messaging", "Numbers"]}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    token = _token(sb.url, "fastpath-client", "fastpath-secret-1")
    assert _bearer_send(sb.url, world, token).status_code == 202
    r = control(sb.url, "DELETE", "/_sandbox/credentials/fastpath-client", timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert _bearer_send(sb.url, world, token).status_code == 401, "a revoked credential's token works no more"

    token = _token(sb.url)
    assert _bearer_send(sb.url, world, token).status_code == 202
    with sqlite3.connect(sb.db_path, timeout=30) as conn:  # the key changed by another connection
        old = conn.execute("SELECT value FROM meta WHERE key='jwt_signing_key'").fetchone()[0]
        conn.execute("UPDATE meta SET value=? WHERE key='jwt_signing_key'", ("0" * 64,))
    try:
        r = _bearer_send(sb.url, world, token)
        assert r.status_code == 401, "a token signed with the old key is refused at once"
        assert _bearer_send(sb.url, world, _token(sb.url)).status_code == 202, "a token of the new key works"
    finally:
        with sqlite3.connect(sb.db_path, timeout=30) as conn:
            conn.execute("UPDATE meta SET value=? WHERE key='jwt_signing_key'", (old,))


def test_a_replaced_credential_refuses_its_earlier_token_at_once(sb: Any, world: dict[str, str]) -> None:
    """Replacing a credential (same client id, new secret) retires the tokens issued before, cached or not, even
    within the second of the sandbox clock that issued them (whole-second ``iat`` alone cannot tell)."""
    clock = SandboxClock(sb.url)
    clock.freeze(at=float(int(clock.now())))  # token times are whole seconds

    def put_credential(secret: str) -> None:
        r = control(sb.url, "POST", "/_sandbox/credentials", json={
            "account_id": DEMO["account_id"], "client_id": "fastpath-rotated", "client_secret": secret,
            "roles": ["Messaging", "Numbers"]}, timeout=TIMEOUT)
        assert r.status_code == 201, r.text

    try:
        put_credential("fastpath-secret-1")
        token = _token(sb.url, "fastpath-rotated", "fastpath-secret-1")
        assert [_bearer_send(sb.url, world, token).status_code for _ in range(2)] == [202, 202]
        put_credential("fastpath-secret-2")  # in the same second of the (frozen) sandbox clock
        r = _bearer_send(sb.url, world, token)
        assert r.status_code == 401, r.text
        assert _bearer_send(sb.url, world, _token(sb.url, "fastpath-rotated", "fastpath-secret-2")).status_code == 202
    finally:
        clock.wall()
        control(sb.url, "DELETE", "/_sandbox/credentials/fastpath-rotated", timeout=TIMEOUT)


# -- in-process delivery to the sandbox's own bins ----------------------------------------------------

def _dispatcher(sb: Any) -> Any:
    from bwhelpers.sandbox.messaging import _dispatchers

    mine = [d for d in _dispatchers.values() if d.db.path == sb.db_path and d.local_origins]
    assert len(mine) == 1, "one dispatcher of this sandbox delivers its own bins in-process"
    return mine[0]


def _bin(sb: Any, name: str) -> dict[str, Any]:
    r = control(sb.url, "GET", f"/_sandbox/bins/{name}", creds=DEMO, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _deliveries(sb: Any, world: dict[str, str], bin_name: str, seen: int,
                expect: int) -> tuple[str, list[dict[str, Any]]]:
    """Send one message: (its id, the bin's ``expect`` requests for its callback)."""
    r = send(sb.url, message(world, f"to {bin_name}"))
    assert r.status_code == 202, r.text
    wait_for(lambda: _bin(sb, bin_name)["count"] >= seen + expect, timeout=20, what="the bin's requests")
    got = [q for q in _bin(sb, bin_name)["requests"] if q["json"] and q["json"][0]["message"]["id"] == r.json()["id"]]
    assert len(got) == expect, got
    return str(r.json()["id"]), got


def _attempts(sb: Any, message_id: str) -> list[tuple[Any, ...]]:
    """The callback attempt log of one message, oldest first, without times and ids."""
    def read() -> list[dict[str, Any]]:
        r = control(sb.url, "GET", "/_sandbox/callbacks", creds=DEMO, params={"messageId": message_id},
                    timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        done = [c for c in r.json()["callbacks"] if c.get("status") == "delivered"]
        return list(r.json()["attempts"]) if done else []

    rows = wait_for(read, timeout=20, what="the callback marked delivered")
    keys = ("attempt", "status_code", "statusCode", "error", "auth_used", "authUsed", "event_type", "type")
    return sorted(tuple((k, row.get(k)) for k in keys if k in row) for row in rows)


def _shape(request: dict[str, Any]) -> dict[str, Any]:
    """A bin request without what differs between two callbacks (ids, times, lengths), checked here."""
    headers = dict(request["headers"])
    assert int(headers.pop("Content-Length")) == len(request["body"].encode("utf-8"))
    event = dict(request["json"][0])
    event["message"] = sorted(event["message"])
    return {"method": request["method"], "path": request["path"], "query": request["query"],
            "headers": list(headers.items()), "authorized": request["authorized"], "status": request["status"],
            "event": sorted((k, v if k not in ("time", "message") else "?") for k, v in event.items()
                            if k != "message") + [("message", event["message"])]}


@pytest.mark.parametrize(("name", "query", "cb_creds", "answers"), [
    ("challenge", "?require_auth=cbuser:cbpass", ("cbuser", "cbpass"), [(401, False), (204, True)]),
    ("status", "?status=200", None, [(200, False)]),
    ("creds-unasked", "", ("cbuser", "cbpass"), [(204, False)]),
])
def test_an_in_process_delivery_records_what_an_http_delivery_records(
        sb: Any, world: dict[str, str], name: str, query: str, cb_creds: tuple[str, str] | None,
        answers: list[tuple[int, bool]]) -> None:
    """The same callback delivered in-process and over HTTP: the bin stores the same requests (the 401
    challenge and the Basic resend when it requires auth), header by header, and the attempt logs match."""
    app = World(sb.url).create_app(f"{sb.url}/_sandbox/bins/{name}{query}", cb_creds, name=name)
    World(sb.url).assign(world["location"], app)
    pinned = {**world, "app_id": app}
    dispatcher = _dispatcher(sb)
    local_id, local = _deliveries(sb, pinned, name, 0, len(answers))
    origins = dispatcher.local_origins
    dispatcher.local_origins = frozenset()  # the same URL, now over HTTP (as to any other receiver)
    try:
        http_id, over_http = _deliveries(sb, pinned, name, len(answers), len(answers))
    finally:
        dispatcher.local_origins = origins
    assert [(q["status"], q["authorized"]) for q in local] == answers
    assert [_shape(q) for q in local] == [_shape(q) for q in over_http]
    local_log, http_log = _attempts(sb, local_id), _attempts(sb, http_id)
    assert len(local_log) == len(answers) and local_log == http_log


def test_a_workshop_records_callbacks_to_its_own_bins_below_its_prefix_in_process(tmp_path: Path) -> None:
    """A workshop service's bins are below its prefix (issue 25: each message's callback was one more HTTP request
    and connection into the service): a callback to one of them at the service's own address is recorded
    in-process, with the path its handlers see (the prefix stripped, as ``PrefixedApplication`` routes it, so the
    bin stores what an HTTP delivery stores); one outside the prefix, or at another address, still goes over HTTP."""
    from bwhelpers.sandbox.callbacks import Dispatcher
    from bwhelpers.sandbox.db import Database

    origins = frozenset({("127.0.0.1", 8123), ("localhost", 8123)})
    d = Dispatcher(Database(tmp_path / "d.db"), signing_key="k", bin_prefix="/services/bw-sandbox",
                   local_origins=origins)
    base = "http://127.0.0.1:8123/services/bw-sandbox/_sandbox/bins/"
    assert d.local_bin(base + "sandbox-9920001?status=200") == (
        "127.0.0.1:8123", "/_sandbox/bins/sandbox-9920001", "status=200", "sandbox-9920001")
    assert d.local_bin("http://localhost:8123/services/bw-sandbox/_sandbox/bins/x") == (
        "localhost:8123", "/_sandbox/bins/x", "", "x")
    for url in ("http://127.0.0.1:8123/_sandbox/bins/x",  # not below the prefix: not this service's bin
                "http://127.0.0.1:8123/services/bw-sandboxed/_sandbox/bins/x",
                "http://127.0.0.1:8124/services/bw-sandbox/_sandbox/bins/x",  # another address
                base + "a/b", base + "x#frag"):
        assert d.local_bin(url) is None, url
    plain = Dispatcher(Database(tmp_path / "p.db"), signing_key="k", local_origins=origins)
    assert plain.local_bin("http://127.0.0.1:8123/_sandbox/bins/x") == ("127.0.0.1:8123", "/_sandbox/bins/x", "", "x")


# -- routing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["", "/services/sandbox"])
def test_routes_asked_by_their_literal_start_pick_what_tornado_picks(tmp_path: Path, prefix: str) -> None:
    """``SandboxApplication.find_handler`` tries only the routes whose regex can match the path's start: for a path
    made from every route (and paths no route has), it picks the handler and path arguments tornado's own routing
    picks, workshop prefix included."""
    import tornado.httputil
    import tornado.web

    from bwhelpers.sandbox.context import SandboxContext
    from bwhelpers.sandbox.db import Database
    from bwhelpers.sandbox.server import load_areas, make_app
    from bwhelpers.sandbox.workshop.service import PrefixedApplication
    from bwhelpers.sandbox.workshop.urls import url_paths

    ctx = SandboxContext(db=Database(tmp_path / "routes.db"), admin_key="k", instance_key="i",
                         allowed_hosts=frozenset({"127.0.0.1"}))
    extra = url_paths if prefix else None
    app = make_app(ctx, load_areas(), app_class=PrefixedApplication, extra_routes=extra)
    app.url_prefix = prefix
    paths = {"/", "/nothing/here", "/api", "/api/", "/api/v2", "/_sandbox", "/v2/users/", "/api/v2/users//messages"}
    for rule in app.wildcard_router.rules:
        template, groups = rule.matcher._path, rule.matcher._group_count
        if template is not None:
            for value in ("9900000", "x", "a/b"):
                paths.add(template % ((value,) * groups))
    assert len(paths) > 60

    def pick(path: str, router: Any) -> tuple[Any, ...]:
        request = tornado.httputil.HTTPServerRequest(method="GET", uri=prefix + path)
        delegate = router(request)
        return (delegate.handler_class, delegate.path_args, delegate.path_kwargs, request.path)

    def tornado_way(request: Any) -> Any:
        if prefix and request.path.startswith(prefix + "/"):
            request.path = request.path[len(prefix):]
        return tornado.web.Application.find_handler(app, request)

    for path in sorted(paths):
        assert pick(path, app.find_handler) == pick(path, tornado_way), path


# -- WAL checkpoints off the event loop ---------------------------------------------------------------

def test_the_checkpointer_copies_committed_pages_into_the_db_file_on_its_own_thread(tmp_path: Path) -> None:
    """With ``Database.start_checkpointer`` the serving connection no longer checkpoints in its commits (its
    ``wal_autocheckpoint`` is raised), yet what it commits reaches the db file itself: a reader that ignores the WAL
    (``immutable=1``) sees it once the background thread checkpointed. Stopped, the thread ends and the connection
    checkpoints as sqlite does by default again."""
    import time

    from bwhelpers.sandbox.db import CHECKPOINT_FALLBACK_PAGES, SQLITE_AUTOCHECKPOINT_PAGES, Database

    path = tmp_path / "ckpt.db"
    db = Database(path)

    def in_file() -> int:  # the rows in the db file alone, without the WAL
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM counters").fetchone()[0])
        except sqlite3.DatabaseError:  # the table is still only in the WAL, or the checkpoint is mid-write (an
            return 0  # immutable reader may see a half-copied page: "malformed", once in a fresh-Debian run)
        finally:
            conn.close()

    def autocheckpoint() -> int:
        return int(db.connect().execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    db.start_checkpointer()
    try:
        assert autocheckpoint() == CHECKPOINT_FALLBACK_PAGES
        for i in range(20):
            db.next_counter(f"ckpt-{i}", 1)
        assert db.count("SELECT COUNT(*) FROM counters") == 20
        deadline = time.monotonic() + 20
        seen = in_file()
        while seen < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = in_file()
        assert seen == 20, "the background thread checkpointed the commits into the db file"
        thread = db._checkpointer._thread  # type: ignore[union-attr]
    finally:
        db.stop_checkpointer()
    assert not thread.is_alive() and autocheckpoint() == SQLITE_AUTOCHECKPOINT_PAGES
    db.close()


def test_answers_carry_the_date_of_their_second_and_the_services_headers(sb: Any, world: dict[str, str]) -> None:
    """``BaseHandler.clear`` formats the ``Date`` header once a second: every answer (a 202, a 400, a 404) still
    carries the HTTP date of the second it was made in, ``Server: bwhelpers-sandbox`` and ``nosniff``, and no
    ``Content-Type`` it did not choose."""
    import time

    import tornado.httputil

    before = int(time.time())
    answers = [send(sb.url, message(world, "dated")), send(sb.url, {"from": world["number"]}),
               requests.get(f"{sb.url}/api/v2/users/{DEMO['account_id']}/nothing", timeout=TIMEOUT),
               requests.delete(f"{sb.url}/_sandbox/bins/x", timeout=TIMEOUT)]
    after = int(time.time())
    dates = {tornado.httputil.format_timestamp(t) for t in range(before, after + 1)}
    assert [r.status_code for r in answers] == [202, 400, 404, 401]
    for r in answers:
        assert r.headers["Date"] in dates, (r.status_code, r.headers["Date"], dates)
        assert r.headers["Server"] == "bwhelpers-sandbox" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Type"].startswith("application/json"), r.headers


def test_a_sandbox_in_a_thread_leaves_its_host_process_garbage_collector_alone(sandbox_factory: Any) -> None:
    """``python -m bwhelpers.sandbox`` (and the workshop service) tune their own garbage collector once ready
    (``server.serving_gc``: what the start allocated frozen, rarer collections); a sandbox started in a thread of
    another process (a kernel, a test) never touches that process's."""
    import gc

    before = (gc.get_threshold(), gc.get_freeze_count())
    sb = sandbox_factory()
    try:
        assert requests.get(f"{sb.url}/_sandbox/health", timeout=TIMEOUT).status_code == 200
        assert (gc.get_threshold(), gc.get_freeze_count()) == before
    finally:
        sb.stop()


# -- perfpost (issue 25): ids, the send settings, the claim's read ------------------------------------

def test_message_ids_draw_every_base36_digit_alike_and_survive_unlucky_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """``new_message_id``: 13 digits of epoch millis and 16 lowercase alnum; the 36 digits come out alike (bytes
    252-255 are dropped, not folded onto the first digits), and a draw left with fewer than 16 usable bytes takes
    more."""
    import collections
    import os
    import re

    from bwhelpers.sandbox.messaging import models

    seen: collections.Counter[str] = collections.Counter()
    for _ in range(3000):
        mid = models.new_message_id(1_500_000_000.25)
        assert re.fullmatch(r"1500000000250[a-z0-9]{16}", mid), mid
        seen.update(mid[13:])
    assert set(seen) == set("abcdefghijklmnopqrstuvwxyz0123456789")
    assert max(seen.values()) < 1.5 * min(seen.values()), seen  # 48,000 digits: about 1,333 each
    draws = iter([bytes([255] * 20 + [0, 1, 2, 3]), bytes([4, 5, 252, 6]), bytes([7, 8, 9, 10]),
                  bytes([11, 12, 13, 14]), bytes([35, 36, 71, 251])])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    assert models.new_message_id(0) == "0" * 13 + "abcdefghijklmno9"  # byte 35: the last digit, 9


def test_a_changed_delivery_delay_counts_on_the_next_send(sb: Any, world: dict[str, str]) -> None:
    """``delivery_delay`` is read with the send's other settings once per change of the settings: a new value
    moves the very next message's event (its time on the sandbox's frozen clock)."""
    clock = SandboxClock(sb.url)
    clock.freeze()
    try:
        delays = []
        for delay in (0.2, 7.0, 0.2):
            settings(sb.url, delivery_delay=delay)
            r = send(sb.url, message(world, f"delay {delay}"))
            assert r.status_code == 202, r.text
            found = control(sb.url, "GET", f"/_sandbox/messages?messageId={r.json()['id']}", timeout=TIMEOUT).json()
            (msg,) = found["messages"]
            delays.append(round(msg["recipients"][0]["dueIn"], 3))
        assert delays == [0.2, 7.0, 0.2]
    finally:
        clock.wall()
        settings(sb.url, delivery_delay=FAST.get("delivery_delay", 0.2))


def test_a_claim_reads_the_rows_it_chose_by_primary_key(tmp_path: Path) -> None:
    """The claim's read inside its transaction finds its rows by id, not by scanning the due index (every due row,
    a backlog of thousands, on each tick), and still keeps only rows that are due and unclaimed."""
    from bwhelpers.sandbox.callbacks import claimed_rows_sql
    from bwhelpers.sandbox.server import prepare_db

    db = prepare_db(str(tmp_path / "claim.db"), reset=True)
    try:
        plan = " ".join(str(r[3]) for r in db.query("EXPLAIN QUERY PLAN " + claimed_rows_sql(3), (1, 2, 3, 0, 0)))
        assert "PRIMARY KEY" in plan and "callback_outbox_due" not in plan, plan
        rows = [("a", "pending", 10.0, None, None), ("a", "pending", 99.0, None, None),  # 2: not due at 50
                ("a", "pending", 10.0, "other:1", 45.0), ("a", "delivered", 10.0, None, None),  # 3: fresh claim
                ("a", "pending", 10.0, "other:2", 5.0)]  # 5: a stale claim (before 40), taken again
        with db.transaction() as conn:
            conn.executemany("INSERT INTO callback_outbox (account_id, url, body, status, next_attempt_at, claimed_by, "
                             "claimed_at, created) VALUES (?, 'http://x/', '[]', ?, ?, ?, ?, 0)", rows)
        got = [r["id"] for r in db.query(claimed_rows_sql(5), (1, 2, 3, 4, 5, 50.0, 40.0))]
        assert got == [1, 5]
    finally:
        db.close()


def test_a_claim_records_its_whole_window_of_own_bin_deliveries_in_turns() -> None:
    """Under a backlog, one claim takes every own-bin delivery of its window (LOCAL_BATCH = CLAIM_WINDOW), so no due
    row is read and ranked again by the next ticks; the turns across accounts stay (each account's first, then
    each one's second, ...), and deliveries over HTTP still keep to the pool."""
    from bwhelpers.sandbox.callbacks import CLAIM_WINDOW, LOCAL_BATCH, MAX_IN_FLIGHT, Dispatcher
    from bwhelpers.sandbox.db import Database

    assert LOCAL_BATCH == CLAIM_WINDOW > MAX_IN_FLIGHT
    d = Dispatcher(Database(":memory:"))
    d.local_origins = frozenset({("127.0.0.1", 8765)})
    own = [{"id": i, "account_id": "a" if i <= 100 else "b", "url": f"http://127.0.0.1:8765/_sandbox/bins/x{i % 2}"}
           for i in range(1, CLAIM_WINDOW + 1)]
    taken = d.choose(own)
    assert sorted(taken) == list(range(1, CLAIM_WINDOW + 1))
    assert taken[:4] == [1, 101, 2, 102], taken  # in turns
    http = [{"id": 1000 + i, "account_id": "a", "url": "https://a.example/cb"} for i in range(CLAIM_WINDOW)]
    assert len(d.choose(http)) == MAX_IN_FLIGHT


class _Loop:
    """What a dispatcher's tick hands its IOLoop: HTTP deliveries spawned, callbacks added (a re-tick at once)."""

    def __init__(self) -> None:
        self.spawned: list[dict[str, Any]] = []
        self.added: list[Any] = []

    def spawn_callback(self, fn: Any, row: dict[str, Any]) -> None:
        self.spawned.append(row)

    def add_callback(self, fn: Any) -> None:
        self.added.append(fn)


def _backlog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[Any, _Loop]:
    """A dispatcher on a fresh db whose outbox holds, oldest first, a full claim window of 96 own-bin rows (DEMO's)
    mixed with 32 HTTP rows (DEMO_B's, an external callback URL), then 40 more own-bin rows behind it; its ticks
    run on a :class:`_Loop` (no HTTP is sent, nothing waits)."""
    import tornado.ioloop

    from bwhelpers.sandbox import callbacks, clock
    from bwhelpers.sandbox.callbacks import CLAIM_WINDOW, Dispatcher
    from bwhelpers.sandbox.server import prepare_db

    db = prepare_db(str(tmp_path / name), reset=True)
    own, http = "http://127.0.0.1:8765/_sandbox/bins/backlog", "https://b.example/cb"
    with db.transaction() as conn:
        now = clock.now(conn)
        for i in range(CLAIM_WINDOW + 40):
            external = i < CLAIM_WINDOW and i % 4 == 3
            callbacks.enqueue(conn, account_id=(DEMO_B if external else DEMO)["account_id"],
                              url=http if external else own, body={"i": i}, due=now)
    loop = _Loop()
    monkeypatch.setattr(tornado.ioloop.IOLoop, "current", staticmethod(lambda instance=True: loop))
    return Dispatcher(db, signing_key="k", local_origins=frozenset({("127.0.0.1", 8765)})), loop


def _delivered(d: Any) -> int:
    return int(d.db.query_one("SELECT COUNT(*) AS n FROM callback_outbox WHERE status='delivered'")["n"])


def test_a_full_claim_window_of_own_bin_and_http_rows_ticks_again_at_once(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Review P3: under a backlog the dispatcher claims again at once (not after POLL_INTERVAL_MS) when its claim's
    window was full, also when the window mixed own-bin and HTTP rows, so fewer than LOCAL_BATCH own-bin rows were
    recorded (before: it re-ticked only after recording LOCAL_BATCH of them, and the rest of the backlog waited
    for the next poll). A window that is not full does not tick again."""
    d, loop = _backlog(tmp_path, monkeypatch, "mixed.db")
    try:
        d.tick()
        assert (_delivered(d), len(loop.spawned)) == (96, 32)  # the window: 96 recorded in-process, 32 over HTTP
        assert {r["account_id"] for r in loop.spawned} == {DEMO_B["account_id"]}
        assert loop.added == [d.tick]  # a backlog: the next claim at once
        loop.added.clear()
        d.tick()  # the 40 own-bin rows behind the window
        assert (_delivered(d), len(loop.spawned)) == (136, 32)
        assert loop.added == []  # that window was not full: the next claim is the next poll's
        d.tick()  # nothing due: no claim, no re-tick
        assert loop.added == [] and _delivered(d) == 136
    finally:
        d.db.close()


def test_a_full_window_of_which_another_process_took_some_rows_ticks_again_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review P3: another process claims some of the rows this claim chose between its read and its transaction,
    so it records fewer than LOCAL_BATCH own-bin rows; its window was full all the same, so it claims again at
    once, and the other process's rows stay its own."""
    import time

    from bwhelpers.sandbox.callbacks import Dispatcher

    d, loop = _backlog(tmp_path, monkeypatch, "raced.db")
    chose = Dispatcher.choose

    def choose_then_race(self: Any, candidates: list[Any]) -> list[int]:
        ids = chose(self, candidates)
        with sqlite3.connect(str(tmp_path / "raced.db"), timeout=30) as other:  # another process, same db
            other.execute("UPDATE callback_outbox SET claimed_by='other:1', claimed_at=? WHERE id IN (1, 2, 5)",
                          (time.time(),))
        return ids

    monkeypatch.setattr(Dispatcher, "choose", choose_then_race)
    try:
        d.tick()
        assert (_delivered(d), len(loop.spawned)) == (93, 32)  # rows 1, 2 and 5 (own-bin) were taken by "other"
        assert loop.added == [d.tick]
        claimed = d.db.query("SELECT id FROM callback_outbox WHERE claimed_by='other:1' AND status='pending'")
        assert [r["id"] for r in claimed] == [1, 2, 5]
    finally:
        d.db.close()


def test_a_write_to_another_cached_table_keeps_the_parsed_settings_and_a_settings_write_drops_them(
        tmp_path: Path) -> None:
    """The settings/meta part of the cache (issue 25): most write requests write a cached table (an application, a
    number's owner, an account, a credential); the parsed settings, quotas and clock stay cached over them, and
    a write to settings or meta (this connection's, or another's commit) still counts at once."""
    from bwhelpers.sandbox import clock, quotas
    from bwhelpers.sandbox.accounts import create_account
    from bwhelpers.sandbox.db import begin_scope, end_scope
    from bwhelpers.sandbox.disabled import any_disabled
    from bwhelpers.sandbox.server import prepare_db

    db = prepare_db(str(tmp_path / "cache.db"), accounts=[])
    try:
        statements: list[str] = []
        db.connect().set_trace_callback(statements.append)

        def reads() -> list[str]:
            scope = begin_scope()  # (one request's reads)
            try:
                statements.clear()
                db.get_setting("delivery_delay"), quotas.limit(db, "messages"), clock.now(db)
                any_disabled(db, [DEMO["account_id"]])
                return [s for s in statements if "FROM settings" in s or "FROM meta" in s or "accounts" in s]
            finally:
                end_scope(scope)

        reads()
        assert reads() == []  # all cached
        create_account(db, DEMO)  # a write to accounts (a cached table): the account answer is read again ...
        assert [s for s in reads() if "accounts" not in s] == []  # ... the settings, quotas and clock are not
        db.set_setting("delivery_delay", 0.5)  # a write to settings drops them
        assert db.get_setting("delivery_delay") == 0.5
        with sqlite3.connect(tmp_path / "cache.db", timeout=30) as conn:  # so does another connection's commit
            conn.execute("UPDATE settings SET value=? WHERE key='delivery_delay'", (json.dumps(0.25),))
        assert db.get_setting("delivery_delay") == 0.25
    finally:
        db.close()


def test_a_value_derived_from_one_table_is_kept_over_writes_to_other_cached_tables_only(tmp_path: Path) -> None:
    """Per-table parts of the cache (issue 25): an account's disabled flag and a credential's version (read by every
    Bearer request) are kept while the setup's writes go to applications, locations and orders; a write to their
    own table (this connection's, or another connection's commit) drops them at once."""
    from bwhelpers.sandbox import credentials
    from bwhelpers.sandbox.db import begin_scope, end_scope
    from bwhelpers.sandbox.disabled import any_disabled, set_disabled
    from bwhelpers.sandbox.dashboard import models as dash
    from bwhelpers.sandbox.server import prepare_db

    db = prepare_db(str(tmp_path / "parts.db"))
    try:
        account = DEMO["account_id"]
        with db.transaction() as conn:
            credentials.set_credential(conn, account, "cid-1", "secret-1")
        statements: list[str] = []
        db.connect().set_trace_callback(statements.append)

        def reads() -> tuple[list[str], bool, Any]:
            scope = begin_scope()  # (one request's reads)
            try:
                statements.clear()
                disabled, state = any_disabled(db, [account]), credentials.credential_state(db, "cid-1")
                return [s for s in statements if "FROM accounts" in s or "FROM api_credentials" in s], disabled, state
            finally:
                end_scope(scope)

        first = reads()
        assert len(first[0]) == 2 and first[1] is False and first[2] is not None
        assert reads()[0] == []  # cached
        dash.create_application(db, account, {"AppName": "a", "ServiceType": "Messaging-V2",
                                              "CallbackUrl": "https://example.com/cb"})
        assert reads()[0] == []  # a write to another cached table (dash_applications) keeps both
        set_disabled(db, account, True)  # a write to accounts drops the flag, not the credential's version
        again = reads()
        assert again[1] is True and [s for s in again[0] if "api_credentials" in s] == []
        with db.transaction() as conn:  # replacing the credential: a new version at once
            credentials.set_credential(conn, account, "cid-1", "secret-2")
        assert reads()[2] != first[2]
        with sqlite3.connect(tmp_path / "parts.db", timeout=30) as other:  # another connection's commit drops all
            other.execute("UPDATE accounts SET disabled=NULL WHERE account_id=?", (account,))
        assert reads()[1] is False
        with pytest.raises(ValueError):
            db.derived(("x",), lambda: 1, table="messages")  # not a cached table: its writes would not drop it
    finally:
        db.close()


@contextlib.contextmanager
def _workshop_server_with_a_gap(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, list[Any]]]:
    """A workshop-mode sandbox on a fresh db at ``path``, and a list of changes it makes between a request's head
    (its tenant check) and its handler: (db, server, that list)."""
    from bwhelpers.sandbox import server as server_mod
    from bwhelpers.sandbox.server import SandboxServer, prepare_db

    db = prepare_db(str(path))
    meanwhile: list[Any] = []
    real_start = server_mod._BodyLimit._start

    def change_then_start(self: Any, turn: Any) -> None:
        while meanwhile:  # between the head's check and the handler
            meanwhile.pop(0)()
        real_start(self, turn)

    monkeypatch.setattr(server_mod._BodyLimit, "_start", change_then_start)
    srv = SandboxServer(db, port=0, workshop=True, xheaders=True)
    srv.start_thread()
    try:
        yield db, srv, meanwhile
    finally:
        srv.stop()
        db.close()


def test_a_workshop_request_is_authenticated_once_unless_its_credentials_changed_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25: the head's tenant check (fair_share) authenticates a workshop request; its handler takes that
    principal instead of verifying the token again. A change to what the answer was made of between the head and
    the handler (the account disabled by this process, or by another process's commit; the credential replaced)
    makes the handler authenticate again, so it is refused as before."""
    from bwhelpers.sandbox import credentials
    from bwhelpers.sandbox.disabled import REASON, set_disabled

    verified: list[str] = []
    real_verify = credentials.verify_token
    monkeypatch.setattr(credentials, "verify_token", lambda d, t: (verified.append(t), real_verify(d, t))[1])
    with _workshop_server_with_a_gap(tmp_path / "once.db", monkeypatch) as (db, srv, meanwhile):
        account = DEMO["account_id"]
        client = credentials.check_client(db, DEMO["client_id"], DEMO["client_secret"])
        assert client is not None
        bearer = {"Authorization": "Bearer " + credentials.issue_token(db, client, 3600)}
        url = f"{srv.url}/api/accounts/{account}/applications"

        def get() -> requests.Response:
            verified.clear()
            return requests.get(url, headers=bearer, timeout=30)

        r = get()
        assert r.status_code == 200, r.text
        assert len(verified) == 1  # the head's check only (it was 2: the handler verified the token again)
        assert requests.get(f"{srv.url}/api/accounts/9999999/applications", headers=bearer,
                            timeout=30).status_code == 403  # the handler still asks whether it covers the account

        meanwhile.append(lambda: set_disabled(db, account, True))  # this process, in the server's thread
        r = get()
        assert r.status_code == 401 and REASON in r.text and len(verified) == 2
        set_disabled(db, account, False)

        def other_process_disables() -> None:
            with sqlite3.connect(tmp_path / "once.db", timeout=30) as other:
                other.execute("UPDATE accounts SET disabled=1 WHERE account_id=?", (account,))

        meanwhile.append(other_process_disables)
        r = get()
        assert r.status_code == 401 and REASON in r.text and len(verified) == 2
        set_disabled(db, account, False)
        assert get().status_code == 200

        def replaced() -> None:
            with db.transaction() as conn:
                credentials.set_credential(conn, account, DEMO["client_id"], "a-new-secret")

        meanwhile.append(replaced)
        r = get()
        assert r.status_code == 401 and "last changed" in r.text and len(verified) == 2


def test_the_objects_quota_counts_every_table_in_one_statement(tmp_path: Path) -> None:
    """Issue 25: a create request's objects quota was nine COUNT statements (one per table); one statement sums
    them, with the same bound: an account at its cap may not add one, below it may."""
    from bwhelpers.sandbox import quotas
    from bwhelpers.sandbox.dashboard import models as dash
    from bwhelpers.sandbox.server import prepare_db

    db = prepare_db(str(tmp_path / "objects.db"))
    try:
        account = DEMO["account_id"]
        dash.create_application(db, account, {"AppName": "a", "ServiceType": "Messaging-V2"})
        have = sum(quotas.bounded_count(db, f"SELECT 1 FROM {t} WHERE account_id=?", (account,), 10_000)
                   for t in quotas.OBJECT_TABLES)
        assert have >= 2  # (the demo account's site, SIP peer, credential, and the application)
        statements: list[str] = []
        db.connect().set_trace_callback(statements.append)
        db.set_setting("quotas", {"objects": have})
        statements.clear()
        quotas.check_objects(db, account, adding=0)
        assert len([s for s in statements if "COUNT" in s]) == 1
        with pytest.raises(quotas.QuotaExceeded):
            quotas.check_objects(db, account)
        db.set_setting("quotas", {"objects": have + 1})
        quotas.check_objects(db, account)
    finally:
        db.close()


def test_the_sandboxs_log_records_look_up_no_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25 (perf10's 60c5d50): the sandbox's log format names no source line, thread or process, so its records
    do not look them up (the access log writes one per request at DEBUG; the caller's frame was most of it)."""
    import logging

    from bwhelpers.sandbox.server import LOG_FORMAT, configure_logging

    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))  # restored after the test
    for field in ("pathname", "filename", "module", "funcName", "lineno", "thread", "process"):
        assert f"%({field}" not in LOG_FORMAT
    configure_logging("DEBUG" if logging.getLogger().level == logging.DEBUG else "INFO")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log = logging.getLogger("bwhelpers.sandbox.test-records")
    keep = Keep()
    log.addHandler(keep)
    try:
        log.warning("one record")
    finally:
        log.removeHandler(keep)
    assert records and records[0].pathname == "(unknown file)" and records[0].threadName is None \
        and records[0].process is None


def test_a_workshop_api_users_request_is_checked_once_and_a_settings_change_meanwhile_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25, Basic (an API user): the head's check is the request's only password check; a settings change
    between the head and the handler (legacy_basic_auth=decommissioned) makes the handler authenticate again."""
    from bwhelpers.sandbox import auth

    checked: list[str] = []
    real_check = auth.check_secret
    monkeypatch.setattr(auth, "check_secret", lambda s, h: (checked.append(h), real_check(s, h))[1])
    with _workshop_server_with_a_gap(tmp_path / "basic.db", monkeypatch) as (db, srv, meanwhile):
        url = f"{srv.url}/api/accounts/{DEMO['account_id']}/applications"
        user = (DEMO["username"], DEMO["password"])
        checked.clear()
        assert requests.get(url, auth=user, timeout=30).status_code == 200
        assert len(checked) == 1  # the head's only (it was 2)
        assert requests.get(f"{srv.url}/api/accounts/{DEMO_B['account_id']}/applications", auth=user,
                            timeout=30).status_code == 403  # another account's: still refused by the handler
        meanwhile.append(lambda: db.set_setting("legacy_basic_auth", "decommissioned"))
        checked.clear()
        r = requests.get(url, auth=user, timeout=30)
        assert r.status_code == 401 and "decommissioned" in r.text and len(checked) == 2
