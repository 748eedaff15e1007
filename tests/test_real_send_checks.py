"""On a real account every text is billed: the Python API (``Setup``, not only the notebooks' forms) refuses, before
the send, what can only fail there, naming the field, the problem and the fix (review-real-account R1, R2):

* a fictional 555-01xx destination (``send_message``, ``send_picture`` before its upload, ``bulk_send``, and
  ``run_all``, whose sandbox default is one, before its first step);
* a sender that is not one of the account's numbers (Bandwidth: 202, then 4405), a local sender on no REGISTERED
  10DLC campaign (4476), a toll-free sender not VERIFIED (4795).

A sandbox stands in for Bandwidth (Basic decommissioned, A2P enforced) and the client uses only what a real account
offers; the stand-in's own message list (read with its admin key, as the test, not the client) shows nothing was
sent.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from bwhelpers.config import Config
from bwhelpers.exceptions import ValidationError
from bwhelpers.setup import Setup
from bwhelpers.state import StateStore
from conftest import control

ME = "+19192381234"  # "your own mobile number": not in the fictional 555-01xx block


class World:
    def __init__(self, handle: Any, state: Path) -> None:
        self.handle = handle
        self.state = state

    def setup(self) -> Setup:
        c = self.handle.credentials
        url = self.handle.url
        cfg = Config(target="real", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                     token_url=f"{url}/api/v1/oauth2/token", platform_url=f"{url}/api/v2",
                     account_id=c["account_id"], site_id=c["site_id"], client_id=c["client_id"],
                     client_secret=c["client_secret"])
        return Setup(cfg, StateStore(self.state), progress=False)

    def sent(self) -> list[Any]:
        """Every message the stand-in holds for the account (the test's view, with the admin key)."""
        r = control(self.handle.url, "GET", f"/_sandbox/messages?accountId={self.handle.credentials['account_id']}")
        assert r.status_code == 200, r.text
        body = r.json()
        return body.get("messages", body) if isinstance(body, dict) else body


@pytest.fixture(scope="module")
def world(sandbox_factory: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    handle = sandbox_factory(order_delay=0, reset=True)
    r = control(handle.url, "PUT", "/_sandbox/settings",
                json={"legacy_basic_auth": "decommissioned", "a2p_enforcement": True, "delivery_delay": 0.05})
    assert r.status_code == 200, r.text
    w = World(handle, tmp_path_factory.mktemp("realsend") / "state.json")
    s = w.setup()
    s.create_application(inbound_callback_url="https://cb.my-tunnel.net/callbacks/inbound",
                         outbound_callback_url="https://cb.my-tunnel.net/callbacks/outbound")
    s.create_location()
    s.enable_sms()
    s.enable_mms()
    s.assign_application()
    s.order_numbers()
    s.wait_for_order(timeout=10)
    s.register_a2p()  # the first number: SUCCESS on the account's REGISTERED campaign
    s.order_numbers(area_code="919", new=True)  # a second local number, on no campaign
    s.wait_for_order(timeout=10)
    s.order_numbers(area_code=None, toll_free_wildcard="8**", new=True)  # a toll-free number, not verified
    s.wait_for_order(timeout=10)
    numbers = s.current.numbers
    assert len(numbers) == 3 and numbers[2].startswith("+18"), numbers
    yield w
    handle.stop()


def _refused(call: Callable[[], Any], field: str, *words: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call()
    exc = caught.value
    assert exc.field == field, (exc.field, str(exc))
    assert "Fix:" in str(exc) and exc.fix, str(exc)
    for word in words:
        assert word in str(exc), (word, str(exc))
    return exc


def test_a_sender_that_cannot_deliver_is_refused_before_the_send(world: World) -> None:
    s = world.setup()
    first, unregistered, toll_free = s.current.numbers
    before = len(world.sent())
    _refused(lambda: s.send_message(ME, "hi", from_=unregistered), "from_", unregistered, "4476", "campaign")
    _refused(lambda: s.send_message(ME, "hi", from_=toll_free), "from_", toll_free, "4795", "request_tfv")
    _refused(lambda: s.send_message(ME, "hi", from_="+19195550000"), "from_", "not a number of account", "4405",
             first)
    _refused(lambda: s.bulk_send([ME], text="hi", from_=unregistered), "from_", "4476")
    assert len(world.sent()) == before, "a refused send reached the service"
    # what can deliver still goes: the registered number, to a real-looking phone, and it is DELIVERED
    sent = s.send_message(ME, "hello from a registered number")
    assert sent.status == "accepted"
    assert s.delivery_status(timeout=10).status == "DELIVERED"
    assert len(world.sent()) == before + 1


def test_a_fictional_destination_is_refused_by_the_python_api_on_a_real_account(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    s = world.setup()
    before = len(world.sent())
    media_before = len(s.list_media().records or [])
    _refused(lambda: s.send_message("+12015550100", "hi"), "to", "fictional", "own mobile number")
    _refused(lambda: s.send_picture(["+1 919 555 0123"]), "to", "fictional")  # before its upload, too
    _refused(lambda: s.bulk_send(["+12015550111", ME], text="hi"), "to", "fictional")
    assert len(world.sent()) == before
    assert len(s.list_media().records or []) == media_before, "the picture was uploaded for a refused send"
    # the five lines' run_all: its sandbox default (+12015550100) is never a real account's destination
    monkeypatch.delenv("BW_TO_NUMBER", raising=False)
    fresh = World(world.handle, world.state.with_name("state-run-all.json")).setup()
    steps = fresh.run_all()
    _refused(lambda: next(steps), "to", "BW_TO_NUMBER")
    assert fresh.current.application is None, "run_all created objects before refusing"
    assert len(world.sent()) == before


def test_a_wait_for_a_callback_that_cannot_come_says_what_list_messages_says(world: World, isolated_env: Path) -> None:
    """No callback receiver runs (no public URL): the wait for message-delivered times out, and its cause says the
    status listMessages reports (the README's polling path) instead of only pointing at delivery_status()."""
    from bwhelpers.exceptions import WaitTimeoutError

    s = world.setup()
    sent = s.send_message(ME, "where is my receipt")
    assert s.delivery_status(timeout=10).status == "DELIVERED"
    with pytest.raises(WaitTimeoutError) as caught:
        s.wait_for_event("message-delivered", message_id=sent.id, timeout=0.2)
    text = str(caught.value)
    assert f"listMessages says {ME} DELIVERED" in text and "the text arrived" in text, text
    assert caught.value.fix and "delivery_status()" in caught.value.fix


def test_a_sender_is_not_refused_when_the_credential_cannot_read_the_numbers(world: World) -> None:
    """A Messaging-only API credential cannot list the account's numbers (403): the check cannot tell, so the send
    goes (the service decides), as diagnose does with a status it cannot read."""
    c = world.handle.credentials
    r = control(world.handle.url, "POST", "/_sandbox/credentials",
                json={"account_id": c["account_id"], "client_id": "messaging-only", "client_secret": "Msg-0nly-Secret",
                      "roles": ["Messaging"]})
    assert r.status_code in (200, 201), r.text
    s = world.setup()
    first = s.current.numbers[0]
    url = world.handle.url
    only = Setup(Config(target="real", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                        token_url=f"{url}/api/v1/oauth2/token", platform_url=f"{url}/api/v2",
                        account_id=c["account_id"], site_id=c["site_id"], client_id="messaging-only",
                        client_secret="Msg-0nly-Secret"),
                 StateStore(world.state.with_name("state-messaging-only.json")), progress=False)
    assert only.current.numbers == []  # a fresh state: the sender is not a saved number, so its ownership is read
    only.message_flow.check_billed_send(ME, first)  # that read is refused (403): no verdict, no ValidationError
