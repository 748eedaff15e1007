"""Route table of the phone page (data only)."""
from .responses import PhoneLink, PhonePage, PhoneReply, PhoneState

ACCOUNT = r"(?P<account_id>[0-9]{1,20})"

url_paths = [
    (r"/_sandbox/phone/link", PhoneLink),
    (r"/_sandbox/phone/" + ACCOUNT + r"/?", PhonePage),
    (r"/_sandbox/phone/" + ACCOUNT + r"/state", PhoneState),
    (r"/_sandbox/phone/" + ACCOUNT + r"/reply", PhoneReply),
]
