"""Results a person can read, and failures that look like failures (issue 16), without a browser.

Against the real sandbox over HTTP: a FAILED order (907) saves no number and the summary says failed; a PARTIAL
one (307) says partial; a wait for a never-sent message returns at once with the reason; a timeout names the
cause judged from the state; a changed input asks before a second object. The HTML views are checked as text.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from bwhelpers import views, widgets
from bwhelpers.exceptions import MissingPrerequisiteError, WaitTimeoutError
from bwhelpers.walkthrough import Page


def text_of(html_text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_text)).strip()


class Shown(list):
    @property
    def html(self) -> str:
        return "\n".join(str(getattr(o, "data", None) or getattr(o, "value", "") or "") for o in self)

    @property
    def text(self) -> str:
        return text_of(self.html)


@pytest.fixture
def shown() -> Iterator[Shown]:
    from bwhelpers.ui import output

    with output.capture(Shown()) as seen:  # the one output sink
        yield seen


# -- the views ------------------------------------------------------------------------------------

def test_a_single_object_is_a_vertical_table_with_nested_xml_nested() -> None:
    data = {"SipPeerSmsFeatureResponse": {"SipPeerSmsFeature": {
        "SipPeerSmsFeatureSettings": {"TollFree": "true", "Protocol": "HTTP", "Zone1": True},
        "HttpSettings": {"ProxyPeerId": "539692"}}}}
    out = views.object_html(data)
    assert "SipPeerSmsFeatureSettings.TollFree" not in out, "no dotted column names"
    assert out.count('class="bw-table bw-object"') == 3, "the object and its two nested elements"
    assert "<th>" not in out, "fields are rows, not columns"
    assert "SipPeerSmsFeatureResponse › SipPeerSmsFeature" in text_of(out)
    assert "Zone1 true" in text_of(out), "booleans are shown as the API writes them"
    assert "table-layout:fixed" in out and "width:100%" in out


def test_a_list_shows_the_compared_columns_and_long_texts_under_the_row() -> None:
    rows = [{"check": "SMS enabled", "ok": False, "finding": "SMS is not enabled", "fix": "run step 3"},
            {"check": "location", "ok": True, "finding": "location 1 exists", "fix": ""}]
    out = views.rows_html(rows, ["check", "ok", "finding"], detail=["fix"])
    assert text_of(out).count("fix:") == 1 and "run step 3" in out
    assert "<th>fix</th>" not in out
    assert ">false<" in out and ">true<" in out and "True" not in out
    assert views.pick_columns([{f"c{i}": i for i in range(20)}]) == [f"c{i}" for i in range(6)]


def test_a_table_too_wide_scrolls_sideways_never_hides_columns() -> None:
    assert ".bw-wrap{max-width:100%;overflow-x:auto}" in views.CSS
    assert "overflow-x:hidden" not in views.CSS


def test_the_events_table_has_from_and_the_text_shortened_with_the_whole_in_a_tooltip() -> None:
    from bwhelpers.tables import events_rows
    from bwhelpers.walkthrough import explain_events

    text = "Hello from the walkthrough, a text long enough to be shortened"
    ev = {"type": "message-failed", "time": "2026-12-06T16:09:30.123Z", "to": "+12015550101",
          "description": "invalid-destination-address", "errorCode": 4720,
          "message": {"id": "17965659153759xccbyl8k5jn9kzy", "from": "+19195550100", "text": text}}
    out = explain_events(events_rows([ev]))._repr_html_()
    heads = re.findall(r"<th>(.*?)</th>", out)
    assert [text_of(h) for h in heads] == ["type", "time", "from", "to", "text", "error"], heads
    assert "message_id: 17965659153759xccbyl8k5jn9kzy" in text_of(out) and "kind: SMS" in text_of(out)  # whole, on the line under the row
    assert "+19195550100" in out and f'title="{text}"' in out
    assert ">Hello from the walkthrou…</span>" in out and text not in text_of(out)  # clipped at 24 (6b9217d)
    assert ">16:09:30</span>" in out and 'title="2026-12-06T16:09:30.123Z (shown in UTC)"' in out
    assert "4720 invalid-" in text_of(out)
    # an event type never breaks at its hyphen (review 24e F3: "message-/received"); a longer name may
    assert '<span class="bw-tok">message-failed</span>' in out
    assert views.token_html("message-delivered") == '<span class="bw-tok">message-delivered</span>'
    assert views.token_html("invalid-destination-address").count("<wbr>") == 2
    received = explain_events(events_rows([ev]), text=True)._repr_html_()
    assert [text_of(h) for h in re.findall(r"<th>(.*?)</th>", received)] == ["type", "time", "from", "to", "text",
                                                                              "error"]


def test_the_send_steps_saved_id_stays_the_texts_after_a_picture() -> None:
    """10's MMS is saved as a message (its waits follow it), but step 9's id in the progress table stays the text's."""
    from bwhelpers.state import Message, SavedState

    st = SavedState(messages=[Message(id="sms-1"), Message(id="mms-1", extra={"media": ["https://x/m.png"]})])
    assert st.last_message is not None and st.last_message.id == "mms-1"
    assert st.detail("messages") == "sms-1"


