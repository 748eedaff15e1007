"""MessagingClient: send (current or legacy endpoint), list, and a rate-limited bulk send."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .checks import check_int, check_number
from .ids import require_id
from .limits import MAX_ATTACHMENTS
from .exceptions import BandwidthError, RateLimitError, ValidationError
from .http import auth_for, make_session, post_json, request, unreadable_response
from .phone import e164_cached as _e164
from .results import Result

if TYPE_CHECKING:
    import requests
    from .config import Config

__all__ = ["MessagingClient", "MAX_TEXT", "MAX_RECIPIENTS", "BULK_COLUMNS", "validate_message"]

MAX_TEXT = 2048
MAX_RECIPIENTS = 10
MAX_TAG = 1024
BULK_COLUMNS = ("to", "text", "id", "status", "error", "attempts")
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}


def validate_message(to: Any, text: Any, from_: Any, application_id: Any, media: Any = None,
                     tag: Any = None) -> dict[str, Any]:
    """Check and normalize a message before any request; raises ValidationError naming the field."""
    if to is not None and not isinstance(to, (str, int, list, tuple)):
        raise ValidationError(f"to: expected a number or a list of numbers, got {type(to).__name__}", field="to")
    if media is not None and not isinstance(media, (str, list, tuple)):
        raise ValidationError(f"media: expected a URL or a list of URLs, got {type(media).__name__}", field="media")
    recipients = [to] if isinstance(to, (str, int)) else list(to or [])
    if not recipients:
        raise ValidationError("to: no recipient; give one number or a list of up to 10", field="to")
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationError(f"to: {len(recipients)} recipients; a group message allows at most {MAX_RECIPIENTS}",
                              field="to")
    to_numbers = [_e164(n, "to" if len(recipients) == 1 else f"to[{i}]") for i, n in enumerate(recipients)]
    sender = _e164(from_, "from_")
    media_list = [media] if isinstance(media, str) else list(media or [])
    if len(media_list) > MAX_ATTACHMENTS:
        raise ValidationError(f"media: {len(media_list)} attachments; a message carries at most {MAX_ATTACHMENTS}. "
                              "Fix: send fewer (or several messages)", field="media")
    for i, url in enumerate(media_list):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 4096:
            raise ValidationError(f"media[{i}]: {str(url)[:80]!r} must be an http(s) URL of at most 4096 characters. "
                                  "Fix: upload a local file first (upload_media) and send its media URL",
                                  field="media")
    if text is None or text == "":
        if not media_list:
            raise ValidationError("text: empty; text is required unless media is included", field="text")
        text = ""
    if not isinstance(text, str):
        raise ValidationError(f"text: must be a string, not {type(text).__name__}", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"text: {len(text)} characters; the limit is {MAX_TEXT}. Fix: shorten it or split it "
                              "into several messages", field="text")
    if not isinstance(application_id, str) or not application_id.strip():
        raise ValidationError("application_id: missing; give the ApplicationId from step 1", field="application_id")
    if tag is not None and (not isinstance(tag, str) or len(tag) > MAX_TAG):
        raise ValidationError(f"tag: must be a string of at most {MAX_TAG} characters", field="tag")
    body: dict[str, Any] = {"from": sender, "to": to_numbers, "text": text, "applicationId": application_id.strip()}
    if media_list:
        body["media"] = media_list
    if tag is not None:
        body["tag"] = tag
    return body


#: listMessages' query parameters (messaging.yml)
LIST_FILTERS = ("messageId", "sourceTn", "destinationTn", "messageStatus", "messageDirection", "carrierName",
                "messageType", "errorCode", "fromDateTime", "toDateTime", "campaignId", "sort", "pageToken", "limit",
                "limitTotalCount")


class _RateLimiter:
    """A thread-safe pacing gate: at most ``rate`` acquisitions per second (None = unlimited)."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Hold every sender back for ``seconds`` (after a 429)."""
        with self.lock:
            self.next_at = max(self.next_at, time.monotonic() + seconds)


