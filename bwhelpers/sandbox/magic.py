"""
bwhelpers.sandbox.magic
~~~~~~~~~~~~~~~~~~~~~~~

Magic inputs of the sandbox: the single source for the README, ``GET /_sandbox/magic-numbers``
and the tests. Two sections, owned by two API areas:

* ``MAGIC_AREAS`` (Dashboard API): search/order inputs that reproduce order outcomes.
* ``MAGIC_TO_NUMBERS`` (Messaging API): ``to`` numbers that reproduce delivery outcomes.
"""
from __future__ import annotations

from typing import Any

# == Messaging: magic `to` numbers ==============================================================
# A fictional NANP block (555-0100..0199 is reserved for fiction; NPA 201). Sending to one of these
# numbers from a correctly set-up number/location/application gives the outcome below instead of a
# plain ``message-delivered``. Every other `to` number is delivered (when the set-up is right).
# Each row: number (E.164), outcome (delivered | failed | slow | auto-reply), errorCode (int or
# None), description (the callback's ``description``).
MAGIC_TO_NUMBERS: list[dict[str, Any]] = [
    {"number": "+12015550100", "outcome": "delivered", "errorCode": None,
     "description": "ok"},
    {"number": "+12015550101", "outcome": "failed", "errorCode": 4720,
     "description": "invalid-destination-address"},
    {"number": "+12015550102", "outcome": "failed", "errorCode": 4432,
     "description": "rejected-forbidden-country"},
    {"number": "+12015550103", "outcome": "failed", "errorCode": 4470,
     "description": "rejected-spam-detected"},
    {"number": "+12015550104", "outcome": "failed", "errorCode": 4775,
     "description": "destination-rejected-due-to-user-opt-out"},
    {"number": "+12015550105", "outcome": "failed", "errorCode": 5620,
     "description": "destination-app-error"},
    {"number": "+12015550106", "outcome": "failed", "errorCode": 4476,
     "description": "Source TN not registered to a 10DLC campaign"},
    {"number": "+12015550107", "outcome": "failed", "errorCode": 4795,
     "description": "tfn-not-verified"},
    {"number": "+12015550108", "outcome": "failed", "errorCode": 4406,
     "description": "rejected-unallocated-to-number"},
    {"number": "+12015550109", "outcome": "failed", "errorCode": 9902,
     "description": "delivery-receipt-expired"},
    {"number": "+12015550110", "outcome": "slow", "errorCode": None,
     "description": "ok (delivered after the slow_delivery_delay setting, default 5 s)"},
    {"number": "+12015550111", "outcome": "auto-reply", "errorCode": None,
     "description": "ok, then the number answers: a message-received goes to the inbound callback URL"},
]

#: number -> row
MAGIC_TO_BY_NUMBER: dict[str, dict[str, Any]] = {row["number"]: row for row in MAGIC_TO_NUMBERS}
