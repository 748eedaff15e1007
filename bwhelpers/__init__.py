"""
bwhelpers
~~~~~~~~~

Helpers for Bandwidth's Messaging 2.0 setup guide: one call per step, saved IDs that carry over
between notebooks, a table of every response, and a local sandbox used whenever no real
credentials are given::

    >>> import bwhelpers as bw
    >>> s = bw.connect(quiet=True)        # no credentials: the embedded sandbox
    >>> result = s.create_application()  # step 1: saved, and reused when run again
    >>> from bwhelpers import steps, tables
    >>> result.heading == steps.label("application") + ": Application created"   # titles come from the step table
    True
    >>> s.current.application_id == result.id == s.create_application().id
    True
    >>> tables.result_frame(s.create_location()).empty
    False

Importing this package is cheap: pandas, ipywidgets and tornado load only when used.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# A library stays quiet unless the application configures logging (no "last resort" stderr output
# in notebooks); ``python -m bwhelpers.sandbox`` configures it and shows the sandbox's log.
logging.getLogger("bwhelpers").addHandler(logging.NullHandler())

__all__ = [
    "__version__", "connect", "Config", "Setup", "StateStore",
    "BandwidthError", "AuthError", "TokenError", "NotFoundError", "ValidationError", "ConflictError",
    "RateLimitError", "ServerError", "TransportError", "MissingPrerequisiteError", "StateFileError",
]

_LAZY = {
    "Config": "bwhelpers.config",
    "Setup": "bwhelpers.setup",
    "StateStore": "bwhelpers.state",
    "BandwidthError": "bwhelpers.exceptions",
    "AuthError": "bwhelpers.exceptions",
    "TokenError": "bwhelpers.exceptions",
    "NotFoundError": "bwhelpers.exceptions",
    "ValidationError": "bwhelpers.exceptions",
    "ConflictError": "bwhelpers.exceptions",
    "RateLimitError": "bwhelpers.exceptions",
    "ServerError": "bwhelpers.exceptions",
    "TransportError": "bwhelpers.exceptions",
    "MissingPrerequisiteError": "bwhelpers.exceptions",
    "StateFileError": "bwhelpers.exceptions",
}

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config
    from .setup import Setup


def connect(**kwargs: Any) -> "Setup":
    """Resolve credentials (arguments, ``BW_*`` env, credentials file, else the sandbox) -> :class:`Setup`.

    The embedded sandbox is started (or found) here, not by :class:`Config` (see :mod:`bwhelpers.connection`).
    """
    from .connection import connect as _connect

    return _connect(**kwargs)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bwhelpers' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
