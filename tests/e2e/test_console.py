"""The agent console in a real Chromium: queue, claim, suggested reply to the widget, analytics."""

from __future__ import annotations

import re

import pytest
from apphelpers import sign_in
from playwright.sync_api import expect

pytestmark = pytest.mark.integration


def _ticket_of(server, session_id: str) -> dict:
    status, data = server.api("GET", "/v1/handoffs?status=all&limit=500", key=server.agent_key)
    assert status == 200, data
    tickets = [t for t in data["tickets"] if t["session_id"] == session_id]
    assert len(tickets) == 1, tickets
    return tickets[0]


def test_console_claims_ticket_and_suggested_reply_reaches_widget(open_widget, new_page, server, screenshots):
    widget = open_widget("/?lang=en").open()
    widget.ask("How long do I have to return an item?")
    widget.ask("I want to talk to a human")
    expect(widget.banner).to_be_visible()
    ticket = _ticket_of(server, widget.page.evaluate("window.Pasokh.sessionId"))

    console = new_page(1366, 900)
    sign_in(console, "Maryam", server.agent_key)
    expect(console.locator("#app")).to_be_visible()
    expect(console.locator("#who-name")).to_have_text("Maryam")
    item = console.locator(f'.ticket-item[data-ticket="{ticket["id"]}"]')
    expect(item).to_be_visible()
    expect(item).to_contain_text("I want to talk to a human")
    console.locator("#filter-lang").select_option("fa")
    expect(item).to_have_count(0)
    console.locator("#filter-lang").select_option("en")
    expect(item).to_be_visible()
    console.locator("#filter-status").select_option("resolved")
    expect(item).to_have_count(0)
    console.locator("#filter-status").select_option("open")
    item.click()
    console.locator("#filter-status").select_option("open,claimed")
    console.locator("#filter-lang").select_option("")

    expect(console.locator("#ticket-title")).to_have_text(f"Ticket {ticket['id']}")
    expect(console.locator('[data-fact="reason"]')).to_have_text("Asked for a person")
    expect(console.locator('[data-fact="sentiment"]')).to_contain_text(ticket["sentiment"]["label"])
    transcript = console.locator("#transcript")
    expect(transcript.locator(".line-customer")).to_have_count(2)
    expect(transcript).to_contain_text("How long do I have to return an item?")

    console.locator("#claim").click()
    expect(console.locator("#ticket-status")).to_have_attribute("data-status", "claimed")
    expect(console.locator("#ticket-status")).to_have_text("With an agent")
    expect(console.locator("#claim")).to_be_disabled()
    assert _ticket_of(server, ticket["session_id"])["agent"] == "Maryam"

    console.locator("#suggest").click()
    drafts = console.locator("#drafts .draft")
    expect(drafts.first).to_be_visible(timeout=60_000)
    draft_text = drafts.first.locator(".draft-text").text_content()
    assert draft_text.strip()
    drafts.first.locator("button", has_text="Insert").click()
    box = console.locator("#reply-text")
    expect(box).to_have_value(draft_text)
    edited = f"{draft_text}\n— Maryam (Bazaarcheh support)"
    box.fill(edited)
    console.locator("#send-reply").click()
    expect(transcript.locator(".line-agent")).to_have_count(1)
    expect(transcript.locator(".line-agent .line-text")).to_have_text(edited)
    console.screenshot(path=str(screenshots / "console.png"), full_page=True)

    agent_message = widget.messages("agent")
    expect(agent_message).to_have_count(1, timeout=20_000)  # picked up by the widget's polling
    expect(agent_message.locator(".text")).to_have_text(edited)
    expect(agent_message.locator(".who")).to_have_text("Support agent · Maryam")
    widget.page.screenshot(path=str(screenshots / "widget-agent-reply-en.png"))
    assert _ticket_of(server, ticket["session_id"])["first_reply_at"] is not None

    console.locator("#resolve").click()
    expect(console.locator("#ticket-status")).to_have_attribute("data-status", "resolved")
    expect(console.locator("#ticket-status")).to_have_text("Closed")
    expect(console.locator("#send-reply")).to_be_disabled()
    expect(widget.banner).to_have_attribute("data-state", "closed", timeout=20_000)


def test_console_refuses_wrong_key(new_page, server):
    page = new_page()
    sign_in(page, "Maryam", "not-the-key-0123456789", accepted=False)
    expect(page.locator("#login-error")).to_contain_text("not accepted")
    expect(page.locator("#app")).to_be_hidden()


def test_console_analytics_needs_admin_key_and_draws_charts(new_page, server, screenshots):
    # Something to count: an answered conversation rated 4, and a question the KB cannot answer.
    status, chat = server.api("POST", "/v1/chat", {"message": "How long do I have to return an item?"})
    assert status == 200, chat
    status, _ = server.api("POST", "/v1/feedback", {"session_id": chat["session_id"], "csat": 4})
    assert status == 201
    status, _ = server.api("POST", "/v1/chat", {"message": "Can I pay with bitcoin?"})
    assert status == 200

    page = new_page(1366, 1000)
    sign_in(page, "Maryam", server.agent_key)
    expect(page.locator("#app")).to_be_visible()
    page.locator("#tab-analytics").click()
    expect(page.locator("#analytics-error")).to_contain_text("admin key")
    expect(page.locator("#analytics")).to_be_hidden()

    page.locator("#sign-out").click()
    sign_in(page, "Admin", server.admin_key)
    page.locator("#tab-analytics").click()
    expect(page.locator("#tab-analytics")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#analytics")).to_be_visible()
    expect(page.locator("#kpis")).to_contain_text("Conversations")

    deflection = page.locator("#chart-deflection svg")
    expect(deflection.locator("rect.bar")).to_have_count(3)
    expect(deflection).to_have_attribute("aria-label", re.compile(r"Confirmed \d+, Assumed \d+"))
    expect(page.locator("#chart-reasons svg rect.bar")).to_have_count(4)
    expect(page.locator("#chart-csat svg circle.dot").first).to_be_visible()
    rows = page.locator("#gaps tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1

    _, data = server.api("GET", "/v1/analytics", key=server.admin_key)
    expect(page.locator("#chart-csat svg circle.dot")).to_have_count(len(data["csat"]["by_day"]))
    requested = data["handoffs"]["by_reason"].get("requested", 0)
    expect(page.locator("#chart-reasons svg")).to_have_attribute(
        "aria-label", re.compile(f"Asked for a person {requested}")
    )
    page.screenshot(path=str(screenshots / "console-analytics.png"), full_page=True)
