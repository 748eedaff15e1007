"""SandboxControl: the client of the sandbox's control plane (``/_sandbox/...``), over HTTP only.

Every ``/_sandbox`` URL the client uses is built here; nothing in the client imports the sandbox's
modules to read its tables (the magic numbers come from ``GET /_sandbox/magic-numbers``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .exceptions import ValidationError
from .http import make_session, request, unreadable_response
from .ids import require_id, segment

if TYPE_CHECKING:
    import requests

    from .config import Config

__all__ = ["SandboxControl"]

_JSON = {"Accept": "application/json"}
#: the most pages of one bin :meth:`SandboxControl.bin` reads (a page is at most 1,000 requests or about 64 KB)
MAX_BIN_PAGES = 200


class SandboxControl:
    """Control-plane calls of the sandbox that ``config`` points at (health, settings, bins, inbound, magic)."""

    def __init__(self, config: "Config", session: "requests.Session | None" = None):
        if not config.is_sandbox or not config.sandbox_base:
            raise ValidationError("SandboxControl: the config does not target a running sandbox; the control plane "
                                  "(/_sandbox) exists only there", field="target")
        self.config = config
        self.base = f"{config.sandbox_base}/_sandbox"
        self.session = session or make_session(config)

    def __repr__(self) -> str:
        return f"<SandboxControl {self.base}>"

    # ------------------------------------------------------------------ urls
    def bin_url(self, name: str) -> str:
        """The URL of request bin ``name`` (a callback URL that records what it receives)."""
        return f"{self.base}/bins/{segment(require_id(name, 'name', 'name'))}"

    def bin_name(self, callback_url: str | None) -> str | None:
        """The bin name when ``callback_url`` is one of this sandbox's bins, else None."""
        prefix = f"{self.base}/bins/"
        if not callback_url or not callback_url.startswith(prefix):
            return None
        return callback_url[len(prefix):].split("?")[0].strip("/") or None

    # ------------------------------------------------------------------ calls
    def _json(self, method: str, path: str, body: Any = None) -> Any:
        resp, ex = request(self.session, method, f"{self.base}{path}", json_body=body, headers=_JSON)
        if resp is None or not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError:
            raise unreadable_response(resp, ex, "the response is not the sandbox's JSON") from None

    def health(self) -> dict[str, Any]:
        """``GET /_sandbox/health``."""
        return self._json("GET", "/health")

    def settings(self) -> dict[str, Any]:
        """``GET /_sandbox/settings``: the sandbox's behaviour settings (order transition, rate limit, ...)."""
        doc = self._json("GET", "/settings")
        return doc if isinstance(doc, dict) else {}

    def rate_limit(self) -> float | None:
        """The per-account messages/second limit, or None when unlimited."""
        try:
            value = float(self.settings().get("rate_limit_per_second") or 0)
        except (TypeError, ValueError):
            return None
        return value if value > 0 else None

    def magic_numbers(self) -> dict[str, Any]:
        """``GET /_sandbox/magic-numbers``: ``{"to_numbers": [...], "areas": [...]}``."""
        doc = self._json("GET", "/magic-numbers")
        return doc if isinstance(doc, dict) else {}

    def failing_number(self, code: int) -> str | None:
        """The magic ``to`` number whose message fails with ``code``, or None."""
        row = next((r for r in self.magic_numbers().get("to_numbers", []) if r.get("errorCode") == code), None)
        return row["number"] if row else None

    def failure_codes(self) -> list[int]:
        """The error codes the magic numbers can produce."""
        return sorted(r["errorCode"] for r in self.magic_numbers().get("to_numbers", []) if r.get("errorCode"))

    def bin(self, name: str, max_pages: int = MAX_BIN_PAGES) -> Any:
        """``GET /_sandbox/bins/{name}``: what the bin received (your account's bin of that name), every page of it:
        the sandbox answers a bin a small page at a time (newest first), so this follows each page's ``next`` (the
        ``before`` cursor of the older page) until there is none, or ``max_pages`` pages were read. The answer is
        one document like a page's: ``requests`` and ``events`` oldest first, ``next`` the cursor of what was left
        unread (None when the whole bin was read)."""
        path = f"/bins/{segment(require_id(name, 'name', 'name'))}"
        doc = self._json("GET", path)
        if not isinstance(doc, dict):
            return doc
        pages = [doc]
        cursor = doc.get("next")
        while isinstance(cursor, int) and not isinstance(cursor, bool) and len(pages) < max_pages:
            older = self._json("GET", f"{path}?before={cursor}")
            if not isinstance(older, dict) or older.get("next") == cursor:
                break  # an answer that does not move on: never loop on it
            pages.append(older)
            cursor = older.get("next")
        merged = dict(doc)
        for key in ("requests", "events"):
            merged[key] = [item for page in reversed(pages) for item in (page.get(key) or [])]
        merged["next"] = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
        return merged

    def inbound(self, to: str, from_: str, text: str, media: list[Any] | None = None) -> dict[str, Any]:
        """``POST /_sandbox/inbound``: pretend ``from_`` texted ``to`` (a message-received event follows). ``media``
        items are URLs or pictures: ``{"sample": "sunset"}``, ``{"mediaId": "photo.png"}`` (a copy of an upload)
        or ``{"filename", "contentType", "content": base64}``."""
        body: dict[str, Any] = {"to": to, "from": from_, "text": text}
        if media:
            body["media"] = media
        doc = self._json("POST", "/inbound", body)
        return doc if isinstance(doc, dict) else {}

    def phone_link(self, ttl: int = 3600, number: str | None = None) -> dict[str, Any]:
        """``POST /_sandbox/phone/link``: a signed link to your numbers' phone page (threads, delivery ticks, a reply
        box), valid ``ttl`` seconds (10 to 86400) on the sandbox's clock: ``{"url", "expires", "expiresAt", ...}``.
        ``number`` (E.164, one of yours) opens that number's phone."""
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 10 <= ttl <= 86400:
            raise ValidationError(f"ttl: {ttl!r} is not a whole number of seconds from 10 to 86400; give how long "
                                  "the link should work, e.g. ttl=3600", field="ttl")
        body: dict[str, Any] = {"ttl": ttl}
        if number:
            body["number"] = number
        doc = self._json("POST", "/phone/link", body)
        if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
            raise ValidationError("the sandbox answered without a phone link: it may be older than this client; "
                                  "restart it (python -m bwhelpers.sandbox)", field="sandbox")
        return doc

    def messages(self, message_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """``GET /_sandbox/messages``: your messages with each recipient's delivery state (newest ``limit``, oldest
        first). A page stops at about 64 KB of answer, so this follows its ``next`` until ``limit`` are read."""
        query = f"?limit={int(limit)}" + (f"&messageId={quote(str(message_id))}" if message_id else "")
        return self._follow("/messages" + query, {"messages": ("before", lambda doc: doc.get("next"))},
                            limit)["messages"]

    def callback_attempts(self, message_id: str | None = None, limit: int = 100) -> dict[str, Any]:
        """``GET /_sandbox/callbacks``: ``{"attempts": [...], "callbacks": [...]}`` (delivery log and outbox, the
        newest ``limit`` of each, oldest first), following each list's ``next`` cursor as :meth:`messages` does."""
        query = f"?limit={int(limit)}" + (f"&messageId={quote(str(message_id))}" if message_id else "")
        return self._follow("/callbacks" + query, {
            "attempts": ("before", lambda doc: (doc.get("next") or {}).get("before")),
            "callbacks": ("callbacksBefore", lambda doc: (doc.get("next") or {}).get("callbacksBefore"))}, limit)

    def _follow(self, path: str, lists: dict[str, tuple[str, Any]], limit: int,
                max_pages: int = MAX_BIN_PAGES) -> dict[str, Any]:
        """GET a paged control-plane list and the older pages while a list has fewer than ``limit`` items and a
        cursor: ``lists`` maps each list's key to (its cursor's query parameter, the cursor read from a page). A
        list's items come oldest first; an answer that does not move a cursor on ends the reading."""
        doc = self._json("GET", path)
        merged = {key: list(doc.get(key) or []) if isinstance(doc, dict) else [] for key in lists}
        cursors = {key: read(doc) if isinstance(doc, dict) else None for key, (_, read) in lists.items()}
        for _ in range(max_pages - 1):
            due = {key: c for key, c in cursors.items()
                   if isinstance(c, int) and not isinstance(c, bool) and len(merged[key]) < limit}
            if not due:
                break
            older = self._json("GET", path + "".join(f"&{lists[key][0]}={c}" for key, c in due.items()))
            if not isinstance(older, dict):
                break
            cursors = {key: None for key in lists}
            for key, c in due.items():
                merged[key] = list(older.get(key) or []) + merged[key]
                moved = lists[key][1](older)
                cursors[key] = moved if moved != c else None
        return {key: items[-limit:] for key, items in merged.items()}