def test_the_teardown_words_say_what_it_did() -> None:
    from bwhelpers.pages.readbacks import teardown_words

    rows = [{"step": "delete media", "outcome": "done"}, {"step": "delete media", "outcome": "done"},
            {"step": "disconnect numbers", "outcome": "no numbers"}, {"step": "delete application", "outcome": "done"}]
    assert teardown_words(rows) == ("the teardown did: delete media, delete application; nothing to do for "
                                    "disconnect numbers (no numbers)")
    assert teardown_words([]) == "the teardown found nothing to delete"


def test_message_ids_of_one_session_stay_told_apart_when_shortened() -> None:
    """Message ids open with their millisecond timestamp, so one session's ids share a long head: the short form keeps
    the random tail (the whole id in the tooltip); a UUID keeps its first 8 characters."""
    ids = ["17965659153759xccbyl8k5jn9kzy", "1796565943325pcfnd91c3h2yv8fq"]
    shown = [re.search(r">([^<]*)</span>", views.token_html(i, short=True)).group(1) for i in ids]  # type: ignore[union-attr]
    assert shown[0] != shown[1] and all(s.endswith(i[-5:]) and "…" in s for s, i in zip(shown, ids)), shown
    assert f'title="{ids[0]}"' in views.token_html(ids[0], short=True)
    uuid = "712af2f5-3427-45b6-a722-2a9cca694360"
    assert ">712af2f5…</span>" in views.token_html(uuid, short=True)


def test_secrets_are_masked_by_value_never_by_the_fields_name() -> None:
    """A credential that came in a body (parsed) or was registered is masked wherever it shows; a field whose
    name merely contains "token" (token_url) shows its value, which the TransportError asks you to check."""
    from bwhelpers import xmlio
    from bwhelpers.masking import register_secret

    data = xmlio.parse("<Application><CallbackCreds><UserId>u</UserId><Password>Hunter2-secret</Password>"
                       "</CallbackCreds></Application>")
    out = views.object_html(data)
    assert "Hunter2-secret" not in out and "********" in out
    register_secret("Registered-Value-123")
    out = views.object_html({"token_url": "https://api.example.test/api/v1/oauth2/token", "client_secret":
                             "Registered-Value-123", "note": "uses Registered-Value-123 here"})
    assert "https://api.example.test/api/v1/oauth2/token" in re.sub(r"<[^>]+>", "", out)  # (<wbr>s after slashes)
    assert "Registered-Value-123" not in out


def test_the_order_form_marks_a_bad_value_for_its_criterion() -> None:
    form = widgets.order_form()
    assert form.errors == {}
    form.fields["value"].value = "12"
    assert "three digits" in form.errors["value"] and "⚠" in form.messages.value
    form.fields["criterion"].value = "zip"
    form.fields["value"].value = "2760"
    assert "five digits" in form.errors["value"]
    form.fields["value"].value = "27606"
    assert form.errors == {} and form.messages.value == ""


def test_progress_chips_are_links_and_show_failures() -> None:
    out = widgets.progress_html({6: "failed", 7: "partial", 1: True}, current=7)
    assert 'href="06_order_numbers.ipynb"' in out and "bw-chip-failed" in out and "bw-chip-partial" in out
    assert "✗ 6." in out and "✓ 1." in out


