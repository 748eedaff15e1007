"""
Tornado handlers of the Dashboard (Iris) XML API: parse the request, call ``models``, render.

Every method authenticates first (401/403 come from ``core``), then checks that the objects in the
path belong to the account (another account's ids look like missing ones: 404/400, never 403).
Only the allowed methods are defined, so any other method gets 405 from ``core``.
"""
from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from .. import numbers, quotas, xmlio
from ..base import BaseHandler
from ..callback_policy import CallbackRefused
from ..exceptions import DashboardError, DashboardErrorList
from ..query_numbers import page_number, whole_number
from ..credentials import ROLE_NUMBERS
from . import exceptions as exc
from . import models

log = logging.getLogger("bwhelpers.sandbox.dashboard")

PREFIX = "/api/accounts/{a}"
_CUSTOMER_ORDER_ID = re.compile(r"[A-Za-z0-9 \-]{1,40}")


# -- small parsing helpers --------------------------------------------------------------------------

def _t(node: Any) -> str | None:
    """Text of an element, '' for an empty one, None when absent."""
    if node is None:
        return None
    value = xmlio.text(node)
    return "" if value is None else value


def _dict(node: Any) -> dict[str, Any]:
    if isinstance(node, list):
        node = node[0] if node else None
    return node if isinstance(node, dict) else {}


def _ci(node: dict[str, Any], name: str) -> tuple[str | None, Any]:
    """(actual key, value) of a child matched case-insensitively."""
    for k, v in node.items():
        if k.lower() == name.lower():
            return k, v
    return None, None


def _bool(value: Any, field: str, root: str, default: bool | None = None) -> bool | None:
    try:
        b = xmlio.as_bool(value)
    except ValueError:
        raise exc.InvalidValue(field, _t(value), root, "use true or false") from None
    return default if b is None else b


def _list(node: Any, name: str) -> list[str]:
    items = _dict(node).get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        items = [items]
    return [t for t in (_t(i) for i in items) if t]


def _is_local(host: str | None) -> bool:
    if not host:
        return False
    return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost") or host.startswith("127.")


class DashboardHandler(BaseHandler):
    api = "dashboard"
    error_root = "ErrorResponse"
    #: the table of an unpaged list whose objects this handler writes (quotas.UNPAGED_LISTS), or None
    unpaged_list: str | None = None

    def begin(self, account_id: str) -> str:
        """Authenticate (Basic API user or Bearer token with the Numbers role) for ``account_id``; a POST (a new
        object) must fit the account's ``objects`` quota, and an object of an unpaged list (applications, sites,
        SIP peers) the ``list_objects`` and ``object_bytes`` quotas."""
        account = self.auth_account(account_id, role=ROLE_NUMBERS)
        writing = self.request.method in ("POST", "PUT", "PATCH")
        if writing and self.unpaged_list:
            quotas.check_object_bytes(self.db, self.unpaged_list, len(self.request.body or b""))
        if self.request.method == "POST":
            quotas.check_objects(self.db, account)
            if self.unpaged_list:
                quotas.check_list(self.db, account, self.unpaged_list)
        if writing:
            quotas.check_stored(self.db, account, len(self.request.body or b""))
        return account

    @property
    def username(self) -> str:
        """Who placed an order: the API user's name or the API credential's client id."""
        return self.principal.subject if self.principal is not None else ""

    def body(self, root: str) -> Any:
        return self.xml_body(root)[1]

    def url_for_account(self, account_id: str, path: str) -> str:
        return self.absolute(PREFIX.format(a=account_id) + path)

    def warn(self, text: str) -> None:
        text = exc.safe(text, 300)
        log.warning(text)
        self.add_header("X-Sandbox-Warning", text.encode("latin-1", "replace").decode("latin-1"))

    def required_name(self, node: dict[str, Any], key: str, root: str, label: str) -> str:
        """``node[key]``, a site's or a location's name: required (1003 naming ``key``); one longer than the
        documented 10 characters is accepted with a warning."""
        name = _t(node.get(key))
        if not name:
            raise exc.Required(key, root)
        if len(name) > 10:
            self.warn(f"{label} '{name}' is longer than 10 characters (the documented maximum); accepted")
        return name

    async def check_callback_urls(self, doc: dict[str, Any]) -> None:
        """Every callback URL of an application against the callback URL policy (and the addresses its host
        resolves to now): a refused one is 12803 naming the field, why and the fix."""
        policy = self.ctx.callback_policy
        if policy is None:
            return
        for key in models.APP_URL_FIELDS:
            url = doc.get(key)
            if not url:
                continue
            try:
                await policy.check_save(url)
            except CallbackRefused as e:
                raise exc.UrlInvalid(key, url, f"{e.reason}. Fix: {e.fix}") from None

    def site(self, account_id: str, site_id: str) -> Any:
        return models.require_site(self.db, account_id, site_id, root=self.error_root)

    def peer(self, account_id: str, site_id: str, peer_id: str) -> Any:
        return models.require_peer(self.db, account_id, site_id, peer_id, root=self.error_root)


# == applications ==================================================================================

