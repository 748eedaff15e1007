"""
bwhelpers.sandbox.numbers
~~~~~~~~~~~~~~~~~~~~~~~~~

The sandbox's telephone-number inventory: deterministic, valid NANP numbers.

* Every geographic area code (NPA) has ``NPA_FEATURED_NXX`` exchanges with inventory, each holding
  ``NXX_INVENTORY`` line numbers, so an area-code search finds ``NPA_INVENTORY`` numbers. A search
  by NPA-NXX finds that exchange's ``NXX_INVENTORY`` numbers for any valid exchange.
* The inventory depends only on the ``number_seed`` setting: the same seed gives the same numbers.
* Numbers already taken by any account (the ``dash_tns`` table) are skipped by the callers, which
  allocate inside one ``BEGIN IMMEDIATE`` transaction (see ``dashboard.models``).
* Exchanges follow the NANP rules (NXX = [2-9][0-9][0-9], not N11, not 555/950/958/959/976) and every
  number is checked with ``phonenumbers`` when it is installed.
* Magic areas (``magic.py``) have no or partial inventory.

Pure functions; no database access here.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from . import magic

import phonenumbers  # a declared dependency: every generated number is validated with it

DEFAULT_SEED = "bwhelpers-sandbox"
NPA_FEATURED_NXX = 10
NXX_INVENTORY = 50
NPA_INVENTORY = NPA_FEATURED_NXX * NXX_INVENTORY
#: with a per-account inventory (the ``number_inventory`` setting, workshop mode's default) each exchange's 10,000
#: lines are cut into this many blocks of ``NXX_INVENTORY``: account slot k draws only from block k, so accounts
#: never take each other's numbers and an area code holds ``NPA_INVENTORY`` numbers for every account. A slot is
#: given to an account when it first searches or orders (one no other account holds, stored:
#: ``dashboard.models.inventory_slot``), so this is also the most accounts with a block of their own, and a
#: workshop's ``max_participants`` bound (issue 23 N3)
INVENTORY_SLOTS = 10000 // NXX_INVENTORY
MAX_QUANTITY = 5000
TOLL_FREE_NPAS = ("800", "833", "844", "855", "866", "877", "888")
_RESERVED_NXX = {"555", "950", "958", "959", "976"}

#: zip, city, state, npa, rate center, LATA
PLACES: list[tuple[str, str, str, str, str, str]] = [
    ("27601", "Raleigh", "NC", "919", "RALEIGH", "426"),
    ("27701", "Durham", "NC", "919", "DURHAM", "426"),
    ("27513", "Cary", "NC", "919", "CARY", "426"),
    ("28401", "Wilmington", "NC", "910", "WILMINGTON", "422"),
    ("28301", "Fayetteville", "NC", "910", "FAYETTEVL", "422"),
    ("28202", "Charlotte", "NC", "704", "CHARLOTTE", "420"),
    ("10001", "New York", "NY", "212", "NWYRCYZN01", "132"),
    ("10451", "Bronx", "NY", "718", "NWYRCYZN03", "132"),
    ("90012", "Los Angeles", "CA", "213", "LSAN DA 01", "730"),
    ("90210", "Beverly Hills", "CA", "310", "BEVERLYHLS", "730"),
    ("91301", "Agoura Hills", "CA", "818", "AGOURA", "730"),
    ("91401", "Van Nuys", "CA", "818", "VAN NUYS", "730"),
    ("94103", "San Francisco", "CA", "415", "SNFC CNTRL", "722"),
    ("60601", "Chicago", "IL", "312", "CHICAGO", "358"),
    ("77002", "Houston", "TX", "713", "HOUSTON", "560"),
    ("75201", "Dallas", "TX", "214", "DALLAS", "552"),
    ("78701", "Austin", "TX", "512", "AUSTIN", "558"),
    ("30303", "Atlanta", "GA", "404", "ATLANTA", "438"),
    ("33130", "Miami", "FL", "305", "MIAMI", "460"),
    ("32801", "Orlando", "FL", "407", "ORLANDO", "458"),
    ("98101", "Seattle", "WA", "206", "SEATTLE", "674"),
    ("97201", "Portland", "OR", "503", "PORTLAND", "672"),
    ("80202", "Denver", "CO", "303", "DENVER", "656"),
    ("85004", "Phoenix", "AZ", "602", "PHOENIX", "666"),
    ("02108", "Boston", "MA", "617", "BOSTON", "128"),
    ("19102", "Philadelphia", "PA", "215", "PHLA", "228"),
    ("20001", "Washington", "DC", "202", "WASHINGTON", "236"),
    ("24153", "Salem", "VA", "540", "SALEM", "244"),
    ("48226", "Detroit", "MI", "313", "DETROIT", "340"),
    ("55401", "Minneapolis", "MN", "612", "MINNEAPOLS", "628"),
    ("63101", "St Louis", "MO", "314", "ST LOUIS", "520"),
    ("37201", "Nashville", "TN", "615", "NASHVILLE", "468"),
    ("89101", "Las Vegas", "NV", "702", "LAS VEGAS", "721"),
    ("84101", "Salt Lake City", "UT", "801", "SALT LAKE", "660"),
    ("46204", "Indianapolis", "IN", "317", "INDIANAPLS", "336"),
    ("43215", "Columbus", "OH", "614", "COLUMBUS", "324"),
    ("99501", "Anchorage", "AK", "907", "ANCHORAGE", "832"),
    ("82001", "Cheyenne", "WY", "307", "CHEYENNE", "652"),
]

STATE_NPAS: dict[str, tuple[str, ...]] = {
    "AL": ("205", "251", "256", "334"), "AK": ("907",), "AZ": ("480", "520", "602", "623", "928"),
    "AR": ("479", "501", "870"), "CA": ("213", "310", "415", "510", "619", "714", "818", "916"),
    "CO": ("303", "719", "720", "970"), "CT": ("203", "860"), "DE": ("302",), "DC": ("202",),
    "FL": ("305", "407", "561", "813", "904"), "GA": ("404", "470", "678", "706", "770", "912"),
    "HI": ("808",), "ID": ("208",), "IL": ("217", "312", "630", "773", "847"),
    "IN": ("219", "317", "765", "812"), "IA": ("319", "515", "563", "712"), "KS": ("316", "620", "785", "913"),
    "KY": ("270", "502", "606", "859"), "LA": ("225", "318", "337", "504", "985"), "ME": ("207",),
    "MD": ("240", "301", "410", "443"), "MA": ("413", "508", "617", "781", "978"),
    "MI": ("231", "248", "313", "517", "616", "734"), "MN": ("218", "320", "507", "612", "651"),
    "MS": ("228", "601", "662"), "MO": ("314", "417", "573", "636", "816"), "MT": ("406",),
    "NE": ("308", "402"), "NV": ("702", "775"), "NH": ("603",), "NJ": ("201", "609", "732", "856", "908", "973"),
    "NM": ("505", "575"), "NY": ("212", "315", "516", "518", "585", "607", "631", "716", "718", "845", "914"),
    "NC": ("252", "336", "704", "828", "910", "919", "980"), "ND": ("701",),
    "OH": ("216", "330", "419", "513", "614", "740", "937"), "OK": ("405", "580", "918"),
    "OR": ("503", "541", "971"), "PA": ("215", "267", "412", "484", "570", "610", "717", "724", "814"),
    "RI": ("401",), "SC": ("803", "843", "864"), "SD": ("605",),
    "TN": ("423", "615", "731", "865", "901", "931"),
    "TX": ("210", "214", "254", "281", "512", "713", "806", "817", "903", "915", "972"),
    "UT": ("435", "801"), "VT": ("802",), "VA": ("276", "434", "540", "703", "757", "804"),
    "WA": ("206", "253", "360", "425", "509"), "WV": ("304",), "WI": ("262", "414", "608", "715", "920"),
    "WY": ("307",),
}
NPA_STATE = {npa: st for st, npas in STATE_NPAS.items() for npa in npas}
STATE_NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "Washington D.C.": "DC", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
    "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA",
    "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM",
    "New York": "NY", "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
    "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD",
    "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}
_PLACES_BY_NPA: dict[str, list[tuple[str, str, str, str, str, str]]] = {}
for _p in PLACES:
    _PLACES_BY_NPA.setdefault(_p[3], []).append(_p)
_PLACES_BY_ZIP = {p[0]: p for p in PLACES}
#: area codes an unknown ZIP may map to (never a magic one)
_ZIP_FALLBACK_NPAS = sorted({p[3] for p in PLACES} - {magic.NO_INVENTORY_AREA, magic.PARTIAL_INVENTORY_AREA})

_KEYPAD = {c: d for d, letters in {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS",
                                   "8": "TUV", "9": "WXYZ"}.items() for c in letters}


class CriteriaError(ValueError):
    """Invalid search criteria: ``code`` is the Dashboard 4000-range search error code."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


