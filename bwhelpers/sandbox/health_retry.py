"""
bwhelpers.sandbox.health_retry
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

How a kernel's health probe (:func:`bwhelpers.sandbox.identify`) waits out a busy sandbox: a ``429``/``503`` answer is
asked again by urllib3's :class:`~urllib3.util.retry.Retry` after its ``Retry-After`` (or a short backoff), within the
probe's window and never past its end; the last answer is returned when the window is over (rev23g G9: a participant
flooding the workshop's health probe made others' kernel starts answer "no sandbox answers"). A refused connection or
a timeout is not asked again: nothing answers there.
"""
from __future__ import annotations

import time
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


def get(url: str, window: float) -> requests.Response:
    """``GET url``, a busy answer asked again within ``window`` seconds (each attempt's own timeout is the window
    too, as the probe's single request had). Raises requests' exceptions for a connection that fails."""
    retry = WindowRetry(total=None, connect=0, read=0, other=0, status=1000,
                        status_forcelist=sorted(BUSY), allowed_methods=["GET"], backoff_factor=0.1,
                        backoff_max=1.0, raise_on_status=False, respect_retry_after_header=True,
                        deadline=WindowRetry.clock() + window)
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        return session.get(url, timeout=window)
