"""The chat widget in a real Chromium against a real ``pasokh serve`` (demo KB, bundled model)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

PERSIAN_DIGITS = re.compile(r"^[۰-۹:\s\u200e\u200f٫,]+$")
XSS_PROBE = "<img src=x onerror=alert(1)>"
# A page that is not ours: no Content-Security-Policy to hide behind, and styles that would wreck a widget that
# did not isolate itself.
HOSTILE_HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Someone else's shop</title>
<style>
  * { direction: rtl !important; font-size: 31px !important; letter-spacing: 4px !important; }
  button, li, ol, section { background: rgb(255, 0, 0) !important; display: inline !important; }
</style></head>
<body><h1>Another shop</h1>
<script src="/widget.js" data-site-key="other-shop" data-lang="en" data-position="right" data-color="#7c3aed" async>
</script></body></html>"""


def _shadow_count(page, selector: str) -> int:
    return page.evaluate(
        "sel => document.querySelector('#pasokh-widget').shadowRoot.querySelectorAll(sel).length", selector
    )


def _shadow_focus(page) -> str:
    return page.evaluate(
        "() => { const a = document.querySelector('#pasokh-widget').shadowRoot.activeElement;"
        " return a ? (a.id || a.className) : ''; }"
    )


def test_widget_fa_answers_persian_question_right_to_left_with_source(open_widget, geometry, screenshots):
    widget = open_widget("/?lang=fa")
    page = widget.page
    assert geometry.inside_viewport(page, widget.bubble)
    assert widget.bubble.bounding_box()["x"] < page.viewport_size["width"] / 2  # data-position="left"
    expect(widget.bubble).to_have_attribute("aria-expanded", "false")

    widget.open()
    expect(widget.bubble).to_have_attribute("aria-expanded", "true")
    assert geometry.inside_viewport(page, widget.panel)
    expect(page.locator(".root")).to_have_attribute("dir", "rtl")
    font = page.locator(".root").evaluate("el => getComputedStyle(el).fontFamily")
    assert font.startswith('"Pasokh Vazirmatn"')
    loaded = page.evaluate(
        """async () => {
            await document.fonts.load('16px "Pasokh Vazirmatn"', 'سلام');
            return [...document.fonts].filter(f => f.family.includes('Pasokh Vazirmatn') && f.status === 'loaded')
                .map(f => f.weight);
        }"""
    )
    assert "400" in loaded  # the bundled Vazirmatn file was served and used

    answer = widget.ask("سلام\nهزینه ارسال به شیراز چقدره؟")
    expect(answer.locator(".text")).to_contain_text("شیراز")
    source = answer.locator(".sources a").first
    expect(source).to_have_attribute("href", re.compile(r"^https://"))
    expect(source).to_have_attribute("rel", "noopener noreferrer")
    assert source.inner_text().strip()
    assert answer.locator(".related .chip").count() >= 1
    assert PERSIAN_DIGITS.match(answer.locator("time").inner_text()), answer.locator("time").inner_text()

    # A two-line Persian message: the short first line must hug the right edge (RTL, right-aligned).
    question = widget.messages("customer").last.locator(".text")
    layout = geometry.text_layout(question)
    assert layout["direction"] == "rtl"
    assert layout["unicodeBidi"] == "isolate"
    first_line = question.evaluate(
        "el => { const r = document.createRange(); r.setStart(el.firstChild, 0); r.setEnd(el.firstChild, 4);"
        " const b = r.getBoundingClientRect(); return {left: b.left, right: b.right}; }"
    )
    assert abs(first_line["right"] - layout["contentRight"]) <= 2, (first_line, layout)
    assert first_line["left"] > layout["contentLeft"] + 20, (first_line, layout)
    assert geometry.text_layout(answer.locator(".text"))["direction"] == "rtl"
    assert geometry.inside_viewport(page, widget.panel)

    page.screenshot(path=str(screenshots / "widget-fa.png"))

    handoff = widget.ask("می‌خوام با اپراتور صحبت کنم")
    reference = handoff.locator(".text bdi.code")  # the ticket reference stays whole and left-to-right
    expect(reference).to_have_text(re.compile(r"^T-\S+$"))
    expect(reference).to_have_attribute("dir", "ltr")
    expect(widget.banner).to_be_visible()
    expect(widget.banner).to_have_attribute("data-state", "waiting")
    expect(widget.banner).to_contain_text("یکی از همکاران ما")
    eta = widget.banner.locator(".eta")
    if eta.count():  # the team is away now: the expected time, in Persian digits
        expect(eta).to_contain_text("زمان تقریبی پاسخ")
        assert not re.search(r"[0-9]", eta.inner_text()), eta.inner_text()
    else:
        expect(widget.banner).to_contain_text("به‌زودی")
    assert geometry.inside_viewport(page, widget.banner)
    page.screenshot(path=str(screenshots / "widget-fa-handoff.png"))


