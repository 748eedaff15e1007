"""What the page's parts use of :class:`~bwhelpers.walkthrough.Page` (declared here so each part type-checks on
its own), and the small helpers they share."""
from __future__ import annotations

import html
from typing import Any, Callable

from .. import steps

__all__ = ["PageBase", "link", "typename"]


def link(p: steps.Step) -> str:
    """A link to a page's notebook (JupyterLab opens it in a tab); its name never breaks inside (``01_create_/app``)."""
    return f'<a href="{html.escape(p.filename)}" style="white-space:nowrap">{html.escape(p.notebook)}</a>'


def typename(exc: BaseException) -> str:
    return type(exc).__name__


class PageBase:
    """The page's state and the methods its parts call (Page defines them)."""

    info: steps.Step
    step: int
    setup: Any
    missing: list[int]
    outcomes: list[tuple[str, str]]
    _nothing_sent: str | None
    _last_refusal: str | None
    _torn_down: str | None
    _partial_next: str | None
    _caveat: tuple[str, str] | None
    _target_view: Any
    _preflight: Any
    _connect_notes: list[Any]
    _target_fields: Callable[[Any], dict[str, Any]]
    check: Callable[[], bool]
    _show: Callable[..., Any]
    _outcome: Callable[[str, str], None]
    refresh: Callable[[], None]
    send_message: Callable[..., Any]
    _billed_to: Callable[[Any], Any]
    verdict: Callable[[], tuple[str, str, str]]
    resummarize: Callable[[], None]
    wait_for_event: Callable[..., Any]
    _received: Callable[..., Any]
