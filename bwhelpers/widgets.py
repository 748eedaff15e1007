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
import time
from typing import Any, Callable

import ipywidgets as w
from IPython.display import HTML, Code, display

from . import phone, steps, views
from .criteria import QUANTITY_MAX, criterion_problem
from .exceptions import BandwidthError
from .masking import mask

_WIDE = w.Layout(width="36em")
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
            415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}
_STYLE = {"description_width": "11em"}


# -- progress -------------------------------------------------------------------------------------

_CHIP = {"done": ("#1b7f3b", "✓"), "partial": ("#b26a00", "◐"), "failed": ("#c62828", "✗"),
         "pending": ("#6b6b6b", "○")}


def progress_html(done: dict[int, Any], current: int | None = None) -> str:
    """The walkthrough's steps as a strip of links to their notebooks: done ✓, partial ◐, failed ✗, pending ○.

    ``done`` maps a step number to True/False or to its status text (``Setup.status()``'s ``status``)."""
    chips = []
    for p in steps.STEPS:
        number, label = p.number, p.title
        value = done.get(number)
        status = value if isinstance(value, str) else ("done" if value else "pending")
        colour, icon = _CHIP.get(status, _CHIP["pending"])
        border = "2px solid #2962ff" if number == current else "1px solid #ccc"
        chips.append(
            f'<a class="bw-chip bw-chip-{status}" href="{html.escape(p.filename)}" '
            f'title="{html.escape(label)}: {status} (open {html.escape(p.filename)})" '
            f'style="display:inline-block;margin:2px;padding:2px 8px;border:{border};border-radius:10px;'
            f'color:{colour};font-size:90%;text-decoration:none">'
            f'{icon} {number}. {html.escape(label)}</a>')
    return '<div class="bw-progress">' + "".join(chips) + "</div>"


class Progress:
    """The progress strip as a plain HTML display (no widget model, so it survives a reopened notebook);
    ``refresh`` updates it in place."""

    def __init__(self, setup: Any, current: int | None = None):
        self.setup, self.current = setup, current
        self.handle: Any = None

    def html(self) -> str:
        return progress_html(_statuses(self.setup), self.current)

    def show(self) -> None:
        self.handle = display(HTML(self.html()), display_id=True)

    def refresh(self) -> None:
        if self.handle is not None:
            self.handle.update(HTML(self.html()))

    def _ipython_display_(self) -> None:
        self.show()


def progress_widget(setup: Any, current: int | None = None) -> Progress:
    """The guide's steps from the saved state; ``refresh_progress`` (or ``.refresh()``) updates it."""
    return Progress(setup, current)


def refresh_progress(widget: Progress, setup: Any, current: int | None = None) -> None:
    widget.setup, widget.current = setup, current
    widget.refresh()


def _status_items(setup: Any) -> list[dict[str, Any]]:
    try:
        return list(setup.status())
    except Exception:
        return []


def _done(setup: Any) -> dict[int, bool]:
    return {int(item["step"]): bool(item.get("done")) for item in _status_items(setup)}


def _statuses(setup: Any) -> dict[int, str]:
    return {int(item["step"]): str(item.get("status") or ("done" if item.get("done") else "pending"))
            for item in _status_items(setup)}


class Waiting:
    """A line of live progress in words for a wait ("waiting for …, 3 s of 20 s"), shown only once the wait
    has taken longer than ``after`` seconds; ``finish`` replaces it with the outcome (or nothing)."""

    def __init__(self, what: str, timeout: float, after: float = 0.5):
        self.what, self.timeout, self.after = what, timeout, after
        self.handle: Any = None
        self.start = time.monotonic()

    def _line(self, text: str, kind: str = "info") -> HTML:
        colour = views.KINDS.get(kind, views.KINDS["info"])[0]
        return HTML(f'<div class="bw-waiting bw-waiting-{kind}" style="color:{colour}">{text}</div>')

    def update(self, status: str = "") -> None:
        elapsed = time.monotonic() - self.start
        if elapsed < self.after:
            return
        extra = f" — {html.escape(status)}" if status else ""
        line = self._line(f"⏳ waiting for {html.escape(self.what)}{extra}, {elapsed:.0f} s of {self.timeout:g} s")
        if self.handle is None:
            self.handle = display(line, display_id=True)
        else:
            self.handle.update(line)

    def finish(self, text: str = "", kind: str = "ok") -> None:
        if self.handle is None:
            if text:
                display(self._line(text, kind))
            return
        self.handle.update(self._line(text, kind) if text else HTML(""))