@dataclass(frozen=True)
class Number:
    tn: str            # 10 digits
    city: str
    state: str
    rate_center: str
    lata: str
    tier: str = "0"
    vendor_id: str = "49"
    vendor_name: str = "Bandwidth CLEC"

    @property
    def npa(self) -> str:
        return self.tn[:3]

    def detail(self) -> dict[str, str]:
        """``TelephoneNumberDetail`` fields in wire order."""
        return {"City": self.city, "LATA": self.lata, "RateCenter": self.rate_center, "State": self.state,
                "FullNumber": self.tn, "Tier": self.tier, "VendorId": self.vendor_id, "VendorName": self.vendor_name}


# -- helpers ---------------------------------------------------------------------------------------

def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()[:8], "big")


def valid_nxx(nxx: str) -> bool:
    return (len(nxx) == 3 and nxx.isdigit() and nxx[0] in "23456789" and nxx[1:] != "11"
            and nxx not in _RESERVED_NXX)


def is_valid_tn(tn: str) -> bool:
    """A dialable 10-digit NANP number (NPA and NXX rules; ``phonenumbers`` when installed)."""
    if not (len(tn) == 10 and tn.isdigit()):
        return False
    if tn[0] not in "23456789" or tn[1:3] == "11" or not valid_nxx(tn[3:6]) and tn[:3] not in TOLL_FREE_NPAS:
        return False
    if tn[3] in "01":
        return False
    if phonenumbers is not None:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse("+1" + tn))
        except phonenumbers.NumberParseException:  # pragma: no cover
            return False
    return True


