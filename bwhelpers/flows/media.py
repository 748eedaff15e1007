"""Pictures (MMS): upload with the Media API, send a picture message, simulate a picture reply (sandbox), and fetch
the pictures that arrived. Uploads are saved in the state (``SavedState.media``)."""
from __future__ import annotations

import os
from typing import Any

from .. import guide
from ..checks import check_str
from ..exceptions import MissingPrerequisiteError, ValidationError
from ..media import MediaClient, MediaFile, check_media_list
from ..paths import PROJECT_PICTURE
from ..results import Result
from ..state import MediaItem, now_iso
from .context import FlowContext
from .messages import Messages

__all__ = ["MediaFlow", "PROJECT_PICTURE", "SAMPLE_PICTURES"]

#: the sandbox's built-in pictures a simulated reply can carry (sandbox/media/samples)
SAMPLE_PICTURES = ("sunset", "mountains", "balloons")


class MediaFlow:
    """Media uploads and picture messages on one context."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx
        self._client: MediaClient | None = None

    @property
    def client(self) -> MediaClient:
        """The Media API client (created on first use; shares the messaging client's session)."""
        if self._client is None:
            self._client = MediaClient(self.ctx.config, session=self.ctx.messaging.session)
        return self._client

    # ------------------------------------------------------------------ the Media API
    def upload(self, source: Any = None, media_id: str | None = None, content_type: str | None = None) -> Result:
        """Upload a file (a path or bytes; default the project's picture) and save it in the state."""
        source = PROJECT_PICTURE if source is None else source
        result = self.client.upload(source, media_id=media_id, content_type=content_type)
        data = result.data
        with self.ctx.edit() as st:
            st.media = [m for m in st.media if m.id != result.id]
            st.media.append(MediaItem(id=result.id, url=data["url"], content_type=data["contentType"],
                                      size=data["contentLength"], uploaded=now_iso()))
        return result

    def list_media(self) -> Result:
        """Every file of the account (all pages)."""
        return self.client.list()

    def get(self, media_id: str) -> MediaFile:
        """One file's bytes and type."""
        return self.client.get(media_id)

    def delete(self, media_id: str) -> Result:
        """Delete one file (and forget it in the state)."""
        result = self.client.delete(media_id)
        with self.ctx.edit() as st:
            st.media = [m for m in st.media if m.id != media_id]
        return result

    def download(self, url: str) -> MediaFile:
        """A picture of a message by its URL (credentials only to the messaging host; no redirects)."""
        check_str(url, "url")
        return self.client.download(url)

    # ------------------------------------------------------------------ picture messages
    def send_picture(self, to: Any, media: Any = None, text: str | None = None, from_: str | None = None) -> Result:
        """Send an MMS: ``media`` items are URLs (sent as they are) or local files / bytes (checked, uploaded, then
        sent by their media URL); default the last uploaded picture, else the project's picture."""
        items = check_media_list(media) if media is not None else []
        messages = Messages(self.ctx)
        st = self.ctx.state
        messages.check_billed_send(to, self.ctx.sending_number(from_, st), st)  # before the upload, too
        if not items:
            saved = self.ctx.state.media
            items = [saved[-1].url] if saved and saved[-1].url else [PROJECT_PICTURE]
        urls: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, (bytes, os.PathLike)) or (isinstance(item, str) and not _is_url(item)):
                if isinstance(item, bytes):
                    raise ValidationError(f"media[{i}]: bytes need a name; upload them first with "
                                          f"upload_media(data, media_id='photo.png')", field="media")
                urls.append(self.upload(item).data["url"])
            else:
                urls.append(item)
        result = messages.send_message(to, text, from_, media=urls, checked=True)
        with self.ctx.edit() as st:
            for m in st.media:
                if m.url in urls:
                    m.message_id = result.id
        return result

    def simulate_picture_reply(self, sample: str = "sunset", text: str = "Here is a picture back!",
                               from_: str = guide.SANDBOX_PHONE, to: str | None = None) -> dict[str, Any]:
        """Sandbox: someone sends a picture to your number (a built-in sample) -> a message-received event whose
        media URL is on the sandbox's Media API."""
        control = self.ctx.control
        if control is None:
            raise MissingPrerequisiteError(
                "simulating a reply needs the sandbox; on a real account, text a picture to your number from a phone",
                fix="ask a friend to send a picture to your number, then look at received_pictures()")
        if sample not in SAMPLE_PICTURES:
            raise ValidationError(f"sample: {sample!r} is not a built-in picture; use one of "
                                  f"{', '.join(SAMPLE_PICTURES)}", field="sample")
        return control.inbound(to or self.ctx.sending_number(), from_, text, media=[{"sample": sample}])

    def received_pictures(self, message_id: str | None = None, events: list[dict[str, Any]] | None = None,
                          limit: int = 4) -> list[MediaFile]:
        """The pictures of the latest message-received events with media (or of ``message_id``), downloaded."""
        if events is None:
            events = Messages(self.ctx).events()
        found: list[MediaFile] = []
        for ev in reversed(events):
            msg = ev.get("message") or {}
            if ev.get("type") != "message-received" or not msg.get("media"):
                continue
            if message_id is not None and msg.get("id") != message_id:
                continue
            for url in msg["media"]:
                if isinstance(url, str) and len(found) < limit:
                    found.append(self.download(url))
            if found:
                break
        return found


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))
