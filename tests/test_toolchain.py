"""The pinned toolchain: constraints.txt pins the gate tools, the libraries whose types decide mypy's answer and
pytest with its plugins; the README's test command installs with it; pyproject.toml's floors admit the pins."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
from readme_command import command  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def pins() -> dict[str, Version]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt pins exact versions: {line!r}"
            out[name.strip().lower().replace("_", "-")] = Version(version.strip())
    return out


def test_the_gate_tools_and_the_typing_libraries_are_pinned() -> None:
    pinned = pins()
    for name in ("mypy", "ruff", "import-linter", "grimp", "requests", "pytest", "pytest-xdist", "pytest-timeout",
                 "hypothesis"):
        assert name in pinned, name


def test_the_readme_test_command_installs_with_the_constraints() -> None:
    assert re.search(r"pip install [^&]*-c constraints\.txt[^&]*-e \"\.\[test\]\"", command("test")), command("test")


def test_the_floors_in_pyproject_admit_the_pins_and_are_the_true_ones() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    floors = {r.name.lower().replace("_", "-"): r.specifier for r in requirements}
    pinned = pins()
    for name, version in pinned.items():
        if name in floors:
            assert floors[name].contains(version), f"{name}=={version} is outside pyproject's {floors[name]}"
    # the first import-linter with the acyclic_siblings contract, the first mypy that passes the gate
    assert not floors["import-linter"].contains("2.5") and floors["import-linter"].contains("2.6")
    assert not floors["mypy"].contains("2.1.0") and floors["mypy"].contains("2.2.0")
    assert "pytest-xdist" in floors


def test_no_environment_folder_or_link_to_one_is_tracked() -> None:
    """A worktree's ``.venv`` is often a symlink to the main clone's venv; ``.venv/`` in .gitignore matches only a
    folder, so such a link was committed (23e55f5) and a fast-forward then replaced the clone's real venv with a
    link to itself. The ignore patterns match a link too, and nothing of the kind is tracked."""
    import subprocess

    patterns = {line.strip() for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()}
    for name in (".venv", "venv", "node_modules"):
        assert name in patterns, f".gitignore: {name!r} (no trailing slash: a symlink is no folder)"
    tracked = subprocess.run(["git", "ls-files", "--", ".venv", "venv", "node_modules"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    assert tracked == [], tracked
