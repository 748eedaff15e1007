"""One home per fact: each row of docs/ARCHITECTURE.md's "One home for each fact" table has a check here that
fails when a second home appears (AST over the client's modules, as import-linter does for imports)."""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import _source_tree
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "bwhelpers"


@lru_cache(maxsize=None)
def _modules() -> tuple[tuple[str, ast.Module], ...]:
    """The client's modules (the sandbox is its own world, with its own rules), parsed."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith("sandbox/"):
            continue
        out.append((rel, _source_tree.tree(path)))
    return tuple(out)


@lru_cache(maxsize=None)
def _nodes() -> tuple[tuple[str, ast.AST], ...]:
    """Every node of every client module, walked once."""
    return tuple((rel, node) for rel, _ in _modules() for node in _source_tree.nodes(PKG / rel))


@lru_cache(maxsize=None)
def _all_strings(code_only: bool) -> tuple[tuple[str, int, str], ...]:
    out = []
    for rel, tree in _modules():
        skip = _docstrings(tree) if code_only else set()
        out += [(rel, node.lineno, node.value) for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]
    return tuple(out)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _strings(code_only: bool = False) -> Iterator[tuple[str, int, str]]:
    """(module, line, text) of every string constant (f-strings' literal parts too); ``code_only``: no docstrings."""
    yield from _all_strings(code_only)


def _homes(pred, code_only: bool = True) -> set[str]:
    return {rel for rel, _, text in _strings(code_only) if pred(text)}


def _defined(name: str) -> set[str]:
    return {rel for rel, node in _nodes()
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.name == name}


def _imports(module: str) -> set[str]:
    """The client modules that import ``module`` (or one of its submodules), at any level."""
    found = set()
    for rel, node in _nodes():
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        if any(n == module or n.startswith(module + ".") for n in names):
            found.add(rel)
    return found


def _calls(attr: str, owner: str | None = None) -> set[str]:
    """Modules calling ``owner.attr(...)`` (or a bare ``attr(...)`` when owner is None)."""
    found = set()
    for rel, node in _nodes():
        if isinstance(node, ast.Call):
            f = node.func
            if owner is None and isinstance(f, ast.Name) and f.id == attr:
                found.add(rel)
            elif isinstance(f, ast.Attribute) and f.attr == attr and (
                    owner is None or isinstance(f.value, ast.Name) and f.value.id == owner):
                found.add(rel)
    return found


# ------------------------------------------------------------------------------------------------ the rows
def test_steps_step_titles_only_in_the_step_table() -> None:
    """No "Step 3" (or f"Step {n}") outside steps.py, docstrings included: titles come from steps.label()."""
    found = set()
    for rel, node in _nodes():
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"\bStep \d", node.value):
            found.add(f"{rel}:{node.lineno}")
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for a, b in zip(parts, parts[1:]):
                if isinstance(a, ast.Constant) and str(a.value).endswith("Step ") and isinstance(b, ast.FormattedValue):
                    found.add(f"{rel}:{node.lineno}")
    assert {f for f in found if not f.startswith("steps.py:")} == set()


#: the saved state's keys: reading them by string belongs to state.py
_STATE_KEYS = "application|location|sms|mms|assigned|orders|numbers|a2p|messages|forms|media"
_STATE_READ = re.compile(r'(?:\bsaved|\bst|\bstate|\bs)(?:\.get\(|\[)"(?:%s)"' % _STATE_KEYS)


def test_saved_state_is_read_by_attribute_outside_the_state_module() -> None:
    reads = [f"{p.relative_to(PKG)}:{n}" for p in sorted(PKG.rglob("*.py")) if "sandbox" not in p.parts
             and p.name != "state.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _STATE_READ.search(line)]
    assert len(reads) <= 5, reads


def test_sandbox_or_real_is_decided_in_config_only() -> None:
    assert _defined("decide_target") == {"config.py"}
    # workshop_spawn.py (the hub's spawn hook) sets BW_TARGET=sandbox in the environment of the servers it spawns
    assert _homes(lambda t: t == "BW_TARGET") == {"config.py", "workshop_spawn.py"}
    # nobody sniffs URLs to guess the target ("127.0.0.1" in url)
    sniffs = {rel for rel, node in _nodes()
              if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
              and node.left.value in ("127.0.0.1", "localhost") and any(isinstance(o, ast.In) for o in node.ops)}
    assert sniffs == set(), sniffs


def test_the_embedded_sandbox_is_started_in_connection_only() -> None:
    starters = set()
    for rel, node in _nodes():
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("sandbox") and \
                {"ensure_running", "start"} & {a.name for a in node.names}:
            starters.add(rel)
    starters |= {rel for rel in _calls("ensure_running", "sandbox")}
    assert starters == {"connection.py"}
    # and only connection rewrites this process's environment for the kernels it starts
    writers = {rel for rel, node in _nodes()
               if isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and "environ" in ast.unparse(t.value)
                                                       for t in node.targets)}
    assert writers <= {"connection.py", "workshop.py", "workshop_spawn.py"}  # the spawned servers' environment, not ours


