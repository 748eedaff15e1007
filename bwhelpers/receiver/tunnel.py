"""A public URL for the receiver in one call, with a well-kept tool: ngrok through ``pyngrok`` (the optional extra
``tunnel``; your ngrok authtoken, ``NGROK_AUTHTOKEN``), or a cloudflared quick tunnel when the ``cloudflared``
binary is installed (no account; a new random ``https://….trycloudflare.com`` URL at each start). Never a public
request bin: callbacks carry phone numbers and texts.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Tunnel", "TunnelError", "open_tunnel", "TOOLS"]

TOOLS = ("cloudflared", "ngrok")
_TRYCLOUDFLARE = re.compile(r"https://[a-z0-9-]+\.trycloudflare\.com")


class TunnelError(RuntimeError):
    """The tunnel tool is missing or did not give a public URL (the message names the fix)."""


@dataclass
class Tunnel:
    """An open tunnel: its public https URL, and how to close it."""

    tool: str
    public_url: str
    _close: Any = field(default=None, repr=False)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


def _cloudflared(port: int, timeout: float, binary: str | None = None) -> Tunnel:
    exe = binary or shutil.which("cloudflared")
    if not exe:
        raise TunnelError("cloudflared is not installed. Fix: install it (https://developers.cloudflare.com/"
                          "cloudflare-one/connections/connect-networks/downloads/), or use --tunnel ngrok, or your "
                          "own server (README, 'Using a real Bandwidth account')")
    proc = subprocess.Popen([exe, "tunnel", "--no-autoupdate", "--url", f"http://127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # cloudflared prints the quick tunnel's URL in a box on stderr
            m = _TRYCLOUDFLARE.search(line)
            if m and not found:
                found.append(m.group(0))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if not found:
        proc.terminate()
        raise TunnelError(f"cloudflared gave no trycloudflare.com URL within {timeout:g} s (exit "
                          f"{proc.poll()}). Fix: check your internet connection, or use --tunnel ngrok")

    def close() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    return Tunnel("cloudflared", found[0], close)


def _ngrok(port: int) -> Tunnel:
    try:
        from pyngrok import conf, ngrok
    except ImportError:
        raise TunnelError("pyngrok is not installed. Fix: pip install 'bwhelpers[tunnel]' (and set NGROK_AUTHTOKEN "
                          "from your ngrok dashboard: ngrok needs an account since 2023)") from None
    token = os.environ.get("NGROK_AUTHTOKEN", "").strip()
    if not token:
        raise TunnelError("NGROK_AUTHTOKEN is not set: ngrok needs an account (ERR_NGROK_4018 otherwise). Fix: copy "
                          "your authtoken from https://dashboard.ngrok.com and set NGROK_AUTHTOKEN")
    config = conf.PyngrokConfig(auth_token=token)
    try:
        tunnel = ngrok.connect(str(port), "http", pyngrok_config=config)
    except Exception as exc:  # pyngrok's own exceptions (binary download, agent errors)
        raise TunnelError(f"ngrok could not open a tunnel: {type(exc).__name__}: {str(exc)[:300]}") from None
    url = str(tunnel.public_url or "")
    if url.startswith("http://"):
        url = "https://" + url[len("http://"):]

    def close() -> None:
        try:
            ngrok.disconnect(tunnel.public_url, pyngrok_config=config)
        finally:
            ngrok.kill(pyngrok_config=config)

    return Tunnel("ngrok", url, close)


def open_tunnel(tool: str, port: int, timeout: float = 30.0) -> Tunnel:
    """Open a public https URL to ``http://127.0.0.1:{port}`` with ``tool`` (cloudflared or ngrok)."""
    if tool == "cloudflared":
        return _cloudflared(port, timeout)
    if tool == "ngrok":
        return _ngrok(port)
    raise TunnelError(f"--tunnel {tool!r}: choose one of {', '.join(TOOLS)}")
