"""Figures of the reliability suite, collected while the tests run, written to ``artifacts/reliability-report.md``.

conftest.py registers this module as a pytest plugin in every process (an xdist worker sends its figures to the
controller, which writes the report); the test modules ``tests/test_reliability_*.py`` and ``tests/test_fuzz.py``
also register it from a session-scoped autouse fixture (``plugin = report.fixture()``, for a run without conftest)
and record figures with :func:`record`/:func:`add`/:func:`item`. Each module runs in one worker.
At the end of the session the report is written under ``artifacts/`` (never a tracked file), but only when
it reflects a whole run: every reliability module had tests that ran (as in CI's full ``python -m pytest``),
or ``BW_WRITE_REPORT=1`` is set; ``BW_WRITE_REPORT=0`` never writes.

The committed ``reliability-report.md`` is regenerated on purpose, by a command::

    python -m tests._reliability_report      # runs the reliability modules, writes ./reliability-report.md
"""
from __future__ import annotations

import os
import platform
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_REPORT = ROOT / "reliability-report.md"
REPORT_PATH = Path(os.environ.get("BW_REPORT_PATH") or ROOT / "artifacts" / "reliability-report.md")
MODULES = ("test_reliability_badinput", "test_reliability_faults", "test_reliability_concurrency",
           "test_reliability_secrets", "test_reliability_load", "test_fuzz", "test_reliability_security",
           "test_reliability_workshop")

_lock = threading.Lock()
#: section -> key -> value (numbers are summed by ``add``; anything else is set by ``record``)
FIGURES: dict[str, dict[str, Any]] = defaultdict(dict)
#: section -> list of lines (faults survived, files scanned, ...)
ITEMS: dict[str, list[str]] = defaultdict(list)
_outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_seconds: dict[str, float] = defaultdict(float)
_started = time.time()


def _loadavg() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        return "unknown"


_LOAD_AT_START = _loadavg()


def record(section: str, key: str, value: Any) -> None:
    with _lock:
        FIGURES[section][key] = value


def add(section: str, key: str, amount: float = 1) -> None:
    with _lock:
        FIGURES[section][key] = FIGURES[section].get(key, 0) + amount


def item(section: str, line: str) -> None:
    with _lock:
        if line not in ITEMS[section]:
            ITEMS[section].append(line)


# -- pytest hooks -------------------------------------------------------------------------------

def fixture() -> Any:
    """A session-scoped autouse fixture that registers this module as a plugin (once per session)."""
    import sys

    @pytest.fixture(scope="session", autouse=True)
    def _reliability_report_plugin(request: pytest.FixtureRequest) -> None:
        manager = request.config.pluginmanager
        if manager.get_plugin("reliability-report") is None:
            manager.register(sys.modules[__name__], "reliability-report")

    return _reliability_report_plugin


def _module(nodeid: str) -> str:
    return Path(nodeid.split("::", 1)[0]).stem


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    mod = _module(report.nodeid)
    if mod not in MODULES:
        return
    _seconds[mod] += report.duration
    if report.when == "call":
        _outcomes[mod][report.outcome] += 1
    elif report.when == "setup" and report.outcome != "passed":
        _outcomes[mod]["skipped" if report.skipped else "error"] += 1


