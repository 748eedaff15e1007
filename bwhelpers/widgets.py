"""
bwhelpers.widgets
~~~~~~~~~~~~~~~~~

ipywidgets for the walkthrough: the credentials form, the step input forms (validated in the
widget, with defaults that work in the sandbox), the setup-progress strip, and the display of a
request/response exchange. Cells read ``form.values``, so a headless run uses the defaults.

Secrets typed into the form are used once and cleared; they are never put into widget state.
"""
from __future__ import annotations

import html
import json
import os
from typing import Any, Callable

import ipywidgets as w
from IPython.display import HTML, Code, display

from . import phone, steps
from .exceptions import BandwidthError
from .masking import mask

_WIDE = w.Layout(width="36em")
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
            415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}
_STYLE = {"description_width": "11em"}


# -- progress -------------------------------------------------------------------------------------

def progress_html(done: dict[int, bool], current: int | None = None) -> str:
    """The eight steps as a compact strip of done (✓) / pending (○) chips."""
    chips = []
    for p in steps.STEPS:
        number, label = p.number, p.title
        ok = bool(done.get(number))
        colour = "#1b7f3b" if ok else "#8a8a8a"
        border = "2px solid #2962ff" if number == current else "1px solid #ccc"
        chips.append(
            f'<span title="{html.escape(label)}" style="display:inline-block;margin:2px;padding:2px 8px;'
            f'border:{border};border-radius:10px;color:{colour};font-size:90%">'
            f'{"✓" if ok else "○"} {number}. {html.escape(label)}</span>')
    return '<div class="bw-progress">' + "".join(chips) + "</div>"


def progress_widget(setup: Any, current: int | None = None) -> w.HTML:
    """A widget showing the eight setup steps from the saved state; ``refresh_progress`` updates it."""
    widget = w.HTML(progress_html(_done(setup), current))
    widget.add_class("bw-progress-widget")
    return widget


def refresh_progress(widget: w.HTML, setup: Any, current: int | None = None) -> None:
    widget.value = progress_html(_done(setup), current)


def _done(setup: Any) -> dict[int, bool]:
    try:
        status = setup.status()
    except Exception:
        return {}
    return {int(item["step"]): bool(item.get("done")) for item in status}


# -- showing exchanges, results and errors ----------------------------------------------------------

def _pretty(body: str | None, content_type: str = "") -> tuple[str, str]:
    if not body:
        return "", "text"
    text = body.strip()
    if text.startswith("{") or text.startswith("["):
        try:
            return json.dumps(json.loads(text), indent=2), "json"
        except ValueError:
            return text, "text"
    if text.startswith("<"):
        try:
            import xml.dom.minidom

            pretty = xml.dom.minidom.parseString(text.encode()).toprettyxml(indent="  ")
            lines = [ln for ln in pretty.splitlines() if ln.strip()]
            if lines and lines[0].startswith("<?xml") and not text.startswith("<?xml"):
                lines = lines[1:]
            return "\n".join(lines), "xml"
        except Exception:
            return text, "xml"
    return text, "text"


def show_request(exchange: Any) -> None:
    """The request as sent (method, URL, content type, syntax-highlighted body). No credentials."""
    if exchange is None:
        return
    body, _ = _pretty(exchange.request_body)
    ctype = exchange.request_headers.get("Content-Type", "")
    text = f"{exchange.method} {exchange.url} HTTP/1.1"
    if ctype:
        text += f"\nContent-Type: {ctype}"
    text += "\nAuthorization: Basic ******** (from your credentials)"
    if body:
        text += "\n\n" + body
    # Pygments' http lexer highlights the request line and headers, and the body by its Content-Type
    display(Code(text, language="http"))


