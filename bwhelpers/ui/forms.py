"""The step input forms (ipywidgets), validated in the widget with defaults that work in the sandbox, and the
teardown's two-stage confirmation. Cells read ``form.values``, so a headless run uses the defaults."""
from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as w

from .. import guide, phone, theme
from ..criteria import QUANTITY_MAX, criterion_problem
from .output import emit

__all__ = ["Form", "application_form", "location_form", "order_form", "message_form", "SEARCH_CRITERIA",
           "criterion_problem", "confirm_button", "plain_form", "text_field", "WIDE", "STYLE"]

WIDE = w.Layout(width="36em")
STYLE = {"description_width": "11em"}


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

    def label(self, name: str) -> str:
        """The label the form shows for field ``name`` (``Value`` for ``value``): what messages call it."""
        field = self.fields.get(name)
        return str(getattr(field, "description", "") or name)

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
        # line-height of running text: a widget's HTML inherits the widgets' 28 px row height (gappy lines)
        self.messages.value = "".join(
            f'<div class="bw-form-problem" style="color:{theme.accent("error")};line-height:1.4;margin:2px 0;'
            f'max-width:48em;white-space:normal">{theme.ICONS["warn"]} '
            f'<b>{html.escape(self.label(n))}</b>: {html.escape(m)}</div>'
            for n, m in errs.items())

    def _ipython_display_(self) -> None:
        emit(self.widget)


def text_field(description: str, value: str = "", placeholder: str = "", style: dict[str, str] | None = None) -> w.Text:
    return w.Text(value=value, description=description, placeholder=placeholder, style=style or STYLE, layout=WIDE,
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


def _one_destination(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """``check`` for the send form's ``to``, saying first that the form sends to one number at a time (the API
    takes several recipients; the form keeps one text, one receipt, one number)."""
    def _check(value: Any) -> str | None:
        several = phone.how_many(value)
        if several > 1:
            return (f"{str(value).strip()!r} holds {several} numbers, but this form sends to one number per send: "
                    "type one number, such as '+19195551212', and send again for the next one")
        return check(value)
    return _check


def _callback_types(value: Any) -> str | None:
    return None if value else "tick at least one, or Bandwidth sends no delivery receipts"


def application_form(default_name: str = guide.APPLICATION_NAME, default_url: str = "") -> Form:
    """The application step's form: the application's name and today's callback fields: the inbound URL (incoming messages), the
    outbound URL (delivery receipts) and the status events to receive (``RequestedCallbackTypes``)."""
    from ..dashboard import CALLBACK_TYPES

    style = {"description_width": "14em"}  # room for "RequestedCallbackTypes"
    return Form("Application", {
        "name": text_field("AppName", default_name, style=style),
        "inbound_callback_url": text_field("InboundCallbackUrl", default_url,
                                      placeholder="blank = the sandbox's request bin", style=style),
        "outbound_callback_url": text_field("OutboundCallbackUrl", "",
                                       placeholder="blank = the same URL as inbound (sandbox)", style=style),
        "callback_types": w.SelectMultiple(options=list(CALLBACK_TYPES), value=CALLBACK_TYPES[:2],
                                           description="RequestedCallbackTypes", rows=3, style=style,
                                           layout=w.Layout(width="28em")),
    }, {"name": lambda v: None if v.strip() else "required: type a name for the application",
        "inbound_callback_url": _check_url, "outbound_callback_url": _check_url,
        "callback_types": _callback_types})


def location_form(default_name: str = guide.LOCATION_NAME) -> Form:
    """The location step's form: the location (sippeer) name and whether it is the site's default."""
    return Form("Location (sippeer)", {
        "name": text_field("PeerName", default_name),
        "default": w.Checkbox(value=True, description="IsDefaultPeer", style=STYLE),
    }, {"name": lambda v: None if v.strip() else "required: type a name for the location"})


SEARCH_CRITERIA = {
    "area_code": ("Area code", guide.AREA_CODE),
    "zip": ("ZIP code", "27606"),
    "state": ("State", "NC"),
    "npa_nxx": ("NPA-NXX", "919555"),
    "toll_free_wildcard": ("Toll-free pattern", "8**"),
}


def order_form(default_criterion: str = "area_code", default_value: str = guide.AREA_CODE, quantity: int = 1) -> Form:
    """The order step's form: one search criterion and the quantity."""
    criterion = w.Dropdown(options=[(label, key) for key, (label, _) in SEARCH_CRITERIA.items()],
                           value=default_criterion, description="Search by", style=STYLE)
    value = text_field("Value", default_value)

    def _on_criterion(change: dict[str, Any]) -> None:
        value.value = SEARCH_CRITERIA[change["new"]][1]

    criterion.observe(_on_criterion, names="value")
    form = Form("Order numbers", {
        "criterion": criterion,
        "value": value,
        "quantity": w.BoundedIntText(value=quantity, min=1, max=QUANTITY_MAX, description="Quantity", style=STYLE),
    }, {"value": lambda v: criterion_problem(criterion.value, v)})
    criterion.observe(lambda _: form._validate(), names="value")
    return form


def message_form(default_to: str = guide.SANDBOX_PHONE, default_text: str = guide.MESSAGE_TEXT,
                 real: bool = False) -> Form:
    """The send step's form: the destination number and the text (≤ 2048 characters). With ``real`` (a real,
    billed account) a fictional 555-01xx destination is refused too, before any request."""
    return Form("Message", {
        "to": text_field("to", default_to, placeholder="your own mobile number" if real else "+1 919 555 0123"),
        "text": w.Textarea(value=default_text, description="text", style=STYLE, layout=WIDE),
    }, {"to": _one_destination(phone.real_destination_problem if real else _check_number),
        "text": lambda v: None if 0 < len(v) <= 2048 else
        f"must be 1 to 2048 characters (it has {len(v)})"})


def plain_form(title: str, defaults: dict[str, Any], required: tuple[str, ...] = ()) -> Form:
    """A form built from default values, for a step without a form of its own: a checkbox for a bool, a whole-number
    box for an int, a text field otherwise (labelled with the field's name); ``required`` fields may not be blank."""
    fields: dict[str, w.ValueWidget] = {}
    for name, value in defaults.items():
        if isinstance(value, bool):
            fields[name] = w.Checkbox(value=value, description=name, style=STYLE)
        elif isinstance(value, int):
            fields[name] = w.IntText(value=value, description=name, style=STYLE, layout=WIDE)
        else:
            fields[name] = text_field(name, "" if value is None else str(value))
    unknown = [n for n in required if n not in fields]
    if unknown:
        raise ValueError(f"required: {unknown} are not fields of the form ({sorted(fields)})")

    def needed(name: str) -> Callable[[Any], str | None]:
        return lambda v: None if str(v).strip() else f"required: type the {name}"

    return Form(title, fields, {n: needed(n) for n in required})


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
