"""Suggested replies for agents, on the demo KB: fake embedder and fixed calibrator, real model in integration."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

import pytest

from bot.citing import join_units, pieces
from bot.confidence import Calibrator
from bot.hours import BusinessHours
from bot.matching import Matcher
from bot.related import RelatedArticles
from bot.sentiment import FakeSentimentScorer
from bot.service import ChatRequest, ChatService
from bot.settings import Settings
from bot.storage import Conversation, ConversationUpdate, SavedReply, Storage, Turn
from bot.suggest import MAX_DRAFTS, Draft, ReplySuggester, Suggestions
from indexer.chunking import Section
from indexer.embedding import FakeEmbedder
from indexer.retrieval import HybridSearcher
from indexer.store import load_index
from indexer.textnorm import split_sentences
from indexer.units import section_units

# The calibrator of tests/bot/test_api.py: p = sigmoid(3 x - 1.5) of the classifier's relative log-probability.
CALIBRATOR = Calibrator("fake-bow-64", (3.0, 0.0, 0.0, 0.0, 0.0), -1.5, 0.5)
NOW = datetime(2026, 11, 25, 6, 30, tzinfo=timezone.utc)

GIFT_EN = SavedReply(1, "Gift wrapping", "We can gift wrap any order: choose Gift wrap at checkout.", "en")
POINTS_EN = SavedReply(2, "Club points", "Club points never expire while your account is active.", "en")
GIFT_FA = SavedReply(3, "بسته‌بندی هدیه", "برای بسته‌بندی هدیه، هنگام پرداخت گزینه‌ی بسته‌بندی هدیه را انتخاب کنید.", "fa")
WAREHOUSE_FA = SavedReply(4, "ساعت کاری انبار", "انبار مرکزی در روزهای جمعه تعطیل است.", "fa")
SOURCE_LINE = re.compile(r"^(?:Source|منبع): (?P<title>.+)$")
URL_LINE = re.compile(r"^https?://\S+$")


@pytest.fixture
def service(demo_index, tmp_path):
    settings = Settings(index=demo_index, database_url=f"sqlite:///{tmp_path}/pasokh.db")
    embedder = FakeEmbedder()
    index = load_index(settings.index)
    svc = ChatService(
        settings=settings,
        matcher=Matcher(HybridSearcher(index, embedder, dense_weight=settings.dense_weight), CALIBRATOR),
        embedder=embedder,
        storage=Storage(settings.database_url).open(),
        sentiment=FakeSentimentScorer(threshold=settings.anger_threshold),
        hours=BusinessHours.from_settings(settings),
        related=RelatedArticles(index),
        clock=lambda: NOW,
    )
    yield svc
    svc.storage.close()


@pytest.fixture
def suggester(service) -> ReplySuggester:
    return ReplySuggester(service)


def converse(service: ChatService, *messages: str, name: str | None = None, session_id: str | None = None) -> str:
    """Send the messages as one customer through the chat service; return the session id."""
    for message in messages:
        reply = service.chat(ChatRequest(message=message, session_id=session_id, customer_name=name))
        session_id = reply.session_id
    assert session_id is not None
    return session_id


def agent_writes(service: ChatService, session_id: str, text: str) -> None:
    """Store an agent's message in the conversation, as the agent console does."""
    conv = service.storage.get_conversation(session_id)
    update = ConversationUpdate(
        lang=conv.lang,
        state=conv.state,
        failures=conv.failures,
        topic_article_id=conv.topic_article_id,
        topic_question=conv.topic_question,
        turns=(Turn("agent", text, NOW, lang=conv.lang),),
    )
    service.storage.record_turn(session_id, update)


def conversation(service: ChatService, session_id: str) -> Conversation:
    conv = service.storage.get_conversation(session_id)
    assert conv is not None
    return conv


def answer_blocks(draft: Draft) -> list[tuple[list[str], str | None]]:
    """The draft's answer paragraphs as (quoted lines, URL); holding lines and courtesies are left out.

    A paragraph answers when it ends with the source line, or with the source line and the URL on its own line.
    """
    blocks = []
    for paragraph in draft.text.split("\n\n"):
        lines = paragraph.splitlines()
        url = lines.pop() if lines and URL_LINE.match(lines[-1]) else None
        source = SOURCE_LINE.match(lines[-1]) if lines else None
        if source:
            blocks.append((lines[:-1], url))
    return blocks


