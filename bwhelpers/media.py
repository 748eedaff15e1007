"""MediaClient: Bandwidth's Media API (``/users/{accountId}/media``): upload, list, get, delete, and downloading the
pictures of inbound MMS safely.

Everything a caller can get wrong is checked before any request, with an error naming the field: a media id with
``..``, slashes or backslashes, a file over 3.5 MB, a content type Bandwidth does not accept (the type is guessed
from the file name with :mod:`mimetypes`, as Bandwidth's CLI ``band`` does), more than 10 attachments, a media URL
that is not http(s).

Downloading a picture of an inbound message (:meth:`MediaClient.download`) sends the account's credentials **only**
to the configured messaging host, and follows **no** redirect: a 3xx is an error naming where it pointed. Other
hosts get a plain request without credentials. (Integrators got this wrong: nyaruka/courier#591,
chatwoot/chatwoot#15463.)
"""
from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from .exceptions import BandwidthError, NotFoundError, ValidationError
from .http import auth_for, make_session, request
from .ids import require_id
from .limits import CONTENT_TYPES, MAX_ATTACHMENTS, MAX_FILE_BYTES, MAX_URL_LENGTH, TOLL_FREE_MMS_BYTES
from .results import Result

if TYPE_CHECKING:
    import requests
    from .config import Config

__all__ = ["MediaClient", "MediaFile", "MAX_FILE_BYTES", "MAX_ATTACHMENTS", "TOLL_FREE_MMS_BYTES", "CONTENT_TYPES",
           "guess_content_type", "check_media_id", "check_media_list", "read_source"]

#: pages :meth:`MediaClient.list` follows at most (1000 files each)
MAX_PAGES = 50


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


@dataclass(frozen=True)
class MediaFile:
    """A downloaded file: its bytes, Content-Type and where it came from."""

    content: bytes
    content_type: str
    url: str
    media_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def __repr__(self) -> str:
        return f"<MediaFile {self.media_id or self.url} {self.content_type} {self.size} bytes>"


def guess_content_type(name: str, content_type: str | None = None, field: str = "content_type") -> str:
    """``content_type`` if given, else the type :mod:`mimetypes` guesses from ``name``; ValidationError when it is
    not one Bandwidth accepts (or cannot be guessed)."""
    chosen = (content_type or mimetypes.guess_type(name)[0] or "").split(";")[0].strip().lower()
    if chosen == "image/jpg":
        chosen = "image/jpeg"
    if chosen not in CONTENT_TYPES:
        shown = repr(chosen) if chosen else "unknown"
        raise ValidationError(
            f"{field}: the content type of {name!r} is {shown}, which Bandwidth's Media API does not accept. Fix: "
            f"send a picture (image/png, image/jpeg, image/gif, image/webp), video/mp4, audio/mpeg or "
            f"application/pdf, or pass content_type= if the file name's extension is wrong", field=field)
    return chosen


def check_media_id(media_id: Any, field: str = "media_id", path: bool = False) -> str:
    """A media id for a URL path: never empty, ``.``/``..``, a backslash or a control character; without ``/``
    unless ``path`` (the ``{messageId}/0/name.png`` ids of inbound pictures, each segment checked)."""
    if not isinstance(media_id, str) or not media_id.strip():
        raise ValidationError(f"{field}: missing; give a file name like 'photo.png'", field=field)
    if len(media_id) > 1024:
        raise ValidationError(f"{field}: longer than 1024 characters", field=field)
    if "\\" in media_id or any(ord(c) < 32 or ord(c) == 127 for c in media_id):
        raise ValidationError(f"{field}: {media_id[:60]!r} contains a backslash or a control character; give a "
                              f"file name like 'photo.png'", field=field)
    segments = media_id.split("/")
    if "/" in media_id and not path:
        raise ValidationError(f"{field}: {media_id[:60]!r} contains '/'; a media id you upload is one file name "
                              f"like 'photo.png' (no folders, no '..')", field=field)
    if any(s in ("", ".", "..") for s in segments):
        raise ValidationError(f"{field}: {media_id[:60]!r} has an empty, '.' or '..' path segment, which would "
                              f"leave the account's media; give a file name like 'photo.png'", field=field)
    return media_id


