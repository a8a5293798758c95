"""Related-article chips (bot/related.py): about the answer, in the reply's language, none without an answer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import write_article

from bot.related import RelatedArticles
from bot.service import ChatRequest
from indexer.build import build_from_kb
from indexer.embedding import FakeEmbedder
from indexer.store import load_index

# A small bilingual shop: three delivery articles, two payment articles, returns, account, club.
# The fake embedder's vectors are bags of words, so articles sharing words are the related ones.
ARTICLES = {
    "fa/ship-cost.md": """
        ---
        id: fa-ship-cost
        title: هزینه و زمان ارسال
        lang: fa
        ---
        # هزینه و زمان ارسال
        ارسال با پیک به همه‌ی شهرها انجام می‌شود و زمان تحویل سفارش دو تا چهار روز است.

        ## جدول هزینه ارسال
        هزینه ارسال با پیک در تهران ۳۵ هزار تومان و در شهرهای دیگر ۴۹ هزار تومان است.

        ## کالای سنگین
        یخچال و لباسشویی با کامیون ارسال می‌شوند و نصب دستگاه با تکنسین جداگانه است.
        """,
    "fa/ship-express.md": """
        ---
        id: fa-ship-express
        title: ارسال فوری
        lang: fa
        ---
        # ارسال فوری
        ارسال فوری با پیک همان روز در تهران انجام می‌شود و زمان تحویل سفارش چند ساعت است.
        """,
    "fa/install.md": """
        ---
        id: fa-install
        title: نصب لوازم خانگی
        lang: fa
        ---
        # نصب لوازم خانگی
        نصب یخچال و لباسشویی و کولر را تکنسین انجام می‌دهد؛ برای نصب دستگاه وقت بگیرید.
        """,
    "fa/pay-cod.md": """
        ---
        id: fa-pay-cod
        title: پرداخت در محل
        lang: fa
        ---
        # پرداخت در محل
        مبلغ سفارش را هنگام تحویل با کارت بانکی به پیک بپردازید؛ پرداخت نقدی پذیرفته نمی‌شود.
        """,
    "fa/pay-methods.md": """
        ---
        id: fa-pay-methods
        title: روش‌های پرداخت
        lang: fa
        ---
        # روش‌های پرداخت
        پرداخت با کارت بانکی در درگاه اینترنتی یا با کیف پول انجام می‌شود.
        """,
    "fa/returns.md": """
        ---
        id: fa-returns
        title: بازگرداندن کالا
        lang: fa
        ---
        # بازگرداندن کالا
        تا هفت روز پس از دریافت، کالای سالم را مرجوع کنید؛ وجه به کیف پول برمی‌گردد.
        """,
    "fa/account.md": """
        ---
        id: fa-account
        title: رمز عبور و ورود
        lang: fa
        ---
        # رمز عبور و ورود
        برای ورود به حساب کاربری رمز عبور یا کد پیامکی را وارد کنید.
        """,
    "fa/club.md": """
        ---
        id: fa-club
        title: باشگاه مشتریان
        lang: fa
        ---
        # باشگاه مشتریان
        با هر خرید امتیاز باشگاه می‌گیرید و امتیازها را با جایزه عوض می‌کنید.
        """,
    "en/shipping.md": """
        ---
        id: en-shipping
        title: Shipping costs and times
        lang: en
        ---
        # Shipping costs and times
        Our courier delivers orders to every city in two to four days; the shipping cost depends on the city.
        """,
    "en/express.md": """
        ---
        id: en-express
        title: Express delivery
        lang: en
        ---
        # Express delivery
        Express delivery by courier brings orders the same day in Tehran, in a few hours.
        """,
    "en/returns.md": """
        ---
        id: en-returns
        title: Returning an item
        lang: en
        ---
        # Returning an item
        Return an unused item within seven days; the refund goes to your wallet.
        """,
    "en/password.md": """
        ---
        id: en-password
        title: Passwords and login
        lang: en
        ---
        # Passwords and login
        Log in to your account with your password or a one-time code sent by SMS.
        """,
    "en/club.md": """
        ---
        id: en-club
        title: Customer club
        lang: en
        ---
        # Customer club
        Every purchase earns club points, which you can exchange for prizes.
        """,
}


@dataclass(frozen=True)
class Cited:
    """What a reply cites, as the chat service's ``Source`` has it."""

    article_id: str
    section: str


