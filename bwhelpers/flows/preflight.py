"""Preflight (diagnose): what would make messages fail, one record per check with its fix; failing checks first
(``band message preflight``'s order of concern)."""
from __future__ import annotations

import os
from typing import Any, Callable
from urllib.parse import urlparse

from .. import steps
from ..receiver import BASE_URL_ENV
from ..codes import new_callback_urls, run_again
from ..exceptions import BandwidthError
from ..phone import loose_e164
from .a2p import A2PFlow
from .context import FlowContext
from .registry import declared
from .provisioning import Provisioning, existing_feature

__all__ = ["Preflight", "DIAGNOSE_COLUMNS", "PLACEHOLDER_HOSTS", "NEEDED_ROLES", "callback_problem"]

DIAGNOSE_COLUMNS = ("check", "ok", "finding", "fix")


def finding_of(exc: BandwidthError) -> str:
    """What an error found, without its fix (the row's ``fix`` column says it once): its kind, HTTP status and
    description."""
    status = f" (HTTP {exc.status})" if getattr(exc, "status", None) else ""
    text = exc.description or str(exc)
    if exc.fix and text.endswith(f". Fix: {exc.fix}"):
        text = text[: -len(f". Fix: {exc.fix}")]
    if exc.fix and "; " in text:  # the service's own advice after the cause ("...; copy both from ..."): the fix
        text = text.split("; ", 1)[0]
    return f"{type(exc).__name__}{status}: {text}"
PLACEHOLDER_HOSTS = ("example.com", "example.org", "example.net", "localhost", "127.0.0.1", "0.0.0.0",
                     "google.com", "bandwidth.com", "requestb.in")
#: roles an API credential needs for the walkthrough: sends, and the Dashboard (number management) calls
NEEDED_ROLES = ("Messaging", "Numbers")

Add = Callable[..., None]


def callback_problem(url: str | None, *, real: bool) -> str | None:
    """Why events cannot reach ``url`` (none; a placeholder host on the real service), or None."""
    if not url:
        return "the application has no callback URL: message events have nowhere to go"
    if not real:
        return None
    host = (urlparse(url).hostname or "").lower()
    if host in ("localhost", "127.0.0.1", "0.0.0.0", "::1") or host.endswith(".localhost"):
        return (f"the callback URL {url} is on this machine (loopback): Bandwidth, on the internet, cannot reach it; "
                "the receiver needs a public https URL (a tunnel or your server) in BW_CALLBACK_BASE_URL")
    if any(host == h or host.endswith("." + h) for h in PLACEHOLDER_HOSTS):
        return f"the callback URL {url} is a placeholder: Bandwidth cannot deliver events there"
    return None


