"""Number search criteria: THE one validator the client (``DashboardClient.search_numbers`` / ``order_numbers``)
and the order form both use, so they accept the same values (numbers.yml ``GetAvailableTns`` and the
``*SearchAndOrderType`` elements).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from .exceptions import ValidationError

__all__ = ["RULES", "criterion_problem", "check_criteria", "QUANTITY_MAX"]

#: criterion -> (regex of a valid value, what to type); NANP area codes and exchanges never start with 0 or 1
RULES: dict[str, tuple[str, str]] = {
    "area_code": (r"[2-9]\d{2}", "three digits, not starting with 0 or 1, e.g. 910"),
    "npa_nxx": (r"[2-9]\d{2}[2-9]\d{2}", "six digits (area code and exchange), e.g. 919555"),
    "npa_nxx_x": (r"[2-9]\d{2}[2-9]\d{3}", "seven digits (area code, exchange and one more), e.g. 9195551"),
    "zip": (r"\d{5}", "five digits, e.g. 27606"),
    "lata": (r"\d{1,5}", "the LATA's digits, e.g. 426"),
    "state": (r"[A-Za-z]{2}", "a two-letter state code, e.g. NC"),
    "toll_free_vanity": (r"[A-Za-z0-9]{4,7}", "4 to 7 letters or digits, e.g. NEWCARS"),
    "toll_free_wildcard": (r"8[0-9*]{2}", "8 and two digits or *, e.g. 8** or 833"),
}
#: the most numbers one search or order asks for
QUANTITY_MAX = 5000


def criterion_problem(criterion: str, value: Any) -> str | None:
    """Why ``value`` is not a valid value of the search ``criterion`` (None when it is)."""
    text = str(value if value is not None else "").strip()
    if not text:
        return "required: type the value to search for"
    rule = RULES.get(criterion)
    if rule and not re.fullmatch(rule[0], text):
        return f"{text!r} is not valid here: type {rule[1]}"
    return None


def check_criteria(values: Mapping[str, Any]) -> None:
    """ValidationError naming the first bad criterion (the combinations numbers.yml requires included)."""
    for key in RULES:
        if key in values:
            problem = criterion_problem(key, values[key])
            if problem:
                raise ValidationError(f"{key}: {problem}", field=key)
    for needs_state in ("city", "rate_center"):
        if needs_state in values and "state" not in values:
            raise ValidationError(f"{needs_state}: needs state= too (e.g. {needs_state}=..., state='NC')", field="state")
    if "quantity" in values:
        q = values["quantity"]
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= QUANTITY_MAX:
            raise ValidationError(f"quantity: {q!r} must be a whole number from 1 to {QUANTITY_MAX}", field="quantity")
    if "ends_in" in values and "local_vanity" not in values:
        raise ValidationError("ends_in: only works with local_vanity=", field="ends_in")
