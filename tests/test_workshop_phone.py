"""The phone page in workshop mode (the hub-managed service, below its prefix, without a hub): each participant's
link opens their own account's phone and nothing of another participant's; the reply box works below the prefix."""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from test_workshop_service import provision, service, setup_for  # noqa: F401  (the service fixture)

pytestmark = pytest.mark.slow
HTML = {"Accept": "text/html"}


def test_each_participant_sees_only_their_own_phone(service: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    url = service["url"]
    people = {}
    for name in ("hana", "ivan"):
        answer = provision(service, name)
        setup = setup_for(answer, tmp_path / f"{name}.json")
        for step in (setup.create_application, setup.create_location, setup.enable_sms, setup.enable_mms,
                     setup.assign_application, setup.order_numbers):
            step()
        setup.wait_for_order(progress=False)
        setup.register_a2p()
        number = setup.saved["numbers"][0]
        setup.send_message("+19195550123", f"private text of {name}")
        creds = answer["credentials"]
        r = requests.post(f"{url}/_sandbox/phone/link", json={"number": number}, timeout=10,
                          auth=(creds["username"], creds["password"]))
        assert r.status_code == 201, r.text
        people[name] = {"creds": creds, "number": number, "link": r.json()["url"]}
    hana, ivan = people["hana"], people["ivan"]
    account = hana["creds"]["account_id"]
    assert hana["link"].startswith(f"{url}/_sandbox/phone/{account}?"), "the link is below the service prefix"
    page = requests.get(hana["link"] + "&with=%2B19195550123", headers=HTML, timeout=10)
    assert page.status_code == 200, page.text
    assert "private text of hana" in page.text and "private text of ivan" not in page.text
    # the page's own links, form and polling URL keep the prefix
    action = re.search(r'<form class="reply" method="post" action="([^"]+)"', page.text)
    assert action and action.group(1).startswith(f"/services/bw-sandbox/_sandbox/phone/{account}/reply?t="), action
    # a picture of 1 MB through the link's form: its head carries the signed link, so the body is read (rev23c C4)
    fields = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
        re.search(r'<form class="reply".*?</form>', page.text, re.S).group(0))}  # type: ignore[union-attr]
    r = requests.post(urljoin(url, html.unescape(action.group(1))), data={**fields, "text": "a big picture"},
                      files={"picture": ("big.png", b"\x89PNG" + b"0" * 1_000_000, "image/png")},
                      allow_redirects=False, timeout=60)
    assert r.status_code == 303, r.text[:500]
    assert f'data-state="/services/bw-sandbox/_sandbox/phone/{account}/state?' in page.text
    # hana's link on ivan's page, ivan's credentials on hana's page, ivan's number on hana's page: refused
    token = parse_qs(urlparse(hana["link"]).query)["t"][0]
    r = requests.get(f"{url}/_sandbox/phone/{ivan['creds']['account_id']}", params={"t": token}, headers=HTML,
                     timeout=10)
    assert r.status_code == 401 and "private text of ivan" not in r.text
    r = requests.get(f"{url}/_sandbox/phone/{account}", headers=HTML, timeout=10,
                     auth=(ivan["creds"]["username"], ivan["creds"]["password"]))
    assert r.status_code == 403 and "private text of hana" not in r.text
    r = requests.get(f"{url}/_sandbox/phone/{account}", params={"t": token, "number": ivan["number"]}, headers=HTML,
                     timeout=10)
    assert r.status_code == 404 and "private text of ivan" not in r.text
    # the reply box below the prefix: 303 back to the thread, and the text is on the page
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             page.text.split('class="reply"')[1].split("</form>")[0]))
    r = requests.post(f"{url}/_sandbox/phone/{account}/reply", data={**fields, "text": "hello hana"}, headers=HTML,
                      timeout=10, allow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith(f"/services/bw-sandbox/_sandbox/phone/{account}?")
    after = requests.get(f"{service['base']}{r.headers['Location']}", headers=HTML, timeout=10)
    assert "hello hana" in after.text
