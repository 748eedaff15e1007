"""
Tornado handlers of the A2P area: TN Option Orders (Dashboard XML), 10DLC campaigns and numbers
(platform JSON) and toll-free verification (platform JSON, ``bandwidth.yml``).

Every method authenticates first; another account's campaign, order or number looks like a missing
one (404), never like a 403.
"""
from __future__ import annotations

from typing import Any

from .. import jsonio, quotas, xmlio
from ..auth import AuthError
from ..base import BaseHandler
from ..credentials import ROLE_NUMBERS
from ..dashboard.responses import DashboardHandler
from ..exceptions import SandboxError
from . import exceptions as exc
from . import models


# == TN Option Orders (Dashboard XML) ==============================================================

class TnOptionsHandler(DashboardHandler):
    error_root = exc.ORDER_ROOT
    unpaged_list = "tnoption_orders"  # the report has no paging in Bandwidth's spec: list_objects x object_bytes

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        self.error_root = exc.REPORT_ROOT
        details = (self.get_argument("orderDetails", "") or "").lower() == "true"
        body = models.list_orders(self.db, account_id, statuses=self.get_arguments("status"),
                                  tn=self.get_argument("tn", None) or None,
                                  customer_order_id=self.get_argument("customerOrderId", None) or None,
                                  details=details)["TnOptionOrders"]
        key = "TnOptionOrder" if details else "TnOptionOrderSummary"
        self.set_header("Content-Type", xmlio.CONTENT_TYPE)  # each order rendered once per content (bench 8)
        self.finish(xmlio.render_list(exc.REPORT_ROOT, "TnOptionOrders", key, xmlio.by_content(body.get(key) or ()),
                                      head={"TotalCount": body["TotalCount"]}))

    def post(self, account_id: str) -> None:
        self.begin(account_id)
        req = models.parse_order(self.body("TnOptionOrder"))
        order = models.create_order(self.db, account_id, self.username, req)
        self.send_xml(exc.ORDER_ROOT, {"TnOptionOrder": order}, status=201,
                      headers={"Location": self.url_for_account(account_id, f"/tnoptions/{order['OrderId']}")})


class TnOptionHandler(DashboardHandler):
    error_root = exc.REPORT_ROOT

    def get(self, account_id: str, order_id: str) -> None:
        self.begin(account_id)
        self.send_xml("TnOptionOrder", models.order_wire(self.db, account_id, order_id))


# == platform JSON (10DLC, toll-free verification) =================================================

class PlatformHandler(BaseHandler):
    """``https://api.bandwidth.com/api/v2`` endpoints: JSON bodies, JSON errors."""

    api = "platform"
    style = "tendlc"  # or "tfv": which error body this endpoint answers with

    def _error(self, type_: str, description: str, status: int, headers: dict[str, str] | None = None
               ) -> SandboxError:
        if self.style == "tfv":
            return exc.TfvError(type_, description, status=status, headers=headers)
        return exc.PlatformError(type_, description, status=status, headers=headers)

    def begin(self, account_id: str) -> str:
        """Authenticate (Basic API user or Bearer token). Bandwidth asks for a "Campaign Management" role
        here; the sandbox's one number-management role (``Numbers``) stands in for it. A POST must fit the
        account's ``objects`` quota."""
        account = self.auth_account(account_id, role=ROLE_NUMBERS)
        if self.request.method == "POST":
            quotas.check_objects(self.db, account)
        if self.request.method in ("POST", "PUT", "PATCH"):
            quotas.check_stored(self.db, account, len(self.request.body or b""))
        return account

    def unauthorized(self, err: AuthError | None = None) -> SandboxError:
        challenge = err.challenge if err is not None else 'Basic realm="Bandwidth"'
        reason = err.reason if err is not None and (err.decommissioned or err.scheme == "bearer") else \
            "missing or invalid username and password"
        return self._error("unauthorized", f"Authentication failed: {reason}", 401, {"WWW-Authenticate": challenge})

    def forbidden(self, err: AuthError | None = None) -> SandboxError:
        headers = {"WWW-Authenticate": err.challenge} if err is not None and err.scheme == "bearer" else None
        if err is not None and err.role:
            return self._error("forbidden", f"client does not have access rights to the content: the API credential "
                               f"lacks the {err.role} role", 403, headers)
        if self.style == "tfv":
            return self._error("forbidden", "Client is not authorized for the action.", 403, headers)
        return self._error("forbidden", "client does not have access rights to the content", 403, headers)

    def generic_error(self, status: int, description: str) -> SandboxError:
        kind = {404: "Not Found" if self.style == "tfv" else "not-found", 405: "method-not-allowed",
                500: "internal-server-error"}.get(status, "bad request" if self.style == "tfv" else "bad-request")
        return self._error(kind, description, status)

    def page_args(self, default_limit: int = 50) -> tuple[int, int]:
        def number(name: str, default: int, low: int, high: int | None) -> int:
            raw = self.get_argument(name, None)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                value = low - 1
            if value < low or (high is not None and value > high):
                bound = f"from {low} to {high}" if high is not None else f"from {low}"
                raise exc.PlatformError("bad-request", f"{name} must be a whole number {bound} (got "
                                        f"'{exc.safe(raw)}')", status=400)
            return value

        return number("limit", default_limit, 1, models.PAGE_MAX), number("offset", 0, 0, None)

    def send_page(self, items: list[dict[str, Any]]) -> None:
        limit, offset = self.page_args()
        self.send_json({"data": items[offset:offset + limit],
                        "page": {"totalElements": len(items), "limit": limit, "offset": offset}})