# -- order outcomes -------------------------------------------------------------------------------

def _through_location(setup: Any) -> None:
    setup.create_application()
    setup.create_location()


def test_a_failed_order_saves_no_number_and_the_summary_says_failed(setup: Any) -> None:
    _through_location(setup)
    order = setup.order_numbers(area_code="907")
    done = setup.wait_for_order(order.id)
    assert done.status == "FAILED"
    assert setup.saved.get("numbers", []) == []
    status = {s["key"]: s for s in setup.status()}
    assert status["orders"]["status"] == "failed" and not status["orders"]["done"]
    assert status["numbers"]["status"] == "failed"


def test_a_partial_order_saves_only_its_numbers_and_says_partial(setup: Any) -> None:
    _through_location(setup)
    order = setup.order_numbers(area_code="307", quantity=3)
    done = setup.wait_for_order(order.id)
    assert done.status == "PARTIAL"
    saved = setup.saved["numbers"]
    assert len(saved) == 2 and all(re.fullmatch(r"\+1\d{10}", n) for n in saved)
    status = {s["key"]: s["status"] for s in setup.status()}
    assert status["orders"] == status["numbers"] == "partial"


def test_the_page_shows_a_failed_order_as_a_failure(setup: Any, shown: Shown) -> None:
    _through_location(setup)
    setup.order_numbers(area_code="907")
    page = Page("numbers", setup=setup, show=False)
    result = page.wait_for_order(timeout=20)
    assert result is not None and result.status == "FAILED"
    assert "bw-callout-error" in shown.html and "5018" in shown.text
    assert "bw-order-error" in shown.html and "bw-order-ok" not in shown.html
    assert "bw-saved" not in shown.html, "nothing is announced as saved"
    assert "it/s" not in shown.text


def test_an_empty_search_warns_before_the_order(setup: Any, shown: Shown) -> None:
    _through_location(setup)
    page = Page("orders", setup=setup, show=False)
    page.search_numbers(area_code="907", quantity=5)
    assert "bw-callout-warn" in shown.html and "No numbers found" in shown.text


# -- waits ----------------------------------------------------------------------------------------

def test_a_wait_with_nothing_sent_is_refused_at_once(setup: Any) -> None:
    with pytest.raises(MissingPrerequisiteError, match="no message has been sent"):
        setup.wait_for_event("message-delivered", timeout=60)


def _ready_to_send(setup: Any) -> None:
    for _ in setup.run_all():
        pass


def test_the_wait_after_a_refused_send_returns_with_the_reason(setup: Any, shown: Shown) -> None:
    _ready_to_send(setup)
    page = Page("messages", setup=setup, show=False)
    assert page.send_message(to="12345", text="hello") is None
    assert page.wait_for_event("message-delivered", timeout=30) is None
    assert "Not waiting for message-delivered: nothing was sent" in shown.text
    assert "12345" in shown.text or "to" in shown.text


@pytest.mark.slow
def test_a_timeout_names_the_cause_from_the_state(setup: Any) -> None:
    _ready_to_send(setup)
    failing = setup.send_message("+12015550101", "fails with 4720", save=False)
    with pytest.raises(WaitTimeoutError) as caught:
        setup.wait_for_event("message-delivered", message_id=failing.id, timeout=3)
    assert "message-failed" in caught.value.description and "4720" in caught.value.description
    cause, _ = setup.why_no_event("message-delivered", "no-such-message-id")
    assert "never sent" in cause


def test_after_the_teardown_the_summary_and_chips_say_what_is_left(setup: Any, shown: Shown) -> None:
    """13's summary is shown before the Tear down button is clicked: the teardown re-computes it in place (what it
    did, every step pending, start again at 01) and the progress chips."""
    _ready_to_send(setup)
    page = Page("teardown", setup=setup)
    page.diagnose()
    page.summary()
    assert "Done:" in shown.text and "end of the walkthrough" in shown.text
    before = len(shown)
    page.teardown()
    after = Shown(shown[before:])
    box = next(o for o in reversed(after) if "bw-summary" in str(getattr(o, "data", "")))
    said = text_of(str(box.data))
    assert "the teardown did:" in said and "delete application" in said and "every step is pending" in said, said
    assert "01_create_application" in said and "end of the walkthrough" not in said
    assert said.count("pending") >= 9 and " done " not in f" {said} ", said  # the live table is re-read too
    chips = [str(getattr(o, "data", "")) for o in after if "bw-progress" in str(getattr(o, "data", ""))]
    assert chips and "✓" not in chips[-1], chips


