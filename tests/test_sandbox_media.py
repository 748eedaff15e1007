"""Bandwidth's Media API in the sandbox (issue 22 item 1), over HTTP against a real sandbox, checked against
``bandwidth.yml`` (listMedia/getMedia/uploadMedia/deleteMedia): statuses, the list item schema, the
``Continuation-Token`` header, the accepted content types and the messaging error shape."""
from __future__ import annotations

import functools
import http.client
import os
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from bwhelpers.sandbox import DEMO, DEMO_B
from bwhelpers.sandbox.media import models
from conftest import control

SPECS = Path(os.environ.get("BW_SPECS_DIR") or Path(__file__).parent / "data" / "specs")
PNG = (Path(__file__).resolve().parents[1] / "bwhelpers" / "assets" / "smile.png").read_bytes()
A = (DEMO["username"], DEMO["password"])
B = (DEMO_B["username"], DEMO_B["password"])


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.load((SPECS / "bandwidth.yml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def documented(path: str, method: str) -> set[int]:
    return {int(s) for s in spec()["paths"][path][method]["responses"]}


def base(sb: Any, account: str = DEMO["account_id"]) -> str:
    return f"{sb.url}/api/v2/users/{account}/media"


@pytest.fixture
def sb(sandbox: Any) -> Iterator[Any]:
    """The session sandbox with no media on the demo accounts before and after each test."""
    def clean() -> None:
        for creds, auth in ((DEMO, A), (DEMO_B, B)):
            while True:
                names = [m["mediaName"] for m in requests.get(base(sandbox, creds["account_id"]), auth=auth,
                                                               timeout=10).json()]
                if not names:
                    break
                with requests.Session() as s:
                    for name in names:
                        s.delete(f"{base(sandbox, creds['account_id'])}/{name}", auth=auth, timeout=10)
    clean()
    yield sandbox
    clean()


def put(sb: Any, name: str, body: bytes = PNG, ctype: str | None = "image/png", auth: Any = A,
        **headers: str) -> requests.Response:
    hdrs = dict(headers)
    if ctype is not None:
        hdrs["Content-Type"] = ctype
    return requests.put(f"{base(sb)}/{name}", data=body, headers=hdrs, auth=auth, timeout=30)


def error_shape(r: requests.Response, status: int, kind: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    required = spec()["components"]["schemas"]["messagingRequestError"]["required"]
    assert set(required) <= set(body) and body["type"] == kind, body
    return body


def test_upload_get_list_delete_round_trip_as_the_spec_says(sb: Any) -> None:
    one, many = "/users/{accountId}/media/{mediaId}", "/users/{accountId}/media"
    r = put(sb, "smile.png", **{"Cache-Control": "max-age=60"})
    assert r.status_code == 204 and r.content == b"" and 204 in documented(one, "put")
    got = requests.get(f"{base(sb)}/smile.png", auth=A, timeout=10)
    assert got.status_code == 200 and 200 in documented(one, "get")
    assert got.content == PNG and got.headers["Content-Type"] == "image/png"
    assert got.headers["Cache-Control"] == "max-age=60"  # stored and returned, as uploadMedia says
    listed = requests.get(base(sb), auth=A, timeout=10)
    assert listed.status_code == 200 and 200 in documented(many, "get")
    schema = spec()["components"]["schemas"]["media"]["properties"]
    assert listed.json() == [{"content": f"{base(sb)}/smile.png", "contentLength": len(PNG),
                              "mediaName": "smile.png"}]
    assert set(listed.json()[0]) == set(schema)
    # the same name again overwrites (uploadMedia's description)
    assert put(sb, "smile.png", b"GIF89a", "image/gif").status_code == 204
    again = requests.get(f"{base(sb)}/smile.png", auth=A, timeout=10)
    assert again.content == b"GIF89a" and again.headers["Content-Type"] == "image/gif"
    assert "Cache-Control" not in again.headers or again.headers["Cache-Control"] != "max-age=60"
    gone = requests.delete(f"{base(sb)}/smile.png", auth=A, timeout=10)
    assert gone.status_code == 204 and 204 in documented(one, "delete")
    error_shape(requests.get(f"{base(sb)}/smile.png", auth=A, timeout=10), 404, "not-found")
    error_shape(requests.delete(f"{base(sb)}/smile.png", auth=A, timeout=10), 404, "not-found")
    assert requests.get(base(sb), auth=A, timeout=10).json() == []


@pytest.mark.parametrize("name,disposition", [
    ("smile.png", 'inline; filename="smile.png"'),
    ("\u65e5\u672c.png", "inline; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"),  # was a 500 (not latin-1)
    ("\u00e9t\u00e9.png", "inline; filename*=UTF-8''%C3%A9t%C3%A9.png"),  # was sent as latin-1 bytes
    ("my photo.png", "inline; filename*=UTF-8''my%20photo.png"),
])
def test_any_uploaded_name_downloads_with_its_file_name(sb: Any, name: str, disposition: str) -> None:
    """getMedia of whatever name uploadMedia took: the bytes, with the name in Content-Disposition (RFC 6266)."""
    assert put(sb, name).status_code == 204
    got = requests.get(f"{base(sb)}/{name}", auth=A, timeout=10)
    assert got.status_code == 200 and got.content == PNG, got.text
    assert got.headers["Content-Disposition"] == disposition


def test_bearer_tokens_work_and_missing_credentials_get_the_messaging_401(sb: Any) -> None:
    token = requests.post(f"{sb.url}/api/v1/oauth2/token", auth=(DEMO["client_id"], DEMO["client_secret"]),
                          data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    r = requests.put(f"{base(sb)}/b.png", data=PNG, headers={**bearer, "Content-Type": "image/png"}, timeout=10)
    assert r.status_code == 204
    assert requests.get(f"{base(sb)}/b.png", headers=bearer, timeout=10).content == PNG
    body = error_shape(requests.get(f"{base(sb)}/b.png", timeout=10), 401, "unauthorized")
    assert body["description"] == "Authentication Failed"
    error_shape(requests.get(f"{base(sb)}/b.png", auth=(DEMO["username"], "wrong"), timeout=10), 401, "unauthorized")
    error_shape(requests.get(base(sb), headers={"Authorization": "Bearer nope"}, timeout=10), 401, "unauthorized")


def test_accounts_never_see_each_others_media(sb: Any) -> None:
    assert put(sb, "private.png").status_code == 204
    # B asking for A's file, list or delete: 403 (its credentials do not cover A's account)
    for method in ("GET", "DELETE"):
        error_shape(requests.request(method, f"{base(sb)}/private.png", auth=B, timeout=10), 403, "forbidden")
    error_shape(requests.get(base(sb), auth=B, timeout=10), 403, "forbidden")
    error_shape(put(sb, "private.png", b"overwritten", auth=B), 403, "forbidden")
    # B's own media area does not have it either
    error_shape(requests.get(f"{base(sb, DEMO_B['account_id'])}/private.png", auth=B, timeout=10), 404, "not-found")
    assert requests.get(base(sb, DEMO_B["account_id"]), auth=B, timeout=10).json() == []
    assert requests.get(f"{base(sb)}/private.png", auth=A, timeout=10).content == PNG


def raw(sb: Any, method: str, path: str, body: bytes = b"", ctype: str = "image/png") -> tuple[int, bytes]:
    """A request whose path is sent byte for byte (requests/urllib3 would remove dot segments)."""
    parts = urlsplit(sb.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        headers = {"Authorization": requests.auth._basic_auth_str(*A), "Content-Type": ctype}
        conn.request(method, path, body=body or None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("media_id", ["../escape.png", "a/../../b.png", "%2e%2e/x.png", "a//b.png", "./x.png",
                                      "a%5Cb.png", "a%00b.png"])
def test_media_ids_never_leave_the_account(sb: Any, media_id: str) -> None:
    path = f"/api/v2/users/{DEMO['account_id']}/media/{media_id}"
    for method in ("PUT", "GET", "DELETE"):
        status, body = raw(sb, method, path, PNG if method == "PUT" else b"")
        assert status == 400 and b"request-validation" in body and b"mediaId" in body, (method, status, body)
    assert requests.get(base(sb), auth=A, timeout=10).json() == []


def test_the_spec_example_id_with_slashes_is_one_file(sb: Any) -> None:
    example = spec()["components"]["parameters"]["mediaId"]["example"]  # 14762070468292kw2fuqty55yp2b2/0/bw.png
    assert "/" in example
    assert put(sb, example).status_code == 204
    assert requests.get(f"{base(sb)}/{example}", auth=A, timeout=10).content == PNG
    assert [m["mediaName"] for m in requests.get(base(sb), auth=A, timeout=10).json()] == [example]


def test_files_over_3_5_mb_are_refused_and_up_to_it_accepted(sb: Any) -> None:
    assert put(sb, "max.bin", b"\0" * models.MAX_FILE_BYTES, "image/jpeg").status_code == 204
    for size in (models.MAX_FILE_BYTES + 1, 5_000_000):
        body = error_shape(put(sb, "big.jpg", b"\0" * size, "image/jpeg"), 413, "request-entity-too-large")
        assert "3.5 MB" in body["description"] and str(models.MAX_FILE_BYTES) in body["description"]
    names = [m["mediaName"] for m in requests.get(base(sb), auth=A, timeout=10).json()]
    assert names == ["max.bin"]
    # the larger limit is the media upload path's only: a message body still stops at the API's limit
    r = requests.post(f"{sb.url}/api/v2/users/{DEMO['account_id']}/messages", data=b"{" + b" " * 400_000 + b"}",
                      headers={"Content-Type": "application/json"}, auth=A, timeout=10)
    assert r.status_code == 413


def test_content_types_are_those_of_the_spec(sb: Any) -> None:
    listed = set(spec()["components"]["requestBodies"]["uploadMediaRequest"]["content"])
    assert models.SUPPORTED_TYPES == listed
    one = "/users/{accountId}/media/{mediaId}"
    assert 415 in documented(one, "put")
    body = error_shape(put(sb, "x.exe", b"MZ", "application/x-msdownload"), 415, "unsupported-content-type")
    assert "application/x-msdownload" in body["description"] and "image/png" in body["description"]
    error_shape(put(sb, "x.png", PNG, None), 415, "unsupported-content-type")
    assert put(sb, "p.pdf", b"%PDF-1.4", "application/pdf; charset=binary").status_code == 204
    assert requests.get(f"{base(sb)}/p.pdf", auth=A, timeout=10).headers["Content-Type"] == "application/pdf"


def test_the_per_account_quota_is_a_setting(sb: Any) -> None:
    saved = control(sb.url, "GET", "/_sandbox/settings", timeout=5).json()["media_quota_bytes"]
    assert saved >= models.MAX_FILE_BYTES
    assert control(sb.url, "PUT", "/_sandbox/settings", json={"media_quota_bytes": -1}, timeout=5).status_code == 400
    control(sb.url, "PUT", "/_sandbox/settings", json={"media_quota_bytes": 5000}, timeout=5).raise_for_status()
    try:
        assert put(sb, "one.png", b"x" * 3000).status_code == 204
        assert put(sb, "one.png", b"x" * 4500).status_code == 204  # an overwrite counts once
        body = error_shape(put(sb, "two.png", b"x" * 1000), 400, "media-quota-exceeded")
        assert "5000" in body["description"] and "DELETE" in body["description"]
        # another account has its own quota
        r = requests.put(f"{base(sb, DEMO_B['account_id'])}/two.png", data=b"x" * 1000,
                         headers={"Content-Type": "image/png"}, auth=B, timeout=10)
        assert r.status_code == 204
        assert requests.delete(f"{base(sb)}/one.png", auth=A, timeout=10).status_code == 204
        assert put(sb, "two.png", b"x" * 1000).status_code == 204  # room again
    finally:
        control(sb.url, "PUT", "/_sandbox/settings", json={"media_quota_bytes": saved}, timeout=5)


@pytest.mark.slow  # 1,001 real uploads (a page is 1,000 files, as Bandwidth's)
def test_lists_are_pages_of_1000_with_a_continuation_token(sb: Any) -> None:
    many = "/users/{accountId}/media"
    header = spec()["components"]["responses"]["listMediaResponse"]["headers"]
    assert "Continuation-Token" in header
    with requests.Session() as s:
        s.auth = A
        for i in range(models.PAGE_SIZE + 1):
            r = s.put(f"{base(sb)}/f{i:04d}.txt", data=b"x", headers={"Content-Type": "text/plain"}, timeout=10)
            assert r.status_code == 204
        first = s.get(base(sb), timeout=10)
        assert len(first.json()) == 1000 and first.headers.get("Continuation-Token")
        second = s.get(base(sb), headers={"Continuation-Token": first.headers["Continuation-Token"]}, timeout=10)
        assert second.status_code == 200 and [m["mediaName"] for m in second.json()] == ["f1000.txt"]
        assert "Continuation-Token" not in second.headers
        names = [m["mediaName"] for m in first.json()] + ["f1000.txt"]
        assert len(set(names)) == 1001
        assert 400 in documented(many, "get")
        error_shape(s.get(base(sb), headers={"Continuation-Token": "%%%"}, timeout=10), 400, "request-validation")


def test_a_full_shared_db_stores_no_more_media(sb: Any) -> None:
    """The workshop's db size cap (max_db_mb, bwhelpers.sandbox.quotas) covers uploads too: 507, nothing stored."""
    saved = control(sb.url, "GET", "/_sandbox/settings", timeout=5).json().get("max_db_mb")
    control(sb.url, "PUT", "/_sandbox/settings", json={"max_db_mb": 0.001}, timeout=5).raise_for_status()
    try:
        r = put(sb, "full.png")
        assert r.status_code == 507 and "max_db_mb" in r.json()["description"], r.text
    finally:
        control(sb.url, "PUT", "/_sandbox/settings", json={"max_db_mb": saved}, timeout=5).raise_for_status()
    assert requests.get(base(sb), auth=A, timeout=10).json() == []
