"""The host's board: one HTML page, no JavaScript, readable on a projector and fitting 1024 px.

It reloads itself (``<meta http-equiv="refresh">``). A step cell is a symbol on a colour (✓ done, · pending,
✗ failed, – not needed; the legend above the table names the symbols and the numbered steps, each cell's tooltip
says both in words); the last error is a line of its own under the participant's row; a participant whose server
is not running (it failed to start, was stopped, or never started) says so under their name; hub admins (the host)
are not counted. A reset and a removal (the participant's credentials refused at once) sit behind a ``<details>``
click so they are never pressed by accident; a removed participant's row says so, greyed, with "let back in".
The room's line above the table (review 23f F4) says whether the room takes new names, with the switch to close
or open it, and removes at once everyone who has not started (an account with no step done: names made to take
places), behind a click that lists them; and the join link for latecomers (review 23f F5: made, shown to copy,
stopped there). Without subdomains for the hub's servers, a line says that participants' pages share the board's
origin (rev23g G3).
"""
from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from typing import Any

_SYMBOL = {"done": "&#10003;", "pending": "&middot;", "failed": "&#10007;", "not needed": "&ndash;"}
#: a server state worth a word under the participant's name (running needs none), and its class
_SERVER = {"not running": ("&#9888; server not running", "off"), "never started": ("&#9888; server never started", "off"),
           "starting": ("&hellip; server starting", "wait"), "stopping": ("&hellip; server stopping", "wait")}

_CSS = """
:root{color-scheme:light dark}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1rem;font-size:22px;color:#111;
background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}
p.sub,p.legend{margin:0 0 .5em;color:#333}
p.legend{font-size:.8em}
p.legend span{white-space:nowrap;margin-right:.6em}
table{border-collapse:collapse;width:100%}
th,td{border:2px solid #bbb;padding:.3em .4em;text-align:center;vertical-align:middle}
th{background:#222;color:#fff;position:sticky;top:0}
th.step{width:2.2em}
td.name{text-align:left;font-weight:700;overflow-wrap:anywhere;min-width:6em}
td.name small{font-weight:400}
.server{display:inline-block;font-size:.75em;font-weight:700;padding:0 .3em;margin-top:.15em}
.server.off{background:#fff4c2;color:#5c4400;border:2px solid #c9a400}
.server.wait{background:#e4ecff;color:#1a3a7a;border:2px solid #7a96d6}
.server.gone{background:#ffd2cc;color:#5c0a00;border:2px solid #b3261e}
tr.removed td{opacity:.55}
tr.removed td.name,tr.removed td:last-child{opacity:1}
button.danger{color:#8a1000;border:2px solid #b3261e;margin-top:.3em}
td.done{background:#c8f0c8;color:#064d06}
td.pending{background:#f4f4f4;color:#555}
td.failed{background:#ffd2cc;color:#8a1000;font-weight:700}
td.not-needed{background:#fff;color:#777}
td.done,td.pending,td.failed,td.not-needed{font-size:1.1em;font-weight:700;padding:.2em .1em}
td.msgs{white-space:nowrap}
tr.err td{text-align:left;font-size:.8em;overflow-wrap:anywhere;background:#fff7f5;border-top:0;
border-left:.4em solid #b3261e}
tr.err code{font-size:1.1em;font-weight:700}
tr.all-done td.name{background:#c8f0c8}
.notice{background:#fff4c2;border:2px solid #c9a400;padding:.3em .6em;display:inline-block;margin-bottom:.6em}
.notice.alarm{display:block;background:#ffd2cc;color:#5c0a00;border-color:#b3261e;border-left-width:.5em;font-size:.8em}
.notice.closed{display:block;background:#e4ecff;color:#1a3a7a;border-color:#7a96d6;font-size:.8em}
div.room{margin:0 0 .5em;font-size:.8em}
p.origin{margin:0 0 .5em;font-size:.75em;color:#5c4400}
div.login-only{margin:0 0 .5em;font-size:.8em;overflow-wrap:anywhere}
div.login-only summary{font-size:1em;white-space:normal}
div.login-only span{display:inline-block;max-width:100%}
div.room form,div.room details{display:inline-block;margin:0 .4em 0 0;vertical-align:top}
div.room b.open{color:#064d06}
div.room b.closed{color:#1a3a7a}
div.room code.join{display:block;overflow-wrap:anywhere;user-select:all;font-size:.9em;background:#f4f4f4;
border:2px solid #bbb;padding:.2em .4em;margin:.2em 0}
details summary{cursor:pointer;font-size:.8em;white-space:nowrap}
details.actions summary{white-space:normal;min-width:5em}
button{font-size:.8em;padding:.2em .6em}
@media (prefers-color-scheme:dark){
body{background:#111;color:#eee}
p.sub,p.legend{color:#ccc}
th,td{border-color:#555}
th{background:#333}
td.done,tr.all-done td.name{background:#124d12;color:#d6ffd6}
td.pending{background:#222;color:#bbb}
td.failed{background:#5c1208;color:#ffd9d2}
td.not-needed{background:#111;color:#999}
tr.err td{background:#2a1512;border-left-color:#ff8a7a}
.server.off{background:#4a3a00;color:#ffe9a0;border-color:#c9a400}
.server.wait{background:#1a2a4a;color:#d6e2ff;border-color:#7a96d6}
.server.gone{background:#5c1208;color:#ffd9d2;border-color:#ff8a7a}
button.danger{color:#ffd9d2;background:#5c1208;border-color:#ff8a7a}
.notice{background:#4a3a00;color:#ffe9a0}
.notice.alarm{background:#5c1208;color:#ffd9d2;border-color:#ff8a7a}
.notice.closed{background:#1a2a4a;color:#d6e2ff;border-color:#7a96d6}
div.room b.open{color:#9be89b}
div.room b.closed{color:#b8ccff}
div.room code.join{background:#222;border-color:#555;color:#eee}
p.origin{color:#ffe9a0}
}
"""


