"""HTTP plumbing: a ``requests.Session`` with keep-alive, timeouts and safe retries, and the Exchange record."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import threading
import time
from datetime import timedelta
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from .errors import error_from_response
from .exceptions import BandwidthError, TransportError
from .lean_http import LeanConnection, LeanHTTPSConnection
from .masking import scrub

if TYPE_CHECKING:
    from .config import Config

__all__ = ["DEFAULT_TIMEOUT", "RETRY_STATUSES", "IDEMPOTENT_METHODS", "Exchange", "make_session", "request", "auth_for",
           "USER_AGENT", "unreadable_response", "post_json"]

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
        #: (url, environment, settings) -> its route or None, and per thread the kept-alive connections of
        #: :func:`post_json`
        self._fast_routes: dict[Any, Any] = {}
        self._fast_local = threading.local()
        self._fast_all: list[http.client.HTTPConnection] = []
        self._fast_lock = threading.Lock()

    def _send(self, route: Any, method: str, target: str, payload: bytes | None,
              headers: dict[str, str]) -> tuple[int, str, Any, bytes] | None:
        """One request on this thread's connection to the route's origin: (status, reason, headers, body), or
        None when no connection could be opened (nothing was sent). Errors after that raise."""
        scheme, host, port, _target, verify = route[:5]
        conns = getattr(self._fast_local, "conns", None)
        if conns is None:
            conns = self._fast_local.conns = {}
        origin = (scheme, host, port, verify if isinstance(verify, (bool, str)) else repr(verify))
        conn = conns.get(origin)
        if conn is not None and (conn.sock is None or _dropped(conn.sock)):
            conn.close()
            conn = None
        if conn is None:
            conn = self._connect(scheme, host, port, verify)
            if conn is None:
                return None
            conns[origin] = conn
        try:
            conn.request(method, target, body=payload, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except BaseException:
            conn.close()
            conns.pop(origin, None)
            raise
        if resp.will_close:
            conn.close()
            conns.pop(origin, None)
        return resp.status, resp.reason, resp.msg, data

    def _connect(self, scheme: str, host: str, port: int, verify: Any) -> http.client.HTTPConnection | None:
        timeout = self.default_timeout
        connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        conn: http.client.HTTPConnection
        # one write per request, the response head without the email package (bwhelpers.lean_http)
        if scheme == "https":
            conn = LeanHTTPSConnection(host, port, timeout=connect_timeout, context=_tls_context(verify))
        else:
            conn = LeanConnection(host, port, timeout=connect_timeout)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException):
            conn.close()
            return None
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sock.settimeout(read_timeout)
        with self._fast_lock:
            self._fast_all = [c for c in self._fast_all if c.sock is not None]
            self._fast_all.append(conn)
        return conn

    def close(self) -> None:
        with self._fast_lock:
            for conn in self._fast_all:
                conn.close()
            self._fast_all = []
        super().close()

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
        try:
            key = (urlsplit(url)[:2], stream, verify, cert, self.stream, self.verify, self.cert,
                   tuple(sorted(self.proxies.items())), _env_key())
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


_ENV_DATA = getattr(os.environ, "_data", None)  # os.environ's own store (bytes on POSIX): read without decoding
_ENV_DATA_KEYS = tuple(os.environ.encodekey(k) for k in _ENV_KEYS) if hasattr(os.environ, "encodekey") else ()


def _env_key() -> tuple[Any, ...]:
    """The size of the environment and the values of the proxy/CA variables (what requests' proxy and CA
    look-up reads), cheaply: ``os.environ.get`` encodes and decodes every name and value."""
    data = _ENV_DATA
    if isinstance(data, dict) and _ENV_DATA_KEYS:
        return (len(data), *(data.get(k) for k in _ENV_DATA_KEYS))
    env = os.environ
    return (len(env), *(env.get(k) for k in _ENV_KEYS))


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket the server closed (readable with nothing to read: EOF) or that failed."""
    from urllib3.util.wait import wait_for_read

    try:
        return wait_for_read(sock, timeout=0.0)
    except OSError:
        return True


_TLS: dict[Any, ssl.SSLContext] = {}


