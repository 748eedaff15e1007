"""The layered client's single homes: the step table, the one sandbox-or-real rule, the pure Config,
the SandboxControl client (over HTTP) and records instead of DataFrames below the presentation layer."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bwhelpers import codes, steps
from bwhelpers.config import Config, decide_target, default_target
from bwhelpers.exceptions import ValidationError
from bwhelpers.sandbox_control import SandboxControl

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------- the step table

def test_the_table_names_every_notebook_file_in_order() -> None:
    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert [p.filename for p in steps.PAGES] == on_disk
    assert [p.number for p in steps.PAGES] == list(range(len(steps.PAGES)))
    assert [p.key for p in steps.STEPS] == ["application", "location", "sms", "mms", "assigned", "orders",
                                           "numbers", "a2p", "messages"]
    for p in steps.PAGES:
        assert all(steps.page(k).number < p.number for k in p.needs), p


def test_texts_name_steps_through_the_table() -> None:
    sms, assigned = steps.step("sms"), steps.step("assigned")
    assert codes.FIXES["13645"] == f"enable SMS (step {sms.number}) before assigning the application " \
                                   f"(step {assigned.number})"
    assert sms.ref == f"step {sms.number} (notebooks/{sms.filename})"
    texts = [*codes.FIXES.values(), *(t for row in codes.MESSAGE_ERROR_CODES.values() for t in row)]
    assert not [t for t in texts if "{" in t or "}" in t], "a step placeholder is left"
    with pytest.raises(KeyError, match="pages"):
        steps.page("enable_sms")
    with pytest.raises(KeyError, match="not a guide step"):
        steps.step("events")


def test_setup_status_and_the_progress_strip_follow_the_table(offline_config: Config, tmp_path: Path) -> None:
    from bwhelpers import widgets
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    setup = Setup(offline_config, StateStore(tmp_path / "state.json"), progress=False)
    status = setup.status()
    assert [(s["step"], s["key"], s["notebook"]) for s in status] == \
        [(p.number, p.key, p.filename) for p in steps.STEPS]
    html = widgets.progress_html(widgets.done_steps(setup))
    assert html.count("○") == len(steps.STEPS) and all(p.title in html for p in steps.STEPS)


# --------------------------------------------------------------------- one rule: sandbox or real

@pytest.mark.parametrize("values, expected", [
    ({}, "sandbox"),
    ({"account_id": "111"}, "real"),                 # config and the credentials form used to disagree here
    ({"username": "u", "password": "p"}, "real"),
    ({"username": "u", "sandbox_url": "http://127.0.0.1:9"}, "sandbox"),
    ({"target": "SANDBOX", "username": "u"}, "sandbox"),
    ({"target": "real"}, "real"),
])
def test_decide_target(values: dict[str, str], expected: str) -> None:
    assert decide_target(values) == expected


def test_config_and_form_agree_with_only_an_account_id(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bwhelpers import widgets

    env = {"BW_ACCOUNT_ID": "111"}
    assert default_target(env) == "real"
    assert widgets.CredentialsForm(env=env).target.value == "real"
    monkeypatch.setenv("BW_ACCOUNT_ID", "111")
    with pytest.raises(ValidationError, match="real target: missing site_id"):
        Config.resolve()   # the same rule: a real account, and what it lacks is named
    with pytest.raises(ValidationError, match="target"):
        decide_target({"target": "prod"})


def test_resolve_is_pure(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import bwhelpers.sandbox as sb

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Config.resolve started a sandbox")

    monkeypatch.setattr(sb, "ensure_running", refuse)
    monkeypatch.setattr(sb, "start", refuse)
    cfg = Config.resolve()
    assert cfg.is_sandbox and cfg.sandbox_url is None and cfg.dashboard_url == ""
    assert capsys.readouterr().out == ""
    attached = cfg.attach_sandbox("http://127.0.0.1:9/", {"account_id": "9900000", "site_id": "9901",
                                                          "username": "u", "password": "pw-pw-pw-pw-pw"})
    assert (attached.dashboard_url, attached.messaging_url, attached.account_id) == \
        ("http://127.0.0.1:9/api", "http://127.0.0.1:9/api/v2", "9900000")
    with pytest.raises(ValidationError, match="real account"):
        Config(target="real").attach_sandbox("http://127.0.0.1:9", {})


@pytest.mark.slow
def test_reset_state_and_postman_need_no_sandbox(isolated_env: Path, tmp_path: Path) -> None:
    """``reset-state`` and the Postman export read the profile without starting a server."""
    code = ("import bwhelpers.sandbox as sb, sys\n"
            "def refuse(*a, **k): raise SystemExit('a sandbox was started')\n"
            "sb.ensure_running = sb.start = refuse\n"
            "from bwhelpers.__main__ import main\n"
            "rc = main(['reset-state', '--yes'])\n"
            "from bwhelpers import postman\n"
            "env = postman.build_environment()\n"
            "print(rc, [v['value'] for v in env['values'] if v['key'] == 'dashboardUrl'][0])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "0 http://127.0.0.1:8765/api"


# --------------------------------------------------------------------------------- SandboxControl

def test_sandbox_control_reads_the_magic_numbers_over_http(cfg: Config) -> None:
    from bwhelpers.sandbox.magic import MAGIC_TO_NUMBERS

    control = SandboxControl(cfg)
    failing = [r for r in MAGIC_TO_NUMBERS if r.get("errorCode")]
    assert control.failing_number(failing[0]["errorCode"]) == failing[0]["number"]
    assert control.failure_codes() == sorted(r["errorCode"] for r in failing)
    assert control.failing_number(1) is None
    url = control.bin_url("mine")
    assert url == f"{cfg.sandbox_url}/_sandbox/bins/mine" and control.bin_name(url + "?x=1") == "mine"
    assert control.bin_name("https://example.org/cb") is None
    assert control.settings()["order_transition"]["mode"] == "immediate"


def test_sandbox_control_refuses_a_real_account() -> None:
    with pytest.raises(ValidationError, match="control plane"):
        SandboxControl(Config(target="real", account_id="1", site_id="2", username="u", password="p"))


def test_setup_returns_records_and_tables_make_the_frames(setup: Any) -> None:
    from bwhelpers import tables

    setup.create_application()
    setup.create_location()
    checks = setup.diagnose()
    assert isinstance(checks, list) and all(set(c) == {"check", "ok", "finding", "fix"} for c in checks)
    assert not next(c for c in checks if c["check"] == "SMS enabled")["ok"]
    frame = tables.diagnose_frame(checks)
    assert list(frame.columns) == ["check", "ok", "finding", "fix"] and len(frame) == len(checks)
    locations = setup.locations()
    assert locations[0]["SMS"] == "not enabled" and tables.locations_frame(locations).shape[0] == len(locations)
    rows = setup.dashboard.list_applications().rows()
    assert rows and "ApplicationId" in rows[0]


@pytest.mark.slow
def test_only_presentation_loads_pandas() -> None:
    code = ("import sys, bwhelpers.setup, bwhelpers.sandbox_control, bwhelpers.connection\n"
            "print(sorted(m for m in ('pandas', 'ipywidgets', 'IPython') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
