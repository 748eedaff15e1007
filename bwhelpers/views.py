"""HTML views of results for JupyterLab: one display per kind of object, sized for a 1000 px notebook.

* a single object -> a vertical field/value table, nested XML shown as nested tables (:func:`object_html`);
* a list -> rows with the columns a person compares (:func:`rows_html`); the rest is in the raw view;
* an error -> a red callout with the code, its meaning and the fix; a warning (PARTIAL, empty search, a reused
  object) -> an amber callout (:func:`callout`).

Plain HTML strings (no pandas, no widgets): JupyterLab renders them as they are, the tests read them as text.
Every table fits its cell (``width: 100%``): texts wrap between words, but a token (a phone number, an id, a date, a
status, a boolean) never wraps inside itself; a long id in a list is shortened, its whole value in its
tooltip. Colours are JupyterLab's theme variables (:mod:`bwhelpers.theme`), readable in light and dark.
"""
from __future__ import annotations

import html
import re
from typing import Any, Iterable, Mapping, Sequence

from . import bidi, theme
from .masking import scrub

__all__ = ["object_html", "rows_html", "callout", "fmt", "pick_columns", "token_html", "url_html", "text_html", "date_text", "CSS",
           "KINDS", "INCOMPLETE", "EXPECTED", "mark_html", "esc"]

#: the class of a box showing a deliberate failure (11's failing destination): it counts as a failure of the
#: headless run unless its cell is tagged ``expected-failure`` in the notebook
EXPECTED = "bw-expected"

#: a callout's line spacing and its lists' margins (JupyterLab's rendered-HTML spacing is for prose)
TIGHT = "line-height:1.4"
CALLOUT_CSS = ("<style>.bw-callout ul,.bw-note ul{margin:2px 0;padding-left:1.4em}.bw-callout li,.bw-note li"
               "{margin:1px 0}.bw-callout p,.bw-note p,.bw-callout div,.bw-note div{margin:0}"
               ".bw-callout .bw-tok,.bw-note .bw-tok{white-space:nowrap}</style>")

#: the class of every box that says a step did not complete (``python -m bwhelpers run-notebooks`` fails on it)
INCOMPLETE = "bw-incomplete"

#: callout kinds -> (line colour, background, icon); colours are theme expressions (``--jp-*``)
KINDS = {kind: (theme.line(kind), theme.tint(kind), theme.ICONS[kind]) for kind in ("error", "warn", "ok", "info")}

_CELL = "table.bw-table th,.bw-wrap table.bw-table td"
CSS = ("<style>"
       ".bw-wrap table.bw-table{table-layout:fixed;width:100%;max-width:100%;border-collapse:collapse;margin:4px 0;"
       f"font-size:13px;color:{theme.TEXT};background:{theme.PAGE}}}"
       f".bw-wrap {_CELL}{{border:1px solid {theme.BORDER};padding:3px 6px;color:{theme.TEXT};"
       "text-align:left;vertical-align:top;overflow-wrap:break-word;word-break:normal;white-space:normal}"
       f".bw-wrap table.bw-table th{{background:{theme.SURFACE};font-weight:600;overflow-wrap:normal}}"
       ".bw-wrap table.bw-rows th{white-space:normal;overflow-wrap:normal}"
       f".bw-wrap table.bw-table td.bw-key{{width:32%;font-weight:600;background:{theme.SURFACE}}}"
       ".bw-wrap table.bw-table table.bw-table{margin:0;font-size:12px}"
       f".bw-wrap table.bw-table tr.bw-detail td{{background:{theme.PAGE};color:{theme.MUTED};font-size:12px}}"
       f".bw-wrap table.bw-table td.bw-st-failed{{color:{theme.accent('failed')};font-weight:700}}"
       f".bw-wrap table.bw-table td.bw-st-partial{{color:{theme.accent('partial')};font-weight:700}}"
       f".bw-wrap table.bw-table td.bw-st-done{{color:{theme.accent('done')};font-weight:600}}"
       # a failing check: a red edge along the row and its fix line, the fix's label in the error colour
       f".bw-wrap table.bw-table tr.bw-fail>td:first-child{{box-shadow:inset 4px 0 0 {theme.line('error')}}}"
       f".bw-wrap table.bw-table tr.bw-fail td{{background:{theme.tint('error')}}}"
       f".bw-wrap table.bw-table tr.bw-detail.bw-fail td{{color:{theme.TEXT}}}"
       f".bw-wrap table.bw-table tr.bw-detail.bw-fail b{{color:{theme.accent('error')}}}"
       ".bw-wrap .bw-tok{white-space:nowrap;overflow-wrap:normal;word-break:normal}"  # never wraps inside itself
       f".bw-wrap .bw-short{{border-bottom:1px dotted {theme.BORDER_STRONG};cursor:help}}"
       ".bw-wrap table.bw-rows{table-layout:auto}"  # columns sized by content; texts wrap between words
       # narrower gutters in row tables: 6 columns of whole tokens (message-received, phone numbers) fit the notebook
       # at 1024 px with the file browser open
       ".bw-wrap table.bw-rows th,.bw-wrap table.bw-rows td{padding:3px 4px}"
       ".bw-wrap{max-width:100%;overflow-x:auto}"  # a table too wide scrolls sideways, never hides columns
       ".bw-wrap a.bw-url,.bw-wrap .bw-url{overflow-wrap:normal;word-break:normal}"  # breaks only at its <wbr>
       f".bw-wrap .bw-caption{{color:{theme.MUTED};font-size:12px}}"
       f".bw-wrap a{{color:{theme.accent('info')}}}"
       "</style>")

