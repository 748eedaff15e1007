"""Config: target, base URLs, ids and credentials (masked in every repr), from args > BW_* env > file.

Pure: resolving a Config never starts a server, sends a request or prints. :func:`decide_target` is the
one rule for "sandbox or real account"; :func:`bwhelpers.connection.live_config` starts (or finds) the
embedded sandbox and :meth:`Config.attach_sandbox` fills in its URL and demo credentials.

Environment variables: BW_TARGET (sandbox|real), BW_DASHBOARD_URL, BW_MESSAGING_URL, BW_ACCOUNT_ID,
BW_SITE_ID, BW_CLIENT_ID, BW_CLIENT_SECRET (API credentials, OAuth 2.0), BW_TOKEN_URL, BW_AUTH (oauth|basic),
BW_USERNAME, BW_PASSWORD (legacy API user), BW_USER_ID, BW_API_TOKEN, BW_API_SECRET, BW_SANDBOX_URL, BW_PLATFORM_URL,
BW_CONFIG_DIR (folder of credentials.json, default the per-user config dir).

Authentication: with a Client ID and Client Secret the clients use OAuth 2.0 client credentials (a Bearer token
from ``token_url``); they are preferred over username/password whenever both are present. ``auth="basic"`` (or
BW_AUTH=basic) selects the legacy API user, which the real service no longer accepts after 2026-12-02.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .exceptions import ValidationError
from .files import atomic_write
from .masking import mask, register_secret
from .paths import credentials_path, project_root

__all__ = ["Config", "DASHBOARD_URL", "MESSAGING_URL", "LEGACY_MESSAGING_URL", "PLATFORM_URL", "ENV_VARS", "credentials_path",
           "SECRET_FIELDS", "project_root", "decide_target", "default_target", "choose_auth",
           "sandbox_urls", "SANDBOX_LAYOUT", "Remembered", "remembered"]

log = logging.getLogger("bwhelpers")

DASHBOARD_URL = "https://dashboard.bandwidth.com/api"
MESSAGING_URL = "https://messaging.bandwidth.com/api/v2"
LEGACY_MESSAGING_URL = "https://api.catapult.inetwork.com/v2"
#: Bandwidth's OAuth 2.0 token endpoint (bandwidth.yml, the official SDKs and CLI)
TOKEN_URL = "https://api.bandwidth.com/api/v1/oauth2/token"
#: the sandbox's token endpoint, relative to its root URL
SANDBOX_TOKEN_PATH = "/api/v1/oauth2/token"
#: THE sandbox URL layout below its root (Config field -> path); the control plane's /_sandbox is SandboxControl's
SANDBOX_LAYOUT: dict[str, str] = {"dashboard_url": "/api", "messaging_url": "/api/v2", "legacy_messaging_url": "/v2",
                                  "token_url": SANDBOX_TOKEN_PATH, "platform_url": "/api/v2"}
AUTH_METHODS = ("oauth", "basic")
#: what the legacy path warns (the date is Bandwidth's; the words are ours)
BASIC_AUTH_WARNING = ("legacy API user (username/password, HTTP Basic) selected: the real Bandwidth service no "
                      "longer accepts it after 2026-12-02. Create API credentials (Bandwidth App > Account > API "
                      "Credentials) and set BW_CLIENT_ID / BW_CLIENT_SECRET")
#: Bandwidth's platform API: 10DLC campaigns and registrations, toll-free verification (JSON)
PLATFORM_URL = "https://api.bandwidth.com/api/v2"
SANDBOX_ACCOUNT_ID = "9900000"

ENV_VARS: dict[str, str] = {
    "target": "BW_TARGET", "dashboard_url": "BW_DASHBOARD_URL", "messaging_url": "BW_MESSAGING_URL",
    "account_id": "BW_ACCOUNT_ID", "site_id": "BW_SITE_ID", "client_id": "BW_CLIENT_ID",
    "client_secret": "BW_CLIENT_SECRET", "token_url": "BW_TOKEN_URL", "auth": "BW_AUTH",
    "username": "BW_USERNAME", "password": "BW_PASSWORD",
    "user_id": "BW_USER_ID", "api_token": "BW_API_TOKEN", "api_secret": "BW_API_SECRET",
    "sandbox_url": "BW_SANDBOX_URL", "platform_url": "BW_PLATFORM_URL",
}
SECRET_FIELDS = frozenset({"password", "api_token", "api_secret", "client_secret"})
CREDENTIAL_FIELDS = ("account_id", "site_id", "client_id", "client_secret", "username", "password", "user_id",
                     "api_token", "api_secret")
_FILE_FIELDS = ("target", "dashboard_url", "messaging_url", "token_url", "auth") + CREDENTIAL_FIELDS


def decide_target(values: Mapping[str, Any]) -> str:
    """THE rule for "sandbox or real account" (config, credentials form, notebook runner all use it).

    An explicit ``target`` (argument, ``BW_TARGET``, credentials file) wins. Otherwise any of client id,
    client secret, username, password or account id means a real account, unless a sandbox URL is given; no credentials at all
    means the sandbox.
    """
    target = values.get("target")
    if target not in (None, ""):
        target = str(target).lower()
        if target not in ("sandbox", "real"):
            raise ValidationError(f"target: {target!r} (BW_TARGET) is not a target; use 'sandbox' or 'real'",
                                  field="target")
        return target
    has_creds = any(values.get(k) for k in ("client_id", "client_secret", "username", "password", "account_id"))
    return "real" if has_creds and not values.get("sandbox_url") else "sandbox"


def default_target(env: Mapping[str, str] | None = None) -> str:
    """:func:`decide_target` for the ``BW_*`` variables of ``env`` (default os.environ) and the credentials file."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {k: v for k, v in _read_credentials_file().items() if k in _FILE_FIELDS}
    values.update({name: env[var] for name, var in ENV_VARS.items() if env.get(var)})
    return decide_target(values)


