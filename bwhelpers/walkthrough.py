"""
bwhelpers.walkthrough
~~~~~~~~~~~~~~~~~~~~~

The thin teaching layer the notebooks use, so that each cell stays one to five lines::

    from bwhelpers.walkthrough import Page
    page = Page(3)                       # connect, show the target and the setup progress
    page.run("enable_sms")               # request, response table, saved ID — or a clear error

A page checks its prerequisites from the saved state. When one is missing it says which
notebook to run first, and every later cell repeats that instead of failing with a traceback.
"""
from __future__ import annotations

import html
from typing import Any

from IPython.display import HTML, display

from . import widgets
from .errors import BandwidthError, TransportError

#: step -> (title, notebook, steps that must be done first)
PAGES: dict[int, tuple[str, str, tuple[int, ...]]] = {
    0: ("Start here", "00_start_here", ()),
    1: ("Create the application", "01_create_application", ()),
    2: ("Create the location (sippeer)", "02_create_location", ()),
    3: ("Enable SMS on the location", "03_enable_sms", (2,)),
    4: ("Enable MMS on the location", "04_enable_mms", (3,)),
    5: ("Assign the application to the location", "05_assign_application", (1, 3)),
    6: ("Order phone numbers", "06_order_numbers", (2,)),
    7: ("Check the order status", "07_check_order_status", (6,)),
    8: ("Send a text message", "08_send_message", (1, 5, 7)),
    9: ("Message events (callbacks)", "09_message_events", (8,)),
    10: ("Export to Postman", "10_export_postman", ()),
    11: ("Diagnose and tear down", "11_diagnose_and_teardown", ()),
}

#: what each step saves, for the "saved" line
SAVES = {1: "ApplicationId", 2: "location (sippeer) id", 6: "order id", 7: "phone numbers", 8: "message id"}


class Page:
    """One notebook's connection, prerequisite check and display helpers."""

    def __init__(self, step: int, setup: Any = None, show: bool = True):
        self.step = step
        self.title, self.notebook, self.needs = PAGES[step]
        self.setup = setup
        self.missing: list[int] = []
        self.error: BaseException | None = None
        if self.setup is None:
            try:
                import bwhelpers

                self.setup = bwhelpers.connect()
            except BandwidthError as exc:
                self.error = exc
        self.progress = widgets.progress_widget(self.setup, current=step if 1 <= step <= 8 else None) \
            if self.setup is not None else None
        if self.setup is not None:
            done = widgets._done(self.setup)
            self.missing = [n for n in self.needs if not done.get(n)]
        if show:
            self.header()

    # -- state -------------------------------------------------------------------------------------
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
            first = self.missing[0]
            widgets.show_note(
                f"⚠ Prerequisite missing: step {first} ({html.escape(PAGES[first][0].lower())}) has not been done "
                f"for this target. <b>Run notebook {PAGES[first][1]} first</b>, then re-run this one.", "warn")
            return False
        return True

    def refresh(self) -> None:
        if self.progress is not None and self.setup is not None:
            widgets.refresh_progress(self.progress, self.setup, self.step if 1 <= self.step <= 8 else None)

    # -- running a step ----------------------------------------------------------------------------
    def run(self, method: str, *args: Any, show_request: bool = True, **kwargs: Any) -> Any:
        """Call ``setup.<method>``; show the request, the response table and the saved ID.

        Errors are shown as Bandwidth's code, description and fix, and return None: saved state
        is never touched by a failure.
        """
        if not self.check():
            return None
        try:
            try:
                result = getattr(self.setup, method)(*args, **kwargs)
            except TransportError:
                # the embedded sandbox lived in another kernel that has stopped: start it here, same db, retry
                if not self._revive_sandbox():
                    raise
                result = getattr(self.setup, method)(*args, **kwargs)
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
        saved = SAVES.get(self.step)
        if saved:
            value = result.numbers if self.step == 7 and getattr(result, "numbers", None) else result.id
            widgets.show_saved(saved, ", ".join(value) if isinstance(value, list) else value)
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

    def table(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a read-only helper that returns a DataFrame; show errors instead of raising."""
        if self.setup is None:
            return self.check()
        try:
            return getattr(self.setup, method)(*args, **kwargs)
        except BandwidthError as exc:
            widgets.show_error(exc)
            return None

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
    def _sandbox_post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        cfg = self.config
        if cfg is None or not cfg.is_sandbox:
            widgets.show_note("This simulation needs the sandbox: on a real account, text your Bandwidth number "
                              "from a phone instead.", "info")
            return None
        resp = self.setup.dashboard.session.post(f"{cfg.sandbox_base}{path}", json=body, timeout=10)
        if resp.status_code >= 400:
            widgets.show_note(f"The sandbox refused the simulation: HTTP {resp.status_code} "
                              f"<code>{html.escape(resp.text[:300])}</code>", "warn")
            return None
        return resp.json() if resp.content else {}

    def simulate_inbound(self, text: str = "Hi! This is a reply.", from_: str = "+19195550123") -> Any:
        """Sandbox: pretend ``from_`` texted your first number; a message-received event follows."""
        if not self.check():
            return None
        numbers = self.setup.saved.get("numbers") or []
        if not numbers:
            widgets.show_note("No number saved: run notebook 07_check_order_status first.", "warn")
            return None
        result = self._sandbox_post("/_sandbox/inbound", {"to": numbers[0], "from": from_, "text": text})
        if isinstance(result, dict) and isinstance(result.get("message"), dict):
            result.setdefault("id", result["message"].get("id"))  # so wait_for_event(message_id=...) finds it
        return result

    def send_failing(self, code: int = 4720, text: str = "This one will fail") -> Any:
        """Sandbox: send to the magic number that fails with ``code`` (see /_sandbox/magic-numbers)."""
        if not self.check():
            return None
        from .sandbox.magic import MAGIC_TO_NUMBERS

        row = next((r for r in MAGIC_TO_NUMBERS if r.get("errorCode") == code), None)
        if row is None:
            widgets.show_note(f"No magic number fails with {code}; choose one of "
                              f"{sorted(r['errorCode'] for r in MAGIC_TO_NUMBERS if r.get('errorCode'))}.", "warn")
            return None
        return self.run("send_message", to=row["number"], text=text)

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
        try:
            df = self.setup.events()
        except BandwidthError as exc:
            widgets.show_error(exc)
            return None
        return explain_events(df)

    # -- summary -----------------------------------------------------------------------------------
    def summary(self) -> Any:
        """The eight steps with their status and saved IDs, as a table (or the prerequisite reminder)."""
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