def check_media_list(media: Any, field: str = "media") -> list[Any]:
    """``media`` as a list (a single item becomes one), at most 10 items; each an http(s) URL, a local file
    (:class:`~pathlib.Path` or an existing path string) or ``bytes``. ValidationError names the item."""
    if media is None:
        return []
    items = [media] if isinstance(media, (str, bytes, os.PathLike)) else list(media)
    if len(items) > MAX_ATTACHMENTS:
        raise ValidationError(f"{field}: {len(items)} attachments; a message carries at most {MAX_ATTACHMENTS}. "
                              f"Fix: send fewer (or several messages)", field=field)
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        if isinstance(item, (bytes, os.PathLike)):
            continue
        if not isinstance(item, str):
            raise ValidationError(f"{where}: expected an http(s) URL, a file path or bytes, got "
                                  f"{type(item).__name__}", field=field)
        parts = urlsplit(item.strip())
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            if len(item) > MAX_URL_LENGTH:
                raise ValidationError(f"{where}: the URL is {len(item)} characters; at most {MAX_URL_LENGTH}",
                                      field=field)
            continue
        if not parts.scheme and Path(item).is_file():
            continue
        raise ValidationError(f"{where}: {item[:80]!r} is not an http(s) URL (nor a file here). Fix: give a public "
                              f"https:// URL, a media URL from upload_media(), or the path of a local file",
                              field=field)
    return items


def read_source(source: Any, field: str = "source") -> tuple[bytes, str | None]:
    """The bytes of a path or ``bytes`` (and the file name, for the media id and the type), checked against the
    3.5 MB limit before any request."""
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), None
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValidationError(f"{field}: no file {str(path)!r}. Fix: give the path of a picture, or bytes",
                                  field=field)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValidationError(f"{field}: {path.name} is {_mb(size)} ({size} bytes); Bandwidth accepts at most "
                                  f"3.5 MB ({MAX_FILE_BYTES} bytes) per file. Fix: resize or compress it",
                                  field=field)
        data, name = path.read_bytes(), path.name
    else:
        raise ValidationError(f"{field}: expected a file path or bytes, got {type(source).__name__}", field=field)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"{field}: {_mb(len(data))} ({len(data)} bytes); Bandwidth accepts at most 3.5 MB "
                              f"({MAX_FILE_BYTES} bytes) per file. Fix: resize or compress it", field=field)
    if not data:
        raise ValidationError(f"{field}: the file is empty", field=field)
    return data, name


