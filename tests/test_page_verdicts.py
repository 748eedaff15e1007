"""What the pages say when something is wrong (the independent browser review 24b): a failing preflight check looks
like a failure and makes the summary partial; a real account refuses a fictional destination before any request; a
form's problem is named once, by the form's label, in the cells and the summary; a wait left behind by a stopped
kernel unfolds a line saying it stopped; an unreachable callback URL is warned about in step 1 on a real account.

The pages are called directly against a sandbox on 127.0.0.1 (a real account: the sandbox standing in for
Bandwidth), their output captured through the one sink (``ui.output.capture``).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from _client_helpers import sandbox_settings
from bwhelpers import guide
from bwhelpers.config import Config
from bwhelpers.setup import Setup
from bwhelpers.state import StateStore
from bwhelpers.ui.output import capture
from conftest import reset


def _html(seen: list[Any]) -> str:
    out = []
    for obj in seen:
        for attr in ("data", "_repr_html_"):
            value = getattr(obj, attr, None)
            if callable(value):
                value = value()
            if isinstance(value, str):
                out.append(value)
                break
    return "\n".join(out)


def _text(html_: str) -> str:
    import html

    no_css = re.sub(r"<style>.*?</style>", "", html_, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", no_css.replace("<wbr>", "")))).strip()


@pytest.fixture(scope="module", autouse=True)
def _reset_after(sandbox: Any) -> Iterator[None]:
    yield
    reset(sandbox.url)  # ``real`` decommissions Basic on the worker's sandbox


@pytest.fixture
def real(clean_sandbox: Any, isolated_env: Path) -> Setup:
    sandbox_settings(clean_sandbox, delivery_delay=0.05, legacy_basic_auth="decommissioned")
    c = clean_sandbox.credentials
    url = clean_sandbox.url
    cfg = Config(target="real", dashboard_url=f"{url}/api", messaging_url=f"{url}/api/v2",
                 token_url=f"{url}/api/v1/oauth2/token", platform_url=f"{url}/api/v2", account_id=c["account_id"],
                 site_id=c["site_id"], client_id=c["client_id"], client_secret=c["client_secret"])
    return Setup(cfg, StateStore(isolated_env / "state.json"), progress=False)


def _ready(setup: Setup) -> None:
    for call in (setup.create_application, setup.create_location, setup.enable_sms, setup.enable_mms,
                 setup.assign_application, setup.order_numbers):
        call()
    setup.wait_for_order(timeout=10)


def test_a_failing_preflight_check_is_marked_and_the_summary_is_partial(real: Setup, monkeypatch: pytest.MonkeyPatch
                                                                       ) -> None:
    """A loopback callback URL on a real account: its row shows a coloured ✗ (not a raw false) with its fix, the
    passing rows ✓, and the summary is a Partial naming the check, never a green Done."""
    from bwhelpers.walkthrough import Page

    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "http://127.0.0.1:9999")  # on this machine: Bandwidth cannot reach it
    _ready(real)
    page = Page("teardown", setup=real, show=False)
    with capture() as seen:
        table = page.diagnose()
    shown = table._repr_html_()
    text = _text(shown)
    assert "✗ failing" in text and "✓ ok" in text
    assert not re.search(r"<td[^>]*>\s*(<span[^>]*>)?(true|false)(</span>)?\s*</td>", shown), "a raw true/false"
    assert "new=True" not in shown  # a notebook's fix names the notebook and its button, not an API argument
    assert "stop JupyterLab" in text and "BW_CALLBACK_BASE_URL=https://<your tunnel> python -m bwhelpers lab" in text, text
    assert "restart the kernel" not in text  # a kernel restart keeps the lab's environment (review 24e)
    from bwhelpers import steps

    assert f"press Create a second application, then run {steps.page('assigned').filename} again" in text, text
    failing = re.search(r'<tr class="bw-fail"><td>.*?</tr>', shown)
    assert failing and "callback URL" in failing.group(0) and "bw-st-failed" in failing.group(0)
    assert re.search(r'<tr class="bw-detail bw-fail">.*?fix:', shown)
    assert "tr.bw-fail" in shown and "var(--jp-error-color1" in shown  # the theme's colours, not literals
    assert table.frame["ok"].tolist()[0] is False or table.frame["ok"].tolist()[0] == False  # noqa: E712
    del seen
    kind, what, nxt = page.verdict()
    assert kind == "partial" and "callback URL" in what and "failing" in what, (kind, what)
    assert "✗" in nxt and "re-run" in nxt
    box = page._summary_box()
    assert "bw-summary-partial" in box and "Done" not in _text(box)


def test_the_preflight_with_every_check_passing_is_done(setup: Setup) -> None:
    from bwhelpers.walkthrough import Page

    _ready(setup)
    setup.register_a2p(timeout=10)
    page = Page("teardown", setup=setup, show=False)
    with capture():
        page.diagnose()
    kind, what, _ = page.verdict()
    assert kind == "done" and "all" in what and "pass" in what, (kind, what)


def test_step_one_warns_on_a_real_account_when_bandwidth_cannot_reach_the_callback_url(
        real: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from bwhelpers.walkthrough import Page

    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "http://127.0.0.1:9999")
    with capture() as seen:
        Page("application", setup=real, show=False).application_form()
    shown = _html(seen)
    assert "bw-callout-warn" in shown and "Bandwidth cannot reach these callback URLs" in shown
    assert "loopback" in shown and "BW_CALLBACK_BASE_URL" in shown
    # the application is created under that warning: the summary says partial, with the next step, never a plain
    # green Done (review 24d)
    page = Page("application", setup=real, show=False)
    with capture():
        form = page.application_form()
        v = form.values
        assert page.create_application(v["name"], v["inbound_callback_url"] or None,
                                       v["outbound_callback_url"] or None, list(v["callback_types"])) is not None
    kind, what, nxt = page.verdict()
    assert kind == "partial" and "cannot reach" in what and "BW_CALLBACK_BASE_URL" in nxt, (kind, what, nxt)
    assert "Done" not in _text(page._summary_box()).split(":")[0]
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "https://abc123.trycloudflare.com")
    with capture() as seen:
        Page("application", setup=real, show=False).application_form()
    assert "Bandwidth cannot reach" not in _html(seen)


def test_a_real_account_refuses_a_fictional_destination_before_any_request(real: Setup,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The form's default (+1 919 555 0123) is fictional: on a real account the form names the field and the fix,
    the send cell sends nothing, and a direct page.send_message to a 555-01xx number is refused before the
    request; BW_TO_NUMBER (your own phone) is sent to."""
    from bwhelpers.walkthrough import Page

    monkeypatch.delenv(guide.TO_NUMBER_ENV, raising=False)
    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "https://abc123.trycloudflare.com")
    _ready(real)
    real.register_a2p()  # a real account sends only from a number on a REGISTERED 10DLC campaign
    page = Page("messages", setup=real, show=False)
    form = page.message_form()
    assert form.values["to"] == "" and "to" in form.errors  # no fictional default on a billed account
    assert "empty" in form.errors["to"] and "your own mobile number" in form.errors["to"]
    from bwhelpers.ui import forms as ui_forms

    typed = ui_forms.message_form(real=True)  # the fictional number typed in (a form not kept in the state)
    assert typed.values["to"] == guide.SANDBOX_PHONE
    assert "fictional" in typed.errors["to"] and "your own mobile number" in typed.errors["to"]
    with capture() as seen:
        assert page.form_errors(form) is True
    assert "<b>to</b>" in _html(seen) and "Fix it in the form above" in _html(seen)
    with capture():  # Run All goes on to the wait: nothing was sent, and the summary stays the form's amber word
        page.wait_for_event("message-delivered", timeout=5)
    kind, what, nxt = page.verdict()
    assert kind == "not run" and "form" in what and "fix it in the form above" in nxt, (kind, what, nxt)
    before = len(real.current.messages)
    with capture() as seen:
        assert page.send_message(to="+12015550123", text="hi") is None
    shown = _text(_html(seen))
    assert "ValidationError" in shown and "to:" in shown and "fictional" in shown, shown
    assert len(real.current.messages) == before  # nothing sent, nothing saved
    monkeypatch.setenv(guide.TO_NUMBER_ENV, "+19192381234")
    own = Page("messages", setup=real, show=False).message_form()
    assert own.values["to"] == "+19192381234" and not own.errors
    with capture():
        assert page.send_message(to="+19192381234", text="hi") is not None


