"""
bwhelpers.sandbox.workshop.responses
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Handlers of workshop mode (served under the hub's ``/services/<name>/`` prefix):

* ``POST /participants/{user}`` — provision (or re-read) a participant's account; the spawner hook
  calls it with the sandbox's admin key (``X-Sandbox-Admin-Key``). Answers the credentials.
* ``GET /participants/{user}`` — that participant's progress: the user themself or a hub admin
  (hub OAuth: cookie after the browser login, or ``Authorization: token <hub token>``).
* ``POST /participants/{user}/reset`` — hub admins (or the admin key): empty that account.
* ``POST /participants/{user}/remove`` (or ``DELETE /participants/{user}``) — hub admins (or the admin key): expel
  the participant: their account is emptied and disabled, every credential of it refused at once;
  ``POST /participants/{user}/readmit`` undoes it.
* ``GET /board`` (HTML, refreshes itself) and ``GET /board.json`` — hub admins only.
* ``POST /room/close`` and ``POST /room/open`` — hub admins (or the admin key): the switch closing the room to new
  names (:mod:`.new_names`); ``POST /room/remove`` (form fields ``name=…`` or JSON ``{"names": [...]}``) removes
  several participants at once (the board's "remove everyone who has not started").
* ``POST /room/invite`` (optional ``hours``, ``names``) and ``POST /room/invite/stop`` — hub admins (or the admin key):
  the join link for latecomers (:mod:`.join_link`), shown on the board.

The sandbox's admin key (``X-Sandbox-Admin-Key``) stands for the operator: it may provision, read any
participant or the board, and reset.
* ``GET /me`` — the calling hub user's own progress; ``GET /`` redirects there (or to the board).
* ``GET /me/phone`` — redirects to the calling hub user's phone page (a fresh signed link to their own account).
* ``GET /oauth_callback`` — the hub's OAuth redirect (``HubOAuthCallbackHandler``).

Identity comes only from the hub (``jupyterhub.services.auth.HubOAuth``); the service has no login
of its own. A token the hub does not know (forged, expired, revoked) gets 401; a hub user who is
not the participant asked for, nor an admin, gets 403.
"""
from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import urlencode, urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado.web import HTTPError

from .. import clock, forwarded
from ..auth_throttle import THROTTLE
from ..control.responses import ControlHandler
from ..exceptions import ControlError
from ..keys import ADMIN_HEADER, same_secret
from ..phone import models as phone_models
from . import exceptions as exc
from . import join_link, login_alarm, models, new_names
from .board import render_board
from .hub_servers import NEVER_STARTED, NOT_RUNNING, hub_users
from .tenants import MAX_TOKEN_CHARS, cache_key, credential_ident


def workshop(handler: Any) -> Any:
    """The :class:`~bwhelpers.sandbox.workshop.service.WorkshopSettings` of this server."""
    return handler.application.settings["workshop"]


