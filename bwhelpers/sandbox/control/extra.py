"""
Control-plane handlers of the messaging side: magic numbers, inbound injection, the callback log,
messages with their delivery state, and request bins.

* ``GET /_sandbox/magic-numbers`` — both sections of :mod:`bwhelpers.sandbox.magic`.
* ``POST /_sandbox/inbound`` ``{to, from, text, media?}`` — a text to one of your numbers; the
  application assigned to that number's location gets ``message-received``.
* ``GET /_sandbox/callbacks[?accountId=&messageId=&type=&limit=&before=&callbacksBefore=]`` — delivery
  attempts and the outbox, newest ``limit`` (default and at most 1000) of each, oldest first; ``next``
  holds the cursors (``before``, ``callbacksBefore``) of the older pages, null when there are none.
* ``GET /_sandbox/messages[?accountId=&messageId=&limit=&before=]`` — messages and their per-recipient
  state, paged the same way (``next`` is the ``before`` cursor of the older page, or null).
* ``/_sandbox/bins/{name}`` — POST stores any request (``?require_auth=user:pass`` makes the bin
  answer 401 + ``WWW-Authenticate: Basic`` until the right credentials come; ``?status=500`` makes it
  answer that status), GET lists them (the newest ``limit``, default and at most 1000, ``requests`` newest last,
  and the flattened callback ``events``; ``next`` is the ``before`` cursor of older ones), PUT ``{require_auth, status}`` configures the bin, DELETE empties it.

Tenancy: every endpoint here but magic-numbers needs the account's credentials and shows only that
account (the admin key sees all). Bins are per account: ``/_sandbox/bins/demo`` of account A and of
account B are two bins. A POST is recorded in the bin of the account that sent it: the sandbox's own
callback delivery (signed with ``X-Sandbox-Delivery``, from the admin key), a request with that
account's credentials, or the admin key with ``?accountId=``. Anything else is refused with 401
(no forged events).
"""
from __future__ import annotations

import json
from typing import Any

from .. import callbacks, delivery_signature, magic, quotas
from ..db import Database
from ..auth import parse_basic
from . import exceptions as exc
from .responses import ControlHandler
from .responses import page_cursor as _cursor
from .responses import page_limit as _limit

#: headers a bin never records (credentials, and the delivery signature)
_UNRECORDED = {"authorization", callbacks.DELIVERY_HEADER.lower()}
#: the most header bytes a bin stores for one request (the server reads heads up to 1 MB, so an over-long URL
#: gets its 414; without this a participant's 500 bin requests could hold ~600 MB of the db's cap)
MAX_BIN_HEADER_BYTES = 16 * 1024
#: longest ``require_auth`` (``user:password``) a bin's configuration takes
MAX_REQUIRE_AUTH = 200


def _arg(handler: ControlHandler, *names: str) -> str | None:
    for name in names:
        value = handler.get_argument(name, None)
        if value:
            return value
    return None


class MagicNumbersHandler(ControlHandler):
    def get(self) -> None:
        if self.ctx.workshop and not self.is_admin():
            self.require_account()  # workshop mode: nothing for outsiders
        self.send_json({
            "to_numbers": magic.MAGIC_TO_NUMBERS,
            "areas": magic.MAGIC_AREAS,
            "a2p": magic.MAGIC_A2P,
        })


class InboundHandler(ControlHandler):
    def post(self) -> None:
        from ..messaging import models

        account = self.tenant()
        body = self.body_json()
        if not isinstance(body, dict):
            raise exc.NotAnObject("{to, from, text, media?} (media: URLs or pictures such as {\"sample\": \"sunset\"})")
        quotas.check_db_size(self.db)
        if account:
            quotas.check_messages(self.db, account)
            quotas.check_stored(self.db, account, len(self.request.body or b""))
        try:
            result = models.create_inbound(self.db, body.get("to"), body.get("from"), body.get("text"),
                                           body.get("media"), account_id=account, media_base=self.absolute(""))
        except models.InboundError as refused:
            raise exc.InboundRefused(refused.description, refused.status) from None
        self.send_json(result, status=202)


