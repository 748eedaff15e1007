"""Route table of the control plane (data only)."""
from .responses import (
    AccountsHandler, ClockHandler, CredentialsHandler, HealthHandler, ResetHandler, SettingsHandler,
)

url_paths = [
    (r"/_sandbox/?", HealthHandler),
    (r"/_sandbox/health", HealthHandler),
    (r"/_sandbox/reset", ResetHandler),
    (r"/_sandbox/settings", SettingsHandler),
    (r"/_sandbox/clock", ClockHandler),
    (r"/_sandbox/accounts", AccountsHandler),
    (r"/_sandbox/credentials/?", CredentialsHandler),
    (r"/_sandbox/credentials/(?P<client_id>[^/]{1,200})", CredentialsHandler),
]

# messaging side of the control plane (control/extra.py)
from .extra import (  # noqa: E402
    BinHandler, BinsHandler, CallbacksLogHandler, InboundHandler, MagicNumbersHandler, SandboxMessagesHandler,
)

url_paths += [
    (r"/_sandbox/magic-numbers", MagicNumbersHandler),
    (r"/_sandbox/inbound", InboundHandler),
    (r"/_sandbox/callbacks", CallbacksLogHandler),
    (r"/_sandbox/messages", SandboxMessagesHandler),
    (r"/_sandbox/bins/?", BinsHandler),
    (r"/_sandbox/bins/(?P<name>[A-Za-z0-9._~-]{1,100})", BinHandler),
]
