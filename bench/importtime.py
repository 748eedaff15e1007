"""4. Import: ``python -X importtime -c "import bwhelpers"`` vs ``import requests, xmltodict``.

The cost of a statement is the sum of the cumulative microseconds of the top-level import lines
that ``-c "pass"`` does not also print (i.e. what the statement itself imported).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

from .common import ROOT, Row, Stat

_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def importtime(stmt: str) -> tuple[dict[str, int], float]:
    """Top-level modules -> cumulative us, and the process wall time."""
    import time
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BW_", "PYTHONPROFILEIMPORTTIME"))}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt], cwd=str(ROOT), env=env,
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    top: dict[str, int] = {}
    for line in out.stderr.splitlines():
        m = _LINE.match(line)
        if m and len(m.group(3)) <= 1:  # one space after '|' = top level
            top[m.group(4)] = top.get(m.group(4), 0) + int(m.group(2))
    return top, wall


def cost(stmt: str, startup: set[str]) -> tuple[float, float]:
    """Milliseconds of imports caused by ``stmt`` (cumulative), and the subprocess wall time in s."""
    top, wall = importtime(stmt)
    return sum(us for name, us in top.items() if name not in startup) / 1000.0, wall


CASES = (
    ("4a", "import bwhelpers", "import bwhelpers"),
    ("4b", "import bwhelpers.messaging, bwhelpers.dashboard (the client stack)",
     "import bwhelpers.messaging, bwhelpers.dashboard"),
)
BASELINE = "import requests, xmltodict"


def run(smoke: bool = False, repeat: int = 3) -> list[Row]:
    n = 3 if smoke else max(7, repeat)
    startup = set(importtime("pass")[0])
    base = []
    ours: dict[str, list[float]] = {key: [] for key, _, _ in CASES}
    walls: dict[str, list[float]] = {key: [] for key, _, _ in CASES}
    base_wall = []
    for _ in range(n):  # interleaved, so drift of the machine hits all alike
        ms, wall = cost(BASELINE, startup)
        base.append(ms)
        base_wall.append(wall)
        for key, _, stmt in CASES:
            ms, wall = cost(stmt, startup)
            ours[key].append(ms)
            walls[key].append(wall)
    b = Stat(base)
    rows = []
    for key, label, stmt in CASES:
        o = Stat(ours[key])
        rows.append(Row(
            key=key, measure=f"Import: {label}",
            ours=f"{o.fmt('ms', 1)} (process {Stat(walls[key]).fmt('s')})",
            peer=f"`{BASELINE}`: {b.fmt('ms', 1)} (process {Stat(base_wall).fmt('s')})",
            ratio=Stat([x / y for x, y in zip(ours[key], base)]), ratio_note="× (ours/baseline time)",
            settings=f"`python -X importtime -c \"{stmt}\"`, sum of top-level cumulative us not imported by "
                     f"`-c pass`; median of {n} interleaved runs",
            goal=("<=", 2.0) if key == "4a" else None,
            values={"ours_ms": o.median, "baseline_ms": b.median}))
    return rows