def order_bar_html(status: str | None, completed: int, failed: int, quantity: int | None = None,
                   noun: str = "number(s) in service") -> str:
    """A bar for an order's outcome: green COMPLETE, amber PARTIAL/BACKORDERED, red FAILED."""
    kind = {"COMPLETE": "ok", "PARTIAL": "warn", "BACKORDERED": "warn", "FAILED": "error"}.get(status or "", "info")
    colour = views.KINDS[kind][0]
    total = quantity or (completed + failed) or 1
    share = 100 if status in ("FAILED", "COMPLETE") else max(0, min(100, round(100 * completed / total)))
    label = f"{status or 'unknown'}: {completed} of {total} {noun}"
    return (f'<div class="bw-order-bar bw-order-{kind}" style="margin:4px 0;max-width:36em">'
            f'<div style="background:#eee;border-radius:4px;height:12px"><div style="width:{share}%;height:12px;'
            f'border-radius:4px;background:{colour}"></div></div>'
            f'<div style="color:{colour};font-weight:600">{html.escape(label)}</div></div>')


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
    auth = str(exchange.request_headers.get("Authorization") or "")
    if auth:  # already masked by http; only the scheme is ever shown
        text += f"\nAuthorization: {auth.split(' ', 1)[0]} ******** (from your credentials)"
    if body:
        text += "\n\n" + body
    # Pygments' http lexer highlights the request line and headers, and the body by its Content-Type
    display(Code(text, language="http"))


def result_html(result: Any) -> str:
    """The parsed response, designed for what it is: a list as rows, one object as a field/value table."""
    records = getattr(result, "records", None)
    if records is not None:
        return views.rows_html(records, empty="(none found)")
    data = getattr(result, "data", None)
    return views.object_html(data if data is not None else {})


def show_response(result: Any, title: str = "Response") -> None:
    """Status line, the parsed response (a table designed for the object), and the raw body one click away."""
    ex = getattr(result, "exchange", None)
    if ex is not None:
        loc = ex.response_headers.get("Location") or ex.response_headers.get("location")
        line = f"<b>{title}: HTTP {ex.status}</b> in {ex.elapsed * 1000:.0f} ms"
        if loc:
            line += f" &nbsp; <code style=\"overflow-wrap:anywhere\">Location: {html.escape(loc)}</code>"
        display(HTML(f'<div class="bw-status-line">{line}</div>'))
    try:
        display(HTML(result_html(result)))
    except Exception as exc:  # pragma: no cover - display never fails the cell
        display(HTML(f"<pre>{html.escape(str(exc))}</pre>"))
    if ex is not None:
        raw, lang = _pretty(ex.response_body)
        headers = "\n".join(f"{k}: {v}" for k, v in ex.response_headers.items())
        text = f"HTTP/1.1 {ex.status} {_REASONS.get(ex.status, '')}\n{headers}\n\n{raw}"
        # a <details> element, not a widget: it needs no kernel, so it still opens in a reopened notebook
        display(HTML('<details class="bw-raw"><summary>Raw response</summary><pre style="white-space:pre-wrap;'
                     f'overflow-wrap:anywhere;max-width:100%">{html.escape(text)}</pre></details>'))


class ObjectView:
    """One object shown as a field/value table (``views.object_html``); ``.data`` is the object."""

    def __init__(self, data: Any):
        self.data = data

    def _repr_html_(self) -> str:
        return views.object_html(self.data)

    def __repr__(self) -> str:
        return f"ObjectView({self.data!r})"


