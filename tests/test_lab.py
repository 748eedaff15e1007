"""``python -m bwhelpers lab``: --allow-root for root, and the walkthrough saved without outputs or widget state."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bwhelpers.lab import lab_command, strip_walkthrough_outputs

ROOT = Path(__file__).resolve().parents[1]


def test_root_gets_allow_root_and_others_do_not() -> None:
    as_root = lab_command(["notebooks/00_start_here.ipynb"], root=True)
    assert as_root[1:4] == ["-m", "jupyter", "lab"] and "--allow-root" in as_root
    assert "--allow-root" not in lab_command(["notebooks/00_start_here.ipynb"], root=False)
    assert lab_command(["--ServerApp.allow_root=True"], root=True).count("--allow-root") == 0
    assert any(a.endswith("pre_save_hook=bwhelpers.lab.strip_walkthrough_outputs") for a in as_root)


def test_the_launcher_opens_00_with_the_project_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """From the project folder: no notebook path (the project stays the root, so the Postman downloads in
    exports/ are served) and the URL JupyterLab prints and opens is 00_start_here's, not the Launcher's."""
    monkeypatch.chdir(ROOT)
    cmd = lab_command([], root=False)
    assert "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb" in cmd
    assert not any(a.endswith(".ipynb") and not a.startswith("--") for a in cmd)
    # an option's value given as its own word is no path to open: the landing page stays 00_start_here's
    assert "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb" in lab_command(["--port", "8899"], root=False)
    # a notebook given to open is opened instead
    assert not any("default_url" in a for a in lab_command(["notebooks/01_create_application.ipynb"], root=False))


def _executed(tmp: Path) -> dict:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("form")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox()"})]
    nb.cells[0].execution_count = 3
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    return {"type": "notebook", "content": nb}


class _CM:
    def __init__(self, root: Path):
        self.root_dir = str(root)


def test_a_walkthrough_notebook_is_saved_without_outputs_or_widget_state(tmp_path: Path) -> None:
    model = _executed(tmp_path)
    strip_walkthrough_outputs(model=model, path="notebooks/01_create_application.ipynb",
                              contents_manager=_CM(ROOT))
    nb = model["content"]
    assert "widgets" not in nb.metadata
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None


def test_opening_and_saving_an_unchanged_notebook_leaves_the_committed_file_byte_identical(tmp_path: Path) -> None:
    """What JupyterLab sends when it saves a walkthrough notebook it ran: outputs, counts, widget state, the kernel's
    full language_info, its kernelspec's display name, per-cell timing and scroll marks. The hook writes back the
    committed bytes (nbformat's own serialisation, as the server's save does)."""
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        committed = path.read_text(encoding="utf-8")
        nb = nbformat.reads(committed, as_version=4)
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        nb.metadata["language_info"] = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                        "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                        "pygments_lexer": "ipython3", "version": "3.11.7"}
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
        for cell in nb.cells:
            cell.metadata["scrolled"] = True
            cell.metadata["jupyter"] = {"source_hidden": False}
            if cell.cell_type == "code":
                cell.metadata["execution"] = {"iopub.execute_input": "2026-12-06T10:00:00.000Z"}
                cell.execution_count = 4
                cell.outputs = [nbformat.v4.new_output("stream", text="x")]
        model = {"type": "notebook", "content": nb}
        strip_walkthrough_outputs(model=model, path=f"notebooks/{path.name}", contents_manager=_CM(ROOT))
        assert nbformat.writes(model["content"]) + "\n" == committed, path.name


def test_other_notebooks_are_left_alone(tmp_path: Path) -> None:
    model = _executed(tmp_path)
    strip_walkthrough_outputs(model=model, path="mine/analysis.ipynb", contents_manager=_CM(tmp_path))
    assert model["content"].cells[0].outputs and "widgets" in model["content"].metadata


def test_the_server_config_names_the_hook_and_is_installed_with_the_package() -> None:
    import json

    config = ROOT / "jupyter-config" / "jupyter_server_config.d" / "bwhelpers.json"
    assert json.loads(config.read_text())["ContentsManager"]["pre_save_hook"] == \
        "bwhelpers.lab.strip_walkthrough_outputs"
    pyproject = (ROOT / "pyproject.toml").read_text()  # (tomllib is 3.11+; the project supports 3.10)
    assert "[tool.setuptools.data-files]" in pyproject
    assert f'"etc/jupyter/jupyter_server_config.d" = ["{config.relative_to(ROOT).as_posix()}"]' in pyproject
    assert "jupyter_server_config.d" in (ROOT / "binder" / "postBuild").read_text()


def test_kernels_of_closed_notebooks_are_culled_in_every_lab() -> None:
    """Review 24b finding 10: kernels pile up over a sitting. The launcher and the installed server config shut down
    a kernel with no open tab after 20 idle minutes (never an open notebook's kernel); an explicit setting wins."""
    import json

    from bwhelpers.lab import KERNEL_CULLING

    cmd = lab_command([], root=False)
    assert "--MappingKernelManager.cull_idle_timeout=1200" in cmd and "--MappingKernelManager.cull_connected=False" in cmd
    assert not [a for a in lab_command(["--MappingKernelManager.cull_idle_timeout=60"], root=False)
                if a.endswith("=1200")]
    config = json.loads((ROOT / "jupyter-config" / "jupyter_server_config.d" / "bwhelpers.json").read_text())
    assert config["MappingKernelManager"] == KERNEL_CULLING and KERNEL_CULLING["cull_connected"] is False


@pytest.mark.slow  # starts a real JupyterLab server
def test_the_news_toast_and_update_check_are_off_in_the_labs_settings(tmp_path: Path) -> None:
    """Review 24d finding 3: JupyterLab's "Would you like to get notified about official Jupyter news?" toast covers
    the first page's corner. The launcher's environment (and a workshop's spawner's) sets the notification plugin's
    fetchNews to "false" (no toast) and its update check off: JupyterLab's settings API answers so. The lab is
    started by the launcher itself (``python -m bwhelpers lab``), as the README's walkthrough command starts it."""
    import os
    import secrets
    import socket
    import time

    import requests

    from bwhelpers.lab import LAB_CONFIG_DIR, lab_environment

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    env = lab_environment({**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_PATH": "/nowhere"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(LAB_CONFIG_DIR), "/nowhere"]
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"))
    cmd = [sys.executable, "-m", "bwhelpers", "lab", f"--port={port}", "--no-browser",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
    launcher = {**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_PATH": "/nowhere",  # it adds its own config
                **{k: env[k] for k in ("JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR")}}
    proc = subprocess.Popen(cmd, env=launcher, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification"
        deadline = time.monotonic() + 120
        while True:
            try:
                r = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=10)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "the lab did not start"
                time.sleep(0.5)
        assert r.status_code == 200, r.text
        # the overrides become the schema's defaults, which JupyterLab's composite setting starts from
        defaults = {k: v.get("default") for k, v in r.json()["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    finally:
        proc.terminate()
        proc.wait(timeout=30)
