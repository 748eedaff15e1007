"""A2PClient: what a number needs before US carriers deliver its application-to-person texts.

* 10DLC (local numbers): campaigns and each number's registration, read from the platform API
  (``{a2p_url}/accounts/{a}/tendlc/...``, JSON), and the **TN Option Order** that assigns numbers to a
  campaign (Dashboard XML, ``/accounts/{a}/tnoptions``), polled like a number order.
* Toll-free numbers: toll-free verification (``{a2p_url}/accounts/{a}/phoneNumbers/{n}/tollFreeVerification``).

Facts from Bandwidth's CLI (``band tendlc``, ``band tnoption assign``, ``band tfv``) and the specs
(``numbers.yml`` tnoptions, ``bandwidth.yml`` toll-free verification). Bad input raises ValidationError
naming the field before any request is sent.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from . import statuses, xmlio
from .exceptions import ValidationError
from .ids import require_id, segment
from .http import Exchange, auth_for, make_session, request, unreadable_response
from .phone import national_number, normalize_number
from .polling import poll_until
from .results import Result

if TYPE_CHECKING:
    import requests
    from .config import Config

__all__ = ["A2PClient", "TOLL_FREE_NPAS", "TERMINAL_TN_OPTION_STATUSES", "is_toll_free", "check_campaign_id"]

TOLL_FREE_NPAS = ("800", "833", "844", "855", "866", "877", "888")
TERMINAL_TN_OPTION_STATUSES = statuses.TN_OPTION_FINAL
_CAMPAIGN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_XML = {"Content-Type": "application/xml; charset=utf-8", "Accept": "application/xml"}
_JSON = {"Accept": "application/json"}


def is_toll_free(number: Any) -> bool:
    """True for a US toll-free number (800, 833, 844, 855, 866, 877, 888)."""
    return national_number(number)[:3] in TOLL_FREE_NPAS


def check_campaign_id(value: Any, field: str = "campaign_id") -> str:
    """A 10DLC campaign id (1-64 letters, digits, ``.``, ``_``, ``-``; e.g. ``CA3XKE1``) or ValidationError."""
    if value is None or not str(value).strip():
        raise ValidationError(f"{field}: missing; give the id of a REGISTERED 10DLC campaign (list_campaigns())",
                              field=field)
    text = str(value).strip()
    if not _CAMPAIGN_ID.fullmatch(text):
        raise ValidationError(f"{field}: {text!r} is not a campaign id (1-64 letters, digits, '.', '_' or '-', "
                              "like CA3XKE1)", field=field)
    return text


class A2PClient:
    """10DLC campaigns, TN Option Orders and toll-free verification for one account."""

    def __init__(self, config: "Config", session: "requests.Session | None" = None):
        self.config = config
        self.auth = auth_for(config, "dashboard")  # a Bearer token from API credentials, or the legacy user
        self.session = session or make_session(config, auth=self.auth)

    def __repr__(self) -> str:
        return f"<A2PClient {self.config.a2p_url} account={self.config.account_id}>"

    def _account(self) -> str:
        """The account id checked (digits) and quoted, as DashboardClient.account_url does."""
        return segment(require_id(self.config.account_id, "account_id"))

    @property
    def platform_account_url(self) -> str:
        return f"{self.config.a2p_url}/accounts/{self._account()}"

    @property
    def dashboard_account_url(self) -> str:
        return f"{self.config.dashboard_url}/accounts/{self._account()}"

    def _json(self, method: str, url: str, body: Any = None, params: Mapping[str, Any] | None = None
              ) -> tuple[Any, Exchange]:
        resp, ex = request(self.session, method, url, json_body=body, params=params, headers=_JSON,
                           auth=self.auth)
        if resp is None or not resp.content:
            return {}, ex
        try:
            return resp.json(), ex
        except ValueError:
            raise unreadable_response(resp, ex, "the response is not JSON") from None

    def _xml(self, method: str, url: str, body: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, Any], Exchange]:
        data = xmlio.build(body) if body is not None else None
        resp, ex = request(self.session, method, url, data=data, params=params,
                           headers=_XML if data is not None else {"Accept": "application/xml"},
                           auth=self.auth)
        try:
            parsed = xmlio.parse(resp.content) if resp is not None and resp.content else {}
        except xmlio.XmlParseError as exc:
            raise unreadable_response(resp, ex, f"the response is not the Dashboard's XML ({exc})") from None
        return resp, parsed, ex

    # ------------------------------------------------------------------ 10DLC (platform JSON)
    def list_campaigns(self, limit: int = 250, offset: int = 0) -> Result:
        """GET .../tendlc/campaigns: one record per campaign (campaignId, status, ...)."""
        _check_page(limit, offset)
        data, ex = self._json("GET", f"{self.platform_account_url}/tendlc/campaigns",
                              params={"limit": limit, "offset": offset})
        records = [c for c in (data.get("data") or []) if isinstance(c, dict)] if isinstance(data, dict) else []
        return Result(data=data if isinstance(data, dict) else {}, exchange=ex, records=records,
                      title="10DLC campaigns")

    def campaign_numbers(self, campaign_id: str, phone_number: Any = None, limit: int = 250,
                         offset: int = 0) -> Result:
        """GET .../tendlc/campaigns/{id}/phoneNumbers: the numbers on a campaign and their status."""
        campaign_id = check_campaign_id(campaign_id)
        _check_page(limit, offset)
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if phone_number is not None:
            params["phoneNumber"] = normalize_number(phone_number, "phone_number")
        data, ex = self._json("GET", f"{self.platform_account_url}/tendlc/campaigns/{campaign_id}/phoneNumbers",
                              params=params)
        records = [n for n in (data.get("data") or []) if isinstance(n, dict)] if isinstance(data, dict) else []
        return Result(data=data if isinstance(data, dict) else {}, exchange=ex, records=records,
                      title=f"Numbers on campaign {campaign_id}")

    def registration(self, number: Any) -> Result:
        """GET .../tendlc/phoneNumbers/{e164}: the number's 10DLC registration (NotFoundError when on no campaign)."""
        e164 = normalize_number(number, "number")
        data, ex = self._json("GET", f"{self.platform_account_url}/tendlc/phoneNumbers/{e164}")
        record = data if isinstance(data, dict) else {}
        return Result(data=record, id=record.get("campaignId"), exchange=ex, status=record.get("status"),
                      numbers=[e164], title=f"10DLC registration of {e164}")

    # ------------------------------------------------------------------ toll-free verification
    def tfv_status(self, number: Any) -> Result:
        """GET .../phoneNumbers/{e164}/tollFreeVerification: VERIFIED, PENDING or UNVERIFIED (tfvStatus)."""
        e164 = _toll_free(number, "number")
        data, ex = self._json("GET", f"{self.platform_account_url}/phoneNumbers/{e164}/tollFreeVerification")
        record = data if isinstance(data, dict) else {}
        return Result(data=record, exchange=ex, status=record.get("status"), numbers=[e164],
                      title=f"Toll-free verification of {e164}")

    def request_tfv(self, numbers: Iterable[Any], submission: Mapping[str, Any]) -> Result:
        """POST .../tollFreeVerification (verificationRequest: ``submission`` fields plus ``phoneNumbers``)."""
        if isinstance(numbers, (str, int)):
            numbers = [numbers]
        tns = [_toll_free(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not tns:
            raise ValidationError("numbers: the list is empty; give the toll-free number(s) to verify", field="numbers")
        if not isinstance(submission, Mapping):
            raise ValidationError("submission: give the verification details as a dict (businessAddress, "
                                  "businessContact, messageVolume, useCase, ...)", field="submission")
        body = {**dict(submission), "phoneNumbers": tns}
        _, ex = self._json("POST", f"{self.platform_account_url}/tollFreeVerification", body)
        return Result(data={"phoneNumbers": tns, "status": "submitted"}, exchange=ex, status="PENDING",
                      numbers=tns, title="Toll-free verification requested")

    # ------------------------------------------------------------------ TN Option Orders (Dashboard XML)
    def create_tn_option_order(self, numbers: Iterable[Any], campaign_id: str, message_class: str = "M",
                               customer_order_id: str | None = None) -> Result:
        """POST /tnoptions: assign ``numbers`` to a 10DLC campaign (``band tnoption assign``); ``.id`` is the OrderId."""
        if isinstance(numbers, (str, int)):
            numbers = [numbers]
        tns = [national_number(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not tns:
            raise ValidationError("numbers: the list is empty; give the number(s) to assign", field="numbers")
        if len(set(tns)) != len(tns):
            raise ValidationError("numbers: a number is listed twice; give each once", field="numbers")
        campaign_id = check_campaign_id(campaign_id)
        if not re.fullmatch(r"[A-Za-z0-9]{1,10}", str(message_class or "")):
            raise ValidationError(f"message_class: {message_class!r} is not a message class (e.g. 'M')",
                                  field="message_class")
        if customer_order_id is not None and not re.fullmatch(r"[A-Za-z0-9 \-]{1,40}", str(customer_order_id)):
            raise ValidationError("customer_order_id: use letters, digits, dashes and spaces, at most 40",
                                  field="customer_order_id")
        order: dict[str, Any] = {}
        if customer_order_id:
            order["CustomerOrderId"] = customer_order_id
        order["TnOptionGroups"] = {"TnOptionGroup": {
            "Sms": "on",
            "A2pSettings": {"Action": "asSpecified", "CampaignId": campaign_id, "MessageClass": message_class},
            "TelephoneNumbers": {"TelephoneNumber": tns}}}
        _, data, ex = self._xml("POST", f"{self.dashboard_account_url}/tnoptions", {"TnOptionOrder": order})
        return _tn_option_result(xmlio.ci_get(data, "TnOptionOrderResponse", "TnOptionOrder") or {}, ex,
                                 title="TN Option Order placed")

    def get_tn_option_order(self, order_id: str) -> Result:
        """GET /tnoptions/{id}: ``.status`` is the ProcessingStatus; errors and warnings per number."""
        order_id = _require_id(order_id)
        _, data, ex = self._xml("GET", f"{self.dashboard_account_url}/tnoptions/{order_id}")
        return _tn_option_result(xmlio.ci_get(data, "TnOptionOrder") or {}, ex, title="TN Option Order")

    def list_tn_option_orders(self, status: str | None = None, number: Any = None) -> Result:
        """GET /tnoptions?status=&tn=: one summary record per order."""
        params: dict[str, Any] = {}
        if status:
            params["status"] = str(status).upper()
        if number is not None:
            params["tn"] = national_number(number, "number")
        _, data, ex = self._xml("GET", f"{self.dashboard_account_url}/tnoptions", params=params or None)
        orders = xmlio.ci_get(data, "TnOptionOrderReportResponse", "TnOptionOrders") or {}
        rows = [r for r in xmlio.as_list(xmlio.ci_get(orders, "TnOptionOrderSummary")) if isinstance(r, dict)]
        return Result(data=data, exchange=ex, records=rows, title="TN Option Orders")

    def wait_for_tn_option_order(self, order_id: str, timeout: float = 60.0, progress: bool = True,
                                 interval: float = 0.25, max_interval: float = 2.0,
                                 on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Poll until COMPLETE/PARTIAL/FAILED, like a number order: ``on_poll(result, elapsed)`` after each poll
        (the notebooks' progress in words), else a tqdm.auto bar when ``progress``."""
        result = poll_until(lambda: self.get_tn_option_order(order_id), TERMINAL_TN_OPTION_STATUSES,
                            label=f"TN Option Order {order_id}", timeout=timeout, progress=progress,
                            interval=interval, max_interval=max_interval, on_poll=on_poll,
                            fix="wait longer (timeout=...) or check it later")
        result.title = "TN Option Order finished"
        return result


def _check_page(limit: Any, offset: Any) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 250:
        raise ValidationError(f"limit: {limit!r}; give a whole number from 1 to 250", field="limit")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValidationError(f"offset: {offset!r}; give a whole number from 0", field="offset")


def _require_id(value: Any, field: str = "order_id") -> str:
    """A TN Option Order id fit for one path segment (dot segments, slashes and escapes refused by ids)."""
    return segment(require_id(value, field, "name"))


def _toll_free(number: Any, field: str) -> str:
    e164 = normalize_number(number, field)
    if not (e164.startswith("+1") and e164[2:5] in TOLL_FREE_NPAS):
        raise ValidationError(f"{field}: {e164} is not a toll-free number (800, 833, 844, 855, 866, 877, 888); a "
                              "local number needs a 10DLC campaign instead", field=field)
    return e164


def _tn_option_result(order: Mapping[str, Any], ex: Exchange, *, title: str) -> Result:
    status = xmlio.ci_get(order, "ProcessingStatus")
    groups = xmlio.as_list(xmlio.ci_get(order, "TnOptionGroups", "TnOptionGroup"))
    numbers: list[str] = []
    campaigns: list[str] = []
    for g in groups:
        if not isinstance(g, Mapping):
            continue
        for tn in xmlio.as_list(xmlio.ci_get(g, "TelephoneNumbers", "TelephoneNumber")):
            if isinstance(tn, str):
                try:
                    numbers.append(normalize_number(tn, "TelephoneNumber"))
                except ValidationError:
                    numbers.append(tn)
        cid = xmlio.ci_get(g, "A2pSettings", "CampaignId")
        if cid and cid not in campaigns:
            campaigns.append(cid)
    errors = [e for e in xmlio.as_list(xmlio.ci_get(order, "ErrorList", "Error")) if isinstance(e, Mapping)]
    warnings = [w for w in xmlio.as_list(xmlio.ci_get(order, "Warnings", "Warning")) if isinstance(w, Mapping)]
    record = {
        "OrderId": xmlio.ci_get(order, "OrderId"), "ProcessingStatus": status,
        "CampaignId": ", ".join(campaigns), "TelephoneNumbers": numbers,
        "Errors": [f"{e.get('Code')}: {e.get('Description')} ({e.get('TelephoneNumber')})" for e in errors],
        "Warnings": [f"{w.get('TelephoneNumber')}: {w.get('Description')}" for w in warnings],
        "OrderCreateDate": xmlio.ci_get(order, "OrderCreateDate"),
        "LastModifiedDate": xmlio.ci_get(order, "LastModifiedDate"),
    }
    oid = record["OrderId"]
    return Result(data=record, id=str(oid) if oid else None, exchange=ex, status=status, numbers=numbers, title=title)