@functools.lru_cache(maxsize=2048)
def valid_npa(npa: str) -> bool:
    """Is ``npa`` an assigned geographic NANP area code (in service in the US)?"""
    if not (len(npa) == 3 and npa.isdigit()) or npa[0] in "01" or npa[1:] == "11" or npa in TOLL_FREE_NPAS:
        return False
    if npa in NPA_STATE:
        return True
    return any(is_valid_tn(npa + nxx + "4567") for nxx in ("234", "456", "678", "789", "321", "543"))


def normalize_tn(value: str | None) -> str | None:
    """``+19195551234`` / ``19195551234`` / ``919-555-1234`` -> ``9195551234``; None if not 10 NANP digits."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= MEMO_TEXT:
        return _normalized(value)
    return _normalize(str(value))


#: the longest text whose answer is remembered (a phone number with its punctuation; a request's long junk is not)
MEMO_TEXT = 40


@functools.lru_cache(maxsize=4096)  # a pure function of the text: every request names the same few numbers
def _normalized(value: str) -> str | None:
    return _normalize(value)


def _normalize(value: str) -> str | None:
    digits = re.sub(r"[\s().\-]", "", value)
    if digits.startswith("+1"):
        digits = digits[2:]
    elif digits.startswith("1") and len(digits) == 11:
        digits = digits[1:]
    return digits if len(digits) == 10 and digits.isdigit() else None


@functools.lru_cache(maxsize=4096)
def _npa_geo(npa: str) -> tuple[str, str, str]:
    """(city, state, lata) for numbers of an NPA without a known place."""
    from phonenumbers import geocoder  # its data costs 0.7 s of CPU: loaded at the first place asked for

    state, city = NPA_STATE.get(npa, ""), ""
    try:
        desc = geocoder.description_for_number(phonenumbers.parse(f"+1{npa}2345678"), "en")
    except Exception:  # pragma: no cover
        desc = ""
    if "," in desc:
        city, st = (s.strip() for s in desc.rsplit(",", 1))
        state = state or st
    elif desc in STATE_NAMES:
        state = state or STATE_NAMES[desc]
    if not city:
        city = {v: k for k, v in STATE_NAMES.items()}.get(state, "Area " + npa)
    return city, state, str(100 + _h("lata", npa) % 900)


def _rate_center_of(city: str) -> str:
    return re.sub(r"[^A-Z ]", "", city.upper())[:10].strip() or "UNKNOWN"


def _number(tn: str) -> Number:
    npa = tn[:3]
    places = _PLACES_BY_NPA.get(npa)
    if places:
        place = places[_h("place", tn[:6]) % len(places)]
        return Number(tn, place[1], place[2], place[4], place[5])
    if npa in TOLL_FREE_NPAS:
        return Number(tn, "", "", "", "", tier="3")
    city, state, lata = _npa_geo(npa)
    return Number(tn, city, state, _rate_center_of(city), lata)


def describe(tn: str) -> Number:
    """City/state/rate center/LATA of any 10-digit number."""
    return _number(tn)


# -- inventories -------------------------------------------------------------------------------------

def in_slot(tn: str, slot: int | None) -> bool:
    """Is ``tn`` one of account slot ``slot``'s own numbers? The one rule searches (:func:`_slot_lines`) and orders
    of named numbers (:func:`existing_available`) share: a geographic number is the slot's when its line is in the
    slot's block of its exchange; a toll-free number is every slot's (first order wins), though each slot's toll-free
    search draws its own numbers (:func:`_toll_free_draw`). ``slot`` None: no slicing."""
    if slot is None or tn[:3] in TOLL_FREE_NPAS:
        return True
    return int(tn[6:]) // NXX_INVENTORY == slot % INVENTORY_SLOTS


def _slot_lines(seed: str, npa: str, nxx: str, slot: int) -> list[str]:
    """The line numbers of one account slot's block of an exchange (the lines :func:`in_slot` calls the slot's),
    in a stable shuffled order."""
    base = (slot % INVENTORY_SLOTS) * NXX_INVENTORY
    return [f"{line:04d}" for line in sorted(range(base, base + NXX_INVENTORY),
                                             key=lambda line: _h(seed, npa, nxx, "slot", line))]


@functools.lru_cache(maxsize=4096)
def nxx_inventory(seed: str, npa: str, nxx: str, slot: int | None = None) -> tuple[str, ...]:
    """The numbers of exchange NPA-NXX (``NXX_INVENTORY`` of them, magic areas excepted); with ``slot``, that
    account slot's own block of the exchange."""
    if npa == magic.NO_INVENTORY_AREA or not valid_nxx(nxx):
        return ()
    if slot is not None:
        mine = tuple(npa + nxx + line for line in _slot_lines(seed, npa, nxx, slot) if is_valid_tn(npa + nxx + line))
        if npa == magic.PARTIAL_INVENTORY_AREA:
            allowed = set(npa_inventory(seed, npa, slot))
            return tuple(tn for tn in mine if tn in allowed)
        return mine
    out: list[str] = []
    seen: set[str] = set()
    for i in range(NXX_INVENTORY * 6):
        line = f"{_h(seed, npa, nxx, i) % 10000:04d}"
        tn = npa + nxx + line
        if tn in seen or not is_valid_tn(tn):
            continue
        seen.add(tn)
        out.append(tn)
        if len(out) >= NXX_INVENTORY:
            break
    if npa == magic.PARTIAL_INVENTORY_AREA:
        allowed = set(npa_inventory(seed, npa))
        return tuple(tn for tn in out if tn in allowed)
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def featured_nxx(seed: str, npa: str) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while len(out) < NPA_FEATURED_NXX and i < 1000:
        nxx = str(200 + _h(seed, "nxx", npa, i) % 800)
        i += 1
        if valid_nxx(nxx) and nxx not in out and is_valid_tn(npa + nxx + "4567"):
            out.append(nxx)
    return tuple(out)


