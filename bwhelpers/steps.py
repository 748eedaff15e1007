"""The walkthrough's pages and steps: the ONE table every other module reads.

Each notebook is one :class:`Step` (a row of :data:`PAGES`); the guide's steps are those with ``guide=True``. A page's
number is its position in :data:`PAGES` and its notebook file is ``f"{number:02d}_{slug}.ipynb"``, so
adding a step is one line here, its flow module (which declares itself: :mod:`bwhelpers.flows.registry`), its
notebook and its tests (docs/ARCHITECTURE.md, "Adding a walkthrough step").
Setup, the progress strip, the walkthrough pages, the Postman export, the summaries, the fix texts and
the docs all read this table.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = ["Step", "PAGES", "STEPS", "page", "step", "by_number", "ref", "label"]


@dataclass(frozen=True)
class Step:
    """One notebook of the walkthrough: a guide step (``guide=True``) or an extra page (start, events, ...)."""

    key: str                        #: stable name: the state key / Setup method family ("application", "sms", ...)
    title: str                      #: short title (progress strip, status table, Postman folder)
    heading: str                    #: the notebook's heading
    slug: str                       #: notebook file name after the number
    saves: str = ""                 #: what the step saves, for the "saved" line ("" = nothing shown)
    needs: tuple[str, ...] = ()     #: keys of the steps that must be done first
    guide: bool = True              #: one of the guide's steps (progress strip, status, Postman)
    another: str = ""               #: how its notebook creates a second object instead of reusing the saved one
    number: int = field(default=-1, compare=False)   #: position in PAGES (filled in below)

    @property
    def notebook(self) -> str:
        """The notebook's file stem, e.g. ``03_enable_sms``."""
        return f"{self.number:02d}_{self.slug}"

    @property
    def filename(self) -> str:
        """``03_enable_sms.ipynb``."""
        return f"{self.notebook}.ipynb"

    @property
    def ref(self) -> str:
        """``step 3 (notebooks/03_enable_sms.ipynb)``: how texts and fixes point at this step."""
        return f"step {self.number} (notebooks/{self.filename})"


_TABLE: tuple[Step, ...] = (
    Step("start", "Start here", "Start here", "start_here", guide=False),
    Step("application", "Create application", "Create the application", "create_application",
         saves="ApplicationId", another="give it another AppName in the form above and run this cell again"),
    Step("location", "Create location", "Create the location (sippeer)", "create_location",
         saves="location (sippeer) id", another="give it another name in the form above and run this cell again"),
    Step("sms", "Enable SMS", "Enable SMS on the location", "enable_sms", needs=("location",)),
    Step("mms", "Enable MMS", "Enable MMS on the location", "enable_mms", needs=("sms",)),
    Step("assigned", "Assign application", "Assign the application to the location", "assign_application",
         needs=("application", "sms")),
    Step("orders", "Order numbers", "Order phone numbers", "order_numbers", saves="order id", needs=("location",),
         another="change the search in the form above and run this cell again"),
    Step("numbers", "Check order status", "Check the order status", "check_order_status", saves="phone numbers",
         needs=("orders",)),
    Step("a2p", "Register for A2P", "Register the number for A2P messaging: 10DLC campaign or toll-free verification",
         "register_a2p", saves="TN Option Order id", needs=("numbers",)),
    Step("messages", "Send a message", "Send a text message", "send_message", saves="message id",
         needs=("application", "assigned", "numbers")),
    Step("pictures", "Send a picture", "Send a picture message (MMS)", "send_picture", saves="media id",
         needs=("messages",), guide=False),
    Step("events", "Message events", "Message events (callbacks)", "message_events", needs=("messages",),
         guide=False),
    Step("postman", "Export to Postman", "Export to Postman", "export_postman", guide=False),
    Step("teardown", "Diagnose and tear down", "Diagnose and tear down", "diagnose_and_teardown", guide=False),
)

#: every notebook, in order (``PAGES[n].number == n``)
PAGES: tuple[Step, ...] = tuple(replace(p, number=i) for i, p in enumerate(_TABLE))
#: the guide's steps, in order
STEPS: tuple[Step, ...] = tuple(p for p in PAGES if p.guide)

_BY_KEY = {p.key: p for p in PAGES}
if len(_BY_KEY) != len(PAGES):  # pragma: no cover - a typo in the table above
    raise RuntimeError("bwhelpers.steps: duplicate page key")
for _p in PAGES:
    for _need in _p.needs:
        if _need not in _BY_KEY or _BY_KEY[_need].number >= _p.number:  # pragma: no cover
            raise RuntimeError(f"bwhelpers.steps: {_p.key} needs {_need!r}, which is not an earlier page")


def page(key: str) -> Step:
    """The page with this key (KeyError names the valid keys)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no page {key!r}; pages: {sorted(_BY_KEY)}") from None


def step(key: str) -> Step:
    """The guide step with this key."""
    p = page(key)
    if not p.guide:
        raise KeyError(f"{key!r} is a page, not a guide step")
    return p


def by_number(number: int) -> Step:
    """The page with this number (``by_number(3).key == "sms"``)."""
    if not 0 <= number < len(PAGES):
        raise KeyError(f"no page {number}; pages are 0..{len(PAGES) - 1}")
    return PAGES[number]


def ref(key: str) -> str:
    """``step 3 (notebooks/03_enable_sms.ipynb)`` for ``"sms"``."""
    return page(key).ref


def label(key: str) -> str:
    """``Step 3`` for ``"sms"``: how a step's results and forms are titled (the one place "Step N" is written)."""
    return f"Step {page(key).number}"
