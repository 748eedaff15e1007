"""
bwhelpers.sandbox.media.models
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

The Media API's state: each account's files (bytes, ``Content-Type``, ``Cache-Control``) in the ``media`` table,
and the rules Bandwidth documents for them (``specs/bandwidth.yml`` listMedia/getMedia/uploadMedia/deleteMedia;
``media-mms-notes.md``):

* a media id is a free path below ``/users/{accountId}/media/`` (the spec's example
  ``14762070468292kw2fuqty55yp2b2/0/bw.png``): ``/``-separated segments, none empty, ``.`` or ``..``, no
  backslash or control character, so an id never leaves its account;
* 3.5 MB per file (:data:`MAX_FILE_BYTES`); the content types of the spec's ``uploadMediaRequest``;
* a list answers at most :data:`PAGE_SIZE` files, ordered by name, stopping before its answer would pass about
  :data:`bwhelpers.sandbox.paging.MEDIA_PAGE_BYTES` (at least one file: rev23c C3, 1,000 ids of 1 KB made 2.1 MB pages
  that held the room), and a ``Continuation-Token`` for the rest;
* a per-account storage quota: the ``media_quota_bytes`` setting (the sandbox's own, for shared hosts).

This module's public functions are the model other areas use (the messaging area for MMS sends and
inbound pictures, the phone page to show pictures): :func:`list_media`, :func:`get_media`, :func:`media_path`,
:func:`parse_media_url`, :func:`store_sample`.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .. import clock, paging
from ..db import Database, register_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS media (
    account_id TEXT NOT NULL,
    media_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    cache_control TEXT,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (account_id, media_id)
)
"""
register_schema(SCHEMA)

#: Bandwidth's limits, shared with the client: ``bwhelpers/data/media_limits.json`` (the one home of these facts)
LIMITS: dict[str, Any] = json.loads(resources.files("bwhelpers").joinpath("data").joinpath("media_limits.json")
                                    .read_text(encoding="utf-8"))
#: 3.5 MB per file (Bandwidth support article 12823216; bandwidth.yml mmsMessageContentFile)
MAX_FILE_BYTES: int = LIMITS["max_file_bytes"]
#: toll-free MMS: 525 KB for all attachments together, else message-failed 4411 (Bandwidth's toll-free MMS FAQ)
TOLL_FREE_MMS_BYTES: int = LIMITS["toll_free_mms_bytes"]
#: attachments per message (external or stored media)
MAX_ATTACHMENTS: int = LIMITS["max_attachments"]
#: files per listMedia answer; the rest behind a Continuation-Token
PAGE_SIZE = 1000
#: storage per account when the ``media_quota_bytes`` setting is unreadable (its default is in the settings table)
DEFAULT_QUOTA_BYTES = 50 * 1024 * 1024
#: the longest media id the sandbox stores
MAX_ID_LENGTH = 1024
#: the path of an account's media, below the messaging base (``/api/v2``)
PATH_TEMPLATE = "/api/v2/users/{account}/media/{media}"
_URL_PATH = re.compile(r"^(?P<prefix>.*?)/api/v2/users/(?P<account>[^/]+)/media/(?P<media>.+)$")

#: Content-Types the uploadMediaRequest of bandwidth.yml lists
SUPPORTED_TYPES: frozenset[str] = frozenset(LIMITS["content_types"])

#: the built-in pictures ``/_sandbox/inbound`` can send as a reply (package data in ``samples/``)
SAMPLES: dict[str, str] = {"sunset": "sunset.png", "mountains": "mountains.png", "balloons": "balloons.png"}


@dataclass(frozen=True)
class MediaFile:
    """One stored file."""

    account_id: str
    media_id: str
    content_type: str
    cache_control: str | None
    size: int
    created: float
    content: bytes = b""


class MediaIdError(ValueError):
    """A media id that is not a safe path below the account's media."""


class QuotaExceeded(Exception):
    """The upload would take the account over its storage quota."""

    def __init__(self, used: int, size: int, quota: int):
        super().__init__(f"{used} + {size} > {quota}")
        self.used, self.size, self.quota = used, size, quota


