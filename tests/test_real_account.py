"""The real-account path rehearsed end to end: ``python -m bwhelpers run-notebooks`` with ``BW_TARGET=real`` and
every URL (token, Dashboard, Messaging, platform) pointed at a sandbox standing in for Bandwidth, with Basic
decommissioned and A2P enforced. The client uses only what a real account offers: the sandbox's access log must
show no ``/_sandbox`` request from the walkthrough.

* with the callback receiver (``BW_RECEIVER_PORT=P``, ``BW_CALLBACK_BASE_URL=http://127.0.0.1:P``): the message
  is DELIVERED by polling, and its message-delivered callback is stored by the receiver and shown;
* with a callback URL nobody answers (the tunnel is down): the outcome comes from polling alone, and the
  diagnose step says the receiver has stored nothing;
* with no callback URL at all: the run stops at the application step, naming it.
"""
from __future__ import annotations

import json
import logging
import re
import socket
from pathlib import Path
from typing import Any, Callable, Iterator

import nbformat
import pytest

from bwhelpers import steps
from bwhelpers.notebooks import run_notebooks
from conftest import control

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stand_in(fresh_sandbox: Callable[..., Any]) -> Iterator[Any]:
    """A sandbox playing Bandwidth: API users decommissioned, carriers' A2P rules enforced, quick orders."""
    handle = fresh_sandbox(reset=True, settings={})  # today's default rules, then the stand-in's below
    r = control(handle.url, "PUT", "/_sandbox/settings",
                json={"order_transition": {"mode": "seconds", "seconds": 0.3}, "legacy_basic_auth": "decommissioned",
                      "a2p_enforcement": True, "delivery_delay": 0.3,
                      "callback_retry": {"max_attempts": 3, "backoff": [0.5], "timeout": 2}})
    assert r.status_code == 200, r.text
    yield handle
    handle.stop()