#: values that are one token: numbers and phone numbers, ids, dates, statuses, booleans (no spaces, not too long)
_TOKEN = re.compile(r"[^\s]{1,40}")
_KEBAB = re.compile(r"[a-z]+(?:-[a-z]+)+")  # invalid-destination-address: break after a hyphen
#: a hyphenated name up to this long stays on one line (every event type: ``message-delivered``, review 24e F3)
_WHOLE_NAME = 20
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_LONG_ID = re.compile(r"(?=(?:[^0-9]*[0-9]){4})[A-Za-z0-9-]{21,}")  # a message id; not a name like 01_create_app…




def esc(text: Any) -> str:
    """THE escaping of text shown in a view: HTML-escaped, and bidi controls made visible (``⟨U+202E⟩``) so a
    value never reorders what the page shows."""
    return html.escape(bidi.visible(str(text)))


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


def _tok(text: str) -> str:
    return f'<span class="bw-tok">{esc(text)}</span>'


def url_html(text: str) -> str:
    """A URL, escaped, that may break only after its scheme (``http://``), before its port, after its slashes and
    before its query (``http://<wbr>host<wbr>:8765/<wbr>a/<wbr>b``), never inside a word (``htt/p://``)."""
    m = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*://)([^/:]*)(:[0-9]*)?(.*)", text, re.S)
    head = [m.group(1), m.group(2), m.group(3) or ""] if m else []
    rest = m.group(4) if m else text
    # after the scheme's //, before the port, after each slash, before the query: never inside a word
    parts: list[str] = []
    for part in [*head, *re.split(r"(?<=/)|(?=[?&#])", rest)]:
        if part == "/" and parts:  # the host's (or the port's) slash stays with it
            parts[-1] += part
        elif part:
            parts.append(part)
    return '<span class="bw-url">' + "<wbr>".join(_tok(p) for p in parts) + "</span>"


def text_html(text: str) -> str:
    """Prose, escaped, whose URLs break only after their slashes (:func:`url_html`) and whose hyphenated words (ids,
    ``bwh-8f8d…-0``) never break after a hyphen: never inside a word."""
    parts = re.split(r"(https?://[^\s)\]<>\"']+)", text)
    return "".join(url_html(p) if i % 2 else _words_html(p) for i, p in enumerate(parts))


def _words_html(text: str) -> str:
    return "".join(_tok(w) if "-" in w and len(w) <= 60 else esc(w) for w in re.split(r"(\s+)", text))


def date_text(text: str) -> str | None:
    """An ISO date-time in the walkthrough's one format, ``2026-12-06 15:01:02`` (UTC; seconds, no fraction), or
    None when ``text`` is not one."""
    m = _ISO.fullmatch(text)
    if not m:
        return None
    from datetime import datetime, timezone

    zone = m.group(4)
    if zone and zone != "Z" and zone.replace(":", "") not in ("+0000", "-0000"):
        try:
            when = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone if ':' in zone else zone[:3] + ':' + zone[3:]}")
            return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    return f"{m.group(1)} {m.group(2)}"


def local_time_html(text: str) -> str:
    """A moment in running text (a receipt's arrival): this machine's local time with its zone, seconds, no fraction
    (``2026-12-06 16:53:48 EST``; in UTC also ``(21:53:48 UTC)``, the zone the tables show), one token, the raw
    value in the tooltip and ``data-value``. Not an ISO date-time: the text itself, escaped."""
    from datetime import datetime, timezone

    raw = str(text or "")
    m = _ISO.fullmatch(raw)
    if not m:
        return esc(raw)
    zone = m.group(4) or "Z"
    zone = "+00:00" if zone == "Z" else zone if ":" in zone else zone[:3] + ":" + zone[3:]
    try:
        when = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone}")
    except ValueError:
        return esc(raw)
    local = when.astimezone()
    shown = local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or local.strftime("%z"))
    if local.utcoffset() != timezone.utc.utcoffset(None):
        shown += when.astimezone(timezone.utc).strftime(" (%H:%M:%S UTC)")
    full = esc(raw)
    return f'<span class="bw-tok bw-date" title="{full}" data-value="{full}">{esc(shown)}</span>'


