"""The workshop's own pages (the board, /me, /me/phone, the phone page) follow the hub user, not the client's address
(issue 23, review 23b N1 for hub tokens and cookies): their turns in the fair-share queue, their request rate, the
failure throttle of made-up hub tokens, and how long the hub's answer for a token is believed (on the sandbox's
clock). Against the workshop service started as the hub starts it, with a stand-in for the hub's REST API
(``GET /hub/api/user``, the one call the service makes about a token)."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from _workshop_service import workshop_service
from test_workshop_safety import JSON, app_xml, dash, move_clock, provision, settings
from conftest import serve_in_thread

SCOPE = "access:services!service=bw-sandbox"


class HubStandIn:
    """The hub's ``/hub/api/user`` for the service's HubAuth: ``tokens`` maps a token to its user's model (remove
    one to revoke it); ``asked`` counts the questions."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.asked = self.issued = 0
        #: OAuth codes the hub issued (its authorize step: :meth:`code`) -> the access token each is exchanged for
        self.codes: dict[str, str] = {}
        #: tokens whose answer waits until ``release`` is set (a slow hub)
        self.held: set[str] = set()
        self.release = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.asked += 1
                token = self.headers.get("Authorization", "").partition(" ")[2]
                if token in stand_in.held:
                    stand_in.release.wait(timeout=30)
                model = stand_in.tokens.get(token) if self.path.rstrip("/").endswith("/hub/api/user") else None
                body = json.dumps(model if model else {"status": 403, "message": "no such token"}).encode()
                self.send_response(200 if model else 403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # the hub's token endpoint: a code it issued (``code``), once; else 400
                stand_in.asked += 1
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                found = self.path.rstrip("/").endswith("/hub/api/oauth2/token")
                token = stand_in.codes.pop((form.get("code") or [""])[0], None) if found else None
                body = json.dumps({"access_token": token, "token_type": "Bearer"} if token else
                                  {"error": "invalid_grant", "error_description": "Invalid code"} if found
                                  else {"status": 404, "message": "Not Found"}).encode()
                self.send_response(200 if token else 400 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}/hub/api"
        self.thread = serve_in_thread(self.server)

    def token(self, name: str, admin: bool = False) -> str:
        self.issued += 1
        token = uuid.uuid4().hex  # as the hub makes every token (jupyterhub.utils.new_token)
        self.tokens[token] = {"kind": "user", "name": name, "admin": admin, "groups": [], "scopes": [SCOPE],
                              "token_id": "a1", "session_id": None}
        return token

    def code(self, name: str) -> str:
        """An OAuth code for ``name``, as the hub's authorize step redirects a logged-in browser back with one."""
        code = uuid.uuid4().hex
        self.codes[code] = self.token(name)
        return code

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hub() -> Iterator[HubStandIn]:
    stand_in = HubStandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, hub: HubStandIn) -> Iterator[dict[str, Any]]:
    with workshop_service(tmp_path_factory.mktemp("workshop-hub-identity"), "--order-delay", "0",
                          hub_api=hub.api) as svc:
        settings(svc, quotas={"requests_per_second": None})
        yield svc


def page(service: dict[str, Any], path: str, token: str | None = None, address: str = "198.51.100.1",
         **kw: Any) -> requests.Response:
    """A workshop page as a browser or script behind ``address`` reaches it through the hub's proxy."""
    headers = {"X-Forwarded-For": address, **({"Authorization": f"token {token}"} if token else {})}
    return requests.get(f"{service['url']}{path}", headers=headers, timeout=60, allow_redirects=False, **kw)


def test_a_revoked_hub_token_is_refused_once_the_hubs_answer_is_30_s_old(service: dict[str, Any],
                                                                        hub: HubStandIn) -> None:
    """HubAuth remembers the hub's answer for a token 30 s on the sandbox's clock (JupyterHub's default: 300 s of real
    time): within them the hub is asked once; a token the hub has revoked since is refused once they are over."""
    from bwhelpers.sandbox.workshop.tenants import HUB_CACHE_SECONDS

    assert HUB_CACHE_SECONDS <= 60
    provision(service, "rita")
    token = hub.token("rita")
    asked = hub.asked
    assert page(service, "/me", token).status_code == 200
    assert page(service, "/me", token).json()["participant"] == "rita"
    assert hub.asked == asked + 1  # the second answer came from the cache
    del hub.tokens[token]  # revoked (or expired) at the hub
    move_clock(service, advance=HUB_CACHE_SECONDS - 5)
    assert page(service, "/me", token).status_code == 200  # still believed: the answer is 25 s old
    move_clock(service, advance=6)
    r = page(service, "/me", token)
    assert r.status_code == 401 and "not valid" in r.json()["error"], r.text
    assert hub.asked == asked + 2
    # a fresh token of the same user works at once (its answer was never cached)
    assert page(service, "/me", hub.token("rita")).status_code == 200


def test_made_up_hub_tokens_are_throttled_per_address_and_stop_reaching_the_hub(service: dict[str, Any],
                                                                                hub: HubStandIn) -> None:
    """A made-up hub token counts against the client's address as a wrong password does: after the address's
    failures, 429 with Retry-After; the same made-up token again is refused without asking the hub; a real hub user
    behind another address is not affected."""
    from bwhelpers.sandbox.auth_throttle import BURST

    move_clock(service, freeze=True)  # the failure buckets refill on the sandbox's clock: frozen, none refills
    try:
        codes = [page(service, "/me", f"made-up-{i}", address="203.0.113.66").status_code for i in range(BURST + 3)]
        assert codes == [401] * BURST + [429] * 3, codes
        asked = hub.asked
        r = page(service, "/board.json", "made-up-0", address="203.0.113.66")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1, r.text
        assert "retry in" in r.json()["error"]
        assert hub.asked == asked  # a token that failed lately from an emptied bucket: the hub is not asked again
        r = page(service, "/me", "t" * 5000, address="203.0.113.68")  # no hub token is that long
        assert r.status_code == 401 and "not valid" in r.json()["error"], r.text
        assert hub.asked == asked  # ... and it is never sent to the hub
        provision(service, "sam")  # a real hub user behind the same address and behind another one
        assert page(service, "/me", hub.token("sam"), address="203.0.113.67").status_code == 200
        assert page(service, "/me", hub.token("sam"), address="203.0.113.66").status_code == 200
    finally:
        move_clock(service, wall=True)