def kb_drafts(suggestions: Suggestions) -> list[Draft]:
    return [d for d in suggestions.drafts if d.kind == "kb"]


# --- greeting and apology -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, name, opening",
    [
        ("How much is shipping in Tehran?", "Sara", "Hi Sara,"),
        ("هزینه‌ی ارسال به تهران چقدر است؟", "سارا", "سارا عزیز، سلام."),
    ],
)
def test_suggest_greets_the_customer_by_stored_name(service, suggester, message, name, opening):
    result = suggester.suggest(conversation(service, converse(service, message, name=name)))
    assert result.drafts
    assert all(d.text.startswith(opening) for d in result.drafts)


def test_suggest_name_argument_overrides_the_stored_name(service, suggester):
    conv = conversation(service, converse(service, "How much is shipping in Tehran?", name="Sara"))
    result = suggester.suggest(conv, customer_name="  Sara   Ahmadi ")
    assert result.drafts[0].text.startswith("Hi Sara Ahmadi,")


@pytest.mark.parametrize(
    "message, opening", [("How much is shipping in Tehran?", "Hello,"), ("هزینه‌ی ارسال به تهران چقدر است؟", "سلام،")]
)
def test_suggest_without_name_uses_a_neutral_greeting(service, suggester, message, opening):
    result = suggester.suggest(conversation(service, converse(service, message)))
    first_line = result.drafts[0].text.splitlines()[0]
    assert first_line.startswith(opening)
    assert "عزیز" not in first_line and "Hi " not in first_line


@pytest.mark.parametrize(
    "message, lang, apology",
    [
        (
            "WHERE IS MY ORDER?!!! This is the third time I ask, useless!!!",
            "en",
            "trouble with your order",
        ),
        ("سفارشم هنوز نرسیده!!! خجالت بکشید، افتضاحه!!!", "fa", "در سفارشتان"),
        ("Unfortunately my refund is late. When will I get my money back?", "en", "trouble with your refund"),
    ],
)
def test_suggest_apologises_for_what_we_control_when_upset(service, suggester, message, lang, apology):
    conv = conversation(service, converse(service, message))
    assert conv.turns[0].details["sentiment"]["label"] in ("angry", "negative")
    result = suggester.suggest(conv)
    assert result.lang == lang
    for draft in result.drafts:
        assert apology in draft.text
        assert "feel" not in draft.text.lower()


@pytest.mark.parametrize(
    "message", ["How much is shipping in Tehran?", "هزینه‌ی ارسال به تهران چقدر است؟", "Can you gift wrap my order?"]
)
def test_suggest_calm_customer_gets_no_apology(service, suggester, message):
    conv = conversation(service, converse(service, message))
    assert conv.turns[0].details["sentiment"]["label"] == "neutral"
    result = suggester.suggest(conv, saved=[GIFT_EN])
    for draft in result.drafts:
        assert "sorry" not in draft.text.lower() and "عذرخواهی" not in draft.text and "متأسف" not in draft.text


def test_suggest_earlier_anger_answered_by_an_agent_brings_no_apology(service, suggester):
    sid = converse(service, "WHERE IS MY ORDER?!!! This is the third time I ask, useless!!!")
    agent_writes(service, sid, "I'm looking into it now.")
    converse(service, "How much is shipping in Tehran?", session_id=sid)
    result = suggester.suggest(conversation(service, sid))
    assert "sorry" not in result.drafts[0].text.lower()


