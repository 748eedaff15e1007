"""The workshop hub's authenticator: one room password for participants, a separate one for the hub's admins.

JupyterHub's DummyAuthenticator lets the room password log in under *any* name, the admins' included, and a hub
admin can mint a token for every participant (issue 23, F11). :class:`WorkshopAuthenticator` keeps the room
password for everyone else but asks admin names (``Authenticator.admin_users``, and users made admin in the hub's
db) for ``$WORKSHOP_HOST_PASSWORD``; with that unset, nobody can log in as an admin.
``bwhelpers.workshop.configure(authenticator="dummy")`` selects it.

JupyterHub's login form has no throttle of its own (6.1: none in ``LoginHandler`` nor ``Authenticator``), so an
outsider could try about 60 passwords a second (issue 23, N3). Failed logins are counted in the sandbox's token
buckets (:class:`bwhelpers.sandbox.auth_throttle.FailureThrottle`) and checked before any password is compared
(answered 429 with ``Retry-After`` while a bucket is empty):

* per (client address, name): ``failed_logins_burst`` failures, refilled at ``failed_logins_per_minute``; per
  (client address, admin name) ``admin_failed_logins_burst`` at the same pace. A client address is an IPv6
  address's /64 (one host holds the whole network);
* per client address, every name together: ``address_failed_logins_burst``, refilled at
  ``address_failed_logins_per_minute`` (a guesser there cannot try a fresh name per guess);
* except for a **browser that logged in before under that name** (rev23d D5): a successful login sets a signed
  cookie (:data:`BROWSER_COOKIE`, the hub's cookie secret, naming the user and the browser), and that browser's
  logins under that name are counted in a bucket of its own (``failed_logins_burst``) instead of its address's.
  Behind a venue's NAT the whole room is one address: a guesser there pauses only that address's new browsers
  (latecomers, at most ``address_failed_logins_per_minute`` guesses a minute, as before), never the host nor a
  participant who logged in before from their browser. An outsider's failures never hold up the host's login
  from another address (rev23c C5).

The client's address is the one rule of :mod:`bwhelpers.sandbox.forwarded`: the last ``X-Forwarded-For`` entry
(what the hub's proxy appends) on a connection from a trusted proxy (``trusted_proxies``, loopback by default: the
hub's own configurable-http-proxy), else the connection's own address. JupyterHub runs tornado with
``xheaders=True``, which believes a client's ``X-Real-Ip`` (passed on by the proxy unchanged), so the request's
``remote_ip`` is never used (rev23c C1; the generated config also makes ``remote_ip`` true for the rest of the hub:
:mod:`bwhelpers.hub_client_address`).

Per-address buckets do not bound guessing from many addresses at the one room password, so failed logins are also
counted **room-wide** (``room_failed_logins_burst`` failures, refilled at ``room_failed_logins_per_minute``). While
the room's allowance is used up (the **login alarm**), a login from an address that has not logged in successfully
before is answered 429 before any password is compared; addresses that have logged in (participants already in,
the host) and the admin names (their own password and allowances below) are
checked as usual. So however many addresses guess, the room password gets at most the room's refill rate of
guesses. Each admin name has a room-wide allowance of its own (``admin_room_failed_logins_burst``, refilled at
``admin_room_failed_logins_per_minute``): once used up, that name's logins pause too (rev23d D2) except from an
address where that admin logged in before, or a browser that did (its cookie): an address known from a
participant's login gets no pass at the admin's name (rev23e E1: the room password is handed to every stranger). The hub's log says when the alarm starts and, while it lasts, once a minute with the counts, and the
authenticator writes it to ``alarm_file`` (:mod:`bwhelpers.sandbox.workshop.login_alarm`) for the host's board.

**New names** (review 23f F4): the room password logs in under any name, and each new name's first spawn is a sandbox
account taking a place in the room. A login under a name the hub does not know yet (no hub user; admins aside) is
counted per client address: at most ``new_names_per_address_per_hour`` (a bucket refilled at that many an hour),
then 429 saying so; names already known log in as before. New names are also counted **room-wide** (rev23h H5: a
stranger with the room password and a few addresses took every place): ``room_new_names_burst``, refilled at
``room_new_names_per_hour``. While that is used up (the **new-names alarm**: ``NEW NAMES ALARM`` in the hub's log, at
its start and once a minute, and ``names_alarm_file`` for the board, :mod:`bwhelpers.sandbox.workshop.new_names`) a
new name is refused (429) from every address, known ones included (a stranger's addresses are known after their
first name), except from a browser that opened the join link (counted against the link). Only a login with the right
room password is told (a
wrong one is the same failure for every name, so the form never says which names are in the room: rev23g G7). While the host has
closed the room to new names (the board's switch, :mod:`bwhelpers.sandbox.workshop.new_names`, the file
``room_file``), such a login is refused (403) whatever the address.

**System accounts** (rev23h H9): a login under the name of a system account of the hub's machine (``root``,
``daemon``, ... ``nobody``, the hub's own user, members of sudo/admin/wheel: :func:`system_account`) is refused (403) to
the right password, whatever the spawner: a local spawner would start that account's server (``refuse_system_accounts``).

**The join link** (review 23f F5): behind a venue's NAT an outsider guessing at the form pauses the address's new
browsers, latecomers included. The host makes a join link on the board (:mod:`bwhelpers.sandbox.workshop.join_link`:
a JWT signed with a key derived from the sandbox's admin key, the current one in ``join_file``); opening it
(``<hub>/hub/join?join_token=…``, :class:`JoinHandler`) sets a signed cookie (:data:`INVITED_COOKIE`) naming the
invitation and the browser. Such a browser's logins under participants' names are counted against the invitation at
its address, not the address alone: its failed logins in a bucket of (invitation, address)
(``address_failed_logins_burst``, refilled as an address's: a link holder who guesses pauses the link at their own
address only, rev23g G6) and per (browser, name), its new names in the invitation's ``names``. The room password is
still needed, a room closed to new names stays closed, the login alarm applies as to any browser, and an admin name's
login ignores the invitation (rev23g G4: the host logs in with their own bounds).
"""
from __future__ import annotations

