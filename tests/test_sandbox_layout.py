"""The sandbox's structure: areas and shared modules import only public names of each other (no
``core._basic``-style reach into another module), and there is no import cycle between them (the
import-linter contract "no import cycles in the sandbox" in pyproject.toml, run by tests/test_gates.py)."""
from __future__ import annotations

import ast
from pathlib import Path

import _source_tree

import bwhelpers.sandbox

SANDBOX = Path(bwhelpers.sandbox.__file__).parent


def _private_reaches(path: Path) -> list[str]:
    """``from x import _name`` and ``module._name`` where the module is one of bwhelpers' own."""
    found, modules = [], set()
    for node in _source_tree.nodes(path):
        if isinstance(node, ast.ImportFrom):
            ours = bool(node.level) or (node.module or "").startswith("bwhelpers")
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} from {node.module or '.'} import {alias.name}")
                elif ours:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("bwhelpers"))
    for node in _source_tree.nodes(path):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                and node.attr.startswith("_") and not node.attr.startswith("__"):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_private_names_cross_sandbox_modules() -> None:
    found = [hit for path in sorted(SANDBOX.rglob("*.py")) for hit in _private_reaches(path)]
    assert not found, "make the shared helper public in a shared module instead:\n" + "\n".join(found)


def test_the_check_sees_a_private_reach(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from ..base import _basic\nfrom .. import server\nserver._log_request(None)\nserver.__doc__\n")
    assert _private_reaches(bad) == ["bad.py:1 from base import _basic", "bad.py:3 server._log_request"]


def test_no_grab_bag_core_module() -> None:
    """``core.py`` was split into auth, accounts, settings, guards, faults, context and base (issue 20)."""
    assert not (SANDBOX / "core.py").exists()
    for name in ("auth", "accounts", "settings", "guards", "base", "context"):
        assert (SANDBOX / f"{name}.py").is_file(), name


def test_control_plane_errors_are_one_class_each() -> None:
    """The control plane raises its own exception classes (control/exceptions.py, workshop/exceptions.py), as the
    Dashboard area does; the generic ``ControlError(text, status)`` is built only by the base handler, for
    protocol errors (405, 413, 421...)."""
    found = []
    for path in sorted(SANDBOX.rglob("*.py")):
        if path.name == "exceptions.py" or path.relative_to(SANDBOX).as_posix() == "base.py":
            continue
        for node in _source_tree.nodes(path):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ControlError":
                found.append(f"{path.relative_to(SANDBOX)}:{node.lineno}")
    assert not found, found
