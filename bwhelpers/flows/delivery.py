"""What happened to a message on a real account: its polled status (listMessages) and the callbacks the local
receiver stored. Setup.delivery_status, the messages flow (events from the receiver), the provisioning flow (step
1's URLs and credentials from BW_CALLBACK_BASE_URL) and the preflight (the receiver's checks) call these with the
shared FlowContext.
"""
from __future__ import annotations

import time
import weakref
from typing import Any, Callable

from .. import steps
from ..codes import SET_CALLBACK_BASE, new_callback_urls
from ..delivery import DeliveryOutcome, poll_delivery
from ..exceptions import BandwidthError, MissingPrerequisiteError, ValidationError
from ..receiver_client import HTTPS_RULE, CallbackBase, ReceiverClient, callback_base, receiver_credentials
from ..state import Delivery, now_iso
from .context import FlowContext

__all__ = ["delivery_status", "receiver", "receiver_events", "receiver_checks", "application_callbacks",
           "missing_callback_url"]


def _last_message_id(ctx: FlowContext, message_id: str | None) -> str:
    if message_id:
        return message_id
    last = ctx.state.last_message
    if last is None or not last.id:
        p = steps.step("messages")
        raise MissingPrerequisiteError("no message has been sent on this target, so there is no status to read",
                                       fix=f"send one first ({p.ref})")
    return last.id


#: per context, a Messaging client whose session leaves 429 to the poll (so its wait is reported in words)
_POLL_CLIENTS: "weakref.WeakKeyDictionary[FlowContext, Any]" = weakref.WeakKeyDictionary()


