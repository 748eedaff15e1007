"""
bwhelpers.sandbox.context
~~~~~~~~~~~~~~~~~~~~~~~~~

What every handler of one server shares: the db, its URLs and keys, and the Host names it serves.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .db import Database
from .guards import LOCAL_HOSTS


@dataclass
class SandboxContext:
    """Shared by all handlers of one server: the db and the runtime settings."""

    db: Database
    base_url: str = ""
    #: path prefix the server is reached under (a hub's ``/services/<name>``; "" when standalone)
    url_prefix: str = ""
    started: float = field(default_factory=time.time)
    #: this serving process (callback claims); ``db.instance_id`` names the db for clients
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: the key the global control-plane endpoints require (bwhelpers.sandbox.keys)
    admin_key: str | None = field(default=None, repr=False)
    #: the key tenants may hold to check this sandbox (health ?nonce= -> tenant_proof)
    instance_key: str | None = field(default=None, repr=False)
    #: Host names (no port) requests may carry; "*" allows any (only for a trusted proxy in front)
    allowed_hosts: frozenset[str] = LOCAL_HOSTS
    port: int = 0
    #: workshop mode (a room of strangers on a hub): no public accounts, the strict callback policy, quotas,
    #: the authentication failure throttle
    workshop: bool = False
    #: where callbacks may go (bwhelpers.sandbox.callback_policy.CallbackPolicy; set by the server at start)
    callback_policy: Any = None
    #: (host, port) pairs at which this process serves its request bins directly (no proxy; below url_prefix in
    #: workshop mode): the callback dispatcher records deliveries to them in-process (set by the server at start)
    local_bin_origins: frozenset[tuple[str, int]] = frozenset()
    #: may the public health endpoint name the db's path? (a local sandbox: its key file lies beside it)
    show_db_path: bool = True
    #: the proxies whose X-Forwarded-For / -Proto are believed (bwhelpers.sandbox.forwarded); none: every
    #: connection's own address is the client
    trusted_proxies: tuple[Any, ...] = ()
