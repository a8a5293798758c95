"""The four conversation states end to end, as a customer and an agent live them at the same time: the customer
on the demo page (the widget) in one browser context, the agent in the console in another.

bot → waiting (a handoff; the bot still answers what it is sure of and says the request stays open) → agent
(claimed and answered in the console; the bot is silent and the console shows the customer's messages) →
closed (resolved in the console; the customer's next message is the bot's again). And: waiting → back to bot
(released in the console; the bot answers again).

Whether the team is at work decides only whether the handoff notice says the team is away; the test reads
that from ``GET /v1/widget/config`` at the handoff, so it holds at any time of day.
"""

from __future__ import annotations

import re

import pytest
from apphelpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

POLL = 20_000  # the widget polls every 4 s while waiting or with an agent; the console polls the ticket every 4 s
AWAY = {"en": "not available", "fa": "در دسترس نیستند"}


def send(widget, text: str) -> dict:
    """Send ``text`` from the widget and return the server's answer to it (``POST /v1/chat``)."""
    with widget.page.expect_response(lambda r: r.url.endswith("/v1/chat") and r.request.method == "POST") as info:
        widget.input.fill(text)
        widget.input.press("Enter")
    response = info.value
    assert response.status == 200, response.text()
    return response.json()


def team_away(server) -> bool:
    """Whether the team is away now (the handoff notice then names the next opening)."""
    status, config = server.api("GET", "/v1/widget/config")
    assert status == 200, config
    return not config["open_now"]


def handoff(widget, server, text: str, lang: str) -> tuple[dict, bool]:
    """Ask for a person from the widget; check the waiting state and the notice; return the ticket and
    whether the notice said the team is away."""
    away = team_away(server)
    notice = widget.ask(text)
    expect(widget.panel).to_have_attribute("data-state", "waiting")
    expect(widget.banner).to_have_attribute("data-state", "waiting")
    notice_text = notice.locator(".text").inner_text()
    assert (AWAY[lang] in notice_text) == away, notice_text
    session_id = widget.page.evaluate("window.Pasokh.sessionId")
    status, transcript = server.api("GET", f"/v1/conversations/{session_id}/messages")
    assert status == 200, transcript
    assert transcript["state"] == "waiting" and transcript["ticket"]["status"] == "open", transcript
    assert transcript["ticket"]["id"] in notice_text
    return transcript["ticket"], away


