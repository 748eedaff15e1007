"""The rows of the Postman collection: :class:`Row` (one request, keyed by its step) and the JavaScript its tests
share, written once. The guide's rows are :data:`bwhelpers.postman_collection.ROWS`; a new step's flow declares its
own (``StepFlow.postman``), and :func:`bwhelpers.postman_collection.build_collection` puts them in step order."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from . import steps

__all__ = ["Row", "step_refs", "ORDER_POLL_MAX", "ORDER_POLL_DELAY_MS", "STOP_IF_FAILED", "XML_TEXT", "POLL_DELAY",
           "POLL_RESET", "poll", "skip_unless", "saves"]

#: Order-status polling in the collection: at most this many checks, this many ms apart.
ORDER_POLL_MAX = 30
ORDER_POLL_DELAY_MS = 1000


def step_refs(text: str) -> str:
    """``text`` with each ``<step:key>`` replaced by that step's number (renumbering renumbers the texts)."""
    return re.sub(r"<step:([a-z0-9_]+)>", lambda m: str(steps.page(m.group(1)).number), text)



# --------------------------------------------------------------------------- the JavaScript, written once
STOP_IF_FAILED = (
    "// pm.execution.setNextRequest (Postman 10.x+, newman 6) with a fallback to the older postman.setNextRequest",
    "function next(name) {",
    "    if (pm.execution && typeof pm.execution.setNextRequest === \"function\") { pm.execution.setNextRequest(name); }",
    "    else { postman.setNextRequest(name); }",
    "}",
    "// stop the run here if this step failed: every later step needs what it saves",
    "function stop(why) { console.log(\"stopping: \" + why); next(null); }",
)

XML_TEXT = (
    "function xmlText(body, tag) {",
    "    var m = new RegExp(\"<\" + tag + \">\\\\s*([^<]*?)\\\\s*</\" + tag + \">\", \"i\").exec(body);",
    "    return m ? m[1] : null;",
    "}",
)

#: before a polling request: wait between checks (not before the first one)
POLL_DELAY = (
    "// wait between checks (not before the first one)",
    "var count = parseInt(pm.collectionVariables.get(\"orderPollCount\") || \"0\", 10);",
    "var delay = parseInt(pm.variables.get(\"orderPollDelayMs\") || \"%d\", 10);" % ORDER_POLL_DELAY_MS,
    "if (count > 0 && delay > 0) { setTimeout(function () {}, delay); }",
)
#: in the request that creates what is polled next
POLL_RESET = "pm.collectionVariables.set(\"orderPollCount\", \"0\");"


def poll(request: str, tag: str, what: str, done: Iterable[str]) -> tuple[str, ...]:
    """Tests of a request that repeats itself while ``<tag>`` is RECEIVED or PROCESSING (at most orderPollMax
    times), then checks for COMPLETE and runs ``done`` (indented into the final branch)."""
    return (
        "var body = pm.response.text();",
        f"var status = xmlText(body, \"{tag}\");",
        "var count = parseInt(pm.collectionVariables.get(\"orderPollCount\") || \"0\", 10) + 1;",
        "var max = parseInt(pm.variables.get(\"orderPollMax\") || \"%d\", 10);" % ORDER_POLL_MAX,
        "pm.collectionVariables.set(\"orderPollCount\", String(count));",
        "if (pm.response.code === 200 && (status === \"RECEIVED\" || status === \"PROCESSING\") && count < max) {",
        f"    console.log(\"{what} is \" + status + \" (check \" + count + \" of \" + max + \"), checking again\");",
        f"    next(\"{request}\");",
        "} else {",
        f"    pm.test(\"{what} is COMPLETE (after \" + count + \" check(s))\", function () {{",
        f"        pm.expect(status, \"{tag}\").to.eql(\"COMPLETE\");",
        "    });",
        *("    " + line for line in done),
        "}",
    )


def skip_unless(condition: str, why: str) -> tuple[str, ...]:
    return (f"if ({condition}) {{", f"    console.log(\"{why}\");", "    pm.execution.skipRequest();", "}")


def saves(variable: str, js_value: str, what: str, check: str, stop_why: str, code: int = 201) -> tuple[str, ...]:
    """Tests that read ``js_value``, check it is a non-empty string and save it as ``{{variable}}``."""
    return (f"var {variable} = {js_value};",
            f"pm.test(\"{what}\", function () {{",
            f"    pm.expect({variable}, \"{check}\").to.be.a(\"string\").and.not.be.empty;",
            "});",
            f"if (pm.response.code === {code} && {variable}) {{",
            f"    pm.environment.set(\"{variable}\", {variable});",
            f"}} else {{ stop(\"{stop_why}\"); }}")


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Row:
    """One request of the collection. Rows of one ``(step, variant)`` form one folder, in table order."""

    step: str                         #: the steps key: the folder's number
    folder: str                       #: the folder's label (after its number)
    name: str                         #: the request's name (what setNextRequest names)
    method: str
    url: tuple[str, ...]              #: (base variable, *path segments)
    expect: tuple[int, str]           #: the status the tests check
    tests: tuple[str, ...]            #: the request's own tests (the shared helpers are added when used)
    description: str                  #: the request's description (``<step:key>`` allowed)
    about: str = ""                   #: the folder's description (the folder's first row)
    body: str | None = None
    language: str = "xml"             #: xml | json (the body's and the Content-Type's)
    prerequest: tuple[str, ...] = ()
    variant: str = ""                 #: "" for the step's folder, "b" for the guide's alternative
    legacy_auth: bool = False         #: the guide's token:secret endpoint (never OAuth)
    body_file: str | None = None      #: a binary body: this file (Postman body mode "file")
    content_type: str | None = None   #: the Content-Type of a binary body

    @property
    def folder_name(self) -> str:
        """``9 Send text message``, ``9b legacy endpoint``."""
        return f"{steps.page(self.step).number}{self.variant} {self.folder}"