#: the Remove button's tooltip: what it does, in words
_REMOVE_TIP = (' class="danger" title="Empties their account and refuses their credentials at once (API user, API '
               'secret, OAuth client and tokens, phone links); the board can let them back in"')


def _form(prefix: str, xsrf: str, name: str, action: str, label: str, attrs: str = "") -> str:
    """A host action's form (``name`` escaped already): POST with the board's ``_xsrf``."""
    return (f'<form method="post" action="{html.escape(prefix)}/participants/{name}/{action}">'
            f'<input type="hidden" name="_xsrf" value="{html.escape(xsrf)}">'
            f'<button type="submit"{attrs}>{label}</button></form>')


#: the hub has no subdomains: a participant's server shares this page's origin (rev23g G3)
_SAME_ORIGIN = ('<p class="origin">&#9888; Participants&#39; servers share this page&#39;s address: a page from one of '
                'them opened in this browser can act as you (press these buttons, make a hub token). Open '
                'participants&#39; links only in another browser profile, or give the hub subdomains '
                '(workshop-config --subdomain-host).</p>')

#: the switch's tooltip
_CLOSE_TIP = (' title="Logins under names the hub does not know are refused and no new account is made; everyone '
              'already in carries on"')


def _room_form(prefix: str, xsrf: str, action: str, label: str, attrs: str = "",
               names: Sequence[str] = ()) -> str:
    """A form of the room's line (``POST /room/<action>``), with the names it acts on as hidden fields."""
    hidden = "".join(f'<input type="hidden" name="name" value="{html.escape(n)}">' for n in names)
    return (f'<form method="post" action="{html.escape(prefix)}/room/{action}">'
            f'<input type="hidden" name="_xsrf" value="{html.escape(xsrf)}">{hidden}'
            f'<button type="submit"{attrs}>{label}</button></form>')