# --- answers and citations ------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "message, articles, facts, source",
    [
        (
            "How much is shipping in Tehran? How many days do I have to return something?",
            ["en-delivery-times", "en-returns-policy"],
            ["35,000 Toman", "7 days"],
            "Source: ",
        ),
        pytest.param(
            "هزینه‌ی ارسال به تهران چقدر است و آیا پرداخت در محل ممکن است؟",
            ["fa-delivery-guide", "fa-cash-on-delivery"],
            ["۳۵ هزار تومان", "پرداخت در محل"],
            "منبع: ",
            marks=pytest.mark.xfail(
                reason="known gap: the heavy-goods item «هزینه‌ی ارسال در تهران و کرج ۱۵۰ هزار تومان» outranks the "
                "standard-delivery row of Tehran (a different section, so it is not quoted beside it)"
            ),
        ),
    ],
)
def test_suggest_two_questions_get_two_answers_and_two_citations(real_service, message, articles, facts, source):
    # The real model: which unit holds the price is answer selection's dense evidence, which the
    # fake embedder's bags of words cannot give.
    service = real_service
    result = ReplySuggester(service).suggest(conversation(service, converse(service, message, name="Sara")))
    assert [q.article_id for q in result.questions] == articles
    assert all(q.answered for q in result.questions)
    full = result.drafts[0]
    assert full.kind == "kb"
    assert [c.article_id for c in full.citations] == articles
    blocks = answer_blocks(full)
    assert len(blocks) == 2 and full.text.count(source) == 2
    index = service.matcher.searcher.index
    for (lines, link), citation, fact in zip(blocks, full.citations, facts, strict=True):
        assert link == citation.url == index.articles[citation.article_id].url
        assert fact in "\n".join(lines)
        assert citation.version == index.manifest.articles[citation.article_id]["version"]
        assert citation.title == index.articles[citation.article_id].title


def test_suggest_quotes_only_text_of_the_cited_article(service, suggester):
    sid = converse(service, "How much is shipping in Tehran? How many days do I have to return something?")
    result = suggester.suggest(conversation(service, sid))
    searcher = service.matcher.searcher
    for draft in kb_drafts(result):
        for (lines, _), citation in zip(answer_blocks(draft), draft.citations, strict=True):
            article = " ".join(s.text for s in searcher.article_sections(citation.article_id))
            for line in lines:
                for sentence in split_sentences(line):
                    cells = re.split(r"[;؛] ", sentence)  # a table row is quoted as "header: cell; ..."
                    assert all(cell.split(": ")[-1] in article for cell in cells), sentence


def test_suggest_questions_on_one_article_share_one_citation(service, suggester):
    sid = converse(service, "How much is shipping in Tehran? How much is shipping to Shiraz?")
    result = suggester.suggest(conversation(service, sid))
    assert [q.article_id for q in result.questions] == ["en-delivery-times", "en-delivery-times"]
    full = result.drafts[0]
    assert [c.article_id for c in full.citations] == ["en-delivery-times"]
    assert "Tehran" in full.text and "Shiraz" in full.text


@pytest.mark.parametrize("message, holding", [("zxqv blorp quux", "I'm checking"), ("ققق ثثث ژژژ", "بررسی می‌کنم")])
def test_suggest_low_confidence_question_gets_a_holding_line_and_no_citation(service, suggester, message, holding):
    result = suggester.suggest(conversation(service, converse(service, message)))
    assert [(q.answered, q.article_id) for q in result.questions] == [(False, None)]
    assert len(result.drafts) == 1
    draft = result.drafts[0]
    assert holding in draft.text and message in draft.text
    assert draft.citations == () and answer_blocks(draft) == []


def test_suggest_every_question_gets_a_line_in_order(service, suggester):
    result = suggester.suggest(
        conversation(service, converse(service, "zxqv blorp quux and how do I reset my password?"))
    )
    assert [(q.text, q.answered) for q in result.questions] == [
        ("zxqv blorp quux", False),
        ("how do I reset my password?", True),
    ]
    text = result.drafts[0].text
    assert text.index("I'm checking on “zxqv blorp quux”") < text.index("Source: ")
    assert [c.article_id for c in result.drafts[0].citations] == ["en-account-login"]


def test_suggest_holding_line_does_not_shout_back(service, suggester):
    sid = converse(service, "WHERE IS MY ORDER?!!! This is the third time I ask, useless!!!")
    text = suggester.suggest(conversation(service, sid)).drafts[0].text
    assert "WHERE" not in text and "useless" not in text


