"""The widget on other websites and in other time zones, against a second server (``site_server``).

That server checks site keys (``demo`` on its own page, ``shop`` on ``other_site`` at ``http://127.0.0.1:OTHER``,
which CORS lets call it; ``http://localhost:OTHER`` is not allowed at all), and its team is away now, so every
handoff names a later time.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

TEHRAN = ZoneInfo("Asia/Tehran")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
HANDOFF = {"en": "I want to talk to a human", "fa": "می‌خوام با اپراتور صحبت کنم"}
# The reply's own sentence: "… at 6:00 Tehran time" / «… ساعت ۶:۰۰ به وقت تهران».
REPLY_CLOCK = {"en": r"(\d{1,2}:\d\d) Tehran time", "fa": r"ساعت ([۰-۹]{1,2}:[۰-۹]{2}) به وقت تهران"}
ZONE = {"en": "Tehran time", "fa": "به وقت تهران"}
UNAVAILABLE = {
    "en": "Chat with support is not available on this website.",
    "fa": "گفتگوی پشتیبانی روی این سایت در دسترس نیست.",
}
UNAVAILABLE_HEADER = {"en": "Not available on this website", "fa": "روی این سایت در دسترس نیست"}
SHOP_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>A shop</title></head>
<body><h1>A shop that embeds the chat</h1>
<script src="{server}/widget.js" data-site-key="{key}" data-lang="{lang}" async></script></body></html>"""


def _clock(when: datetime, lang: str) -> str:
    """A wall-clock time in Tehran as the reply writes it ("6:00", «۶:۰۰»)."""
    local = when.astimezone(TEHRAN)
    text = f"{local.hour}:{local.minute:02d}"
    return text.translate(PERSIAN) if lang == "fa" else text


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _shop(open_widget, other_site, site_server, key: str, lang: str, host: str = "127.0.0.1"):
    """Open a page of another website that embeds the widget with ``key`` (``host``: how the site is reached)."""
    path = other_site.add(f"/{key}-{lang}.html", SHOP_PAGE.format(lang=lang, server=site_server.url, key=key))
    return open_widget(other_site.url.replace("127.0.0.1", host) + path)


def _warnings(page) -> list[str]:
    return [message.text for message in page.console_messages() if message.type == "warning"]


def _requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.method + " " + request.url))
    return seen


@pytest.mark.parametrize(
    ("timezone", "lang"), [("UTC", "en"), ("Asia/Tehran", "en"), ("UTC", "fa"), ("Asia/Tehran", "fa")]
)
def test_widget_times_are_the_business_zone_named_in_any_browser_zone(
    open_widget, site_server, timezone, lang, screenshots
):
    widget = open_widget(f"{site_server.url}/?lang={lang}", timezone=timezone).open()
    page = widget.page
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == timezone
    reply = widget.ask(HANDOFF[lang])
    expect(widget.panel).to_have_attribute("data-state", "waiting")

    # The reply's time, the ticket's expected_at read in Tehran, the banner and the header: one time, named.
    clock = re.search(REPLY_CLOCK[lang], reply.locator(".text").inner_text()).group(1)
    session_id = page.evaluate("window.Pasokh.sessionId")
    status, transcript = site_server.api("GET", f"/v1/conversations/{session_id}/messages")
    assert status == 200
    assert _clock(_utc(transcript["ticket"]["expected_at"]), lang) == clock
    named = f"{clock} {ZONE[lang]}"
    expect(widget.banner.locator(".eta")).to_contain_text(named)
    expect(page.locator(".subtitle")).to_contain_text(named)

    # Each message's own time is Tehran's too (the zone named in its title).
    created = _utc(transcript["messages"][-1]["created_at"]).astimezone(TEHRAN).strftime("%H:%M")
    time = reply.locator("time")
    expect(time).to_have_text(created.translate(PERSIAN) if lang == "fa" else created)
    expect(time).to_have_attribute("title", re.compile(re.escape(ZONE[lang])))
    page.screenshot(path=str(screenshots / f"widget-times-{lang}-{timezone.replace('/', '-')}.png"))


def test_widget_on_an_allowed_site_chats_and_loads_its_font(open_widget, other_site, site_server, screenshots):
    widget = _shop(open_widget, other_site, site_server, "shop", "fa").open()
    page = widget.page
    assert page.evaluate("location.origin") == other_site.url != site_server.url  # another website
    loaded = page.evaluate(
        """async () => {
            await document.fonts.load('16px "Pasokh Vazirmatn"', 'سلام');
            return [...document.fonts].filter(f => f.family.includes('Pasokh Vazirmatn') && f.status === 'loaded')
                .map(f => f.weight);
        }"""
    )
    assert "400" in loaded  # the font came from the chat server, across origins
    answer = widget.ask("هزینه ارسال به شیراز چقدره؟")
    expect(answer.locator(".text")).to_contain_text("شیراز")
    expect(page.locator(".unavailable")).to_be_hidden()
    page.screenshot(path=str(screenshots / "widget-embed-allowed.png"))


@pytest.mark.parametrize(
    ("host", "key", "lang"),
    [
        ("localhost", "shop", "fa"),  # an origin the server does not allow at all (not even CORS)
        ("127.0.0.1", "demo", "en"),  # a CORS-allowed origin, but this key belongs to another site
    ],
)
def test_widget_on_a_site_not_allowed_says_so_and_never_sends(
    open_widget, other_site, site_server, host, key, lang, screenshots
):
    widget = _shop(open_widget, other_site, site_server, key, lang, host)
    page = widget.page
    sent = _requests(page)
    widget.open()
    notice = page.locator(".unavailable")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(UNAVAILABLE[lang])
    expect(widget.input).to_be_hidden()
    expect(page.locator(".subtitle")).to_have_text(UNAVAILABLE_HEADER[lang])  # not "answers in seconds"
    expect(widget.panel).to_have_attribute("data-unavailable", "origin_not_allowed")
    page.screenshot(path=str(screenshots / f"widget-embed-not-allowed-{lang}.png"))
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert not [url for url in sent if "/v1/chat" in url or "/v1/conversations" in url], sent
    assert any("may not be used from" in text for text in _warnings(page)), _warnings(page)


def test_widget_with_an_unknown_site_key_tells_the_customer_in_persian(open_widget, other_site, site_server):
    widget = _shop(open_widget, other_site, site_server, "no-such-key", "fa")
    page = widget.page
    widget.open()
    notice = page.locator(".unavailable")
    expect(notice).to_have_text("گفتگوی پشتیبانی روی این سایت در دسترس نیست. لطفاً از راه دیگری با فروشگاه تماس بگیرید.")
    panel_text = widget.panel.inner_text()
    assert not re.search(r"site key|X-Pasokh|unknown", panel_text, re.IGNORECASE), panel_text
    assert any("no-such-key" in text for text in _warnings(page)), _warnings(page)


def test_static_files_may_be_read_from_any_origin(site_server):
    request = urllib.request.Request(
        site_server.url + "/static/fonts/Vazirmatn-Regular.woff2", headers={"Origin": "https://shop.example"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
