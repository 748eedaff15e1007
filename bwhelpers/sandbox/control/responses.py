"""Handlers of the control plane (JSON in, JSON out).

Who may call what (a shared host is normal):

* public: ``GET /_sandbox/health`` (identity; ``?nonce=`` adds the instance proof), ``GET /_sandbox/magic-numbers``;
* per tenant, with that account's credentials (:meth:`BaseHandler.request_account`: Basic, or Bearer once OAuth
  lands), seeing only that account: messages, callbacks log, request bins, inbound simulation, reading settings;
* global, with the admin key (``X-Sandbox-Admin-Key``, see :mod:`bwhelpers.sandbox.keys`): reset, changing
  settings, creating or re-keying accounts. The admin key also reads any tenant (``?accountId=`` narrows).
"""
from __future__ import annotations

import time
from typing import Any

from .. import clock, credentials, jsonio, numbers, quotas
from ..accounts import DEMO, DEMO_B, create_account
from ..auth import AuthError
from ..base import BaseHandler
from ..db import SCHEMA_VERSION
from ..exceptions import SandboxError
from ..keys import ADMIN_HEADER, instance_proof, tenant_proof
from ..query_numbers import whole_number
from ..settings import DEFAULT_SETTINGS, LEGACY_BASIC_MODES, ensure_defaults
from . import exceptions as exc


class ControlHandler(BaseHandler):
    api = "control"

    def unauthorized(self, err: AuthError | None = None) -> SandboxError:
        return exc.AuthenticationRequired(err.reason if err is not None and err.reason else None)

    def forbidden(self, err: AuthError | None = None) -> SandboxError:
        return exc.NoAccess()
    def require_admin(self) -> None:
        """Global endpoints: the admin key, else 401 (none sent) / 403 (account credentials are not enough)."""
        if self.is_admin():
            return
        if self.request.headers.get(ADMIN_HEADER) is None and self.request_account() is None:
            raise exc.AdminKeyRequired()
        raise exc.AdminKeyNeeded()

    def tenant(self) -> str | None:
        """The account whose data the request may see: the authenticated account (an ``accountId`` query naming
        another one is 403); with the admin key, ``accountId`` if given, else None (every account)."""
        wanted = None
        for name in ("accountId", "account_id", "account"):
            wanted = self.get_argument(name, None) or wanted
        if self.is_admin():
            return wanted
        principal = self.auth_principal()
        if wanted and wanted not in principal.accounts:
            raise self.forbidden()
        return wanted or principal.account_id

    def body_json(self) -> Any:
        if not self.request.body:
            return {}
        try:
            return jsonio.parse(self.request.body)
        except jsonio.JsonBodyError as problem:
            raise exc.NotJson(problem) from None