def show_response(result: Any, title: str = "Response") -> None:
    """Status line, the parsed response as a table, and the raw body one click away."""
    ex = getattr(result, "exchange", None)
    if ex is not None:
        loc = ex.response_headers.get("Location") or ex.response_headers.get("location")
        line = f"<b>{title}: HTTP {ex.status}</b> in {ex.elapsed * 1000:.0f} ms"
        if loc:
            line += f" &nbsp; <code>Location: {html.escape(loc)}</code>"
        display(HTML(line))
    try:
        from .tables import result_frame

        display(result_frame(result))
    except Exception as exc:  # pragma: no cover - display never fails the cell
        display(HTML(f"<pre>{html.escape(str(exc))}</pre>"))
    if ex is not None:
        raw, lang = _pretty(ex.response_body)
        headers = "\n".join(f"{k}: {v}" for k, v in ex.response_headers.items())
        out = w.Output()
        with out:
            display(Code(f"HTTP/1.1 {ex.status} {_REASONS.get(ex.status, '')}\n{headers}\n\n{raw}", language="http"))
        acc = w.Accordion(children=[out])
        acc.set_title(0, "Raw response")
        acc.selected_index = None
        display(acc)


def show_saved(label: str, value: Any) -> None:
    if value:
        display(HTML(f'<div class="bw-saved">Saved <b>{html.escape(label)}</b>: '
                     f'<code>{html.escape(str(value))}</code> — the next steps read it from the saved state.</div>'))


def show_error(exc: BaseException) -> None:
    """A readable error box: Bandwidth's code and description, and the fix. Never a traceback."""
    code = getattr(exc, "code", None)
    desc = getattr(exc, "description", None) or str(exc)
    fix = getattr(exc, "fix", None)
    status = getattr(exc, "status", None)
    kind = type(exc).__name__
    parts = [f"<b>{html.escape(kind)}</b>"]
    if status:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(f"code <code>{html.escape(str(code))}</code>")
    body = f"<div>{' · '.join(parts)}</div><div>{html.escape(str(desc))}</div>"
    if fix:
        body += f"<div><b>How to fix:</b> {html.escape(str(fix))}</div>"
    display(HTML(f'<div class="bw-error" style="border-left:4px solid #c62828;padding:6px 10px;'
                 f'background:#fdecea">{body}</div>'))


def show_note(text: str, kind: str = "info") -> None:
    colour = {"info": "#2962ff", "warn": "#ef6c00", "ok": "#1b7f3b"}.get(kind, "#2962ff")
    display(HTML(f'<div class="bw-note bw-note-{kind}" style="border-left:4px solid {colour};padding:6px 10px">'
                 f"{text}</div>"))


# -- forms -----------------------------------------------------------------------------------------

class Form:
    """A small validated form: ``.widget`` to display, ``.values`` to read, ``.errors`` to check."""

    def __init__(self, title: str, fields: dict[str, w.ValueWidget],
                 validators: dict[str, Callable[[Any], str | None]] | None = None):
        self.title = title
        self.fields = fields
        self.validators = validators or {}
        self.messages = w.HTML()
        for name, field in fields.items():
            field.observe(lambda change, n=name: self._validate(), names="value")
        self.widget = w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), *fields.values(), self.messages])
        self.widget.add_class("bw-form")
        self._validate()

    @property
    def values(self) -> dict[str, Any]:
        return {name: f.value for name, f in self.fields.items()}

    @property
    def errors(self) -> dict[str, str]:
        out = {}
        for name, check in self.validators.items():
            problem = check(self.fields[name].value)
            if problem:
                out[name] = problem
        return out

    def _validate(self) -> None:
        errs = self.errors
        self.messages.value = "".join(
            f'<div style="color:#c62828">⚠ {html.escape(self.fields[n].description or n)}: {html.escape(m)}</div>'
            for n, m in errs.items())

    def _ipython_display_(self) -> None:
        display(self.widget)


def _text(description: str, value: str = "", placeholder: str = "") -> w.Text:
    return w.Text(value=value, description=description, placeholder=placeholder, style=_STYLE, layout=_WIDE,
                  continuous_update=False)


def _check_url(value: str) -> str | None:
    from urllib.parse import urlparse

    if not value:
        return None  # the sandbox fills in its request bin
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.netloc:
        return "must be an http(s) URL such as https://example.org/bandwidth/callbacks"
    return None


def _check_number(value: str) -> str | None:
    return phone.problem(value)