def test_the_sandbox_still_sends_to_its_fictional_numbers(setup: Setup) -> None:
    from bwhelpers.walkthrough import Page

    _ready(setup)
    page = Page("messages", setup=setup, show=False)
    assert not page.message_form().errors
    with capture():
        assert page.send_message(to=guide.SANDBOX_PHONE, text="hi") is not None


def test_a_form_problem_is_named_once_by_its_label_in_cells_and_summary(setup: Setup) -> None:
    """06 with area code 099: the first cell names the form's label (Value) with the fix, the next cell refers to
    it in one line, and the summary says the same words; no internal key (area_code), no exception class."""
    from bwhelpers.walkthrough import Page

    for call in (setup.create_application, setup.create_location, setup.enable_sms, setup.enable_mms,
                 setup.assign_application):
        call()
    page = Page("orders", setup=setup, show=False)
    form = page.order_form()
    form.fields["value"].value = "099"
    with capture() as search_cell:
        assert page.form_errors(form)
    with capture() as order_cell:
        assert page.form_errors(form)
    first, second = _text(_html(search_cell)), _text(_html(order_cell))
    assert first.startswith("⚠ Value: '099'") and "Fix it in the form above and re-run this cell." in first, first
    assert "area_code" not in first and "Error" not in first
    assert "Skipped" in second and "Value" in second and "'099'" not in second, second
    kind, what, nxt = page.verdict()
    assert kind == "not run" and "Value: '099'" in what and "fix it in the form above" in nxt, (kind, what, nxt)
    assert "bw-callout-warn" in page._summary_box()


