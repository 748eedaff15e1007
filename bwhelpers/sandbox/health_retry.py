"""
bwhelpers.sandbox.health_retry
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

How a kernel's health probe (:func:`bwhelpers.sandbox.identify`) waits out a busy sandbox: a ``429``/``503`` answer is
asked again by urllib3's :class:`~urllib3.util.retry.Retry` after its ``Retry-After`` (or a short backoff), within the
probe's window and never past its end; the last answer is returned when the window is over (rev23g G9: a participant
flooding the workshop's health probe made others' kernel starts answer "no sandbox answers"). A refused connection or
a timeout is not asked again: nothing answers there.

Each thread keeps one :class:`requests.Session` for its probes (made again in a forked child), so a kernel's probe
goes over the connection its last one left open instead of a new session, pool and TCP connection each time; every
probe still sends its own nonce and is proved by :func:`~bwhelpers.sandbox.identify`, and the session keeps no
cookie from one probe to the next. A kept connection that the server closed meanwhile (a restarted sandbox, an idle
timeout) is asked once more on a new connection.
"""
from __future__ import annotations

import http.cookiejar
import os
import threading
import time
import urllib.parse
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

#: the answers of a sandbox that is there but busy (its admission ledger's 429, its connections' 503)
BUSY = frozenset({429, 503})


class WindowRetry(Retry):
    """urllib3's Retry of a busy answer until ``deadline`` (on :attr:`clock`): each wait is the answer's
    ``Retry-After`` (else the backoff), cut to what is left of the window; once it is over the answer is returned."""

    #: the clock and the pause between attempts (a test drives both)
    clock = staticmethod(time.monotonic)
    pause = staticmethod(time.sleep)

    def __init__(self, *args: Any, deadline: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def new(self, **kw: Any) -> WindowRetry:
        kw.setdefault("deadline", self.deadline)
        return super().new(**kw)

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or self.clock() >= self.deadline

    def sleep(self, response: Any = None) -> None:
        wait = (self.get_retry_after(response) if response is not None else None) or self.get_backoff_time()
        self.pause(max(0.0, min(wait, self.deadline - self.clock())))


class _Probes(threading.local):
    """This thread's probe session (None until its first probe), the process it was made in, and the origins
    (scheme, host, port) whose last probe answered: the pool may hold a connection to them."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.session: _Session | None = None
        self.kept: set[tuple[str, str]] = set()


class _Session:
    """A session and its adapter (its retry set per probe), closed with this object (a finished thread's). Its cookie
    jar keeps nothing: cookies are not port-scoped, so a cookie one probed origin set (a squatter on a vacated port,
    a hub's proxy) would be sent by later probes of any port on the host, before any identity is proved."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))  # refuses all
        self.adapter = HTTPAdapter(pool_connections=4, pool_maxsize=1)
        self.session.mount("http://", self.adapter)
        self.session.mount("https://", self.adapter)

    def __del__(self) -> None:
        self.session.close()


_PROBES = _Probes()


def _retry(deadline: float) -> WindowRetry:
    return WindowRetry(total=None, connect=0, read=0, other=0, status=1000,
                       status_forcelist=sorted(BUSY), allowed_methods=["GET"], backoff_factor=0.1,
                       backoff_max=1.0, raise_on_status=False, respect_retry_after_header=True, deadline=deadline)


def get(url: str, window: float) -> requests.Response:
    """``GET url``, a busy answer asked again within ``window`` seconds (each attempt's own timeout is the window
    too, as the probe's single request had). Raises requests' exceptions for a connection that fails (a connection
    kept from this thread's last probe of the same origin that fails is first tried once more on a new one)."""
    deadline = WindowRetry.clock() + window
    mine = _PROBES
    if mine.session is None or mine.pid != os.getpid():
        mine.pid, mine.session, mine.kept = os.getpid(), _Session(), set()  # (a forked child: not the parent's)
    parts = urllib.parse.urlsplit(url)
    origin = (parts.scheme, parts.netloc)
    session = mine.session
    session.adapter.max_retries = _retry(deadline)
    try:
        resp = session.session.get(url, timeout=window)
    except requests.ConnectionError as exc:
        if origin not in mine.kept or isinstance(exc, requests.Timeout) or WindowRetry.clock() >= deadline:
            mine.kept.discard(origin)
            raise
        mine.kept.discard(origin)
        session.session.close()  # the kept connection is gone: a new one (a refused one is not asked again)
        session.adapter.max_retries = _retry(deadline)
        resp = session.session.get(url, timeout=max(0.001, deadline - WindowRetry.clock()))
    mine.kept.add(origin)
    return resp