def _should_write() -> bool:
    flag = os.environ.get("BW_WRITE_REPORT")
    if flag == "0":
        return False
    if flag == "1":
        return True
    return all(_outcomes[m].get("passed", 0) + _outcomes[m].get("failed", 0) > 0 for m in MODULES)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its figures go to the controller, which writes the report
        workeroutput["reliability_report"] = {"figures": dict(FIGURES), "items": dict(ITEMS)}
        return
    if not _should_write():
        return
    try:
        REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
        REPORT_PATH.write_text(render(), encoding="utf-8")
    except OSError as exc:  # pragma: no cover - read-only checkout
        print(f"could not write {REPORT_PATH}: {exc}")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller (pytest-xdist) gathers each worker's figures: every module records its own section, and a
    module runs in one worker (conftest.XDIST_GROUPS), so the sections only add up."""
    data = getattr(node, "workeroutput", {}).get("reliability_report")
    if not data:
        return
    with _lock:
        for section, figures in data["figures"].items():
            FIGURES[section].update(figures)
        for section, lines in data["items"].items():
            ITEMS[section].extend(line for line in lines if line not in ITEMS[section])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _should_write():
        terminalreporter.write_line(f"reliability report written to {REPORT_PATH}")


# -- rendering ----------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(section: str, labels: dict[str, str]) -> list[str]:
    data = FIGURES.get(section, {})
    rows = [(label, data[key]) for key, label in labels.items() if key in data]
    rows += [(key, v) for key, v in data.items() if key not in labels]
    if not rows:
        return ["_(not run)_", ""]
    out = ["| figure | value |", "|---|---:|"]
    out += [f"| {label} | {_fmt(v)} |" for label, v in rows]
    return out + [""]


def _list(section: str) -> list[str]:
    lines = ITEMS.get(section, [])
    return [f"- {line}" for line in lines] + [""] if lines else ["_(none recorded)_", ""]


SECURITY_PROBES = {
    "takeover": "account takeover (re-key / new API credential without the admin key)",
    "cross_tenant_read": "cross-tenant control-plane reads",
    "forged_write": "forged events / inbound texts into another tenant",
    "csrf": "CSRF-style POSTs (text/plain, form, no type, foreign Origin)",
    "dns_rebinding": "DNS rebinding (foreign Host header)",
    "port_squatting": "port squatting (fake /_sandbox/health)",
    "bad_id": "dot-segment and bad ids (request sent = lost)",
    "bad_argument": "bad arguments at the API boundary (not a named ValidationError = not refused)",
    "crash_reorder": "crash between ordering and saving, then retry (second purchase = lost)",
    "oversize": "oversize bodies (15-20 MB, in parallel)",
}


def _security_table() -> list[str]:
    data = FIGURES.get("security", {})
    if not data:
        return ["_(not run)_", ""]
    out = ["| probe | tried | refused | lost |", "|---|---:|---:|---:|"]
    for key, label in SECURITY_PROBES.items():
        if f"{key}_tried" in data:
            out.append(f"| {label} | {_fmt(data.get(f'{key}_tried', 0))} | {_fmt(data.get(f'{key}_refused', 0))} | "
                       f"{_fmt(data.get(f'{key}_lost', 0))} |")
    if "once_only_tried" in data:
        out.append(f"| 20 concurrent processes per create step (application, location, order) | "
                   f"{_fmt(data['once_only_tried'])} | {_fmt(data['once_only_tried'] - data.get('once_only_created', 0))}"
                   f" reused | {_fmt(data.get('once_only_duplicates', 0))} duplicates |")
    if "events_delivered_raw" in data:
        out.append(f"| kill -9 during callback delivery, restart | {_fmt(data['events_delivered_raw'])} deliveries "
                   f"({_fmt(data.get('events_redelivered', 0))} redelivered) | shown once | "
                   f"{_fmt(data.get('events_lost', 0))} lost, {_fmt(data.get('events_shown_twice', 0))} shown twice |")
    out.append("")
    extra = {k: v for k, v in data.items() if not any(k.startswith(p + "_") for p in SECURITY_PROBES)
             and not k.startswith(("once_only_", "events_"))}
    if extra:
        out += ["| figure | value |", "|---|---:|"] + [f"| {k} | {_fmt(v)} |" for k, v in extra.items()] + [""]
    return out


WORKSHOP_PROBES = {
    "outsiders": "outsiders: public demo credentials or none, every API, token endpoint and control route",
    "health_path": "the public health endpoint names no path of the host's",
    "callback_save": "callback URLs aimed at the host, when saved (accepted = lost)",
    "callback_delivery": "a callback name at the host (saved, or rebound after saving), at delivery (a status logged = lost)",
    "guessing": "100 wrong passwords from one address (answered 401, then 429)",
    "quota_messages": "messages beyond the quota",
    "quota_objects": "Dashboard objects beyond the quota",
    "quota_bins": "bins and bin requests beyond the quota",
    "db_cap": "writes over the db size cap (507)",
    "numbers_greedy": "orders emptying an area code (5000, 500, 11 numbers; a 21st number)",
    "numbers_others": "another participant's order in that area code (not COMPLETE = lost)",
    "board_forgery": "requests forging errors onto a participant's board row",
    "long_url": "over-long URLs (414 answered, not dropped)",
    "page_size": "list pages over the maximum",
    "nosniff": "answers without X-Content-Type-Options: nosniff",
    "stored_bytes": "writes beyond one account's stored-bytes budget (over it by more than one request = lost)",
    "forwarded_dodge": "guesses sent straight to the service's port with a new X-Forwarded-For each (beyond one client's allowance = lost)",
    "forwarded_pin": "victims' addresses named in those headers (their next login throttled = lost)",
    "refusal_address": "refused callback URLs whose answer names the address their host resolved to (named = lost)",
    "list_objects": "applications beyond list_objects (an unpaged list; created = lost)",
    "object_bytes": "a site and a SIP peer of 20 KB (over object_bytes; created = lost)",
    "callback_pool": "a tarpit receiver with 50 callbacks due, holding the room's delivery pool (more than its share = lost)",
    "xff_other_user": "60 guesses with forged X-Forwarded-For from another OS user on loopback (never throttled = lost)",
    "slow_uploads": "slow uploads held open by one outsider address (held beyond one tenant's 16 = lost)",
    "room_guesses": "guesses at the room password from 50 addresses (checked beyond the room's allowance = lost)",
    "pool_first_page": "first pages, OAuth redirects and health probes while outsiders' slow bodies fill their pool (503 = lost)",
    "pool_outsider_body": "another outsider's body while the pool is full (admitted = lost)",
    "nat_guesses": "guesses with fresh names from one address behind a venue's NAT (checked beyond the address's allowance = lost)",
    "nat_room_in": "logins of the host and a participant in before, from their browsers behind that NAT (refused = lost)",
    "hub_guessing": "made-up hub tokens from one address, each sent twice (a second one asked of the hub or not 429 = lost)",
    "hub_revoked": "a hub token revoked at the hub, shown 31 s later on the sandbox's clock (accepted = lost)",
    "new_names_one_address": "one address logging in under 200 new names in 10 minutes (admitted beyond 30 an hour = lost)",
    "closed_new_names": "logins under new names from 50 addresses while the host closed the room (admitted = lost)",
    "closed_spawns": "spawns of hub users without an account while the room is closed (an account made = lost)",
    "closed_known_names": "logins under known names while the room is closed (refused = lost)",
    "join_link_latecomers": "latecomers with the host's join link behind a NAT where an outsider guesses (refused = lost)",
    "join_link_forged": "join links made up, cut short, expired or stopped (a browser let in = lost)",
}
WORKSHOP_FIGURES = {
    "fanout_callbacks": "callbacks of three messages to 10 recipients each",
    "fanout_attempts_first_minute": "attempts made in its first minute (cap 10 for the probe; default 120)",
    "login_fail_p50_ms_few": "a failed legacy login, p50 with a few accounts (ms)",
    "login_fail_p50_ms_252": "a failed legacy login, p50 with 252 accounts (ms)",
    "guessing_429": "guesses answered 429 (no key derivation)",
    "flood_idle_p50_ms": "second tenant, idle: p50 (ms)",
    "flood_idle_p99_ms": "second tenant, idle: p99 (ms)",
    "flood_p50_ms": "second tenant while the first floods: p50 (ms)",
    "flood_p99_ms": "second tenant while the first floods: p99 (ms)",
    "flood_p99_ratio": "p99 flood / idle (goal: at most 2)",
    "flood_requests": "requests of the flood answered",
    "flood_loadavg": "machine load average (1 min) during the flood",
    "flood_bin_page_kb": "the flooder's biggest bin page (KB)",
    "flood_app_list_kb": "the flooder's biggest application list (KB; list_objects x object_bytes caps)",
    "list_objects_app_list_kb": "the biggest application list a participant can build (KB)",
    "stored_bytes_budget_mb": "stored-bytes budget per account (MB, workshop default)",
    "stored_bytes_counted_mb": "bytes one participant holds after writing until refused (MB)",
    "stored_bytes_db_growth_mb": "db growth from that participant's writes (MB)",
}


def _workshop_table() -> list[str]:
    data = FIGURES.get("workshop", {})
    if not data:
        return ["_(not run)_", ""]
    out = ["| probe | tried | refused | lost |", "|---|---:|---:|---:|"]
    for key, label in WORKSHOP_PROBES.items():
        if f"{key}_tried" in data:
            out.append(f"| {label} | {_fmt(data.get(f'{key}_tried', 0))} | {_fmt(data.get(f'{key}_refused', 0))} | "
                       f"{_fmt(data.get(f'{key}_lost', 0))} |")
    out += ["", "| figure | value |", "|---|---:|"]
    out += [f"| {label} | {_fmt(data[key])} |" for key, label in WORKSHOP_FIGURES.items() if key in data]
    return out + [""]


def render() -> str:
    total = {k: sum(o.get(k, 0) for o in _outcomes.values()) for k in ("passed", "failed", "skipped", "error")}
    lines = [
        "# Reliability report",
        "",
        "Written by the test suite (`tests/_reliability_report.py`) at the end of a run of "
        "`tests/test_reliability_*.py` and `tests/test_fuzz.py` (regenerate: `python -m tests._reliability_report`); "
        "every figure comes from that run, "
        "against real sandboxes on 127.0.0.1 over HTTP.",
        "",
        f"- generated: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}",
        f"- load average (1/5/15 min): {_LOAD_AT_START} at the start, {_loadavg()} at the end (the machine is shared: "
        "latency figures are ratios measured in the same run)",
        f"- reliability tests: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped, "
        f"{total['error']} errors; {sum(_seconds.values()):,.0f} s in these tests (pytest session: "
        f"{time.time() - _started:,.0f} s)",
        "",
        "| module | passed | failed | skipped | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in MODULES:
        o = _outcomes.get(m, {})
        lines.append(f"| `{m}` | {o.get('passed', 0)} | {o.get('failed', 0)} | {o.get('skipped', 0)} | "
                     f"{_seconds.get(m, 0.0):,.1f} |")
    lines += ["", "## Bad input", "",
              "Each refusal was checked for the documented status and error body (XML `ResponseStatus/ErrorCode`, "
              "`ErrorList/Error/Code`, `SearchResult/Error/Code`, JSON `{type, description[, fieldErrors]}`), no "
              "traceback, and an unchanged snapshot of every list endpoint of the account afterwards.", ""]
    lines += _table("badinput", {
        "sandbox_tried": "bad requests sent to the sandbox (HTTP)",
        "sandbox_refused": "refused with the documented 4xx and error body",
        "sandbox_literal": "SQL-metacharacter values stored and echoed literally (not refused, nothing broken)",
        "sandbox_5xx": "answers with 5xx",
        "sandbox_traceback": "answers containing a traceback",
        "state_snapshots_equal": "list-endpoint snapshots unchanged after the battery",
        "client_tried": "bad arguments given to the bwhelpers API",
        "client_refused": "refused with ValidationError naming the field, before any request",
        "client_requests_made": "requests the bwhelpers API made for them",
    })
    lines += ["## Fuzzing (hypothesis)", ""]
    lines += _table("fuzz", {})
    lines += ["## Faults survived", "", f"{len(ITEMS.get('faults', []))} fault scenarios survived:", ""]
    lines += _list("faults")
    lines += _table("faults", {})
    lines += ["## Concurrency", ""]
    lines += _list("concurrency")
    lines += _table("concurrency", {})
    lines += ["## Secrets", ""]
    lines += _list("secrets")
    lines += _table("secrets", {
        "scans": "secret scans done",
        "files_scanned": "files scanned",
        "bytes_scanned": "bytes scanned",
        "streams_scanned": "captured stdout/stderr streams scanned",
        "secrets_searched": "distinct secret values searched for",
        "leaks": "secrets found",
    })
    lines += ["## Shared host (issue 13)", "",
              "Each probe: how many attempts were tried, how many were refused (or handled), and how many were "
              "lost (a takeover, a leak, a forged event, a changed state, a credential sent to a squatter, a "
              "request sent for a bad id, a duplicate object, a second purchase, an event shown twice). "
              "Target: 0 lost.", ""]
    lines += _security_table()
    lines += _list("security")
    lines += ["## Workshop room with strangers (issue 23)", "",
              "Against the workshop service started as JupyterHub starts it (`tests/test_reliability_workshop.py`). "
              "Each probe: tried, refused (or bounded), lost. Target: 0 lost. The flood figures are measured on the "
              "machine above, shared with the test client.", ""]
    lines += _workshop_table()
    lines += _list("workshop")
    lines += ["## Load", ""]
    lines += _table("load", {
        "messages": "messages sent",
        "clients": "concurrent clients",
        "errors": "send errors",
        "callbacks_expected": "callbacks expected",
        "callbacks_received": "callbacks received",
        "lost": "callbacks lost",
        "duplicated": "callbacks duplicated",
        "send_seconds": "send phase (s)",
        "total_seconds": "until the last callback (s)",
        "send_throughput": "send throughput (messages/s)",
        "end_to_end_throughput": "end-to-end throughput (callbacks/s)",
        "peak_rss_mb": "sandbox peak RSS (MiB)",
        "start_rss_mb": "sandbox RSS before the load (MiB)",
    })
    lines += _list("load")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    """Run the reliability modules and write the committed ``reliability-report.md``."""
    import subprocess
    import sys

    env = {**os.environ, "BW_WRITE_REPORT": "1", "BW_REPORT_PATH": str(COMMITTED_REPORT)}
    tests = [str(ROOT / "tests" / f"{m}.py") for m in MODULES]
    # one process (-n 0): the load and latency measures run alone, not beside the other modules
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *tests],
                           cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
