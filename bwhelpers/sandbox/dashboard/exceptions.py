"""
Named Dashboard errors, each with the documented code, text and HTTP status
(``../shared/reference/bandwidth-api-notes.md`` §2; Bandwidth api-docs ``numbers/errors.mdx``).

Codes marked *sandbox* are not documented publicly; the sandbox uses them for a clear 4xx where
the real service's exact code is unknown.
"""
from __future__ import annotations

from typing import Any

from ..exceptions import DashboardError, DashboardErrorList, SearchError

__all__ = ["DashboardError", "DashboardErrorList", "SearchError"]

APP = "ApplicationProvisioningResponse"
SITE = "SiteResponse"
PEER = "SipPeerResponse"
SMS = "SipPeerSmsFeatureResponse"
MMS = "MmsFeatureResponse"
APPSET = "ApplicationsSettingsResponse"
ORDER = "OrderResponse"
DISCONNECT = "DisconnectTelephoneNumberOrderResponse"


def safe(value: Any, limit: int = 80) -> str:
    """A client-supplied value made safe to echo in an XML error text (no control characters, bounded)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return text if len(text) <= limit else text[:limit] + "..."


# -- generic ---------------------------------------------------------------------------------------

def required(field: str, root: str) -> DashboardError:
    return DashboardError(1003, f"{field} is required", root=root)


def invalid_value(field: str, value: Any, root: str, hint: str = "") -> DashboardError:
    return DashboardError(1003, f"{field} has an invalid value '{safe(value)}'" + (f": {hint}" if hint else ""), root=root)


def resource_missing(what: str, root: str, status: int = 404) -> DashboardError:
    return DashboardError(1016, f"Resource {what} does not exist in IRIS", status=status, root=root)


# -- applications ----------------------------------------------------------------------------------

def service_type_invalid(value: str) -> DashboardError:
    return DashboardError(12801, f"Service Type is not valid: '{safe(value)}' (use Messaging-V2)", root=APP)


def callback_url_required() -> DashboardError:
    return DashboardError(12802, "The inbound callback URL must be specified "
                                 "(CallbackUrl, MsgCallbackUrl or InboundCallbackUrl)", root=APP)


def url_invalid(field: str, value: str, why: str) -> DashboardError:
    return DashboardError(12803, f"{field} '{safe(value)}' is not a valid URL: {why}", root=APP)


def app_name_required() -> DashboardError:
    return DashboardError(12806, "Application Name required", root=APP)


def https_required(field: str) -> DashboardError:
    return DashboardError(12812, f"HTTPS protocol is required if credentials are present ({field})", root=APP)


def msg_and_inbound_mixed() -> DashboardError:
    return DashboardError(13065, "MsgCallbackUrl cannot be used together with InboundCallbackUrl or "
                                 "OutboundCallbackUrl", root=APP)


def callback_and_inbound_mixed() -> DashboardError:
    return DashboardError(13066, "CallbackUrl cannot be used together with InboundCallbackUrl or "
                                 "OutboundCallbackUrl", root=APP)


def service_type_immutable() -> DashboardError:
    return DashboardError(12964, "ServiceType of an application cannot be changed", root=APP)


def app_referenced(peers: list[str]) -> DashboardError:
    return DashboardError(12107, "The Application cannot be removed until references in the following "
                                 f"Locations are removed: {', '.join(peers)}", root=APP)


def app_not_found(app_id: str) -> DashboardError:
    return DashboardError(23019, f"Application with ID {safe(app_id)} was not found", status=404, root=APP)


# -- sites and sip peers ---------------------------------------------------------------------------

def site_not_found(site_id: str, root: str = SITE) -> DashboardError:
    return resource_missing(f"site '{safe(site_id)}'", root=root, status=404)


def sippeer_not_found(peer_id: str, account_id: str, site_id: str, root: str = PEER) -> DashboardError:
    # the real service answers 400 here, not 404
    return DashboardError(13563, f"Sip Peer '{safe(peer_id)}' account '{safe(account_id)}' and site '{safe(site_id)}' does not exist",
                          status=400, root=root)


def sippeer_has_sms() -> DashboardError:
    return DashboardError(13613, "Delete not allowed while a SIP Peer has SMS feature", root=PEER)


def sippeer_has_mms() -> DashboardError:
    return DashboardError(13622, "Delete not allowed while a SIP Peer has MMS feature", root=PEER)


def sippeer_has_numbers(count: int) -> DashboardError:  # sandbox code
    return DashboardError(13616, f"Delete not allowed while the SIP Peer has {count} telephone number(s); "
                                 "disconnect or move them first", root=PEER)


# -- messaging features ----------------------------------------------------------------------------

def protocol_invalid(value: str | None, root: str, feature: str = "SMS") -> DashboardError:
    return DashboardError(13567, f"{feature} protocol '{safe(value)}' is not valid; Messaging 2.0 needs HTTP "
                                 "(<Protocol>HTTP</Protocol>)", root=root)


def protocol_wrong_case(found: str) -> DashboardError:
    return DashboardError(13567, f"SipPeerSmsFeatureSettings has <{found}> but the element name is case-sensitive: "
                                 "use <Protocol>HTTP</Protocol> (upper-case P)", root=SMS)


def zone1_required() -> DashboardError:
    return DashboardError(1003, "Zone1 is required and must be true", root=SMS)


def sms_exists() -> DashboardError:
    return DashboardError(13606, "The SMS feature is already enabled on this SIP peer (one protocol only); "
                                 "use PUT to change it", status=400, root=SMS)


def sms_not_found(peer_id: str) -> DashboardError:
    return DashboardError(1016, f"SMS feature is not enabled on SIP peer '{safe(peer_id)}'", status=404, root=SMS)


def sms_has_mms() -> DashboardError:
    return DashboardError(13624, "SMS feature can't be removed because MMS feature is present", root=SMS)


def sms_has_numbers(count: int) -> DashboardError:
    return DashboardError(13673, "Can not disable SMS feature because the SIP peer has "
                                 f"{count} telephone number(s) with messaging enabled", root=SMS)


def mms_before_sms() -> DashboardError:
    return DashboardError(12784, "MMS can only be enabled once SMS has been enabled (HTTP protocol) on the "
                                 "location", root=MMS)


def mms_exists() -> DashboardError:
    return DashboardError(13606, "The MMS feature is already enabled on this SIP peer; use PUT to change it",
                          root=MMS)


def mms_not_found(peer_id: str) -> DashboardError:
    return DashboardError(1016, f"MMS feature is not enabled on SIP peer '{safe(peer_id)}'", status=404, root=MMS)


# -- application settings --------------------------------------------------------------------------

def appsettings_bad_value(value: Any) -> DashboardError:
    return DashboardError(13628, f"Invalid ApplicationsSettings value '{safe(value)}': send "
                                 "<HttpMessagingV2AppId>{{id}}</HttpMessagingV2AppId> or REMOVE", root=APPSET)


def appsettings_app_not_found(app_id: str) -> DashboardError:
    return DashboardError(13629, f"Application with id '{safe(app_id)}' not found", root=APPSET)


def appsettings_needs_http() -> DashboardError:
    return DashboardError(13645, "Please assign SMS or MM4 protocol to HTTP before associating the application "
                                 "to the location", root=APPSET)


def appsettings_wrong_method() -> DashboardError:
    err = DashboardError(405, "Method POST is not allowed on applicationSettings: use PUT "
                              "(an old SDK sent POST here)", status=405, root=APPSET)
    err.headers = {"Allow": "GET, PUT"}
    return err


# -- orders ----------------------------------------------------------------------------------------

ORDER_TEXT = {
    5005: "The telephone number is unavailable for ordering",
    5009: "The quantity requested is invalid; it must be a number from 1 to 5000",
    5016: "The SiteId submitted is invalid.",
    5017: "Only part of the requested quantity is available",
    5018: "The entire quantity of telephone numbers requested is unavailable",
    5020: "No default SIP peer is set on the account and site; send a PeerId",
    5022: "SiteId is a required field",
    5023: "The SIP peer submitted is invalid.",
    5052: "CustomerOrderId is invalid: use up to 40 letters, digits, dashes or spaces",
    5060: "Only backordered orders can be closed",
    5520: "The order is backordered: the requested numbers will be provided when inventory becomes available",
    5521: "The backorder was closed before it could be filled",
    5522: "Backorders are not compatible with Existing TN, NPANXX, TollFree Vanity or TollFree wildcard orders",
}


def order_error(code: int, echo: dict[str, Any] | None = None, description: str | None = None,
                status: int = 400) -> DashboardErrorList:
    return DashboardErrorList([(code, safe(description, 400) if description else ORDER_TEXT[code])],
                              status=status, root=ORDER,
                              echo={"Order": echo} if echo is not None else None)


def order_not_found(order_id: str) -> DashboardError:
    return DashboardError(404, f"The order '{safe(order_id)}' does not exist", status=404, root=ORDER)


def search_error(code: int, description: str) -> SearchError:
    return SearchError(code, safe(description, 400))


def disconnect_error(errors: list[tuple[int, str]], status: int = 400) -> DashboardErrorList:
    return DashboardErrorList(errors, status=status, root=DISCONNECT)


def disconnect_not_found(order_id: str) -> DashboardError:
    return DashboardError(404, f"The disconnect order '{safe(order_id)}' does not exist", status=404, root=DISCONNECT)
