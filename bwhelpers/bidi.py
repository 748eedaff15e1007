"""Bidi controls (embeddings, overrides, isolates, marks) made visible: shown as text they reorder what follows
(U+202E turns "evil" into "live"), so every page that shows someone's text (the notebooks' views, the sandbox's
phone page) names them instead, ``⟨U+202E⟩``. A leaf: the client and the sandbox both use it."""
from __future__ import annotations

import re

__all__ = ["CONTROLS", "visible"]

CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with each bidi control replaced by its name (``⟨U+202E⟩``); everything else unchanged."""
    return CONTROLS.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)