@pytest.fixture(scope="module")
def related(tmp_path_factory) -> RelatedArticles:
    kb = tmp_path_factory.mktemp("related-kb")
    for path, text in ARTICLES.items():
        write_article(kb, path, text)
    folder = tmp_path_factory.mktemp("related-index") / "index"
    build_from_kb(kb, FakeEmbedder(), folder)
    return RelatedArticles(load_index(folder))


def ids(chips) -> list[str]:
    return [c.article_id for c in chips]


def test_related_offers_articles_on_the_answers_topic(related):
    chips = ids(related.for_answer(["fa-ship-cost"], [], "fa"))
    assert "fa-ship-express" in chips
    assert not {"fa-returns", "fa-account", "fa-club"} & set(chips)


def test_related_follows_the_section_the_reply_quoted(related):
    heavy = ids(related.for_answer([Cited("fa-ship-cost", "کالای سنگین")], [], "fa"))
    table = ids(related.for_answer([Cited("fa-ship-cost", "جدول هزینه ارسال")], [], "fa"))
    assert "fa-install" in heavy
    assert "fa-install" not in table
    assert heavy != table


def test_related_unknown_section_label_falls_back_to_the_article(related):
    assert related.for_answer([Cited("fa-ship-cost", "no such heading")], [], "fa") == related.for_answer(
        ["fa-ship-cost"], [], "fa"
    )


@pytest.mark.parametrize("source", ["fa-ship-cost", "en-shipping", "fa-pay-cod", "en-returns"])
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_related_chips_are_only_in_the_reply_language(related, source, lang):
    chips = related.for_answer([source], ["fa-ship-express", "en-express", "fa-returns", "en-returns"], lang)
    index = related._index
    assert all(index.articles[c.article_id].lang == lang for c in chips)


def test_related_never_offers_a_cited_article(related):
    sources = ["fa-ship-cost", "fa-ship-express"]
    assert not set(sources) & set(ids(related.for_answer(sources, sources, "fa", k=10)))


@pytest.mark.parametrize("candidates", [[], ["fa-ship-express", "en-express", "fa-returns"]])
def test_related_reply_that_cites_nothing_gets_no_chips(related, candidates):
    # A greeting, a handoff notice or "I could not find that": nothing was answered, nothing follows.
    assert related.for_answer([], candidates, "fa") == []
    assert related.for_answer([], candidates, "en") == []


def test_related_candidates_come_first_among_related_articles_only(related):
    heavy = [Cited("fa-ship-cost", "کالای سنگین")]
    plain = ids(related.for_answer(heavy, [], "fa", k=10))
    assert len(plain) >= 2
    unrelated = next(a for a in ("fa-account", "fa-returns", "fa-club") if a not in plain)
    favoured = ids(related.for_answer(heavy, [plain[-1], unrelated], "fa", k=10))
    assert favoured[0] == plain[-1]
    assert sorted(favoured) == sorted(plain)  # a retrieval candidate must still be related to the answer


def test_related_limits_and_unknown_inputs(related):
    assert len(related.for_answer(["fa-ship-cost"], [], "fa", k=1)) <= 1
    assert related.for_answer(["fa-ship-cost"], [], "fa", k=0) == []
    assert related.for_answer(["no-such-article"], [], "fa") == []
    assert related.for_answer(["fa-ship-cost"], [], "de") == []


def test_related_chips_serialise_as_in_the_chat_api(related):
    chip = related.for_answer(["fa-ship-cost"], [], "fa")[0]
    assert chip.to_json() == {"article_id": chip.article_id, "title": related._index.articles[chip.article_id].title}


