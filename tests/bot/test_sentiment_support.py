"""Anger on support messages: calm questions with problem words, Finglish, SHOUTING, and asking for a person.

The chat-signal tests need no model. The integration tests score messages with the real e5 model
and the shipped head, and send them through the real chat service, as ``POST /v1/chat`` does.
Every message here was written for these tests: none is in a training file or a support-QA set,
except the four quoted from issue 18 (marked), which are in no training file either.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.human_request import detect_human_request
from bot.sentiment import SIGNAL_NAMES, HeadSentimentScorer, SentimentHead, chat_signals, load_sentiment_scorer
from bot.service import ChatRequest
from indexer.embedding import FakeEmbedder

# --- chat signals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "گوشی‌ام را دزدیده‌اند؛ چطور جلوی برداشت از حسابم را بگیرم؟",  # issue 18
        "دوچرخه‌ام رو از جلوی خونه دزدیدن، بیمه چه مدارکی می‌خواد؟",
        "kife pulamo too metro dozdidan, kartamo chejuri masdood konam?",
        "I got a scam text that uses your name. Is this link yours?",
        "پیامک کلاهبرداری با اسم بانک برام اومده، چطور گزارشش کنم؟",
    ],
)
def test_chat_signals_reported_theft_or_fraud_is_not_an_insult(text):
    assert chat_signals(text).insult == 0


@pytest.mark.parametrize(
    "text",
    ["دزدا، پولمو پس بدید", "این دزدیه، نه کارمزد!", "chera inghadr kasr kardin? in dozdie!", "You are scammers!"],
)
def test_chat_signals_accusing_of_theft_is_an_insult(text):
    assert chat_signals(text).insult > 0


@pytest.mark.parametrize(
    "text",
    [
        "The app won't install on my phone. A bit annoying, is there anything I can try?",  # issue 18
        "It's slightly frustrating that the code arrives late. Any tips?",
        "اپلیکیشن باز نمی‌شه، یه کم کلافه شدم؛ راهی داره؟",
    ],
)
def test_chat_signals_hedged_annoyance_is_not_an_anger_word(text):
    signals = chat_signals(text)
    assert signals.anger_word == 0 and signals.hedged > 0


@pytest.mark.parametrize("text", ["This is so annoying, nothing works.", "دیگه کلافه شدم از دستتون"])
def test_chat_signals_unhedged_annoyance_is_an_anger_word(text):
    signals = chat_signals(text)
    assert signals.anger_word > 0 and signals.hedged == 0


@pytest.mark.parametrize(
    "text",
    [
        "سلام، اگر همین الان کنسلش کنم، چقدر جریمه می‌شوم؟",
        "Can I cancel my plan right now, or only at the end of the month?",
        "I'd rather speak with a real person about my account, please.",  # issue 18
    ],
)
def test_chat_signals_question_or_person_request_is_not_a_demand(text):
    assert chat_signals(text).demand == 0


@pytest.mark.parametrize(
    "text", ["WHY IS MY ACCOUNT BLOCKED??? I NEED MY MONEY NOW!!!", "Refund me right now.", "پولمو همین الان بدید!"]
)
def test_chat_signals_demand_in_a_statement(text):
    assert chat_signals(text).demand > 0


def test_chat_signals_shouting_with_marks():
    signals = chat_signals("WHY IS MY ACCOUNT BLOCKED??? I NEED MY MONEY NOW!!!")  # issue 18
    assert signals.shouting == 1 and signals.exclaim == 1


@pytest.mark.parametrize(
    ("text", "signal"),
    [("sharmavare, pule mardomo bala mikeshin", "harsh"), ("asabam khord shod az dastetun", "anger_word")],
)
def test_chat_signals_reads_finglish_in_persian(text, signal):
    assert getattr(chat_signals(text), signal) > 0


@pytest.mark.parametrize(
    "text",
    ["age emruz reservamo laghv konam jarime dare?", "kartam ro gom kardam, chejuri masdoodesh konam?"],
)
def test_chat_signals_calm_finglish_has_no_cue(text):
    signals = chat_signals(text)
    assert all(getattr(signals, name) == 0 for name in SIGNAL_NAMES)


def test_head_scorer_gives_finglish_the_persian_operating_point():
    dim = 384
    head = SentimentHead(
        weights=np.zeros((4, dim), np.float32),
        bias=np.zeros(4, np.float32),
        lang_means={},
        combiner=np.zeros(len(SIGNAL_NAMES) + 1, np.float32),
        combiner_bias=0.0,
        lang_offset={"en": 2.0, "fa": -2.0},
    )
    vectors = FakeEmbedder(dim=dim)
    scorer = HeadSentimentScorer(head, lambda t: vectors.embed_queries([t])[0])
    assert scorer.score("bilitam nayomad, chikar konam?").score < 0.5  # Finglish: Persian point
    assert scorer.score("bilitam nayomad, chikar konam?").score == scorer.score("بلیتم نیومد").score
    assert scorer.score("My ticket did not arrive").score > 0.5


# --- the real model ---------------------------------------------------------------------------

CALM = [
    "سلام، بلیط اتوبوس اصفهان را برای امشب ساعت ۱۰ گرفته‌ام. اگر همین الان که ساعت ۸ است کنسلش کنم، چقدر جریمه می‌شوم؟",
    "The app won't install on my phone. A bit annoying, is there anything I can try?",  # issue 18
    "گوشی‌ام را دزدیده‌اند؛ چطور جلوی برداشت از حسابم را بگیرم؟",  # issue 18
    "Is there a fee if I call off tomorrow's tour booking this evening?",
    "Someone stole my bag at the station; how do I cancel the tickets that were in it?",
    "The installer hasn't come yet. Slightly annoying, but can we move the appointment?",
    "اگه همین الان بلیط کنسرت رو پس بدم، چقدرش برمی‌گرده؟",
    "ماشینم رو دیشب دزدیدن؛ برای غرامت بیمه از کجا شروع کنم؟",
    "age farda nobate dandoonpezeshkimo cancel konam hazine dare?",
    "laptopamo too taxi ja gozashtam, rahi hast peydash konam?",
    "sharje gushim zoodtar az hamishe tamoom mishe, baste eshtebahi faal shode?",
    "I'd rather speak with a real person about my account, please.",  # issue 18
    "اگه میشه یکی از همکارا نگاهی به درخواستم بندازه، ممنون.",
]
ANGRY = [
    "WHY IS MY ACCOUNT BLOCKED??? I NEED MY MONEY NOW!!!",  # issue 18
    "NOBODY TOLD ME THE FLIGHT WAS MOVED!!! WHO PAYS FOR MY HOTEL NOW???",
    "از صبح ده بار زنگ زدم!!! چرا کسی گوشی رو برنمی‌داره؟؟",
    "10 rooze montazeram, maskhare kardin mardomo?!!",
]


@pytest.fixture(scope="module")
def real_scorer(real_embedder):
    return load_sentiment_scorer(lambda t: real_embedder.embed_queries([t])[0], 0.5)


@pytest.mark.integration
@pytest.mark.parametrize("text", CALM)
def test_real_scorer_calm_support_message_is_not_angry(real_scorer, text):
    assert not real_scorer.score(text).angry


@pytest.mark.integration
@pytest.mark.parametrize("text", ANGRY)
def test_real_scorer_shouting_support_message_is_angry(real_scorer, text):
    assert real_scorer.score(text).angry


@pytest.mark.integration
@pytest.mark.parametrize(
    "message",
    [
        "I'd rather speak with a real person about my account, please.",  # issue 18
        "Would it be possible for a human to review my refund? Thanks.",
        "با یه اپراتور انسانی کار دارم، موضوعش مالیه.",
        "lotfan ye karshenas baham tamas begire",
    ],
)
def test_chat_polite_request_for_a_person_is_handed_off_as_requested(real_service, message):
    assert detect_human_request(message).requested
    reply = real_service.chat(ChatRequest(message=message))
    assert not reply.sentiment.angry
    assert reply.handoff and reply.handoff_reason == "requested"


@pytest.mark.integration
@pytest.mark.parametrize("message", CALM[:3])
def test_chat_calm_issue_message_is_not_handed_off_as_angry(real_service, message):
    reply = real_service.chat(ChatRequest(message=message))
    assert not reply.sentiment.angry
    assert reply.handoff_reason != "angry"


@pytest.mark.integration
def test_chat_shouting_message_is_handed_off_as_angry(real_service):
    reply = real_service.chat(ChatRequest(message="WHY IS MY ACCOUNT BLOCKED??? I NEED MY MONEY NOW!!!"))
    assert reply.sentiment.angry and reply.handoff_reason == "angry"