class CallbacksLogHandler(ControlHandler):
    def get(self) -> None:
        account = self.tenant()
        message = _arg(self, "messageId", "message_id")
        kind = _arg(self, "type")
        limit = _limit(self)
        attempts, next_attempts = callbacks.attempts_log(self.db, account, message, kind, limit,
                                                         _cursor(self, "before"))
        outbox, next_outbox = callbacks.outbox_list(self.db, account, message, kind, limit,
                                                    _cursor(self, "callbacksBefore"))
        self.send_json({"attempts": attempts, "callbacks": outbox,
                        "next": {"before": next_attempts, "callbacksBefore": next_outbox}})


class SandboxMessagesHandler(ControlHandler):
    def get(self) -> None:
        from ..messaging import models

        self.send_json(models.sandbox_messages(
            self.db, self.tenant(), _arg(self, "messageId", "message_id", "id"),
            limit=_limit(self), before=_cursor(self, "before")))


#: rendered bin pages (their JSON bytes) by what they are made of (:func:`bin_page`), at most this many characters
#: in all (then emptied and filled again)
_PAGES: dict[tuple[Any, ...], bytes] = {}
_PAGES_MAX_CHARS = 16 * 1024 * 1024
_pages_chars = 0


def _bin_stamp(db: Database, key: str) -> tuple[int, int]:
    """(requests the bin holds, its newest request's id). Stored requests are never changed, and their ids never
    reused (AUTOINCREMENT, kept by a wipe): any store or delete in the bin, by any process, changes this pair for
    good."""
    row = db.query_one("SELECT COUNT(*), MAX(id) FROM bin_requests WHERE name=?", (key,))
    return (int(row[0]), int(row[1] or 0)) if row is not None else (0, 0)


def bin_page(db: Database, key: str, name: str, limit: int, before: int | None) -> bytes:
    """``GET /_sandbox/bins/{name}``'s answer (:func:`.callbacks.bin_contents`, shown as ``name``), rendered once for
    as long as the bin and its configuration stay as they are: a tenant re-reading its biggest bin page (~64 KB)
    costs two index lookups instead of parsing and re-serialising every request on it (issue 25, bench 8). Safe
    with other processes on the db: the bin's :func:`_bin_stamp` and configuration are read from the db at every
    request, and a page is kept only when the stamp did not move while it was rendered."""
    global _pages_chars
    stamp = _bin_stamp(db, key)
    cache_key = (db.path, db.instance_id, key, name, limit, before, stamp,
                 json.dumps(callbacks.bin_config(db, key), sort_keys=True))
    page = _PAGES.get(cache_key)
    if page is not None:
        return page
    doc = callbacks.bin_contents(db, key, limit, before)
    shown_config = json.dumps(doc.get("config"), sort_keys=True)
    doc["name"] = name
    if doc.get("config"):
        doc["config"]["name"] = name
    page = json.dumps(doc).encode()
    if _bin_stamp(db, key) == stamp:
        if _pages_chars + len(page) > _PAGES_MAX_CHARS:
            _PAGES.clear()
            _pages_chars = 0
        _PAGES[cache_key[:-1] + (shown_config,)] = page
        _pages_chars += len(page)
    return page


def _scoped(account: str, name: str) -> str:
    """The stored name of an account's bin (bin names cannot hold '/', so accounts never collide)."""
    return f"{account}/{name}"


class BinsHandler(ControlHandler):
    """``GET /_sandbox/bins``: the caller's bins and how many requests each holds."""

    def get(self) -> None:
        account = self.tenant()
        where, args = ("b.name >= ? AND b.name < ?", quotas.bin_names(account)) if account else ("b.name LIKE ?", ("%/%",))
        rows = self.db.query(
            "SELECT b.name, COUNT(r.id) AS n FROM request_bins b LEFT JOIN bin_requests r ON r.name=b.name "
            f"WHERE {where} GROUP BY b.name ORDER BY b.name", args)
        self.send_json({"bins": [{"name": r["name"].split("/", 1)[1], "count": r["n"],
                                  **({} if account else {"accountId": r["name"].split("/", 1)[0]})}
                                 for r in rows]})


