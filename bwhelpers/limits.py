"""Bandwidth's media limits, read from ``bwhelpers/data/media_limits.json`` (the one home of these facts, shared with
the sandbox): 3.5 MB per file, 10 attachments per message, 525 KB for toll-free MMS, the accepted Content-Types."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["LIMITS", "MAX_FILE_BYTES", "MAX_ATTACHMENTS", "TOLL_FREE_MMS_BYTES", "MAX_URL_LENGTH", "CONTENT_TYPES"]

LIMITS: dict[str, Any] = json.loads(resources.files("bwhelpers").joinpath("data").joinpath("media_limits.json")
                                    .read_text(encoding="utf-8"))
MAX_FILE_BYTES: int = LIMITS["max_file_bytes"]
MAX_ATTACHMENTS: int = LIMITS["max_attachments"]
TOLL_FREE_MMS_BYTES: int = LIMITS["toll_free_mms_bytes"]
MAX_URL_LENGTH: int = LIMITS["max_url_length"]
CONTENT_TYPES: frozenset[str] = frozenset(LIMITS["content_types"])
