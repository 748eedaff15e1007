"""Helpers for the Messaging v2 / callbacks tests: a real local webhook receiver, Dashboard set-up
over HTTP, and polling. Imported explicitly by tests/test_sandbox_messaging.py and test_sdk_messaging.py."""
from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import requests
import xmltodict

from bwhelpers.sandbox import DEMO, DEMO_B
from guide import GUIDE_2018
from conftest import serve_in_thread

#: numbers the default location names (a site's names are distinct: 13524)
_LOCATIONS = itertools.count(1)

#: fast settings for tests: short delivery delays and a quick, bounded retry schedule
FAST = {
    "delivery_delay": 0.05,
    "slow_delivery_delay": 1.0,
    "callback_retry": {"max_attempts": 4, "backoff": [0.3, 0.5, 0.8], "timeout": 2},
    "order_transition": {"mode": "immediate"},
    "rate_limit_per_second": 0,
    **GUIDE_2018,  # these tests replay the 2018 guide; tests/test_sandbox_tendlc.py covers a2p_enforcement
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred: Callable[[], Any], timeout: float = 8.0, interval: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Receiver:
    """A tiny threaded webhook receiver on 127.0.0.1.

    mode: ``ok`` (200), ``challenge`` (401 + ``WWW-Authenticate: Basic`` unless the right Basic
    credentials come), ``challenge-noheader`` (401 without the header unless authorized), ``error`` (500).
    """

    def __init__(self, mode: str = "ok", creds: tuple[str, str] | None = None, port: int = 0):
        self.mode, self.creds, self.port = mode, creds, port
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callbacks"

    def start(self) -> "Receiver":
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization")
                expected = None
                if outer.creds:
                    expected = "Basic " + base64.b64encode(":".join(outer.creds).encode()).decode()
                authorized = expected is not None and auth == expected
                with outer._lock:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                           "json": json.loads(raw) if raw else None, "auth": auth,
                                           "authorized": authorized})
                if outer.mode == "error":
                    self.send_response(500)
                elif outer.mode == "challenge" and not authorized:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm=""')
                elif outer.mode == "challenge-noheader" and not authorized:
                    self.send_response(401)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        serve_in_thread(self._server)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, accepted_only: bool = True) -> list[dict[str, Any]]:
        with self._lock:
            reqs = list(self.requests)
        out = []
        for r in reqs:
            if accepted_only and not self._accepted(r):
                continue
            out.extend(r["json"] if isinstance(r["json"], list) else [r["json"]])
        return out

    def _accepted(self, r: dict[str, Any]) -> bool:
        if self.mode == "error":
            return False
        if self.mode in ("challenge", "challenge-noheader"):
            return r["authorized"]
        return True

    def events_for(self, message_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["message"]["id"] == message_id]


# -- Dashboard set-up over HTTP ----------------------------------------------------------------

XML = {"Content-Type": "application/xml"}


def _x(resp: requests.Response) -> dict[str, Any]:
    return xmltodict.parse(resp.text) if resp.text.strip() else {}


