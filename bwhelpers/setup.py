"""Setup: the walkthrough orchestrator the notebooks use (config + clients + saved IDs).

Each step saves what it creates in the StateStore under the config's profile, so the next step (in
another notebook, another kernel) finds it. Re-running a step returns the saved object when the server
still has it; ``new=True`` forces a fresh one.
"""
from __future__ import annotations

import re
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import steps
from .checks import check_bool as _check_bool
from .checks import check_int as _check_int
from .checks import check_number as _check_number
from .checks import check_str as _check_str
from .checks import split_url_credentials as _split_url_credentials
from .exceptions import (BandwidthError, MissingPrerequisiteError, NotFoundError, UnknownMessageError, ValidationError,
                         WaitTimeoutError)
from .phone import loose_e164
from .results import Result
from .state import StateStore, now_iso

if TYPE_CHECKING:
    from .a2p import A2PClient
    from .config import Config
    from .dashboard import DashboardClient
    from .messaging import MessagingClient
    from .sandbox_control import SandboxControl

__all__ = ["Setup", "PLACEHOLDER_HOSTS", "DIAGNOSE_COLUMNS", "TEARDOWN_COLUMNS"]

DIAGNOSE_COLUMNS = ("check", "ok", "finding", "fix")
TEARDOWN_COLUMNS = ("step", "outcome", "detail")

PLACEHOLDER_HOSTS = ("example.com", "example.org", "example.net", "localhost", "127.0.0.1", "0.0.0.0",
                     "google.com", "bandwidth.com", "requestb.in")
_DEFAULT = object()


def _prereq(key: str, what: str) -> MissingPrerequisiteError:
    p = steps.step(key)
    return MissingPrerequisiteError(
        f"No {what} saved: run step {p.number} ({p.title}, notebooks/{p.filename}) first",
        fix=f"run {p.ref}")


def _customer_order_id(profile: str, location_id: str, criteria: dict[str, Any], earlier: int) -> str:
    """The order's CustomerOrderId: the same for a retry of one order (profile, location, criteria, and how
    many such orders were saved before), a new one for the next (letters, digits and dashes, 40 at most)."""
    import hashlib
    import json

    seed = json.dumps([profile, str(location_id), criteria, earlier], sort_keys=True, default=str)
    return f"bwh-{hashlib.sha256(seed.encode()).hexdigest()[:24]}-{earlier}"[:40]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "default"


