"""Messages and their events: send (one, or many), read the callback events (at least once: de-duplicated),
wait for one, and judge why one did not come."""
from __future__ import annotations

import json
import time
import warnings
from typing import Any, Callable

from .. import statuses, steps
from ..codes import new_callback_urls
from ..checks import check_bool, check_int, check_number, check_str
from ..exceptions import (BandwidthError, MissingPrerequisiteError, UnknownMessageError, ValidationError,
                          WaitTimeoutError)
from ..events import EVENT_TYPES, dedupe_events, event_key  # THE identity of an event (re-exported)
from ..polling import poll
from ..results import Result
from ..phone import fictional, loose_e164, real_destination_problem
from ..state import Message, SavedState, now_iso
from .registry import StepFlow, declare
from .context import FlowContext, prereq

__all__ = ["Messages", "EVENT_TYPES", "event_key", "dedupe_events", "extract_events"]

#: seconds a sandbox's event may take from its due time to its bin (the dispatcher's poll, 50 ms, and a margin)
DISPATCH_SLACK = 0.08
#: the longest first wait taken on the sandbox's word (a longer one polls as usual, so progress keeps showing)
MAX_FIRST_WAIT = 1.0
#: when this process sent each of its last messages (time.monotonic()): a wait that begins within
#: :data:`MAX_FIRST_WAIT` of its message's send asks the sandbox when the event is due before it reads the bin
_SENT: dict[str, float] = {}


def _due_in(known: list[dict[str, Any]], type: str, accept_failure: bool = False) -> float | None:
    """Seconds until the first event of ``type`` of the message ``known`` (the sandbox control plane's record) is
    due, when the sandbox says one is still to come (``dueIn``), else None."""
    dues = [float(r["dueIn"]) for m in known for r in (m.get("recipients") or [])
            if isinstance(r.get("dueIn"), (int, float)) and r["dueIn"] >= 0
            and (r.get("type") == type or accept_failure and r.get("type") == "message-failed")]
    return min(dues) if dues else None


