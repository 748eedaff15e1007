"""
bwhelpers.sandbox.jsonio
~~~~~~~~~~~~~~~~~~~~~~~~

The one reader of JSON request bodies (every API and the control plane), as :mod:`~bwhelpers.sandbox.xmlio` is of
XML ones: a body that is not UTF-8, not JSON, nested deeper than the parser's stack (``[[[[...``, which would raise
RecursionError and answer 500) or holding a lone surrogate (``"\\ud800"``, which no store or encoder accepts) is a
:class:`JsonBodyError` with a message safe to show; each API renders it in its own error shape.
"""
from __future__ import annotations

import json
from typing import Any


#: a text shorter than this cannot nest as deep as the encoder's recursion limit (each level takes a character)
_SHALLOW = 500


class JsonBodyError(ValueError):
    """A request body that is not usable JSON (the message says why)."""


def parse(body: bytes) -> Any:
    """``body`` parsed, or :class:`JsonBodyError`."""
    try:
        text = body.decode("utf-8")
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonBodyError(str(exc)[:200]) from None
    except RecursionError:  # [[[[... nested deeper than the parser's stack
        raise JsonBodyError("the JSON document is nested too deeply") from None
    if len(text) < _SHALLOW and "\\u" not in text:
        return doc  # UTF-8 holds no surrogate, so only a \u escape makes one; and so short a text nests shallowly
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JsonBodyError("it contains an invalid Unicode escape (a lone surrogate such as \\ud800)") from None
    except RecursionError:
        raise JsonBodyError("the JSON document is nested too deeply") from None
    return doc