@pytest.mark.slow  # over 2 s (2.1-2.2 s measured at load 3-6: about 0.11 s for each of its 15 requests to the service)
def test_a_hub_users_pages_have_their_accounts_request_rate(service: dict[str, Any], hub: HubStandIn) -> None:
    """The board, /me and the phone page count against their user's request rate (``requests_per_second``, bursts
    of three seconds' worth), whatever address they come from, and never against someone else's behind the same
    address."""
    provision(service, "tess")
    provision(service, "uma")
    tess, uma = hub.token("tess"), hub.token("uma")
    page(service, "/me", tess)  # the hub's answers cached before the rate is lowered
    page(service, "/me", uma)
    settings(service, quotas={"requests_per_second": 1})
    try:
        answers = [page(service, "/me", tess, address=f"198.51.100.{10 + i % 2}") for i in range(10)]
        codes = [r.status_code for r in answers]
        assert codes[0] == 200 and 429 in codes, codes  # a burst of 3, then one a second
        refused = answers[codes.index(429)]
        assert "requests_per_second" in refused.json()["error"] and int(refused.headers["Retry-After"]) >= 1
        assert page(service, "/me", uma).status_code == 200  # behind the same addresses, a bucket of her own
    finally:
        settings(service, quotas={"requests_per_second": None})


