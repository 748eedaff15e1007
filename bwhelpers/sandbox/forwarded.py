"""
bwhelpers.sandbox.forwarded
~~~~~~~~~~~~~~~~~~~~~~~~~~~

Who the client is behind the hub's proxy, and whose word is taken for it.

The workshop service sits behind configurable-http-proxy, which appends the client's address to
``X-Forwarded-For`` and sets ``X-Forwarded-Proto``. Those headers are believed only on connections from the
**trusted proxies** (``--trusted-proxy`` of the service: addresses or networks; loopback by default, where the
hub's own service config runs the proxy on the same machine). From anyone else who reaches the service's port
directly, the headers are ignored and the connection's own address is the client: a per-client throttle can be
neither dodged (a new ``X-Forwarded-For`` on every guess) nor pinned on someone else (their address in the header).

``X-Real-Ip`` is never believed: the proxy passes it on from the client unchanged.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: the default: the hub's proxy on the same machine (``c.JupyterHub.services`` started by the hub)
LOOPBACK = ("127.0.0.0/8", "::1/128")


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``entries`` (addresses or networks such as ``10.1.0.0/16``) as networks; raises ValueError naming a bad one."""
    out: list[Network] = []
    for raw in entries:
        entry = str(raw).strip().strip("[]")
        if not entry:
            continue
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"--trusted-proxy {raw!r} is not an address or a network (such as 10.1.0.0/16): give "
                             "the address the hub's proxy connects from") from None
    return tuple(out)


def is_trusted(peer: str, trusted: tuple[Network, ...]) -> bool:
    """Is the connection's own address ``peer`` one of the trusted proxies?"""
    if not trusted or not peer:
        return False
    try:
        addr = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in trusted)


def _last(value: str | None) -> str:
    return (value or "").split(",")[-1].strip()


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client's address: the last ``X-Forwarded-For`` entry (what the proxy appended) when the connection comes
    from a trusted proxy, else the connection's own address."""
    if is_trusted(peer, trusted):
        forwarded = _last(forwarded_for)
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return peer or "?"


def protocol(peer: str, own: str, forwarded_proto: str | None, trusted: tuple[Network, ...]) -> str:
    """``http`` or ``https`` as the client used it: ``X-Forwarded-Proto`` from a trusted proxy, else ``own``."""
    if is_trusted(peer, trusted):
        proto = _last(forwarded_proto).lower()
        if proto in ("http", "https"):
            return proto
    return own
