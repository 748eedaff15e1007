"""The small object every client call returns: parsed data, the saved id, and the HTTP exchange.

No pandas here: :meth:`Result.rows` gives flattened records; ``bwhelpers.tables.result_frame`` turns
them into a DataFrame.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from . import steps
from .masking import scrub

if TYPE_CHECKING:
    from .http import Exchange

__all__ = ["Result", "flatten", "flat_rows"]

def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> dotted keys (``SipPeerSmsFeatureSettings.Zone1``); lists of scalars -> ``'a, b'``;
    lists of dicts -> ``key[0].field``; XML attributes ``@x`` -> ``x``; secrets masked by value (the registry in
    :mod:`bwhelpers.masking`), never by the field's name (``token_url`` is shown)."""
    out: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        if not obj and prefix:
            out[prefix] = ""
        for k, v in obj.items():
            name = str(k).lstrip("@").replace("#text", "text")
            key = f"{prefix}.{name}" if prefix else name
            out.update(flatten(v, key))
    elif isinstance(obj, list):
        if all(not isinstance(v, (Mapping, list)) for v in obj):
            out[prefix or "value"] = ", ".join("" if v is None else str(v) for v in obj)
        elif len(obj) == 1:
            out.update(flatten(obj[0], prefix))
        else:
            for i, v in enumerate(obj):
                out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix or "value"] = scrub(obj) if isinstance(obj, str) else obj
    return out


def flat_rows(records: Iterable[Any]) -> list[dict[str, Any]]:
    """One flattened dict per record (scalars become ``{"value": ...}``)."""
    return [flatten(r) if isinstance(r, Mapping) else {"value": r} for r in records]


@dataclass
class Result:
    """A client call's outcome: ``.data`` (parsed body), ``.id``, ``.exchange``, ``.rows()``."""

    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    exchange: "Exchange | None" = None
    title: str = ""
    records: list[dict[str, Any]] | None = None
    status: str | None = None
    numbers: list[str] = field(default_factory=list)
    reused: bool = False
    #: the walkthrough step this is the outcome of (a key of ``steps``); set by Setup, never by the API clients
    step: str | None = None

    @property
    def heading(self) -> str:
        """The title as shown: the step's label from ``steps.label`` (its number), a colon, then :attr:`title`."""
        title = self.title or "Result"
        if self.step is None:
            return title
        return f"{steps.label(self.step)}: {title}"

    def rows(self) -> list[dict[str, Any]]:
        """Flattened rows: one per record (a list) or a single row (one object); secrets masked."""
        if self.records is not None:
            return flat_rows(self.records)
        return flat_rows([dict(self.data) if isinstance(self.data, dict) else {"value": self.data}])

    def __repr__(self) -> str:
        parts = [self.heading]
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
        from .views import object_html, rows_html

        body = rows_html(self.records) if self.records is not None else object_html(self.data)
        return f"<div><b>{html.escape(repr(self))}</b>{body}</div>"