@functools.lru_cache(maxsize=1024)
def npa_inventory(seed: str, npa: str, slot: int | None = None) -> tuple[str, ...]:
    """All numbers of an area code, in a stable order (with ``slot``: that account slot's)."""
    if npa == magic.NO_INVENTORY_AREA or not valid_npa(npa):
        return ()
    out: list[str] = []
    if npa == magic.PARTIAL_INVENTORY_AREA:
        for nxx in featured_nxx(seed, npa):
            lines = ([f"{_h(seed, npa, nxx, i) % 10000:04d}" for i in range(20)] if slot is None
                     else _slot_lines(seed, npa, nxx, slot))
            for line in lines:
                tn = f"{npa}{nxx}{line}"
                if is_valid_tn(tn):
                    out.append(tn)
                    break
            if len(out) >= magic.PARTIAL_INVENTORY_COUNT:
                return tuple(out)
        return tuple(out)
    for nxx in featured_nxx(seed, npa):
        out.extend(nxx_inventory(seed, npa, nxx, slot))
    return tuple(out)


def _inventory(seed: str, npa: str, slot: int | None) -> Iterable[str]:
    """:func:`npa_inventory`'s numbers in its order; an account slot's are checked as they are read, since an order
    reads the first few of them (checking a slot's 500 numbers with ``phonenumbers`` costs about 30 ms of CPU, and
    every account of a workshop has its own slot, so the cache would not help)."""
    if slot is None or npa in (magic.NO_INVENTORY_AREA, magic.PARTIAL_INVENTORY_AREA) or not valid_npa(npa):
        return npa_inventory(seed, npa, slot)
    return _slot_inventory(seed, npa, slot)


