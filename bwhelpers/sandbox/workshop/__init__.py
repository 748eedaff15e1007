"""
bwhelpers.sandbox.workshop
~~~~~~~~~~~~~~~~~~~~~~~~~~

Workshop mode: the sandbox as a JupyterHub service for a whole room. One sandbox account per hub
user (provisioned by the spawner hook, :mod:`bwhelpers.workshop`), identity from the hub's OAuth,
and an admin-only live board. See docs/workshop.md.

Importing the package registers its sqlite schema; it needs ``jupyterhub`` only for the handlers.
"""
from . import models  # noqa: F401  (registers the schema)