def test_a_hub_cookie_and_a_signed_phone_link_name_their_user() -> None:
    """The tenant of a workshop page (in-process, no server): a hub token or the service's signed HubOAuth cookie
    whose answer the hub gave is its user's account (a hub user without one: ``hub:<name>``); a forged cookie, an
    unknown token and a forged or expired phone link are not anyone's; the emulated APIs are left to their own
    credentials."""
    import asyncio
    import inspect
    import tempfile
    from pathlib import Path

    import tornado.httputil
    import tornado.web

    from bwhelpers.sandbox import clock
    from bwhelpers.sandbox.phone.models import link_path
    from bwhelpers.sandbox.server import prepare_db
    from bwhelpers.sandbox.workshop import models
    from jupyterhub.services.auth import HubOAuth

    from bwhelpers.sandbox.workshop.tenants import (HUB_CACHE_SECONDS, MAX_CHECKS_PER_ADDRESS, MAX_KNOWN_PER_USER,
                                                    ODD_TOKEN_CHECKS, HubAnswers, HubCheck, Tenants, cache_key)
    from bwhelpers.sandbox.admission import PER_PEER_CONNECTIONS, ledger_key, outsider, unproven

    with tempfile.TemporaryDirectory() as folder:
        db = prepare_db(str(Path(folder) / "t.db"), accounts=[])
        try:
            # as hub_auth() configures the service's own (tested over HTTP above), here one of the test's
            auth = HubOAuth(oauth_client_id="service-bw-sandbox", api_token="unused", cache_max_age=HUB_CACHE_SECONDS,
                            cache=HubAnswers(HUB_CACHE_SECONDS, lambda: clock.now(db)))
            secret = b"s" * 32
            creds, _ = models.provision(db, "vic", b"room-secret", __import__(
                "bwhelpers.sandbox.accounts", fromlist=["create_account"]).create_account)
            tenants = Tenants(db, auth, secret, "/services/bw-sandbox", "admin-key")
            auth.cache[cache_key("good", "sess")] = {"name": "vic", "admin": False}
            auth.cache[cache_key("host-token", "")] = {"name": "host", "admin": True}
            auth.cache[cache_key("bad", "")] = None

            def tenant(uri: str, **headers: str) -> Any:
                return tenants(tornado.httputil.HTTPHeaders(headers), "/services/bw-sandbox" + uri, "198.51.100.9")

            cookie = tornado.web.create_signed_value(secret, auth.cookie_name, "good").decode()
            assert tenant("/me", Cookie=f"{auth.cookie_name}={cookie}; jupyterhub-session-id=sess") \
                == f"account:{creds['account_id']}"
            assert tenant("/board.json", Authorization="token host-token") == "hub:host"
            # rev23e E3: a hub user with no account who is not an admin (a name that only logged in: free with the
            # room password) is a guest, counted with the outsiders (their pool, the unproven half)
            auth.cache[cache_key("name-only", "")] = {"name": "zz001", "admin": False}
            assert tenant("/me", Authorization="token name-only") == "guest:zz001"
            assert outsider("guest:zz001") and unproven("guest:zz001") and not outsider("hub:host")
            assert tenant("/me", Authorization="token bad") is None
            forged = tornado.web.create_signed_value(b"x" * 32, auth.cookie_name, "good").decode()
            assert tenant("/me", Cookie=f"{auth.cookie_name}={forged}; jupyterhub-session-id=sess") is None
            # a browser's first page (HTML, no credentials at all: only the redirect to the hub's login) is its
            # address's first:, outside every room-wide bound (rev23e E2 residue); anything else is not
            assert tenant("/me/phone", Accept="text/html") == tenant("/", Accept="text/html") \
                == "first:address:198.51.100.9"
            for uri, headers in (("/oauth_callback?code=c&state=s", {}),
                                 ("/participants/vic", {}), ("/me", {"Authorization": "Basic eDp5"})):
                assert tenant(uri, **{"Accept": "text/html", **headers}) is None, (uri, headers)
            # rev23g G2: a login cookie the service cannot read (signed before its restart: a new cookie secret, or
            # forged) proves nothing: the handler only redirects to the hub's login, so that is a first page too (the
            # room's browsers after a restart were their address's, 429 during a flood of made-up tokens there)
            assert tenant("/me", Accept="text/html", Cookie=f"{auth.cookie_name}={forged}") \
                == "first:address:198.51.100.9"
            assert tenant("/me", Accept="text/html", Cookie=f"{auth.cookie_name}={cookie}") != \
                "first:address:198.51.100.9"
            assert tenant("/me/phone", Accept="application/json") is None
            assert tenant(f"/api/accounts/{creds['account_id']}/applications", Authorization="token good") is None
            path, _ = link_path("admin-key", creds["account_id"], 600, clock.now(db))
            assert tenant(path) == f"account:{creds['account_id']}"
            assert tenant(path.replace("/phone/", "/phone/1")) is None  # another account's path
            old, _ = link_path("admin-key", creds["account_id"], 600, clock.now(db) - 3600)
            assert tenant(old) is None  # expired
            pending = tenant("/me", Authorization="token never-seen")  # asked of the hub before it queues
            assert isinstance(pending, HubCheck) and inspect.isawaitable(pending)
            # a check whose request is never served (refused, timed out, left) gives its address's place back: an
            # outsider's abandoned requests never use up the address's checks for good
            more = [tenant("/me", Authorization=f"token never-seen-{i}") for i in range(ODD_TOKEN_CHECKS)]
            assert more[-1] is None  # a token not of the hub's shape: 1 in flight, the next waits in turn
            # rev23f F1: a token of the hub's shape (a UUID4's hex, as JupyterHub makes them: the host's freshly minted
            # one) has the address's other places, which random strings never take
            shaped = [uuid.uuid4().hex for _ in range(MAX_CHECKS_PER_ADDRESS - ODD_TOKEN_CHECKS + 1)]
            more = [tenant("/me", Authorization=f"token {token}") for token in shaped]
            assert all(isinstance(check, HubCheck) for check in more)
            assert not more[-2].queued and more[-1].queued  # 3 asked at once: the 4th waits for a place, not refused
            assert ledger_key("address:198.51.100.9", more[-1], body=False) == "first:wait:address:198.51.100.9"
            queued = more.pop()
            queued.close()
            # rev23g G1: however many wait (a flood of 300-500 connections of made-up tokens of the hub's shape), one
            # more waits too, never its address's allowance (16, full of the flood: 429); the queue is bounded by the
            # connections the service holds, and the ledger lets as many wait
            crowd = [tenant("/me", Authorization="token " + uuid.uuid4().hex) for _ in range(PER_PEER_CONNECTIONS + 9)]
            assert all(isinstance(check, HubCheck) and check.queued for check in crowd)
            assert {ledger_key("address:198.51.100.9", check, body=False) for check in crowd} \
                == {"first:wait:address:198.51.100.9"}
            for check in crowd:
                check.close()
            # a check waiting for a place whose client leaves leaves the queue (the place is never passed to it)
            left = tenant("/me", Authorization="token " + uuid.uuid4().hex)

            async def wait() -> Any:
                return await left

            async def leave() -> Any:
                task = asyncio.ensure_future(wait())
                await asyncio.sleep(0)
                assert left.state == "waiting" and len(tenants._queue["198.51.100.9"]) == 1
                left.close()
                return await task

            assert asyncio.run(leave()) is None and "198.51.100.9" not in tenants._queue
            assert tenant("/me", Authorization="token " + shaped[0].upper()) is None  # not the hub's shape
            for check in (pending, *more):
                check.close()
                check.close()  # once only
            again = [tenant("/me", Authorization=f"token {token}") for token in shaped[:-1]]
            again.append(tenant("/me", Authorization="token never-seen-0"))
            assert all(isinstance(check, HubCheck) for check in again)
            # rev23e E5: made-up tokens in headers from an address (its checks all taken) never take the places of a
            # token from the service's signed cookie (a browser after its OAuth login: not made up), whose check has
            # an allowance of its own in the ledger too
            assert tenant("/me", Authorization="token made-up-more") is None
            fresh = tornado.web.create_signed_value(secret, auth.cookie_name, "new-login").decode()
            signed = tenant("/me", Cookie=f"{auth.cookie_name}={fresh}; jupyterhub-session-id=s2")
            assert isinstance(signed, HubCheck) and signed.signed and not again[0].signed
            assert ledger_key("address:198.51.100.9", signed, body=False) == "signed:address:198.51.100.9"
            assert ledger_key("address:198.51.100.9", again[-1], body=False) == "check:address:198.51.100.9"
            assert ledger_key("address:198.51.100.9", again[0], body=False) == "first:wait:address:198.51.100.9"
            assert unproven("signed:address:198.51.100.9")
            signed.close()
            for check in again:
                check.close()
            # the cache's ages are the sandbox's clock's: an answer too old is asked of the hub again (by the handler,
            # tests above), while a token the hub named before keeps its user's allowance and turns (rev23e E2: never
            # an unproven request that outsiders could crowd out); a token it never named is checked ahead
            clock.change(db, advance=HUB_CACHE_SECONDS + 1)
            assert cache_key("host-token", "") not in auth.cache  # expired
            assert tenant("/board.json", Authorization="token host-token") == "hub:host"
            # ... whatever session id the client sends (a new one makes no new entry), and one user's many tokens
            # never push out another's: at most MAX_KNOWN_PER_USER each, the least recently used forgotten
            assert tenant("/board.json", Authorization="token host-token",
                          Cookie="jupyterhub-session-id=chosen-by-client") == "hub:host"
            clock.change(db, wall=True)
            for i in range(3 * MAX_KNOWN_PER_USER):
                auth.cache[cache_key(f"vic-{i}", "")] = {"name": "vic", "admin": False}
                assert tenant("/me", Authorization=f"token vic-{i}") == f"account:{creds['account_id']}"
            clock.change(db, advance=HUB_CACHE_SECONDS + 1)
            assert tenant("/board.json", Authorization="token host-token") == "hub:host"
            vics = [tenant("/me", Authorization=f"token vic-{i}") for i in range(3 * MAX_KNOWN_PER_USER)]
            assert vics[-MAX_KNOWN_PER_USER:] == [f"account:{creds['account_id']}"] * MAX_KNOWN_PER_USER
            assert not any(isinstance(v, str) for v in vics[:MAX_KNOWN_PER_USER])  # forgotten: checked again
            for v in vics:
                if isinstance(v, HubCheck):
                    v.close()
            again = [tenant("/board.json", Authorization="token bad")]
            assert isinstance(again[0], HubCheck)  # "no such token" is not remembered past its age
            again[0].close()
            clock.change(db, wall=True)
            # rev23e E5 after a restart: the db keeps what the hub named (a digest of each token and its tenant, no
            # token), so a new process (nothing in HubAuth's cache) still gives the room's tokens their users' turns
            # and allowances instead of checking them among a flood of made-up ones; what was forgotten stays so
            rows = db.query("SELECT digest, tenant FROM workshop_known_tokens")
            assert not any("token" in str(r["digest"]) or "vic-" in str(r["digest"]) for r in rows)
            restarted = Tenants(db, HubOAuth(oauth_client_id="service-bw-sandbox", api_token="unused",
                                             cache=HubAnswers(HUB_CACHE_SECONDS, lambda: clock.now(db))),
                                secret, "/services/bw-sandbox", "admin-key")
            assert restarted(tornado.httputil.HTTPHeaders({"Authorization": "token host-token"}),
                             "/services/bw-sandbox/board.json", "198.51.100.9") == "hub:host"
            after = [restarted(tornado.httputil.HTTPHeaders({"Authorization": f"token vic-{i}"}),
                               "/services/bw-sandbox/me", "198.51.100.9") for i in range(3 * MAX_KNOWN_PER_USER)]
            assert after[-MAX_KNOWN_PER_USER:] == [f"account:{creds['account_id']}"] * MAX_KNOWN_PER_USER
            assert not any(isinstance(v, str) for v in after[:MAX_KNOWN_PER_USER])
            for v in after:
                if isinstance(v, HubCheck):
                    v.close()
        finally:
            db.close()


