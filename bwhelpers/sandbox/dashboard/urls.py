"""Route table of the Dashboard (Iris) XML API (data only)."""
from .responses import (
    AccountHandler,
    ApplicationHandler,
    ApplicationsHandler,
    AppSettingsHandler,
    AssociatedSipPeersHandler,
    AvailableNumbersHandler,
    DisconnectHandler,
    DisconnectsHandler,
    InServiceNumbersHandler,
    InServiceTotalsHandler,
    MmsFeatureHandler,
    MmsSettingsHandler,
    OrderHandler,
    OrdersHandler,
    SipPeerHandler,
    SipPeersHandler,
    SipPeerTnsHandler,
    SiteHandler,
    SiteTotalTnsHandler,
    SitesHandler,
    SmsFeatureHandler,
    WrongAppSettingsPathHandler,
)

A = r"/api/accounts/(?P<account_id>[^/]+)"
S = A + r"/sites/(?P<site_id>[^/]+)"
P = S + r"/sippeers/(?P<peer_id>[^/]+)"
M = P + r"/products/messaging"

url_paths = [
    (A + r"/?", AccountHandler),
    (A + r"/applications/?", ApplicationsHandler),
    (A + r"/applications/(?P<app_id>[^/]+)/?", ApplicationHandler),
    (A + r"/applications/(?P<app_id>[^/]+)/associatedsippeers/?", AssociatedSipPeersHandler),
    (A + r"/sites/?", SitesHandler),
    (S + r"/?", SiteHandler),
    (S + r"/inserviceNumbers/?", InServiceNumbersHandler),
    (S + r"/totaltns/?", SiteTotalTnsHandler),
    (S + r"/sippeers/?", SipPeersHandler),
    (P + r"/?", SipPeerHandler),
    (P + r"/tns/?", SipPeerTnsHandler),
    (M + r"/features/sms/?", SmsFeatureHandler),
    (M + r"/features/mms/?", MmsFeatureHandler),
    (M + r"/features/mms/settings/?", MmsSettingsHandler),
    (M + r"/applicationSettings/?", AppSettingsHandler),
    (M + r"/applications/?", WrongAppSettingsPathHandler),
    (A + r"/availableNumbers/?", AvailableNumbersHandler),
    (A + r"/orders/?", OrdersHandler),
    (A + r"/orders/(?P<order_id>[^/]+)/?", OrderHandler),
    (A + r"/inserviceNumbers/?", InServiceNumbersHandler),
    (A + r"/inserviceNumbers/totals/?", InServiceTotalsHandler),
    (A + r"/disconnects/?", DisconnectsHandler),
    (A + r"/disconnects/(?P<order_id>[^/]+)/?", DisconnectHandler),
]