def test_four_states_between_the_widget_and_the_console(open_widget, new_page, server, screenshots):
    widget = open_widget("/?lang=en").open()
    page = widget.page
    expect(widget.panel).to_have_attribute("data-state", "bot")

    # bot → waiting: the customer asks for a person.
    ticket, away = handoff(widget, server, "I want to talk to a person, please", "en")
    ticket_id = ticket["id"]

    # waiting: an easy question is answered, and the reply says the request stays open; the "team not
    # available" notice is not given again.
    turn = send(widget, "How long do I have to return an item?")
    assert (turn["state"], turn["kind"], turn["feedback"]) == ("waiting", "answer", True), turn
    answer = page.locator(widget.BOT_ANSWERS).last
    expect(answer.locator(".text")).to_contain_text(f"Your request ({ticket_id}) stays open")
    expect(answer.locator(".text")).to_contain_text("return")
    expect(page.locator(".typing")).to_be_hidden()
    expect(widget.panel).to_have_attribute("data-state", "waiting")
    away_notices = page.locator(widget.BOT_ANSWERS).filter(has_text=AWAY["en"])
    expect(away_notices).to_have_count(1 if away else 0)  # the handoff notice's, and no other
    page.screenshot(path=str(screenshots / "states-1-waiting-widget.png"))

    # The console, in its own browser context: the ticket waits, with the customer's question since the handoff.
    console = new_page(1366, 900)
    sign_in(console, "Maryam", server.agent_key)
    item = console.locator(f'.ticket-item[data-ticket="{ticket_id}"]')
    expect(item).to_have_attribute("data-state", "waiting")
    expect(item.locator(".new-count")).to_have_text("1 new")
    item.click()
    state = console.locator("#ticket-status")
    expect(state).to_have_text("Waiting for a person")
    waiting_line = console.locator('#transcript .line-customer[data-phase="waiting"]')
    expect(waiting_line).to_contain_text("How long do I have to return an item?")
    console.screenshot(path=str(screenshots / "states-1-waiting-console.png"), full_page=True)

    # waiting → agent: the agent claims and replies; the widget shows the reply and says an agent is here.
    console.locator("#claim").click()
    expect(state).to_have_text("With an agent")
    expect(widget.panel).to_have_attribute("data-state", "agent", timeout=POLL)
    reply = "Hi, I'm Maryam from support. Which order is it about?"
    console.locator("#reply-text").fill(reply)
    console.locator("#send-reply").click()
    expect(console.locator("#transcript .line-agent .line-text")).to_have_text(reply)
    agent_message = widget.messages("agent")
    expect(agent_message).to_have_count(1, timeout=POLL)
    expect(agent_message.locator(".text")).to_have_text(reply)
    expect(widget.banner).to_contain_text("Maryam")

    # agent: the customer writes; the bot stays silent and the console shows the message.
    answers = page.locator(widget.BOT_ANSWERS)
    before = answers.count()
    turn = send(widget, "It is order ORD-7781, the blue kettle")
    assert (turn["state"], turn["kind"], turn["reply"], turn["message_id"]) == ("agent", "with_agent", "", None), turn
    expect(widget.messages("customer").last).to_have_attribute("data-status", "delivered")
    expect(answers).to_have_count(before)
    expect(widget.panel).to_have_attribute("data-state", "agent")
    for_agent = console.locator('#transcript .line-customer[data-phase="agent"]')
    expect(for_agent).to_have_count(1, timeout=POLL)
    expect(for_agent).to_contain_text("ORD-7781")
    expect(for_agent.locator(".tag-new")).to_have_text("New")
    expect(answers).to_have_count(before)  # still no bot reply after the console has seen the message
    page.screenshot(path=str(screenshots / "states-2-agent-widget.png"))
    console.screenshot(path=str(screenshots / "states-2-agent-console.png"), full_page=True)

    # agent → closed: the agent resolves; the widget says so.
    console.locator("#resolve").click()
    expect(state).to_have_text("Closed")
    expect(widget.panel).to_have_attribute("data-state", "closed", timeout=POLL)
    expect(widget.banner).to_have_attribute("data-state", "closed")
    page.screenshot(path=str(screenshots / "states-3-closed-widget.png"))

    # closed → bot: the customer's next message is answered by the bot again.
    turn = send(widget, "How long does delivery take?")
    assert turn["state"] == "bot" and turn["reply"], turn
    expect(answers).to_have_count(before + 1)
    expect(widget.panel).to_have_attribute("data-state", "bot")
    expect(away_notices).to_have_count(1 if away else 0)


def test_released_in_the_console_the_bot_answers_again(open_widget, new_page, server, screenshots):
    widget = open_widget("/?lang=fa").open()
    page = widget.page
    ticket, _ = handoff(widget, server, "می‌خواهم با یک اپراتور صحبت کنم", "fa")

    console = new_page(1366, 900)
    sign_in(console, "Maryam", server.agent_key)
    item = console.locator(f'.ticket-item[data-ticket="{ticket["id"]}"]')
    expect(item.locator(".lang")).to_have_text("FA")
    item.click()
    expect(console.locator("#ticket-status")).to_have_text("Waiting for a person")
    console.locator("#release").click()
    state = console.locator("#ticket-status")
    expect(state).to_have_text("Back with the bot")
    expect(state).to_have_attribute("data-state", "bot")
    expect(console.locator("#ticket-state-note")).to_contain_text("answers the customer again")
    expect(item).to_have_count(0)  # out of the queue of waiting and claimed tickets

    expect(widget.panel).to_have_attribute("data-state", "bot", timeout=POLL)
    expect(widget.banner).to_be_hidden()
    answers = page.locator(widget.BOT_ANSWERS)
    before = answers.count()
    turn = send(widget, "چطور کالا را مرجوع کنم؟")
    assert (turn["state"], turn["kind"]) == ("bot", "answer"), turn
    assert turn["reply"] and not turn["handoff"], turn
    expect(answers).to_have_count(before + 1)
    reply = answers.last.locator(".text")
    expect(reply).to_contain_text(re.compile("مرجوع|بازگرداندن|بازگشت"))
    expect(reply).not_to_contain_text(AWAY["fa"])
    expect(widget.panel).to_have_attribute("data-state", "bot")
    page.screenshot(path=str(screenshots / "states-4-released-widget.png"))
