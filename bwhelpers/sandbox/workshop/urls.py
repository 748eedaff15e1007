"""Route table of workshop mode (data only; paths are below the hub's service prefix)."""
from .responses import (
    BoardHandler,
    MeHandler,
    MyPhoneHandler,
    OAuthCallbackHandler,
    ParticipantHandler,
    ReadmitHandler,
    RemoveHandler,
    ResetHandler,
    RootHandler,
)

NAME = r"(?P<name>[^/]+)"

url_paths = [
    (r"/", RootHandler),
    (r"/board(?:\.json)?/?", BoardHandler),
    (r"/me/?", MeHandler),
    (r"/me/phone/?", MyPhoneHandler),
    (r"/participants/" + NAME + r"/?", ParticipantHandler),
    (r"/participants/" + NAME + r"/reset/?", ResetHandler),
    (r"/participants/" + NAME + r"/remove/?", RemoveHandler),
    (r"/participants/" + NAME + r"/readmit/?", ReadmitHandler),
    (r"/oauth_callback", OAuthCallbackHandler),
]
