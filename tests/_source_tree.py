"""The project's Python modules, parsed once per process: the AST checks of tests/test_one_home.py,
tests/test_new_step.py and tests/test_sandbox_layout.py share them (conftest.XDIST_GROUPS runs the three in one
worker, so bwhelpers' 30,000 lines are parsed and walked once, not once per module and worker)."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def tree(path: Path) -> ast.Module:
    """The module at ``path``, parsed."""
    return ast.parse(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def nodes(path: Path) -> tuple[ast.AST, ...]:
    """Every node of the module at ``path`` (``ast.walk`` order), walked once."""
    return tuple(ast.walk(tree(path)))