def _slot_inventory(seed: str, npa: str, slot: int) -> Iterator[str]:
    for nxx in featured_nxx(seed, npa):  # as nxx_inventory(seed, npa, nxx, slot), one number at a time
        for line in _slot_lines(seed, npa, nxx, slot):
            if is_valid_tn(npa + nxx + line):
                yield npa + nxx + line


def _interleave(lists: list[Iterable[str]]) -> Iterator[str]:
    """Round-robin over several inventories (a state search spans its area codes)."""
    its = [iter(x) for x in lists]
    while its:
        alive = []
        for it in its:
            try:
                yield next(it)
            except StopIteration:
                continue
            alive.append(it)
        its = alive


def vanity_digits(word: str) -> str:
    return "".join(_KEYPAD.get(c, c) for c in word.upper())


def _toll_free_draw(slot: int | None, salt: str = "") -> tuple[int | str, ...]:
    """What an account slot adds to the toll-free draws: toll-free numbers are every account's (first order wins,
    :func:`in_slot`), but each slot draws its own numbers from a pattern's space, so in a workshop one participant's
    orders (at most ``numbers_in_service``) do not empty the room's toll-free search (rev23h H11: one pool of about 50
    a toll-free area code, emptied by 18 participants). ``salt``: a secret of the db the tenants cannot read (the
    ``number_salt`` of its ``meta`` table), so no participant can compute another's draw from the public
    ``number_seed`` and order those numbers first (issue 23 N2). ``None`` (no slicing): the draws as they always
    were."""
    return () if slot is None else (slot % INVENTORY_SLOTS, salt) if salt else (slot % INVENTORY_SLOTS,)


