"""The chat service with the real model, calibrator and sentiment head on the demo KB."""

from __future__ import annotations

import pytest

from bot.service import ChatRequest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(real_service):
    return real_service


def ask(service, message: str, **kw):
    return service.chat(ChatRequest(message=message, **kw))


@pytest.mark.parametrize(
    "message, article",
    [
        ("هزینه ارسال به شیراز چقدره؟", "fa-delivery-guide"),
        ("چطور سفارشم رو لغو کنم؟", "fa-cancel-order"),
        ("کالایی که به دستم رسیده آسیب دیده، باید چه کار کنم؟", "fa-damaged-or-wrong-item"),
        ("پول برگشتی کی به حسابم میاد؟", "fa-refund-timing"),
        ("How do I reset my password?", "en-account-login"),
        ("Do you ship to Germany?", "en-shipping-abroad"),
        ("How can I return a product?", "en-returns-policy"),
    ],
)
def test_chat_answers_demo_questions_confidently(service, message, article):
    reply = ask(service, message)
    assert reply.answered and not reply.handoff, reply
    assert reply.sources[0].article_id == article
    assert reply.confidence >= service.threshold


@pytest.mark.parametrize(
    "message",
    [
        "می‌توانم با بیت‌کوین پرداخت کنم؟",
        "Are you hiring software engineers?",
        "What's the capital of Australia?",
        "دستور پخت قورمه سبزی چیه؟",
    ],
)
def test_chat_hands_off_out_of_scope_questions(service, message):
    reply = ask(service, message)
    assert reply.handoff and reply.handoff_reason == "low_confidence"
    assert not reply.answered and reply.ticket_id


def test_chat_answers_two_questions_with_two_sources(service):
    reply = ask(service, "هزینه ارسال به شیراز چقدره و میشه پرداخت در محل داشت؟")
    assert reply.answered
    assert [s.article_id for s in reply.sources] == ["fa-delivery-guide", "fa-cash-on-delivery"]
    assert reply.reply.count("منبع:") == 2


def test_chat_follow_up_keeps_the_topic(service):
    first = ask(service, "How long does delivery to Tehran take?")
    follow = ask(service, "and to Shiraz?", session_id=first.session_id)
    assert follow.answered
    assert follow.sources[0].article_id in ("en-delivery-times", "fa-delivery-guide")
    assert "Shiraz" in follow.reply or "شیراز" in follow.reply


def test_chat_short_new_question_changes_the_topic(service):
    # Read together with the previous (longer) password question, "what about returns?" would match
    # the login article more confidently; on its own it is a confident, different question.
    first = ask(service, "رمز عبورم را فراموش کرده‌ام و پیامک کد تایید نمی‌آید")
    assert first.sources[0].article_id == "fa-account-login"
    second = ask(service, "what about returns?", session_id=first.session_id)
    assert second.answered
    assert second.sources[0].article_id == "en-returns-policy"


@pytest.mark.xfail(
    strict=True,
    reason="known gap: even with per-language centring, the article classifier gives an English question on a "
    "Persian-only topic a low confidence, so it is handed off instead of answered",
)
def test_chat_english_question_on_persian_only_topic_is_announced(service):
    reply = ask(service, "Do you offer installation for air conditioners?")
    assert reply.answered and reply.sources[0].article_id == "fa-installation-service"
    assert "Persian" in reply.reply


@pytest.mark.parametrize(
    "message",
    [
        "This is the THIRD time I'm writing!!! Where is my refund, you useless people?!",
        "خجالت بکشید!!! سه بار زنگ زدم هنوز پولم برنگشته",
    ],
)
def test_chat_angry_message_is_handed_off_with_priority(service, message):
    reply = ask(service, message)
    assert reply.sentiment.angry
    assert reply.handoff_reason == "angry"
    assert service.storage.get_ticket(reply.ticket_id).priority == "high"
