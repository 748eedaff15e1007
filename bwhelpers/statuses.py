"""Order statuses (numbers.yml ``OrderStatus`` / ``ProcessingStatus``): THE one place the client names them and
groups them, for number orders, disconnects and TN Option Orders alike."""
from __future__ import annotations

__all__ = ["RECEIVED", "PROCESSING", "COMPLETE", "PARTIAL", "FAILED", "BACKORDERED", "PENDING", "FINAL", "DONE",
           "SHORT", "TN_OPTION_FINAL"]

RECEIVED = "RECEIVED"
PROCESSING = "PROCESSING"
COMPLETE = "COMPLETE"
PARTIAL = "PARTIAL"
FAILED = "FAILED"
BACKORDERED = "BACKORDERED"

#: still being worked on: poll again
PENDING = frozenset({RECEIVED, PROCESSING})
#: a number order is over (polling stops)
FINAL = frozenset({COMPLETE, PARTIAL, FAILED, BACKORDERED})
#: numbers went into service (they are saved)
DONE = frozenset({COMPLETE, PARTIAL})
#: over, but only part of what was asked for (or none yet)
SHORT = frozenset({PARTIAL, BACKORDERED})
#: a TN Option Order is over
TN_OPTION_FINAL = frozenset({COMPLETE, PARTIAL, FAILED})
