import pytest

from bot.cues import dissatisfied, small_talk


@pytest.mark.parametrize(
    "text, kind",
    [
        ("سلام", "greeting"), ("سلام وقت بخیر", "greeting"), ("hi", "greeting"), ("Hello there!", "greeting"),
        ("خسته نباشید", "greeting"), ("thanks a lot!", "thanks"), ("ممنونم، خیلی کمک کرد 🙏", "thanks"),
        ("مرسی", "thanks"), ("bye", "goodbye"), ("خداحافظ", "goodbye"),
        ("سلام، هزینه ارسال چقدره؟", None), ("hi, where is my order?", None), ("thanks but my refund is late", None),
        ("", None), ("Tehran", None),
    ],
)  # fmt: skip
def test_small_talk_only_whole_message(text, kind):
    assert small_talk(text) == kind


@pytest.mark.parametrize(
    "text, expected",
    [
        ("That is not what I asked", True), ("this doesn't help", True), ("wrong answer", True),
        ("جواب سوالم نبود", True), ("نه منظورم این نبود", True), ("این به دردم نخورد", True), ("کمکی نکرد", True),
        ("where is my order", False), ("the courier didn't arrive", False), ("سفارشم نرسیده", False),
    ],
)  # fmt: skip
def test_dissatisfied_table(text, expected):
    assert dissatisfied(text) is expected
