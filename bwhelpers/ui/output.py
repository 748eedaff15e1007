"""The one output sink: everything the walkthrough shows goes through :func:`emit`, so a test patches one seam
(:func:`capture`) instead of each module's ``display``."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

__all__ = ["emit", "Live", "capture", "Sink"]

#: ``sink(obj, live)`` shows ``obj``; with ``live`` it returns a handle whose ``update(obj)`` replaces it in place
Sink = Callable[[Any, bool], Any]


def _ipython(obj: Any, live: bool) -> Any:
    from IPython.display import display

    return display(obj, display_id=True) if live else display(obj)


_SINK: Sink = _ipython


def emit(obj: Any) -> None:
    """Show ``obj`` (HTML, a widget, a DataFrame...) below the running cell."""
    _SINK(obj, False)


class Live:
    """An output that is updated in place (a wait's line, the progress strip); shown on first :meth:`update`."""

    def __init__(self) -> None:
        self.handle: Any = None

    @property
    def shown(self) -> bool:
        return self.handle is not None

    def update(self, obj: Any) -> None:
        if self.handle is None:
            self.handle = _SINK(obj, True)
            if self.handle is None:  # a sink without handles (tests): remember it was shown
                self.handle = False
        elif self.handle is not False:
            self.handle.update(obj)
        else:
            _SINK(obj, False)


@contextmanager
def capture(into: list[Any] | None = None) -> Iterator[list[Any]]:
    """Collect what is shown (into ``into``, or a new list) instead of displaying it:
    ``with capture() as seen: page.enable_sms()``."""
    global _SINK
    seen: list[Any] = [] if into is None else into
    previous = _SINK
    _SINK = lambda obj, live: seen.append(obj)  # noqa: E731
    try:
        yield seen
    finally:
        _SINK = previous
