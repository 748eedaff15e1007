"""The page's events part: the sandbox's simulations (an inbound text, a failing send, the phone page), waiting for a
callback event, and on a real account the polled outcome and the receiver's events."""
from __future__ import annotations

import html
from typing import Any

from .. import guide, steps, views
from ..exceptions import BandwidthError, UnknownMessageError
from ..ui import display as show
from ..ui import progress
from .base import PageBase, link, typename


def _when(value: object) -> str:
    """A time in the walkthrough's one format, as its tables show it (``2026-12-06 15:01:02``, UTC)."""
    text = str(value or "")
    return views.date_text(text.removesuffix(" UTC")) or text  # the phone link's expiresAt says " UTC"

__all__ = ["EventsMixin", "explain_events"]


class EventsMixin(PageBase):
    """Simulations, waits for events, a real account's outcome, the events table."""

    # -- sandbox-only simulations (notebook 10) ------------------------------------------------------
    def _control(self) -> Any:
        """The sandbox's control-plane client, or None on a real account (quietly: each cell says in its own words
        what to do instead, once)."""
        return self.setup.control if self.setup is not None else None

    def simulate_inbound(self, text: str = guide.REPLY_TEXT, from_: str = guide.SANDBOX_PHONE) -> Any:
        """Sandbox: pretend ``from_`` texted your first number; a message-received event follows."""
        if not self.check():
            return None
        number = self.setup.current.sending_number
        if not number:
            show.show_note(f"No number saved: run notebook {steps.page('numbers').notebook} first.", "warn",
                           incomplete=True)
            return None
        control = self._control()
        if control is None:
            return None
        self._nothing_sent = "the simulated text was not sent"
        try:
            result = control.inbound(number, from_, text)
        except BandwidthError as exc:
            self._nothing_sent = f"the simulated text was refused ({exc.description or exc})"
            show.show_error(exc)
            return None
        self._nothing_sent = None
        if isinstance(result.get("message"), dict):
            result.setdefault("id", result["message"].get("id"))  # so wait_for_event(message_id=...) finds it
        return result

    def phone_link(self, ttl: int = 3600) -> None:
        """Sandbox: show a link to the phone page of your saved number (its conversations, delivery ticks, pictures
        and a reply box that texts it as the other person), valid ``ttl`` seconds (``SandboxControl.phone_link``
        gives the URL itself)."""
        if not self.check():
            return None
        control = self._control()
        number = self.setup.current.sending_number
        if control is None:  # a real account: your own phone is the phone page
            yours = f"<code>{html.escape(number)}</code>" if number else "your Bandwidth number"
            show.show_callout("info", "Your own phone is the phone here",
                              f"<div>What {yours} sends arrives on the phone you typed in <code>to</code>, and "
                              f"what you text back to {yours} reaches the application's inbound URL (notebook "
                              f"{link(steps.page('events'))} lists what the callback receiver stored). There is "
                              "no phone page on a real account: that is the sandbox's.</div>")
            return None
        try:
            doc = control.phone_link(ttl=ttl, number=number)
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        url = str(doc.get("url") or "")
        href = views.safe_href(url)  # the sandbox's answer: only an http(s) or relative URL becomes a link (rev23h H8)
        what = f"the phone of {html.escape(number)}" if number else "your sandbox phone"
        opener = (f'<a href="{html.escape(href)}" target="_blank" rel="noopener noreferrer">Open {what}</a>'
                  if href else f"Open {what} (the sandbox's link is not an http(s) URL, so it is not shown as one: "
                                f"<code>{html.escape(url[:200])}</code>)")
        show.show_callout("info", "Your sandbox phone",
                             f"<div>{opener} in a new tab: conversations grouped by the other number, pictures, "
                             "delivery ticks from the callback events, and a reply box that texts your number as the "
                             "other person. "
                             f"The link works until {html.escape(_when(doc.get('expiresAt')))}; run this cell "
                             "again for a fresh one.</div>")
        return None

    def send_failing(self, code: int = 4720, text: str = "This one will fail") -> Any:
        """Sandbox: send to the magic number that fails with ``code`` (from GET /_sandbox/magic-numbers)."""
        if not self.check():
            return None
        control = self._control()
        if control is None:
            return None
        try:
            number = control.failing_number(code)
            if number is None:
                show.show_note(f"No magic number fails with {code}; choose one of {control.failure_codes()}.",
                               "warn", incomplete=True)
                return None
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        # not saved as step 9's message: the pictures page waits for this one by its id
        return self.send_message(to=number, text=text, save=False)

    def wait_for_event(self, type: str, message_id: str | None = None, timeout: float = 30.0) -> Any:
        """Wait for a callback event, with progress in words, and show it as a table.

        Returns at once, saying why, when the send this page just tried sent nothing; a timeout names the
        likely cause judged from the state (sent? assigned? callback URL answering?)."""
        if not self.check():
            return None
        if message_id is None and self._nothing_sent:
            if not (self.outcomes and self.outcomes[-1][0] == "form"):  # a form's problem stays the last word:
                self._outcome("failed", f"nothing was sent: {self._nothing_sent}")  # amber "fix it in the form"
            show.show_callout("warn", f"Not waiting for {type}: nothing was sent",
                              f"<div>{html.escape(self._nothing_sent)}: nothing was sent, so no event can "
                              "arrive. Fix what the send cell's box names, then re-run the send cell and this one."
                              "</div>",
                              incomplete=True)
            return None
        if self.setup.control is None:
            return self._real_outcome(type, message_id, timeout)
        last = self.setup.current.last_message
        target = message_id or (last.id if last is not None else None)
        what = f"{type} for message {str(target)[:12]}…" if target else type
        waiting = progress.Waiting(what, timeout)
        try:
            with waiting:  # Kernel › Interrupt: one sentence where the wait stopped, no traceback
                event = self.setup.wait_for_event(type=type, message_id=message_id, timeout=timeout,
                                                  on_poll=lambda elapsed: waiting.update(),
                                                  accept_failure=type == "message-delivered")
        except UnknownMessageError as exc:
            waiting.finish()
            self._outcome("failed", f"no such message: {exc.description}")
            show.show_callout("error", f"Not waiting for {type}: the sandbox has no such message",
                              f"<div>{html.escape(exc.description or str(exc))}</div>"
                              f"<div><b>How to fix:</b> {html.escape(exc.fix or '')}</div>")
            return None
        except TimeoutError as exc:
            waiting.finish()
            self._outcome("failed", f"no {type} within {timeout:g} s")
            show.show_callout("error", f"No {type} within {timeout:g} s",
                                 f"<div><b>Likely cause:</b> {html.escape(getattr(exc, 'description', '') or str(exc))}"
                                 f"</div><div><b>How to fix:</b> {html.escape(getattr(exc, 'fix', '') or '')}</div>")
            return None
        except BandwidthError as exc:
            waiting.finish()
            self._outcome("failed", f"{typename(exc)}: {getattr(exc, 'description', '') or exc}")
            show.show_error(exc)
            return None
        waiting.finish()
        from ..tables import events_rows

        if event.get("type") != type:  # message-failed instead of the delivery receipt: say why, and the fix
            from ..codes import explain

            info = explain(event.get("errorCode"))
            show.show_callout(
                "error", f"message-failed {info['code']} ({info['name'] or event.get('description') or ''})",
                f"<div>{html.escape(info['meaning'])}</div><div><b>How to fix:</b> {html.escape(info['fix'])}</div>")
            return explain_events(events_rows([event]))
        if type == "message-failed":  # the deliberate failure: red, as a failure looks, and marked as expected
            from ..codes import explain

            info = explain(event.get("errorCode"))
            self._outcome("done", f"received the expected message-failed {info['code']}")
            show.show_html(views.callout(
                "error", f"Expected failure: message-failed {info['code']} ({info['name'] or event.get('description') or ''})",
                f"<div>This send was meant to fail, and it did: {html.escape(info['meaning'])}</div>"
                f"<div><b>How to fix</b> (when it happens to a real send): {html.escape(info['fix'])}</div>",
                views.EXPECTED))
            return explain_events(events_rows([event]))
        self._outcome("done", f"received {type}")
        show.show_callout("ok", f"Received {type}", "<div>at the application's callback URL.</div>")
        return explain_events(events_rows([event]))

    # -- a real account: polled status and the receiver's events ------------------------------------------------
    def _real_outcome(self, type: str, message_id: str | None, timeout: float) -> Any:
        """A real account: the message's status by polling listMessages and the callback the receiver stored for
        it, in one callout (meaning and fix); message-received is looked up once, never waited for."""
        from ..flows.delivery import receiver

        if type == "message-received":
            return self._received()
        if type == "message-failed" and message_id is None:
            show.show_callout("info", "No deliberate failure on a real account",
                                 "<div>The failing magic numbers exist only in the sandbox. On a real account a "
                                 "<code>message-failed</code> arrives when a send fails; the table of events below "
                                 "explains its <code>errorCode</code>.</div>")
            return None
        last = self.setup.current.last_message
        target = message_id or (last.id if last is not None else None)
        if not target:
            p = steps.page("messages")
            show.show_callout("warn", "No message sent yet",
                                 f"<div>Send one in notebook {link(p)} first.</div>")
            return None
        waiting = progress.Waiting(f"the outcome of message {str(target)[:12]}…", timeout)
        try:
            with waiting:
                outcome = self.setup.delivery_status(target, timeout=timeout,
                                                     on_poll=lambda words, _: waiting.update(words))
        except BandwidthError as exc:
            waiting.finish()
            show.show_error(exc)
            return None
        waiting.finish()
        client = receiver(self.setup)
        events: list[dict[str, Any]] = []
        if client is not None:
            from ..polling import poll

            def stored() -> list[dict[str, Any]]:
                try:
                    return [e for e in client.events(message_id=str(target)) if e.get("type") != "message-sending"]
                except BandwidthError:
                    return []

            # the receipt reaches the receiver about when the status turns final
            events, _ = poll(stored, bool, timeout=5.0 if outcome.final else 0.0, interval=0.25)
        self._outcome_callout(outcome, events, client is not None, timeout)
        from ..tables import events_rows, readable

        if events:
            return explain_events(events_rows(events), one_message=True)  # its id is in the box above
        return readable(outcome.records(), ["to", "status", "code", "name"], detail=["meaning", "fix"],
                        empty="(the message is not listed yet)")

    def _outcome_callout(self, outcome: Any, events: list[dict[str, Any]], has_receiver: bool,
                         timeout: float) -> None:
        esc = html.escape
        lines = []
        for r in outcome.records():
            code = f" {r['code']} {r['name']}" if r["code"] else ""
            fix = f" <b>How to fix:</b> {esc(r['fix'])}" if r["fix"] and r["status"] != "DELIVERED" else ""
            lines.append(f"<li><code>{esc(r['to'])}</code>: <b>{esc(r['status'])}{esc(code)}</b> — "
                         f"{esc(r['meaning'])}{fix}</li>")
        body = f"<ul>{''.join(lines)}</ul>" if lines else ""
        body += (f"<div>From <code>GET /users/{{accountId}}/messages?messageId={esc(outcome.message_id)}</code> "
                 f"({outcome.polls} poll{'s' if outcome.polls != 1 else ''}, {outcome.seconds:.0f} s"
                 + (f", waited {sum(outcome.rate_limit_waits):g} s for 429 Retry-After" if outcome.rate_limit_waits
                    else "") + ").</div>")
        if events:
            got = ", ".join(f"{esc(str(e.get('type')))} at {views.local_time_html(str(e.get('_received_at') or ''))}"
                            for e in events)
            body += f"<div><b>Callback:</b> the receiver stored {got}.</div>"
        elif has_receiver:
            body += ("<div><b>Callback:</b> the receiver has stored none for this message yet. Bandwidth retries a "
                     "callback it could not deliver; if none arrives, run the checks in notebook "
                     f"{link(steps.page('teardown'))} (does the public URL reach the receiver?).</div>")
        else:
            body += ("<div><b>Callback:</b> no callback receiver runs here (BW_CALLBACK_BASE_URL is not set), so the "
                     "status above comes from polling alone; the receipt went to the application's own URL.</div>")
        if outcome.error is not None:
            kind, title = "error", f"The status could not be read: {outcome.error.description or outcome.error}"
            body += f"<div><b>How to fix:</b> {esc(outcome.error.fix or 'check the credentials and the URL')}</div>"
        elif outcome.rate_limited is not None:
            kind, title = "warn", f"Rate limited: the Messaging API asks to wait {outcome.rate_limited:g} s"
            body += "<div>Run this cell again after that; the status is kept by Bandwidth.</div>"
        elif outcome.delivered:
            kind, title = "ok", "DELIVERED"
        elif outcome.final:  # the code(s) in the title too: a headless run's one-line cause names them
            codes = ", ".join(sorted({str(r.error_code) for r in outcome.recipients if r.error_code}))
            kind, title = "error", f"{outcome.status}{f' ({codes})' if codes else ''}: the message did not reach the phone"
        elif not outcome.recipients:
            kind, title = "warn", f"The message is not listed after {timeout:g} s"
            body += "<div>listMessages can lag behind a send; run this cell again in a minute.</div>"
        else:
            kind, title = "warn", f"Still {outcome.status} after {timeout:g} s"
            body += "<div>Run this cell again later; some carriers never send a delivery receipt.</div>"
        # the summary is computed from it, as on the sandbox: DELIVERED is done, anything else did not reach the goal
        self._outcome("done" if kind == "ok" else "failed", f"message {outcome.message_id} {title}")
        # anything but DELIVERED is a step that did not reach its goal: a headless run stops here, naming it
        show.show_callout(kind, title, body, incomplete=kind != "ok")

    def _received(self, picture: bool = False) -> Any:
        """message-received on a real account: the receiver's, if any; how to produce one (never a wait). With
        ``picture`` the prompt asks for a picture (MMS), as the pictures page needs."""
        from ..flows.delivery import receiver

        number = self.setup.current.sending_number
        yours = f"<code>{html.escape(number)}</code>" if number else "your Bandwidth number"
        client = receiver(self.setup)
        got = []
        if client is not None:
            try:
                got = [e for e in client.events() if e.get("type") == "message-received"]
            except BandwidthError as exc:
                show.show_error(exc)
                return None
        if got:
            show.show_callout("ok", f"Received {len(got)} incoming message(s)",
                                 "<div>The receiver stored these <code>message-received</code> events (newest "
                                 "last).</div>")
            from ..tables import events_rows

            return explain_events(events_rows(got), text=True)
        where = ("the callback receiver stores it and this cell shows it" if client is not None else
                 "it goes to the application's inbound URL (set BW_CALLBACK_BASE_URL to have the receiver keep it "
                 "for this notebook)")
        if picture:
            show.show_callout("info", "Text a picture to your number to see it here",
                              f"<div>From your own phone (or a friend's), send a picture (MMS) to {yours}. Bandwidth "
                              "POSTs a <code>message-received</code> listing its media URLs to the application's "
                              f"inbound URL: {where}. Then run this cell and the next one again. (Nothing is "
                              "waited for here.)</div>")
            return None
        show.show_callout("info", "Text your number to see a message-received",
                             f"<div>From your own phone, send a text to {yours}. Bandwidth POSTs a "
                             f"<code>message-received</code> to the application's inbound URL: {where}. Then run "
                             "this cell again. (Nothing is waited for here.)</div>")
        return None

    def events(self) -> Any:
        """The callback events received so far, with failed ones' error codes explained (a real account: the
        receiver's events, with each text and sender)."""
        if self.setup is None:
            return self.check()
        from ..tables import events_rows

        if self.setup.control is None:
            from ..flows.delivery import receiver

            client = receiver(self.setup)
            if client is None:
                show.show_callout(
                    "info", "No callback receiver runs here",
                    "<div>On a real account Bandwidth POSTs events to the application's callback URLs. To see them "
                    "here, run the callback receiver behind a public URL and set <code>BW_CALLBACK_BASE_URL</code> "
                    "(README, <i>Using a real Bandwidth account</i>). Meanwhile, the message's status is read by "
                    f"polling (notebook {link(steps.page('messages'))}).</div>")
                self._outcome("done", "no callback receiver runs here: the outcome is read by polling")
                return explain_events(events_rows([]), text=True)
            try:
                stored = client.events()
            except BandwidthError as exc:
                self._outcome("failed", f"{typename(exc)}: {getattr(exc, 'description', '') or exc}")
                show.show_error(exc)
                return None
            self._outcome("done", f"the callback receiver holds {len(stored)} event(s)")
            if not stored:  # say why the table is empty, and where the outcome is meanwhile
                show.show_note(
                    "The callback receiver runs but holds no events yet: Bandwidth POSTs each event to the "
                    "application's callback URLs, so only messages sent or received since the receiver's public "
                    "URL (<code>BW_CALLBACK_BASE_URL</code>) went into the application show here. If you sent one in "
                    f"{link(steps.page('messages'))} a minute ago, check that the tunnel is still up (notebook "
                    f"{link(steps.page('teardown'))} checks the callback URLs); its status is read by polling there "
                    "meanwhile.", "info")
            return explain_events(_newest(events_rows(stored)), text=True)

        try:
            events = self.setup.events()
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        return explain_events(_newest(events_rows(events)))


