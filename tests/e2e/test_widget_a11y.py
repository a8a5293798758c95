"""axe-core on the demo page and the open widget with a conversation: no serious or critical violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

QUESTION = {"fa": "هزینه ارسال به شیراز چقدره؟", "en": "How long do I have to return an item?"}
HANDOFF = {"fa": "می‌خوام با اپراتور صحبت کنم", "en": "I want to talk to a human"}
AGENT = {"fa": "سلام، سارا هستم. سفارش شما را بررسی می‌کنم.", "en": "Hi, I'm Sara. I'm looking at your order now."}


def _report(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}" for v in violations
    )


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_demo_page_and_open_widget_have_no_serious_accessibility_violations(open_widget, server, axe, lang):
    widget = open_widget(f"/?lang={lang}")
    page = widget.page
    violations = axe(page)
    assert not violations, _report(violations)

    # Open, with an answer (sources, related articles, thumbs), a handoff (the banner) and an agent's message.
    widget.open()
    widget.ask(QUESTION[lang])
    widget.ask(HANDOFF[lang])
    session_id = page.evaluate("window.Pasokh.sessionId")
    status, transcript = server.api("GET", f"/v1/conversations/{session_id}/messages")
    assert status == 200
    status, _ = server.api(
        "POST",
        f"/v1/handoffs/{transcript['ticket']['id']}/reply",
        {"agent": "Sara", "text": AGENT[lang]},
        key=server.agent_key,
    )
    assert status == 200
    expect(widget.messages("agent")).to_have_count(1, timeout=20_000)
    expect(widget.panel).to_have_attribute("data-state", "agent")
    violations = axe(page)
    assert not violations, _report(violations)

    page.locator(".end").click()  # the rating scale
    expect(page.locator(".csat .score")).to_have_count(5)
    violations = axe(page)
    assert not violations, _report(violations)
