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
from typing import Any, Callable

from IPython.display import HTML, display

from . import steps, widgets
from .exceptions import BandwidthError, TransportError
from .results import Result

class Page:
    """One notebook's connection, prerequisite check and display helpers."""

    def __init__(self, page: int | str, setup: Any = None, show: bool = True):
        self.info = steps.by_number(page) if isinstance(page, int) else steps.page(page)
        self.step = self.info.number
        self.title, self.notebook = self.info.heading, self.info.notebook
        self.needs = tuple(steps.page(k).number for k in self.info.needs)
        self.setup = setup
        self.missing: list[int] = []
        self.error: BaseException | None = None
        if self.setup is None:
            try:
                from .connection import connect

                self.setup = connect()
            except BandwidthError as exc:
                self.error = exc
        self.progress = widgets.progress_widget(self.setup, current=self._current) \
            if self.setup is not None else None
        if self.setup is not None:
            done = widgets._done(self.setup)
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
            widgets.show_error(self.error or RuntimeError("not connected"))
            widgets.show_note("Could not connect. Open <b>00_start_here</b> and use the credentials form, "
                              "or unset the BW_* variables to use the sandbox.", "warn")
            return
        cfg = self.setup.config
        target = ("the local <b>sandbox</b> (no account needed)" if cfg.is_sandbox
                  else f"the <b>real</b> Bandwidth account <code>{html.escape(str(cfg.account_id))}</code>")
        display(HTML(f'<div class="bw-target">Target: {target} — Dashboard <code>{html.escape(cfg.dashboard_url)}'
                     f'</code>, profile <code>{html.escape(cfg.profile)}</code></div>'))
        if self.progress is not None:
            display(self.progress)
        self.check()

    def check(self) -> bool:
        """Say which notebook to run first if a prerequisite is missing. Returns ``ready``."""
        if self.setup is None:
            widgets.show_note("Not connected: run <b>00_start_here</b> first.", "warn")
            return False
        if self.missing:
            first = steps.by_number(self.missing[0])
            widgets.show_note(
                f"⚠ Prerequisite missing: step {first.number} ({html.escape(first.heading.lower())}) has not been "
                f"done for this target. <b>Run notebook {first.notebook} first</b>, then re-run this one.", "warn")
            return False
        return True

    def refresh(self) -> None:
        if self.progress is not None and self.setup is not None:
            widgets.refresh_progress(self.progress, self.setup, self._current)

    # -- running a step ----------------------------------------------------------------------------
    # -- the steps (typed: a typo is an AttributeError at once, not a string looked up later) ----------
    def create_application(self, name: str = "Demo Server", inbound_callback_url: str | None = None,
                           outbound_callback_url: str | None = None, callback_types: list[str] | None = None,
                           new: bool = False, callback_url: str | None = None) -> Result | None:
        """Step: create (or reuse) the application with today's fields (``callback_url`` = the guide's legacy
        form instead); shows the exchange and the saved ApplicationId."""
        return self._show(lambda: self.setup.create_application(
            name=name, callback_url=callback_url, new=new, inbound_callback_url=inbound_callback_url,
            outbound_callback_url=outbound_callback_url, callback_types=callback_types))

    def create_location(self, name: str = "Bandwidth Messaging 2 test", default: bool = True,
                        new: bool = False) -> Result | None:
        """Step: create (or reuse) the location (sippeer)."""
        return self._show(lambda: self.setup.create_location(name=name, default=default, new=new))

    def enable_sms(self, **overrides: Any) -> Result | None:
        """Step: enable SMS on the saved location."""
        return self._show(lambda: self.setup.enable_sms(**overrides))

    def enable_mms(self, **overrides: Any) -> Result | None:
        """Step: enable MMS on the saved location."""
        return self._show(lambda: self.setup.enable_mms(**overrides))

    def assign_application(self) -> Result | None:
        """Step: assign the saved application to the saved location."""
        return self._show(lambda: self.setup.assign_application())

    def search_numbers(self, **criteria: Any) -> Result | None:
        """Search available numbers (nothing is saved)."""
        return self._show(lambda: self.setup.search_numbers(**criteria))

    def order_numbers(self, quantity: int = 1, **criteria: Any) -> Result | None:
        """Step: order numbers onto the saved location."""
        return self._show(lambda: self.setup.order_numbers(quantity=quantity, **criteria))

    def wait_for_order(self, timeout: float = 60.0) -> Result | None:
        """Step: wait for the last order's final status; saves its numbers."""
        return self._show(lambda: self.setup.wait_for_order(timeout=timeout))

    def send_message(self, to: Any, text: str | None, from_: str | None = None) -> Result | None:
        """Step: send a message from the first saved number."""
        return self._show(lambda: self.setup.send_message(to, text, from_=from_))

    def _show(self, call: Callable[[], Result], show_request: bool = True) -> Result | None:
        """Run ``call``; show the request, the response table and the saved ID.

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
            widgets.show_error(exc)
            self.refresh()
            return None
        if result is None:
            return None
        if getattr(result, "reused", False):
            widgets.show_note(f"Already done for this target: reusing the saved object "
                              f"<code>{html.escape(str(result.id))}</code> (checked against the server). "
                              f"Pass <code>new=True</code> to create another.", "info")
        if show_request and getattr(result, "exchange", None) is not None:
            widgets.show_request(result.exchange)
        widgets.show_response(result)
        if self.info.saves:
            value = result.numbers if self.info.key == "numbers" and result.numbers else result.id
            widgets.show_saved(self.info.saves, ", ".join(value) if isinstance(value, list) else value)
        self.refresh()
        return result

    def _revive_sandbox(self) -> bool:
        """Restart the shared sandbox in this kernel when it was the default one and is gone."""
        import os

        cfg = self.config
        if cfg is None or not cfg.is_sandbox or os.environ.get("BW_SANDBOX_URL"):
            return False
        from .sandbox import DEFAULT_PORT, ensure_running, probe

        base = cfg.sandbox_base or ""
        if not base.endswith(f":{DEFAULT_PORT}") or probe(base, timeout=0.5):
            return False
        handle = ensure_running()
        if handle.url != base:
            return False
        widgets.show_note("The sandbox had stopped (its kernel was shut down); it is running again in this kernel, "
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
            widgets.show_error(exc)
            return None

    def applications(self) -> Any:
        """The account's applications as a table."""
        from .tables import applications_frame

        return self._table(lambda: applications_frame(self.setup.dashboard.list_applications()))

    def locations(self) -> Any:
        """The site's locations with their SMS/MMS/application status as a table."""
        from .tables import locations_frame

        return self._table(lambda: locations_frame(self.setup.locations()))

    def numbers(self) -> Any:
        """The saved phone numbers as a table."""
        from .tables import numbers_frame

        return self._table(lambda: numbers_frame(self.setup.saved.get("numbers", [])))

    def diagnose(self) -> Any:
        """Preflight checks with their fixes, as a table."""
        from .tables import diagnose_frame

        return self._table(lambda: diagnose_frame(self.setup.diagnose()))

    def teardown(self) -> Any:
        """Undo everything saved (in the service's order), as a table of what was done."""
        from .tables import teardown_frame

        return self._table(lambda: teardown_frame(self.setup.teardown()))

    # -- forms -------------------------------------------------------------------------------------
    def credentials_form(self) -> widgets.CredentialsForm:
        def _use(config: Any) -> None:
            from .setup import Setup

            self.setup = Setup(config)
            self.missing = []
            self.refresh()

        return widgets.CredentialsForm(on_connect=_use)

    def application_form(self) -> widgets.Form:
        return widgets.application_form()

    def location_form(self) -> widgets.Form:
        return widgets.location_form()

    def order_form(self) -> widgets.Form:
        return widgets.order_form()

    def message_form(self) -> widgets.Form:
        return widgets.message_form()

    def form_errors(self, form: widgets.Form) -> bool:
        """Show the form's validation problems; True when there are some (then don't send)."""
        errs = form.errors
        for name, problem in errs.items():
            widgets.show_note(f"<b>{html.escape(name)}</b>: {html.escape(problem)} — fix it in the form above "
                              f"and re-run this cell.", "warn")
        return bool(errs)

    # -- sandbox-only simulations (notebook 09) ------------------------------------------------------
    def _control(self) -> Any:
        """The sandbox's control-plane client, or None (with a note) on a real account."""
        control = self.setup.control if self.setup is not None else None
        if control is None:
            widgets.show_note("This simulation needs the sandbox: on a real account, text your Bandwidth number "
                              "from a phone instead.", "info")
        return control

    def simulate_inbound(self, text: str = "Hi! This is a reply.", from_: str = "+19195550123") -> Any:
        """Sandbox: pretend ``from_`` texted your first number; a message-received event follows."""
        if not self.check():
            return None
        numbers = self.setup.saved.get("numbers") or []
        if not numbers:
            widgets.show_note(f"No number saved: run notebook {steps.page('numbers').notebook} first.", "warn")
            return None
        control = self._control()
        if control is None:
            return None
        try:
            result = control.inbound(numbers[0], from_, text)
        except BandwidthError as exc:
            widgets.show_error(exc)
            return None
        if isinstance(result.get("message"), dict):
            result.setdefault("id", result["message"].get("id"))  # so wait_for_event(message_id=...) finds it
        return result

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
                widgets.show_note(f"No magic number fails with {code}; choose one of {control.failure_codes()}.",
                                  "warn")
                return None
        except BandwidthError as exc:
            widgets.show_error(exc)
            return None
        return self.send_message(to=number, text=text)

    def wait_for_event(self, type: str, message_id: str | None = None, timeout: float = 30.0) -> Any:
        """Wait for a callback event and show it as a one-row table; a note instead of an error on timeout."""
        if not self.check():
            return None
        try:
            event = self.setup.wait_for_event(type=type, message_id=message_id, timeout=timeout)
        except BandwidthError as exc:
            widgets.show_error(exc)
            return None
        except TimeoutError as exc:
            widgets.show_note(html.escape(str(exc)), "warn")
            return None
        from .tables import events_frame

        widgets.show_note(f"Received <code>{html.escape(type)}</code> at the application's callback URL.", "ok")
        return explain_events(events_frame([event]))

    def events(self) -> Any:
        """The callback events received so far, with failed ones' error codes explained."""
        if self.setup is None:
            return self.check()
        from .tables import events_frame

        try:
            events = self.setup.events()
        except BandwidthError as exc:
            widgets.show_error(exc)
            return None
        return explain_events(events_frame(events))

    # -- summary -----------------------------------------------------------------------------------
    def summary(self) -> Any:
        """The guide's steps with their status and saved IDs, as a table (or the prerequisite reminder)."""
        if self.setup is None or self.missing:
            self.check()
            return None
        import pandas as pd

        rows = [{"step": item["step"], "what": item["name"], "status": item["status"], "saved": item["detail"],
                 "notebook": item["notebook"]} for item in self.setup.status()]
        return pd.DataFrame(rows).set_index("step")


def explain_events(df: Any) -> Any:
    """Add ``error_name``/``meaning``/``fix`` columns for rows that carry an errorCode."""
    from .codes import explain

    col = next((c for c in ("errorCode", "error_code") if c in getattr(df, "columns", [])), None)
    if col is None or not len(df):
        return df
    import pandas as pd

    df = df.copy()
    df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    info = [explain(v) if not pd.isna(v) else {"name": "", "meaning": "", "fix": ""} for v in df[col]]
    df["error_name"] = [i["name"] for i in info]
    df["meaning"] = [i["meaning"] for i in info]
    df["fix"] = [i["fix"] for i in info]
    return df