@functools.lru_cache(maxsize=512)
def vanity_inventory(seed: str, word: str, slot: int | None = None, salt: str = "") -> tuple[str, ...]:
    if word.upper() == magic.NO_INVENTORY_VANITY:
        return ()
    digits = vanity_digits(word)
    draw = _toll_free_draw(slot, salt)
    out: list[str] = []
    for npa in TOLL_FREE_NPAS:
        per = 1 if len(digits) >= 7 else 10
        count = 0
        for i in range(per * 10):
            prefix_len = 7 - len(digits)
            prefix = f"{_h(seed, 'tfv', npa, word, i, *draw) % (10 ** prefix_len):0{prefix_len}d}" if prefix_len else ""
            tn = npa + prefix + digits
            if tn not in out and tn[3] in "23456789" and is_valid_tn(tn):
                out.append(tn)
                count += 1
            if count >= per:
                break
    return tuple(out)


@functools.lru_cache(maxsize=512)
def wildcard_inventory(seed: str, pattern: str, slot: int | None = None, salt: str = "") -> tuple[str, ...]:
    out: list[str] = []
    pat = pattern.ljust(10, "*")
    draw = _toll_free_draw(slot, salt)
    for npa in TOLL_FREE_NPAS:
        if not all(p in ("*", d) for p, d in zip(pat[:3], npa)):
            continue
        count = 0
        for i in range(400):
            tn = npa + "".join(ch if ch != "*" else str(_h(seed, "tfw", pattern, npa, i, k, *draw) % 10)
                               for k, ch in enumerate(pat[3:]))
            if tn not in out and tn[3] in "23456789" and is_valid_tn(tn):
                out.append(tn)
                count += 1
            if count >= 50:
                break
    return tuple(out)


# -- criteria --------------------------------------------------------------------------------------

def _state_code(value: str) -> str:
    st = (value or "").strip().upper()
    if st not in STATE_NPAS:
        raise CriteriaError(4004, f"The State '{value}' is not a valid two-letter US state abbreviation")
    return st


def candidates(criteria: dict[str, str], seed: str = DEFAULT_SEED, slot: int | None = None,
               salt: str = "") -> Iterator[Number]:
    """Numbers matching search criteria, in a stable order (taken numbers are NOT filtered here); ``slot``: an
    account's own inventory (see :data:`INVENTORY_SLOTS`); ``salt``: the db's secret of the toll-free draws
    (:func:`_toll_free_draw`).

    Keys (the query parameter names of GET availableNumbers): areaCode, npaNxx, npaNxxx, zip, city+state,
    rateCenter+state, state, tollFreeVanity, tollFreeWildCardPattern, lata. One of them draws the numbers; the
    other geographic ones given with it narrow them, as numbers.yml's GetAvailableTns table of "Combinational
    Parameters" says (areaCode=919&city=Cary&state=NC: Cary's numbers in 919, not any 919 number).
    """
    c = {k: (v.strip() if isinstance(v, str) else v) for k, v in criteria.items() if v not in (None, "")}
    if "tollFreeVanity" in c or "tollFreeWildCardPattern" in c:  # toll-free searches combine with orderBy only
        yield from _drawn(c, seed, slot, salt)
        return
    keep = _narrowing(c, seed)
    yield from (num for num in _drawn(c, seed, slot, salt) if keep(num))


