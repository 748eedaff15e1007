"""DashboardClient: the Dashboard (Iris) XML API, one method per guide step, plus read-backs and undo."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from . import guide, statuses, xmlio
from .exceptions import ValidationError
from .http import Exchange, auth_for, make_session, request, unreadable_response
from .checks import check_bool, check_int, check_str, split_url_credentials
from .criteria import check_criteria
from .ids import require_id, segment
from .phone import national_number, normalize_number
from .polling import poll_until
from .results import Result

if TYPE_CHECKING:
    import requests
    from .config import Config

__all__ = ["DashboardClient", "SEARCH_PARAMS", "TERMINAL_ORDER_STATUSES",
           "GUIDE_PROXY_PEER_ID"]

GUIDE_PROXY_PEER_ID = guide.PROXY_PEER_ID
TERMINAL_ORDER_STATUSES = statuses.FINAL
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml"}

# python kwarg -> (query parameter, order-type element)
SEARCH_PARAMS: dict[str, tuple[str, str]] = {
    "area_code": ("areaCode", "AreaCode"),
    "npa_nxx": ("npaNxx", "NpaNxx"),
    "npa_nxx_x": ("npaNxxx", "NpaNxxX"),
    "lata": ("lata", "Lata"),
    "zip": ("zip", "Zip"),
    "state": ("state", "State"),
    "city": ("city", "City"),
    "rate_center": ("rateCenter", "RateCenter"),
    "local_vanity": ("localVanity", "LocalVanity"),
    "ends_in": ("endsIn", "EndsIn"),
    "toll_free_vanity": ("tollFreeVanity", "TollFreeVanity"),
    "toll_free_wildcard": ("tollFreeWildCardPattern", "TollFreeWildCardPattern"),
    "quantity": ("quantity", "Quantity"),
    "enable_tn_detail": ("enableTNDetail", "EnableTNDetail"),
    "lca": ("LCA", "EnableLCA"),
    "order_by": ("orderBy", "OrderBy"),
    "protected": ("protected", "Protected"),
}
_CRITERIA = tuple(k for k in SEARCH_PARAMS if k not in ("quantity", "enable_tn_detail", "lca", "order_by", "protected"))


def _collect_numbers(data: Any) -> list[str]:
    """Every phone number under TelephoneNumber/FullNumber keys, in order, without duplicates."""
    out: list[str] = []

    def add(v: Any) -> None:
        if isinstance(v, str) and v.strip():
            if v not in out:
                out.append(v.strip())
        elif isinstance(v, list):
            for item in v:
                add(item)
        elif isinstance(v, Mapping):
            for key in ("FullNumber", "TelephoneNumber"):
                if key in v:
                    add(v[key])

    for key in ("FullNumber", "TelephoneNumber"):
        for found in xmlio.ci_find_all(data, key):
            add(found)
    return out


# ------------------------------------------------------------------------------------------ client

class DashboardClient:
    """The Dashboard XML API for one account and site (a Bearer token from API credentials, or the legacy
    username:password)."""

    def __init__(self, config: "Config", session: "requests.Session | None" = None):
        self.config = config
        self.auth = auth_for(config, "dashboard")
        self.session = session or make_session(config, auth=self.auth)

    def __repr__(self) -> str:
        return f"<DashboardClient {self.config.dashboard_url} account={self.config.account_id} site={self.config.site_id}>"

    # ------------------------------------------------------------------ plumbing
    @property
    def account_url(self) -> str:
        """``{dashboard}/accounts/{account_id}`` (the account id checked: digits, quoted)."""
        return f"{self.config.dashboard_url}/accounts/{segment(require_id(self.config.account_id, 'account_id'))}"

    @property
    def site_url(self) -> str:
        """``{account_url}/sites/{site_id}`` (the site id checked: digits, quoted)."""
        return f"{self.account_url}/sites/{segment(require_id(self.config.site_id, 'site_id'))}"

    def _location_url(self, location_id: str) -> str:
        location_id = require_id(location_id, "location_id", "digits")
        return f"{self.site_url}/sippeers/{segment(location_id)}"

    def _call(self, method: str, url: str, body: Mapping[str, Any] | str | None = None,
              params: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, Any], Exchange]:
        data = xmlio.build(body) if isinstance(body, Mapping) else body
        resp, ex = request(self.session, method, url, data=data, params=params,
                           headers=XML_HEADERS if data is not None else {"Accept": "application/xml"},
                           auth=self.auth)
        try:
            parsed = xmlio.parse(resp.content) if resp is not None and resp.content and resp.status_code != 204 else {}
        except xmlio.XmlParseError as exc:
            raise unreadable_response(resp, ex, f"the response is not the Dashboard's XML ({exc})") from None
        return resp, parsed, ex

    # ------------------------------------------------------------------ account
    def get_site(self) -> Result:
        """GET the site (sub-account): a cheap authenticated check of the configuration."""
        _, data, ex = self._call("GET", self.site_url)
        site = xmlio.first(xmlio.ci_get(data, "SiteResponse", "Site")) or {}
        return Result(data=site if isinstance(site, dict) else data, id=self.config.site_id, exchange=ex,
                      title="Site")

    # ------------------------------------------------------------------ step 1
    def create_application(self, name: str, callback_url: str | None = None, callback_user: str | None = None,
                           callback_password: str | None = None, *, inbound_callback_url: str | None = None,
                           outbound_callback_url: str | None = None, inbound_user: str | None = None,
                           inbound_password: str | None = None, outbound_user: str | None = None,
                           outbound_password: str | None = None,
                           callback_types: Iterable[str] | None = None) -> Result:
        """The application step: POST /applications; ``.id`` is the ApplicationId.

        Today's fields (Bandwidth's current docs): ``inbound_callback_url`` (required; message-received
        events), ``outbound_callback_url`` (message-delivered/-failed/-sending), their credentials and
        ``callback_types`` (RequestedCallbackTypes). The guide's legacy form is ``callback_url`` (one URL for
        every event) with ``callback_user``/``callback_password``. The two forms never mix (Bandwidth answers
        13065/13066), so mixing them is refused here, before any request is sent.
        """
        _require_text(name, "name", "the application's plain-text name, e.g. 'Demo Server'")
        for field in ("callback_user", "callback_password", "inbound_user", "inbound_password", "outbound_user",
                      "outbound_password"):
            check_str(locals()[field], field, optional=True)
        # credentials in a URL travel as the application's callback credentials, never in the URL saved and shown
        if isinstance(callback_url, str):
            callback_url, callback_user, callback_password = split_url_credentials(callback_url, callback_user,
                                                                                   callback_password)
        if isinstance(inbound_callback_url, str):
            inbound_callback_url, inbound_user, inbound_password = split_url_credentials(
                inbound_callback_url, inbound_user, inbound_password)
        if isinstance(outbound_callback_url, str):
            outbound_callback_url, outbound_user, outbound_password = split_url_credentials(
                outbound_callback_url, outbound_user, outbound_password)
        from .masking import register_secret
        for secret in (callback_password, inbound_password, outbound_password):
            register_secret(secret)
        body = {"Application": application_body(
            name, callback_url=callback_url, callback_user=callback_user, callback_password=callback_password,
            inbound_callback_url=inbound_callback_url, outbound_callback_url=outbound_callback_url,
            inbound_user=inbound_user, inbound_password=inbound_password, outbound_user=outbound_user,
            outbound_password=outbound_password, callback_types=callback_types)}
        _, data, ex = self._call("POST", f"{self.account_url}/applications", body)
        app = _app_record(data)
        return Result(data=app, id=app.get("ApplicationId"), exchange=ex, title="Application created")

    def repoint_application(self, application_id: str, *, callback_url: str | None = None,
                            inbound_callback_url: str | None = None,
                            outbound_callback_url: str | None = None) -> Result:
        """PATCH /applications/{id} with new callback URLs only (the other fields stay): the guide's
        ``callback_url``, or today's ``inbound_callback_url`` / ``outbound_callback_url``."""
        application_id = require_id(application_id, "application_id", "uuid")
        fields: dict[str, Any] = {}
        for key, value in (("CallbackUrl", callback_url), ("InboundCallbackUrl", inbound_callback_url),
                           ("OutboundCallbackUrl", outbound_callback_url)):
            if value is not None:
                fields[key] = check_str(value, key)
        _, data, ex = self._call("PATCH", f"{self.account_url}/applications/{segment(application_id)}",
                                 {"Application": fields})
        app = _app_record(data)
        return Result(data=app, id=app.get("ApplicationId") or application_id, exchange=ex)

    def list_applications(self) -> Result:
        """GET /applications: every application on the account."""
        _, data, ex = self._call("GET", f"{self.account_url}/applications")
        apps = [_flat_app(a) for a in xmlio.as_list(xmlio.ci_get(data, "ApplicationProvisioningResponse",
                                                                   "ApplicationList", "Application"))]
        return Result(data=data, exchange=ex, records=apps, title="Applications")

    def get_application(self, application_id: str) -> Result:
        """GET /applications/{id}."""
        application_id = require_id(application_id, "application_id", "uuid")
        _, data, ex = self._call("GET", f"{self.account_url}/applications/{segment(application_id)}")
        app = _app_record(data)
        return Result(data=app, id=app.get("ApplicationId") or application_id, exchange=ex, title="Application")

    def associated_locations(self, application_id: str) -> Result:
        """GET /applications/{id}/associatedsippeers: the locations using this application."""
        application_id = require_id(application_id, "application_id", "uuid")
        _, data, ex = self._call("GET", f"{self.account_url}/applications/{segment(application_id)}/associatedsippeers")
        peers = xmlio.as_list(xmlio.ci_get(data, "AssociatedSipPeersResponse", "AssociatedSipPeers",
                                           "AssociatedSipPeer"))
        return Result(data=data, id=application_id, exchange=ex, records=[p for p in peers if isinstance(p, dict)],
                      title="Locations using the application")

    def delete_application(self, application_id: str) -> Result:
        """DELETE /applications/{id} (fails with 12107 while a location uses it)."""
        application_id = require_id(application_id, "application_id", "uuid")
        _, data, ex = self._call("DELETE", f"{self.account_url}/applications/{segment(application_id)}")
        return Result(data=data, id=application_id, exchange=ex, title="Application deleted")

    # ------------------------------------------------------------------ step 2
    def create_location(self, name: str, default: bool = True) -> Result:
        """The location step: POST /sites/{site}/sippeers; the id is the last segment of the ``Location`` header."""
        _require_text(name, "name", "the location's plain-text name, e.g. 'Bandwidth Messaging 2 test'")
        check_bool(default, "default")  # default='no' must not create a *default* location
        body = {"SipPeer": {"PeerName": name, "IsDefaultPeer": default}}
        resp, data, ex = self._call("POST", f"{self.site_url}/sippeers", body)
        location = (resp.headers.get("Location") if resp is not None else None) or ""
        peer_id = location.rstrip("/").rsplit("/", 1)[-1] if location else None
        if not peer_id:
            peer_id = xmlio.ci_get(data, "SipPeerResponse", "SipPeer", "PeerId")
        record = {"PeerId": peer_id, "PeerName": name, "IsDefaultPeer": bool(default), "Location": location}
        return Result(data=record, id=peer_id, exchange=ex, title="Location created")

    def list_locations(self) -> Result:
        """GET /sites/{site}/sippeers: the site's locations."""
        _, data, ex = self._call("GET", f"{self.site_url}/sippeers")
        peers = xmlio.as_list(xmlio.ci_get(data, "TNSipPeersResponse", "SipPeers", "SipPeer"))
        return Result(data=data, exchange=ex, records=[p for p in peers if isinstance(p, dict)], title="Locations")

    def get_location(self, location_id: str) -> Result:
        """GET /sites/{site}/sippeers/{id} (a missing one answers 400 code 13563 -> NotFoundError)."""
        _, data, ex = self._call("GET", self._location_url(location_id))
        peer = xmlio.first(xmlio.ci_get(data, "SipPeerResponse", "SipPeer")) or {}
        return Result(data=peer if isinstance(peer, dict) else {}, id=str(location_id), exchange=ex, title="Location")

    def location_numbers(self, location_id: str) -> Result:
        """GET /sites/{site}/sippeers/{id}/tns: numbers on the location."""
        _, data, ex = self._call("GET", f"{self._location_url(location_id)}/tns")
        numbers = _collect_numbers(data)
        return Result(data=data, id=str(location_id), exchange=ex, numbers=numbers,
                      records=[{"FullNumber": n} for n in numbers], title="Numbers on the location")

    def delete_location(self, location_id: str) -> Result:
        """DELETE the location (fails with 13613/13622 while SMS/MMS are enabled)."""
        _, data, ex = self._call("DELETE", self._location_url(location_id))
        return Result(data=data, id=str(location_id), exchange=ex, title="Location deleted")

    # ------------------------------------------------------------------ step 3
    def enable_sms(self, location_id: str, toll_free: bool = True, short_code: bool = True, zone1: bool = True,
                   zone2: bool = False, zone3: bool = False, zone4: bool = False, zone5: bool = False,
                   protocol: str = "HTTP", proxy_peer_id: str | int | None = GUIDE_PROXY_PEER_ID) -> Result:
        """The SMS step: POST .../features/sms with the guide's body (Protocol HTTP, Zone1 true, ProxyPeerId 539692)."""
        location_id = require_id(location_id, "location_id", "digits")
        protocol = _require_http(protocol)
        for flag, value in (("toll_free", toll_free), ("short_code", short_code), ("zone2", zone2),
                            ("zone3", zone3), ("zone4", zone4), ("zone5", zone5)):
            check_bool(value, flag)
        _check_proxy(proxy_peer_id)
        if zone1 is not True:
            raise ValidationError("zone1: must be True; Messaging 2.0 needs Zone1 (US and Canada) enabled", field="zone1")
        http_settings: Any = {"ProxyPeerId": str(proxy_peer_id)} if proxy_peer_id not in (None, "") else ""
        body = {"SipPeerSmsFeature": {
            "SipPeerSmsFeatureSettings": {"TollFree": toll_free, "ShortCode": short_code, "Protocol": protocol,
                                          "Zone1": zone1, "Zone2": zone2, "Zone3": zone3, "Zone4": zone4,
                                          "Zone5": zone5},
            "HttpSettings": http_settings}}
        return self._feature("POST", location_id, "sms", "SMS enabled", _sms_record, body)

    def _feature(self, method: str, location_id: str, kind: str, title: str,
                 record: Any = None, body: Mapping[str, Any] | None = None) -> Result:
        """One call on the location's ``products/messaging/features/{kind}`` (kind: sms | mms)."""
        url = f"{self._location_url(location_id)}/products/messaging/features/{kind}"
        _, data, ex = self._call(method, url, body)
        return Result(data=record(data) if record else data, id=str(location_id), exchange=ex, title=title)

    def get_sms(self, location_id: str) -> Result:
        """GET the location's SMS feature."""
        return self._feature("GET", location_id, "sms", "SMS feature", _sms_record)

    def delete_sms(self, location_id: str) -> Result:
        """DELETE the SMS feature (fails with 13624 while MMS is enabled, 13673 while numbers remain)."""
        return self._feature("DELETE", location_id, "sms", "SMS disabled")

    # ------------------------------------------------------------------ step 4
    def enable_mms(self, location_id: str, protocol: str = "HTTP",
                   proxy_peer_id: str | int | None = GUIDE_PROXY_PEER_ID) -> Result:
        """The MMS step: POST .../features/mms with the guide's body (lower-case ``protocol``)."""
        location_id = require_id(location_id, "location_id", "digits")
        protocol = _require_http(protocol)
        _check_proxy(proxy_peer_id)
        http_settings: Any = {"ProxyPeerId": str(proxy_peer_id)} if proxy_peer_id not in (None, "") else ""
        body = {"MmsFeature": {"MmsSettings": {"protocol": protocol},
                               "Protocols": {"HTTP": {"HttpSettings": http_settings}}}}
        return self._feature("POST", location_id, "mms", "MMS enabled", _mms_record, body)

    def get_mms(self, location_id: str) -> Result:
        """GET the location's MMS feature (parsed case-insensitively: protocol/Protocol, proxyPeerId)."""
        return self._feature("GET", location_id, "mms", "MMS feature", _mms_record)

    def delete_mms(self, location_id: str) -> Result:
        """DELETE the MMS feature."""
        return self._feature("DELETE", location_id, "mms", "MMS disabled")

    # ------------------------------------------------------------------ step 5
    def assign_application(self, location_id: str, application_id: str) -> Result:
        """The assignment step: PUT .../applicationSettings with HttpMessagingV2AppId (13645 if SMS is not enabled)."""
        url = f"{self._location_url(location_id)}/products/messaging/applicationSettings"
        application_id = require_id(application_id, "application_id", "uuid")
        body = {"ApplicationsSettings": {"HttpMessagingV2AppId": application_id}}
        _, data, ex = self._call("PUT", url, body)
        settings = _settings_record(data) or {"HttpMessagingV2AppId": application_id}
        return Result(data=settings, id=application_id, exchange=ex, title="Application assigned")

    def get_application_settings(self, location_id: str) -> Result:
        """GET .../applicationSettings: which application the location uses."""
        _, data, ex = self._call("GET", f"{self._location_url(location_id)}/products/messaging/applicationSettings")
        settings = _settings_record(data)
        return Result(data=settings, id=settings.get("HttpMessagingV2AppId"), exchange=ex,
                      title="Application settings")

    def unassign_application(self, location_id: str) -> Result:
        """PUT ``<ApplicationsSettings>REMOVE</ApplicationsSettings>``: the first teardown step."""
        _, data, ex = self._call("PUT", f"{self._location_url(location_id)}/products/messaging/applicationSettings",
                                 {"ApplicationsSettings": "REMOVE"})
        return Result(data=data, id=str(location_id), exchange=ex, title="Application unassigned")

    # ------------------------------------------------------------------ step 6
    def search_numbers(self, **criteria: Any) -> Result:
        """GET /availableNumbers; kwargs: area_code, zip, city+state, state, npa_nxx, rate_center+state,
        lata, local_vanity(+ends_in), toll_free_vanity, toll_free_wildcard, quantity, enable_tn_detail, ..."""
        params = _search_params(criteria, require_criterion=True)
        _, data, ex = self._call("GET", f"{self.account_url}/availableNumbers", params=params)
        details = xmlio.as_list(xmlio.ci_get(data, "SearchResult", "TelephoneNumberDetailList", "TelephoneNumberDetail"))
        if details:
            records = [d for d in details if isinstance(d, dict)]
            numbers = [str(d.get("FullNumber")) for d in records if d.get("FullNumber")]
        else:
            numbers = [str(n) for n in xmlio.as_list(xmlio.ci_get(data, "SearchResult", "TelephoneNumberList",
                                                                  "TelephoneNumber")) if n]
            records = [{"FullNumber": n} for n in numbers]
        return Result(data=data, exchange=ex, records=records, numbers=numbers, title="Available numbers")

    def order_numbers(self, quantity: int = 1, partial_allowed: bool = True, back_order: bool = False,
                      name: str | None = None, *, location_id: str | None = None,
                      numbers: Iterable[Any] | None = None, customer_order_id: str | None = None,
                      **criteria: Any) -> Result:
        """The order step: POST /orders with the matching ``*SearchAndOrderType`` (or ExistingTelephoneNumberOrderType)."""
        order = order_body(self.config.site_id, quantity=quantity, partial_allowed=partial_allowed,
                           back_order=back_order, name=name, location_id=location_id, numbers=numbers,
                           customer_order_id=customer_order_id, **criteria)
        resp, data, ex = self._call("POST", f"{self.account_url}/orders", {"Order": order})
        return _order_result(data, ex, resp=resp, title="Order placed")

    def get_order(self, order_id: str) -> Result:
        """The order-status step: GET /orders/{id}; ``.status`` and ``.numbers`` (completed numbers) are filled in."""
        order_id = require_id(order_id, "order_id", "uuid")
        _, data, ex = self._call("GET", f"{self.account_url}/orders/{segment(order_id)}")
        result = _order_result(data, ex, order_id=order_id, title="Order status")
        return result

    def wait_for_order(self, order_id: str, timeout: float = 60.0, progress: bool = True,
                       interval: float = 0.25, max_interval: float = 2.0,
                       on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Poll get_order with backoff until COMPLETE/PARTIAL/FAILED/BACKORDERED.

        ``on_poll(result, elapsed_seconds)`` is called after every poll (the notebooks show progress in words with
        it); without it, a tqdm.auto bar shows the status when ``progress`` is true."""
        order_id = require_id(order_id, "order_id", "uuid")
        result = poll_until(lambda: self.get_order(order_id), TERMINAL_ORDER_STATUSES, label=f"order {order_id}",
                            timeout=timeout, progress=progress, interval=interval, max_interval=max_interval,
                            on_poll=on_poll, fix="wait longer (wait_for_order(timeout=...)) or check it later "
                                                 "with get_order")
        result.title = "Order finished"
        return result

    def list_orders(self, page: int = 1, size: int = 20, status: str | None = None,
                    customer_order_id: str | None = None) -> Result:
        """GET /orders: one record per order (orderId, OrderStatus, CountOfTNs, dates); ``customer_order_id``
        filters by the CustomerOrderId the order was placed with (numbers.yml ``customerOrderId``)."""
        if isinstance(page, bool) or not isinstance(page, (int, str)) or (isinstance(page, int) and page < 1) \
                or (isinstance(page, str) and not page.replace("-", "").isalnum()):
            raise ValidationError(f"page: {page!r:.40} is not a page; give 1, 2, ... or the order id of the "
                                  "'next' link", field="page")
        check_int(size, "size", minimum=1)
        check_str(status, "status", optional=True)
        check_str(customer_order_id, "customer_order_id", optional=True)
        params: dict[str, Any] = {"page": page, "size": size}
        if status:
            params["status"] = status
        if customer_order_id:
            params["customerOrderId"] = customer_order_id
        _, data, ex = self._call("GET", f"{self.account_url}/orders", params=params)
        rows = xmlio.as_list(xmlio.ci_get(data, "ResponseSelectWrapper", "ListOrderIdUserIdDate", "OrderIdUserIdDate"))
        return Result(data=data, exchange=ex, records=[r for r in rows if isinstance(r, dict)], title="Orders")

    def find_order(self, customer_order_id: str) -> str | None:
        """The id of the newest order placed with ``customer_order_id``, or None (``GET /orders?customerOrderId=``)."""
        rows = self.list_orders(size=1000, customer_order_id=customer_order_id).records or []
        ids = [str(r.get("orderId") or r.get("OrderId") or r.get("id") or "") for r in rows
               if str(r.get("CustomerOrderId") or customer_order_id) == customer_order_id]
        ids = [i for i in ids if i]
        return ids[-1] if ids else None

    def list_in_service_numbers(self, **filters: Any) -> Result:
        """GET /inserviceNumbers (a 204 means none: empty list)."""
        _, data, ex = self._call("GET", f"{self.account_url}/inserviceNumbers", params=filters or None)
        numbers = _collect_numbers(xmlio.ci_get(data, "TNs", "TelephoneNumbers") or {})
        return Result(data=data, exchange=ex, numbers=numbers, records=[{"FullNumber": n} for n in numbers],
                      title="Numbers in service")

    def disconnect_numbers(self, numbers: Iterable[Any], customer_order_id: str | None = None) -> Result:
        """POST /disconnects for the given numbers (teardown step 2)."""
        check_str(customer_order_id, "customer_order_id", optional=True)
        if not isinstance(numbers, (str, int, list, tuple, set)) or isinstance(numbers, bool):
            raise ValidationError(f"numbers: expected a number or a list of numbers, got {type(numbers).__name__}",
                                  field="numbers")
        if isinstance(numbers, (str, int)):
            numbers = [numbers]
        tns = [national_number(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not tns:
            raise ValidationError("numbers: the list is empty; give at least one number to disconnect", field="numbers")
        order: dict[str, Any] = {}
        if customer_order_id:
            order["CustomerOrderId"] = customer_order_id
        order["DisconnectTelephoneNumberOrderType"] = {"TelephoneNumberList": {"TelephoneNumber": tns},
                                                       "Protected": "UNCHANGED"}
        resp, data, ex = self._call("POST", f"{self.account_url}/disconnects",
                                    {"DisconnectTelephoneNumberOrder": order})
        oid = xmlio.ci_get(data, "DisconnectTelephoneNumberOrderResponse", "orderRequest", "id")
        if not oid and resp is not None and resp.headers.get("Location"):
            oid = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        status = xmlio.ci_get(data, "DisconnectTelephoneNumberOrderResponse", "OrderStatus")
        return Result(data=data, id=oid, exchange=ex, status=status, numbers=["+1" + t for t in tns],
                      title="Numbers disconnected")

    def get_disconnect(self, order_id: str) -> Result:
        """GET /disconnects/{id}."""
        order_id = require_id(order_id, "order_id", "uuid")
        _, data, ex = self._call("GET", f"{self.account_url}/disconnects/{segment(order_id)}")
        status = xmlio.ci_find_all(data, "OrderStatus")
        return Result(data=data, id=order_id, exchange=ex, status=status[0] if status else None,
                      title="Disconnect order")


# ------------------------------------------------------------------------------------- validation

def _check_proxy(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))
                              or not str(value).isdigit() and value != ""):
        raise ValidationError(f"proxy_peer_id: {value!r:.40} is not a SIP peer id (digits), e.g. 539692",
                              field="proxy_peer_id")


def _require_http(protocol: Any) -> str:
    if not isinstance(protocol, str) or protocol.strip().upper() != "HTTP":
        raise ValidationError(f"protocol: {protocol!r} is not supported; Messaging 2.0 needs protocol='HTTP'",
                              field="protocol")
    return "HTTP"


def _require_text(value: Any, field: str, hint: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: {value!r} is empty; give {hint}", field=field)
    return value


#: RequestedCallbackTypes/CallbackType values (numbers.yml's examples)
CALLBACK_TYPES = ("message-delivered", "message-failed", "message-sending")


def _creds(user: str | None, password: str | None, user_field: str) -> dict[str, str] | None:
    if not (user or password):
        return None
    if not (user and password):
        raise ValidationError(f"{user_field}/{user_field.replace('user', 'password')}: give both or neither",
                              field=user_field)
    from .masking import register_secret
    register_secret(password)
    return {"UserId": user, "Password": password}


def application_body(name: str, *, callback_url: str | None = None, callback_user: str | None = None,
                     callback_password: str | None = None, inbound_callback_url: str | None = None,
                     outbound_callback_url: str | None = None, inbound_user: str | None = None,
                     inbound_password: str | None = None, outbound_user: str | None = None,
                     outbound_password: str | None = None,
                     callback_types: Iterable[str] | None = None) -> dict[str, Any]:
    """The ``<Application>`` children for today's fields or the guide's legacy ``CallbackUrl`` (validated)."""
    current = any(v for v in (inbound_callback_url, outbound_callback_url, inbound_user, inbound_password,
                              outbound_user, outbound_password)) or callback_types is not None
    if callback_url and current:
        raise ValidationError(
            "callback_url: the guide's CallbackUrl (deprecated) can't be combined with inbound_callback_url / "
            "outbound_callback_url and their credentials (Bandwidth answers 13065/13066); give "
            "inbound_callback_url (and outbound_callback_url) alone, or callback_url alone", field="callback_url")
    if not current:
        _require_url(callback_url, "callback_url")
        creds = _creds(callback_user, callback_password, "callback_user")
        return {"ServiceType": "Messaging-V2", "AppName": name, "CallbackUrl": callback_url,
                "CallbackCreds": creds or ""}
    if callback_user or callback_password:
        raise ValidationError("callback_user: the guide's CallbackCreds can't be combined with today's fields "
                              "(Bandwidth answers 13066); use inbound_user/inbound_password and "
                              "outbound_user/outbound_password", field="callback_user")
    if not inbound_callback_url:
        raise ValidationError("inbound_callback_url: required with today's fields (Bandwidth answers 12802 "
                              "without it); give the https URL that receives incoming messages",
                              field="inbound_callback_url")
    body: dict[str, Any] = {"ServiceType": "Messaging-V2", "AppName": name,
                            "InboundCallbackUrl": _require_url(inbound_callback_url, "inbound_callback_url")}
    if outbound_callback_url:
        body["OutboundCallbackUrl"] = _require_url(outbound_callback_url, "outbound_callback_url")
    inbound = _creds(inbound_user, inbound_password, "inbound_user")
    outbound = _creds(outbound_user, outbound_password, "outbound_user")
    if outbound and not outbound_callback_url:
        raise ValidationError("outbound_user: outbound credentials need an outbound_callback_url to apply to",
                              field="outbound_user")
    if inbound:
        body["InboundCallbackCreds"] = inbound
    if outbound:
        body["OutboundCallbackCreds"] = outbound
    if callback_types is not None:
        types = [callback_types] if isinstance(callback_types, str) else list(callback_types)
        bad = [t for t in types if t not in CALLBACK_TYPES]
        if bad:
            raise ValidationError(f"callback_types: {bad[0]!r} is not a callback type; use any of "
                                  f"{', '.join(CALLBACK_TYPES)}", field="callback_types")
        if types:
            body["RequestedCallbackTypes"] = {"CallbackType": types}
    return body


def _require_url(value: Any, field: str) -> str:
    from urllib.parse import urlparse
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: missing; give the http(s) URL that receives message events", field=field)
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError(f"{field}: {value!r} is not an http(s) URL; give e.g. 'https://example.org/callbacks'",
                              field=field)
    return value


def _search_params(criteria: Mapping[str, Any], *, require_criterion: bool) -> dict[str, str]:
    unknown = [k for k in criteria if k not in SEARCH_PARAMS]
    if unknown:
        raise ValidationError(f"{unknown[0]}: unknown search criterion; valid ones are {', '.join(SEARCH_PARAMS)}",
                              field=unknown[0])
    values = {k: v for k, v in criteria.items() if v is not None}
    check_criteria(values)
    if require_criterion and not any(k in values for k in _CRITERIA):
        raise ValidationError("search: no criterion given; pass one of " + ", ".join(_CRITERIA), field="area_code")
    params: dict[str, str] = {}
    for key, value in values.items():
        params[SEARCH_PARAMS[key][0]] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return params


def order_body(site_id: Any, quantity: int = 1, partial_allowed: bool = True, back_order: bool = False,
               name: str | None = None, *, location_id: str | None = None, numbers: Iterable[Any] | None = None,
               customer_order_id: str | None = None, **criteria: Any) -> dict[str, Any]:
    """The ``<Order>`` of POST /orders, every argument checked (nothing is sent)."""
    check_bool(partial_allowed, "partial_allowed")
    check_bool(back_order, "back_order")
    check_str(name, "name", optional=True)
    order_type = build_order_type(quantity=quantity, numbers=numbers, **criteria)
    if name is not None and len(name) > 50:
        raise ValidationError(f"name: {len(name)} characters; the order name allows at most 50", field="name")
    if customer_order_id is not None and not re.fullmatch(r"[A-Za-z0-9 \-]{1,40}", str(customer_order_id)):
        raise ValidationError("customer_order_id: use letters, digits, dashes and spaces, at most 40",
                              field="customer_order_id")
    order: dict[str, Any] = {}
    if customer_order_id:
        order["CustomerOrderId"] = customer_order_id
    if name:
        order["Name"] = name
    order.update(order_type)
    order["SiteId"] = require_id(site_id, "site_id")
    if location_id is not None:
        order["PeerId"] = require_id(location_id, "location_id", "digits")
    order["PartialAllowed"] = partial_allowed
    order["BackOrderRequested"] = back_order
    return order


def build_order_type(quantity: int = 1, numbers: Iterable[Any] | None = None, **criteria: Any) -> dict[str, Any]:
    """The ``*SearchAndOrderType`` element for the criteria (one criterion -> its own type, else Combined)."""
    if numbers is not None:
        if isinstance(numbers, (str, int)):
            numbers = [numbers]
        tns = [national_number(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not tns:
            raise ValidationError("numbers: the list is empty; give the numbers to order", field="numbers")
        if any(k in criteria for k in _CRITERIA):
            raise ValidationError("numbers: give either numbers= or search criteria, not both", field="numbers")
        return {"ExistingTelephoneNumberOrderType": {"TelephoneNumberList": {"TelephoneNumber": tns}}}
    _search_params({**criteria, "quantity": quantity}, require_criterion=True)
    values = {k: v for k, v in criteria.items() if v is not None}
    if any(k in values for k in ("order_by", "protected")):
        bad = "order_by" if "order_by" in values else "protected"
        raise ValidationError(f"{bad}: only applies to search_numbers, not to orders", field=bad)

    def el(key: str) -> str:
        return SEARCH_PARAMS[key][1]

    keys = set(values) - {"enable_tn_detail", "lca"}
    simple = {
        frozenset({"area_code"}): "AreaCodeSearchAndOrderType",
        frozenset({"rate_center", "state"}): "RateCenterSearchAndOrderType",
        frozenset({"npa_nxx"}): "NPANXXSearchAndOrderType",
        frozenset({"toll_free_vanity"}): "TollFreeVanitySearchAndOrderType",
        frozenset({"toll_free_wildcard"}): "TollFreeWildCharSearchAndOrderType",
        frozenset({"state"}): "StateSearchAndOrderType",
        frozenset({"city", "state"}): "CitySearchAndOrderType",
        frozenset({"zip"}): "ZIPSearchAndOrderType",
        frozenset({"lata"}): "LATASearchAndOrderType",
    }
    type_name = simple.get(frozenset(keys), "CombinedSearchAndOrderType")
    body: dict[str, Any] = {}
    for key in ("area_code", "npa_nxx", "npa_nxx_x", "rate_center", "city", "state", "zip", "lata",
                "local_vanity", "ends_in", "toll_free_vanity", "toll_free_wildcard"):
        if key in values:
            body[el(key)] = str(values[key])
    if type_name in ("NPANXXSearchAndOrderType", "CombinedSearchAndOrderType"):
        if "enable_tn_detail" in values and type_name == "NPANXXSearchAndOrderType":
            body["EnableTNDetail"] = bool(values["enable_tn_detail"])
        if "lca" in values:
            body["EnableLCA"] = bool(values["lca"])
    body["Quantity"] = str(quantity)
    return {type_name: body}


# ------------------------------------------------------------------------------------ record shapes

def _flat_app(app: Any) -> dict[str, Any]:
    if not isinstance(app, dict):
        return {}
    out = dict(app)
    creds = out.get("CallbackCreds")
    if isinstance(creds, dict):
        out["CallbackCreds"] = {k: v for k, v in creds.items() if "password" not in k.lower()}
    return out


def _app_record(data: Mapping[str, Any]) -> dict[str, Any]:
    app = xmlio.first(xmlio.ci_get(data, "ApplicationProvisioningResponse", "Application"))
    return _flat_app(app) if app else {}


def _sms_record(data: Mapping[str, Any]) -> dict[str, Any]:
    feature = xmlio.ci_get(data, "SipPeerSmsFeatureResponse", "SipPeerSmsFeature") or {}
    return feature if isinstance(feature, dict) else {}


def _mms_record(data: Mapping[str, Any]) -> dict[str, Any]:
    feature = xmlio.ci_get(data, "MmsFeatureResponse", "MmsFeature") or {}
    if not isinstance(feature, dict):
        return {}
    # the service writes <protocol>/<proxyPeerId> (lower case) here; read either casing, show one
    return {"Protocol": xmlio.ci_get(feature, "MmsSettings", "Protocol"),
            "ProxyPeerId": xmlio.ci_get(feature, "Protocols", "HTTP", "HttpSettings", "ProxyPeerId")}


def _settings_record(data: Mapping[str, Any]) -> dict[str, Any]:
    settings = xmlio.ci_get(data, "ApplicationsSettingsResponse", "ApplicationsSettings")
    if isinstance(settings, dict):
        return settings
    return {} if settings in (None, "", "REMOVE") else {"ApplicationsSettings": settings}


def _order_result(data: Mapping[str, Any], ex: Exchange, *, resp: Any = None, order_id: str | None = None,
                  title: str) -> Result:
    root = xmlio.ci_get(data, "OrderResponse") or {}
    order = xmlio.ci_get(root, "Order") or {}
    oid = xmlio.ci_get(order, "id") or xmlio.ci_get(root, "id") or order_id
    if not oid and resp is not None and resp.headers.get("Location"):
        oid = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    status = xmlio.ci_get(root, "OrderStatus")
    completed = _collect_numbers(xmlio.ci_get(root, "CompletedNumbers") or {})
    failed = _collect_numbers(xmlio.ci_get(root, "FailedNumbers") or {})
    errors = [e for e in xmlio.as_list(xmlio.ci_get(root, "ErrorList", "Error")) if isinstance(e, dict)]
    record = {
        "id": oid, "OrderStatus": status,
        "OrderCreateDate": xmlio.ci_get(order, "OrderCreateDate"),
        "CompletedQuantity": xmlio.ci_get(root, "CompletedQuantity"),
        "FailedQuantity": xmlio.ci_get(root, "FailedQuantity"),
        "PendingQuantity": xmlio.ci_get(root, "PendingQuantity"),
        "CompletedNumbers": completed, "FailedNumbers": failed,
        "Errors": [f"{e.get('Code')}: {e.get('Description')}" for e in errors],
        "Summary": xmlio.ci_get(root, "Summary"),
        "OrderCompleteDate": xmlio.ci_get(root, "OrderCompleteDate"),
        "LastModifiedDate": xmlio.ci_get(root, "LastModifiedDate"),
        "Order": order,
    }
    numbers = []
    for n in completed:
        try:
            numbers.append(normalize_number(n, "CompletedNumbers"))
        except ValidationError:
            numbers.append(n)
    return Result(data=record, id=str(oid) if oid else None, exchange=ex, status=status, numbers=numbers,
                  title=title)
