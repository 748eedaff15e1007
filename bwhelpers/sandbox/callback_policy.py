"""
bwhelpers.sandbox.callback_policy
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Where the sandbox may send callbacks: the one home of the rule. It is applied twice: when an
application's callback URL is saved (the Dashboard answers 12803 naming the field and the fix) and
when a callback is delivered (:class:`PolicyResolver` checks every address a name resolves to, and the
connection uses only the addresses it checked, so a name that re-resolves elsewhere later, DNS
rebinding, gains nothing). In a workshop a host *name* is resolved only when delivered to, and a name
that does not resolve is refused there in the words of one that resolves to a refused address: the
answers to saving URLs and the callbacks log do not tell which names exist on the hub's network (rev23h H7).

* **Always refused:** link-local addresses (``169.254.0.0/16``, ``fe80::/10``: cloud metadata services
  live there) and the cloud metadata names and addresses (``169.254.169.254``, ``fd00:ec2::254``,
  ``100.100.100.200``, ``metadata.google.internal``, ...).
* **Workshop mode also refuses** loopback, private (RFC 1918, ``fc00::/7``, the shared ``100.64.0.0/10``),
  unspecified, multicast and reserved addresses, and the hub's own addresses, except

  - the sandbox's own request bins (its own origin and a path ``<prefix>/_sandbox/bins/<name>``), and
  - hosts the operator allows explicitly (``--allow-callback-host`` of the workshop service and of
    ``python -m bwhelpers workshop-config``: a host name, an address or a network such as ``10.1.0.0/16``).

Outside workshop mode loopback and private addresses are allowed: a local sandbox calls back to a
receiver on the same machine (``http://127.0.0.1:...``), and its own tests do.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import tornado.netutil

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: cloud metadata services by name (GCP, AWS, Azure, Alibaba, Tencent, Oracle, DigitalOcean, Equinix, OpenStack)
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.internal", "metadata.tencentyun.com", "metadata.platformequinix.com",
    "metadata.packet.net",
})
#: ... and by address (a few are outside the link-local range)
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200",
    "192.0.0.192",
    "168.63.129.16",  # Azure's WireServer (goal state, certificates, extension config): a public-range address
))
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
#: refused in workshop mode on top of the always-refused ones (``is_private`` covers RFC 1918, fc00::/7 ...)
SHARED = ipaddress.ip_network("100.64.0.0/10")
#: deprecated IPv6 site-local addresses (RFC 3879): a private network where they still route
SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.I)
_BIN_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,100}/?$")


class CallbackRefused(Exception):
    """A callback target the policy refuses: ``reason`` (safe to show) and ``fix``."""

    def __init__(self, reason: str, fix: str):
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def unwrap(addr: Address) -> Address:
    """The IPv4 address an IPv6 form carries (IPv4-mapped, 6to4 ``2002::/16``, Teredo's client), else ``addr``:
    each is judged as the IPv4 address it reaches."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if inner is not None:
            return inner
    return addr


def literal_address(host: str) -> Address | None:
    """``host`` as an address when it is one, in any form a resolver accepts (``127.1``, ``2130706433``,
    ``0x7f.0.0.1``, ``[::ffff:127.0.0.1]``); IPv4-mapped, 6to4 and Teredo IPv6 addresses are unwrapped."""
    host = host.strip("[]").lower()
    try:
        addr: Address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if not _LEGACY_IPV4.match(host):
            return None
        try:
            addr = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return None
    return unwrap(addr)


def _parse_allowed(entries: Any) -> tuple[frozenset[str], tuple[Network, ...]]:
    names: set[str] = set()
    nets: list[Network] = []
    for raw in entries or ():
        entry = str(raw).strip().strip("[]").lower()
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return frozenset(names), tuple(nets)


@dataclass(frozen=True)
class CallbackPolicy:
    """The rule for one sandbox. ``own_origins`` are ``(host, port)`` pairs the sandbox is reached at (its bins
    are there, below ``bin_prefix``); ``hub_addresses`` the hub's own addresses (refused in workshop mode)."""

    workshop: bool = False
    own_origins: frozenset[tuple[str, int]] = frozenset()
    bin_prefix: str = ""
    allowed: tuple[str, ...] = ()
    hub_addresses: frozenset[Address] = frozenset()
    _names: frozenset[str] = field(default=frozenset(), init=False, repr=False)
    _nets: tuple[Network, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        names, nets = _parse_allowed(self.allowed)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_nets", nets)

    # -- the sandbox's own bins --------------------------------------------------------------------
    def is_own_bin(self, url: str) -> bool:
        """Is ``url`` one of this sandbox's request bins: its own origin, ``<prefix>/_sandbox/bins/<name>``
        (no dot segments, no encoded characters that a proxy could turn into another path)?"""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or (host, port) not in self.own_origins or "%" in parts.path:
            return False
        head = self.bin_prefix + "/_sandbox/bins/"
        if not parts.path.startswith(head):
            return False
        name = parts.path[len(head):]
        return bool(_BIN_NAME.match(name)) and name.strip("/").strip(".") != ""

    # -- checks ------------------------------------------------------------------------------------
    def host_allowed(self, host: str) -> bool:
        """Did the operator allow this host name explicitly?"""
        return host.strip("[]").lower().rstrip(".") in self._names

    def check_address(self, addr: Address, host: str = "") -> None:
        """Refuse ``addr`` (what ``host`` resolved to) when the policy does; else return.

        The refusal names the rule and the fix, never the address a *name* resolved to (and in a workshop not even
        which kind of address: the answer must not map the host's network); an address typed in the URL is named
        with its kind."""
        addr = unwrap(addr)
        name = host.strip("[]").lower()
        named = bool(name) and literal_address(name) is None  # a host name, not an address literal
        if addr in METADATA_ADDRESSES or any(addr in net for net in LINK_LOCAL):
            kind: str | None = "a link-local or cloud metadata address"
        elif not self.workshop or any(addr in net for net in self._nets) or self.host_allowed(host):
            return
        elif addr.is_loopback:
            kind = "a loopback address (this machine)"
        elif addr.is_unspecified:
            kind = "the unspecified address (this machine)"
        elif addr in self.hub_addresses:
            kind = "the hub's own address"
        elif addr.is_multicast:
            kind = "a multicast address"
        elif addr.is_private or addr in SHARED or addr in SITE_LOCAL:
            kind = "a private network address"
        elif addr.is_reserved or not addr.is_global:
            kind = "a reserved address"
        else:
            kind = None
        if kind is None:
            return
        if named and self.workshop:
            raise self.refused_name(name)
        if named:
            shown = f"{name} resolves to {kind}"
        else:
            shown = f"{addr} is {kind}"
        if kind.startswith("a link-local"):
            raise CallbackRefused(
                f"{shown}; the sandbox never sends callbacks there",
                "use the URL of your own callback receiver (a public https:// URL, or a request bin of this sandbox)")
        raise _workshop_refusal(shown)

    @staticmethod
    def refused_name(name: str) -> CallbackRefused:
        """A workshop's refusal of the host name ``name``, the same words whether it resolves to a refused address or
        does not resolve at all (saying which would tell whether a name exists on the hub's network: rev23h H7)."""
        return _workshop_refusal(f"{name} does not resolve to an address the workshop's callback URL policy allows")

    def check_url(self, url: str) -> tuple[str, int]:
        """The checks that need no DNS (scheme, names, address literals); returns (host, port). Raises
        :class:`CallbackRefused`."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise CallbackRefused(f"the URL is not valid ({exc})", "use http(s)://host[:port]/path") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CallbackRefused("the URL is not an http(s) URL with a host", "use http(s)://host[:port]/path")
        host = parts.hostname.lower().rstrip(".")
        if host in METADATA_NAMES or host.endswith((".metadata.google.internal", ".internal.cloudapp.net")):
            raise CallbackRefused(
                f"{host} is a cloud metadata service; the sandbox never sends callbacks there",
                "use the URL of your own callback receiver (a public https:// URL, or a request bin of this sandbox)")
        if self.is_own_bin(url):
            return host, port
        addr = literal_address(host)
        if addr is not None:
            self.check_address(addr, host)
        elif self.workshop and (host == "localhost" or host.endswith(".localhost")) and not self.host_allowed(host):
            self.check_address(ipaddress.ip_address("127.0.0.1"), host)
        return host, port

    def check_resolved(self, host: str, addresses: list[Any]) -> None:
        """Refuse when any address ``host`` resolved to is refused (a name with one public and one private
        address is refused: the connection could use either)."""
        for addr in addresses:
            self.check_address(addr if not isinstance(addr, str) else ipaddress.ip_address(addr.split("%")[0]),
                               host)

    async def check_save(self, url: str, resolver: tornado.netutil.Resolver | None = None) -> None:
        """Everything a saved URL is checked for: :meth:`check_url`, then (for a name, outside a workshop) the
        addresses it resolves to now; a name that does not resolve is accepted (delivery checks it again when it
        does). A workshop's sandbox never resolves a name when it is saved: a name refused for what it resolves to
        (400) and one that does not resolve (201) told which names exist on the hub's internal network (rev23h H7:
        a cluster's services and other participants' pods under zero-to-jupyterhub); delivery refuses both alike
        (:class:`PolicyResolver`, :meth:`refused_name`)."""
        host, port = self.check_url(url)
        if self.is_own_bin(url) or literal_address(host) is not None or self.workshop:
            return
        try:
            infos = await (resolver or _default_resolver()).resolve(host, port)
        except (OSError, UnicodeError):
            return
        self.check_resolved(host, [info[1][0] for info in infos])


_RESOLVER: tornado.netutil.Resolver | None = None


#: getaddrinfo's answers that a name does not exist (not a transient failure)
_NO_SUCH_NAME = frozenset(e for e in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
                          if e is not None)


def no_such_name(exc: BaseException) -> bool:
    """Does ``exc`` (from a resolver) say the name does not exist, rather than that resolution failed for now
    (``EAI_AGAIN``, a timeout: retried, as before rev23h H7; review F1)? A name that is not valid IDNA is none."""
    return isinstance(exc, UnicodeError) or (isinstance(exc, socket.gaierror) and exc.errno in _NO_SUCH_NAME)


def _workshop_refusal(shown: str) -> CallbackRefused:
    return CallbackRefused(
        f"{shown}; in a workshop the sandbox sends callbacks only to public hosts, its own request bins and "
        "hosts the workshop's host allows (never to link-local, loopback, private or the hub's own addresses)",
        "use a request bin of this sandbox (<sandbox URL>/_sandbox/bins/<name>) or a public https:// "
        "receiver; the workshop's host can allow a host with --allow-callback-host")


def _default_resolver() -> tornado.netutil.Resolver:
    global _RESOLVER
    if _RESOLVER is None:
        _RESOLVER = tornado.netutil.DefaultExecutorResolver()
    return _RESOLVER


class PolicyResolver(tornado.netutil.Resolver):
    """A resolver for the callback HTTP client: resolves, then refuses (:class:`CallbackRefused`) when any
    address is refused by the policy, so the connection goes only to addresses that were checked."""

    def initialize(self, policy: CallbackPolicy, resolver: tornado.netutil.Resolver | None = None) -> None:
        self.policy = policy
        self.inner = resolver or tornado.netutil.DefaultExecutorResolver()

    async def resolve(self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC) -> list[Any]:
        self.policy.check_url(f"http://{host if ':' not in host else '[' + host + ']'}:{port}/")
        try:
            infos = await self.inner.resolve(host, port, family)
        except (OSError, UnicodeError) as exc:
            policy = self.policy
            if policy.workshop and literal_address(host) is None and not policy.host_allowed(host) \
                    and no_such_name(exc):
                # as a name that resolves to a refused address: which names exist on the hub's network is not told
                raise policy.refused_name(host.strip("[]").lower()) from None
            raise  # a transient failure (EAI_AGAIN, a timeout): an ordinary failed attempt, retried
        self.policy.check_resolved(host, [info[1][0] for info in infos])
        return list(infos)

    def close(self) -> None:
        self.inner.close()


def addresses_of(host: str) -> frozenset[Address]:
    """The addresses ``host`` resolves to now (blocking; for start-up only), empty when it does not."""
    addr = literal_address(host)
    if addr is not None:
        return frozenset({addr})
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return frozenset()
    out: set[Address] = set()
    for info in infos:
        try:
            out.add(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        except ValueError:
            continue
    return frozenset(out)


def origin_of(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of an http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return ((parts.hostname or "").lower(), port) if parts.hostname else None
