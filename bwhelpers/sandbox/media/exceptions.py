"""
bwhelpers.sandbox.media.exceptions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Errors of the Media API, one class per error, in the messaging shape ``{"type", "description"}`` that
``bandwidth.yml`` documents for every Media operation (400/401/403/404/406/415/429/500). Bandwidth documents the
limits but not the wording: the descriptions are the sandbox's own and name the fix.
"""
from __future__ import annotations

from ..exceptions import MessagingError


class MediaNotFound(MessagingError):
    """404: the account has no file of that name."""

    def __init__(self, media_id: str):
        super().__init__("not-found", f"Media {media_id!r} was not found on this account: list your media with "
                                      f"GET /users/{{accountId}}/media, or upload it first", status=404)


class InvalidMediaId(MessagingError):
    """400: the media id is not a safe path below the account's media."""

    def __init__(self, problem: str):
        super().__init__("request-validation", f"Invalid mediaId: {problem}", status=400)


class MediaTooLarge(MessagingError):
    """413: the file is over the 3.5 MB per-file limit."""

    def __init__(self, size: int, limit: int):
        super().__init__("request-entity-too-large",
                         f"The media file is {size} bytes; Bandwidth accepts at most {limit} bytes (3.5 MB) per "
                         f"file. Make it smaller (resize or compress the picture) and upload it again", status=413)


class UnsupportedMediaType(MessagingError):
    """415: a Content-Type the Media API does not accept (or none)."""

    def __init__(self, content_type: str):
        shown = repr(content_type) if content_type else "no Content-Type"
        super().__init__("unsupported-content-type",
                         f"Content type {shown} is not supported for media. Send the file's type in the "
                         f"Content-Type header, e.g. image/png, image/jpeg, image/gif, video/mp4 or "
                         f"application/pdf", status=415)


class MediaQuotaExceeded(MessagingError):
    """400: the upload would take the account over its storage quota (the sandbox's media_quota_bytes)."""

    def __init__(self, used: int, size: int, quota: int):
        super().__init__("media-quota-exceeded",
                         f"This account stores {used} bytes of media; {size} more would pass its quota of {quota} "
                         f"bytes. Delete media you no longer need (DELETE /users/{{accountId}}/media/{{mediaId}})",
                         status=400)


class InvalidContinuationToken(MessagingError):
    """400: a Continuation-Token this service did not return."""

    def __init__(self) -> None:
        super().__init__("request-validation", "The Continuation-Token header is not one this service returned: "
                                               "send back the Continuation-Token of the previous answer unchanged",
                         status=400)
