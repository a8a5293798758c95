"""What the reply quotes, through the real chat service and model: the unit that answers, from the cited section."""

from __future__ import annotations

import textwrap

import pytest

from bot.answer import section_label
from bot.extract import dangling
from bot.runtime import build_service
from bot.service import ChatRequest
from bot.settings import Settings
from indexer.build import build_from_kb
from indexer.retrieval import Hit
from indexer.units import section_units

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(real_service):
    return real_service


def ask(service, message: str, **kw):
    return service.chat(ChatRequest(message=message, **kw))


def quoted_lines(reply: str, source_word: str) -> list[str]:
    """The lines of a one-answer reply before its source line (the title, then the address on its own line)."""
    lines = reply.split("\n\n")[0].splitlines()
    cut = next((i for i, line in enumerate(lines) if line.startswith(source_word)), len(lines))
    return lines[:cut]


def test_a_how_long_question_quotes_the_number(service):
    reply = ask(service, "How long do I have to return an item?")
    assert reply.answered
    assert reply.sources[0].article_id == "en-returns-policy"
    assert "7 days" in reply.reply


def test_a_persian_price_question_quotes_the_row_of_the_city(service):
    reply = ask(service, "هزینه ارسال به مشهد چقدره؟")
    assert reply.answered
    assert "مشهد" in reply.reply and "۴۹ هزار تومان" in reply.reply


@pytest.mark.parametrize(
    "message",
    [
        "How long do I have to return an item?",
        "هزینه ارسال به مشهد چقدره؟",
        "How do I reset my password?",
        "پول برگشتی کی به حسابم میاد؟",
        "Do you ship to Germany?",
    ],
)
def test_the_quote_comes_from_the_section_the_reply_cites(service, message):
    reply = ask(service, message)
    assert reply.answered and len(reply.sources) == 1
    source = reply.sources[0]
    sections = service.matcher.searcher.article_sections(source.article_id)
    article = service.matcher.searcher.index.articles[source.article_id]
    cited = [s for s in sections if section_label(Hit(article, s, 0.0, 0.0, 0.0)) == source.section]
    assert cited, f"no section of {source.article_id} is labelled {source.section!r}"
    units = " ".join(u.text for s in cited for u in section_units(s.text))
    word = "Source:" if reply.lang == "en" else "منبع:"
    lines = quoted_lines(reply.reply, word)
    assert lines
    for line in lines:
        for piece in line.split(" … "):
            assert piece in units, f"{piece!r} is not in the cited section {source.section!r}"


def test_a_part_the_kb_cannot_answer_is_named_and_handed_over(service):
    message = "How long do I have to return an item? Also, what's the capital of Australia?"
    reply = ask(service, message)
    assert not reply.answered
    assert reply.handoff and reply.handoff_reason == "low_confidence"
    assert "7 days" in reply.reply  # the part it can answer is answered
    assert "capital of Australia" in reply.reply  # the part it cannot is named
    assert [s.article_id for s in reply.sources] == ["en-returns-policy"]
    ticket = service.storage.get_ticket(reply.ticket_id)
    assert "capital of Australia" in ticket.question and "return an item" not in ticket.question


def test_a_follow_up_reads_the_question_before_it_even_unanswered(service):
    first = ask(service, "Mashhad shipping price with gift wrap, a handwritten card and a balloon")
    assert first.handoff and not first.answered
    service.storage.release_ticket(first.ticket_id)  # an agent hands the conversation back to the bot
    follow = ask(service, "and to Shiraz?", session_id=first.session_id)
    assert follow.answered, follow
    assert follow.sources[0].article_id in ("en-delivery-times", "fa-delivery-guide")
    assert "Shiraz" in follow.reply or "شیراز" in follow.reply


@pytest.fixture(scope="module")
def cancel_service(tmp_path_factory, real_embedder):
    folder = tmp_path_factory.mktemp("dangling")
    kb = folder / "kb"
    kb.mkdir()
    (kb / "cancel.md").write_text(
        textwrap.dedent(
            """
            ---
            id: en-cancel
            title: Cancelling an order
            lang: en
            ---
            # Cancelling an order
            You can cancel an order free of charge until it has been packed. After that, cancelling
            costs a fee of 20,000 Toman, taken from your refund.

            ## How to cancel
            Open My orders, choose the order and press Cancel. The refund follows the usual refund times.

            ## Gift cards
            Gift cards cannot be cancelled once they are sent.
            """
        ).lstrip(),
        encoding="utf-8",
    )
    build_from_kb(kb, real_embedder, folder / "index")
    settings = Settings(index=folder / "index", database_url=f"sqlite:///{folder}/pasokh.db", confidence_threshold=0.0)
    svc = build_service(settings, embedder=real_embedder)
    yield svc
    svc.storage.close()


def test_a_quote_never_starts_with_a_dangling_reference(cancel_service):
    reply = ask(cancel_service, "How much does it cost to cancel after my order was packed?")
    assert reply.answered
    assert "20,000 Toman" in reply.reply
    first_line = reply.reply.splitlines()[0]
    assert not dangling(first_line), first_line
    assert "until it has been packed" in reply.reply  # the sentence "After that" points back to