def test_suggest_skips_an_outburst_that_asks_nothing(service, suggester):
    sid = converse(service, "This is the THIRD time I am writing!!! Where is my refund, you useless people?!")
    result = suggester.suggest(conversation(service, sid))
    assert [q.text for q in result.questions] == ["Where is my refund, you useless people?!"]
    assert "THIRD" not in result.drafts[0].text and "third time" not in result.drafts[0].text
    assert "trouble with your refund" in result.drafts[0].text


@pytest.mark.integration
def test_suggest_short_follow_up_borrows_the_previous_question(real_service):
    service = real_service
    sid = converse(service, "How much is shipping in Tehran?", "and to Shiraz?")
    result = ReplySuggester(service).suggest(conversation(service, sid))
    assert [(q.text, q.article_id) for q in result.questions] == [
        ("How much is shipping in Tehran?", "en-delivery-times"),
        ("and to Shiraz?", "en-delivery-times"),
    ]
    (lines, _), *rest = answer_blocks(result.drafts[0])
    assert rest == []
    assert any("Tehran" in line for line in lines) and any("Shiraz" in line for line in lines)


def test_suggest_considers_only_turns_after_the_last_agent_turn(service, suggester):
    sid = converse(service, "How much is shipping in Tehran?")
    before = suggester.suggest(conversation(service, sid))
    assert [q.article_id for q in before.questions] == ["en-delivery-times"]
    agent_writes(service, sid, "Shipping in Tehran is 35,000 Toman.")
    converse(service, "how do I reset my password?", session_id=sid)
    after = suggester.suggest(conversation(service, sid))
    assert [q.text for q in after.questions] == ["how do I reset my password?"]
    assert [c.article_id for c in after.drafts[0].citations] == ["en-account-login"]
    assert "Tehran" not in after.drafts[0].text


def test_suggest_without_customer_questions_offers_help(service, suggester):
    sid = converse(service, "How much is shipping in Tehran?")
    agent_writes(service, sid, "Shipping in Tehran is 35,000 Toman.")
    converse(service, "thanks a lot!", session_id=sid)
    result = suggester.suggest(conversation(service, sid), saved=[GIFT_EN])
    assert result.questions == ()
    assert len(result.drafts) == 1 and result.drafts[0].citations == ()
    assert "How can I help you today?" in result.drafts[0].text


def test_suggest_skips_small_talk_messages(service, suggester):
    sid = converse(service, "hello", "How much is shipping in Tehran?", name="Sara")
    result = suggester.suggest(conversation(service, sid))
    assert [q.text for q in result.questions] == ["How much is shipping in Tehran?"]


def test_suggest_concise_draft_keeps_first_sentences_and_citations(service, suggester):
    sid = converse(service, "How much is shipping in Tehran? How many days do I have to return something?")
    drafts = kb_drafts(suggester.suggest(conversation(service, sid)))
    assert len(drafts) == 2
    full, concise = drafts
    assert len(concise.text) < len(full.text)
    assert concise.citations == full.citations
    for (short, _), (long, _) in zip(answer_blocks(concise), answer_blocks(full), strict=True):
        assert "\n".join(long).startswith("\n".join(short))


# --- each passage once; sources a person can read -------------------------------------------------


def _city_section(service: ChatService) -> Section:
    """The section of the cash-on-delivery article that lists its cities."""
    sections = service.matcher.searcher.article_sections("fa-cash-on-delivery")
    return next(s for s in sections if "- مشهد" in s.text)


def _quotes_in_turn(service, monkeypatch, *quotes: str) -> None:
    """From now on, make answer selection quote ``quotes`` from the list section, one per question, in order."""
    section = _city_section(service)
    given = iter(quotes)
    monkeypatch.setattr(service, "quote", lambda hit, query, **_: (next(given), section))


def _repeated(text: str) -> list[str]:
    """The sentences, list items and table rows a draft quotes more than once (its own lines aside)."""
    counts = Counter(p for p in pieces(text) if not URL_LINE.match(p) and not SOURCE_LINE.match(p))
    return [p for p, n in counts.items() if n > 1]


TWO_COD_QUESTIONS = "پرداخت در محل در کدام شهرها فعال است؟ در قم پرداخت در محل فعال است؟"


