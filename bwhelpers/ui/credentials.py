"""The credentials form: target, ids and API credentials (Client ID / Client Secret), a Connect button, a status.

The form only collects and shows; connecting (resolving a Config, the cheap authenticated GET, remembering) is
:func:`bwhelpers.connection.connect_form`. Secrets typed into the form are used once and cleared; they are never put
into widget state, and a secret already in the environment shows as a placeholder and is never copied in.
"""
from __future__ import annotations

import html
import os
import time
from typing import Any, Callable

import ipywidgets as w
from IPython.display import HTML

from .. import theme
from ..exceptions import BandwidthError
from ..masking import mask
from .forms import STYLE, WIDE, text_field
from .display import error_html, note_html
from .output import Live, emit

__all__ = ["CredentialsForm", "TOGGLE_CSS", "LABELS", "missing_fields", "listed_labels"]

#: each field's label in the form: errors about a field speak the label the user sees, never the internal key
LABELS = {"account_id": "Account id", "site_id": "Subaccount (site) id", "client_id": "Client ID",
          "client_secret": "Client Secret", "username": "API username", "password": "API password",
          "user_id": "Legacy user id", "api_token": "Legacy API token", "api_secret": "Legacy API secret"}
#: what the form keeps over Run All and kernel restarts (in the saved state): the choice and the non-secret fields
KEPT = ("target", "account_id", "site_id", "client_id", "legacy", "username", "user_id")

#: the chosen target reads as chosen in every theme: filled in the brand colour with a check mark, the other one
#: an outlined button on the page (ipywidgets' own "active" shade differs by a few percent in the dark theme)
TOGGLE_CSS = (
    "<style>.bw-credentials .widget-toggle-buttons .widget-toggle-button{"
    f"background:{theme.PAGE};color:{theme.TEXT};border:1px solid {theme.BORDER_STRONG};box-shadow:none;opacity:1}}"
    ".bw-credentials .widget-toggle-buttons .widget-toggle-button.mod-active{"
    f"background:{theme.FOCUS};color:{theme.ON_FOCUS};border-color:{theme.FOCUS};font-weight:700}}"
    ".bw-credentials .widget-toggle-buttons .widget-toggle-button.mod-active::before{content:'\\2713\\00a0'}"
    f".bw-credentials .bw-invalid input{{border:2px solid {theme.line('error')};background:{theme.tint('error')}}}"
    f".bw-credentials .bw-invalid .widget-label{{color:{theme.accent('error')}}}"
    "</style>")


def missing_fields(exc: BaseException) -> list[str]:
    """The form's fields a "missing credentials" error names (``account_id``, …), or [] when it is another error
    (or names something the form does not have)."""
    missing = [str(d.get("field")) for d in getattr(exc, "details", None) or [] if d.get("problem") == "missing"]
    return missing if missing and all(name in LABELS for name in missing) else []


