"""A new walkthrough step is a row in the step table, one flow module, one notebook and its tests.

The throwaway step below is written the way docs/ARCHITECTURE.md ("Adding a walkthrough step") says: a row for
``steps`` (:data:`PROBE_ROW`) and a flow module that declares itself (:data:`PROBE_FLOW`). The first test loads both
in this process and checks that everything else follows: Setup's call, ``run_all``, ``status``, the saved state
(typed, old files loading), ``diagnose``, ``teardown``, the Postman collection and the walkthrough's Page (its call
and its form). The second adds them to a copy of the project with its notebook and its test, checks that git sees
exactly those files change (and the later notebooks renamed), that the gates and the step checks pass there, and
runs the new notebook headless. The others fail when a new central list of steps appears: a literal naming three
or more step keys outside the step table (beyond the legacy lists, frozen as they are), or a new hand-written
method on Setup."""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import _source_tree
import pytest

from bwhelpers import postman_collection, state, steps
from bwhelpers.flows import registry
from bwhelpers.results import Result
from bwhelpers.state import SavedState

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "bwhelpers"

# ------------------------------------------------------------------ the throwaway step: its row and its flow module
#: its row in steps._TABLE, placed after the send: a guide step
PROBE_ROW = ('Step("probe", "Probe the site", "Probe the site", "probe_site", saves="site name", '
             'needs=("location",)),')

#: bwhelpers/flows/probe.py
PROBE_FLOW = '''"""The probe step: reads the site and saves its name."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import steps
from ..jsonmodel import Model
from ..postman_rows import Row
from ..results import Result
from ..state import SavedState, declare_step, now_iso
from .context import FlowContext
from .registry import StepFlow, declare


@dataclass
class SiteProbe(Model):
    """What the probe step saves."""

    name: str | None = None
    checked: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ProbeFlow:
    """Reads the site and saves its name."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx

    def probe_site(self) -> Result:
        """Read the site (after the location step) and save its name."""
        self.ctx.need_location()
        result = self.ctx.dashboard.get_site()
        with self.ctx.edit() as st:
            st.set_part("probe", SiteProbe(name=str(result.data.get("Name")), checked=now_iso()))
        return result

    def check(self) -> list[dict[str, Any]]:
        """diagnose: was the site probed?"""
        probe = self.ctx.state.part("probe")
        return [{"check": "site probed", "ok": probe is not None, "finding": f"site {_name(self.ctx.state)}",
                 "fix": f"run {steps.ref('probe')}"}]

    def undo(self) -> list[dict[str, Any]]:
        """teardown: forget the probe."""
        with self.ctx.edit() as st:
            st.set_part("probe", None)
        return [{"step": "forget the probe", "outcome": "done", "detail": ""}]


def _name(st: SavedState) -> str | None:
    probe = st.part("probe")
    return probe.name if probe is not None else None


declare(StepFlow(
    "probe", ProbeFlow, calls=("probe_site",), run=lambda setup, _: setup.probe_site(), checks="check", undo="undo",
    state=declare_step("probe", SiteProbe, done=lambda st: st.part("probe") is not None, detail=_name),
    postman=(Row("probe", "Probe the site", "Read the site", "GET",
                 ("dashboardUrl", "accounts", "{{account}}", "sites", "{{subaccount}}"), (200, "OK"), (),
                 description="After step <step:messages>."),)))
'''


