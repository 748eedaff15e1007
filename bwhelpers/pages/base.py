"""What the page's parts use of :class:`~bwhelpers.walkthrough.Page` (declared here so each part type-checks on
its own), and the small helpers they share."""
from __future__ import annotations

import html
from typing import Any, Callable

from .. import steps

__all__ = ["PageBase", "link", "nothing_sent_because", "typename"]


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
    _last_refusal: Any
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


def nothing_sent_because(exc: Any) -> str:
    """Why a send cell sent nothing, in a few words, from the error its red box shows (``None``: a prerequisite was
    missing): refused before any request, not reaching the service, or refused by it (review 24e: a dead network is
    no input to fix)."""
    from ..exceptions import TransportError, ValidationError

    if exc is None:
        return "the send did not run (a prerequisite is missing, see above)"
    what = f"{typename(exc)}: {' '.join(str(getattr(exc, 'description', '') or exc).split())[:140]}"
    if isinstance(exc, ValidationError):
        return f"the send was refused before the request ({what})"
    if isinstance(exc, TransportError):
        return "the request could not reach the service (the send cell's red box says why)"
    return f"the service refused the send ({what})"
