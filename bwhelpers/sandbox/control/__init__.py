"""The ``/_sandbox/...`` control plane, kept apart from the emulated APIs."""