def _callback_types(value: Any) -> str | None:
    return None if value else "tick at least one, or Bandwidth sends no delivery receipts"


def application_form(default_name: str = "Demo Server", default_url: str = "") -> Form:
    """Step 1: the application's name and today's callback fields: the inbound URL (incoming messages), the
    outbound URL (delivery receipts) and the status events to receive (``RequestedCallbackTypes``)."""
    from .dashboard import CALLBACK_TYPES

    return Form("Application", {
        "name": _text("AppName", default_name),
        "inbound_callback_url": _text("InboundCallbackUrl", default_url,
                                      placeholder="blank = the sandbox's request bin"),
        "outbound_callback_url": _text("OutboundCallbackUrl", "",
                                       placeholder="blank = the same URL as inbound (sandbox)"),
        "callback_types": w.SelectMultiple(options=list(CALLBACK_TYPES), value=CALLBACK_TYPES[:2],
                                           description="RequestedCallbackTypes", rows=3, style=_STYLE),
    }, {"name": lambda v: None if v.strip() else "required: type a name for the application",
        "inbound_callback_url": _check_url, "outbound_callback_url": _check_url,
        "callback_types": _callback_types})


def location_form(default_name: str = "Bandwidth Messaging 2 test") -> Form:
    """Step 2: the location (sippeer) name and whether it is the site's default."""
    return Form("Location (sippeer)", {
        "name": _text("PeerName", default_name),
        "default": w.Checkbox(value=True, description="IsDefaultPeer", style=_STYLE),
    }, {"name": lambda v: None if v.strip() else "required: type a name for the location"})


SEARCH_CRITERIA = {
    "area_code": ("Area code", "910"),
    "zip": ("ZIP code", "27606"),
    "state": ("State", "NC"),
    "npa_nxx": ("NPA-NXX", "919555"),
    "toll_free_wildcard": ("Toll-free pattern", "8**"),
}


def order_form(default_criterion: str = "area_code", default_value: str = "910", quantity: int = 1) -> Form:
    """Step 6: one search criterion and the quantity."""
    criterion = w.Dropdown(options=[(label, key) for key, (label, _) in SEARCH_CRITERIA.items()],
                           value=default_criterion, description="Search by", style=_STYLE)
    value = _text("Value", default_value)

    def _on_criterion(change: dict[str, Any]) -> None:
        value.value = SEARCH_CRITERIA[change["new"]][1]

    criterion.observe(_on_criterion, names="value")
    return Form("Order numbers", {
        "criterion": criterion,
        "value": value,
        "quantity": w.BoundedIntText(value=quantity, min=1, max=5000, description="Quantity", style=_STYLE),
    }, {"value": lambda v: None if str(v).strip() else "required: type the value to search for"})


def message_form(default_to: str = "+19195550123", default_text: str = "Good morning, this is a test message") -> Form:
    """Step 8: the destination number and the text (≤ 2048 characters)."""
    return Form("Message", {
        "to": _text("to", default_to, placeholder="+1 919 555 0123"),
        "text": w.Textarea(value=default_text, description="text", style=_STYLE, layout=_WIDE),
    }, {"to": _check_number,
        "text": lambda v: None if 0 < len(v) <= 2048 else
        f"must be 1 to 2048 characters (it has {len(v)})"})


def confirm_button(label: str, on_confirm: Callable[[], None]) -> w.VBox:
    """A two-stage confirmation: a checkbox must be ticked before the button acts."""
    tick = w.Checkbox(value=False, description="I understand this deletes the objects on the server",
                      style={"description_width": "initial"})
    button = w.Button(description=label, button_style="danger", icon="trash", disabled=True)
    out = w.Output()
    tick.observe(lambda c: setattr(button, "disabled", not c["new"]), names="value")

    def _click(_: Any) -> None:
        with out:
            out.clear_output()
            on_confirm()

    button.on_click(_click)
    return w.VBox([tick, button, out])


# -- credentials form ------------------------------------------------------------------------------

