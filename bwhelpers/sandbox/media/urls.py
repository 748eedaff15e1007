"""Route table of the Media API (data only)."""
from . import models
from .responses import MediaFileHandler, MediaListHandler

url_paths = [
    (r"/api/v2/users/(?P<account_id>[^/]+)/media/?", MediaListHandler),
    (r"/api/v2/users/(?P<account_id>[^/]+)/media/(?P<media_id>.+)", MediaFileHandler),
]

#: request bodies these paths may carry, for the method that uploads and the path's account's credentials (the
#: server refuses larger ones unread); other requests keep the default
body_limits = [
    (r"/api/v2/users/(?P<account_id>[^/]+)/media/.+", models.MAX_FILE_BYTES, "PUT"),
]
