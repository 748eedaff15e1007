"""
bwhelpers.notebooks
~~~~~~~~~~~~~~~~~~~

The headless runner behind ``python -m bwhelpers run-notebooks``: execute every walkthrough
notebook in order against the configured target (the sandbox by default), write the executed
copies and an HTML rendering, print a summary of the steps and saved IDs, and stop at the first
failure naming the notebook, the cell and the cause.

A notebook fails when a cell raises, and also when a step did not complete although nothing raised: the
walkthrough shows that as a box marked ``bw-incomplete`` (an error, a missing prerequisite, a timed-out wait, a
send that sent nothing). A cell tagged ``expected-failure`` (a deliberate failure, such as the events notebook's
failing destination) does not count.
"""
from __future__ import annotations

import functools
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


@dataclass
class NotebookRun:
    """The outcome of one executed notebook."""

    name: str
    ok: bool
    seconds: float
    failed_cell: int | None = None
    error: str | None = None
    output: Path | None = None
    expected: list[tuple[int, str]] = field(default_factory=list)   #: deliberate failures shown, (cell, cause)


def find_notebooks(folder: Path | None = None, only: Iterable[str] | None = None) -> list[Path]:
    """The walkthrough notebooks in order (``NN_name.ipynb``), optionally filtered by name."""
    folder = Path(folder or os.environ.get("BW_NOTEBOOK_DIR") or NOTEBOOK_DIR)
    books = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = [Path(o).stem for o in only]
        missing = [w for w in wanted if not any(p.stem == w or p.stem.startswith(w) for p in books)]
        if missing:
            raise ValueError(f"no notebook named {missing} in {folder}; choose from {[p.stem for p in books]}")
        books = [p for p in books if any(p.stem == w or p.stem.startswith(w) for w in wanted)]
    return books


def _ipc_kernel_manager_class():
    """A KernelManager whose kernel talks over private Unix sockets (ZMQ ``ipc``), removed afterwards."""
    import shutil
    import tempfile

    from jupyter_client.manager import KernelManager

    class IpcKernelManager(KernelManager):
        def __init__(self, **kwargs: object) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(tempfile.mkdtemp(prefix="bwk-"), "k"))
            super().__init__(**kwargs)

        def cleanup_resources(self, restart: bool = False) -> None:
            super().cleanup_resources(restart=restart)
            folder = os.path.dirname(self.ip)
            if not restart and os.path.basename(folder).startswith("bwk-"):
                shutil.rmtree(folder, ignore_errors=True)

    return IpcKernelManager


def notebook_client(nb, path: Path, timeout: int = 300, kernel_name: str = "python3"):
    """An nbclient ``NotebookClient`` whose kernel talks over private Unix sockets.

    With the default TCP transport, kernels started at the same moment by different processes can
    race for the same free ports, and a client then waits forever for a reply that went elsewhere.
    nbclient creates (and therefore shuts down) the kernel itself.
    """
    from nbclient import NotebookClient

    return NotebookClient(nb, kernel_manager_class=_ipc_kernel_manager_class(), timeout=timeout,
                          kernel_name=kernel_name, allow_errors=False, record_timing=False,
                          store_widget_state=True, shutdown_kernel="immediate",
                          resources={"metadata": {"path": str(path.parent)}})


