"""A new walkthrough step is a row in the step table, one flow module, one notebook and its tests.

The first test adds a throwaway step the way docs/ARCHITECTURE.md ("Adding a walkthrough step") says, a row in
``steps`` and a flow that declares itself, and checks that everything else follows from those two: Setup's call,
``run_all``, ``status``, the saved state (typed, old files loading), ``diagnose``, ``teardown``, the Postman
collection and the walkthrough's Page (its call and its form). The others fail when a new central list of steps appears: a literal naming
three or more step keys outside the step table (beyond the legacy lists, frozen as they are), or a new hand-written
method on Setup."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import pytest

from bwhelpers import postman_collection, state, steps
from bwhelpers.flows import registry
from bwhelpers.flows.context import FlowContext
from bwhelpers.jsonmodel import Model
from bwhelpers.postman_rows import Row
from bwhelpers.results import Result
from bwhelpers.state import SavedState, declare_step, now_iso

PKG = Path(__file__).resolve().parents[1] / "bwhelpers"


# ------------------------------------------------------------------ the throwaway step: its flow module
@dataclass
class SiteProbe(Model):
    """What the probe step saves."""

    name: str | None = None
    checked: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ProbeFlow:
    """The throwaway step's flow: reads the site and saves its name."""

    def __init__(self, ctx: FlowContext):
        self.ctx = ctx

    def probe_site(self) -> Result:
        self.ctx.need_location()
        result = self.ctx.dashboard.get_site()
        with self.ctx.edit() as st:
            st.set_part("probe", SiteProbe(name=str(result.data.get("Name")), checked=now_iso()))
        return result

    def check(self) -> list[dict[str, Any]]:
        probe = self.ctx.state.part("probe")
        return [{"check": "site probed", "ok": probe is not None, "finding": f"site {probe.name if probe else None}",
                 "fix": f"run {steps.ref('probe')}"}]

    def undo(self) -> list[dict[str, Any]]:
        with self.ctx.edit() as st:
            st.set_part("probe", None)
        return [{"step": "forget the probe", "outcome": "done", "detail": ""}]


@pytest.fixture
def probe_step(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The row in the step table (a guide step after the send) and the flow's declarations."""
    rows = list(steps.PAGES)
    rows.insert(steps.page("messages").number + 1,
                steps.Step("probe", "Probe the site", "Probe the site", "probe_site", saves="site name",
                           needs=("location",)))
    pages = tuple(replace(p, number=i) for i, p in enumerate(rows))
    monkeypatch.setattr(steps, "PAGES", pages)
    monkeypatch.setattr(steps, "STEPS", tuple(p for p in pages if p.guide))
    monkeypatch.setattr(steps, "_BY_KEY", {p.key: p for p in pages})
    registry.discover()
    registry.declare(registry.StepFlow(
        "probe", ProbeFlow, calls=("probe_site",), run=lambda setup, _: setup.probe_site(), checks="check",
        undo="undo", state=declare_step("probe", SiteProbe, done=lambda st: st.part("probe") is not None,
                                        detail=lambda st: st.part("probe").name if st.part("probe") else None),
        postman=(Row("probe", "Probe the site", "Read the site", "GET",
                     ("dashboardUrl", "accounts", "{{account}}", "sites", "{{subaccount}}"), (200, "OK"), (),
                     description="After step <step:messages>."),)))
    try:
        yield "probe"
    finally:
        registry._DECLARED.pop("probe", None)
        state._DECLARED.pop("probe", None)


def test_a_new_step_derives_from_its_row_and_its_flow(probe_step: str, setup: Any) -> None:
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
    assert isinstance(setup.current.part("probe"), SiteProbe) and setup.current.is_done("probe")
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
    assert page.ready
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
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
    tree = ast.parse((PKG / "setup.py").read_text(encoding="utf-8"))
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
