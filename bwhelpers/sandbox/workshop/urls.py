"""Route table of workshop mode (data only; paths are below the hub's service prefix)."""
from .responses import (
    BoardHandler,
    CloseRoomHandler,
    InviteHandler,
    MeHandler,
    MyPhoneHandler,
    OAuthCallbackHandler,
    OpenRoomHandler,
    ParticipantHandler,
    ReadmitHandler,
    RemoveHandler,
    RemoveSeveralHandler,
    ResetHandler,
    RootHandler,
    StopInviteHandler,
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
    (r"/room/close/?", CloseRoomHandler),
    (r"/room/open/?", OpenRoomHandler),
    (r"/room/remove/?", RemoveSeveralHandler),
    (r"/room/invite/?", InviteHandler),
    (r"/room/invite/stop/?", StopInviteHandler),
    (r"/oauth_callback", OAuthCallbackHandler),
]
