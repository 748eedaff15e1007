"""
Dashboard errors, one class per documented error (moto's ``exceptions.py`` style): each class fixes
the documented ``code``, the HTTP ``status``, the response ``root`` element and its text, and takes
only the values the text names. Codes and texts: Bandwidth's ``numbers/errors.mdx``
(``../shared/reference/specs/numbers-errors.mdx``) and the response examples of ``numbers.yml``.

Classes marked *sandbox code* use a code the public docs do not list for that case; the sandbox
chose it for a clear 4xx where the real service's exact answer is unknown.
"""
from __future__ import annotations

from typing import Any

from ..exceptions import DashboardError, DashboardErrorList, SearchError, safe

APP = "ApplicationProvisioningResponse"
SITE = "SiteResponse"
PEER = "SipPeerResponse"
SMS = "SipPeerSmsFeatureResponse"
MMS = "MmsFeatureResponse"
APPSET = "ApplicationsSettingsResponse"
ASSOCIATED = "AssociatedSipPeersResponse"
ORDER = "OrderResponse"
DISCONNECT = "DisconnectTelephoneNumberOrderResponse"


# -- generic ---------------------------------------------------------------------------------------

class Required(DashboardError):
    """1003: a required element is missing."""

    code = 1003

    def __init__(self, field: str, root: str):
        super().__init__(description=f"{field} is required", root=root)


class InvalidValue(DashboardError):
    code = 1003

    def __init__(self, field: str, value: Any, root: str, hint: str = ""):
        super().__init__(description=f"{field} has an invalid value '{safe(value)}'" + (f": {hint}" if hint else ""),
                         root=root)


class UnknownElement(DashboardError):
    code = 1003

    def __init__(self, found: str, expected: str, root: str):
        super().__init__(description=f"Unknown element <{found}>: the element is {expected}", root=root)


class ResourceMissing(DashboardError):
    """1016 ``Resource %s does not exist in IRIS.``"""

    code, status = 1016, 404

    def __init__(self, what: str, root: str, status: int = 404):
        super().__init__(description=f"Resource {what} does not exist in IRIS", root=root, status=status)


class BadPaging(DashboardError):
    code = 1003

    def __init__(self, root: str, maximum: int = 5000):
        super().__init__(description=f"page must be a number from 1 and size a number from 1 to {maximum}",
                         root=root)


class BadPage(DashboardError):
    """numbers.yml: ``page`` is "1" or the order id of the first record of a page."""

    code = 1003

    def __init__(self, page: str, root: str = "ResponseSelectWrapper"):
        super().__init__(description=f"page '{safe(page)}' is neither a page number nor the id of an order on "
                                     "this account: use 1 or the page a Links/next element gave", root=root)


# -- applications ----------------------------------------------------------------------------------

class ServiceTypeInvalid(DashboardError):
    code, root = 12801, APP

    def __init__(self, value: str):
        super().__init__(description=f"Service Type is not valid: '{safe(value)}' (use Messaging-V2)")


class CallbackUrlRequired(DashboardError):
    code, root = 12802, APP
    description = "The inbound callback URL must be specified (InboundCallbackUrl; the legacy CallbackUrl or " \
                  "MsgCallbackUrl also count)"


class UrlInvalid(DashboardError):
    code, root = 12803, APP

    def __init__(self, field: str, value: str, why: str):
        super().__init__(description=f"{field} '{safe(value)}' is not a valid URL: {why}")


class AppNameRequired(DashboardError):
    code, root, description = 12806, APP, "Application Name required"


class HttpsRequired(DashboardError):
    code, root = 12812, APP

    def __init__(self, field: str):
        super().__init__(description=f"HTTPS protocol is required if credentials are present ({field})")


class MsgCallbackUrlMixed(DashboardError):
    """13065 ``MsgCallbackUrl can't be present with InboundCallbackUrl or OutboundCallbackUrl.``

    The sandbox applies it to the guide's ``CallbackUrl`` too (the docs list it as the same deprecated URL).
    """

    code, root = 13065, APP

    def __init__(self, field: str = "MsgCallbackUrl"):
        super().__init__(description=f"{field} can't be present with InboundCallbackUrl or OutboundCallbackUrl. "
                                     "Use InboundCallbackUrl (and OutboundCallbackUrl) alone.")