def sandbox_urls(root: str) -> dict[str, str]:
    """The sandbox's API bases under ``root`` (:data:`SANDBOX_LAYOUT`): dashboard_url, messaging_url, ..."""
    root = root.rstrip("/")
    return {name: f"{root}{path}" for name, path in SANDBOX_LAYOUT.items()}


def choose_auth(values: Mapping[str, Any]) -> str:
    """THE authentication rule: ``'oauth'`` or ``'basic'`` for these credential fields (Config fields, or the
    form's / environment's values under the same names). ``auth`` decides when set; otherwise any part of an
    API credential (client id or secret) means OAuth, a username or password alone the legacy API user, and
    nothing at all OAuth (the error then asks for API credentials)."""
    auth = str(values.get("auth") or "").lower()
    if auth:
        return auth
    if values.get("client_id") or values.get("client_secret"):
        return "oauth"
    return "basic" if values.get("username") or values.get("password") else "oauth"


@dataclass(repr=False)
class Config:
    """Where to send requests and with which credentials. Secrets are masked in repr/str."""

    target: str = "sandbox"
    dashboard_url: str = DASHBOARD_URL
    messaging_url: str = MESSAGING_URL
    account_id: str | None = None
    site_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str = TOKEN_URL
    auth: str | None = None
    username: str | None = None
    password: str | None = None
    user_id: str | None = None
    api_token: str | None = None
    api_secret: str | None = None
    sandbox_url: str | None = None
    platform_url: str | None = None
    profile_name: str | None = None
    source: str = "arguments"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name in ("account_id", "site_id") and isinstance(value, int) and not isinstance(value, bool):
                continue  # 9900000 is fine, it becomes '9900000'
            if not isinstance(value, str):
                raise ValidationError(f"{f.name}: expected a string, got {type(value).__name__}"
                                      + (f" {value!r:.40}" if f.name not in SECRET_FIELDS else ""), field=f.name)
        if self.target not in ("sandbox", "real"):
            raise ValidationError(f"target: {self.target!r} is not a target; use 'sandbox' or 'real'",
                                  field="target")
        for name in ("account_id", "site_id", "user_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                setattr(self, name, str(value))
        if self.auth in ("", None):
            self.auth = None
        else:
            self.auth = str(self.auth).lower()
            if self.auth not in AUTH_METHODS:
                raise ValidationError(f"auth: {self.auth!r} (BW_AUTH) is not an authentication method; use 'oauth' "
                                      "(API credentials: client id + secret) or 'basic' (legacy API user)",
                                      field="auth")
        self.dashboard_url = self.dashboard_url.rstrip("/")
        self.messaging_url = self.messaging_url.rstrip("/")
        self.token_url = (self.token_url or TOKEN_URL).rstrip("/")
        if self.sandbox_url:
            self.sandbox_url = self.sandbox_url.rstrip("/")
        for name in SECRET_FIELDS:
            register_secret(getattr(self, name))

    # ------------------------------------------------------------------ derived
    @property
    def profile(self) -> str:
        """Key of this target's saved state: 'sandbox' (demo account), 'sandbox-<acct>' or 'real-<acct>'."""
        if self.profile_name:
            return self.profile_name
        if self.target == "sandbox":
            return "sandbox" if self.account_id in (None, SANDBOX_ACCOUNT_ID) else f"sandbox-{self.account_id}"
        return f"real-{self.account_id}"

    @property
    def legacy_messaging(self) -> bool:
        """True for the guide's Catapult-era API (``.../v2/users/{user_id}`` with token:secret)."""
        return not self.messaging_url.endswith("/api/v2")

    @property
    def is_sandbox(self) -> bool:
        """True when requests go to the embedded sandbox."""
        return self.target == "sandbox"

    @property
    def auth_method(self) -> str:
        """'oauth' (API credentials, Bearer tokens) or 'basic' (the legacy API user's username:password):
        :func:`choose_auth` of this Config's fields."""
        return choose_auth({"auth": self.auth, "client_id": self.client_id, "client_secret": self.client_secret,
                            "username": self.username, "password": self.password})

    @property
    def uses_oauth(self) -> bool:
        return self.auth_method == "oauth"

    @property
    def auth_warning(self) -> str | None:
        """The legacy-Basic warning when this Config would use an API user on the real service (or asks for
        Basic explicitly), else None."""
        if self.auth_method == "basic" and (not self.is_sandbox or self.auth == "basic"):
            return BASIC_AUTH_WARNING
        return None

    @property
    def dashboard_auth(self) -> tuple[str, str]:
        """username:password for the Dashboard API (the legacy Basic path; OAuth uses a Bearer token)."""
        return (self.username or "", self.password or "")

    @property
    def messaging_auth(self) -> tuple[str, str]:
        """token:secret for the legacy messaging API, else username:password."""
        if self.legacy_messaging:
            return (self.api_token or "", self.api_secret or "")
        return self.dashboard_auth

    @property
    def messages_url(self) -> str:
        """The send/list URL: ``/users/{account_id}/messages`` (current) or ``/users/{user_id}/messages`` (legacy)."""
        owner = self.user_id if self.legacy_messaging else self.account_id
        return f"{self.messaging_url}/users/{owner}/messages"

    @property
    def a2p_url(self) -> str:
        """The platform API base for 10DLC and toll-free verification (``BW_PLATFORM_URL``; the sandbox serves it
        under ``/api/v2``)."""
        if self.platform_url:
            return self.platform_url.rstrip("/")
        base = self.sandbox_base
        return sandbox_urls(base)["platform_url"] if base else PLATFORM_URL

    @property
    def sandbox_base(self) -> str | None:
        """The sandbox's root URL (control plane lives under ``/_sandbox``), or None on the real service."""
        if not self.is_sandbox:
            return None
        if self.sandbox_url:
            return self.sandbox_url
        return self.dashboard_url.removesuffix(SANDBOX_LAYOUT["dashboard_url"])

    # ------------------------------------------------------------------ display
    def masked(self) -> dict[str, Any]:
        """All fields as a dict with secrets masked (for tables and widgets)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = mask(value) if f.name in SECRET_FIELDS else value
        out["profile"] = self.profile
        out["legacy_messaging"] = self.legacy_messaging
        out["auth_method"] = self.auth_method
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.masked().items()
                          if v not in (None, "") and k not in ("legacy_messaging", "profile_name", "auth_method"))
        return f"Config({shown})"

    __str__ = __repr__

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ resolution
    @classmethod
    def resolve(cls, *, origin: str = "arguments", **explicit: Any) -> "Config":
        """Explicit args > ``BW_*`` env vars > credentials file; with no credentials at all, the sandbox.

        ``source`` says where the values came from: ``origin`` names the explicit ones (the credentials form
        passes "the form"), "environment" and "credentials file" the others; the target alone is no value's
        origin (the table shows it in its own row).
        No I/O beyond reading the environment and the credentials file. A sandbox Config is complete
        (URLs and demo credentials) only after :meth:`attach_sandbox`; ``bwhelpers.connect()`` does that.
        """
        unknown = set(explicit) - {f.name for f in fields(cls)} - {"profile"}
        if unknown:
            raise ValidationError(f"Config.resolve: unknown argument(s) {sorted(unknown)}; valid: "
                                  f"{sorted(ENV_VARS)}", field=sorted(unknown)[0])
        if "profile" in explicit:
            explicit["profile_name"] = explicit.pop("profile")
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        file_values = _read_credentials_file()
        for name in (*ENV_VARS, "profile_name"):
            if explicit.get(name) not in (None, ""):
                values[name], sources[name] = explicit[name], origin
            elif name in ENV_VARS and os.environ.get(ENV_VARS[name]):
                values[name], sources[name] = os.environ[ENV_VARS[name]], "environment"
            elif file_values.get(name) not in (None, ""):
                values[name], sources[name] = file_values[name], "credentials file"
        target = decide_target(values)
        values["target"] = target
        if target == "sandbox" and str(file_values.get("target", "")).lower() != "sandbox":
            # never send a real account's saved credentials to the sandbox
            for name in [n for n, src in sources.items() if src == "credentials file"]:
                values.pop(name, None)
                sources.pop(name)
        if target == "sandbox" and not values.get("sandbox_url"):
            # BW_TARGET=sandbox next to BW_USERNAME/BW_PASSWORD...: those are a real account's; only sandbox
            # credentials go to a sandbox (a custom sandbox at BW_SANDBOX_URL takes them from the environment)
            dropped = [n for n, src in sources.items() if src == "environment" and n in CREDENTIAL_FIELDS]
            for name in dropped:
                values.pop(name, None)
                sources.pop(name)
            if any(n in SECRET_FIELDS or n == "username" for n in dropped):
                log.warning("bwhelpers: target sandbox: %s from the environment are not sent to the sandbox "
                            "(they are a real account's); the sandbox's demo credentials are used. Set "
                            "BW_SANDBOX_URL to use a custom sandbox's credentials",
                            ", ".join(ENV_VARS[n] for n in dropped))
        source = ", ".join(sorted({src for name, src in sources.items() if name != "target"})) or "defaults"
        if target == "sandbox":
            url = str(values.get("sandbox_url") or "").rstrip("/")
            urls = sandbox_urls(url) if url else {}
            for name in ("dashboard_url", "messaging_url", "token_url"):
                values.setdefault(name, urls.get(name, ""))
            return cls(**values, source=source if source != "defaults" else "sandbox")
        missing = [n for n in ("account_id", "site_id") if not values.get(n)]
        if str(values.get("auth") or "").lower() not in ("", *AUTH_METHODS):
            cls(target="real", auth=values["auth"])  # raises the ValidationError naming the field
        method = choose_auth(values)
        pair = ("client_id", "client_secret") if method == "oauth" else ("username", "password")
        missing += [n for n in pair if not values.get(n)]
        if missing:
            hint = (" (API credentials from the Bandwidth App, Account > API Credentials)" if method == "oauth"
                    else " (legacy API user; the real service no longer accepts it after 2026-12-02)")
            raise ValidationError(
                "real target: missing " + ", ".join(missing) + hint + ". Fix: pass them to Config.resolve(...) or "
                "set " + ", ".join(ENV_VARS[n] for n in missing) + " (or unset BW_TARGET to use the sandbox)",
                field=missing[0], details=[{"field": n, "problem": "missing"} for n in missing])
        values.pop("sandbox_url", None)
        return cls(**values, source=source)

    def attach_sandbox(self, url: str, credentials: Mapping[str, Any]) -> "Config":
        """This sandbox Config pointed at the sandbox at ``url``: its URLs, and its credentials for every
        field this Config leaves empty."""
        if not self.is_sandbox:
            raise ValidationError("attach_sandbox: this Config targets a real account", field="target")
        url = url.rstrip("/")
        changes: dict[str, Any] = {k: v for k, v in credentials.items()
                                   if k in CREDENTIAL_FIELDS and getattr(self, k) in (None, "")}
        own_user = bool(self.username or self.password) and not self.client_id
        other_account = self.account_id not in (None, "", credentials.get("account_id"))
        if own_user or other_account:  # the sandbox's demo API credential belongs to the demo account only
            changes.pop("client_id", None)
            changes.pop("client_secret", None)
        changes["sandbox_url"] = url
        new, old = sandbox_urls(url), sandbox_urls(self.sandbox_url) if self.sandbox_url else {}
        for name, default in (("token_url", TOKEN_URL), ("dashboard_url", None), ("messaging_url", None)):
            current = getattr(self, name)
            if not current or current == default or current == old.get(name):  # not chosen by the user
                changes[name] = new[name]
        return replace(self, **changes)

    # ------------------------------------------------------------------ file
    def remember(self, path: Path | str | None = None) -> Path:
        """Save the credentials to the per-user file (mode 0600, never inside the project folder)."""
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ValidationError(f"path: expected a file path, got {type(path).__name__}", field="path")
        target = Path(path) if path else credentials_path()
        target = target.expanduser().resolve()
        root = project_root()
        if root == target.parent or root in target.parents:
            raise ValidationError(
                f"credentials file: {target} is inside the project folder {root}; credentials must not be "
                "committed. Fix: point BW_CONFIG_DIR outside the project (or unset it)", field="path")
        data = {name: getattr(self, name) for name in _FILE_FIELDS if getattr(self, name) not in (None, "")}
        atomic_write(target, json.dumps(data, indent=2), mode=0o600, dir_mode=0o700)
        return target

    @staticmethod
    def forget(path: Path | str | None = None) -> bool:
        """Delete the per-user credentials file; True if one was removed."""
        target = Path(path) if path else credentials_path()
        try:
            target.unlink()
            return True
        except FileNotFoundError:
            return False


@dataclass(frozen=True)
class Remembered:
    """What the per-user credentials file (:meth:`Config.remember`) holds, without its secrets' values: the file,
    its non-secret fields, and the names of the secrets it keeps (for the form: "(saved)", never the value)."""

    path: Path
    values: dict[str, str]
    secrets: frozenset[str]

    @property
    def real(self) -> bool:
        """True when the file is a real account's (what :meth:`Config.resolve` uses for a real target)."""
        return str(self.values.get("target") or "real").lower() == "real"


def remembered() -> Remembered | None:
    """The remembered credentials (:class:`Remembered`), or None when there is no file (or it is not valid JSON)."""
    data = _read_credentials_file()
    if not data:
        return None
    values = {k: str(v) for k, v in data.items()
              if k in _FILE_FIELDS and k not in SECRET_FIELDS and v not in (None, "")}
    return Remembered(credentials_path(), values,
                      frozenset(k for k in SECRET_FIELDS if data.get(k) not in (None, "")))


def _read_credentials_file() -> dict[str, Any]:
    path = credentials_path()
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return {}
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("bwhelpers: %s is readable by other users (mode %o); run chmod 600 on it", path, mode)
    except OSError:
        pass
    try:
        data = json.loads(text)
    except ValueError:
        log.warning("bwhelpers: ignoring %s: it is not valid JSON", path)
        return {}
    return data if isinstance(data, dict) else {}