def extract_events(doc: Any) -> list[dict[str, Any]]:
    """Callback events from a request-bin document (list of captured requests, or {'requests': [...]})."""
    if isinstance(doc, dict):
        for key in ("events", "requests", "items", "entries", "captured"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
        else:
            doc = [doc]
    events: list[dict[str, Any]] = []
    for entry in doc if isinstance(doc, list) else []:
        if not isinstance(entry, dict):
            continue
        if "type" in entry and "message" in entry:
            events.append(entry)
            continue
        status = entry.get("status")
        if isinstance(status, int) and not 200 <= status < 300:
            continue  # e.g. the 401 challenge before an authenticated resend
        body = entry.get("json", entry.get("body"))
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                continue
        received = entry.get("received_at") or entry.get("received") or entry.get("time") or entry.get("at")
        for ev in body if isinstance(body, list) else [body]:
            if isinstance(ev, dict) and "type" in ev:
                ev = dict(ev)
                ev.setdefault("_received_at", received)
                events.append(ev)
    return events


class Messages:
    """Sending and events on one context."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx

    # ------------------------------------------------------------------ sending
    def send_message(self, to: Any, text: str | None, from_: str | None = None, media: Any = None,
                     tag: str | None = None, save: bool = True, checked: bool = False) -> Result:
        """Send from a saved number with the saved application id; ``save`` records it as the send step's.
        On a real account the send is checked first (:meth:`check_billed_send`) unless ``checked`` says the caller
        did it (the picture send checks before it uploads)."""
        st = self.ctx.state  # (read once: the application and the number)
        app_id = self.ctx.need_application(st).id or ""
        from_ = self.ctx.sending_number(from_, st)
        if not checked and not self.ctx.config.is_sandbox:
            from ..messaging import validate_message

            validate_message(to, text, from_, app_id, media, tag)  # a typo is named before the checks' requests
            self.check_billed_send(to, from_, st)
        result = self.ctx.messaging.send_message(to, text, from_, app_id, media=media, tag=tag)
        if result.id:
            if len(_SENT) >= 64:
                _SENT.clear()
            _SENT[str(result.id)] = time.monotonic()
        if save:
            data = result.data
            with self.ctx.edit() as st:
                st.messages.append(Message(id=result.id, from_=data.get("from"), to=data.get("to"), sent=now_iso(),
                                           time=data.get("time"),
                                           extra={"media": media if isinstance(media, list) else [media]} if media else {}))
        return result

    def bulk_send(self, rows_or_recipients: Any, text: str | None = None, from_: str | None = None,
                  concurrency: int = 4, rate: float | str | None = "auto",
                  progress: bool | None = None) -> list[dict[str, Any]]:
        """Send many messages from a saved number; see ``Setup.bulk_send``."""
        check_int(concurrency, "concurrency")
        if progress is not None:
            check_bool(progress, "progress")
        st = self.ctx.state
        app_id = self.ctx.need_application(st).id
        from_ = self.ctx.sending_number(from_, st)
        if isinstance(rows_or_recipients, (list, tuple)) and all(isinstance(r, str) for r in rows_or_recipients):
            self.check_billed_send(list(rows_or_recipients), from_, st)
        else:
            self.check_billed_send([], from_, st)
        if rate == "auto":
            rate = self.sandbox_rate_limit()
        elif isinstance(rate, str):
            raise ValidationError(f"rate: {rate!r}; give 'auto', a number of messages per second, or None",
                                  field="rate")
        return self.ctx.messaging.bulk_send(rows_or_recipients, text=text, from_=from_, application_id=app_id,
                                            concurrency=concurrency, rate=rate,
                                            progress=self.ctx.progress if progress is None else progress)

    def check_billed_send(self, to: Any, from_: str, st: SavedState | None = None) -> None:
        """On a real account every send is billed: refuse, before the send, what can only fail there. A fictional
        555-01xx destination (it reaches nobody), a sender that is not one of the account's numbers (4405), a
        local sender not SUCCESS on a REGISTERED 10DLC campaign (4476), a toll-free sender not VERIFIED (4795).
        Each is a ValidationError naming the field, the problem and the fix. The sender's A2P status is read
        (as diagnose does) unless the saved A2P step lists it as done; a status that cannot be read (a credential
        without the Campaign Management role) lets the send go. The sandbox answers all of these itself."""
        if self.ctx.config.is_sandbox:
            return
        for number in (to if isinstance(to, (list, tuple)) else [to]):
            if fictional(number):
                raise ValidationError(f"to: {real_destination_problem(number)}. Fix: give your own mobile number "
                                      "(BW_TO_NUMBER for a headless run)", field="to",
                                      fix="give your own mobile number as to")
        sender = loose_e164(from_)
        if not sender.startswith("+"):
            return  # not a phone number: the send's own validation names it
        st = st if st is not None else self.ctx.state
        account = self.ctx.config.account_id
        if sender not in st.numbers:
            try:
                in_service: set[str] | None = {loose_e164(n) for n in
                                               self.ctx.dashboard.list_in_service_numbers().numbers}
            except BandwidthError:  # cannot tell (a credential without the Numbers role): the send decides
                in_service = None
            if in_service is not None and sender not in in_service:
                mine = ", ".join(st.numbers) or f"none saved: order one ({steps.ref('orders')})"
                raise ValidationError(
                    f"from_: {sender} is not a number of account {account}: Bandwidth would accept the text and "
                    f"then fail it with 4405 (unknown from number). Fix: send from one of your numbers ({mine})",
                    field="from_", fix=f"send from one of your numbers ({mine})")
        a2p = st.a2p
        if a2p is not None and a2p.status == statuses.COMPLETE and sender in a2p.numbers:
            return
        from .a2p import A2PFlow

        row = A2PFlow(self.ctx).check(sender)
        if not row["ok"]:
            raise ValidationError(f"from_: {row['finding']}; not sent (it would be billed and fail). "
                                  f"Fix: {row['fix']}", field="from_", fix=row["fix"])

    def sandbox_rate_limit(self) -> float | None:
        """The sandbox's per-account messages/second limit (None when unlimited or not the sandbox)."""
        control = self.ctx.control
        if control is None:
            return None
        try:
            return control.rate_limit()
        except BandwidthError:
            return None

    # ------------------------------------------------------------------ events
    def events(self) -> list[dict[str, Any]]:
        """Callback events received so far (sandbox: the saved application's request bins)."""
        control = self.ctx.control
        if control is None:
            from .delivery import receiver, receiver_events

            if receiver(self.ctx) is None:
                warnings.warn("callback events go to the application's callback URL on the real service; bwhelpers "
                              "reads them from its callback receiver (set BW_CALLBACK_BASE_URL; README 'Using a real "
                              "Bandwidth account')", stacklevel=3)
                return []
            return dedupe_events(receiver_events(self.ctx))
        app = self.ctx.state.application
        if app is None or not app.bin:
            if app is None or not app.id:
                raise prereq("application", "application")
            warnings.warn("the application's callback URL is not a sandbox request bin, so its events cannot be "
                          "read here", stacklevel=3)
            return []
        events = extract_events(control.bin(app.bin))
        if app.outbound_bin and app.outbound_bin != app.bin:  # today's fields: status events may go to a second bin
            events = sorted(events + extract_events(control.bin(app.outbound_bin)),
                            key=lambda e: str(e.get("time") or ""))
        return dedupe_events(events)  # at least once: each event shown once

    def wait_for_event(self, type: str = "message-delivered", message_id: str | None = None,
                       timeout: float = 30.0, interval: float = 0.25,
                       on_poll: Callable[[float], None] | None = None, accept_failure: bool = False) -> dict[str, Any]:
        """Poll the events until one of ``type`` (for ``message_id``, default the last sent) arrives."""
        if type not in EVENT_TYPES:
            raise ValidationError(f"type: {type!r:.40} is not a message event; use one of {', '.join(EVENT_TYPES)}",
                                  field="type")
        check_str(message_id, "message_id", optional=True)
        check_number(timeout, "timeout")
        check_number(interval, "interval", positive=True)
        check_bool(accept_failure, "accept_failure")
        if message_id is None:
            last = self.ctx.state.last_message
            message_id = last.id if last is not None else None
        if message_id is None and type != "message-received":
            raise MissingPrerequisiteError(
                f"no message has been sent on this target, so there is no {type} event to wait for",
                fix=f"send one first ({steps.ref('messages')})")

        def wanted() -> dict[str, Any] | None:
            for ev in self.events():
                msg = ev.get("message") or {}
                mine = message_id is None or msg.get("id") == message_id
                if mine and (ev.get("type") == type or accept_failure and ev.get("type") == "message-failed"):
                    return ev
            return None

        control = self.ctx.control
        sent = _SENT.get(message_id) if message_id is not None else None
        # a message this process sent a moment ago (Setup.run_all, then this wait): its event is not in the bin yet
        # unless the sandbox says it was sent, so the sandbox is asked first and the bin read once, when it is due
        just_sent = control is not None and type != "message-received" and sent is not None \
            and time.monotonic() - sent < MAX_FIRST_WAIT
        if not just_sent:
            try:  # an event in the bin is proof enough, whatever the sandbox's message list says
                arrived_already = wanted()
            except MissingPrerequisiteError:  # no application: nothing can have arrived
                arrived_already = None
            if arrived_already is not None:
                return arrived_already
        due_in: float | None = None  # the sandbox's word on when the event is sent: no poll before then
        if control is not None and message_id is not None:
            try:
                known = control.messages(message_id)
            except BandwidthError:
                known = [{}]  # cannot tell: wait as usual
            due_in = _due_in(known, type, accept_failure)
            if not known and just_sent:  # the bin is proof enough, whatever the sandbox's message list says
                try:
                    arrived_already = wanted()
                except MissingPrerequisiteError:
                    arrived_already = None
                if arrived_already is not None:
                    return arrived_already
            if not known and type != "message-received":  # the sandbox answered "no such message": none can come
                raise UnknownMessageError(
                    f"not waiting for {type}: the sandbox has no message {message_id} on this account",
                    description=f"the sandbox has no message {message_id}: it was never sent on this account",
                    fix=f"send the message again ({steps.ref('messages')}), then wait for its events")

        def report(found: dict[str, Any] | None, elapsed: float) -> None:
            if found is None and on_poll is not None:
                on_poll(elapsed)

        first = due_in + DISPATCH_SLACK if due_in is not None and due_in + DISPATCH_SLACK <= MAX_FIRST_WAIT else 0.0
        event, arrived = poll(wanted, lambda found: found is not None, timeout=timeout, interval=interval,
                              on_poll=report, first=first)
        if event is None or not arrived:
            cause, fix = self.why_no_event(type, message_id)
            raise WaitTimeoutError(f"no {type} event for message {message_id} within {timeout:g} s: {cause}",
                                   description=cause, fix=fix)
        return event

    def polled_status(self, message_id: str) -> str:
        """What listMessages says of the message now (one poll, on a real account), as the start of a cause: the
        status needs no callback, so a wait that timed out still says whether the text arrived. "" when it cannot
        be read."""
        from .delivery import delivery_status

        try:
            outcome = delivery_status(self.ctx, message_id, timeout=0)
        except BandwidthError:
            return ""
        if not outcome.recipients:
            return ""
        each = ", ".join(f"{r.to} {r.status}" + (f" {r.error_code}" if r.error_code else "")
                         for r in outcome.recipients)
        meaning = ("the text arrived, only its callback is missing" if outcome.delivered else
                   "it will not be delivered" if outcome.final else "it is still on its way")
        return f"listMessages says {each} ({meaning}); "

    def why_no_event(self, type: str, message_id: str | None) -> tuple[str, str]:
        """The likely reason an event did not arrive, judged from the state, and its fix."""
        if not message_id:
            return "no message was sent", f"send one first ({steps.ref('messages')})"
        st = self.ctx.state
        control = self.ctx.control
        if control is not None:
            try:
                found = control.messages(message_id)
            except BandwidthError:
                found = []
            if not found:
                return (f"the sandbox has no message {message_id}: it was never sent on this account",
                        f"send the message again ({steps.ref('messages')})")
            states = [r for m in found for r in (m.get("recipients") or [])]
            for r in states:
                got = r.get("type")
                if got and got != type:
                    code = f" {r.get('errorCode')}" if r.get("errorCode") else ""
                    return (f"the message ended as {got}{code} ({r.get('description') or r.get('state')}), "
                            f"not {type}", f"wait for {got} instead, or look at the error code in notebook "
                            f"{steps.page('events').notebook[:2]}")
            try:
                log = control.callback_attempts(message_id)
            except BandwidthError:
                log = {}
            bad = [a for a in log.get("attempts") or []
                   if a.get("error") or not 200 <= int(a.get("statusCode") or 0) < 300]
            if bad:
                last = bad[-1]
                answer = last.get("error") or f"HTTP {last.get('statusCode')}"
                return (f"the callback URL {last.get('url')} did not accept the event ({answer}); the sandbox retries "
                        "with backoff", "make the callback URL answer 2xx quickly, or "
                        + new_callback_urls("a reachable URL"))
            if any(r.get("state") in ("queued", "sending", "pending") for r in states):
                return ("the message is still being delivered (a slow destination)",
                        "run this cell again: it waits for the same message (or give it a longer timeout=...)")
        if st.location_id and st.application_id:
            try:
                assigned = self.ctx.dashboard.get_application_settings(st.location_id).data.get("HttpMessagingV2AppId")
            except BandwidthError:
                assigned = None
            if assigned != st.application_id:
                return ("the application is not assigned to the number's location, so the service drops the "
                        "message or reports it elsewhere", f"run {steps.ref('assigned')}")
        if control is None:
            from .delivery import receiver

            said = self.polled_status(message_id) if type != "message-received" else ""
            if receiver(self.ctx) is None:
                return (said + "events go to the application's callback URL on the real service, and no callback "
                        "receiver of bwhelpers runs here", "set BW_CALLBACK_BASE_URL (README 'Using a real Bandwidth "
                        "account'), or read the status by polling (delivery_status())")
            return (said + "the callback receiver has not received it: Bandwidth may be retrying, or the public URL "
                    "does not reach the receiver", "run diagnose() (the receiver's checks), and read the status by "
                    "polling (delivery_status())")
        return ("the event has not reached the application's callback URL yet",
                f"run this cell again: it waits for the same message (or give it a longer timeout=...); if it "
                f"never comes, run diagnose() in notebook {steps.page('teardown').notebook[:2]}")


declare(StepFlow("messages", Messages, run=lambda setup, inputs: setup.send_message(inputs["to"], inputs["text"])))
