"""The widget on a phone (390×844): full screen, the on-screen keyboard, long pastes, failed sends, the rating
scale — and web addresses in messages, which a narrow screen wraps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

PHONE = {"width": 390, "height": 844}
KEYBOARD_UP = {"width": 390, "height": 450}  # what is left of the screen above an on-screen keyboard
ADDRESS = "https://help.bazaarcheh.example/fa/payment/cash-on-delivery"
AGENT_TEXT = f"سلام، سارا هستم. لطفاً راهنمای «پرداخت در محل ({ADDRESS})» را ببینید و اگر سؤالی بود بپرسید."


def _phone(open_widget, lang: str):
    return open_widget(f"/?lang={lang}", PHONE["width"], PHONE["height"])


def test_widget_on_a_phone_covers_the_screen_and_keeps_messages_above_the_keyboard(open_widget, geometry, screenshots):
    widget = _phone(open_widget, "fa")
    page = widget.page
    assert geometry.inside_viewport(page, widget.bubble)
    widget.open()
    assert widget.panel.bounding_box() == {"x": 0, "y": 0, **PHONE}
    expect(widget.bubble).to_be_hidden()  # nothing of the page shows through, the bubble included

    # The page behind stays where it is.
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "hidden"
    page.mouse.move(200, 30)
    page.mouse.wheel(0, 800)
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") == 0

    widget.ask("می‌خوام با اپراتور صحبت کنم")  # the waiting banner: the tallest the top of the panel gets
    for part in (widget.input, page.locator(".send"), page.locator(".close"), widget.banner):
        assert geometry.inside_viewport(page, part)
    page.screenshot(path=str(screenshots / "widget-phone-fa.png"))

    # The keyboard opens: the panel follows the visible part of the screen and the messages keep a useful height.
    page.set_viewport_size(KEYBOARD_UP)
    expect(widget.panel).to_have_js_property("offsetHeight", KEYBOARD_UP["height"])
    messages = page.locator(".log").bounding_box()
    assert messages["height"] >= 200, messages
    for part in (widget.input, page.locator(".send"), widget.banner):
        assert geometry.inside_viewport(page, part)
    page.screenshot(path=str(screenshots / "widget-phone-keyboard-fa.png"))

    page.set_viewport_size(PHONE)
    page.locator(".close").click()
    expect(widget.bubble).to_be_visible()
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") != "hidden"


def test_widget_long_paste_is_kept_and_the_limit_named(open_widget, screenshots):
    widget = _phone(open_widget, "en").open()
    page = widget.page
    text = "Please read my whole story. " * 160  # 4,480 characters, over the 4,000 the server accepts
    widget.input.focus()
    page.keyboard.insert_text(text)
    assert widget.input.input_value() == text  # nothing cut
    counter = page.locator(".counter")
    expect(counter).to_be_visible()
    expect(counter).to_contain_text("4,479 characters")  # what is sent is trimmed
    expect(counter).to_contain_text("at most 4,000")
    expect(widget.input).to_have_attribute("aria-invalid", "true")

    widget.input.press("Enter")
    page.wait_for_timeout(300)
    expect(widget.messages("customer")).to_have_count(0)  # not sent, and still there to shorten
    assert widget.input.input_value() == text
    page.screenshot(path=str(screenshots / "widget-phone-too-long.png"))

    widget.input.fill(text[:3000])
    expect(counter).to_be_hidden()
    expect(widget.input).to_have_attribute("aria-invalid", "false")


def test_widget_failed_send_is_labelled_on_the_message_and_retried(open_widget, screenshots):
    widget = _phone(open_widget, "fa").open()
    page = widget.page
    page.route("**/v1/chat", lambda route: route.abort())
    widget.input.fill("هزینه ارسال به شیراز چقدره؟")
    widget.input.press("Enter")
    failed = page.locator(".msg-customer.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".not-sent")).to_have_text("ارسال نشد")
    expect(failed.locator(".retry")).to_have_text("تلاش دوباره")
    expect(widget.messages("customer")).to_have_count(1)  # no second, faded copy
    assert widget.input.input_value() == ""
    assert failed.evaluate("el => getComputedStyle(el).opacity") == "1"
    expect(page.locator(".error")).to_contain_text("دوباره تلاش کنید")
    page.screenshot(path=str(screenshots / "widget-phone-not-sent-fa.png"))

    page.unroute("**/v1/chat")
    failed.locator(".retry").click()
    expect(page.locator(widget.BOT_ANSWERS)).to_have_count(1, timeout=90_000)
    expect(widget.messages("customer")).to_have_count(1)
    expect(widget.messages("customer").first).to_have_attribute("data-status", "sent")
    expect(page.locator(".msg.failed")).to_have_count(0)
    expect(page.locator(".error")).to_be_hidden()


@pytest.mark.parametrize(
    ("lang", "worst", "best"),
    [("en", "1 — Very unsatisfied", "5 — Very satisfied"), ("fa", "۱ — خیلی ناراضی", "۵ — خیلی راضی")],
)
def test_widget_csat_scale_says_which_end_is_good(open_widget, lang, worst, best, screenshots):
    widget = _phone(open_widget, lang).open()
    page = widget.page
    widget.ask("How long do I have to return an item?" if lang == "en" else "چطور کالا را مرجوع کنم؟")
    page.locator(".end").click()
    scores = page.locator(".csat .score")
    expect(scores).to_have_count(5)
    expect(scores.first).to_have_attribute("aria-label", worst)
    expect(scores.last).to_have_attribute("aria-label", best)
    # On screen, each end's words sit on the side of its number (1 on the left in English, on the right in Persian).
    low, high = page.locator(".scale-ends .low"), page.locator(".scale-ends .high")
    expect(low).to_contain_text(worst.split(" — ")[0])
    expect(high).to_contain_text(best.split(" — ")[0])

    def centre(locator) -> float:
        box = locator.bounding_box()
        return box["x"] + box["width"] / 2

    one, five = centre(scores.first), centre(scores.last)
    assert abs(centre(low) - one) < abs(centre(low) - five)
    assert abs(centre(high) - five) < abs(centre(high) - one)
    page.screenshot(path=str(screenshots / f"widget-phone-csat-{lang}.png"))


def test_widget_address_in_an_agent_message_stays_whole_left_to_right_with_its_brackets(
    open_widget, server, screenshots
):
    widget = _phone(open_widget, "fa").open()
    page = widget.page
    widget.ask("می‌خوام با اپراتور صحبت کنم")
    session_id = page.evaluate("window.Pasokh.sessionId")
    status, transcript = server.api("GET", f"/v1/conversations/{session_id}/messages")
    assert status == 200
    status, _ = server.api(
        "POST",
        f"/v1/handoffs/{transcript['ticket']['id']}/reply",
        {"agent": "سارا", "text": AGENT_TEXT},
        key=server.agent_key,
    )
    assert status == 200
    message = widget.messages("agent")
    expect(message).to_have_count(1, timeout=20_000)
    text = message.locator(".text")
    assert text.text_content() == AGENT_TEXT  # nothing lost or reordered in the text itself
    expect(text).to_have_attribute("dir", "rtl")

    group = text.locator("bdi.url-group")  # the address with its brackets: one left-to-right box
    expect(group).to_have_attribute("dir", "ltr")
    assert group.text_content() == f"({ADDRESS})"
    link = group.locator("a")
    expect(link).to_have_attribute("href", ADDRESS)
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    assert link.text_content() == ADDRESS
    assert _shadow_count(page, "a:not([href^='http'])") == 0

    layout = group.evaluate(
        """el => {
            const box = el.getBoundingClientRect();
            const rect = (node, start, end) => {
                const r = document.createRange(); r.setStart(node, start); r.setEnd(node, end);
                return r.getBoundingClientRect();
            };
            const open = rect(el.firstChild, 0, 1), close = rect(el.lastChild, 0, 1);
            const link = el.querySelector('a');
            const first = link.getClientRects()[0];
            const lines = [...link.getClientRects()];
            return {box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom},
                    open: {left: open.left, right: open.right, top: open.top},
                    close: {left: close.left, right: close.right, bottom: close.bottom},
                    first: {left: first.left, top: first.top},
                    lines: lines.map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom})),
                    display: getComputedStyle(el).display};
        }"""
    )
    assert layout["display"] == "inline-block"
    # "(" is at the box's left, just before the address starts; ")" ends it; every line of the address inside.
    assert abs(layout["open"]["left"] - layout["box"]["left"]) <= 1, layout
    assert layout["open"]["right"] <= layout["first"]["left"] + 1, layout
    assert abs(layout["open"]["top"] - layout["first"]["top"]) <= 4, layout
    assert layout["close"]["left"] >= layout["lines"][-1]["right"] - 1, layout
    for line in layout["lines"]:
        assert layout["box"]["left"] - 1 <= line["left"] and line["right"] <= layout["box"]["right"] + 1, layout
        assert layout["box"]["top"] - 1 <= line["top"] and line["bottom"] <= layout["box"]["bottom"] + 1, layout
    # Lines read top to bottom, each starting at the box's left: left to right, never interleaved with Persian.
    assert [line["top"] for line in layout["lines"]] == sorted(line["top"] for line in layout["lines"])
    page.screenshot(path=str(screenshots / "widget-phone-agent-link-fa.png"))


def _shadow_count(page, selector: str) -> int:
    return page.evaluate(
        "sel => document.querySelector('#pasokh-widget').shadowRoot.querySelectorAll(sel).length", selector
    )


def test_widget_address_in_a_bot_answer_is_a_left_to_right_link(open_widget):
    widget = open_widget("/?lang=en").open()
    answer = widget.ask("How do I install the Bazaarcheh app on an iPhone?")
    link = answer.locator(".text a.url").first
    expect(link).to_have_attribute("href", re.compile(r"^https://bazaarcheh\.example"))
    expect(link).to_have_attribute("dir", "ltr")
    assert link.evaluate("el => getComputedStyle(el).unicodeBidi") == "isolate"
