"""
bwhelpers.sandbox.auth_throttle
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Repeated authentication failures from one client address are throttled, so guessing (or simply
hammering the sandbox with wrong credentials) cannot take the CPU from everyone else.

Each client address (an IPv6 address by its /64: :func:`.forwarded.client_key`) has a bucket of :data:`BURST` failures that refills at :data:`REFILL_PER_SECOND`, on the
sandbox's clock (:mod:`bwhelpers.sandbox.clock`: callers pass ``now``), so tests freeze it instead of racing it.
While it is empty, a credential (a user name or client id *and* a keyed digest of the secret presented:
:func:`credential_key`) that failed in the last :data:`FAILED_ID_SECONDS` is checked only against credentials
this process verified recently (a dictionary lookup, no key derivation), so repeating a wrong credential is
answered 429 with ``Retry-After`` before any hash is computed. A credential that has not failed is still checked
(one hash) and, when wrong, answered 429 as well: participants behind the same address (a NAT, or the hub's own
machine, where every kernel connects from) are never locked out by someone else's guessing at their user name
(issue 23, F4). The price: a guesser sending a new secret each time pays one key derivation per guess and learns
only that it was wrong (guessing a generated secret is hopeless; the address still gets its 429s).

Successful checks are remembered for :data:`SUCCESS_TTL` seconds (keyed by the stored salted hash and a
digest of the secret, never the secret), so a client sending the same credentials on every request
pays for one key derivation per :data:`SUCCESS_TTL`.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import os
import threading
import time

from .forwarded import client_key

BURST = 20
REFILL_PER_SECOND = 2.0
SUCCESS_TTL = 300.0
FAILED_ID_SECONDS = 60.0
_MAX_ADDRESSES = 10_000

#: set while a throttled request is authenticated: only remembered successes count (bwhelpers.sandbox.db)
cached_only: contextvars.ContextVar[bool] = contextvars.ContextVar("bwhelpers_sandbox_cached_only", default=False)


_KEY = os.urandom(16)  # per process: the failed-credential marks hold no digest that means anything elsewhere


def credential_key(ident: str, secret: str) -> str:
    """The throttle's name for one presented credential: the id and a keyed digest of the secret."""
    return f"{ident}\0{hmac.new(_KEY, secret.encode(), hashlib.sha256).hexdigest()[:32]}"


class Throttled(Exception):
    """Too many authentication failures from this client address; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed authentications from this address; retry in {retry_after} s")
        self.retry_after = retry_after


class FailureThrottle:
    """Per-address token buckets of authentication failures (one per serving process)."""

    def __init__(self, burst: int = BURST, per_second: float = REFILL_PER_SECOND):
        self.burst, self.per_second = burst, per_second
        self._buckets: dict[str, tuple[float, float]] = {}
        self._failed_ids: dict[str, float] = {}
        self._lock = threading.Lock()

    def _level(self, address: str, now: float) -> float:
        tokens, since = self._buckets.get(address, (float(self.burst), now))
        if now < since:  # the sandbox's clock was set back (/_sandbox/clock): the bucket starts full again
            return float(self.burst)
        return min(float(self.burst), tokens + (now - since) * self.per_second)

    def blocked(self, address: str, ident: str | None = None, now: float | None = None) -> int | None:
        """Seconds until ``address`` may fail again with credential id ``ident``, or None when the request may be
        checked normally."""
        now = time.monotonic() if now is None else now
        address = client_key(address)
        level = self._level(address, now)
        if level >= 1.0:
            return None
        if ident is not None and not 0 <= now - self._failed_ids.get(ident, -FAILED_ID_SECONDS) < FAILED_ID_SECONDS:
            return None
        return max(1, int((1.0 - level) / self.per_second + 0.999))

    def failed(self, address: str, ident: str | None = None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        address = client_key(address)
        with self._lock:
            if ident is not None:
                if len(self._failed_ids) > _MAX_ADDRESSES:
                    self._failed_ids = {i: t for i, t in self._failed_ids.items() if now - t < FAILED_ID_SECONDS}
                self._failed_ids[ident] = now
            self._buckets[address] = (max(0.0, self._level(address, now) - 1.0), now)
            if len(self._buckets) > _MAX_ADDRESSES:  # forget full buckets first
                self._buckets = {a: v for a, v in self._buckets.items() if self._level(a, now) < self.burst}
                if len(self._buckets) > _MAX_ADDRESSES:
                    self._buckets.clear()


#: the throttle of this process (the sandbox serves on one IOLoop; tests reset it with ``THROTTLE.__init__()``)
THROTTLE = FailureThrottle()