def test_the_failing_send_of_notebook_09_keeps_step_8s_message(setup: Any) -> None:
    _ready_to_send(setup)
    first = setup.saved["messages"][-1]["id"]
    setup.send_message("+12015550101", "fails", save=False)
    assert setup.saved["messages"][-1]["id"] == first


@pytest.mark.slow
def test_the_event_wait_shows_progress_in_words(setup: Any, shown: Shown) -> None:
    _ready_to_send(setup)
    page = Page("messages", setup=setup, show=False)
    message = page.send_message(to="+12015550110", text="slow")  # the sandbox's slow destination (5 s)
    assert message is not None
    assert page.wait_for_event("message-delivered", timeout=30) is not None
    assert re.search(r"waiting for message-delivered for message \S+…, \d+ s of 30 s", shown.text), shown.text


# -- a second object ----------------------------------------------------------------------------------

def test_changed_inputs_ask_before_a_second_object(setup: Any, shown: Shown) -> None:
    setup.create_application()
    assert setup.would_create_another("application", name="Demo Server") is None
    other = setup.would_create_another("application", name="My server")
    assert other is not None and other["name"] == "Demo Server"
    page = Page("application", setup=setup, show=False)
    before = setup.saved["application"]["id"]
    result = page.create_application(name="My server")
    assert result is not None and result.id == before and setup.saved["application"]["id"] == before
    assert "You already have an application" in shown.text and "Create a second application" not in shown.text
    apps = setup.dashboard.list_applications().records
    assert len(apps) == 1, "nothing was created without asking"


# -- forms remember -----------------------------------------------------------------------------------

def test_a_form_keeps_the_users_values_across_run_all_and_restarts(setup: Any, shown: Shown) -> None:
    from bwhelpers.setup import Setup
    from bwhelpers.state import StateStore

    form = Page("application", setup=setup, show=False).application_form()
    form.fields["name"].value = "My server"
    # Run All / a new kernel: a new Page and a new Setup reading the same state file build the form again
    again = Page("application", setup=Setup(setup.config, StateStore(setup.state.path), progress=False),
                 show=False).application_form()
    assert again.values["name"] == "My server"
    order = Page("orders", setup=setup, show=False).order_form()
    order.fields["criterion"].value = "zip"
    order.fields["value"].value = "27606"
    order.fields["quantity"].value = 2
    restored = Page("orders", setup=setup, show=False).order_form()
    assert restored.values == {"criterion": "zip", "value": "27606", "quantity": 2}
    assert "forms" in setup.saved and setup.saved["forms"]["orders"]["value"] == "27606"


def test_no_password_field_is_ever_saved(setup: Any) -> None:
    import ipywidgets

    form = widgets.Form("f", {"user": ipywidgets.Text(value="u"), "password": ipywidgets.Password(value="")})
    saved: list[dict[str, Any]] = []
    form.bind({"password": "from-an-old-file", "user": "me"}, saved.append)
    assert form.fields["password"].value == "" and form.fields["user"].value == "me"
    form.fields["password"].value = "Hunter2-secret"
    form.fields["user"].value = "you"
    assert saved and all("password" not in s for s in saved)


@pytest.mark.slow
def test_a_timeout_blames_a_callback_url_that_refuses_the_events(setup: Any) -> None:
    import requests

    _ready_to_send(setup)
    bin_name = setup.saved["application"]["bin"]
    creds = (setup.config.username, setup.config.password)
    r = requests.put(f"{setup.config.sandbox_base}/_sandbox/bins/{bin_name}", json={"status": 500}, auth=creds,
                     timeout=10)
    assert r.status_code == 200, r.text
    sent = setup.send_message("+12015550100", "to a callback URL that answers 500")
    with pytest.raises(WaitTimeoutError) as caught:
        setup.wait_for_event("message-delivered", message_id=sent.id, timeout=3)
    assert "did not accept the event" in caught.value.description and "500" in caught.value.description
    assert "2xx" in (caught.value.fix or "")
