"""Bandwidth's message events (callbacks): their types and what makes two deliveries the same event.

Callbacks are delivered at least once (retried on a non-2xx answer or a ~10 s timeout), so one event may arrive
several times with the same body. :func:`event_key` is THE identity of an event: the callback receiver stores each
key once, and the readers of request bins show each key once (:func:`dedupe_events`).
"""
from __future__ import annotations

import json
from typing import Any

__all__ = ["EVENT_TYPES", "event_key", "dedupe_events"]

#: the message events Bandwidth's webhooks carry (messaging-webhooks.mdx)
EVENT_TYPES = ("message-delivered", "message-failed", "message-received", "message-sending")


def event_key(ev: dict[str, Any]) -> str:
    """What identifies one event across redeliveries: its type, message id, recipient, time and error code
    (a redelivery repeats the same body; two different events of one message differ in type or time)."""
    msg: dict[str, Any] = ev["message"] if isinstance(ev.get("message"), dict) else {}
    if not msg.get("id"):
        return json.dumps({k: v for k, v in ev.items() if not str(k).startswith("_")}, sort_keys=True, default=str)
    return json.dumps([ev.get("type"), msg.get("id"), ev.get("to"), ev.get("time"), ev.get("errorCode")],
                      default=str)


def dedupe_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` with at-least-once redeliveries removed (the first copy kept, order preserved)."""
    seen: set[str] = set()
    out = []
    for ev in events:
        key = event_key(ev)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out
