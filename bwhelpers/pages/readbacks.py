"""The page's read-back tables: what exists on the account, diagnose and teardown (errors shown, never raised)."""
from __future__ import annotations

import html
from typing import Any, Callable

from .. import views
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

    # Each returns a tables.Table: shown without pandas, a DataFrame (same columns as the *_frame twin) when used
    # as one.
    def applications(self) -> Any:
        """The account's applications as a table."""
        from ..tables import applications_rows, readable

        def _run() -> Any:
            rows, columns = applications_rows(self.setup.dashboard.list_applications())
            # the URLs on a line under their row: whole at 1024 px (in a column they break after every slash)
            return readable(rows, ["ApplicationId", "AppName", "ServiceType"],
                            detail=["InboundCallbackUrl", "OutboundCallbackUrl", "CallbackUrl"], all_columns=columns)

        return self._table(_run)

    def locations(self) -> Any:
        """The site's locations with their SMS/MMS/application status as a table."""
        from ..tables import LOCATION_COLUMNS, readable

        return self._table(lambda: readable(self.setup.locations(), all_columns=LOCATION_COLUMNS))

    def numbers(self) -> Any:
        """The saved phone numbers as a table."""
        from ..tables import NUMBER_COLUMNS, numbers_rows, readable

        return self._table(lambda: readable(numbers_rows(self.setup.current.numbers), empty="(no numbers saved)",
                                            all_columns=NUMBER_COLUMNS))

    def campaigns(self) -> Any:
        """The account's 10DLC campaigns as a table (only REGISTERED ones can take numbers)."""
        from ..tables import campaigns_rows, readable

        def _run() -> Any:  # the description on a line under its row: the ids, statuses and dates stay whole
            rows, columns = campaigns_rows(self.setup.list_campaigns())
            return readable(rows, [c for c in columns if c != "description"] or None, detail=["description"],
                            empty="(no campaigns)", all_columns=columns)

        return self._table(_run)

    def registration(self, number: str | None = None) -> Any:
        """The sending number's A2P status (10DLC registration or toll-free verification) as a one-row table."""
        from ..tables import readable

        return self._table(lambda: readable(self.setup.registration(number).rows()))

    def diagnose(self) -> Any:
        """Preflight checks with their fixes, as a table."""
        from ..flows.preflight import DIAGNOSE_COLUMNS
        from ..tables import readable

        def _run() -> Any:
            rows = list(self.setup.diagnose())
            failing = [r for r in rows if not r.get("ok")]
            if failing:  # a finding to act on: the summary says partial, names the checks and the first fix
                names = ", ".join(str(r.get("check")) for r in failing)
                self._outcome("partial", f"the preflight found {len(failing)} failing check"
                                         f"{'s' * (len(failing) > 1)}: {names}")
                first = next((str(r.get("fix")) for r in failing if r.get("fix")), "")
                self._partial_next = (f"fix the ✗ rows of the preflight above{' (first: ' + html.escape(first) + ')' if first else ''}"
                                      ", then re-run this notebook")
            else:
                self._outcome("done", f"the preflight ran: all {len(rows)} checks pass")
            return readable(rows, ["check", "ok", "finding"], detail=["fix"], all_columns=DIAGNOSE_COLUMNS,
                            marks=["ok"])

        self._preflight = show.live_table(self._table(_run))  # the teardown folds it once its ✓ rows no longer hold
        return self._preflight

    def teardown(self) -> Any:
        """Undo everything saved (in the service's order), as a table of what was done."""
        from ..flows.teardown import TEARDOWN_COLUMNS
        from ..tables import readable

        def _run() -> Any:
            rows = list(self.setup.teardown())
            self._outcome("done", "the teardown ran")
            self._torn_down = teardown_words(rows)
            return readable(rows, all_columns=TEARDOWN_COLUMNS)

        try:
            return self._table(_run)
        finally:  # done or failed half-way: the summary above and the progress chips say what is saved now
            if self.setup is not None:
                self.resummarize()
            if self._torn_down is not None and hasattr(self._preflight, "stale"):
                self._preflight.stale(views.callout(
                    "info", "This preflight ran before the teardown",
                    "<div>Tear down deleted what it checked, so its ✓ rows no longer hold. Run this cell again to "
                    "check the account as it is now.</div>"))


def teardown_words(rows: list[dict[str, Any]]) -> str:
    """What a teardown did, in a few words: ``the teardown did: disconnect numbers, delete SMS, …`` (its ``done``
    rows, each kind once), and what it found nothing to do for."""
    done = list(dict.fromkeys(str(r.get("step")) for r in rows if r.get("outcome") == "done"))
    other = list(dict.fromkeys(f"{r.get('step')} ({r.get('outcome')})" for r in rows if r.get("outcome") != "done"))
    said = f"the teardown did: {', '.join(done)}" if done else "the teardown found nothing to delete"
    return said + (f"; nothing to do for {', '.join(other)}" if other else "")