def test_suggest_a_quote_contained_in_another_of_the_same_section_is_not_repeated(service, suggester, monkeypatch):
    # The defect as agents saw it: the whole list for one question, then the list's opening with
    # only Mashhad and Tabriz for the next.
    units = section_units(_city_section(service).text)
    whole = join_units(units, range(len(units)))
    intro = next(i for i, u in enumerate(units) if u.text.endswith(":"))
    some = join_units(units, [intro] + [i for i, u in enumerate(units) if u.text in ("- مشهد", "- تبریز")])
    sid = converse(service, TWO_COD_QUESTIONS)
    _quotes_in_turn(service, monkeypatch, whole, some)
    result = suggester.suggest(conversation(service, sid))
    assert [q.article_id for q in result.questions] == ["fa-cash-on-delivery"] * 2
    for draft in kb_drafts(result):
        assert _repeated(draft.text) == []
        assert draft.text.count("- مشهد") == 1
    assert [lines for lines, _ in answer_blocks(result.drafts[0])] == [whole.splitlines()]


def test_suggest_overlapping_quotes_of_one_section_become_one_passage_in_reading_order(service, suggester, monkeypatch):
    units = section_units(_city_section(service).text)
    intro = next(i for i, u in enumerate(units) if u.text.endswith(":"))
    first = [intro, intro + 4]  # the opening and Mashhad
    second = [intro, intro + 1, intro + 5]  # the opening, Tehran and Tabriz
    sid = converse(service, TWO_COD_QUESTIONS)
    _quotes_in_turn(service, monkeypatch, join_units(units, first), join_units(units, second))
    result = suggester.suggest(conversation(service, sid))
    (lines, _), *rest = answer_blocks(result.drafts[0])
    assert rest == []
    assert lines == [units[i].text for i in sorted(set(first) | set(second))]


@pytest.mark.parametrize(
    "message",
    [
        "How much is shipping in Tehran? How many days do I have to return something?",
        "هزینه‌ی ارسال به تهران چقدر است؟ پرداخت در محل برای شهر ما فعال است؟",
    ],
)
def test_suggest_source_is_the_title_then_the_url_alone_on_its_line(service, suggester, message):
    result = suggester.suggest(conversation(service, converse(service, message)))
    assert len(result.drafts[0].citations) == 2
    for draft in kb_drafts(result):
        lines = draft.text.splitlines()
        for citation in draft.citations:
            at = lines.index(citation.url)  # the URL is a line of its own, with nothing around it
            assert SOURCE_LINE.match(lines[at - 1]) and citation.title in lines[at - 1]
        prose = [line for line in lines if not URL_LINE.match(line)]
        assert not any("http" in line or "(" + citation.article_id in line for line in prose)


@pytest.mark.integration
@pytest.mark.parametrize(
    "turns",
    [
        ("پرداخت در محل کجاها فعاله؟", "تو قم هم هست؟"),
        ("هزینه ارسال به شیراز چقدره و پرداخت در محل دارید؟",),
        ("هزینه ارسال به شیراز چقدره؟ پرداخت در محل برای کدوم شهرها هست؟",),
        ("ارسال یخچال چقدر هزینه داره؟", "برای کرج چطور؟"),
        ("چند روز برای مرجوعی وقت دارم؟", "هزینه مرجوعی با کیه؟"),
        ("Can I order from abroad? Can I pay with a foreign card?",),
        ("How much is shipping in Tehran?", "and to Shiraz?"),
    ],
)
def test_suggest_real_model_quotes_nothing_twice(real_service, turns):
    # Four of these quoted a sentence, list item or table row twice before quotes were merged.
    sid = converse(real_service, *turns)
    result = ReplySuggester(real_service).suggest(conversation(real_service, sid))
    assert any(q.answered for q in result.questions)
    for draft in kb_drafts(result):
        assert _repeated(draft.text) == [], draft.text
        assert "(http" not in draft.text


@pytest.mark.integration
def test_suggest_real_model_keeps_the_whole_list_a_passage_introduces(real_service):
    sid = converse(real_service, "پرداخت در محل کجاها فعاله؟", "تو قم هم هست؟")
    result = ReplySuggester(real_service).suggest(conversation(real_service, sid))
    cities = [line for line in _city_section(real_service).text.splitlines() if line.startswith("- ")]
    for draft in kb_drafts(result):  # the concise draft too: «فقط در … - تهران و کرج» alone would be wrong
        assert all(draft.text.count(city) == 1 for city in cities), draft.text
    assert "در قم" in result.drafts[0].text


