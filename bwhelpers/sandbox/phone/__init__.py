"""
bwhelpers.sandbox.phone
~~~~~~~~~~~~~~~~~~~~~~~

The phone page: each of an account's numbers shown like a phone (threads, delivery ticks, a reply
box), served by the sandbox under ``/_sandbox/phone/{accountId}`` (and below a hub's service prefix
in workshop mode). Server-rendered tornado templates; see :mod:`.responses` for the routes and who
may see what.
"""
from __future__ import annotations

from . import models  # noqa: F401  (the page's model, loaded with the area)
