"""Handlers of the control plane (JSON in, JSON out, no auth: it binds to loopback by default)."""
from __future__ import annotations

import json
import time
from typing import Any

from ..core import DEFAULT_SETTINGS, BaseHandler, create_account, ensure_defaults
from ..db import SCHEMA_VERSION
from ..exceptions import ControlError


class ControlHandler(BaseHandler):
    api = "control"

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
            "uptime": round(time.time() - self.ctx.started, 3),
        })


class ResetHandler(ControlHandler):
    """POST: wipe every object, restore the demo accounts and default settings."""

    def post(self) -> None:
        from ..core import DEMO, DEMO_B

        accounts = [dict(r) for r in self.db.query("SELECT account_id FROM accounts")]
        self.db.wipe()
        for creds in (DEMO, DEMO_B):
            create_account(self.db, creds)
        ensure_defaults(self.db)
        self.send_json({"reset": True, "accounts_before": len(accounts)})


class SettingsHandler(ControlHandler):
    """GET the runtime settings; PUT a JSON object to change some (unknown keys are refused)."""

    def get(self) -> None:
        self.send_json(self.db.all_settings())

    def put(self) -> None:
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
        for key, value in body.items():
            self.db.set_setting(key, value)
        self.send_json(self.db.all_settings())

    post = put


class AccountsHandler(ControlHandler):
    """POST {account_id, site_id, username, password, user_id, api_token, api_secret}: add an account."""

    def post(self) -> None:
        body = self.body_json()
        required = ("account_id", "site_id", "username", "password", "user_id", "api_token", "api_secret")
        missing = [k for k in required if not isinstance(body.get(k), str) or not body.get(k)]
        if missing:
            raise ControlError(f"missing or empty field(s): {missing}")
        create_account(self.db, {k: body[k] for k in required})
        self.send_json({"account_id": body["account_id"], "site_id": body["site_id"]}, status=201)