class MessagingClient:
    """Messaging v2: current ``/api/v2/users/{account}`` (Bearer token, or the legacy user:pass) or the guide's
    ``/v2/users/{user}`` (token:secret)."""

    def __init__(self, config: "Config", session: "requests.Session | None" = None):
        self.config = config
        self.auth = auth_for(config, "messaging")
        self.session = session or make_session(config, auth=self.auth)

    def __repr__(self) -> str:
        kind = "legacy" if self.config.legacy_messaging else "current"
        return f"<MessagingClient {kind} {self.config.messages_url}>"

    def _check_owner(self) -> None:
        if self.config.legacy_messaging and not self.config.user_id:
            raise ValidationError("user_id: the legacy messaging API needs BW_USER_ID (and BW_API_TOKEN/BW_API_SECRET)",
                                  field="user_id")
        if not self.config.legacy_messaging and not self.config.account_id:
            raise ValidationError("account_id: missing; set BW_ACCOUNT_ID", field="account_id")
        # the owner goes into the URL path: digits (account) or a user id, never a dot segment or a slash
        if self.config.legacy_messaging:
            require_id(self.config.user_id, "user_id", "name")
        else:
            require_id(self.config.account_id, "account_id")

    def send_message(self, to: str | Iterable[str], text: str | None, from_: str, application_id: str,
                     media: str | Iterable[str] | None = None, tag: str | None = None) -> Result:
        """The send step: POST a message; 202 means accepted (delivery arrives later as a callback event)."""
        body = validate_message(to, text, from_, application_id, media, tag)
        self._check_owner()
        resp, ex = post_json(self.session, self.config.messages_url, body, headers=JSON_HEADERS, auth=self.auth)
        data = _json(resp, ex)
        return Result(data=data, id=data.get("id"), exchange=ex, status="accepted",
                      title="Message sent")

    def list_messages(self, **filters: Any) -> Result:
        """GET the messages endpoint (filters are passed as query parameters, e.g. messageId=, sourceTn=)."""
        unknown = sorted(set(filters) - set(LIST_FILTERS))
        if unknown:
            raise ValidationError(f"{unknown[0]}: not a filter of listMessages; use {', '.join(LIST_FILTERS)}",
                                  field=unknown[0])
        for key, value in filters.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValidationError(f"{key}: expected a string or a whole number, got {type(value).__name__}",
                                      field=key)
        self._check_owner()
        resp, ex = request(self.session, "GET", self.config.messages_url, params=filters or None,
                           headers={"Accept": "application/json"}, auth=self.auth)
        data = _json(resp, ex, allow_list=True)
        if isinstance(data, list):
            records = data
        else:
            records = data.get("messages") or data.get("items") or []
        return Result(data=data if isinstance(data, dict) else {"messages": data}, exchange=ex,
                      records=[r for r in records if isinstance(r, dict)], title="Messages")

    def bulk_send(self, rows_or_recipients: Any, text: str | None = None, from_: str | None = None,
                  application_id: str | None = None, concurrency: int = 4, rate: float | None = None,
                  max_attempts: int = 10, progress: bool = True) -> list[dict[str, Any]]:
        """Send many messages with bounded concurrency and pacing; retries only 429s (not accepted => safe).

        ``rows_or_recipients``: numbers (then ``text`` is required), or dicts / a DataFrame with ``to`` and
        optional ``text``, ``from``/``from_``, ``media``, ``tag``. Returns one record per message (BULK_COLUMNS):
        to, text, id, status ('accepted' | 'failed' | 'invalid'), error, attempts. Nothing is sent twice.
        """
        from tqdm.auto import tqdm

        check_int(concurrency, "concurrency")
        if concurrency < 1:
            raise ValidationError("concurrency: must be at least 1", field="concurrency")
        check_number(rate, "rate", minimum=None, optional=True)
        if rate is not None and rate <= 0:
            raise ValidationError("rate: must be a positive number of messages per second", field="rate")
        rows = _rows(rows_or_recipients, text)
        prepared: list[tuple[int, dict[str, Any] | None, str | None]] = []
        for i, row in enumerate(rows):
            try:
                body = validate_message(row.get("to"), row.get("text", text), row.get("from") or row.get("from_")
                                        or from_, row.get("application_id") or row.get("applicationId")
                                        or application_id, row.get("media"), row.get("tag"))
                prepared.append((i, body, None))
            except ValidationError as exc:
                prepared.append((i, None, str(exc)))
        self._check_owner()
        limiter = _RateLimiter(rate)
        out: list[dict[str, Any]] = [{} for _ in rows]

        def send(i: int, body: dict[str, Any]) -> dict[str, Any]:
            row = {"to": ", ".join(body["to"]), "text": body.get("text"), "id": None, "status": "failed",
                   "error": None, "attempts": 0}
            for attempt in range(1, max_attempts + 1):
                limiter.acquire()
                row["attempts"] = attempt
                try:
                    resp, _ = post_json(self.session, self.config.messages_url, body, headers=JSON_HEADERS,
                                        auth=self.auth)
                except RateLimitError as exc:  # not accepted: re-sending is safe
                    wait = exc.retry_after if exc.retry_after is not None else min(2.0 ** attempt * 0.25, 10.0)
                    limiter.pause(wait)
                    row["error"] = str(exc)
                    continue
                except BandwidthError as exc:  # unknown outcome or rejected: never re-send
                    row["error"] = str(exc)
                    return row
                try:
                    data = _json(resp, _)
                except BandwidthError:  # accepted (2xx) but unreadable: never re-send
                    data = {}
                row.update(id=data.get("id"), status="accepted", error=None)
                return row
            return row

        with tqdm(total=len(rows), desc="sending", disable=not progress) as bar, \
                ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = {}
            for i, valid, err in prepared:
                if valid is None:
                    src = rows[i]
                    out[i] = {"to": str(src.get("to")), "text": src.get("text", text), "id": None,
                              "status": "invalid", "error": err, "attempts": 0}
                    bar.update(1)
                else:
                    futures[pool.submit(send, i, valid)] = i
            for fut in _as_completed(futures):
                out[futures[fut]] = fut.result()
                bar.update(1)
        return [{k: row.get(k) for k in BULK_COLUMNS} for row in out]


def _json(resp: Any, ex: Any, allow_list: bool = False) -> Any:
    """The JSON body of a 2xx answer; an unreadable one raises a clear BandwidthError (not a JSONDecodeError)."""
    if resp is None or not resp.content:
        return {}
    try:
        data = resp.json()
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) or (allow_list and isinstance(data, list)):
        return data
    raise unreadable_response(resp, ex, "the response is not the Messaging API's JSON object")


def _as_completed(futures: Mapping[Any, int]):
    from concurrent.futures import as_completed
    return as_completed(futures)


def _rows(src: Any, text: str | None) -> list[dict[str, Any]]:
    if hasattr(src, "to_dict") and hasattr(src, "columns"):
        return [dict(r) for r in src.to_dict("records")]
    if isinstance(src, (str, int)):
        src = [src]
    rows: list[dict[str, Any]] = []
    for item in src:
        if isinstance(item, Mapping):
            rows.append(dict(item))
        else:
            if text is None:
                raise ValidationError("text: required when rows_or_recipients is a list of numbers", field="text")
            rows.append({"to": item})
    return rows