@pytest.mark.slow  # a flood of 16 connections
def test_hub_pages_never_wait_behind_another_clients_flood_on_their_address(service: dict[str, Any],
                                                                           hub: HubStandIn) -> None:
    """Review 23b N1 (hub tokens and cookies): a NAT'd classroom is one address. While one client there floods wrong
    passwords (paced by its 429s: one request of the address at a time), the host's board, a participant's /me (a
    hub token the service never saw: checked with the hub before it queues) and their phone page (a signed link) are
    answered before the flood's queued requests, not behind them."""
    nat = "198.51.100.77"
    provision(service, "walt")
    creds = provision(service, "xena")
    host, walt = hub.token("host", admin=True), hub.token("walt")
    phone = page(service, "/me/phone", hub.token("xena"), address=nat)
    assert phone.status_code == 303, phone.text
    phone_path = phone.headers["Location"].split(service["url"].rsplit("/services/", 1)[0], 1)[-1]
    phone_path = phone_path[phone_path.index("/_sandbox/"):]
    answers: list[int] = []
    lock, stop = threading.Lock(), threading.Event()

    def flood(i: int) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                r = session.get(f"{service['url']}/api/accounts/{creds['account_id']}/", auth=(f"nobody{i}", "x"),
                                headers={"X-Forwarded-For": nat}, timeout=60)
                with lock:
                    answers.append(r.status_code)

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while not (answers.count(429) >= 3 and len(answers) > 40) and time.monotonic() < deadline:
            time.sleep(0.1)  # until the address's bucket is empty and its 429s pace its queue
        assert answers.count(429) >= 3, answers
        between = []
        for path, token in (("/board.json", host), ("/me", walt), (phone_path, None)):
            before = len(answers)
            r = page(service, path, token, address=nat)
            between.append(len(answers) - before)
            assert r.status_code == 200, (path, r.text[:300])
        # behind the flood it would be ~15 answers (each 0.5 s apart); in its own turn: none, one or two
        assert max(between) <= 3, (between, answers[-40:])
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=70)
    assert dash(service, creds, "GET", "/").status_code == 200
    requests.put(f"{service['url']}/_sandbox/clock", headers={**service["key"], **JSON}, json={"wall": True},
                 timeout=30)


def test_a_slow_hub_never_holds_the_event_loop(service: dict[str, Any], hub: HubStandIn) -> None:
    """HubAuth's own question about a token blocks the event loop until the hub answers. The service asks the hub
    asynchronously instead, before the request queues (at most 3 questions about tokens of the hub's shape at once
    per address: the others wait for a place): while the hub sits on the answers for 5 requests from one address,
    the service answers everyone else."""
    import concurrent.futures

    from bwhelpers.sandbox.workshop.tenants import MAX_CHECKS_PER_ADDRESS, ODD_TOKEN_CHECKS

    checks = MAX_CHECKS_PER_ADDRESS - ODD_TOKEN_CHECKS  # the hub's tokens' places (HUB_TOKEN_SHAPE)
    provision(service, "yann")
    slow = [hub.token("yann") for _ in range(checks + 2)]
    hub.held.update(slow)
    hub.release.clear()
    asked = hub.asked
    pool = concurrent.futures.ThreadPoolExecutor(len(slow))
    try:
        waiting = [pool.submit(page, service, "/me", token, "198.51.100.88") for token in slow]
        deadline = time.monotonic() + 30
        # 3 asked before they queue, the 4th and 5th wait for one of those places (rev23f F1)
        while hub.asked < asked + checks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hub.asked == asked + checks
        assert not any(f.done() for f in waiting)
        r = requests.get(f"{service['url']}/_sandbox/health", timeout=20)
        assert r.status_code == 200 and not hub.release.is_set()  # answered while the hub still sits on them
        creds = provision(service, "zoe")
        assert dash(service, creds, "GET", "/").status_code == 200
    finally:
        hub.release.set()
        answers = [f.result(timeout=60) for f in waiting]
        pool.shutdown()
        hub.held.clear()
    assert [a.status_code for a in answers] == [200] * len(slow), [a.text[:200] for a in answers]


def test_an_outsider_holding_its_address_allowance_never_holds_up_hub_users_pages(service: dict[str, Any],
                                                                                 hub: HubStandIn) -> None:
    """rev23d D1: with no login, slow requests from one address (a venue's NAT) used up that address's allowance of
    requests in flight, and the host's board.json and a participant's /me from the same address (hub tokens, not
    emulated-API credentials) got 429 too. A hub user known by their token is their own tenant for the allowance, as
    for the fair turns: the outsider's next request is 429, the pages behind the same address answer."""
    import select
    import socket
    from urllib.parse import urlsplit

    from bwhelpers.sandbox.admission import PER_TENANT_REQUESTS

    provision(service, "vic")
    mine, host = hub.token("vic"), hub.token("hostess", admin=True)
    assert page(service, "/me", mine, address="198.51.100.90").status_code == 200  # the hub's answers, cached
    assert page(service, "/board.json", host, address="198.51.100.90").status_code == 200
    url = urlsplit(service["url"])

    def hold() -> socket.socket:
        sock = socket.create_connection((url.hostname, url.port), timeout=30)
        sock.sendall((f"POST {url.path}/api/accounts/1/applications HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      "Content-Type: application/xml\r\nContent-Length: 10\r\nX-Forwarded-For: 198.51.100.90\r\n\r\n"
                      ).encode() + b"<")
        return sock

    held = [hold() for _ in range(PER_TENANT_REQUESTS + 1)]
    try:
        # whichever head the service reads last (not always the last sent) is over the allowance: the first answer
        ready, _, _ = select.select(held, [], [], 30)
        assert ready and ready[0].recv(4096).startswith(b"HTTP/1.1 429 ")
        assert page(service, "/me", mine, address="198.51.100.90").json()["participant"] == "vic"
        assert page(service, "/board.json", host, address="198.51.100.90").status_code == 200
    finally:
        for sock in held:
            sock.close()


