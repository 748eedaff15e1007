"""The spawner's side of workshop mode: :class:`SpawnHook` (``c.Spawner.pre_spawn_hook``) asks the workshop sandbox for
the participant's account and puts its URL and credentials into their server's environment, and copies the
walkthrough's notebooks into their home. :mod:`bwhelpers.workshop` configures the hub with it (and re-exports it).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tornado import web

#: credential field of the service's answer -> the variable the participant's kernels read
ENV_OF_CREDENTIAL = {
    "account_id": "BW_ACCOUNT_ID", "site_id": "BW_SITE_ID", "username": "BW_USERNAME", "password": "BW_PASSWORD",
    "user_id": "BW_USER_ID", "api_token": "BW_API_TOKEN", "api_secret": "BW_API_SECRET",
    "client_id": "BW_CLIENT_ID", "client_secret": "BW_CLIENT_SECRET",
}


def _refusal_text(detail: str) -> str:
    """The service's reason from its JSON answer (``{"error": ...}``), else the answer as it came."""
    try:
        found = json.loads(detail)
    except ValueError:
        return detail
    return str(found.get("error") or detail) if isinstance(found, dict) else detail


class SpawnRefused(web.HTTPError):
    """403 for a spawn the workshop sandbox refused (the participant removed by the host, the room closed to new
    names, the room full). JupyterHub passes an ``HTTPError``'s status through its REST API and shows its
    ``jupyterhub_message`` on the spawn page and in the API's JSON, where any other exception is "500 : Unhandled
    error starting server" (rev23h H4)."""

    def __init__(self, username: str, detail: str):
        reason = _refusal_text(detail)
        super().__init__(403, "the workshop sandbox refused to provision %r: %s", username, reason)
        self.jupyterhub_message = f"The workshop refused to start your server: {reason}"


class SpawnHook:
    """``c.Spawner.pre_spawn_hook``: ask the service for the user's sandbox account (created on the first
    spawn, the same one afterwards) and give its URL and credentials to the single-user server.

    :param a2p_enforcement: deliver only from numbers registered for A2P (10DLC / toll-free); None keeps the
        sandbox's default (on). Off replays the 2018 guide's eight steps.
    :param service_url: where the hub reaches the service, with its prefix
        (``http://127.0.0.1:10101/services/bw-sandbox``).
    :param admin_key_file: the service's admin key (created by the service next to its db).
    :param notebooks: a folder of notebooks copied into a new participant's home (spawners with ``home_dir``, and
        LocalProcessSpawner: the copy is the participant's Unix user's, :func:`copy_notebooks`).
    """

    def __init__(self, service_url: str, admin_key_file: str | os.PathLike[str], *, notebooks: str | None = None,
                 timeout: float = 60.0):
        self.service_url = service_url.rstrip("/")
        self.admin_key_file = Path(admin_key_file)
        self.notebooks = notebooks
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SpawnHook({self.service_url!r})"

    async def provision(self, username: str) -> dict[str, Any]:
        """The service's answer for ``username``: {participant, created, credentials, sandbox_url}."""
        import asyncio
        import time
        from urllib.parse import quote

        from tornado.httpclient import AsyncHTTPClient, HTTPClientError

        client = AsyncHTTPClient()
        deadline = time.monotonic() + self.timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:  # the key file appears when the service first starts: read it on each try
                key = self.admin_key_file.read_text(encoding="utf-8").strip()
                resp = await client.fetch(f"{self.service_url}/participants/{quote(username, safe='')}",
                                          method="POST", body=b"", request_timeout=15,
                                          headers={"X-Sandbox-Admin-Key": key})
                return json.loads(resp.body)
            except HTTPClientError as exc:
                if exc.code != 599:  # the service answered: a real refusal, say it
                    detail = exc.response.body.decode("utf-8", "replace")[:300] if exc.response else str(exc)
                    if exc.code == 403:  # removed by the host, closed to new names, the room full: the participant's
                        raise SpawnRefused(username, detail) from None  # page and the API say why (rev23h H4)
                    raise RuntimeError(f"the workshop sandbox refused to provision {username!r}: "
                                       f"{exc.code} {detail}") from None
                last = exc
            except (OSError, FileNotFoundError) as exc:  # not up yet
                last = exc
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the workshop sandbox at {self.service_url} did not answer within {self.timeout:.0f} s "
                           f"({last}); check the service's log in the hub's output")

    async def __call__(self, spawner: Any) -> None:
        answer = await self.provision(spawner.user.name)
        env = environment(answer)
        spawner.environment.update(env)
        found = participant_home(spawner) if self.notebooks else None
        if self.notebooks and found:
            home, owner = found
            try:
                copy_notebooks(self.notebooks, home, owner)
            except OSError as exc:  # no home yet, or a link in the way: the server starts without the copy
                spawner.log.warning("workshop: notebooks not copied for %s: %s", spawner.user.name, exc)
            if (home / "notebooks").is_dir():
                spawner.environment["BW_NOTEBOOK_DIR"] = str(home / "notebooks")  # the headless runner's folder
        spawner.log.info("workshop: %s uses sandbox account %s (%s)", spawner.user.name, env["BW_ACCOUNT_ID"],
                         "new" if answer.get("created") else "existing")


