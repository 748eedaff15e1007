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
from typing import Any, Callable

import ipywidgets as w

from . import guide, statuses, steps, theme, views
from .exceptions import BandwidthError, TransportError, UnknownMessageError
from .results import Result
from .ui import display as show
from .ui import forms, progress
from .ui.credentials import CredentialsForm
from .ui.export import ExportForm
from .ui.output import emit

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


def _typename(exc: BaseException) -> str:
    return type(exc).__name__


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


def _link(p: steps.Step) -> str:
    """A link to a page's notebook (JupyterLab opens it in a tab)."""
    return f'<a href="{html.escape(p.filename)}">{html.escape(p.notebook)}</a>'


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return getattr(shell, "execution_count", None) if shell is not None else None
    except Exception:  # pragma: no cover
        return None


class Page:
    """One notebook's connection, prerequisite check and display helpers."""

    def __init__(self, page: int | str, setup: Any = None, show: bool = True):
        self.info = steps.by_number(page) if isinstance(page, int) else steps.page(page)
        self.step = self.info.number
        self.title, self.notebook = self.info.heading, self.info.notebook
        self.needs = _closure(self.info)
        self.setup = setup
        self.missing: list[int] = []
        self.error: BaseException | None = None
        if self.setup is None:
            try:
                from .connection import connect

                self.setup = connect()
            except BandwidthError as exc:
                self.error = exc
        self.progress = progress.progress_widget(self.setup, current=self._current) \
            if self.setup is not None else None
        self._warned_in: int | None = None
        self._nothing_sent: str | None = None   # why the last send/inbound of this page sent nothing
        self._last_refusal: str | None = None
        self._statuses: dict[int, str] = {}
        self.outcomes: list[tuple[str, str]] = []   # (done/partial/failed, what) of the steps run in this kernel
        self._prereq_shown = False
        if self.setup is not None:
            done = progress.done_steps(self.setup)
            self._statuses = progress.statuses(self.setup)
            self.missing = [n for n in self.needs if not done.get(n)]
        if show:
            self.header()

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
        if self.setup is None:
            exc = self.error or RuntimeError("not connected")
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
        """Say which notebooks to run first if prerequisites are missing: every missing one, in full once, then a
        one-line reminder in each later cell that skips its work. Returns ``ready``."""
        if self.setup is None:
            self._warn_once("Not connected: run <b>00_start_here</b> first.")
            return False
        if self.missing:
            first = steps.by_number(self.missing[0])
            if self._prereq_shown:
                self._warn_once(f"Skipped: a prerequisite is missing (see the top of this notebook); run "
                                f"{_link(first)} first.", short=True)
                return False
            self._prereq_shown = True
            items = []
            for number in self.missing:
                p = steps.by_number(number)
                what = "ended <b>FAILED</b>" if self._statuses.get(number) == "failed" else "has not been done"
                items.append(f"<li>step {number} ({html.escape(p.heading.lower())}) {what}: notebook {_link(p)}</li>")
            others = " (then the others listed)" if len(items) > 1 else ""
            self._warn_once(
                f"Prerequisite missing for this target:<ul>{''.join(items)}</ul><b>Run notebook {_link(first)} "
                f"first</b>{others}, then re-run this one. The cells below do nothing until then.")
            return False
        return True

    def _recommend(self) -> None:
        """Earlier guide steps this one does not strictly need but the walkthrough expects (ordering numbers onto
        a location with no SMS and no application): a quiet amber note, so nothing proceeds silently."""
        if not self.info.guide or self.setup is None:
            return
        done = progress.done_steps(self.setup)
        skipped = [p for p in steps.STEPS if p.number < self.step and p.number not in self.needs
                   and not done.get(p.number)]
        if skipped:
            names = ", ".join(f"step {p.number} ({_link(p)})" for p in skipped)
            show.show_note(f"Not done yet for this target: {names}. This step works without them, but the "
                           "walkthrough's message cannot be sent until they are.", "warn")

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
        """Remember what a step of this page did in this kernel (the summary is computed from it)."""
        self.outcomes.append((kind, text))

    def refresh(self) -> None:
        if self.progress is not None and self.setup is not None:
            progress.refresh_progress(self.progress, self.setup, self._current)

    # -- running a step ----------------------------------------------------------------------------
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

        other = self._another("application", new, name=name)
        if other is not None:
            return self._ask_second("application", other, f"name {other['name']!r}", f"name {name!r}",
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
        waiting = progress.Waiting("the order to settle", timeout)

        def _poll(result: Result, elapsed: float) -> None:
            waiting.update(f"order {str(result.id)[:8]}… is {result.status}")

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

        waiting = progress.Waiting("the TN Option Order to finish", timeout)

        def _poll(result: Result, elapsed: float) -> None:
            waiting.update(f"order {str(result.id)[:8]}… is {result.status}")

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
        result = self._show(lambda: self.setup.send_message(to, text, from_=from_, save=save))
        self._nothing_sent = None if result is not None else (
            f"the send was refused before the request ({self._last_refusal})" if self._last_refusal
            else "the send did not run (a prerequisite is missing, see above)")
        return result

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
            self._last_refusal = f"{type(exc).__name__}: {exc.description or exc}"
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
                show.show_callout("warn", "Reusing the saved object",
                                  f"<div>Already done for this target: <code>{html.escape(str(result.id))}</code> "
                                  "(checked against the server) is reused, nothing new was created. Pass "
                                  "<code>new=True</code> to create another.</div>")
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

    # -- tables (errors shown, never raised) ------------------------------------------------------------
    def _table(self, call: Callable[[], Any]) -> Any:
        if self.setup is None:
            return self.check()
        if self.missing:  # the header already said which notebook to run first
            return None
        try:
            return call()
        except BandwidthError as exc:
            self._outcome("failed", f"{type(exc).__name__}: {exc.description or exc}")
            show.show_error(exc)
            return None

    def applications(self) -> Any:
        """The account's applications as a table."""
        from .tables import applications_frame, readable

        return self._table(lambda: readable(applications_frame(self.setup.dashboard.list_applications()),
                                            ["ApplicationId", "AppName", "ServiceType", "InboundCallbackUrl",
                                             "MsgCallbackUrl", "CallbackUrl"]))

    def locations(self) -> Any:
        """The site's locations with their SMS/MMS/application status as a table."""
        from .tables import locations_frame, readable

        return self._table(lambda: readable(locations_frame(self.setup.locations())))

    def numbers(self) -> Any:
        """The saved phone numbers as a table."""
        from .tables import numbers_frame, readable

        return self._table(lambda: readable(numbers_frame(self.setup.current.numbers),
                                            empty="(no numbers saved)"))

    def campaigns(self) -> Any:
        """The account's 10DLC campaigns as a table (only REGISTERED ones can take numbers)."""
        from .tables import campaigns_frame, readable

        return self._table(lambda: readable(campaigns_frame(self.setup.list_campaigns()), empty="(no campaigns)"))

    def registration(self, number: str | None = None) -> Any:
        """The sending number's A2P status (10DLC registration or toll-free verification) as a one-row table."""
        from .tables import readable, result_frame

        return self._table(lambda: readable(result_frame(self.setup.registration(number))))

    def diagnose(self) -> Any:
        """Preflight checks with their fixes, as a table."""
        from .tables import diagnose_frame, readable

        def _run() -> Any:
            df = diagnose_frame(self.setup.diagnose())
            self._outcome("done", f"the preflight ran ({int((~df['ok'].astype(bool)).sum())} check(s) failing)")
            return readable(df, ["check", "ok", "finding"], detail=["fix"])

        return self._table(_run)

    def teardown(self) -> Any:
        """Undo everything saved (in the service's order), as a table of what was done."""
        from .tables import readable, teardown_frame

        def _run() -> Any:
            df = teardown_frame(self.setup.teardown())
            self._outcome("done", "the teardown ran")
            return readable(df)

        return self._table(_run)

    # -- forms -------------------------------------------------------------------------------------
    def credentials_form(self) -> CredentialsForm:
        def _use(config: Any) -> None:
            from .setup import Setup

            self.setup = Setup(config)
            self.missing = []
            self.outcomes = [o for o in self.outcomes if o[0] != "failed"]
            where = "the local sandbox" if config.is_sandbox else f"account {config.account_id}"
            self._outcome("done", f"connected to {where}")
            self.refresh()

        def _failed(text: str) -> None:
            self._outcome("failed", text)

        return CredentialsForm(on_connect=_use, on_error=_failed)

    def application_form(self) -> forms.Form:
        """The application step's form. On a real account it proposes the callback receiver's URLs from BW_CALLBACK_BASE_URL
        (and says the receiver's credentials will be set); with none it says exactly what to set, and why."""
        form = self._persist("application", forms.application_form())
        if self.setup is None or self.setup.config.is_sandbox:
            return form
        from .exceptions import ValidationError
        from .flows.delivery import application_callbacks

        try:
            proposed = application_callbacks(self.setup)
        except ValidationError as exc:
            show.show_error(exc)
            return form
        if proposed is None:
            self._callback_note()
            return form
        for name in ("inbound", "outbound"):
            widget = form.fields[f"{name}_callback_url"]
            if not widget.value:
                widget.value = proposed[name]
        from .receiver.credentials import credentials_path

        show.show_callout(
            "info", "Callback URLs from BW_CALLBACK_BASE_URL",
            f"<div>The form proposes the callback receiver's URLs under <code>{html.escape(proposed['base'].url)}"
            "</code>. With them, bwhelpers also sets the receiver's callback credentials on the application "
            f"(generated once, kept in <code>{html.escape(str(credentials_path()))}</code>, mode 0600, never "
            "shown): Bandwidth sends them after the receiver's 401 challenge, and the receiver stores only "
            "callbacks that carry them.</div>"
            + (f"<div><b>Warning:</b> {html.escape(proposed['warning'])}</div>" if proposed["warning"] else ""))
        return form

    def _callback_note(self) -> None:
        """Real account, no BW_CALLBACK_BASE_URL: what to set and why (the create cell then fails, naming 01)."""
        show.show_callout(
            "warn", "Set BW_CALLBACK_BASE_URL before creating the application",
            "<div>A real account requires the application's <code>InboundCallbackUrl</code>: Bandwidth POSTs "
            "incoming texts and delivery receipts there, from the internet. Start the callback receiver and a "
            "public URL for it (README, <i>Using a real Bandwidth account</i>: a cloudflared quick tunnel, ngrok, "
            "or your own server), then set <code>BW_CALLBACK_BASE_URL</code> to that URL (e.g. "
            "<code>https://abc123.trycloudflare.com</code>), restart the kernel and run this notebook again. "
            "Or type your own server's https URLs in the form. Without any, the create cell below stops here.</div>")

    def export_form(self, out_dir: str | None = None) -> ExportForm:
        """The Postman export form for this page's target and saved IDs."""
        form = ExportForm(self.setup, out_dir)
        form.on_export = lambda files: self._outcome("done", "the Postman files are written")
        return form

    def location_form(self) -> forms.Form:
        return self._persist("location", forms.location_form())

    def order_form(self) -> forms.Form:
        return self._persist("orders", forms.order_form())

    def message_form(self) -> forms.Form:
        return self._persist("messages", forms.message_form())

    def _persist(self, key: str, form: forms.Form) -> forms.Form:
        """The form starts from the values the user last typed for this target (kept in the saved state, never a
        secret), and keeps them as they change: Run All and kernel restarts do not reset it."""
        if self.setup is None:
            return form
        setup = self.setup
        saved = setup.current.forms.get(key)

        def _save(values: dict[str, Any]) -> None:
            from .exceptions import StateFileError

            try:
                with setup.state.edit(setup.profile) as st:
                    st.forms[key] = values
            except (StateFileError, OSError, TypeError, ValueError):
                pass  # keeping the form's values is a convenience: never fail the cell for it

        return form.bind(saved, _save)

    def form_errors(self, form: forms.Form) -> bool:
        """Show the form's validation problems; True when there are some (then don't send)."""
        errs = form.errors
        if errs:  # a wait in a later cell then says nothing was sent, at once
            self._nothing_sent = "the form has a problem (" + "; ".join(f"{n}: {m}" for n, m in errs.items()) + ")"
        for name, problem in errs.items():
            show.show_note(f"<b>{html.escape(name)}</b>: {html.escape(problem)} — fix it in the form above "
                           "and re-run this cell.", "warn", incomplete=True)
        return bool(errs)

    # -- sandbox-only simulations (notebook 10) ------------------------------------------------------
    def _control(self) -> Any:
        """The sandbox's control-plane client, or None (with a note) on a real account."""
        control = self.setup.control if self.setup is not None else None
        if control is None:
            show.show_note("This simulation needs the sandbox: on a real account, text your Bandwidth number "
                              "from a phone instead.", "info")
        return control

    def simulate_inbound(self, text: str = guide.REPLY_TEXT, from_: str = guide.SANDBOX_PHONE) -> Any:
        """Sandbox: pretend ``from_`` texted your first number; a message-received event follows."""
        if not self.check():
            return None
        number = self.setup.current.sending_number
        if not number:
            show.show_note(f"No number saved: run notebook {steps.page('numbers').notebook} first.", "warn",
                           incomplete=True)
            return None
        control = self._control()
        if control is None:
            return None
        self._nothing_sent = "the simulated text was not sent"
        try:
            result = control.inbound(number, from_, text)
        except BandwidthError as exc:
            self._nothing_sent = f"the simulated text was refused ({exc.description or exc})"
            show.show_error(exc)
            return None
        self._nothing_sent = None
        if isinstance(result.get("message"), dict):
            result.setdefault("id", result["message"].get("id"))  # so wait_for_event(message_id=...) finds it
        return result

    def phone_link(self, ttl: int = 3600) -> None:
        """Sandbox: show a link to the phone page of your saved number (its conversations, delivery ticks, pictures
        and a reply box that texts it as the other person), valid ``ttl`` seconds (``SandboxControl.phone_link``
        gives the URL itself)."""
        if not self.check():
            return None
        control = self._control()
        if control is None:
            return None
        number = self.setup.current.sending_number
        try:
            doc = control.phone_link(ttl=ttl, number=number)
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        url = str(doc["url"])
        what = f"the phone of {html.escape(number)}" if number else "your sandbox phone"
        show.show_callout("info", "Your sandbox phone",
                             f'<div><a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">Open '
                             f"{what}</a> in a new tab: conversations grouped by the other number, pictures, "
                             "delivery ticks from the callback events, and a reply box that texts your number as the "
                             "other person. "
                             f"The link works until {html.escape(str(doc.get('expiresAt') or ''))}; run this cell "
                             "again for a fresh one.</div>")
        return None

    def send_failing(self, code: int = 4720, text: str = "This one will fail") -> Any:
        """Sandbox: send to the magic number that fails with ``code`` (from GET /_sandbox/magic-numbers)."""
        if not self.check():
            return None
        control = self._control()
        if control is None:
            return None
        try:
            number = control.failing_number(code)
            if number is None:
                show.show_note(f"No magic number fails with {code}; choose one of {control.failure_codes()}.",
                               "warn", incomplete=True)
                return None
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        # not saved as step 9's message: notebook 10 waits for this one by its id
        return self.send_message(to=number, text=text, save=False)

    def wait_for_event(self, type: str, message_id: str | None = None, timeout: float = 30.0) -> Any:
        """Wait for a callback event, with progress in words, and show it as a table.

        Returns at once, saying why, when the send this page just tried sent nothing; a timeout names the
        likely cause judged from the state (sent? assigned? callback URL answering?)."""
        if not self.check():
            return None
        if message_id is None and self._nothing_sent:
            self._outcome("failed", f"nothing was sent: {self._nothing_sent}")
            show.show_callout("warn", f"Not waiting for {type}: nothing was sent",
                              f"<div>{html.escape(self._nothing_sent)}: nothing was sent, so no event can "
                              "arrive. Fix the input named above, then re-run the send cell and this one.</div>",
                              incomplete=True)
            return None
        if self.setup.control is None:
            return self._real_outcome(type, message_id, timeout)
        last = self.setup.current.last_message
        target = message_id or (last.id if last is not None else None)
        what = f"{type} for message {str(target)[:12]}…" if target else type
        waiting = progress.Waiting(what, timeout)
        try:
            event = self.setup.wait_for_event(type=type, message_id=message_id, timeout=timeout,
                                              on_poll=lambda elapsed: waiting.update(),
                                              accept_failure=type == "message-delivered")
        except UnknownMessageError as exc:
            waiting.finish()
            self._outcome("failed", f"no such message: {exc.description}")
            show.show_callout("error", f"Not waiting for {type}: the sandbox has no such message",
                              f"<div>{html.escape(exc.description or str(exc))}</div>"
                              f"<div><b>How to fix:</b> {html.escape(exc.fix or '')}</div>")
            return None
        except TimeoutError as exc:
            waiting.finish()
            self._outcome("failed", f"no {type} within {timeout:g} s")
            show.show_callout("error", f"No {type} within {timeout:g} s",
                                 f"<div><b>Likely cause:</b> {html.escape(getattr(exc, 'description', '') or str(exc))}"
                                 f"</div><div><b>How to fix:</b> {html.escape(getattr(exc, 'fix', '') or '')}</div>")
            return None
        except BandwidthError as exc:
            waiting.finish()
            self._outcome("failed", f"{_typename(exc)}: {getattr(exc, 'description', '') or exc}")
            show.show_error(exc)
            return None
        waiting.finish()
        from .tables import events_frame

        if event.get("type") != type:  # message-failed instead of the delivery receipt: say why, and the fix
            from .codes import explain

            info = explain(event.get("errorCode"))
            show.show_callout(
                "error", f"message-failed {info['code']} ({info['name'] or event.get('description') or ''})",
                f"<div>{html.escape(info['meaning'])}</div><div><b>How to fix:</b> {html.escape(info['fix'])}</div>")
            return explain_events(events_frame([event]))
        kind = "ok" if type != "message-failed" else "info"
        self._outcome("done", f"received {type}")
        show.show_callout(kind, f"Received {type}", "<div>at the application's callback URL.</div>")
        return explain_events(events_frame([event]))

    # -- a real account: polled status and the receiver's events ------------------------------------------------
    def _real_outcome(self, type: str, message_id: str | None, timeout: float) -> Any:
        """A real account: the message's status by polling listMessages and the callback the receiver stored for
        it, in one callout (meaning and fix); message-received is looked up once, never waited for."""
        from .flows.delivery import receiver

        if type == "message-received":
            return self._received()
        if type == "message-failed" and message_id is None:
            show.show_callout("info", "No deliberate failure on a real account",
                                 "<div>The failing magic numbers exist only in the sandbox. On a real account a "
                                 "<code>message-failed</code> arrives when a send fails; the table of events below "
                                 "explains its <code>errorCode</code>.</div>")
            return None
        last = self.setup.current.last_message
        target = message_id or (last.id if last is not None else None)
        if not target:
            p = steps.page("messages")
            show.show_callout("warn", "No message sent yet",
                                 f"<div>Send one in notebook {_link(p)} first.</div>")
            return None
        waiting = progress.Waiting(f"the outcome of message {str(target)[:12]}…", timeout)
        try:
            outcome = self.setup.delivery_status(target, timeout=timeout, on_poll=lambda words, _: waiting.update(words))
        except BandwidthError as exc:
            waiting.finish()
            show.show_error(exc)
            return None
        waiting.finish()
        client = receiver(self.setup)
        events: list[dict[str, Any]] = []
        if client is not None:
            from .polling import poll

            def stored() -> list[dict[str, Any]]:
                try:
                    return [e for e in client.events(message_id=str(target)) if e.get("type") != "message-sending"]
                except BandwidthError:
                    return []

            # the receipt reaches the receiver about when the status turns final
            events, _ = poll(stored, bool, timeout=5.0 if outcome.final else 0.0, interval=0.25)
        self._outcome_callout(outcome, events, client is not None, timeout)
        from .tables import events_frame, readable

        if events:
            return explain_events(events_frame(events), one_message=True)  # its id is in the box above
        return readable(outcome.records(), ["to", "status", "code", "name"], detail=["meaning", "fix"],
                        empty="(the message is not listed yet)")

    def _outcome_callout(self, outcome: Any, events: list[dict[str, Any]], has_receiver: bool,
                         timeout: float) -> None:
        esc = html.escape
        lines = []
        for r in outcome.records():
            code = f" {r['code']} {r['name']}" if r["code"] else ""
            fix = f" <b>How to fix:</b> {esc(r['fix'])}" if r["fix"] and r["status"] != "DELIVERED" else ""
            lines.append(f"<li><code>{esc(r['to'])}</code>: <b>{esc(r['status'])}{esc(code)}</b> — "
                         f"{esc(r['meaning'])}{fix}</li>")
        body = f"<ul>{''.join(lines)}</ul>" if lines else ""
        body += (f"<div>From <code>GET /users/{{accountId}}/messages?messageId={esc(outcome.message_id)}</code> "
                 f"({outcome.polls} poll{'s' if outcome.polls != 1 else ''}, {outcome.seconds:.0f} s"
                 + (f", waited {sum(outcome.rate_limit_waits):g} s for 429 Retry-After" if outcome.rate_limit_waits
                    else "") + ").</div>")
        if events:
            got = ", ".join(f"{e.get('type')} at {e.get('_received_at')}" for e in events)
            body += f"<div><b>Callback:</b> the receiver stored {esc(got)}.</div>"
        elif has_receiver:
            body += ("<div><b>Callback:</b> the receiver has stored none for this message yet. Bandwidth retries a "
                     "callback it could not deliver; if none arrives, run the checks in notebook "
                     f"{_link(steps.page('teardown'))} (does the public URL reach the receiver?).</div>")
        else:
            body += ("<div><b>Callback:</b> no callback receiver runs here (BW_CALLBACK_BASE_URL is not set), so the "
                     "status above comes from polling alone; the receipt went to the application's own URL.</div>")
        if outcome.error is not None:
            kind, title = "error", f"The status could not be read: {outcome.error.description or outcome.error}"
            body += f"<div><b>How to fix:</b> {esc(outcome.error.fix or 'check the credentials and the URL')}</div>"
        elif outcome.rate_limited is not None:
            kind, title = "warn", f"Rate limited: the Messaging API asks to wait {outcome.rate_limited:g} s"
            body += "<div>Run this cell again after that; the status is kept by Bandwidth.</div>"
        elif outcome.delivered:
            kind, title = "ok", "DELIVERED"
        elif outcome.final:
            kind, title = "error", f"{outcome.status}: the message did not reach the phone"
        elif not outcome.recipients:
            kind, title = "warn", f"The message is not listed after {timeout:g} s"
            body += "<div>listMessages can lag behind a send; run this cell again in a minute.</div>"
        else:
            kind, title = "warn", f"Still {outcome.status} after {timeout:g} s"
            body += "<div>Run this cell again later; some carriers never send a delivery receipt.</div>"
        # anything but DELIVERED is a step that did not reach its goal: a headless run stops here, naming it
        show.show_callout(kind, title, body, incomplete=kind != "ok")

    def _received(self) -> Any:
        """message-received on a real account: the receiver's, if any; how to produce one (never a wait)."""
        from .flows.delivery import receiver

        number = self.setup.current.sending_number
        yours = f"<code>{html.escape(number)}</code>" if number else "your Bandwidth number"
        client = receiver(self.setup)
        got = []
        if client is not None:
            try:
                got = [e for e in client.events() if e.get("type") == "message-received"]
            except BandwidthError as exc:
                show.show_error(exc)
                return None
        if got:
            show.show_callout("ok", f"Received {len(got)} incoming message(s)",
                                 "<div>The receiver stored these <code>message-received</code> events (newest "
                                 "last).</div>")
            from .tables import events_frame

            return explain_events(events_frame(got), text=True)
        where = ("the callback receiver stores it and this cell shows it" if client is not None else
                 "it goes to the application's inbound URL (set BW_CALLBACK_BASE_URL to have the receiver keep it "
                 "for this notebook)")
        show.show_callout("info", "Text your number to see a message-received",
                             f"<div>From your own phone, send a text to {yours}. Bandwidth POSTs a "
                             f"<code>message-received</code> to the application's inbound URL: {where}. Then run "
                             "this cell again. (Nothing is waited for here.)</div>")
        return None

    def events(self) -> Any:
        """The callback events received so far, with failed ones' error codes explained (a real account: the
        receiver's events, with each text and sender)."""
        if self.setup is None:
            return self.check()
        from .tables import events_frame

        if self.setup.control is None:
            from .flows.delivery import receiver

            client = receiver(self.setup)
            if client is None:
                show.show_callout(
                    "info", "No callback receiver runs here",
                    "<div>On a real account Bandwidth POSTs events to the application's callback URLs. To see them "
                    "here, run the callback receiver behind a public URL and set <code>BW_CALLBACK_BASE_URL</code> "
                    "(README, <i>Using a real Bandwidth account</i>). Meanwhile, the message's status is read by "
                    f"polling (notebook {_link(steps.page('messages'))}).</div>")
                return explain_events(events_frame([]), text=True)
            try:
                return explain_events(events_frame(client.events()), text=True)
            except BandwidthError as exc:
                show.show_error(exc)
                return None

        try:
            events = self.setup.events()
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        return explain_events(events_frame(events))

    # -- pictures (MMS) -------------------------------------------------------------------------------------------
    def upload_picture(self, path: Any = None) -> Result | None:
        """Upload a picture with the Media API (default the small one that ships with the project) and show it."""
        result = self._show(lambda: self.setup.upload_media(path))
        if result is not None:
            try:
                shown = self.setup.get_media(str(result.id))  # read back from the service: what it stores
            except BandwidthError as exc:
                show.show_error(exc)
                return result
            _show_pictures([shown], "Stored on the Media API (read back with GET)")
        return result

    def send_picture(self, to: Any = None, text: str | None = "A picture from the walkthrough") -> Result | None:
        """Send the uploaded picture as an MMS (``to`` defaults to the recipient of the text message)."""
        if to is None and self.setup is not None:
            last = self.setup.current.last_message
            to = last.to if last is not None else None
        self._last_refusal = None
        result = self._show(lambda: self.setup.send_picture(to, text=text), saves="message id")
        self._nothing_sent = None if result is not None else (
            f"the send was refused before the request ({self._last_refusal})" if self._last_refusal
            else "the send did not run (a prerequisite is missing, see above)")
        return result

    def picture_reply(self, sample: str = "sunset", timeout: float = 30.0) -> Any:
        """Sandbox: someone texts a picture back (a built-in ``sample``); wait for its message-received. A real
        account: how to get one (a friend texts a picture to your number)."""
        if not self.check():
            return None
        if self.setup.control is None:
            return self._received()
        try:
            result = self.setup.simulate_picture_reply(sample)
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        message = result.get("message") if isinstance(result.get("message"), dict) else {}
        return self.wait_for_event("message-received", message_id=message.get("id"), timeout=timeout)

    def show_received_pictures(self) -> list[Any]:
        """Download the pictures of the latest incoming picture message (credentials only to Bandwidth's messaging
        host, no redirects) and show them inline."""
        if not self.check():
            return []
        try:
            pictures = self.setup.received_pictures()
        except BandwidthError as exc:
            show.show_error(exc)
            return []
        if not pictures:
            show.show_callout("info", "No picture has arrived yet",
                                 "<div>When someone sends a picture to your number, the <code>message-received</code> "
                                 "event lists its URLs in <code>message.media</code>; run this cell again then.</div>")
            return []
        _show_pictures(pictures, "Received (downloaded with the account's credentials from the media URL)")
        return pictures

    def target_table(self, config: Any = None) -> Any:
        """The target in use (secrets masked) as a field/value table; ``config`` defaults to this page's."""
        config = config if config is not None else self.config
        if config is None:
            return show.ObjectView({})
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
        return show.ObjectView(shown)

    # -- summary -----------------------------------------------------------------------------------
    def verdict(self) -> tuple[str, str, str]:
        """What this notebook achieved, computed from what happened: (``done`` / ``partial`` / ``failed`` /
        ``not run``, what, the next step in words — trusted HTML)."""
        again = "fix what the red box above names, then re-run this notebook (Run All)"
        nxt = steps.PAGES[self.step + 1] if self.step + 1 < len(steps.PAGES) else None
        onward = f"continue with {_link(nxt)}" if nxt is not None else "you are at the end of the walkthrough"
        failures = [t for k, t in self.outcomes if k == "failed"]
        if self.setup is None:
            return "failed", failures[0] if failures else "not connected", (
                f"open {_link(steps.page('start'))}, fix the credentials (or unset the BW_* variables to use the "
                "sandbox), then re-run this notebook")
        if self.missing:
            first = steps.by_number(self.missing[0])
            return "not run", f"step {first.number} ({first.title.lower()}) has not been done for this target", (
                f"Run notebook {_link(first)} first, then re-run this notebook")
        if self.info.guide:
            status = progress.statuses(self.setup).get(self.step, "pending")
            partials = [t for k, t in self.outcomes if k == "partial"]
            if status == "done" and not failures:
                return "done", f"{self.info.heading} (for this target)", onward
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
            return "failed", failures[-1], again
        done = [t for k, t in self.outcomes if k == "done"]
        if done:
            return "done", done[-1], onward
        return "not run", f"{self.info.title}: nothing ran yet", "run the cells above (Run All)"

    def summary(self) -> Any:
        """What this notebook achieved (computed, with the next step), then the guide's steps with their status
        (done, partial, failed, pending), saved IDs and notebook links."""
        kind, what, nxt = self.verdict()
        style = {"done": "ok", "partial": "warn", "failed": "error", "not run": "info"}[kind]
        show.show_html(views.callout(style, f"{kind.capitalize()}: {what}", f"<div><b>Next:</b> {nxt}.</div>",
                                     f"bw-summary bw-summary-{kind.replace(' ', '-')}", incomplete=False))
        if self.setup is None or self.missing:  # the verdict names the notebook to run first
            return None
        from .tables import readable

        rows = [{"step": item["step"], "what": item["name"], "status": item["status"], "saved": item["detail"],
                 "notebook": str(item["notebook"]).removesuffix(".ipynb")} for item in self.setup.status()]
        return readable(rows, columns=["step", "what", "status", "saved", "notebook"],
                        links={"notebook": "{value}.ipynb"})



def _show_pictures(pictures: list[Any], title: str) -> None:
    """Pictures inline (``<img>`` of a data URI, at most 320 px wide), each with its type, size and source."""
    import base64

    cells = []
    for p in pictures:
        caption = html.escape(f"{p.media_id or p.url} · {p.content_type} · {p.size:,} bytes")
        if p.is_image:
            data = base64.b64encode(p.content).decode("ascii")
            img = (f'<img src="data:{html.escape(p.content_type)};base64,{data}" alt="{caption}" '
                   'style="max-width:320px;max-height:240px;border-radius:8px;display:block">')
        else:
            img = "<div>(not a picture)</div>"
        cells.append(f'<figure class="bw-picture" style="margin:0 12px 8px 0;display:inline-block">{img}'
                     f'<figcaption style="font-size:12px;color:{theme.MUTED};max-width:320px;overflow-wrap:anywhere">'
                     f"{caption}</figcaption></figure>")
    show.show_callout("ok", title, f"<div>{''.join(cells)}</div>")

def explain_events(df: Any, text: bool = False, one_message: bool = False) -> Any:
    """Add ``error_name``/``meaning``/``fix`` columns for rows that carry an errorCode (``text``: show each
    event's sender and text too; ``one_message``: the events of one message, whose id is shown elsewhere)."""
    from .codes import explain

    col = next((c for c in ("errorCode", "error_code") if c in getattr(df, "columns", [])), None)
    if col is None or not len(df):
        return _events_view(df, text, one_message) if hasattr(df, "columns") else df
    import pandas as pd

    df = df.copy()
    df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    info = [explain(v) if not pd.isna(v) else {"name": "", "meaning": "", "fix": ""} for v in df[col]]
    df["error_name"] = [i["name"] for i in info]
    df["meaning"] = [i["meaning"] for i in info]
    df["fix"] = [i["fix"] for i in info]
    return _events_view(df, text, one_message)


def _events_view(df: Any, text: bool = False, one_message: bool = False) -> Any:
    """Events as a narrow table (five columns fit 1024 px): the columns a person compares; description, meaning and
    fix under the row (``text``: the sender in a column, the text and the error's name under the row;
    ``one_message``: no message id column)."""
    from .tables import readable

    if text:
        columns, detail = ["type", "time", "from", "to", "errorCode"], ["text", "error_name", "description",
                                                                       "meaning", "fix"]
    elif one_message:
        columns, detail = ["type", "time", "to", "errorCode", "error_name"], ["description", "meaning", "fix"]
    else:
        columns, detail = ["type", "time", "message_id", "to", "errorCode", "error_name"], \
            ["description", "meaning", "fix"]
    return readable(df, columns, detail=detail, empty="(no events yet)")
