"""Poll an order-like resource until it reaches a terminal status: one loop for number orders and TN Option Orders.

Backoff from ``interval`` up to ``max_interval``; ``on_poll(result, elapsed)`` after every poll (the notebooks show
progress in words with it), else a ``tqdm.auto`` line with the status when ``progress`` is true.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Collection, TypeVar

from .checks import check_bool, check_number
from .exceptions import WaitTimeoutError

__all__ = ["poll_until", "poll"]

R = TypeVar("R")


def poll(get: Callable[[], R], done: Callable[[R], bool], *, timeout: float, interval: float,
         max_interval: float | None = None, on_poll: Callable[[R, float], None] | None = None,
         sleep: Callable[[float], None] = time.sleep, first: float = 0.0) -> tuple[R, bool]:
    """THE polling loop: call ``get()`` until ``done(value)`` or ``timeout`` seconds; returns ``(value, done)``.

    The first call is immediate, or after ``first`` seconds (when the caller knows nothing is due before); then
    waits ``interval`` (growing by 1.5 up to ``max_interval`` when given); ``on_poll(value, elapsed)`` after every
    call; ``sleep`` is injectable (tests)."""
    start = time.monotonic()
    deadline = start + timeout
    delay = interval
    if first > 0:
        sleep(min(first, timeout))
    while True:
        value = get()
        if on_poll is not None:
            on_poll(value, time.monotonic() - start)
        if done(value):
            return value, True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return value, False
        sleep(min(delay, remaining))
        if max_interval is not None:
            delay = min(delay * 1.5, max_interval)


def poll_until(get: Callable[[], R], terminal: Collection[str | None], *, label: str, timeout: float, progress: bool,
               interval: float, max_interval: float, on_poll: Callable[[R, float], None] | None,
               fix: str) -> R:
    """Call ``get()`` until its ``.status`` is in ``terminal``; WaitTimeoutError naming ``label`` and ``fix`` after
    ``timeout`` seconds."""
    check_number(timeout, "timeout")
    check_bool(progress, "progress")
    check_number(interval, "interval", positive=True)
    check_number(max_interval, "max_interval", positive=True)
    from tqdm.auto import tqdm
    start = time.monotonic()
    deadline = start + timeout
    delay = interval
    with tqdm(total=1, desc=label, disable=not progress or on_poll is not None, leave=True,
              bar_format="{desc}: {postfix} ({elapsed})") as bar:
        while True:
            result = get()
            status: Any = getattr(result, "status", None)
            bar.set_postfix_str(status or "?")
            if on_poll is not None:
                on_poll(result, time.monotonic() - start)
            if status in terminal:
                bar.update(1)
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(f"{label} is still {status} after {timeout:g} s. Fix: {fix}",
                                       description=f"still {status}")
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, max_interval)
