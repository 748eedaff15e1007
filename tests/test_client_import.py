"""Import cost: importing the client modules does not pull pandas, ipywidgets or tornado."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "ipywidgets", "tornado", "numpy")
CODE = """
import sys
import bwhelpers, bwhelpers.config, bwhelpers.errors, bwhelpers.http, bwhelpers.xmlio, bwhelpers.results
import bwhelpers.dashboard, bwhelpers.messaging, bwhelpers.state, bwhelpers.setup, bwhelpers.tables
bwhelpers.Setup, bwhelpers.Config, bwhelpers.StateStore, bwhelpers.ValidationError
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.slow
def test_client_modules_import_lightly():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", CODE.format(heavy=HEAVY)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "", f"heavy modules imported: {proc.stdout}"
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert not imported & set(HEAVY)
