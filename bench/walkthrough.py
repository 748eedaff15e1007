"""1. Walkthrough: every notebook headless vs a fresh sandbox (order delay 0), against the floor of
N x (a one-cell notebook executed the same way, in the same run).

Besides the wall time, each run's kernel CPU (user + system seconds of the kernel process, read from this process's
finished children) is reported against the floor's: on a shared, loaded machine it moves far less than wall time."""
from __future__ import annotations

import resource
import statistics
from pathlib import Path
from typing import Any

from .common import Row, SandboxProcess, Stat, isolated_env, out_of_time, repeats_note, workdir

FLOOR_SOURCE = "1 + 1"


def _floor_notebook(folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FLOOR_SOURCE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "floor.ipynb"
    nbformat.write(nb, path)
    return path


def _bytecode() -> str:
    """Compile bwhelpers' bytecode before the runs, as its first import does on a user's machine, and say so.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (this shared machine sets it) no import writes bytecode, so without this
    every notebook's kernel would compile all of bwhelpers from source (about 0.1 s of CPU each), a cost of this
    environment that the one-cell floor, which imports nothing of ours, never pays; site-packages were compiled
    when they were installed."""
    import compileall
    import os

    import bwhelpers

    compileall.compile_dir(str(Path(bwhelpers.__file__).parent), quiet=1)
    unset = " (PYTHONDONTWRITEBYTECODE is set here: no kernel writes it)" if os.environ.get("PYTHONDONTWRITEBYTECODE") \
        else ""
    return f"bwhelpers' bytecode compiled before the runs, as a first import does{unset}"


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _timed(path: Path) -> tuple[Any, float]:
    """Execute one notebook (a fresh kernel, shut down and reaped before it returns): (its run, the kernel's CPU s)."""
    from bwhelpers.notebooks import execute_notebook

    before = _children_cpu()
    result = execute_notebook(path, html=False, timeout=120)
    return result, _children_cpu() - before


def run(smoke: bool = False, repeat: int = 3) -> tuple[list[Row], str]:
    from bwhelpers.notebooks import find_notebooks

    books = find_notebooks()
    total_books = len(books)
    if smoke:
        books, repeat = books[:1], 1
    per_book: dict[str, list[float]] = {p.stem: [] for p in books}
    failures: list[str] = []
    totals: list[float] = []
    floors: list[float] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    cpu_totals: list[float] = []
    cpu_floors: list[float] = []
    done = 0
    bytecode = _bytecode()
    with workdir() as tmp:
        floor_nb = _floor_notebook(tmp)
        for i in range(repeat):
            if i >= 2 and out_of_time():  # the run's time budget: two repeats at least
                break
            run_dir = tmp / f"run{i}"
            run_dir.mkdir()
            with SandboxProcess(run_dir / "sandbox.db", order_delay=0) as sb, isolated_env(
                    BW_SANDBOX_URL=sb.url, BW_STATE_FILE=str(run_dir / "state.json"),
                    BW_CONFIG_DIR=str(run_dir / "config"), BW_EXPORT_DIR=str(run_dir / "exports"),
                    TQDM_MININTERVAL="0.05"):
                # the floor runs before every notebook (paired), so a slow spell of the shared machine
                # raises both; the repeat's floor is the median of its floor runs
                floor_runs, floor_cpu = [], []
                total = total_cpu = 0.0
                for path in books:
                    floor_run, cpu = _timed(floor_nb)
                    floor_runs.append(floor_run.seconds)
                    floor_cpu.append(cpu)
                    result, cpu = _timed(path)
                    per_book[path.stem].append(result.seconds)
                    total += result.seconds
                    total_cpu += cpu
                    if not result.ok:
                        failures.append(f"{path.stem} (run {i + 1}, cell {result.failed_cell}: {result.error})")
                floor_run, cpu = _timed(floor_nb)
                floor_runs.append(floor_run.seconds)
                floor_cpu.append(cpu)
            floor = statistics.median(floor_runs)
            totals.append(total)
            floors.append(floor)
            ratios.append(total / (len(books) * floor))
            cpu_totals.append(total_cpu)
            cpu_floors.append(statistics.median(floor_cpu))
            cpu_ratios.append(total_cpu / (len(books) * statistics.median(floor_cpu)))
            done += 1
    t, f = Stat(totals), Stat(floors)
    ct, cf, cr = Stat(cpu_totals), Stat(cpu_floors), Stat(cpu_ratios)
    n = len(books)
    note = f"{n} of {total_books} notebooks (smoke)" if smoke else f"all {n} notebooks"
    row = Row(
        key="1", measure="Walkthrough, all notebooks headless",
        ours=(f"{t.fmt('s')} for {n} notebook{'s' if n != 1 else ''}; kernel CPU {ct.fmt('s')} = {cr.fmt()} × the "
              f"floor's {cf.fmt('s')}" + (f"; FAILED: {'; '.join(failures)}" if failures else "")),
        peer=f"floor {n} × {f.fmt('s')} = {n * f.median:.1f} s (one-cell notebook `{FLOOR_SOURCE}`)",
        ratio=Stat(ratios), ratio_note="× floor (lower is better)",
        settings=(f"{note}; nbclient kernel per notebook (bwhelpers.notebooks.execute_notebook), fresh sandbox "
                  f"subprocess with order delay 0 and a private state file per repeat; floor = median of a one-cell "
                  f"notebook run before each notebook (and once after); kernel CPU = the kernel process's user+system "
                  f"time; {bytecode}; per-cell timeout 120 s; {repeats_note(done, repeat)}"),
        goal=("<=", 1.5), values={"total_s": t.median, "floor_s": f.median, "notebooks": float(n),
                                  "failures": float(len(failures)), "kernel_cpu_s": ct.median,
                                  "floor_cpu_s": cf.median, "cpu_ratio": cr.median})
    lines = ["### Walkthrough: per-notebook breakdown", "",
             "| notebook | seconds, median [min–max] | × floor |", "|---|---|---|"]
    floor_med = statistics.median(floors)
    for name, secs in per_book.items():
        s = Stat(secs)
        lines.append(f"| {name} | {s.fmt(digits=2)} | {s.median / floor_med:.2f} |")
    lines.append(f"| (floor: one-cell notebook) | {f.fmt(digits=2)} | 1.00 |")
    if failures:
        lines += ["", "Failures: " + "; ".join(failures)]
    return [row], "\n".join(lines)
