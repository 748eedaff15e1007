"""pandas DataFrames of results, saved state, applications, locations, orders, numbers, messages, events.

pandas is imported inside each function, so importing this module stays cheap.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import mask, scrub

if TYPE_CHECKING:
    import pandas as pd
    from .dashboard import DashboardClient
    from .state import StateStore

__all__ = ["flatten", "frame_from_records", "state_frame", "applications_frame", "locations_frame", "orders_frame",
           "numbers_frame", "messages_frame", "events_frame"]

_SECRET_WORDS = ("password", "secret", "token")


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> dotted keys (``SipPeerSmsFeatureSettings.Zone1``); lists of scalars -> ``'a, b'``;
    lists of dicts -> ``key[0].field``; XML attributes ``@x`` -> ``x``; secrets masked."""
    out: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        if not obj and prefix:
            out[prefix] = ""
        for k, v in obj.items():
            name = str(k).lstrip("@").replace("#text", "text")
            key = f"{prefix}.{name}" if prefix else name
            if any(w in name.lower() for w in _SECRET_WORDS) and isinstance(v, str):
                out[key] = mask(v)
            else:
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


def frame_from_records(records: Iterable[Any]) -> "pd.DataFrame":
    """One row per record, nested fields flattened into dotted columns."""
    import pandas as pd
    rows = [flatten(r) if isinstance(r, Mapping) else {"value": r} for r in records]
    return pd.DataFrame(rows)


def _strip_prefix(df: "pd.DataFrame", prefix: str) -> "pd.DataFrame":
    return df.rename(columns=lambda c: c[len(prefix):] if c.startswith(prefix) else c)


def state_frame(state: "StateStore | Mapping[str, Any]", profile: str | None = None) -> "pd.DataFrame":
    """Saved state as rows of (profile, item, field, value); ``state`` may be a Setup, a StateStore or a dict."""
    import pandas as pd
    if hasattr(state, "state") and hasattr(state, "profile"):  # a Setup
        profile = profile or state.profile  # type: ignore[union-attr]
        state = state.state  # type: ignore[union-attr]
    if hasattr(state, "load"):
        data = state.load().get("profiles", {})  # type: ignore[union-attr]
    else:
        data = state.get("profiles", state) if isinstance(state, Mapping) else {}
    rows = []
    for name, st in data.items():
        if profile and name != profile:
            continue
        for key, value in flatten(st).items():
            item, _, field = key.partition(".")
            rows.append({"profile": name, "item": item, "field": field or item, "value": value})
    return pd.DataFrame(rows, columns=["profile", "item", "field", "value"])


def applications_frame(source: Any) -> "pd.DataFrame":
    """Applications (a Result of list_applications, a DashboardClient, or records)."""
    records = _records(source, "list_applications")
    df = frame_from_records(records)
    preferred = ["ApplicationId", "AppName", "ServiceType", "CallbackUrl"]
    return df[[c for c in preferred if c in df.columns] + [c for c in df.columns if c not in preferred]]


def locations_frame(client: "DashboardClient") -> "pd.DataFrame":
    """Every location with its SMS, MMS and assigned-application status (one GET per feature)."""
    import pandas as pd
    from .errors import BandwidthError
    rows = []
    for peer in client.list_locations().records or []:
        peer_id = str(peer.get("PeerId") or peer.get("peerId") or "")
        row = {"PeerId": peer_id, "PeerName": peer.get("PeerName"), "IsDefaultPeer": peer.get("IsDefaultPeer")}
        for label, call in (("SMS", client.get_sms), ("MMS", client.get_mms)):
            try:
                call(peer_id)
                row[label] = "enabled"
            except BandwidthError as exc:
                row[label] = "not enabled" if exc.status in (404, 400) else f"error {exc.status}"
        try:
            row["Application"] = client.get_application_settings(peer_id).data.get("HttpMessagingV2AppId") or ""
        except BandwidthError:
            row["Application"] = ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["PeerId", "PeerName", "IsDefaultPeer", "SMS", "MMS", "Application"])


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
    from .dashboard import normalize_number
    from .errors import ValidationError
    rows = []
    for n in numbers:
        raw = n.get("number") or n.get("FullNumber") if isinstance(n, Mapping) else n
        try:
            e164 = normalize_number(raw)
        except ValidationError:
            e164 = str(raw)
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
    rows = []
    for ev in events:
        if isinstance(ev, str):
            try:
                ev = json.loads(ev)
            except ValueError:
                ev = {"description": ev}
        if not isinstance(ev, Mapping):
            continue
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


def _records(source: Any, method: str) -> list[Any]:
    if hasattr(source, method):
        source = getattr(source, method)()
    if hasattr(source, "records"):
        return list(source.records or [])
    return list(source)
