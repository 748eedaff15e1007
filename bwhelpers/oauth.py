"""OAuth 2.0 client credentials ("API Credentials") for Bandwidth's APIs.

authlib's OAuth 2.0 client (``authlib.oauth2.client.OAuth2Client``, on a ``requests.Session``) does the grant
(``POST {token_url}`` with Basic client_id:client_secret and ``grant_type=client_credentials``); this module adds
what the official clients do around it:

* :class:`TokenSource` fetches lazily (on the first request), keeps the token in memory only, and fetches a new
  one when less than a margin of its lifetime remains (60 s like bandwidth-sdk and the CLI, or a quarter of the
  lifetime for tokens shorter than 4 minutes). Thread-safe; one per credential per process (:func:`token_source`).
* :class:`BearerAuth` is the ``requests`` auth that sends ``Authorization: Bearer <token>``; on a 401 it fetches
  a new token once and sends the request again once (as Node's ``@bandwidth/numbers`` does).
* A failed token request raises :class:`~bwhelpers.exceptions.TokenError` (bad client id or secret, a URL that is
  no token endpoint) or :class:`~bwhelpers.exceptions.TransportError` (token URL unreachable), naming the fix.

The client secret and every access token are registered with :mod:`bwhelpers.masking`, so no repr, log, error or
displayed exchange shows them; nothing here logs either.
"""
from __future__ import annotations

import hashlib
import threading
import time
from urllib.parse import urlsplit
from collections.abc import Callable
from typing import Any

import requests
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.client import OAuth2Client

from .exceptions import ServerError, TokenError, TransportError
from .masking import register_secret, scrub

__all__ = ["TOKEN_URL", "TokenSource", "BearerAuth", "token_source", "token_claims"]

#: Bandwidth's token endpoint (bandwidth.yml ``OAuth2.flows.clientCredentials.tokenUrl``).
TOKEN_URL = "https://api.bandwidth.com/api/v1/oauth2/token"
#: Lifetime assumed when a token answer has no usable ``expires_in`` (what the official SDKs fall back to).
FALLBACK_EXPIRES_IN = 3600
_CREDENTIALS_FIX = ("check BW_CLIENT_ID / BW_CLIENT_SECRET (or the Client ID / Client Secret fields): copy them "
                    "from the Bandwidth App, Account > API Credentials. The secret is shown only once; if it is "
                    "lost, generate a new one there")


def _url_fix(url: str) -> str:
    return (f"check the token URL {url} (BW_TOKEN_URL; Bandwidth's is {TOKEN_URL}); it must be the OAuth 2.0 "
            "token endpoint")


def _reach_fix(url: str) -> str:
    """The fix for an unreachable token URL: the likely cause first (this machine's network or proxy), the URL
    only when it is not Bandwidth's own."""
    host = urlsplit(url).hostname or url
    text = (f"check that this machine can reach {host} (network, firewall, or a proxy: set HTTPS_PROXY), then "
            "try again; or use the sandbox instead (Target: Sandbox, or unset BW_TARGET)")
    if url.rstrip("/") != TOKEN_URL:
        text += f"; also check the token URL {url} (BW_TOKEN_URL; Bandwidth's is {TOKEN_URL})"
    return text


class _ClientAuth(requests.auth.AuthBase, ClientAuth):
    """authlib's client authentication (``client_secret_basic``) applied to a requests request."""

    def __call__(self, req: requests.PreparedRequest) -> requests.PreparedRequest:
        req.url, req.headers, req.body = self.prepare(req.method, req.url, req.headers, req.body)
        return req


class _GrantClient(OAuth2Client):
    """authlib's protocol client on a requests Session. (``authlib.integrations.requests_client.OAuth2Session`` is
    the same thing, but importing it imports authlib's web-framework and OpenID Connect parts and cryptography: about
    0.1 s of CPU in every notebook's kernel.)"""

    client_auth_class = _ClientAuth
    SESSION_REQUEST_PARAMS = ["timeout"]


