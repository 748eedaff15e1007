"""
bwhelpers.sandbox.exceptions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Errors the emulated APIs answer with. Each knows its HTTP status and renders the service's own
error body; handlers raise them and :class:`bwhelpers.sandbox.base.BaseHandler` writes them.
"""
from __future__ import annotations

from typing import Any

from . import xmlio


def safe(value: Any, limit: int = 80) -> str:
    """A client-supplied value made safe to echo in an error text (no control characters, bounded)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return text if len(text) <= limit else text[:limit] + "..."


class SandboxError(Exception):
    """Base class: an error response of the emulated service."""

    status: int = 400
    headers: dict[str, str] = {}

    def render(self) -> tuple[str, str]:
        """(content type, body)."""
        raise NotImplementedError


class DashboardError(SandboxError):
    """``<{Root}><ResponseStatus><ErrorCode/><Description/></ResponseStatus></{Root}>``.

    Subclasses (moto style, one per documented error: ``dashboard/exceptions.py``) fix ``code``,
    ``status``, ``root`` and the ``description`` text as class attributes; the generic constructor
    ``DashboardError(code, description, status=, root=)`` remains for one-off protocol errors.
    """

    code: int | str = 400
    status = 400
    root = "ErrorResponse"
    description = ""

    def __init__(self, code: int | str | None = None, description: str | None = None, status: int | None = None,
                 root: str | None = None, extra: dict[str, Any] | None = None):
        self.code = str(type(self).code if code is None else code)
        self.description = type(self).description if description is None else description
        if status is not None:
            self.status = status
        if root is not None:
            self.root = root
        self.extra = extra or {}
        super().__init__(f"{self.code}: {self.description}")

    def render(self) -> tuple[str, str]:
        body: dict[str, Any] = dict(self.extra)
        body["ResponseStatus"] = {"ErrorCode": self.code, "Description": self.description}
        return xmlio.CONTENT_TYPE, xmlio.render(self.root, body)


class DashboardErrorList(SandboxError):
    """``<{Root}><ErrorList><Error><Code/><Description/></Error>…</ErrorList>{echo}</{Root}>``."""

    status = 400
    root = "OrderResponse"

    def __init__(self, errors: list[tuple[int | str, str]], status: int | None = None, root: str | None = None,
                 echo: dict[str, Any] | None = None):
        super().__init__("; ".join(f"{c}: {d}" for c, d in errors))
        self.errors, self.echo = errors, echo or {}
        if status is not None:
            self.status = status
        if root is not None:
            self.root = root

    @property
    def code(self) -> str:
        return str(self.errors[0][0])

    @property
    def description(self) -> str:
        return str(self.errors[0][1])

    def render(self) -> tuple[str, str]:
        body: dict[str, Any] = {"ErrorList": {"Error": [{"Code": str(c), "Description": d} for c, d in self.errors]}}
        body.update(self.echo)
        return xmlio.CONTENT_TYPE, xmlio.render(self.root, body)


class SearchError(SandboxError):
    """``<SearchResult><Error><Code/><Description/></Error></SearchResult>``."""

    def __init__(self, code: int | str, description: str, status: int = 400):
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.status = str(code), description, status

    def render(self) -> tuple[str, str]:
        return xmlio.CONTENT_TYPE, xmlio.render(
            "SearchResult", {"Error": {"Code": self.code, "Description": self.description}})


class MessagingError(SandboxError):
    """``{"type": …, "description": …[, "fieldErrors": [...]]}``."""

    def __init__(self, type_: str, description: str, status: int = 400,
                 field_errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(f"{type_}: {description}")
        self.type, self.description, self.status = type_, description, status
        self.field_errors = field_errors
        self.headers = headers or {}

    def render(self) -> tuple[str, str]:
        import json

        body: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.field_errors is not None:
            body["fieldErrors"] = self.field_errors
        return "application/json; charset=utf-8", json.dumps(body)


class ControlError(SandboxError):
    """Errors of the ``/_sandbox`` control plane: ``{"error": …}``.

    Subclasses (one per error: ``control/exceptions.py``, ``workshop/exceptions.py``) fix ``status`` and the text;
    the generic constructor ``ControlError(description, status=)`` remains for protocol errors (405, 413, ...).
    """

    status = 400
    description = ""

    def __init__(self, description: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None):
        self.description = type(self).description if description is None else description
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})
        super().__init__(self.description)

    def render(self) -> tuple[str, str]:
        import json

        return "application/json", json.dumps({"error": self.description})