class HealthHandler(ControlHandler):
    def get(self) -> None:
        from .. import SERVICE_NAME

        self.send_json({
            "service": SERVICE_NAME,
            "status": "ok",
            "schema_version": SCHEMA_VERSION,
            # a local sandbox names its db (its key file lies beside it: bwhelpers.sandbox.expected_key); a shared
            # one (workshop mode, or listening beyond loopback) shows no path of the host's
            **({"db": self.db.path} if self.ctx.show_db_path else {}),
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
            raise exc.NonceTooLong()
        out = {"nonce": nonce, "proof": instance_proof(self.ctx.admin_key, nonce, self.ctx.port)}
        if self.ctx.instance_key:
            out["tenant_proof"] = tenant_proof(self.ctx.instance_key, nonce)
        return out


class ResetHandler(ControlHandler):
    """POST: wipe every object, restore the demo accounts and default settings (workshop mode: no demo account,
    and the workshop's settings)."""

    def post(self) -> None:
        self.require_admin()
        accounts = [dict(r) for r in self.db.query("SELECT account_id FROM accounts")]
        self.db.wipe()
        if not self.ctx.workshop:
            for creds in (DEMO, DEMO_B):
                create_account(self.db, creds)
        ensure_defaults(self.db, quotas.WORKSHOP_SETTINGS if self.ctx.workshop else None)
        quotas.apply(self.db)
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
            raise exc.NotAnObject("of settings")
        unknown = sorted(set(body) - set(DEFAULT_SETTINGS))
        if unknown:
            raise exc.UnknownSettings(unknown, sorted(DEFAULT_SETTINGS))
        transition = body.get("order_transition")
        if transition is not None:
            if not isinstance(transition, dict) or transition.get("mode") not in ("immediate", "seconds", "polls"):
                raise exc.InvalidSetting("order_transition.mode", "'immediate', 'seconds' or 'polls'")
        _check_settings(body)
        if isinstance(body.get("quotas"), dict):  # a partial object changes only the quotas it names
            body["quotas"] = {**(self.db.get_setting("quotas") or {}), **body["quotas"]}
        for key, value in body.items():
            self.db.set_setting(key, value)
        quotas.apply(self.db)  # the stored_bytes quota switches the db's byte counting on or off
        self.send_json(self.db.all_settings())

    post = put


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _check_settings(body: dict) -> None:
    """Refuse values every request would later trip over (a stored bad setting must not turn into 500s)."""
    fault = body.get("fail_next", None)
    if fault is not None:
        if not isinstance(fault, dict):
            raise exc.InvalidSetting("fail_next", "null or an object {status, count, retry_after, methods}")
        if not isinstance(fault.get("status", 503), int) or not 400 <= fault.get("status", 503) <= 599:
            raise exc.InvalidSetting("fail_next.status", "an HTTP error status (400-599)")
        if not isinstance(fault.get("count", 0), int) or fault.get("count", 0) < 0:
            raise exc.InvalidSetting("fail_next.count", "a whole number")
        if fault.get("retry_after") is not None and not _number(fault["retry_after"]):
            raise exc.InvalidSetting("fail_next.retry_after", "a number of seconds or null")
        methods = fault.get("methods")
        if methods is not None and (not isinstance(methods, list) or not all(isinstance(m, str) for m in methods)):
            raise exc.InvalidSetting("fail_next.methods", "a list of HTTP methods or null")
    retry = body.get("callback_retry", None)
    if retry is not None:
        if not isinstance(retry, dict):
            raise exc.InvalidSetting("callback_retry", "an object {max_attempts, backoff, timeout}")
        if not isinstance(retry.get("max_attempts", 1), int) or retry.get("max_attempts", 1) < 1:
            raise exc.InvalidSetting("callback_retry.max_attempts", "a whole number from 1")
        backoff = retry.get("backoff", [1])
        if not (_number(backoff) or isinstance(backoff, list) and all(_number(b) for b in backoff)):
            raise exc.InvalidSetting("callback_retry.backoff", "a number or a list of seconds")
        if not _number(retry.get("timeout", 10)) or not retry.get("timeout", 10):
            raise exc.InvalidSetting("callback_retry.timeout", "a positive number of seconds")
    retention = body.get("retention", None)
    if retention is not None and (not _number(retention) or not retention):
        raise exc.InvalidSetting("retention", "null (keep everything) or a positive number of seconds after which "
                                 "delivered callbacks and request-bin requests are pruned")
    if "a2p_enforcement" in body and not isinstance(body["a2p_enforcement"], bool):
        raise exc.InvalidSetting("a2p_enforcement", "true or false")
    for key in ("rate_limit_per_second", "delivery_delay", "slow_delivery_delay"):
        if key in body and body[key] is not None and not _number(body[key]):
            raise exc.InvalidSetting(key, "a number from 0")
    if "token_ttl_seconds" in body:
        ttl = body["token_ttl_seconds"]
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 86400:
            raise exc.InvalidSetting("token_ttl_seconds", "a whole number of seconds from 1 to 86400")
    if "quotas" in body:
        why = quotas.check_setting(body["quotas"])
        if why:
            raise exc.InvalidQuota(why)
    if "max_db_mb" in body and body["max_db_mb"] is not None and (not _number(body["max_db_mb"])
                                                                 or not body["max_db_mb"]):
        raise exc.InvalidSetting("max_db_mb", "null (no cap) or a positive number of megabytes")
    if "max_participants" in body and body["max_participants"] is not None and (
            not isinstance(body["max_participants"], int) or isinstance(body["max_participants"], bool)
            or not 1 <= body["max_participants"] <= numbers.INVENTORY_SLOTS):
        raise exc.InvalidSetting("max_participants", f"null (no cap: past {numbers.INVENTORY_SLOTS} accounts blocks are "
                                 f"shared) or a whole number of participants "
                                 f"from 1 to {numbers.INVENTORY_SLOTS} (the bound: each participant has one of the "
                                 f"number inventory's {numbers.INVENTORY_SLOTS} blocks, never another's); for a "
                                 f"bigger event run a second hub with its own sandbox")
    if "number_inventory" in body and body["number_inventory"] not in ("shared", "per-account"):
        raise exc.InvalidSetting("number_inventory", "'shared' or 'per-account'")
    if "media_quota_bytes" in body:
        quota = body["media_quota_bytes"]
        if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0:
            raise exc.InvalidSetting("media_quota_bytes", "a whole number of bytes from 0 (the media each account "
                                     "may store)")
    if "legacy_basic_auth" in body and body["legacy_basic_auth"] not in LEGACY_BASIC_MODES:
        raise exc.InvalidSetting("legacy_basic_auth", f"one of {list(LEGACY_BASIC_MODES)}")


class AccountsHandler(ControlHandler):
    """POST {account_id, site_id, username, password, user_id, api_token, api_secret[, client_id, client_secret,
    roles]}: add an account (with an API credential when client_id/client_secret are given) or re-key one
    (admin key only: re-keying another tenant's account is account takeover)."""

    def post(self) -> None:
        self.require_admin()
        body = self.body_json()
        if not isinstance(body, dict):
            raise exc.NotAnObject("{account_id, site_id, username, password, user_id, api_token, api_secret, "
                                  "client_id?, client_secret?, roles?}")
        required = ("account_id", "site_id", "username", "password", "user_id", "api_token", "api_secret")
        missing = [k for k in required if not isinstance(body.get(k), str) or not body.get(k)]
        if missing:
            raise exc.MissingFields(missing)
        oauth = _credential_fields(body, required=False)
        for key, column in (("username", "username"), ("user_id", "user_id")):
            row = self.db.query_one(f"SELECT account_id FROM accounts WHERE {column}=?", (body[key],))
            if row is not None and row["account_id"] != body["account_id"]:
                raise exc.AlreadyOwned(key, body[key], row["account_id"])
        if oauth:
            _check_client_free(self, oauth["client_id"], body["account_id"])
        site = self.db.query_one("SELECT account_id FROM sites WHERE site_id=?", (body["site_id"],))
        if site is not None and site["account_id"] != body["account_id"]:
            raise exc.AlreadyOwned("site", body["site_id"], site["account_id"])
        create_account(self.db, {**{k: body[k] for k in required}, **oauth})
        out = {"account_id": body["account_id"], "site_id": body["site_id"]}
        if oauth:
            out["client_id"] = oauth["client_id"]
        self.send_json(out, status=201)


def _credential_fields(body: dict, required: bool) -> dict:
    """client_id/client_secret/roles from a JSON body: both or neither (unless required)."""
    cid, secret = body.get("client_id"), body.get("client_secret")
    if cid is None and secret is None and not required:
        return {}
    bad = [k for k in ("client_id", "client_secret") if not isinstance(body.get(k), str) or not body.get(k)]
    if bad:
        raise exc.MissingFields(bad, "client_id and client_secret go together")
    cid = str(cid)
    if len(cid) > 200 or any(c in cid for c in ":\r\n"):
        raise exc.BadClientId()
    try:
        roles = credentials.clean_roles(body.get("roles"))
    except ValueError as problem:
        raise exc.BadRoles(str(problem)) from None
    return {"client_id": cid, "client_secret": secret, "roles": roles}


def _check_client_free(handler: ControlHandler, client_id: str, account_id: str) -> None:
    owner = credentials.credential_owner(handler.db, client_id)
    if owner is not None and owner != account_id:
        raise exc.AlreadyOwned("client_id", client_id, owner)


DEFAULT_PAGE = 1000
#: every list of the control plane is paged; one page is at most this long, and stops at about paging.PAGE_BYTES
#: of answer (a tenant's big list must not hold the event loop for long: the others' requests wait behind it)
MAX_PAGE = 1000


def page_limit(handler: ControlHandler) -> int:
    """A list's ``limit`` argument: 1 to :data:`MAX_PAGE` (default :data:`DEFAULT_PAGE`), else 400."""
    raw = handler.get_argument("limit", "") or str(DEFAULT_PAGE)
    limit = whole_number(raw, 1, MAX_PAGE)
    if limit is None:
        raise exc.BadLimit(MAX_PAGE, DEFAULT_PAGE)
    return limit


def page_cursor(handler: ControlHandler, name: str) -> int | None:
    """A list's cursor argument ``name`` (an earlier page's ``next``), or None; else 400."""
    raw = handler.get_argument(name, "")
    if not raw:
        return None
    cursor = whole_number(raw)
    if cursor is None:
        raise exc.BadCursor(name)
    return cursor


class CredentialsHandler(ControlHandler):
    """API credentials (OAuth 2.0 client credentials) of the sandbox's accounts.

    * ``GET /_sandbox/credentials[?accountId=&limit=&after=]``: client ids, accounts and roles (never a secret),
      oldest first, paged as every control-plane list (at most ``limit``, 1,000, and about 64 KB a page; ``next``
      is the ``after`` of the next page, null on the last).
    * ``POST {account_id, client_id, client_secret, roles?}``: add or replace one (roles default
      ``["Messaging", "Numbers"]``; give fewer to see the 403 a missing role gets).
    * ``GET /_sandbox/credentials/{client_id}``: one of them (404 when it is not the caller's).
    * ``DELETE /_sandbox/credentials/{client_id}``: revoke it; its tokens stop working at once.
    * ``POST /_sandbox/credentials/{client_id}``: 401 without credentials, else 405 naming the collection.
    """

    def get(self, client_id: str | None = None) -> None:
        account = self.tenant()
        if client_id is None:
            listed, after = credentials.list_credentials(self.db, account, page_limit(self), page_cursor(self, "after"))
            self.send_json({"credentials": listed, "next": after})
            return
        one = credentials.get_credential(self.db, client_id, account)
        if one is None:
            raise exc.NoSuchCredential(client_id)  # none, or not yours: not shown
        self.send_json(one)

    def post(self, client_id: str | None = None) -> None:
        if client_id is not None:  # outsiders learn nothing, not even that the path exists (issue 23, N5)
            if not self.is_admin():
                self.require_account()
            raise exc.ClientIdInPostPath(client_id)
        admin = self.is_admin()
        principal = None if admin else self.auth_principal()
        caller = principal.account_id if principal else None
        body = self.body_json()
        if not isinstance(body, dict):
            raise exc.NotAnObject("{account_id, client_id, client_secret, roles?}")
        account = body.get("account_id")
        if not isinstance(account, str) or not account:
            raise exc.MissingFields(["account_id"])
        if caller is not None and caller != account:  # a credential for another account is a takeover
            raise self.forbidden()
        if self.db.query_one("SELECT 1 FROM accounts WHERE account_id=?", (account,)) is None:
            raise exc.NoSuchAccount(account)
        fields = _credential_fields(body, required=True)
        if principal is not None:
            # no escalation: a tenant grants only roles it holds (the real service asks for the Credential
            # Access role to manage credentials; the sandbox's simpler rule, with the admin key for anything else)
            extra = sorted(set(fields["roles"]) - set(principal.roles))
            if extra:
                raise exc.RoleEscalation(extra, principal.roles)
        _check_client_free(self, fields["client_id"], account)
        if principal is not None and credentials.credential_owner(self.db, fields["client_id"]) is None:
            quotas.check_objects(self.db, account)  # a new credential is one more of the account's objects
        with self.db.transaction() as conn:
            credentials.set_credential(conn, account, fields["client_id"], fields["client_secret"], fields["roles"],
                                        description=str(body.get("description") or "")[:200])
        self.send_json({"client_id": fields["client_id"], "account_id": account, "roles": fields["roles"]},
                       status=201)

    def delete(self, client_id: str | None = None) -> None:
        if not client_id:
            raise exc.ClientIdRequired()
        if not self.is_admin():
            caller = self.require_account()
            owner = credentials.credential_owner(self.db, client_id)
            if owner is not None and owner != caller:
                raise exc.NoSuchCredential(client_id)  # not yours: not shown
        if not credentials.delete_credential(self.db, client_id):
            raise exc.NoSuchCredential(client_id)
        self.send_json({"client_id": client_id, "deleted": True})


class ClockHandler(ControlHandler):
    """The sandbox's clock (:mod:`bwhelpers.sandbox.clock`), which every lifetime and delay follows.

    * ``GET /_sandbox/clock``: ``{now, iso, frozen, offset}`` (any account, or the admin key).
    * ``PUT`` or ``POST`` (admin key) ``{freeze?: bool, at?: epoch seconds, advance?: seconds, wall?: true}``:
      ``wall`` goes back to the wall clock first; ``at`` sets the time; ``advance`` moves it forward; ``freeze``
      stops (true) or restarts (false) it. Answers the new state. ``POST /_sandbox/reset`` leaves the clock as it
      is (time does not go back).
    """

    FIELDS = ("freeze", "at", "advance", "wall")

    def get(self) -> None:
        if not self.is_admin():
            self.require_account()
        self.send_json(clock.describe(clock.state(self.db)))

    def put(self) -> None:
        self.require_admin()
        body = self.body_json()
        if not isinstance(body, dict):
            raise exc.NotAnObject("{freeze?: true|false, at?: epoch seconds, advance?: seconds, wall?: true}")
        unknown = sorted(set(body) - set(self.FIELDS))
        if unknown:
            raise exc.UnknownClockFields(unknown, self.FIELDS)
        freeze, at, advance, wall = (body.get(k) for k in self.FIELDS)
        if freeze is not None and not isinstance(freeze, bool):
            raise exc.InvalidClockChange("freeze", "true (stop the clock) or false (let it run)")
        if at is not None and not (_number(at) and at >= 0):
            raise exc.InvalidClockChange("at", "a time in epoch seconds (from 0)")
        if advance is not None and not (_number(advance) and 0 <= advance <= 10 * 365 * 86400):
            raise exc.InvalidClockChange("advance", "a number of seconds from 0 to ten years (time never goes back: "
                                         "use 'at' to set it)")
        if wall is not None and wall is not True:
            raise exc.InvalidClockChange("wall", "true (back to the wall clock) or left out")
        self.send_json(clock.change(self.db, freeze=freeze, at=at, advance=float(advance or 0), wall=bool(wall)))

    post = put