@pytest.fixture
def probe_step(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The row in the step table and the flow module, loaded in this process (undone afterwards)."""
    rows = list(steps.PAGES)
    rows.insert(steps.page("messages").number + 1, eval(PROBE_ROW.rstrip(","), {"Step": steps.Step}))
    pages = tuple(replace(p, number=i) for i, p in enumerate(rows))
    monkeypatch.setattr(steps, "PAGES", pages)
    monkeypatch.setattr(steps, "STEPS", tuple(p for p in pages if p.guide))
    monkeypatch.setattr(steps, "_BY_KEY", {p.key: p for p in pages})
    registry.discover()
    module = types.ModuleType("bwhelpers.flows.probe")
    module.__package__ = "bwhelpers.flows"
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(PROBE_FLOW, "bwhelpers/flows/probe.py", "exec"), module.__dict__)
    try:
        yield module
    finally:
        registry._DECLARED.pop("probe", None)
        state._DECLARED.pop("probe", None)


def test_a_new_step_derives_from_its_row_and_its_flow(probe_step: types.ModuleType, setup: Any) -> None:
    from bwhelpers.ui.output import capture
    from bwhelpers.walkthrough import Page

    number = steps.page("probe").number
    assert number == steps.page("messages").number + 1
    # an old state file (written before the step existed) loads; the step is pending
    assert SavedState.from_dict({"application": {"id": "a"}}).part("probe") is None
    assert SavedState.from_dict({"probe": "not an object"}).part("probe") is None
    assert not setup.current.is_done("probe")
    # Setup's call comes from the flow's declaration; run_all runs every guide step in the table's order
    results = list(setup.run_all())
    assert [r.step for r in results] == [p.key for p in steps.STEPS]
    assert results[number - 1].heading.startswith(f"Step {number}")
    # the saved object is typed; status, its detail and the notebook follow the table
    assert isinstance(setup.current.part("probe"), probe_step.SiteProbe) and setup.current.is_done("probe")
    row = next(r for r in setup.status() if r["key"] == "probe")
    assert row == {"step": number, "key": "probe", "name": "Probe the site", "notebook": f"{number:02d}_probe_site.ipynb",
                   "done": True, "status": "done", "detail": setup.current.part("probe").name}
    # diagnose runs the flow's check
    diag = setup.diagnose()
    assert {"check": "site probed", "ok": True, "finding": f"site {setup.current.part('probe').name}",
            "fix": ""} in diag
    # the Postman collection gets the flow's row as folder <number>, between the send and the pictures
    names = [f["name"] for f in postman_collection.build_collection()["item"]]
    at = names.index(f"{number} Probe the site")
    assert names[at - 1].startswith(f"{number - 1}b ") and names[at + 1].startswith(f"{number + 1} ")
    assert postman_collection.build_collection()["item"][at]["item"][0]["request"]["description"] == \
        f"After step {number - 1}."
    # the notebook's Page runs the call and shows it like every step (no Page method written for it)
    page = Page("probe", setup=setup, show=False)
    assert page.ready and "probe_site" in dir(page) and "probe_site" in dir(setup)
    with capture() as seen:
        shown = page.probe_site()
    assert isinstance(shown, Result) and shown.step == "probe" and seen
    # a form from default values, kept in the saved state like every step's form (no form written for it)
    form = page.step_form(required=("site",), site="", verbose=True, tries=2)
    assert form.title == "Probe the site" and form.errors == {"site": "required: type the site"}
    form.fields["site"].value = "9901"
    assert form.errors == {} and form.values == {"site": "9901", "verbose": True, "tries": 2}
    assert setup.current.forms["probe"] == {"site": "9901", "verbose": True, "tries": 2}
    assert Page("probe", setup=setup, show=False).step_form(site="").values["site"] == "9901"
    # teardown undoes it (later steps first) and the state forgets it
    rows = setup.teardown()
    assert {"step": "forget the probe", "outcome": "done", "detail": ""} in rows
    assert setup.current.part("probe") is None and not setup.current.is_done("probe")


# ------------------------------------------------------------------ no new central list of steps
#: the lists of step keys outside steps.py that predate the registration (frozen: a new key in one of them, or a
#: new list, fails). The sandbox's workshop board judges steps from its own tables (it imports nothing of the
#: client); the client's are the guide's Postman rows and the guide steps' done/detail rules in the state model.
LEGACY_LISTS: dict[str, frozenset[str]] = {
    "postman_collection.py": frozenset({"application", "location", "sms", "mms", "assigned", "orders", "numbers",
                                        "a2p", "messages", "pictures"}),
    "state.py": frozenset({"application", "location", "sms", "mms", "assigned", "orders", "numbers", "a2p",
                           "messages"}),
    "sandbox/workshop/models.py": frozenset({"application", "location", "sms", "mms", "assigned", "orders",
                                             "numbers", "a2p", "messages"}),
}


def _keys_in(node: ast.AST, keys: set[str]) -> set[str]:
    """The step keys a literal collection names: its string elements (dict keys), the first or last string of its
    tuple elements ((pattern, key) pairs) and the first argument of its call elements (Row("sms", ...))."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        elements: list[Any] = list(node.elts)
    elif isinstance(node, ast.Dict):
        elements = [k for k in node.keys if k is not None]
    else:
        return set()
    found = set()
    for e in elements:
        candidates = [e]
        if isinstance(e, ast.Tuple) and e.elts:
            candidates += [e.elts[0], e.elts[-1]]
        if isinstance(e, ast.Call) and e.args:
            candidates.append(e.args[0])
        found |= {c.value for c in candidates if isinstance(c, ast.Constant) and c.value in keys}
    return found


def central_lists(root: Path = PKG) -> dict[str, set[str]]:
    """module -> the step keys its literals enumerate (three or more in one literal), outside steps.py."""
    keys = {p.key for p in steps.PAGES}
    out: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "steps.py":
            continue
        for node in _source_tree.nodes(path):
            found = _keys_in(node, keys)
            if len(found) >= 3:
                out.setdefault(rel, set()).update(found)
    return out


def test_no_new_central_list_of_steps() -> None:
    found = central_lists()
    grown = {rel: sorted(k - LEGACY_LISTS.get(rel, frozenset())) for rel, k in found.items()
             if not k <= LEGACY_LISTS.get(rel, frozenset())}
    assert grown == {}, ("a list of step keys outside bwhelpers/steps.py: a new step declares itself in its flow "
                         "(bwhelpers.flows.registry.StepFlow, bwhelpers.state.declare_step) instead")


def test_the_central_list_check_sees_a_new_list(tmp_path: Path) -> None:
    (tmp_path / "extra.py").write_text('ORDER = ("application", "location", "sms")\n'
                                       'RULES = {"mms": 1, "orders": 2, "numbers": 3}\n'
                                       'ROWS = (Row("a2p", 1), Row("messages", 2), Row("events", 3))\n')
    assert central_lists(tmp_path) == {"extra.py": {"application", "location", "sms", "mms", "orders", "numbers",
                                                    "a2p", "messages", "events"}}


#: Setup's hand-written public names; a new step's calls come from its flow's declaration (Setup.__getattr__)
SETUP_API = frozenset({
    "NEEDED_ROLES", "config", "state", "progress", "profile", "dashboard", "messaging", "a2p", "control", "current",
    "saved", "create_application", "create_location", "enable_sms", "enable_mms", "assign_application",
    "search_numbers", "order_numbers", "get_order", "wait_for_order", "locations", "would_create_another",
    "list_campaigns", "register_a2p", "get_a2p_order", "registration", "request_tfv", "send_message", "bulk_send",
    "upload_media", "list_media", "get_media", "delete_media", "download_media", "send_picture",
    "simulate_picture_reply", "received_pictures", "events", "wait_for_event", "why_no_event", "delivery_status",
    "status", "diagnose", "teardown", "run_all"})


def test_setup_gets_no_new_method_per_step() -> None:
    tree = _source_tree.tree(PKG / "setup.py")
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Setup")
    public = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
              and not n.name.startswith("_")}
    public |= {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    assert public - SETUP_API == set(), "a new step's calls are declared by its flow (StepFlow.calls), not here"


#: a notebook's name where a text mentions one: ``03_enable_sms``, ``notebooks/03_enable_sms.ipynb``
NOTEBOOK_NAME = re.compile(r"\b(\d\d_[a-z][a-z0-9_]*?)(?:\.ipynb|\b)")


def test_texts_name_the_notebooks_the_table_has() -> None:
    """Every notebook's name in the notebooks, README and docs is a page of the step table (a step inserted before
    others renames them: this names each text still using an old name). The neighbours' "What's next" names no
    notebook: the summary's Next is computed from the table."""
    root = PKG.parent
    names = {p.notebook for p in steps.PAGES}
    assert sorted(p.stem for p in (root / "notebooks").glob("*.ipynb")) == [p.notebook for p in steps.PAGES]
    stale = {}
    for path in [*sorted((root / "notebooks").glob("*.ipynb")), root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        found = set(NOTEBOOK_NAME.findall(path.read_text(encoding="utf-8"))) - names
        if found:
            stale[path.name] = sorted(found)
    assert stale == {}
    for p in steps.PAGES:  # a notebook's title is its heading, without its number (a renamed notebook is unchanged)
        first = json.loads((root / "notebooks" / p.filename).read_text(encoding="utf-8"))["cells"][0]["source"]
        assert "".join(first).startswith(f"# {p.heading}\n"), p.filename
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        nxt = text[text.index("## What's next"):]
        nxt = nxt[:nxt.index("]")]
        assert not NOTEBOOK_NAME.search(nxt), f"{path.name}'s What's next names a neighbour"


def test_texts_name_the_pages_after_the_guide_by_slug() -> None:
    """The pages after the guide's last step (pictures, events, Postman, teardown) move up when a guide step is added:
    texts name them by slug (the `message_events` notebook), never by number, so adding a step edits none of them."""
    root = PKG.parent
    last = steps.STEPS[-1].number
    later = {p.notebook for p in steps.PAGES if p.number > last}
    by_number = re.compile(r"(?i)\b(?:notebooks?|step)\s+(\d{1,2})\b|\b(\d{1,2})'s\b")
    found = {}
    for path in [*sorted((root / "notebooks").glob("*.ipynb")), root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        hits = sorted({n for n in NOTEBOOK_NAME.findall(text) if n in later}
                      | {m.group(0) for m in by_number.finditer(text) if int(m.group(1) or m.group(2)) > last})
        if hits:
            found[path.name] = hits
    examples = {"test_workshop_safety.py", "test_workshop_storage.py"}  # a notebook name as an example href only
    for path in sorted(p for p in (root / "tests").glob("*.py") if p.name not in examples):
        # tests name those pages by key: steps.page("events").filename
        hits = sorted(n for n in NOTEBOOK_NAME.findall(path.read_text(encoding="utf-8")) if n in later)
        if hits:
            found[path.name] = hits
    assert found == {}


# ------------------------------------------------------------------ the same step in a copy of the project
def _git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _probe_notebook(number: int) -> Any:
    """The probe step's notebook, as its author writes it (the What's next sentence every notebook has)."""
    import nbformat

    nxt = json.loads((ROOT / "notebooks" / steps.PAGES[0].filename).read_text(encoding="utf-8"))["cells"][-1]
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    return nbformat.v4.new_notebook(cells=[
        md("# Probe the site\n\n## Overview\n\nReads the site (sub-account) and saves its name."),
        md("## Prerequisites\n\nA saved location (the page names the notebook to run first when it is missing)."),
        code('from bwhelpers.walkthrough import Page\n\npage = Page("probe")'),
        code("site = page.probe_site()"),
        md("## Summary\n\nWhat this notebook achieved, with the next step:"),
        code("page.summary()"),
        md("".join(nxt["source"]))], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


@pytest.mark.slow
def test_a_new_step_in_a_copy_touches_only_its_files(clean_sandbox: Any, tmp_path: Path) -> None:
    """In a copy of the project: the row, the flow module, the notebook and its test are the only files git sees
    change (plus the renames of the pages after the guide's steps, contents unchanged); ruff, lint-imports and the
    step checks pass there, and the new notebook runs headless after run_all (which runs the new step too)."""
    import nbformat

    repo = tmp_path / "repo"
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True, text=True).stdout.split("\n")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "before")
    # the row
    table = (repo / "bwhelpers" / "steps.py").read_text(encoding="utf-8")
    after = steps.page("messages")
    at = table.index('    Step("pictures"')
    (repo / "bwhelpers" / "steps.py").write_text(table[:at] + "    " + PROBE_ROW + "\n" + table[at:], encoding="utf-8")
    # the flow module, the notebook (the pages after it move up one) and its test
    (repo / "bwhelpers" / "flows" / "probe.py").write_text(PROBE_FLOW, encoding="utf-8")
    for p in reversed([p for p in steps.PAGES if p.number > after.number]):
        _git(repo, "mv", f"notebooks/{p.filename}", f"notebooks/{p.number + 1:02d}_{p.slug}.ipynb")
    number = after.number + 1
    nbformat.write(_probe_notebook(number), repo / "notebooks" / f"{number:02d}_probe_site.ipynb")
    (repo / "tests" / "test_probe.py").write_text(
        '"""The probe step against the sandbox."""\nfrom typing import Any\n\n\n'
        'def test_probe(setup: Any) -> None:\n    setup.create_location()\n'
        '    assert setup.probe_site().step == "probe" and setup.current.is_done("probe")\n', encoding="utf-8")
    _git(repo, "add", "-A")
    changed = sorted(line.split("\t", 1)[0][0] + " " + line.split("\t")[-1]
                     for line in _git(repo, "diff", "--cached", "--name-status", "-M").splitlines())
    moved = [f"R notebooks/{p.number + 1:02d}_{p.slug}.ipynb" for p in steps.PAGES if p.number > after.number]
    assert changed == sorted(["M bwhelpers/steps.py", "A bwhelpers/flows/probe.py", "A tests/test_probe.py",
                              f"A notebooks/{number:02d}_probe_site.ipynb", *moved])
    assert all(line.startswith("R100") for line in _git(repo, "diff", "--cached", "--name-status", "-M").splitlines()
               if line.startswith("R"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(PYTHONPATH=str(repo), BW_SANDBOX_URL=clean_sandbox.url, BW_STATE_FILE=str(tmp_path / "state.json"),
               BW_CONFIG_DIR=str(tmp_path / "cfg"), BW_TARGET="sandbox")

    def run(*cmd: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, (cmd, done.stdout[-3000:], done.stderr[-3000:])
        return done

    run(sys.executable, "-m", "ruff", "check", "--no-cache", "bwhelpers", "tests")
    run("lint-imports", "--no-cache")
    run(sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-m", "not slow",
        "tests/test_new_step.py", "tests/test_one_home.py", "tests/test_notebooks.py", "-k",
        "central or slug or table_has or setup_gets or one_home or every_step or same_sections or stripped")
    ran = run(sys.executable, "-c", "import sys; from bwhelpers.connection import connect; "
              "from bwhelpers.notebooks import run_notebooks; print([r.step for r in connect().run_all()]); "
              f"sys.exit(run_notebooks(out={str(tmp_path / 'out')!r}, only=[{f'{number:02d}_probe_site'!r}]))")
    assert "'messages', 'probe']" in ran.stdout and "FAILED" not in ran.stdout + ran.stderr, ran.stdout[-2000:]
    saved = json.loads((tmp_path / "state.json").read_text())["profiles"]["sandbox"]
    assert saved["probe"]["name"]
    # a fresh process (a kernel) that has not run the step reads it done from the state, as every step
    status = run(sys.executable, "-c", "from bwhelpers.connection import connect; "
                 "print({r['key']: r['status'] for r in connect().status()}['probe'])")
    assert status.stdout.strip().endswith("done"), status.stdout