def _room_line(rows: list[dict[str, Any]], prefix: str, xsrf: str, closed: str,
               invite: dict[str, Any] | None) -> str:
    """Whether the room takes new names (and the switch), and the removal of everyone who has not started."""
    if closed:
        door = f'<b class="closed">closed to new names</b> {_room_form(prefix, xsrf, "open", "Open to new names")}'
    else:
        door = '<b class="open">open to new names</b> ' + _room_form(prefix, xsrf, "close", "Close to new names",
                                                                     _CLOSE_TIP)
    idle = [r["participant"] for r in rows if r.get("account_id") and not r.get("removed")
            and "done" not in r["steps"].values()]
    if idle:
        shown = ", ".join(html.escape(n) for n in idle[:6]) + (f" and {len(idle) - 6} more" if len(idle) > 6 else "")
        remove = _room_form(prefix, xsrf, "remove", f"Remove {len(idle)}: {shown}", _REMOVE_TIP, idle)
        door += (f' &middot; {len(idle)} with an account and no step done <details class="actions"><summary>remove '
                 f'them&hellip;</summary>{remove}</details>')
    return f'<div class="room">Room: {door}<br>{_join_line(prefix, xsrf, invite)}</div>'


#: the join link's tooltip
_JOIN_TIP = (' title="A latecomer who opens it logs in with the room password even while someone at the same '
             'address guesses at the login form; its browsers make new names from the link&#39;s own allowance"')


def _join_line(prefix: str, xsrf: str, invite: dict[str, Any] | None) -> str:
    """The join link for latecomers: a button to make one, or the current one to copy (and stop)."""
    if invite is None:
        return "Join link for latecomers: none " + _room_form(prefix, xsrf, "invite", "Make a join link", _JOIN_TIP)
    until = time.strftime("%H:%M", time.localtime(invite["expires"]))
    return (f"Join link for latecomers (works until {until}, for up to {invite['names']} new names; the room "
            f"password is still needed): {_room_form(prefix, xsrf, 'invite/stop', 'Stop it')}"
            f"{_room_form(prefix, xsrf, 'invite', 'Make a new one', _JOIN_TIP)}"
            f'<code class="join">{html.escape(invite["link"])}</code>')


def _cell(number: int, title: str, state: str) -> str:
    words = html.escape(f"{number} {title}: {state}")
    return (f'<td class="{state.replace(" ", "-")}" title="{words}" aria-label="{words}">'
            f'{_SYMBOL.get(state, "?")}</td>')


def _error(err: dict[str, Any]) -> str:
    code = html.escape(str(err.get("code") or err.get("status") or ""))
    text = html.escape(str(err.get("description") or ""))
    when = time.strftime("%H:%M:%S", time.localtime(err["time"])) if err.get("time") else ""
    request = re.sub(r"^(\w+ )/api/(v2/)?accounts/[^/]+", r"\1…", err.get("request") or "")
    return f"Last error: <code>{code}</code> {text} <small>({html.escape(request)}, {when})</small>"


#: names shown in the fold of login-only names (the rest are counted)
LOGIN_ONLY_SHOWN = 300


def login_only(row: dict[str, Any]) -> bool:
    """A hub user with no sandbox account whose server is not starting or running: a name that only logged in (it
    holds no place in the room). The board folds them into one line (rev23h H5: 95 such names buried the room)."""
    return not row.get("account_id") and (row.get("server") or "") not in ("running", "starting", "stopping")


def _login_only_line(names: list[str]) -> str:
    if not names:
        return ""
    listed = ", ".join(f"<span>{html.escape(n)}</span>" for n in names[:LOGIN_ONLY_SHOWN])  # a name is not split
    more = f" and {len(names) - LOGIN_ONLY_SHOWN} more" if len(names) > LOGIN_ONLY_SHOWN else ""
    return (f'<div class="login-only"><details><summary>{len(names)} name{"s" if len(names) > 1 else ""} logged in '
            f"and never started a server (no place taken; not counted)</summary>{listed}{more}. The hub&#39;s admin "
            "page deletes a hub user; while the room is closed to new names none of them gets an account.</details>"
            "</div>")


