"""Setup: the walkthrough's facade the notebooks use (config + clients + saved IDs).

Each step saves what it creates in the StateStore under the config's profile, so the next step (in
another notebook, another kernel) finds it. Re-running a step returns the saved object when the server
still has it; ``new=True`` forces a fresh one.

The work is done by the flows in :mod:`bwhelpers.flows` (provisioning, A2P, messages and events, preflight,
teardown), which share one :class:`~bwhelpers.flows.context.FlowContext`; this class only delegates, and
titles each step's Result with the step it belongs to.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import guide, steps
from .flows.a2p import A2PFlow
from .flows.context import FlowContext
from .flows.media import MediaFlow
from .flows.messages import EVENT_TYPES, Messages, dedupe_events, event_key
from .flows.preflight import DIAGNOSE_COLUMNS, NEEDED_ROLES, PLACEHOLDER_HOSTS, Preflight
from .flows.provisioning import DEFAULT, Provisioning
from .flows.registry import calls as declared_calls, declared, discover
from .flows.teardown import TEARDOWN_COLUMNS, Teardown
from .exceptions import ValidationError
from .results import Result
from .state import SavedState, StateStore

if TYPE_CHECKING:
    from .a2p import A2PClient
    from .config import Config
    from .dashboard import DashboardClient
    from .messaging import MessagingClient
    from .sandbox_control import SandboxControl

__all__ = ["Setup", "PLACEHOLDER_HOSTS", "DIAGNOSE_COLUMNS", "TEARDOWN_COLUMNS", "EVENT_TYPES", "event_key",
           "dedupe_events"]


def _step(key: str, result: Result) -> Result:
    """Mark ``result`` as step ``key``'s (its title gets the step's number and name where it is shown)."""
    result.step = key
    return result


class Setup:
    """The walkthrough's steps with saved IDs, plus read-backs, events, diagnose and teardown."""

    #: roles an API credential needs for the walkthrough: sends, and the Dashboard (number management) calls
    NEEDED_ROLES = NEEDED_ROLES

    def __init__(self, config: "Config", state: StateStore | None = None, *, progress: bool = True):
        self.ctx = FlowContext(config, state, progress=progress)
        discover()  # every flow module declares its steps (their done rules, calls, checks) before any is read
        self.provisioning = Provisioning(self.ctx)
        self.a2p_flow = A2PFlow(self.ctx)
        self.message_flow = Messages(self.ctx)
        self.preflight = Preflight(self.ctx)
        self.teardown_flow = Teardown(self.ctx)
        self.media_flow = MediaFlow(self.ctx)
        self._flows: dict[type, Any] = {type(f): f for f in (self.provisioning, self.a2p_flow, self.message_flow,
                                                             self.preflight, self.teardown_flow, self.media_flow)}

    def __getattr__(self, name: str) -> Any:
        """The calls a flow declares (bwhelpers.flows.registry): ``setup.<call>(...)`` runs the flow's method of that
        name, its Result marked as the step's; a new step needs no method here."""
        found = declared_calls().get(name) if not name.startswith("_") else None
        if found is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        decl, marks = found
        flow = self._flows.get(decl.flow)
        if flow is None:
            flow = self._flows[decl.flow] = decl.flow(self.ctx)
        method = getattr(flow, name)
        if not marks:
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return _step(decl.key, result) if isinstance(result, Result) else result

        call.__name__, call.__doc__ = name, method.__doc__
        return call

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(declared_calls()))

    def __repr__(self) -> str:
        return f"<Setup {self.config.target} profile={self.profile!r} state={str(self.state.path)!r}>"

    # ------------------------------------------------------------------ plumbing (the context's)
    @property
    def config(self) -> "Config":
        """The target's configuration."""
        return self.ctx.config

    @property
    def state(self) -> StateStore:
        """The state store (the file of saved IDs)."""
        return self.ctx.store

    @property
    def progress(self) -> bool:
        """Show progress bars while waiting."""
        return self.ctx.progress

    @progress.setter
    def progress(self, value: bool) -> None:
        self.ctx.progress = value

    @property
    def profile(self) -> str:
        """The state profile of this target ('sandbox', 'real-<account>')."""
        return self.ctx.profile

    @property
    def dashboard(self) -> "DashboardClient":
        """The Dashboard client (created on first use)."""
        return self.ctx.dashboard

    @property
    def messaging(self) -> "MessagingClient":
        """The messaging client (created on first use)."""
        return self.ctx.messaging

    @property
    def a2p(self) -> "A2PClient":
        """The 10DLC / TN Option Order / toll-free verification client (created on first use)."""
        return self.ctx.a2p

    @property
    def control(self) -> "SandboxControl | None":
        """The sandbox's control-plane client (None on a real account)."""
        return self.ctx.control

    @property
    def current(self) -> SavedState:
        """This profile's saved state, typed (``setup.current.application.id``, ``.sending_number``)."""
        return self.ctx.state

    @property
    def saved(self) -> dict[str, Any]:
        """A copy of this profile's saved state in the file's shape (plain dicts); code reads :attr:`current`."""
        return self.state.get(self.profile)

    # ------------------------------------------------------------------ steps 1-7
    def create_application(self, name: str = guide.APPLICATION_NAME, callback_url: str | None = None,
                           new: bool = False, callback_user: str | None = None,
                           callback_password: str | None = None, *, inbound_callback_url: str | None = None,
                           outbound_callback_url: str | None = None, inbound_user: str | None = None,
                           inbound_password: str | None = None, outbound_user: str | None = None,
                           outbound_password: str | None = None, callback_types: list[str] | None = None) -> Result:
        """Create (or reuse the saved) messaging application; saves its ApplicationId.

        Today's fields by default: ``inbound_callback_url`` (message-received) and ``outbound_callback_url``
        (delivery receipts), with credentials and ``callback_types``; in the sandbox a blank inbound URL becomes
        a request bin and a blank outbound URL the same bin. ``callback_url`` asks for the guide's legacy
        ``CallbackUrl`` instead (one URL for every event).

        Check -> create -> save runs under the profile's cross-process step lock: kernels or processes running
        this step at the same time create one application (the others reuse it). Credentials in a URL
        (``https://user:pw@host/x``) become the callback credentials; the URL is saved and shown without them.
        """
        return _step("application", self.provisioning.create_application(
            name, callback_url, new, callback_user, callback_password, inbound_callback_url=inbound_callback_url,
            outbound_callback_url=outbound_callback_url, inbound_user=inbound_user,
            inbound_password=inbound_password, outbound_user=outbound_user, outbound_password=outbound_password,
            callback_types=callback_types))

    def create_location(self, name: str = guide.LOCATION_NAME, new: bool = False, default: bool = True) -> Result:
        """Create (or reuse the saved) location (sippeer); saves its id from the Location header.
        Runs under the profile's cross-process step lock (concurrent runs create one location)."""
        return _step("location", self.provisioning.create_location(name, new, default))

    def enable_sms(self, **overrides: Any) -> Result:
        """Enable SMS on the saved location (guide defaults; kwargs as DashboardClient.enable_sms)."""
        return _step("sms", self.provisioning.enable_feature("sms", overrides))

    def enable_mms(self, **overrides: Any) -> Result:
        """Enable MMS on the saved location (after SMS: the service answers 400 otherwise)."""
        return _step("mms", self.provisioning.enable_feature("mms", overrides))

    def assign_application(self) -> Result:
        """Assign the saved application to the saved location (PUT, safe to repeat)."""
        return _step("assigned", self.provisioning.assign_application())

    def search_numbers(self, **criteria: Any) -> Result:
        """Search available numbers (area_code=, zip=, city=+state=, ...); nothing is saved."""
        return self.provisioning.search_numbers(**criteria)

    def order_numbers(self, area_code: Any = DEFAULT, quantity: int = 1, new: bool = False,
                      partial_allowed: bool = True, back_order: bool = False, name: str | None = None,
                      **criteria: Any) -> Result:
        """Order numbers onto the saved location (default: 1 number in the guide's area code 910).

        Re-running with the same criteria returns the saved order (refreshed) unless it FAILED or ``new=True``.
        The order carries a ``CustomerOrderId`` derived from the profile, location, criteria and how many such
        orders were saved; before ordering, the client asks the server for an order with that id
        (``GET /orders?customerOrderId=``), so a retry after a crash between ordering and saving does not buy
        twice. Check -> order -> save runs under the profile's cross-process step lock.
        """
        return _step("orders", self.provisioning.order_numbers(area_code, quantity, new, partial_allowed,
                                                               back_order, name, **criteria))

    def get_order(self, order_id: str | None = None) -> Result:
        """The order's status (default: the last saved order); completed numbers are saved."""
        return _step("numbers", self.provisioning.get_order(order_id))

    def wait_for_order(self, order_id: str | None = None, timeout: float = 60.0, progress: bool | None = None,
                       on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Poll until COMPLETE/PARTIAL/FAILED/BACKORDERED; saves the numbers (only real phone numbers,
        and only from a COMPLETE or PARTIAL order). ``on_poll(result, elapsed)`` reports each poll."""
        return _step("numbers", self.provisioning.wait_for_order(order_id, timeout, progress, on_poll))

    def locations(self) -> list[dict[str, Any]]:
        """Every location with its SMS, MMS and assigned-application status (one GET per feature)."""
        return self.provisioning.locations()

    def would_create_another(self, key: str, **inputs: Any) -> dict[str, Any] | None:
        """The saved object a step would NOT reuse with these inputs (so it would create a second one), or None.

        ``key``: ``application`` (name=), ``location`` (name=) or ``orders`` (criteria and quantity as for
        :meth:`order_numbers`). The notebooks ask before creating the second object."""
        return self.provisioning.would_create_another(key, **inputs)

    # ------------------------------------------------------------------ A2P (10DLC / toll-free verification)
    def list_campaigns(self) -> Result:
        """The account's 10DLC campaigns (campaignId, status, ...). A real account registers its brand and
        campaign in the Bandwidth App (it takes days); the sandbox has a pre-registered one."""
        return self.a2p_flow.list_campaigns()

    def register_a2p(self, campaign_id: str | None = None, numbers: Any = None, new: bool = False,
                     timeout: float = 60.0, progress: bool | None = None,
                     on_placed: Callable[[Result], None] | None = None,
                     on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Register the saved numbers for A2P messaging: local numbers are assigned to a REGISTERED 10DLC campaign
        (default the account's first) with a TN Option Order, polled until it finishes (a progress bar); saves the
        campaign and the order. Re-running reuses the assignment: no second order for a number already on the
        campaign (``new=True`` then says so). Toll-free numbers need toll-free verification instead (request_tfv).
        ``on_placed(result)`` gets the POST's Result (its request is the TN Option Order) before the polling.
        """
        return _step("a2p", self.a2p_flow.register_a2p(campaign_id, numbers, new, timeout, progress, on_placed,
                                                       on_poll))

    def get_a2p_order(self, order_id: str | None = None) -> Result:
        """The saved (or given) TN Option Order, read again."""
        return self.a2p_flow.get_a2p_order(order_id)

    def registration(self, number: str | None = None) -> Result:
        """The sending number's A2P status: its 10DLC registration (local) or toll-free verification."""
        return self.a2p_flow.registration(number)

    def request_tfv(self, submission: dict[str, Any], numbers: Any = None) -> Result:
        """Submit toll-free verification for the saved toll-free number(s) (bandwidth.yml verificationRequest)."""
        return self.a2p_flow.request_tfv(submission, numbers)

    # ------------------------------------------------------------------ messages and events
    def send_message(self, to: Any, text: str | None, from_: str | None = None, media: Any = None,
                     tag: str | None = None, save: bool = True) -> Result:
        """Send from a saved number (default the first) with the saved application id.

        ``save=False`` sends without recording the message as the send step's (the events notebook's deliberate
        failures)."""
        result = self.message_flow.send_message(to, text, from_, media, tag, save)
        return _step("messages", result) if save else result

    def bulk_send(self, rows_or_recipients: Any, text: str | None = None, from_: str | None = None,
                  concurrency: int = 4, rate: float | str | None = "auto",
                  progress: bool | None = None) -> list[dict[str, Any]]:
        """Send many messages from a saved number (default the first) with the saved application id.

        ``rows_or_recipients``: numbers (with ``text``), or dicts / a DataFrame with ``to`` and ``text``
        (and optionally ``from``). Concurrency is bounded; 429 answers are retried after ``Retry-After``;
        nothing is sent twice. ``rate="auto"`` paces at the sandbox's per-account limit when one is set
        (``rate_limit_per_second``), else relies on 429s alone; pass a number of messages per second to
        pace yourself, or None. Returns one record per message: to, text, id, status, error, attempts
        (``tables.bulk_frame`` shows them).
        """
        return self.message_flow.bulk_send(rows_or_recipients, text, from_, concurrency, rate, progress)

    # ------------------------------------------------------------------ pictures (MMS)
    def upload_media(self, source: Any = None, media_id: str | None = None,
                     content_type: str | None = None) -> Result:
        """Upload a file with the Media API (a path or bytes; default the project's picture); the type is guessed
        from the name. ``result.data["url"]`` is the media URL to send."""
        return _step("pictures", self.media_flow.upload(source, media_id, content_type))

    def list_media(self) -> Result:
        """The account's media files (every page)."""
        return self.media_flow.list_media()

    def get_media(self, media_id: str) -> Any:
        """One media file (``MediaFile``: content, content_type)."""
        return self.media_flow.get(media_id)

    def delete_media(self, media_id: str) -> Result:
        """Delete one media file."""
        return self.media_flow.delete(media_id)

    def download_media(self, url: str) -> Any:
        """A picture of a message by its URL: credentials only to the messaging host, no redirects followed."""
        return self.media_flow.download(url)

    def send_picture(self, to: Any, media: Any = None, text: str | None = None, from_: str | None = None) -> Result:
        """Send an MMS (``media``: URLs, or local files uploaded first; default the last upload or the project's
        picture)."""
        return _step("pictures", self.media_flow.send_picture(to, media, text, from_))

    def simulate_picture_reply(self, sample: str = "sunset", text: str = "Here is a picture back!",
                               from_: str = guide.SANDBOX_PHONE) -> dict[str, Any]:
        """Sandbox: a picture message to your number (built-in ``sample``) -> message-received with media URLs."""
        return self.media_flow.simulate_picture_reply(sample, text, from_)

    def received_pictures(self, message_id: str | None = None) -> list[Any]:
        """The pictures of the latest message-received event that had some, downloaded."""
        return self.media_flow.received_pictures(message_id)

    def events(self) -> list[dict[str, Any]]:
        """Callback events received so far (sandbox: its request bin for the saved application); show them
        with ``tables.events_frame``."""
        return self.message_flow.events()

    def wait_for_event(self, type: str = "message-delivered", message_id: str | None = None,
                       timeout: float = 30.0, interval: float = 0.25,
                       on_poll: Callable[[float], None] | None = None, accept_failure: bool = False) -> dict[str, Any]:
        """Poll the events until one of ``type`` (for ``message_id``, default the last sent) arrives.

        ``on_poll(elapsed_seconds)`` reports each poll. On timeout, the WaitTimeoutError names the likely cause
        judged from the state (:meth:`why_no_event`). With ``accept_failure``, a ``message-failed`` event for that
        message ends the wait too (and is returned): the message will never be delivered."""
        return self.message_flow.wait_for_event(type, message_id, timeout, interval, on_poll, accept_failure)

    def why_no_event(self, type: str, message_id: str | None) -> tuple[str, str]:
        """The likely reason an event did not arrive, judged from the state, and its fix: was the message sent
        (and what became of it), is the application assigned, does the callback URL answer."""
        return self.message_flow.why_no_event(type, message_id)

    def delivery_status(self, message_id: str | None = None, timeout: float = 30.0,
                        on_poll: Callable[[str, float], None] | None = None) -> Any:
        """The message's outcome by polling listMessages (default the last sent): each recipient's messageStatus
        and errorCode, until final or ``timeout`` (:func:`bwhelpers.flows.delivery.delivery_status`)."""
        from .checks import check_number, check_str
        from .flows.delivery import delivery_status

        check_str(message_id, "message_id", optional=True)
        check_number(timeout, "timeout")
        return delivery_status(self.ctx, message_id, timeout=timeout, on_poll=on_poll)

    # ------------------------------------------------------------------ status, diagnose, teardown
    def status(self) -> list[dict[str, Any]]:
        """The steps with done/pending/failed/partial from the saved state (for the progress widget)."""
        st = self.current
        return [{"step": p.number, "key": p.key, "name": p.title, "notebook": p.filename, "done": st.is_done(p.key),
                 "status": st.step_status(p.key), "detail": st.detail(p.key)} for p in steps.STEPS]

    def diagnose(self) -> list[dict[str, Any]]:
        """Preflight: what would make messages fail, one record per check (DIAGNOSE_COLUMNS) with its fix.

        Failing checks come first (band message preflight's order of concern), also when a check stops the run."""
        return self.preflight.diagnose()

    def teardown(self, disconnect_timeout: float = 30.0) -> list[dict[str, Any]]:
        """Undo everything saved, in the service's order: unassign -> disconnect numbers -> delete MMS ->
        delete SMS -> delete location -> delete application; then clear the saved state (the form values stay).

        State is updated after each step, so a failure keeps what still exists saved. Returns one record
        per action (TEARDOWN_COLUMNS).
        """
        return self.teardown_flow.teardown(disconnect_timeout)

    # ------------------------------------------------------------------ all steps
    def run_all(self, to: str | None = None, text: str = guide.HELLO_TEXT) -> Iterator[Result]:
        """All the guide's steps in the step table's order (the 2018 guide's and today's A2P registration), each
        run as its flow declares, yielding each step's Result (saved objects are reused).

        ``to`` defaults to the sandbox's delivered number; on a real account (a real, billed text) to
        ``BW_TO_NUMBER``, and without it nothing is run: the ValidationError names ``to``."""
        if to is None:
            to = guide.DELIVERED_TO if self.config.is_sandbox else os.environ.get(guide.TO_NUMBER_ENV, "").strip()
        if not self.config.is_sandbox and not to:
            raise ValidationError(f"to: empty: run_all on a real account sends a real, billed text to it. Fix: give "
                                  f"to=your own mobile number, or set {guide.TO_NUMBER_ENV}", field="to",
                                  fix=f"give to=your own mobile number, or set {guide.TO_NUMBER_ENV}")
        runs = {d.key: d.run for d in declared() if d.run is not None}
        for p in steps.STEPS:
            run = runs.get(p.key)
            if run is not None:
                yield _step(p.key, run(self, {"to": to, "text": text}))