class CampaignsHandler(PlatformHandler):
    def get(self, account_id: str) -> None:
        self.begin(account_id)
        self.send_page(models.list_campaigns(self.db, account_id))


def _campaign_missing(account_id: str, campaign_id: str) -> exc.PlatformError:
    return exc.PlatformError("not-found", f"Campaign '{exc.safe(campaign_id)}' was not found on account {account_id} "
                             "(list yours with GET /api/v2/accounts/{accountId}/tendlc/campaigns)", status=404)


class CampaignHandler(PlatformHandler):
    def get(self, account_id: str, campaign_id: str) -> None:
        self.begin(account_id)
        campaign = models.get_campaign(self.db, account_id, campaign_id)
        if campaign is None:
            raise _campaign_missing(account_id, campaign_id)
        self.send_json(campaign)


class CampaignNumbersHandler(PlatformHandler):
    def get(self, account_id: str, campaign_id: str) -> None:
        self.begin(account_id)
        items = models.campaign_numbers(self.db, account_id, campaign_id, self.get_argument("phoneNumber", None))
        if items is None:
            raise _campaign_missing(account_id, campaign_id)
        self.send_page(items)


class TenDlcNumbersHandler(PlatformHandler):
    def get(self, account_id: str) -> None:
        self.begin(account_id)
        self.send_page(models.account_numbers(self.db, account_id))


class TenDlcNumberHandler(PlatformHandler):
    def get(self, account_id: str, number: str) -> None:
        self.begin(account_id)
        ten = models.normalize_tn(number)
        if ten is None:
            raise exc.PlatformError("bad-request", f"'{exc.safe(number)}' is not a telephone number: use E.164, "
                                    "like +19195551234", status=400)
        reg = models.registration(self.db, account_id, ten)
        if reg is None:
            if not models.number_on_account(self.db, account_id, ten):
                raise exc.PlatformError("not-found", f"{models.e164(ten)} is not a number of account {account_id}",
                                        status=404)
            raise exc.PlatformError("not-found", f"{models.e164(ten)} is not assigned to a 10DLC campaign: assign it "
                                    "with a TN Option Order (POST /accounts/{accountId}/tnoptions with A2pSettings)",
                                    status=404)
        self.send_json(reg)


class TfvRequestHandler(PlatformHandler):
    style = "tfv"

    def post(self, account_id: str) -> None:
        self.begin(account_id)
        submission, numbers, errors = models.validate_submission(self.json_body_tfv(), with_numbers=True)
        if errors:
            raise exc.tfv_invalid(errors)
        models.submit_tfv(self.db, account_id, numbers, submission)
        self.send_empty(202)

    def json_body_tfv(self) -> Any:
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise exc.TfvError("unsupported-media-type", "Content-Type must be application/json", status=415)
        try:
            return jsonio.parse(self.request.body)
        except jsonio.JsonBodyError as e:
            raise exc.TfvError("bad request", f"The request body is not valid JSON: {exc.safe(e, 200)}",
                               status=400) from None


class TfvStatusHandler(TfvRequestHandler):
    def _number(self, account_id: str, number: str) -> str:
        self.begin(account_id)
        tfn = models.tfn_e164(number)
        if tfn is None:
            raise exc.TfvError("bad request", f"'{exc.safe(number)}' is not a toll-free number: use E.164, like "
                               "+18005555555 (area code 800, 833, 844, 855, 866, 877 or 888)", status=400)
        if not models.number_on_account(self.db, account_id, tfn[2:]):
            raise exc.tfv_not_found()
        return tfn

    def get(self, account_id: str, number: str) -> None:
        tfn = self._number(account_id, number)
        self.send_json(models.tfv_wire(self.db, account_id, tfn))

    def put(self, account_id: str, number: str) -> None:
        self._submit(account_id, number, update=True)

    def post(self, account_id: str, number: str) -> None:  # type: ignore[override]
        # Bandwidth's CLI submits here with {"submission": {...}}; the spec's POST is /tollFreeVerification
        self._submit(account_id, number, update=False)

    def _submit(self, account_id: str, number: str, update: bool) -> None:
        tfn = self._number(account_id, number)
        body = self.json_body_tfv()
        wrapped = body.get("submission") if isinstance(body, dict) else None
        submission, _, errors = models.validate_submission(wrapped, with_numbers=False)
        if wrapped is None:
            errors = {"submission": "Send {\"submission\": {businessAddress, businessContact, messageVolume, useCase, "
                                    "useCaseSummary, productionMessageContent, optInWorkflow, businessEntityType}}."}
        if errors:
            raise exc.tfv_invalid(errors)
        models.submit_tfv(self.db, account_id, [tfn], submission, update=update)
        self.send_empty(202)

    def delete(self, account_id: str, number: str) -> None:
        tfn = self._number(account_id, number)
        if not models.delete_tfv(self.db, account_id, tfn):
            raise exc.tfv_not_found()
        self.send_empty(204)
