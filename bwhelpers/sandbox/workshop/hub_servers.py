"""What the hub knows about each participant, for the host's board: whether they are a hub admin (the host is not
counted as a participant) and whether their server runs.

The service asks the hub's REST API (``GET /users``) with its own token; its role (``bwhelpers.workshop.configure``)
grants ``list:users``, ``read:users`` and ``read:servers`` and nothing else. When the hub cannot be asked (the service
run alone, an older config without the role, the hub busy) the board shows no server states rather than wrong ones.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

log = logging.getLogger(__name__)

#: a server's state on the board: ``running`` needs no word; the others say why a row does not move
RUNNING, STARTING, STOPPING, NOT_RUNNING, NEVER_STARTED = ("running", "starting", "stopping", "not running",
                                                           "never started")
PAGE = 200


def server_state(model: dict[str, Any]) -> str:
    """The default server's state from a hub user model (``servers`` lists only active ones)."""
    server = (model.get("servers") or {}).get("")
    if not server:
        return NOT_RUNNING
    if server.get("pending") == "spawn":
        return STARTING
    if server.get("pending") == "stop":
        return STOPPING
    return RUNNING if server.get("ready") else STARTING


async def hub_users(auth: Any, timeout: float = 5.0) -> dict[str, dict[str, Any]] | None:
    """``{name: {"admin": bool, "server": state}}`` for every hub user, or None when the hub cannot be asked."""
    api_url, token = getattr(auth, "api_url", ""), getattr(auth, "api_token", "")
    if not api_url or not token:
        return None
    client = AsyncHTTPClient()
    users: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        request = HTTPRequest(f"{api_url.rstrip('/')}/users?offset={offset}&limit={PAGE}",
                              headers={"Authorization": f"token {token}", "Accept": "application/jupyterhub-pagination+json"},
                              request_timeout=timeout, connect_timeout=timeout)
        try:
            answer = json.loads((await client.fetch(request)).body)
        except (HTTPClientError, OSError, ValueError) as exc:
            log.warning("board: the hub's user list could not be read (%s): no server states shown", exc)
            return None
        items = answer.get("items", []) if isinstance(answer, dict) else answer
        for model in items:
            users[str(model.get("name"))] = {"admin": bool(model.get("admin")), "server": server_state(model)}
        more = isinstance(answer, dict) and (answer.get("_pagination") or {}).get("next")
        if not more or not items:
            return users
        offset += len(items)
