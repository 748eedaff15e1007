"""The client's Media API module (``bwhelpers.media``, issue 22 item 3) against a real sandbox over HTTP: upload from a
path or bytes (type guessed from the name), list, get, delete; bad input refused before any request, naming the
field; inbound pictures downloaded with credentials only on the configured messaging host and no redirect followed.
"""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from bwhelpers.exceptions import AuthError, BandwidthError, NotFoundError, ValidationError
from bwhelpers.media import MAX_FILE_BYTES, MediaClient, guess_content_type
from bwhelpers.messaging import MessagingClient
from bwhelpers.sandbox import DEMO_B

from _client_helpers import closed_port, config_for
from conftest import serve_in_thread

PICTURE = Path(__file__).resolve().parents[1] / "bwhelpers" / "assets" / "smile.png"


@pytest.fixture
def media(sandbox: Any) -> Iterator[MediaClient]:
    """The demo account's Media API, empty before and after (other tests of the session upload to it too)."""
    client = MediaClient(config_for(sandbox))

    def clean() -> None:
        for item in client.list().records or []:
            client.delete(item["mediaName"])
    clean()
    yield client
    clean()


@pytest.fixture
def offline(sandbox: Any) -> MediaClient:
    """A client whose messaging host has nothing listening: any request would raise TransportError."""
    port = closed_port()
    return MediaClient(config_for(sandbox, messaging_url=f"http://127.0.0.1:{port}/api/v2"))


def test_upload_from_a_path_list_get_delete(media: MediaClient) -> None:
    up = media.upload(PICTURE)
    assert up.id == "smile.png" and up.data["contentType"] == "image/png"
    assert up.data["url"] == f"{media.config.messaging_url}/users/{media.config.account_id}/media/smile.png"
    assert up.exchange is not None and up.exchange.status == 204
    assert up.exchange.request_body == f"<{PICTURE.stat().st_size} bytes of image/png>"  # never binary in a table
    assert [r["mediaName"] for r in media.list().records or []] == ["smile.png"]
    got = media.get("smile.png")
    assert got.content == PICTURE.read_bytes() and got.content_type == "image/png" and got.is_image
    assert media.delete("smile.png").status == "deleted"
    with pytest.raises(NotFoundError) as info:
        media.get("smile.png")
    assert info.value.status == 404 and "smile.png" in str(info.value)


def test_upload_bytes_with_a_name_and_an_explicit_type(media: MediaClient) -> None:
    up = media.upload(b"%PDF-1.4 hello", media_id="menu.pdf")
    assert up.data["contentType"] == "application/pdf"
    up = media.upload(b"GIF89a", media_id="anim", content_type="image/gif", cache_control="no-cache")
    assert media.get("anim").content_type == "image/gif"


def test_content_types_are_guessed_like_band_does() -> None:
    assert guess_content_type("a.png") == "image/png"
    assert guess_content_type("a.JPG") == "image/jpeg"
    assert guess_content_type("a.mp4") == "video/mp4"
    assert guess_content_type("a.bin", "image/webp") == "image/webp"


