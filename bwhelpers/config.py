"""Config: target, base URLs, ids and credentials (masked in every repr), from args > BW_* env > file.

Environment variables: BW_TARGET (sandbox|real), BW_DASHBOARD_URL, BW_MESSAGING_URL, BW_ACCOUNT_ID,
BW_SITE_ID, BW_USERNAME, BW_PASSWORD, BW_USER_ID, BW_API_TOKEN, BW_API_SECRET, BW_SANDBOX_URL,
BW_CONFIG_DIR (folder of credentials.json, default the per-user config dir).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ValidationError, mask, register_secret

if TYPE_CHECKING:
    from .results import Result

__all__ = ["Config", "DASHBOARD_URL", "MESSAGING_URL", "LEGACY_MESSAGING_URL", "ENV_VARS", "credentials_path",
           "SECRET_FIELDS", "project_root"]

log = logging.getLogger("bwhelpers")

DASHBOARD_URL = "https://dashboard.bandwidth.com/api"
MESSAGING_URL = "https://messaging.bandwidth.com/api/v2"
LEGACY_MESSAGING_URL = "https://api.catapult.inetwork.com/v2"
SANDBOX_ACCOUNT_ID = "9900000"

ENV_VARS: dict[str, str] = {
    "target": "BW_TARGET", "dashboard_url": "BW_DASHBOARD_URL", "messaging_url": "BW_MESSAGING_URL",
    "account_id": "BW_ACCOUNT_ID", "site_id": "BW_SITE_ID", "username": "BW_USERNAME", "password": "BW_PASSWORD",
    "user_id": "BW_USER_ID", "api_token": "BW_API_TOKEN", "api_secret": "BW_API_SECRET",
    "sandbox_url": "BW_SANDBOX_URL",
}
SECRET_FIELDS = frozenset({"password", "api_token", "api_secret"})
CREDENTIAL_FIELDS = ("account_id", "site_id", "username", "password", "user_id", "api_token", "api_secret")
_FILE_FIELDS = ("target", "dashboard_url", "messaging_url") + CREDENTIAL_FIELDS
_ANNOUNCED: set[str] = set()


def credentials_path() -> Path:
    """``$BW_CONFIG_DIR/credentials.json``, else ``platformdirs.user_config_dir('bwhelpers')/credentials.json``."""
    folder = os.environ.get("BW_CONFIG_DIR")
    if not folder:
        import platformdirs
        folder = platformdirs.user_config_dir("bwhelpers")
    return Path(folder).expanduser() / "credentials.json"


def project_root(start: Path | None = None) -> Path:
    """Nearest parent of ``start`` (default cwd) holding pyproject.toml or notebooks/, else ``start``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / "notebooks").is_dir():
            return folder
    return start


