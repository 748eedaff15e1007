"""Start the workshop service as JupyterHub starts it (``python -m bwhelpers.sandbox.workshop`` with the variables
the hub gives a managed service), for the tests that need no hub: tests/test_workshop_service.py and
tests/test_workshop_safety.py."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/services/bw-sandbox"


@contextmanager
def workshop_service(tmp: Path, *args: str, hub_api: str | None = None) -> Iterator[dict[str, Any]]:
    """The service on a free port below ``PREFIX``; ``args`` are more command-line options; ``hub_api`` the hub's
    API URL the service asks about tokens (default: nothing listens there). Yields ``url`` (with the prefix),
    ``base``, ``key`` (the admin-key header), ``db`` and ``tmp``."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "JUPYTERHUB_"))}
    env.update(JUPYTERHUB_SERVICE_URL=base, JUPYTERHUB_SERVICE_PREFIX=PREFIX + "/", JUPYTERHUB_SERVICE_NAME="bw-sandbox",
               JUPYTERHUB_API_URL=hub_api or "http://127.0.0.1:9/hub/api", JUPYTERHUB_API_TOKEN="x", JUPYTERHUB_CLIENT_ID="svc",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    log = (tmp / "service.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bwhelpers.sandbox.workshop", "--db", str(tmp / "sandbox.db"),
                             "--public-url", base, *args],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = base + PREFIX
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_sandbox/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the workshop service did not start:\n" + (tmp / "service.log").read_text())
    key = (tmp / "sandbox.db.admin-key").read_text().strip()
    try:
        yield {"url": url, "base": base, "key": {"X-Sandbox-Admin-Key": key}, "db": tmp / "sandbox.db", "tmp": tmp,
               "port": port}
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a process started for a test: SIGTERM, then SIGKILL after 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