import hmac
import os
import re
import secrets
import time
from typing import Any, Callable

from jupyterhub.auth import DummyAuthenticator
from jupyterhub.handlers import BaseHandler
from jupyterhub.utils import url_path_join
from tornado import web
from traitlets import Bool, Float, Integer, List, Unicode, default

from bwhelpers import hub_client_address
from bwhelpers.sandbox import forwarded
from bwhelpers.sandbox.auth_throttle import FailureThrottle
from bwhelpers.sandbox.workshop import join_link, login_alarm, new_names, room_files
from bwhelpers.sandbox.workshop.models import USERNAME_RE, USERNAME_RULE

HOST_PASSWORD_ENV = "WORKSHOP_HOST_PASSWORD"
#: the signed cookie of a browser that logged in (its user's name and a random id): its own failure allowance
BROWSER_COOKIE = "bw-workshop-browser"
#: days the browser cookie is kept (and believed)
BROWSER_COOKIE_DAYS = 30
#: the signed cookie of a browser that opened the host's join link (the invitation's id and a random browser id)
INVITED_COOKIE = "bw-workshop-invited"
#: addresses that logged in, and failed logins, remembered at most (then the least recently seen go, one by one)
_MAX_REMEMBERED = 10_000


def _remember(seen: dict[str, float], key: str, now: float) -> None:
    """Mark ``key`` as seen now, the most recent last; beyond :data:`_MAX_REMEMBERED` the least recently seen is
    forgotten, one at a time (never all at once: a flood of new addresses' logins would otherwise make the host's
    own address unknown again)."""
    seen.pop(key, None)
    seen[key] = now
    while len(seen) > _MAX_REMEMBERED:
        del seen[next(iter(seen))]


class TooManyLogins(web.HTTPError):
    """429: too many failed logins from this address (or as this admin); ``Retry-After`` says when to try again."""

    def __init__(self, retry_after: int, room: bool = False):
        super().__init__(429, "too many failed logins: try again in %d s", retry_after,
                         reason="Too Many Requests")
        self.headers = {"Retry-After": str(retry_after)}
        self.jupyterhub_message = (
            f"Too many failed logins at this hub: logins from new addresses are paused. Try again in {retry_after} s, "
            "or ask the host." if room else
            f"Too many failed logins from your address: try again in {retry_after} s. On a shared network (a "
            "venue's Wi-Fi), ask the host for the join link: it lets your browser in without waiting "
            "(and ask for the room password if you do not have it).")


class BadName(web.HTTPError):
    """400: a name the workshop sandbox cannot provision (``USERNAME_RE``); the message says the rule."""

    def __init__(self, name: str):
        super().__init__(400, "not a workshop name", reason="Bad Request")
        self.jupyterhub_message = (f"{name[:40]!r} cannot be a name at this workshop: use {USERNAME_RULE} "
                                   "(no spaces, accents or apostrophes: e.g. jose or obrien).")