def token_html(text: str, short: bool = False) -> str:
    """One shown value, escaped: a token (no spaces) never wraps inside itself. A date-time is shown in one format
    (:func:`date_text`, the original in the tooltip); a URL may break after its slashes; a long hyphenated name after
    its hyphens. With ``short`` a long id is shortened (a UUID to its first 8 characters, a message id to its first
    4 and last 5: its head is a timestamp), the whole value in the tooltip (``title``) and ``data-value``; a value of
    several tokens (``CSBX001 <order id>``) has each of them shortened."""
    if not text:
        return ""
    if not _TOKEN.fullmatch(text):
        words = text.split(" ")
        if short and 1 < len(words) <= 4 and all(_TOKEN.fullmatch(w) for w in words):
            return " ".join(token_html(w, short) for w in words)
        if re.fullmatch(r"https?://\S+", text):
            return url_html(text)
        return esc(text)
    full = esc(text)
    when = date_text(text)
    if when is not None:
        return f'<span class="bw-tok bw-date" title="{full} (shown in UTC)" data-value="{full}">{when}</span>'
    if re.match(r"https?://", text):
        return url_html(text)
    if _KEBAB.fullmatch(text) and len(text) > _WHOLE_NAME:  # invalid-destination-address: after its hyphens only
        parts = text.split("-")
        return "<wbr>".join(_tok(p + "-") for p in parts[:-1]) + "<wbr>" + _tok(parts[-1])
    if short and (_UUID.fullmatch(text) or _LONG_ID.fullmatch(text)):
        # a message id starts with its millisecond timestamp (one session's ids share it): keep its random tail
        shown = text[:8] + "…" if _UUID.fullmatch(text) else text[:4] + "…" + text[-5:]
        return f'<span class="bw-tok bw-short" title="{full}" data-value="{full}">{esc(shown)}</span>'
    return _tok(text)


def _label(key: Any) -> str:
    return str(key).lstrip("@").replace("#text", "text")


def _header(key: Any) -> str:
    """A column header or field name, escaped. A short one (``message_id``) stays whole; a long camelCase or
    snake_case one may break between its words (``Inbound<wbr>Callback<wbr>Url``), so a narrow column never pushes
    the table wider than its cell."""
    label = _label(key)
    if len(label) <= 16:
        return _tok(label)
    parts = re.split(r"(?<=[a-z0-9])(?=[A-Z])|(?<=_)", label)
    return "<wbr>".join(_tok(p) for p in parts)


def _cell(value: Any, short: bool = False) -> str:
    """A value cell: nested dicts as nested tables, lists of dicts as nested rows, scalars escaped (tokens kept
    whole). Secrets are masked by value (the registry in :mod:`bwhelpers.masking`), never by the field's name."""
    if isinstance(value, Mapping):
        return _object_table(value, nested=True) if value else ""
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            if len(value) == 1:
                return _object_table(value[0], nested=True)
            return rows_html(list(value), css=False)
        return ", ".join(token_html(fmt(v), short) for v in value)  # each one whole (a media URL, a number)
    return token_html(fmt(value), short)


def _object_table(obj: Mapping[str, Any], nested: bool = False) -> str:
    """Field/value rows; in a nested table (narrower) long ids and dates are shortened, as in lists."""
    rows = "".join(f'<tr><td class="bw-key">{_header(k)}</td><td>{_cell(v, short=nested)}</td></tr>'
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
    cap = f'<div class="bw-caption">{esc(caption)}</div>' if caption else ""
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
    probe = cleaned.replace("\\", "/")  # browsers read a backslash as a slash in http(s) URLs: /\evil.com is //evil.com
    try:
        parts = urlsplit(probe)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):  # absolute, with a host: not "https:evil.com" or "http:///x"
        return cleaned if probe[len(scheme) + 1:].startswith("//") and parts.netloc else None
    if scheme or probe.startswith("//") or ":" in probe.split("/", 1)[0]:
        return None
    return cleaned


