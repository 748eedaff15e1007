"""Showing things in a notebook: a request as sent, a response designed for what it is, a saved id, an error with its
fix, a callout, an order's outcome bar. Everything goes through :func:`bwhelpers.ui.output.emit`."""
from __future__ import annotations

import html
import json
from typing import Any

from .. import statuses, theme, views
from ..tables import Table
from .output import emit

__all__ = ["show_request", "show_response", "result_html", "ObjectView", "show_saved", "error_html", "show_error",
           "show_note", "note_html", "show_callout", "order_bar_html", "show_html", "REASONS", "RequestView"]

REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
           415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


def show_html(text: str) -> None:
    """Show trusted HTML."""
    from IPython.display import HTML

    emit(HTML(text))


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
    emit(RequestView(text))


class RequestView:
    """A request as sent, in the theme's text colour (readable in light and dark): the request line and the header
    names in bold, the body as sent. Lines wrap between words and URLs only after their slashes (never
    ``htt/p://`` or ``HTTP/1./1``, as JupyterLab's own ``pre`` does with its break-anywhere rule). ``.data`` is the
    plain text."""

    def __init__(self, text: str):
        self.data = text

    def _repr_html_(self) -> str:
        import re

        head, _, body = self.data.partition("\n\n")
        lines = head.splitlines()
        shown = [f"<b>{views.text_html(lines[0])}</b>"] if lines else []
        for line in lines[1:]:
            m = re.match(r"([A-Za-z0-9-]+):(.*)", line)
            shown.append(f"<b>{views.esc(m.group(1))}</b>:{views.text_html(m.group(2))}" if m
                         else views.text_html(line))
        text = "\n".join(shown) + (f"\n\n{views.text_html(body)}" if body else "")
        return (f'<pre class="bw-request" style="color:{theme.TEXT};background:{theme.SURFACE};padding:6px 8px;'
                "margin:4px 0;white-space:pre-wrap;word-break:normal;overflow-wrap:break-word;max-width:100%;"
                f'box-sizing:border-box">{text}</pre><style>.bw-request .bw-tok{{white-space:nowrap}}</style>')

    def __repr__(self) -> str:
        return self.data


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
        line = f"<b>{views.esc(title)}: HTTP {ex.status}</b> in {ex.elapsed * 1000:.0f} ms"
        if loc:
            line += f" &nbsp; <code>Location: {views.text_html(loc)}</code>"
        show_html(f'<div class="bw-status-line" style="color:{theme.TEXT}">{line}</div>')
    try:
        show_html(result_html(result))
    except Exception as exc:  # pragma: no cover - display never fails the cell
        show_html(f"<pre>{views.esc(str(exc))}</pre>")
    if ex is not None:
        raw, _ = _pretty(ex.response_body)
        headers = "\n".join(f"{k}: {v}" for k, v in ex.response_headers.items())
        text = f"HTTP/1.1 {ex.status} {REASONS.get(ex.status, '')}\n{headers}\n\n{raw}"
        # a <details> element, not a widget: it needs no kernel, so it still opens in a reopened notebook
        show_html(f'<details class="bw-raw" style="color:{theme.TEXT}"><summary>Raw response</summary>'
                  '<pre style="white-space:pre-wrap;word-break:normal;overflow-wrap:break-word;max-width:100%">'
                  f'{views.text_html(text)}</pre></details><style>.bw-raw .bw-tok{{white-space:nowrap}}</style>')


class ObjectView:
    """One object shown as a field/value table (``views.object_html``); ``.data`` is the object."""

    def __init__(self, data: Any):
        self.data = data

    def _repr_html_(self) -> str:
        return views.object_html(self.data)

    def __repr__(self) -> str:
        return f"ObjectView({self.data!r})"


class LiveObjectView(ObjectView):
    """An :class:`ObjectView` shown in place (a display id): :meth:`replace` redraws it where it is, with an
    optional note above (00's target table after a later Connect)."""

    def __init__(self, data: Any):
        super().__init__(data)
        self.note = ""
        self.live: Any = None

    def _repr_html_(self) -> str:  # a note alone when there is nothing to list (never a bare "(empty body)")
        return self.note + (views.object_html(self.data) if self.data or not self.note else "")

    def _ipython_display_(self) -> None:
        from IPython.display import HTML

        from .output import Live

        self.live = Live()
        self.live.update(HTML(self._repr_html_()))

    def replace(self, data: Any, note: str = "") -> None:
        """New data (and note, trusted HTML) drawn where the table is shown (nothing when it is not shown)."""
        self.data, self.note = data, note
        if self.live is not None and self.live.shown:
            from IPython.display import HTML

            self.live.update(HTML(self._repr_html_()))


