"""
bwhelpers.codes
~~~~~~~~~~~~~~~

What Bandwidth's message-failed ``errorCode`` values mean and what to do about them (from
Bandwidth's messaging error documentation), for the events table and notebook 09.
"""
from __future__ import annotations

from typing import Any

#: errorCode -> (short name, what it means, what to do)
MESSAGE_ERROR_CODES: dict[int, tuple[str, str, str]] = {
    4001: ("service-not-allowed", "The account may not use this messaging service.",
           "Ask Bandwidth support to enable the service for the account."),
    4301: ("malformed-invalid-encoding", "The message could not be encoded.", "Check the text's characters."),
    4360: ("message-expired", "The message expired before it could be sent.", "Send it again, or raise the expiration."),
    4403: ("rejected-forbidden-from-number", "The from number may not send messages.",
           "Use a number of your account with messaging enabled."),
    4405: ("rejected-unallocated-from-number", "The from number does not belong to any account.",
           "Send from one of your own numbers (order one in step 6)."),
    4406: ("rejected-unallocated-to-number", "The destination number is not allocated.", "Check the to number."),
    4407: ("rejected-account-not-defined-from-number", "The from number belongs to a different account.",
           "Send from a number ordered on this account."),
    4432: ("rejected-forbidden-country", "Sending to that country is not allowed for the account.",
           "Ask Bandwidth support to enable international messaging, or pick another destination."),
    4433: ("rejected-forbidden-tollfree", "Sending to toll-free numbers is not enabled.",
           "Enable TollFree on the location's SMS feature (step 3)."),
    4435: ("rejected-too-many-recipients", "A group message had more than 10 recipients.",
           "Send to 10 numbers or fewer at a time."),
    4452: ("rejected-wrong-application-id", "The applicationId is not the one assigned to the from number's location.",
           "Assign the application to the location (step 5) and send with that applicationId."),
    4470: ("rejected-spam-detected", "The carrier's spam filter refused the message.",
           "Change the content; register a 10DLC campaign for application-to-person traffic."),
    4476: ("rejected-unregistered-10dlc", "The from number is not on a registered 10DLC campaign.",
           "Register a 10DLC brand and campaign and assign the number to it."),
    4720: ("invalid-destination-address", "The destination is not a valid, reachable number.", "Check the to number."),
    4773: ("inactive-campaign", "The number's 10DLC campaign is not active.", "Reactivate the campaign."),
    4775: ("destination-rejected-due-to-user-opt-out", "The recipient replied STOP and opted out.",
           "Do not message them until they opt back in (START)."),
    4795: ("tfn-not-verified", "The toll-free number has not passed toll-free verification.",
           "Submit and complete toll-free verification for the number."),
    5620: ("destination-app-error", "The carrier's application failed to deliver the message.", "Retry later."),
    9902: ("delivery-receipt-expired", "No delivery receipt arrived in time.",
           "Treat the delivery as unknown; retry only if it matters."),
    9999: ("unknown-error", "An unknown error.", "Contact Bandwidth support with the message id."),
}


def explain(code: Any) -> dict[str, str]:
    """``{"code", "name", "meaning", "fix"}`` for a message-failed errorCode (unknown codes say so)."""
    try:
        key = int(code)
    except (TypeError, ValueError):
        return {"code": str(code), "name": "", "meaning": "", "fix": ""}
    name, meaning, fix = MESSAGE_ERROR_CODES.get(key, ("", "Not in bwhelpers' table of known codes.",
                                                      "See Bandwidth's messaging error codes page."))
    return {"code": str(key), "name": name, "meaning": meaning, "fix": fix}