def test_a_wait_line_unfolds_that_it_stopped_when_no_kernel_updates_it() -> None:
    """The wait's line carries a folded 'No update since …: … run this cell again' part that the browser unfolds
    after STALE_AFTER seconds without a new line (checked in Chromium by test_browser's restart test); it never
    promises that an outcome will replace it."""
    from bwhelpers.ui import progress

    waiting = progress.Waiting("the order to settle", 60, after=0, resume="run this cell again: the order is saved")
    with capture() as seen:
        waiting.update("order 1234 is RECEIVED")
    line = _html(seen)
    assert "replaces this line" not in line
    assert 'class="bw-stale"' in line and f"{progress.STALE_AFTER}s forwards" in line
    assert "run this cell again: the order is saved" in _text(line)


def test_bidi_controls_are_shown_by_name_in_every_view() -> None:
    """A text with U+202E (right-to-left override) would show reversed ("evil" as "live"): the one escaping helper
    names it instead, in tables, detail lines and callouts."""
    from bwhelpers import views

    table = views.rows_html([{"text": "\u202eevil", "fix": "a \u2066b\u2069"}], ["text"], detail=["fix"])
    assert "\u202e" not in table and "\u2066" not in table and "\u2069" not in table
    assert "⟨U+202E⟩evil" in table and "⟨U+2066⟩b⟨U+2069⟩" in table
    box = views.callout("info", "\u202etitle", "")
    assert "\u202e" not in box and "⟨U+202E⟩title" in box
    assert views.esc("<b>\u200f") == "&lt;b&gt;⟨U+200F⟩"


def test_the_applications_table_keeps_each_url_whole_on_a_line_under_its_row(setup: Setup) -> None:
    from bwhelpers.walkthrough import Page

    setup.create_application()
    shown = Page("application", setup=setup, show=False).applications()._repr_html_()
    head = re.search(r"<thead>(.*?)</thead>", shown, re.S)
    assert head and "Url" not in head.group(1)  # no URL column to break after every slash
    assert re.search(r'<tr class="bw-detail"><td colspan="3"><b>InboundCallbackUrl:</b> <span class="bw-url">', shown)


def test_the_notebooks_code_lines_fit_a_1024_px_cell() -> None:
    """No code line of a committed notebook is cut at the cell's right edge at 1024 px with the file browser open
    (about 74 characters of JupyterLab's code font)."""
    import json

    root = Path(__file__).resolve().parents[1] / "notebooks"
    long = [(nb.name, line) for nb in sorted(root.glob("*.ipynb"))
            for cell in json.loads(nb.read_text())["cells"] if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines() if len(line) > 74]
    assert not long, long