def listed_labels(names: list[str]) -> str:
    """The form's labels of ``names`` as one phrase: "Account id, Client ID and Client Secret"."""
    labels = [LABELS[n] for n in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _status(kind: str, text: str, attempt: int) -> str:
    """The status line: its kind's icon and colour, the attempt number and the clock time, so every result of
    a click is visibly new (an identical outcome too)."""
    css = {"ok": "bw-ok", "error": "bw-fail", "info": "bw-busy"}[kind]
    stamp = time.strftime("%H:%M:%S")
    return (f'<div class="{css}" style="border-left:4px solid {theme.line(kind)};background:{theme.tint(kind)};'
            f'color:{theme.TEXT};padding:4px 8px;margin:4px 0;max-width:48em;line-height:1.4">'
            f'<span style="color:{theme.accent(kind)};font-weight:700">{theme.ICONS[kind]}</span> {text} '
            f'<span class="bw-attempt" style="color:{theme.MUTED};font-size:90%">(#{attempt}, {stamp})</span></div>')


def sentence(text: str) -> str:
    """``text`` ending as a sentence (a period added unless it ends with one, ``!`` or ``?``), so the next one
    never runs on ("…generate a new one there The secret…")."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def said(exc: BaseException) -> str:
    """An error in sentences: what happened, then ``Fix: …`` once. The service's own advice after the cause
    ("…; copy both from your API credential…") is left out when the error carries its fix (it says the same)."""
    text = str(exc)
    fix = getattr(exc, "fix", None) or ""
    if fix:
        text = text.replace(f". Fix: {fix}", "").replace(f" Fix: {fix}", "")
        text = text.partition("; ")[0]
    return sentence(text) + (f" Fix: {sentence(fix)}" if fix else "")


class CredentialsForm:
    """Target, ids and API credentials (Client ID / Client Secret); Connect checks them with a cheap
    authenticated GET (which fetches a token first).

    The legacy API user (username/password) and the guide's token:secret fields sit behind the "Use a legacy
    API user" toggle: the real service refuses API users after 2026-12-02. While connecting, the button is
    disabled and reads "Connecting…", and the previous status is replaced at once.
    """

    SECRET_FIELDS = ("client_secret", "password", "api_token", "api_secret")
    TEXT_FIELDS = ("account_id", "site_id", "client_id", "username", "user_id")

    def __init__(self, env: dict[str, str] | None = None, on_connect: Callable[[Any], None] | None = None,
                 on_error: Callable[[str], None] | None = None):
        env = dict(os.environ if env is None else env)
        self.env = env
        self.on_connect, self.on_error = on_connect, on_error
        self.config: Any = None
        self.attempts = 0
        self._keep: Callable[[dict[str, Any]], None] | None = None   # bind()'s save: the form's memory
        self._cell_errors: list[Live] = []   # the red boxes failed Connect cells showed, replaced by a success
        from ..config import default_target, remembered

        self.saved = remembered()   # the remembered credentials file (non-secret values only), or None

        try:
            real = default_target(env) == "real"
        except BandwidthError:  # a bad BW_TARGET: the form starts on the sandbox, Connect names the problem
            real = False
        self.target = w.ToggleButtons(options=[("Sandbox", "sandbox"), ("Real account", "real")],
                                      value="real" if real else "sandbox", description="Target",
                                      tooltips=["The local sandbox: no account needed", "Your Bandwidth account"],
                                      style={"description_width": "11em", "button_width": "11em"})
        self.account_id = text_field("Account id", env.get("BW_ACCOUNT_ID", ""), "e.g. 9900000")
        self.site_id = text_field("Subaccount (site) id", env.get("BW_SITE_ID", ""), "e.g. 9901")
        self.client_id = text_field("Client ID", env.get("BW_CLIENT_ID", ""), "from Account > API Credentials")
        self.client_secret = w.Password(description="Client Secret", style=STYLE, layout=WIDE,
                                        placeholder="(from BW_CLIENT_SECRET)" if env.get("BW_CLIENT_SECRET") else "")
        self.username = text_field("API username", env.get("BW_USERNAME", ""))
        self.password = w.Password(description="API password", style=STYLE, layout=WIDE,
                                   placeholder="(from BW_PASSWORD)" if env.get("BW_PASSWORD") else "")
        self.user_id = text_field("Legacy user id", env.get("BW_USER_ID", ""), "only for the guide's v2 endpoint")
        self.api_token = w.Password(description="Legacy API token", style=STYLE, layout=WIDE,
                                    placeholder="(from BW_API_TOKEN)" if env.get("BW_API_TOKEN") else "")
        self.api_secret = w.Password(description="Legacy API secret", style=STYLE, layout=WIDE,
                                     placeholder="(from BW_API_SECRET)" if env.get("BW_API_SECRET") else "")
        from ..config import ENV_VARS, choose_auth

        legacy_env = choose_auth({name: env.get(var) for name, var in ENV_VARS.items()}) == "basic"
        self.legacy = w.Checkbox(value=legacy_env, description="Use a legacy API user (username/password) instead "
                                 "of API credentials", style={"description_width": "initial"},
                                 layout=w.Layout(width="48em"))
        self.legacy.add_class("bw-legacy-toggle")
        self.remember = w.Checkbox(value=False, description="Remember on this computer (0600 file in your user "
                                   "config folder, never in the project)", style={"description_width": "initial"},
                                   layout=w.Layout(width="48em"))
        self.button = w.Button(description="Connect", button_style="primary", icon="plug")
        self.button.add_class("bw-connect")
        self.forget = w.Button(description="Forget remembered", icon="trash", layout=w.Layout(width="auto"),
                               tooltip="Delete the remembered credentials file (the other notebooks stop using it)")
        self.forget.add_class("bw-forget")
        self.forget.on_click(lambda _: self.forget_remembered())
        self.status = w.HTML()
        self.status.add_class("bw-status")
        self.legacy_box = w.VBox([
            w.HTML(f'<div style="color:{theme.TEXT}"><span style="color:{theme.accent("warn")}">'
                   f'{theme.ICONS["warn"]}</span> Legacy API users (HTTP Basic) were retired by Bandwidth on '
                   '2026-12-02: the real service refuses them. Use them only for old accounts in the sandbox or '
                   'to replay the guide\'s requests.</div>'),
            self.username, self.password,
            w.HTML("<i>The guide's original messaging endpoint (api.catapult.inetwork.com), token:secret:</i>"),
            self.user_id, self.api_token, self.api_secret])
        self.legacy_box.add_class("bw-legacy")
        self.real_box = w.VBox([
            self.account_id, self.site_id,
            w.HTML("<div style=\"line-height:1.4\"><i>API credentials: Bandwidth App &gt; Account &gt; API Credentials "
                   "(roles Messaging and Numbers). The Client Secret is shown only once, when it is created.</i></div>"),
            self.client_id, self.client_secret, self.legacy, self.legacy_box, self.remember])
        self._fill_remembered()
        self.target.observe(self._toggle, names="value")
        self.legacy.observe(self._toggle_legacy, names="value")
        self.button.on_click(lambda _: self.connect(clicked=True))
        self._toggle({"new": self.target.value})
        self._toggle_legacy({"new": self.legacy.value})
        self.widget = w.VBox([w.HTML("<b>Credentials</b>" + TOGGLE_CSS), self.target, self.real_box,
                              w.HBox([self.button, self.forget]), self.status])
        self.widget.add_class("bw-credentials")

    def _fill_remembered(self, secrets_only: bool = False) -> None:
        """The remembered file's values in the form (what every other notebook uses): its ids where no ``BW_*``
        variable sets them, and "(saved)" as the placeholder of each secret it keeps (never the value). The Forget
        button shows only while there is a file."""
        from ..config import ENV_VARS

        saved = self.saved if self.saved is not None and self.saved.real else None
        self.forget.layout.display = None if saved is not None else "none"
        if saved is None:
            return
        for name in () if secrets_only else self.TEXT_FIELDS:
            if saved.values.get(name) and not self.env.get(ENV_VARS[name]):
                getattr(self, name).value = saved.values[name]
        for name in self.SECRET_FIELDS:
            if name in saved.secrets and not self.env.get(ENV_VARS[name]):
                getattr(self, name).placeholder = "(saved)"

    def forget_remembered(self) -> None:
        """Delete the remembered credentials file: its values leave the form, and the status says what the other
        notebooks use from now on."""
        from ..config import Config, ENV_VARS

        self.attempts += 1
        path = self.saved.path if self.saved is not None else None
        removed = Config.forget(path)
        for name in self.TEXT_FIELDS:
            widget = getattr(self, name)
            if self.saved is not None and widget.value == self.saved.values.get(name):
                widget.value = self.env.get(ENV_VARS[name], "")
        for name in self.SECRET_FIELDS:
            widget = getattr(self, name)
            if widget.placeholder == "(saved)":
                widget.placeholder = ""
        self.saved = None
        self.forget.layout.display = "none"
        where = html.escape(str(path)) if path is not None else "the credentials file"
        self.status.value = _status(
            "info", (f"Forgotten: {where} is deleted. " if removed else f"Nothing to forget: {where} was already "
                     "gone. ") + "The other notebooks now use the BW_* variables, or the sandbox when none are set; "
            "this notebook keeps its connection until you press Connect.", self.attempts)

    def _toggle(self, change: dict[str, Any]) -> None:
        self.real_box.layout.display = None if change["new"] == "real" else "none"
        if self.status.value:  # the shown status was about the other target: it no longer says anything true
            self.status.value = _status("info", "Target changed: press <b>Connect</b> to check it.",
                                        self.attempts)

    def _toggle_legacy(self, change: dict[str, Any]) -> None:
        self.legacy_box.layout.display = None if change["new"] else "none"

    def _ipython_display_(self) -> None:
        emit(self.widget)

    def _clear_secrets(self) -> bool:
        """Empty the secret fields; True when one held a typed secret (then a retry needs it pasted again)."""
        typed = any(getattr(self, name).value for name in self.SECRET_FIELDS)
        for name in self.SECRET_FIELDS:
            getattr(self, name).value = ""
        return typed

    def _mark(self, names: list[str]) -> None:
        """Highlight exactly these fields (the ones an error is about); the others lose their highlight."""
        for name in LABELS:
            widget = getattr(self, name)
            if name in names:
                widget.add_class("bw-invalid")
            else:
                widget.remove_class("bw-invalid")

    def bind(self, saved: dict[str, Any] | None, save: Callable[[dict[str, Any]], None]) -> "CredentialsForm":
        """Start from the choice and non-secret fields the user last made (``saved``; a ``BW_*`` variable set in
        the environment wins), and call ``save`` with them whenever they change. Secrets are never passed on."""
        from ..config import ENV_VARS

        from_file = set(self.saved.values) if self.saved is not None and self.saved.real else set()
        for name, value in (saved or {}).items():
            if name not in KEPT or self.env.get(ENV_VARS.get(name, "")):
                continue
            if name in from_file and name in self.TEXT_FIELDS:  # the remembered file is what the notebooks use
                continue
            if name == "target" and value in ("sandbox", "real"):
                self.target.value = value
            elif name == "legacy" and isinstance(value, bool):
                self.legacy.value = value
            elif name not in ("target", "legacy") and isinstance(value, str):
                getattr(self, name).value = value

        def _changed(_: Any) -> None:
            save(self.kept())

        for name in KEPT:
            getattr(self, name).observe(_changed, names="value")
        self._keep = save
        return self

    def kept(self) -> dict[str, Any]:
        """The values kept over re-runs: the target, the legacy toggle and the non-secret text fields."""
        return {name: getattr(self, name).value for name in KEPT}

    def _explain(self, exc: BandwidthError) -> tuple[str, list[str]] | None:
        """A form-side error in the form's words (labels, what to do here) and the fields it is about; None when
        the error is not about a field of this form."""
        from ..exceptions import AuthError, NotFoundError, TokenError, ValidationError

        if self.target.value == "real" and not isinstance(exc, ValidationError):
            return self._explain_refusal(exc, NotFoundError, AuthError, TokenError)
        if not isinstance(exc, ValidationError):
            return None
        names = missing_fields(exc)
        if names:
            listed = listed_labels(names)
            where = (" (Bandwidth App > Account > API Credentials)"
                     if {"client_id", "client_secret"} & set(names) else "")
            return (f"Missing {listed}. Fix: fill in {listed} above{where}, then press Connect — or choose "
                    "Sandbox to use the local sandbox.", names)
        if exc.field in LABELS:
            text = str(exc)
            prefix = f"{exc.field}: "
            if text.startswith(prefix):
                text = text[len(prefix):]
            return (f"{LABELS[exc.field]}: {text}. Fix: correct {LABELS[exc.field]} above, then press Connect.",
                    [exc.field])
        return None

    def _explain_refusal(self, exc: BandwidthError, not_found: type, auth: type, token: type
                         ) -> tuple[str, list[str]] | None:
        """The service refused Connect's one request (GET the site) for a value typed in this form: its answer,
        and the fix in the form's labels ("check Subaccount (site) id above"), not in URL or ``BW_*`` terms."""
        said = sentence(str(getattr(exc, "description", "") or "").strip() or type(exc).__name__)
        if isinstance(exc, not_found) and self.site_id.value.strip():
            return (f"{said} Fix: check Subaccount (site) id above (Bandwidth App > Account > Subaccounts: "
                    "the id of a subaccount of this account), then press Connect.", ["site_id"])
        if isinstance(exc, token) and exc.status == 401 and not self.legacy.value:
            return (f"{said} Fix: check Client ID and Client Secret above: copy both from the Bandwidth App, Account "
                    "> API Credentials (the secret is shown only once; if it is lost, generate a new one there), "
                    "then press Connect.", ["client_id", "client_secret"])
        if isinstance(exc, auth) and not isinstance(exc, token) and exc.status == 403 \
                and self.account_id.value.strip():
            return (f"{said} Fix: check Account id above, and that this API credential (Client ID) may act "
                    "on that account with the Numbers role (Bandwidth App > Account > API Credentials), then press "
                    "Connect.", ["account_id", "client_id"])
        return None

    def _busy(self, busy: bool) -> None:
        self.button.disabled = busy
        self.button.description = "Connecting…" if busy else "Connect"
        self.button.icon = "spinner" if busy else "plug"

    def connect(self, clicked: bool = False) -> Any:
        """Check the form's values (:func:`bwhelpers.connection.connect_form`) and show OK or the exact error.

        Called from a cell (not the button), a failure is also shown as a red box in that cell's output, so a
        headless run sees that the notebook did not reach its goal."""
        from ..connection import connect_form

        self.attempts += 1
        where_to = "the local sandbox" if self.target.value == "sandbox" else "your account"
        self._busy(True)
        self.status.value = _status("info", f"Connecting to {where_to}…", self.attempts)
        fields = {name: getattr(self, name).value for name in self.TEXT_FIELDS + self.SECRET_FIELDS}
        self._mark([])
        typed = False
        try:
            done = connect_form(self.target.value, fields, legacy=bool(self.legacy.value),
                                remember=bool(self.remember.value), env=self.env)
        except BandwidthError as exc:
            typed = self._clear_secrets()
            again = (" The secret you typed was cleared from the form (it is never kept): paste it again before "
                     "you press Connect." if typed else "")
            explained = self._explain(exc)
            if explained is not None:
                text, names = explained
                self._mark(names)
                # the form's words stand alone: no second fix from the status (``fix=""``), the status kept
                shown: BaseException = type(exc)(text + again, field=names[0], status=exc.status, code=exc.code,
                                                 fix="")
                http = f" (HTTP {exc.status})" if exc.status else ""
                self.status.value = _status("error", f"<b>{html.escape(type(exc).__name__)}</b>{http}: "
                                            f"{html.escape(text + again)}", self.attempts)
            else:
                self.status.value = _status("error", f"<b>{html.escape(type(exc).__name__)}</b>: "
                                            f"{html.escape(said(exc) + again)}", self.attempts)
                shown = exc
            self._failed(shown, clicked)
            return None
        except Exception as exc:  # never leave the user with a traceback in a callback
            self.status.value = _status("error", f"<b>Error</b>: {html.escape(str(exc))}", self.attempts)
            self._failed(exc, clicked)
            return None
        finally:
            fields.clear()
            if not typed:
                self._clear_secrets()
            self._busy(False)
        config = done.config
        extra = ""
        if done.remembered is not None:
            extra = (f" Saved to {html.escape(str(done.remembered))} (mode 0600): every notebook uses these "
                     "credentials now (<i>Forget remembered</i> deletes the file).")
            from ..config import remembered

            self.saved = remembered()
            self._fill_remembered(secrets_only=True)
        elif done.from_file is not None:
            extra = (f" Using the credentials remembered in {html.escape(str(done.from_file))}, as every notebook "
                     "does (<i>Forget remembered</i> deletes the file).")
        elif done.only_here:
            extra = (" <b>Note:</b> only this notebook knows these credentials; tick <i>Remember</i> (or set "
                     "the BW_* variables) so the other notebooks use this account too.")
        if config.auth_warning:
            extra += f' {theme.ICONS["warn"]} {html.escape(config.auth_warning)}'
        self.config = config
        where = "the local sandbox" if config.is_sandbox else f"account {html.escape(str(config.account_id))}"
        how = "API credentials (OAuth 2.0)" if config.uses_oauth else "a legacy API user (Basic)"
        self.status.value = _status("ok", f"<b>OK</b> — connected to {where} ({html.escape(config.dashboard_url)}) "
                                    f"with {how}.{extra}", self.attempts)
        if self._keep is not None:  # what connected is the form's memory now: no earlier, refused id comes back
            self._keep(self.kept())
        for box in self._cell_errors:  # a cell's earlier red box no longer says anything true
            box.update(HTML(note_html(
                f"{theme.ICONS['ok']} Connected at {time.strftime('%H:%M:%S')} with the form above (attempt "
                f"#{self.attempts}): the problem shown here before is solved.", "ok")))
        self._cell_errors.clear()
        if self.on_connect:
            self.on_connect(config)
        return config

    def _failed(self, exc: BaseException, clicked: bool) -> None:
        self.config = None
        if self.on_error:  # the summary's words: what went wrong (its fix is the summary's Next)
            said = str(getattr(exc, "description", "") or exc).partition(" Fix: ")[0]
            self.on_error(f"could not connect: {said}")
        if clicked:  # the cell's earlier red box is no longer the last word: the status under Connect is
            for old in self._cell_errors:
                old.update(HTML(note_html(
                    f"{theme.ICONS['warn']} Superseded by Connect attempt #{self.attempts} at "
                    f"{time.strftime('%H:%M:%S')}, which failed too: its error is the status under Connect above.",
                    "warn")))
        if not clicked:  # shown in place: a later successful Connect replaces it
            box = Live()
            box.update(HTML(error_html(exc)))
            self._cell_errors.append(box)

    def summary(self) -> dict[str, Any]:
        """The non-secret values currently in the form (secrets shown masked)."""
        return {"target": self.target.value, "account_id": self.account_id.value, "site_id": self.site_id.value,
                "client_id": self.client_id.value,
                "client_secret": mask(self.client_secret.value) if self.client_secret.value else "",
                "legacy": self.legacy.value, "username": self.username.value,
                "password": mask(self.password.value) if self.password.value else ""}