class WorkshopHandler(HubOAuthenticated, ControlHandler):
    """JSON errors in the control plane's shape; the hub user from HubOAuth."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        # the board and the participant pages carry forms (a reset): no other page may frame them (clickjacking)
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy", "frame-ancestors 'none'")

    def answer(self, result: dict[str, Any], notice: dict[str, Any]) -> None:
        """A host action's answer: the board's form (HTML with its ``_xsrf``) goes back to the board with ``notice``
        in its query (what the board says was done), anything else gets ``result`` as JSON."""
        if "text/html" in self.request.headers.get("Accept", "") and self.get_argument("_xsrf", None):
            self.redirect(f"{workshop(self).prefix}/board?{urlencode(notice)}", status=303)
            return
        self.send_json(result)

    async def prepare(self) -> None:  # type: ignore[override]
        super().prepare()
        self.set_header("Cache-Control", "no-store")
        await self.ask_hub_first()

    async def ask_hub_first(self) -> None:
        """Ask the hub about this request's hub token (header or cookie) now, without holding the event loop
        (HubAuth's own question, in ``get_current_user``, blocks it until the hub answers): the answer lands in the
        cache that question reads. Usually done already before the request queued (:mod:`.tenants`). Not for the
        admin key, a token the failure throttle refuses (429) or one no hub token can be."""
        if self.has_admin_key():
            return
        token = self.hub_auth.get_token(self)
        if not token or len(token) > MAX_TOKEN_CHARS:
            return
        if THROTTLE.blocked(self.client_address(), credential_ident(token), now=clock.now(self.db)) is not None:
            return
        session = self.hub_auth.get_session_id(self)
        if cache_key(token, session) in self.hub_auth.cache:
            return
        try:
            await self.hub_auth.user_for_token(token, session_id=session, sync=False)
        except Exception:  # the hub is down or refuses the service: get_current_user answers it as it always did
            return

    def has_admin_key(self) -> bool:
        """Does the request carry the sandbox's admin key (``X-Sandbox-Admin-Key``, as the control plane)?"""
        return same_secret(self.request.headers.get(ADMIN_HEADER, "").strip(), workshop(self).admin_key)

    def check_csrf(self) -> None:
        """The control plane's content-type rule does not fit here: the board's reset is an HTML form, guarded by
        HubOAuth's ``_xsrf`` token; every other call carries a header (hub token, admin key) that a page on
        another site cannot send. A cross-origin ``Origin`` is still refused."""
        origin = self.request.headers.get("Origin")
        if origin and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            host = (urlparse(origin).hostname or "").lower()
            if "*" not in self.ctx.allowed_hosts and host not in self.ctx.allowed_hosts:
                raise exc.CrossOrigin()

    def hub_user(self, *, browser_login: bool = False) -> dict[str, Any] | None:
        """The hub user of this request, or an error: 401 (no or bad token), 403 (no access to the service).

        With ``browser_login`` a plain browser visit without a session is redirected to the hub's login
        (and None is returned: the caller stops).
        """
        token = self.hub_auth.get_token(self, in_cookie=False)
        ident = credential_ident(token) if token else None
        address, now = self.client_address(), clock.now(self.db)
        if ident is not None:  # this token failed lately from an address out of failures: 429, the hub is not asked
            wait = THROTTLE.blocked(address, ident, now=now)
            if wait is not None:
                raise self.throttled(wait)
        empty = THROTTLE.blocked(address, now=now) if ident is not None else None  # before this request counts
        if token and len(token) > MAX_TOKEN_CHARS:  # no hub token is that long: a failure, not a question to the hub
            self._cached_hub_user = None
            self._hub_auth_user_cache = None
        user = self.get_current_user()
        if user:
            self.limit_rate(user)
            return user
        model = getattr(self, "_cached_hub_user", None)
        if model:  # identified by the hub, but without the scope to use this service
            raise exc.MissingServiceScope(model.get("name"), self.hub_auth.access_scopes)
        if self.request.method not in ("GET", "HEAD") and self.get_cookie(self.hub_auth.cookie_name):
            raise exc.StaleXsrf()
        if ident is not None:  # a token the hub does not know counts against the address, as a wrong password does
            THROTTLE.failed(address, ident, now=now)
            if empty is not None:  # a new token was asked of the hub (it may be someone's right one): still 429
                raise self.throttled(empty)
            raise exc.HubTokenInvalid()
        if browser_login and self.request.method in ("GET", "HEAD") and "text/html" in \
                self.request.headers.get("Accept", ""):
            self.redirect(self.get_login_url())
            return None
        raise exc.NotLoggedIn()

    def limit_rate(self, user: dict[str, Any]) -> None:
        """The ``requests_per_second`` quota of the hub user's account (a hub user without one, the host: their
        own bucket), as their kernel's requests have: one person, one rate, whichever address they come from."""
        row = models.participant(self.db, user["name"])
        self.check_rate(str(row["account_id"]) if row is not None else "hub:" + str(user["name"]))

    def require_hub_admin(self, *, browser_login: bool = False) -> dict[str, Any] | None:
        user = self.hub_user(browser_login=browser_login)
        if user is None:
            return None
        if not user.get("admin"):
            raise exc.NotHubAdmin(user["name"])
        return user

    def known(self, name: str, user: dict[str, Any] | None) -> Any:
        """The participant row, or 403 (non-admins never learn who exists) / 404 (admins)."""
        row = models.participant(self.db, name)
        if row is None:
            if user is not None and not user.get("admin"):
                raise exc.OwnDataOnly(user["name"])
            raise exc.UnknownParticipant(name)
        return row

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if error is not None and type(error).__name__ == "HTTPError" and status_code == 403:
            # HubAuthenticated raises a bare 403 for a user without the service's access scope
            kwargs["exc_info"] = (exc.HubForbidden, exc.HubForbidden(error.log_message), None)
        super().write_error(status_code, **kwargs)


class HostAction(WorkshopHandler):
    """``POST /participants/{user}/<action>``: hub admins (the board's forms, or a hub token) or the admin key."""

    #: the board's notice after the form's redirect (``?done=<name>&action=``)
    action = ""

    def act(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, name: str) -> None:
        self.run(name)

    def run(self, name: str) -> None:
        user = None
        if not self.has_admin_key():
            user = self.require_hub_admin()
        self.known(name, user)
        try:
            result = self.act(name)
        except models.WorkshopError as refused:
            raise exc.WorkshopRefused(refused.description, refused.status) from None
        self.answer(result, {"done": name, "action": self.action})


class ResetHandler(HostAction):
    action = "reset"

    def act(self, name: str) -> dict[str, Any]:
        return models.reset(self.db, name, workshop(self).secret, workshop(self).create_account)


class RemoveHandler(HostAction):
    """The host expels a participant (rev23e E6): their account is emptied and disabled, every credential of it
    refused at once (:func:`.models.remove`). ``DELETE /participants/{user}`` does the same."""

    action = "removed"

    def act(self, name: str) -> dict[str, Any]:
        return models.remove(self.db, name)


class ReadmitHandler(HostAction):
    """Undo a removal: the same credentials work again."""

    action = "let back in"

    def act(self, name: str) -> dict[str, Any]:
        return models.readmit(self.db, name, workshop(self).secret, workshop(self).create_account)


class ParticipantHandler(RemoveHandler):
    """``GET`` (progress), ``POST`` (provision: the admin key) and ``DELETE`` (:class:`RemoveHandler`, for scripts)."""

    def delete(self, name: str) -> None:
        self.run(name)

    def get(self, name: str) -> None:
        if self.has_admin_key():  # the operator (the hub's hook, scripts on the hub machine)
            self.send_json(participant_view(self.db, self.known(name, None)))
            return
        user = self.hub_user()
        assert user is not None
        if user["name"] != name and not user.get("admin"):
            raise exc.OwnDataOnly(user["name"], name)
        row = self.known(name, user)
        self.send_json(participant_view(self.db, row))

    def post(self, name: str) -> None:
        if not self.has_admin_key():
            raise exc.ProvisioningNeedsAdminKey()
        if models.participant(self.db, name) is None and new_names.closed(room_file(self)) is not None:
            raise exc.ClosedToNewNames(name)  # review 23f F4: the host's switch (the hub refuses such logins too)
        try:
            creds, created = models.provision(self.db, name, workshop(self).secret, workshop(self).create_account)
        except models.WorkshopError as refused:
            raise exc.WorkshopRefused(refused.description, refused.status) from None
        body = {"participant": name, "created": created, "credentials": creds,
                "sandbox_url": workshop(self).public_url,
                "sandbox_key": self.ctx.instance_key}  # lets the participant's kernel check the sandbox (issue 13)
        self.send_json(body, status=201 if created else 200)


class MeHandler(WorkshopHandler):
    def get(self) -> None:
        user = self.hub_user(browser_login=True)
        if user is None:
            return
        row = models.participant(self.db, user["name"])
        if row is None:
            raise exc.NoAccountYet(user["name"])
        self.send_json(participant_view(self.db, row))


class MyPhoneHandler(WorkshopHandler):
    """``GET /me/phone``: the calling hub user's phone page (a fresh signed link to their own account)."""

    def get(self) -> None:
        user = self.hub_user(browser_login=True)
        if user is None:
            return
        row = models.participant(self.db, user["name"])
        if row is None:
            raise exc.NoAccountYet(user["name"])
        if models.removed(self.db, row) is not None:
            raise exc.Removed(user["name"])
        path, _expires = phone_models.link_path(self.ctx.admin_key, row["account_id"], phone_models.LINK_TTL,
                                                phone_models.now(self.db))
        self.redirect(f"{workshop(self).prefix}{path}", status=303)


class RootHandler(WorkshopHandler):
    def get(self) -> None:
        user = self.hub_user(browser_login=True)
        if user is None:
            return
        self.redirect(f"{workshop(self).prefix}/{'board' if user.get('admin') else 'me'}")


class BoardHandler(WorkshopHandler):
    async def get(self) -> None:
        if self.has_admin_key():
            user: dict[str, Any] | None = {"name": "(admin key)", "admin": True}
        else:
            user = self.require_hub_admin(browser_login=True)
        if user is None:
            return
        rows, admins = with_hub_states(board_rows(self.db), await hub_users(self.hub_auth))
        alarm = login_alarm.read(login_alarm.path_beside(self.db.path))  # the hub's authenticator writes it
        closed = new_names.closed(room_file(self))
        names_alarm = new_names.read_alarm(new_names.alarm_path_beside(self.db.path))  # the authenticator's too
        if self.request.path.endswith(".json") or self.get_argument("format", "") == "json":
            self.send_json({"participants": rows, "admins": admins, "login_alarm": alarm,
                            "new_names_alarm": names_alarm,
                            "closed_to_new_names": closed, "join_link": join_view(self),
                            "steps": [{"key": k, "title": t} for k, t in models.STEPS], "time": time.time()})
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(render_board(rows, models.STEPS, xsrf=self.xsrf_token.decode("ascii"),
                                 prefix=workshop(self).prefix, admin=html.escape(user["name"]),
                                 refresh=workshop(self).refresh, notice=notice(self, rows, closed),
                                 admins=admins, alarm=login_alarm.describe(alarm) if alarm else "",
                                 closed=new_names.describe(closed) if closed else "", invite=join_view(self),
                                 same_origin=workshop(self).same_origin,
                                 names_alarm=new_names.describe_alarm(names_alarm) if names_alarm else ""))


def room_file(handler: Any) -> Any:
    """The host's "closed to new names" switch of this service (:mod:`.new_names`, beside the db)."""
    return new_names.path_beside(handler.db.path)


class RoomAction(WorkshopHandler):
    """``POST /room/<action>``: hub admins (the board's forms, with ``_xsrf``, or a hub token) or the admin key."""

    #: the board's notice after the form's redirect (``?room=<action>&count=``)
    action = ""

    def host(self) -> str:
        if self.has_admin_key():
            return "(admin key)"
        user = self.require_hub_admin()
        assert user is not None
        return str(user["name"])

    def done(self, result: dict[str, Any], count: int = 0) -> None:
        self.answer(result, {"room": self.action, "count": count})


class CloseRoomHandler(RoomAction):
    """The host closes the room to new names (review 23f F4): the hub refuses logins under names it does not know,
    the service makes no new account; everyone already in carries on."""

    action = "closed"

    def post(self) -> None:
        record = new_names.close(room_file(self), self.host())
        self.done({"closed_to_new_names": True, **record})


class OpenRoomHandler(RoomAction):
    action = "opened"

    def post(self) -> None:
        self.host()
        new_names.reopen(room_file(self))
        self.done({"closed_to_new_names": False})


def join_file(handler: Any) -> Any:
    """The host's current join link of this service (:mod:`.join_link`, beside the db)."""
    return join_link.path_beside(handler.db.path)


def join_view(handler: Any) -> dict[str, Any] | None:
    """The current join link for the host (its link, expiry and new names), or None."""
    record = join_link.current(join_file(handler), clock.now(handler.db))
    if record is None:
        return None
    # the hub's public URL when JupyterHub gives it (subdomains: the service has an origin of its own), else the hub
    # as the host's browser reached the board (its allowed Host and forwarded scheme), not the kernels' address
    # (under TLJH http://127.0.0.1)
    hub = workshop(handler).hub_url or handler.absolute("").rsplit("/services/", 1)[0] + "/hub/"
    return {"link": join_link.link(hub, workshop(handler).admin_key, record),
            "expires": record["expires"], "names": record["names"]}


class InviteHandler(RoomAction):
    """The host makes a join link for latecomers (review 23f F5): the previous one stops working."""

    action = "invited"

    def post(self) -> None:
        self.host()
        body = self.body_json() if "json" in self.request.headers.get("Content-Type", "") else {}
        body = body if isinstance(body, dict) else {}
        hours = _bounded(body.get("hours", self.get_argument("hours", str(join_link.HOURS))), "hours",
                         join_link.MIN_HOURS, join_link.MAX_HOURS)
        names = int(_bounded(body.get("names", self.get_argument("names", str(join_link.NAMES))), "names",
                             1, join_link.MAX_NAMES))
        join_link.make(join_file(self), hours, names, clock.now(self.db))
        view = join_view(self)
        if view is None:  # pragma: no cover - MIN_HOURS keeps a new link's expiry ahead of the clock
            raise exc.BadJoinLinkField("hours", join_link.MIN_HOURS, join_link.MAX_HOURS)
        self.done(view)


class StopInviteHandler(RoomAction):
    action = "stopped"

    def post(self) -> None:
        self.host()
        join_link.stop(join_file(self))
        self.done({"link": None})


def _bounded(value: Any, field: str, least: float, most: float) -> float:
    """A number from ``least`` to ``most`` (400 naming the field otherwise), checked before anything changes."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not (least <= number <= most) or isinstance(value, bool):
        raise exc.BadJoinLinkField(field, least, most)
    return number


#: participants one ``POST /room/remove`` may name
MAX_REMOVE_AT_ONCE = 1000


class RemoveSeveralHandler(RoomAction):
    """``POST /room/remove``: remove several participants at once (each as :class:`RemoveHandler`); names without an
    account are listed as unknown, nothing else is refused."""

    action = "removed"

    def post(self) -> None:
        self.host()
        names: Any = self.get_arguments("name")
        if not names and "json" in self.request.headers.get("Content-Type", ""):
            body = self.body_json()
            names = body.get("names") if isinstance(body, dict) else None
        if not isinstance(names, list) or not names or len(names) > MAX_REMOVE_AT_ONCE \
                or not all(isinstance(n, str) for n in names):
            raise exc.BadNameList(MAX_REMOVE_AT_ONCE)
        removed, unknown = [], []
        for name in dict.fromkeys(names):
            if models.participant(self.db, name) is None:
                unknown.append(name)
            else:
                models.remove(self.db, name)
                removed.append(name)
        self.done({"removed": removed, "unknown": unknown}, len(removed))


#: the access log's status of an OAuth return whose client left while it waited for its answer (nginx's "client
#: closed request"): nothing is sent
CLIENT_LEFT = 499


class OAuthCallbackHandler(HubOAuthCallbackHandler):
    """The hub's OAuth redirect back. A ``state`` whose login is over (HubOAuth forgets it once its redirect back is
    answered, or after 10 minutes) is refused at once, without asking the hub for the code's token (rev23f F2: one
    state cookie replayed with made-up codes cost a hub request each); a browser already logged in (the service's
    cookie) is HubOAuth's as before (it is sent on to its page). A code the hub refuses (HubAuth turns the hub's 4xx
    into a 500 "Failed to check authorization") is the client's error: 400 saying to log in again, and a failed
    login of its address (the failure throttle: 429 with ``Retry-After`` once its failures are used up), answered
    among the address's refused ones (:meth:`~bwhelpers.sandbox.server.SandboxApplication.refused_turn`, rev23g G2)."""

    async def get(self) -> None:
        state = self.get_argument("state", "")
        if self.get_argument("code", "") and state and not self.get_argument("error", "") \
                and not self.hub_auth._oauth_states.get(state) and not self.get_cookie(self.hub_auth.cookie_name):
            self._refuse(exc.LoginOver())
            return
        ctx = self.application.settings["sandbox"]
        address = forwarded.client_address(self.request.remote_ip or "", self.request.headers.get("X-Forwarded-For"),
                                           ctx.trusted_proxies, self.request.connection)
        empty = THROTTLE.blocked(address, now=clock.now(ctx.db))  # before this one counts
        try:
            await super().get()
        except HTTPError as err:
            if err.status_code != 500 or not str(err.log_message or "").startswith("Failed to check authorization"):
                raise  # the hub unreachable (500), its own failure (502), a state mismatch (403)...
            # a code the hub refused is a failed login of this address (a made-up code is like a made-up token,
            # rev23g G2); its answer waits among the address's refused ones, so the next login's return asks the hub
            # now and a flood's connections wait there, paced by these 429s, not in front of a new browser's return
            THROTTLE.failed(address, now=clock.now(ctx.db))  # now: the hub's answer may have taken a while
            if await self.application.refused_turn(self.request, self.on_connection_close):
                self._refuse(exc.LoginRefused() if empty is None else exc.LoginThrottled(empty))
            else:  # its client left while it waited: nothing is sent, and the access log does not say 200
                self.set_status(CLIENT_LEFT, "Client Closed Request")

    def _refuse(self, refused: ControlError) -> None:
        """Answer ``refused`` here: this handler is HubOAuth's, not a ControlHandler."""
        kind, body = refused.render()
        self.set_status(refused.status)
        self.set_header("Content-Type", kind)
        for name, value in refused.headers.items():
            self.set_header(name, value)
        self.finish(body)


