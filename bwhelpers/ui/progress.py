"""Where you are and what is running: the progress strip of the guide's steps (links to their notebooks), and a
wait's progress in words."""
from __future__ import annotations

import html
import time
from typing import Any

from .. import steps, theme
from .output import Live

__all__ = ["progress_html", "Progress", "progress_widget", "refresh_progress", "statuses", "done_steps", "Waiting",
           "WaitStopped"]


def progress_html(done: dict[int, Any], current: int | None = None) -> str:
    """The walkthrough's steps as a strip of links to their notebooks: done ✓, partial ◐, failed ✗, pending ○.

    ``done`` maps a step number to True/False or to its status text (``Setup.status()``'s ``status``)."""
    chips = []
    for p in steps.STEPS:
        number, label = p.number, p.title
        value = done.get(number)
        status = value if isinstance(value, str) else ("done" if value else "pending")
        if status not in ("done", "partial", "failed"):
            status = "pending"
        icon = theme.ICONS[status]
        border = f"2px solid {theme.FOCUS}" if number == current else f"1px solid {theme.BORDER_STRONG}"
        chips.append(
            f'<a class="bw-chip bw-chip-{status}" href="{html.escape(p.filename)}" '
            f'title="{html.escape(label)}: {status} (open {html.escape(p.filename)})" '
            f'style="display:inline-block;margin:2px;padding:2px 8px;border:{border};border-radius:10px;'
            f'color:{theme.accent(status)};background:{theme.PAGE};font-size:90%;text-decoration:none;'
            f'white-space:nowrap">{icon} {number}. {html.escape(label)}</a>')
    return '<div class="bw-progress">' + "".join(chips) + "</div>"


def _status_items(setup: Any) -> list[dict[str, Any]]:
    try:
        return list(setup.status())
    except Exception:
        return []


def done_steps(setup: Any) -> dict[int, bool]:
    """Step number -> done, from ``setup.status()`` (empty when it cannot be read)."""
    return {int(item["step"]): bool(item.get("done")) for item in _status_items(setup)}


def statuses(setup: Any) -> dict[int, str]:
    """Step number -> done / partial / failed / pending, from ``setup.status()``."""
    return {int(item["step"]): str(item.get("status") or ("done" if item.get("done") else "pending"))
            for item in _status_items(setup)}


class Progress:
    """The progress strip as a plain HTML display (no widget model, so it survives a reopened notebook);
    ``refresh`` updates it in place."""

    def __init__(self, setup: Any, current: int | None = None):
        self.setup, self.current = setup, current
        self.live = Live()

    def html(self) -> str:
        return progress_html(statuses(self.setup), self.current)

    def show(self) -> None:
        from IPython.display import HTML

        self.live = Live()
        self.live.update(HTML(self.html()))

    def refresh(self) -> None:
        from IPython.display import HTML

        if self.live.shown:
            self.live.update(HTML(self.html()))

    def _ipython_display_(self) -> None:
        self.show()


def progress_widget(setup: Any, current: int | None = None) -> Progress:
    """The guide's steps from the saved state; ``refresh_progress`` (or ``.refresh()``) updates it."""
    return Progress(setup, current)


def refresh_progress(widget: Progress, setup: Any, current: int | None = None) -> None:
    widget.setup, widget.current = setup, current
    widget.refresh()


#: seconds without a new progress line after which the line says the wait may have stopped (polls come every 2 s
#: at most; a request takes at most its timeout)
STALE_AFTER = 12

#: the line's "stopped?" part stays folded (no height) until the line is STALE_AFTER seconds old: each update
#: draws a new line (a new animation), so only a line no kernel updates any more unfolds it (a restart, an interrupt)
STALE_CSS = ("<style>@keyframes bw-unfold{from{max-height:0}to{max-height:12em}}"
             ".bw-waiting .bw-stale{display:block;overflow:hidden;max-height:0;"
             f"animation:bw-unfold 0s linear {STALE_AFTER}s forwards}}</style>")


class Waiting:
    """A line of live progress in words for a wait ("waiting for …, 3 s of 20 s, as of 12:03:04"), shown only once
    the wait has taken longer than ``after`` seconds; ``finish`` replaces it with the outcome (or nothing).

    The line carries the clock time of its last update, and a line no kernel has updated for :data:`STALE_AFTER`
    seconds (the kernel was restarted or interrupted mid-wait) unfolds a second line saying the wait stopped and
    what to do (``resume``: run the cell again; what is saved stays) — drawn by the browser, so it appears even
    though no kernel is left to say it."""

    def __init__(self, what: str, timeout: float, after: float = 0.5,
                 resume: str = "run this cell again: what was saved stays, and the wait resumes"):
        self.what, self.timeout, self.after, self.resume = what, timeout, after, resume
        self.live = Live()
        self.start = time.monotonic()

    def _line(self, text: str, kind: str = "info") -> Any:
        from IPython.display import HTML

        return HTML(f'<div class="bw-waiting bw-waiting-{kind}" style="color:{theme.accent(kind)}">{text}</div>')

    def update(self, status: str = "") -> None:
        elapsed = time.monotonic() - self.start
        if elapsed < self.after:
            return
        extra = f" — {html.escape(status)}" if status else ""
        stamp = time.strftime("%H:%M:%S")
        stale = (f'<span class="bw-stale" style="color:{theme.accent("warn")}">{theme.ICONS["warn"]} No update since '
                 f"{stamp}: if the kernel was restarted or interrupted, this wait has stopped; "
                 f"{html.escape(self.resume)}.</span>")
        self.live.update(self._line(
            f'{STALE_CSS}<span aria-hidden="true">{theme.ICONS["wait"]}</span> waiting for {html.escape(self.what)}'
            f"{extra}, {elapsed:.0f} s of {self.timeout:g} s (as of {stamp}){stale}"))

    def __enter__(self) -> "Waiting":
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        """Stop (Kernel › Interrupt, the toolbar's ■) during the wait: the waiting line goes, and the cell ends with
        one sentence (where the wait stopped, what to do) instead of a traceback through the helpers."""
        if kind is not None and issubclass(kind, KeyboardInterrupt) and not isinstance(exc, WaitStopped):
            elapsed = time.monotonic() - self.start
            self.finish()  # the line goes: the cell's one sentence below says where the wait stopped
            raise WaitStopped(f"Stopped at {elapsed:.0f} s of {self.timeout:g} s, as you asked: {self.resume}.") \
                from None

    def finish(self, text: str = "", kind: str = "ok") -> None:
        if not self.live.shown:
            if text:
                Live().update(self._line(text, kind))
            return
        from IPython.display import HTML

        self.live.update(self._line(text, kind) if text else HTML(""))


class WaitStopped(KeyboardInterrupt):
    """A wait stopped by the user; IPython shows its sentence in place of a traceback, and Run All stops here."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]