def test_related_single_article_languages_and_empty_index(tmp_path):
    kb = tmp_path / "kb"
    write_article(kb, "a.md", ARTICLES["fa/ship-cost.md"])
    write_article(kb, "b.md", ARTICLES["en/shipping.md"])
    build_from_kb(kb, FakeEmbedder(), tmp_path / "index")
    related = RelatedArticles(load_index(tmp_path / "index"))
    assert related.for_answer(["fa-ship-cost"], [], "fa") == []  # nothing else in Persian
    assert ids(related.for_answer(["fa-ship-cost"], [], "en")) in ([], ["en-shipping"])


# --- the real model on the demo KB ---------------------------------------------------------------------

PERSIAN_DELIVERY = [
    "هزینه ارسال به شیراز چقدره؟",
    "ارسال یخچال به اصفهان چقدر طول میکشه؟",
    "برای خرید بالای چه مبلغی ارسال رایگانه؟",
    "ارسال به تبریز چند روز طول میکشه؟",
]


def chips_after(service, message: str):
    """Ask, then return the reply and its chips as the service computes them from what the reply cites."""
    reply = service.chat(ChatRequest(message=message))
    vector = service.embedder.embed_queries([message])[0]
    candidates = [h.article.id for h in service.matcher.match(message, vector).hits[1:4]]
    return reply, service.related.for_answer(list(reply.sources), candidates, reply.lang)


@pytest.mark.integration
def test_related_real_model_delivery_answers_get_delivery_chips_not_a_constant_set(real_service):
    seen = set()
    for message in PERSIAN_DELIVERY:
        reply, chips = chips_after(real_service, message)
        assert [s.article_id for s in reply.sources] == ["fa-delivery-guide"], message
        chosen = ids(chips)
        assert "fa-returns-policy" not in chosen, message  # the chip every delivery answer used to show
        assert "fa-delivery-guide" not in chosen
        assert all(real_service.related._index.articles[a].lang == "fa" for a in chosen)
        seen.add(tuple(chosen))
    assert len(seen) >= 2  # the heavy-goods answer leads to installation, the price table does not


@pytest.mark.integration
def test_related_real_model_different_articles_get_different_chips(real_service):
    messages = [
        "هزینه ارسال به شیراز چقدره؟",
        "سقف پرداخت در محل چقدره؟",
        "چطور کالا را مرجوع کنم؟",
        "رمز عبورم یادم رفته",
    ]
    sets = [tuple(ids(chips_after(real_service, m)[1])) for m in messages]
    assert len(set(sets)) == len(sets)


@pytest.mark.integration
@pytest.mark.parametrize(
    "message, lang",
    [
        ("هزینه ارسال به شیراز چقدره؟", "fa"),
        ("How much is shipping in Tehran?", "en"),
        ("Do you ship to Germany?", "en"),
        ("کارت هدیه رو چطوری استفاده کنم؟", "fa"),
    ],
)
def test_related_real_model_chips_in_the_reply_language(real_service, message, lang):
    reply = real_service.chat(ChatRequest(message=message))
    assert reply.lang == lang
    index = real_service.matcher.searcher.index
    assert all(index.articles[r.article_id].lang == lang for r in reply.related)
    _, chips = chips_after(real_service, message)
    assert all(index.articles[c.article_id].lang == lang for c in chips)


@pytest.mark.integration
@pytest.mark.parametrize("message", ["سلام", "hello", "می‌خوام با یک آدم حرف بزنم", "I want to talk to a human"])
def test_related_real_model_no_chips_after_greeting_or_handoff(real_service, message):
    reply = real_service.chat(ChatRequest(message=message))
    assert not reply.sources
    assert reply.related == ()


@pytest.mark.integration
def test_related_real_model_persian_reply_from_an_english_article_offers_persian_chips(real_service):
    index = real_service.matcher.searcher.index
    chips = real_service.related.for_answer(["en-delivery-times"], [], "fa")
    assert chips and all(index.articles[c.article_id].lang == "fa" for c in chips)
    assert chips[0].article_id == "fa-delivery-guide"  # its Persian counterpart is the closest
