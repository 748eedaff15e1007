"""The host's board: one HTML page, no JavaScript, readable on a projector.

It reloads itself (``<meta http-equiv="refresh">``); each cell says its state in words and a symbol as
well as a colour; a reset sits behind a ``<details>`` click so it is never pressed by accident.
"""
from __future__ import annotations

import html
import re
import time
from typing import Any

_SYMBOL = {"done": "&#10003;", "pending": "&middot;", "failed": "&#10007;", "not needed": "&ndash;"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;font-size:22px;color:#111;
background:#fff}
h1{font-size:1.6em;margin:0 0 .3em}
p.sub{margin:0 0 1em;color:#333}
table{border-collapse:collapse;width:100%}
th,td{border:2px solid #bbb;padding:.35em .5em;text-align:center;vertical-align:middle}
th{background:#222;color:#fff;position:sticky;top:0}
td.name{text-align:left;font-weight:700;white-space:nowrap}
td.done{background:#c8f0c8;color:#064d06}
td.pending{background:#f4f4f4;color:#555}
td.failed{background:#ffd2cc;color:#8a1000;font-weight:700}
td.not-needed{background:#fff;color:#777}
td.done,td.pending,td.failed,td.not-needed{white-space:nowrap;font-size:.85em}
td.err{text-align:left;font-size:.8em;min-width:18em;max-width:30em;overflow-wrap:anywhere}
td.err code{font-size:1.1em;font-weight:700}
tr.all-done td.name{background:#c8f0c8}
.notice{background:#fff4c2;border:2px solid #c9a400;padding:.3em .6em;display:inline-block;margin-bottom:.6em}
details summary{cursor:pointer;font-size:.8em}
button{font-size:.8em;padding:.2em .6em}
"""


def _cell(state: str) -> str:
    return f'<td class="{state.replace(" ", "-")}">{_SYMBOL.get(state, "")} {state}</td>'


def render_board(rows: list[dict[str, Any]], steps: list[tuple[str, str]], *, xsrf: str, prefix: str, admin: str,
                 refresh: int = 5, notice: str = "") -> str:
    done = sum(1 for r in rows if r["done"])
    head = "".join(f"<th>{n}<br>{html.escape(t)}</th>" for n, (_k, t) in enumerate(steps, 1))  # column n = notebook n
    body = []
    for r in rows:
        name = html.escape(r["participant"])
        cells = "".join(_cell(r["steps"].get(k, "pending")) for k, _t in steps)
        err = r.get("last_error")
        if err:
            code = html.escape(str(err.get("code") or err.get("status") or ""))
            text = html.escape(str(err.get("description") or ""))
            when = time.strftime("%H:%M:%S", time.localtime(err["time"])) if err.get("time") else ""
            request = re.sub(r"^(\w+ )/api/(v2/)?accounts/[^/]+", r"\1…", err.get("request") or "")
            err_html = f"<code>{code}</code> {text} <small>({html.escape(request)}, {when})</small>"
        else:
            err_html = "&mdash;"
        msgs = r["messages"]
        reset = (f'<details><summary>reset&hellip;</summary><form method="post" '
                 f'action="{html.escape(prefix)}/participants/{name}/reset">'
                 f'<input type="hidden" name="_xsrf" value="{html.escape(xsrf)}">'
                 f'<button type="submit">Reset {name}</button></form></details>')
        body.append(f'<tr class="{"all-done" if r["done"] else ""}"><td class="name">{name}<br>'
                    f'<small>{html.escape(r["account_id"])}</small></td>{cells}'
                    f'<td>{msgs["sent"]} / {msgs["delivered"]}</td><td class="err">{err_html}</td><td>{reset}</td></tr>')
    if not rows:
        body.append(f'<tr><td colspan="{len(steps) + 4}">No participant yet: accounts appear when participants '
                    "start their servers.</td></tr>")
    banner = f'<div class="notice">{html.escape(notice)} was reset.</div>' if notice else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{int(refresh)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workshop board ({done}/{len(rows)} done)</title><style>{_CSS}</style></head>
<body><h1>Workshop board</h1>
<p class="sub">{done} of {len(rows)} participants done &middot; refreshes every {int(refresh)} s &middot;
{time.strftime("%H:%M:%S")} &middot; signed in as {admin}</p>{banner}
<table><thead><tr><th>Participant</th>{head}<th>Messages<br>sent / delivered</th><th>Last error</th><th></th></tr>
</thead><tbody>
{"".join(body)}
</tbody></table></body></html>
"""
