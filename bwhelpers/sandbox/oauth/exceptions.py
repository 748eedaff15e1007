"""Errors of the token endpoint.

Bandwidth documents no error bodies for ``/api/v1/oauth2/token``; the sandbox answers as RFC 6749
§5.2 describes (``{"error": ..., "error_description": ...}``; 401 ``invalid_client`` with
``WWW-Authenticate``; 400 ``invalid_request`` / ``unsupported_grant_type``). That shape is the
sandbox's choice.
"""
from __future__ import annotations

import json

from ..exceptions import SandboxError

#: The challenge sent with 401 invalid_client.
CHALLENGE = 'Basic realm="Bandwidth OAuth2"'


class OAuthError(SandboxError):
    def __init__(self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status
        self.headers = {"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})}

    def render(self) -> tuple[str, str]:
        return "application/json; charset=utf-8", json.dumps(
            {"error": self.error, "error_description": self.description})


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401, headers={"WWW-Authenticate": CHALLENGE})


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def unsupported_grant_type(grant: str) -> OAuthError:
    return OAuthError("unsupported_grant_type",
                      f"grant_type {grant[:40]!r} is not supported; send grant_type=client_credentials")