def notice(handler: Any, rows: list[dict[str, Any]], closed: Any) -> str:
    """The board's line after one of its forms (``?done=<name>&action=``, ``?room=<action>&count=``; ``?reset=<name>``
    of older links), only when it is true of the board it tops: a participant the board shows, in the state the action
    left (removed, or back in), the room's switch and join link as they are, a count of removals no greater than the
    removed rows. Anyone can send the host a link with any query (rev23h H10: "SECURITY NOTICE: ... log in again at
    http://evil.example" appeared as the board's own line), so nothing of it is shown as it came."""
    room = handler.get_argument("room", "")
    if room == RemoveSeveralHandler.action:
        count = handler.get_argument("count", "")
        removed = sum(1 for r in rows if r.get("removed"))
        if not count.isdigit() or not 0 < int(count) <= removed:
            return ""
        return f"{int(count)} participants were removed (each can be let back in)."
    if room in (CloseRoomHandler.action, OpenRoomHandler.action):
        return f"The room was {room} to new names." if (closed is not None) == (room == "closed") else ""
    if room in (InviteHandler.action, StopInviteHandler.action):
        current = join_view(handler) is not None
        if room == InviteHandler.action:
            return "A new join link is below: the earlier one no longer works." if current else ""
        return "" if current else "The join link was stopped: it no longer lets anyone in."
    name = handler.get_argument("done", "") or handler.get_argument("reset", "")
    action = handler.get_argument("action", "reset")
    row = next((r for r in rows if r["participant"] == name), None)
    if row is None or action not in ("reset", RemoveHandler.action, ReadmitHandler.action):
        return ""
    if action != "reset" and bool(row.get("removed")) != (action == RemoveHandler.action):
        return ""
    return f"{name} was {action}."


