"""A message's outcome without any public URL: poll listMessages (``GET /users/{accountId}/messages?messageId=``)
for each recipient's ``messageStatus`` and ``errorCode`` until all are final or the time is up.

Far inside Bandwidth's documented limit (3500 requests per 5 minutes per IP): one request per poll, backing off
from ``interval`` to ``max_interval``; a ``429`` is waited out for its ``Retry-After`` (the poll's own session
does not retry 429 silently, so the wait is reported in words), or, when that is longer than the time left, the
poll stops and says so.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .checks import check_number, check_str
from .codes import MESSAGE_STATUSES, explain_status
from .exceptions import BandwidthError, RateLimitError

if TYPE_CHECKING:
    from .messaging import MessagingClient

__all__ = ["RecipientStatus", "DeliveryOutcome", "poll_delivery", "FINAL_STATUSES"]

FINAL_STATUSES = frozenset(k for k, (final, _, _) in MESSAGE_STATUSES.items() if final)


@dataclass
class RecipientStatus:
    """One recipient's item of listMessages."""

    to: str
    status: str
    error_code: int = 0

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def explained(self) -> dict[str, Any]:
        return {"to": self.to, **explain_status(self.status, self.error_code)}


@dataclass
class DeliveryOutcome:
    """What polling found: each recipient's status, whether all are final, and what got in the way."""

    message_id: str
    recipients: list[RecipientStatus] = field(default_factory=list)
    polls: int = 0
    seconds: float = 0.0
    rate_limit_waits: list[float] = field(default_factory=list)
    #: a 429 whose Retry-After went past the time left (seconds asked), else None
    rate_limited: float | None = None
    #: the error that stopped the polling (401, 403, 5xx after retries, no answer), else None
    error: BandwidthError | None = None

    @property
    def final(self) -> bool:
        return bool(self.recipients) and all(r.final for r in self.recipients)

    @property
    def status(self) -> str:
        """The recipients' status when they agree, else the least advanced one ("" before the message is listed)."""
        statuses = [r.status for r in self.recipients]
        if not statuses:
            return ""
        if len(set(statuses)) == 1:
            return statuses[0]
        pending = [s for s in statuses if s not in FINAL_STATUSES]
        return pending[0] if pending else "MIXED"

    @property
    def delivered(self) -> bool:
        return self.final and all(r.status == "DELIVERED" for r in self.recipients)

    def words(self) -> str:
        """``+19195550123 DELIVERED; +19195550124 SENDING`` (or why there is nothing yet)."""
        if not self.recipients:
            return "not listed yet"
        return "; ".join(f"{r.to} {r.status}" + (f" {r.error_code}" if r.error_code else "") for r in self.recipients)

    def records(self) -> list[dict[str, Any]]:
        """One row per recipient: to, status, final, meaning, fix, code, name."""
        return [r.explained() for r in self.recipients]


def _recipients(records: list[dict[str, Any]]) -> list[RecipientStatus]:
    out: dict[str, RecipientStatus] = {}
    for item in records:
        if str(item.get("messageDirection") or "OUTBOUND").upper() != "OUTBOUND" and len(records) > 1:
            continue
        to = str(item.get("destinationTn") or "")
        try:
            code = int(item.get("errorCode") or 0)
        except (TypeError, ValueError):
            code = 0
        out[to] = RecipientStatus(to=to, status=str(item.get("messageStatus") or "").upper(), error_code=code)
    return list(out.values())


def poll_delivery(client: "MessagingClient", message_id: str, *, timeout: float = 30.0, interval: float = 0.5,
                  max_interval: float = 5.0, on_poll: Callable[[str, float], None] | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> DeliveryOutcome:
    """Poll listMessages for ``message_id`` until every recipient is final or ``timeout`` seconds passed.

    ``on_poll(words, elapsed)`` reports each answer ("+1919… SENDING", "rate limited: waiting 2 s ..."). Never
    raises for what the service answers: the outcome carries it (``error``, ``rate_limited``)."""
    check_str(message_id, "message_id")
    check_number(timeout, "timeout")
    check_number(interval, "interval", positive=True)
    check_number(max_interval, "max_interval", positive=True)
    start = clock()
    outcome = DeliveryOutcome(message_id=message_id)
    delay = interval

    def report(words: str) -> None:
        if on_poll is not None:
            on_poll(words, clock() - start)

    while True:
        try:
            result = client.list_messages(messageId=message_id)
        except RateLimitError as exc:
            wait = exc.retry_after if exc.retry_after is not None else max_interval
            left = timeout - (clock() - start)
            if wait > left:
                outcome.rate_limited = wait
                report(f"rate limited: the Messaging API asks to wait {wait:g} s (429 Retry-After), longer than the "
                       f"{max(left, 0):.0f} s left")
                break
            outcome.rate_limit_waits.append(wait)
            report(f"rate limited: waiting {wait:g} s as the Messaging API asks (429 Retry-After)")
            sleep(wait)
            continue
        except BandwidthError as exc:
            outcome.error = exc
            report(f"the status could not be read: {exc.description or exc}")
            break
        outcome.polls += 1
        found = _recipients(result.records or [])
        if found:
            outcome.recipients = found
        report(outcome.words())
        if outcome.final:
            break
        left = timeout - (clock() - start)
        if left <= 0:
            break
        sleep(min(delay, left))
        delay = min(delay * 1.5, max_interval)
    outcome.seconds = clock() - start
    return outcome
