"""
bwhelpers.sandbox.messaging.exceptions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Errors of the Messaging v2 API. The common ``{type, description[, fieldErrors]}`` shape is
:class:`bwhelpers.sandbox.exceptions.MessagingError`; this module adds the exact bodies the real
service uses for validation, rate limiting and unknown paths (Spring's 404).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from ..exceptions import MessagingError, SandboxError

VALIDATION_DESCRIPTION = "Your request could not be accepted"


class ValidationError(MessagingError):
    """400 ``request-validation`` with one ``fieldErrors`` entry per problem."""

    def __init__(self, field_errors: list[dict[str, str]]):
        super().__init__("request-validation", VALIDATION_DESCRIPTION, status=400, field_errors=field_errors)


class RateLimited(MessagingError):
    """429 ``max-message-queue-size-exceeded`` with a ``Retry-After`` header."""

    def __init__(self, per_second: int, retry_after: int = 1):
        per_minute = per_second * 60
        description = (
            f"The SMS queue for your account is full and cannot accept more messages right now. "
            f"Your allowed rate is {per_minute} messages per minute. The capacity of this queue is "
            f"{per_minute * 15} messages (15 minutes). Reduce your message sending rate, or contact "
            f"support to increase your allowed rate."
        )
        super().__init__("max-message-queue-size-exceeded", description, status=429,
                         headers={"Retry-After": str(retry_after)})


class SpringNotFound(SandboxError):
    """The messaging gateway's 404: ``{"timestamp","status":404,"error":"Not Found","message","path"}``."""

    status = 404

    def __init__(self, path: str, message: str = "Not Found"):
        super().__init__(f"404: {path}")
        self.path, self.message = path, message
        self.headers = {}

    def render(self) -> tuple[str, str]:
        now = datetime.now(timezone.utc)
        # messaging-errors.mdx: "2019-09-09T19:02:19.253+0000" (Spring's offset has no colon)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"
        return "application/json; charset=utf-8", json.dumps({
            "timestamp": stamp, "status": 404, "error": "Not Found",
            "message": self.message, "path": self.path,
        })