def rows_html(records: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
              detail: Sequence[str] = (), links: Mapping[str, str] | None = None, css: bool = True,
              empty: str = "(no rows)", clip: Mapping[str, int] | None = None, marks: Sequence[str] = ()) -> str:
    """Rows with ``columns``; ``detail`` columns go on a full-width line under their row (long texts such as a
    fix), so the table stays narrow. ``marks`` are pass/fail columns (a check's ``ok``): shown as a coloured
    ``✓ ok`` or ``✗ failing`` (:func:`mark_html`), a failing row marked along its left edge, its detail line too. ``links`` maps a column to an href template (``{value}``); ``clip`` maps a
    column to the characters shown of a longer text (the whole text in its tooltip; 0: a date-time shown as its
    time of day)."""
    records = [dict(r) for r in records]
    if not records:
        return (CSS if css else "") + f'<div class="bw-empty"><i>{esc(empty)}</i></div>'
    cols = list(columns) if columns else pick_columns(records)
    head = "".join(f"<th>{_header(c)}</th>" for c in cols)
    body = []
    for r in records:
        cells = []
        for c in cols:
            value = r.get(c)
            linked = bool(links and c in links and value not in (None, ""))
            # a link (a notebook name) and every value stay whole tokens
            text = _tok(fmt(value)) if linked else _cell(value, short=True)
            if clip and c in clip and clip[c] == 0 and date_text(fmt(value)):  # 0: a date-time as its time of day
                full = esc(fmt(value))
                text = (f'<span class="bw-tok bw-short" title="{full} (shown in UTC)" data-value="{full}">'
                        f'{esc(str(date_text(fmt(value)))[11:])}</span>')
            elif clip and c in clip and clip[c] and len(fmt(value)) > clip[c]:
                full = esc(fmt(value))
                text = (f'<span class="bw-short" title="{full}" data-value="{full}">'
                        f'{esc(fmt(value)[:clip[c]].rstrip())}…</span>')
            if links and linked:
                href = safe_href(links[c].format(value=value))
                if href:
                    text = f'<a href="{esc(href)}">{text}</a>'
            status = fmt(value).lower() if c == "status" else ""
            if c in marks:
                text, status = mark_html(value), ("done" if _passed(value) else "failed")
            cls = f' class="bw-st-{status}"' if status in ("failed", "partial", "done") else ""
            cells.append(f"<td{cls}>{text}</td>")
        failing = any(not _passed(r.get(m)) for m in marks if m in cols)
        row_cls = ' class="bw-fail"' if failing else ""
        body.append(f"<tr{row_cls}>" + "".join(cells) + "</tr>")
        extra = [(d, r.get(d)) for d in detail if fmt(r.get(d))]
        if extra:
            lines = "<br>".join(f"<b>{esc(_label(d))}:</b> {text_html(fmt(v))}" for d, v in extra)
            cls = "bw-detail bw-fail" if failing else "bw-detail"
            body.append(f'<tr class="{cls}"><td colspan="{len(cols)}">{lines}</td></tr>')
    return ((CSS if css else "") + f'<div class="bw-wrap bw-view"><table class="bw-table bw-rows"><thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _passed(value: Any) -> bool:
    """A pass/fail value read as passed: True (or ``"true"``); anything else (False, None, "false") failed."""
    return value is True or fmt(value).lower() == "true"


def mark_html(value: Any) -> str:
    """A pass/fail value as people read it: ``✓ ok`` in the theme's success colour, ``✗ failing`` in its error
    colour (the cell's class ``bw-st-done`` / ``bw-st-failed`` gives the colour); never a raw true/false."""
    return _tok(f"{theme.ICONS['ok']} ok") if _passed(value) else _tok(f"{theme.ICONS['error']} failing")


def callout(kind: str, title: str, body_html: str = "", css_class: str = "", incomplete: bool | None = None,
            cause: str | None = None) -> str:
    """A coloured box: ``error`` red, ``warn`` amber, ``ok`` green, ``info`` blue. ``title`` is escaped,
    ``body_html`` is trusted HTML.

    ``incomplete`` (default: an error) marks the box as "a step did not complete" (class ``bw-incomplete``, the
    ``cause`` (default the title) in ``data-cause``): the headless run fails on it, naming the notebook, the cell
    and the cause."""
    border, background, icon = KINDS.get(kind, KINDS["info"])
    if incomplete is None:
        incomplete = kind == "error"
    cls = f"bw-callout bw-callout-{kind} {css_class}{' ' + INCOMPLETE if incomplete else ''}".strip()
    because = f' data-cause="{esc(" ".join((cause or title).split())[:500])}"' if incomplete else ""
    return (f'<div class="{cls}"{because} style="border-left:5px solid {border};background:{background};color:{theme.TEXT};'
            f'padding:6px 10px;margin:6px 0;max-width:100%;box-sizing:border-box;overflow-wrap:break-word;{TIGHT}">'
            f'<div class="bw-callout-title" style="font-weight:700"><span style="color:{theme.accent(kind)}">{icon}'
            f'</span> {esc(title)}</div>{body_html}</div>{CALLOUT_CSS}')
