"""What each flow declares for its steps, gathered by registration instead of central lists.

A flow module declares, next to its code, one :class:`StepFlow` per step it does (:func:`declare`): the flow class,
the calls :class:`~bwhelpers.setup.Setup` exposes under the same names (their Results marked with the step), what
``run_all`` runs for the step, the ``diagnose`` checks and the teardown it adds, and its Postman rows. Setup, its
``status``/``run_all``, diagnose, teardown, the Postman collection and the walkthrough's ``Page`` read these
declarations (and the step table, for order and titles), so a new step is a row in :mod:`bwhelpers.steps` plus its
flow module: :func:`discover` imports every module of :mod:`bwhelpers.flows`, nothing lists them.

The saved object of a new step is declared with :func:`bwhelpers.state.declare_step` (``state=`` here does it).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import steps
from ..state import StepState

__all__ = ["StepFlow", "declare", "declared", "discover", "calls", "Run"]

#: what run_all passes to a step's run: the message's recipient and text (``to``, ``text``)
#: run(setup, inputs): the facade's call for the step, e.g. ``lambda setup, _: setup.enable_sms()``
Run = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class StepFlow:
    """One step's declaration by its flow module."""

    key: str                                    #: the step's key in the step table
    flow: type                                  #: the flow class (constructed with a FlowContext)
    calls: tuple[str, ...] = ()                 #: its methods Setup exposes by name; their Results are this step's
    helpers: tuple[str, ...] = ()               #: its methods Setup exposes by name, results left unmarked
    run: Run | None = None                      #: run_all's call: run(setup, {"to": ..., "text": ...}) -> Result
    checks: str | None = None                   #: a method returning diagnose rows (check, ok, finding, fix)
    undo: str | None = None                     #: a method teardown calls first, returning teardown rows
    postman: tuple[Any, ...] = ()               #: Postman rows (bwhelpers.postman_rows.Row) of this step
    state: StepState | None = field(default=None, compare=False)   #: its saved object (state.declare_step)


_DECLARED: dict[str, StepFlow] = {}
_DISCOVERED = False


def declare(decl: StepFlow) -> StepFlow:
    """Register one step's flow (a second declaration of the same step replaces the first)."""
    steps.page(decl.key)  # KeyError naming the valid keys
    _DECLARED[decl.key] = decl
    return decl


def discover() -> None:
    """Import every module of :mod:`bwhelpers.flows` once, so each declares its steps."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module(__package__ or "bwhelpers.flows")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    _DISCOVERED = True


def declared() -> list[StepFlow]:
    """Every declared step, in the step table's order."""
    discover()
    return sorted(_DECLARED.values(), key=lambda d: steps.page(d.key).number)


def calls() -> dict[str, tuple[StepFlow, bool]]:
    """Setup's calls by name -> (the declaration, whether its Result is marked as the step's)."""
    out: dict[str, tuple[StepFlow, bool]] = {}
    for decl in declared():
        out.update({name: (decl, False) for name in decl.helpers})
        out.update({name: (decl, True) for name in decl.calls})
    return out
