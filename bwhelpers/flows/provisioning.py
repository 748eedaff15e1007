"""Provisioning: the guide's steps 1-7 (application, location, SMS, MMS, assignment, number orders) with
saved IDs, plus the read-backs that look at them (locations, "would this create a second object?").

Re-running a step returns the saved object when the server still has it; ``new=True`` forces a fresh one.
Create steps run check -> create -> save under the profile's cross-process step lock.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import re
import warnings
from typing import Any, Callable

from .. import guide, statuses
from ..checks import check_bool, check_int, check_number, check_str, split_url_credentials
from ..exceptions import BandwidthError, ConflictError, NotFoundError, ValidationError
from ..results import Result
from ..state import ORDER_DONE, Assignment, Feature, Location, Order, now_iso
from ..state import Application as SavedApplication
from .registry import StepFlow, declare
from .context import FlowContext, prereq

__all__ = ["Provisioning", "customer_order_id", "is_phone_number", "order_key", "DEFAULT"]

DEFAULT: Any = object()


def customer_order_id(profile: str, location_id: str, criteria: dict[str, Any], earlier: int) -> str:
    """The order's CustomerOrderId: the same for a retry of one order (profile, location, criteria, and how
    many such orders were saved before), a new one for the next (letters, digits and dashes, 40 at most)."""
    seed = json.dumps([profile, str(location_id), criteria, earlier], sort_keys=True, default=str)
    return f"bwh-{hashlib.sha256(seed.encode()).hexdigest()[:24]}-{earlier}"[:40]


def order_key(criteria: dict[str, Any], quantity: Any) -> dict[str, Any]:
    """What identifies an order's request: its criteria (lists as lists, no Nones, sorted) and quantity."""
    key = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in sorted(criteria.items()) if v is not None}
    key["quantity"] = quantity
    return key


def is_phone_number(value: Any) -> bool:
    """True for an E.164 NANP number (+1 and ten digits): never an order id or a status."""
    return bool(re.fullmatch(r"\+1[2-9]\d{9}", str(value or "")))


#: a sandbox bin's name is an id of at most 100 characters (bwhelpers.ids); one made from a long AppName is cut
#: and keeps a digest of the whole, so two long names still get two bins
MAX_SLUG = 64


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "default"
    if len(slug) <= MAX_SLUG:
        return slug
    import hashlib

    return f"{slug[:MAX_SLUG - 9].rstrip('-')}-{hashlib.sha256(slug.encode()).hexdigest()[:8]}"


#: (account, site, location id, feature) of the locations this process created, whose SMS/MMS step it has not run yet: such a
#: location has no feature (unless another kernel enabled one since), so its step enables at once and looks for
#: an enabled feature only when the service refuses (1 request, not a 404 read and then the POST)
_FRESH_FEATURES: set[tuple[str, str, str, str]] = set()


def _reused(result: Result, title: str) -> Result:
    result.title, result.reused = title, True
    return result


