"""Phone numbers: the one place that parses them (``phonenumbers``), for the clients, tables and forms."""
from __future__ import annotations

import functools
import re
from typing import Any

import phonenumbers

from .exceptions import ValidationError

__all__ = ["problem", "how_many", "normalize_number", "national_number", "e164_cached", "loose_e164", "fictional",
           "real_destination_problem"]


#: why ``phonenumbers`` refused a text, in our words (its own messages read "(1) The string supplied did not seem…")
_WHY = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "starts with a country code that does not exist",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short after its international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short to be a phone number",
    phonenumbers.NumberParseException.TOO_LONG: "is too long to be a phone number",
}


def how_many(text: Any) -> int:
    """How many numbers ``text`` lists: 1 for one number (or none), more when it holds several separated by commas,
    semicolons, slashes, new lines, or spaces before a ``+``."""
    parts = [p for p in re.split(r"[,;/\n]+|\s+(?=\+)", str(text or "")) if re.search(r"\d{3}", p)]
    return max(1, len(parts))


def _parse(value: Any) -> tuple[str | None, str | None]:
    """``(e164, None)`` or ``(None, what is wrong)``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None, f"{value!r} is not a phone number; give e.g. '+19195551212' or '9195551212'"
    text = value.strip()
    if re.search(r"[A-Za-z]", text):
        return None, f"{text!r} contains letters; give digits such as '+19195551212'"
    several = how_many(text)
    if several > 1:
        return None, f"{text!r} holds {several} numbers; give one, such as '+19195551212'"
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException as exc:  # the library's own words ("(1) The string supplied…") stay out
        return None, f"{text!r} {_WHY.get(exc.error_type, 'is not a phone number')}; give E.164 such as '+19195551212'"
    if not phonenumbers.is_possible_number(parsed):
        return None, (f"{text!r} has the wrong number of digits for its country; US numbers have 10 digits, "
                      "e.g. '9195551212' or E.164 '+19195551212'")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith("+1") and e164[2] in "01":  # NANP area codes start with 2-9; the service answers 400
        return None, (f"{text!r} has area code {e164[2:5]}, but US/NANP area codes start with 2-9; "
                      "give e.g. '+19195551212'")
    return e164, None


def problem(value: Any) -> str | None:
    """What is wrong with ``value`` as a phone number, or None when it is one (for form validation)."""
    return _parse(value)[1]


def normalize_number(value: Any, field: str = "number") -> str:
    """E.164 of a phone number (``+1`` optional for US numbers); ValidationError naming ``field`` otherwise."""
    e164, why = _parse(value)
    if e164 is None:
        raise ValidationError(f"{field}: {why}", field=field)
    return e164


def national_number(value: Any, field: str = "number") -> str:
    """The Dashboard's 10-digit form of a US number (``+19195551212`` -> ``9195551212``)."""
    e164 = normalize_number(value, field)
    if not e164.startswith("+1"):
        raise ValidationError(f"{field}: {value!r} is not a US/NANP number; the Dashboard orders +1 numbers only",
                              field=field)
    return e164[2:]


@functools.lru_cache(maxsize=4096)
def _cached(value: str | int, field: str) -> str:
    return normalize_number(value, field)


def e164_cached(value: Any, field: str = "number") -> str:
    """:func:`normalize_number`, memoized for hashable inputs (parsing was ~1/5 of a local send; bulk sends
    repeat the same sender for every row). Errors are raised as before, never cached."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return _cached(value, field)
    return normalize_number(value, field)


def loose_e164(number: Any) -> str:
    """E.164 when ``number`` parses (``9102398766`` -> ``+19102398766``), else the text unchanged (for
    displaying and exporting numbers the service returned, which must never fail)."""
    e164, _ = _parse(number)
    return e164 if e164 is not None else ("" if number is None else str(number).strip())


def fictional(value: Any) -> bool:
    """True for a NANP number in 555-0100..555-0199 (``+1 919 555 0123``): reserved for fiction in every area code,
    it never reaches a phone (the sandbox's well-known and magic numbers are all in it)."""
    e164, _ = _parse(value)
    return bool(e164) and len(str(e164)) == 12 and str(e164).startswith("+1") and str(e164)[5:10] == "55501"


def real_destination_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as the destination of a real, billed text: not a phone number, or a fictional
    555-01xx one (billed, and received by nobody); None when it can be sent to."""
    if not str(value or "").strip():
        return "is empty: type your own mobile number, the phone that should receive the text " \
            "(for a headless run, set BW_TO_NUMBER)"
    why = problem(value)
    if why:
        return why
    if fictional(value):
        return (f"{str(value).strip()!r} is a fictional number (555-0100 to 555-0199 are reserved for examples): on "
                "your real account the text would be billed and reach nobody; type your own mobile number "
                "(for a headless run, set BW_TO_NUMBER)")
    return None