class TooManyNewNames(web.HTTPError):
    """429: this client address made the most new names an hour allows; ``Retry-After`` says when the next may."""

    def __init__(self, retry_after: int, made: int):
        super().__init__(429, "too many new names from this address: try again in %d s", retry_after,
                         reason="Too Many Requests")
        self.headers = {"Retry-After": str(retry_after)}
        self.jupyterhub_message = (
            f"This network address made {made} new names at this workshop in the last hour, the most one address "
            f"may: log in under the name you used before, or ask the host for a join link (or try again in "
            f"{retry_after} s).")


class NewNamesPaused(web.HTTPError):
    """429: the room made the most new names its bound allows (the new-names alarm, rev23h H5); ``Retry-After`` says
    when the next may."""

    def __init__(self, retry_after: int):
        super().__init__(429, "new names are paused room-wide: try again in %d s", retry_after,
                         reason="Too Many Requests")
        self.headers = {"Retry-After": str(retry_after)}
        self.jupyterhub_message = (
            "Many new names were made at this workshop in a short time, so new names are paused: log in under the "
            f"name you used before, or ask the host for a join link (or try again in {retry_after} s).")


class RoomClosed(web.HTTPError):
    """403: the host closed the room to new names (:mod:`bwhelpers.sandbox.workshop.new_names`)."""

    def __init__(self, record: dict[str, Any]):
        super().__init__(403, "the room is closed to new names", reason="Forbidden")
        since = time.strftime("%H:%M", time.localtime(record["since"])) if record.get("since") else "now"
        self.jupyterhub_message = (f"The host closed this workshop to new names (since {since}): log in under the "
                                   "name you used before, or ask the host to open the room to new names.")


class SystemAccountName(web.HTTPError):
    """403: a system account's name of the hub's machine (root, daemon, ...): with a spawner that starts each server
    as its name's Unix user it would run as that account (rev23h H9)."""

    def __init__(self, name: str):
        super().__init__(403, "a system account's name", reason="Forbidden")
        self.jupyterhub_message = (f"{name[:40]!r} is the name of a system account of this hub's machine and cannot "
                                   "be a name at this workshop: pick another name.")


#: Unix accounts up to this uid are the system's (Debian's and Ubuntu's SYS_UID_MAX), and nobody/nogroup's 65534
SYSTEM_UID_MAX = 999
_NOBODY_UIDS = frozenset({65534, 4294967294})
#: members of these groups may become root (sudo: Debian/Ubuntu; admin: older Ubuntu; wheel: Red Hat, SUSE, Arch)
ADMIN_GROUPS = ("sudo", "admin", "wheel")


def system_account(name: str) -> bool:
    """Is ``name`` a system account of this machine: uid up to :data:`SYSTEM_UID_MAX` or nobody, the user this
    hub runs as, or a member of an :data:`ADMIN_GROUPS` group (a cloud image's ``ubuntu`` / ``cloudsdk``, uid 1000
    with sudo: review F9)?"""
    try:
        import pwd

        entry = pwd.getpwnam(name)
    except (ImportError, KeyError, ValueError):  # not POSIX, no such user, a name pwd cannot take (a NUL)
        return False
    if entry.pw_uid <= SYSTEM_UID_MAX or entry.pw_uid in _NOBODY_UIDS or entry.pw_uid == os.geteuid():
        return True
    import grp

    for group in ADMIN_GROUPS:
        try:
            found = grp.getgrnam(group)
        except KeyError:  # no such group on this machine
            continue
        if entry.pw_gid == found.gr_gid or entry.pw_name in found.gr_mem or name in found.gr_mem:
            return True
    return False


class JoinLinkUsedUp(web.HTTPError):
    """403: the join link's new names are all taken."""

    def __init__(self, names: int):
        super().__init__(403, "the join link's new names are used up", reason="Forbidden")
        self.jupyterhub_message = (f"The join link you opened was used for its {names} new names: log in under the "
                                   "name you used before, or ask the host for a fresh join link.")


class JoinLinkRefused(web.HTTPError):
    """400/403: a join link that lets no browser in (made up, expired, stopped); the message says what to do."""

    def __init__(self, error: join_link.JoinLinkError):
        super().__init__(error.status, "join link refused: %s", type(error).__name__,
                         reason="Bad Request" if error.status == 400 else "Forbidden")
        self.jupyterhub_message = error.message[:1].upper() + error.message[1:] + "."


#: whom a throttle bucket counts: the address, or an IPv6 address's /64 network (one rule: the sandbox's)
client_key = forwarded.client_key


