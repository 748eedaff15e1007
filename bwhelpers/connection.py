"""Top level: resolve a Config and, for the sandbox, start (or find) the embedded sandbox.

This is the only client module that starts the sandbox; :class:`~bwhelpers.config.Config` stays pure.
"""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .config import Config
from .exceptions import TransportError

if TYPE_CHECKING:
    from .setup import Setup

__all__ = ["live_config", "connect", "connect_form", "Connected", "share_sandbox", "revive_sandbox"]

log = logging.getLogger("bwhelpers")
_ANNOUNCED: set[str] = set()


def live_config(*, quiet: bool = False, **explicit: Any) -> Config:
    """:meth:`Config.resolve`, then for the sandbox target the running sandbox's URL and credentials
    (``BW_SANDBOX_URL``, else the shared one on port 8765, else a new one in this process).

    Prints one line the first time a process uses a sandbox, unless ``quiet``.
    """
    config = Config.resolve(**explicit)
    _warn_legacy(config, quiet)
    if not config.is_sandbox:
        _ensure_receiver(quiet)
        return config
    from . import sandbox

    try:
        handle = sandbox.ensure_running(config.sandbox_url)
    except (ConnectionError, OSError) as exc:
        raise TransportError(f"sandbox: {exc}") from None
    config = config.attach_sandbox(handle.url, handle.credentials)
    url = config.sandbox_url or ""
    if not quiet and url not in _ANNOUNCED:
        _ANNOUNCED.add(url)
        line = f"bwhelpers: no Bandwidth credentials found - using the local sandbox at {url} (account {config.account_id})"
        log.info(line)
        print(line, file=sys.stdout)
    return config


def share_sandbox() -> Any:
    """With no real credentials: start (or reuse) one sandbox and point every child process at it
    (``BW_SANDBOX_URL`` in this process's environment). The handle to stop when this process started it, else None.

    Without ``BW_SANDBOX_URL``, the sandbox on port 8765 is shared only when it keeps its state in this run's db
    (``BW_SANDBOX_DB``, else the project's ``.bwhelpers/sandbox.db``): an open JupyterLab with another state is never
    stepped on. One line says which sandbox the run uses."""
    import os

    from .config import default_target

    if default_target() == "real":
        return None
    from . import sandbox
    from .sandbox.db import default_db_path

    explicit = bool(os.environ.get("BW_SANDBOX_URL"))
    handle = sandbox.ensure_running(db=None if explicit else default_db_path())
    os.environ["BW_SANDBOX_URL"] = handle.url
    if explicit:
        print(f"sandbox: {handle.url} (BW_SANDBOX_URL)", flush=True)
    elif handle.reused:
        print(f"sandbox: {handle.url}, already running on this run's db ({handle.db_path}): the same account as "
              "the JupyterLab that uses it (its saved objects are reused when BW_STATE_FILE is the lab's too)",
              flush=True)
    else:
        print(f"sandbox: {handle.url}, started for this run on {handle.db_path}; stopped at its end", flush=True)
    return handle if not handle.reused else None


def revive_sandbox(config: Config | None) -> bool:
    """Restart the shared default sandbox in this process when ``config`` used it and it is gone (its kernel was
    shut down); True when it runs again at the same address."""
    import os

    if config is None or not config.is_sandbox or os.environ.get("BW_SANDBOX_URL"):
        return False
    from . import sandbox

    base = config.sandbox_base or ""
    if not base.endswith(f":{sandbox.DEFAULT_PORT}") or sandbox.probe(base, timeout=0.5):
        return False
    return bool(sandbox.ensure_running().url == base)


_WARNED: set[str] = set()


def _warn_legacy(config: Config, quiet: bool) -> None:
    """Once per process and account: the legacy API user (Basic) will not work on the real service."""
    text = config.auth_warning
    if text and config.profile not in _WARNED:
        _WARNED.add(config.profile)
        log.warning("bwhelpers: %s", text)
        if not quiet:
            print(f"bwhelpers: warning: {text}", file=sys.stderr)


