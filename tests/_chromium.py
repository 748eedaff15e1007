"""The browser the browser tests drive (tests/test_browser*.py): one home for finding it and for saying how to get it.

Looked for, in order: ``BW_CHROMIUM``; Debian's ``chromium``; Google Chrome's ``.deb``; the Chromium that Playwright
downloads itself (``python -m playwright install chromium``, under ``PLAYWRIGHT_BROWSERS_PATH`` or
``~/.cache/ms-playwright``). Ubuntu's ``chromium-browser`` is never used: it only starts the snap, which Playwright
cannot drive from a container or as root.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

HOW_TO_GET_IT = (
    "Debian: `apt-get install chromium`. Ubuntu (whose apt `chromium` is the snap, which Playwright cannot drive): "
    "`.venv/bin/python -m playwright install --with-deps chromium` as root (or Google Chrome's .deb). "
    "Any Chromium-based browser: BW_CHROMIUM=/path/to/it.")


def _playwright_download() -> str | None:
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    found = sorted(cache.glob("chromium-*/chrome-linux*/chrome"))
    return str(found[-1]) if found else None


def find() -> str | None:
    """The path of a Chromium-based browser Playwright can drive, or None."""
    if os.environ.get("BW_CHROMIUM"):
        return os.environ["BW_CHROMIUM"]
    for name in ("chromium", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path and "/snap/" not in os.path.realpath(path):
            return path
    return _playwright_download()


CHROMIUM = find() or "chromium"


def require() -> None:
    """Skip the calling browser-test module without a browser (CI, which installs one, fails instead)."""
    if find() is not None and Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"CI needs a Chromium for the browser tests: {HOW_TO_GET_IT}")
    pytest.skip(f"no Chromium, so the browser tests (JupyterLab driven in Chromium) are skipped; the rest of the "
                f"suite runs. {HOW_TO_GET_IT}", allow_module_level=True)