class Preflight:
    """diagnose() on one context."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx

    def diagnose(self) -> list[dict[str, Any]]:
        """One record per check (DIAGNOSE_COLUMNS); failing checks first, also when a check stops the run."""
        rows = self.checks()
        return [r for r in rows if not r["ok"]] + [r for r in rows if r["ok"]]

    def checks(self) -> list[dict[str, Any]]:
        """The checks in the order they are made: the guide's, then those each step's flow declares
        (``StepFlow.checks``), in the step table's order, once the credentials work."""
        rows: list[dict[str, Any]] = []
        if self.guide_checks(rows):
            for decl in declared():
                if decl.checks:
                    rows.extend({**r, "fix": "" if r["ok"] else r.get("fix", "")}
                                for r in getattr(decl.flow(self.ctx), decl.checks)())
        return rows

    def guide_checks(self, rows: list[dict[str, Any]]) -> bool:
        """The guide's checks, appended to ``rows``; a failure that makes the later checks meaningless ends them.
        False when the credentials do not work (nothing else can be checked)."""

        def add(check: str, ok: bool, finding: str, fix: str = "") -> None:
            rows.append({"check": check, "ok": ok, "finding": finding, "fix": "" if ok else fix})

        if not self.auth_checks(add):
            return False
        cfg, d = self.ctx.config, self.ctx.dashboard
        try:
            d.get_site()
            add("credentials", True, f"{cfg.target}: account {cfg.account_id}, site {cfg.site_id} reachable")
        except BandwidthError as exc:
            add("credentials", False, finding_of(exc), exc.fix or "check the credentials and base URL")
            return False
        st = self.ctx.state
        app_id, loc_id = st.application_id, st.location_id
        app_data: dict[str, Any] = {}
        if not app_id:
            add("application", False, "no application saved", f"run {steps.ref('application')}")
        else:
            try:
                app_data = d.get_application(app_id).data
                add("application", True, f"application {app_id} exists")
            except BandwidthError as exc:
                add("application", False, str(exc), run_again("application", "application"))
            callback = app_data.get("CallbackUrl") or app_data.get("MsgCallbackUrl") or \
                app_data.get("InboundCallbackUrl") or (st.application.callback_url if st.application else None)
            problem = callback_problem(callback, real=not cfg.is_sandbox)
            add("callback URL", problem is None, problem or f"callback URL {callback}",
                new_callback_urls("your server's public https callback URL",
                                  receiver=not cfg.is_sandbox and bool(os.environ.get(BASE_URL_ENV))))
        if not cfg.is_sandbox:
            from .delivery import receiver_checks

            rows.extend(receiver_checks(self.ctx, app_data))
        if not loc_id:
            add("location", False, "no location saved", f"run {steps.ref('location')}")
            return True
        try:
            d.get_location(loc_id)
            add("location", True, f"location {loc_id} exists")
        except BandwidthError as exc:
            add("location", False, str(exc), run_again("location", "location"))
            return True
        for label, getter, key in (("SMS", d.get_sms, "sms"), ("MMS", d.get_mms, "mms")):
            enabled = existing_feature(getter, loc_id) is not None
            add(f"{label} enabled", enabled, f"{label} is {'enabled' if enabled else 'not enabled'} on the location",
                f"run {steps.ref(key)}")
        try:
            assigned = d.get_application_settings(loc_id).data.get("HttpMessagingV2AppId")
        except BandwidthError:
            assigned = None
        ok = bool(assigned) and assigned == app_id
        finding = ("the application is assigned to the location" if ok else
                   "no application is assigned to the location: messages are accepted (202) and silently dropped"
                   if not assigned else f"the location uses another application ({assigned})")
        add("application assigned", ok, finding, f"run {steps.ref('assigned')}")
        if app_id:
            linked, where = self.application_linked(app_id)
            add("application linked to a location", linked,
                f"the application is linked to {where}" if linked else
                "the application is linked to no location (neither its associatedsippeers nor any location's "
                "applicationSettings name it): messages through it are accepted and then vanish",
                f"assign it to the numbers' location ({steps.ref('assigned')})")
        try:
            numbers = d.location_numbers(loc_id).numbers
        except BandwidthError:
            try:
                numbers = d.list_in_service_numbers().numbers
            except BandwidthError:
                numbers = []
        add("numbers in service", bool(numbers),
            f"{len(numbers)} number(s) in service" if numbers else "no numbers in service on the location",
            f"order a number ({steps.ref('orders')}) and wait for it ({steps.ref('numbers')})")
        sending = st.sending_number or (loose_e164(numbers[0]) if numbers else None)
        if sending:
            rows.append(A2PFlow(self.ctx).check(sending))
        return True

    def application_linked(self, app_id: str) -> tuple[bool, str]:
        """Is the application linked to a location? Its associatedsippeers, else each location's
        applicationSettings (the assignment may be visible only from the location side)."""
        try:
            peers = self.ctx.dashboard.associated_locations(app_id).records or []
        except BandwidthError:
            peers = []
        ids = [str(p.get("PeerId") or p.get("peerId")) for p in peers if isinstance(p, dict)]
        if ids:
            return True, f"location(s) {', '.join(ids)} (associatedsippeers)"
        try:
            found = [row["PeerId"] for row in Provisioning(self.ctx).locations() if row.get("Application") == app_id]
        except BandwidthError:
            found = []
        if found:
            return True, f"location(s) {', '.join(found)} (applicationSettings)"
        return False, ""

    def auth_checks(self, add: Add) -> bool:
        """Checks of the authentication itself: a token can be fetched, its roles and accounts cover the
        walkthrough. False when nothing else can be checked."""
        cfg = self.ctx.config
        if not cfg.uses_oauth:
            add("API credentials", cfg.is_sandbox,
                "legacy API user (username/password, HTTP Basic)" + (
                    " - the sandbox accepts it unless legacy_basic_auth is decommissioned" if cfg.is_sandbox else
                    ": the real service no longer accepts API users after 2026-12-02"),
                "create API credentials (Bandwidth App > Account > API Credentials, roles Messaging and Numbers) "
                "and set BW_CLIENT_ID / BW_CLIENT_SECRET")
            return True
        source = getattr(getattr(self.ctx.dashboard, "auth", None), "source", None)
        if source is None:
            return True
        try:
            claims = source.claims()
        except BandwidthError as exc:
            add("API credentials", False, finding_of(exc), exc.fix or "check BW_CLIENT_ID / BW_CLIENT_SECRET and BW_TOKEN_URL")
            return False
        add("API credentials", True, f"client id {cfg.client_id}: token from {cfg.token_url} "
                                     f"(valid {source.seconds_left():.0f} s)")
        roles = claims.get("roles")
        if isinstance(roles, list):
            have = {str(r).lower() for r in roles}
            missing = [r for r in NEEDED_ROLES if r.lower() not in have]
            add("credential roles", not missing, f"roles: {', '.join(map(str, roles)) or 'none'}",
                f"give the API credential the {' and '.join(missing)} role{'s' if len(missing) > 1 else ''} "
                "(Bandwidth App > Account > API Credentials), then connect again")
        else:
            add("credential roles", True, "the token lists no roles; they cannot be checked before a call")
        accounts = claims.get("accounts")
        if isinstance(accounts, list) and accounts and cfg.account_id not in [str(a) for a in accounts]:
            add("credential accounts", False, f"the credential covers account(s) {', '.join(map(str, accounts))}, "
                f"not {cfg.account_id}", "add this account to the API credential, or set BW_ACCOUNT_ID to one "
                "it covers")
        return True
