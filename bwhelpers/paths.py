"""Where bwhelpers keeps files: the project folder, the saved-state file, the per-user credentials file."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "config_dir", "credentials_path", "default_state_path", "PROJECT_PICTURE"]

#: the small picture that ships with the project: what the pictures step uploads and sends, and the Postman
#: collection's media upload (package data, ``bwhelpers/assets``)
PROJECT_PICTURE = Path(__file__).resolve().parent / "assets" / "smile.png"


def project_root(start: Path | None = None) -> Path:
    """Nearest parent of ``start`` (default cwd) holding pyproject.toml or notebooks/, else ``start``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / "notebooks").is_dir():
            return folder
    return start


def config_dir() -> Path:
    """The per-user folder of bwhelpers' private files: ``$BW_CONFIG_DIR``, else
    ``platformdirs.user_config_dir('bwhelpers')`` (never the project folder)."""
    folder = os.environ.get("BW_CONFIG_DIR")
    if not folder:
        import platformdirs
        folder = platformdirs.user_config_dir("bwhelpers")
    return Path(folder).expanduser()


def credentials_path() -> Path:
    """``$BW_CONFIG_DIR/credentials.json``, else ``platformdirs.user_config_dir('bwhelpers')/credentials.json``."""
    return config_dir() / "credentials.json"


def default_state_path() -> Path:
    """``$BW_STATE_FILE`` or ``<project root>/.bwhelpers/state.json``."""
    env = os.environ.get("BW_STATE_FILE")
    if env:
        return Path(env).expanduser()
    return project_root() / ".bwhelpers" / "state.json"