class Provisioning:
    """Steps 1-7 on one context."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx

    # ------------------------------------------------------------------ application
    def create_application(self, name: str = guide.APPLICATION_NAME, callback_url: str | None = None,
                           new: bool = False, callback_user: str | None = None,
                           callback_password: str | None = None, *, inbound_callback_url: str | None = None,
                           outbound_callback_url: str | None = None, inbound_user: str | None = None,
                           inbound_password: str | None = None, outbound_user: str | None = None,
                           outbound_password: str | None = None, callback_types: list[str] | None = None) -> Result:
        """Create (or reuse the saved) messaging application; see ``Setup.create_application``."""
        check_str(name, "name")
        check_bool(new, "new")
        for field, value in (("callback_url", callback_url), ("callback_user", callback_user),
                             ("callback_password", callback_password), ("inbound_callback_url", inbound_callback_url),
                             ("outbound_callback_url", outbound_callback_url), ("inbound_user", inbound_user),
                             ("inbound_password", inbound_password), ("outbound_user", outbound_user),
                             ("outbound_password", outbound_password)):
            check_str(value, field, optional=True)
        if callback_url is not None:
            callback_url, callback_user, callback_password = split_url_credentials(
                callback_url, callback_user, callback_password)
        if inbound_callback_url is not None:
            inbound_callback_url, inbound_user, inbound_password = split_url_credentials(
                inbound_callback_url, inbound_user, inbound_password)
        if outbound_callback_url is not None:
            outbound_callback_url, outbound_user, outbound_password = split_url_credentials(
                outbound_callback_url, outbound_user, outbound_password)
        legacy = callback_url is not None or bool(callback_user or callback_password)
        if legacy and (inbound_callback_url or outbound_callback_url):
            raise ValidationError("callback_url: the guide's CallbackUrl can't be combined with inbound_callback_url"
                                  "/outbound_callback_url (Bandwidth answers 13065); give one form",
                                  field="callback_url")
        with self.ctx.step_lock("application"):
            saved = self.ctx.state.application
            wanted = callback_url if legacy else inbound_callback_url
            if saved is not None and saved.id and saved.name == name and not new:
                try:
                    result = self.ctx.dashboard.get_application(saved.id)
                except NotFoundError:
                    pass  # gone on the server: create a new one below
                else:
                    if wanted and wanted != saved.callback_url:
                        warnings.warn(f"the saved application {saved.id} uses {saved.callback_url}; "
                                      "pass new=True to create one with the new callback URL", stacklevel=3)
                    return _reused(self._follow_sandbox(saved, result), "Application (saved)")
            control = self.ctx.control
            if control is None:  # a real account: the receiver's URLs and credentials (bwhelpers.flows.delivery)
                from .delivery import application_callbacks, attach_receiver_credentials, missing_callback_url

                proposed = application_callbacks(self.ctx)
                if wanted is None and proposed is None:
                    raise missing_callback_url("callback_url" if legacy else "inbound_callback_url")
                if proposed is not None:
                    if wanted is None:
                        wanted = proposed["inbound"]
                        if not legacy and outbound_callback_url is None:
                            outbound_callback_url = proposed["outbound"]
                    if legacy:
                        callback_user, callback_password = attach_receiver_credentials(
                            proposed["base"], wanted, callback_user, callback_password)
                    else:
                        inbound_user, inbound_password = attach_receiver_credentials(
                            proposed["base"], wanted, inbound_user, inbound_password)
                        outbound_user, outbound_password = attach_receiver_credentials(
                            proposed["base"], outbound_callback_url, outbound_user, outbound_password)
            if wanted is None:
                assert control is not None
                profile = self.ctx.profile
                wanted = control.bin_url(_slug(profile) if name == guide.APPLICATION_NAME
                                         else _slug(f"{profile}-{name}"))
                if not legacy and outbound_callback_url is None:
                    outbound_callback_url = wanted
            d = self.ctx.dashboard
            if legacy:
                result = d.create_application(name, wanted, callback_user, callback_password)
            else:
                result = d.create_application(
                    name, inbound_callback_url=wanted, outbound_callback_url=outbound_callback_url,
                    inbound_user=inbound_user, inbound_password=inbound_password, outbound_user=outbound_user,
                    outbound_password=outbound_password, callback_types=callback_types)
            with self.ctx.edit() as st:
                st.application = SavedApplication(
                    id=result.id, name=name, callback_url=wanted,
                    bin=control.bin_name(wanted) if control is not None else None,
                    fields="legacy" if legacy else "current",
                    outbound_callback_url=None if legacy else outbound_callback_url,
                    outbound_bin=None if legacy or control is None else control.bin_name(outbound_callback_url),
                    created=now_iso())
            return result

    def _follow_sandbox(self, saved: SavedApplication, result: Result) -> Result:
        """A sandbox application's callback URLs are its request bins in *this* sandbox: when the sandbox moved
        (another port on a shared machine, a restart), the saved URLs still name the old one and no event would
        arrive, so they are pointed at this sandbox's bins (same names) on the server and in the saved state."""
        control = self.ctx.control
        if control is None or not saved.bin:
            return result
        inbound = control.bin_url(saved.bin)
        outbound = control.bin_url(saved.outbound_bin) if saved.outbound_bin else None
        if inbound == saved.callback_url and outbound == saved.outbound_callback_url:
            return result
        if saved.fields == "legacy":
            result = self.ctx.dashboard.repoint_application(str(saved.id), callback_url=inbound)
        else:
            result = self.ctx.dashboard.repoint_application(str(saved.id), inbound_callback_url=inbound,
                                                            outbound_callback_url=outbound)
        with self.ctx.edit() as st:
            if st.application is not None:
                st.application.callback_url, st.application.outbound_callback_url = inbound, outbound
        return result

    # ------------------------------------------------------------------ location
    def create_location(self, name: str = guide.LOCATION_NAME, new: bool = False, default: bool = True) -> Result:
        """Create (or reuse the saved) location (sippeer); saves its id from the Location header."""
        check_str(name, "name")
        check_bool(new, "new")
        check_bool(default, "default")
        with self.ctx.step_lock("location"):
            saved = self.ctx.state.location
            if saved is not None and saved.id and saved.name == name and not new:
                try:
                    return _reused(self.ctx.dashboard.get_location(saved.id), "Location (saved)")
                except NotFoundError:
                    pass
            try:
                result = self.ctx.dashboard.create_location(name, default=default)
            except ConflictError as exc:
                # 13524: the site has a location of this name (made from another state file, machine or kernel):
                # a site's location names are distinct, so it is the one this step would make; reused unless a
                # new one was asked for
                found = self._location_named(name) if exc.code == "13524" and not new else None
                if found is None:
                    raise
                with self.ctx.edit() as st:
                    st.location = Location(id=found.id, name=name, created=now_iso())
                return found
            with self.ctx.edit() as st:
                st.location = Location(id=result.id, name=name, created=now_iso())
            if result.id:
                if len(_FRESH_FEATURES) >= 64:
                    _FRESH_FEATURES.clear()
                _FRESH_FEATURES.update({self._feature_key(str(result.id), "sms"), self._feature_key(str(result.id), "mms")})
            return result

    def _location_named(self, name: str) -> Result | None:
        """The site's location called ``name`` (its id from the list), or None when there is none."""
        listed = self.ctx.dashboard.list_locations()
        for peer in listed.records or []:
            if str(peer.get("PeerName") or "") == name and peer.get("PeerId"):
                return _reused(Result(data=peer, id=str(peer["PeerId"]), exchange=listed.exchange),
                               "Location (found by name)")
        return None

    # ------------------------------------------------------------------ SMS / MMS / assignment
    def _feature_key(self, location_id: str, feature: str) -> tuple[str, str, str, str]:
        return (str(self.ctx.config.account_id), str(self.ctx.config.site_id), location_id, feature)

    def enable_feature(self, key: str, overrides: dict[str, Any]) -> Result:
        """Enable a feature (step ``key``: sms|mms) on the saved location, or reuse it when it is already on."""
        d = self.ctx.dashboard
        get: Callable[[str], Result] = d.get_sms if key == "sms" else d.get_mms
        enable: Callable[..., Result] = d.enable_sms if key == "sms" else d.enable_mms
        allowed = [n for n in inspect.signature(enable).parameters if n != "location_id"]
        unknown = sorted(set(overrides) - set(allowed))
        if unknown:
            raise ValidationError(f"{unknown[0]}: not a setting of step {key}; use {', '.join(allowed)}",
                                  field=unknown[0])
        loc = self.ctx.need_location()
        assert loc.id
        fresh = self._feature_key(loc.id, key) in _FRESH_FEATURES
        _FRESH_FEATURES.discard(self._feature_key(loc.id, key))
        result = existing_feature(get, loc.id) if not overrides and not fresh else None
        if result is None:
            try:
                result = enable(loc.id, **overrides)
            except BandwidthError:
                found = existing_feature(get, loc.id) if fresh and not overrides else None
                if found is None:  # (enabled meanwhile by another kernel: reused below, as a read would have found it)
                    raise
                result = _reused(found, f"{key.upper()} (already enabled)")
        else:
            _reused(result, f"{key.upper()} (already enabled)")
        with self.ctx.edit() as st:
            setattr(st, key, Feature(location_id=loc.id, enabled=now_iso()))
        return result

    def assign_application(self) -> Result:
        """Assign the saved application to the saved location (PUT, safe to repeat)."""
        st = self.ctx.state  # (read once for both)
        app = self.ctx.need_application(st)
        loc = self.ctx.need_location(st)
        assert app.id and loc.id
        result = self.ctx.dashboard.assign_application(loc.id, app.id)
        with self.ctx.edit() as st:
            st.assigned = Assignment(application_id=app.id, location_id=loc.id, at=now_iso())
        return result

    # ------------------------------------------------------------------ numbers
    def search_numbers(self, **criteria: Any) -> Result:
        """Search available numbers (area_code=, zip=, city=+state=, ...); nothing is saved."""
        return self.ctx.dashboard.search_numbers(**(criteria or {"area_code": guide.AREA_CODE, "quantity": guide.SEARCH_QUANTITY}))

    def order_numbers(self, area_code: Any = DEFAULT, quantity: int = 1, new: bool = False,
                      partial_allowed: bool = True, back_order: bool = False, name: str | None = None,
                      **criteria: Any) -> Result:
        """Order numbers onto the saved location; see ``Setup.order_numbers``."""
        check_int(quantity, "quantity")
        for flag, value in (("new", new), ("partial_allowed", partial_allowed), ("back_order", back_order)):
            check_bool(value, flag)
        check_str(name, "name", optional=True)
        with self.ctx.step_lock("orders"):
            return self._order_numbers(area_code, quantity, new, partial_allowed, back_order, name, criteria)

    def _order_numbers(self, area_code: Any, quantity: int, new: bool, partial_allowed: bool, back_order: bool,
                       name: str | None, criteria: dict[str, Any]) -> Result:
        saved = self.ctx.state  # (read once: the location and the orders)
        loc = self.ctx.need_location(saved)
        assert loc.id
        if area_code is DEFAULT:
            area_code = None if (criteria.get("numbers") or any(v is not None for v in criteria.values())) \
                else guide.AREA_CODE
        if area_code is not None:
            criteria["area_code"] = area_code
        key = order_key(criteria, quantity)
        orders = saved.orders
        if not new and orders:
            last = orders[-1]
            if last.criteria == key and last.location_id == loc.id and last.status != statuses.FAILED and last.id:
                try:
                    return _reused(self.get_order(last.id), "Order (saved)")
                except NotFoundError:
                    pass
        numbers = criteria.pop("numbers", None)
        earlier = sum(1 for o in orders if o.criteria == key and o.location_id == loc.id)
        coid = customer_order_id(self.ctx.profile, loc.id, key, earlier)
        from ..dashboard import order_body

        order_body(self.ctx.config.site_id, quantity=quantity, partial_allowed=partial_allowed, back_order=back_order,
                   name=name, location_id=loc.id, numbers=numbers, customer_order_id=coid,
                   **criteria)  # every argument checked before the look-up sends anything
        d = self.ctx.dashboard
        found = d.find_order(coid)
        if found is not None:  # placed by an earlier run that did not get to save it
            result = _reused(d.get_order(found), "Order (found by CustomerOrderId)")
        else:
            result = d.order_numbers(quantity=quantity, partial_allowed=partial_allowed, back_order=back_order,
                                     name=name, location_id=loc.id, numbers=numbers, customer_order_id=coid,
                                     **criteria)
        self.save_order(result, criteria=key, location_id=loc.id, customer_order_id=coid)
        return result

    def save_order(self, result: Result, **extra: Any) -> None:
        """Save an order's status and numbers; only E.164 numbers of a COMPLETE/PARTIAL order become phone numbers."""
        with self.ctx.edit() as st:
            entry = next((o for o in st.orders if o.id == result.id), None)
            if entry is None:
                entry = Order(id=result.id, created=now_iso())
                st.orders.append(entry)
            for name, value in extra.items():
                setattr(entry, name, value)
            entry.status = result.status
            entry.numbers = list(result.numbers)
            entry.updated = now_iso()
            if result.status in ORDER_DONE and result.numbers:
                for n in result.numbers:
                    if is_phone_number(n) and n not in st.numbers:
                        st.numbers.append(n)

    def order_id(self, order_id: str | None) -> str:
        """``order_id``, or the last saved order's."""
        check_str(order_id, "order_id", optional=True)
        if order_id:
            return order_id
        last = self.ctx.state.last_order
        if last is None or not last.id:
            raise prereq("orders", "order")
        return last.id

    def get_order(self, order_id: str | None = None) -> Result:
        """The order's status (default: the last saved order); completed numbers are saved."""
        result = self.ctx.dashboard.get_order(self.order_id(order_id))
        self.save_order(result)
        return result

    def wait_for_order(self, order_id: str | None = None, timeout: float = 60.0, progress: bool | None = None,
                       on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Poll until the order's final status; saves the numbers."""
        check_number(timeout, "timeout")
        if progress is not None:
            check_bool(progress, "progress")
        oid = self.order_id(order_id)
        result = self.ctx.dashboard.wait_for_order(oid, timeout=timeout,
                                                   progress=self.ctx.progress if progress is None else progress,
                                                   on_poll=on_poll)
        self.save_order(result)
        return result

    # ------------------------------------------------------------------ read-backs
    def locations(self) -> list[dict[str, Any]]:
        """Every location with its SMS, MMS and assigned-application status (one GET per feature)."""
        d = self.ctx.dashboard
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

    def would_create_another(self, key: str, **inputs: Any) -> dict[str, Any] | None:
        """The saved object a step would NOT reuse with these inputs (so it would create a second one), or None."""
        st = self.ctx.state
        if key in ("application", "location"):
            obj = st.application if key == "application" else st.location
            if obj is not None and obj.id and inputs.get("name") is not None and obj.name != inputs["name"]:
                return {"id": obj.id, "name": obj.name, "new_name": inputs["name"]}
            url = inputs.get("inbound_callback_url")  # the application's other URL: a second one (it asks first)
            app = st.application
            if key == "application" and app is not None and app.id and url and app.callback_url not in (None, url):
                return {"id": app.id, "name": app.name, "new_name": app.name, "url": app.callback_url,
                        "new_url": url}
            return None
        if key == "orders":
            last = st.last_order
            if last is None or last.status == statuses.FAILED:
                return None
            wanted = order_key({k: v for k, v in inputs.items() if k != "quantity"}, inputs.get("quantity", 1))
            if last.criteria not in (None, wanted):
                return {"id": last.id, "criteria": last.criteria, "new_criteria": wanted, "status": last.status}
            return None
        raise KeyError(f"would_create_another: no step {key!r} (application, location, orders)")


def existing_feature(getter: Callable[[str], Result], location_id: str) -> Result | None:
    """The feature's settings when it is enabled on the location, else None."""
    try:
        result = getter(location_id)
    except (NotFoundError, ValidationError):
        return None
    return result if result.data else None


# the steps this flow does (bwhelpers.flows.registry): what run_all runs for each
declare(StepFlow("application", Provisioning, run=lambda setup, _: setup.create_application()))
declare(StepFlow("location", Provisioning, run=lambda setup, _: setup.create_location()))
declare(StepFlow("sms", Provisioning, run=lambda setup, _: setup.enable_sms()))
declare(StepFlow("mms", Provisioning, run=lambda setup, _: setup.enable_mms()))
declare(StepFlow("assigned", Provisioning, run=lambda setup, _: setup.assign_application()))
declare(StepFlow("orders", Provisioning, run=lambda setup, _: setup.order_numbers()))
declare(StepFlow("numbers", Provisioning, run=lambda setup, _: setup.wait_for_order()))