class TokenSource:
    """Access tokens for one API credential. ``access_token()`` returns a valid one, fetching when needed."""

    def __init__(self, client_id: str, client_secret: str, token_url: str = TOKEN_URL, *,
                 timeout: tuple[float, float] | float = (5.0, 30.0), margin: float = 60.0,
                 clock: Callable[[], float] = time.time):
        register_secret(client_secret)
        #: what "now" is for token lifetimes (tests give the sandbox's clock: bwhelpers.sandbox.clock)
        self.clock = clock
        self.client_id = client_id
        self.token_url = token_url
        self.timeout = timeout
        self.margin = margin
        #: how many tokens this source fetched (a test and ``diagnose`` read it)
        self.fetches = 0
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._lifetime = 0.0
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "bwhelpers/0.1 (+authlib)"
        self._client = _GrantClient(self._session, client_id=client_id, client_secret=client_secret,
                                    token_endpoint=token_url, token_endpoint_auth_method="client_secret_basic",
                                    grant_type="client_credentials")
        self._client.register_compliance_hook("access_token_response", self._check_response)

    def __repr__(self) -> str:
        state = "no token yet" if self._token is None else f"token valid {max(0, self._expires_at - self.clock()):.0f} s"
        return f"<TokenSource client_id={self.client_id!r} token_url={self.token_url!r} ({state})>"

    # -- tokens ----------------------------------------------------------------------------------
    def _fresh(self) -> bool:
        margin = min(self.margin, self._lifetime / 4)
        return self._token is not None and self.clock() < self._expires_at - margin

    def access_token(self) -> str:
        """A token with more than the margin left; fetched on first use and again near expiry."""
        with self._lock:
            if not self._fresh():
                self._fetch()
            assert self._token is not None
            return self._token

    def renew(self, rejected: str | None = None) -> str:
        """A new token after the service rejected ``rejected`` (another thread may have renewed already)."""
        with self._lock:
            if self._token is None or rejected is None or self._token == rejected or not self._fresh():
                self._fetch()
            assert self._token is not None
            return self._token

    def seconds_left(self) -> float:
        """Seconds until the current token expires (0 without one)."""
        return max(0.0, self._expires_at - self.clock()) if self._token else 0.0

    def claims(self) -> dict[str, Any]:
        """The current token's claims (``accounts``, ``roles``, ``exp`` ...), read without verifying it."""
        return token_claims(self.access_token())

    def _fetch(self) -> None:
        try:
            token = self._client.fetch_token(self.token_url, grant_type="client_credentials", timeout=self.timeout)
        except OAuth2Error as exc:  # the endpoint answered an RFC 6749 error
            raise self._oauth_error(exc.error, exc.description) from None
        except requests.exceptions.RequestException as exc:
            kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "could not connect"
            raise TransportError(
                f"OAuth token request to {self.token_url}: {kind} ({type(exc).__name__}). Fix: "
                + _reach_fix(self.token_url), request={"method": "POST", "url": self.token_url},
                fix=_reach_fix(self.token_url)) from None
        access = token.get("access_token") if isinstance(token, dict) else None
        if not isinstance(access, str) or not access:
            raise TokenError(f"the token endpoint {self.token_url} answered without an access_token. Fix: "
                             + _url_fix(self.token_url), request={"method": "POST", "url": self.token_url},
                             description="no access_token in the answer", fix=_url_fix(self.token_url))
        register_secret(access)
        try:
            lifetime = float(token.get("expires_in"))
        except (TypeError, ValueError):
            lifetime = FALLBACK_EXPIRES_IN
        if lifetime <= 0:
            lifetime = FALLBACK_EXPIRES_IN
        self._token, self._lifetime = access, lifetime
        self._expires_at = self.clock() + lifetime
        self.fetches += 1

    def _oauth_error(self, error: str | None, description: str | None) -> TokenError:
        request = {"method": "POST", "url": self.token_url}
        if error == "invalid_client":
            return TokenError(status=401, code=error, description=scrub(description) or "client authentication failed",
                              fix=_CREDENTIALS_FIX, request=request)
        if error in ("unauthorized_client", "access_denied"):
            return TokenError(status=403, code=error, description=scrub(description) or error,
                              fix="give the API credential access to this account (Account > API Credentials)",
                              request=request)
        return TokenError(status=400, code=error or "invalid_request", description=scrub(description) or error,
                          fix=_url_fix(self.token_url), request=request)

    def _check_response(self, resp: requests.Response) -> requests.Response:
        """Before authlib reads the answer: anything that is not an OAuth JSON answer becomes a clear error."""
        ctype = resp.headers.get("Content-Type", "")
        request = {"method": "POST", "url": self.token_url}
        response = {"status": resp.status_code, "body": scrub(resp.text[:500])}
        if resp.status_code >= 500:
            raise ServerError(status=resp.status_code, description=f"the token endpoint {self.token_url} failed",
                              fix="retry in a moment; if it persists, " + _url_fix(self.token_url),
                              request=request, response=response)
        if "json" not in ctype.lower():
            raise TokenError(status=resp.status_code,
                             description=f"the token URL {self.token_url} answered HTTP {resp.status_code} "
                                         f"({ctype or 'no content type'}), not an OAuth token",
                             fix=_url_fix(self.token_url), request=request, response=response)
        if resp.status_code == 401 and "error" not in (resp.text or ""):
            raise TokenError(status=401, code="invalid_client", description="client authentication failed",
                             fix=_CREDENTIALS_FIX, request=request, response=response)
        return resp


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, unverified (the service verifies it); {} if it is no JWT."""
    import jwt  # only diagnose reads claims: PyJWT (and cryptography) stay out of every other kernel

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` from a :class:`TokenSource`; a 401 gets one new token and one retry."""

    def __init__(self, source: TokenSource):
        self.source = source

    def __repr__(self) -> str:
        return f"<BearerAuth {self.source!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BearerAuth) and other.source is self.source

    __hash__ = object.__hash__

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.source.access_token()}"
        request.register_hook("response", self._retry_on_401)
        return request

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        prepared = response.request
        if response.status_code != 401 or getattr(prepared, "_bw_token_retried", False):
            return response
        header = prepared.headers.get("Authorization") or ""
        rejected = (header.decode("latin-1") if isinstance(header, bytes) else header)[7:] or None
        token = self.source.renew(rejected)
        response.content  # noqa: B018  (drain, so the connection can be reused)
        response.close()
        again = prepared.copy()
        again.headers["Authorization"] = f"Bearer {token}"
        # unused-ignore: typed requests (2.34) has no such attribute; untyped (2.32) it is Any
        again._bw_token_retried = True  # type: ignore[attr-defined, unused-ignore]
        again.hooks = {"response": []}
        retried = response.connection.send(again, **kwargs)
        retried.history.append(response)
        retried.request = again
        return retried


_SOURCES: dict[tuple[str, str, str], TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def token_source(client_id: str, client_secret: str, token_url: str = TOKEN_URL) -> TokenSource:
    """The process's one :class:`TokenSource` for this credential and token URL (tokens are shared by every
    client and notebook cell in the process, held in memory only)."""
    key = (token_url, client_id, hashlib.sha256(client_secret.encode()).hexdigest())
    with _SOURCES_LOCK:
        source = _SOURCES.get(key)
        if source is None:
            source = _SOURCES[key] = TokenSource(client_id, client_secret, token_url)
        return source