def live_table(table: Any) -> Any:
    """``table`` (a :class:`bwhelpers.tables.Table`) shown in place: its ``stale(note)`` later folds what it shows
    under a note, once that no longer holds (13's preflight after the teardown). Used as a DataFrame it is one, as
    every Table is. Anything else (None, a DataFrame) is returned as it is."""
    if type(table) is not Table:
        return table
    return LiveTable(table.rows, table.all_columns, table.view, table._dtypes)


class LiveTable(Table):
    """A :class:`~bwhelpers.tables.Table` drawn where it is (a display id), so :meth:`stale` can fold it later."""

    live: Any = None

    def _ipython_display_(self) -> None:
        from IPython.display import HTML

        from .output import Live

        self.live = Live()
        self.live.update(HTML(self._repr_html_()))

    def stale(self, note_html: str) -> None:
        """Fold the table under ``note_html`` (trusted HTML) where it is shown: it still opens, as it was."""
        if self.live is None or not self.live.shown:
            return
        from IPython.display import HTML

        self.live.update(HTML(f'{note_html}<details class="bw-stale" style="color:{theme.TEXT}"><summary>The '
                              f'table as it was</summary>{self._repr_html_()}</details>'))


def show_saved(label: str, value: Any) -> None:
    if value:
        show_html(f'<div class="bw-saved" style="color:{theme.TEXT}">Saved <b>{views.esc(label)}</b>: '
                  f'<code>{views.esc(str(value))}</code> — the next steps read it from the saved state.</div>')


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
    body = f"<div>{views.esc(str(desc))}</div>"
    if fix:
        body += f"<div><b>How to fix:</b> {views.esc(str(fix))}</div>"
    # the headless run's failure line names the cause, not only the kind of error
    return views.callout("error", " · ".join(parts), body, "bw-error", cause=f"{' · '.join(parts)}: {desc}")


def show_error(exc: BaseException) -> None:
    """A readable error box: Bandwidth's code and description, and the fix. Never a traceback."""
    show_html(error_html(exc))


def note_html(text: str, kind: str = "info", incomplete: bool = False) -> str:
    """A one-paragraph callout; ``kind`` info/warn/ok/error. ``text`` is trusted HTML. ``incomplete`` marks it as
    "a step did not complete" (see :func:`bwhelpers.views.callout`)."""
    mark = ""
    if incomplete:
        import re

        cause = views.esc(html.unescape(re.sub(r"<[^>]+>", "", text)).strip()[:200])
        mark = f' {views.INCOMPLETE}" data-cause="{cause}'
    return (f'<div class="bw-note bw-note-{kind}{mark}" style="border-left:5px solid {theme.line(kind)};'
            f'background:{theme.tint(kind)};color:{theme.TEXT};padding:6px 10px;margin:6px 0;max-width:100%;'
            f'box-sizing:border-box;overflow-wrap:break-word;{views.TIGHT}">{text}</div>{views.CALLOUT_CSS}')


def show_note(text: str, kind: str = "info", incomplete: bool = False) -> None:
    """A callout; ``kind`` info/warn/ok/error. ``text`` is trusted HTML."""
    show_html(note_html(text, kind, incomplete))


def show_callout(kind: str, title: str, body_html: str = "", incomplete: bool | None = None) -> None:
    """A titled callout (:func:`bwhelpers.views.callout`)."""
    show_html(views.callout(kind, title, body_html, incomplete=incomplete))


def order_bar_html(status: str | None, completed: int, failed: int, quantity: int | None = None,
                   noun: str = "number(s) in service") -> str:
    """A bar for an order's outcome: green COMPLETE, amber PARTIAL/BACKORDERED, red FAILED."""
    kind = ("ok" if status == statuses.COMPLETE else "warn" if status in statuses.SHORT
            else "error" if status == statuses.FAILED else "info")
    total = quantity or (completed + failed) or 1
    share = 100 if status in (statuses.FAILED, statuses.COMPLETE) else max(0, min(100, round(100 * completed / total)))
    label = f"{status or 'unknown'}: {completed} of {total} {noun}"
    return (f'<div class="bw-order-bar bw-order-{kind}" style="margin:4px 0;max-width:36em">'
            f'<div style="background:{theme.SURFACE};border-radius:4px;height:12px"><div style="width:{share}%;'
            f'height:12px;border-radius:4px;background:{theme.line(kind)}"></div></div>'
            f'<div style="color:{theme.accent(kind)};font-weight:600">{views.esc(label)}</div></div>')
