"""The four conversation states as the customer sees them in the widget: with the bot, waiting for a person,
with an agent (the bot silent), closed (rated, then back to the bot) — and released back to the bot.

The agent's side is driven through the HTTP API here (the console has its own tests); every state change
reaches the widget the way it would in use, by the widget's own polling.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

POLL = 20_000  # the widget polls every 4 s; a state change shows within a few polls


def _ticket(server, page) -> dict:
    session_id = page.evaluate("window.Pasokh.sessionId")
    status, transcript = server.api("GET", f"/v1/conversations/{session_id}/messages")
    assert status == 200, transcript
    assert transcript["ticket"] is not None, transcript
    return transcript


def _header(page) -> tuple[str, str, str]:
    """The panel's state, the header's subtitle and the banner's state, as shown."""
    return (
        page.locator("#pasokh-panel").get_attribute("data-state"),
        page.locator(".subtitle").inner_text(),
        page.locator(".banner").get_attribute("data-state"),
    )


def test_widget_follows_bot_waiting_agent_closed_and_back_to_bot(open_widget, server, screenshots):
    widget = open_widget("/?lang=en").open()
    page = widget.page
    expect(widget.panel).to_have_attribute("data-state", "bot")
    expect(page.locator(".subtitle")).to_have_text("The assistant answers in seconds")
    expect(widget.banner).to_be_hidden()
    expect(page.locator(".greeting .feedback")).to_have_count(0)  # nothing to rate in a greeting

    # bot → waiting: the handoff notice, which is not rated; header and banner agree on when a person replies.
    handoff = widget.ask("I want to talk to a human")
    expect(widget.panel).to_have_attribute("data-state", "waiting")
    expect(widget.banner).to_have_attribute("data-state", "waiting")
    expect(handoff.locator(".feedback")).to_have_count(0)
    transcript = _ticket(server, page)
    assert transcript["state"] == "waiting"
    subtitle = page.locator(".subtitle").inner_text()
    assert "few seconds" not in subtitle and "answers in seconds" not in subtitle
    eta = widget.banner.locator(".eta")
    if eta.count():  # the team is away: the header names the same time as the banner
        clock = re.search(r"\d{1,2}:\d\d", eta.inner_text()).group(0)
        assert clock in subtitle, (subtitle, eta.inner_text())
        assert re.search(r"\d{1,2}:\d\d", handoff.locator(".text").inner_text()).group(0) == clock
    else:
        assert subtitle == "A person will reply here soon"
    expect(widget.banner.locator(".ref")).to_contain_text(transcript["ticket"]["id"])
    page.screenshot(path=str(screenshots / "widget-state-waiting.png"))

    # waiting: the bot still answers a question it is sure of, and the ticket stays open.
    answer = widget.ask("How long do I have to return an item?")
    expect(answer.locator(".text")).to_contain_text("return")
    expect(widget.panel).to_have_attribute("data-state", "waiting")
    assert "not available" not in answer.locator(".text").inner_text()

    # waiting → agent: the agent's reply arrives by polling; the header and banner name the agent.
    ticket_id = transcript["ticket"]["id"]
    status, _ = server.api(
        "POST",
        f"/v1/handoffs/{ticket_id}/reply",
        {"agent": "Sara", "text": "Hi, I'm Sara from support. Which order is it?"},
        key=server.agent_key,
    )
    assert status == 200
    expect(widget.messages("agent")).to_have_count(1, timeout=POLL)
    expect(widget.panel).to_have_attribute("data-state", "agent", timeout=POLL)
    assert _header(page) == ("agent", "Sara from the support team is here", "agent")
    expect(widget.banner).to_contain_text("Sara")

    # agent: the bot is silent; the customer's message is shown as delivered, with no reply bubble.
    answers = page.locator(widget.BOT_ANSWERS)
    before = answers.count()
    widget.input.fill("It is order ORD-1234, thanks")
    widget.input.press("Enter")
    mine = widget.messages("customer").last
    expect(mine).to_have_attribute("data-status", "delivered", timeout=60_000)
    expect(mine.locator(".status")).to_have_text("Delivered to support")
    page.wait_for_timeout(1_000)  # a bot bubble, were there one, comes with the same response
    expect(answers).to_have_count(before)
    expect(page.locator(".typing")).to_be_hidden()
    messages = _ticket(server, page)["messages"]
    assert messages[-1]["role"] == "customer" and messages[-1]["text"] == "It is order ORD-1234, thanks"
    page.screenshot(path=str(screenshots / "widget-state-agent.png"))

    # agent → closed: said in the header and banner; the customer is asked to rate, and can still write.
    status, _ = server.api("POST", f"/v1/handoffs/{ticket_id}/resolve", key=server.agent_key)
    assert status == 200
    expect(widget.panel).to_have_attribute("data-state", "closed", timeout=POLL)
    assert _header(page) == ("closed", "This conversation was closed", "closed")
    expect(widget.banner).to_contain_text("closed this conversation")
    expect(page.locator('.csat[data-mode="closed"] .score')).to_have_count(5)
    expect(widget.input).to_be_visible()
    page.screenshot(path=str(screenshots / "widget-state-closed.png"))
    page.locator('.csat .score[data-score="4"]').click()
    expect(page.locator(".csat-thanks")).to_have_text("Thank you! Your rating was saved.")
    session_id = page.evaluate("window.Pasokh.sessionId")
    assert session_id  # the same conversation goes on

    # closed → bot: the next message is the bot's again.
    again = widget.ask("How long do I have to return an item?")
    expect(again.locator(".text")).to_contain_text("return")
    expect(widget.panel).to_have_attribute("data-state", "bot")
    expect(widget.banner).to_be_hidden()
    expect(page.locator(".subtitle")).to_have_text("The assistant answers in seconds")
    assert page.evaluate("window.Pasokh.sessionId") == session_id
    expect(page.locator(".csat")).to_be_hidden()


def test_widget_waiting_in_persian_then_released_back_to_the_bot(open_widget, server, screenshots):
    widget = open_widget("/?lang=fa").open()
    page = widget.page
    widget.ask("می‌خوام با اپراتور صحبت کنم")
    expect(widget.panel).to_have_attribute("data-state", "waiting")
    expect(widget.banner).to_contain_text("یکی از همکاران ما")
    assert "چند ثانیه" not in page.locator(".subtitle").inner_text()

    page.reload()  # the state survives a reload: it comes from the server
    expect(widget.panel).to_be_visible()
    expect(widget.panel).to_have_attribute("data-state", "waiting")
    expect(widget.banner).to_have_attribute("data-state", "waiting")

    ticket_id = _ticket(server, page)["ticket"]["id"]
    status, _ = server.api("POST", f"/v1/handoffs/{ticket_id}/release", key=server.agent_key)
    assert status == 200
    expect(widget.panel).to_have_attribute("data-state", "bot", timeout=POLL)
    expect(widget.banner).to_be_hidden()
    expect(page.locator(".subtitle")).to_have_text("دستیار در چند ثانیه پاسخ می‌دهد")
    page.screenshot(path=str(screenshots / "widget-state-released-fa.png"))
