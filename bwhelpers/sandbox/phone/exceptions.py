"""Errors of the phone page (control-plane shape ``{"error": ...}``; the page renders them as HTML for browsers)."""
from __future__ import annotations

from ..exceptions import ControlError


class PhoneError(ControlError):
    """Base class of the phone page's errors."""


class LinkInvalid(PhoneError):
    """The signed link is malformed or signed for another account or by another sandbox (401)."""

    def __init__(self, description: str = "this phone link is not valid for this account on this sandbox: open "
                                          "the link a notebook printed (page.phone_link()), or sign in with the "
                                          "account's credentials"):
        super().__init__(description, status=401)


class AccountDisabledHere(PhoneError):
    """The account was disabled by the workshop's host: its phone links stop working too (401)."""

    def __init__(self) -> None:
        from ..disabled import REASON

        super().__init__(REASON, status=401)


class LinkExpired(PhoneError):
    """The signed link's time is up (401)."""

    def __init__(self, expired: str):
        super().__init__(f"this phone link expired at {expired}: print a fresh one in the notebook "
                         "(page.phone_link()) and open it", status=401)


class FormRefused(PhoneError):
    """A form post without this page's token (CSRF guard, 403)."""

    def __init__(self) -> None:
        super().__init__("this form's token (_csrf) is missing or wrong: reload the phone page and send again "
                         "(scripts: send JSON to POST /_sandbox/inbound instead)", status=403)


class NotYourNumber(PhoneError):
    """The number asked for is not one of this account's (404: another tenant's numbers are never shown)."""

    def __init__(self, number: str):
        super().__init__(f"{number} is not a number of this account (order one first, or pick one of the account's "
                         "numbers at the top of the page)", status=404)


class UnsupportedContentType(PhoneError):
    """A state-changing request that is neither the page's form nor JSON (CSRF guard, 415)."""

    def __init__(self, method: str, ctype: str):
        super().__init__(f"{method} needs the phone page's form (with its _csrf token) or Content-Type "
                         f"application/json (got {ctype or 'none'!r}) (CSRF guard)", status=415)


class AccountRequired(PhoneError):
    """The admin key asked for a link without naming the account (400)."""

    def __init__(self) -> None:
        super().__init__("with the admin key, name the account: ?accountId=")


class BadTtl(PhoneError):
    """A link lifetime out of range (400)."""

    def __init__(self, low: int, high: int, default: int):
        super().__init__(f"ttl must be a whole number of seconds from {low} to {high} (default {default})")


class CannotSign(PhoneError):
    """The sandbox cannot sign links (no admin key: 503)."""

    def __init__(self, description: str):
        super().__init__(description, status=503)


class SignInRequired(PhoneError):
    """No valid credentials and no link (401, with the Basic challenge the browser answers with a prompt)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(f"sign in{f' ({reason})' if reason else ''}: open the link a notebook printed "
                         "(page.phone_link()), or give the account's API credentials (client id and secret) or its "
                         "API user (username and password) when the browser asks", status=401)
        self.headers = {"WWW-Authenticate": 'Basic realm="bwhelpers sandbox phone", charset="UTF-8"'}


class PictureTooLarge(PhoneError):
    """A reply whose picture is over the Media API's 3.5 MB (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the picture is too large: a picture may have at most {limit} bytes (3.5 MB), as on "
                         "Bandwidth; pick a smaller one", status=413)


class NoSuchMedia(PhoneError):
    """A media id the account does not store, or not a safe one (404: another account's media is never served)."""

    def __init__(self, why: str = "no such media on this account") -> None:
        super().__init__(why, status=404)
