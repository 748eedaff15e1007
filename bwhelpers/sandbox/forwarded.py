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

On loopback an address says little: every process of the machine connects from ``127.0.0.1``, the participants'
kernels too, and they could send any ``X-Forwarded-For`` straight to the service's port. So a loopback connection
is the proxy's only when its socket belongs to the service's own OS user (the hub starts both the proxy and the
service as its user) or root: the kernel's socket table says whose it is (:func:`socket_owner`, one netlink
``sock_diag`` lookup, about 50 µs, once per connection). With one Unix user per participant (TLJH, ``--spawner
local``) a kernel's forged header is then ignored and its guesses count against its own address; with the simple
spawner everyone is the hub's user, which is why that one needs ``--trusted-room`` (docs/workshop.md).
"""
from __future__ import annotations

import functools
import ipaddress
import os
import socket
import struct
from collections.abc import Iterable
from typing import Any

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
    addr = _peer_address(peer)
    return addr is not None and any(addr.version == net.version and addr in net for net in trusted)


@functools.lru_cache(maxsize=4096)
def client_key(address: str) -> str:
    """Whom a per-client bound counts (throttles, fair turns, admission): the address, an IPv4-mapped IPv6 one as
    IPv4, or an IPv6 address's /64 network (one host holds the whole network: a new address per request is free)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _last(value: str | None) -> str:
    return (value or "").split(",")[-1].strip()


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...], conn: Any = None) -> str:
    """The client's address: the last ``X-Forwarded-For`` entry (what the proxy appended) when the connection comes
    from a trusted proxy (``conn``, the HTTP connection, when known: :func:`proxy_connection`), else the
    connection's own address."""
    if forwarded_for and (proxy_connection(conn, trusted) if conn is not None else is_trusted(peer, trusted)):
        forwarded = _last(forwarded_for)
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return peer or "?"


def protocol(peer: str, own: str, forwarded_proto: str | None, trusted: tuple[Network, ...], conn: Any = None) -> str:
    """``http`` or ``https`` as the client used it: ``X-Forwarded-Proto`` from a trusted proxy, else ``own``."""
    if forwarded_proto and (proxy_connection(conn, trusted) if conn is not None else is_trusted(peer, trusted)):
        proto = _last(forwarded_proto).lower()
        if proto in ("http", "https"):
            return proto
    return own


_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NO_COOKIE = 0xFFFFFFFF
#: where inet_diag_msg's idiag_uid sits in the answer (after nlmsghdr, 4 bytes of family/state/timer/retrans, the
#: 48-byte inet_diag_sockid, expires/rqueue/wqueue)
_UID_OFFSET = 16 + 4 + 48 + 12


def socket_owner(local: tuple[str, int], peer: tuple[str, int]) -> int | None:
    """The uid owning the socket at ``peer`` that is connected to ``local`` (both on this machine), from the kernel's
    socket table (Linux ``sock_diag``: an exact lookup, not a dump); None when it cannot be told."""
    try:
        family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
        src = ipaddress.ip_address(peer[0].split("%", 1)[0]).packed.ljust(16, b"\0")
        dst = ipaddress.ip_address(local[0].split("%", 1)[0]).packed.ljust(16, b"\0")
        sockid = struct.pack("!HH", peer[1], local[1]) + src + dst + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
        req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
        msg = struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req  # NLM_F_REQUEST
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as nl:
            nl.settimeout(1.0)
            nl.sendto(msg, (0, 0))
            data = nl.recv(4096)
        if len(data) < _UID_OFFSET + 4 or struct.unpack_from("=H", data, 4)[0] != _SOCK_DIAG_BY_FAMILY:
            return None  # an error answer (no such socket) or not Linux
        return int(struct.unpack_from("=I", data, _UID_OFFSET)[0])
    except (OSError, ValueError, AttributeError, struct.error):
        return None


def _peer_address(peer: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The connection's address (an IPv4-mapped IPv6 one as IPv4, a zone dropped); None when it is not one."""
    try:
        addr = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_loopback(peer: str) -> bool:
    addr = _peer_address(peer)
    return addr is not None and addr.is_loopback


def connection_peer(conn: Any) -> str:
    """The address this HTTP connection really comes from: the socket's peer, never a header. (A tornado server
    started with ``xheaders=True``, as JupyterHub's is, rewrites ``context.remote_ip`` from the client's
    ``X-Real-Ip``; tornado keeps the connection's own address as ``_orig_remote_ip``.) "" when unknown."""
    sock = getattr(getattr(conn, "stream", None), "socket", None)
    if sock is not None:
        try:
            return str(sock.getpeername()[0])
        except (OSError, IndexError, TypeError):
            pass
    context = getattr(conn, "context", None)
    return str(getattr(context, "_orig_remote_ip", None) or getattr(context, "remote_ip", "") or "")


def proxy_connection(conn: Any, trusted: tuple[Network, ...]) -> bool:
    """Is this HTTP connection the trusted proxy's? Its address is one of ``trusted`` and, on loopback, its socket
    belongs to this process's OS user or root (:func:`socket_owner`; when the kernel cannot tell, the address
    decides, as before). Decided once per TCP connection (remembered on its stream: tornado makes a new
    HTTP1Connection for each request of a kept-alive one)."""
    stream = getattr(conn, "stream", None)
    known = getattr(stream, "bw_proxy", None)
    if known is not None:
        return bool(known)
    peer = connection_peer(conn)
    ok = is_trusted(peer, trusted)
    if ok and is_loopback(peer):
        sock = getattr(stream, "socket", None)
        owner = None
        if sock is not None:
            try:
                owner = socket_owner(sock.getsockname()[:2], sock.getpeername()[:2])
            except OSError:
                owner = None
        ok = owner is None or owner in (0, os.geteuid())
    if stream is not None:
        try:
            stream.bw_proxy = ok
        except AttributeError:  # pragma: no cover - a stream that takes no attributes
            pass
    return ok
