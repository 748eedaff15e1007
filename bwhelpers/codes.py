"""What Bandwidth's error codes mean and how to fix them: the ONE home of every fix text.

``FIXES`` (Dashboard codes and messaging error types), ``STATUS_FIXES`` (by HTTP status) and
``MESSAGE_ERROR_CODES`` (message-failed ``errorCode`` values, from Bandwidth's messaging error
documentation) name steps through :mod:`bwhelpers.steps` (``{sms}`` -> ``step 3``), so renumbering a
step renumbers its fixes.
"""
from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from .steps import STEPS, page

__all__ = ["FIXES", "STATUS_FIXES", "CONFLICT_CODES", "NOT_FOUND_CODES", "MESSAGE_ERROR_CODES", "MESSAGE_STATUSES",
           "explain", "explain_status", "fix_for", "new_callback_urls", "run_again", "SET_CALLBACK_BASE"]

_STEP_NAMES = {p.key: f"step {p.number}" for p in STEPS}


def _fill(texts: dict[Any, Any]) -> Any:
    return {k: (tuple(t.format(**_STEP_NAMES) for t in v) if isinstance(v, tuple) else v.format(**_STEP_NAMES))
            for k, v in texts.items()}


#: errorCode -> (short name, what it means, what to do), from Bandwidth's messaging error documentation. The table is
#: data (``bwhelpers/data/message_error_codes.json``) so the sandbox's phone page shows the same meanings without
#: importing the client.
MESSAGE_ERROR_CODES: dict[int, tuple[str, str, str]] = _fill({
    int(code): (row["name"], row["meaning"], row["fix"])
    for code, row in json.loads(files("bwhelpers").joinpath("data/message_error_codes.json")
                                .read_text(encoding="utf-8")).items()})

#: listMessages' ``messageStatus`` (bandwidth.yml ``messageStatusEnum``) -> (final?, what it means, what to do).
#: Bandwidth lists the values without defining them; the meanings are bwhelpers' reading of the names and of
#: the callbacks they go with (message-sending, message-delivered, message-failed, message-received).
MESSAGE_STATUSES: dict[str, tuple[bool, str, str]] = {
    "ACCEPTED": (False, "Bandwidth accepted the message (the 202) and has not sent it yet.", "Wait a few seconds."),
    "QUEUED": (False, "The message waits in the account's queue (sending rate limits, or a busy carrier).",
               "Wait; if it stays queued, send fewer messages per second."),
    "SENDING": (False, "Bandwidth is handing the message to the carrier.", "Wait a few seconds."),
    "SENT": (False, "The carrier took the message; no delivery receipt has come back yet.",
             "Wait: most receipts arrive within seconds, some carriers (and many MMS) never send one."),
    "DELIVERED": (True, "The carrier reported the message delivered to the phone.", ""),
    "FAILED": (True, "The message could not be sent; its errorCode says why.", "See the error code's fix."),
    "UNDELIVERED": (True, "The carrier reported that the message did not reach the phone; its errorCode says why.",
                    "See the error code's fix."),
    "RECEIVED": (True, "An incoming message that one of your numbers received.", ""),
}