def _tls_context(verify: Any) -> ssl.SSLContext:
    """Certificate checks as requests does them: ``verify`` True (certifi's bundle), a CA file or folder, or
    False (no check)."""
    key = verify if isinstance(verify, (bool, str)) else repr(verify)
    ctx = _TLS.get(key)
    if ctx is None:
        if verify is False:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif isinstance(verify, str) and os.path.isdir(verify):
            ctx = ssl.create_default_context(capath=verify)
        else:
            ctx = ssl.create_default_context(
                cafile=verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH)
        _TLS[key] = ctx
    return ctx


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
            raise_for_status: bool = True, timeout: Any = None) -> "tuple[requests.Response | Reply | None, Exchange]":
    """Send one request; return ``(response, Exchange)`` or raise the matching BandwidthError.

    Connection failures and timeouts raise TransportError; HTTP >= 400 raises the subclass for the
    status and Bandwidth code (when ``raise_for_status``).

    On a session of :func:`make_session` the request goes out on a kept-alive ``http.client`` connection of the
    session (:func:`_lean`: requests' and urllib3's per-call machinery was most of a call's client CPU), with
    requests' headers, body and query encoding and urllib3's retry rules (the session's own Retry); anything
    unusual takes requests' path (see :func:`post_json`), as does a call with its own ``timeout``.
    The response is then a :class:`Reply` (what callers read of a ``requests.Response``).
    """
    method = method.upper()
    if timeout is None and type(session) is _TimeoutSession:
        lean = _lean(session, method, url, data.encode("utf-8") if isinstance(data, str) else data, json_body,
                     params, headers or {}, auth)
        if lean is not None:
            reply, lean_ex = lean
            if raise_for_status and reply.status_code >= 400:
                raise error_from_response(reply.status_code, reply.text, headers=dict(reply.headers.items()),
                                          request=lean_ex.request, exchange=lean_ex)
            return reply, lean_ex
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
        raise _transport_error(method, req_url, kwargs["headers"], data, json_body, elapsed, kind,
                               type(exc).__name__) from None
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


def _transport_error(method: str, url: str, headers: Mapping[str, Any], data: Any, json_body: Any, elapsed: float,
                     kind: str, name: str) -> TransportError:
    ex = Exchange(method, url, _clean_headers(headers), scrub(_text(data)) if data else
                  (scrub(_json_text(json_body)) if json_body is not None else None), None, {}, None, elapsed)
    return TransportError(
        f"{method} {url}: {kind} ({name}). Fix: check that the service is running and "
        f"the base URL is right (BW_DASHBOARD_URL / BW_MESSAGING_URL / BW_SANDBOX_URL)",
        request=ex.request, exchange=ex)


# -- the lean path: a request on a kept-alive http.client connection --------------------------------------

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def post_json(session: requests.Session, url: str, body: Any, *, headers: Mapping[str, str],
              auth: Auth | None = None) -> "tuple[requests.Response | Reply | None, Exchange]":
    """POST ``body`` as JSON, as :func:`request` does (the session's headers, Basic or Bearer auth with one new
    token after a 401, its timeouts, the same errors and :class:`Exchange`); the send path's name for it."""
    return request(session, "POST", url, json_body=body, headers=headers, auth=auth)


