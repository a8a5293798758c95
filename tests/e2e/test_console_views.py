"""The agent console's views in a real Chromium: times in the team's zone, conversation states and new
messages, the language tag, and accessibility (axe-core, keyboard scrolling, the gaps table, chart labels)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apphelpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

POLL = 20_000  # the console polls the open ticket every 4 s and the queue every 8 s
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def chat(server, message: str, session_id: str | None = None, lang: str | None = None) -> dict:
    """One customer turn through the API."""
    body = {"message": message}
    if session_id:
        body["session_id"] = session_id
    if lang:
        body["lang"] = lang
    status, turn = server.api("POST", "/v1/chat", body)
    assert status == 200, turn
    return turn


def handed_off(server, message: str = "I want to talk to a person", **kwargs) -> dict:
    """A conversation handed to a person; returns its ticket as the agent API shows it."""
    turn = chat(server, message, **kwargs)
    assert turn["state"] == "waiting" and turn["ticket_id"], turn
    status, ticket = server.api("GET", f"/v1/handoffs/{turn['ticket_id']}", key=server.agent_key)
    assert status == 200, ticket
    return ticket


def in_zone(iso: str, zone: str, name: str | None) -> str:
    """What the console shows for ``iso``: "Tue 8 Dec 08:00 Tehran time" (the year only when not this year)."""
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    year = "" if moment.year == datetime.now(ZoneInfo(zone)).year else f" {moment.year}"
    text = f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]}{year} {moment:%H:%M}"
    return f"{text} {name}" if name else text


@pytest.mark.parametrize("browser_zone", ["UTC", "Asia/Tehran"])
def test_console_times_are_in_the_team_zone_named_whatever_the_browser_zone(
    new_page, site_server, browser_zone, screenshots
):
    status, config = site_server.api("GET", "/v1/widget/config")
    assert status == 200, config
    zone, name = config["timezone"], config["zone_name"]["en"]
    assert (zone, name) == ("Asia/Tehran", "Tehran time")
    assert config["open_now"] is False  # this server's team is away: the pickup is a later opening
    ticket = handed_off(site_server, lang="en")

    page = new_page(1366, 900, timezone=browser_zone, base_url=site_server.url)
    sign_in(page, "Maryam", site_server.agent_key)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == browser_zone
    expect(page.locator("#zone-note")).to_have_text(f"Times in {name}")
    page.locator(f'.ticket-item[data-ticket="{ticket["id"]}"]').click()

    expected = in_zone(ticket["expected_at"], zone, name)
    assert expected == in_zone(config["next_opening"], zone, name)
    assert expected.endswith(":00 Tehran time"), expected  # the opening is on the hour in Tehran
    expect(page.locator('[data-fact="expected"]')).to_have_text(expected)
    expect(page.locator('[data-fact="created"]')).to_have_text(in_zone(ticket["created_at"], zone, name))
    expect(page.locator("#transcript-zone")).to_have_text(f"(times in {name})")
    first = ticket["transcript"][0]
    expect(page.locator(f'#transcript [data-id="{first["id"]}"] time')).to_have_text(
        in_zone(first["created_at"], zone, None)
    )
    page.screenshot(path=str(screenshots / f"console-times-{browser_zone.replace('/', '-')}.png"), full_page=True)


def test_console_shows_the_state_and_the_customers_new_messages(new_page, server, screenshots):
    ticket = handed_off(server, lang="en")
    session_id = ticket["session_id"]
    waiting = chat(server, "How long do I have to return an item?", session_id)
    assert waiting["state"] == "waiting", waiting

    page = new_page(1366, 900)
    sign_in(page, "Maryam", server.agent_key)
    item = page.locator(f'.ticket-item[data-ticket="{ticket["id"]}"]')
    expect(item).to_have_attribute("data-state", "waiting")
    expect(item.locator(".state")).to_have_text("Waiting for a person")
    expect(item.locator(".lang")).to_have_text("EN")
    expect(item.locator(".new-count")).to_have_text("1 new")  # written while waiting, not seen yet
    expect(item.locator(".latest")).to_contain_text("How long do I have to return an item?")

    item.click()
    state = page.locator("#ticket-status")
    expect(state).to_have_text("Waiting for a person")
    expect(page.locator("#ticket-state-note")).to_contain_text("bot answers what it is sure of")
    expect(page.locator("#ticket-lang")).to_have_text("EN")
    line = page.locator('#transcript .line-customer[data-phase="waiting"]')
    expect(line).to_have_count(1)
    expect(line).to_contain_text("How long do I have to return an item?")
    expect(item.locator(".new-count")).to_have_count(0)  # seen now

    # A message while waiting arrives in the open ticket by polling, marked new.
    chat(server, "Also, my order number is ORD-5521", session_id)
    fresh = page.locator("#transcript .line-new")
    expect(fresh).to_have_count(1, timeout=POLL)
    expect(fresh).to_contain_text("ORD-5521")
    expect(fresh.locator(".tag-new")).to_have_text("New")

    page.locator("#claim").click()
    expect(state).to_have_text("With an agent")
    expect(state).to_have_attribute("data-state", "agent")
    expect(page.locator("#ticket-state-note")).to_contain_text("Maryam has this conversation")
    expect(item).to_have_attribute("data-state", "agent")

    # With an agent the bot is silent; the customer's message reaches the console.
    silent = chat(server, "Hello? Is someone there?", session_id)
    assert (silent["state"], silent["kind"], silent["reply"]) == ("agent", "with_agent", ""), silent
    with_agent = page.locator('#transcript .line-customer[data-phase="agent"]')
    expect(with_agent).to_have_count(1, timeout=POLL)
    expect(with_agent).to_contain_text("Is someone there?")
    expect(with_agent).to_have_class(re.compile(r"\bline-new\b"))
    page.screenshot(path=str(screenshots / "console-state-agent.png"), full_page=True)

    page.locator("#resolve").click()
    expect(state).to_have_text("Closed")
    expect(page.locator("#ticket-state-note")).to_contain_text("next message goes to the bot")
    expect(item).to_have_count(0)  # no longer waiting or with an agent: out of the default queue


def test_console_tags_a_persian_message_with_latin_words_and_a_url_as_persian(new_page, server):
    message = (
        "می‌خوام با اپراتور صحبت کنم؛ آیا گوشی Samsung Galaxy S24 Ultra رو از "
        "https://bazaarcheh.example/p/galaxy-s24-ultra می‌تونم قسطی بخرم؟"
    )
    ticket = handed_off(server, message)
    assert ticket["lang"] == "fa", ticket

    page = new_page(1366, 900)
    sign_in(page, "Maryam", server.agent_key)
    item = page.locator(f'.ticket-item[data-ticket="{ticket["id"]}"]')
    page.locator("#filter-lang").select_option("fa")
    expect(item).to_be_visible()
    expect(item.locator(".lang")).to_have_text("FA")
    expect(item.locator(".lang")).to_have_attribute("title", "Persian")
    page.locator("#filter-lang").select_option("en")
    expect(item).to_have_count(0)
    page.locator("#filter-lang").select_option("")
    item.click()
    expect(page.locator("#ticket-lang")).to_have_text("FA")
    expect(page.locator('[data-fact="language"]')).to_have_text("Persian (FA)")
    expect(page.locator("#transcript .line-customer .line-text").first).to_have_attribute("dir", "rtl")


def scroll_with_key(page, key: str) -> float:
    """Press ``key`` and return the transcript's scroll position once its (smooth) scrolling has ended."""
    page.evaluate(
        """() => { window.transcriptScrolled = new Promise(done =>
            document.getElementById('transcript').addEventListener('scrollend', done, {once: true})); }"""
    )
    page.keyboard.press(key)
    page.evaluate("() => window.transcriptScrolled")
    return page.locator("#transcript").evaluate("el => el.scrollTop")