#: the events table shows at most this many rows, newest first (re-runs add events: the table stays one screen)
EVENTS_SHOWN = 10


def _newest(rows: list[dict[str, Any]], limit: int = EVENTS_SHOWN) -> list[dict[str, Any]]:
    """The ``limit`` newest events, newest first, with a line saying so when some are left out (all of them are in
    ``page.setup.events()``)."""
    ordered = sorted(rows, key=lambda r: str(r.get("time") or r.get("received_at") or ""), reverse=True)
    if len(ordered) > limit:
        show.show_note(f"The {limit} newest of {len(ordered)} events, newest first (<code>page.setup.events()</code> "
                       "returns them all).", "info")
    return ordered[:limit]


def explain_events(events: Any, text: bool = False, one_message: bool = False) -> Any:
    """Add ``error_name``/``error``/``meaning``/``fix`` columns for rows that carry an errorCode (``text``: show each
    event's sender and text too; ``one_message``: the events of one message, whose id is shown elsewhere).

    ``events`` is :func:`~bwhelpers.tables.events_rows` (a :class:`~bwhelpers.tables.Table` comes back: no pandas until
    it is used as a DataFrame) or a DataFrame such as :func:`~bwhelpers.tables.events_frame` (a DataFrame comes back)."""
    from ..tables import EVENT_COLUMNS, is_frame

    if is_frame(events):
        return _explain_frame(events, text, one_message)
    rows = [dict(r) for r in events]
    columns = list(EVENT_COLUMNS)
    if rows and any("errorCode" in r for r in rows):
        from ..codes import explain

        for r in rows:
            code = r.get("errorCode")
            info = explain(code) if code is not None else {"name": "", "meaning": "", "fix": ""}
            # the code and its name in one shown column ("4720 invalid-destination-address"): six columns fit 1024 px
            r.update(error_name=info["name"], error=f"{code} {info['name']}".strip() if code is not None else "",
                     meaning=info["meaning"], fix=info["fix"])
        columns += ["error_name", "error", "meaning", "fix"]
    return _events_view(rows, text, one_message, all_columns=columns)


