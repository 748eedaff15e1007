"""Who a request to the hub comes from: the hub's proxy's word on a trusted proxy's connection, never the client's.

JupyterHub serves with tornado's ``xheaders=True``, and tornado then takes a client's own ``X-Real-Ip`` as the
request's ``remote_ip`` (configurable-http-proxy passes it on unchanged; it appends the client's address to
``X-Forwarded-For`` and logs no addresses itself). So the hub's access log (``403 POST /hub/login (@203.0.113.127)``),
PAM's failed-login warnings and the hub's anonymous xsrf id named whatever address a client chose (rev23c C1).

:func:`client_address` is the one rule of :mod:`bwhelpers.sandbox.forwarded`: the last ``X-Forwarded-For`` entry
on a connection from a trusted proxy, else the connection's own address. :func:`remote_ip_transform` makes a tornado
output transform that the generated hub config installs (``c.JupyterHub.tornado_settings["transforms"]``):
tornado makes it for each request before the handler runs, and it sets ``request.remote_ip`` by that rule, so
everything in the hub that reads ``remote_ip`` sees the true client.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tornado.httputil
import tornado.web

from bwhelpers.sandbox import forwarded


def client_address(request: Any, trusted: tuple[forwarded.Network, ...]) -> str:
    """The client of ``request`` (a tornado request): never its ``X-Real-Ip``."""
    conn = getattr(request, "connection", None)
    peer = forwarded.connection_peer(conn) if conn is not None else ""
    headers = getattr(request, "headers", None) or {}
    return forwarded.client_address(peer or "unknown", headers.get("X-Forwarded-For"), trusted, conn)


def remote_ip_transform(trusted_proxies: Iterable[str] = forwarded.LOOPBACK) -> type[tornado.web.OutputTransform]:
    """A tornado output transform setting each request's ``remote_ip`` to :func:`client_address` (``trusted_proxies``:
    the hub's proxy's addresses or networks; raises ValueError naming a bad one)."""
    trusted = forwarded.networks(trusted_proxies)

    class HubClientAddress(tornado.web.OutputTransform):
        """Sets ``request.remote_ip`` to the client's true address (bwhelpers.hub_client_address)."""

        def __init__(self, request: tornado.httputil.HTTPServerRequest):
            super().__init__(request)
            address = client_address(request, trusted)
            if address not in ("unknown", "?"):
                request.remote_ip = address

    return HubClientAddress
