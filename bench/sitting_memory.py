"""The memory one participant's sitting takes: every notebook run in order, each in its own kernel, and every kernel
kept alive afterwards (a participant who leaves each tab open, JupyterLab's default), then the resident memory
of each kernel (psutil): RSS, and PSS (shared pages split between the processes sharing them: closer to what a
container's memory limit counts, which charges a shared page once). What the workshop's per-participant memory limit
must hold (docs/workshop.md, Sizing).

    python -m bench.sitting_memory           # prints a Markdown table; nothing is written

Kernels are started the way ``run-notebooks`` starts them (nbclient, private sockets) against a fresh sandbox
subprocess; JupyterLab's own server process is not counted here (measure it with the lab open: ``ps -o rss``).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"

from bench.common import SandboxProcess, isolated_env, workdir


def _memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of process ``pid`` in MiB (PSS = RSS where the system does not report it)."""
    import psutil

    info = psutil.Process(pid).memory_full_info()
    return info.rss / 2**20, getattr(info, "pss", info.rss) / 2**20


def measure() -> list[tuple[str, bool, float, float]]:
    """(notebook, ran without a failure, its kernel's RSS and PSS in MiB once every notebook has run), in order."""
    import nbformat

    from bwhelpers.notebooks import find_notebooks, incomplete_step, notebook_client

    rows: list[tuple[str, bool, float, float]] = []
    clients: list[Any] = []
    with workdir("bwmem-") as tmp, SandboxProcess(tmp / "sandbox.db", order_delay=0) as sb, isolated_env(
            BW_SANDBOX_URL=sb.url, BW_STATE_FILE=str(tmp / "state.json"), BW_CONFIG_DIR=str(tmp / "config"),
            BW_EXPORT_DIR=str(tmp / "exports")):
        try:
            for path in find_notebooks():
                nb = nbformat.read(path, as_version=4)
                client = notebook_client(nb, path, timeout=180)
                client.km = client.create_kernel_manager()
                client.owns_km = False  # the kernel stays up after its notebook ran, as an open tab's does
                clients.append(client)
                ok = True
                try:
                    client.execute(cleanup_kc=False)
                except Exception:
                    ok = False
                ok = ok and incomplete_step(nb) is None
                rows.append((path.stem, ok, 0.0, 0.0))
            rows = [(name, ok, *_memory_mb(int(c.km.provisioner.process.pid)))
                    for (name, ok, _, _), c in zip(rows, clients)]
        finally:
            for client in clients:
                try:
                    client.km.shutdown_kernel(now=True)
                except Exception:
                    pass
    return rows


def main() -> None:
    rows = measure()
    print("| notebook | ran ok | kernel RSS, MiB | kernel PSS, MiB |\n|---|---|---|---|")
    for name, ok, rss, pss in rows:
        print(f"| {name} | {'yes' if ok else 'NO'} | {rss:.0f} | {pss:.0f} |")
    rss, pss = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"| **all {len(rows)} kernels** | | **{rss:.0f}** (each {min(r[2] for r in rows):.0f}–"
          f"{max(r[2] for r in rows):.0f}) | **{pss:.0f}** |")


if __name__ == "__main__":
    main()
