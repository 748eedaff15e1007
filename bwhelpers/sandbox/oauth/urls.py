"""Route table of the OAuth area (data only)."""
from .responses import TokenHandler

url_paths = [
    (r"/api/v1/oauth2/token/?", TokenHandler),
]
