"""The lean path (``bwhelpers.http.request`` and ``post_json`` on a session of ``make_session``): a request on a
kept-alive http.client connection behaves as the ordinary requests path does: headers, Basic auth, the query,
cookies the service sets, compressed answers, a closed keep-alive connection, proxies (which take the ordinary
path), urllib3's retries of idempotent methods, redirects (followed by requests), and nothing sent twice."""
from __future__ import annotations

import gzip
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from bwhelpers.config import Config
from bwhelpers.http import _fast_route, make_session
from bwhelpers.messaging import MessagingClient
from conftest import serve_in_thread


class _Service(BaseHTTPRequestHandler):
    """A stand-in messaging endpoint that records every request and answers 202 JSON (gzip when asked to)."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []
    mode: dict[str, Any] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append({"headers": dict(self.headers), "body": json.loads(body), "port": self.client_address[1]})
        if self.mode.get("fail"):
            self.mode["fail"] -= 1
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = json.dumps({"id": f"m{len(self.seen)}", "to": ["+19195550100"], "from": "+19195550101"}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        if self.mode.get("gzip"):
            answer = gzip.compress(answer)
            self.send_header("Content-Encoding", "gzip")
        if self.mode.get("cookie"):
            self.send_header("Set-Cookie", "lb=node7; Path=/")
        if self.mode.get("close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        self._answer_get()

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer_get()

    def _answer_get(self) -> None:
        self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                          "port": self.client_address[1]})
        fail = self.mode.get("fail", 0)
        if fail:  # the next `fail` requests get a 503 with Retry-After: 0
            self.mode["fail"] = fail - 1
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/moved"):
            self.send_response(301)
            self.send_header("Location", "/api/here")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = b"<Here><Path>" + self.path.encode() + b"</Path></Here>"
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[str]:
    _Service.seen, _Service.mode = [], {}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    serve_in_thread(srv)
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _client(url: str) -> MessagingClient:
    cfg = Config(target="real", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2", account_id="9900000",
                 username="api-user", password="a-long-api-password")
    return MessagingClient(cfg)


def _send(client: MessagingClient, n: int = 1) -> Any:
    return client.send_message(f"+1919555{n:04d}", f"hello {n}", "+19195550101", "app-1")


def test_send_keeps_the_connection_and_sends_the_session_headers(service: str) -> None:
    client = _client(service)
    first, second = _send(client, 1), _send(client, 2)
    assert (first.id, second.id) == ("m1", "m2")
    seen = _Service.seen
    assert len(seen) == 2 and seen[0]["port"] == seen[1]["port"]  # one kept-alive connection
    headers = seen[0]["headers"]
    assert headers["Authorization"].startswith("Basic ") and headers["User-Agent"].startswith("bwhelpers/")
    assert headers["Content-Type"].startswith("application/json") and headers["Accept"] == "application/json"
    assert seen[0]["body"] == {"from": "+19195550101", "to": ["+19195550001"], "text": "hello 1",
                               "applicationId": "app-1"}
    shown = first.exchange.as_http()
    assert "a-long-api-password" not in shown and "Authorization: Basic ********" in shown
    assert first.exchange.status == 202 and '"id": "m1"' in first.exchange.response_body


def test_send_reads_compressed_answers_keeps_cookies_and_reconnects_after_close(service: str) -> None:
    client = _client(service)
    _Service.mode.update(gzip=True, close=True, cookie=True)
    assert _send(client, 1).id == "m1"
    assert client.session.cookies.get("lb") == "node7"
    _Service.mode.clear()
    assert _send(client, 2).id == "m2"  # a new connection; the cookie goes back, as requests would send it
    assert _Service.seen[1]["headers"].get("Cookie") == "lb=node7"
    assert len(_Service.seen) == 2  # nothing sent twice


def test_other_methods_keep_the_connection_retry_as_urllib3_and_redirect_as_requests(service: str) -> None:
    from bwhelpers.errors import ServerError
    from bwhelpers.http import Reply, request

    session = make_session(auth=("u", "p"), backoff_factor=0)
    resp, ex = request(session, "GET", f"{service}/api/orders", params={"customerOrderId": "a b&c", "page": None},
                       headers={"Accept": "application/xml"})
    assert isinstance(resp, Reply) and resp.status_code == 200  # the lean path answered
    assert _Service.seen[-1]["path"] == "/api/orders?customerOrderId=a+b%26c"  # requests' encoding, None left out
    assert ex.url == f"{service}/api/orders?customerOrderId=a+b%26c" and "Basic ********" in ex.as_http()
    assert _Service.seen[-1]["headers"]["Authorization"].startswith("Basic ")
    request(session, "PUT", f"{service}/api/settings", data="<A/>", headers={"Content-Type": "application/xml"})
    assert _Service.seen[-1]["headers"]["Content-Length"] == "4" and _Service.seen[-1]["port"] == _Service.seen[0]["port"]
    _Service.mode["fail"] = 2  # two 503s, then the answer: a GET is sent again (the session's Retry)
    before = len(_Service.seen)
    assert request(session, "GET", f"{service}/api/x")[0].status_code == 200 and len(_Service.seen) - before == 3
    _Service.mode["fail"] = 9  # more than the session's 3 retries: the last 503 is raised
    before = len(_Service.seen)
    with pytest.raises(ServerError):
        request(session, "GET", f"{service}/api/x")
    assert len(_Service.seen) - before == 4
    _Service.mode["fail"] = 1  # a POST is never sent twice
    before = len(_Service.seen)
    with pytest.raises(ServerError):
        request(session, "POST", f"{service}/api/v2/users/1/messages", json_body={"text": "once"})
    assert len(_Service.seen) - before == 1
    _Service.mode["fail"] = 0
    moved, ex = request(session, "GET", f"{service}/moved")  # requests follows the redirect
    assert moved.status_code == 200 and b"/api/here" in moved.content and ex.url.endswith("/api/here")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/services/bw-sandbox/api/accounts/9900000/orders/0001-aaaa",
    "http://127.0.0.1:8000/api/v2/users/1/messages?messageId=abc&limit=10", "http://localhost/x/+19195550100",
    "https://dashboard.bandwidth.com/api/accounts/1/sites", "http://h/a;b=c/d?x=(1)&y=*",
    "http://127.0.0.1:8000/a/./b", "http://127.0.0.1:8000/a/../b", "http://127.0.0.1:8000/a/..",
    "http://127.0.0.1:8000/a%2fb", "http://Example.com/x", "http://127.0.0.1:8000", "http://h/p?", "http://h/p q",
    "http://h/\u00e9", "http://h/x#f", "http://[::1]:8000/x"])
def test_the_lean_path_sends_the_url_requests_prepares(url: str) -> None:
    """The request target and the URL shown are what requests would send (urllib3's dot segments removed, escapes
    normalised, the host lowercased...), whether the URL is sent as it is or prepared first."""
    import requests
    from urllib.parse import urlsplit

    route = _fast_route(make_session(auth=("u", "p")), url, None)
    prepared = requests.Request("GET", url).prepare().url or ""
    parts = urlsplit(prepared)
    assert route is not None and route[3] == (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    assert route[5] == prepared


def test_a_proxy_for_the_url_takes_the_ordinary_path(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    session = make_session(auth=("u", "p"))
    url = f"{service}/api/v2/users/9900000/messages"
    assert _fast_route(session, url, None) is not None
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _fast_route(session, url, None) is None  # requests (with the proxy) sends it
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _fast_route(session, url, None) is not None


# -- bwhelpers.lean_http: the send path's connection and response head ------------------------------------------

class _Wire:
    """A socket stand-in: records what is written, and reads ``answer``."""

    def __init__(self, answer: bytes = b"") -> None:
        self.writes: list[bytes] = []
        self.answer = answer

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def makefile(self, mode: str) -> Any:
        import io
        return io.BytesIO(self.answer)

    def close(self) -> None:
        pass


def _answer(raw: bytes, method: str = "POST") -> Any:
    from bwhelpers.lean_http import LeanResponse

    resp = LeanResponse(_Wire(raw), method=method)  # type: ignore[arg-type]
    resp.begin()
    return resp


def test_a_request_goes_out_in_one_write_head_and_body() -> None:
    from bwhelpers.lean_http import LeanConnection

    conn = LeanConnection("127.0.0.1", 9)
    wire = _Wire()
    conn.sock = wire  # type: ignore[assignment]
    conn.request("POST", "/api/v2/users/1/messages", body=b'{"to": ["+19195550100"]}',
                 headers={"Content-Type": "application/json", "Authorization": "Bearer x"})
    assert len(wire.writes) == 1  # http.client writes the head and the body separately
    head, _, body = wire.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v2/users/1/messages HTTP/1.1\r\n") and b"Content-Length: 24" in head
    assert body == b'{"to": ["+19195550100"]}'


def test_the_lean_response_head_reads_what_http_client_reads() -> None:
    import http.client

    resp = _answer(b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\nSet-Cookie: a=1\r\n"
                   b"X-Folded: one\r\n two\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n")
    assert (resp.status, resp.reason, resp.version, resp.chunked, resp.will_close) == (202, "Accepted", 11, True, False)
    assert resp.headers.get("Content-Type") == "application/json" and "CONTENT-TYPE" in resp.msg
    assert resp.headers.get_all("set-cookie") == ["a=1", "b=2"] and resp.getheader("x-folded") == "one two"
    assert resp.read() == b'{"a":1}'
    closing = _answer(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    assert closing.will_close and closing.length == 2 and closing.read() == b"ok"
    old = _answer(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert old.version == 10 and old.will_close  # HTTP/1.0 without keep-alive
    unframed = _answer(b"HTTP/1.1 200 OK\r\n\r\nto the end")
    assert unframed.will_close and unframed.read() == b"to the end"
    assert _answer(b"HTTP/1.1 204 No Content\r\n\r\n").length == 0
    assert _answer(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n").status == 201
    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        _answer(b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n")
    with pytest.raises(http.client.LineTooLong):
        _answer(b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n")
    with pytest.raises(http.client.UnknownProtocol):
        _answer(b"HTTP/2.0 200 OK\r\n\r\n")
