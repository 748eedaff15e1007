"""The workshop hub's authenticator: one room password for participants, a separate one for the hub's admins.

JupyterHub's DummyAuthenticator lets the room password log in under *any* name, the admins' included, and a hub
admin can mint a token for every participant (issue 23, F11). :class:`WorkshopAuthenticator` keeps the room
password for everyone else but asks admin names (``Authenticator.admin_users``, and users made admin in the hub's
db) for ``$WORKSHOP_HOST_PASSWORD``; with that unset, nobody can log in as an admin.
``bwhelpers.workshop.configure(authenticator="dummy")`` selects it.

JupyterHub's login form has no throttle of its own (6.1: none in ``LoginHandler`` nor ``Authenticator``), so an
outsider could try about 60 passwords a second (issue 23, N3). Failed logins are counted in the sandbox's token
buckets (:class:`bwhelpers.sandbox.auth_throttle.FailureThrottle`): per client address (an IPv6 address by its
/64: one host holds the whole network) ``failed_logins_burst`` failures, refilled at ``failed_logins_per_minute``,
and per (client address, admin name) ``admin_failed_logins_burst`` at the same pace. While a bucket is empty every
login from that address (or as that admin from that address) is answered 429 with ``Retry-After``, before any
password is compared; an outsider's failures never hold up the host's login from another address (rev23c C5).

The client's address is the one rule of :mod:`bwhelpers.sandbox.forwarded`: the last ``X-Forwarded-For`` entry
(what the hub's proxy appends) on a connection from a trusted proxy (``trusted_proxies``, loopback by default: the
hub's own configurable-http-proxy), else the connection's own address. JupyterHub runs tornado with
``xheaders=True``, which believes a client's ``X-Real-Ip`` (passed on by the proxy unchanged), so the request's
``remote_ip`` is never used (rev23c C1).
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any, Callable

from jupyterhub.auth import DummyAuthenticator
from tornado import web
from traitlets import Float, Integer, List, Unicode, default

from bwhelpers.sandbox import forwarded
from bwhelpers.sandbox.auth_throttle import FailureThrottle

HOST_PASSWORD_ENV = "WORKSHOP_HOST_PASSWORD"


class TooManyLogins(web.HTTPError):
    """429: too many failed logins from this address (or as this admin); ``Retry-After`` says when to try again."""

    def __init__(self, retry_after: int):
        super().__init__(429, "too many failed logins: try again in %d s", retry_after,
                         reason="Too Many Requests")
        self.headers = {"Retry-After": str(retry_after)}
        self.jupyterhub_message = (f"Too many failed logins from your address: try again in {retry_after} s "
                                   "(ask the host for the room password if you do not have it).")


def client_key(address: str) -> str:
    """Whom a throttle bucket counts: the address, or an IPv6 address's /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and getattr(ip, "ipv4_mapped", None) is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


class WorkshopAuthenticator(DummyAuthenticator):
    """DummyAuthenticator whose admins need ``host_password`` (``$WORKSHOP_HOST_PASSWORD``), never the room's,
    and whose failed logins are throttled per client address and per (address, admin name)."""

    host_password = Unicode(config=True, help="the password of the hub's admins (the host); empty: no admin login")
    failed_logins_burst = Integer(10, config=True, help="failed logins one client address may make at once")
    admin_failed_logins_burst = Integer(5, config=True,
                                        help="failed logins as one admin name from one client address")
    failed_logins_per_minute = Float(10.0, config=True, help="how fast a client's (and an admin's) allowance refills")
    trusted_proxies = List(Unicode(), default_value=list(forwarded.LOOPBACK), config=True,
                           help="addresses or networks of the hub's proxy: only its X-Forwarded-For is believed")

    #: the throttle's clock (tests move it instead of sleeping)
    clock: Callable[[], float] = staticmethod(time.monotonic)

    @default("host_password")
    def _host_password_default(self) -> str:
        return os.environ.get(HOST_PASSWORD_ENV, "")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        per_second = self.failed_logins_per_minute / 60.0
        self._by_address = FailureThrottle(self.failed_logins_burst, per_second)
        self._by_admin = FailureThrottle(self.admin_failed_logins_burst, per_second)
        self._trusted = forwarded.networks(self.trusted_proxies)

    def _is_admin(self, handler: Any, name: str) -> bool:
        if name in {self.normalize_username(a) for a in (self.admin_users or ())}:
            return True
        find = getattr(handler, "find_user", None)  # an admin made in the hub's db (the admin page)
        user = find(name) if callable(find) else None
        return bool(getattr(user, "admin", False))

    def client_address(self, handler: Any) -> str:
        """The login's client address (:mod:`bwhelpers.sandbox.forwarded`: never ``X-Real-Ip``)."""
        request = getattr(handler, "request", None)
        conn = getattr(request, "connection", None)
        peer = forwarded.connection_peer(conn) if conn is not None else ""
        headers = getattr(request, "headers", None) or {}
        return forwarded.client_address(peer or "unknown", headers.get("X-Forwarded-For"), self._trusted, conn)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = self.normalize_username(data.get("username") or "")
        admin = bool(name) and self._is_admin(handler, name)
        address = client_key(self.client_address(handler))
        admin_key = f"{address} {name}"
        now = self.clock()
        waits = [self._by_address.blocked(address, now=now),
                 self._by_admin.blocked(admin_key, now=now) if admin else None]
        if any(waits):
            self.log.warning("refused a login for %r from %s: too many failed logins", name[:32], address)
            raise TooManyLogins(max(w for w in waits if w))
        result = self._check(name, admin, data)
        if result is None:
            self._by_address.failed(address, now=now)
            if admin:
                self._by_admin.failed(admin_key, now=now)
        return result

    def _check(self, name: str, admin: bool, data: dict[str, str]) -> str | None:
        password = data.get("password") or ""
        if admin:
            if not self.host_password:
                self.log.warning("refused admin login for %r: %s is not set", name, HOST_PASSWORD_ENV)
                return None
            if self.password and hmac.compare_digest(self.host_password.encode(), self.password.encode()):
                self.log.warning("refused admin login for %r: %s equals the room password", name, HOST_PASSWORD_ENV)
                return None
            return name if hmac.compare_digest(password.encode(), self.host_password.encode()) else None
        if self.password and not hmac.compare_digest(password.encode(), self.password.encode()):
            return None
        return data.get("username") or None
