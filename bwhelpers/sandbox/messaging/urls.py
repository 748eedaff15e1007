"""Route table of Messaging v2 (data only)."""
from .responses import LegacyMessagesHandler, MessagesHandler

url_paths = [
    (r"/api/v2/users/(?P<account_id>[^/]+)/messages/?", MessagesHandler),
    (r"/v2/users/(?P<user_id>[^/]+)/messages/?", LegacyMessagesHandler),
]
