"""Handlers of the control plane (JSON in, JSON out).

Who may call what (a shared host is normal):

* public: ``GET /_sandbox/health`` (identity; ``?nonce=`` adds the instance proof), ``GET /_sandbox/magic-numbers``;
* per tenant, with that account's credentials (:meth:`BaseHandler.request_account`: Basic, or Bearer once OAuth
  lands), seeing only that account: messages, callbacks log, request bins, inbound simulation, reading settings;
* global, with the admin key (``X-Sandbox-Admin-Key``, see :mod:`bwhelpers.sandbox.keys`): reset, changing
  settings, creating or re-keying accounts. The admin key also reads any tenant (``?accountId=`` narrows).
"""
from __future__ import annotations

import json
import time
from typing import Any

from ..core import DEFAULT_SETTINGS, BaseHandler, create_account, ensure_defaults
from ..db import SCHEMA_VERSION
from ..exceptions import ControlError
from ..keys import ADMIN_HEADER, instance_proof


class ControlHandler(BaseHandler):
    api = "control"

    def unauthorized(self) -> ControlError:
        err = ControlError("authentication required: send your sandbox account's credentials (HTTP Basic "
                           "username:password), or the admin key in the X-Sandbox-Admin-Key header for global "
                           "endpoints", status=401)
        err.headers = {"WWW-Authenticate": 'Basic realm="bwhelpers sandbox"'}
        return err

    def forbidden(self) -> ControlError:
        return ControlError("forbidden: these credentials do not give access to that account", status=403)

    def require_admin(self) -> None:
        """Global endpoints: the admin key, else 401 (none sent) / 403 (account credentials are not enough)."""
        if self.is_admin():
            return
        if self.request.headers.get(ADMIN_HEADER) is None and self.request_account() is None:
            raise ControlError(f"this endpoint affects every tenant and needs the sandbox admin key in the "
                               f"{ADMIN_HEADER} header (it is in the file printed on the sandbox banner, "
                               f"<db>.admin-key; bwhelpers.sandbox.admin_key() reads it)", status=401)
        raise ControlError(f"forbidden: this endpoint affects every tenant and needs the sandbox admin key "
                           f"({ADMIN_HEADER}); account credentials are not enough", status=403)

    def tenant(self) -> str | None:
        """The account whose data the request may see: the authenticated account (an ``accountId`` query naming
        another one is 403); with the admin key, ``accountId`` if given, else None (every account)."""
        wanted = None
        for name in ("accountId", "account_id", "account"):
            wanted = self.get_argument(name, None) or wanted
        if self.is_admin():
            return wanted
        account = self.require_account()
        if wanted and wanted != account:
            raise self.forbidden()
        return account

    def body_json(self) -> Any:
        if not self.request.body:
            return {}
        try:
            return json.loads(self.request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ControlError(f"the body must be JSON: {exc}") from None


class HealthHandler(ControlHandler):
    def get(self) -> None:
        from .. import SERVICE_NAME

        self.send_json({
            "service": SERVICE_NAME,
            "status": "ok",
            "schema_version": SCHEMA_VERSION,
            "db": self.db.path,
            "url": self.ctx.base_url,
            "instance": self.ctx.instance,
            "db_instance": self.db.instance_id,
            "uptime": round(time.time() - self.ctx.started, 3),
            **self._proof(),
        })

    def _proof(self) -> dict[str, str]:
        nonce = self.get_argument("nonce", None)
        if not nonce or not self.ctx.admin_key:
            return {}
        if len(nonce) > 200:
            raise ControlError("nonce: at most 200 characters")
        return {"nonce": nonce, "proof": instance_proof(self.ctx.admin_key, nonce, self.ctx.port)}


class ResetHandler(ControlHandler):
    """POST: wipe every object, restore the demo accounts and default settings."""

    def post(self) -> None:
        from ..core import DEMO, DEMO_B

        self.require_admin()
        accounts = [dict(r) for r in self.db.query("SELECT account_id FROM accounts")]
        self.db.wipe()
        for creds in (DEMO, DEMO_B):
            create_account(self.db, creds)
        ensure_defaults(self.db)
        self.send_json({"reset": True, "accounts_before": len(accounts)})


class SettingsHandler(ControlHandler):
    """GET the runtime settings; PUT a JSON object to change some (unknown keys are refused)."""

    def get(self) -> None:
        if not self.is_admin():
            self.require_account()  # any tenant may read the (global) settings
        self.send_json(self.db.all_settings())

    def put(self) -> None:
        self.require_admin()
        body = self.body_json()
        if not isinstance(body, dict):
            raise ControlError("send a JSON object of settings")
        unknown = sorted(set(body) - set(DEFAULT_SETTINGS))
        if unknown:
            raise ControlError(f"unknown setting(s) {unknown}; known: {sorted(DEFAULT_SETTINGS)}")
        transition = body.get("order_transition")
        if transition is not None:
            if not isinstance(transition, dict) or transition.get("mode") not in ("immediate", "seconds", "polls"):
                raise ControlError("order_transition.mode must be 'immediate', 'seconds' or 'polls'")
        _check_settings(body)
        for key, value in body.items():
            self.db.set_setting(key, value)
        self.send_json(self.db.all_settings())

    post = put


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _check_settings(body: dict) -> None:
    """Refuse values every request would later trip over (a stored bad setting must not turn into 500s)."""
    fault = body.get("fail_next", None)
    if fault is not None:
        if not isinstance(fault, dict):
            raise ControlError("fail_next must be null or an object {status, count, retry_after, methods}")
        if not isinstance(fault.get("status", 503), int) or not 400 <= fault.get("status", 503) <= 599:
            raise ControlError("fail_next.status must be an HTTP error status (400-599)")
        if not isinstance(fault.get("count", 0), int) or fault.get("count", 0) < 0:
            raise ControlError("fail_next.count must be a whole number")
        if fault.get("retry_after") is not None and not _number(fault["retry_after"]):
            raise ControlError("fail_next.retry_after must be a number of seconds or null")
        methods = fault.get("methods")
        if methods is not None and (not isinstance(methods, list) or not all(isinstance(m, str) for m in methods)):
            raise ControlError("fail_next.methods must be a list of HTTP methods or null")
    retry = body.get("callback_retry", None)
    if retry is not None:
        if not isinstance(retry, dict):
            raise ControlError("callback_retry must be an object {max_attempts, backoff, timeout}")
        if not isinstance(retry.get("max_attempts", 1), int) or retry.get("max_attempts", 1) < 1:
            raise ControlError("callback_retry.max_attempts must be a whole number from 1")
        backoff = retry.get("backoff", [1])
        if not (_number(backoff) or isinstance(backoff, list) and all(_number(b) for b in backoff)):
            raise ControlError("callback_retry.backoff must be a number or a list of seconds")
        if not _number(retry.get("timeout", 10)) or not retry.get("timeout", 10):
            raise ControlError("callback_retry.timeout must be a positive number of seconds")
    for key in ("rate_limit_per_second", "delivery_delay", "slow_delivery_delay"):
        if key in body and body[key] is not None and not _number(body[key]):
            raise ControlError(f"{key} must be a number from 0")


class AccountsHandler(ControlHandler):
    """POST {account_id, site_id, username, password, user_id, api_token, api_secret}: add an account or re-key one
    (admin key only: re-keying another tenant's account is account takeover)."""

    def post(self) -> None:
        self.require_admin()
        body = self.body_json()
        if not isinstance(body, dict):
            raise ControlError("send a JSON object {account_id, site_id, username, password, user_id, api_token, "
                               "api_secret}")
        required = ("account_id", "site_id", "username", "password", "user_id", "api_token", "api_secret")
        missing = [k for k in required if not isinstance(body.get(k), str) or not body.get(k)]
        if missing:
            raise ControlError(f"missing or empty field(s): {missing}")
        for key, column in (("username", "username"), ("user_id", "user_id")):
            row = self.db.query_one(f"SELECT account_id FROM accounts WHERE {column}=?", (body[key],))
            if row is not None and row["account_id"] != body["account_id"]:
                raise ControlError(f"{key} {body[key]!r} already belongs to account {row['account_id']}", status=409)
        site = self.db.query_one("SELECT account_id FROM sites WHERE site_id=?", (body["site_id"],))
        if site is not None and site["account_id"] != body["account_id"]:
            raise ControlError(f"site {body['site_id']!r} already belongs to account {site['account_id']}",
                               status=409)
        create_account(self.db, {k: body[k] for k in required})
        self.send_json({"account_id": body["account_id"], "site_id": body["site_id"]}, status=201)