def execute_notebook(path: Path, out_dir: Path | None = None, timeout: int = 300,
                     kernel_name: str = "python3", html: bool = True) -> NotebookRun:
    """Execute one notebook in a fresh kernel (cwd = its folder). Never raises for cell errors."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path, timeout=timeout, kernel_name=kernel_name)
    started = time.perf_counter()
    run = NotebookRun(name=path.stem, ok=True, seconds=0.0)
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        run.ok = False
        run.failed_cell = _failed_cell(nb)
        run.error = _cause(exc)
    else:
        incomplete = incomplete_step(nb)
        if incomplete is not None:
            run.ok = False
            run.failed_cell, run.error = incomplete
        run.expected = expected_failures(nb)
    run.seconds = time.perf_counter() - started
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        run.output = out_dir / path.name
        nbformat.write(nb, run.output)
        if html:
            try:
                body, _ = _html_exporter().from_notebook_node(nb)
                (out_dir / f"{path.stem}.html").write_text(body, encoding="utf-8")
            except Exception as exc:  # pragma: no cover - rendering is best effort
                print(f"warning: could not render {path.name} to HTML: {exc}", file=sys.stderr)
    return run


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """One nbconvert HTML exporter for the run: making one loads its templates (about 0.15 s of CPU a notebook;
    one exporter renders the 14 notebooks in 1.1 s of CPU rather than 2.9)."""
    from nbconvert import HTMLExporter

    return HTMLExporter()


EXPECTED_FAILURE_TAG = "expected-failure"
_BOX = re.compile(r'<[^>]*class="([^"]*\bbw-incomplete\b[^"]*)"[^>]*?data-cause="([^"]*)"')


def incomplete_step(nb) -> tuple[int, str] | None:
    """The first code cell (1-based among code cells) that shows a "step did not complete" box, with its cause.

    A deliberate failure (a box marked ``bw-expected``) is not counted in a cell tagged ``expected-failure``; in
    any other cell it counts like every failure. Any other failure counts in a tagged cell too (a wait for the
    deliberate failure that timed out is not the failure the tag expects)."""
    import html

    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        expected = EXPECTED_FAILURE_TAG in (cell.get("metadata", {}).get("tags") or [])
        for output in cell.get("outputs", []):
            body = (output.get("data") or {}).get("text/html")
            if isinstance(body, list):
                body = "".join(body)
            if not isinstance(body, str) or "bw-incomplete" not in body:
                continue
            for classes, cause in _BOX.findall(body):
                if expected and "bw-expected" in classes.split():
                    continue
                return code_index, html.unescape(cause) or "a step did not complete"
    return None


def expected_failures(nb) -> list[tuple[int, str]]:
    """The deliberate failures the notebook showed in its ``expected-failure`` cells: (code cell, cause)."""
    import html

    found = []
    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        if EXPECTED_FAILURE_TAG not in (cell.get("metadata", {}).get("tags") or []):
            continue
        for output in cell.get("outputs", []):
            body = (output.get("data") or {}).get("text/html")
            body = "".join(body) if isinstance(body, list) else body
            if isinstance(body, str):
                found += [(code_index, html.unescape(c)) for k, c in _BOX.findall(body) if "bw-expected" in k.split()]
    return found


def _failed_cell(nb) -> int | None:
    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return code_index
    return None


def _cause(exc: BaseException) -> str:
    """The failure's type and cause in one line (``TransportError: cannot reach ...``), without colour codes."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        text = f"{ename}: {evalue}" if evalue else str(ename)
    else:
        text = _first_line(str(exc)) or type(exc).__name__
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(text.split())[:400]


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    # nbclient puts the traceback first and the exception last
    for ln in reversed(lines):
        if "Error" in ln or "Exception" in ln:
            return ln.strip()[:300]
    return (lines[-1] if lines else text)[:300]


def run_notebooks(out: str | os.PathLike[str] = "artifacts/notebooks", only: Sequence[str] | None = None,
                  timeout: int = 300, folder: Path | None = None, quiet: bool = False) -> int:
    """Execute the notebooks in order; 0 when all pass, 1 at the first failure (named)."""
    out_dir = Path(out)
    books = find_notebooks(folder, only)
    if not books:
        print("no notebooks found", file=sys.stderr)
        return 1
    from .connection import share_sandbox

    try:
        handle = share_sandbox()
    except ConnectionError as exc:  # a dead BW_SANDBOX_URL: one line naming the cause and the fix, no traceback
        print(f"FAILED before {books[0].name}: {exc}", file=sys.stderr)
        return 1
    receiver = _share_receiver()
    runs: list[NotebookRun] = []
    try:
        for path in books:
            if not quiet:
                print(f"running {path.name} ...", flush=True)
            run = execute_notebook(path, out_dir=out_dir, timeout=timeout)
            runs.append(run)
            for cell, cause in run.expected:
                print(f"expected failure (tagged {EXPECTED_FAILURE_TAG}): {path.name}, code cell {cell}: {cause}",
                      flush=True)
            if not run.ok:
                print(f"FAILED: {path.name}, code cell {run.failed_cell}: {run.error}", file=sys.stderr)
                break
        _print_summary(runs)
    finally:
        if handle is not None:
            handle.stop()
        if receiver is not None:
            receiver.stop()
    return 0 if runs and all(r.ok for r in runs) and len(runs) == len(books) else 1


def _share_receiver():
    """A real account with BW_CALLBACK_BASE_URL / BW_RECEIVER_PORT: one callback receiver for every kernel of the
    run (kernels come and go; callbacks arrive between them). A problem is left to the notebooks to report."""
    from .config import default_target
    from .receiver import BASE_URL_ENV, PORT_ENV

    if default_target() != "real" or not (os.environ.get(BASE_URL_ENV) or os.environ.get(PORT_ENV)):
        return None
    from . import receiver

    try:
        handle = receiver.ensure_running()
    except OSError:
        return None
    return handle if not handle.reused else None


def _print_summary(runs: list[NotebookRun]) -> None:
    print()
    print(f"{'notebook':<32} {'result':<8} {'seconds':>8}")
    for r in runs:
        print(f"{r.name:<32} {'ok' if r.ok else 'FAILED':<8} {r.seconds:>8.1f}")
    try:
        from . import connect
        from .tables import state_frame

        setup = connect()
        df = state_frame(setup)
        print()
        print(f"saved state ({setup.config.target}, profile {setup.config.profile}):")
        print(df.to_string(index=False) if len(df) else "(empty)")
    except Exception as exc:  # the summary must not hide the run's result
        print(f"(could not read the saved state: {exc})")