def test_widget_en_answers_english_question_left_to_right_with_source(open_widget, geometry, screenshots):
    widget = open_widget("/?lang=fa")
    page = widget.page
    page.locator('[data-testid="lang-switch"]').click()  # the demo page's fa/en switch
    expect(page).to_have_url(re.compile(r"/\?lang=en$"))
    widget.bubble.wait_for(state="visible")
    assert geometry.inside_viewport(page, widget.bubble)
    assert widget.bubble.bounding_box()["x"] > page.viewport_size["width"] / 2  # data-position="right"
    widget.open()
    expect(page.locator(".root")).to_have_attribute("dir", "ltr")
    expect(page.locator(".greeting")).to_contain_text("Bazaarcheh assistant")  # data-greeting

    # The typing state shows while the reply is on its way (held here until checked).
    held = []
    page.route("**/v1/chat", lambda route: held.append(route))
    widget.input.fill("Hi\nHow long do I have to return an item?")
    widget.input.press("Enter")
    expect(page.locator(".typing")).to_be_visible()
    expect(page.locator(".typing")).to_contain_text("typing")
    for _ in range(200):  # the request reaches the route handler a moment after the indicator shows
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/v1/chat")
    expect(page.locator(".typing")).to_be_hidden(timeout=90_000)
    answer = page.locator(widget.BOT_ANSWERS).last
    expect(answer.locator(".text")).to_contain_text("return")
    expect(answer.locator(".sources a").first).to_have_attribute("href", re.compile(r"^https://.*/en/returns"))
    assert re.fullmatch(r"\d\d:\d\d", answer.locator("time").inner_text())

    question = widget.messages("customer").last.locator(".text")
    layout = geometry.text_layout(question)
    assert layout["direction"] == "ltr"
    first_line = question.evaluate(
        "el => { const r = document.createRange(); r.setStart(el.firstChild, 0); r.setEnd(el.firstChild, 2);"
        " const b = r.getBoundingClientRect(); return {left: b.left, right: b.right}; }"
    )
    assert abs(first_line["left"] - layout["contentLeft"]) <= 2, (first_line, layout)
    assert first_line["right"] < layout["contentRight"] - 20, (first_line, layout)
    assert geometry.inside_viewport(page, widget.panel)

    page.screenshot(path=str(screenshots / "widget-en.png"))

    # A related article is a quick reply (the server offers them where it has some: delivery has, returns may not).
    if not answer.locator(".related .chip").count():
        answer = widget.ask("How much is delivery to Shiraz?")
    answers = page.locator(widget.BOT_ANSWERS).count()
    chip = answer.locator(".related .chip").first
    title = chip.inner_text()
    chip.click()
    expect(widget.messages("customer").last.locator(".text")).to_have_text(title)
    expect(page.locator(widget.BOT_ANSWERS)).to_have_count(answers + 1, timeout=90_000)


def test_widget_mixed_message_takes_its_own_direction_and_isolates_url(open_widget, geometry):
    widget = open_widget("/?lang=en").open()
    message = "سفارش 12345 من کجاست؟ 📦 https://bazaarcheh.example/orders/12345"
    widget.ask(message)

    text = widget.messages("customer").last.locator(".text")
    assert text.text_content() == message
    expect(text).to_have_attribute("dir", "rtl")  # a Persian message in an English panel
    assert geometry.text_layout(text)["direction"] == "rtl"
    url = text.locator("a")
    expect(url).to_have_attribute("href", "https://bazaarcheh.example/orders/12345")
    expect(url).to_have_attribute("dir", "ltr")
    expect(url).to_have_attribute("rel", "noopener noreferrer")
    assert url.evaluate("el => getComputedStyle(el).unicodeBidi") == "isolate"


