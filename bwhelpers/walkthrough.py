"""
bwhelpers.walkthrough
~~~~~~~~~~~~~~~~~~~~~

The thin teaching layer the notebooks use, so that each cell stays one to five lines::

    from bwhelpers.walkthrough import Page
    page = Page("sms")                   # connect, show the target and the setup progress
    page.enable_sms()                    # request, response table, saved ID — or a clear error

A page checks its prerequisites from the saved state. When one is missing it says which
notebook to run first, and every later cell repeats that instead of failing with a traceback.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from . import guide, statuses, steps, theme, views
from .exceptions import BandwidthError, TransportError
from .results import Result
from .ui import display as show
from .ui import progress
from .ui.output import Live, emit
from .pages.base import link as _link, nothing_sent_because
from .pages.forms import FormsMixin
from .pages.events import EventsMixin, explain_events  # noqa: F401  (explain_events: public here too)
from .pages.pictures import PicturesMixin
from .pages.readbacks import ReadbacksMixin

if TYPE_CHECKING:  # the forms (ipywidgets, phonenumbers) are imported by the cells that show one
    pass

def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class OrderKind:
    """How an order's outcome is counted and named: number orders put numbers in service, TN Option Orders put
    numbers on a 10DLC campaign (their numbers, less those with an error)."""

    noun: str
    count: Callable[[Result, dict[str, Any]], tuple[int, int]]


NUMBER_ORDER = OrderKind("number(s) in service", lambda r, d: (
    _int(d.get("CompletedQuantity")) or len(r.numbers), _int(d.get("FailedQuantity"))))
TN_OPTION_ORDER = OrderKind("number(s) on the 10DLC campaign", lambda r, d: (
    max(len(r.numbers) - len(d.get("Errors") or []), 0), len(d.get("Errors") or [])))


def _numbers(result: Result) -> Any:
    return ", ".join(result.numbers) if result.numbers else None


def _closure(info: steps.Step) -> tuple[int, ...]:
    """Every step ``info`` needs, directly or through the steps it needs, in order."""
    seen: set[int] = set()
    todo = list(info.needs)
    while todo:
        p = steps.page(todo.pop())
        if p.number not in seen:
            seen.add(p.number)
            todo += p.needs
    return tuple(sorted(seen))


def _run_first(numbers: list[int]) -> str:
    """``Run notebook 01_x first (then 02_y, 03_z)``: every missing step, the first one named as the next to run."""
    pages = [steps.by_number(n) for n in numbers]
    rest = f" (then {', '.join(_link(p) for p in pages[1:])})" if len(pages) > 1 else ""
    return f"Run notebook {_link(pages[0])} first{rest}"


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return getattr(shell, "execution_count", None) if shell is not None else None
    except Exception:  # pragma: no cover
        return None


def _cell_id() -> str | None:
    """The id of the notebook cell being run, as JupyterLab names it in its execute request (None elsewhere:
    nbclient names none, and a widget callback runs outside any cell)."""
    try:
        from IPython import get_ipython

        header = getattr(get_ipython(), "parent_header", None) or {}
        cell = (header.get("metadata") or {}).get("cellId")
        return cell if isinstance(cell, str) else None
    except Exception:  # pragma: no cover
        return None


#: JupyterLab's menu item that closes a notebook and stops its kernel (the summary's Next asks for it: a sitting
#: with every tab left open holds 14 kernels, docs/workshop.md, Sizing)
CLOSE_NOTEBOOK = "<b>File › Close and Shut Down Notebook</b>"


class Outcome(tuple[str, str]):
    """``(kind, what)`` of one step's run, remembering the cell and the run that said it."""

    cell: str | None
    run: int | None

    def __new__(cls, kind: str, text: str, cell: str | None = None, run: int | None = None) -> "Outcome":
        made = super().__new__(cls, (kind, text))
        made.cell, made.run = cell, run
        return made


