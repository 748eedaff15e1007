"""The page's forms: the credentials form (connect), the step forms that keep what was typed in the saved state
(never a secret), the Postman export form, and the form-problem notes."""
from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING, Any, Callable

from .. import guide, steps, theme, views
from ..ui import display as show
from .base import PageBase, link

if TYPE_CHECKING:  # the forms (ipywidgets, phonenumbers) are imported by the cells that show one
    from ..ui import forms
    from ..ui.credentials import CredentialsForm
    from ..ui.export import ExportForm


class FormsMixin(PageBase):
    # -- forms (moved from walkthrough.Page) -------------------------------------------------------------------------------------
    def credentials_form(self) -> "CredentialsForm":
        from ..ui.credentials import CredentialsForm

        def _use(config: Any) -> None:
            from ..setup import Setup

            self.setup = Setup(config)
            self.missing = []
            self.outcomes = [o for o in self.outcomes if o[0] != "failed"]
            where = "the local sandbox" if config.is_sandbox else f"account {config.account_id}"
            self._outcome("done", f"connected to {where}")
            if self._target_view is not None:  # the cells below say what this Connect did, not the last one
                self._target_view.replace(self._target_fields(config))
            self.connected_here(config)
            self.resummarize()

        def _failed(text: str) -> None:
            self._outcome("failed", text)
            from IPython.display import HTML

            for live, missing in self._connect_notes:  # an earlier problem shown below: superseded by this one
                if missing and f"Missing {missing}" in text:
                    continue  # the same fields still missing (Run All with an empty form): the note already says so
                live.update(HTML(show.note_html(
                    f"{theme.ICONS['warn']} Superseded by the last Connect, which failed: {html.escape(text[:300])} "
                    "(its status is under Connect above). Fix the form and press <b>Connect</b> again.", "warn")))
            if self._target_view is not None:
                before = (" This table is the connection in use before it." if self._target_view.data
                          else " Nothing is connected yet.")
                self._target_view.replace(self._target_view.data, views.callout(
                    "warn", "The last Connect failed",
                    f"<div>See the status under Connect in the form above.{before} Fix the form and press Connect "
                    "again.</div>"))
            self.resummarize()

        form = CredentialsForm(on_connect=_use, on_error=_failed)
        keeper = self._form_keeper("start")  # the page's key: "credentials" would read as a secret
        return form if keeper is None else form.bind(*keeper)

    def _not_connected_here(self, exc: BaseException) -> None:
        """00 with no working target yet: what is missing, by the form's labels, and that the form below fixes it
        (never "open 00_start_here" on 00 itself, nor ``Config.resolve``); shown in place, so the Connect that
        succeeds replaces it (:meth:`connected_here`)."""
        from IPython.display import HTML

        from ..ui.credentials import listed_labels, missing_fields
        from ..ui.output import Live

        names = missing_fields(exc)
        live = Live()
        listed = listed_labels(names) if names else ""
        if names:
            self._outcome("failed", f"not connected yet: the form needs {listed}")
            live.update(HTML(show.note_html(
                f"{theme.ICONS['warn']} Not connected yet: a real account needs <b>{html.escape(listed)}</b>. Fill "
                "them in the form below and press <b>Connect</b>, or choose <b>Sandbox</b> there to use the local "
                "sandbox.", "warn")))
        else:
            said = str(getattr(exc, "description", "") or exc)
            self._outcome("failed", f"could not connect: {said.partition(' Fix: ')[0]}")
            live.update(HTML(show.error_html(exc) + show.note_html(
                "Fix it in the form below and press <b>Connect</b> (or choose <b>Sandbox</b> there to use the local "
                "sandbox).", "warn")))
        self._connect_notes.append((live, listed))

    def _not_connected_elsewhere(self, exc: BaseException) -> bool:
        """A page after 00 with a real account's credentials missing: what is missing by 00's form labels and
        where to give it (never ``Config.resolve(...)``); False for any other error (shown as it is)."""
        from ..ui.credentials import listed_labels, missing_fields

        names = missing_fields(exc)
        if not names:
            return False
        listed = listed_labels(names)
        self._outcome("failed", f"not connected: a real account needs {listed}")
        show.show_callout("error", f"Not connected: a real account needs {listed}",
                          f"<div><b>How to fix:</b> open {link(steps.page('start'))}, fill them in its form and tick "
                          "<i>Remember</i> so every notebook uses them (or set the <code>BW_*</code> variables, or "
                          "unset <code>BW_TARGET</code> to use the sandbox), then re-run this notebook.</div>")
        return True

    def connected_here(self, config: Any) -> None:
        """A Connect in 00's form worked: the notes that said it was not connected say so instead."""
        from IPython.display import HTML

        where = "the local sandbox" if config.is_sandbox else f"account {config.account_id}"
        for live, _ in self._connect_notes:
            live.update(HTML(show.note_html(f"{theme.ICONS['ok']} Connected to {html.escape(str(where))} with the "
                                            "form below.", "ok")))
        self._connect_notes.clear()

    def application_form(self) -> "forms.Form":
        """The application step's form. On a real account it proposes the callback receiver's URLs from BW_CALLBACK_BASE_URL
        (and says the receiver's credentials will be set); with none it says exactly what to set, and why."""
        from ..ui import forms

        form = self._persist("application", forms.application_form())
        if self.setup is None or self.setup.config.is_sandbox:
            return form
        from ..exceptions import ValidationError
        from ..flows.delivery import application_callbacks

        try:
            proposed = application_callbacks(self.setup)
        except ValidationError as exc:
            show.show_error(exc)
            return form
        if proposed is None:
            self._callback_note()
            return form
        from ..receiver import INBOUND_PATH, OUTBOUND_PATH

        for name, path in (("inbound", INBOUND_PATH), ("outbound", OUTBOUND_PATH)):
            widget = form.fields[f"{name}_callback_url"]
            # blank, or the receiver's URL under an earlier base (a quick tunnel's URL changes at each start)
            if not widget.value or str(widget.value).rstrip("/").endswith(path):
                widget.value = proposed[name]
        from ..flows.preflight import callback_problem
        from ..receiver.credentials import credentials_path

        unreachable = callback_problem(proposed["inbound"], real=True)
        if unreachable:  # the preflight (diagnose) fails this check too: say it here, before the application exists
            nxt = steps.page("location")
            self._caveat = (
                "the application is created, but Bandwidth cannot reach its callback URLs (no incoming text and no "
                "delivery receipt will reach you)",
                "start a tunnel to the receiver (README, <i>Using a real Bandwidth account</i>); to set "
                f"<code>BW_CALLBACK_BASE_URL</code> to its public https URL, {_set_base()}; then run this notebook "
                "again: it offers to create a second application with the new URLs (then run "
                f"{link(steps.page('assigned'))} again). Meanwhile the next steps work: {link(nxt)} creates the "
                f"location ({link(steps.page('teardown'))} checks the callback URLs)")
            show.show_callout(
                "warn", "Bandwidth cannot reach these callback URLs",
                f"<div>{html.escape(unreachable[:1].upper() + unreachable[1:])}.</div><div><b>Fix:</b> start a tunnel "
                "to the receiver (README, <i>Using a real Bandwidth account</i>); to set <code>BW_CALLBACK_BASE_URL"
                f"</code> to its public https URL, {_set_base()}; then run this notebook again. Creating the "
                "application with these URLs works, but on Bandwidth no incoming text and no delivery receipt will "
                "reach you (only a stand-in service on this machine can call them).</div>")
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
            "or your own server); to set <code>BW_CALLBACK_BASE_URL</code> to that URL (e.g. "
            f"<code>https://abc123.trycloudflare.com</code>), {_set_base()}; then run this notebook again. "
            "Or type your own server's https URLs in the form. Without any, the create cell below stops here.</div>")

    def export_form(self, out_dir: str | None = None) -> "ExportForm":
        """The Postman export form for this page's target and saved IDs."""
        from ..ui.export import ExportForm

        form = ExportForm(self.setup, out_dir)
        form.on_export = lambda files: self._outcome("done", "the Postman files are written")
        return form

    def location_form(self) -> "forms.Form":
        from ..ui import forms

        return self._persist("location", forms.location_form())

    def order_form(self) -> "forms.Form":
        from ..ui import forms

        return self._persist("orders", forms.order_form())

    def message_form(self) -> "forms.Form":
        """On a real account the destination is your own phone: ``BW_TO_NUMBER`` fills it in (headless runs)."""
        from ..ui import forms

        own = os.environ.get(guide.TO_NUMBER_ENV, "").strip()
        real = self.setup is not None and not self.setup.config.is_sandbox
        if own and real:
            return self._persist("messages", forms.message_form(default_to=own, real=True))
        if real:  # no fictional default on a billed account: the field starts empty, its placeholder says what to type
            return self._persist("messages", forms.message_form(default_to="", real=True))
        return self._persist("messages", forms.message_form(real=real))

    def step_form(self, required: tuple[str, ...] = (), **defaults: Any) -> "forms.Form":
        """A form for this page's step from default values (``page.step_form(name="x", default=True)``), kept like
        every step's form: a new step's notebook needs no form written for it."""
        from ..ui import forms

        return self._persist(self.info.key, forms.plain_form(self.info.title, defaults, required))

    def _persist(self, key: str, form: "forms.Form") -> "forms.Form":
        """The form starts from the values the user last typed for this target (kept in the saved state, never a
        secret), and keeps them as they change: Run All and kernel restarts do not reset it."""
        keeper = self._form_keeper(key)
        return form if keeper is None else form.bind(*keeper)

    def _form_keeper(self, key: str) -> "tuple[dict[str, Any] | None, Callable[[dict[str, Any]], None]] | None":
        """The values last kept for form ``key`` in this target's saved state, and the function that keeps new
        ones (never failing the cell); None without a target."""
        if self.setup is None:
            return None
        setup = self.setup
        saved = setup.current.forms.get(key)

        def _save(values: dict[str, Any]) -> None:
            from ..exceptions import StateFileError

            try:
                with setup.state.edit(setup.profile) as st:
                    st.forms[key] = values
            except (StateFileError, OSError, TypeError, ValueError):
                pass  # keeping the form's values is a convenience: never fail the cell for it

        return saved, _save

    def form_errors(self, form: "forms.Form") -> bool:
        """Show the form's validation problems, each named by the form's own label (``Value``, ``to``); True when
        there are some (then the cell sends nothing). The first cell that finds them says it in full, a later cell
        of the same run refers to it in one line; the summary says the same."""
        errs = {form.label(name): problem.rstrip(". ") for name, problem in form.errors.items()}
        if not errs:
            return False
        said = "; ".join(f"{label}: {problem}" for label, problem in errs.items())
        # a wait in a later cell then says nothing was sent, at once; the summary names the form's problem
        self._nothing_sent = f"the form has a problem ({said})"
        self._outcome("form", said)
        if getattr(form, "_bw_shown", None) == said:
            show.show_note(f"{theme.ICONS['warn']} Skipped: fix <b>{html.escape(', '.join(errs))}</b> in the form above first (see the "
                           "note above).", "warn")
            return True
        form._bw_shown = said  # type: ignore[attr-defined]
        for label, problem in errs.items():
            show.show_note(f"{theme.ICONS['warn']} <b>{html.escape(label)}</b>: {html.escape(problem)}. Fix it in the form above and "
                           "re-run this cell.", "warn", incomplete=True)
        return True


def _set_base() -> str:
    """How to set BW_CALLBACK_BASE_URL for the notebooks (codes.SET_CALLBACK_BASE), as HTML: the command in code."""
    from ..codes import SET_CALLBACK_BASE

    head, cmd, tail = SET_CALLBACK_BASE.split("`")
    return f"{html.escape(head)}<code>{html.escape(cmd)}</code>{html.escape(tail)}"
