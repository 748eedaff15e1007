"""
bwhelpers.sandbox.media.responses
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Tornado handlers of Bandwidth's Media API (``bandwidth.yml``: listMedia, getMedia, uploadMedia, deleteMedia) under
the messaging base ``/api/v2``, with the messaging area's authentication (an API user's Basic credentials or a
Bearer token with the Messaging role, covering the account in the path: another account's media answer 403).
"""
from __future__ import annotations

from urllib.parse import quote

from .. import quotas
from ..base import BaseHandler
from ..exceptions import SandboxError
from ..credentials import ROLE_MESSAGING
from . import models
from .exceptions import (
    InvalidContinuationToken, InvalidMediaId, MediaNotFound, MediaQuotaExceeded, MediaTooLarge, UnsupportedMediaType,
)


def quota(handler: BaseHandler) -> int:
    """The per-account storage quota in bytes (the ``media_quota_bytes`` setting)."""
    value = handler.db.get_setting("media_quota_bytes", models.DEFAULT_QUOTA_BYTES)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else models.DEFAULT_QUOTA_BYTES


class _MediaHandler(BaseHandler):
    api = "messaging"
    #: uploads may carry a whole file (the server admits bodies up to this size on media paths)
    max_body_bytes = models.MAX_FILE_BYTES

    def account(self, account_id: str) -> str:
        return self.auth_account(account_id, role=ROLE_MESSAGING)

    def too_large(self) -> SandboxError:
        try:
            size = int(self.request.headers.get("Content-Length", "0").split(",")[0].strip() or 0)
        except ValueError:
            size = 0
        return MediaTooLarge(max(size, len(self.request.body or b""), models.MAX_FILE_BYTES + 1),
                             models.MAX_FILE_BYTES)


class MediaListHandler(_MediaHandler):
    """``GET /users/{accountId}/media``: at most 1000 files, the rest behind ``Continuation-Token``."""

    def get(self, account_id: str) -> None:
        account = self.account(account_id)
        token = self.request.headers.get("Continuation-Token")
        after = None
        if token:
            try:
                after = models.decode_token(token)
            except ValueError:
                raise InvalidContinuationToken() from None
        files, next_token = models.list_media(self.db, account, after)
        body = [{"content": self.absolute(models.media_path(account, f.media_id)), "contentLength": f.size,
                 "mediaName": f.media_id} for f in files]
        self.send_json(body, headers={"Continuation-Token": next_token} if next_token else None)


class MediaFileHandler(_MediaHandler):
    """``GET``/``PUT``/``DELETE /users/{accountId}/media/{mediaId}``."""

    def media_id(self, media_id: str) -> str:
        try:
            return models.check_media_id(media_id)
        except models.MediaIdError as exc:
            raise InvalidMediaId(str(exc)) from None

    def get(self, account_id: str, media_id: str) -> None:
        account = self.account(account_id)
        found = models.get_media(self.db, account, self.media_id(media_id))
        if found is None:
            raise MediaNotFound(media_id)
        self.set_status(200)
        self.set_header("Content-Type", found.content_type)
        if found.cache_control:
            self.set_header("Cache-Control", found.cache_control)
        name = found.media_id.rsplit("/", 1)[-1]
        if name.isascii() and all(c.isalnum() or c in "._-" for c in name):
            self.set_header("Content-Disposition", f'inline; filename="{name}"')
        else:  # RFC 6266's form for any other name (a header is latin-1: "日本.png" in filename="" was a 500)
            self.set_header("Content-Disposition", f"inline; filename*=UTF-8''{quote(name, safe='')}")
        self.set_header("X-Content-Type-Options", "nosniff")  # stored bytes are never sniffed into a page
        self.set_header("Content-Security-Policy", "sandbox")  # an uploaded text/html never runs as this origin
        self.finish(found.content)

    def put(self, account_id: str, media_id: str) -> None:
        account = self.account(account_id)
        name = self.media_id(media_id)
        content_type = models.normalize_type(self.request.headers.get("Content-Type"))
        if content_type not in models.SUPPORTED_TYPES:
            raise UnsupportedMediaType(content_type)
        body = self.request.body or b""
        if len(body) > models.MAX_FILE_BYTES:
            raise self.too_large()
        cache_control = self.request.headers.get("Cache-Control") or None
        quotas.check_db_size(self.db)  # a full shared db stores nothing more (507, bwhelpers.sandbox.quotas)
        quotas.check_stored(self.db, account, len(body))  # the account's stored_bytes quota (bins, media, ...)
        try:
            models.put_media(self.db, account, name, body, content_type,
                             cache_control=cache_control[:1024] if cache_control else None, quota=quota(self))
        except models.QuotaExceeded as exc:
            raise MediaQuotaExceeded(exc.used, exc.size, exc.quota) from None
        self.send_empty(204)

    def delete(self, account_id: str, media_id: str) -> None:
        account = self.account(account_id)
        if not models.delete_media(self.db, account, self.media_id(media_id)):
            raise MediaNotFound(media_id)
        self.send_empty(204)