MESSAGING_SERVICE_TYPES = ("Messaging-V2", "Messaging")
#: RequestedCallbackTypes/CallbackType: the docs' examples spell them message-delivered, the schema's enum
#: MESSAGE_DELIVERED; both are accepted and stored as the examples spell them
CALLBACK_TYPES = {t: t for t in ("message-delivered", "message-failed", "message-sending")}


def parse_application(content: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Request ``<Application>`` -> stored doc (validated). ``base`` = the old doc for PATCH."""
    node = _dict(content)
    root = exc.APP
    bad_key, _ = next(((k, v) for k, v in node.items() if k == "CallBackCreds"), (None, None))
    if bad_key:
        raise exc.UnknownElement("CallBackCreds", "CallbackCreds (lower-case b)", root)
    doc: dict[str, Any] = dict(base or {})
    for key in ("ServiceType", "AppName", *models.APP_URL_FIELDS):
        if key in node:
            doc[key] = _t(node[key]) or None
    for key in models.APP_CRED_FIELDS:
        if key in node:
            c = _dict(node[key])
            doc[key] = {"UserId": _t(c.get("UserId")) or None, "Password": _t(c.get("Password")) or None}
    if "RequestedCallbackTypes" in node:
        doc["RequestedCallbackTypes"] = _list(node["RequestedCallbackTypes"], "CallbackType")
    doc = {k: v for k, v in doc.items() if v is not None or k in models.APP_CRED_FIELDS}

    service = doc.get("ServiceType") or "Messaging-V2"
    if service not in MESSAGING_SERVICE_TYPES:
        raise exc.ServiceTypeInvalid(service)
    doc["ServiceType"] = "Messaging-V2"  # numbers.yml: a request's "Messaging" is answered as Messaging-V2
    if not doc.get("AppName"):
        raise exc.AppNameRequired()
    if doc.get("RequestedCallbackTypes"):
        types = []
        for value in doc["RequestedCallbackTypes"]:
            kind = CALLBACK_TYPES.get(value.strip().lower().replace("_", "-"))
            if kind is None:
                raise exc.InvalidValue("RequestedCallbackTypes/CallbackType", value, root,
                                       "use message-delivered, message-failed or message-sending")
            if kind not in types:
                types.append(kind)
        doc["RequestedCallbackTypes"] = types
    # numbers-errors.mdx 13065/13066: the deprecated fields never mix with today's Inbound/Outbound ones
    if doc.get("InboundCallbackUrl") or doc.get("OutboundCallbackUrl"):
        for legacy in ("MsgCallbackUrl", "CallbackUrl"):
            if doc.get(legacy):
                raise exc.MsgCallbackUrlMixed(legacy)
    legacy_creds = doc.get("CallbackCreds") or {}
    if (legacy_creds.get("UserId") or legacy_creds.get("Password")) and (
            doc.get("InboundCallbackCreds") is not None or doc.get("OutboundCallbackCreds") is not None):
        raise exc.CallbackCredsMixed()
    if not (doc.get("CallbackUrl") or doc.get("MsgCallbackUrl") or doc.get("InboundCallbackUrl")):
        raise exc.CallbackUrlRequired()
    schemes: dict[str, str] = {}
    hosts: dict[str, str | None] = {}
    for key in models.APP_URL_FIELDS:
        url = doc.get(key)
        if not url:
            continue
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as e:
            raise exc.UrlInvalid(key, url, str(e)) from None
        if parts.scheme not in ("http", "https"):
            raise exc.UrlInvalid(key, url, "use an http:// or https:// URL")
        if not parts.hostname or " " in url:
            raise exc.UrlInvalid(key, url, "the URL has no valid host")
        if port is not None and port not in (80, 443) and port < 1024:
            raise exc.UrlInvalid(key, url, "callback ports must be 80, 443 or 1024 and above")
        schemes[key], hosts[key] = parts.scheme, parts.hostname
    cred_urls = {"CallbackCreds": ("CallbackUrl", "MsgCallbackUrl"),
                 "InboundCallbackCreds": ("InboundCallbackUrl",),
                 "OutboundCallbackCreds": ("OutboundCallbackUrl",)}
    for ckey, url_keys in cred_urls.items():
        creds = doc.get(ckey) or {}
        if not (creds.get("UserId") or creds.get("Password")):
            continue
        for ukey in url_keys:
            if ukey in schemes and schemes[ukey] != "https" and not _is_local(hosts[ukey]):
                raise exc.HttpsRequired(ckey)
    return doc


class ApplicationsHandler(DashboardHandler):
    unpaged_list = "dash_applications"
    error_root = exc.APP

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        self.set_header("Content-Type", xmlio.CONTENT_TYPE)  # rendered once per stored application (bench 8)
        self.finish(xmlio.render_list(exc.APP, "ApplicationList", "Application",
                                      models.application_items(self.db, account_id)))

    async def post(self, account_id: str) -> None:
        self.begin(account_id)
        doc = parse_application(self.body("Application"))
        await self.check_callback_urls(doc)
        wire = models.create_application(self.db, account_id, doc)
        self.send_xml(exc.APP, {"Application": wire}, status=201,
                      headers={"Location": self.url_for_account(account_id, f"/applications/{wire['ApplicationId']}")})


class ApplicationHandler(DashboardHandler):
    unpaged_list = "dash_applications"
    error_root = exc.APP

    def get(self, account_id: str, app_id: str) -> None:
        self.begin(account_id)
        self.send_xml(exc.APP, {"Application": models.get_application_wire(self.db, account_id, app_id)})

    async def put(self, account_id: str, app_id: str) -> None:
        self.begin(account_id)
        old = models.application_doc(self.db, account_id, app_id)
        doc = parse_application(self.body("Application"), base={"ServiceType": old.get("ServiceType")})
        await self.check_callback_urls(doc)
        self.send_xml(exc.APP, {"Application": models.update_application(self.db, account_id, app_id, doc)})

    async def patch(self, account_id: str, app_id: str) -> None:
        self.begin(account_id)
        old = models.application_doc(self.db, account_id, app_id)
        doc = parse_application(self.body("Application"), base=old)
        await self.check_callback_urls(doc)
        self.send_xml(exc.APP, {"Application": models.update_application(self.db, account_id, app_id, doc)})

    def delete(self, account_id: str, app_id: str) -> None:
        self.begin(account_id)
        models.delete_application(self.db, account_id, app_id)
        self.send_empty(200)


class AssociatedSipPeersHandler(DashboardHandler):
    error_root = "AssociatedSipPeersResponse"

    def get(self, account_id: str, app_id: str) -> None:
        self.begin(account_id)
        peers = models.associated_sippeers(self.db, account_id, app_id)
        self.send_xml("AssociatedSipPeersResponse",
                      {"AssociatedSipPeers": {"AssociatedSipPeer": peers} if peers else None})


# == sites =========================================================================================

class AccountHandler(DashboardHandler):
    """GET /accounts/{a}: the account itself (SDKs and CLIs use it to check credentials)."""

    error_root = "AccountResponse"

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        self.send_xml("AccountResponse", {"Account": {
            "AccountId": account_id,
            "CompanyName": "Bandwidth sandbox",
            "AccountType": "Business",
            "Tiers": {"Tier": "0"},
            "ReservationAllowed": True,
            "LnpEnabled": False,
            "Contact": {"FirstName": "Sandbox", "LastName": "User", "Phone": "9195550100",
                        "Email": "sandbox@example.com"},
        }})


class SitesHandler(DashboardHandler):
    unpaged_list = "sites"
    error_root = exc.SITE

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        self.set_header("Content-Type", xmlio.CONTENT_TYPE)  # each site rendered once per content (bench 8)
        self.finish(xmlio.render_list("SitesResponse", "Sites", "Site",
                                      xmlio.by_content(models.list_sites(self.db, account_id))))

    def post(self, account_id: str) -> None:
        self.begin(account_id)
        node = _dict(self.body("Site"))
        name = self.required_name(node, "Name", exc.SITE, "Site Name")
        address = _dict(node.get("Address")) or None
        site = models.create_site(self.db, account_id, name, _t(node.get("Description")) or None,
                                  _t(node.get("CustomerName")) or None, address)
        self.send_xml(exc.SITE, {"Site": site}, status=201,
                      headers={"Location": self.url_for_account(account_id, f"/sites/{site['Id']}")})


class SiteHandler(DashboardHandler):
    unpaged_list = "sites"
    error_root = exc.SITE

    def get(self, account_id: str, site_id: str) -> None:
        self.begin(account_id)
        row = self.site(account_id, site_id)
        self.send_xml(exc.SITE, {"Site": models.site_wire(self.db, row)})

    def put(self, account_id: str, site_id: str) -> None:
        """numbers.yml UpdateSite: 200 with the updated SiteResponse."""
        self.begin(account_id)
        self.site(account_id, site_id)
        node = _dict(self.body("Site"))
        name = self.required_name(node, "Name", exc.SITE, "Site Name")
        site = models.update_site(self.db, account_id, site_id, name, _t(node.get("Description")) or None,
                                  _t(node.get("CustomerName")) or None, _dict(node.get("Address")) or None)
        self.send_xml(exc.SITE, {"Site": site})

    def delete(self, account_id: str, site_id: str) -> None:
        """numbers.yml DeleteSite: 200, only while no SIP peer is attached."""
        self.begin(account_id)
        self.site(account_id, site_id)
        models.delete_site(self.db, account_id, site_id)
        self.send_empty(200)


# == SIP peers =====================================================================================

class SipPeersHandler(DashboardHandler):
    unpaged_list = "dash_sippeers"
    error_root = exc.PEER

    def get(self, account_id: str, site_id: str) -> None:
        self.begin(account_id)
        self.site(account_id, site_id)
        self.set_header("Content-Type", xmlio.CONTENT_TYPE)  # each peer rendered once per content (bench 8)
        self.finish(xmlio.render_list("TNSipPeersResponse", "SipPeers", "SipPeer",
                                      xmlio.by_content(models.list_peers(self.db, account_id, site_id))))

    def post(self, account_id: str, site_id: str) -> None:
        self.begin(account_id)
        self.site(account_id, site_id)
        node = _dict(self.body("SipPeer"))
        name = self.required_name(node, "PeerName", exc.PEER, "PeerName")
        is_default = _bool(node.get("IsDefaultPeer"), "IsDefaultPeer", exc.PEER, default=False)
        extra = {k: v for k, v in node.items() if k not in ("PeerName", "PeerId", "Description", "IsDefaultPeer")}
        peer_id = models.create_peer(self.db, account_id, site_id, name, _t(node.get("Description")) or None,
                                     bool(is_default), extra)
        self.send_empty(201, headers={"Location": self.url_for_account(
            account_id, f"/sites/{site_id}/sippeers/{peer_id}")})


class SipPeerHandler(DashboardHandler):
    unpaged_list = "dash_sippeers"
    error_root = exc.PEER

    def get(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        row = self.peer(account_id, site_id, peer_id)
        self.send_xml(exc.PEER, {"SipPeer": models.peer_wire(self.db, row)})

    def put(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        node = _dict(self.body("SipPeer"))
        name = _t(node.get("PeerName"))
        if name == "":
            raise exc.Required("PeerName", exc.PEER)
        if name and len(name) > 10:
            self.warn(f"PeerName '{name}' is longer than 10 characters (numbers.yml maxLength); accepted")
        is_default = _bool(node.get("IsDefaultPeer"), "IsDefaultPeer", exc.PEER)
        extra = {k: v for k, v in node.items() if k not in ("PeerName", "PeerId", "Description", "IsDefaultPeer")}
        models.update_peer(self.db, account_id, site_id, peer_id, name, _t(node.get("Description")), is_default,
                           extra)
        self.send_empty(200)

    def delete(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        models.delete_peer(self.db, account_id, site_id, peer_id)
        self.send_empty(200)


class SipPeerTnsHandler(DashboardHandler):
    error_root = "SipPeerTelephoneNumbersResponse"

    def get(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        tns = models.peer_tns(self.db, account_id, peer_id)
        self.send_xml("SipPeerTelephoneNumbersResponse", {"SipPeerTelephoneNumbers": {
            "SipPeerTelephoneNumber": [{"FullNumber": tn} for tn in tns]} if tns else None})


# == messaging features ============================================================================

def parse_sms(content: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    node = _dict(content)
    root = exc.SMS
    if "SipPeerSmsFeatureSettings" not in node:
        raise exc.Required("SipPeerSmsFeatureSettings", root)
    s = _dict(node.get("SipPeerSmsFeatureSettings"))
    if "Protocol" not in s:
        key, _ = _ci(s, "Protocol")
        if key:
            raise exc.ProtocolWrongCase(key)
        raise exc.Required("Protocol", root)
    protocol = _t(s.get("Protocol"))
    if protocol != "HTTP":
        raise exc.ProtocolInvalid(protocol, root)
    zone1 = _bool(s.get("Zone1"), "Zone1", root)
    if zone1 is not True:
        raise exc.Zone1Required()
    settings: dict[str, Any] = {}
    for key in ("TollFree", "ShortCode"):
        settings[key] = bool(_bool(s.get(key), key, root, default=False))
    for key in ("A2pLongCode", "A2pMessageClass", "A2pCampaignId"):
        if key in s:
            settings[key] = _t(s[key])
    settings["Protocol"] = protocol
    for i in range(1, 6):
        settings[f"Zone{i}"] = bool(_bool(s.get(f"Zone{i}"), f"Zone{i}", root, default=False))
    http = _dict(node.get("HttpSettings"))
    _, proxy = _ci(http, "ProxyPeerId")
    return settings, {"ProxyPeerId": _t(proxy) or models.DEFAULT_PROXY_PEER_ID}


class SmsFeatureHandler(DashboardHandler):
    error_root = exc.SMS

    def get(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        wire = models.get_sms(self.db, account_id, peer_id)
        if wire is None:
            raise exc.SmsNotFound(peer_id)
        self.send_xml(exc.SMS, {"SipPeerSmsFeature": wire})

    def post(self, account_id: str, site_id: str, peer_id: str) -> None:
        self._save(account_id, site_id, peer_id, create=True)

    def put(self, account_id: str, site_id: str, peer_id: str) -> None:
        self._save(account_id, site_id, peer_id, create=False)

    def _save(self, account_id: str, site_id: str, peer_id: str, create: bool) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        settings, http = parse_sms(self.body("SipPeerSmsFeature"))
        wire = models.put_sms(self.db, account_id, site_id, peer_id, settings, http, create=create)
        self.send_xml(exc.SMS, {"SipPeerSmsFeature": wire}, status=201 if create else 200)

    def delete(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        models.delete_sms(self.db, account_id, peer_id)
        self.send_empty(200)


def parse_mms(content: Any) -> tuple[str, str]:
    node = _dict(content)
    _, settings = _ci(node, "MmsSettings")
    _, protocol_node = _ci(_dict(settings), "Protocol")
    protocol = _t(protocol_node)
    if not protocol:
        raise exc.Required("MmsSettings/Protocol", exc.MMS)
    if protocol.upper() != "HTTP":
        raise exc.ProtocolInvalid(protocol, exc.MMS, feature="MMS")
    _, protocols = _ci(node, "Protocols")
    _, http = _ci(_dict(protocols), "HTTP")
    _, http_settings = _ci(_dict(http), "HttpSettings")
    _, proxy = _ci(_dict(http_settings), "ProxyPeerId")
    return "HTTP", _t(proxy) or models.DEFAULT_PROXY_PEER_ID


class MmsFeatureHandler(DashboardHandler):
    error_root = exc.MMS

    def get(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        row = models.get_mms(self.db, account_id, peer_id)
        if row is None:
            raise exc.MmsNotFound(peer_id)
        self.send_xml(exc.MMS, {"MmsFeature": models.mms_wire(row["protocol"], row["proxy_peer_id"])})

    def post(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        protocol, proxy = parse_mms(self.body("MmsFeature"))
        wire = models.put_mms(self.db, account_id, site_id, peer_id, protocol, proxy, create=True)
        self.send_xml(exc.MMS, {"MmsFeature": wire}, status=201)

    def put(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        protocol, proxy = parse_mms(self.body("MmsFeature"))
        models.put_mms(self.db, account_id, site_id, peer_id, protocol, proxy, create=False)
        self.send_empty(200)

    def delete(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        models.delete_mms(self.db, account_id, peer_id)
        self.send_empty(200)


class MmsSettingsHandler(DashboardHandler):
    error_root = "MmsFeatureMmsSettingsResponse"

    def get(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        row = models.get_mms(self.db, account_id, peer_id)
        if row is None:
            raise exc.MmsNotFound(peer_id, root=self.error_root)
        self.send_xml("MmsFeatureMmsSettingsResponse", {"MmsSettings": {"Protocol": row["protocol"]}})


class AppSettingsHandler(DashboardHandler):
    error_root = exc.APPSET

    def get(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        app_id = models.get_app_settings(self.db, account_id, peer_id)
        self.send_xml(exc.APPSET, {"ApplicationsSettings": {"HttpMessagingV2AppId": app_id} if app_id else None})

    def put(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        self.peer(account_id, site_id, peer_id)
        content = self.body("ApplicationsSettings")
        if isinstance(content, str):
            if content.strip() != "REMOVE":
                raise exc.AppSettingsBadValue(content)
            models.put_app_settings(self.db, account_id, site_id, peer_id, None)
            self.send_xml(exc.APPSET, {"ApplicationsSettings": None})
            return
        node = _dict(content)
        app_id = _t(node.get("HttpMessagingV2AppId"))
        if not app_id:
            key, value = _ci(node, "HttpMessagingV2AppId")
            raise exc.AppSettingsBadValue(f"<{key}>" if key else (_t(value) or "(empty)"))
        models.put_app_settings(self.db, account_id, site_id, peer_id, app_id)
        self.send_xml(exc.APPSET, {"ApplicationsSettings": {"HttpMessagingV2AppId": app_id}})

    def post(self, account_id: str, site_id: str, peer_id: str) -> None:
        self.begin(account_id)
        raise exc.AppSettingsWrongMethod()


class WrongAppSettingsPathHandler(DashboardHandler):
    """``.../products/messaging/applications``: a documented doc slip; say where to go."""

    error_root = exc.APPSET

    def _hint(self, account_id: str, **_: str) -> None:
        self.begin(account_id)
        raise exc.AppSettingsWrongPath()

    get = put = post = _hint


# == numbers =======================================================================================

SEARCH_KEYS = ("areaCode", "npaNxx", "npaNxxx", "zip", "city", "state", "rateCenter", "lata", "tollFreeVanity",
               "tollFreeWildCardPattern")
#: documented search parameters the sandbox does not emulate: refused by name, never silently ignored (an ignored
#: localVanity=DOGS&areaCode=919 answered any 919 numbers)
UNSUPPORTED_SEARCH_KEYS = ("localVanity", "endsIn")


class AvailableNumbersHandler(DashboardHandler):
    error_root = "SearchResult"

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        unsupported = [k for k in UNSUPPORTED_SEARCH_KEYS if self.get_query_argument(k, None) not in (None, "")]
        if unsupported:
            raise exc.SearchFailed(4000, f"{unsupported[0]} searches are not emulated by the sandbox (the real "
                                         "service has them): search by areaCode, npaNxx or npaNxxx instead")
        args = {k: self.get_query_argument(k, None) for k in SEARCH_KEYS}
        criteria = {k: v for k, v in args.items() if v not in (None, "")}
        if not criteria:
            raise exc.SearchFailed(4010, "One of more required search parameters are null or empty. Please provide "
                                         "one of areaCode, npaNxx, npaNxxx, zip, city+state, rateCenter+state, state, "
                                         "lata, tollFreeVanity or tollFreeWildCardPattern")
        raw_q = self.get_query_argument("quantity", None)
        quantity = numbers.MAX_QUANTITY
        if raw_q not in (None, ""):
            asked = whole_number(raw_q, 1, numbers.MAX_QUANTITY)
            if asked is None:
                raise exc.SearchFailed(4000, f"The quantity '{raw_q}' is invalid: use a number from 1 to 5000")
            quantity = asked
        detail_raw = (self.get_query_argument("enableTNDetail", "false") or "false").lower()
        if detail_raw not in ("true", "false"):
            raise exc.SearchFailed(4000, f"enableTNDetail must be true or false, not '{detail_raw}'")
        order_by = self.get_query_argument("orderBy", None)
        if order_by and order_by not in ("fullNumber", "npaNxxx", "npaNxx", "areaCode"):
            raise exc.SearchFailed(4000, f"orderBy '{order_by}' is invalid: use fullNumber, npaNxxx, npaNxx or "
                                         "areaCode")
        try:
            found = models.search(self.db, criteria, quantity, account_id)
        except numbers.CriteriaError as e:
            raise exc.SearchFailed(e.code, e.description) from None
        if order_by:
            found = sorted(found, key=lambda n: n.tn)
        if not found:
            self.send_xml("SearchResult", {"ResultCount": 0})
            return
        if detail_raw == "true":
            body = {"ResultCount": len(found),
                    "TelephoneNumberDetailList": {"TelephoneNumberDetail": [n.detail() for n in found]}}
        else:
            body = {"ResultCount": len(found), "TelephoneNumberList": {"TelephoneNumber": [n.tn for n in found]}}
        self.send_xml("SearchResult", body)


ORDER_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    # element -> ((child element, search criterion), ...)
    "AreaCodeSearchAndOrderType": (("AreaCode", "areaCode"),),
    "ZIPSearchAndOrderType": (("Zip", "zip"),),
    "CitySearchAndOrderType": (("City", "city"), ("State", "state")),
    "StateSearchAndOrderType": (("State", "state"),),
    "NPANXXSearchAndOrderType": (("NpaNxx", "npaNxx"),),
    "RateCenterSearchAndOrderType": (("RateCenter", "rateCenter"), ("State", "state")),
    "TollFreeVanitySearchAndOrderType": (("TollFreeVanity", "tollFreeVanity"),),
    "TollFreeWildCharSearchAndOrderType": (("TollFreeWildCardPattern", "tollFreeWildCardPattern"),),
    "LATASearchAndOrderType": (("Lata", "lata"),),
}
#: CombinedSearchAndOrderType (numbers.yml CreateOrder): any of these, at least one; they narrow each other as the
#: same parameters of GET availableNumbers do (City and RateCenter need State)
COMBINED = "CombinedSearchAndOrderType"
COMBINED_CHILDREN = (("AreaCode", "areaCode"), ("NpaNxx", "npaNxx"), ("RateCenter", "rateCenter"), ("City", "city"),
                     ("State", "state"), ("Zip", "zip"), ("Lata", "lata"))
EXISTING = "ExistingTelephoneNumberOrderType"
NO_BACKORDER = ("NPANXXSearchAndOrderType", "TollFreeVanitySearchAndOrderType",
                "TollFreeWildCharSearchAndOrderType", EXISTING)


class OrdersHandler(DashboardHandler):
    error_root = exc.ORDER

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        page, size = _paging(self, default_size=20, keyset=True)
        status = self.get_query_argument("status", None)
        total, chunk, nxt = models.list_orders(self.db, account_id, status=status,
                                               customer_order_id=self.get_query_argument("customerOrderId", None),
                                               page=page, size=size)
        body: dict[str, Any] = {"TotalCount": total}
        if total:
            body["Links"] = _links(self, account_id, "/orders", size, nxt)
        if chunk:
            body["OrderIdUserIdDate"] = chunk
        self.send_xml("ResponseSelectWrapper", {"ListOrderIdUserIdDate": body})

    def post(self, account_id: str) -> None:
        self.begin(account_id)
        try:
            content = self.body("Order")
        except DashboardError as e:  # malformed XML/wrong root: the order error shape
            raise DashboardErrorList([(e.code, e.description)], status=e.status, root=exc.ORDER) from None
        node = _dict(content)
        req = self._parse(account_id, node)
        try:
            quotas.check_numbers(self.db, account_id, int(req["quantity"]))
        except quotas.QuotaExceeded as e:
            code = 5009 if e.key == "numbers_per_order" else 403  # 5009: the quantity is invalid
            raise exc.order_error(code, node or None, e.description, status=e.status) from None
        body = models.create_order(self.db, account_id, self.username, req)
        order_id = body["Order"]["id"]
        self.send_xml(exc.ORDER, body, status=201,
                      headers={"Location": self.url_for_account(account_id, f"/orders/{order_id}")})

    def _parse(self, account_id: str, node: dict[str, Any]) -> dict[str, Any]:
        echo = node or None

        def fail(code: int, description: str | None = None) -> DashboardErrorList:
            return exc.order_error(code, echo, description)

        customer_order_id = _t(node.get("CustomerOrderId"))
        if customer_order_id is not None and not _CUSTOMER_ORDER_ID.fullmatch(customer_order_id):
            raise fail(5052)
        site_id = _t(node.get("SiteId"))
        if not site_id:
            raise fail(5022)
        if models.site_row(self.db, account_id, site_id) is None:
            raise fail(5016)
        peer_id = _t(node.get("PeerId")) or None
        if peer_id is not None and models.peer_row(self.db, account_id, site_id, peer_id) is None:
            raise fail(5023)
        try:
            partial = _bool(node.get("PartialAllowed"), "PartialAllowed", exc.ORDER, default=True)
            back_order = _bool(node.get("BackOrderRequested"), "BackOrderRequested", exc.ORDER, default=False)
        except DashboardError as e:
            raise fail(1003, e.description) from None
        types = [k for k in node if k in ORDER_TYPES or k in (COMBINED, EXISTING)]
        if len(types) != 1:
            known = ", ".join([*ORDER_TYPES, COMBINED, EXISTING])
            raise fail(1003, ("An order needs exactly one order type element, " if types else
                              "An order type is required: ") + f"one of {known}")
        otype = types[0]
        tnode = _dict(node[otype])
        req: dict[str, Any] = {"type": otype, "type_echo": tnode or None, "site_id": site_id, "peer_id": peer_id,
                               "partial_allowed": partial, "back_order": back_order,
                               "customer_order_id": customer_order_id, "name": _t(node.get("Name")) or None,
                               "criteria": None, "existing": None}
        if back_order and otype in NO_BACKORDER:
            raise fail(5522)
        if otype == EXISTING:
            raw = _list(tnode.get("TelephoneNumberList"), "TelephoneNumber")
            if not raw:
                raise fail(1003, "TelephoneNumberList/TelephoneNumber is required")
            if len(raw) > numbers.MAX_QUANTITY:
                raise fail(5009)
            req["existing"] = [numbers.normalize_tn(tn) or tn for tn in raw]
            req["quantity"] = len(raw)
        else:
            raw_q = _t(tnode.get("Quantity"))
            if raw_q is None or raw_q == "":
                quantity = 1
            elif whole_number(raw_q, 1, numbers.MAX_QUANTITY) is not None:
                quantity = int(raw_q)
            else:
                raise fail(5009)
            if otype == COMBINED:
                criteria = {crit: _t(tnode.get(child)) for child, crit in COMBINED_CHILDREN if _t(tnode.get(child))}
                if not criteria:
                    raise fail(1003, f"{otype} needs at least one of "
                                     f"{', '.join(child for child, _ in COMBINED_CHILDREN)}")
            else:
                criteria = {crit: _t(tnode.get(child)) for child, crit in ORDER_TYPES[otype]}
                missing = [child for child, crit in ORDER_TYPES[otype] if not criteria[crit]]
                if missing:
                    raise fail(1003, f"{otype}/{missing[0]} is required")
            try:
                next(iter(numbers.candidates({k: v or "" for k, v in criteria.items()}, models.seed(self.db))), None)
            except numbers.CriteriaError as e:
                raise fail(e.code, e.description) from None
            req["criteria"], req["quantity"] = criteria, quantity
            if "Quantity" not in tnode:
                req["type_echo"] = {**tnode, "Quantity": str(quantity)}
        extra = {k: node[k] for k in ("TnAttributes",) if k in node}
        req["echo_extra"] = extra
        return req


class OrderHandler(DashboardHandler):
    error_root = exc.ORDER

    def get(self, account_id: str, order_id: str) -> None:
        self.begin(account_id)
        self.send_xml(exc.ORDER, models.order_view(self.db, account_id, order_id))

    def put(self, account_id: str, order_id: str) -> None:
        self.begin(account_id)
        models.order_view(self.db, account_id, order_id, count_poll=False)  # 404 first
        try:
            node = _dict(self.body("Order"))
        except DashboardError as e:
            raise DashboardErrorList([(e.code, e.description)], status=e.status, root=exc.ORDER) from None
        close = _t(node.get("CloseOrder"))
        if (close or "").lower() != "true":
            raise exc.OrderInvalid(None, "Only <Order><CloseOrder>true</CloseOrder></Order> is supported")
        models.close_order(self.db, account_id, order_id)
        self.send_xml(exc.ORDER, None)


def _paging(handler: DashboardHandler, default_size: int, keyset: bool = False) -> tuple[Any, int]:
    """``page`` (a number from 1, or with ``keyset`` the order id that starts a page, as numbers.yml documents
    for /orders and /disconnects) and ``size`` (1-5000)."""
    page_raw = handler.get_query_argument("page", "1") or "1"
    size_raw = handler.get_query_argument("size", str(default_size)) or str(default_size)
    size = whole_number(size_raw, 1, 5000)
    if size is None:
        raise exc.BadPaging(handler.error_root)
    page = page_number(page_raw, size)  # beyond SQLite's integers: 400, not an OverflowError (issue 23, N7)
    if page is not None:
        return page, size
    if keyset and len(page_raw) <= 64:  # an order id (a huge number is not one: BadPage names it)
        return page_raw, size
    raise exc.BadPaging(handler.error_root)


def _links(handler: DashboardHandler, account_id: str, path: str, size: int, next_page: Any) -> dict[str, str]:
    """``Links``: first, and next when there is one (``page=`` the number or order id of the next page)."""
    base = handler.url_for_account(account_id, path)
    links = {"first": f'Link=<{base}?page=1&size={size}>;rel="first";'}
    if next_page is not None:
        links["next"] = f'Link=<{base}?page={next_page}&size={size}>;rel="next";'
    return links


class InServiceNumbersHandler(DashboardHandler):
    error_root = "TNs"

    def get(self, account_id: str, site_id: str | None = None) -> None:
        self.begin(account_id)
        if site_id is not None:
            self.site(account_id, site_id)
        page, size = _paging(self, default_size=300)
        filters = {k: self.get_query_argument(k, "") or "" for k in ("areacode", "npanxx", "state", "ratecenter", "lata")}
        total, chunk = models.in_service_page(self.db, account_id, site_id, filters, page, size)
        if not chunk:
            self.send_empty(204)
            return
        path = f"/sites/{site_id}/inserviceNumbers" if site_id else "/inserviceNumbers"
        nxt = page + 1 if page * size < total else None
        self.send_xml("TNs", {"TotalCount": total, "Links": _links(self, account_id, path, size, nxt),
                              "TelephoneNumbers": {"Count": len(chunk), "TelephoneNumber": chunk}})


class InServiceTotalsHandler(DashboardHandler):
    """numbers.yml ReadInserviceTnsCount: ``GET /inserviceNumbers/totals`` -> ``<Quantity><Count>N</Count></Quantity>``."""

    error_root = "Quantity"

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        total, _ = models.in_service_page(self.db, account_id, None, None, 1, 1)
        self.send_xml("Quantity", {"Count": total})


class SiteTotalTnsHandler(DashboardHandler):
    """numbers.yml ``GET /sites/{siteId}/totaltns`` -> ``<SiteTNsResponse><SiteTNs><TotalCount>N</TotalCount>``."""

    error_root = "SiteTNsResponse"

    def get(self, account_id: str, site_id: str) -> None:
        self.begin(account_id)
        self.site(account_id, site_id)
        total, _ = models.in_service_page(self.db, account_id, site_id, None, 1, 1)
        self.send_xml("SiteTNsResponse", {"SiteTNs": {"TotalCount": total}})


class DisconnectsHandler(DashboardHandler):
    error_root = exc.DISCONNECT

    def get(self, account_id: str) -> None:
        self.begin(account_id)
        page, size = _paging(self, default_size=300, keyset=True)
        total, items, nxt = models.list_disconnects(self.db, account_id, page, size)
        body: dict[str, Any] = {"TotalCount": total}
        if total:
            body["Links"] = _links(self, account_id, "/disconnects", size, nxt)
        if items:
            body["OrderIdUserIdDate"] = items
        self.send_xml("ResponseSelectWrapper", {"ListOrderIdUserIdDate": body})

    def post(self, account_id: str) -> None:
        self.begin(account_id)
        try:
            node = _dict(self.body("DisconnectTelephoneNumberOrder"))
        except DashboardError as e:
            raise exc.DisconnectError([(e.code, e.description)], status=e.status) from None
        customer_order_id = _t(node.get("CustomerOrderId")) or None
        if customer_order_id is not None and not _CUSTOMER_ORDER_ID.fullmatch(customer_order_id):
            raise exc.DisconnectError([(5052, exc.ORDER_TEXT[5052])])
        tnode = _dict(node.get("DisconnectTelephoneNumberOrderType"))
        raw = _list(tnode.get("TelephoneNumberList"), "TelephoneNumber")
        if not raw:
            text = "DisconnectTelephoneNumberOrderType/TelephoneNumberList/TelephoneNumber is required"
            raise exc.DisconnectError([(1003, text)])
        mode = (_t(tnode.get("DisconnectMode")) or "normal").lower()
        if mode not in models.DISCONNECT_MODES:
            # numbers-errors.mdx 5084 "DisconnectMode '%s' is invalid. Valid values are: normal, soft-remove, purge";
            # numbers.yml's DisconnectTelephoneNumberOrderType enum has NORMAL and PURGE, the ones emulated
            text = f"DisconnectMode '{exc.safe(mode)}' is invalid. Valid values are: normal, purge"
            raise exc.DisconnectError([(5084, text)])
        protected = _t(tnode.get("Protected")) or None
        if protected is not None and protected.upper() not in ("TRUE", "FALSE", "UNCHANGED"):
            text = "Protected attribute is invalid. Valid values: TRUE, FALSE, UNCHANGED."
            raise exc.DisconnectError([(1003, text)])
        bad = [tn for tn in raw if numbers.normalize_tn(tn) is None]
        if bad:  # malformed numbers are refused at once (numbers-errors.mdx 5008); unknown ones fail later
            hint = "is not a telephone number: use 10 digits, like 9195551212"
            raise exc.DisconnectError([(5008, f"'{exc.safe(tn)}' {hint}") for tn in bad[:20]])
        tns = [numbers.normalize_tn(tn) or tn for tn in raw]
        req = models.create_disconnect(self.db, account_id, self.username, tns, customer_order_id, protected, mode)
        self.send_xml(exc.DISCONNECT, {"orderRequest": req, "OrderStatus": "RECEIVED"}, status=201,
                      headers={"Location": self.url_for_account(account_id, f"/disconnects/{req['id']}")})


class DisconnectHandler(DashboardHandler):
    error_root = exc.DISCONNECT

    def get(self, account_id: str, order_id: str) -> None:
        self.begin(account_id)
        self.send_xml(exc.DISCONNECT, models.disconnect_view(self.db, account_id, order_id))
