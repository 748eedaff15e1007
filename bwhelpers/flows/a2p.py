"""A2P: register the saved numbers for application-to-person messaging. Local numbers go on a REGISTERED 10DLC
campaign with a TN Option Order (polled); toll-free numbers need toll-free verification instead."""
from __future__ import annotations

from typing import Any, Callable

from .. import statuses
from ..a2p import check_campaign_id, is_toll_free
from ..exceptions import BandwidthError, NotFoundError, ValidationError
from ..phone import loose_e164, normalize_number
from ..results import Result
from ..state import A2P, now_iso
from .registry import StepFlow, declare
from .context import FlowContext, prereq

__all__ = ["A2PFlow", "A2P_DONE", "TFV_DONE"]

#: the 10DLC registration status of a number that can send / the toll-free verification status that can
A2P_DONE = "SUCCESS"
TFV_DONE = "VERIFIED"


class A2PFlow:
    """The A2P step on one context."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx

    def list_campaigns(self) -> Result:
        """The account's 10DLC campaigns."""
        return self.ctx.a2p.list_campaigns()

    def registered_campaign(self, campaign_id: str | None) -> str:
        """``campaign_id`` checked against the account's campaigns (or the first REGISTERED one)."""
        if campaign_id is not None:
            campaign_id = check_campaign_id(campaign_id)
        campaigns = self.ctx.a2p.list_campaigns().records or []
        registered = [str(c.get("campaignId")) for c in campaigns if c.get("status") == "REGISTERED"]
        if campaign_id is None:
            if not registered:
                raise ValidationError(
                    "campaign_id: the account has no REGISTERED 10DLC campaign. Fix: register a brand and a campaign "
                    "in the Bandwidth App (The Campaign Registry vets them; it takes days), then run this step with "
                    "its id", field="campaign_id")
            return registered[0]
        found = next((c for c in campaigns if str(c.get("campaignId")) == campaign_id), None)
        account = self.ctx.config.account_id
        if found is None:
            listed = ", ".join(f"{c.get('campaignId')} ({c.get('status')})" for c in campaigns) or "none"
            raise ValidationError(f"campaign_id: {campaign_id!r} is not a campaign of account {account} "
                                  f"(its campaigns: {listed}). Fix: use one of those (list_campaigns())",
                                  field="campaign_id")
        if found.get("status") != "REGISTERED":
            raise ValidationError(f"campaign_id: campaign {campaign_id} is {found.get('status')}, not REGISTERED: "
                                  "numbers can be assigned only once its registration is approved. Fix: wait for it, "
                                  f"or use a REGISTERED campaign ({', '.join(registered) or 'none yet'})",
                                  field="campaign_id")
        return campaign_id

    def own_numbers(self, numbers: Any) -> list[str]:
        """``numbers`` (default the saved ones) as E.164, each checked to be in service on this account."""
        saved = list(self.ctx.state.numbers)
        if numbers is None:
            if not saved:
                raise prereq("numbers", "phone number")
            return saved
        if isinstance(numbers, (str, int)):
            numbers = [numbers]
        wanted = [normalize_number(n, f"numbers[{i}]") for i, n in enumerate(numbers)]
        if not wanted:
            raise ValidationError("numbers: the list is empty; give the number(s) to register (or leave it out for "
                                  "the saved ones)", field="numbers")
        unknown = [n for n in wanted if n not in saved]
        if unknown:
            in_service = {loose_e164(n) for n in self.ctx.dashboard.list_in_service_numbers().numbers}
            foreign = [n for n in unknown if n not in in_service]
            if foreign:
                raise ValidationError(f"numbers: {', '.join(foreign)} is not a number of account "
                                      f"{self.ctx.config.account_id}. Fix: register one of your numbers "
                                      f"({', '.join(saved) or 'order one first'})", field="numbers")
        return wanted

    def register_a2p(self, campaign_id: str | None = None, numbers: Any = None, new: bool = False,
                     timeout: float = 60.0, progress: bool | None = None,
                     on_placed: Callable[[Result], None] | None = None,
                     on_poll: Callable[[Result, float], None] | None = None) -> Result:
        """Assign the local numbers to a REGISTERED campaign (idempotent); see ``Setup.register_a2p``."""
        a2p = self.ctx.a2p
        tns = self.own_numbers(numbers)
        local = [n for n in tns if not is_toll_free(n)]
        toll_free = [n for n in tns if is_toll_free(n)]
        if not local:
            tfv = {n: a2p.tfv_status(n).status for n in toll_free}
            raise ValidationError(
                f"numbers: {', '.join(toll_free)} is toll-free: a 10DLC campaign is for local numbers. Its toll-free "
                f"verification is {', '.join(f'{s}' for s in tfv.values())}. Fix: request_tfv(...) and wait for "
                f"{TFV_DONE}", field="numbers")
        campaign = self.registered_campaign(campaign_id)
        pending = []
        for n in local:
            try:
                reg = a2p.registration(n)
            except NotFoundError:
                pending.append(n)
                continue
            if reg.id != campaign or reg.status not in (A2P_DONE, statuses.PROCESSING):
                pending.append(n)
        saved = self.ctx.state.a2p
        if not pending:
            if new:
                raise ValidationError(
                    f"numbers: {', '.join(local)} {'is' if len(local) == 1 else 'are'} already assigned to campaign "
                    f"{campaign}: assigning twice changes nothing. Fix: run it without new=True (it reuses the saved "
                    "assignment), or give another campaign_id", field="numbers")
            order_id = saved.order_id if saved is not None and saved.campaign_id == campaign else None
            if order_id:
                try:
                    result: Result | None = a2p.get_tn_option_order(order_id)
                except NotFoundError:
                    result = None
                if result is not None:
                    result.title = f"Numbers already on campaign {campaign} (saved order)"
                    result.reused = True
                    self._save(campaign, result, local)
                    return result
            result = Result(data={"CampaignId": campaign, "TelephoneNumbers": local, "ProcessingStatus": statuses.COMPLETE},
                            id=order_id, status=statuses.COMPLETE, numbers=local,
                            title=f"Numbers already on campaign {campaign}", reused=True)
            self._save(campaign, result, local)
            return result
        placed = a2p.create_tn_option_order(pending, campaign)
        if on_placed is not None:
            on_placed(placed)
        with self.ctx.edit() as st:
            st.a2p = A2P(campaign_id=campaign, order_id=placed.id, status=placed.status, numbers=local,
                         created=now_iso())
        result = a2p.wait_for_tn_option_order(placed.id or "", timeout=timeout,
                                              progress=self.ctx.progress if progress is None else progress,
                                              on_poll=on_poll)
        result.title = f"TN Option Order {result.status} (campaign {campaign})"
        self._save(campaign, result, local)
        return result

    def _save(self, campaign: str, result: Result, numbers: list[str]) -> None:
        with self.ctx.edit() as st:
            entry = st.a2p or A2P()
            entry.campaign_id, entry.status, entry.numbers, entry.updated = campaign, result.status, numbers, now_iso()
            if result.id:
                entry.order_id = result.id
            st.a2p = entry

    def get_a2p_order(self, order_id: str | None = None) -> Result:
        """The saved (or given) TN Option Order, read again."""
        from .. import steps

        saved_a2p = self.ctx.state.a2p
        saved = saved_a2p.order_id if saved_a2p is not None else None
        order_id = order_id or saved
        if not order_id:
            raise prereq("a2p", "TN Option Order")
        try:
            return self.ctx.a2p.get_tn_option_order(order_id)
        except NotFoundError as exc:
            raise NotFoundError(f"TN Option Order {order_id!r} does not exist on account "
                                f"{self.ctx.config.account_id}. Fix: check the id (saved: {saved or 'none'}) or run "
                                f"{steps.ref('a2p')} again", status=exc.status, code=exc.code,
                                description=exc.description, exchange=exc.exchange,
                                fix=f"check the id or run {steps.ref('a2p')}") from None

    def registration(self, number: str | None = None) -> Result:
        """The sending number's A2P status: its 10DLC registration (local) or toll-free verification."""
        number = normalize_number(number, "number") if number is not None else self.ctx.sending_number()
        if is_toll_free(number):
            return self.ctx.a2p.tfv_status(number)
        try:
            return self.ctx.a2p.registration(number)
        except NotFoundError:
            return Result(data={"phoneNumber": number, "campaignId": None, "status": "NOT REGISTERED"},
                          status="NOT REGISTERED", numbers=[number], title=f"10DLC registration of {number}")

    def request_tfv(self, submission: dict[str, Any], numbers: Any = None) -> Result:
        """Submit toll-free verification for the saved toll-free number(s)."""
        tns = [n for n in self.own_numbers(numbers) if is_toll_free(n)]
        if not tns:
            raise ValidationError("numbers: no toll-free number among them; local numbers need a 10DLC campaign "
                                  "(register_a2p())", field="numbers")
        return self.ctx.a2p.request_tfv(tns, submission)

    def check(self, number: str) -> dict[str, Any]:
        """The preflight check of ``number``: 10DLC registration (local) or toll-free verification (toll-free)."""
        from ..codes import explain

        try:
            toll_free = is_toll_free(number)
        except ValidationError:
            return {"check": "A2P registration", "ok": True, "finding": f"{number} is not a US number", "fix": ""}
        try:
            reg = self.registration(number)
        except BandwidthError as exc:
            return {"check": "A2P registration", "ok": True, "fix": "",
                    "finding": f"could not read the A2P status of {number} ({exc.status or ''} "
                               f"{exc.description or exc}); make sure it is registered before sending"}
        if toll_free:
            ok = reg.status == TFV_DONE
            return {"check": "toll-free verification", "ok": ok,
                    "finding": f"{number}: toll-free verification is {reg.status}" + (
                        "" if ok else "; texts from it fail with 4795 (tfn-not-verified)"),
                    "fix": "" if ok else explain(4795)["fix"]}
        ok = reg.status == A2P_DONE
        campaign = reg.data.get("campaignId")
        finding = (f"{number} is {A2P_DONE} on 10DLC campaign {campaign}" if ok else
                   f"{number} is not registered to a 10DLC campaign: texts from it fail with 4476" if not campaign else
                   f"{number} is {reg.status} on campaign {campaign}: texts fail with 4476 until it is {A2P_DONE}")
        return {"check": "10DLC registration", "ok": ok, "finding": finding, "fix": "" if ok else explain(4476)["fix"]}


declare(StepFlow("a2p", A2PFlow, run=lambda setup, _: setup.register_a2p()))