@dataclass(repr=False)
class Config:
    """Where to send requests and with which credentials. Secrets are masked in repr/str."""

    target: str = "sandbox"
    dashboard_url: str = DASHBOARD_URL
    messaging_url: str = MESSAGING_URL
    account_id: str | None = None
    site_id: str | None = None
    username: str | None = None
    password: str | None = None
    user_id: str | None = None
    api_token: str | None = None
    api_secret: str | None = None
    sandbox_url: str | None = None
    profile_name: str | None = None
    source: str = "arguments"

    def __post_init__(self) -> None:
        if self.target not in ("sandbox", "real"):
            raise ValidationError(f"target: {self.target!r} is not a target; use 'sandbox' or 'real'",
                                  field="target")
        for name in ("account_id", "site_id", "user_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                setattr(self, name, str(value))
        self.dashboard_url = self.dashboard_url.rstrip("/")
        self.messaging_url = self.messaging_url.rstrip("/")
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
    def dashboard_auth(self) -> tuple[str, str]:
        """username:password for the Dashboard API."""
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
    def sandbox_base(self) -> str | None:
        """The sandbox's root URL (control plane lives under ``/_sandbox``), or None on the real service."""
        if not self.is_sandbox:
            return None
        if self.sandbox_url:
            return self.sandbox_url
        return self.dashboard_url[:-4] if self.dashboard_url.endswith("/api") else self.dashboard_url

    # ------------------------------------------------------------------ display
    def masked(self) -> dict[str, Any]:
        """All fields as a dict with secrets masked (for tables and widgets)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = mask(value) if f.name in SECRET_FIELDS else value
        out["profile"] = self.profile
        out["legacy_messaging"] = self.legacy_messaging
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.masked().items()
                          if v not in (None, "") and k not in ("legacy_messaging", "profile_name"))
        return f"Config({shown})"

    __str__ = __repr__

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ resolution
    @classmethod
    def resolve(cls, *, quiet: bool = False, **explicit: Any) -> "Config":
        """Explicit args > ``BW_*`` env vars > credentials file; with no credentials at all, the sandbox."""
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
                values[name], sources[name] = explicit[name], "arguments"
            elif name in ENV_VARS and os.environ.get(ENV_VARS[name]):
                values[name], sources[name] = os.environ[ENV_VARS[name]], "environment"
            elif file_values.get(name) not in (None, ""):
                values[name], sources[name] = file_values[name], "credentials file"
        target = values.get("target")
        if target is None:
            has_creds = any(values.get(k) for k in ("username", "password", "account_id"))
            target = "real" if has_creds and not values.get("sandbox_url") else "sandbox"
        target = str(target).lower()
        if target not in ("sandbox", "real"):
            raise ValidationError(f"target: {target!r} (BW_TARGET) is not a target; use 'sandbox' or 'real'",
                                  field="target")
        values["target"] = target
        if target == "sandbox" and str(file_values.get("target", "")).lower() != "sandbox":
            # never send a real account's saved credentials to the sandbox
            for name in [n for n, src in sources.items() if src == "credentials file"]:
                values.pop(name, None)
                sources.pop(name)
        source = ", ".join(sorted(set(sources.values()))) or "defaults"
        if target == "sandbox":
            return cls._sandbox(values, source=source, quiet=quiet)
        missing = [n for n in ("account_id", "site_id", "username", "password") if not values.get(n)]
        if missing:
            raise ValidationError(
                "real target: missing " + ", ".join(missing) + ". Fix: pass them to Config.resolve(...) or set "
                + ", ".join(ENV_VARS[n] for n in missing) + " (or unset BW_TARGET to use the sandbox)",
                field=missing[0])
        values.pop("sandbox_url", None)
        return cls(**values, source=source)

    @classmethod
    def _sandbox(cls, values: dict[str, Any], *, source: str, quiet: bool) -> "Config":
        from . import sandbox as sandbox_pkg  # provided by the sandbox package
        try:
            handle = sandbox_pkg.ensure_running(values.get("sandbox_url"))
        except (ConnectionError, OSError) as exc:
            from .errors import TransportError
            raise TransportError(f"sandbox: {exc}") from None
        url = handle.url.rstrip("/")
        creds = dict(handle.credentials)
        merged: dict[str, Any] = {k: v for k, v in creds.items() if k in CREDENTIAL_FIELDS}
        merged.update({k: v for k, v in values.items() if v not in (None, "")})
        merged["sandbox_url"] = url
        merged.setdefault("dashboard_url", f"{url}/api")
        merged.setdefault("messaging_url", f"{url}/api/v2")
        cfg = cls(**merged, source=source if source != "defaults" else "sandbox")
        if not quiet and url not in _ANNOUNCED:
            _ANNOUNCED.add(url)
            line = f"bwhelpers: no Bandwidth credentials found - using the local sandbox at {url} (account {cfg.account_id})"
            log.info(line)
            print(line, file=sys.stdout)
        return cfg

    # ------------------------------------------------------------------ file
    def remember(self, path: Path | str | None = None) -> Path:
        """Save the credentials to the per-user file (mode 0600, never inside the project folder)."""
        target = Path(path) if path else credentials_path()
        target = target.expanduser().resolve()
        root = project_root()
        if root == target.parent or root in target.parents:
            raise ValidationError(
                f"credentials file: {target} is inside the project folder {root}; credentials must not be "
                "committed. Fix: point BW_CONFIG_DIR outside the project (or unset it)", field="path")
        data = {name: getattr(self, name) for name in _FILE_FIELDS if getattr(self, name) not in (None, "")}
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".credentials.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
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

    # ------------------------------------------------------------------ check
    def check(self, session: Any = None) -> "Result":
        """A cheap authenticated GET of the site; raises AuthError/NotFoundError/TransportError with the fix."""
        from .dashboard import DashboardClient
        return DashboardClient(self, session=session).get_site()


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
