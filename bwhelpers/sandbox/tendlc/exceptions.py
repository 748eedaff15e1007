"""
Errors of the A2P area, each in the shape its API answers with:

* TN Option Orders (Dashboard XML, ``numbers.yml``): a rejected request is ``400``
  ``<TnOptionOrderResponse><ResponseStatus><ErrorCode/><Description/>``; an unknown order is ``404``
  ``<TnOptionOrderReportResponse><ResponseStatus><Description>The resource does not exist``.
  Problems with single numbers (not yours, unknown campaign, ...) do not reject the request: they
  appear in the order's ``ErrorList`` (``Code``, ``Description``, ``TelephoneNumber``), as in the
  spec's example.
* 10DLC (platform JSON, documented only by Bandwidth's CLI): ``{"errors": [{"type", "description"}]}``.
* Toll-free verification (``bandwidth.yml`` ``tfvError``): ``{"type", "description"[, "errors": {field: text}]}``.

Codes come from ``numbers-errors.mdx``; where it documents none, the text says the code is the
sandbox's own choice.
"""
from __future__ import annotations

import json
from typing import Any

from ..exceptions import DashboardError, SandboxError, safe

__all__ = ["DashboardError", "PlatformError", "TfvError", "ORDER_ROOT", "REPORT_ROOT", "TEXT", "safe"]

ORDER_ROOT = "TnOptionOrderResponse"
REPORT_ROOT = "TnOptionOrderReportResponse"

#: numbers-errors.mdx texts ('%s' filled in by the caller)
TEXT = {
    5070: "Telephone number is invalid.",
    5073: "Telephone number is required.",
    5076: "Number does not belong to this account.",
    5081: "Number Format '%s' is invalid.",
    5089: "RPID Format '%s' is invalid.",
    5093: "Order cannot contain duplicate telephone numbers",
    5095: "The count of telephone numbers in order exceeds the maximum size of %s",
    5113: "Sms '%s' is invalid. Valid values are: %s",
    5115: "At least one of the TN option attributes must be applied for %s",
    5126: "TollFree telephone number(s) cannot be used.",
    5132: "SMS attribute should be 'ON' for provisioning A2P",
    5134: "Attribute %s is incompatible with such 'Action' values: 'off, systemDefault, unchanged'",
    5138: "Action value is invalid. Valid values are: 'unchanged', 'systemDefault', 'off', 'asSpecified'.",
    5145: "SMS messaging should be enabled on location",
    12128: "A2P Campaign ID '%s' was not found in list of authorized Campaign IDs",
    12192: "A2P Campaign ID '%s' is not active",
    12822: "A2P Campaign ID '%s' is not valid. Needs to be between 1 and 64 characters. Only alphanumeric values, "
           "dashes, underscores and dots are allowed.",
}


def text(code: int, *args: Any) -> str:
    template = TEXT[code]
    return template % tuple(safe(a) for a in args) if args else template.replace("%s", "").strip()


def order_rejected(code: int, description: str, status: int = 400) -> DashboardError:
    """The whole TN Option Order is refused (bad body): nothing is created."""
    return DashboardError(code, description, status=status, root=ORDER_ROOT)


def malformed(description: str) -> DashboardError:
    """A body without the parts a TN Option Order needs (the code, 1003, is the sandbox's choice)."""
    return DashboardError(1003, description, root=ORDER_ROOT)


class OrderNotFound(SandboxError):
    """``404 <TnOptionOrderReportResponse><ResponseStatus><Description>The resource does not exist``."""

    status = 404

    def __init__(self, order_id: str):
        super().__init__(f"TN Option Order {order_id} does not exist")
        self.order_id = order_id
        self.code = "404"
        self.description = "The resource does not exist"

    def render(self) -> tuple[str, str]:
        from .. import xmlio

        return xmlio.CONTENT_TYPE, xmlio.render(REPORT_ROOT, {"ResponseStatus": {"Description": self.description}})


class PlatformError(SandboxError):
    """The 10DLC API's error body: ``{"errors": [{"type": ..., "description": ...}]}`` (shape from the CLI)."""

    def __init__(self, type_: str, description: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(f"{type_}: {description}")
        self.type, self.description, self.status = type_, description, status
        self.headers = headers or {}

    def render(self) -> tuple[str, str]:
        return "application/json; charset=utf-8", json.dumps(
            {"errors": [{"type": self.type, "description": self.description}]})


class TfvError(SandboxError):
    """``tfvError`` of bandwidth.yml: ``{"type", "description"[, "errors": {field: message}]}``."""

    def __init__(self, type_: str | None, description: str, status: int = 400,
                 errors: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(f"{type_}: {description}")
        self.type, self.description, self.status, self.errors = type_, description, status, errors
        self.headers = headers or {}

    def render(self) -> tuple[str, str]:
        body: dict[str, Any] = {}
        if self.type:
            body["type"] = self.type
        body["description"] = self.description
        if self.errors:
            body["errors"] = self.errors
        return "application/json; charset=utf-8", json.dumps(body)


def tfv_not_found() -> TfvError:
    return TfvError("Not Found", "Cannot find the requested resource.", status=404)


def tfv_invalid(errors: dict[str, str]) -> TfvError:
    return TfvError(None, "cannot process request.", status=400, errors=errors)