def _ensure_receiver(quiet: bool) -> None:
    """A real account with ``BW_CALLBACK_BASE_URL`` (or ``BW_RECEIVER_PORT``): the callback receiver every kernel
    shares, started here when none of ours runs. A bad base URL raises (before any request); an http:// one and
    a taken port warn, naming the rule or the port and the fix (the status is still read by polling)."""
    import os

    from .exceptions import ValidationError
    from .receiver import BASE_URL_ENV, PORT_ENV, ReceiverPortError
    from .receiver_client import callback_base

    base = callback_base(real=True)  # ValidationError naming BW_CALLBACK_BASE_URL
    if base is not None and base.warning:
        _warn_once(base.warning, quiet)
    if base is None and not os.environ.get(PORT_ENV):
        return
    from . import receiver

    try:
        handle = receiver.ensure_running()
    except ReceiverPortError as exc:
        if not os.environ.get(PORT_ENV, "").strip().isdigit() and os.environ.get(PORT_ENV):
            raise ValidationError(str(exc), field=PORT_ENV) from None
        _warn_once(f"{exc} (until then, callbacks to {BASE_URL_ENV} are not stored; the status is read by "
                   "polling)", quiet)
        return
    if not handle.reused and not quiet and handle.url not in _ANNOUNCED:
        _ANNOUNCED.add(handle.url)
        print(f"bwhelpers: callback receiver listening at {handle.url}"
              + (f" (Bandwidth reaches it at {base.url})" if base is not None else ""), file=sys.stdout)


def _warn_once(text: str, quiet: bool) -> None:
    if text not in _WARNED:
        _WARNED.add(text)
        log.warning("bwhelpers: %s", text)
        if not quiet:
            print(f"bwhelpers: warning: {text}", file=sys.stderr)


def connect(*, quiet: bool = False, **explicit: Any) -> "Setup":
    """Resolve credentials (arguments, ``BW_*`` env, credentials file, else the sandbox) -> :class:`Setup`."""
    from .setup import Setup

    return Setup(live_config(quiet=quiet, **explicit))


#: the credentials form's fields each way of signing in uses (the form shows them; this module decides)
FORM_TEXTS = ("account_id", "site_id", "client_id")
FORM_SECRETS = ("client_secret",)
LEGACY_TEXTS = ("username", "user_id")
LEGACY_SECRETS = ("password", "api_token", "api_secret")
#: secrets kept exactly as typed: a user's password may begin or end with a space; Bandwidth's generated client
#: secrets and API tokens never do, so the form trims those like the ids
UNTRIMMED_SECRETS = ("password",)


@dataclass(frozen=True)
class Connected:
    """A checked connection: the Config, where it was remembered (or None), whether only this process knows
    the credentials (typed into the form, neither remembered nor in the environment), and the remembered file its
    secret came from (nothing typed: the file every notebook uses), or None."""

    config: Config
    remembered: Path | None = None
    only_here: bool = False
    from_file: Path | None = None


def connect_form(target: str, fields: Mapping[str, str], *, legacy: bool = False, remember: bool = False,
                 env: Mapping[str, str] | None = None) -> Connected:
    """What the credentials form's Connect does: resolve a Config from its fields (the sandbox needs none), check
    it with one cheap authenticated GET (a token is fetched first), and remember it when asked.

    Raises the :class:`~bwhelpers.exceptions.BandwidthError` that names the problem (wrong secret, unreachable URL)."""
    from .dashboard import DashboardClient

    if target == "sandbox":
        config = live_config(target="sandbox")
    else:
        from .config import ENV_VARS, remembered as remembered_file

        explicit: dict[str, Any] = {"target": "real"}
        texts, secrets = list(FORM_TEXTS), list(FORM_SECRETS)
        if legacy:
            explicit["auth"] = "basic"
            texts += LEGACY_TEXTS
            secrets += LEGACY_SECRETS
        # a value the form was pre-filled with (the environment's, the remembered file's) keeps that origin, so the
        # target table says where the values really came from
        saved = remembered_file()
        known = {**(saved.values if saved is not None else {}),
                 **{n: os.environ[e] for n, e in ENV_VARS.items() if os.environ.get(e)}}
        for name in texts:
            value = str(fields.get(name) or "").strip()
            if value and value != known.get(name):
                explicit[name] = value
        for name in secrets:
            value = str(fields.get(name) or "")
            if name not in UNTRIMMED_SECRETS:  # pasted from a browser or a password manager: " secret\t"
                value = value.strip()
            if value and value != known.get(name):
                explicit[name] = value
        config = live_config(origin="the form", **explicit)
    DashboardClient(config).get_site()
    remembered = config.remember() if remember and target == "real" else None
    env = os.environ if env is None else env
    typed = any(str(fields.get(name) or "") for name in FORM_SECRETS + LEGACY_SECRETS)
    from_env = bool(env.get("BW_CLIENT_SECRET") or env.get("BW_PASSWORD"))
    from_file = None
    if target == "real" and remembered is None and not typed and not from_env \
            and "credentials file" in config.source:
        from .config import credentials_path

        from_file = credentials_path()
    only_here = target == "real" and remembered is None and from_file is None and not from_env
    return Connected(config, remembered, only_here, from_file)