def test_widget_handoff_escapes_html_and_survives_reload(open_widget, server, geometry):
    widget = open_widget("/?lang=en")
    page = widget.page
    page.route(f"{server.url}/host-page", lambda route: route.fulfill(content_type="text/html", body=HOSTILE_HOST_PAGE))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script("window.__probeRan = false;")
    page.goto("/host-page")
    widget.bubble.wait_for(state="visible")
    assert geometry.inside_viewport(page, widget.bubble)
    background = widget.bubble.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(124, 58, 237)"  # data-color, not the host page's red
    widget.open()
    expect(page.locator(".root")).to_have_attribute("dir", "ltr")

    reply = widget.ask("I want to talk to a human")
    expect(widget.banner).to_be_visible()
    expect(widget.banner).to_contain_text("A person will reply")
    expect(widget.banner).to_have_attribute("data-state", "waiting")
    expect(reply.locator(".text")).to_contain_text("team")

    probe = f'{XSS_PROBE} <img src=y onerror="window.__probeRan = true"> <script>window.__probeRan = true</script>'
    widget.ask(probe)
    page.wait_for_timeout(500)  # let a broken image's error event fire, were there one

    def assert_inert() -> None:
        assert widget.messages("customer").last.locator(".text").text_content() == probe
        assert _shadow_count(page, "img, script:not([src])") == 0
        assert page.locator("img").count() == 0
        assert page.evaluate("window.__probeRan") is False
        assert dialogs == []

    assert_inert()
    texts = [t.strip() for t in widget.messages("customer").locator(".text").all_text_contents()]

    page.reload()
    expect(widget.panel).to_be_visible()  # it was open before the reload
    expect(widget.messages("customer")).to_have_count(len(texts))
    assert [t.strip() for t in widget.messages("customer").locator(".text").all_text_contents()] == texts
    expect(widget.banner).to_be_visible()
    session_id = page.evaluate("window.Pasokh.sessionId")
    status, transcript = server.api("GET", f"/v1/conversations/{session_id}/messages")
    assert status == 200
    expect(widget.banner.locator(".ref")).to_contain_text(transcript["ticket"]["id"])  # the customer's reference
    page.wait_for_timeout(300)
    assert_inert()


def test_widget_keyboard_opens_focuses_input_and_escape_returns_focus(open_widget):
    widget = open_widget("/?lang=en")
    page = widget.page
    expect(widget.panel).to_have_attribute("role", "dialog")
    expect(widget.panel).to_have_attribute("aria-labelledby", "pasokh-title")
    expect(page.locator(".log")).to_have_attribute("aria-live", "polite")
    expect(widget.bubble).to_have_attribute("aria-label", "Chat with support")

    for _ in range(40):  # reach the bubble with Tab, as a keyboard user would
        page.keyboard.press("Tab")
        if _shadow_focus(page) == "bubble":
            break
    assert _shadow_focus(page) == "bubble"
    outline = widget.bubble.evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert not outline.startswith("none"), outline

    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.bubble).to_have_attribute("aria-expanded", "true")
    assert _shadow_focus(page) == "pasokh-input"

    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.bubble).to_have_attribute("aria-expanded", "false")
    assert _shadow_focus(page) == "bubble"


def test_widget_thumbs_and_csat_are_recorded(open_widget, server):
    def totals() -> tuple[int, int]:
        status, data = server.api("GET", "/v1/analytics", key=server.admin_key)
        assert status == 200, data
        return data["feedback"]["up"], data["csat"]["responses"]

    ups, responses = totals()
    widget = open_widget("/?lang=fa").open()
    page = widget.page
    expect(page.locator(".greeting .feedback")).to_have_count(0)
    with page.expect_response("**/v1/chat") as small_talk:
        hello = widget.ask("سلام")
    assert small_talk.value.json()["feedback"] is False
    expect(hello.locator(".feedback")).to_have_count(0)  # only answers from the KB are rated

    with page.expect_response("**/v1/chat") as response:
        answer = widget.ask("چطور کالا را مرجوع کنم؟")
    reply = response.value.json()
    assert reply["feedback"] is True
    # Related articles are the server's, as it sent them.
    assert answer.locator(".related .chip").all_inner_texts() == [r["title"] for r in reply["related"]]
    answer.locator('.thumb[data-rating="up"]').click()
    expect(answer.locator(".thanks")).to_have_text("از بازخورد شما ممنونیم.")
    expect(answer.locator('.thumb[data-rating="up"]')).to_have_attribute("aria-pressed", "true")
    expect(answer.locator('.thumb[data-rating="down"]')).to_be_disabled()

    page.reload()  # the thumb stays given after a reload
    answer = page.locator(widget.BOT_ANSWERS).nth(1)
    expect(answer.locator('.thumb[data-rating="up"]')).to_have_attribute("aria-pressed", "true")
    expect(answer.locator('.thumb[data-rating="up"]')).to_be_disabled()

    page.locator(".end").click()
    scores = page.locator(".csat .score")
    expect(scores).to_have_count(5)
    assert scores.all_inner_texts() == ["۱", "۲", "۳", "۴", "۵"]
    expect(page.locator(".scale-ends")).to_contain_text("۵ = خیلی راضی")
    scores.nth(4).click()
    expect(page.locator(".csat-thanks")).to_be_visible()
    assert page.evaluate("window.Pasokh.sessionId") is None  # the next message starts a new conversation
    assert totals() == (ups + 1, responses + 1)
