"""A bin's page is rendered once while the bin stays as it is (issue 25, bench 8), and never served stale: a store, a
delete or a new configuration by another process on the same db (another connection) shows at the next read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bwhelpers.sandbox import callbacks
from bwhelpers.sandbox.control.extra import bin_page
from bwhelpers.sandbox.db import Database

KEY, NAME = "99200001/hook", "hook"


def store(db: Database, i: int) -> None:
    callbacks.record_bin_request(db, KEY, method="POST", path="/hook", query="", headers={"X-I": str(i)},
                                 authorized=False, status=204, body=json.dumps({"i": i}))


def rendered(db: Database, limit: int = 1000, before: int | None = None) -> bytes:
    """What the handler answered before pages were kept: bin_contents shown as NAME, json.dumps'd."""
    doc: dict[str, Any] = callbacks.bin_contents(db, KEY, limit, before)
    doc["name"] = NAME
    if doc.get("config"):
        doc["config"]["name"] = NAME
    return json.dumps(doc).encode()


def test_a_bin_page_is_kept_while_the_bin_is_unchanged_and_follows_every_change(tmp_path: Path) -> None:
    here, other = Database(tmp_path / "sandbox.db"), Database(tmp_path / "sandbox.db")  # two processes' connections
    for i in range(3):
        store(here, i)
    first = bin_page(here, KEY, NAME, 1000, None)
    assert first == rendered(here)
    assert bin_page(here, KEY, NAME, 1000, None) is first  # kept: not rendered again
    assert bin_page(here, KEY, NAME, 2, None) == rendered(here, 2) != first  # another page, another entry

    store(other, 3)  # a store by another process
    page = bin_page(here, KEY, NAME, 1000, None)
    assert page == rendered(here) and b'"X-I": "3"' in page

    callbacks.delete_bin(other, KEY)  # emptied and filled again to as many requests: new ids, new page
    for i in range(10, 14):
        store(other, i)
    page = bin_page(here, KEY, NAME, 1000, None)
    assert page == rendered(here) and b'"X-I": "13"' in page and b'"X-I": "3"' not in page

    callbacks.configure_bin(other, KEY, "u:p", 500)  # a new configuration, no new request
    page = bin_page(here, KEY, NAME, 1000, None)
    assert page == rendered(here) and json.loads(page)["config"]["status"] == 500
    callbacks.configure_bin(other, KEY, None, None)  # and back: the page shows it again
    assert json.loads(bin_page(here, KEY, NAME, 1000, None))["config"]["status"] is None

    oldest = json.loads(page)["requests"][1]["id"]
    assert bin_page(here, KEY, NAME, 1000, oldest) == rendered(here, 1000, oldest)  # an older page by its cursor
