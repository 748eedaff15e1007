"""pandas DataFrames of results, saved state, applications, locations, orders, numbers, messages, events.

pandas is imported inside each function, so importing this module stays cheap.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .results import flat_rows, flatten

if TYPE_CHECKING:
    import pandas as pd

    from .results import Result
    from .setup import Setup
    from .state import StateStore

__all__ = ["flatten", "frame_from_records", "result_frame", "records_frame", "diagnose_frame", "teardown_frame",
           "bulk_frame", "state_frame", "applications_frame", "locations_frame", "orders_frame",
           "numbers_frame", "messages_frame", "events_frame", "campaigns_frame"]

def frame_from_records(records: Iterable[Any]) -> "pd.DataFrame":
    """One row per record, nested fields flattened into dotted columns."""
    import pandas as pd
    return pd.DataFrame(flat_rows(records))


def result_frame(result: "Result") -> "pd.DataFrame":
    """A Result as a DataFrame: one row per record, or a single row."""
    import pandas as pd
    return pd.DataFrame(result.rows())


def records_frame(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> "pd.DataFrame":
    """Records (diagnose, teardown, bulk_send, ...) as a DataFrame with these columns."""
    import pandas as pd
    return pd.DataFrame(list(records), columns=list(columns))


def campaigns_frame(result: "Result") -> "pd.DataFrame":
    """10DLC campaigns: id and status first."""
    df = frame_from_records(result.records or [])
    first = [c for c in ("campaignId", "status", "brandId", "usecase", "description") if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]] if len(df.columns) else df


def diagnose_frame(records: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    """``Setup.diagnose()``: check, ok, finding, fix."""
    from .flows.preflight import DIAGNOSE_COLUMNS
    return records_frame(records, DIAGNOSE_COLUMNS)


def teardown_frame(records: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    """``Setup.teardown()``: step, outcome, detail."""
    from .flows.teardown import TEARDOWN_COLUMNS
    return records_frame(records, TEARDOWN_COLUMNS)


def bulk_frame(records: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    """``bulk_send``: to, text, id, status, error, attempts."""
    from .messaging import BULK_COLUMNS
    return records_frame(records, BULK_COLUMNS)


def state_frame(state: "Setup | StateStore | Mapping[str, Any]", profile: str | None = None) -> "pd.DataFrame":
    """Saved state as rows of (profile, item, field, value); ``state`` may be a Setup, a StateStore or a dict."""
    import pandas as pd

    from .setup import Setup
    from .state import StateStore

    if isinstance(state, Setup):
        profile = profile or state.profile
        state = state.state
    if isinstance(state, StateStore):
        data = state.load().get("profiles", {})
    else:
        data = state.get("profiles", state)
    rows = []
    for name, st in data.items():
        if profile and name != profile:
            continue
        for key, value in flatten(st).items():
            item, _, field = key.partition(".")
            rows.append({"profile": name, "item": item, "field": field or item, "value": value})
    return pd.DataFrame(rows, columns=["profile", "item", "field", "value"])


def applications_frame(source: Any) -> "pd.DataFrame":
    """Applications (the Result of ``list_applications()``, or records)."""
    records = list(source.records or []) if hasattr(source, "records") else list(source)
    df = frame_from_records(records)
    preferred = ["ApplicationId", "AppName", "ServiceType", "InboundCallbackUrl", "OutboundCallbackUrl", "CallbackUrl"]
    return df[[c for c in preferred if c in df.columns] + [c for c in df.columns if c not in preferred]]


LOCATION_COLUMNS = ("PeerId", "PeerName", "IsDefaultPeer", "SMS", "MMS", "Application")


def locations_frame(records: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    """Every location with its SMS, MMS and assigned-application status (``Setup.locations()``)."""
    return records_frame(records, LOCATION_COLUMNS)


def orders_frame(orders: Iterable[Any]) -> "pd.DataFrame":
    """One row per order: id, status, quantities, numbers, dates (Results, saved-state dicts or records)."""
    import pandas as pd
    rows = []
    for o in orders:
        d = o.data if hasattr(o, "data") else dict(o)
        numbers = d.get("CompletedNumbers", d.get("numbers", []))
        rows.append({
            "id": d.get("id") or d.get("orderId"),
            "status": d.get("OrderStatus") or d.get("status"),
            "completed": d.get("CompletedQuantity", d.get("completed")),
            "failed": d.get("FailedQuantity", d.get("failed")),
            "pending": d.get("PendingQuantity", d.get("pending")),
            "numbers": ", ".join(numbers) if isinstance(numbers, list) else numbers,
            "errors": "; ".join(d.get("Errors", []) or []),
            "created": d.get("OrderCreateDate") or d.get("created") or d.get("OrderDate"),
            "completed_at": d.get("OrderCompleteDate") or d.get("updated"),
        })
    return pd.DataFrame(rows, columns=["id", "status", "completed", "failed", "pending", "numbers", "errors",
                                       "created", "completed_at"])


def numbers_frame(numbers: Iterable[Any]) -> "pd.DataFrame":
    """Phone numbers with their E.164 form and national (10-digit) form."""
    import pandas as pd
    from .phone import loose_e164
    rows = []
    for n in numbers:
        raw = n.get("number") or n.get("FullNumber") if isinstance(n, Mapping) else n
        e164 = loose_e164(raw)
        rows.append({"number": e164, "national": e164[2:] if e164.startswith("+1") else e164,
                     "area_code": e164[2:5] if e164.startswith("+1") else ""})
    return pd.DataFrame(rows, columns=["number", "national", "area_code"])


def messages_frame(messages: Iterable[Any]) -> "pd.DataFrame":
    """Sent messages (Results or dicts): id, from, to, text, time, direction."""
    rows = []
    for m in messages:
        d = m.data if hasattr(m, "data") else dict(m)
        rows.append({"id": d.get("id"), "from": d.get("from"),
                     "to": ", ".join(d["to"]) if isinstance(d.get("to"), list) else d.get("to"),
                     "text": d.get("text"), "time": d.get("time") or d.get("sent"),
                     "direction": d.get("direction"), "applicationId": d.get("applicationId")})
    import pandas as pd
    return pd.DataFrame(rows, columns=["id", "from", "to", "text", "time", "direction", "applicationId"])


def events_frame(events: Iterable[Any]) -> "pd.DataFrame":
    """Callback events: type, time, message id, to/from, description, errorCode, plus flattened extras."""
    import pandas as pd

    from .events import dedupe_events
    rows = []
    parsed: list[dict[str, Any]] = []
    for ev in events:
        if isinstance(ev, str):
            try:
                ev = json.loads(ev)
            except ValueError:
                ev = {"description": ev}
        if isinstance(ev, Mapping):
            parsed.append(dict(ev))
    for ev in dedupe_events(parsed):  # callbacks arrive at least once: each event is shown once
        msg = ev.get("message") or {}
        rows.append({
            "type": ev.get("type"), "time": ev.get("time"), "message_id": msg.get("id"),
            "to": ev.get("to"), "from": msg.get("from"), "direction": msg.get("direction"),
            "description": ev.get("description"), "errorCode": ev.get("errorCode"),
            "text": msg.get("text"), "received_at": ev.get("_received_at"),
        })
    df = pd.DataFrame(rows, columns=["type", "time", "message_id", "to", "from", "direction", "description",
                                     "errorCode", "text", "received_at"])
    df["errorCode"] = pd.to_numeric(df["errorCode"], errors="coerce").astype("Int64")  # 4720, not 4720.0
    return df


# -- readable tables: DataFrames that display as narrow HTML (bwhelpers.views) ----------------------------------

_READABLE: Any = None


def _readable_class() -> Any:
    global _READABLE
    if _READABLE is None:
        import pandas as pd

        class ReadableFrame(pd.DataFrame):
            """A DataFrame that shows only the columns a person compares (long texts on a line under their
            row), so it fits a 1000 px notebook; everything else about it is an ordinary DataFrame."""

            _metadata = ["_bw_view"]

            @property
            def _constructor(self) -> Any:  # slices and copies are plain DataFrames
                return pd.DataFrame

            def _repr_html_(self) -> str:
                from .views import rows_html

                view = getattr(self, "_bw_view", None) or {}
                records = self.astype(object).where(self.notna(), None).to_dict("records")
                cols = [c for c in (view.get("columns") or list(self.columns)) if c in self.columns]
                detail = [c for c in view.get("detail", ()) if c in self.columns]
                return rows_html(records, cols, detail=detail, links=view.get("links"), empty=view.get("empty", "(none)"))

        _READABLE = ReadableFrame
    return _READABLE


def readable(data: Any, columns: Sequence[str] | None = None, *, detail: Sequence[str] = (),
             links: Mapping[str, str] | None = None, empty: str = "(none)") -> "pd.DataFrame":
    """``data`` (a DataFrame or records) as a DataFrame that displays as a narrow HTML table: ``columns`` shown,
    ``detail`` columns (long texts) on a line under each row, ``links`` columns as links (href template)."""
    import pandas as pd

    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data), columns=list(columns) if columns else None)
    out = _readable_class()(df)
    out._bw_view = {"columns": list(columns) if columns else None, "detail": list(detail), "links": dict(links or {}),
                    "empty": empty}
    return out
