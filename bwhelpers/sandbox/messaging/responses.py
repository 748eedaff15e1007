"""
bwhelpers.sandbox.messaging.responses
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Tornado handlers of Messaging v2: ``POST``/``GET /api/v2/users/{accountId}/messages``
(username:password) and the guide's ``/v2/users/{userId}/messages`` (api token:secret).
"""
from __future__ import annotations

from typing import Any

from ..core import BaseHandler
from ..exceptions import MessagingError
from ..oauth.models import ROLE_MESSAGING
from . import models
from .exceptions import RateLimited, ValidationError


class _MessagesHandler(BaseHandler):
    api = "messaging"
    endpoint = "current"

    def account(self, path: dict[str, str]) -> str:
        raise NotImplementedError

    def post(self, **path: str) -> None:
        account_id = self.account(path)
        body = self.json_body()
        msg, errors = models.validate_request(body)
        if errors:
            raise ValidationError(errors)
        per_second = int(self.db.get_setting("rate_limit_per_second", 0) or 0)
        retry_after = models.take_rate_slot(self.db, account_id, per_second)
        if retry_after is not None:
            raise RateLimited(per_second, retry_after)
        self.send_json(models.create_outbound(self.db, account_id, msg, endpoint=self.endpoint), status=202)

    def get(self, **path: str) -> None:
        account_id = self.account(path)
        filters = {k: self.get_argument(k, "") for k in (
            "messageId", "sourceTn", "destinationTn", "messageStatus", "messageDirection", "messageType", "errorCode")}
        try:
            limit = int(self.get_argument("limit", "100"))
            offset = int(self.get_argument("pageToken", "0") or 0)
        except ValueError:
            raise MessagingError("request-validation", "Your request could not be accepted",
                                 field_errors=[{"fieldName": "limit",
                                                "description": "'limit' and 'pageToken' must be integers"}]) from None
        if not 1 <= limit <= 1000:
            raise MessagingError("request-validation", "Your request could not be accepted",
                                 field_errors=[{"fieldName": "limit",
                                                "description": "'limit' must be between 1 and 1000"}])
        total, items = models.list_messages(self.db, account_id, filters, limit=limit, offset=max(0, offset))
        page_info: dict[str, Any] = {}
        if offset + limit < total:
            page_info["nextPageToken"] = str(offset + limit)
            page_info["nextPage"] = f"{self.request.path}?limit={limit}&pageToken={offset + limit}"
        if offset > 0:
            prev = max(0, offset - limit)
            page_info["prevPageToken"] = str(prev)
            page_info["prevPage"] = f"{self.request.path}?limit={limit}&pageToken={prev}"
        self.send_json({"totalCount": total, "pageInfo": page_info, "messages": items})


class MessagesHandler(_MessagesHandler):
    """``/api/v2/users/{accountId}/messages`` with an API user's username:password or a Bearer token
    (the credential needs the Messaging role)."""

    def account(self, path: dict[str, str]) -> str:
        return self.auth_account(path["account_id"], role=ROLE_MESSAGING)

    get, post = _MessagesHandler.get, _MessagesHandler.post  # listed in 405 Allow headers


class LegacyMessagesHandler(_MessagesHandler):
    """The guide's ``/v2/users/{userId}/messages`` with api token:secret."""

    endpoint = "legacy"

    def account(self, path: dict[str, str]) -> str:
        return self.auth_legacy_user(path["user_id"])

    get, post = _MessagesHandler.get, _MessagesHandler.post