class World:
    """Objects created through the Dashboard API for one account."""

    def __init__(self, url: str, creds: dict[str, str] = DEMO):
        self.url, self.creds = url, creds
        self.auth = (creds["username"], creds["password"])
        self.base = f"{url}/api/accounts/{creds['account_id']}"
        self.site = creds["site_id"]

    def create_app(self, callback_url: str, cb_creds: tuple[str, str] | None = None, name: str = "test app") -> str:
        creds = (f"<CallbackCreds><UserId>{cb_creds[0]}</UserId><Password>{cb_creds[1]}</Password></CallbackCreds>"
                 if cb_creds else "")
        body = (f"<Application><ServiceType>Messaging-V2</ServiceType><AppName>{name}</AppName>"
                f"<MsgCallbackUrl>{callback_url}</MsgCallbackUrl>{creds}</Application>")
        r = requests.post(f"{self.base}/applications", data=body, headers=XML, auth=self.auth, timeout=10)
        assert r.status_code == 201, r.text
        return _x(r)["ApplicationProvisioningResponse"]["Application"]["ApplicationId"]

    def create_location(self, name: str | None = None) -> str:
        """A location; without ``name`` a new one each call: a site's location names are distinct (13524)."""
        name = name or f"loc {next(_LOCATIONS)}"
        body = f"<SipPeer><PeerName>{name}</PeerName><IsDefaultPeer>false</IsDefaultPeer></SipPeer>"
        r = requests.post(f"{self.base}/sites/{self.site}/sippeers", data=body, headers=XML, auth=self.auth,
                          timeout=10)
        assert r.status_code == 201, r.text
        return r.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def peer(self, location: str) -> str:
        return f"{self.base}/sites/{self.site}/sippeers/{location}"

    def enable_sms(self, location: str) -> None:
        body = ("<SipPeerSmsFeature><SipPeerSmsFeatureSettings><TollFree>true</TollFree><ShortCode>true</ShortCode>"
                "<Protocol>HTTP</Protocol><Zone1>true</Zone1><Zone2>false</Zone2><Zone3>false</Zone3>"
                "<Zone4>false</Zone4><Zone5>false</Zone5></SipPeerSmsFeatureSettings><HttpSettings />"
                "</SipPeerSmsFeature>")
        r = requests.post(f"{self.peer(location)}/products/messaging/features/sms", data=body, headers=XML,
                          auth=self.auth, timeout=10)
        assert r.status_code in (200, 201), r.text

    def enable_mms(self, location: str) -> None:
        body = ("<MmsFeature><MmsSettings><Protocol>HTTP</Protocol></MmsSettings><Protocols><HTTP><HttpSettings />"
                "</HTTP></Protocols></MmsFeature>")
        r = requests.post(f"{self.peer(location)}/products/messaging/features/mms", data=body, headers=XML,
                          auth=self.auth, timeout=10)
        assert r.status_code in (200, 201), r.text

    def assign(self, location: str, app_id: str) -> None:
        body = f"<ApplicationsSettings><HttpMessagingV2AppId>{app_id}</HttpMessagingV2AppId></ApplicationsSettings>"
        r = requests.put(f"{self.peer(location)}/products/messaging/applicationSettings", data=body, headers=XML,
                         auth=self.auth, timeout=10)
        assert r.status_code == 200, r.text

    def order_number(self, location: str, area_code: str = "919") -> str:
        body = (f"<Order><AreaCodeSearchAndOrderType><AreaCode>{area_code}</AreaCode><Quantity>1</Quantity>"
                f"</AreaCodeSearchAndOrderType><SiteId>{self.site}</SiteId><PeerId>{location}</PeerId></Order>")
        r = requests.post(f"{self.base}/orders", data=body, headers=XML, auth=self.auth, timeout=10)
        assert r.status_code == 201, r.text
        order_id = _x(r)["OrderResponse"]["Order"]["id"]

        def complete() -> str | None:
            doc = _x(requests.get(f"{self.base}/orders/{order_id}", auth=self.auth, timeout=10))["OrderResponse"]
            if doc.get("OrderStatus") != "COMPLETE":
                return None
            tn = doc["CompletedNumbers"]["TelephoneNumber"]
            tn = tn[0] if isinstance(tn, list) else tn
            return tn["FullNumber"]

        number = wait_for(complete, timeout=10, what=f"order {order_id} COMPLETE")
        return "+1" + number[-10:]

    def provision(self, callback_url: str, cb_creds: tuple[str, str] | None = None, sms: bool = True,
                  mms: bool = True, assign: bool = True) -> dict[str, str]:
        """App + location (+SMS, +MMS, +assign) + one ordered number."""
        app_id = self.create_app(callback_url, cb_creds)
        location = self.create_location()
        if sms:
            self.enable_sms(location)
        if sms and mms:
            self.enable_mms(location)
        if sms and assign:
            self.assign(location, app_id)
        number = self.order_number(location)
        return {"app_id": app_id, "location": location, "number": number}


def send(url: str, body: Any, creds: dict[str, str] = DEMO, legacy: bool = False, **kw: Any) -> requests.Response:
    if legacy:
        return requests.post(f"{url}/v2/users/{creds['user_id']}/messages", json=body,
                             auth=(creds["api_token"], creds["api_secret"]), timeout=10, **kw)
    return requests.post(f"{url}/api/v2/users/{creds['account_id']}/messages", json=body,
                         auth=(creds["username"], creds["password"]), timeout=10, **kw)


__all__ = ["DEMO", "DEMO_B", "FAST", "Receiver", "World", "free_port", "send", "wait_for"]
