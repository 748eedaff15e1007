"""Shared pieces of the benchmark: rows, statistics, table rendering, and sandboxes in subprocesses."""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]


# -- statistics -------------------------------------------------------------------------------------

@dataclass
class Stat:
    """Repeated samples of one quantity: the median, with min and max."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def lo(self) -> float:
        return min(self.samples)

    @property
    def hi(self) -> float:
        return max(self.samples)

    def fmt(self, unit: str = "", digits: int = 2) -> str:
        """``1.23 s [1.10–1.40]`` (median [min–max])."""
        def f(x: float) -> str:
            return _num(x, digits)
        rng = f" [{f(self.lo)}–{f(self.hi)}]" if len(self.samples) > 1 else ""
        return f"{f(self.median)}{(' ' + unit) if unit else ''}{rng}"


def _num(x: float, digits: int = 2) -> str:
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if 0 < abs(x) < 0.1:
        return f"{x:.2g}"
    return f"{x:.{digits}f}"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[k]


# -- the time budget of a full run ----------------------------------------------------------------------------

#: the wall-clock time (``time.time()``) by which the running measure should end (``python -m bench --budget``
#: sets it for each measure from its share of what is left); unset: no limit
DEADLINE_ENV = "BENCH_MEASURE_DEADLINE"


def out_of_time() -> bool:
    """True when the running measure has used its share of the run's time budget: a measure with repeats then
    stops after its minimum number (and says how many it made)."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    try:
        return bool(raw) and time.time() >= float(raw)
    except ValueError:
        return False


def repeats_note(done: int, asked: int) -> str:
    """``repeat 3``, or ``repeat 2 of 3 asked (time budget)`` when the budget stopped it early."""
    return f"repeat {done}" if done >= asked else f"repeat {done} of {asked} asked (time budget)"


# -- rows and the table -----------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the results table.

    ``ratio`` is a Stat of per-repeat ratios; ``ratio_note`` says which way it reads; ``goal`` is a
    (comparison, threshold) pair such as ('<=', 1.5) checked against the median ratio.
    """

    key: str
    measure: str
    ours: str
    peer: str
    ratio: Stat | None
    ratio_note: str
    settings: str
    goal: tuple[str, float] | None = None
    values: dict[str, float] = field(default_factory=dict)  # machine-readable numbers (for tests / JSON)

    def goal_text(self) -> str:
        if self.goal is None or self.ratio is None:
            return "–"
        op, threshold = self.goal
        m = self.ratio.median
        ok = m <= threshold if op == "<=" else m >= threshold
        return f"{'met' if ok else 'MISSED'} ({op} {threshold:g})"


HEADER = ("measure", "ours", "baseline / peer", "ratio", "goal", "settings")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for r in rows:
        ratio = f"{r.ratio.fmt(digits=2)} {r.ratio_note}".strip() if r.ratio is not None else f"n/a {r.ratio_note}"
        lines.append("| " + " | ".join(_cell(c) for c in (
            f"{r.key} {r.measure}", r.ours, r.peer, ratio, r.goal_text(), r.settings)) + " |")
    return "\n".join(lines)


def rows_json(rows: Sequence[Row]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append({"key": r.key, "measure": r.measure, "ratio_median": r.ratio.median if r.ratio else None,
                    "ratio_samples": r.ratio.samples if r.ratio else None, "goal": r.goal, "values": r.values})
    return out


# -- environment isolation --------------------------------------------------------------------------

@contextlib.contextmanager
def isolated_env(**values: str) -> Iterator[None]:
    """Remove every BW_* variable, set ``values``, and restore everything afterwards."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith("BW_")]:
            del os.environ[key]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def workdir(prefix: str = "bwbench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- a sandbox in its own process -------------------------------------------------------------------

class SandboxProcess:
    """``python -m bwhelpers.sandbox`` on a free port with a private db (so it has its own GIL)."""

    def __init__(self, db: Path, order_delay: float = 0.0, settings: dict[str, Any] | None = None,
                 reset: bool = True, port: int = 0):
        self.db = db
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bwhelpers.sandbox", "--port", str(port), "--db", str(db),
             *(["--reset"] if reset else []),
             "--order-delay", str(order_delay), "--log-level", "WARNING"],
            cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("BW_")})
        self.url = ""
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.url = m.group(1)
                break
        if not self.url:
            self.stop()
            raise RuntimeError("the sandbox subprocess did not start")
        # drain the rest of its banner in the background so the pipe never fills
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        if settings:
            self.settings(settings)

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _admin(self) -> dict[str, str]:
        """The control plane's admin-key header (the key file the subprocess wrote beside its db)."""
        from bwhelpers.sandbox import ADMIN_HEADER, admin_key

        key = admin_key(self.db)
        return {ADMIN_HEADER: key} if key else {}

    def settings(self, values: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/_sandbox/settings", data=json.dumps(values).encode(),
                                     method="PUT", headers={"Content-Type": "application/json", **self._admin()})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def get_json(self, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", headers=self._admin())
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def pending_callbacks(self) -> int:
        """Callback deliveries still queued (read straight from the sandbox's sqlite file)."""
        import sqlite3
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM callback_outbox WHERE status='pending'").fetchone()[0])
        except sqlite3.Error:
            return 0
        finally:
            conn.close()

    def outcomes(self) -> dict[str, int]:
        """How many outbound message events of each outcome the sandbox stored (``message-delivered``,
        ``message-failed 4476``, ...), read straight from its sqlite file."""
        import sqlite3
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("SELECT type, error_code, COUNT(*) FROM message_events "
                                "WHERE type<>'message-received' GROUP BY type, error_code").fetchall()
        except sqlite3.Error:
            return {}
        finally:
            conn.close()
        return {f"{kind}{f' {code}' if code is not None else ''}": int(n) for kind, code, n in rows}

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until the sandbox has delivered every queued callback (so its work does not leak into
        the next measurement)."""
        deadline = time.monotonic() + timeout
        while self.pending_callbacks() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def provision(url: str, state_file: Path, a2p: bool = True) -> dict[str, Any]:
    """Run the walkthrough's steps 1-7 against ``url``, and (``a2p``) its A2P step too: the number is assigned to the
    account's registered 10DLC campaign, as a real user's is before sending, so a send takes the success path
    (message-delivered), not the 4476 failure an unregistered number gets. Returns config, application id and
    number."""
    from bwhelpers.connection import live_config
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    cfg = live_config(sandbox_url=url, target="sandbox", quiet=True)
    setup = Setup(cfg, StateStore(state_file), progress=False)
    setup.create_application()
    setup.create_location()
    setup.enable_sms()
    setup.enable_mms()
    setup.assign_application()
    setup.order_numbers()
    setup.wait_for_order()
    if a2p:
        setup.register_a2p(progress=False)
    saved = setup.saved
    return {"config": cfg, "setup": setup, "application_id": saved["application"]["id"],
            "number": saved["numbers"][0]}


def recipients(n: int, start: int = 0) -> list[str]:
    """``n`` distinct ordinary (non-magic) US numbers."""
    return [f"+1919555{(start + i) % 10000:04d}" for i in range(n)]
