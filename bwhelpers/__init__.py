"""
bwhelpers
~~~~~~~~~

Helpers for Bandwidth's Messaging 2.0 setup guide: one call per step, saved IDs that carry over
between notebooks, a table of every response, and a local sandbox used whenever no real
credentials are given::

    >>> import bwhelpers as bw
    >>> s = bw.connect()                  # no credentials: the embedded sandbox
    >>> s.create_application().to_frame()
    >>> s.create_location().id

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
    "BandwidthError", "AuthError", "NotFoundError", "ValidationError", "ConflictError",
    "RateLimitError", "ServerError", "TransportError", "MissingPrerequisiteError", "StateFileError",
]

_LAZY = {
    "Config": "bwhelpers.config",
    "Setup": "bwhelpers.setup",
    "StateStore": "bwhelpers.state",
    "BandwidthError": "bwhelpers.errors",
    "AuthError": "bwhelpers.errors",
    "NotFoundError": "bwhelpers.errors",
    "ValidationError": "bwhelpers.errors",
    "ConflictError": "bwhelpers.errors",
    "RateLimitError": "bwhelpers.errors",
    "ServerError": "bwhelpers.errors",
    "TransportError": "bwhelpers.errors",
    "MissingPrerequisiteError": "bwhelpers.errors",
    "StateFileError": "bwhelpers.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config
    from .setup import Setup


def connect(**kwargs: Any) -> "Setup":
    """Resolve credentials (arguments, ``BW_*`` env, credentials file, else the sandbox) -> :class:`Setup`."""
    from .config import Config
    from .setup import Setup

    return Setup(Config.resolve(**kwargs))


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
