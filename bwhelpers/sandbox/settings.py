"""
bwhelpers.sandbox.settings
~~~~~~~~~~~~~~~~~~~~~~~~~~

The runtime settings of the sandbox (``/_sandbox/settings``): their defaults, stored in the db's
``settings`` table (shared by every process on that db).
"""
from __future__ import annotations

from typing import Any

from .db import Database

DEFAULT_SETTINGS: dict[str, Any] = {
    # order lifecycle: mode immediate | seconds | polls
    "order_transition": {"mode": "seconds", "seconds": 2.0, "polls": 2},
    # per-account messages per second accepted by POST /messages (0 = unlimited)
    "rate_limit_per_second": 0,
    # callback delivery
    "callback_retry": {"max_attempts": 6, "backoff": [1, 2, 4, 8, 16], "timeout": 10},
    "delivery_delay": 0.2,
    "slow_delivery_delay": 5.0,
    # fault injection for client tests: {"status": 503, "count": 2, "retry_after": 1, "methods": [...]}
    "fail_next": None,
    # seed of the deterministic number inventory (bwhelpers.sandbox.numbers)
    "number_seed": "bwhelpers-sandbox",
    # lifetime of OAuth access tokens from POST /api/v1/oauth2/token (the answer's expires_in)
    "token_ttl_seconds": 3600,
    # API users' username:password (HTTP Basic): "allowed" (the guide's requests replay verbatim) or
    # "decommissioned" (401, as on the real service from 2026-12-02; only API credentials work)
    "legacy_basic_auth": "allowed",
    # seconds after which delivered callbacks (and their attempts) and request-bin requests are pruned
    # (null = keep everything, the default)
    "retention": None,
    # 2026 carrier rules (sandbox/tendlc): a local number must be SUCCESS on a REGISTERED 10DLC campaign
    # (else message-failed 4476), a toll-free number VERIFIED (else 4795); false replays the 2018 guide
    "a2p_enforcement": True,
    # bytes of media (Media API uploads and inbound pictures) each account may store (sandbox/media)
    "media_quota_bytes": 50 * 1024 * 1024,
    # the other per-account quotas (bwhelpers.sandbox.quotas; null = unlimited; workshop mode starts with its own)
    "quotas": {"objects": None, "bins": None, "bin_requests": None, "messages": None, "callback_attempts": None,
               "requests_per_second": None, "numbers_per_order": None, "numbers_in_service": None},
    # the db size cap in MB (null = none): over it, requests that store more get 507 (bwhelpers.sandbox.quotas)
    "max_db_mb": None,
    # workshop mode: how many participants (hub user names) may get a sandbox account (null = no cap); names are
    # free to whoever has the room password, so the room has a cap (bwhelpers.sandbox.workshop.models.provision)
    "max_participants": None,
    # number inventory: "shared" (one per area code for everyone) or "per-account" (each account has its own
    # block of every exchange, so no account can empty an area for the others; workshop mode's default)
    "number_inventory": "shared",
}

LEGACY_BASIC_MODES = ("allowed", "decommissioned")


def ensure_defaults(db: Database, overrides: dict[str, Any] | None = None) -> None:
    """Store every default setting the db lacks, then ``overrides``."""
    for key, value in DEFAULT_SETTINGS.items():
        if db.get_setting(key, "__missing__") == "__missing__":
            db.set_setting(key, value)
    for key, value in (overrides or {}).items():
        db.set_setting(key, value)
