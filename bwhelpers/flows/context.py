"""FlowContext: what every flow shares (config, lazy API clients, the state store, the typed saved state).

It sits below the flows and above the API clients: flows take a context, never a Setup, so they do not
import each other through the facade.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator

from .. import steps
from ..checks import check_bool
from ..exceptions import MissingPrerequisiteError, ValidationError
from ..state import Application, Location, SavedState, StateStore

if TYPE_CHECKING:
    from ..a2p import A2PClient
    from ..config import Config
    from ..dashboard import DashboardClient
    from ..messaging import MessagingClient
    from ..sandbox_control import SandboxControl

__all__ = ["FlowContext", "prereq"]


def prereq(key: str, what: str) -> MissingPrerequisiteError:
    """The error for a missing saved object: names the step (number, title, notebook) that saves it."""
    p = steps.step(key)
    return MissingPrerequisiteError(
        f"No {what} saved: run step {p.number} ({p.title}, notebooks/{p.filename}) first",
        fix=f"run {p.ref}")


class FlowContext:
    """Config, lazily created API clients, the state store and this profile's saved state."""

    def __init__(self, config: "Config", store: StateStore | None = None, *, progress: bool = True):
        from ..config import Config

        if not isinstance(config, Config):
            raise ValidationError(f"config: expected a bwhelpers Config (bwhelpers.connect() or Config.resolve()), "
                                  f"got {type(config).__name__}", field="config")
        if store is not None and not isinstance(store, StateStore):
            raise ValidationError(f"state: expected a StateStore or None, got {type(store).__name__}", field="state")
        check_bool(progress, "progress")
        self.config = config
        self.store = store if store is not None else StateStore()
        self.progress = progress
        self._dashboard: "DashboardClient | None" = None
        self._messaging: "MessagingClient | None" = None
        self._control: "SandboxControl | None" = None
        self._a2p: "A2PClient | None" = None

    @property
    def profile(self) -> str:
        """The state profile of this target ('sandbox', 'real-<account>')."""
        return self.config.profile

    # ------------------------------------------------------------------ lazy clients
    @property
    def dashboard(self) -> "DashboardClient":
        """The Dashboard client (created on first use)."""
        if self._dashboard is None:
            from ..dashboard import DashboardClient
            self._dashboard = DashboardClient(self.config)
        return self._dashboard

    @property
    def messaging(self) -> "MessagingClient":
        """The messaging client (created on first use)."""
        if self._messaging is None:
            from ..messaging import MessagingClient
            self._messaging = MessagingClient(self.config)
        return self._messaging

    @property
    def a2p(self) -> "A2PClient":
        """The 10DLC / TN Option Order / toll-free verification client (created on first use)."""
        if self._a2p is None:
            from ..a2p import A2PClient
            self._a2p = A2PClient(self.config, session=self.dashboard.session)
        return self._a2p

    @property
    def control(self) -> "SandboxControl | None":
        """The sandbox's control-plane client (None on a real account)."""
        if self._control is None and self.config.is_sandbox and self.config.sandbox_base:
            from ..sandbox_control import SandboxControl
            self._control = SandboxControl(self.config, session=self.dashboard.session)
        return self._control

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> SavedState:
        """This profile's saved state, read now (typed)."""
        return self.store.saved(self.profile)

    def edit(self) -> "contextlib.AbstractContextManager[SavedState]":
        """Lock, read, change and write this profile's saved state (nothing written on error)."""
        return self.store.edit(self.profile)

    @contextlib.contextmanager
    def step_lock(self, step: str) -> Iterator[None]:
        """The cross-process lock of one create step of this profile."""
        with self.store.step_lock(self.profile, step):
            yield

    def need_application(self, st: SavedState | None = None) -> Application:
        """The saved application (in ``st``, the state a step read once, else read now), or the error naming the step
        that creates it."""
        app = (st if st is not None else self.state).application
        if app is None or not app.id:
            raise prereq("application", "application")
        return app

    def need_location(self, st: SavedState | None = None) -> Location:
        """The saved location (in ``st``, else read now), or the error naming the step that creates it."""
        loc = (st if st is not None else self.state).location
        if loc is None or not loc.id:
            raise prereq("location", "location")
        return loc

    def sending_number(self, from_: str | None = None, st: SavedState | None = None) -> str:
        """``from_``, or the first saved number (the order-status step saves it; in ``st``, else read now)."""
        if from_ is not None:
            return from_
        number = (st if st is not None else self.state).sending_number
        if not number:
            raise prereq("numbers", f"phone number (order one in step {steps.step('orders').number}, then check it "
                         f"in step {steps.step('numbers').number})")
        return number