def test_the_host_removes_a_participant_and_every_credential_of_theirs_stops_at_once(service: dict[str, Any],
                                                                                    hub: HubStandIn) -> None:
    """rev23e E6: the host expels a participant (``POST /participants/<name>/remove``, the board's Remove, or
    ``DELETE /participants/<name>``). Every credential that worked a moment before is refused at the next request,
    although each success is remembered (the failure throttle's SUCCESS_TTL cache of key derivations, the decoded
    access token, the hub's answer for their token, the phone link): Basic, token:secret, an access token issued
    before, a new token, the signed phone link; 401 with a text saying why, to the holder of the right secret only.
    The account is emptied, no longer counts in max_participants, and its server cannot get it back by a re-spawn;
    ``readmit`` undoes it with the same credentials."""
    from bwhelpers.sandbox.disabled import REASON

    creds, _other = provision(service, "mal"), provision(service, "ned")
    mine, host = hub.token("mal"), hub.token("hostess", admin=True)
    url = service["url"]
    legacy = (creds["api_token"], creds["api_secret"])
    oauth = (creds["client_id"], creds["client_secret"])
    form = {"grant_type": "client_credentials"}

    def calls() -> dict[str, requests.Response]:
        token = requests.post(f"{url}/api/v1/oauth2/token", auth=oauth, data=form, timeout=30)
        return {
            "basic": dash(service, creds, "GET", "/applications"),
            "legacy": requests.get(f"{url}/v2/users/{creds['user_id']}/messages", auth=legacy, timeout=30),
            "bearer": requests.get(f"{url}/api/v2/users/{creds['account_id']}/messages", timeout=30,
                                   headers={"Authorization": f"Bearer {issued}"}),
            "token": token,
            "phone": page(service, phone_path),
        }

    assert dash(service, creds, "POST", "/applications", app_xml(CallbackUrl="https://example.com/cb")
                ).status_code == 201
    issued = requests.post(f"{url}/api/v1/oauth2/token", auth=oauth, data=form, timeout=30).json()["access_token"]
    phone = page(service, "/me/phone", mine)
    assert phone.status_code == 303, phone.text
    phone_path = phone.headers["Location"][phone.headers["Location"].index("/_sandbox/"):]
    before = calls()  # each twice: the second from the caches
    before = calls()
    assert {k: r.status_code for k, r in before.items()} == dict.fromkeys(before, 200), {
        k: r.text[:200] for k, r in before.items()}
    assert page(service, "/me", mine).status_code == 200

    assert page(service, "/participants/mal/remove", mine).status_code == 405  # a GET changes nothing
    r = requests.post(f"{url}/participants/mal/remove", headers={"Authorization": f"token {mine}"}, timeout=30)
    assert r.status_code == 403 and "not a hub admin" in r.json()["error"], r.text  # not by the participant
    r = requests.post(f"{url}/participants/mal/remove", headers={"Authorization": f"token {host}"}, timeout=30)
    assert r.status_code == 200 and r.json()["disabled"] is True and r.json()["removed"] >= 1, r.text

    after = calls()
    assert {k: r.status_code for k, r in after.items()} == dict.fromkeys(after, 401), {
        k: r.text[:200] for k, r in after.items()}
    for kind, r in after.items():
        assert REASON in r.text or REASON in r.headers.get("WWW-Authenticate", ""), (kind, r.text[:300])
    wrong = requests.get(f"{url}/api/accounts/{creds['account_id']}/applications", auth=(creds["username"], "x"),
                         timeout=30)
    assert wrong.status_code == 401 and "removed" not in wrong.text  # no oracle without the right password
    r = page(service, "/me/phone", mine)
    assert r.status_code == 403 and "removed from this workshop" in r.json()["error"], r.text
    assert page(service, "/me", mine).json()["removed"] is not None
    r = requests.post(f"{url}/participants/mal", headers=service["key"], timeout=30)  # their server re-spawns
    assert r.status_code == 403 and "removed by the host" in r.json()["error"], r.text
    rows = {p["participant"]: p for p in page(service, "/board.json", host).json()["participants"]}
    assert rows["mal"]["removed"] is not None
    board = requests.get(f"{url}/board", headers={"Authorization": f"token {host}", "Accept": "text/html"},
                         timeout=60)
    assert "removed by the host" in board.text and "/participants/mal/readmit" in board.text
    assert "/participants/ned/remove" in board.text  # everyone else has the Remove button

    # the room's cap counts the participants in the room: the removed one no longer
    counted = len(page(service, "/board.json", host).json()["participants"]) - 1
    settings(service, max_participants=counted + 1)
    try:
        provision(service, "mal2")
        r = requests.post(f"{url}/participants/mal/readmit", headers={"Authorization": f"token {host}"}, timeout=30)
        assert r.status_code == 403 and "the room is full" in r.json()["error"], r.text
        r = requests.delete(f"{url}/participants/mal2", headers=service["key"], timeout=30)  # scripts: DELETE
        assert r.status_code == 200 and r.json()["disabled"] is True, r.text
        r = requests.post(f"{url}/participants/mal/readmit", headers={"Authorization": f"token {host}"}, timeout=30)
        assert r.status_code == 200 and r.json()["disabled"] is False, r.text
    finally:
        settings(service, max_participants=None)
    again = calls()  # the same credentials work again; the token issued before the removal stays retired
    assert {k: r.status_code for k, r in again.items()} == {**dict.fromkeys(again, 200), "bearer": 401}, {
        k: r.text[:200] for k, r in again.items()}