class CredentialsForm:
    """Target, ids and credentials; Connect checks them with a cheap authenticated GET.

    Environment variables pre-fill the non-secret fields; a secret already in the environment
    shows as a placeholder and is never copied into the widget. Secret fields are cleared after
    use, so nothing secret stays in widget state.
    """

    def __init__(self, env: dict[str, str] | None = None, on_connect: Callable[[Any], None] | None = None):
        env = dict(os.environ if env is None else env)
        self.env = env
        self.on_connect = on_connect
        self.config: Any = None
        from .config import default_target

        try:
            real = default_target(env) == "real"
        except BandwidthError:  # a bad BW_TARGET: the form starts on the sandbox, Connect names the problem
            real = False
        self.target = w.ToggleButtons(options=[("Sandbox", "sandbox"), ("Real account", "real")],
                                      value="real" if real else "sandbox", description="Target",
                                      tooltips=["The local sandbox: no account needed", "Your Bandwidth account"],
                                      style={"description_width": "11em", "button_width": "9em"})
        self.account_id = _text("Account id", env.get("BW_ACCOUNT_ID", ""), "e.g. 9900000")
        self.site_id = _text("Subaccount (site) id", env.get("BW_SITE_ID", ""), "e.g. 9901")
        self.username = _text("API username", env.get("BW_USERNAME", ""))
        self.password = w.Password(description="API password", style=_STYLE, layout=_WIDE,
                                   placeholder="(from BW_PASSWORD)" if env.get("BW_PASSWORD") else "")
        self.user_id = _text("Legacy user id", env.get("BW_USER_ID", ""), "only for the guide's v2 endpoint")
        self.api_token = w.Password(description="Legacy API token", style=_STYLE, layout=_WIDE,
                                    placeholder="(from BW_API_TOKEN)" if env.get("BW_API_TOKEN") else "")
        self.api_secret = w.Password(description="Legacy API secret", style=_STYLE, layout=_WIDE,
                                     placeholder="(from BW_API_SECRET)" if env.get("BW_API_SECRET") else "")
        self.remember = w.Checkbox(value=False, description="Remember on this computer (0600 file in your user "
                                   "config folder, never in the project)", style={"description_width": "initial"},
                                   layout=w.Layout(width="48em"))
        self.button = w.Button(description="Connect", button_style="primary", icon="plug")
        self.button.add_class("bw-connect")
        self.status = w.HTML()
        self.status.add_class("bw-status")
        self.real_box = w.VBox([self.account_id, self.site_id, self.username, self.password,
                                w.HTML("<i>Legacy messaging endpoint (the guide's api.catapult.inetwork.com):</i>"),
                                self.user_id, self.api_token, self.api_secret, self.remember])
        self.target.observe(self._toggle, names="value")
        self.button.on_click(lambda _: self.connect())
        self._toggle({"new": self.target.value})
        self.widget = w.VBox([w.HTML("<b>Credentials</b>"), self.target, self.real_box, self.button, self.status])
        self.widget.add_class("bw-credentials")

    def _toggle(self, change: dict[str, Any]) -> None:
        self.real_box.layout.display = None if change["new"] == "real" else "none"

    def _ipython_display_(self) -> None:
        display(self.widget)

    def _clear_secrets(self) -> None:
        for field in (self.password, self.api_token, self.api_secret):
            field.value = ""

    def connect(self) -> Any:
        """Resolve a Config from the form (or the sandbox), check it, and show OK or the exact error."""
        from .connection import live_config
        from .dashboard import DashboardClient

        try:
            if self.target.value == "sandbox":
                config = live_config(target="sandbox")
            else:
                explicit: dict[str, Any] = {"target": "real"}
                for name in ("account_id", "site_id", "username", "user_id"):
                    value = getattr(self, name).value.strip()
                    if value:
                        explicit[name] = value
                for name in ("password", "api_token", "api_secret"):
                    value = getattr(self, name).value
                    if value:
                        explicit[name] = value
                config = live_config(**explicit)
            self._clear_secrets()
            DashboardClient(config).get_site()
            if self.remember.value and self.target.value == "real":
                path = config.remember()
                extra = f" Saved to {html.escape(str(path))} (mode 0600)."
            elif self.target.value == "real" and not self.env.get("BW_PASSWORD"):
                extra = (" <b>Note:</b> only this notebook knows these credentials; tick <i>Remember</i> (or set "
                         "the BW_* variables) so the other notebooks use this account too.")
            else:
                extra = ""
            self.config = config
            where = "the local sandbox" if config.is_sandbox else f"account {html.escape(str(config.account_id))}"
            self.status.value = (f'<span class="bw-ok" style="color:#1b7f3b"><b>✓ OK</b> — connected to {where} '
                                 f'({html.escape(config.dashboard_url)}).{extra}</span>')
            if self.on_connect:
                self.on_connect(config)
            return config
        except BandwidthError as exc:
            self._clear_secrets()
            fix = f" — {html.escape(exc.fix)}" if exc.fix else ""
            self.status.value = (f'<span class="bw-fail" style="color:#c62828"><b>✗ {html.escape(type(exc).__name__)}'
                                 f'</b>: {html.escape(str(exc))}{fix}</span>')
            return None
        except Exception as exc:  # never leave the user with a traceback in a callback
            self._clear_secrets()
            self.status.value = f'<span class="bw-fail" style="color:#c62828"><b>✗ Error</b>: {html.escape(str(exc))}</span>'
            return None

    def summary(self) -> dict[str, Any]:
        """The non-secret values currently in the form (secrets shown masked)."""
        return {"target": self.target.value, "account_id": self.account_id.value, "site_id": self.site_id.value,
                "username": self.username.value, "password": mask(self.password.value) if self.password.value else ""}


