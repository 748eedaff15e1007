"""HTML views of results for JupyterLab: one display per kind of object, sized for a 1000 px notebook.

* a single object -> a vertical field/value table, nested XML shown as nested tables (:func:`object_html`);
* a list -> rows with the columns a person compares (:func:`rows_html`); the rest is in the raw view;
* an error -> a red callout with the code, its meaning and the fix; a warning (PARTIAL, empty search, a reused
  object) -> an amber callout (:func:`callout`).

Plain HTML strings (no pandas, no widgets): JupyterLab renders them as they are, the tests read them as text.
Every table has ``table-layout: fixed; width: 100%`` and wraps long values, so nothing scrolls sideways.
"""
from __future__ import annotations

import html
from typing import Any, Iterable, Mapping, Sequence

from .masking import mask, scrub

__all__ = ["object_html", "rows_html", "callout", "fmt", "pick_columns", "CSS", "KINDS"]

_SECRET_WORDS = ("password", "secret", "token")

#: callout kinds -> (border colour, background, icon)
KINDS = {"error": ("#c62828", "#fdecea", "✗"), "warn": ("#b26a00", "#fff4e5", "⚠"),
         "ok": ("#1b7f3b", "#edf7ed", "✓"), "info": ("#2962ff", "#eef3ff", "ℹ")}

CSS = ("<style>"
       ".bw-wrap table.bw-table{table-layout:fixed;width:100%;max-width:100%;border-collapse:collapse;margin:4px 0;"
       "font-size:13px}"
       ".bw-wrap table.bw-table th,.bw-wrap table.bw-table td{border:1px solid #e0e0e0;padding:3px 6px;"
       "text-align:left;vertical-align:top;overflow-wrap:anywhere;word-break:break-word;white-space:normal}"
       ".bw-wrap table.bw-table th{background:#f5f5f5;font-weight:600;overflow-wrap:normal;word-break:normal}"
       ".bw-wrap table.bw-rows th{white-space:nowrap}"
       ".bw-wrap table.bw-table td.bw-key{width:32%;color:#444;font-weight:600;background:#fafafa}"
       ".bw-wrap table.bw-table table.bw-table{margin:0;font-size:12px}"
       ".bw-wrap table.bw-table tr.bw-detail td{background:#fbfbfb;color:#333;font-size:12px}"
       ".bw-wrap table.bw-table td.bw-st-failed{color:#c62828;font-weight:700}"
       ".bw-wrap table.bw-table td.bw-st-partial{color:#b26a00;font-weight:700}"
       ".bw-wrap table.bw-table td.bw-st-done{color:#1b7f3b}"
       ".bw-wrap table.bw-rows{table-layout:auto}"  # columns sized by content; anywhere-wrapping keeps it in 100%
       ".bw-wrap{max-width:100%;overflow-x:hidden}"
       "</style>")


def fmt(value: Any) -> str:
    """One value as text: booleans lower-case as in the APIs' XML/JSON (``true``), None blank, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    text = str(value)
    if text in ("True", "False"):
        return text.lower()
    if text in ("<NA>", "nan", "NaT"):
        return ""
    return scrub(text)


def _secret_key(key: Any) -> bool:
    return any(w in str(key).lower() for w in _SECRET_WORDS)


def _label(key: Any) -> str:
    return str(key).lstrip("@").replace("#text", "text")


def _cell(value: Any, key: Any = "") -> str:
    """A value cell: nested dicts as nested tables, lists of dicts as nested rows, scalars escaped."""
    if _secret_key(key) and isinstance(value, str):
        return html.escape(mask(value))
    if isinstance(value, Mapping):
        return _object_table(value) if value else ""
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            if len(value) == 1:
                return _object_table(value[0])
            return rows_html(list(value), css=False)
        return html.escape(fmt(value))
    return html.escape(fmt(value))


def _object_table(obj: Mapping[str, Any]) -> str:
    rows = "".join(f'<tr><td class="bw-key">{html.escape(_label(k))}</td><td>{_cell(v, k)}</td></tr>'
                   for k, v in obj.items())
    return f'<table class="bw-table bw-object"><tbody>{rows}</tbody></table>'


def object_html(obj: Any, css: bool = True) -> str:
    """A single object as a vertical field/value table; a one-key wrapper (``<OrderResponse>``) is unwrapped
    into a caption, so the fields are the table's rows."""
    caption = ""
    while isinstance(obj, Mapping) and len(obj) == 1 and isinstance(next(iter(obj.values())), Mapping):
        key = next(iter(obj))
        caption = f"{caption} › {_label(key)}" if caption else _label(key)
        obj = obj[key]
    if not isinstance(obj, Mapping):
        body = f'<table class="bw-table"><tbody><tr><td>{_cell(obj)}</td></tr></tbody></table>'
    else:
        body = _object_table(obj) if obj else '<div class="bw-empty"><i>(empty body)</i></div>'
    cap = f'<div class="bw-caption" style="color:#666;font-size:12px">{html.escape(caption)}</div>' if caption else ""
    return (CSS if css else "") + f'<div class="bw-wrap bw-view">{cap}{body}</div>'