def check_media_id(media_id: str) -> str:
    """The media id, or :class:`MediaIdError` naming the problem (``..``/``.`` or empty segments, backslashes,
    control characters, over :data:`MAX_ID_LENGTH` characters)."""
    if not media_id:
        raise MediaIdError("the media id is empty")
    if len(media_id) > MAX_ID_LENGTH:
        raise MediaIdError(f"the media id is longer than {MAX_ID_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in media_id) or "\\" in media_id:
        raise MediaIdError("the media id contains a control character or a backslash")
    for segment in media_id.split("/"):
        if segment in ("", ".", ".."):
            raise MediaIdError("the media id has an empty, '.' or '..' path segment: it must name a file below "
                               "the account's media, like photo.png or 1476207046829/0/bw.png")
    return media_id


def media_path(account_id: str, media_id: str) -> str:
    """``/api/v2/users/{accountId}/media/{mediaId}``, each segment percent-encoded (the ``/`` of the id kept)."""
    return PATH_TEMPLATE.format(account=quote(account_id, safe=""),
                                media="/".join(quote(s, safe="") for s in media_id.split("/")))


def parse_media_url(url: str) -> tuple[str, str, str] | None:
    """``(host, account_id, media_id)`` of a media URL (``…/api/v2/users/{a}/media/{id}``), else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    match = _URL_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not match or parts.query or parts.fragment:
        return None
    return ((parts.hostname or "").lower(), unquote(match["account"]),
            "/".join(unquote(s) for s in match["media"].split("/")))


def normalize_type(content_type: str | None) -> str:
    """``image/png; charset=x`` -> ``image/png`` (lower case; "" when absent)."""
    return (content_type or "").split(";")[0].strip().lower()


# -- reading ----------------------------------------------------------------------------------------

def usage(db: Database, account_id: str) -> int:
    """Bytes the account stores."""
    row = db.query_one("SELECT COALESCE(SUM(size), 0) AS used FROM media WHERE account_id=?", (account_id,))
    return int(row["used"]) if row else 0


def _file(row: Any, content: bool) -> MediaFile:
    return MediaFile(account_id=row["account_id"], media_id=row["media_id"], content_type=row["content_type"],
                     cache_control=row["cache_control"], size=int(row["size"]), created=float(row["created"]),
                     content=bytes(row["content"]) if content else b"")


def get_media(db: Database, account_id: str, media_id: str, content: bool = True) -> MediaFile | None:
    """The account's file (with its bytes unless ``content=False``), or None."""
    columns = "*" if content else "account_id, media_id, content_type, cache_control, size, created"
    row = db.query_one(f"SELECT {columns} FROM media WHERE account_id=? AND media_id=?", (account_id, media_id))
    return _file(row, content) if row is not None else None


def encode_token(media_id: str) -> str:
    return base64.urlsafe_b64encode(media_id.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> str:
    """The last media id of the previous page (ValueError when the token is not one this service returned)."""
    try:
        return base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("not a continuation token") from None


def list_media(db: Database, account_id: str, after: str | None = None,
               limit: int = PAGE_SIZE) -> tuple[list[MediaFile], str | None]:
    """One page of the account's files by name, without bytes: (files, the token of the next page or None)."""
    rows = db.query("SELECT account_id, media_id, content_type, cache_control, size, created FROM media "
                    "WHERE account_id=? AND media_id > ? ORDER BY media_id LIMIT ?",
                    (account_id, after or "", limit + 1))
    # an entry repeats the id in mediaName and the absolute content URL (about 120 more bytes of URL and keys)
    page, more = paging.newest(rows, limit, cost=lambda r: 2 * len(r["media_id"]) + 120,
                               budget=paging.MEDIA_PAGE_BYTES)
    files = [_file(r, False) for r in page]
    return files, encode_token(files[-1].media_id) if more else None


# -- writing ----------------------------------------------------------------------------------------

def put_media(db: Database, account_id: str, media_id: str, content: bytes, content_type: str,
              cache_control: str | None = None, quota: int | None = None) -> MediaFile:
    """Store (or overwrite) a file; :class:`QuotaExceeded` when the account would go over ``quota`` bytes."""
    check_media_id(media_id)
    now = clock.now(db)
    with db.transaction() as conn:
        _put(conn, account_id, media_id, content, content_type, cache_control, quota, now)
    return MediaFile(account_id, media_id, content_type, cache_control, len(content), now)


def _put(conn: Any, account_id: str, media_id: str, content: bytes, content_type: str, cache_control: str | None,
         quota: int | None, now: float) -> None:
    if quota is not None:
        row = conn.execute("SELECT COALESCE(SUM(size), 0) FROM media WHERE account_id=? AND media_id<>?",
                           (account_id, media_id)).fetchone()
        used = int(row[0])
        if used + len(content) > quota:
            raise QuotaExceeded(used, len(content), quota)
    conn.execute("INSERT INTO media (account_id, media_id, content_type, cache_control, size, content, created) "
                 "VALUES (?,?,?,?,?,?,?) ON CONFLICT(account_id, media_id) DO UPDATE SET "
                 "content_type=excluded.content_type, cache_control=excluded.cache_control, size=excluded.size, "
                 "content=excluded.content, created=excluded.created",
                 (account_id, media_id, content_type, cache_control, len(content), content, now))


def delete_media(db: Database, account_id: str, media_id: str) -> bool:
    """Delete the account's file; False when there was none."""
    with db.transaction() as conn:
        return conn.execute("DELETE FROM media WHERE account_id=? AND media_id=?",
                            (account_id, media_id)).rowcount > 0


def sample_bytes(name: str) -> bytes:
    """The bytes of a built-in sample picture (KeyError names the samples)."""
    if name not in SAMPLES:
        raise KeyError(f"no sample picture {name!r}; samples: {sorted(SAMPLES)}")
    return resources.files(__package__).joinpath("samples").joinpath(SAMPLES[name]).read_bytes()


def store_inbound(conn: Any, account_id: str, media_id: str, content: bytes, content_type: str,
                  quota: int | None = None) -> None:
    """Store a picture that arrived in an inbound message, inside the caller's transaction (it counts against the
    account's quota like an upload: :class:`QuotaExceeded`)."""
    _put(conn, account_id, check_media_id(media_id), content, content_type, None, quota, clock.now(conn))


# -- MMS: what a send's media URLs point at -------------------------------------------------------

#: the real service's messaging host: its media URLs are the account's stored media too
BANDWIDTH_HOST = "messaging.bandwidth.com"


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host (what ``media`` items must be)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def resolve_send(db: Database, account_id: str, urls: list[str],
                 own_hosts: frozenset[str] | set[str] = frozenset()) -> tuple[int, list[str]]:
    """For an MMS send: (bytes of the account's stored media among ``urls``, the URLs on this service's media
    endpoint that the account does not have: another account's, deleted or never uploaded -> 4410). External
    URLs are never fetched (the sandbox makes no request to hosts it is told about), so their size is unknown."""
    total, missing = 0, []
    for url in urls:
        parsed = parse_media_url(url)
        if parsed is None:
            continue
        host, owner, media_id = parsed
        if host != BANDWIDTH_HOST and host not in own_hosts and "*" not in own_hosts:
            continue
        found = get_media(db, account_id, media_id, content=False) if owner == account_id else None
        if found is None:
            missing.append(url)
        else:
            total += found.size
    return total, missing


# -- inbound pictures -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    """A picture an inbound message brings: stored under ``{messageId}/{index}/{filename}`` when it arrives."""

    filename: str
    content_type: str
    content: bytes


_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def inbound_picture(db: Database, account_id: str, item: dict[str, Any]) -> Picture:
    """One ``media`` item of ``/_sandbox/inbound`` that is not a URL: ``{"sample": "sunset"}`` (a built-in picture),
    ``{"mediaId": "photo.png"}`` (a copy of one of the account's uploads) or ``{"filename", "contentType",
    "content"}`` (base64). ValueError names the problem."""
    if "sample" in item:
        name = item["sample"]
        if not isinstance(name, str) or name not in SAMPLES:
            raise ValueError(f"'sample' must be one of {sorted(SAMPLES)}")
        return Picture(SAMPLES[name], "image/png", sample_bytes(name))
    if "mediaId" in item:
        media_id = item["mediaId"]
        found = get_media(db, account_id, media_id) if isinstance(media_id, str) and media_id else None
        if found is None:
            raise ValueError(f"'mediaId' {media_id!r} is not one of your uploaded media (upload it first with "
                             f"PUT /api/v2/users/{{accountId}}/media/{{mediaId}})")
        name = found.media_id.rsplit("/", 1)[-1]
        return Picture(name if _FILENAME.match(name) else "media", found.content_type, found.content)
    filename, ctype, content = item.get("filename"), normalize_type(item.get("contentType")), item.get("content")
    if not isinstance(filename, str) or not _FILENAME.match(filename):
        raise ValueError("'filename' must be a plain file name like photo.png (letters, digits, '.', '_', '-')")
    if ctype not in SUPPORTED_TYPES:
        raise ValueError(f"'contentType' {ctype or None!r} is not a supported media type (e.g. image/png)")
    try:
        data = base64.b64decode(content if isinstance(content, str) else "", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("'content' must be the file's bytes in base64") from None
    if not data:
        raise ValueError("'content' must be the file's bytes in base64")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"the picture is {len(data)} bytes; at most {MAX_FILE_BYTES} (3.5 MB)")
    return Picture(filename, ctype, data)