class MediaClient:
    """The Media API under the configured messaging base (``{messaging_url}/users/{accountId}/media``)."""

    def __init__(self, config: "Config", session: "requests.Session | None" = None):
        self.config = config
        self.auth = auth_for(config, "messaging")
        self.session = session or make_session(config, auth=self.auth)

    def __repr__(self) -> str:
        return f"<MediaClient {self.config.messaging_url}/users/{self.config.account_id}/media>"

    # -- URLs ---------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``{messaging_url}/users/{accountId}/media`` (the current API; the guide's legacy one has no media)."""
        if self.config.legacy_messaging:
            raise ValidationError(f"messaging_url: {self.config.messaging_url!r} is the guide's legacy messaging API, "
                                  f"which has no Media API. Fix: use https://messaging.bandwidth.com/api/v2 "
                                  f"(BW_MESSAGING_URL) with API credentials", field="messaging_url")
        account = require_id(self.config.account_id, "account_id")
        return f"{self.config.messaging_url}/users/{account}/media"

    def url(self, media_id: str, path: bool = False) -> str:
        """The media URL of ``media_id`` (what ``send_message(media=[...])`` takes)."""
        check_media_id(media_id, path=path)
        return f"{self.base_url}/" + "/".join(quote(s, safe="") for s in media_id.split("/"))

    def media_id_of(self, url: str) -> str | None:
        """The media id of a media URL of this account on the configured messaging host, else None."""
        base = self.base_url + "/"
        if not url.startswith(base) or not self.on_messaging_host(url):
            return None
        return "/".join(unquote(s) for s in url[len(base):].split("?")[0].split("/"))

    def on_messaging_host(self, url: str) -> bool:
        """Same scheme, host and port as the configured messaging URL (the only place credentials go)."""
        mine, theirs = urlsplit(self.config.messaging_url), urlsplit(url)
        return (mine.scheme.lower(), (mine.hostname or "").lower(), mine.port) == \
            (theirs.scheme.lower(), (theirs.hostname or "").lower(), theirs.port)

    # -- calls --------------------------------------------------------------------------------------
    def upload(self, source: Any, media_id: str | None = None, content_type: str | None = None,
               cache_control: str | None = None) -> Result:
        """PUT a file (a path or bytes) as ``media_id`` (default: the file's name) -> 204. The Result's ``id`` is
        the media id and ``data["url"]`` the media URL to send."""
        data, name = read_source(source)
        media_id = media_id if media_id is not None else name
        if media_id is None:
            raise ValidationError("media_id: give a name for bytes, like media_id='photo.png'", field="media_id")
        check_media_id(media_id)
        ctype = guess_content_type(media_id if content_type is None and name is None else (name or media_id),
                                   content_type)
        headers = {"Content-Type": ctype}
        if cache_control is not None:
            headers["Cache-Control"] = str(cache_control)
        url = self.url(media_id)
        _, ex = request(self.session, "PUT", url, data=data, headers=headers, auth=self.auth)
        ex.request_body = f"<{len(data)} bytes of {ctype}>"
        return Result(data={"mediaId": media_id, "url": url, "contentType": ctype, "contentLength": len(data)},
                      id=media_id, exchange=ex, status="uploaded")

    def list(self, max_pages: int = MAX_PAGES) -> Result:
        """GET every page of the account's media (1000 per page, following ``Continuation-Token``)."""
        records: list[dict[str, Any]] = []
        token: str | None = None
        ex = None
        for _ in range(max_pages):
            headers = {"Accept": "application/json"}
            if token:
                headers["Continuation-Token"] = token
            resp, ex = request(self.session, "GET", self.base_url, headers=headers, auth=self.auth)
            try:
                page = resp.json() if resp is not None else []
            except ValueError:
                raise BandwidthError(f"GET {self.base_url}: the answer is not JSON. Fix: check BW_MESSAGING_URL",
                                     exchange=ex) from None
            records.extend(p for p in page if isinstance(p, dict)) if isinstance(page, list) else None
            token = resp.headers.get("Continuation-Token") if resp is not None else None
            if not token:
                break
        return Result(data={"media": records, "truncated": bool(token)}, exchange=ex, records=records)

    def get(self, media_id: str) -> MediaFile:
        """GET one of the account's files (an upload, or an inbound picture's ``{messageId}/0/name.png``)."""
        return self._fetch(self.url(media_id, path=True), media_id)

    def delete(self, media_id: str) -> Result:
        """DELETE one of the account's files -> 204."""
        _, ex = request(self.session, "DELETE", self.url(media_id, path=True), auth=self.auth)
        return Result(data={"mediaId": media_id, "deleted": True}, id=media_id, exchange=ex, status="deleted")

    def download(self, url: str) -> MediaFile:
        """Fetch a picture of a message (``message.media`` of a ``message-received`` event). The account's
        credentials go only to the configured messaging host; any other host gets no credentials; no redirect is
        followed (a 3xx raises, naming where it pointed)."""
        check_media_list([url], field="url")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ValidationError(f"url: {str(url)[:80]!r} is not an http(s) URL", field="url")
        if self.on_messaging_host(url):
            return self._fetch(url, self.media_id_of(url))
        import requests as _requests

        with _requests.Session() as plain:  # no credentials, no proxies' auth, never the account's session
            plain.trust_env = False
            return self._fetch(url, None, session=plain, auth=None)

    def _fetch(self, url: str, media_id: str | None, session: Any = None, auth: Any = "default") -> MediaFile:
        session = session if session is not None else self.session
        kwargs: dict[str, Any] = {"allow_redirects": False, "stream": True, "timeout": (5.0, 30.0)}
        if auth == "default":
            kwargs["auth"] = self.auth
        elif auth is not None:
            kwargs["auth"] = auth
        import requests as _requests

        try:
            resp = session.get(url, **kwargs)
        except _requests.RequestException as exc:
            from .exceptions import TransportError
            raise TransportError(f"GET {url}: could not fetch the media ({type(exc).__name__}). Fix: check the URL "
                                 f"and that the host is reachable") from None
        with resp:
            if 300 <= resp.status_code < 400:
                where = urlsplit(resp.headers.get("Location", "")).hostname or "an unnamed place"
                raise BandwidthError(f"GET {url}: answered {resp.status_code}, a redirect to {where}, which is not "
                                     f"followed: media are downloaded only from where they are, so credentials never "
                                     f"travel to another host", status=resp.status_code)
            if resp.status_code == 404:
                raise NotFoundError(f"media: {media_id or url!r} was not found (404). Fix: list the account's media "
                                    f"(list_media()) or upload it first", status=404)
            if resp.status_code >= 400:
                from .errors import error_from_response
                raise error_from_response(resp.status_code, resp.text[:2000], headers=dict(resp.headers))
            chunks, total = [], 0
            for chunk in resp.iter_content(64 * 1024):
                total += len(chunk)
                if total > MAX_FILE_BYTES:
                    raise BandwidthError(f"GET {url}: more than 3.5 MB ({MAX_FILE_BYTES} bytes); not downloaded")
                chunks.append(chunk)
            ctype = (resp.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip().lower()
            return MediaFile(content=b"".join(chunks), content_type=ctype, url=url, media_id=media_id)

