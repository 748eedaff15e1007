"""The page's read-back tables: what exists on the account, diagnose and teardown (errors shown, never raised)."""
from __future__ import annotations

from typing import Any, Callable

from ..exceptions import BandwidthError
from ..ui import display as show
from .base import PageBase

__all__ = ["ReadbacksMixin"]


class ReadbacksMixin(PageBase):
    """Tables of applications, locations, numbers, campaigns, registration; diagnose; teardown."""

    # -- tables (errors shown, never raised) ------------------------------------------------------------
    def _table(self, call: Callable[[], Any]) -> Any:
        if self.setup is None:
            return self.check()
        if self.missing:  # the header already said which notebook to run first
            return None
        try:
            return call()
        except BandwidthError as exc:
            self._outcome("failed", f"{type(exc).__name__}: {exc.description or exc}")
            show.show_error(exc)
            return None

    def applications(self) -> Any:
        """The account's applications as a table."""
        from ..tables import applications_frame, readable

        return self._table(lambda: readable(applications_frame(self.setup.dashboard.list_applications()),
                                            ["ApplicationId", "AppName", "ServiceType", "InboundCallbackUrl",
                                             "MsgCallbackUrl", "CallbackUrl"]))

    def locations(self) -> Any:
        """The site's locations with their SMS/MMS/application status as a table."""
        from ..tables import locations_frame, readable

        return self._table(lambda: readable(locations_frame(self.setup.locations())))

    def numbers(self) -> Any:
        """The saved phone numbers as a table."""
        from ..tables import numbers_frame, readable

        return self._table(lambda: readable(numbers_frame(self.setup.current.numbers),
                                            empty="(no numbers saved)"))

    def campaigns(self) -> Any:
        """The account's 10DLC campaigns as a table (only REGISTERED ones can take numbers)."""
        from ..tables import campaigns_frame, readable

        def _frame() -> Any:  # the description on a line under its row: the ids, statuses and dates stay whole
            df = campaigns_frame(self.setup.list_campaigns())
            return readable(df, [c for c in df.columns if c != "description"] or None, detail=["description"],
                            empty="(no campaigns)")

        return self._table(_frame)

    def registration(self, number: str | None = None) -> Any:
        """The sending number's A2P status (10DLC registration or toll-free verification) as a one-row table."""
        from ..tables import readable, result_frame

        return self._table(lambda: readable(result_frame(self.setup.registration(number))))

    def diagnose(self) -> Any:
        """Preflight checks with their fixes, as a table."""
        from ..tables import diagnose_frame, readable

        def _run() -> Any:
            df = diagnose_frame(self.setup.diagnose())
            self._outcome("done", f"the preflight ran ({int((~df['ok'].astype(bool)).sum())} check(s) failing)")
            return readable(df, ["check", "ok", "finding"], detail=["fix"])

        return self._table(_run)

    def teardown(self) -> Any:
        """Undo everything saved (in the service's order), as a table of what was done."""
        from ..tables import readable, teardown_frame

        def _run() -> Any:
            df = teardown_frame(self.setup.teardown())
            self._outcome("done", "the teardown ran")
            return readable(df)

        return self._table(_run)