FIXES: dict[str, str] = _fill({
    # step order (ConflictError)
    "13645": "enable SMS ({sms}) before assigning the application ({assigned})",
    "13623": "enable SMS ({sms}) before enabling MMS ({mms})",
    "12784": "enable SMS ({sms}) before enabling MMS ({mms})",
    "13613": "delete the SMS feature (delete_sms) before deleting the location; teardown order is "
             "unassign -> disconnect numbers -> delete MMS -> delete SMS -> delete location -> delete application",
    "13622": "delete the MMS feature (delete_mms) before deleting the location",
    "13624": "delete the MMS feature (delete_mms) before deleting the SMS feature",
    "13673": "disconnect the location's numbers (disconnect_numbers) before disabling SMS",
    "12107": "unassign the application from every location (unassign_application) before deleting it",
    "13629": "the application id does not exist: create the application ({application}) and assign its ApplicationId",
    "13648": "assign a Messaging-V2 application ({application} creates one)",
    "13679": "remove the proxy peer settings before deleting the location",
    "5019": "the order is still pending: wait for it ({numbers}) before changing it",
    "13524": "a location with this name already exists on the site: reuse it (list_locations shows its id) or give "
             "the new location another name ({location})",
    # not found
    "13563": "the location (sippeer) does not exist: create it ({location}) or check the location id",
    "23019": "the application does not exist: create it ({application}) or check the application id",
    "1016": "the resource does not exist: check the id",
    # validation
    "12801": "ServiceType must be Messaging-V2",
    "12802": "give the application a callback URL (callback_url=...)",
    "12803": "the callback URL is not a valid URL: use http(s)://host[:port]/path",
    "12806": "give the application a name (name=...)",
    "12812": "use an https:// callback URL when callback credentials are set",
    "13567": "Protocol must be HTTP",
    "13609": "ask Bandwidth support to enable account-level HTTP messaging settings",
    "5005": "the number was taken meanwhile: search again (search_numbers) and order another",
    "5009": "quantity must be between 1 and 5000",
    "5016": "the SiteId is invalid: check BW_SITE_ID (your sub-account id)",
    "5022": "SiteId is required: set BW_SITE_ID (your sub-account id)",
    "5023": "the location (PeerId) is invalid: create the location ({location}) under this site",
    "5018": "no numbers are available for these criteria: try another area code or allow a back order",
    "5017": "only part of the quantity is available: allow a partial order (partial_allowed=True)",
    "5020": "no default location on the site: create the location with default=True ({location})",
    "4010": "give at least one search criterion (area_code=, zip=, state=, ...)",
    "1001": "access denied: check that the API credential (or API user) covers this account (BW_ACCOUNT_ID) and "
            "has the needed roles (Numbers for the Dashboard, Messaging for sends)",
    "9011": "enable SMS on the location ({sms})",
    "9012": "finish the messaging setup: SMS ({sms}), MMS ({mms}), assign the application ({assigned})",
    "5145": "enable SMS on the location ({sms}) before assigning its numbers to a 10DLC campaign ({a2p})",
    # A2P (TN Option Orders)
    "5076": "the number is not in service on this account: order it ({orders}) or send from one of yours",
    "5126": "a toll-free number needs toll-free verification, not a 10DLC campaign ({a2p}: request_tfv())",
    "12128": "the campaign id is not one of the account's campaigns: list them (list_campaigns()) and use a "
             "REGISTERED one",
    "12192": "the campaign is not active (REGISTERED) yet: wait for its registration, or use a REGISTERED campaign",
    "12822": "a campaign id is 1-64 letters, digits, dashes, underscores or dots (e.g. CA3XKE1)",
    "13032": "enable SMS on the location ({sms})",
    # messaging (JSON types and callback error codes)
    "request-validation": "fix the fields named in the error (to, from, text, applicationId)",
    "unauthorized": "check the credentials: BW_CLIENT_ID / BW_CLIENT_SECRET (API credentials), or username:password "
                    "(a legacy API user, refused by the real service after 2026-12-02), or token:secret for the "
                    "guide's legacy API",
    "authentication-error": "check the credentials: BW_CLIENT_ID / BW_CLIENT_SECRET (API credentials), or "
                            "username:password (a legacy API user), or token:secret for the guide's legacy API",
    "forbidden": "the user lacks the messaging role, or the account id in the URL is not yours",
    "max-message-queue-size-exceeded": "slow down: send fewer messages per second (bulk_send(rate=...))",
})

STATUS_FIXES: dict[int, str] = {
    401: "check the credentials: BW_CLIENT_ID / BW_CLIENT_SECRET (API credentials), or BW_USERNAME / BW_PASSWORD "
         "(a legacy API user: the real service refuses those after 2026-12-02), or BW_API_TOKEN / BW_API_SECRET "
         "for the guide's legacy API",
    403: "the credentials are valid but not allowed here: check the account id (BW_ACCOUNT_ID) and the roles of the "
         "API credential (Numbers for the Dashboard, Messaging for sends; Account > API Credentials)",
    404: "check the id in the URL: the object does not exist (or was deleted)",
    429: "too many requests: wait and retry (Retry-After), or lower the sending rate",
    500: "the service failed: retry later",
    502: "the service is unreachable upstream: retry later",
    503: "the service is unavailable: retry later",
    504: "the service timed out: retry later",
}

