"""
bwhelpers.sandbox.delivery_signature
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

``X-Sandbox-Delivery``: how a request bin of this sandbox knows a POST is the sandbox's own callback
delivery for an account (and records it in that account's bin) rather than a forgery.

The header is ``<account>.<unix time>.<nonce>.<mac>``: an HMAC-SHA256 (key derived from the admin key)
over the account, the time, the nonce and the **target** (the ``Host`` and the request target the HTTP
client sends: ``host[:port]/path?query``). A bin accepts it only

* for the URL it was made for (a header captured on its way to one bin is worth nothing at another),
* within :data:`WINDOW` seconds of its time, and
* once (each nonce is remembered for the window: a replay is refused).

The dispatcher sends it only to the sandbox's own bins (:meth:`CallbackPolicy.is_own_bin
<bwhelpers.sandbox.callback_policy.CallbackPolicy.is_own_bin>`: its own origin and bin path), never to
another host that happens to have a ``/_sandbox/bins/`` path.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from urllib.parse import urlsplit

HEADER = "X-Sandbox-Delivery"
#: seconds a signature is valid either side of its time
WINDOW = 300.0
_seen: dict[str, float] = {}
_seen_lock = threading.Lock()
_SEEN_MAX = 100_000


def target_of_url(url: str) -> str:
    """What the HTTP client sends for ``url``: ``netloc`` (without credentials) + path + ``?query``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    return netloc + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _mac(key: str, account_id: str, stamp: str, nonce: str, target: str) -> str:
    message = f"bwhelpers-delivery:v2:{account_id}:{stamp}:{nonce}:{target}"
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(key: str, account_id: str, url: str, now: float | None = None) -> str:
    """The header value for one delivery of ``account_id``'s callback to ``url``."""
    stamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(8)
    return f"{account_id}.{stamp}.{nonce}.{_mac(key, account_id, stamp, nonce, target_of_url(url))}"


def verify(key: str | None, header: str | None, host: str, uri: str, now: float | None = None,
           use: bool = True) -> str | None:
    """The account a valid header names for this request (``host``: its Host header, ``uri``: its request
    target), or None: absent, forged, made for another URL, outside the window, or replayed. ``use=False`` checks
    without using the header up (the request's tenant for :mod:`.fair_share`, before the bin verifies it)."""
    if not key or not header or header.count(".") < 3:
        return None
    account_id, stamp, nonce, mac = header.rsplit(".", 3)
    if not account_id or not stamp.isdigit() or len(nonce) > 64:
        return None
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > WINDOW:
        return None
    expected = _mac(key, account_id, stamp, nonce, host.lower() + uri)
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    if not use:
        return None if nonce in _seen else account_id
    with _seen_lock:
        if nonce in _seen:
            return None
        if len(_seen) >= _SEEN_MAX:
            for old in [n for n, t in _seen.items() if t < now - 2 * WINDOW]:
                del _seen[old]
            if len(_seen) >= _SEEN_MAX:
                _seen.clear()
        _seen[nonce] = now
    return account_id
