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
and per admin name, whatever the address (a kernel on the hub's machine can reach the hub directly and claim any
``X-Forwarded-For``), ``admin_failed_logins_burst`` at the same pace. While a bucket is empty every login from
that address (or as that admin) is answered 429 with ``Retry-After``, before any password is compared.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any, Callable

from jupyterhub.auth import DummyAuthenticator
from tornado import web
from traitlets import Float, Integer, Unicode, default

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
    and whose failed logins are throttled per client address and per admin name."""

    host_password = Unicode(config=True, help="the password of the hub's admins (the host); empty: no admin login")
    failed_logins_burst = Integer(10, config=True, help="failed logins one client address may make at once")
    admin_failed_logins_burst = Integer(30, config=True,
                                        help="failed logins as one admin name, from every address together")
    failed_logins_per_minute = Float(10.0, config=True, help="how fast a client's (and an admin's) allowance refills")

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

    def _is_admin(self, handler: Any, name: str) -> bool:
        if name in {self.normalize_username(a) for a in (self.admin_users or ())}:
            return True
        find = getattr(handler, "find_user", None)  # an admin made in the hub's db (the admin page)
        user = find(name) if callable(find) else None
        return bool(getattr(user, "admin", False))

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = self.normalize_username(data.get("username") or "")
        admin = bool(name) and self._is_admin(handler, name)
        address = client_key(getattr(getattr(handler, "request", None), "remote_ip", None) or "unknown")
        now = self.clock()
        waits = [self._by_address.blocked(address, now=now),
                 self._by_admin.blocked(name, now=now) if admin else None]
        if any(waits):
            self.log.warning("refused a login for %r from %s: too many failed logins", name[:32], address)
            raise TooManyLogins(max(w for w in waits if w))
        result = self._check(name, admin, data)
        if result is None:
            self._by_address.failed(address, now=now)
            if admin:
                self._by_admin.failed(name, now=now)
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
