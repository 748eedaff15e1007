"""pandas DataFrames of results, saved state, applications, locations, orders, numbers, messages, events; and
:class:`Table`, what the walkthrough's read-backs return: shown without pandas, a DataFrame when used as one.

pandas is imported inside each function, so importing this module stays cheap; the ``*_rows`` functions build the
same rows and columns as their ``*_frame`` twins without it.
"""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from .results import flat_rows, flatten

if TYPE_CHECKING:
    import pandas as pd

    from .results import Result
    from .setup import Setup
    from .state import StateStore

__all__ = ["flatten", "frame_from_records", "result_frame", "records_frame", "diagnose_frame", "teardown_frame",
           "bulk_frame", "state_frame", "applications_frame", "locations_frame", "orders_frame",
           "numbers_frame", "messages_frame", "events_frame", "campaigns_frame", "Table", "readable", "columns_of",
           "applications_rows", "campaigns_rows", "numbers_rows", "events_rows", "EVENT_COLUMNS", "NUMBER_COLUMNS",
           "is_frame"]

Rows = list[dict[str, Any]]


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every key of ``rows`` in the order it first appears (the columns ``pd.DataFrame(rows)`` has)."""
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            seen.setdefault(k, None)
    return list(seen)


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


def campaigns_rows(result: "Result") -> tuple[Rows, list[str]]:
    """10DLC campaigns as flattened rows; columns: id and status first."""
    rows = flat_rows(result.records or [])
    return rows, _first(columns_of(rows), ["campaignId", "status", "brandId", "usecase", "description"])


def campaigns_frame(result: "Result") -> "pd.DataFrame":
    """10DLC campaigns: id and status first."""
    import pandas as pd

    rows, columns = campaigns_rows(result)
    return pd.DataFrame(rows, columns=columns)


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


def _first(columns: Sequence[str], preferred: Sequence[str]) -> list[str]:
    return [c for c in preferred if c in columns] + [c for c in columns if c not in preferred]


def applications_rows(source: Any) -> tuple[Rows, list[str]]:
    """Applications (the Result of ``list_applications()``, or records) as flattened rows and their columns."""
    rows = flat_rows(list(source.records or []) if hasattr(source, "records") else list(source))
    return rows, _first(columns_of(rows), ["ApplicationId", "AppName", "ServiceType", "InboundCallbackUrl",
                                           "OutboundCallbackUrl", "CallbackUrl"])


def applications_frame(source: Any) -> "pd.DataFrame":
    """Applications (the Result of ``list_applications()``, or records)."""
    import pandas as pd

    rows, columns = applications_rows(source)
    return pd.DataFrame(rows, columns=columns)


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


NUMBER_COLUMNS = ["number", "national", "area_code"]


def numbers_rows(numbers: Iterable[Any]) -> Rows:
    """Phone numbers with their E.164 form and national (10-digit) form (columns :data:`NUMBER_COLUMNS`)."""
    from .phone import loose_e164
    rows = []
    for n in numbers:
        raw = n.get("number") or n.get("FullNumber") if isinstance(n, Mapping) else n
        e164 = loose_e164(raw)
        rows.append({"number": e164, "national": e164[2:] if e164.startswith("+1") else e164,
                     "area_code": e164[2:5] if e164.startswith("+1") else ""})
    return rows


def numbers_frame(numbers: Iterable[Any]) -> "pd.DataFrame":
    """Phone numbers with their E.164 form and national (10-digit) form."""
    import pandas as pd
    return pd.DataFrame(numbers_rows(numbers), columns=NUMBER_COLUMNS)


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


EVENT_COLUMNS = ["type", "time", "message_id", "to", "from", "direction", "description", "errorCode", "text",
                 "received_at", "kind"]


def _int_or_none(value: Any) -> int | None:
    """An errorCode as an int (4720, not 4720.0 nor "4720"); None when it is none."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == number and number not in (float("inf"), float("-inf")) else None


def events_rows(events: Iterable[Any]) -> Rows:
    """Callback events as rows of :data:`EVENT_COLUMNS` (each event once; errorCode an int or None)."""
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
            "kind": "MMS" if msg.get("media") else "SMS",  # a picture message lists its media URLs
        })
    for row in rows:
        row["errorCode"] = _int_or_none(row["errorCode"])
    return rows


def events_frame(events: Iterable[Any]) -> "pd.DataFrame":
    """Callback events: type, time, message id, to/from, description, errorCode, plus flattened extras."""
    import pandas as pd

    df = pd.DataFrame(events_rows(events), columns=EVENT_COLUMNS)
    df["errorCode"] = pd.to_numeric(df["errorCode"], errors="coerce").astype("Int64")  # 4720, not 4720.0
    return df


