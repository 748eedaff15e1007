"""
bwhelpers.sandbox.oauth.responses
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

``POST /api/v1/oauth2/token``: the OAuth 2.0 client credentials grant as Bandwidth documents it —
``Authorization: Basic base64(client_id:client_secret)``, a form body ``grant_type=client_credentials``
(no scope) — answering ``{"access_token": <JWT>, "token_type": "bearer", "expires_in": <ttl>}``.
The lifetime is the ``token_ttl_seconds`` setting (default 3600). Errors: see ``exceptions``.
"""
from __future__ import annotations

from ..auth import parse_basic
from ..base import BaseHandler
from ..exceptions import SandboxError
from . import exceptions as exc
from .. import credentials
from ..disabled import AccountDisabled

FORM = "application/x-www-form-urlencoded"


class TokenHandler(BaseHandler):
    api = "oauth"

    def generic_error(self, status: int, description: str) -> SandboxError:
        return exc.OAuthError("invalid_request" if status < 500 else "server_error", description, status=status)

    def post(self) -> None:
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != FORM:
            raise exc.invalid_request(f"Content-Type must be {FORM} with the body grant_type=client_credentials "
                                      f"(got {ctype[:60] or 'none'!r})")
        args = self.request.body_arguments
        grants = args.get("grant_type") or []
        if not grants or not grants[0]:
            raise exc.invalid_request("grant_type is missing: send the form body grant_type=client_credentials")
        if len(grants) > 1:
            raise exc.invalid_request("grant_type is given more than once; send it once")
        header = self.request.headers.get("Authorization")
        creds = parse_basic(header)
        if creds is None:
            if header and header.split(" ", 1)[0].lower() == "bearer":
                hint = "a Bearer token cannot get a token; "
            elif "client_id" in args or "client_secret" in args:
                hint = "the client id and secret go in the Authorization header, not in the body; "
            else:
                hint = ""
            raise exc.invalid_client(f"Client authentication failed: {hint}send Authorization: Basic "
                                     "base64(client_id:client_secret)")
        grant = grants[0].decode("utf-8", "replace")
        if grant != "client_credentials":
            raise exc.unsupported_grant_type(grant)
        def check() -> dict:
            assert creds is not None
            try:
                found = credentials.check_client(self.db, creds[0], creds[1])  # one credential, by its id: one hash
            except AccountDisabled as disabled:
                raise exc.invalid_client(disabled.reason) from None
            if found is None:
                raise exc.invalid_client("Client authentication failed: unknown Client ID or wrong Client Secret; "
                                         "copy both from your API credential (Account > API Credentials)")
            return found

        credential = self.check_credentials(check)
        ttl = int(self.db.get_setting("token_ttl_seconds", credentials.DEFAULT_TTL) or credentials.DEFAULT_TTL)
        token = credentials.issue_token(self.db, credential, ttl)
        self.send_json({"access_token": token, "token_type": "bearer", "expires_in": ttl},
                       headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

