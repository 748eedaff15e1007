"""The walkthrough's flows, one module per concern, below the :class:`~bwhelpers.setup.Setup` facade.

- :mod:`.context`: :class:`FlowContext` (config, lazy clients, the state store, the typed saved state);
- :mod:`.provisioning`: application, location, SMS/MMS, assignment, number orders (steps 1-7);
- :mod:`.a2p`: 10DLC campaigns, TN Option Orders, toll-free verification;
- :mod:`.messages`: sending and the callback events (waits, "why no event", de-duplication);
- :mod:`.preflight`: diagnose (what would make messages fail);
- :mod:`.teardown`: undo everything saved;
- :mod:`.registry`: what each flow declares for its steps (:class:`~.registry.StepFlow`), found by discovery.

A new step adds its flow module here, declaring its saved object (``state.declare_step``) and its step
(``registry.declare``), and its row to ``steps``: Setup, run_all, status, diagnose, teardown, Postman and Page follow.
"""