class CallbackCredsMixed(DashboardError):
    """13066 ``CallbackCreds can't be present with InboundCallbackCreds or OutboundCallbackCreds.``"""

    code, root = 13066, APP
    description = ("CallbackCreds can't be present with InboundCallbackCreds or OutboundCallbackCreds. "
                   "Use InboundCallbackCreds (and OutboundCallbackCreds) alone.")


class ServiceTypeImmutable(DashboardError):
    code, root, description = 12964, APP, "ServiceType of an application cannot be changed"


class AppReferenced(DashboardError):
    code, root = 12107, APP

    def __init__(self, peers: list[str]):
        super().__init__(description="The Application cannot be removed until references in the following "
                                     f"Locations are removed: {', '.join(peers)}")


class AppNotFound(DashboardError):
    """23019 ``Application with ID %1$s was not found``."""

    code, status, root = 23019, 404, APP

    def __init__(self, app_id: str):
        super().__init__(description=f"Application with ID {safe(app_id)} was not found")


class AssociatedAppNotFound(DashboardError):
    """numbers.yml ListAssociatedSippeers 404: ``AssociatedSipPeersResponse``, 13629."""

    code, status, root = 13629, 404, ASSOCIATED

    def __init__(self, app_id: str):
        super().__init__(description=f"Application with id '{safe(app_id)}' not found")


# -- sites and sip peers ---------------------------------------------------------------------------

class SiteNotFound(DashboardError):
    """12016 ``Site '%s' does not exist`` (numbers.yml GET /sites/{siteId} 404)."""

    code, status, root = 12016, 404, SITE

    def __init__(self, site_id: str, root: str = SITE):
        super().__init__(description=f"Site '{safe(site_id)}' does not exist", root=root)


class SiteHasSipPeers(DashboardError):
    """*sandbox code* 12014: numbers.yml DeleteSite says "Sites can only be deleted if there are no SIP Peers
    attached to it" without a code for it (12014 is unused in numbers-errors.mdx)."""

    code, status, root = 12014, 400, SITE

    def __init__(self, site_id: str, peers: int):
        super().__init__(description=f"Site '{safe(site_id)}' cannot be deleted while {peers} SIP peer(s) "
                                     "(locations) are attached to it: delete them first", root=SITE)


class SipPeerNotFound(DashboardError):
    """13563; the real service answers 400 here, not 404."""

    code, status, root = 13563, 400, PEER

    def __init__(self, peer_id: str, account_id: str, site_id: str, root: str = PEER):
        super().__init__(description=f"Sip Peer '{safe(peer_id)}' account '{safe(account_id)}' and site "
                                     f"'{safe(site_id)}' does not exist", root=root)


class SipPeerNameTaken(DashboardError):
    """13524; numbers.yml CreateSipPeer answers 409 "Conflict - Sip Peer with such name already exists"."""

    code, status, root = 13524, 409, PEER

    def __init__(self, name: str, account_id: str, site_id: str):
        super().__init__(description=f"SipPeer name '{safe(name)}' already exists for Account '{safe(account_id)}' "
                                     f"and Site '{safe(site_id)}'", root=PEER)


class SipPeerHasSms(DashboardError):
    code, root, description = 13613, PEER, "Delete not allowed while a SIP Peer has SMS feature"


class SipPeerHasMms(DashboardError):
    code, root, description = 13622, PEER, "Delete not allowed while a SIP Peer has MMS feature"


class SipPeerHasNumbers(DashboardError):
    """*sandbox code*"""

    code, root = 13616, PEER

    def __init__(self, count: int):
        super().__init__(description=f"Delete not allowed while the SIP Peer has {count} telephone number(s); "
                                     "disconnect or move them first")


# -- messaging features ----------------------------------------------------------------------------

