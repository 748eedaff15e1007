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


# == Dashboard: magic areas (number search and order) ============================================

#: Area code with no inventory at all (Alaska's only area code, so State AK and ZIP 99501 too).
NO_INVENTORY_AREA = "907"
#: Area code with exactly ``PARTIAL_INVENTORY_COUNT`` numbers (Wyoming's only area code: State WY, ZIP 82001).
PARTIAL_INVENTORY_AREA = "307"
PARTIAL_INVENTORY_COUNT = 2
#: Toll-free vanity word with no inventory.
NO_INVENTORY_VANITY = "NOPE"

MAGIC_AREAS: list[dict[str, Any]] = [
    {
        "input": NO_INVENTORY_AREA,
        "field": "AreaCode (order) / areaCode (search); also State AK, ZIP 99501",
        "outcome": "FAILED",
        "code": 5018,
        "description": "No inventory: a search returns an empty SearchResult and an order ends FAILED "
                       "(HTTP 200 on GET) with ErrorList code 5018.",
    },
    {
        "input": f"{NO_INVENTORY_AREA} + BackOrderRequested=true",
        "field": "AreaCode, ZIP, State, City, RateCenter orders",
        "outcome": "BACKORDERED",
        "code": 5520,
        "description": "The order is accepted and stays BACKORDERED (ErrorList code 5520) until it is closed "
                       "with PUT /orders/{id} <Order><CloseOrder>true</CloseOrder></Order>.",
    },
    {
        "input": PARTIAL_INVENTORY_AREA,
        "field": "AreaCode (order) / areaCode (search); also State WY, ZIP 82001",
        "outcome": "PARTIAL",
        "code": 5017,
        "description": f"Only {PARTIAL_INVENTORY_COUNT} numbers exist: an order for more completes as PARTIAL "
                       f"(the {PARTIAL_INVENTORY_COUNT} numbers are in service, ErrorList code 5017).",
    },
    {
        "input": f"{PARTIAL_INVENTORY_AREA} + PartialAllowed=false",
        "field": "AreaCode order with Quantity > 2",
        "outcome": "FAILED",
        "code": 5017,
        "description": "Partial fulfilment refused: the order ends FAILED with code 5017 and no number is "
                       "allocated.",
    },
    {
        "input": "a number already in service (any account) or in area 907; with number_inventory 'per-account' "
                 "(workshop mode) a number outside the ordering account's own block of its exchange",
        "field": "ExistingTelephoneNumberOrderType/TelephoneNumberList/TelephoneNumber",
        "outcome": "FAILED (or PARTIAL when other numbers of the list succeed)",
        "code": 5005,
        "description": "The telephone number is unavailable for ordering: ErrorList code 5005 with the "
                       "TelephoneNumber, and FailedNumbers/FullNumber.",
    },
    {
        "input": NO_INVENTORY_VANITY,
        "field": "TollFreeVanity (order) / tollFreeVanity (search)",
        "outcome": "FAILED",
        "code": 5018,
        "description": "No toll-free number spells this word: empty search, FAILED order (5018).",
    },
    {
        "input": "Quantity 0, > 5000 or not a number",
        "field": "*SearchAndOrderType/Quantity",
        "outcome": "400",
        "code": 5009,
        "description": "Rejected when the order is created (OrderResponse/ErrorList).",
    },
    {
        "input": "Quantity over the numbers_per_order quota (workshop mode: 10)",
        "field": "*SearchAndOrderType/Quantity",
        "outcome": "400",
        "code": 5009,
        "description": "Rejected when the order is created; a standalone sandbox has no such quota.",
    },
    {
        "input": "an order that would take the account over the numbers_in_service quota (workshop mode: 20)",
        "field": "Quantity, or the numbers already held",
        "outcome": "403",
        "code": 403,
        "description": "Rejected when the order is created; disconnect numbers or ask the host to reset the account.",
    },
    {
        "input": "any area code not listed above, while the area has numbers left",
        "field": "AreaCode / ZIP / State / City / RateCenter / NpaNxx",
        "outcome": "COMPLETE",
        "code": None,
        "description": "500 numbers per area code (50 per NPA-NXX), valid NANP numbers, deterministic for the "
                       "number_seed setting, never handed out twice across accounts. With number_inventory "
                       "'shared' (a standalone sandbox) the 500 are shared by every account: once they are taken, "
                       "orders there end PARTIAL or FAILED 5018. With 'per-account' (workshop mode) every account "
                       "has its own 500 in each area code (its own block of each exchange), so no one can empty an "
                       "area for the others.",
    },
]


# == A2P (sandbox/tendlc): 10DLC campaigns and toll-free verification ===========================
#: The demo accounts' campaigns (other accounts get ``CS…``/``CP…`` ids, listed by GET .../tendlc/campaigns).
DEMO_REGISTERED_CAMPAIGN = "CSBX001"
DEMO_PENDING_CAMPAIGN = "CPND001"
TFV_DECLINE_MAGIC = "unreachable"

MAGIC_A2P: list[dict[str, Any]] = [
    {
        "input": f"campaign {DEMO_REGISTERED_CAMPAIGN} (account 9900000; CSBX002 on 9900001)",
        "field": "TnOptionOrder A2pSettings/CampaignId",
        "outcome": "COMPLETE; the number is SUCCESS on the campaign",
        "code": None,
        "description": "The pre-registered REGISTERED campaign: brand and campaign registration, done in the "
                       "Bandwidth App on a real account (it takes days), is skipped.",
    },
    {
        "input": f"campaign {DEMO_PENDING_CAMPAIGN} (CPND002 on 9900001)",
        "field": "TnOptionOrder A2pSettings/CampaignId",
        "outcome": "FAILED; the number is FAILURE on the campaign",
        "code": 12192,
        "description": "A campaign whose registration is still PENDING: A2P Campaign ID is not active.",
    },
    {
        "input": "any other campaign id (or another account's)",
        "field": "TnOptionOrder A2pSettings/CampaignId",
        "outcome": "FAILED",
        "code": 12128,
        "description": "A2P Campaign ID was not found in the list of authorized Campaign IDs.",
    },
    {
        "input": f"a businessAddress.url containing `{TFV_DECLINE_MAGIC}`",
        "field": "POST /api/v2/accounts/{a}/tollFreeVerification",
        "outcome": "UNVERIFIED (declined, resubmitAllowed)",
        "code": 511,
        "description": "Toll-free verification is declined (denialStatusCode 511, website not accessible); fix "
                       "the submission and PUT it again. Any other submission ends VERIFIED.",
    },
    {
        "input": "a local number not SUCCESS on a REGISTERED campaign / a toll-free number not VERIFIED",
        "field": "from of POST /users/{a}/messages (setting a2p_enforcement, default true)",
        "outcome": "message-failed",
        "code": "4476 / 4795",
        "description": "Carriers reject unregistered A2P traffic. With a2p_enforcement=false the 2018 guide's "
                       "eight steps deliver as before.",
    },
]