def _explain_frame(df: Any, text: bool, one_message: bool) -> Any:
    from ..codes import explain

    col = next((c for c in ("errorCode", "error_code") if c in getattr(df, "columns", [])), None)
    if col is None or not len(df):
        return _events_view(df, text, one_message)
    import pandas as pd

    df = df.copy()
    df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    info = [explain(v) if not pd.isna(v) else {"name": "", "meaning": "", "fix": ""} for v in df[col]]
    df["error_name"] = [i["name"] for i in info]
    df["error"] = [f"{c} {i['name']}".strip() if not pd.isna(c) else "" for c, i in zip(df[col], info)]
    df["meaning"] = [i["meaning"] for i in info]
    df["fix"] = [i["fix"] for i in info]
    return _events_view(df, text, one_message)


def _events_view(data: Any, text: bool = False, one_message: bool = False, all_columns: list[str] | None = None) -> Any:
    """Events as a narrow table: the columns a person compares (``from``, ``to``, the ``text`` shortened with the
    whole in its tooltip, ``error``: the code and its name); description, meaning and fix under the row (``text``:
    no message id column; ``one_message``: the events of one message, whose id, sender and text are shown
    elsewhere)."""
    from ..tables import readable

    # kind (SMS or MMS) on the line under the row, with the long texts: six columns fit 1024 px, a seventh does not
    if text:
        columns, detail = ["type", "time", "from", "to", "text", "error"], ["kind", "description", "meaning", "fix"]
    elif one_message:
        columns, detail = ["type", "time", "to", "error"], ["description", "meaning", "fix"]
    else:
        # the message id (long) under the row: from, to and the text tell the messages apart in the columns
        columns, detail = ["type", "time", "from", "to", "text", "error"], ["kind", "message_id", "description",
                                                                            "meaning", "fix"]
    # a short text whole (it wraps between words), a longer one shortened, and the time as its time of day (each
    # whole in its tooltip) so 6 columns fit 1024 px; a table still too wide scrolls sideways
    return readable(data, columns, detail=detail, empty="(no events yet)", all_columns=all_columns,
                    dtypes={"errorCode": "Int64"}, clip={"text": 24, "time": 0})
