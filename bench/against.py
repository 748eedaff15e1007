"""``python -m bench --against REV``: the chosen measures on this tree and on another commit, in one run.

The other commit is checked out in a temporary ``git worktree`` (detached, removed afterwards). Each side
runs ``python -m bench --only NAMES --repeat 1 --json FILE`` with its own code (``cwd`` and ``PYTHONPATH``
on that tree, so its ``bwhelpers`` and its benchmark are the ones measured), the sides taking turns
(A B, B A, A B ...) so a slow spell of the shared machine hits both. Every number a row reports in
``values`` is compared pair by pair: the ratio is this tree / REV, median [min–max] over the repeats.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from .common import ROOT, Stat, _num

#: measures compared when ``--only`` is not given: the sandbox's request path and the client's send path
DEFAULT = ("throughput", "client")


def _git(*args: str, cwd: Path = ROOT, timeout: float = 120) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"--against: git {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


def resolve(rev: str) -> tuple[str, str]:
    """(full, short) commit id of ``rev``; exits naming --against when there is no such commit."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return commit, _git("rev-parse", "--short", commit)


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[tuple[Path, str]]:
    """``rev`` in a temporary detached worktree; yields (its root, its short commit id). The worktree is removed
    however the block ends (also when it is interrupted while the worktree is being added)."""
    commit, short = resolve(rev)
    tmp = Path(tempfile.mkdtemp(prefix="bwbench-against-"))
    tree = tmp / f"rev-{short}"
    try:
        _git("worktree", "add", "--detach", str(tree), commit, timeout=300)
        modules = ROOT / "node_modules"
        if modules.exists() and not (tree / "node_modules").exists():
            (tree / "node_modules").symlink_to(modules.resolve())  # Prism for that side too
        yield tree, short
    finally:  # an add cut short leaves the worktree locked: unlock, remove, prune
        subprocess.run(["git", "worktree", "unlock", str(tree)], cwd=ROOT, capture_output=True, timeout=60)
        subprocess.run(["git", "worktree", "remove", "--force", "--force", str(tree)], cwd=ROOT, capture_output=True,
                       timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True, timeout=60)