# --- saved replies --------------------------------------------------------------------------------


def test_suggest_offers_a_relevant_saved_reply(service, suggester):
    result = suggester.suggest(
        conversation(service, converse(service, "Can you gift wrap my order?", name="Sara")),
        saved=[POINTS_EN, GIFT_EN, GIFT_FA],
    )
    saved = [d for d in result.drafts if d.kind == "saved"]
    assert [d.saved_reply_id for d in saved] == [GIFT_EN.id]
    assert saved[0].text.startswith("Hi Sara,") and GIFT_EN.text in saved[0].text
    assert saved[0].citations == ()
    assert result.drafts[0].kind == "kb"


def test_suggest_does_not_offer_an_irrelevant_saved_reply(service, suggester):
    result = suggester.suggest(
        conversation(service, converse(service, "How much is shipping in Tehran?")), saved=[GIFT_EN, POINTS_EN]
    )
    assert [d.kind for d in result.drafts] == ["kb"] * len(result.drafts)


def test_suggest_offers_saved_replies_only_in_the_customer_language(service, suggester):
    result = suggester.suggest(
        conversation(service, converse(service, "میشه بسته‌بندی هدیه برای سفارشم انتخاب کنم؟")), saved=[GIFT_EN, GIFT_FA]
    )
    assert [d.saved_reply_id for d in result.drafts if d.kind == "saved"] == [GIFT_FA.id]


def test_suggest_saved_reply_that_greets_is_not_greeted_twice(service, suggester):
    greeting = SavedReply(20, "Gift wrap", "Hello! We can gift wrap any order: choose Gift wrap at checkout.", "en")
    sid = converse(service, "Can you gift wrap my order?", name="Sara")
    saved = [d for d in suggester.suggest(conversation(service, sid), saved=[greeting]).drafts if d.kind == "saved"]
    assert len(saved) == 1 and saved[0].text.startswith(greeting.text)


def test_suggest_empty_conversation_offers_help(service, suggester):
    conv = service.storage.create_conversation(channel="web", lang="en", customer_id=None, customer_name="Sara")
    result = suggester.suggest(conv, saved=[GIFT_EN])
    assert result.questions == ()
    assert [d.text for d in result.drafts] == ["Hi Sara,\n\nHow can I help you today?"]


def test_suggest_returns_at_most_three_drafts(service, suggester):
    saved = [SavedReply(i, f"Gift wrapping {i}", f"{GIFT_EN.text} Option {i}.", "en") for i in range(10, 16)]
    sid = converse(service, "How much is shipping in Tehran? Can you gift wrap my order?")
    result = suggester.suggest(conversation(service, sid), saved=saved)
    assert len(result.drafts) == MAX_DRAFTS
    assert result.drafts[0].kind == "kb"
    assert any(d.kind == "saved" for d in result.drafts)


def test_search_saved_ranks_relevant_replies_and_drops_others(suggester):
    found = suggester.search_saved("gift wrap", [POINTS_EN, GIFT_EN, GIFT_FA])
    assert found[0] == GIFT_EN
    assert POINTS_EN not in found


def test_search_saved_language_filter_and_limit(suggester):
    saved = [GIFT_EN, POINTS_EN, GIFT_FA]
    assert suggester.search_saved("بسته‌بندی هدیه", saved, lang="fa") == [GIFT_FA]
    assert suggester.search_saved("gift wrap", saved, lang="fa") == []
    assert suggester.search_saved("  ", saved) == saved
    assert suggester.search_saved("", saved, lang="en", k=1) == [GIFT_EN]
    assert suggester.search_saved("gift wrap", saved, k=0) == []