@pytest.fixture
def real_env(stand_in: Any, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    c = stand_in.credentials
    for name, value in {"BW_TARGET": "real", "BW_DASHBOARD_URL": f"{stand_in.url}/api",
                        "BW_MESSAGING_URL": f"{stand_in.url}/api/v2",
                        "BW_TOKEN_URL": f"{stand_in.url}/api/v1/oauth2/token",
                        "BW_PLATFORM_URL": f"{stand_in.url}/api/v2", "BW_ACCOUNT_ID": c["account_id"],
                        "BW_SITE_ID": c["site_id"], "BW_CLIENT_ID": c["client_id"],
                        "BW_CLIENT_SECRET": c["client_secret"], "BW_STATE_FILE": str(tmp_path / "state.json"),
                        "BW_EXPORT_DIR": str(tmp_path / "exports"), "TQDM_MININTERVAL": "0.05",
                        # your own phone: a real account refuses the form's fictional 555-01xx default
                        "BW_TO_NUMBER": "+19192381234"}.items():
        monkeypatch.setenv(name, value)
    return {"url": stand_in.url, "state": tmp_path / "state.json", "out": tmp_path / "out", "creds": c}


class _Paths(logging.Handler):
    """The sandbox's access log (it runs in this process): every path the walkthrough asked for."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.paths: list[str] = []
        #: the stand-in's IOLoop thread (from the marker request): other sandboxes of this test process (other
        #: tests' fixtures, on other threads) log to the same logger and are not the stand-in
        self.thread: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.thread is None and "/_sandbox/health" in message:
            self.thread = record.thread
        if record.thread == self.thread:
            self.paths.append(message)


@pytest.fixture
def access_log(stand_in: Any) -> Iterator[_Paths]:
    handler = _Paths()
    logger = logging.getLogger("bwhelpers.sandbox.access")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    # the sandbox logs a request after answering it, in order: once this marker is logged, the set-up's own
    # /_sandbox calls are in the log too, and clearing it leaves only the walkthrough's
    import time

    import requests

    requests.get(f"{stand_in.url}/_sandbox/health?marker=1", timeout=5)
    deadline = time.monotonic() + 10
    while not any("/_sandbox/health" in p for p in handler.paths) and time.monotonic() < deadline:
        time.sleep(0.01)
    handler.paths.clear()
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


def _text(path: Path) -> str:
    """What a person reads in an executed notebook: its outputs' text, tags stripped."""
    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data") or {}
            parts.append(str(data.get("text/html") or data.get("text/plain") or ""))
    text = re.sub(r"<style.*?</style>", " ", "\n".join(parts), flags=re.S)
    # a shortened value's whole text is its tooltip (title): what a person hovering reads, kept after the value
    text = re.sub(r'<span class="[^"]*bw-short[^"]*" title="([^"]*)"[^>]*>([^<]*)</span>', r"\2 (\1)", text)
    text = re.sub(r"</span><wbr><span[^>]*>", "", text).replace("<wbr>", "")  # break opportunities are no text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).replace("&#x27;", "'")


def _out(env: dict[str, Any], key: str) -> Path:
    return env["out"] / steps.page(key).filename


def _saved(env: dict[str, Any]) -> dict[str, Any]:
    state = json.loads(env["state"].read_text())
    return state["profiles"][f"real-{env['creds']['account_id']}"]


def _run_with_a_text_between(real_env: dict[str, Any], access_log: _Paths, port: int) -> None:
    """The notebooks before the events page, someone texting the number, then the rest."""
    events_page = steps.page("events").number
    first = [steps.by_number(n).notebook for n in range(events_page)]
    rest = [p.notebook for p in steps.PAGES[events_page:]]
    assert run_notebooks(out=real_env["out"], only=first, quiet=True) == 0
    assert not [p for p in access_log.paths if "/_sandbox" in p], "the real path used the sandbox's control plane"
    # someone texts the number from a phone (the stand-in's inbound: the test plays that person)
    number = _saved(real_env)["numbers"][0]
    r = control(real_env["url"], "POST", "/_sandbox/inbound",
                json={"to": number, "from": "+19195550142", "text": "Got it, thanks!"}, timeout=10)
    assert r.status_code == 202, r.text
    _wait_for_callback(real_env, port)
    access_log.paths.clear()
    assert run_notebooks(out=real_env["out"], only=rest, quiet=True) == 0
    assert not [p for p in access_log.paths if "/_sandbox" in p], "the real path used the sandbox's control plane"


def _wait_for_callback(env: dict[str, Any], port: int) -> None:
    """Until the receiver has stored the message-received (the stand-in delivers it after its delay)."""
    import time

    from bwhelpers.receiver.credentials import load
    from bwhelpers.receiver_client import ReceiverClient

    creds = load()
    assert creds is not None
    client = ReceiverClient(f"http://127.0.0.1:{port}", creds)
    deadline = time.monotonic() + 30
    while not any(e.get("type") == "message-received" for e in client.events()):
        assert time.monotonic() < deadline, "the stand-in's message-received never reached the receiver"
        time.sleep(0.2)


def test_the_walkthrough_on_a_real_account_with_the_receiver(real_env: dict[str, Any], access_log: _Paths,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("BW_RECEIVER_PORT", str(port))
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", f"http://127.0.0.1:{port}")
    from bwhelpers import receiver

    shared = receiver.start(port=port)  # running across both halves of the run (as in a user's session)
    try:
        _run_with_a_text_between(real_env, access_log, port)
    finally:
        shared.stop()
    saved = _saved(real_env)
    app = saved["application"]
    assert app["callback_url"] == f"http://127.0.0.1:{port}/callbacks/inbound"
    assert app["outbound_callback_url"] == f"http://127.0.0.1:{port}/callbacks/outbound"
    message = saved["messages"][0]  # the send step's (the pictures step sends the next one)
    assert message["delivery"]["status"] == "DELIVERED" and message["delivery"]["final"] is True
    sent = _text(_out(real_env, "messages"))
    assert "DELIVERED" in sent and f"messageId={message['id']}" in sent
    assert "Callback: the receiver stored message-delivered" in sent
    events = _text(_out(real_env, "events"))
    assert "message-delivered" in events and message["from"] in events  # the receiver's events, with from
    assert "Received 1 incoming message" in events  # and the text someone sent, with its sender
    assert "Got it, thanks!" in events and "+19195550142" in events
    diagnosed = _text(_out(real_env, "teardown"))
    for check in ("callback receiver running", "application URLs match", "callback credentials set",
                  "last callback"):
        assert check in diagnosed
    assert "event(s) stored; the last" in diagnosed


def test_the_walkthrough_on_a_real_account_with_a_callback_url_nobody_answers(
        real_env: dict[str, Any], access_log: _Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = _free_port()
    monkeypatch.setenv("BW_RECEIVER_PORT", str(_free_port()))  # the receiver runs; the tunnel to it is down
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", f"http://127.0.0.1:{dead}")
    assert run_notebooks(out=real_env["out"], quiet=True) == 0
    assert not [p for p in access_log.paths if "/_sandbox" in p]
    message = _saved(real_env)["messages"][0]
    assert message["delivery"]["status"] == "DELIVERED"
    sent = _text(_out(real_env, "messages"))
    assert "DELIVERED" in sent and "the receiver has stored none for this message yet" in sent
    diagnosed = _text(_out(real_env, "teardown"))
    assert "the receiver has stored no callback yet" in diagnosed
    _newman_runs_the_real_export_as_exported(real_env, access_log, message["to"])


def _newman_runs_the_real_export_as_exported(real_env: dict[str, Any], access_log: _Paths, to: Any) -> None:
    """Review 24d finding 4, end to end: the files 12 exported for this account run green with newman as exported,
    only the Client Secret given (it is never in the file); their ``to`` is the number 09 texted, and newman, like
    the notebooks, uses nothing a real account lacks (no /_sandbox request)."""
    from test_postman import _newman, _run_newman

    _newman()
    exports = Path(real_env["out"]).parent / "exports"
    environment = next(exports.glob("Bandwidth API Keys (account *).postman_environment.json"))
    collection = next(exports.glob("*.postman_collection.json"))
    values = {v["key"]: v["value"] for v in json.loads(environment.read_text())["values"]}
    assert values["to"] == (to[0] if isinstance(to, list) else to) and values["clientSecret"] == "", values
    access_log.paths.clear()
    proc, summary = _run_newman(collection, environment, "newman-junit-real-account",
                                env_vars={"clientSecret": real_env["creds"]["client_secret"]})
    assert proc.returncode == 0 and summary["run"]["failures"] == [], proc.stdout[-4000:] + proc.stderr[-1000:]
    sends = [e for e in summary["run"]["executions"] if e["item"]["name"] in ("Send text message",
                                                                               "Send picture message")]
    assert len(sends) == 2 and all(e["response"]["code"] == 202 for e in sends), [e["item"]["name"] for e in sends]
    assert not [p for p in access_log.paths if "/_sandbox" in p], "newman used the sandbox's control plane"
    assert real_env["creds"]["client_secret"] not in proc.stdout + proc.stderr


def test_no_callback_url_stops_the_run_at_the_application_step(real_env: dict[str, Any], capsys: Any) -> None:
    assert run_notebooks(out=real_env["out"], quiet=True) == 1
    err = capsys.readouterr().err
    assert steps.page("application").filename in err, err
    created = _text(_out(real_env, "application"))
    assert "Set BW_CALLBACK_BASE_URL before creating the application" in created
    assert "BW_CALLBACK_BASE_URL" in created and "InboundCallbackUrl" in created
    assert not (real_env["out"] / steps.page("location").filename).exists()  # it stopped there


def test_a_pasted_secret_with_surrounding_whitespace_connects(real_env: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Values pasted from a browser or a password manager often end with a space or a tab: the form trims the
    Client Secret like the ids (Bandwidth's secrets have none), so the real secret is the one sent."""
    from bwhelpers.connection import connect_form

    c = real_env["creds"]
    for name in ("BW_CLIENT_SECRET", "BW_CLIENT_ID", "BW_ACCOUNT_ID", "BW_SITE_ID"):
        monkeypatch.delenv(name)
    got = connect_form("real", {"account_id": f" {c['account_id']} ", "site_id": f"{c['site_id']}\t",
                                "client_id": f"{c['client_id']} ", "client_secret": f" {c['client_secret']} \n"})
    assert got.config.client_secret == c["client_secret"] and got.config.client_id == c["client_id"]
    assert got.config.source == "environment, the form", got.config.source  # typed values: from the form
    with pytest.raises(Exception, match="(?i)client secret"):  # a wrong one still fails, naming the field
        connect_form("real", {"account_id": c["account_id"], "site_id": c["site_id"], "client_id": c["client_id"],
                              "client_secret": f"{c['client_secret']}x "})
