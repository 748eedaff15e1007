"""Route table of the control plane (data only)."""
from .responses import AccountsHandler, HealthHandler, ResetHandler, SettingsHandler

url_paths = [
    (r"/_sandbox/?", HealthHandler),
    (r"/_sandbox/health", HealthHandler),
    (r"/_sandbox/reset", ResetHandler),
    (r"/_sandbox/settings", SettingsHandler),
    (r"/_sandbox/accounts", AccountsHandler),
]