def test_sandbox_urls_have_one_layout() -> None:
    """/_sandbox only in SandboxControl; the API bases below a sandbox root only in config.SANDBOX_LAYOUT."""
    assert _homes(lambda t: "/_sandbox" in t) == {"sandbox_control.py"}
    layout = {rel for rel, node in _nodes() if isinstance(node, ast.JoinedStr)
              for part in node.values if isinstance(part, ast.Constant) and re.match(r"/(api|v2)\b", str(part.value))}
    assert layout == set(), layout
    assert "[:-4]" not in "".join(p.read_text(encoding="utf-8") for p in PKG.glob("*.py"))


def test_id_kinds_are_checked_in_ids_only() -> None:
    assert _defined("require_id") == {"ids.py"}


def test_once_only_steps_lock_in_the_state_store() -> None:
    assert _imports("filelock") == {"files.py", "state.py"}  # (files.file_lock makes them; state catches Timeout)
    assert _defined("step_lock") == {"state.py", "flows/context.py"}  # the context's is the store's, per profile
    assert _imports("fcntl") == set()  # (every lock between processes is a filelock.FileLock: files.file_lock)


def test_customer_order_id_has_one_home() -> None:
    assert _defined("customer_order_id") == {"flows/provisioning.py"}
    assert _homes(lambda t: t.startswith("bwh-")) == {"flows/provisioning.py"}


def test_event_identity_has_one_home() -> None:
    assert _defined("event_key") == _defined("dedupe_events") == {"events.py"}


def test_fix_texts_live_in_codes() -> None:
    assert _defined("fix_for") == _defined("explain") == {"codes.py"}


def test_phone_parsing_lives_in_phone() -> None:
    assert _imports("phonenumbers") == {"phone.py"}


def test_secret_words_have_one_home() -> None:
    assert _defined("is_secret_name") == {"masking.py"}
    lists = set()
    for rel, node in _nodes():
        if isinstance(node, (ast.Tuple, ast.Set, ast.List)):
            words = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if {"password", "secret"} <= words or {"password", "token"} <= words:
                lists.add(rel)
    # postman.SECRET_KEYS: the exact names of the exported environment's secret variables (a Postman fact)
    assert lists <= {"masking.py", "postman.py"}, lists
    assert _homes(lambda t: bool(re.search(r"password\|secret|secret\|token", t))) <= {"masking.py"}


def test_which_authentication_has_one_rule() -> None:
    assert _defined("choose_auth") == {"config.py"}
    assert _homes(lambda t: t == "BW_AUTH") == {"config.py"}
    assert "choose_auth" in (PKG / "ui" / "credentials.py").read_text(encoding="utf-8")


def test_tokens_live_in_oauth() -> None:
    assert _defined("TokenSource") == {"oauth.py"}
    assert _imports("authlib") == {"oauth.py"}


def test_order_statuses_have_one_home() -> None:
    assert _homes(lambda t: t in ("COMPLETE", "PARTIAL", "BACKORDERED", "PROCESSING")) == {"statuses.py"}


def test_waits_use_the_one_polling_loop() -> None:
    """Only polling.py sleeps between polls; messaging's sleep paces a bulk send (a rate, not a poll), the
    receiver's tunnel waits for its subprocess' first line."""
    assert _calls("sleep", "time") <= {"polling.py", "messaging.py", "receiver/tunnel.py"}


def test_atomic_file_writes_have_one_home() -> None:
    """files.atomic_write; the state file's set-aside is a rename, the receiver's credentials an exclusive link."""
    assert _calls("mkstemp", "tempfile") <= {"files.py", "receiver/credentials.py"}
    assert _calls("replace", "os") <= {"files.py", "state.py"}


def test_the_workshop_rooms_files_have_one_writer() -> None:
    """sandbox/workshop/room_files.replace: the login alarm, the room switch and the join link are written there."""
    writers = set()
    for path in sorted((PKG / "sandbox" / "workshop").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("replace", "rename") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                writers.add(path.name)
    assert writers == {"room_files.py"}


GUIDE_VALUES = ("Demo Server", "Bandwidth Messaging 2 test", "910", "539692", "Good morning, this is a test message",
                "+19195550123", "+12015550100", "Hello from the sandbox")


@pytest.mark.parametrize("value", GUIDE_VALUES)
def test_guide_defaults_have_one_home(value: str) -> None:
    assert _homes(lambda t: t == value) == {"guide.py"}


def test_search_criteria_have_one_validator() -> None:
    assert _defined("criterion_problem") == _defined("check_criteria") == {"criteria.py"}
    assert "criterion_problem" in (PKG / "ui" / "forms.py").read_text(encoding="utf-8")
    assert "check_criteria" in (PKG / "dashboard.py").read_text(encoding="utf-8")


def test_client_modules_stay_small() -> None:
    """No client module over 700 lines; Setup a facade of at most 500 (its work is in bwhelpers/flows)."""
    sizes = {rel: len((PKG / rel).read_text(encoding="utf-8").splitlines()) for rel, _ in _modules()}
    assert {rel: n for rel, n in sizes.items() if n > 700} == {}
    assert sizes["setup.py"] <= 500
