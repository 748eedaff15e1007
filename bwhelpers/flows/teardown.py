"""Teardown: undo everything saved, in the service's order (delete the uploaded media -> unassign -> disconnect
numbers -> delete MMS -> delete SMS -> delete location -> delete application), then forget the saved IDs (the form
values stay).

The state is updated after each action, so a failure keeps what still exists saved."""
from __future__ import annotations

from typing import Any, Callable

from ..checks import check_number
from ..exceptions import BandwidthError, NotFoundError
from ..phone import loose_e164
from ..polling import poll_until
from ..results import Result
from ..state import ORDER_FINAL
from .context import FlowContext
from .registry import declared

__all__ = ["Teardown", "TEARDOWN_COLUMNS"]

TEARDOWN_COLUMNS = ("step", "outcome", "detail")


class Teardown:
    """teardown() on one context."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx

    def teardown(self, disconnect_timeout: float = 30.0) -> list[dict[str, Any]]:
        """One record per action (TEARDOWN_COLUMNS)."""
        check_number(disconnect_timeout, "disconnect_timeout")
        rows: list[dict[str, Any]] = []
        st = self.ctx.state
        app_id, loc_id = st.application_id, st.location_id
        d = self.ctx.dashboard

        def run(step: str, fn: Callable[..., Result], *args: Any) -> Result | None:
            try:
                result = fn(*args)
            except NotFoundError as exc:
                rows.append({"step": step, "outcome": "already gone", "detail": exc.description or ""})
                return None
            rows.append({"step": step, "outcome": "done", "detail": result.id or ""})
            return result

        self.delete_media(rows)
        for decl in reversed(declared()):  # what later steps' flows declare, undone first
            if decl.undo:
                rows.extend(getattr(decl.flow(self.ctx), decl.undo)())
        if loc_id:
            try:
                assigned = d.get_application_settings(loc_id).data.get("HttpMessagingV2AppId")
            except NotFoundError:
                assigned = None
            if assigned:
                run("unassign application", d.unassign_application, loc_id)
            else:
                rows.append({"step": "unassign application", "outcome": "nothing assigned", "detail": ""})
            with self.ctx.edit() as s:
                s.assigned = None
        numbers = list(st.numbers)
        if loc_id and self.ctx.config.is_sandbox:
            try:
                for n in d.location_numbers(loc_id).numbers:
                    e164 = loose_e164(n)
                    if e164 not in numbers:
                        numbers.append(e164)
            except BandwidthError:
                pass
        if numbers:
            result = run("disconnect numbers", d.disconnect_numbers, numbers)
            if result is not None and result.id:
                self.wait_disconnect(result.id, disconnect_timeout)
            with self.ctx.edit() as s:
                s.numbers = []
        else:
            rows.append({"step": "disconnect numbers", "outcome": "no numbers", "detail": ""})
        if loc_id:
            run("delete MMS", d.delete_mms, loc_id)
            with self.ctx.edit() as s:
                s.mms = None
            run("delete SMS", d.delete_sms, loc_id)
            with self.ctx.edit() as s:
                s.sms = None
            run("delete location", d.delete_location, loc_id)
            with self.ctx.edit() as s:
                s.location = None
        if app_id:
            run("delete application", d.delete_application, app_id)
            with self.ctx.edit() as s:
                s.application = None
        # the disconnected numbers left their campaign with them; the form values outlive the objects
        self.ctx.store.reset(self.ctx.profile, keep_forms=True)
        return rows

    def delete_media(self, rows: list[dict[str, Any]]) -> None:
        """Delete each uploaded file saved in the state from the Media API (the account's storage), forgetting
        each as it goes; one already gone is only forgotten."""
        media = [m.id for m in self.ctx.state.media if m.id]
        if not media:  # nothing uploaded (the pictures page not run): no row
            return
        from ..media import MediaClient

        client = MediaClient(self.ctx.config, session=self.ctx.messaging.session)
        for media_id in media:
            try:
                client.delete(media_id)
                rows.append({"step": "delete media", "outcome": "done", "detail": media_id})
            except NotFoundError:
                rows.append({"step": "delete media", "outcome": "already gone", "detail": media_id})
            with self.ctx.edit() as s:
                s.media = [m for m in s.media if m.id != media_id]

    def wait_disconnect(self, order_id: str, timeout: float) -> None:
        """Wait (bounded) for the disconnect order to finish; an unreadable order or the timeout ends the wait."""
        try:
            poll_until(lambda: self.ctx.dashboard.get_disconnect(order_id), (None, *ORDER_FINAL),
                       label=f"disconnect order {order_id}", timeout=timeout, progress=False, interval=0.1,
                       max_interval=1.0, on_poll=None, fix="read it again with get_disconnect()")
        except BandwidthError:  # WaitTimeoutError included: teardown goes on, the order finishes on its own
            return
