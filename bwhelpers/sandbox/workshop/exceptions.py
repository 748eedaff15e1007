"""
Errors of workshop mode, one class per error. Their body is the control plane's ``{"error": <text>}``
(:class:`bwhelpers.sandbox.exceptions.ControlError`); every text is the sandbox's own and names the fix.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..exceptions import ControlError
from ..keys import ADMIN_HEADER


class CrossOrigin(ControlError):
    """403: a state-changing request whose ``Origin`` names another site."""

    status = 403
    description = ("Cross-origin requests are refused (CSRF guard): the Origin header names a site this service "
                   "does not serve")


class MissingServiceScope(ControlError):
    """403: a hub user without the scope to use this service."""

    status = 403

    def __init__(self, user: object, scopes: Iterable[str]):
        super().__init__(f"hub user {user!r} may not use this service: it needs the scope {sorted(scopes)} "
                         "(see docs/workshop.md, load_roles)")


class HubForbidden(ControlError):
    """403: the hub's own refusal (HubAuthenticated's bare 403), with its message."""

    status = 403

    def __init__(self, message: str | None):
        super().__init__(message or "forbidden")


class StaleXsrf(ControlError):
    """403: a cookie-authenticated form POST without a valid ``_xsrf``."""

    status = 403
    description = ("this form's _xsrf field is missing or stale: reload the board and press the button again "
                   "(scripts: send 'Authorization: token <hub API token>')")


class HubTokenInvalid(ControlError):
    """401: a hub token the hub does not know (forged, expired, revoked)."""

    status = 401
    description = ("the hub token is not valid (unknown, expired or revoked); log in to the hub again or create a "
                   "new token at /hub/token")


class LoginOver(ControlError):
    """400: the hub's OAuth redirect back for a login that is over (used once already, or forgotten)."""

    status = 400
    description = ("this login is over (its link back from the hub was used already, or is more than 10 minutes "
                   "old): open the page again to log in")


class LoginRefused(ControlError):
    """400: the hub refused the code of the hub's OAuth redirect back (made up, or already used)."""

    status = 400
    description = ("the hub did not accept this login's code (made up, or used already): open the page again to "
                   "log in")


class LoginThrottled(ControlError):
    """429: the hub refused this login's code, and this address's failures are used up (made-up codes)."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"the hub did not accept this login's code, and too many logins failed from your address: "
                         f"open the page again in {retry_after} s to log in", headers={"Retry-After": str(retry_after)})


class NotLoggedIn(ControlError):
    """401: no hub identity at all."""

    status = 401
    description = ("not logged in to the hub: open this page from the hub in a browser, or send "
                   "'Authorization: token <hub API token>'")


class NotHubAdmin(ControlError):
    """403: the board and resets are for hub admins."""

    status = 403

    def __init__(self, user: str):
        super().__init__(f"hub user {user!r} is not a hub admin; the workshop board and resets are for hub admins "
                         "only")


class OwnDataOnly(ControlError):
    """403: a participant asking for someone else's data (non-admins never learn who exists)."""

    status = 403

    def __init__(self, user: str, asked: str | None = None):
        other = f", not {asked!r}'s" if asked is not None else ""
        super().__init__(f"hub user {user!r} may only read their own data (/participants/{user}){other}")


class UnknownParticipant(ControlError):
    """404 (admins only): no such participant."""

    status = 404

    def __init__(self, name: str):
        super().__init__(f"participant {name!r} is not known to this workshop: a participant gets an account when "
                         "their server first starts from the hub")


class ProvisioningNeedsAdminKey(ControlError):
    """401: provisioning a participant without the sandbox's admin key."""

    status = 401
    description = (f"provisioning a participant needs the sandbox's admin key (header {ADMIN_HEADER}, from the key "
                   "file next to the sandbox db); the hub's spawner hook sends it")


class WorkshopRefused(ControlError):
    """A provisioning or reset the workshop's model refused (its text and status)."""

    def __init__(self, description: str, status: int):
        super().__init__(description, status=status)


class NoAccountYet(ControlError):
    """403: a hub user whose server has not started yet (so no sandbox account)."""

    status = 403

    def __init__(self, user: str):
        super().__init__(f"hub user {user!r} has no sandbox account yet: start your server from the hub (the "
                         "account is created when it starts)")


class Removed(ControlError):
    """403: a hub user the host removed from the room (their sandbox account is disabled)."""

    status = 403

    def __init__(self, user: str):
        super().__init__(f"hub user {user!r} was removed from this workshop by the host: their sandbox account is "
                         "disabled; ask the host if this is a mistake")


class ClosedToNewNames(ControlError):
    """403: a new participant's account while the host has closed the room to new names."""

    status = 403

    def __init__(self, user: str):
        super().__init__(f"the host closed this workshop to new names: no sandbox account is made for {user!r}; "
                         "the host can open the room again on the board (or POST /room/open)")


class BadNameList(ControlError):
    """400: a removal of several participants without a list of names (or too long a list)."""

    status = 400

    def __init__(self, most: int):
        super().__init__(f"names: give the participants to remove as form fields name=... or JSON "
                         f"{{\"names\": [...]}}, at most {most} at once")


class BadJoinLinkField(ControlError):
    """400: a join link's hours or names out of bounds."""

    status = 400

    def __init__(self, field: str, least: float, most: float):
        super().__init__(f"{field}: a number from {least:g} to {most:g} (how long the join link works, in hours, "
                         "and how many new names it may make)")