def _a_long_conversation_handed_off(server) -> dict:
    session_id = None
    for question in (
        "How long do I have to return an item?",
        "How long does delivery take?",
        "Do you ship abroad?",
        "How do I reset my password?",
        "When is support open?",
    ):
        session_id = chat(server, question, session_id, lang="en")["session_id"]
    return handed_off(server, "Please connect me to an agent", session_id=session_id)


def test_console_views_have_no_serious_accessibility_violations(new_page, server, axe, screenshots):
    ticket = _a_long_conversation_handed_off(server)
    chat(server, "Can I pay with bitcoin?")  # something for the content gaps

    page = new_page(1280, 720)
    page.goto("/console")
    expect(page.locator("#login")).to_be_visible()
    assert axe(page) == [], "login"

    sign_in(page, "Admin", server.admin_key)
    item = page.locator(f'.ticket-item[data-ticket="{ticket["id"]}"]')
    expect(item).to_be_visible()
    assert axe(page) == [], "queue"

    item.click()
    expect(page.locator("#transcript .line")).to_have_count(len(ticket["transcript"]))
    page.locator("#suggest").click()
    expect(page.locator("#drafts .draft").first).to_be_visible(timeout=60_000)
    assert axe(page) == [], "ticket with transcript and suggestions"

    # The transcript scrolls with the keyboard: it is in the tab order, named, and takes arrow keys.
    transcript = page.locator("#transcript")
    assert transcript.evaluate("el => el.scrollHeight > el.clientHeight + 20"), "the transcript should overflow"
    page.locator("#release").focus()
    page.keyboard.press("Tab")
    expect(transcript).to_be_focused()
    expect(page.get_by_role("log", name=re.compile("^Transcript"))).to_be_focused()
    assert scroll_with_key(page, "Home") == 0  # it opens at the newest message
    assert scroll_with_key(page, "PageDown") > 0
    bottom = transcript.evaluate("el => el.scrollHeight - el.clientHeight")
    assert scroll_with_key(page, "End") >= bottom - 2

    page.locator("#tab-analytics").click()
    expect(page.locator("#analytics")).to_be_visible()
    expect(page.locator("#gaps tbody tr").first).to_be_visible()
    assert axe(page) == [], "analytics"
    page.locator("#gaps").scroll_into_view_if_needed()
    assert axe(page, {"include": [[".table-wrap"]]}) == [], "content gaps"
    page.screenshot(path=str(screenshots / "console-analytics-a11y.png"), full_page=True)


