"""HTTP plumbing: a ``requests.Session`` with keep-alive, timeouts and safe retries, and the Exchange record."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from .errors import error_from_response
from .exceptions import BandwidthError, TransportError
from .masking import scrub

if TYPE_CHECKING:
    from .config import Config

__all__ = ["DEFAULT_TIMEOUT", "RETRY_STATUSES", "IDEMPOTENT_METHODS", "Exchange", "make_session", "request", "auth_for",
           "USER_AGENT", "unreadable_response"]

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
USER_AGENT = "bwhelpers/0.1 (+python-requests)"
_HIDDEN_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
_ENV_KEYS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
             "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


class _CappedRetry(Retry):
    """urllib3 Retry whose Retry-After sleeps are capped, so a bad header cannot hang a notebook."""

    MAX_RETRY_AFTER = 30.0

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.MAX_RETRY_AFTER)


class _TimeoutSession(requests.Session):
    """A Session that applies a default timeout to every call that does not pass one."""

    def __init__(self, timeout: tuple[float, float] | float = DEFAULT_TIMEOUT):
        super().__init__()
        self.default_timeout = timeout
        self._env_settings: dict[Any, dict[str, Any]] = {}

    # unused-ignore: requests 2.34 ships its own types (the override differs); 2.32 is untyped (constraints.txt pins)
    def request(self, method, url, **kwargs):  # type: ignore[override, unused-ignore]
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, **kwargs)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        """requests' proxy look-up reads every environment variable on every request (about a fifth of a
        send to the local sandbox). Its answer depends only on the host and the environment, so it is
        cached per scheme+host, the session's own settings, the size of the environment and the values of
        the proxy/CA variables (changing any of those recomputes it)."""
        if not self.trust_env or proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        env = os.environ
        try:
            key = (urlsplit(url)[:2], stream, verify, cert, self.stream, self.verify, self.cert,
                   tuple(sorted(self.proxies.items())), len(env), tuple(env.get(k) for k in _ENV_KEYS))
            hash(key)
        except TypeError:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        cached = self._env_settings.get(key)
        if cached is None:
            cached = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if len(self._env_settings) >= 64:
                self._env_settings.clear()
            self._env_settings[key] = cached
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in cached.items()}

    def __repr__(self) -> str:
        return f"<bwhelpers session timeout={self.default_timeout}>"


Auth = Any  # a (user, password) tuple for Basic, or a requests AuthBase (oauth.BearerAuth)


def auth_for(config: "Config", api: str = "dashboard") -> Auth:
    """How requests to ``api`` ('dashboard' or 'messaging') authenticate under ``config``.

    The guide's legacy messaging endpoint takes token:secret; otherwise API credentials give a
    :class:`~bwhelpers.oauth.BearerAuth` (one token per credential per process, fetched lazily), and the legacy
    API user gives username:password."""
    if api == "messaging" and config.legacy_messaging:
        return config.messaging_auth
    if config.uses_oauth:
        from .oauth import BearerAuth, token_source

        if not (config.client_id and config.client_secret):
            from .exceptions import ValidationError
            raise ValidationError("auth='oauth' needs a Client ID and Client Secret. Fix: set BW_CLIENT_ID and "
                                  "BW_CLIENT_SECRET (Bandwidth App > Account > API Credentials)", field="client_id")
        return BearerAuth(token_source(config.client_id, config.client_secret, config.token_url))
    return config.dashboard_auth


def make_session(config: "Config | None" = None, *, auth: Auth | None = None,
                 timeout: tuple[float, float] | float = DEFAULT_TIMEOUT, retries: int = 3,
                 backoff_factor: float = 0.3, backoff_max: float = 5.0,
                 retry_statuses: frozenset[int] = RETRY_STATUSES) -> requests.Session:
    """A keep-alive Session with basic auth, a default timeout and urllib3 retries.

    Retries 429/500/502/503/504 for idempotent methods only (GET, PUT, DELETE, HEAD), honouring
    ``Retry-After``. A POST is never retried after it reached the server, so nothing is created twice.
    ``retry_statuses`` narrows that (a poller that shows its own waits leaves 429 to itself).
    ``auth`` defaults to :func:`auth_for` the config's Dashboard (Bearer token or username:password).
    """
    session = _TimeoutSession(timeout)
    if auth is None and config is not None and (config.username or config.uses_oauth):
        auth = auth_for(config)
    if auth is not None:
        session.auth = auth
    retry = _CappedRetry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        status_forcelist=sorted(retry_statuses), allowed_methods=IDEMPOTENT_METHODS,
        # urllib3 retries any status with a Retry-After header when it respects the header, whatever the list says
        respect_retry_after_header=429 in retry_statuses, backoff_factor=backoff_factor, backoff_max=backoff_max,
        raise_on_status=False, raise_on_redirect=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


@dataclass
class Exchange:
    """One HTTP request and its response, with credentials removed, for notebooks to display."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed: float = 0.0

    @property
    def request(self) -> dict[str, Any]:
        """The request part as a dict (method, url, headers, body)."""
        return {"method": self.method, "url": self.url, "headers": self.request_headers, "body": self.request_body}

    @property
    def response(self) -> dict[str, Any]:
        """The response part as a dict (status, headers, body)."""
        return {"status": self.status, "headers": self.response_headers, "body": self.response_body}

    def as_http(self) -> str:
        """The exchange as HTTP-like text (request line, headers, body; then the response)."""
        lines = [f"{self.method} {self.url} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in self.request_headers.items()]
        if self.request_body:
            lines += ["", self.request_body]
        lines += ["", f"HTTP/1.1 {self.status}  ({self.elapsed * 1000:.0f} ms)"]
        lines += [f"{k}: {v}" for k, v in self.response_headers.items()]
        if self.response_body:
            lines += ["", self.response_body]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Exchange {self.method} {self.url} -> {self.status} ({self.elapsed * 1000:.0f} ms)>"


def _clean_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Headers for display: credentials replaced by ``********`` (``Authorization`` keeps its scheme, so a
    request shows ``Authorization: Bearer ********`` or ``Basic ********``)."""
    out: dict[str, str] = {}
    for k, v in headers.items():
        low = k.lower()
        if low in ("authorization", "proxy-authorization"):
            scheme = str(v).split(" ", 1)[0] if v else ""
            out[k] = f"{scheme} ********" if scheme.lower() in ("basic", "bearer") else "********"
        elif low in _HIDDEN_HEADERS:
            out[k] = "********"
        else:
            out[k] = _text(v) or ""
    return out


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def request(session: requests.Session, method: str, url: str, *, data: str | bytes | None = None,
            json_body: Any = None, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None, auth: Auth | None = None,
            raise_for_status: bool = True, timeout: Any = None) -> tuple[requests.Response | None, Exchange]:
    """Send one request; return ``(response, Exchange)`` or raise the matching BandwidthError.

    Connection failures and timeouts raise TransportError; HTTP >= 400 raises the subclass for the
    status and Bandwidth code (when ``raise_for_status``).
    """
    method = method.upper()
    kwargs: dict[str, Any] = {"params": params, "headers": dict(headers or {})}
    if data is not None:
        kwargs["data"] = data.encode("utf-8") if isinstance(data, str) else data
    if json_body is not None:
        kwargs["json"] = json_body
    if auth is not None:
        kwargs["auth"] = auth
    if timeout is not None:
        kwargs["timeout"] = timeout
    started = time.perf_counter()
    try:
        resp = session.request(method, url, **kwargs)
    except requests.exceptions.RequestException as exc:
        elapsed = time.perf_counter() - started
        req_url = url
        if params:
            req_url = requests.Request(method, url, params=params).prepare().url or url
        ex = Exchange(method, req_url, _clean_headers(kwargs["headers"]), scrub(_text(data)) if data else
                      (scrub(_json_text(json_body)) if json_body is not None else None), None, {}, None, elapsed)
        # after the last retry of a read timeout, requests reports ConnectionError(MaxRetryError(ReadTimeoutError))
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        timed_out = isinstance(reason, urllib3_exceptions.TimeoutError) and \
            not isinstance(reason, urllib3_exceptions.NewConnectionError)  # (a ConnectTimeoutError subclass)
        if isinstance(exc, requests.exceptions.Timeout) or timed_out:
            kind = "timed out"
        elif isinstance(exc, requests.exceptions.ConnectionError):
            kind = "could not connect"
        else:
            kind = "failed"
        raise TransportError(
            f"{method} {req_url}: {kind} ({type(exc).__name__}). Fix: check that the service is running and "
            f"the base URL is right (BW_DASHBOARD_URL / BW_MESSAGING_URL / BW_SANDBOX_URL)",
            request=ex.request, exchange=ex) from None
    elapsed = time.perf_counter() - started
    prepared = resp.request
    ex = Exchange(
        method=method, url=prepared.url or url,
        request_headers=_clean_headers(prepared.headers),
        request_body=scrub(_text(prepared.body)),
        status=resp.status_code,
        response_headers=_clean_headers(resp.headers),
        response_body=scrub(_response_text(resp)),
        elapsed=elapsed,
    )
    if raise_for_status and resp.status_code >= 400:
        raise error_from_response(resp.status_code, _response_text(resp), headers=dict(resp.headers), request=ex.request,
                                  exchange=ex)
    return resp, ex


def _response_text(resp: requests.Response) -> str:
    """The body as text: the declared charset, else UTF-8 (the XML and JSON default). ``resp.text`` would
    run charset detection (chardet) on every charset-less ``application/xml`` answer: slow, and a guess."""
    if resp.encoding:
        return resp.text
    return (resp.content or b"").decode("utf-8", "replace")


def _json_text(body: Any) -> str:
    import json
    return json.dumps(body)


def unreadable_response(resp: Any, ex: Exchange, why: str) -> BandwidthError:
    """A 2xx answer whose body cannot be read (a proxy's page, a truncated body): a clear BandwidthError."""
    return BandwidthError(f"HTTP {resp.status_code} {ex.method} {ex.url}: {why}. Fix: check that the base URL points at "
                          "the Bandwidth API (BW_DASHBOARD_URL / BW_MESSAGING_URL / BW_SANDBOX_URL) and retry",
                          status=resp.status_code, request=ex.request, response=ex.response, exchange=ex,
                          description=why)
