"""
bwhelpers.sandbox.messaging.responses
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Tornado handlers of Messaging v2: ``POST``/``GET /api/v2/users/{accountId}/messages``
(username:password) and the guide's ``/v2/users/{userId}/messages`` (api token:secret).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .. import group_commit, quotas
from ..base import BaseHandler
from ..credentials import ROLE_MESSAGING
from ..query_numbers import whole_number
from . import models
from .exceptions import RateLimited, ValidationError


class _MessagesHandler(BaseHandler):
    api = "messaging"
    endpoint = "current"

    def account(self, path: dict[str, str]) -> str:
        raise NotImplementedError

    async def post(self, **path: str) -> None:
        account_id = self.account(path)
        body = self.json_body()
        msg, errors = models.validate_request(body, self.db)
        if errors:
            raise ValidationError(errors)
        quotas.check_messages(self.db, account_id)
        quotas.check_stored(self.db, account_id, len(self.request.body or b""))
        per_second = models.send_settings(self.db)[0]
        retry_after = models.take_rate_slot(self.db, account_id, per_second)
        if retry_after is not None:
            raise RateLimited(per_second, retry_after)
        write, accepted = models.plan_outbound(self.db, account_id, msg, endpoint=self.endpoint,
                                               own_hosts=self.ctx.allowed_hosts)
        await group_commit.submit(self.db, write)  # the 202 only once the message is committed
        self.send_json(accepted, status=202)

    def get(self, **path: str) -> None:
        account_id = self.account(path)
        filters = {k: self.get_argument(k, "") for k in models.LIST_FILTERS}
        problems = models.filter_problems(filters)
        if problems:
            raise ValidationError(problems)
        raw_limit = self.get_argument("limit", "100") or "100"
        if whole_number(raw_limit, 1, 1000) is None:
            raise ValidationError([{"fieldName": "limit", "description": "'limit' must be a whole number from 1 to "
                                                                         "1000 (default 100)"}])
        limit = int(raw_limit)
        raw_sort = self.get_argument("sort", "") or ""
        sort = models.parse_sort(raw_sort) if raw_sort else None
        if raw_sort and sort is None:
            raise ValidationError([{"fieldName": "sort", "description": "'sort' must be a field and a direction "
                                    "joined by a colon, like receiveTime:desc or sourceTn:asc; the sandbox sorts by "
                                    f"{', '.join(models.SORT_COLUMNS)} (got {raw_sort[:40]!r})"}])
        token = self.get_argument("pageToken", "") or None
        limit_total = (self.get_argument("limitTotalCount", "false") or "false").lower() == "true"
        try:
            page = models.list_messages(self.db, account_id, filters, limit=limit, page_token=token,
                                        limit_total=limit_total, sort=sort)
        except models.PageTokenError:
            raise ValidationError([{"fieldName": "pageToken", "description": "'pageToken' is not a token this "
                                    "service returned: pass pageInfo.nextPageToken or prevPageToken of an earlier "
                                    "page unchanged"}]) from None
        keep = {k: v for k, v in self.request.query_arguments.items() if k != "pageToken"}
        page_info: dict[str, Any] = {}
        for key, value in (("next", page["next"]), ("prev", page["prev"])):
            if value:
                query = urlencode([*[(k, v.decode()) for k, vs in keep.items() for v in vs], ("pageToken", value)])
                page_info[f"{key}Page"] = self.absolute(f"{self.request.path}?{query}")
                page_info[f"{key}PageToken"] = value
        self.send_json({"totalCount": page["totalCount"], "pageInfo": page_info, "messages": page["messages"]})


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