#: the columns a person compares, by kind of record (first ones present win); others go to the raw view
PREFERRED = ("ApplicationId", "AppName", "ServiceType", "InboundCallbackUrl", "MsgCallbackUrl", "CallbackUrl",
             "PeerId", "PeerName", "IsDefaultPeer", "FullNumber", "TelephoneNumber", "City", "State", "RateCenter",
             "orderId", "OrderId", "OrderStatus", "CountOfTNs", "OrderDate", "lastModifiedDate",
             "id", "status", "type", "time", "message_id", "to", "from", "errorCode", "error_name", "description")


def pick_columns(records: Sequence[Mapping[str, Any]], limit: int = 6, preferred: Sequence[str] = PREFERRED) -> list[str]:
    """The columns to show for a list: the preferred ones present, then other scalar ones, at most ``limit``."""
    present: list[str] = []
    for r in records:
        present += [str(k) for k, v in r.items() if str(k) not in present and not isinstance(v, (Mapping, list))]
    cols = [c for c in preferred if c in present]
    cols += [c for c in present if c not in cols]
    return cols[:limit]


def safe_href(href: str) -> str | None:
    """``href`` when it is an http(s) URL or a relative path, else None (``javascript:``, ``data:`` and any other
    scheme never become a link; the text is shown without one)."""
    from urllib.parse import urlsplit

    cleaned = "".join(ch for ch in str(href) if ch >= " " and ch != "\x7f").strip()
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return None
    if scheme in ("http", "https"):
        return cleaned
    if scheme or cleaned.startswith(("//", "\\")) or ":" in cleaned.split("/", 1)[0]:
        return None
    return cleaned


def rows_html(records: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
              detail: Sequence[str] = (), links: Mapping[str, str] | None = None, css: bool = True,
              empty: str = "(no rows)") -> str:
    """Rows with ``columns``; ``detail`` columns go on a full-width line under their row (long texts such as a
    fix), so the table stays narrow. ``links`` maps a column to an href template (``{value}``)."""
    records = [dict(r) for r in records]
    if not records:
        return (CSS if css else "") + f'<div class="bw-empty"><i>{html.escape(empty)}</i></div>'
    cols = list(columns) if columns else pick_columns(records)
    head = "".join(f"<th>{html.escape(_label(c))}</th>" for c in cols)
    body = []
    for r in records:
        cells = []
        for c in cols:
            value = r.get(c)
            text = _cell(value, c)
            if links and c in links and value not in (None, ""):
                href = safe_href(links[c].format(value=value))
                if href:
                    text = f'<a href="{html.escape(href)}">{text}</a>'
            status = fmt(value).lower() if c == "status" else ""
            cls = f' class="bw-st-{status}"' if status in ("failed", "partial", "done") else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
        extra = [(d, r.get(d)) for d in detail if fmt(r.get(d))]
        if extra:
            lines = "<br>".join(f"<b>{html.escape(_label(d))}:</b> {html.escape(fmt(v))}" for d, v in extra)
            body.append(f'<tr class="bw-detail"><td colspan="{len(cols)}">{lines}</td></tr>')
    return ((CSS if css else "") + f'<div class="bw-wrap bw-view"><table class="bw-table bw-rows"><thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def callout(kind: str, title: str, body_html: str = "", css_class: str = "") -> str:
    """A coloured box: ``error`` red, ``warn`` amber, ``ok`` green, ``info`` blue. ``title`` is escaped,
    ``body_html`` is trusted HTML."""
    border, background, icon = KINDS.get(kind, KINDS["info"])
    cls = f"bw-callout bw-callout-{kind} {css_class}".strip()
    return (f'<div class="{cls}" style="border-left:5px solid {border};background:{background};padding:6px 10px;'
            f'margin:6px 0;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere">'
            f'<div class="bw-callout-title" style="color:{border};font-weight:700">{icon} {html.escape(title)}</div>'
            f'{body_html}</div>')
