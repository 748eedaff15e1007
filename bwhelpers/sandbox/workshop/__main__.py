"""``python -m bwhelpers.sandbox.workshop``: the sandbox as a JupyterHub service (started by the hub)."""
import sys

from .service import main

sys.exit(main())
