"""
bwhelpers.sandbox.machine
~~~~~~~~~~~~~~~~~~~~~~~~~

This machine's own network addresses: the one home of what the workshop reads about the machine it runs on.
The hub's Host guard allows them (a room types ``http://<the machine's IP>:8000``: bwhelpers.workshop) and the
callback URL policy refuses them as "the hub's own address" in workshop mode (review 23b N7: on a VM whose public
address sits on its own interface, a callback could otherwise be aimed at the hub's proxy or at services a cloud
firewall hides from the internet).
"""
from __future__ import annotations

import socket


def interface_addresses() -> set[str] | None:
    """Every IPv4 and IPv6 address of this machine's network interfaces (psutil, the ``workshop`` extra), without
    an IPv6 zone; None when psutil is missing. The host name alone is not enough: Debian and Ubuntu map it to
    127.0.1.1 in /etc/hosts."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - the workshop extra installs it
        return None
    families = (socket.AF_INET, socket.AF_INET6)
    return {str(a.address).split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family in families}