def test_deleting_the_hub_user_removes_their_sandbox_account(service: dict[str, Any], hub: HubStandIn) -> None:
    """The hub calls its authenticator's ``delete_user`` when the host deletes a user (the admin page, or
    ``DELETE /hub/api/users/<name>``): WorkshopAuthenticator removes their sandbox account there and then (the
    service's admin key, as the spawn hook provisions); a user who never had an account is no error."""
    import asyncio
    import types

    from bwhelpers.sandbox.disabled import REASON
    from bwhelpers.workshop_auth import WorkshopAuthenticator

    creds = provision(service, "gone")
    assert dash(service, creds, "GET", "/applications").status_code == 200
    auth = WorkshopAuthenticator(service_url=service["url"], admin_key_file=str(service["db"]) + ".admin-key")
    asyncio.run(auth.delete_user(types.SimpleNamespace(name="gone")))
    r = dash(service, creds, "GET", "/applications")
    assert r.status_code == 401 and REASON in r.text, r.text
    asyncio.run(auth.delete_user(types.SimpleNamespace(name="never-spawned")))  # 404 at the service: nothing to do


def test_the_logins_first_pages_begin_are_bounded() -> None:
    """A first page takes no room-wide place (rev23e E2 residue) and each one begins an OAuth login whose state
    HubOAuth keeps 10 minutes: the service keeps at most MAX_PENDING_LOGINS of them, the oldest forgotten first (the
    redirect back of a forgotten one fails and the browser logs in again), so a flood of first pages cannot grow its
    memory for 10 minutes each; the ones it keeps still work."""
    import tempfile
    from pathlib import Path

    from bwhelpers.sandbox.server import prepare_db
    from bwhelpers.sandbox.workshop.tenants import MAX_PENDING_LOGINS, PendingLogins, hub_auth

    assert 1_000 <= MAX_PENDING_LOGINS <= 50_000
    with tempfile.TemporaryDirectory() as folder:
        db = prepare_db(str(Path(folder) / "t.db"), accounts=[])
        try:  # the service's HubOAuth (as the service builds it) keeps its states in one
            installed = hub_auth(db)._oauth_states
            assert isinstance(installed, PendingLogins) and installed.limit == MAX_PENDING_LOGINS
        finally:
            db.close()
    states = PendingLogins(600, limit=3)
    for i in range(5):
        states[f"s{i}"] = {"next_url": f"/me/{i}"}
    assert len(states) == 3 and "s0" not in states and "s1" not in states
    assert states.get("s4") == {"next_url": "/me/4"} and states.pop("s2")["next_url"] == "/me/2"


def test_first_pages_and_new_hub_tokens_never_wait_behind_nor_are_refused_for_held_requests(
        service: dict[str, Any], hub: HubStandIn) -> None:
    """rev23e E2 residue: outsiders holding requests (slow bodies, GETs with made-up hub tokens waiting on the hub)
    filled what unproven requests may hold, and a new browser's first page (``GET /me/phone`` with no credentials:
    only the redirect to the hub's login) answered 503. Such a page now has an allowance and a turn of its own,
    outside every room-wide bound: here one address (a venue's NAT) holds its whole allowance of bodyless requests
    (4 hub checks and 16 more, all waiting on a hub that sits on its answers), and a browser's first page from the
    same address is still redirected at once; a request that is not a browser's first page (JSON, a POST) from
    there is 429, as before. rev23f F1: the made-up tokens (random strings, as a flood sends them) never take the
    places of a token of the hub's shape, so the host's documented ``curl …/participants/<name>/remove`` with a
    token the service has never seen (freshly minted) from the same address is checked and served."""
    import concurrent.futures

    from urllib.parse import parse_qs, urlsplit

    from bwhelpers.sandbox.admission import PER_TENANT_REQUESTS
    from bwhelpers.sandbox.workshop.tenants import MAX_CHECKS_PER_ADDRESS, ODD_TOKEN_CHECKS

    nat, extra = "198.51.100.95", 3
    provision(service, "mallory")
    held = [f"held-{i}" for i in range(ODD_TOKEN_CHECKS + PER_TENANT_REQUESTS + extra)]
    hub.held.update(held)
    hub.release.clear()
    pool = concurrent.futures.ThreadPoolExecutor(len(held) + 8)
    html = {"Accept": "text/html,application/xhtml+xml", "X-Forwarded-For": nat}
    try:
        waiting = [pool.submit(page, service, "/me", token, nat) for token in held]
        deadline = time.monotonic() + 60  # no timing asserted: until the address's allowance is full (the extras' 429)
        while sum(f.done() for f in waiting) < extra and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = [f.result() for f in waiting if f.done()]
        assert [r.status_code for r in refused] == [429] * extra, [r.text[:200] for r in refused]
        for path in ("/me/phone", "/me", "/", "/board"):
            r = requests.get(f"{service['url']}{path}", headers=html, timeout=60, allow_redirects=False)
            assert r.status_code == 302 and "/oauth2/authorize" in r.headers["Location"], (path, r.status_code,
                                                                                          r.text[:200])
        # the hub's redirect back (its state signed by that first page) is let in too: the handler asks the hub for
        # the code's token, never the address's 429; the hub refuses a made-up code (400 invalid_grant, which
        # HubOAuth turns into a 500): the service answers 400 saying to log in again
        state = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
        back = f"{service['url']}/oauth_callback?code=c0de&state={state}"
        jar = r.cookies
        r = requests.get(back, headers=html, cookies=jar, timeout=60, allow_redirects=False)
        assert r.status_code == 400 and "did not accept this login's code" in r.json()["error"], (
            r.status_code, r.text[:300])
        # rev23f F2: that login is over (HubOAuth forgot its state): a replay of the same state cookie is the
        # address's like any other request (here 429: its allowance is full), and elsewhere refused without a
        # question to the hub (400, not the stand-in's 502)
        r = requests.get(back, headers=html, cookies=jar, timeout=60, allow_redirects=False)
        assert r.status_code == 429, (r.status_code, r.text[:300])
        r = requests.get(back, headers={**html, "X-Forwarded-For": "198.51.100.96"}, cookies=jar, timeout=60,
                         allow_redirects=False)
        assert r.status_code == 400 and "login is over" in r.json()["error"], (r.status_code, r.text[:300])
        r = requests.get(back, headers=html, timeout=60, allow_redirects=False)  # no signed state: no proof
        assert r.status_code == 429, (r.status_code, r.text[:300])
        assert page(service, "/me", address=nat).status_code == 429  # not a browser's page: its address's
        r = requests.post(f"{service['url']}/me", headers=html, timeout=60)
        assert r.status_code == 429, r.text[:200]
        host = hub.token("host", admin=True)  # minted now: the service has never seen it
        r = requests.post(f"{service['url']}/participants/mallory/remove", timeout=60,
                          headers={"Authorization": f"token {host}", "X-Forwarded-For": nat})
        assert r.status_code == 200, (r.status_code, r.text[:300])
        r = page(service, "/participants/mallory", host, nat)
        assert r.status_code == 200 and r.json()["removed"], r.text[:300]
        assert not hub.release.is_set() and sum(f.done() for f in waiting) == extra  # all still held meanwhile
    finally:
        hub.release.set()
        for f in waiting:
            f.result(timeout=60)
        hub.held.difference_update(held)
    # made-up tokens *of the hub's shape* take those places: past them they wait for one (first come first served,
    # in no room-wide bound) instead of 429, and so does a fresh token among them, answered once the hub answers
    nat = "198.51.100.97"
    shaped = [uuid.uuid4().hex for _ in range(MAX_CHECKS_PER_ADDRESS - ODD_TOKEN_CHECKS + 4)]
    hub.held.update(shaped)
    hub.release.clear()
    asked = hub.asked
    try:
        flood = [pool.submit(page, service, "/me", token, nat) for token in shaped]
        deadline = time.monotonic() + 60  # no timing asserted: until the address's places are taken
        while hub.asked < asked + MAX_CHECKS_PER_ADDRESS - ODD_TOKEN_CHECKS and time.monotonic() < deadline:
            time.sleep(0.05)
        late = pool.submit(page, service, "/participants/mallory", hub.token("host", admin=True), nat)
        assert page(service, "/me", "odd-one", nat).status_code == 401  # another lane: answered meanwhile
        assert not any(f.done() for f in (*flood, late))  # none refused for want of a place
    finally:
        hub.release.set()
        answers = [f.result(timeout=60) for f in flood]
        pool.shutdown()
        hub.held.difference_update(shaped)
    assert [r.status_code for r in answers] == [401] * len(shaped), [r.text[:200] for r in answers]
    assert late.result().status_code == 200, late.result().text[:300]