class WorkshopAuthenticator(DummyAuthenticator):
    """DummyAuthenticator whose admins need ``host_password`` (``$WORKSHOP_HOST_PASSWORD``), never the room's,
    and whose failed logins are throttled per client address and per (address, admin name)."""

    host_password = Unicode(config=True, help="the password of the hub's admins (the host); empty: no admin login")
    failed_logins_burst = Integer(10, config=True,
                                  help="failed logins under one name one client address (or browser) may make at once")
    address_failed_logins_burst = Integer(30, config=True,
                                          help="failed logins under any names one client address may make at once "
                                               "(a browser that logged in before under its name is not held up)")
    address_failed_logins_per_minute = Float(10.0, config=True,
                                             help="how fast a client address's allowance for all names refills")
    admin_failed_logins_burst = Integer(5, config=True,
                                        help="failed logins as one admin name from one client address")
    failed_logins_per_minute = Float(10.0, config=True, help="how fast a client's (and an admin's) allowance refills")
    trusted_proxies = List(Unicode(), default_value=list(forwarded.LOOPBACK), config=True,
                           help="addresses or networks of the hub's proxy: only its X-Forwarded-For is believed")
    room_failed_logins_burst = Integer(60, config=True,
                                       help="failed logins from all addresses together before the login alarm")
    room_failed_logins_per_minute = Float(30.0, config=True,
                                          help="how fast the room's allowance refills (guesses a minute at most, "
                                               "from addresses that never logged in, during the alarm)")
    admin_room_failed_logins_burst = Integer(30, config=True,
                                             help="failed logins as one admin name from all addresses together "
                                                  "before that name's logins from new addresses pause")
    admin_room_failed_logins_per_minute = Float(10.0, config=True,
                                                help="how fast an admin name's room-wide allowance refills")
    new_names_per_address_per_hour = Integer(30, config=True,
                                             help="logins under names the hub does not know yet (each one a new "
                                                  "account at its first spawn) one client address may make in an "
                                                  "hour (a bucket of that many, refilled at that pace); 0: no bound")
    room_new_names_burst = Integer(30, config=True,
                                   help="new names (each a new account at its first spawn) from all addresses together "
                                        "before the new-names alarm pauses them (the join link's browsers aside); "
                                        "0: no room-wide bound")
    room_new_names_per_hour = Float(30.0, config=True,
                                    help="how fast the room's allowance of new names refills (new names an hour at "
                                         "most during the alarm)")
    names_alarm_file = Unicode("", config=True, help="where the new-names alarm is written for the host's board "
                                                     "('' : nowhere)")
    room_file = Unicode("", config=True, help="the host's switch closing the room to new names, written by the "
                                               "board (bwhelpers.sandbox.workshop.new_names; '' : always open)")
    join_file = Unicode("", config=True, help="the host's current join link, written by the board "
                                               "(bwhelpers.sandbox.workshop.join_link; '' : no join links)")
    alarm_file = Unicode("", config=True, help="where the login alarm is written for the host's board ('' : nowhere)")
    service_url = Unicode("", config=True, help="the workshop sandbox as the hub reaches it, with its prefix: a hub "
                                                "user the host deletes is removed there too ('' : not)")
    service_public_url = Unicode("", config=True,
                                 help="the workshop sandbox's own URL when the hub has subdomains "
                                      "(https://bw-sandbox--service.hub.example.org/services/bw-sandbox): its path on "
                                      "the hub's host is sent there ('' : no such redirect)")
    admin_key_file = Unicode("", config=True, help="the workshop sandbox's admin key file (for service_url)")
    refuse_system_accounts = Bool(True, config=True,
                                  help="refuse logins under the names of this machine's system accounts (root, "
                                       "daemon, ..., nobody: uid up to 999 or 65534), of the Unix user this hub "
                                       "runs as, and of members of the sudo, admin and wheel groups, whose Unix "
                                       "account a local spawner would start the server as (checked after the "
                                       "password; the room password's names only, not the admins')")

    #: the throttle's clock (tests move it instead of sleeping)
    clock: Callable[[], float] = staticmethod(time.monotonic)
    #: the join links' clock (Unix time: their expiry; tests set it)
    wall: Callable[[], float] = staticmethod(time.time)

    @default("host_password")
    def _host_password_default(self) -> str:
        return os.environ.get(HOST_PASSWORD_ENV, "")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if not self.trait_values().get("username_pattern"):  # the names the workshop sandbox provisions (the hub's
            self.set_trait("username_pattern", USERNAME_RE.pattern)  # admin page checks them too)
        per_second = self.failed_logins_per_minute / 60.0
        self._by_name = FailureThrottle(self.failed_logins_burst, per_second)
        self._by_browser = FailureThrottle(self.failed_logins_burst, per_second)
        self._by_address = FailureThrottle(self.address_failed_logins_burst,
                                           self.address_failed_logins_per_minute / 60.0)
        self._by_admin = FailureThrottle(self.admin_failed_logins_burst, per_second)
        self._room = FailureThrottle(self.room_failed_logins_burst, self.room_failed_logins_per_minute / 60.0)
        self._admin_room = FailureThrottle(self.admin_room_failed_logins_burst,
                                           self.admin_room_failed_logins_per_minute / 60.0)
        self._by_invitation = FailureThrottle(self.address_failed_logins_burst,
                                              self.address_failed_logins_per_minute / 60.0)
        #: new names made through each invitation (its id -> count), against its ``names``
        self._invited_names: dict[str, int] = {}
        self._new_names = FailureThrottle(max(1, self.new_names_per_address_per_hour),
                                          self.new_names_per_address_per_hour / 3600.0)
        #: the room's new names, every address together (rev23h H5): the new-names alarm while it is used up
        self._room_new_names = FailureThrottle(max(1, self.room_new_names_burst), self.room_new_names_per_hour / 3600.0)
        #: the new-names alarm: (when, address) of the new names of the last new_names.ALARM_WINDOW seconds
        self._names_alarm = room_files.Alarm(new_names.ALARM, _MAX_REMEMBERED)
        #: the host's latest reopening of the room this authenticator has acted on (new_names.reopened)
        self._room_reset_at = time.time()
        self._trusted = forwarded.networks(self.trusted_proxies)
        #: addresses (client_key) that logged in, with when: never refused by the room's alarm
        self._known: dict[str, float] = {}
        #: "address admin-name" where that admin logged in: never refused by the admin name's room-wide bound
        self._known_admins: dict[str, float] = {}
        #: the login alarm: (when, address) of the failed logins of the last login_alarm.WINDOW seconds
        self._alarm = room_files.Alarm(login_alarm.ALARM, _MAX_REMEMBERED)

    def _is_admin(self, handler: Any, name: str) -> bool:
        if name in {self.normalize_username(a) for a in (self.admin_users or ())}:
            return True
        find = getattr(handler, "find_user", None)  # an admin made in the hub's db (the admin page)
        user = find(name) if callable(find) else None
        return bool(getattr(user, "admin", False))

    def is_new_name(self, handler: Any, name: str, admin: bool) -> bool:
        """A participant's name the hub has no user of yet (its first spawn makes a sandbox account)."""
        if admin or not name:
            return False
        find = getattr(handler, "find_user", None)
        return not callable(find) or find(name) is None

    def client_address(self, handler: Any) -> str:
        """The login's client address (:mod:`bwhelpers.sandbox.forwarded`: never ``X-Real-Ip``)."""
        return hub_client_address.client_address(getattr(handler, "request", None), self._trusted)

    def browser(self, handler: Any, name: str) -> str | None:
        """The id of the browser sending this login when it logged in before under ``name`` (its signed
        :data:`BROWSER_COOKIE`), else None."""
        read = getattr(handler, "get_secure_cookie", None)
        try:
            raw = read(BROWSER_COOKIE, max_age_days=BROWSER_COOKIE_DAYS) if callable(read) and name else None
        except Exception:  # no cookie secret: no proof
            return None
        who, _, browser = (raw or b"").decode("utf-8", "replace").partition("\n")
        return browser if who == name and browser else None

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        """The login form, ``/join`` (:class:`JoinHandler`: the host's join link) and, with subdomains, the service's
        path on the hub's host (:class:`ServiceRedirectHandler`)."""
        handlers = [*super().get_handlers(app), ("/join", JoinHandler)]
        if self.service_public_url:
            from urllib.parse import urlsplit

            path = urlsplit(self.service_public_url).path.rstrip("/")  # /services/<name>
            handlers.append((re.escape(path) + r"(/.*)?", ServiceRedirectHandler))
        return handlers

    def admin_key(self) -> str:
        """The workshop sandbox's admin key (the join links' key is derived from it), '' when it cannot be read."""
        try:
            with open(self.admin_key_file, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError:
            return ""

    def open_join_link(self, handler: Any, text: str) -> dict[str, Any]:
        """Check the join link ``text`` and mark the browser as invited (:data:`INVITED_COOKIE`, signed with the
        hub's secret, until the invitation expires); :class:`JoinLinkRefused` when it lets nobody in."""
        now = self.wall()
        try:
            claims = join_link.verify(self.admin_key(), text, join_link.current(self.join_file, now), now)
        except join_link.JoinLinkError as error:
            self.log.warning("refused a join link from %s: %s", self.client_address(handler), type(error).__name__)
            raise JoinLinkRefused(error) from None
        request = getattr(handler, "request", None)
        handler.set_secure_cookie(INVITED_COOKIE, f"{claims['id']}\n{secrets.token_hex(12)}",
                                  expires_days=max(claims["expires"] - now, 60) / 86400,
                                  path=str(getattr(getattr(handler, "hub", None), "base_url", "") or "/hub/"),
                                  httponly=True, samesite="Lax", secure=getattr(request, "protocol", "") == "https")
        self.log.info("a browser at %s opened the join link", self.client_address(handler))
        return claims

    def invitation(self, handler: Any) -> tuple[dict[str, Any], str] | None:
        """(the current invitation, the browser's id) when this browser opened the current join link, else None."""
        read = getattr(handler, "get_secure_cookie", None)
        if not callable(read) or not self.join_file:
            return None
        try:
            raw = read(INVITED_COOKIE, max_age_days=join_link.MAX_HOURS / 24 + 1)
        except Exception:  # no cookie secret: no proof
            return None
        invitation, _, browser = (raw or b"").decode("utf-8", "replace").partition("\n")
        record = join_link.current(self.join_file, self.wall()) if invitation and browser else None
        if record is None or not hmac.compare_digest(invitation, record["id"]):
            return None
        return record, browser

    def remember_browser(self, handler: Any, name: str, browser: str | None) -> None:
        """Mark the browser that logged in as ``name`` (:data:`BROWSER_COOKIE`, signed with the hub's secret)."""
        write = getattr(handler, "set_secure_cookie", None)
        if not callable(write):
            return
        request = getattr(handler, "request", None)
        base = str(getattr(getattr(handler, "hub", None), "base_url", "") or "/hub/")
        try:
            write(BROWSER_COOKIE, f"{name}\n{browser or secrets.token_hex(12)}", expires_days=BROWSER_COOKIE_DAYS,
                  path=base, httponly=True, samesite="Lax", secure=getattr(request, "protocol", "") == "https")
        except Exception as exc:  # no cookie secret: no proof next time, as before
            self.log.warning("could not mark the browser of %r: %s", name[:32], exc)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = self.normalize_username(data.get("username") or "")
        if name and not USERNAME_RE.match(name):  # the spawn would fail: say the rule now (no password compared)
            raise BadName(name)
        admin = bool(name) and self._is_admin(handler, name)
        address = client_key(self.client_address(handler))
        admin_key = f"{address} {name}"
        browser = self.browser(handler, name)
        # the join link is for participants' names: an admin name keeps its own bounds (rev23g G4)
        invited = self.invitation(handler) if browser is None and not admin else None
        invitation = f"invitation {invited[0]['id']} {address}" if invited else ""  # per link and address (G6)
        now = self.clock()
        if browser is not None:  # it logged in before under this name: its own allowance, not its address's
            waits = [self._by_browser.blocked(f"{browser} {name}", now=now)]
        elif invited:  # it opened the host's join link: the invitation's allowance, not its address's (F5)
            waits = [self._by_browser.blocked(f"{invited[1]} {name}", now=now),
                     self._by_invitation.blocked(invitation, now=now)]
        else:
            waits = [self._by_name.blocked(admin_key, now=now), self._by_address.blocked(address, now=now),
                     self._by_admin.blocked(admin_key, now=now) if admin else None]
        if any(waits):
            self.log.warning("refused a login for %r from %s: too many failed logins", name[:32], address)
            raise TooManyLogins(max(w for w in waits if w))
        # an admin name's room-wide bound spares only where that admin logged in (their address or browser), never
        # an address any participant logged in from (rev23e E1: the room password is everyone's)
        known = browser is not None or (admin_key in self._known_admins if admin else address in self._known)
        room_wait = None if known else (self._admin_room.blocked("admin " + name, now=now) if admin
                                        else self._room.blocked("room", now=now))
        if room_wait:
            self._raise_alarm(now, refused=True)
            self.log.warning("refused a login for %r from %s: login alarm (a new address while many fail)",
                             name[:32], address)
            raise TooManyLogins(room_wait, room=True)
        new = self.is_new_name(handler, name, admin)
        result = self._check(name, admin, data)
        # the room password's names only: an admin logs in with the host's own password, under a name the host chose
        if result is not None and not admin and self.refuse_system_accounts and system_account(name):  # told to the right password
            self.log.warning("refused a login for %r from %s: a system account's name", name[:32], address)  # only
            raise SystemAccountName(name)  # (rev23h H9: under a local spawner the server ran as root, as daemon)
        if result is not None and new:  # review 23f F4: a name the hub does not know is a new place in the room; told
            # only to the right room password (rev23g G7: a wrong one gets the same 403 for every name, counted)
            self._admit_new_name(name, address, now, invited[0] if invited else None)
        if result is None:
            if browser is not None:
                self._by_browser.failed(f"{browser} {name}", now=now)
            elif invited:
                self._by_browser.failed(f"{invited[1]} {name}", now=now)
                self._by_invitation.failed(invitation, now=now)
            else:
                self._by_name.failed(admin_key, now=now)
                self._by_address.failed(address, now=now)
                if admin:
                    self._by_admin.failed(admin_key, now=now)
            if admin:
                self._admin_room.failed("admin " + name, now=now)
            self._room.failed("room", now=now)
            self._alarm.events.append((now, address))
            if self._room.blocked("room", now=now) or (admin and self._admin_room.blocked("admin " + name, now=now)):
                self._raise_alarm(now)
        else:
            if new and invited:
                self._invited_names[invited[0]["id"]] = self._invited_names.get(invited[0]["id"], 0) + 1
            elif new:
                if self.new_names_per_address_per_hour > 0:
                    self._new_names.failed(address, now=now)
                self._name_made(address, now)
            _remember(self._known, address, now)
            if admin:
                _remember(self._known_admins, admin_key, now)
            self.remember_browser(handler, name, browser or (invited[1] if invited else None))
        return result

    def _admit_new_name(self, name: str, address: str, now: float, invitation: dict[str, Any] | None) -> None:
        """Refuse a login with the right room password under the new name ``name`` while the host has closed the room
        to new names (403), when the join link the browser opened made its ``names`` (403), or while ``address`` has
        made its ``new_names_per_address_per_hour`` (429)."""
        closed = new_names.closed(self.room_file)
        if closed is not None:
            self.log.warning("refused a login for %r from %s: the room is closed to new names", name[:32], address)
            raise RoomClosed(closed)
        if invitation is not None:
            if self._invited_names.get(invitation["id"], 0) >= invitation["names"]:
                self.log.warning("refused a login for %r from %s: the join link's %d new names are used up",
                                 name[:32], address, invitation["names"])
                raise JoinLinkUsedUp(invitation["names"])
            return
        bound = self.new_names_per_address_per_hour
        wait = self._new_names.blocked(address, now=now) if bound > 0 else None
        if wait is not None:
            self.log.warning("refused a login for %r from %s: %d new names from this address in the last hour",
                             name[:32], address, bound)
            raise TooManyNewNames(wait, bound)
        self._after_reopen()
        room_wait = self._room_new_names.blocked("room", now=now) if self.room_new_names_burst > 0 else None
        if room_wait is not None:  # rev23h H5: however many addresses a stranger has, the room's bound holds
            self._raise_names_alarm(now, address, refused=True)
            self.log.warning("refused a login for %r from %s: new-names alarm (the room's new names are used up)",
                             name[:32], address)
            raise NewNamesPaused(room_wait)

    def _after_reopen(self) -> None:
        """The host closed the room to new names and opened it again since the room's allowance was last full (the
        board's Close, then Open: e.g. after removing a stranger's names): the room gets its whole allowance of new
        names back and the new-names alarm ends, rather than latecomers waiting for the refill (rev23h H5)."""
        at = new_names.reopened(self.room_file)
        if at is None or at <= self._room_reset_at:
            return
        self._room_reset_at = at
        self._room_new_names = FailureThrottle(max(1, self.room_new_names_burst), self.room_new_names_per_hour / 3600.0)
        if self._names_alarm.record is not None:
            self.log.warning("the host opened the room to new names again: the room's %d new names are available "
                             "again and the new-names alarm is over", self.room_new_names_burst)
        self._names_alarm.end()
        if self.names_alarm_file:
            try:
                new_names.clear_alarm(self.names_alarm_file)
            except OSError as exc:
                self.log.warning("could not clear the new-names alarm at %s: %s", self.names_alarm_file, exc)

    def _name_made(self, address: str, now: float) -> None:
        """A new name was made from ``address`` (not through the join link): count it room-wide, and start the
        new-names alarm when that used up the room's allowance."""
        self._names_alarm.events.append((now, address))
        if self.room_new_names_burst <= 0:
            return
        self._room_new_names.failed("room", now=now)
        if self._room_new_names.blocked("room", now=now) is not None:
            self._raise_names_alarm(now, address)

    def _raise_names_alarm(self, now: float, address: str, refused: bool = False) -> None:
        """The room's new names are used up: start or update the new-names alarm, log it (``NEW NAMES ALARM``, at its
        start, then once a minute) and write it for the board (at its start and first refusal, then at most every
        5 s), as the login alarm (:meth:`_raise_alarm`)."""
        alarm, top, write = self._names_alarm.raise_(now, refused, bool(self.names_alarm_file))
        if top is not None:
            self.log.warning("NEW NAMES ALARM: %d new names from %d addresses in the last %d min (most: %s), the "
                             "room's bound (%d, then %g an hour); new names are paused except through the join link "
                             "(%d refused so far; latest from %s). If they are not the room's, close the room to new "
                             "names on the board and remove them", alarm["names"], alarm["addresses"],
                             int(new_names.ALARM_WINDOW // 60), ", ".join(f"{a} ×{n}" for a, n in top),
                             self.room_new_names_burst, self.room_new_names_per_hour, alarm["refused"], address)
        if write:
            try:
                new_names.write_alarm(self.names_alarm_file, alarm)
            except OSError as exc:
                self.log.warning("could not write the new-names alarm to %s: %s", self.names_alarm_file, exc)

    async def delete_user(self, user: Any) -> None:
        """The host deleted a hub user (the admin page, ``DELETE /hub/api/users/<name>``): their sandbox account is
        removed too (``POST /participants/<name>/remove`` with the service's admin key: every credential of it
        refused at once, rev23e E6). A user without an account, or a service that cannot be reached, leaves the
        deletion as it is, with a line in the hub's log (the board's Remove does it then)."""
        super().delete_user(user)
        name = str(getattr(user, "name", user))
        if not self.service_url:
            return
        from urllib.parse import quote

        from tornado.httpclient import AsyncHTTPClient, HTTPClientError

        try:
            key = open(self.admin_key_file, encoding="utf-8").read().strip() if self.admin_key_file else ""
            await AsyncHTTPClient().fetch(f"{self.service_url.rstrip('/')}/participants/{quote(name, safe='')}/remove",
                                          method="POST", body=b"", request_timeout=15,
                                          headers={"X-Sandbox-Admin-Key": key, "Accept": "application/json"})
            self.log.info("workshop: %r deleted: their sandbox account is removed", name[:100])
        except HTTPClientError as exc:
            if exc.code != 404:  # 404: no sandbox account (never spawned)
                self.log.warning("workshop: %r deleted, but the sandbox did not remove their account (%s): use "
                                 "Remove on the board", name[:100], exc.code)
        except OSError as exc:
            self.log.warning("workshop: %r deleted, but the sandbox could not be asked to remove their account "
                             "(%s): use Remove on the board", name[:100], type(exc).__name__)

    def _raise_alarm(self, now: float, refused: bool = False) -> None:
        """The room's allowance is used up: start or update the login alarm, log it (at its start, then once a
        minute) and write it for the board (at its start and first refusal, then at most every 5 s)."""
        alarm, top, write = self._alarm.raise_(now, refused, bool(self.alarm_file))
        if top is not None:
            self.log.warning("LOGIN ALARM: %d failed logins from %d addresses in the last %d min (most: %s); logins "
                             "from addresses that never logged in are refused while it lasts (%d so far)",
                             alarm["failures"], alarm["addresses"], int(login_alarm.WINDOW // 60),
                             ", ".join(f"{a} ×{n}" for a, n in top), alarm["refused"])
        if write:
            try:
                login_alarm.write(self.alarm_file, alarm)
            except OSError as exc:
                self.log.warning("could not write the login alarm to %s: %s", self.alarm_file, exc)

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


class JoinHandler(BaseHandler):
    """``GET <hub>/hub/join?join_token=…``: the host's join link (:meth:`WorkshopAuthenticator.open_join_link`), then
    the login form."""

    def get(self) -> None:
        auth = self.authenticator
        if not isinstance(auth, WorkshopAuthenticator):  # pragma: no cover - only WorkshopAuthenticator mounts it
            raise web.HTTPError(404)
        try:
            auth.open_join_link(self, self.get_argument(join_link.PARAM, ""))
        except JoinLinkRefused as refused:  # answered here: tornado's log of a raised error names the whole URI
            self.send_error(refused.status_code, exc_info=(type(refused), refused, None))
            return
        self.redirect(url_path_join(self.hub.base_url, "login"))


class ServiceRedirectHandler(BaseHandler):
    """With subdomains the workshop sandbox has an origin of its own, and JupyterHub sends its path on the hub's host
    (``/services/bw-sandbox/board``, as the docs and older links name it) to ``/hub/services/…``, a 404 (rev23g G8):
    this answers there with a redirect to the same path and query on the service's own origin."""

    def get(self, rest: str | None = None) -> None:
        auth = self.authenticator
        target = f"{auth.service_public_url.rstrip('/')}{rest or '/'}"
        query = self.request.query
        self.redirect(f"{target}?{query}" if query else target)
