"""The architecture and code gates: import-linter's layer contracts, ruff and mypy, configured in
pyproject.toml. Each runs as a subprocess, so a violation fails the test suite (and CI)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # analyse this checkout, not another install
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(path).exists():
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' installs it (the gates are part of the tests)")
    return path


def test_import_layers_are_kept() -> None:
    # its import-graph cache (keyed by each module's file) in artifacts/, where the run writes: a re-run reads the
    # modules that did not change from it (about 1 s instead of 3); a fresh clone builds it
    proc = _run(_tool("lint-imports"), "--cache-dir", str(ROOT / "artifacts" / ".import_linter_cache"))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_ruff_is_clean() -> None:
    proc = _run(_tool("ruff"), "check", "bwhelpers", "tests", "bench")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    proc = _run(_tool("mypy"))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_modules_whose_module_fixture_starts_a_service_run_in_one_worker() -> None:
    """A module-scoped fixture starting a workshop service or a hub runs once per worker its tests reach: such a
    module is one xdist group (conftest.XDIST_GROUPS), so the service starts once per run."""
    import ast

    from conftest import XDIST_GROUPS

    expensive = ("workshop_service", "Hub", "HubStandIn")
    missing = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if path.stem in XDIST_GROUPS or not any(name in text for name in expensive):
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef):
                continue
            scoped = any(isinstance(d, ast.Call) and any(k.arg == "scope" and getattr(k.value, "value", None) in
                                                         ("module", "session") for k in d.keywords)
                         for d in node.decorator_list)
            if not scoped:  # (walking only the scoped fixtures' bodies: every function's was 5 s of a quick run)
                continue
            calls = {getattr(c.func, "id", getattr(c.func, "attr", None)) for c in ast.walk(node)
                     if isinstance(c, ast.Call)}
            if calls & set(expensive):
                missing.append(f"{path.name}: {node.name}")
    assert not missing, f"add these modules to conftest.XDIST_GROUPS: {missing}"


def test_every_test_of_the_shared_walkthrough_is_in_its_xdist_group() -> None:
    """conftest's ``walkthrough`` (the whole walkthrough run twice) is a session fixture: it runs once in every xdist
    worker that a test using it reaches. Every test that takes it is in the "walkthrough" group (its module in
    conftest.XDIST_GROUPS, or the test marked ``xdist_group("walkthrough")``), so it runs once per run."""
    import ast

    from conftest import XDIST_GROUPS

    users, outside = [], []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if "walkthrough" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef) or "walkthrough" not in [a.arg for a in node.args.args]:
                continue
            users.append(f"{path.name}::{node.name}")
            marked = any(isinstance(d, ast.Call) and ast.unparse(d.func).endswith("xdist_group") and d.args
                         and getattr(d.args[0], "value", None) == "walkthrough" for d in node.decorator_list)
            if not marked and XDIST_GROUPS.get(path.stem) != "walkthrough":
                outside.append(users[-1])
    assert len(users) >= 2, users  # the notebooks' walkthrough test and the secrets scan
    assert not outside, f"mark these xdist_group('walkthrough') (conftest's walkthrough runs once a worker): {outside}"
