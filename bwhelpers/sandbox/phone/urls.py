"""Route table of the phone page (data only)."""
from .responses import PhoneLink, PhoneMedia, PhonePage, PhoneReply, PhoneState

ACCOUNT = r"(?P<account_id>[0-9]{1,20})"

url_paths = [
    (r"/_sandbox/phone/link", PhoneLink),
    (r"/_sandbox/phone/" + ACCOUNT + r"/?", PhonePage),
    (r"/_sandbox/phone/" + ACCOUNT + r"/state", PhoneState),
    (r"/_sandbox/phone/" + ACCOUNT + r"/reply", PhoneReply),
    (r"/_sandbox/phone/" + ACCOUNT + r"/media/(?P<media_id>.+)", PhoneMedia),
]

#: the reply box may carry a picture, posted with the account's credentials or its signed link (the server refuses
#: larger bodies unread)
body_limits = [
    (r"/_sandbox/phone/(?P<account_id>[0-9]{1,20})/reply", PhoneReply.max_body_bytes, "POST", PhoneReply.may_post),
]