def show_saved(label: str, value: Any) -> None:
    if value:
        display(HTML(f'<div class="bw-saved">Saved <b>{html.escape(label)}</b>: '
                     f'<code>{html.escape(str(value))}</code> — the next steps read it from the saved state.</div>'))


def error_html(exc: BaseException) -> str:
    """A red callout: the error's kind, HTTP status and code, what it means, and how to fix it."""
    code = getattr(exc, "code", None)
    desc = getattr(exc, "description", None) or str(exc)
    fix = getattr(exc, "fix", None)
    status = getattr(exc, "status", None)
    parts = [type(exc).__name__]
    if status:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(f"code {code}")
    body = f"<div>{html.escape(str(desc))}</div>"
    if fix:
        body += f"<div><b>How to fix:</b> {html.escape(str(fix))}</div>"
    return views.callout("error", " · ".join(parts), body, "bw-error")


def show_error(exc: BaseException) -> None:
    """A readable error box: Bandwidth's code and description, and the fix. Never a traceback."""
    display(HTML(error_html(exc)))


def show_note(text: str, kind: str = "info") -> None:
    """A callout; ``kind`` info/warn/ok/error. ``text`` is trusted HTML."""
    border, background, _ = views.KINDS.get(kind, views.KINDS["info"])
    display(HTML(f'<div class="bw-note bw-note-{kind}" style="border-left:5px solid {border};background:{background};'
                 f'padding:6px 10px;margin:6px 0;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere">'
                 f"{text}</div>"))


def show_callout(kind: str, title: str, body_html: str = "") -> None:
    display(HTML(views.callout(kind, title, body_html)))


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

    def bind(self, saved: dict[str, Any] | None, save: Callable[[dict[str, Any]], None]) -> "Form":
        """Start from ``saved`` values (the user's last ones) and call ``save(values)`` on every change, so a
        Run All or a kernel restart keeps what the user typed. Password fields are never loaded or saved."""
        plain = {n: f for n, f in self.fields.items() if not isinstance(f, w.Password)}
        for name, field in plain.items():  # in field order: a criterion is set before its value
            if saved and name in saved:
                try:
                    field.value = saved[name]
                except Exception:  # a value the widget no longer accepts: keep the default
                    pass

        def _changed(_: Any) -> None:
            save({n: f.value for n, f in plain.items()})

        for field in plain.values():
            field.observe(_changed, names="value")
        self._validate()
        return self

    def _validate(self) -> None:
        errs = self.errors
        self.messages.value = "".join(
            f'<div style="color:#c62828">⚠ {html.escape(self.fields[n].description or n)}: {html.escape(m)}</div>'
            for n, m in errs.items())

    def _ipython_display_(self) -> None:
        display(self.widget)