def test_real_account_cells_that_only_the_sandbox_can_do_say_one_thing_each(real: Setup,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """On a real account: the simulated inbound and the failing send are quiet (the wait after each says what to do,
    once); the phone link says your own phone is the phone page; the pictures page asks for a picture."""
    from bwhelpers.walkthrough import Page

    monkeypatch.setenv("BW_CALLBACK_BASE_URL", "https://abc123.trycloudflare.com")
    _ready(real)
    real.register_a2p()  # a real account sends only from a number on a REGISTERED 10DLC campaign
    real.send_message("+19192381234", "hello")  # the send step, done
    page = Page("events", setup=real, show=False)
    with capture() as seen:
        page.simulate_inbound("hi")
        page.send_failing(4720)
    assert _html(seen) == ""
    with capture() as seen:
        page.wait_for_event("message-received")
    assert len(seen) == 1 and "Text your number to see a message-received" in _html(seen)
    with capture() as seen:
        page.phone_link()
    shown = _text(_html(seen))
    assert "Your own phone is the phone here" in shown and "simulation" not in shown
    assert "The sandbox's phone page shows" not in shown  # no sandbox prose on a real account (review 24d)
    pictures = Page("pictures", setup=real, show=False)
    with capture() as seen:
        pictures.picture_reply()
    shown = _text(_html(seen))
    assert "Text a picture to your number to see it here" in shown and "picture (MMS)" in shown


def test_a_failed_connect_redraws_the_target_table_and_the_summary_below(setup: Setup) -> None:
    """00: a Connect that fails marks the target table below as the connection before it and turns the summary
    into the failure (no stale 'Done: connected'); its error reads as sentences, each ending with a period."""
    from bwhelpers.ui import credentials
    from bwhelpers.walkthrough import Page

    page = Page("start", setup=setup, show=False)
    with capture() as seen:
        form = page.credentials_form()
        form.target.value = "real"
        form.account_id.value, form.site_id.value = "9900000", "9901"
        form.client_id.value, form.client_secret.value = "cid", "wrong-secret-123456"
        form.env = {"BW_TOKEN_URL": "http://127.0.0.1:9/token", "BW_DASHBOARD_URL": "http://127.0.0.1:9/api"}
        view = page.target_table()
        view._ipython_display_()
        page.summary()
        form.connect(clicked=True)
    kind, what, _ = page.verdict()
    assert kind == "failed" and "could not connect" in what
    assert "The last Connect failed" in view._repr_html_()
    status = _text(form.status.value)
    assert re.search(r"\w Fix: ", status) is None or ". Fix: " in status, status
    assert "there The" not in status and ") The" not in status, status
    exc = type("E", (Exception,), {"fix": "generate a new one there"})("HTTP 401: bad; copy both from X")
    assert credentials.said(exc) == "HTTP 401: bad. Fix: generate a new one there."
    del seen


def test_the_events_table_tells_sms_from_mms_and_stays_one_screen() -> None:
    """11: a picture message's events say MMS, a text's SMS; re-runs add events but the table shows the 10 newest,
    newest first, saying how many there are."""
    from bwhelpers.pages.events import EVENTS_SHOWN, _newest, explain_events
    from bwhelpers.tables import events_rows

    raw = [{"type": "message-delivered", "time": f"2026-12-06T10:00:{i:02d}Z", "to": "+19195550100",
            "message": {"id": f"m{i}", "from": "+19195550101", "media": ["https://x/p.png"] if i % 2 else []}}
           for i in range(14)]
    rows = events_rows(raw)
    assert [r["kind"] for r in rows[:2]] == ["SMS", "MMS"]
    with capture() as seen:
        shown = _newest(rows)
    assert len(shown) == EVENTS_SHOWN and shown[0]["message_id"] == "m13" and shown[-1]["message_id"] == "m4"
    assert "The 10 newest of 14 events, newest first" in _text(_html(seen))
    table = explain_events(shown)._repr_html_()
    assert "<b>kind:</b> MMS" in table and "<b>kind:</b> SMS" in table  # on the line under each row


def test_a_pages_summary_names_each_thing_it_did(setup: Setup) -> None:
    """11's summary says it received the expected failure and the reply, not only the last event."""
    from bwhelpers.walkthrough import Page

    _ready(setup)
    setup.register_a2p(timeout=10)
    setup.send_message(guide.SANDBOX_PHONE, "hello")
    page = Page("events", setup=setup, show=False)
    page._outcome("done", "received the expected message-failed 4720")
    page._outcome("done", "received message-received")
    kind, what, _ = page.verdict()
    assert kind == "done" and "expected message-failed 4720" in what and "message-received" in what, what


def test_a_cell_run_again_replaces_what_its_earlier_run_said(setup: Setup) -> None:
    """Review 24c: 09's send cell stopped by the form, the form fixed, the cell re-run as the page advises (and the
    wait below it): the summary is Done, not "done before, but this run failed". JupyterLab names the cell in each
    execute request (``metadata.cellId``); an in-process IPython shell carries the same header here."""
    from IPython.core.interactiveshell import InteractiveShell

    from bwhelpers.walkthrough import Page

    _ready(setup)
    shell = InteractiveShell.instance()
    try:
        page = Page("messages", setup=setup, show=False)
        form = page.message_form()
        form.fields["to"].value = "+1 919 555 0123, +1 919 555 0124"
        shell.parent_header = {"metadata": {"cellId": "send-cell"}}
        shell.execution_count = 3
        with capture():
            assert page.form_errors(form)
        shell.parent_header = {"metadata": {"cellId": "wait-cell"}}
        shell.execution_count = 4
        with capture():  # Run All went on: the wait says nothing was sent
            page.wait_for_event("message-delivered", timeout=10)
        assert page.verdict()[0] in ("not run", "failed", "partial")
        form.fields["to"].value = guide.SANDBOX_PHONE
        shell.parent_header = {"metadata": {"cellId": "send-cell"}}
        shell.execution_count = 5  # the same cells, run again ("Run Selected Cell and All Below")
        with capture():
            assert not page.form_errors(form)
            assert page.send_message(to=form.values["to"], text="hi") is not None
        shell.parent_header = {"metadata": {"cellId": "wait-cell"}}
        shell.execution_count = 6
        with capture():
            page.wait_for_event("message-delivered", timeout=10)
        kind, what, nxt = page.verdict()
        assert kind == "done" and "failed" not in what and "red box" not in nxt, (kind, what, nxt)
        # what another cell said stays: a failure in the wait cell is not wiped by the send cell's success
        page._outcome("failed", "the wait timed out")
        shell.parent_header = {"metadata": {"cellId": "send-cell"}}
        shell.execution_count = 7
        page._outcome("done", "sent again")
        assert page.verdict()[0] == "partial"
    finally:
        InteractiveShell.clear_instance()


def test_stopping_a_wait_says_where_it_stopped_instead_of_a_traceback(setup: Setup, clean_sandbox: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 24c: Kernel › Interrupt (the toolbar's ■) during a wait printed a 30-line KeyboardInterrupt traceback
    through the helpers. Now the wait's line says where it stopped and what to do, and the cell ends with that one
    sentence (IPython shows ``_render_traceback_`` in place of a traceback; Run All still stops there)."""
    import _thread
    import signal

    from bwhelpers.ui.progress import WaitStopped
    from bwhelpers.walkthrough import Page

    _ready(setup)
    sandbox_settings(clean_sandbox, delivery_delay=120)  # the receipt comes after the wait's minute
    page = Page("messages", setup=setup, show=False)
    with capture():
        assert page.send_message(to=guide.SANDBOX_PHONE, text="hi") is not None
    # Interrupt while the wait polls (its first poll: no wall-clock timer racing the wait's start): what the kernel
    # does on Interrupt, a SIGINT raising KeyboardInterrupt in the main thread
    polling = setup.wait_for_event

    def wait_interrupted_at_its_first_poll(*args: Any, on_poll: Any = None, **kwargs: Any) -> Any:
        def poll(elapsed: float) -> None:
            if on_poll is not None:
                on_poll(elapsed)
            _thread.interrupt_main()

        return polling(*args, on_poll=poll, **kwargs)

    monkeypatch.setattr(setup, "wait_for_event", wait_interrupted_at_its_first_poll)
    # a kernel handles SIGINT as KeyboardInterrupt; a test run started in the background of a shell inherits SIGINT
    # as ignored, and then interrupt_main does nothing (the wait ran its minute and the test failed: fresh Debian)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    with capture() as seen, pytest.raises(WaitStopped) as stopped:
        try:
            page.wait_for_event("message-delivered", timeout=60)
        finally:
            signal.signal(signal.SIGINT, previous)
    shown = stopped.value._render_traceback_()
    assert len(shown) == 1 and "Stopped at" in shown[0] and "of 60 s" in shown[0], shown
    assert "run this cell again" in shown[0]
    page_text = _text(_html(seen))  # said once, by the cell's ending; no frozen "waiting" line above it
    assert "Stopped at" not in page_text and "Traceback" not in page_text, page_text


def _real_form(page: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """00's form on Real account against the sandbox standing in for Bandwidth (its URLs in BW_*_URL)."""
    c, url = sandbox.credentials, sandbox.url
    for var, value in (("BW_DASHBOARD_URL", f"{url}/api"), ("BW_MESSAGING_URL", f"{url}/api/v2"),
                       ("BW_TOKEN_URL", f"{url}/api/v1/oauth2/token"), ("BW_PLATFORM_URL", f"{url}/api/v2")):
        monkeypatch.setenv(var, value)
    form = page.credentials_form()
    form.target.value = "real"
    form.account_id.value, form.site_id.value = c["account_id"], c["site_id"]
    form.client_id.value, form.client_secret.value = c["client_id"], c["client_secret"]
    return form


def test_a_wrong_id_typed_in_the_form_is_named_by_its_label(setup: Setup, clean_sandbox: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """00 (review 24c, finding 6): a site or account id the service refuses is named by the form's label with the
    fix there ("check Subaccount (site) id above"), never "the id in the URL" or BW_ACCOUNT_ID; the field is marked,
    and the red box of a headless run says the same."""
    from bwhelpers.walkthrough import Page

    page = Page("start", setup=setup, show=False)
    with capture():
        form = _real_form(page, clean_sandbox, monkeypatch)
        form.site_id.value = "43"
        form.connect(clicked=True)
    status = _text(form.status.value)
    assert "NotFoundError (HTTP 404)" in status and "check Subaccount (site) id above" in status, status
    assert "URL" not in status and "BW_" not in status, status
    assert "bw-invalid" in form.site_id._dom_classes and "bw-invalid" not in form.account_id._dom_classes
    with capture() as cell:
        form = _real_form(page, clean_sandbox, monkeypatch)
        form.account_id.value = str(int(clean_sandbox.credentials["account_id"]) + 1)
        form.connect()
    status, box = _text(form.status.value), _text(_html(cell))
    for said in (status, box):
        assert "check Account id above" in said and "BW_ACCOUNT_ID" not in said and "URL" not in said, said
    assert "How to fix" not in box, box  # one fix, the form's
    assert "bw-invalid" in form.account_id._dom_classes
    with capture():
        form = _real_form(page, clean_sandbox, monkeypatch)
        form.client_secret.value = "Wrong-Secret-9d2c"
        form.connect(clicked=True)
    status = _text(form.status.value)
    assert "check Client ID and Client Secret above" in status and "BW_CLIENT" not in status, status
    assert "Wrong-Secret-9d2c" not in status and "paste it again" in status
    assert "bw-invalid" in form.client_secret._dom_classes and "bw-invalid" not in form.site_id._dom_classes


def test_the_send_form_says_one_number_per_send_in_its_own_words() -> None:
    """09's form (review 24c, finding 8): two numbers in ``to`` are "one number per send here", and no message of
    the phonenumbers library ("(1) The string supplied …") reaches a form; the problems are running text (a line
    height of 1.4, not the widgets' 28 px rows)."""
    from bwhelpers import phone
    from bwhelpers.ui.forms import message_form

    form = message_form()
    form.fields["to"].value = "+19195550123, +19195550124"
    problem = form.errors["to"]
    assert "holds 2 numbers" in problem and "one number per send" in problem, problem
    assert "line-height:1.4" in form.messages.value and "<b>to</b>" in form.messages.value
    for text in ("+19195550123 +19195550124", "++1", "+999 123", "1234567890123456789", "-"):
        said = phone.problem(text) or ""
        assert said and "string supplied" not in said and "(1)" not in said and "(0)" not in said, (text, said)
    assert phone.problem("(919) 555-0123") is None and phone.how_many("(919) 555-0123") == 1


def _stand_in(monkeypatch: pytest.MonkeyPatch, sandbox: Any) -> None:
    """BW_TARGET=real with the sandbox standing in for Bandwidth: its URLs, no credentials in the environment."""
    url = sandbox.url
    sandbox_settings(sandbox, legacy_basic_auth="decommissioned")
    for var, value in (("BW_TARGET", "real"), ("BW_DASHBOARD_URL", f"{url}/api"), ("BW_MESSAGING_URL", f"{url}/api/v2"),
                       ("BW_TOKEN_URL", f"{url}/api/v1/oauth2/token"), ("BW_PLATFORM_URL", f"{url}/api/v2")):
        monkeypatch.setenv(var, value)


def test_a_reopened_start_page_fills_the_form_from_the_remembered_file(clean_sandbox: Any, isolated_env: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """00 after Remember (review 24c, finding 1): a reopened page fills the form from the remembered file, not from
    an account id typed and refused earlier (the form's memory); the secret shows as "(saved)" and is in no widget;
    Connect says it uses the remembered file, and what connected becomes the form's memory; Forget deletes the file."""
    from bwhelpers.config import Config, credentials_path
    from bwhelpers.walkthrough import Page

    _stand_in(monkeypatch, clean_sandbox)
    c = clean_sandbox.credentials
    Config.resolve(account_id=c["account_id"], site_id=c["site_id"], client_id=c["client_id"],
                   client_secret=c["client_secret"]).remember()
    with capture():
        page = Page("start")
    assert page.setup is not None and page.setup.config.account_id == c["account_id"]
    stale = str(int(c["account_id"]) + 1)
    with page.setup.state.edit(page.setup.profile) as st:  # an id typed and refused in an earlier sitting
        st.forms["start"] = {"target": "real", "account_id": stale, "site_id": c["site_id"], "client_id": ""}
    page = Page("start", show=False)
    with capture() as cell:
        form = page.credentials_form()
        assert form.account_id.value == c["account_id"] and form.client_id.value == c["client_id"]
        assert form.site_id.value == c["site_id"] and form.target.value == "real"
        assert form.client_secret.value == "" and form.client_secret.placeholder == "(saved)"
        state = repr([widget.get_state() for widget in form.widget.children]) + repr(form.real_box.get_state())
        for child in form.real_box.children:
            state += repr(child.get_state())
        assert c["client_secret"] not in state
        assert form.forget.layout.display is None  # the Forget button shows while there is a file
        config = form.connect()
    assert config is not None and config.account_id == c["account_id"], _text(_html(cell))
    # where the values came from, as the target table says it: the remembered file and the environment (the URLs),
    # never "arguments" (review 24d)
    origin = page._target_fields(config)["values from"]
    assert origin == "credentials file, environment", origin
    status = _text(form.status.value)
    assert f"Using the credentials remembered in {credentials_path()}" in status, status
    assert "only this notebook knows" not in status
    saved = page.setup.current.forms["start"]
    assert saved["account_id"] == c["account_id"], saved  # the refused id is gone from the form's memory
    form.forget_remembered()
    assert not credentials_path().exists()
    said = _text(form.status.value)
    assert "Forgotten" in said and "deleted" in said and form.forget.layout.display == "none", said
    assert form.client_secret.placeholder == "" and form.account_id.value == ""


def test_the_start_page_with_no_credentials_speaks_the_form_and_clears_after_connect(
        clean_sandbox: Any, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """00 on a real account with nothing set yet (review 24c, finding 2): the page names what is missing by the
    form's labels and says to fill in the form below (no Config.resolve, no snake_case, no "open 00_start_here"
    on 00 itself); the target table says no target yet (no bare "(empty body)"); the Connect cell's red box and the
    note at the top are replaced once the form connects, and the summary turns Done."""
    from bwhelpers.walkthrough import Page

    _stand_in(monkeypatch, clean_sandbox)
    c = clean_sandbox.credentials
    with capture() as header:
        page = Page("start")
    assert page.setup is None
    top = _text(_html(header))
    assert "Not connected yet" in top and "Account id, Subaccount (site) id, Client ID and Client Secret" in top, top
    with capture() as cells:
        form = page.credentials_form()
        assert form.connect() is None
        view = page.target_table(None)
        view._ipython_display_()
        page.summary()
    said = _text(_html(header) + _html(cells) + page._summary_html())
    for wrong in ("Config.resolve", "account_id", "client_secret", "00_start_here", "(empty body)", "BW_ACCOUNT_ID"):
        assert wrong not in said, (wrong, said)
    assert "No target yet" in said and "bw-incomplete" in _html(cells)
    assert "Superseded" not in _html(cells)  # the same fields still missing: the top note already says so, it stays
    kind, what, nxt = page.verdict()
    assert kind == "failed" and "Account id" in what and "form above" in nxt, (kind, what, nxt)
    with capture() as failed:  # a Connect that fails: the cell's earlier problem is superseded, not left standing
        form.account_id.value, form.site_id.value = c["account_id"], c["site_id"]
        form.client_id.value, form.client_secret.value = c["client_id"], "wrong-secret-123456"
        assert form.connect(clicked=True) is None
    superseded = _text(_html(failed))
    assert "Superseded by the last Connect, which failed" in superseded and "Missing" not in superseded, superseded
    assert "Superseded by Connect attempt #" in superseded and "which failed too" in superseded, superseded
    with capture() as after:
        form.account_id.value, form.site_id.value = c["account_id"], c["site_id"]
        form.client_id.value, form.client_secret.value = c["client_id"], c["client_secret"]
        assert form.connect(clicked=True) is not None
    replaced = _html(after)
    assert "the problem shown here before is solved" in replaced and "bw-incomplete" not in replaced, replaced
    assert f"Connected to account {c['account_id']}" in _text(replaced)
    assert page.verdict()[0] == "done" and "only this notebook knows" in _text(form.status.value)
    assert c["client_secret"] not in replaced + form.status.value



def test_a_later_page_with_no_credentials_names_them_by_00s_labels(clean_sandbox: Any, isolated_env: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """09 on a real account with nothing set: a red box naming what is missing by 00's form labels and where to
    give it (00's form, Remember), never "pass them to Config.resolve(...)"; a headless run fails on it."""
    from bwhelpers.walkthrough import Page

    _stand_in(monkeypatch, clean_sandbox)
    with capture() as header:
        page = Page("messages")
    shown = _html(header)
    said = _text(shown)
    assert "Not connected: a real account needs Account id, Subaccount (site) id, Client ID and Client Secret" in said
    assert "00_start_here" in said and "Remember" in said and "Config.resolve" not in said, said
    assert "bw-incomplete" in shown
    kind, what, nxt = page.verdict()
    assert kind == "failed" and "Client Secret" in what and "00_start_here" in nxt, (kind, what, nxt)


def test_the_preflight_above_the_teardown_is_folded_once_its_rows_no_longer_hold(setup: Setup) -> None:
    """13 (review 24c, finding 10): after Tear down, the preflight table shown above no longer lists "✓ ok" rows
    for deleted objects as if current: it is folded under a note saying it ran before the teardown, with how to
    check again; used as a DataFrame it is still the preflight's."""
    from bwhelpers.walkthrough import Page

    _ready(setup)
    page = Page("teardown", setup=setup, show=False)
    with capture() as cell:
        table = page.diagnose()
        table._ipython_display_()
    assert "check" in list(table.columns) and "ran before the teardown" not in _html(cell)
    with capture() as after:
        page.teardown()
    folded = _html(after)
    assert "This preflight ran before the teardown" in folded and "Run this cell again" in folded
    assert re.search(r'<details class="bw-stale"[^>]*><summary>The table as it was</summary>', folded), folded[:500]


def test_a_done_steps_next_asks_to_close_the_notebook(setup: Setup) -> None:
    """The summary's Next of a finished notebook names the next one and asks to close this one (File › Close and Shut
    Down Notebook): a sitting with every tab open holds 14 kernels (review 24c, finding 5; docs/workshop.md)."""
    from bwhelpers.walkthrough import Page

    setup.create_application()
    page = Page("application", setup=setup, show=False)
    kind, _, nxt = page.verdict()
    assert kind == "done" and "continue with" in nxt and "File › Close and Shut Down Notebook" in nxt, (kind, nxt)


def test_another_callback_url_in_step_ones_form_asks_and_reuse_never_says_new_true(setup: Setup) -> None:
    """01 run again with another callback URL in its form: the saved application is kept and shown, and a button
    offers the second one with the new URL (what 13's fix says to do); re-running unchanged reuses it with a notice
    in the notebook's words (no ``new=True``)."""
    from bwhelpers.walkthrough import Page

    page = Page("application", setup=setup, show=False)
    with capture():
        first = page.create_application("Demo Server", "https://example.com/a")
    assert first is not None
    with capture() as seen:
        again = Page("application", setup=setup, show=False).create_application("Demo Server", "https://example.com/a")
    said = _text(_html(seen))
    assert again is not None and again.id == first.id and "Reusing the saved object" in said, said
    assert "new=True" not in said and "another AppName in the form above" in said, said
    with capture() as seen:
        kept = Page("application", setup=setup, show=False).create_application("Demo Server", "https://example.com/b")
    said = _text(_html(seen))
    assert kept is not None and kept.id == first.id
    assert "You already have an application" in said and "callback URL https://example.com/a" in said, said
    assert "the form now says callback URL https://example.com/b" in said, said
    assert any(type(o).__name__ == "VBox" for o in seen), "no button offered"


def test_list_values_and_a_receipts_time_stay_whole_tokens() -> None:
    """A list value (an MMS's media URLs) is drawn token by token, so a URL breaks only after its slashes (review
    24d: ``…/media/smil|e.png``); a receipt's time in running text is local with its zone, the raw value in its
    tooltip."""
    from bwhelpers import views

    url = "http://127.0.0.1:8765/api/v2/users/9900000/media/smile.png"
    shown = views.object_html({"media": [url, "+19195550123"]})
    assert '<span class="bw-tok">smile.png</span>' in shown and '<span class="bw-tok">+19195550123</span>' in shown
    when = views.local_time_html("2026-12-06T21:53:48.625Z")
    assert 'title="2026-12-06T21:53:48.625Z"' in when and "bw-tok" in when
    assert re.search(r">2026-12-0[67] \d\d:\d\d:48 \S+", when), when
    assert "T21:53" not in _text(when)


def test_a_send_that_could_not_reach_the_service_is_not_an_input_to_fix() -> None:
    """Review 24e: with the network down the wait said "the send was refused before the request … fix the input
    named above". Why nothing was sent now follows the error: refused before the request (a form value), not reaching
    the service (the network, the URL), or refused by it."""
    from bwhelpers.exceptions import ConflictError, TransportError, ValidationError
    from bwhelpers.pages.base import nothing_sent_because

    down = nothing_sent_because(TransportError("could not connect to http://127.0.0.1:9/api/v2 (ConnectionError)"))
    assert "could not reach the service" in down and "refused" not in down, down
    typed = nothing_sent_because(ValidationError("to: not a phone number", field="to"))
    assert typed.startswith("the send was refused before the request (ValidationError: to: not a phone number")
    assert nothing_sent_because(ConflictError("taken")).startswith("the service refused the send (ConflictError")
    assert "prerequisite" in nothing_sent_because(None)


def test_the_phone_link_is_a_link_only_when_the_sandbox_gives_an_http_url(setup: Setup,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """rev23h H8: ``page.phone_link()`` put the sandbox's ``url`` into an ``<a href>`` as it came (escaped, not
    checked): the one server-given link of the notebooks not passed through ``views.safe_href``, so a
    ``javascript:`` URL from a hostile or spoofed sandbox became a clickable link. It is a link only when
    ``safe_href`` takes it; otherwise the text says why, with the URL shown as text."""
    from bwhelpers.walkthrough import Page

    page = Page("events", setup=setup, show=False)
    answers: dict[str, Any] = {}

    class Control:
        def phone_link(self, ttl: Any = None, number: Any = None) -> dict[str, Any]:
            return answers

    monkeypatch.setattr(page, "check", lambda *a, **k: True)
    monkeypatch.setattr(page, "_control", lambda: Control())
    for url in ("javascript:alert(document.domain)//", "data:text/html,<script>alert(1)</script>",
                "JaVaScRiPt:alert(1)", " javascript:alert(1)", "//evil.example/phone"):
        answers.update(url=url, expiresAt=None)
        with capture() as seen:
            page.phone_link()
        shown = _html(seen)
        assert "Your sandbox phone" in shown and "<a href" not in shown.split("Your sandbox phone", 1)[1], shown
        assert "not an http(s) URL" in shown, shown
    answers.update(url="http://127.0.0.1:8765/_sandbox/phone/99/abc?sig=1")
    with capture() as seen:
        page.phone_link()
    assert 'href="http://127.0.0.1:8765/_sandbox/phone/99/abc?sig=1"' in _html(seen)