# -- Postman export form (notebook 10) --------------------------------------------------------------

class ExportForm:
    """Environment name, include-secrets (off, with a warning when on) and the output folder."""

    def __init__(self, setup: Any, out_dir: str | None = None):
        self.setup = setup
        # next to the notebook (gitignored), so JupyterLab can serve the download links even when it
        # was started on the notebooks folder
        default_out = out_dir or "exports"
        self.name = _text("Environment name", "Bandwidth API Keys")
        self.include_secrets = w.Checkbox(value=False, description="Include secrets (password, token, secret)",
                                          style={"description_width": "initial"})
        self.warning = w.HTML()
        self.out_dir = _text("Output folder", default_out)
        self.include_secrets.observe(self._warn, names="value")
        self.widget = w.VBox([w.HTML("<b>Postman export</b>"), self.name, self.include_secrets, self.warning,
                              self.out_dir])
        self.widget.add_class("bw-export")

    def _warn(self, change: dict[str, Any]) -> None:
        self.warning.value = ('<div style="color:#ef6c00">⚠ The environment file will contain your secrets in '
                              'plain text. Do not commit or share it.</div>' if change["new"] else "")

    def _ipython_display_(self) -> None:
        display(self.widget)

    @property
    def values(self) -> dict[str, Any]:
        return {"name": self.name.value.strip() or "Bandwidth API Keys",
                "include_secrets": bool(self.include_secrets.value), "out_dir": self.out_dir.value.strip()}

    def preview(self) -> Any:
        """The environment's variables as a table; secrets always masked here."""
        from .postman import environment_frame

        config = getattr(self.setup, "config", None)
        state = self.setup.saved if self.setup is not None else None
        return environment_frame(config, state, include_secrets=self.values["include_secrets"], masked=True)

    def export(self) -> dict[str, Any]:
        """Write both files and show download links."""
        import os

        from IPython.display import FileLink

        from .postman import export

        v = self.values
        config = getattr(self.setup, "config", None)
        state = self.setup.saved if self.setup is not None else None
        files = export(config, state, out_dir=v["out_dir"], name=v["name"], include_secrets=v["include_secrets"])
        for kind, path in files.items():
            try:
                rel = os.path.relpath(path)
            except ValueError:
                rel = str(path)
            display(HTML(f"{kind}: "))
            display(FileLink(rel))
        return {k: str(p) for k, p in files.items()}


def export_form(setup: Any, out_dir: str | None = None) -> ExportForm:
    """The notebook-10 export form for ``setup``'s target and saved IDs."""
    return ExportForm(setup, out_dir)