class Setup:
    """The walkthrough's steps with saved IDs, plus read-backs, events, diagnose and teardown."""

    def __init__(self, config: "Config", state: StateStore | None = None, *, progress: bool = True):
        from .config import Config

        if not isinstance(config, Config):
            raise ValidationError(f"config: expected a bwhelpers Config (bwhelpers.connect() or Config.resolve()), "
                                  f"got {type(config).__name__}", field="config")
        if state is not None and not isinstance(state, StateStore):
            raise ValidationError(f"state: expected a StateStore or None, got {type(state).__name__}", field="state")
        _check_bool(progress, "progress")
        self.config = config
        self.state = state if state is not None else StateStore()
        self.progress = progress
        self._dashboard: "DashboardClient | None" = None
        self._messaging: "MessagingClient | None" = None
        self._control: "SandboxControl | None" = None
        self._a2p: "A2PClient | None" = None

    def __repr__(self) -> str:
        return f"<Setup {self.config.target} profile={self.profile!r} state={str(self.state.path)!r}>"

    # ------------------------------------------------------------------ plumbing
    @property
    def profile(self) -> str:
        """The state profile of this target ('sandbox', 'real-<account>')."""
        return self.config.profile

    @property
    def dashboard(self) -> "DashboardClient":
        """The Dashboard client (created on first use)."""
        if self._dashboard is None:
            from .dashboard import DashboardClient
            self._dashboard = DashboardClient(self.config)
        return self._dashboard

    @property
    def messaging(self) -> "MessagingClient":
        """The messaging client (created on first use)."""
        if self._messaging is None:
            from .messaging import MessagingClient
            self._messaging = MessagingClient(self.config)
        return self._messaging

    @property
    def a2p(self) -> "A2PClient":
        """The 10DLC / TN Option Order / toll-free verification client (created on first use)."""
        if self._a2p is None:
            from .a2p import A2PClient
            self._a2p = A2PClient(self.config, session=self.dashboard.session)
        return self._a2p

    @property
    def control(self) -> "SandboxControl | None":
        """The sandbox's control-plane client (None on a real account)."""
        if self._control is None and self.config.is_sandbox and self.config.sandbox_base:
            from .sandbox_control import SandboxControl
            self._control = SandboxControl(self.config, session=self.dashboard.session)
        return self._control

    @property
    def saved(self) -> dict[str, Any]:
        """A copy of this profile's saved state."""
        return self.state.get(self.profile)

    def _need_application(self) -> dict[str, Any]:
        app = self.saved.get("application")
        if not app or not app.get("id"):
            raise _prereq("application", "application")
        return app

    def _need_location(self) -> dict[str, Any]:
        loc = self.saved.get("location")
        if not loc or not loc.get("id"):
            raise _prereq("location", "location")
        return loc

    def _bin_name(self) -> str | None:
        app = self.saved.get("application") or {}
        return app.get("bin")

    # ------------------------------------------------------------------ step 1
    def create_application(self, name: str = "Demo Server", callback_url: str | None = None, new: bool = False,
                           callback_user: str | None = None, callback_password: str | None = None, *,
                           inbound_callback_url: str | None = None, outbound_callback_url: str | None = None,
                           inbound_user: str | None = None, inbound_password: str | None = None,
                           outbound_user: str | None = None, outbound_password: str | None = None,
                           callback_types: list[str] | None = None) -> Result:
        """Step 1: create (or reuse the saved) messaging application; saves its ApplicationId.

        Today's fields by default: ``inbound_callback_url`` (message-received) and ``outbound_callback_url``
        (delivery receipts), with credentials and ``callback_types``; in the sandbox a blank inbound URL becomes
        a request bin and a blank outbound URL the same bin. ``callback_url`` asks for the guide's legacy
        ``CallbackUrl`` instead (one URL for every event).

        Check -> create -> save runs under the profile's cross-process step lock: kernels or processes running
        this step at the same time create one application (the others reuse it). Credentials in a URL
        (``https://user:pw@host/x``) become the callback credentials; the URL is saved and shown without them.
        """
        _check_str(name, "name")
        _check_bool(new, "new")
        for field, value in (("callback_url", callback_url), ("callback_user", callback_user),
                             ("callback_password", callback_password), ("inbound_callback_url", inbound_callback_url),
                             ("outbound_callback_url", outbound_callback_url), ("inbound_user", inbound_user),
                             ("inbound_password", inbound_password), ("outbound_user", outbound_user),
                             ("outbound_password", outbound_password)):
            _check_str(value, field, optional=True)
        if callback_url is not None:
            callback_url, callback_user, callback_password = _split_url_credentials(
                callback_url, callback_user, callback_password)
        if inbound_callback_url is not None:
            inbound_callback_url, inbound_user, inbound_password = _split_url_credentials(
                inbound_callback_url, inbound_user, inbound_password)
        if outbound_callback_url is not None:
            outbound_callback_url, outbound_user, outbound_password = _split_url_credentials(
                outbound_callback_url, outbound_user, outbound_password)
        with self.state.step_lock(self.profile, "application"):
            return self._create_application(
                name, callback_url, new, callback_user, callback_password, inbound_callback_url=inbound_callback_url,
                outbound_callback_url=outbound_callback_url, inbound_user=inbound_user,
                inbound_password=inbound_password, outbound_user=outbound_user, outbound_password=outbound_password,
                callback_types=callback_types)

    def _create_application(self, name: str, callback_url: str | None, new: bool, callback_user: str | None,
                            callback_password: str | None, *, inbound_callback_url: str | None,
                            outbound_callback_url: str | None, inbound_user: str | None, inbound_password: str | None,
                            outbound_user: str | None, outbound_password: str | None,
                            callback_types: list[str] | None) -> Result:

        legacy = callback_url is not None or bool(callback_user or callback_password)
        if legacy and (inbound_callback_url or outbound_callback_url):
            raise ValidationError("callback_url: the guide's CallbackUrl can't be combined with inbound_callback_url"
                                  "/outbound_callback_url (Bandwidth answers 13065); give one form",
                                  field="callback_url")
        wanted = callback_url if legacy else inbound_callback_url
        saved = self.saved.get("application")
        if saved and saved.get("id") and saved.get("name") == name and not new:
            try:
                result = self.dashboard.get_application(saved["id"])
            except NotFoundError:
                pass  # gone on the server: create a new one below
            else:
                if wanted and wanted != saved.get("callback_url"):
                    warnings.warn(f"the saved application {saved['id']} uses {saved.get('callback_url')}; "
                                  "pass new=True to create one with the new callback URL", stacklevel=2)
                result = self._follow_sandbox(saved, result)
                result.title, result.reused = "Step 1: application (saved)", True
                return result
        control = self.control
        if wanted is None:
            if control is None:
                field = "callback_url" if legacy else "inbound_callback_url"
                raise ValidationError(f"{field}: required on the real service; give the https URL of your "
                                      "server that receives message events", field=field)
            wanted = control.bin_url(_slug(self.profile) if name == "Demo Server" else _slug(f"{self.profile}-{name}"))
            if not legacy and outbound_callback_url is None:
                outbound_callback_url = wanted
        bin_name = control.bin_name(wanted) if control is not None else None
        if legacy:
            result = self.dashboard.create_application(name, wanted, callback_user, callback_password)
        else:
            result = self.dashboard.create_application(
                name, inbound_callback_url=wanted, outbound_callback_url=outbound_callback_url,
                inbound_user=inbound_user, inbound_password=inbound_password, outbound_user=outbound_user,
                outbound_password=outbound_password, callback_types=callback_types)
        with self.state.transaction(self.profile) as st:
            st["application"] = {"id": result.id, "name": name, "callback_url": wanted, "bin": bin_name,
                                 "fields": "legacy" if legacy else "current",
                                 "outbound_callback_url": None if legacy else outbound_callback_url,
                                 "outbound_bin": None if legacy or control is None
                                 else control.bin_name(outbound_callback_url),
                                 "created": now_iso()}
        return result

    def _follow_sandbox(self, saved: dict[str, Any], result: Result) -> Result:
        """A sandbox application's callback URLs are its request bins in *this* sandbox: when the sandbox moved
        (another port on a shared machine, a restart), the saved URLs still name the old one and no event would
        arrive, so they are pointed at this sandbox's bins (same names) on the server and in the saved state."""
        control = self.control
        if control is None or not saved.get("bin"):
            return result
        inbound = control.bin_url(saved["bin"])
        outbound = control.bin_url(saved["outbound_bin"]) if saved.get("outbound_bin") else None
        if inbound == saved.get("callback_url") and outbound == saved.get("outbound_callback_url"):
            return result
        if saved.get("fields") == "legacy":
            result = self.dashboard.repoint_application(saved["id"], callback_url=inbound)
        else:
            result = self.dashboard.repoint_application(saved["id"], inbound_callback_url=inbound,
                                                        outbound_callback_url=outbound)
        with self.state.transaction(self.profile) as st:
            app = st.get("application") or {}
            app["callback_url"], app["outbound_callback_url"] = inbound, outbound
            st["application"] = app
        return result

    # ------------------------------------------------------------------ step 2
    def create_location(self, name: str = "Bandwidth Messaging 2 test", new: bool = False,
                        default: bool = True) -> Result:
        """Step 2: create (or reuse the saved) location (sippeer); saves its id from the Location header.
        Runs under the profile's cross-process step lock (concurrent runs create one location)."""
        _check_str(name, "name")
        _check_bool(new, "new")
        _check_bool(default, "default")
        with self.state.step_lock(self.profile, "location"):
            return self._create_location(name, new, default)

    def _create_location(self, name: str, new: bool, default: bool) -> Result:
        saved = self.saved.get("location")
        if saved and saved.get("id") and saved.get("name") == name and not new:
            try:
                result = self.dashboard.get_location(saved["id"])
            except NotFoundError:
                pass
            else:
                result.title, result.reused = "Step 2: location (saved)", True
                return result
        result = self.dashboard.create_location(name, default=default)
        with self.state.transaction(self.profile) as st:
            st["location"] = {"id": result.id, "name": name, "created": now_iso()}
        return result

    # ------------------------------------------------------------------ steps 3-5
    def enable_sms(self, **overrides: Any) -> Result:
        """Step 3: enable SMS on the saved location (guide defaults; kwargs as DashboardClient.enable_sms)."""
        return self._enable_feature("sms", self.dashboard.get_sms, self.dashboard.enable_sms, overrides)

    def enable_mms(self, **overrides: Any) -> Result:
        """Step 4: enable MMS on the saved location (after SMS: the service answers 400 otherwise)."""
        return self._enable_feature("mms", self.dashboard.get_mms, self.dashboard.enable_mms, overrides)

    def _enable_feature(self, key: str, get: Callable[[str], Result], enable: Callable[..., Result],
                        overrides: dict[str, Any]) -> Result:
        """Enable a feature (step ``key``: sms|mms) on the saved location, or reuse it when it is already on."""
        import inspect

        allowed = [n for n in inspect.signature(enable).parameters if n != "location_id"]
        unknown = sorted(set(overrides) - set(allowed))
        if unknown:
            raise ValidationError(f"{unknown[0]}: not a setting of step {key}; use {', '.join(allowed)}",
                                  field=unknown[0])
        loc = self._need_location()
        result = self._existing_feature(get, loc["id"]) if not overrides else None
        if result is None:
            result = enable(loc["id"], **overrides)
        else:
            p = steps.step(key)
            result.title, result.reused = f"Step {p.number}: {key.upper()} (already enabled)", True
        with self.state.transaction(self.profile) as st:
            st[key] = {"location_id": loc["id"], "enabled": now_iso()}
        return result

    @staticmethod
    def _existing_feature(getter: Any, location_id: str) -> Result | None:
        try:
            result = getter(location_id)
        except (NotFoundError, ValidationError):
            return None
        return result if result.data else None

    def assign_application(self) -> Result:
        """Step 5: assign the saved application to the saved location (PUT, safe to repeat)."""
        app = self._need_application()
        loc = self._need_location()
        result = self.dashboard.assign_application(loc["id"], app["id"])
        with self.state.transaction(self.profile) as st:
            st["assigned"] = {"application_id": app["id"], "location_id": loc["id"], "at": now_iso()}
        return result

    # ------------------------------------------------------------------ steps 6-7
    def search_numbers(self, **criteria: Any) -> Result:
        """Search available numbers (area_code=, zip=, city=+state=, ...); nothing is saved."""
        if not criteria:
            criteria = {"area_code": "910", "quantity": 5}
        return self.dashboard.search_numbers(**criteria)

    def order_numbers(self, area_code: Any = _DEFAULT, quantity: int = 1, new: bool = False,
                      partial_allowed: bool = True, back_order: bool = False, name: str | None = None,
                      **criteria: Any) -> Result:
        """Step 6: order numbers onto the saved location (default: 1 number in area code 910).

        Re-running with the same criteria returns the saved order (refreshed) unless it FAILED or ``new=True``.
        The order carries a ``CustomerOrderId`` derived from the profile, location, criteria and how many such
        orders were saved; before ordering, the client asks the server for an order with that id
        (``GET /orders?customerOrderId=``), so a retry after a crash between ordering and saving does not buy
        twice. Check -> order -> save runs under the profile's cross-process step lock.
        """
        _check_int(quantity, "quantity")
        for flag, value in (("new", new), ("partial_allowed", partial_allowed), ("back_order", back_order)):
            _check_bool(value, flag)
        _check_str(name, "name", optional=True)
        with self.state.step_lock(self.profile, "orders"):
            return self._order_numbers(area_code, quantity, new, partial_allowed, back_order, name, criteria)

    def _order_numbers(self, area_code: Any, quantity: int, new: bool, partial_allowed: bool, back_order: bool,
                       name: str | None, criteria: dict[str, Any]) -> Result:
        loc = self._need_location()
        if area_code is _DEFAULT:
            area_code = None if (criteria.get("numbers") or any(v is not None for v in criteria.values())) else "910"
        if area_code is not None:
            criteria["area_code"] = area_code
        key = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in sorted(criteria.items())
               if v is not None}
        key["quantity"] = quantity
        if not new:
            for saved in reversed(self.saved.get("orders", [])):
                if saved.get("criteria") == key and saved.get("location_id") == loc["id"] \
                        and saved.get("status") not in ("FAILED",):
                    try:
                        result = self.get_order(saved["id"])
                    except NotFoundError:
                        break
                    result.title, result.reused = "Step 6: order (saved)", True
                    return result
                break
        numbers = criteria.pop("numbers", None)
        earlier = sum(1 for o in self.saved.get("orders", [])
                      if o.get("criteria") == key and o.get("location_id") == loc["id"])
        customer_order_id = _customer_order_id(self.profile, loc["id"], key, earlier)
        from .dashboard import order_body
        order_body(self.config.site_id, quantity=quantity, partial_allowed=partial_allowed, back_order=back_order,
                   name=name, location_id=loc["id"], numbers=numbers, customer_order_id=customer_order_id,
                   **criteria)  # every argument checked before the look-up sends anything
        found = self.dashboard.find_order(customer_order_id)
        if found is not None:  # placed by an earlier run that did not get to save it
            result = self.dashboard.get_order(found)
            result.title, result.reused = "Step 6: order (found by CustomerOrderId)", True
            self._save_order(result, criteria=key, location_id=loc["id"], customer_order_id=customer_order_id)
            return result
        result = self.dashboard.order_numbers(quantity=quantity, partial_allowed=partial_allowed,
                                              back_order=back_order, name=name, location_id=loc["id"],
                                              numbers=numbers, customer_order_id=customer_order_id, **criteria)
        self._save_order(result, criteria=key, location_id=loc["id"], customer_order_id=customer_order_id)
        return result

    def _save_order(self, result: Result, **extra: Any) -> None:
        with self.state.transaction(self.profile) as st:
            orders = st.setdefault("orders", [])
            entry = next((o for o in orders if o.get("id") == result.id), None)
            if entry is None:
                entry = {"id": result.id, "created": now_iso()}
                orders.append(entry)
            entry.update(extra)
            entry["status"] = result.status
            entry["numbers"] = list(result.numbers)
            entry["updated"] = now_iso()
            if result.status in ("COMPLETE", "PARTIAL") and result.numbers:
                numbers = st.setdefault("numbers", [])
                for n in result.numbers:
                    if _is_phone_number(n) and n not in numbers:
                        numbers.append(n)

    def _order_id(self, order_id: str | None) -> str:
        _check_str(order_id, "order_id", optional=True)
        if order_id:
            return order_id
        orders = self.saved.get("orders") or []
        if not orders:
            raise _prereq("orders", "order")
        return orders[-1]["id"]

    def get_order(self, order_id: str | None = None) -> Result:
        """Step 7: the order's status (default: the last saved order); completed numbers are saved."""
        result = self.dashboard.get_order(self._order_id(order_id))
        self._save_order(result)
        return result

    def wait_for_order(self, order_id: str | None = None, timeout: float = 60.0,
                       progress: bool | None = None,
                       on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Step 7: poll until COMPLETE/PARTIAL/FAILED/BACKORDERED; saves the numbers (only real phone numbers,
        and only from a COMPLETE or PARTIAL order). ``on_poll(result, elapsed)`` reports each poll."""
        _check_number(timeout, "timeout")
        if progress is not None:
            _check_bool(progress, "progress")
        oid = self._order_id(order_id)
        result = self.dashboard.wait_for_order(oid, timeout=timeout,
                                               progress=self.progress if progress is None else progress,
                                               on_poll=on_poll)
        self._save_order(result)
        return result

    # ------------------------------------------------------------------ A2P (10DLC / toll-free verification)
    def list_campaigns(self) -> Result:
        """The account's 10DLC campaigns (campaignId, status, ...). A real account registers its brand and
        campaign in the Bandwidth App (it takes days); the sandbox has a pre-registered one."""
        return self.a2p.list_campaigns()

    def _registered_campaign(self, campaign_id: str | None) -> str:
        """``campaign_id`` checked against the account's campaigns (or the first REGISTERED one)."""
        from .a2p import check_campaign_id

        if campaign_id is not None:
            campaign_id = check_campaign_id(campaign_id)
        campaigns = self.a2p.list_campaigns().records or []
        registered = [str(c.get("campaignId")) for c in campaigns if c.get("status") == "REGISTERED"]
        if campaign_id is None:
            if not registered:
                raise ValidationError(
                    "campaign_id: the account has no REGISTERED 10DLC campaign. Fix: register a brand and a campaign "
                    "in the Bandwidth App (The Campaign Registry vets them; it takes days), then run this step with "
                    "its id", field="campaign_id")
            return registered[0]
        found = next((c for c in campaigns if str(c.get("campaignId")) == campaign_id), None)
        if found is None:
            listed = ", ".join(f"{c.get('campaignId')} ({c.get('status')})" for c in campaigns) or "none"
            raise ValidationError(f"campaign_id: {campaign_id!r} is not a campaign of account {self.config.account_id} "
                                  f"(its campaigns: {listed}). Fix: use one of those (list_campaigns())",
                                  field="campaign_id")
        if found.get("status") != "REGISTERED":
            raise ValidationError(f"campaign_id: campaign {campaign_id} is {found.get('status')}, not REGISTERED: "
                                  "numbers can be assigned only once its registration is approved. Fix: wait for it, "
                                  f"or use a REGISTERED campaign ({', '.join(registered) or 'none yet'})",
                                  field="campaign_id")
        return campaign_id

    def _own_numbers(self, numbers: Any) -> list[str]:
        """``numbers`` (default the saved ones) as E.164, each checked to be in service on this account."""
        from .phone import normalize_number

        saved = list(self.saved.get("numbers") or [])
        if numbers is None:
            if not saved:
                raise _prereq("numbers", "phone number")
            return saved
        if isinstance(numbers, (str, int)):
            numbers = [numbers]
        wanted = [normalize_number(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not wanted:
            raise ValidationError("numbers: the list is empty; give the number(s) to register (or leave it out for "
                                  "the saved ones)", field="numbers")
        unknown = [n for n in wanted if n not in saved]
        if unknown:
            in_service = {loose_e164(n) for n in self.dashboard.list_in_service_numbers().numbers}
            foreign = [n for n in unknown if n not in in_service]
            if foreign:
                raise ValidationError(f"numbers: {', '.join(foreign)} is not a number of account "
                                      f"{self.config.account_id}. Fix: register one of your numbers "
                                      f"({', '.join(saved) or 'order one first'})", field="numbers")
        return wanted

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
        from .a2p import is_toll_free

        tns = self._own_numbers(numbers)
        local = [n for n in tns if not is_toll_free(n)]
        toll_free = [n for n in tns if is_toll_free(n)]
        if not local:
            statuses = {n: self.a2p.tfv_status(n).status for n in toll_free}
            raise ValidationError(
                f"numbers: {', '.join(toll_free)} is toll-free: a 10DLC campaign is for local numbers. Its toll-free "
                f"verification is {', '.join(f'{s}' for s in statuses.values())}. Fix: request_tfv(...) and wait for "
                "VERIFIED", field="numbers")
        campaign = self._registered_campaign(campaign_id)
        pending = []
        for n in local:
            try:
                reg = self.a2p.registration(n)
            except NotFoundError:
                pending.append(n)
                continue
            if reg.id != campaign or reg.status not in ("SUCCESS", "PROCESSING"):
                pending.append(n)
        saved = self.saved.get("a2p") or {}
        if not pending:
            if new:
                raise ValidationError(
                    f"numbers: {', '.join(local)} {'is' if len(local) == 1 else 'are'} already assigned to campaign "
                    f"{campaign}: assigning twice changes nothing. Fix: run it without new=True (it reuses the saved "
                    "assignment), or give another campaign_id", field="numbers")
            order_id = saved.get("order_id") if saved.get("campaign_id") == campaign else None
            if order_id:
                try:
                    result = self.a2p.get_tn_option_order(order_id)
                except NotFoundError:
                    result = None
                if result is not None:
                    result.title = f"Step {steps.step('a2p').number}: numbers already on campaign {campaign} (saved order)"
                    result.reused = True
                    self._save_a2p(campaign, result, local)
                    return result
            result = Result(data={"CampaignId": campaign, "TelephoneNumbers": local, "ProcessingStatus": "COMPLETE"},
                            id=order_id, status="COMPLETE", numbers=local,
                            title=f"Step {steps.step('a2p').number}: numbers already on campaign {campaign}", reused=True)
            self._save_a2p(campaign, result, local)
            return result
        number = steps.step("a2p").number
        placed = self.a2p.create_tn_option_order(pending, campaign)
        if on_placed is not None:
            on_placed(placed)
        with self.state.transaction(self.profile) as st:
            st["a2p"] = {"campaign_id": campaign, "order_id": placed.id, "status": placed.status,
                         "numbers": local, "created": now_iso()}
        result = self.a2p.wait_for_tn_option_order(placed.id or "", timeout=timeout,
                                                    progress=self.progress if progress is None else progress,
                                                    on_poll=on_poll)
        result.title = f"Step {number}: TN Option Order {result.status} (campaign {campaign})"
        self._save_a2p(campaign, result, local)
        return result

    def _save_a2p(self, campaign: str, result: Result, numbers: list[str]) -> None:
        with self.state.transaction(self.profile) as st:
            entry = st.get("a2p") or {}
            entry.update({"campaign_id": campaign, "status": result.status, "numbers": numbers, "updated": now_iso()})
            if result.id:
                entry["order_id"] = result.id
            st["a2p"] = entry

    def get_a2p_order(self, order_id: str | None = None) -> Result:
        """The saved (or given) TN Option Order, read again."""
        saved = (self.saved.get("a2p") or {}).get("order_id")
        order_id = order_id or saved
        if not order_id:
            raise _prereq("a2p", "TN Option Order")
        try:
            return self.a2p.get_tn_option_order(order_id)
        except NotFoundError as exc:
            raise NotFoundError(f"TN Option Order {order_id!r} does not exist on account {self.config.account_id}. "
                                f"Fix: check the id (saved: {saved or 'none'}) or run {steps.ref('a2p')} again",
                                status=exc.status, code=exc.code, description=exc.description,
                                exchange=exc.exchange, fix=f"check the id or run {steps.ref('a2p')}") from None

    def registration(self, number: str | None = None) -> Result:
        """The sending number's A2P status: its 10DLC registration (local) or toll-free verification."""
        from .a2p import is_toll_free
        from .phone import normalize_number

        number = normalize_number(number, "number") if number is not None else self._sending_number(None)
        if is_toll_free(number):
            return self.a2p.tfv_status(number)
        try:
            return self.a2p.registration(number)
        except NotFoundError:
            return Result(data={"phoneNumber": number, "campaignId": None, "status": "NOT REGISTERED"},
                          status="NOT REGISTERED", numbers=[number], title=f"10DLC registration of {number}")

    def request_tfv(self, submission: dict[str, Any], numbers: Any = None) -> Result:
        """Submit toll-free verification for the saved toll-free number(s) (bandwidth.yml verificationRequest)."""
        from .a2p import is_toll_free

        tns = [n for n in self._own_numbers(numbers) if is_toll_free(n)]
        if not tns:
            raise ValidationError("numbers: no toll-free number among them; local numbers need a 10DLC campaign "
                                  "(register_a2p())", field="numbers")
        return self.a2p.request_tfv(tns, submission)

    # ------------------------------------------------------------------ step 9
    def send_message(self, to: Any, text: str | None, from_: str | None = None, media: Any = None,
                     tag: str | None = None, save: bool = True) -> Result:
        """Step 9: send from a saved number (default the first) with the saved application id.

        ``save=False`` sends without recording the message as step 9's (notebook 10's deliberate failures)."""
        app = self._need_application()
        from_ = self._sending_number(from_)
        result = self.messaging.send_message(to, text, from_, app["id"], media=media, tag=tag)
        data = result.data
        if not save:
            return result
        with self.state.transaction(self.profile) as st:
            st.setdefault("messages", []).append({
                "id": result.id, "from": data.get("from"), "to": data.get("to"), "sent": now_iso(),
                "time": data.get("time")})
        return result

    def _sending_number(self, from_: str | None) -> str:
        """``from_``, or the first saved number (step 7 saves it)."""
        if from_ is not None:
            return from_
        numbers = self.saved.get("numbers") or []
        if not numbers:
            raise _prereq("numbers", f"phone number (order one in step {steps.step('orders').number}, then check it in "
                          f"step {steps.step('numbers').number})")
        return numbers[0]

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
        _check_int(concurrency, "concurrency")
        if progress is not None:
            _check_bool(progress, "progress")
        app = self._need_application()
        from_ = self._sending_number(from_)
        if rate == "auto":
            rate = self._sandbox_rate_limit()
        elif isinstance(rate, str):
            raise ValidationError(f"rate: {rate!r}; give 'auto', a number of messages per second, or None",
                                  field="rate")
        return self.messaging.bulk_send(rows_or_recipients, text=text, from_=from_, application_id=app["id"],
                                        concurrency=concurrency, rate=rate,
                                        progress=self.progress if progress is None else progress)

    def _sandbox_rate_limit(self) -> float | None:
        """The sandbox's per-account messages/second limit (None when unlimited or not the sandbox)."""
        if self.control is None:
            return None
        try:
            return self.control.rate_limit()
        except BandwidthError:
            return None

    # ------------------------------------------------------------------ events
    def events(self) -> list[dict[str, Any]]:
        """Callback events received so far (sandbox: its request bin for the saved application); show them
        with ``tables.events_frame``."""
        if self.control is None:
            warnings.warn("callback events go to your own callback URL on the real service; bwhelpers can read "
                          "them only in the sandbox", stacklevel=2)
            return []
        bin_name = self._bin_name()
        if not bin_name:
            if not (self.saved.get("application") or {}).get("id"):
                raise _prereq("application", "application")
            warnings.warn("the application's callback URL is not a sandbox request bin, so its events cannot be "
                          "read here", stacklevel=2)
            return []
        events = _extract_events(self.control.bin(bin_name))
        outbound = (self.saved.get("application") or {}).get("outbound_bin")
        if outbound and outbound != bin_name:  # today's fields: status events may go to a second bin
            events = sorted(events + _extract_events(self.control.bin(outbound)),
                            key=lambda e: str(e.get("time") or ""))
        return dedupe_events(events)  # at least once: each event shown once

    def wait_for_event(self, type: str = "message-delivered", message_id: str | None = None,
                       timeout: float = 30.0, interval: float = 0.25,
                       on_poll: Callable[[float], None] | None = None, accept_failure: bool = False) -> dict[str, Any]:
        """Poll the events until one of ``type`` (for ``message_id``, default the last sent) arrives.

        ``on_poll(elapsed_seconds)`` reports each poll. On timeout, the WaitTimeoutError names the likely cause
        judged from the state (:meth:`why_no_event`). With ``accept_failure``, a ``message-failed`` event for that
        message ends the wait too (and is returned): the message will never be delivered."""
        if type not in EVENT_TYPES:
            raise ValidationError(f"type: {type!r:.40} is not a message event; use one of {', '.join(EVENT_TYPES)}",
                                  field="type")
        _check_str(message_id, "message_id", optional=True)
        _check_number(timeout, "timeout")
        _check_number(interval, "interval", positive=True)
        _check_bool(accept_failure, "accept_failure")
        if message_id is None:
            messages = self.saved.get("messages") or []
            message_id = messages[-1]["id"] if messages else None
        if message_id is None and type != "message-received":
            p = steps.step("messages")
            raise MissingPrerequisiteError(
                f"no message has been sent on this target, so there is no {type} event to wait for",
                fix=f"send one first ({p.ref})")
        control = self.control
        if control is not None and message_id is not None and type != "message-received":
            try:
                known = control.messages(message_id)
            except BandwidthError:
                known = [{}]  # cannot tell: wait as usual
            if not known:  # the sandbox answered "no such message": no event can ever come
                raise UnknownMessageError(
                    f"not waiting for {type}: the sandbox has no message {message_id} on this account",
                    description=f"the sandbox has no message {message_id}: it was never sent on this account",
                    fix=f"send the message again ({steps.ref('messages')}), then wait for its events")
        start = time.monotonic()
        deadline = start + timeout
        while True:
            for ev in self.events():
                msg = ev.get("message") or {}
                mine = message_id is None or msg.get("id") == message_id
                if mine and (ev.get("type") == type or accept_failure and ev.get("type") == "message-failed"):
                    return ev
            if on_poll is not None:
                on_poll(time.monotonic() - start)
            if time.monotonic() >= deadline:
                cause, fix = self.why_no_event(type, message_id)
                raise WaitTimeoutError(f"no {type} event for message {message_id} within {timeout:g} s: {cause}",
                                       description=cause, fix=fix)
            time.sleep(interval)

    def why_no_event(self, type: str, message_id: str | None) -> tuple[str, str]:
        """The likely reason an event did not arrive, judged from the state, and its fix: was the message sent
        (and what became of it), is the application assigned, does the callback URL answer."""
        if not message_id:
            return "no message was sent", f"send one first ({steps.ref('messages')})"
        saved = self.saved
        app, loc = saved.get("application") or {}, saved.get("location") or {}
        control = self.control
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
                            f"not {type}", f"wait for {got} instead, or look at the error code in notebook {steps.page('events').notebook[:2]}")
            try:
                log = control.callback_attempts(message_id)
            except BandwidthError:
                log = {}
            bad = [a for a in log.get("attempts") or [] if a.get("error") or not 200 <= int(a.get("statusCode") or 0) < 300]
            if bad:
                last = bad[-1]
                answer = last.get("error") or f"HTTP {last.get('statusCode')}"
                return (f"the callback URL {last.get('url')} did not accept the event ({answer}); the sandbox retries "
                        "with backoff", "make the callback URL answer 2xx quickly, or create the application with a "
                        f"reachable URL ({steps.ref('application')}, new=True)")
            if any(r.get("state") in ("queued", "sending", "pending") for r in states):
                return ("the message is still being delivered (a slow destination)",
                        "wait longer (timeout=...)")
        if loc.get("id") and app.get("id"):
            try:
                assigned = self.dashboard.get_application_settings(loc["id"]).data.get("HttpMessagingV2AppId")
            except BandwidthError:
                assigned = None
            if assigned != app.get("id"):
                return ("the application is not assigned to the number's location, so the service drops the "
                        "message or reports it elsewhere", f"run {steps.ref('assigned')}")
        if control is None:
            return ("events go to your own callback URL on the real service; bwhelpers cannot read them",
                    "look at your server's log for the event")
        return ("the event has not reached the application's callback URL yet",
                f"wait longer (timeout=...), or run diagnose() in notebook {steps.page('teardown').notebook[:2]}")

    # ------------------------------------------------------------------ read-backs
    def locations(self) -> list[dict[str, Any]]:
        """Every location with its SMS, MMS and assigned-application status (one GET per feature)."""
        d = self.dashboard
        rows = []
        for peer in d.list_locations().records or []:
            peer_id = str(peer.get("PeerId") or peer.get("peerId") or "")
            row = {"PeerId": peer_id, "PeerName": peer.get("PeerName"), "IsDefaultPeer": peer.get("IsDefaultPeer")}
            for label, call in (("SMS", d.get_sms), ("MMS", d.get_mms)):
                try:
                    call(peer_id)
                    row[label] = "enabled"
                except BandwidthError as exc:
                    row[label] = "not enabled" if exc.status in (404, 400) else f"error {exc.status}"
            try:
                row["Application"] = d.get_application_settings(peer_id).data.get("HttpMessagingV2AppId") or ""
            except BandwidthError:
                row["Application"] = ""
            rows.append(row)
        return rows

    # ------------------------------------------------------------------ status / diagnose
    def status(self) -> list[dict[str, Any]]:
        """The steps with done/pending from the saved state (for the progress widget)."""
        st = self.saved
        app = st.get("application") or {}
        loc = st.get("location") or {}
        assigned = st.get("assigned") or {}
        done = {
            "application": bool(app.get("id")),
            "location": bool(loc.get("id")),
            "sms": bool(loc.get("id")) and (st.get("sms") or {}).get("location_id") == loc.get("id"),
            "mms": bool(loc.get("id")) and (st.get("mms") or {}).get("location_id") == loc.get("id"),
            "assigned": bool(app.get("id")) and assigned.get("application_id") == app.get("id")
            and assigned.get("location_id") == loc.get("id"),
            "orders": bool(st.get("orders")),
            "numbers": bool(st.get("numbers")),
            "a2p": (st.get("a2p") or {}).get("status") == "COMPLETE" and bool(st.get("numbers"))
            and set(st.get("numbers") or []) <= set((st.get("a2p") or {}).get("numbers") or []),
            "messages": bool(st.get("messages")),
        }
        detail = {"application": app.get("id"), "location": loc.get("id"),
                  "orders": ((st.get("orders") or [{}])[-1]).get("id"), "numbers": ", ".join(st.get("numbers") or []),
                  "a2p": " ".join(x for x in ((st.get("a2p") or {}).get("campaign_id"),
                                              (st.get("a2p") or {}).get("order_id")) if x),
                  "messages": ((st.get("messages") or [{}])[-1]).get("id")}
        status = {k: "done" if v else "pending" for k, v in done.items()}
        last = (st.get("orders") or [{}])[-1]
        if last.get("status") == "FAILED":
            done["orders"] = False
            status["orders"] = "failed"
            if not done["numbers"]:
                status["numbers"] = "failed"
            detail["orders"] = f"{last.get('id')} (FAILED)"
        elif last.get("status") in ("PARTIAL", "BACKORDERED"):
            status["orders"] = status["numbers"] = "partial"
            detail["orders"] = f"{last.get('id')} ({last.get('status')})"
        return [{"step": p.number, "key": p.key, "name": p.title, "notebook": p.filename,
                 "done": bool(done.get(p.key)), "status": status.get(p.key, "done" if done.get(p.key) else "pending"),
                 "detail": detail.get(p.key) or ""}
                for p in steps.STEPS]

    #: roles an API credential needs for the walkthrough: sends, and the Dashboard (number management) calls
    NEEDED_ROLES = ("Messaging", "Numbers")

    def _auth_checks(self, add: Any) -> bool:
        """Checks of the authentication itself: a token can be fetched, its roles and accounts cover the
        walkthrough. False when nothing else can be checked."""
        cfg = self.config
        if not cfg.uses_oauth:
            add("API credentials", cfg.is_sandbox,
                "legacy API user (username/password, HTTP Basic)" + (
                    " - the sandbox accepts it unless legacy_basic_auth is decommissioned" if cfg.is_sandbox else
                    ": the real service no longer accepts API users after 2026-12-02"),
                "create API credentials (Bandwidth App > Account > API Credentials, roles Messaging and Numbers) "
                "and set BW_CLIENT_ID / BW_CLIENT_SECRET")
            return True
        source = getattr(getattr(self.dashboard, "auth", None), "source", None)
        if source is None:
            return True
        try:
            claims = source.claims()
        except BandwidthError as exc:
            add("API credentials", False, str(exc), exc.fix or "check BW_CLIENT_ID / BW_CLIENT_SECRET and BW_TOKEN_URL")
            return False
        add("API credentials", True, f"client id {cfg.client_id}: token from {cfg.token_url} "
                                     f"(valid {source.seconds_left():.0f} s)")
        roles = claims.get("roles")
        if isinstance(roles, list):
            have = {str(r).lower() for r in roles}
            missing = [r for r in self.NEEDED_ROLES if r.lower() not in have]
            add("credential roles", not missing, f"roles: {', '.join(map(str, roles)) or 'none'}",
                f"give the API credential the {' and '.join(missing)} role{'s' if len(missing) > 1 else ''} "
                "(Bandwidth App > Account > API Credentials), then connect again")
        else:
            add("credential roles", True, "the token lists no roles; they cannot be checked before a call")
        accounts = claims.get("accounts")
        if isinstance(accounts, list) and accounts and cfg.account_id not in [str(a) for a in accounts]:
            add("credential accounts", False, f"the credential covers account(s) {', '.join(map(str, accounts))}, "
                f"not {cfg.account_id}", "add this account to the API credential, or set BW_ACCOUNT_ID to one "
                "it covers")
        return True

    def would_create_another(self, key: str, **inputs: Any) -> dict[str, Any] | None:
        """The saved object a step would NOT reuse with these inputs (so it would create a second one), or None.

        ``key``: ``application`` (name=), ``location`` (name=) or ``orders`` (criteria and quantity as for
        :meth:`order_numbers`). The notebooks ask before creating the second object."""
        saved = self.saved
        if key in ("application", "location"):
            obj = saved.get(key) or {}
            if obj.get("id") and inputs.get("name") is not None and obj.get("name") != inputs["name"]:
                return {"id": obj["id"], "name": obj.get("name"), "new_name": inputs["name"]}
            return None
        if key == "orders":
            orders = saved.get("orders") or []
            if not orders or orders[-1].get("status") == "FAILED":
                return None
            last = orders[-1]
            criteria = {k: v for k, v in inputs.items() if k != "quantity" and v is not None}
            wanted = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in sorted(criteria.items())}
            wanted["quantity"] = inputs.get("quantity", 1)
            if last.get("criteria") not in (None, wanted):
                return {"id": last["id"], "criteria": last.get("criteria"), "new_criteria": wanted,
                        "status": last.get("status")}
            return None
        raise KeyError(f"would_create_another: no step {key!r} (application, location, orders)")

    def diagnose(self) -> list[dict[str, Any]]:
        """Preflight: what would make messages fail, one record per check (DIAGNOSE_COLUMNS) with its fix.

        Failing checks come first (band message preflight's order of concern), also when a check stops the run."""
        rows = self._diagnose_checks()
        return [r for r in rows if not r["ok"]] + [r for r in rows if r["ok"]]

    def _diagnose_checks(self) -> list[dict[str, Any]]:
        """The checks in the order they are made; a failure that makes the later checks meaningless ends them."""
        rows: list[dict[str, Any]] = []

        def add(check: str, ok: bool, finding: str, fix: str = "") -> None:
            rows.append({"check": check, "ok": ok, "finding": finding, "fix": "" if ok else fix})

        if not self._auth_checks(add):
            return rows
        try:
            self.dashboard.get_site()
            add("credentials", True, f"{self.config.target}: account {self.config.account_id}, "
                                     f"site {self.config.site_id} reachable")
        except BandwidthError as exc:
            add("credentials", False, str(exc), exc.fix or "check the credentials and base URL")
            return rows
        st = self.saved
        app, loc = st.get("application") or {}, st.get("location") or {}
        app_data: dict[str, Any] = {}
        if not app.get("id"):
            add("application", False, "no application saved", f"run {steps.ref('application')}")
        else:
            try:
                app_data = self.dashboard.get_application(app["id"]).data
                add("application", True, f"application {app['id']} exists")
            except BandwidthError as exc:
                add("application", False, str(exc), f"create the application again (step {steps.step('application').number}, new=True)")
        callback = app_data.get("CallbackUrl") or app_data.get("MsgCallbackUrl") or \
            app_data.get("InboundCallbackUrl") or app.get("callback_url")
        if app.get("id"):
            problem = _callback_problem(callback, real=not self.config.is_sandbox)
            add("callback URL", problem is None, problem or f"callback URL {callback}",
                f"create the application with your server's public https callback URL "
                f"(step {steps.step('application').number}, new=True)")
        if not loc.get("id"):
            add("location", False, "no location saved", f"run {steps.ref('location')}")
            return rows
        try:
            self.dashboard.get_location(loc["id"])
            add("location", True, f"location {loc['id']} exists")
        except BandwidthError as exc:
            add("location", False, str(exc), f"create the location again (step {steps.step('location').number}, new=True)")
            return rows
        for label, getter, key in (("SMS", self.dashboard.get_sms, "sms"), ("MMS", self.dashboard.get_mms, "mms")):
            enabled = self._existing_feature(getter, loc["id"]) is not None
            add(f"{label} enabled", enabled, f"{label} is {'enabled' if enabled else 'not enabled'} on the location",
                f"run {steps.ref(key)}")
        try:
            assigned = self.dashboard.get_application_settings(loc["id"]).data.get("HttpMessagingV2AppId")
        except BandwidthError:
            assigned = None
        ok = bool(assigned) and assigned == app.get("id")
        finding = ("the application is assigned to the location" if ok else
                   "no application is assigned to the location: messages are accepted (202) and silently dropped"
                   if not assigned else f"the location uses another application ({assigned})")
        add("application assigned", ok, finding, f"run {steps.ref('assigned')}")
        if app.get("id"):
            linked, where = self._application_linked(app["id"])
            add("application linked to a location", linked,
                f"the application is linked to {where}" if linked else
                "the application is linked to no location (neither its associatedsippeers nor any location's "
                "applicationSettings name it): messages through it are accepted and then vanish",
                f"assign it to the numbers' location ({steps.ref('assigned')})")
        try:
            numbers = self.dashboard.location_numbers(loc["id"]).numbers
        except BandwidthError:
            try:
                numbers = self.dashboard.list_in_service_numbers().numbers
            except BandwidthError:
                numbers = []
        add("numbers in service", bool(numbers),
            f"{len(numbers)} number(s) in service" if numbers else "no numbers in service on the location",
            f"order a number ({steps.ref('orders')}) and wait for it ({steps.ref('numbers')})")
        sending = (st.get("numbers") or [loose_e164(n) for n in numbers] or [None])[0]
        if sending:
            rows.append(self._a2p_check(sending))
        return rows

    def _application_linked(self, app_id: str) -> tuple[bool, str]:
        """Is the application linked to a location? Its associatedsippeers, else each location's applicationSettings
        (the assignment may be visible only from the location side)."""
        try:
            peers = self.dashboard.associated_locations(app_id).records or []
        except BandwidthError:
            peers = []
        ids = [str(p.get("PeerId") or p.get("peerId")) for p in peers if isinstance(p, dict)]
        if ids:
            return True, f"location(s) {', '.join(ids)} (associatedsippeers)"
        try:
            found = [row["PeerId"] for row in self.locations() if row.get("Application") == app_id]
        except BandwidthError:
            found = []
        if found:
            return True, f"location(s) {', '.join(found)} (applicationSettings)"
        return False, ""

    def _a2p_check(self, number: str) -> dict[str, Any]:
        """10DLC registration (local) or toll-free verification (toll-free) of the sending number."""
        from .a2p import is_toll_free
        from .codes import explain

        try:
            toll_free = is_toll_free(number)
        except ValidationError:
            return {"check": "A2P registration", "ok": True, "finding": f"{number} is not a US number", "fix": ""}
        try:
            reg = self.registration(number)
        except BandwidthError as exc:
            return {"check": "A2P registration", "ok": True, "fix": "",
                    "finding": f"could not read the A2P status of {number} ({exc.status or ''} {exc.description or exc}); "
                               "make sure it is registered before sending"}
        if toll_free:
            ok = reg.status == "VERIFIED"
            return {"check": "toll-free verification", "ok": ok,
                    "finding": f"{number}: toll-free verification is {reg.status}" + (
                        "" if ok else "; texts from it fail with 4795 (tfn-not-verified)"),
                    "fix": "" if ok else explain(4795)["fix"]}
        ok = reg.status == "SUCCESS"
        campaign = reg.data.get("campaignId")
        finding = (f"{number} is SUCCESS on 10DLC campaign {campaign}" if ok else
                   f"{number} is not registered to a 10DLC campaign: texts from it fail with 4476" if not campaign else
                   f"{number} is {reg.status} on campaign {campaign}: texts fail with 4476 until it is SUCCESS")
        return {"check": "10DLC registration", "ok": ok, "finding": finding, "fix": "" if ok else explain(4476)["fix"]}

    # ------------------------------------------------------------------ teardown
    def teardown(self, disconnect_timeout: float = 30.0) -> list[dict[str, Any]]:
        """Undo everything saved, in the service's order: unassign -> disconnect numbers -> delete MMS ->
        delete SMS -> delete location -> delete application; then clear the saved state.

        State is updated after each step, so a failure keeps what still exists saved. Returns one record
        per action (TEARDOWN_COLUMNS).
        """
        _check_number(disconnect_timeout, "disconnect_timeout")
        rows: list[dict[str, Any]] = []
        st = self.saved
        app, loc = st.get("application") or {}, st.get("location") or {}
        d = self.dashboard

        def run(step: str, fn: Any, *args: Any) -> Result | None:
            try:
                result = fn(*args)
            except NotFoundError as exc:
                rows.append({"step": step, "outcome": "already gone", "detail": exc.description or ""})
                return None
            rows.append({"step": step, "outcome": "done", "detail": result.id or ""})
            return result

        if loc.get("id"):
            try:
                assigned = d.get_application_settings(loc["id"]).data.get("HttpMessagingV2AppId")
            except NotFoundError:
                assigned = None
            if assigned:
                run("unassign application", d.unassign_application, loc["id"])
            else:
                rows.append({"step": "unassign application", "outcome": "nothing assigned", "detail": ""})
            with self.state.transaction(self.profile) as s:
                s.pop("assigned", None)
        numbers = list(st.get("numbers") or [])
        if loc.get("id") and self.config.is_sandbox:
            try:
                for n in d.location_numbers(loc["id"]).numbers:
                    e164 = loose_e164(n)
                    if e164 not in numbers:
                        numbers.append(e164)
            except BandwidthError:
                pass
        if numbers:
            result = run("disconnect numbers", d.disconnect_numbers, numbers)
            if result is not None and result.id:
                self._wait_disconnect(result.id, disconnect_timeout)
            with self.state.transaction(self.profile) as s:
                s["numbers"] = []
        else:
            rows.append({"step": "disconnect numbers", "outcome": "no numbers", "detail": ""})
        if loc.get("id"):
            run("delete MMS", d.delete_mms, loc["id"])
            with self.state.transaction(self.profile) as s:
                s.pop("mms", None)
            run("delete SMS", d.delete_sms, loc["id"])
            with self.state.transaction(self.profile) as s:
                s.pop("sms", None)
            run("delete location", d.delete_location, loc["id"])
            with self.state.transaction(self.profile) as s:
                s.pop("location", None)
        if app.get("id"):
            run("delete application", d.delete_application, app["id"])
            with self.state.transaction(self.profile) as s:
                s.pop("application", None)
        with self.state.transaction(self.profile) as s:
            s.pop("a2p", None)  # the disconnected numbers left their campaign with them
        forms = self.saved.get("forms")
        self.state.reset(self.profile)
        if forms:  # the user's form values outlive the objects (they are inputs, not saved IDs)
            with self.state.transaction(self.profile) as s:
                s["forms"] = forms
        return rows

    def _wait_disconnect(self, order_id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.1
        while time.monotonic() < deadline:
            try:
                status = self.dashboard.get_disconnect(order_id).status
            except BandwidthError:
                return
            if status in (None, "COMPLETE", "PARTIAL", "FAILED"):
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    # ------------------------------------------------------------------ all steps
    def run_all(self, to: str = "+12015550100", text: str = "Hello from the sandbox") -> Iterator[Result]:
        """All the steps in order (the guide's eight and today's A2P registration), yielding each step's Result
        (saved objects are reused)."""
        yield self.create_application()
        yield self.create_location()
        yield self.enable_sms()
        yield self.enable_mms()
        yield self.assign_application()
        yield self.order_numbers()
        yield self.wait_for_order()
        yield self.register_a2p()
        yield self.send_message(to, text)


def _is_phone_number(value: Any) -> bool:
    """True for an E.164 NANP number (+1 and ten digits): never an order id or a status."""
    return bool(re.fullmatch(r"\+1[2-9]\d{9}", str(value or "")))


def _callback_problem(url: str | None, *, real: bool) -> str | None:
    if not url:
        return "the application has no callback URL: message events have nowhere to go"
    if not real:
        return None
    from urllib.parse import urlparse
    host = (urlparse(url).hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in PLACEHOLDER_HOSTS):
        return f"the callback URL {url} is a placeholder: Bandwidth cannot deliver events there"
    return None


#: the message events Bandwidth's webhooks carry (messaging-webhooks.mdx)
EVENT_TYPES = ("message-delivered", "message-failed", "message-received", "message-sending")


def event_key(ev: dict[str, Any]) -> str:
    """What identifies one event across redeliveries: its type, message id, recipient, time and error code
    (a redelivery repeats the same body; two different events of one message differ in type or time)."""
    import json

    msg: dict[str, Any] = ev["message"] if isinstance(ev.get("message"), dict) else {}
    if not msg.get("id"):
        return json.dumps({k: v for k, v in ev.items() if not str(k).startswith("_")}, sort_keys=True, default=str)
    return json.dumps([ev.get("type"), msg.get("id"), ev.get("to"), ev.get("time"), ev.get("errorCode")],
                      default=str)


def dedupe_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` with at-least-once redeliveries removed (the first copy kept, order preserved)."""
    seen: set[str] = set()
    out = []
    for ev in events:
        key = event_key(ev)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out


def _extract_events(doc: Any) -> list[dict[str, Any]]:
    """Callback events from a request-bin document (list of captured requests, or {'requests': [...]})."""
    import json
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
