"""``python -m bwhelpers lab``: JupyterLab for the walkthrough, the same on a laptop, in a container and as root.

* as root (common in containers) it adds ``--allow-root``, which ``jupyter lab`` otherwise refuses to start without;
* it installs :func:`strip_walkthrough_outputs` as the contents manager's ``pre_save_hook``: when JupyterLab
  (auto)saves one of the walkthrough's notebooks, its outputs, execution counts and widget state are left out of
  the file, and the metadata JupyterLab fills in (the kernel's full ``language_info``, its kernelspec's display
  name, per-cell ``execution``/``scrolled``/``collapsed`` marks) goes back to the committed form. A reopened
  notebook is then clean (re-run its cells), never a page of "Error displaying widget: model not found" for forms
  whose kernel is gone, and opening and saving an unchanged notebook leaves the committed file byte-identical, so
  a participant's later ``git pull`` never fails on it;
* it shuts down the kernels of closed notebooks after 20 idle minutes (:data:`KERNEL_CULLING`), so a sitting through
  the 14 notebooks does not leave 14 kernels running (on a shared workshop host, the main cost of a sitting).

Any other arguments are passed to ``jupyter lab`` as they are (``python -m bwhelpers lab --port 8899``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["lab_command", "lab_environment", "main", "strip_walkthrough_outputs", "WIDGET_VIEW", "KERNEL_CULLING"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DEFAULT_NOTEBOOK = "notebooks/00_start_here.ipynb"
#: a notebook closed without shutting its kernel down (each of the 14 starts one) holds memory until the server
#: stops: a kernel with no open tab, idle for 20 minutes, is shut down (checked every 5). An open notebook's kernel
#: is never culled, and what a notebook saved stays saved. The same values are in
#: jupyter-config/jupyter_server_config.d/bwhelpers.json (installed labs, Binder, a workshop's JupyterHub)
KERNEL_CULLING = {"cull_idle_timeout": 1200, "cull_interval": 300, "cull_connected": False}
#: a Jupyter config folder whose labconfig/default_setting_overrides.json turns off JupyterLab's "Would you like to
#: get notified about official Jupyter news?" toast (it covers the first page's corner) and its update check
LAB_CONFIG_DIR = Path(__file__).resolve().parent / "data" / "jupyter_config"


def lab_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) with :data:`LAB_CONFIG_DIR` first on ``JUPYTER_CONFIG_PATH``."""
    env = dict(os.environ if environ is None else environ)
    rest = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p and p != str(LAB_CONFIG_DIR)]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(LAB_CONFIG_DIR), *rest])
    return env


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return bool(geteuid and geteuid() == 0)


def lab_command(args: Sequence[str] = (), *, root: bool | None = None) -> list[str]:
    """The ``jupyter lab`` command line for ``args`` (default: the project as the root, opening 00_start_here)."""
    args = list(args)
    cmd = [sys.executable, "-m", "jupyter", "lab"]
    folder = Path.cwd()
    # a path to open is an argument that names a file or folder: `--port 8899` gives jupyter lab the port as a
    # separate word, which is no path (it took the landing page away: the URL printed was the Launcher's)
    paths = [a for a in args if not a.startswith("-") and (folder / a).exists()]
    if not paths and not any("default_url" in a for a in args):
        if (folder / DEFAULT_NOTEBOOK).is_file():
            # the project stays the server's root (the Postman downloads in ../exports are served), and the URL
            # the server prints and opens lands on 00_start_here, not on the Launcher
            cmd.append(f"--LabApp.default_url=/lab/tree/{DEFAULT_NOTEBOOK}")
    cmd += args
    if (_is_root() if root is None else root) and not any(a.startswith("--allow-root") or "allow_root" in a
                                                           for a in args):
        cmd.append("--allow-root")
    if not any("pre_save_hook" in a for a in args):
        cmd.append("--ContentsManager.pre_save_hook=bwhelpers.lab.strip_walkthrough_outputs")
    if not any("cull_" in a for a in args):
        cmd += [f"--MappingKernelManager.{k}={v}" for k, v in KERNEL_CULLING.items()]
    return cmd


def _is_walkthrough(path: str, contents_manager: Any) -> bool:
    root = getattr(contents_manager, "root_dir", None)
    try:
        full = (Path(root) / path).resolve() if root else Path(path).resolve()
    except (OSError, ValueError):
        return False
    from .steps import PAGES

    return full.parent == _NOTEBOOKS or (full.parent.name == "notebooks" and full.name in {p.filename for p in PAGES})


def strip_walkthrough_outputs(model: dict[str, Any], path: str = "", contents_manager: Any = None,
                              **_: Any) -> None:
    """``pre_save_hook``: a walkthrough notebook is saved without outputs, execution counts or widget state."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    if not _is_walkthrough(path, contents_manager):
        return
    nb = model["content"]
    metadata = nb.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("widgets", None)
        _committed_metadata(metadata)
    for cell in nb.get("cells") or []:
        meta = cell.get("metadata")
        if isinstance(meta, dict):
            for key in _LAB_CELL_KEYS:
                meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


#: what the walkthrough's notebooks are committed with (JupyterLab fills in more when a kernel starts)
COMMITTED_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
COMMITTED_LANGUAGE_INFO = {"name": "python"}
#: per-cell metadata JupyterLab adds while you work (timing, scrolling, collapsing); tags and the rest are kept
_LAB_CELL_KEYS = ("execution", "scrolled", "collapsed", "jupyter", "trusted")


def _committed_metadata(metadata: dict[str, Any]) -> None:
    """The notebook's metadata as committed: the python3 kernelspec and ``language_info`` naming only the language."""
    spec = metadata.get("kernelspec")
    if not isinstance(spec, dict) or spec.get("language", "python") == "python":
        metadata["kernelspec"] = dict(COMMITTED_KERNELSPEC)
    info = metadata.get("language_info")
    if not isinstance(info, dict) or info.get("name", "python") == "python":
        metadata["language_info"] = dict(COMMITTED_LANGUAGE_INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Run JupyterLab (replacing this process where the OS allows)."""
    cmd = lab_command(list(sys.argv[1:] if argv is None else argv))
    env = lab_environment()
    if hasattr(os, "execve"):
        os.execve(cmd[0], cmd, env)  # pragma: no cover - replaces the process
    import subprocess  # pragma: no cover

    return subprocess.call(cmd, env=env)  # pragma: no cover