def _lean(session: "_TimeoutSession", method: str, url: str, data: bytes | None, json_body: Any,
          params: Mapping[str, Any] | None, headers: Mapping[str, str],
          auth: Auth | None) -> "tuple[Reply, Exchange] | None":
    """One request as requests would send it, on a kept-alive ``http.client`` connection of the session (one per
    thread and origin) instead of requests' and urllib3's per-call machinery; None (nothing sent, or a GET/PUT/
    DELETE to send again) hands it to requests.

    What requests does is kept: the session's headers under the call's (None removes one), the query encoded by
    requests' own encoder, a JSON body as ``json=`` sends it, Content-Length as requests sets it, Basic or Bearer
    auth with one new token and one more send after a 401, cookies the service sets kept in the session's jar.
    Retries are urllib3's, by the session adapter's own :class:`~urllib3.util.retry.Retry`: a 429/5xx answer to an
    idempotent method is sent again after its Retry-After or the backoff; an error after a request went out is
    retried for idempotent methods only (a POST is never sent twice after it may have reached the service).
    Anything unusual (another Session or adapter class, cookies, hooks, a proxy for the URL, a client certificate,
    an auth that is neither Basic nor :class:`~bwhelpers.oauth.BearerAuth`, a connection that cannot be opened, a
    redirect to follow) takes requests' path, with its connect retries and redirects.
    """
    route = _fast_route(session, url, auth)
    if route is None:
        return None
    target, full_url = route[3], route[5]
    if params:
        query = requests.models.RequestEncodingMixin._encode_params(params)
        if query:
            full_url = requests.utils.requote_uri(f"{full_url}{'&' if '?' in full_url else '?'}{query}")
            parts = urlsplit(full_url)
            target = (parts.path or "/") + f"?{parts.query}"
    payload = _json_bytes(json_body) if data is None and json_body is not None else data
    merged = {k.lower(): (k, v) for k, v in session.headers.items()}
    merged.update((k.lower(), (k, v)) for k, v in headers.items())
    if data is None and json_body is not None:
        merged.setdefault("content-type", ("Content-Type", "application/json"))
    merged["accept-encoding"] = ("Accept-Encoding", "identity")
    merged.pop("connection", None)  # keep-alive is HTTP/1.1's default
    if payload is not None:
        merged["content-length"] = ("Content-Length", str(len(payload)))
    elif method not in ("GET", "HEAD"):
        merged["content-length"] = ("Content-Length", "0")
    effective = auth if auth is not None else session.auth
    bearer = getattr(effective, "source", None)
    merged["authorization"] = ("Authorization", f"Bearer {bearer.access_token()}" if bearer is not None else
                               _basic_header(effective))
    sent = {k: v for k, v in merged.values() if v is not None}
    adapter = session.get_adapter(url)
    assert isinstance(adapter, HTTPAdapter)  # (_fast_route)
    retry: Retry = adapter.max_retries
    renewed = False
    started = time.perf_counter()
    while True:
        try:
            raw = session._send(route, method, target, payload, sent)
        except (OSError, http.client.HTTPException) as exc:
            timed_out = isinstance(exc, TimeoutError)
            error: Exception = urllib3_exceptions.ProtocolError(str(exc), exc)
            if timed_out:  # (urllib3 names the pool; there is none here)
                error = urllib3_exceptions.ReadTimeoutError(None, full_url, str(exc))  # type: ignore[arg-type]
            try:
                retry = retry.increment(method, full_url, error=error)
            except Exception:
                raise _transport_error(method, full_url, sent, data, json_body, time.perf_counter() - started,
                                       "timed out" if timed_out else "could not connect",
                                       "ReadTimeout" if timed_out else "ConnectionError") from None
            retry.sleep()
            continue
        if raw is None:  # no connection could be opened: nothing was sent (this time)
            return None
        status, reason, message, body = raw
        if status == 401 and bearer is not None and not renewed:  # one new token, sent once more (as BearerAuth)
            renewed = True
            sent["Authorization"] = f"Bearer {bearer.renew(sent['Authorization'][7:])}"
            continue
        if status in _REDIRECTS and message.get("Location") and method in IDEMPOTENT_METHODS:
            return None  # requests follows it
        if retry.is_retry(method, status, bool(message.get("Retry-After"))):
            answer = _Urllib3Answer(status, message)
            try:
                retry = retry.increment(method, full_url, response=answer)  # type: ignore[arg-type]
            except urllib3_exceptions.MaxRetryError:
                break  # the last answer is returned (raise_on_status is off)
            retry.sleep(answer)  # type: ignore[arg-type]
            continue
        break
    elapsed = time.perf_counter() - started
    resp = Reply(status, reason, message, _decoded(body, message.get("Content-Encoding")), full_url, elapsed)
    if "Set-Cookie" in message:  # keep what the service sets, as the session would
        from types import SimpleNamespace

        from requests.cookies import extract_cookies_to_jar
        extract_cookies_to_jar(session.cookies, requests.Request(method, full_url, headers=sent).prepare(),
                               SimpleNamespace(_original_response=SimpleNamespace(msg=message)))
    ex = Exchange(method=method, url=full_url, request_headers=_clean_headers(sent),
                  request_body=scrub(_text(payload)), status=status,
                  response_headers=_clean_headers(dict(message.items())), response_body=scrub(resp.text),
                  elapsed=elapsed)
    return resp, ex


class _Urllib3Answer:
    """What urllib3's Retry reads of an answer (status, headers, redirect location)."""

    def __init__(self, status: int, headers: Any):
        self.status, self.headers = status, headers

    def get_redirect_location(self) -> str | bool | None:
        return self.headers.get("Location") if self.status in _REDIRECTS else False