class BinHandler(ControlHandler):
    def _writer(self, name: str) -> str:
        """The account a request to a bin is recorded for (see the module doc), else 401."""
        account = delivery_signature.verify(self.ctx.admin_key, self.request.headers.get(callbacks.DELIVERY_HEADER),
                                            self.request.host or "", self.request.uri or "")
        if account:
            return account
        if self.is_admin():
            wanted = _arg(self, "accountId", "account_id", "account")
            if not wanted:
                raise exc.BinAccountRequired()
            return wanted
        account = self.request_account()
        if account:
            self.check_rate(account)  # the requests_per_second quota, as on every authenticated request
            return account
        raise exc.BinWriteRefused(self.request.method)

    def _owner(self) -> str:
        account = self.tenant()
        if not account:
            raise exc.BinAccountRequired()
        return account

    def _record(self, name: str) -> None:
        account = self._writer(name)
        key = _scoped(account, name)
        quotas.check_db_size(self.db)
        quotas.check_bins(self.db, account, key)
        config = callbacks.bin_config(self.db, key) or {}
        try:
            status, authorized = callbacks.bin_answer(
                config, self.get_argument("require_auth", None), self.get_argument("status", None),
                parse_basic(self.request.headers.get("Authorization")), "Authorization" in self.request.headers)
        except callbacks.BadBinStatus:
            raise exc.BadBinStatus() from None
        headers = {k: v for k, v in self.request.headers.get_all() if k.lower() not in _UNRECORDED}
        size = sum(len(k) + len(v) + 4 for k, v in headers.items())
        if size > MAX_BIN_HEADER_BYTES:
            raise exc.BinHeadersTooLarge(size, MAX_BIN_HEADER_BYTES)
        quotas.check_stored(self.db, account, size + len(self.request.body or b""))
        try:
            body = self.request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = self.request.body.decode("latin-1")
        rid = callbacks.record_bin_request(self.db, key, method=self.request.method, path=self.request.path,
                                           query=self.request.query, headers=headers, authorized=authorized,
                                           status=status, body=body)
        if status == 401:
            self.set_header("WWW-Authenticate", 'Basic realm=""')
        if status == 204:
            self.send_empty(204)
        else:
            self.send_json({"bin": name, "id": rid, "status": status}, status=status)

    def post(self, name: str) -> None:
        self._record(name)

    def patch(self, name: str) -> None:
        self._record(name)

    def get(self, name: str) -> None:
        page = bin_page(self.db, _scoped(self._owner(), name), name, _limit(self), _cursor(self, "before"))
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(page)

    def put(self, name: str) -> None:
        account = self._owner()
        key = _scoped(account, name)
        body = self.body_json()
        if not isinstance(body, dict):
            raise exc.NotAnObject("{require_auth: 'user:pass' | null, status: 204}")
        require = body.get("require_auth")
        if require is not None and (not isinstance(require, str) or ":" not in require
                                    or len(require) > MAX_REQUIRE_AUTH):
            raise exc.BadRequireAuth()
        quotas.check_db_size(self.db)  # a bin's configuration is stored like its requests: the same quotas
        quotas.check_bins(self.db, account, key, storing=False)
        quotas.check_stored(self.db, account, len(self.request.body or b""))
        status = body.get("status")
        if status is not None and (not isinstance(status, int) or not 200 <= status <= 599):
            raise exc.BadBinStatus()
        doc = callbacks.configure_bin(self.db, key, require, status)
        doc["name"] = name
        self.send_json(doc)

    def delete(self, name: str) -> None:
        self.send_json({"bin": name, "deleted": callbacks.delete_bin(self.db, _scoped(self._owner(), name))})
