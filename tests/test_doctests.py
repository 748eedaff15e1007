"""The docstring examples run (doctest): the package's front page, the Postman export, the sandbox's start."""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path
from typing import Any

import pytest

#: every client module whose docstrings hold examples (a new one is added here; the last test checks the list)
MODULES = ("bwhelpers", "bwhelpers.postman", "bwhelpers.sandbox")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, isolated_env: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch,
                                tmp_path: Path) -> None:
    monkeypatch.setenv("BW_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("BW_SANDBOX_DB", str(tmp_path / "doctest-sandbox.db"))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs={"Path": Path}, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result.failed} of {result.attempted} failed"


def test_every_module_with_examples_is_listed() -> None:
    root = Path(__file__).resolve().parents[1] / "bwhelpers"
    found = set()
    for path in root.rglob("*.py"):
        if ">>> " in path.read_text(encoding="utf-8"):
            rel = path.relative_to(root.parent).with_suffix("").as_posix().replace("/", ".")
            found.add(rel.removesuffix(".__init__"))
    assert found == set(MODULES)