def _side(tree: Path, names: Sequence[str], smoke: bool, extra: Sequence[str], out: Path,
          timeout: float) -> tuple[list[dict[str, Any]], str]:
    """One run of ``python -m bench`` on ``tree``; returns (rows, error text or '')."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env["PYTHONPATH"] = str(tree)
    cmd = [sys.executable, "-m", "bench", "--only", ",".join(names), "--repeat", "1", "--json", str(out),
           *(["--smoke"] if smoke else []), *extra]
    try:
        proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout:.0f} s"
    if proc.returncode != 0 or not out.exists():
        return [], (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
    return json.loads(out.read_text()), ""


def _direction(name: str) -> str:
    low = name.lower()
    if "rps" in low or "per_s" in low or low.endswith("_gain"):
        return "higher is better"
    if low.endswith(("_ms", "_s", "_bytes")) or "cpu" in low or "latency" in low:
        return "lower is better"
    return ""


def run(rev: str, names: Sequence[str], repeat: int, smoke: bool, extra: Sequence[str] = (),
        timeout: float = 1800) -> str:
    """Measure ``names`` on this tree and on ``rev``, ``repeat`` times each, alternating; returns Markdown."""
    here_commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    here_label = f"this tree ({here_commit}{' + uncommitted changes' if dirty else ''})"
    started = time.perf_counter()
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
    measures: dict[str, str] = {}
    errors: list[str] = []
    interrupted = ""
    short = resolve(rev)[1]
    previous = signal.signal(signal.SIGTERM, _terminate)  # a SIGTERM still removes the temporary worktree
    try:
        with checkout(rev) as (tree, short), tempfile.TemporaryDirectory(prefix="bwbench-json-") as jdir:
            interrupted = _measure(tree, short, names, repeat, smoke, extra, timeout, jdir, samples, measures, errors)
    except (KeyboardInterrupt, _Stop):
        interrupted = "interrupted while the other commit was being checked out"
    finally:
        signal.signal(signal.SIGTERM, previous)
    return _table(rev, short, here_label, names, repeat, started, samples, measures, errors, interrupted)


class _Stop(Exception):
    """SIGTERM during a comparison."""


def _terminate(signum: int, frame: Any) -> None:
    raise _Stop()


def _measure(tree: Path, short: str, names: Sequence[str], repeat: int, smoke: bool, extra: Sequence[str],
             timeout: float, jdir: str, samples: dict[str, dict[str, list[tuple[float, float]]]],
             measures: dict[str, str], errors: list[str]) -> str:
    """Alternate the two sides ``repeat`` times, collecting pairs; returns why it stopped early, or ''."""
    try:
        for i in range(repeat):
            order = [("here", ROOT), ("rev", tree)]
            if i % 2:
                order.reverse()
            got: dict[str, dict[str, dict[str, Any]]] = {}
            for side, root in order:
                print(f"bench --against: repeat {i + 1}/{repeat}: {side} ({root}) ...", file=sys.stderr, flush=True)
                rows, err = _side(root, names, smoke, extra, Path(jdir) / f"{side}{i}.json", timeout)
                if err:
                    errors.append(f"{'this tree' if side == 'here' else short}, repeat {i + 1}: {err}")
                got[side] = {r["key"]: r for r in rows}
            for key, a in got.get("here", {}).items():
                b = got.get("rev", {}).get(key)
                if b is None:
                    continue
                measures.setdefault(key, a.get("measure") or key)
                va = dict(a.get("values") or {})
                vb = dict(b.get("values") or {})
                if a.get("ratio_median") is not None and b.get("ratio_median") is not None:
                    va["row_ratio"], vb["row_ratio"] = a["ratio_median"], b["ratio_median"]
                for name in va.keys() & vb.keys():
                    x, y = va[name], vb[name]
                    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                        samples.setdefault(key, {}).setdefault(name, []).append((float(x), float(y)))
    except (KeyboardInterrupt, _Stop):
        return "interrupted: the pairs measured so far are shown"
    return ""


def _table(rev: str, short: str, here_label: str, names: Sequence[str], repeat: int, started: float,
           samples: dict[str, dict[str, list[tuple[float, float]]]], measures: dict[str, str], errors: list[str],
           interrupted: str) -> str:
    lines = [f"## `python -m bench --against {rev}`: {here_label} vs {short}", "",
             f"Measures {', '.join(names)}; {repeat} repeat(s) per side, sides alternating (A B, B A, ...), each "
             f"side measured by its own code (a temporary git worktree for {short}); "
             f"{os.cpu_count()} CPUs, load average {_load()} at the end; total {time.perf_counter() - started:.0f} s. "
             f"Ratio = this tree / {short} per repeat pair, median [min–max].", "",
             f"| row | value | this tree | {short} | ratio (this / {short}) | reads |", "|---|---|---|---|---|---|"]
    for key in sorted(samples, key=_sort_key):
        for name in sorted(samples[key]):
            pairs = samples[key][name]
            here = Stat([p[0] for p in pairs])
            there = Stat([p[1] for p in pairs])
            ratios = [p[0] / p[1] for p in pairs if p[1]]
            ratio = Stat(ratios).fmt(digits=2) if ratios else "n/a"
            lines.append(f"| {key} {measures[key]} | {name} | {here.fmt()} | {there.fmt()} | {ratio} | "
                         f"{_direction(name)} |")
    if not samples:
        lines.append("| – | – | – | – | no row was measured on both sides | – |")
    if errors:
        lines += ["", "Errors: " + "; ".join(errors)]
    if interrupted:
        lines += ["", f"Stopped early ({interrupted})."]
    return "\n".join(lines)


def _sort_key(key: str) -> tuple[int, str]:
    head = key.split(".")[0].rstrip("abcdefgh")
    return (int(head) if head.isdigit() else 99, key)


def _load() -> str:
    try:
        return " ".join(_num(x) for x in os.getloadavg())
    except OSError:
        return "?"