# -- readable tables: shown as narrow HTML (bwhelpers.views), DataFrames when used as one ---------------------------

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
                view = getattr(self, "_bw_view", None) or {}
                records = self.astype(object).where(self.notna(), None).to_dict("records")
                return _view_html(records, list(self.columns), view)

        _READABLE = ReadableFrame
    return _READABLE


def _view_html(records: Sequence[Mapping[str, Any]], present: Sequence[str], view: Mapping[str, Any]) -> str:
    from .views import rows_html

    cols = [c for c in (view.get("columns") or present) if c in present]
    detail = [c for c in view.get("detail", ()) if c in present]
    return rows_html(records, cols, detail=detail, links=view.get("links"), empty=view.get("empty", "(none)"),
                     clip=view.get("clip"), marks=view.get("marks", ()))


def is_frame(data: Any) -> bool:
    pd = sys.modules.get("pandas")  # no DataFrame can exist before pandas is imported
    return pd is not None and isinstance(data, pd.DataFrame)


class Table:
    """Rows shown as a narrow HTML table (:func:`bwhelpers.views.rows_html`) without importing pandas. Used as a
    DataFrame (``table["type"]``, ``table.columns``, ``table.iloc[0]``, any DataFrame attribute) it is one:
    :attr:`frame` is built on first use (then the table shows the frame, changes included). The walkthrough's
    read-backs return these, so a notebook that only shows them does not import pandas."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str], view: Mapping[str, Any],
                 dtypes: Mapping[str, str] | None = None):
        self.rows: Rows = [dict(r) for r in rows]
        self.all_columns = list(columns)
        self.view = dict(view)
        self._dtypes = dict(dtypes or {})
        self._frame: Any = None

    @property
    def frame(self) -> "pd.DataFrame":
        """The rows as a pandas DataFrame (built once; it shows like this table)."""
        if self._frame is None:
            import pandas as pd

            df = pd.DataFrame(self.rows, columns=self.all_columns)
            for column, dtype in self._dtypes.items():
                if column in df.columns:
                    df[column] = pd.to_numeric(df[column], errors="coerce").astype(dtype)
            out = _readable_class()(df)
            out._bw_view = self.view
            self._frame = out
        return self._frame

    def _repr_html_(self) -> str:
        if self._frame is not None:
            return str(self._frame._repr_html_())
        return _view_html(self.rows, self.all_columns, self.view)

    def __repr__(self) -> str:
        if self._frame is not None:
            return repr(self._frame)
        if not self.rows:
            return str(self.view.get("empty", "(none)"))
        from .views import fmt

        cols = [c for c in (self.view.get("columns") or self.all_columns) if c in self.all_columns]
        cells = [[str(c) for c in cols]] + [[fmt(r.get(c))[:40] for c in cols] for r in self.rows[:30]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
        if len(self.rows) > 30:
            lines.append(f"... {len(self.rows)} rows")
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.rows) if self._frame is None else len(self._frame)

    def __iter__(self) -> Iterator[Any]:  # as a DataFrame: its column names
        return iter(self.frame)

    def __contains__(self, key: object) -> bool:
        return key in self.frame

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.frame[key] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # display hooks (_repr_*_, _ipython_*_) and private names are never the frame's
            raise AttributeError(name)
        return getattr(self.frame, name)


def readable(data: Any, columns: Sequence[str] | None = None, *, detail: Sequence[str] = (),
             links: Mapping[str, str] | None = None, empty: str = "(none)", all_columns: Sequence[str] | None = None,
             dtypes: Mapping[str, str] | None = None, clip: Mapping[str, int] | None = None,
             marks: Sequence[str] = ()) -> Any:
    """``data`` (a DataFrame, or rows) as a table that displays as a narrow HTML table: ``columns`` shown,
    ``detail`` columns (long texts) on a line under each row, ``links`` columns as links (href template), ``clip``
    columns (column -> characters) shortened with the whole value in a tooltip, ``marks`` (pass/fail columns) as a
    coloured ✓ ok / ✗ failing (the frame keeps the booleans).

    A DataFrame gives a DataFrame. Rows give a :class:`Table` (no pandas until it is used as a DataFrame) whose
    frame has ``all_columns`` (default: every key, in order of appearance) with ``dtypes`` (column -> a pandas
    numeric dtype such as ``"Int64"``)."""
    view = {"columns": list(columns) if columns else None, "detail": list(detail), "links": dict(links or {}),
            "empty": empty, "clip": dict(clip or {}), "marks": list(marks)}
    if is_frame(data):
        out = _readable_class()(data)
        out._bw_view = view
        return out
    rows = [dict(r) for r in data]
    if all_columns is None:
        all_columns = columns_of(rows) if rows else list(columns or [])
    return Table(rows, all_columns, view, dtypes)