def delivery_status(ctx: FlowContext, message_id: str | None = None, timeout: float = 30.0,
                    on_poll: Callable[[str, float], None] | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> DeliveryOutcome:
    """Poll listMessages for the message (default the last sent) until its recipients are final or ``timeout``;
    the outcome is saved on the message (``delivery``: status, errorCode per recipient, when checked)."""
    from ..http import RETRY_STATUSES, make_session
    from ..messaging import MessagingClient

    mid = _last_message_id(ctx, message_id)
    client = _POLL_CLIENTS.get(ctx)
    if client is None or client.config is not ctx.config:
        session = make_session(ctx.config, auth=ctx.messaging.auth, retry_statuses=RETRY_STATUSES - {429})
        client = _POLL_CLIENTS[ctx] = MessagingClient(ctx.config, session=session)
    outcome = poll_delivery(client, mid, timeout=timeout, on_poll=on_poll, sleep=sleep)
    if outcome.recipients:
        with ctx.edit() as st:
            for entry in st.messages:
                if entry.id == mid:
                    entry.delivery = Delivery(status=outcome.status, final=outcome.final, checked=now_iso(),
                                              recipients=[{"to": r.to, "status": r.status, "errorCode": r.error_code}
                                                          for r in outcome.recipients])
    return outcome


def receiver(setup: Any) -> ReceiverClient | None:
    """The local callback receiver when one of ours runs on BW_RECEIVER_PORT (None on the sandbox)."""
    if setup.config.is_sandbox:
        return None
    return ReceiverClient.local()


def receiver_events(setup: Any, message_id: str | None = None) -> list[dict[str, Any]]:
    """The events the receiver stored (each once), oldest first; [] when no receiver runs."""
    client = receiver(setup)
    if client is None:
        return []
    return client.events(message_id=message_id)


def application_callbacks(setup: Any) -> dict[str, Any] | None:
    """What step 1 proposes on a real account: the URLs from BW_CALLBACK_BASE_URL and the receiver's credentials
    (generated, kept 0600 in the config folder). None when BW_CALLBACK_BASE_URL is unset (or on the sandbox)."""
    if setup.config.is_sandbox:
        return None
    base = callback_base(real=True)
    if base is None:
        return None
    return {"base": base, "inbound": base.inbound, "outbound": base.outbound, "warning": base.warning}


def missing_callback_url(field: str) -> ValidationError:
    """The error step 1 raises on a real account with no callback URL: exactly what to set, and why."""
    p = steps.step("application")
    return ValidationError(
        f"{field}: a real Bandwidth account requires the application's InboundCallbackUrl (Bandwidth POSTs incoming "
        "texts and delivery receipts there), and none was given. Fix: start a public URL that reaches the callback "
        "receiver (`python -m bwhelpers receiver` plus a tunnel: README 'Using a real Bandwidth account'); to set "
        f"BW_CALLBACK_BASE_URL to it, {SET_CALLBACK_BASE}; then run "
        f"{p.ref} again; or type your own server's https URL in the form. No public URL at all? Any https URL of a "
        "server you control will do: the send step reads the outcome by polling listMessages, only the callbacks "
        "are then not shown here", field=field,
        fix=f"set BW_CALLBACK_BASE_URL, then run {p.ref} again")


def attach_receiver_credentials(base: CallbackBase, url: str | None, user: str | None,
                                password: str | None) -> tuple[str | None, str | None]:
    """The receiver's callback credentials for a URL under BW_CALLBACK_BASE_URL (unless some are given)."""
    if not url or user or password or not url.startswith(base.url + "/"):
        return user, password
    creds = receiver_credentials(create=True)
    return (creds.user, creds.password) if creds is not None else (None, None)


def receiver_checks(setup: Any, app_data: dict[str, Any]) -> list[dict[str, Any]]:
    """diagnose()'s receiver rows on a real account: BW_CALLBACK_BASE_URL, the receiver running, the application's
    URLs matching it, its credentials set, and the last callback's age."""
    rows: list[dict[str, Any]] = []

    def add(check: str, ok: bool, finding: str, fix: str = "") -> None:
        rows.append({"check": check, "ok": ok, "finding": finding, "fix": "" if ok else fix})

    receiver_fix = new_callback_urls(receiver=True)
    try:
        base = callback_base(real=True)
    except ValidationError as exc:
        add("callback base URL", False, str(exc), exc.fix or "fix BW_CALLBACK_BASE_URL")
        return rows
    if base is None:
        add("callback base URL", True, "BW_CALLBACK_BASE_URL is not set: delivery status comes from polling "
            "listMessages; callbacks go to the application's own URLs")
        return rows
    add("callback base URL", base.warning is None, base.warning or f"BW_CALLBACK_BASE_URL {base.url}",
        f"use an https:// URL ({HTTPS_RULE})")
    client = receiver(setup)
    from ..receiver import PORT_ENV, configured_port

    try:
        port: Any = configured_port()
    except OSError as exc:
        port = str(exc)
    add("callback receiver running", client is not None,
        f"the receiver answers on port {port}" if client is not None else
        f"no receiver of yours answers on port {port}",
        f"start it: `python -m bwhelpers receiver` (or open any notebook: it starts on demand); {PORT_ENV} chooses "
        "the port")
    creds_ok: bool | None = None   # the application carries the receiver's credentials (None: not known)
    inbound = app_data.get("InboundCallbackUrl") or app_data.get("CallbackUrl") or app_data.get("MsgCallbackUrl")
    outbound = app_data.get("OutboundCallbackUrl") or inbound
    if app_data:
        match = inbound == base.inbound and outbound == base.outbound
        add("application URLs match", match,
            f"inbound {inbound}, outbound {outbound}" + ("" if match else
                                                         f"; BW_CALLBACK_BASE_URL gives {base.inbound} and "
                                                         f"{base.outbound}"),
            f"set BW_CALLBACK_BASE_URL to the URL the application uses, or {receiver_fix} "
            "(a quick tunnel's URL changes at each start)")
        creds = receiver_credentials(create=False)
        user = ((app_data.get("InboundCallbackCreds") or {}).get("UserId")
                or (app_data.get("CallbackCreds") or {}).get("UserId"))
        out_user = (app_data.get("OutboundCallbackCreds") or {}).get("UserId") or user
        ok = creds is not None and user == creds.user and out_user == creds.user
        creds_ok = ok
        add("callback credentials set", ok,
            "the application sends the receiver's callback credentials" if ok else
            "the application's callback credentials are not the receiver's: the receiver refuses its callbacks (401)"
            if user else "the application has no callback credentials: the receiver refuses its callbacks (401)",
            receiver_fix)
    if client is not None:
        try:
            stats = client.status()
        except BandwidthError as exc:
            add("last callback", False, str(exc), "restart the receiver")
            return rows
        age = stats.get("last_event_age")
        wrong = {k: v for k, v in (stats.get("rejected") or {}).items() if not k.startswith("no credentials")}
        if age is None:
            add("last callback", False, "the receiver has stored no callback yet",
                "send a message (step 9) and check that the tunnel forwards to the receiver's port "
                "(open BW_CALLBACK_BASE_URL/callbacks/inbound in a browser: the receiver answers 405)")
        else:
            add("last callback", True, f"{stats.get('events')} event(s) stored; the last {_age(age)} ago")
        if wrong:
            refused = ", ".join(f"{n} × {k}" for k, n in wrong.items())
            if creds_ok:  # the application sends the right ones: these came from someone else, refused as they should
                add("refused callbacks", True, f"the receiver refused {refused}: not Bandwidth's (the application "
                    "sends the receiver's credentials), so someone else posted to the public URL; refusing them "
                    "is right")
            else:
                add("refused callbacks", False, f"the receiver refused: {refused}",
                    "wrong credentials: if they are Bandwidth's (the callback credentials check above fails), "
                    f"{receiver_fix}; if that check passes, someone else posted to the "
                    "public URL and was refused, as they should be. Too large / rate: nothing to do for Bandwidth's "
                    "own callbacks")
    return rows


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
