"""The small object every client call returns: parsed data, the saved id, and the HTTP exchange."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from .http import Exchange

__all__ = ["Result"]


@dataclass
class Result:
    """A client call's outcome: ``.data`` (parsed body), ``.id``, ``.exchange``, ``.to_frame()``."""

    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    exchange: "Exchange | None" = None
    title: str = ""
    records: list[dict[str, Any]] | None = None
    status: str | None = None
    numbers: list[str] = field(default_factory=list)
    reused: bool = False

    def to_frame(self) -> "pd.DataFrame":
        """A flattened DataFrame: one row per record (a list) or a single row (one object)."""
        from .tables import frame_from_records
        if self.records is not None:
            return frame_from_records(self.records)
        row = dict(self.data) if isinstance(self.data, dict) else {"value": self.data}
        return frame_from_records([row])

    def __repr__(self) -> str:
        parts = [self.title or "Result"]
        if self.id:
            parts.append(f"id={self.id}")
        if self.status:
            parts.append(f"status={self.status}")
        if self.numbers:
            parts.append(f"numbers={self.numbers}")
        if self.reused:
            parts.append("(saved, reused)")
        if self.exchange is not None:
            parts.append(f"[{self.exchange.method} -> {self.exchange.status}]")
        return "<" + " ".join(parts) + ">"

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        try:
            table = self.to_frame().to_html(index=False, max_cols=30)
        except Exception:  # pragma: no cover - display must never fail
            table = f"<pre>{html.escape(str(self.data))}</pre>"
        return f"<div><b>{head}</b>{table}</div>"