def _narrowing(c: dict[str, str], seed: str) -> Callable[[Number], bool]:
    """The test every number of a geographic search passes: each geographic criterion given (checked here, so a
    bad value of a narrowing parameter is the same 40xx error as when it draws)."""
    tests: list[Callable[[Number], bool]] = []
    if "areaCode" in c:
        v = c["areaCode"]
        if not re.fullmatch(r"\d{3}", v) or not valid_npa(v):
            raise CriteriaError(4001, f"The AreaCode '{v}' is invalid: use a 3-digit US geographic area code")
        tests.append(lambda n: n.npa == v)
    prefixes = tuple(c[key] for key in ("npaNxx", "npaNxxx") if key in c)
    if prefixes:
        tests.append(lambda n: all(n.tn.startswith(p) for p in prefixes))
    if "zip" in c:
        z = c["zip"]
        if not re.fullmatch(r"\d{5}(-\d{4})?", z):
            raise CriteriaError(4002, f"The Zip '{z}' is invalid: use a 5-digit US ZIP code")
        place = _PLACES_BY_ZIP.get(z[:5])
        if place:
            tests.append(lambda n: n.npa == place[3] and n.city == place[1])
        else:
            fallback = _ZIP_FALLBACK_NPAS[_h(seed, "zip", z[:5]) % len(_ZIP_FALLBACK_NPAS)]
            tests.append(lambda n: n.npa == fallback)
    if ("city" in c or "rateCenter" in c) and "state" not in c:
        raise CriteriaError(4010, "One of more required search parameters are null or empty: "
                                  "city and rateCenter searches need state")
    if "city" in c:
        city = c["city"].upper()
        tests.append(lambda n: n.city.upper() == city)
    if "rateCenter" in c:
        rc = c["rateCenter"].upper()
        tests.append(lambda n: n.rate_center.upper() == rc)
    if "state" in c:
        st = _state_code(c["state"])
        tests.append(lambda n: n.state == st)
    if "lata" in c:
        lata = c["lata"]
        tests.append(lambda n: n.lata == lata)
    return lambda n: all(t(n) for t in tests)