def environment(answer: dict[str, Any]) -> dict[str, str]:
    """The single-user server's variables from the service's answer."""
    creds = answer["credentials"]
    env = {"BW_TARGET": "sandbox", "BW_SANDBOX_URL": answer["sandbox_url"]}
    if answer.get("sandbox_key"):  # the kernel checks the sandbox with it before sending any credential
        env["BW_SANDBOX_INSTANCE_KEY"] = str(answer["sandbox_key"])
    env.update({var: str(creds[key]) for key, var in ENV_OF_CREDENTIAL.items() if creds.get(key)})
    return env


_NOT_COPIED = shutil.ignore_patterns(".ipynb_checkpoints", "*.nbconvert.ipynb", ".bwhelpers", "exports")


def copy_notebooks(source: str | os.PathLike[str], home: Path, owner: tuple[int, int] | None = None) -> None:
    """Copy the walkthrough's notebooks into ``home/notebooks`` once (a participant's edits are kept).

    ``owner`` (uid, gid): the participant is another Unix user than the hub (``--spawner local``, the hub as root).
    The copy is then theirs (it was root's, read-only to them: issue 23, N9) and follows no link they may place in
    their home meanwhile: the folder is made and opened by descriptor (``O_NOFOLLOW``), each file created in it with
    ``O_EXCL | O_NOFOLLOW`` while it is still the hub's, and handed over (``fchown``) when it is complete."""
    target = home / "notebooks"
    if os.path.lexists(target) or not Path(source).is_dir():
        return
    if owner is None:
        home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target, ignore=_NOT_COPIED)
        return
    home_fd = os.open(home, _DIR_FLAGS)
    try:
        try:
            os.mkdir(target.name, 0o755, dir_fd=home_fd)
        except FileExistsError:  # made meanwhile (by the participant, or a link): theirs, left alone
            return
        _copy_into(Path(source), home_fd, target.name, owner)
    finally:
        os.close(home_fd)


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def _copy_into(source: Path, parent_fd: int, name: str, owner: tuple[int, int]) -> None:
    """Fill the folder ``name`` this process just made in ``parent_fd`` from ``source``, then give it to ``owner``."""
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    try:
        if os.fstat(fd).st_uid != os.geteuid():  # swapped for someone else's folder between mkdir and open
            raise PermissionError(f"{name}: not the folder this hub made; notebooks not copied")
        names = os.listdir(source)
        for entry in sorted(set(names) - set(_NOT_COPIED(str(source), names))):
            src = source / entry
            if src.is_dir() and not src.is_symlink():
                os.mkdir(entry, 0o755, dir_fd=fd)
                _copy_into(src, fd, entry, owner)
            elif src.is_file():
                out = os.open(entry, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644,
                              dir_fd=fd)
                with os.fdopen(out, "wb") as fh, src.open("rb") as data:
                    shutil.copyfileobj(data, fh)
                    os.fchown(fh.fileno(), *owner)
        os.fchown(fd, *owner)
    finally:
        os.close(fd)


def participant_home(spawner: Any) -> tuple[Path, tuple[int, int] | None] | None:
    """Where a participant's notebooks go and, when their server runs as their own Unix user (JupyterHub's
    LocalProcessSpawner), that user's (uid, gid); None when the spawner has no home on this machine."""
    home = getattr(spawner, "home_dir", None)
    if home:  # SimpleLocalProcessSpawner: every server as the hub's own user
        return Path(home), None
    try:
        import pwd

        from jupyterhub.spawner import LocalProcessSpawner
    except ImportError:  # pragma: no cover - not POSIX, or no JupyterHub
        return None
    if not isinstance(spawner, LocalProcessSpawner):
        return None
    try:
        user = pwd.getpwnam(spawner.user.name)
    except KeyError:  # the spawner itself will say that the user does not exist
        return None
    return Path(user.pw_dir), (user.pw_uid, user.pw_gid)
