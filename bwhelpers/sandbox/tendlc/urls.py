"""Route table of the A2P area (data only)."""
from .responses import (
    CampaignHandler,
    CampaignNumbersHandler,
    CampaignsHandler,
    TenDlcNumberHandler,
    TenDlcNumbersHandler,
    TfvRequestHandler,
    TfvStatusHandler,
    TnOptionHandler,
    TnOptionsHandler,
)

A = r"/api/accounts/(?P<account_id>[^/]+)"
V2 = r"/api/v2/accounts/(?P<account_id>[^/]+)"

url_paths = [
    (A + r"/tnoptions/?", TnOptionsHandler),
    (A + r"/tnoptions/(?P<order_id>[^/]+)/?", TnOptionHandler),
    (V2 + r"/tendlc/campaigns/?", CampaignsHandler),
    (V2 + r"/tendlc/campaigns/(?P<campaign_id>[^/]+)/?", CampaignHandler),
    (V2 + r"/tendlc/campaigns/(?P<campaign_id>[^/]+)/phoneNumbers/?", CampaignNumbersHandler),
    (V2 + r"/tendlc/phoneNumbers/?", TenDlcNumbersHandler),
    (V2 + r"/tendlc/phoneNumbers/(?P<number>[^/]+)/?", TenDlcNumberHandler),
    (V2 + r"/tollFreeVerification/?", TfvRequestHandler),
    (V2 + r"/phoneNumbers/(?P<number>[^/]+)/tollFreeVerification/?", TfvStatusHandler),
]
