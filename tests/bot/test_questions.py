import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.questions import split_questions


@pytest.mark.parametrize(
    "message, expected",
    [
        ("how much is delivery and can I pay on arrival?", ["how much is delivery", "can I pay on arrival?"]),
        ("How much is delivery to Tehran and Karaj?", ["How much is delivery to Tehran and Karaj?"]),
        (
            "هزینه ارسال به شیراز چقدره و میشه پرداخت در محل داشت؟",
            ["هزینه ارسال به شیراز چقدره", "میشه پرداخت در محل داشت؟"],
        ),
        ("سفارشم کی میرسه؟ میتونم لغوش کنم؟", ["سفارشم کی میرسه؟", "میتونم لغوش کنم؟"]),
        ("hello", ["hello"]),
        ("Thanks. Where is my order?", ["Thanks. Where is my order?"]),
    ],
)
def test_split_questions_table(message, expected):
    assert split_questions(message) == expected


def test_split_questions_caps_the_count():
    message = " ".join(f"Question about topic{i} refunds?" for i in range(6))
    parts = split_questions(message, limit=3)
    assert len(parts) == 3 and "topic5" in parts[-1]


@given(st.text(max_size=200))
def test_split_questions_never_empty_and_keeps_words(text):
    parts = split_questions(text)
    assert parts
    assert all(isinstance(p, str) for p in parts)


@pytest.mark.parametrize("message", ["Where is my order? Thanks", "سفارشم کجاست؟ ممنون", "How do I pay? x5"])
def test_split_questions_keeps_one_word_tails_attached(message):
    assert split_questions(message) == [message]


@pytest.mark.parametrize(
    "message, expected",
    [
        # A sentence that only tells is the context of the question after it, not a question of its own.
        (
            "موقع پرداخت، درگاه بانک خطا داد ولی مبلغ از حسابم کسر شد. این پول برگشت داده می‌شود؟",
            ["موقع پرداخت، درگاه بانک خطا داد ولی مبلغ از حسابم کسر شد. این پول برگشت داده می‌شود؟"],
        ),
        (
            "Can I cancel a charter flight online? Also my wife is 30 weeks pregnant. Can she fly with us?",
            ["Can I cancel a charter flight online?", "Also my wife is 30 weeks pregnant. Can she fly with us?"],
        ),
        # ... or of the question before it when nothing follows.
        ("Where is my order? I ordered it on Monday.", ["Where is my order? I ordered it on Monday."]),
    ],
)
def test_split_questions_keeps_context_with_its_question(message, expected):
    assert split_questions(message) == expected
