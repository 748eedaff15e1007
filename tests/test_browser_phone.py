"""The phone page in Chromium (Playwright): light and dark at 1024 px and a phone's width, screenshots into
artifacts/screenshots/ (phone-*.png), text contrast >= 4.5:1 measured from the computed colours, no Content-Security-
Policy violation and no script from a hostile text, the reply box sending a message-received, and the page's polling
showing a message that arrives while it is open. The notebook's link to the phone: tests/test_browser.py."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _chromium import CHROMIUM, launch_env, require
import requests
from _messaging_helpers import wait_for
from test_sandbox_phone import HOSTILE, bin_events, link, send, world  # noqa: F401  (the world fixture)

from bwhelpers.sandbox import DEMO

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require()

from playwright import sync_api  # noqa: E402  (a test dependency: missing fails loudly)

#: the text the page must keep readable, and the element whose background it sits on
CONTRAST_JS = """() => {
  function rgb(c) { const m = c.match(/[\\d.]+/g).map(Number); return m.length > 3 ? [m[0], m[1], m[2], m[3]] : [...m, 1]; }
  function lum(c) { return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]); }
  function ch(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function bg(el) { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c[3] > 0.5) return c; } return [255, 255, 255, 1]; }
  const out = [];
  const sel = '.bubble, .meta time, .meta span, .why, .threads .who, .threads .last, .numbers a, h1, h2, label, '
            + 'button, .empty, .err, .banner, textarea, input:not([type=hidden])';
  for (const el of document.querySelectorAll(sel)) {
    if (!el.offsetParent) continue;
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
    out.push({what: el.className || el.tagName, text: (el.innerText || el.value || '').slice(0, 30),
              ratio: Math.round((l1 + 0.05) / (l2 + 0.05) * 100) / 100});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def browser() -> Any:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, env=launch_env(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def open_page(browser: Any, url: str, scheme: str, width: int, height: int = 800) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url)
    page.wait_for_selector("main.phone")
    return context, page, problems


def check_contrast(page: Any, name: str) -> None:
    rows = page.evaluate(CONTRAST_JS)
    assert len(rows) >= 8, rows
    low = [r for r in rows if r["ratio"] < 4.5]
    assert not low, f"{name}: text under 4.5:1 contrast: {low}"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_phone_in_light_and_dark_at_1024(world: dict[str, Any], browser: Any) -> None:  # noqa: F811
    url, a = world["url"], world["a"]
    requests.post(f"{url}/_sandbox/inbound", auth=(DEMO["username"], DEMO["password"]), timeout=10,
                  json={"to": a["tn"], "from": "+19195550123", "text": HOSTILE})
    send(url, DEMO, a, "+19195550123", "A longer message to see how the bubbles wrap when a text is more than one "
                                       "line long, as texts often are.\nAnd a second paragraph.")
    r = requests.post(f"{url}/_sandbox/inbound", auth=(DEMO["username"], DEMO["password"]), timeout=10,
                      json={"to": a["tn"], "from": "+19195550123", "text": "Look at this!", "media": [{"sample": "sunset"}]})
    assert r.status_code == 202, r.text
    answer = link(url, DEMO, number=a["tn"])
    for scheme in ("light", "dark"):
        context, page, problems = open_page(browser, answer["url"] + "&with=%2B19195550123", scheme, 1024)
        try:
            page.locator(".msg.out .tick.delivered").first.wait_for()
            page.locator(".msg.in", has_text="onerror=alert(1)").first.wait_for()
            picture = page.locator(".msg.in img").first
            picture.wait_for()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
            assert page.locator(".bubble img").count() == 1, "the picture is the only image: the hostile text stayed text"
            assert page.locator(".threads li a[aria-current]").inner_text().startswith("+19195550123")
            check_contrast(page, f"{scheme} conversation")
            shot(page, f"phone-1024-{scheme}")
            page.goto(answer["url"] + "&with=%2B12015550101")
            page.locator(".why", has_text="4720").wait_for()
            assert "not a valid, reachable number" in page.locator(".why").inner_text()
            check_contrast(page, f"{scheme} failed")
            shot(page, f"phone-1024-{scheme}-failed")
            assert not problems, problems
        finally:
            context.close()


def test_a_bidi_override_in_a_reply_is_named_not_obeyed(world: dict[str, Any], browser: Any) -> None:  # noqa: F811
    """A reply "\u202eevil reply" reads "⟨U+202E⟩evil reply" on the page, as in 09's tables, never "ylper live"
    (review 24c, finding 10); light and dark at 1024 px: phone-bidi-{light,dark}.png."""
    url, a = world["url"], world["a"]
    r = requests.post(f"{url}/_sandbox/inbound", auth=(DEMO["username"], DEMO["password"]), timeout=10,
                      json={"to": a["tn"], "from": "+19195550177", "text": "\u202eevil reply"})
    assert r.status_code == 202, r.text
    answer = link(url, DEMO, number=a["tn"])
    for scheme in ("light", "dark"):
        context, page, problems = open_page(browser, answer["url"] + "&with=%2B19195550177", scheme, 1024)
        try:
            bubble = page.locator(".msg.in .bubble").last
            bubble.wait_for()
            assert bubble.inner_text().strip() == "⟨U+202E⟩evil reply", bubble.inner_text()
            assert "\u202e" not in page.locator("main.phone").inner_text()
            check_contrast(page, f"{scheme} bidi")
            shot(page, f"phone-bidi-{scheme}")
            assert not problems, problems
        finally:
            context.close()


def test_reply_box_and_live_updates_in_the_browser(world: dict[str, Any], browser: Any) -> None:  # noqa: F811
    url, a = world["url"], world["a"]
    answer = link(url, DEMO, number=a["tn"])
    context, page, problems = open_page(browser, answer["url"] + "&with=%2B19195550123", "light", 1024)
    try:
        page.fill("#text", "Typed in Chromium")
        page.click("form.reply button")
        page.locator(".msg.in .bubble", has_text="Typed in Chromium").wait_for()
        assert page.locator("#text").input_value() == "", "the box is empty again (the form was posted)"
        wait_for(lambda: [e for e in bin_events(url, DEMO) if e["message"].get("text") == "Typed in Chromium"],
                 what="the message-received callback of the reply")
        # a built-in picture as the other person: shown inline, loaded (the page's CSP allows its own images)
        page.select_option("#sample", "mountains")
        page.click("form.reply button")
        img = page.locator(".msg.in img[alt*='mountains']").last
        img.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        wait_for(lambda: [e for e in bin_events(url, DEMO) if e["message"].get("media")],
                 what="the picture's message-received callback")
        # a message that arrives while the page is open shows up without a click (the page polls)
        send(url, DEMO, a, "+19195550123", "Sent while the page is open")
        page.locator(".msg.out .bubble", has_text="Sent while the page is open").wait_for(timeout=20_000)
        page.locator(".msg.out", has_text="Sent while the page is open").locator(".tick.delivered").wait_for(
            timeout=20_000)
        # a new conversation from the box on the left
        page.fill("#with", "+19195550177")
        page.click("form.new button")
        page.locator(".conv h2", has_text="+19195550177").wait_for()
        page.fill("#text", "Hi, I am new here")
        page.click("form.reply button")
        page.locator(".threads .who", has_text="+19195550177").wait_for()
        assert not problems, problems
    finally:
        context.close()


def test_an_expired_link_stops_the_page_and_says_so(world: dict[str, Any], browser: Any,  # noqa: F811
                                                    sandbox_clock: Any) -> None:
    url, a = world["url"], world["a"]
    answer = link(url, DEMO, ttl=30, number=a["tn"])
    context, page, problems = open_page(browser, answer["url"], "light", 1024)
    try:
        assert not page.locator("#expired").is_visible()
        sandbox_clock.advance(31)  # the sandbox's clock, not a sleep: the next poll gets 401
        page.locator("#expired.on").wait_for(timeout=15_000)
        assert "page.phone_link()" in page.locator("#expired").inner_text()
        check_contrast(page, "expired banner")
        shot(page, "phone-1024-light-expired")
        assert [p for p in problems if "401" not in p] == [], problems
    finally:
        context.close()


def test_the_phone_at_a_phones_width(world: dict[str, Any], browser: Any) -> None:  # noqa: F811
    url, a = world["url"], world["a"]
    answer = link(url, DEMO, number=a["tn"])
    for scheme in ("light", "dark"):
        context, page, problems = open_page(browser, answer["url"], scheme, 390, 844)
        try:
            assert page.locator(".threads").is_visible() and not page.locator(".conv").is_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways ({width} px)"
            shot(page, f"phone-390-{scheme}-threads")
            page.locator(".threads li a").first.click()
            page.locator(".msgs").wait_for()
            assert not page.locator(".threads").is_visible() and page.locator("a.back").is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            check_contrast(page, f"{scheme} narrow")
            shot(page, f"phone-390-{scheme}-conversation")
            assert not problems, problems
        finally:
            context.close()