def test_an_oauth_return_whose_code_the_hub_refused_is_a_failed_login_of_its_address(service: dict[str, Any],
                                                                                      hub: HubStandIn) -> None:
    """rev23g G2: a fresh state per first page is free, so a flood of OAuth returns with made-up codes asked the hub
    one after another per address and a new browser's return queued behind them. A code the hub refuses now counts
    against its address in the failure throttle (a made-up code is like a made-up token): 400 while the address has
    failures left, then 429 with Retry-After (and its answer waits among the address's refused ones: paced, not in
    front of the next return). Every return still asks the hub (it may be someone's right code): a new browser's
    right code from that address logs in, and other addresses are not affected."""
    from urllib.parse import urlsplit

    from bwhelpers.sandbox.auth_throttle import BURST

    def login(code: str, address: str) -> requests.Response:
        html = {"Accept": "text/html", "X-Forwarded-For": address}
        first = requests.get(f"{service['url']}/me/phone", headers=html, timeout=60, allow_redirects=False)
        assert first.status_code == 302, (first.status_code, first.text[:200])
        state = parse_qs(urlsplit(first.headers["Location"]).query)["state"][0]
        return requests.get(f"{service['url']}/oauth_callback?code={code}&state={state}", headers=html,
                            cookies=first.cookies, timeout=60, allow_redirects=False)

    nat = "203.0.113.140"
    move_clock(service, freeze=True)  # the failure buckets refill on the sandbox's clock: frozen, none refills
    try:
        asked = hub.asked
        refused = [login(uuid.uuid4().hex, nat) for _ in range(BURST + 2)]
        assert [r.status_code for r in refused] == [400] * BURST + [429] * 2, [r.text[:120] for r in refused]
        assert "did not accept this login's code" in refused[0].json()["error"]
        assert "too many logins failed" in refused[-1].json()["error"] and int(refused[-1].headers["Retry-After"]) >= 1
        assert hub.asked == asked + BURST + 2  # each was asked: a right code is never refused for the address's
        r = login(hub.code("newbie"), nat)  # a new browser behind the same address, with the code the hub gave it
        assert r.status_code == 302 and "/me/phone" in r.headers["Location"], (r.status_code, r.text[:200])
        me = page(service, "/me", address=nat, cookies=r.cookies)  # logged in: its cookie names newbie
        assert me.status_code == 403 and "newbie" in me.text, (me.status_code, me.text[:200])
        assert login(uuid.uuid4().hex, "203.0.113.141").status_code == 400  # another address's own failures
    finally:
        move_clock(service, wall=True)


