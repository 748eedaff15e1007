"""
bwhelpers.sandbox.keys
~~~~~~~~~~~~~~~~~~~~~~

The sandbox's own secrets, kept in files next to its db (never in argv, never in the db's rows):

* the **admin key** (``{db}.admin-key``, mode 0600): required by the control-plane endpoints that
  affect every tenant (reset, global settings, creating or re-keying accounts). It is generated at
  the first start and printed on the banner. Local kernels, the CLI and the tests read it from the
  file; shared setups give the file with ``--admin-key-file`` (or ``BW_SANDBOX_ADMIN_KEY_FILE``).
* the **instance proof**: ``GET /_sandbox/health?nonce=N`` answers ``proof`` = HMAC-SHA256 of the
  admin key over ``nonce`` and the port the sandbox listens on, so a client that can read the key
  checks that the sandbox it found is the one it expects before sending any credential (a server
  squatting the port cannot answer, and a relay to the real sandbox on another port answers for
  the wrong port).

Clients send the admin key in the ``X-Sandbox-Admin-Key`` header.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ADMIN_HEADER = "X-Sandbox-Admin-Key"
ADMIN_KEY_ENV = "BW_SANDBOX_ADMIN_KEY"
ADMIN_KEY_FILE_ENV = "BW_SANDBOX_ADMIN_KEY_FILE"


def admin_key_path(db_path: str | os.PathLike[str]) -> Path:
    """Where the admin key of the sandbox db ``db_path`` lives: ``{db}.admin-key`` beside it."""
    return Path(str(db_path) + ".admin-key")


def write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (and its folder 0700 if it is new), atomically."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # first writer wins: concurrent first starts agree on one key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def trusted_key_file(path: str | os.PathLike[str]) -> str | None:
    """The key in ``path`` only if the file is this user's own and private (mode 0600 or tighter): a key
    file another user could have written (for a server squatting the port) proves nothing."""
    try:
        st = Path(path).expanduser().stat()
    except OSError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return read_key_file(path)


def read_key_file(path: str | os.PathLike[str]) -> str | None:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def ensure_admin_key(db_path: str | os.PathLike[str], key_file: str | os.PathLike[str] | None = None) -> str:
    """The admin key for ``db_path``: from ``key_file`` (must exist) or ``{db}.admin-key`` (created)."""
    if key_file is not None:
        key = read_key_file(key_file)
        if not key:
            raise ValueError(f"--admin-key-file {key_file}: the file is missing, unreadable or empty; put one "
                             "line with a long random key in it (for example `python -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\" > FILE`) and chmod 600 it")
        return key
    if str(db_path) == ":memory:":
        return secrets.token_urlsafe(32)
    path = admin_key_path(db_path)
    key = read_key_file(path)
    if key:
        return key
    write_private(path, secrets.token_urlsafe(32) + "\n")
    key = read_key_file(path)
    if not key:  # pragma: no cover - the file vanished under us
        raise RuntimeError(f"cannot write the sandbox admin key to {path}")
    return key


def admin_key(db_path: str | os.PathLike[str] | None = None) -> str | None:
    """The admin key a local process can read: ``BW_SANDBOX_ADMIN_KEY``, ``BW_SANDBOX_ADMIN_KEY_FILE``, or the
    key file beside ``db_path`` (default: the default sandbox db). None when there is none to read."""
    if os.environ.get(ADMIN_KEY_ENV):
        return os.environ[ADMIN_KEY_ENV].strip() or None
    if os.environ.get(ADMIN_KEY_FILE_ENV):
        return read_key_file(os.environ[ADMIN_KEY_FILE_ENV])
    if db_path is None:
        from .db import default_db_path

        db_path = default_db_path()
    return read_key_file(admin_key_path(db_path))


INSTANCE_KEY_ENV = "BW_SANDBOX_INSTANCE_KEY"


def instance_key_path(db_path: str | os.PathLike[str]) -> Path:
    """``{db}.instance-key``: the key tenants may hold to check the sandbox (not the admin key)."""
    return Path(str(db_path) + ".instance-key")


def ensure_instance_key(db_path: str | os.PathLike[str]) -> str:
    """The per-db instance key (created 0600 at the first start). Shared setups hand it to tenants
    (``BW_SANDBOX_INSTANCE_KEY``, the workshop's spawner does), so their kernels can check that the URL they were
    given is served by this sandbox without holding the admin key."""
    if str(db_path) == ":memory:":
        return secrets.token_urlsafe(32)
    path = instance_key_path(db_path)
    key = read_key_file(path)
    if key:
        return key
    write_private(path, secrets.token_urlsafe(32) + "\n")
    key = read_key_file(path)
    if not key:  # pragma: no cover
        raise RuntimeError(f"cannot write the sandbox instance key to {path}")
    return key


def tenant_proof(key: str, nonce: str) -> str:
    """HMAC-SHA256(instance key, "bwhelpers-sandbox-tenant:{nonce}"): not bound to a port, since a shared
    setup puts a proxy (JupyterHub's) between the kernels and the sandbox."""
    msg = f"bwhelpers-sandbox-tenant:{nonce}".encode("utf-8")
    return hmac.new(key.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def instance_proof(key: str, nonce: str, port: int) -> str:
    """HMAC-SHA256(key, "bwhelpers-sandbox:{port}:{nonce}") as hex: what /_sandbox/health?nonce= answers."""
    msg = f"bwhelpers-sandbox:{int(port)}:{nonce}".encode("utf-8")
    return hmac.new(key.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; False when either side is missing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())
