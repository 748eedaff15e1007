"""The one home of the walkthrough's colours: JupyterLab's theme variables (``--jp-*``), so every view reads well in
the light and the dark theme (and in any other JupyterLab theme), with a fallback for pages without them.

Text is never a raw accent colour on a pastel background (the dark theme's trap): text is
:data:`TEXT` (the theme's content colour), or :func:`accent` (the kind's colour mixed with the content colour:
dark green on white, light green on black), on :func:`tint` (the kind's colour faded into the page background).
The browser test measures the contrast of what these produce (at least 4.5:1) in both themes.
"""
from __future__ import annotations

__all__ = ["TEXT", "MUTED", "PAGE", "SURFACE", "BORDER", "BORDER_STRONG", "FOCUS", "ON_FOCUS", "ICONS", "accent", "tint",
           "line", "KIND_NAMES"]

#: the theme's own text colour (content, not UI)
TEXT = "var(--jp-content-font-color1, rgba(0, 0, 0, 0.87))"
#: secondary text that still reads at 4.5:1 on the page and on a tint (content-color2 is too faint on a tint)
MUTED = ("color-mix(in srgb, var(--jp-content-font-color1, rgba(0, 0, 0, 0.87)) 78%, "
         "var(--jp-layout-color0, white))")
#: the page background, and a raised surface (table headers, keys, the order bar's track)
PAGE = "var(--jp-layout-color0, white)"
SURFACE = "var(--jp-layout-color2, #eeeeee)"
#: hairlines (table cells, chips) and stronger lines
BORDER = "var(--jp-border-color2, #e0e0e0)"
BORDER_STRONG = "var(--jp-border-color1, #bdbdbd)"
#: the current step's chip; a chosen toggle button is filled in it, its text in the page colour (white on the light
#: theme's blue, 4.6:1; near-black on the dark theme's lighter blue, 7:1)
FOCUS = "var(--jp-brand-color1, #1976d2)"
ON_FOCUS = "var(--jp-layout-color0, #ffffff)"

#: a kind of message -> JupyterLab's colour family
KIND_NAMES = {"error": "error", "failed": "error", "warn": "warn", "partial": "warn", "ok": "success",
              "done": "success", "info": "brand", "pending": "", "muted": ""}
_FALLBACK = {"error": "#d32f2f", "warn": "#f57c00", "success": "#388e3c", "brand": "#1976d2"}

#: a kind -> its icon; every icon is a plain character with a text fallback in the same font stack
ICONS = {"error": "✗", "failed": "✗", "warn": "⚠", "partial": "◐", "ok": "✓", "done": "✓", "info": "ℹ",
         "pending": "○", "wait": "◷"}


def line(kind: str) -> str:
    """The kind's colour as it is (borders, bars, icons: not text)."""
    family = KIND_NAMES.get(kind, "brand")
    if not family:
        return BORDER_STRONG
    return f"var(--jp-{family}-color1, {_FALLBACK[family]})"


def accent(kind: str) -> str:
    """Text in the kind's colour that keeps 4.5:1 on :data:`PAGE` and on :func:`tint`: the colour mixed with the
    theme's strongest text colour (darker in a light theme, lighter in a dark one)."""
    if not KIND_NAMES.get(kind, "brand"):
        return MUTED
    return f"color-mix(in srgb, {line(kind)} 55%, var(--jp-content-font-color0, black))"


def tint(kind: str) -> str:
    """A background in the kind's colour, faded into the page (pale in light, deep in dark)."""
    if not KIND_NAMES.get(kind, "brand"):
        return SURFACE
    return f"color-mix(in srgb, {line(kind)} 12%, {PAGE})"
