"""The page's pictures part (the MMS step): upload, send, a simulated reply, the pictures received."""
from __future__ import annotations

import html
from typing import Any

from .. import theme
from ..exceptions import BandwidthError
from ..results import Result
from ..ui import display as show
from .base import PageBase, nothing_sent_because

__all__ = ["PicturesMixin"]


class PicturesMixin(PageBase):
    """Upload, send and receive pictures."""

    # -- pictures (MMS) -------------------------------------------------------------------------------------------
    def upload_picture(self, path: Any = None) -> Result | None:
        """Upload a picture with the Media API (default the small one that ships with the project) and show it."""
        result = self._show(lambda: self.setup.upload_media(path))
        if result is not None:
            try:
                shown = self.setup.get_media(str(result.id))  # read back from the service: what it stores
            except BandwidthError as exc:
                show.show_error(exc)
                return result
            _show_pictures([shown], "Stored on the Media API (read back with GET)")
        return result

    def send_picture(self, to: Any = None, text: str | None = "A picture from the walkthrough") -> Result | None:
        """Send the uploaded picture as an MMS (``to`` defaults to the recipient of the text message)."""
        if to is None and self.setup is not None:
            last = self.setup.current.last_message
            to = last.to if last is not None else None
        self._last_refusal = None
        result = self._show(lambda: self.setup.send_picture(self._billed_to(to), text=text), saves="message id")
        self._nothing_sent = None if result is not None else nothing_sent_because(self._last_refusal)
        return result

    def picture_reply(self, sample: str = "sunset", timeout: float = 30.0) -> Any:
        """Sandbox: someone texts a picture back (a built-in ``sample``); wait for its message-received. A real
        account: how to get one (a friend texts a picture to your number)."""
        if not self.check():
            return None
        if self.setup.control is None:
            return self._received(picture=True)
        try:
            result = self.setup.simulate_picture_reply(sample)
        except BandwidthError as exc:
            show.show_error(exc)
            return None
        message = result.get("message") if isinstance(result.get("message"), dict) else {}
        return self.wait_for_event("message-received", message_id=message.get("id"), timeout=timeout)

    def show_received_pictures(self) -> list[Any]:
        """Download the pictures of the latest incoming picture message (credentials only to Bandwidth's messaging
        host, no redirects) and show them inline."""
        if not self.check():
            return []
        try:
            pictures = self.setup.received_pictures()
        except BandwidthError as exc:
            show.show_error(exc)
            return []
        if not pictures:
            show.show_callout("info", "No picture has arrived yet",
                                 "<div>When someone sends a picture to your number, the <code>message-received</code> "
                                 "event lists its URLs in <code>message.media</code>; run this cell again then.</div>")
            return []
        _show_pictures(pictures, "Received (downloaded with the account's credentials from the media URL)")
        self._outcome("done", f"a picture was uploaded, sent, and {len(pictures)} received picture(s) shown"
                      if any(k == "done" and t.startswith("received") for k, t in self.outcomes)
                      else f"{len(pictures)} received picture(s) shown")
        return pictures


def _show_pictures(pictures: list[Any], title: str) -> None:
    """Pictures inline (``<img>`` of a data URI, at most 320 px wide), each with its type, size and source."""
    import base64

    cells = []
    for p in pictures:
        caption = html.escape(f"{p.media_id or p.url} · {p.content_type} · {p.size:,} bytes")
        if p.is_image:
            data = base64.b64encode(p.content).decode("ascii")
            img = (f'<img src="data:{html.escape(p.content_type)};base64,{data}" alt="{caption}" '
                   'style="max-width:320px;max-height:240px;border-radius:8px;display:block">')
        else:
            img = "<div>(not a picture)</div>"
        cells.append(f'<figure class="bw-picture" style="margin:0 12px 8px 0;display:inline-block">{img}'
                     f'<figcaption style="font-size:12px;color:{theme.MUTED};max-width:320px;overflow-wrap:anywhere">'
                     f"{caption}</figcaption></figure>")
    show.show_callout("ok", title, f"<div>{''.join(cells)}</div>")