def participant_view(db: Any, row: Any) -> dict[str, Any]:
    view = {"participant": row["username"], "site_id": row["site_id"], "created": row["created"],
            "spawns": row["spawns"], "resets": row["resets"], "removed": models.removed(db, row)}
    view.update(models.progress(db, row["account_id"]))
    return view


def board_rows(db: Any) -> list[dict[str, Any]]:
    return [participant_view(db, row) for row in models.participants(db)]


def with_hub_states(rows: list[dict[str, Any]], hub: dict[str, dict[str, Any]] | None
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """The board's participants with their server's state from the hub (None: unknown), hub admins left out (the
    host's own account is no participant), and hub users without an account yet added as "never started"."""
    if hub is None:
        return [{**r, "server": None} for r in rows], []
    admins = sorted(name for name, info in hub.items() if info["admin"])
    out = [{**r, "server": hub.get(r["participant"], {}).get("server", NOT_RUNNING)}
           for r in rows if r["participant"] not in admins]
    known = {r["participant"] for r in rows}
    out += [{"participant": name, "account_id": None, "steps": {}, "last_error": None, "done": False,
             "messages": {"sent": 0, "delivered": 0},
             "server": NEVER_STARTED if info["server"] == NOT_RUNNING else info["server"]}
            for name, info in sorted(hub.items()) if not info["admin"] and name not in known]
    return out, admins