class ProtocolInvalid(DashboardError):
    code = 13567

    def __init__(self, value: str | None, root: str, feature: str = "SMS"):
        super().__init__(description=f"{feature} protocol '{safe(value)}' is not valid; Messaging 2.0 needs HTTP "
                                     "(<Protocol>HTTP</Protocol>)", root=root)


class ProtocolWrongCase(DashboardError):
    code, root = 13567, SMS

    def __init__(self, found: str):
        super().__init__(description=f"SipPeerSmsFeatureSettings has <{found}> but the element name is "
                                     "case-sensitive: use <Protocol>HTTP</Protocol> (upper-case P)")


class Zone1Required(DashboardError):
    code, root, description = 1003, SMS, "Zone1 is required and must be true"


class SmsExists(DashboardError):
    code, root = 13606, SMS
    description = "The SMS feature is already enabled on this SIP peer (one protocol only); use PUT to change it"


class SmsNotFound(DashboardError):
    code, status, root = 1016, 404, SMS

    def __init__(self, peer_id: str):
        super().__init__(description=f"SMS feature is not enabled on SIP peer '{safe(peer_id)}'")


class SmsHasMms(DashboardError):
    code, root, description = 13624, SMS, "SMS feature can't be removed because MMS feature is present"


class SmsHasNumbers(DashboardError):
    code, root = 13673, SMS

    def __init__(self, count: int):
        super().__init__(description="Can not disable SMS feature because the SIP peer has "
                                     f"{count} telephone number(s) with messaging enabled")


class MmsBeforeSms(DashboardError):
    code, root = 12784, MMS
    description = "MMS can only be enabled once SMS has been enabled (HTTP protocol) on the location"


class MmsExists(DashboardError):
    code, root = 13606, MMS
    description = "The MMS feature is already enabled on this SIP peer; use PUT to change it"


class MmsNotFound(DashboardError):
    code, status, root = 1016, 404, MMS

    def __init__(self, peer_id: str, root: str = MMS):
        super().__init__(description=f"MMS feature is not enabled on SIP peer '{safe(peer_id)}'", root=root)


# -- application settings --------------------------------------------------------------------------

class AppSettingsBadValue(DashboardError):
    code, root = 13628, APPSET

    def __init__(self, value: Any):
        super().__init__(description=f"Invalid ApplicationsSettings value '{safe(value)}': send "
                                     "<HttpMessagingV2AppId>{{id}}</HttpMessagingV2AppId> or REMOVE")


class AppSettingsAppNotFound(DashboardError):
    code, root = 13629, APPSET

    def __init__(self, app_id: str):
        super().__init__(description=f"Application with id '{safe(app_id)}' not found")


class AppSettingsNeedsHttp(DashboardError):
    code, root = 13645, APPSET
    description = "Please assign SMS or MM4 protocol to HTTP before associating the application to the location"


class AppSettingsWrongMethod(DashboardError):
    code, status, root = 405, 405, APPSET
    description = "Method POST is not allowed on applicationSettings: use PUT (an old SDK sent POST here)"

    def __init__(self) -> None:
        super().__init__()
        self.headers = {"Allow": "GET, PUT"}


class AppSettingsWrongPath(DashboardError):
    code, status, root = 404, 404, APPSET
    description = "No resource here: assign an application to a location with PUT " \
                  ".../products/messaging/applicationSettings"


# -- orders ----------------------------------------------------------------------------------------

class OrderError(DashboardErrorList):
    """An ``OrderResponse`` error list with one documented code; subclasses fix ``code`` and ``text``."""

    code_value = 0
    text = ""
    root = ORDER

    def __init__(self, echo: dict[str, Any] | None = None, description: str | None = None,
                 status: int | None = None):
        super().__init__([(self.code_value, safe(description, 400) if description else self.text)],
                         status=status, echo={"Order": echo} if echo is not None else None)


def _order(code: int, text: str, name: str) -> type[OrderError]:
    return type(name, (OrderError,), {"code_value": code, "text": text, "__doc__": f"{code}: {text}",
                                      "__module__": __name__})