class Page(ReadbacksMixin, EventsMixin, PicturesMixin, FormsMixin):
    """One notebook's connection, prerequisite check and display helpers."""

    def __init__(self, page: int | str, setup: Any = None, show: bool = True):
        self.info = steps.by_number(page) if isinstance(page, int) else steps.page(page)
        self.step = self.info.number
        self.title, self.notebook = self.info.heading, self.info.notebook
        self.needs = _closure(self.info)
        self.setup = setup
        self.missing: list[int] = []
        self.error: BaseException | None = None
        self._printed: list[tuple[str, str]] = []   # what connecting printed (kind, line), shown in the header
        if self.setup is None:
            self._connect()
        self.progress = progress.progress_widget(self.setup, current=self._current) \
            if self.setup is not None else None
        self._warned_in: int | None = None
        self._nothing_sent: str | None = None   # why the last send/inbound of this page sent nothing
        self._last_refusal: BandwidthError | None = None
        self._torn_down: str | None = None        # what the teardown did, once it ran in this kernel
        self._partial_next: str | None = None     # the next step after a partial outcome (trusted HTML)
        self._caveat: tuple[str, str] | None = None  # a done step's warning shown above (what, next): partial
        self._target_view: Any = None             # 00's target table, redrawn by a later Connect
        self._connect_notes: list[tuple[Live, str]] = []  # 00's "not connected yet" notes (+ missing labels)
        self._preflight: Any = None               # 13's preflight table, folded by the teardown (pages/readbacks.py)
        self._summary_live: Live | None = None    # the summary shown, re-computed after the teardown
        self._statuses: dict[int, str] = {}
        self.outcomes: list[tuple[str, str]] = []   # (done/partial/failed, what) of the steps run in this kernel
        self._prereq_shown = False
        if self.setup is not None:
            done = progress.done_steps(self.setup)
            self._statuses = progress.statuses(self.setup)
            self.missing = [n for n in self.needs if not done.get(n)]
        if show:
            self.header()

    def _connect(self) -> None:
        """Connect, keeping what connecting prints (the sandbox in use, a warning, the receiver's URL) for the
        header, which shows it as part of the page (a printed URL would break anywhere, ``htt/p://``)."""
        import contextlib
        import io

        from .connection import connect

        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                self.setup = connect()
        except BandwidthError as exc:
            self.error = exc
        for kind, stream in (("info", out), ("warn", err)):
            for line in stream.getvalue().splitlines():
                text = line.strip().removeprefix("bwhelpers: ").removeprefix("warning: ")
                if text and not text.startswith("no Bandwidth credentials found"):  # the target line says it
                    self._printed.append((kind, text))

    # -- state -------------------------------------------------------------------------------------
    @property
    def _current(self) -> int | None:
        """This page's chip in the progress strip (None for pages that are not guide steps)."""
        return self.step if self.info.guide else None

    @property
    def ready(self) -> bool:
        """True when connected and every prerequisite step is done."""
        return self.setup is not None and not self.missing

    @property
    def config(self) -> Any:
        return self.setup.config if self.setup is not None else None

    def header(self) -> None:
        """The target in use, the progress strip, and the prerequisite verdict."""
        for kind, text in self._printed:
            show.show_note(f"{theme.ICONS[kind]} {views.text_html(text)}", kind)
        if self.setup is None:
            exc = self.error or RuntimeError("not connected")
            if self.info.key == "start":  # this page's form is where it gets fixed: say so, in the form's words
                self._not_connected_here(exc)
                return
            if self._not_connected_elsewhere(exc):
                return
            self._outcome("failed", f"could not connect: {type(exc).__name__}: {getattr(exc, 'description', '') or exc}")
            show.show_error(exc)
            show.show_note("Could not connect. Open <b>00_start_here</b> and use the credentials form, "
                           "or unset the BW_* variables to use the sandbox.", "warn", incomplete=True)
            return
        cfg = self.setup.config
        target = ("the local <b>sandbox</b> (no account needed)" if cfg.is_sandbox
                  else f"the <b>real</b> Bandwidth account <code>{html.escape(str(cfg.account_id))}</code>")
        show.show_html(f'<div class="bw-target">Target: {target} — Dashboard <code>{html.escape(cfg.dashboard_url)}'
                       f'</code>, profile <code>{html.escape(cfg.profile)}</code></div>')
        if self.progress is not None:
            self.progress.show()
        if self.check():
            self._recommend()

    def check(self) -> bool:
        """Say which notebooks to run first if prerequisites are missing: every missing one (and the earlier steps
        the walkthrough expects), in full once, then a one-line reminder in each later cell that skips its work.
        Returns ``ready``."""
        if self.setup is None:
            self._warn_once("Not connected: run <b>00_start_here</b> first.")
            return False
        if self.missing:
            todo = self._todo()
            first = steps.by_number(todo[0])
            if self._prereq_shown:
                self._warn_once(f"Skipped: a prerequisite is missing (see the top of this notebook); run "
                                f"{_link(first)} first.", short=True)
                return False
            self._prereq_shown = True
            items = []
            for number in todo:
                p = steps.by_number(number)
                what = " — it ended <b>FAILED</b>" if self._statuses.get(number) == "failed" else ""
                why = " <b>(needed by this step)</b>" if number in self.missing else ""
                items.append(f"<li>{_link(p)}: {html.escape(p.heading)}{what}{why}</li>")
            if len(todo) > len(self.missing):
                items.append("<li style=\"list-style:none\"><i>The others are needed by the message this walkthrough "
                             "sends.</i></li>")
            self._warn_once(
                f"Prerequisite missing for this target: {len(todo)} earlier step{'s' * (len(todo) > 1)} to run"
                f"<ul>{''.join(items)}</ul><b>{_run_first(todo)}</b>, then re-run this one. The cells below do "
                "nothing until then.")
            return False
        return True

    def _skipped(self) -> list[int]:
        """Earlier guide steps not done that this page does not strictly need (numbers can be ordered onto a
        location with no SMS and no application, but the walkthrough's message cannot be sent from them)."""
        if not self.info.guide or self.setup is None:
            return []
        done = progress.done_steps(self.setup)
        return [p.number for p in steps.STEPS if p.number < self.step and p.number not in self.needs
                and not done.get(p.number)]

    def _todo(self) -> list[int]:
        """Every earlier step still to run, needed or expected, in order."""
        return sorted(set(self.missing) | set(self._skipped()))

    def _recommend(self) -> None:
        """Earlier guide steps this one does not strictly need but the walkthrough expects (ordering numbers onto
        a location with no SMS and no application): an amber note naming each, so nothing proceeds silently."""
        skipped = [steps.by_number(n) for n in self._skipped()]
        if skipped:
            names = ", ".join(f"step {p.number} ({_link(p)})" for p in skipped)
            show.show_note(f"{theme.ICONS['warn']} Not done yet for this target: {names}. This step works without "
                           "them, but the walkthrough's message cannot be sent until they are.", "warn")

    def _warn_once(self, text: str, short: bool = False) -> None:
        """The prerequisite note, at most once per executed cell (later calls in the same cell stay quiet)."""
        cell = _execution_count()
        if cell is not None and cell == self._warned_in:
            return
        self._warned_in = cell
        if not short:
            self._outcome("not run", "a prerequisite is missing")
        show.show_note(f"{theme.ICONS['warn']} {text}", "warn", incomplete=not short)

    def _outcome(self, kind: str, text: str) -> None:
        """Remember what a step of this page did in this kernel (the summary is computed from it). A cell run
        again replaces what its earlier runs said: the page's own advice is to fix the form and re-run the cell."""
        cell, run = _cell_id(), _execution_count()
        if cell is not None:
            self.outcomes = [o for o in self.outcomes
                             if not (isinstance(o, Outcome) and o.cell == cell and o.run != run)]
        self.outcomes.append(Outcome(kind, text, cell, run))

    def refresh(self) -> None:
        if self.progress is not None and self.setup is not None:
            progress.refresh_progress(self.progress, self.setup, self._current)

    # -- running a step ----------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        """A call a step's flow declares (bwhelpers.flows.registry) and no method below shows: ``page.<call>(...)``
        runs ``setup.<call>(...)`` and shows it as every step is shown (request, response, saved value, or the
        error), so a new step needs no method here."""
        from .flows.registry import calls

        if name.startswith("_") or name not in calls():
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def call(*args: Any, **kwargs: Any) -> Result | None:
            return self._show(lambda: getattr(self.setup, name)(*args, **kwargs))

        call.__name__ = name
        return call

    def __dir__(self) -> list[str]:
        from .flows.registry import calls

        return sorted(set(super().__dir__()) | set(calls()))

    # -- the steps (typed: a typo is an AttributeError at once, not a string looked up later) ----------
    def create_application(self, name: str = guide.APPLICATION_NAME, inbound_callback_url: str | None = None,
                           outbound_callback_url: str | None = None, callback_types: list[str] | None = None,
                           new: bool = False, callback_url: str | None = None) -> Result | None:
        """Step: create (or reuse) the application with today's fields (``callback_url`` = the guide's legacy
        form instead); shows the exchange and the saved ApplicationId.

        With a saved application of another name, it asks (a button) before creating a second one."""
        def create(new: bool) -> Any:
            return self.setup.create_application(
                name=name, callback_url=callback_url, new=new, inbound_callback_url=inbound_callback_url,
                outbound_callback_url=outbound_callback_url, callback_types=callback_types)

        other = self._another("application", new, name=name, inbound_callback_url=inbound_callback_url)
        if other is not None:
            said = ("name {!r}", "name") if "new_url" not in other else ("callback URL {}", "url")
            return self._ask_second("application", other, said[0].format(other[said[1]]),
                                    said[0].format(other[f"new_{said[1]}"]),
                                    lambda: self.setup.create_application(name=other["name"]),
                                    lambda: create(True))
        return self._show(lambda: create(new))

    def create_location(self, name: str = guide.LOCATION_NAME, default: bool = True,
                        new: bool = False) -> Result | None:
        """Step: create (or reuse) the location (sippeer); asks before creating a second one."""
        other = self._another("location", new, name=name)
        if other is not None:
            return self._ask_second("location", other, f"name {other['name']!r}", f"name {name!r}",
                                    lambda: self.setup.create_location(name=other["name"]),
                                    lambda: self.setup.create_location(name=name, default=default, new=True))
        return self._show(lambda: self.setup.create_location(name=name, default=default, new=new))

    def enable_sms(self, **overrides: Any) -> Result | None:
        """Step: enable SMS on the saved location."""
        return self._show(lambda: self.setup.enable_sms(**overrides), setting="Enabling SMS on the saved location")

    def enable_mms(self, **overrides: Any) -> Result | None:
        """Step: enable MMS on the saved location."""
        return self._show(lambda: self.setup.enable_mms(**overrides), setting="Enabling MMS on the saved location")

    def assign_application(self) -> Result | None:
        """Step: assign the saved application to the saved location."""
        return self._show(lambda: self.setup.assign_application(),
                          setting="Assigning the saved application to the saved location")

    def search_numbers(self, **criteria: Any) -> Result | None:
        """Search available numbers (nothing is saved); an empty result is an amber warning before any order."""
        result = self._show(lambda: self.setup.search_numbers(**criteria))
        if result is not None and not result.numbers:
            shown = ", ".join(f"{k}={v}" for k, v in criteria.items() if k != "quantity")
            show.show_callout("warn", "No numbers found", f"<div>Nothing is available for "
                                 f"<code>{html.escape(shown)}</code>: an order with these criteria will fail (5018)."
                                 " Choose another value in the form above before you order.</div>")
        return result

    def order_numbers(self, quantity: int = 1, new: bool = False, **criteria: Any) -> Result | None:
        """Step: order numbers onto the saved location; asks before placing a second order."""
        other = self._another("orders", new, quantity=quantity, **criteria)
        if other is not None:
            def _fmt(c: Any) -> str:
                return ", ".join(f"{k}={v}" for k, v in (c or {}).items())
            return self._ask_second("order", other, _fmt(other.get("criteria")), _fmt(other.get("new_criteria")),
                                    lambda: self.setup.get_order(other["id"]),
                                    lambda: self.setup.order_numbers(quantity=quantity, new=True, **criteria),
                                    order=NUMBER_ORDER)
        return self._show(lambda: self.setup.order_numbers(quantity=quantity, new=new, **criteria), order=NUMBER_ORDER)

    def wait_for_order(self, timeout: float = 60.0) -> Result | None:
        """Step: wait for the last order's final status, with progress in words; saves its numbers."""
        waiting = progress.Waiting("the order to settle", timeout, resume="run this cell again: the order is saved, "
                                   "the wait picks it up and no second order is placed")

        def _poll(result: Result, elapsed: float) -> None:
            waiting.update(f"order {str(result.id)[:8]}… is {result.status}")

        with waiting:
            try:
                return self._show(lambda: self.setup.wait_for_order(timeout=timeout, progress=False, on_poll=_poll),
                                  order=NUMBER_ORDER, saved=_numbers)
            finally:
                waiting.finish()

    def register_a2p(self, campaign_id: str | None = None, timeout: float = 60.0, new: bool = False) -> Result | None:
        """Step: assign the saved numbers to a REGISTERED 10DLC campaign (a TN Option Order, polled)."""
        def _placed(placed: Result) -> None:  # the TN Option Order itself (XML body), then the final status
            if placed.exchange is not None:
                show.show_request(placed.exchange)

        waiting = progress.Waiting("the TN Option Order to finish", timeout, resume="run this cell again (what was saved "
                                   "stays)")

        def _poll(result: Result, elapsed: float) -> None:
            waiting.update(f"order {str(result.id)[:8]}… is {result.status}")

        with waiting:
            try:
                return self._show(lambda: self.setup.register_a2p(campaign_id=campaign_id, timeout=timeout, new=new,
                                                                  on_placed=_placed, progress=False, on_poll=_poll),
                                  order=TN_OPTION_ORDER)
            finally:
                waiting.finish()

    def send_message(self, to: Any, text: str | None, from_: str | None = None, save: bool = True) -> Result | None:
        """Step: send a message from the first saved number (on a real account: a real, billed text each run)."""
        self._last_refusal = None
        if self.config is not None and not self.config.is_sandbox and self.ready:
            show.show_note("This is your <b>real</b> account: each run of this cell (and each Run All of this "
                           "notebook) sends another real text message, billed as usual.", "info")
        result = self._show(lambda: self.setup.send_message(self._billed_to(to), text, from_=from_, save=save))
        self._nothing_sent = None if result is not None else nothing_sent_because(self._last_refusal)
        return result

    def _billed_to(self, to: Any) -> Any:
        """``to``, checked for a real (billed) account before any request: a fictional 555-01xx destination (the
        sandbox's default) is refused with a ValidationError naming the field and the fix."""
        if self.config is None or self.config.is_sandbox:
            return to
        from .exceptions import ValidationError
        from .phone import fictional, real_destination_problem

        for number in (to if isinstance(to, (list, tuple)) else [to]):
            if fictional(number):
                raise ValidationError(f"to: {real_destination_problem(number)}. Fix: type your own mobile number in "
                                      "the form's to field above and re-run the cell", field="to")
        return to

    def _another(self, key: str, new: bool, **inputs: Any) -> dict[str, Any] | None:
        if new or self.setup is None or self.missing:
            return None
        try:
            return self.setup.would_create_another(key, **inputs)
        except BandwidthError:
            return None

    def _ask_second(self, what: str, other: dict[str, Any], saved_desc: str, new_desc: str,
                    keep: Callable[[], Result], create: Callable[[], Result],
                    order: OrderKind | None = None) -> Result | None:
        """A saved object differs from the form: keep (and show) it, and offer a button that creates the second."""
        import ipywidgets as w

        article = "an" if what[0] in "aeiou" else "a"
        button = w.Button(description=f"Create a second {what}", button_style="warning", icon="plus",
                          layout=w.Layout(width="auto"))
        button.add_class("bw-create-second")
        out = w.Output()

        def _click(_: Any) -> None:
            button.disabled = True
            with out:
                self._show(create, order=order)

        button.on_click(_click)
        show.show_callout(
            "warn", f"You already have {article} {what} ({other['id']})",
            f"<div>The saved {what} has {html.escape(saved_desc)}; the form now says {html.escape(new_desc)}. "
            f"Running this cell again does <b>not</b> create a second {what}: the saved one is kept and shown below. "
            f"A second one would be a new object on the server (teardown removes only the saved one). "
            f"Press the button to create it anyway, or change the form back.</div>")
        emit(w.VBox([button, out], layout=w.Layout(align_items="flex-start")))
        self._quiet_reuse = True
        try:
            return self._show(keep, order=order)
        finally:
            self._quiet_reuse = False

    def _show(self, call: Callable[[], Result], show_request: bool = True, *, order: OrderKind | None = None,
              saved: Callable[[Result], Any] = lambda r: r.id, setting: str = "",
              saves: str | None = None) -> Result | None:
        """Run ``call``; show the request, the response table and the saved ID.

        ``order`` says how an order's outcome is counted and named (numbers in service, or numbers on a campaign);
        ``saved`` gives the value announced as saved (``saves`` its label, default the step's); ``setting`` names what a step turns on (SMS, MMS, the
        assignment), so its reuse notice says it is already on instead of offering a second one.
        Errors are shown as Bandwidth's code, description and fix, and return None: saved state
        is never touched by a failure.
        """
        if not self.check():
            return None
        try:
            try:
                result = call()
            except TransportError:
                # the embedded sandbox lived in another kernel that has stopped: start it here, same db, retry
                if not self._revive_sandbox():
                    raise
                result = call()
        except BandwidthError as exc:
            self._last_refusal = exc
            self._outcome("failed", f"{type(exc).__name__}: {exc.description or exc}")
            show.show_error(exc)
            self.refresh()
            return None
        if result is None:
            return None
        if getattr(result, "reused", False) and not getattr(self, "_quiet_reuse", False):
            if setting:
                show.show_callout("info", f"{setting} is already done",
                                  f"<div>{html.escape(setting)} was already done for this target (checked against "
                                  "the server): nothing was changed.</div>")
            else:
                how = self.info.another
                show.show_callout("info", "Reusing the saved object",
                                  f"<div>Already done for this target: <code>{html.escape(str(result.id))}</code> "
                                  "(checked against the server) is reused, nothing new was created."
                                  + (f" To create a second one, {how}: it asks before creating it." if how else "")
                                  + "</div>")
        if show_request and getattr(result, "exchange", None) is not None:
            show.show_request(result.exchange)
        outcome = self._order_outcome(result, order) if order is not None else None
        show.show_response(result)
        if outcome == "failed":
            self._outcome("failed", f"order {result.id} FAILED")
        elif outcome == "partial":
            self._outcome("partial", f"order {result.id} is {result.status}: only part of it was filled")
        else:
            self._outcome("done", "")
        label = self.info.saves if saves is None else saves
        if label and outcome != "failed":
            show.show_saved(label, saved(result))
        self.refresh()
        return result

    def _order_outcome(self, result: Result, kind: OrderKind) -> str | None:
        """An order's outcome, shown above its response: a coloured bar, and a red (FAILED) or amber (PARTIAL,
        BACKORDERED) callout with each error's code, meaning and fix. Returns failed/partial/ok/None."""
        status = getattr(result, "status", None)
        if status not in statuses.FINAL:
            return None
        data = result.data if isinstance(result.data, dict) else {}
        completed, failed = kind.count(result, data)
        show.show_html(show.order_bar_html(status, completed, failed, (completed + failed) or None, noun=kind.noun))
        if status == statuses.COMPLETE:
            return "ok"
        from .codes import fix_for

        items = []
        for err in data.get("Errors") or []:
            code, _, desc = str(err).partition(": ")
            fix = fix_for(code, None)
            items.append(f"<li><b>{html.escape(code)}</b> {html.escape(desc)}"
                         + (f"<br><b>How to fix:</b> {html.escape(fix)}" if fix else "") + "</li>")
        errors = f"<ul>{''.join(items)}</ul>" if items else ""
        if status == statuses.FAILED:
            show.show_callout("error", f"Order {result.id} FAILED: no number was allocated",
                                 f"{errors}<div>Nothing was saved as a phone number. Place a new order with other "
                                 f"criteria in notebook {_link(steps.page('orders'))}.</div>")
            return "failed"
        got = ", ".join(result.numbers) or "none yet"
        show.show_callout("warn", f"Order {result.id} is {status}: only part of it was filled",
                             f"{errors}<div>In service: {html.escape(got)}. Only these numbers are saved.</div>")
        return "partial"

    def _revive_sandbox(self) -> bool:
        """Restart the shared sandbox in this kernel when it was the default one and is gone."""
        from .connection import revive_sandbox

        if not revive_sandbox(self.config):
            return False
        show.show_note("The sandbox had stopped (its kernel was shut down); it is running again in this kernel, "
                          "with the same saved state.", "info")
        return True

    def target_table(self, config: Any = None) -> Any:
        """The target in use (secrets masked) as a field/value table; ``config`` defaults to this page's."""
        config = config if config is not None else self.config
        view = show.LiveObjectView(self._target_fields(config))
        if config is None:  # nothing to list yet: say what fills the table
            view.note = views.callout("info", "No target yet", "<div>Connect with the form above: this table then "
                                      "shows the target every notebook uses (secrets masked).</div>")
        self._target_view = view  # a later Connect redraws it in place (pages/forms.py)
        return view

    def _target_fields(self, config: Any) -> dict[str, Any]:
        """The target's fields as the target table shows them (secrets masked)."""
        if config is None:
            return {}
        m = config.masked()
        keys = ["target", "auth_method", "account_id", "site_id"]
        keys += ["client_id", "client_secret", "token_url"] if m.get("auth_method") == "oauth" else ["username",
                                                                                                   "password"]
        keys += ["dashboard_url", "messaging_url", "platform_url"]
        if m.get("legacy_messaging"):
            keys += ["user_id", "api_token", "api_secret"]
        keys += ["sandbox_url", "profile"]
        shown = {k: m[k] for k in keys if m.get(k) not in (None, "")}
        shown["values from"] = "the local sandbox (its demo account)" if config.is_sandbox else m.get("source")
        return shown

    # -- summary -----------------------------------------------------------------------------------
    def verdict(self) -> tuple[str, str, str]:
        """What this notebook achieved, computed from what happened: (``done`` / ``partial`` / ``failed`` /
        ``not run``, what, the next step in words — trusted HTML)."""
        again = "fix the problem the box above names, then re-run this notebook (Run All)"
        nxt = steps.PAGES[self.step + 1] if self.step + 1 < len(steps.PAGES) else None
        onward = (f"continue with {_link(nxt)} ({html.escape(nxt.heading[:1].lower() + nxt.heading[1:])}), and "
                  f"close this one first ({CLOSE_NOTEBOOK}): each open notebook keeps its own kernel, and its memory"
                  if nxt is not None else "you are at the end of the walkthrough")
        failures = [t for k, t in self.outcomes if k == "failed"]
        here = ("fix it in the form above and press Connect (or choose Sandbox there to use the local sandbox)"
                if self.info.key == "start" else None)
        if self.setup is None:
            return "failed", failures[-1] if failures else "not connected", here or (
                f"open {_link(steps.page('start'))}, fix the credentials (or unset the BW_* variables to use the "
                "sandbox), then re-run this notebook")
        if self._torn_down is not None:  # what the account holds now, not what the page did before the button
            return "done", self._torn_down, (
                "nothing the walkthrough created is left and nothing is saved: every step is pending. To start "
                f"again, run {_link(steps.by_number(1))}")
        if self.missing:
            todo = [steps.by_number(n) for n in self._todo()]
            names = ", ".join(f"{p.number} ({p.title.lower()})" for p in todo)
            return "not run", f"step{'s' * (len(todo) > 1)} {names} not done yet", (
                f"{_run_first([p.number for p in todo])}, then re-run this notebook")
        if self.outcomes and self.outcomes[-1][0] == "form":  # the form stopped the step: the same words as its note
            kept = ("; what this step saved before is kept (the table below)" if self.info.guide and
                    progress.statuses(self.setup).get(self.step) == "done" else "")
            return "not run", f"nothing was sent or saved: the form has a problem ({self.outcomes[-1][1]}){kept}", (
                "fix it in the form above, then re-run this notebook (Run All)")
        if self.info.guide:
            status = progress.statuses(self.setup).get(self.step, "pending")
            partials = [t for k, t in self.outcomes if k == "partial"]
            if status == "done" and not failures:
                if self._caveat is not None:  # done, under a warning this page showed: not a plain green Done
                    return "partial", self._caveat[0], self._caveat[1]
                return "done", self.info.heading, onward
            if status == "done":
                return "partial", f"{self.info.title} was done before, but this run failed: {failures[-1]}", again
            if status == "partial" or partials:
                return "partial", partials[-1] if partials else f"{self.info.title}: only partly done", (
                    f"the numbers in service are saved; for more, place another order in "
                    f"{_link(steps.page('orders'))}, or {onward}")
            if status == "failed" or failures:
                return "failed", failures[-1] if failures else f"{self.info.title} failed", again
            return "not run", f"{self.info.title} has not run yet", "run the cells above (Run All)"
        if failures:
            return "failed", failures[-1], here or again
        partials = [t for k, t in self.outcomes if k == "partial"]
        if partials:  # e.g. the preflight ran but found failing checks: not a green Done
            return "partial", partials[-1], self._partial_next or again
        done = [t for k, t in self.outcomes if k == "done"]
        if done:  # what the steps said they did, each once (a shown response says nothing by itself)
            said = list(dict.fromkeys(t for t in done if t))[-3:]
            return "done", "; ".join(said) or self.info.heading, onward
        return "not run", f"{self.info.title}: nothing ran yet", "run the cells above (Run All)"

    def _summary_box(self) -> str:
        kind, what, nxt = self.verdict()
        style = {"done": "ok", "partial": "warn", "failed": "error", "not run": "info"}[kind]
        if self.outcomes and self.outcomes[-1][0] == "form":  # stopped by the form: amber, as the form's note
            style = "warn"
        return views.callout(style, f"{kind.capitalize()}: {what}", f"<div><b>Next:</b> {nxt}.</div>",
                             f"bw-summary bw-summary-{kind.replace(' ', '-')}", incomplete=False)

    def _status_table(self) -> Any:
        from .tables import readable

        rows = [{"step": item["step"], "what": item["name"], "status": item["status"], "saved": item["detail"],
                 "notebook": str(item["notebook"]).removesuffix(".ipynb")} for item in self.setup.status()]
        return readable(rows, columns=["step", "what", "status", "saved", "notebook"],
                        links={"notebook": "{value}.ipynb"})

    def _summary_html(self) -> str:
        box = self._summary_box()
        if self.setup is None or self.missing:  # the verdict names the notebook to run first
            return box
        return box + self._status_table()._repr_html_()

    def summary(self) -> None:
        """What this notebook achieved (computed, with the next step), then the guide's steps with their status
        (done, partial, failed, pending), saved IDs and notebook links. Shown live: an action run after it (the
        teardown's button) re-computes it in place (:meth:`resummarize`)."""
        from IPython.display import HTML

        self._summary_live = Live()
        self._summary_live.update(HTML(self._summary_html()))

    def resummarize(self) -> None:
        """Re-compute the summary box shown above (if any) and the progress chips from what happened since."""
        self.refresh()
        live = self._summary_live
        if live is not None and live.shown:
            from IPython.display import HTML

            live.update(HTML(self._summary_html()))