def _text(description: str, value: str = "", placeholder: str = "", style: dict[str, str] | None = None) -> w.Text:
    return w.Text(value=value, description=description, placeholder=placeholder, style=style or _STYLE, layout=_WIDE,
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

    style = {"description_width": "14em"}  # room for "RequestedCallbackTypes"
    return Form("Application", {
        "name": _text("AppName", default_name, style=style),
        "inbound_callback_url": _text("InboundCallbackUrl", default_url,
                                      placeholder="blank = the sandbox's request bin", style=style),
        "outbound_callback_url": _text("OutboundCallbackUrl", "",
                                       placeholder="blank = the same URL as inbound (sandbox)", style=style),
        "callback_types": w.SelectMultiple(options=list(CALLBACK_TYPES), value=CALLBACK_TYPES[:2],
                                           description="RequestedCallbackTypes", rows=3, style=style,
                                           layout=w.Layout(width="28em")),
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
    form = Form("Order numbers", {
        "criterion": criterion,
        "value": value,
        "quantity": w.BoundedIntText(value=quantity, min=1, max=QUANTITY_MAX, description="Quantity", style=_STYLE),
    }, {"value": lambda v: criterion_problem(criterion.value, v)})
    criterion.observe(lambda _: form._validate(), names="value")
    return form


def message_form(default_to: str = "+19195550123", default_text: str = "Good morning, this is a test message") -> Form:
    """Step 9: the destination number and the text (≤ 2048 characters)."""
    return Form("Message", {
        "to": _text("to", default_to, placeholder="+1 919 555 0123"),
        "text": w.Textarea(value=default_text, description="text", style=_STYLE, layout=_WIDE),
    }, {"to": _check_number,
        "text": lambda v: None if 0 < len(v) <= 2048 else
        f"must be 1 to 2048 characters (it has {len(v)})"})


def confirm_button(label: str, on_confirm: Callable[[], None]) -> w.VBox:
    """A two-stage confirmation: a checkbox must be ticked before the button acts."""
    tick = w.Checkbox(value=False, description="I understand this deletes the objects on the server",
                      style={"description_width": "initial"}, layout=w.Layout(width="auto"), indent=False)
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
    """Target, ids and API credentials (Client ID / Client Secret); Connect checks them with a cheap
    authenticated GET (which fetches a token first).

    The legacy API user (username/password) and the guide's token:secret fields sit behind the "Use a legacy
    API user" toggle: the real service refuses API users after 2026-12-02. Environment variables pre-fill the
    non-secret fields; a secret already in the environment shows as a placeholder and is never copied into the
    widget. Secret fields are cleared after use, so nothing secret stays in widget state.
    """

    SECRET_FIELDS = ("client_secret", "password", "api_token", "api_secret")

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
        self.client_id = _text("Client ID", env.get("BW_CLIENT_ID", ""), "from Account > API Credentials")
        self.client_secret = w.Password(description="Client Secret", style=_STYLE, layout=_WIDE,
                                        placeholder="(from BW_CLIENT_SECRET)" if env.get("BW_CLIENT_SECRET") else "")
        self.username = _text("API username", env.get("BW_USERNAME", ""))
        self.password = w.Password(description="API password", style=_STYLE, layout=_WIDE,
                                   placeholder="(from BW_PASSWORD)" if env.get("BW_PASSWORD") else "")
        self.user_id = _text("Legacy user id", env.get("BW_USER_ID", ""), "only for the guide's v2 endpoint")
        self.api_token = w.Password(description="Legacy API token", style=_STYLE, layout=_WIDE,
                                    placeholder="(from BW_API_TOKEN)" if env.get("BW_API_TOKEN") else "")
        self.api_secret = w.Password(description="Legacy API secret", style=_STYLE, layout=_WIDE,
                                     placeholder="(from BW_API_SECRET)" if env.get("BW_API_SECRET") else "")
        from .config import ENV_VARS, choose_auth

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
        self.status = w.HTML()
        self.status.add_class("bw-status")
        self.legacy_box = w.VBox([
            w.HTML('<div style="color:#ef6c00">⚠ Legacy API users (HTTP Basic) were retired by Bandwidth on '
                   '2026-12-02: the real service refuses them. Use them only for old accounts in the sandbox or '
                   'to replay the guide\'s requests.</div>'),
            self.username, self.password,
            w.HTML("<i>The guide's original messaging endpoint (api.catapult.inetwork.com), token:secret:</i>"),
            self.user_id, self.api_token, self.api_secret])
        self.legacy_box.add_class("bw-legacy")
        self.real_box = w.VBox([
            self.account_id, self.site_id,
            w.HTML("<i>API credentials: Bandwidth App &gt; Account &gt; API Credentials (roles Messaging and "
                   "Numbers). The Client Secret is shown only once, when it is created.</i>"),
            self.client_id, self.client_secret, self.legacy, self.legacy_box, self.remember])
        self.target.observe(self._toggle, names="value")
        self.legacy.observe(self._toggle_legacy, names="value")
        self.button.on_click(lambda _: self.connect())
        self._toggle({"new": self.target.value})
        self._toggle_legacy({"new": self.legacy.value})
        self.widget = w.VBox([w.HTML("<b>Credentials</b>"), self.target, self.real_box, self.button, self.status])
        self.widget.add_class("bw-credentials")

    def _toggle(self, change: dict[str, Any]) -> None:
        self.real_box.layout.display = None if change["new"] == "real" else "none"

    def _toggle_legacy(self, change: dict[str, Any]) -> None:
        self.legacy_box.layout.display = None if change["new"] else "none"

    def _ipython_display_(self) -> None:
        display(self.widget)

    def _clear_secrets(self) -> None:
        for name in self.SECRET_FIELDS:
            getattr(self, name).value = ""

    def connect(self) -> Any:
        """Resolve a Config from the form (or the sandbox), check it, and show OK or the exact error."""
        from .connection import live_config
        from .dashboard import DashboardClient

        try:
            if self.target.value == "sandbox":
                config = live_config(target="sandbox")
            else:
                explicit: dict[str, Any] = {"target": "real"}
                texts = ["account_id", "site_id", "client_id"]
                secrets = ["client_secret"]
                if self.legacy.value:
                    explicit["auth"] = "basic"
                    texts += ["username", "user_id"]
                    secrets += ["password", "api_token", "api_secret"]
                for name in texts:
                    value = getattr(self, name).value.strip()
                    if value:
                        explicit[name] = value
                for name in secrets:
                    value = getattr(self, name).value
                    if value:
                        explicit[name] = value
                config = live_config(**explicit)
            self._clear_secrets()
            DashboardClient(config).get_site()
            if self.remember.value and self.target.value == "real":
                path = config.remember()
                extra = f" Saved to {html.escape(str(path))} (mode 0600)."
            elif self.target.value == "real" and not (self.env.get("BW_CLIENT_SECRET") or self.env.get("BW_PASSWORD")):
                extra = (" <b>Note:</b> only this notebook knows these credentials; tick <i>Remember</i> (or set "
                         "the BW_* variables) so the other notebooks use this account too.")
            else:
                extra = ""
            if config.auth_warning:
                extra += f' <span style="color:#ef6c00">⚠ {html.escape(config.auth_warning)}</span>'
            self.config = config
            where = "the local sandbox" if config.is_sandbox else f"account {html.escape(str(config.account_id))}"
            how = "API credentials (OAuth 2.0)" if config.uses_oauth else "a legacy API user (Basic)"
            self.status.value = (f'<span class="bw-ok" style="color:#1b7f3b"><b>✓ OK</b> — connected to {where} '
                                 f'({html.escape(config.dashboard_url)}) with {how}.{extra}</span>')
            if self.on_connect:
                self.on_connect(config)
            return config
        except BandwidthError as exc:
            self._clear_secrets()
            fix = f" — {html.escape(exc.fix)}" if exc.fix and exc.fix not in str(exc) else ""
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
                "client_id": self.client_id.value,
                "client_secret": mask(self.client_secret.value) if self.client_secret.value else "",
                "legacy": self.legacy.value, "username": self.username.value,
                "password": mask(self.password.value) if self.password.value else ""}


# -- Postman export form (notebook 11) --------------------------------------------------------------

class ExportForm:
    """Environment name, include-secrets (off, with a warning when on) and the output folder."""

    def __init__(self, setup: Any, out_dir: str | None = None):
        self.setup = setup
        # next to the notebook (gitignored), so JupyterLab can serve the download links even when it
        # was started on the notebooks folder
        default_out = out_dir or _default_exports()
        self.name = _text("Environment name", "Bandwidth API Keys")
        self.include_secrets = w.Checkbox(value=False, description="Include secrets (client secret, password, token, "
                                          "secret)", style={"description_width": "initial"},
                                          layout=w.Layout(width="auto"))
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


def _default_exports() -> str:
    """``exports`` in the project folder (where the README's newman command reads), relative to the cwd when
    that is inside the project (so JupyterLab can serve the links), else absolute."""
    from .paths import project_root

    folder = project_root() / "exports"
    try:
        return os.path.relpath(folder)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(folder)


def export_form(setup: Any, out_dir: str | None = None) -> ExportForm:
    """The notebook-10 export form for ``setup``'s target and saved IDs."""
    return ExportForm(setup, out_dir)