def test_search_saved_reuses_vectors_of_unchanged_replies(service, suggester, monkeypatch):
    suggester.search_saved("gift wrap", [GIFT_EN, POINTS_EN])
    embedded: list[str] = []
    original = service.embedder.embed_passages

    def counting(texts):
        embedded.extend(texts)
        return original(texts)

    monkeypatch.setattr(service.embedder, "embed_passages", counting)
    edited = SavedReply(GIFT_EN.id, GIFT_EN.title, GIFT_EN.text + " It is free.", "en")
    assert suggester.search_saved("gift wrap", [edited, POINTS_EN])[0] == edited
    assert embedded == [f"{edited.title}\n{edited.text}"]


# --- the contract ---------------------------------------------------------------------------------


def test_suggestions_to_json_matches_the_http_contract(service, suggester):
    sid = converse(service, "How much is shipping in Tehran? Can you gift wrap my order?")
    body = suggester.suggest(conversation(service, sid), saved=[GIFT_EN]).to_json()
    assert set(body) == {"session_id", "lang", "questions", "drafts"}
    assert body["session_id"] == sid and body["lang"] == "en"
    assert all(set(q) == {"text", "answered", "article_id"} for q in body["questions"])
    assert all(set(d) == {"text", "kind", "citations", "saved_reply_id"} for d in body["drafts"])
    citation = body["drafts"][0]["citations"][0]
    assert set(citation) == {"article_id", "title", "section", "url", "version"}
    assert {d["kind"] for d in body["drafts"]} == {"kb", "saved"}
    assert [d["saved_reply_id"] for d in body["drafts"] if d["kind"] == "saved"] == [GIFT_EN.id]


@pytest.mark.parametrize(
    "lang, closing", [("en", "Is there anything else I can help with?"), ("fa", "اگر سؤال دیگری دارید، در خدمتم.")]
)
def test_suggest_closes_every_draft_in_the_customer_language(service, suggester, lang, closing):
    message = "How much is shipping in Tehran?" if lang == "en" else "هزینه‌ی ارسال به تهران چقدر است؟"
    result = suggester.suggest(conversation(service, converse(service, message)))
    assert result.lang == lang
    assert result.drafts and all(d.text.endswith(f"\n\n{closing}") for d in result.drafts)


# --- the real model -------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "message, articles",
    [
        ("هزینه ارسال به شیراز چقدره و میشه پرداخت در محل داشت؟", ["fa-delivery-guide", "fa-cash-on-delivery"]),
        ("How do I reset my password? Do you ship to Germany?", ["en-account-login", "en-shipping-abroad"]),
    ],
)
def test_suggest_real_model_answers_both_questions_from_the_cited_articles(real_service, message, articles):
    sid = real_service.chat(ChatRequest(message=message, customer_name="Sara")).session_id
    result = ReplySuggester(real_service).suggest(conversation(real_service, sid))
    assert [(q.answered, q.article_id) for q in result.questions] == [(True, a) for a in articles]
    searcher = real_service.matcher.searcher
    for draft in kb_drafts(result):
        assert "Sara" in draft.text.splitlines()[0]
        assert [c.article_id for c in draft.citations] == articles
        blocks = answer_blocks(draft)
        assert len(blocks) == 2
        for (lines, _), citation in zip(blocks, draft.citations, strict=True):
            article = " ".join(s.text for s in searcher.article_sections(citation.article_id))
            for line in lines:
                for sentence in split_sentences(line):
                    cells = re.split(r"[;؛] ", sentence)
                    assert all(cell.split(": ")[-1] in article for cell in cells), sentence


@pytest.mark.integration
@pytest.mark.parametrize(
    "message, relevant",
    [
        ("Can you wrap my order as a present?", GIFT_EN.id),
        ("جمعه‌ها انبار باز است؟", WAREHOUSE_FA.id),
        ("How do I reset my password?", None),
        ("هزینه ارسال به شیراز چقدره؟", None),
    ],
)
def test_suggest_real_model_offers_saved_replies_only_when_relevant(real_service, message, relevant):
    sid = real_service.chat(ChatRequest(message=message)).session_id
    result = ReplySuggester(real_service).suggest(
        conversation(real_service, sid), saved=[GIFT_EN, POINTS_EN, GIFT_FA, WAREHOUSE_FA]
    )
    offered = [d.saved_reply_id for d in result.drafts if d.kind == "saved"]
    assert offered == ([relevant] if relevant is not None else [])
