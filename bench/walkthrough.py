"""1. Walkthrough: every notebook headless vs a fresh sandbox (order delay 0), against the floor of
N x (a one-cell notebook executed the same way, in the same run)."""
from __future__ import annotations

import statistics
from pathlib import Path

from .common import Row, SandboxProcess, Stat, isolated_env, workdir

FLOOR_SOURCE = "1 + 1"


def _floor_notebook(folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FLOOR_SOURCE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "floor.ipynb"
    nbformat.write(nb, path)
    return path


def run(smoke: bool = False, repeat: int = 3) -> tuple[list[Row], str]:
    from bwhelpers.notebooks import execute_notebook, find_notebooks

    books = find_notebooks()
    total_books = len(books)
    if smoke:
        books, repeat = books[:1], 1
    per_book: dict[str, list[float]] = {p.stem: [] for p in books}
    failures: list[str] = []
    totals: list[float] = []
    floors: list[float] = []
    ratios: list[float] = []
    with workdir() as tmp:
        floor_nb = _floor_notebook(tmp)
        for i in range(repeat):
            run_dir = tmp / f"run{i}"
            run_dir.mkdir()
            with SandboxProcess(run_dir / "sandbox.db", order_delay=0) as sb, isolated_env(
                    BW_SANDBOX_URL=sb.url, BW_STATE_FILE=str(run_dir / "state.json"),
                    BW_CONFIG_DIR=str(run_dir / "config"), BW_EXPORT_DIR=str(run_dir / "exports"),
                    TQDM_MININTERVAL="0.05"):
                # the floor runs before every notebook (paired), so a slow spell of the shared machine
                # raises both; the repeat's floor is the median of its floor runs
                floor_runs = []
                total = 0.0
                for path in books:
                    floor_runs.append(execute_notebook(floor_nb, html=False, timeout=120).seconds)
                    result = execute_notebook(path, html=False, timeout=120)
                    per_book[path.stem].append(result.seconds)
                    total += result.seconds
                    if not result.ok:
                        failures.append(f"{path.stem} (run {i + 1}, cell {result.failed_cell}: {result.error})")
                floor_runs.append(execute_notebook(floor_nb, html=False, timeout=120).seconds)
            floor = statistics.median(floor_runs)
            totals.append(total)
            floors.append(floor)
            ratios.append(total / (len(books) * floor))
    t, f = Stat(totals), Stat(floors)
    n = len(books)
    note = f"{n} of {total_books} notebooks (smoke)" if smoke else f"all {n} notebooks"
    row = Row(
        key="1", measure="Walkthrough, all notebooks headless",
        ours=f"{t.fmt('s')} for {n} notebook{'s' if n != 1 else ''}" + (f"; FAILED: {'; '.join(failures)}" if failures else ""),
        peer=f"floor {n} × {f.fmt('s')} = {n * f.median:.1f} s (one-cell notebook `{FLOOR_SOURCE}`)",
        ratio=Stat(ratios), ratio_note="× floor (lower is better)",
        settings=(f"{note}; nbclient kernel per notebook (bwhelpers.notebooks.execute_notebook), fresh sandbox "
                  f"subprocess with order delay 0 and a private state file per repeat; floor = median of a one-cell "
                  f"notebook run before each notebook (and once after); per-cell timeout 120 s; repeat {repeat}"),
        goal=("<=", 1.5), values={"total_s": t.median, "floor_s": f.median, "notebooks": float(n),
                                  "failures": float(len(failures))})
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