@pytest.mark.parametrize("call, field, words", [
    (lambda m, tmp: m.upload(b"x", media_id="notes.xyz"), "content_type", "does not accept"),
    (lambda m, tmp: m.upload(b"x"), "media_id", "give a name"),
    (lambda m, tmp: m.upload(b"x", media_id="../escape.png"), "media_id", "contains '/'"),
    (lambda m, tmp: m.upload(b"x", media_id=".."), "media_id", "'..'"),
    (lambda m, tmp: m.upload(b"x", media_id="a\\b.png"), "media_id", "backslash"),
    (lambda m, tmp: m.upload(tmp / "missing.png"), "source", "no file"),
    (lambda m, tmp: m.upload(tmp / "big.png"), "source", "3.5 MB"),
    (lambda m, tmp: m.upload(b"\0" * (MAX_FILE_BYTES + 1), media_id="big.png"), "source", "3.5 MB"),
    (lambda m, tmp: m.get("../../messages"), "media_id", "'..'"),
    (lambda m, tmp: m.delete("a//b.png"), "media_id", "'..'"),
    (lambda m, tmp: m.download("ftp://example.com/a.png"), "url", "http(s)"),
])
def test_bad_input_is_refused_before_any_request(offline: MediaClient, tmp_path: Path, call: Any, field: str,
                                                 words: str) -> None:
    with open(tmp_path / "big.png", "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ValidationError) as info:
        call(offline, tmp_path)
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_send_message_checks_attachments_before_sending(sandbox: Any) -> None:
    port = closed_port()
    messages = MessagingClient(config_for(sandbox, messaging_url=f"http://127.0.0.1:{port}/api/v2"))
    urls = [f"https://example.com/{i}.png" for i in range(11)]
    with pytest.raises(ValidationError) as info:
        messages.send_message("+19195550100", None, "+19195550101", "app", media=urls)
    assert info.value.field == "media" and "at most 10" in str(info.value)
    for bad in ("smile.png", "file:///etc/passwd", "javascript:alert(1)"):
        with pytest.raises(ValidationError) as info:
            messages.send_message("+19195550100", None, "+19195550101", "app", media=[bad])
        assert info.value.field == "media" and "upload" in str(info.value)


def test_another_accounts_media_is_refused(media: MediaClient, sandbox: Any) -> None:
    url = media.upload(PICTURE).data["url"]
    b = MediaClient(config_for(sandbox, account_id=DEMO_B["account_id"], site_id=DEMO_B["site_id"],
                               username=DEMO_B["username"], password=DEMO_B["password"]))
    with pytest.raises(AuthError) as info:
        b.download(url)  # same host: B's credentials go, and do not cover A's account
    assert info.value.status == 403
    with pytest.raises(NotFoundError):
        b.get("smile.png")  # B's own media: it has none of that name


class _Recorder(BaseHTTPRequestHandler):
    """A stranger's web server: records what it was sent; /redirect answers 302 elsewhere."""

    seen: list[dict[str, Any]] = []
    target = ""

    def do_GET(self) -> None:
        type(self).seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", type(self).target)
            self.end_headers()
            return
        body = b"GIF89a-stranger"
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stranger() -> Iterator[ThreadingHTTPServer]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    serve_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


def test_downloads_send_credentials_only_to_the_messaging_host(media: MediaClient, sandbox: Any,
                                                                stranger: ThreadingHTTPServer) -> None:
    # an inbound picture on the messaging host: fetched with the account's credentials
    url = media.upload(PICTURE).data["url"]
    assert media.download(url).content == PICTURE.read_bytes()
    # a picture elsewhere: fetched, but without credentials
    port = stranger.server_address[1]
    got = media.download(f"http://localhost:{port}/pic.gif")
    assert got.content == b"GIF89a-stranger" and got.content_type == "image/gif"
    assert _Recorder.seen == [{"path": "/pic.gif", "authorization": None}]


def test_no_redirect_is_followed(sandbox: Any, stranger: ThreadingHTTPServer) -> None:
    port = stranger.server_address[1]
    # the configured messaging host itself answers 302 to another host: not followed, credentials go nowhere else
    _Recorder.target = f"{sandbox.url}/api/v2/users/{DEMO_B['account_id']}/media/x.png"
    client = MediaClient(config_for(sandbox, messaging_url=f"http://127.0.0.1:{port}/api/v2"))
    with pytest.raises(BandwidthError) as info:
        client.download(f"http://127.0.0.1:{port}/redirect/users/9900000/media/x.png")
    assert "redirect" in str(info.value) and "not followed" in str(info.value) and info.value.status == 302
    assert [s["path"] for s in _Recorder.seen] == ["/redirect/users/9900000/media/x.png"]
    assert _Recorder.seen[0]["authorization"]  # the messaging host got the credentials, nobody else


def test_teardown_deletes_the_uploaded_media(sandbox: Any, tmp_path: Path) -> None:
    """The teardown deletes what the walkthrough uploaded from the Media API (the account's storage), and says so;
    a file already deleted elsewhere is only forgotten."""
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    setup = Setup(config_for(sandbox), StateStore(tmp_path / "state.json"), progress=False)
    client = MediaClient(config_for(sandbox))
    kept = setup.upload_media(PICTURE)
    gone = setup.upload_media(b"\x89PNG\r\n\x1a\n" + b"0" * 64, media_id="gone-elsewhere.png")
    client.delete("gone-elsewhere.png")
    rows = [r for r in setup.teardown() if r["step"] == "delete media"]
    assert {(r["outcome"], r["detail"]) for r in rows} == {("done", kept.id), ("already gone", gone.id)}, rows
    names = [m["mediaName"] for m in client.list().records or []]
    assert kept.id not in names and setup.saved.get("media") in (None, [])
