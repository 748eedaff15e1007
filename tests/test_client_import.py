"""Import cost: importing the client modules does not pull pandas, ipywidgets or tornado."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

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


#: what a walkthrough kernel must not import for a step, its read-back table and its summary (shown as Jupyter
#: shows them): pandas comes when a table is used as a DataFrame, ipywidgets with a form, PyJWT/cryptography never
KERNEL_HEAVY = ("pandas", "numpy", "ipywidgets", "jwt", "cryptography")
CELLS = """
import json, sys
from IPython.core.formatters import DisplayFormatter
from bwhelpers.walkthrough import Page
page = Page("application")
app = page.create_application()
table = page.applications()
from bwhelpers.ui.output import capture
with capture() as summary:  # the summary is shown live (the teardown re-computes it in place)
    page.summary()
shown = [DisplayFormatter().format(t)[0] for t in (table, *summary)]
heavy = [m for m in {heavy!r} if m in sys.modules]
from bwhelpers.tables import applications_frame
twin = applications_frame(page.setup.dashboard.list_applications())
print(json.dumps({{"heavy": heavy, "html": [("bw-rows" in s.get("text/html", "")) for s in shown],
                  "cols": list(table.columns), "twin": list(twin.columns), "rows": len(table),
                  "id": str(table["ApplicationId"].iloc[0]), "saved": app.id}}))
"""


@pytest.mark.slow  # a Python process of its own importing the walkthrough
def test_a_walkthrough_step_shows_its_tables_without_pandas_and_they_work_as_dataframes(
        clean_sandbox: Any, isolated_env: Path) -> None:
    import json
    import os

    env = {**os.environ, "BW_SANDBOX_URL": clean_sandbox.url,
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run([sys.executable, "-c", CELLS.format(heavy=KERNEL_HEAVY)], cwd=isolated_env, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["heavy"] == [], f"a step, its table and its summary imported {got['heavy']}"
    assert got["html"] == [True, True]  # both shown as the walkthrough's narrow HTML table
    # used as a DataFrame, the table is the *_frame twin's
    assert got["cols"] == got["twin"] and got["rows"] == 1 and got["id"] == got["saved"]