def render_board(rows: list[dict[str, Any]], steps: list[tuple[str, str]], *, xsrf: str, prefix: str, admin: str,
                 refresh: int = 5, notice: str = "", admins: list[str] | None = None, alarm: str = "",
                 closed: str = "", invite: dict[str, Any] | None = None, same_origin: bool = False,
                 names_alarm: str = "") -> str:
    folded = [r["participant"] for r in rows if login_only(r)]
    rows = [r for r in rows if not login_only(r)]
    done = sum(1 for r in rows if r["done"] and not r.get("removed"))
    counted = sum(1 for r in rows if not r.get("removed"))
    columns = len(steps) + 3
    head = "".join(f'<th class="step" scope="col" title="{html.escape(t)}">{n}</th>'  # column n = notebook n
                   for n, (_k, t) in enumerate(steps, 1))
    legend = "".join(f"<span><b>{n}</b> {html.escape(t)}</span>" for n, (_k, t) in enumerate(steps, 1))
    symbols = "".join(f"<span>{symbol} {state}</span>" for state, symbol in _SYMBOL.items())
    body = []
    for r in rows:
        name = html.escape(r["participant"])
        cells = "".join(_cell(n, t, r["steps"].get(k, "pending")) for n, (k, t) in enumerate(steps, 1))
        server = _SERVER.get(r.get("server") or "")
        server_html = f'<br><span class="server {server[1]}">{server[0]}</span>' if server else ""
        account = f'<br><small>{html.escape(r["account_id"])}</small>' if r.get("account_id") else ""
        msgs = r["messages"]
        if not r.get("account_id"):
            actions = ""
        elif r.get("removed"):  # removed by the host (rev23e E6): their credentials are refused; undo behind a click
            server_html = '<br><span class="server gone">&#10007; removed by the host</span>'
            actions = f'<details class="actions"><summary>let back in&hellip;</summary>{_form(prefix, xsrf, name, "readmit", f"Let {name} back in")}</details>'
        else:
            actions = (f'<details class="actions"><summary>reset, remove&hellip;</summary>{_form(prefix, xsrf, name, "reset", f"Reset {name}")}'
                       f'{_form(prefix, xsrf, name, "remove", f"Remove {name}", _REMOVE_TIP)}</details>')
        state = "removed" if r.get("removed") else "all-done" if r["done"] else ""
        body.append(f'<tr class="{state}"><td class="name">{name}{account}{server_html}'
                    f'</td>{cells}<td class="msgs">{msgs["sent"]} / {msgs["delivered"]}</td><td>{actions}</td></tr>')
        if r.get("last_error"):
            body.append(f'<tr class="err"><td colspan="{columns}">{_error(r["last_error"])}</td></tr>')
    if not rows:
        body.append(f'<tr><td colspan="{columns}">No participant yet: accounts appear when participants '
                    "start their servers.</td></tr>")
    banner = f'<div class="notice">{html.escape(notice)}</div>' if notice else ""
    if alarm:  # the hub's login alarm (login_alarm.py): guessing at the room password from many addresses
        banner = f'<div class="notice alarm" role="alert">&#9888; {html.escape(alarm)}</div>' + banner
    if names_alarm:  # the hub's new-names alarm (new_names.py): the room's bound on new names is used up (rev23h H5)
        banner = f'<div class="notice alarm" role="alert">&#9888; {html.escape(names_alarm)}</div>' + banner
    if closed:  # the host closed the room to new names (new_names.py)
        banner += f'<div class="notice closed">{html.escape(closed)}</div>'
    hosts = (f" &middot; not counted: {html.escape(', '.join(admins))} (hub admin{'s' if len(admins) > 1 else ''})"
             if admins else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{int(refresh)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workshop board ({done}/{counted} done)</title><style>{_CSS}</style></head>
<body><h1>Workshop board</h1>
<p class="sub">{done} of {counted} participants done{hosts} &middot; refreshes every {int(refresh)} s &middot;
{time.strftime("%H:%M:%S")} &middot; signed in as {admin}</p>{banner}
{_room_line(rows, prefix, xsrf, closed, invite)}{_login_only_line(folded)}{_SAME_ORIGIN if same_origin else ""}
<p class="legend">Steps: {legend}<br>{symbols}</p>
<table><thead><tr><th scope="col">Participant</th>{head}<th scope="col">Texts<br><small>sent / deliv.</small></th>
<th scope="col"><span hidden>Reset or remove</span></th></tr>
</thead><tbody>
{"".join(body)}
</tbody></table></body></html>
"""