class Reply:
    """The answer :func:`post_json` returns: what callers read of a ``requests.Response`` (``status_code``,
    ``reason``, ``headers`` (case-insensitive), ``content``, ``encoding``, ``text``, ``json()``, ``url``,
    ``elapsed``, ``ok``), without building one."""

    __slots__ = ("status_code", "reason", "headers", "content", "url", "elapsed", "encoding")

    def __init__(self, status: int, reason: str, headers: Any, content: bytes, url: str, elapsed: float):
        self.status_code, self.reason, self.headers, self.content = status, reason, headers, content
        self.url, self.elapsed = url, timedelta(seconds=elapsed)
        ctype = headers.get("Content-Type")
        self.encoding = requests.utils.get_encoding_from_headers(
            requests.structures.CaseInsensitiveDict({"content-type": ctype})) if ctype else None

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8 (as :func:`_response_text` reads it)."""
        try:
            return self.content.decode(self.encoding or "utf-8", "replace")
        except LookupError:  # an unknown charset name
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json
        return json.loads(self.content)

    def __repr__(self) -> str:
        return f"<Reply [{self.status_code}]>"


#: a URL that requests' prepare_url returns unchanged: http(s), a lowercase host name or IPv4 address, a port, an
#: absolute path and a non-empty query of characters that need no quoting (no percent sign: requests would
#: normalise its escapes), no userinfo or fragment (and, checked apart, no dot segment, which urllib3 removes)
_PLAIN_URL = re.compile(r"(https?)://([a-z0-9][a-z0-9.-]*)(?::([0-9]{1,5}))?(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)"
                        r"(\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]+)?")
_DOT_SEGMENT = re.compile(r"/\.\.?(?:/|$)")


class _Route(tuple):
    """(scheme, host, port, request target, verify, the URL as requests prepares it) of one URL."""


def _fast_route(session: "_TimeoutSession", url: str, auth: Auth | None) -> _Route | None:
    from .oauth import BearerAuth

    if type(session) is not _TimeoutSession or len(session.cookies) or any(session.hooks.values()):
        return None
    effective = auth if auth is not None else session.auth
    if not (isinstance(effective, BearerAuth) or (isinstance(effective, tuple) and len(effective) == 2)):
        return None
    if type(session.get_adapter(url)) is not HTTPAdapter:
        return None
    # what decides the route: the URL, the proxy/CA environment and the session's own settings
    settings = (_env_key(), session.trust_env, _hashable(session.verify), _hashable(session.cert),
                _hashable(session.proxies))
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and not _DOT_SEGMENT.search(plain.group(4)):
        # a URL requests sends as it is: the origin's route (proxy, certificate, CA: decided by scheme, host and
        # port) with this URL's path and query, without preparing each new URL (as long as a request to a new id)
        okey = (plain.group(1), plain.group(2), plain.group(3), *settings)
        origin = session._fast_routes.get(okey, False)
        if origin is False:
            route = _new_route(session, url)
            origin = session._fast_routes[okey] = None if route is None else (*route[:3], route[4])
            if len(session._fast_routes) > 64:
                session._fast_routes.clear()
        if origin is None:
            return None
        return _Route((*origin[:3], plain.group(4) + (plain.group(5) or ""), origin[3], url))
    key = (url, *settings)
    route = session._fast_routes.get(key, False)
    if route is False:
        route = session._fast_routes[key] = _new_route(session, url)
        if len(session._fast_routes) > 64:
            session._fast_routes.clear()
    return route


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    return value if isinstance(value, (str, bool, type(None))) else repr(value)


def _new_route(session: "_TimeoutSession", url: str) -> _Route | None:
    settings = session.merge_environment_settings(url, {}, None, None, None)
    if settings["cert"] or requests.utils.select_proxy(url, settings["proxies"]):
        return None
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    parts = urlsplit(prepared.url or url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return _Route((parts.scheme, parts.hostname, port, target, settings["verify"], prepared.url or url))


def _decoded(data: bytes, encoding: str | None) -> bytes:
    """The body without its Content-Encoding (the request asked for identity; a server may still compress)."""
    if not encoding or encoding.strip().lower() == "identity" or not data:
        return data
    import zlib

    kind = encoding.strip().lower()
    if kind in ("gzip", "x-gzip"):
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if kind == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -zlib.MAX_WBITS)
    return data


def _basic_header(auth: Any) -> str:
    from requests.auth import _basic_auth_str

    return _basic_auth_str(*auth)


def _json_bytes(body: Any) -> bytes:
    """``body`` as requests' ``json=`` sends it (no NaN/Infinity), with one encoder for the process."""
    return _ENCODER.encode(body).encode("utf-8")


_ENCODER = json.JSONEncoder(allow_nan=False)


def _response_text(resp: requests.Response) -> str:
    """The body as text: the declared charset, else UTF-8 (the XML and JSON default). ``resp.text`` would
    run charset detection (chardet) on every charset-less ``application/xml`` answer: slow, and a guess."""
    if resp.encoding:
        return resp.text
    return (resp.content or b"").decode("utf-8", "replace")


def _json_text(body: Any) -> str:
    return json.dumps(body)


def unreadable_response(resp: Any, ex: Exchange, why: str) -> BandwidthError:
    """A 2xx answer whose body cannot be read (a proxy's page, a truncated body): a clear BandwidthError."""
    return BandwidthError(f"HTTP {resp.status_code} {ex.method} {ex.url}: {why}. Fix: check that the base URL points at "
                          "the Bandwidth API (BW_DASHBOARD_URL / BW_MESSAGING_URL / BW_SANDBOX_URL) and retry",
                          status=resp.status_code, request=ex.request, response=ex.response, exchange=ex,
                          description=why)
