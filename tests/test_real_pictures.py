"""The pictures step on a real account, rehearsed (issue 22 item 4): ``BW_TARGET=real`` with every URL pointed at a
sandbox standing in for Bandwidth (tests/test_real_account.py's fixtures) and the callback receiver running. The
notebook uploads the project's picture with the Media API, sends it as MMS, reads the outcome by polling
(DELIVERED) and the receiver's callback; with no picture reply yet it says how to get one. Then a friend texts a
picture to the number: the notebook, run again, downloads it from the receiver's ``message-received`` (credentials
only to the messaging host) and shows it. The walkthrough never touches ``/_sandbox``."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bwhelpers import steps
from bwhelpers.notebooks import run_notebooks
from bwhelpers.sandbox.media import models as media_models
from conftest import control
from _messaging_helpers import wait_for
from test_real_account import _free_port, _out, _saved, _text, access_log, real_env, stand_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


def test_pictures_on_a_real_account_then_a_friends_picture(real_env: dict[str, Any], access_log: Any,  # noqa: F811
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("BW_RECEIVER_PORT", str(port))
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", f"http://127.0.0.1:{port}")
    upto = [p.notebook for p in steps.PAGES[: steps.page("pictures").number + 1]]
    assert run_notebooks(out=real_env["out"], only=upto, quiet=True) == 0
    assert not [p for p in access_log.paths if "/_sandbox" in p], "the real path used the sandbox's control plane"
    assert any("/media/smile.png" in p and p.split()[1] == "PUT" for p in access_log.paths), access_log.paths
    saved = _saved(real_env)
    [media] = saved["media"]
    mms = saved["messages"][-1]
    assert media["id"] == "smile.png" and media["message_id"] == mms["id"]
    assert mms["delivery"]["status"] == "DELIVERED"  # polled from listMessages
    page = _text(_out(real_env, "pictures"))
    assert "Stored on the Media API" in page and "smile.png · image/png" in page
    assert "DELIVERED" in page and "Callback: the receiver stored message-delivered" in page
    assert "Text a picture to your number to see it here" in page and "No picture has arrived yet" in page

    # a friend texts a picture to the number (the stand-in's inbound: Bandwidth's side, not the walkthrough's)
    number = saved["numbers"][0]
    r = control(real_env["url"], "POST", "/_sandbox/inbound", json={
        "to": number, "from": "+19195550777", "text": "look!", "media": [{"sample": "mountains"}]}, timeout=10)
    assert r.status_code == 202, r.text
    # the sandbox logs a request after answering it: wait for this one's line before clearing (under load it came
    # after the clear and failed the check below on a fresh Debian)
    wait_for(lambda: any("/_sandbox/inbound" in p for p in access_log.paths), timeout=10, what="the inbound's log")
    access_log.paths.clear()
    assert run_notebooks(out=real_env["out"], only=[steps.page("pictures").notebook], quiet=True) == 0
    assert not [p for p in access_log.paths if "/_sandbox" in p]
    page = _text(_out(real_env, "pictures"))
    assert "Received (downloaded with the account's credentials" in page
    assert "/0/mountains.png · image/png" in page, page[-3000:]
    # the picture shown is the friend's, byte for byte
    nb = json.loads(_out(real_env, "pictures").read_text())
    shown = json.dumps(nb)
    assert base64.b64encode(media_models.sample_bytes("mountains")).decode() in shown