OrderInvalid = _order(1003, "The order is invalid", "OrderInvalid")
NumberUnavailable = _order(5005, "The telephone number is unavailable for ordering", "NumberUnavailable")
QuantityInvalid = _order(5009, "The quantity requested is invalid; it must be a number from 1 to 5000",
                         "QuantityInvalid")
SiteIdInvalid = _order(5016, "The SiteId submitted is invalid.", "SiteIdInvalid")
PartialUnavailable = _order(5017, "Only part of the requested quantity is available", "PartialUnavailable")
AllUnavailable = _order(5018, "The entire quantity of telephone numbers requested is unavailable", "AllUnavailable")
NoDefaultPeer = _order(5020, "No default SIP peer is set on the account and site; send a PeerId", "NoDefaultPeer")
SiteIdRequired = _order(5022, "SiteId is a required field", "SiteIdRequired")
PeerInvalid = _order(5023, "The SIP peer submitted is invalid.", "PeerInvalid")
CustomerOrderIdInvalid = _order(5052, "CustomerOrderId is invalid: use up to 40 letters, digits, dashes or spaces",
                                "CustomerOrderIdInvalid")
OnlyBackordersClose = _order(5060, "Only backordered orders can be closed", "OnlyBackordersClose")
Backordered = _order(5520, "The order is backordered: the requested numbers will be provided when inventory "
                           "becomes available", "Backordered")
BackorderClosed = _order(5521, "The backorder was closed before it could be filled", "BackorderClosed")
BackorderNotAllowed = _order(5522, "Backorders are not compatible with Existing TN, NPANXX, TollFree Vanity or "
                                   "TollFree wildcard orders", "BackorderNotAllowed")

#: code -> class, for codes decided at run time (a search criterion's error)
ORDER_ERRORS: dict[int, type[OrderError]] = {cls.code_value: cls for cls in (
    OrderInvalid, NumberUnavailable, QuantityInvalid, SiteIdInvalid, PartialUnavailable, AllUnavailable,
    NoDefaultPeer, SiteIdRequired, PeerInvalid, CustomerOrderIdInvalid, OnlyBackordersClose, Backordered,
    BackorderClosed, BackorderNotAllowed)}
ORDER_TEXT = {code: cls.text for code, cls in ORDER_ERRORS.items()}


def order_error(code: int, echo: dict[str, Any] | None = None, description: str | None = None,
                status: int | None = None) -> OrderError:
    """The class of ``code`` (a generic :class:`OrderError` for a code the table does not list)."""
    cls = ORDER_ERRORS.get(int(code)) or _order(int(code), description or "", f"OrderError{int(code)}")
    return cls(echo, description, status)


class OrderNotFound(DashboardError):
    code, status, root = 404, 404, ORDER

    def __init__(self, order_id: str):
        super().__init__(description=f"The order '{safe(order_id)}' does not exist")


class SearchFailed(SearchError):
    """``SearchResult/Error`` with the criterion's code (4000, 4010, ...)."""

    def __init__(self, code: int, description: str):
        super().__init__(code, safe(description, 400))


# -- disconnects -----------------------------------------------------------------------------------

class DisconnectError(DashboardErrorList):
    """``DisconnectTelephoneNumberOrderResponse/ErrorList`` (the synchronous 400)."""

    root = DISCONNECT

    def __init__(self, errors: list[tuple[int | str, str]], status: int | None = None):
        super().__init__(errors, status=status)


class DisconnectNotFound(DashboardError):
    code, status, root = 404, 404, DISCONNECT

    def __init__(self, order_id: str):
        super().__init__(description=f"The disconnect order '{safe(order_id)}' does not exist")


#: 5006 ``TelephoneNumber Disconnect Error``: reported in the FAILED order, not synchronously
DISCONNECT_ERROR = (5006, "TelephoneNumber Disconnect Error")

__all__ = [name for name, value in globals().items()
           if isinstance(value, type) and issubclass(value, (DashboardError, DashboardErrorList, SearchError))]