CONFLICT_CODES = frozenset({"13645", "13613", "13622", "13624", "13673", "12107", "13623", "12784", "13629",
                            "13648", "13679", "5019", "13524"})
NOT_FOUND_CODES = frozenset({"13563", "23019", "1016"})

# the message-failed codes the messaging API also answers synchronously: one fix text, the table's
FIXES.update({str(code): MESSAGE_ERROR_CODES[code][2] for code in (4452, 4435, 4405, 4476, 4795)})


def fix_for(code: str | None, status: int | None) -> str | None:
    """The fix for a Bandwidth code, else for the HTTP status, else None."""
    if code and code in FIXES:
        return FIXES[code]
    if status in STATUS_FIXES:
        return STATUS_FIXES[status]
    if status is not None and status >= 500:
        return STATUS_FIXES[500]
    return None


def explain(code: Any) -> dict[str, str]:
    """``{"code", "name", "meaning", "fix"}`` for a message-failed errorCode (unknown codes say so)."""
    try:
        key = int(code)
    except (TypeError, ValueError):
        return {"code": str(code), "name": "", "meaning": "", "fix": ""}
    name, meaning, fix = MESSAGE_ERROR_CODES.get(key, ("", "Not in bwhelpers' table of known codes.",
                                                      "See Bandwidth's messaging error codes page."))
    return {"code": str(key), "name": name, "meaning": meaning, "fix": fix}


def explain_status(status: Any, error_code: Any = None) -> dict[str, Any]:
    """``{"status", "final", "meaning", "fix", "code", "name"}`` for a listMessages ``messageStatus`` (with the
    errorCode's name, meaning and fix when it failed)."""
    key = str(status or "").upper()
    final, meaning, fix = MESSAGE_STATUSES.get(key, (False, f"{key or 'no status'}: not a status bwhelpers "
                                                            "knows.", "Check Bandwidth's messageStatusEnum."))
    out: dict[str, Any] = {"status": key, "final": final, "meaning": meaning, "fix": fix, "code": "", "name": ""}
    try:
        code = int(error_code) if error_code not in (None, "") else 0
    except (TypeError, ValueError):
        code = 0
    if code:
        info = explain(code)
        out.update(code=info["code"], name=info["name"], meaning=f"{meaning} {info['code']} {info['name']}: "
                   f"{info['meaning']}".strip(), fix=info["fix"] or fix)
    return out


#: how BW_CALLBACK_BASE_URL reaches the notebooks: a kernel takes its environment from the JupyterLab that starts it,
#: so an export in a terminal or a kernel restart alone never reaches it (review 24e)
SET_CALLBACK_BASE = ("stop JupyterLab (File > Shut Down) and start it again with the variable set: "
                     "`BW_CALLBACK_BASE_URL=https://<your tunnel> python -m bwhelpers lab` (a kernel takes its "
                     "environment from the JupyterLab that starts it: restarting the kernel alone keeps the old value)")


def new_callback_urls(url: str = "the new callback URL", receiver: bool = False) -> str:
    """How a notebook user gives the application other callback URLs: a second application with the new URL (its
    notebook asks before creating one: ``would_create_another``), then the assignment again. With ``receiver`` (a
    real account's callback receiver) the URL comes from BW_CALLBACK_BASE_URL: the form proposes it."""
    app, assign = page("application"), page("assigned")
    then = (f"press Create a second application, then run {assign.filename} again so the numbers use it")
    if receiver:
        return (f"give the receiver a public https URL (a tunnel: README, Using a real Bandwidth account), "
                f"{SET_CALLBACK_BASE}, then run {app.filename}: its form proposes the new URLs with the receiver's "
                f"credentials; {then}")
    return f"type {url} in the form of {app.filename} and run it; {then}"


def run_again(key: str, what: str) -> str:
    """The fix for a saved object the server no longer has: its notebook, run again, creates a new one."""
    return f"run {page(key).filename} again: it creates a new {what} when the saved one is gone"