LABEL_SIZES = """() => [...document.querySelectorAll('#analytics svg text')].map(t => {
    const svg = t.ownerSVGElement;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return {chart: svg.parentElement.id, text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale};
})"""

# Where each content-gap example sits in its cell: the bullet needs room on the example's own start side.
EXAMPLE_ROOM = """() => [...document.querySelectorAll('#gaps .examples li')].map(li => {
    const cell = li.closest('td').getBoundingClientRect();
    const style = getComputedStyle(li.closest('td'));
    const item = li.getBoundingClientRect();
    const rtl = getComputedStyle(li).direction === 'rtl';
    const start = rtl ? cell.right - parseFloat(style.paddingRight) - item.right
                      : item.left - cell.left - parseFloat(style.paddingLeft);
    return {text: li.textContent, dir: li.getAttribute('dir'), direction: getComputedStyle(li).direction,
            room: start, inside: item.left >= cell.left - 0.5 && item.right <= cell.right + 0.5};
})"""


UNANSWERABLE = ("قیمت بلیط کنسرت امشب در تهران چقدر است؟", "برای سفر به کیش ویزا لازم است؟", "Can I pay with bitcoin?")


@pytest.mark.parametrize("width", [1366, 390])
def test_console_gaps_and_charts_read_well(new_page, server, width, screenshots):
    for question in UNANSWERABLE:
        chat(server, question)
    page = new_page(width, 900)
    sign_in(page, "Admin", server.admin_key)
    page.locator("#tab-analytics").click()
    expect(page.locator("#chart-reasons svg rect.bar")).to_have_count(4)

    labels = page.evaluate(LABEL_SIZES)
    assert {label["chart"] for label in labels} >= {"chart-reasons", "chart-deflection"}
    small = [label for label in labels if label["px"] < 12]
    assert not small, small

    examples = page.evaluate(EXAMPLE_ROOM)
    persian = [e for e in examples if e["dir"] == "rtl"]
    assert persian, examples
    for example in examples:
        assert example["direction"] == example["dir"], example
        assert example["inside"], example
        assert example["room"] >= 12, example  # the bullet sits in this room, inside its own cell
    page.locator("#gaps").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"console-gaps-{width}.png"), full_page=True)