def _drawn(c: dict[str, str], seed: str, slot: int | None, salt: str) -> Iterator[Number]:
    """The numbers the first criterion (in the order below) draws."""
    if "tollFreeVanity" in c:
        word = c["tollFreeVanity"]
        if not re.fullmatch(r"[A-Za-z0-9]{4,7}", word):
            raise CriteriaError(4012, f"The toll-free vanity '{word}' must be 4 to 7 letters or digits")
        yield from (_number(tn) for tn in vanity_inventory(seed, word.upper(), slot, salt))
        return
    if "tollFreeWildCardPattern" in c:
        pat = c["tollFreeWildCardPattern"].replace("-", "")
        if not re.fullmatch(r"8[0-9*]{2,9}", pat) or not any(
                all(p in ("*", d) for p, d in zip(pat[:3], npa)) for npa in TOLL_FREE_NPAS):
            raise CriteriaError(4013, f"The toll-free wildcard pattern '{c['tollFreeWildCardPattern']}' is invalid: "
                                      f"use a toll-free prefix such as 8**, 80* or 88*, digits and * only")
        yield from (_number(tn) for tn in wildcard_inventory(seed, pat, slot, salt))
        return
    if "npaNxx" in c:
        v = c["npaNxx"]
        if not re.fullmatch(r"\d{6}", v) or not valid_npa(v[:3]) or not valid_nxx(v[3:]):
            raise CriteriaError(4003, f"The NpaNxx '{v}' is invalid: use 6 digits, a valid area code and exchange")
        yield from (_number(tn) for tn in nxx_inventory(seed, v[:3], v[3:], slot))
        return
    if "npaNxxx" in c:  # the 7-digit prefix: the exchange's numbers whose line starts with X
        v = c["npaNxxx"]
        if not re.fullmatch(r"\d{7}", v) or not valid_npa(v[:3]) or not valid_nxx(v[3:6]):
            raise CriteriaError(4003, f"The NpaNxxx '{v}' is invalid: use 7 digits, a valid area code and exchange "
                                      "and the first digit of the line")
        yield from (_number(tn) for tn in nxx_inventory(seed, v[:3], v[3:6], slot) if tn[6] == v[6])
        return
    if "areaCode" in c:
        v = c["areaCode"]
        if not re.fullmatch(r"\d{3}", v) or not valid_npa(v):
            raise CriteriaError(4001, f"The AreaCode '{v}' is invalid: use a 3-digit US geographic area code")
        yield from (_number(tn) for tn in _inventory(seed, v, slot))
        return
    if "zip" in c:
        v = c["zip"]
        if not re.fullmatch(r"\d{5}(-\d{4})?", v):
            raise CriteriaError(4002, f"The Zip '{v}' is invalid: use a 5-digit US ZIP code")
        zip5 = v[:5]
        place = _PLACES_BY_ZIP.get(zip5)
        if place:
            yield from (n for n in map(_number, _inventory(seed, place[3], slot)) if n.city == place[1])
        else:
            npa = _ZIP_FALLBACK_NPAS[_h(seed, "zip", zip5) % len(_ZIP_FALLBACK_NPAS)]
            yield from map(_number, _inventory(seed, npa, slot))
        return
    if "city" in c or "rateCenter" in c:
        if "state" not in c:
            raise CriteriaError(4010, "One of more required search parameters are null or empty: "
                                      "city and rateCenter searches need state")
        st = _state_code(c["state"])
        key, want = ("city", c["city"].upper()) if "city" in c else ("rate_center", c["rateCenter"].upper())
        for tn in _interleave([_inventory(seed, n, slot) for n in STATE_NPAS[st]]):
            num = _number(tn)
            if getattr(num, key).upper() == want:
                yield num
        return
    if "lata" in c:
        v = c["lata"]
        if not re.fullmatch(r"\d{3,5}", v):
            raise CriteriaError(4005, f"The LATA '{v}' is invalid")
        npas = sorted({p[3] for p in PLACES if p[5] == v})
        for tn in _interleave([_inventory(seed, n, slot) for n in npas]):
            num = _number(tn)
            if num.lata == v:
                yield num
        return
    if "state" in c:
        st = _state_code(c["state"])
        yield from map(_number, _interleave([_inventory(seed, n, slot) for n in STATE_NPAS[st]]))
        return
    raise CriteriaError(4010, "One of more required search parameters are null or empty. Please provide one of "
                              "areaCode, npaNxx, npaNxxx, zip, city+state, rateCenter+state, state, lata, tollFreeVanity "
                              "or tollFreeWildCardPattern")


def select(criteria: dict[str, str], quantity: int, taken: set[str] | frozenset[str],
           seed: str = DEFAULT_SEED, slot: int | None = None, salt: str = "") -> list[Number]:
    """Up to ``quantity`` available numbers (not in ``taken``)."""
    out: list[Number] = []
    for num in candidates(criteria, seed, slot, salt):
        if num.tn in taken:
            continue
        out.append(num)
        if len(out) >= quantity:
            break
    return out


def existing_available(tn: str, seed: str = DEFAULT_SEED, slot: int | None = None) -> bool:
    """May this specific number be ordered (ignoring whether someone already has it)? With ``slot`` (a per-account
    inventory, workshop mode) only a number :func:`in_slot` calls that account's: its own block of a geographic
    exchange (another account's block is theirs, as its searches are: rev23h H2), or any toll-free number (toll-free
    searches are not sliced per account: review F3)."""
    if not is_valid_tn(tn):
        return False
    if not in_slot(tn, slot):
        return False
    npa = tn[:3]
    if npa == magic.NO_INVENTORY_AREA:
        return False
    if npa == magic.PARTIAL_INVENTORY_AREA:
        return tn in npa_inventory(seed, npa, slot)
    return True