def test_the_host_closes_the_room_to_new_names_and_removes_everyone_who_has_not_started(
        service: dict[str, Any], hub: HubStandIn) -> None:
    """rev23f F4: one person logging in under new names took every place of the room (each spawn an account). The
    host closes the room to new names (``POST /room/close``, the board's switch): the service makes no account for
    a name without one (403 saying so) and the hub's authenticator, reading the same switch, refuses a login under
    a name the hub does not know (403) while a known name logs in; the board says so. ``POST /room/remove`` removes
    several at once (the board's "remove them" lists everyone with an account and no step done): their credentials
    are refused, names without an account are listed as unknown. Opening the room undoes the switch."""
    import asyncio

    from test_workshop_probes import _Browser

    from bwhelpers.sandbox.workshop import new_names
    from bwhelpers.workshop_auth import RoomClosed, WorkshopAuthenticator

    url, host, someone = service["url"], hub.token("doorkeeper", admin=True), hub.token("zz-someone")
    made = {name: provision(service, name) for name in ("zz000", "zz001", "zz002", "worker")}
    assert dash(service, made["worker"], "POST", "/applications", app_xml(CallbackUrl="https://example.com/cb")
                ).status_code == 201  # a step done
    r = requests.post(f"{url}/room/close", headers={"Authorization": f"token {someone}"}, timeout=30)
    assert r.status_code == 403 and "not a hub admin" in r.json()["error"], r.text
    assert requests.post(f"{url}/room/close", timeout=30).status_code == 401
    r = requests.post(f"{url}/room/close", headers={"Authorization": f"token {host}"}, timeout=30)
    assert r.status_code == 200 and r.json()["closed_to_new_names"] is True and r.json()["by"] == "doorkeeper", r.text
    try:
        r = requests.post(f"{url}/participants/latecomer", headers=service["key"], timeout=30)  # a new name's spawn
        assert r.status_code == 403 and "closed this workshop to new names" in r.json()["error"], r.text
        assert requests.post(f"{url}/participants/zz000", headers=service["key"], timeout=30).status_code == 200
        # the hub's authenticator reads the switch the board wrote
        auth = WorkshopAuthenticator(password="room-pw", room_file=str(new_names.path_beside(service["db"])))
        browser = _Browser("198.51.100.9", users={"zz000"})
        with pytest.raises(RoomClosed) as refused:
            browser.login(auth, "latecomer", "room-pw")
        assert refused.value.status_code == 403 and "closed this workshop to new names" in \
            refused.value.jupyterhub_message
        assert browser.login(auth, "zz000", "room-pw") == "zz000"  # a name the hub knows logs in again
        # rev23g G7: without the room password, a name the hub knows and one it does not get the same failure
        assert browser.login(auth, "nosuchname", "wrong") is None and browser.login(auth, "zz000", "wrong") is None
        board = page(service, "/board.json", host).json()
        assert board["closed_to_new_names"]["by"] == "doorkeeper"
        text = requests.get(f"{url}/board", headers={"Authorization": f"token {host}", "Accept": "text/html"},
                            timeout=60).text
        assert "Closed to new names since" in text and f'action="{new_names_prefix(url)}/room/open"' in text
        remove_form = text[text.index(f'action="{new_names_prefix(url)}/room/remove"'):].split("</form>")[0]
        assert all(f'name="name" value="{n}"' in remove_form for n in ("zz000", "zz001", "zz002"))
        assert 'value="worker"' not in remove_form  # a step done: not in "has not started"
        r = requests.post(f"{url}/room/remove", headers={"Authorization": f"token {host}", **JSON}, timeout=30,
                          json={"names": []})
        assert r.status_code == 400 and "names:" in r.json()["error"], r.text
        r = requests.post(f"{url}/room/remove", headers={"Authorization": f"token {host}", **JSON}, timeout=30,
                          json={"names": ["zz000", "zz001", "zz002", "nobody-here"]})
        assert r.status_code == 200 and r.json() == {"removed": ["zz000", "zz001", "zz002"],
                                                     "unknown": ["nobody-here"]}, r.text
        for name in ("zz000", "zz001", "zz002"):
            assert dash(service, made[name], "GET", "/applications").status_code == 401
        assert dash(service, made["worker"], "GET", "/applications").status_code == 200
    finally:
        r = requests.post(f"{url}/room/open", headers={"Authorization": f"token {host}"}, timeout=30)
        assert r.status_code == 200 and r.json() == {"closed_to_new_names": False}, r.text
    assert page(service, "/board.json", host).json()["closed_to_new_names"] is None
    assert asyncio.run(_Browser("198.51.100.9").alogin(auth, "latecomer", "room-pw")) == "latecomer"
    assert requests.post(f"{url}/participants/latecomer", headers=service["key"], timeout=30).status_code == 201


def new_names_prefix(url: str) -> str:
    """The service's prefix as the board writes it in its forms' actions."""
    from urllib.parse import urlsplit

    return urlsplit(url).path


def test_the_host_makes_a_join_link_on_the_board_and_the_hubs_authenticator_lets_its_browsers_in(
        service: dict[str, Any], hub: HubStandIn) -> None:
    """rev23f F5: the host makes a join link (``POST /room/invite``, the board's button; a participant may not): the
    board shows it to copy (and board.json); the hub's authenticator, reading the same admin key and current link,
    lets a browser that opened it log in behind a NAT whose address a guesser has paused. ``POST /room/invite/stop``
    stops it; hours or names out of bounds are 400 naming the field. The link's signing key never shows."""
    from test_workshop_probes import _Browser

    from bwhelpers.sandbox.workshop import join_link
    from bwhelpers.workshop_auth import JoinLinkRefused, TooManyLogins, WorkshopAuthenticator

    url, host, someone = service["url"], hub.token("inviter", admin=True), hub.token("zz-invitee")
    r = requests.post(f"{url}/room/invite", headers={"Authorization": f"token {someone}"}, timeout=30)
    assert r.status_code == 403 and "not a hub admin" in r.json()["error"], r.text
    r = requests.post(f"{url}/room/invite", headers={"Authorization": f"token {host}", **JSON}, timeout=30,
                      json={"hours": 3, "names": 40})
    assert r.status_code == 200 and r.json()["names"] == 40, r.text
    link = r.json()["link"]
    # rev23g G5: an hour count that rounds to now was a 500 that had replaced the link already
    for body, field in (({"hours": 0}, "hours"), ({"hours": 1e-9}, "hours"), ({"hours": 25}, "hours"),
                        ({"names": "lots"}, "names"), ({"names": 0}, "names")):
        r = requests.post(f"{url}/room/invite", headers={"Authorization": f"token {host}", **JSON}, json=body,
                          timeout=30)
        assert r.status_code == 400 and r.json()["error"].startswith(f"{field}: a number from "), r.text
    assert link.startswith(service["base"] + "/hub/join?join_token="), link
    assert page(service, "/board.json", host).json()["join_link"]["link"] == link
    board = requests.get(f"{url}/board", headers={"Authorization": f"token {host}", "Accept": "text/html"},
                         timeout=60).text
    assert f'<code class="join">{link}</code>' in board and "for up to 40 new names" in board
    key = (service["db"].parent / "sandbox.db.admin-key").read_text().strip()
    assert key not in board and key not in link
    auth = WorkshopAuthenticator(password="room-pw", admin_key_file=str(service["db"]) + ".admin-key",
                                 join_file=str(join_link.path_beside(service["db"])))
    nat = "198.51.100.88"
    for i in range(30):
        _Browser(nat).login(auth, f"guess{i}", "wrong")
    with pytest.raises(TooManyLogins):
        _Browser(nat).login(auth, "newcomer", "room-pw")
    late = _Browser(nat)
    auth.open_join_link(late.handler(), link.split("join_token=", 1)[1])
    assert late.login(auth, "newcomer", "room-pw") == "newcomer"
    r = requests.post(f"{url}/room/invite/stop", headers={"Authorization": f"token {host}"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"link": None}, r.text
    assert page(service, "/board.json", host).json()["join_link"] is None
    with pytest.raises(JoinLinkRefused) as refused:
        auth.open_join_link(_Browser(nat).handler(), link.split("join_token=", 1)[1])
    assert "stopped this join link" in refused.value.jupyterhub_message
