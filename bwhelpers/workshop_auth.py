"""The workshop hub's authenticator: one room password for participants, a separate one for the hub's admins.

JupyterHub's DummyAuthenticator lets the room password log in under *any* name, the admins' included, and a hub
admin can mint a token for every participant (issue 23, F11). :class:`WorkshopAuthenticator` keeps the room
password for everyone else but asks admin names (``Authenticator.admin_users``, and users made admin in the hub's
db) for ``$WORKSHOP_HOST_PASSWORD``; with that unset, nobody can log in as an admin.
``bwhelpers.workshop.configure(authenticator="dummy")`` selects it.
"""
from __future__ import annotations

import hmac
import os
from typing import Any

from jupyterhub.auth import DummyAuthenticator
from traitlets import Unicode, default

HOST_PASSWORD_ENV = "WORKSHOP_HOST_PASSWORD"


class WorkshopAuthenticator(DummyAuthenticator):
    """DummyAuthenticator whose admins need ``host_password`` (``$WORKSHOP_HOST_PASSWORD``), never the room's."""

    host_password = Unicode(config=True, help="the password of the hub's admins (the host); empty: no admin login")

    @default("host_password")
    def _host_password_default(self) -> str:
        return os.environ.get(HOST_PASSWORD_ENV, "")

    def _is_admin(self, handler: Any, name: str) -> bool:
        if name in {self.normalize_username(a) for a in (self.admin_users or ())}:
            return True
        find = getattr(handler, "find_user", None)  # an admin made in the hub's db (the admin page)
        user = find(name) if callable(find) else None
        return bool(getattr(user, "admin", False))

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = self.normalize_username(data.get("username") or "")
        password = data.get("password") or ""
        if name and self._is_admin(handler, name):
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
