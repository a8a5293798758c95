import pytest

from indexer.build import build_from_kb
from indexer.readings import colloquial_to_formal, finglish_to_persian, is_finglish, readings
from indexer.retrieval import HybridSearcher
from indexer.store import load_index
from indexer.textnorm import ZWNJ
from tests.conftest import write_article

ENGLISH = [
    "How long do I have to return an item?",
    "When will my refund reach my bank card?",
    "I forgot my password, how can I reset it?",
    "Can I change the name on my ticket?",
    "What are your phone hours?",
    "My suitcase didn't arrive on my flight to Shiraz. What should I do?",
    "Is the cancellation penalty higher during Nowruz?",
    "hi",
    "Do you deliver to Mashhad?",
    "how much is shipping",
    "I want to talk to a human",
    "where is my order",
    "The khaki shirt I bought was the wrong size",
    "wen do i get my refnd on my card after cancelling a flight??",
]
FINGLISH = [
    "hazine ersal chande?",
    "bilite ghatar baraye bache 5 sale chande?",
    "mitoonam belitamo cancel konam?",
    "salam",
    "pool az hesabam kam shode vali bilit sader nashode",
    "saat kari poshtibani chie?",
    "mishe ba ye nafar harf bezanam?",
    "sefaresham kojast?",
    "chera hanooz nayomade",
    "kifamo ja gozashtam",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_is_finglish_false_for_english(text):
    assert not is_finglish(text)


@pytest.mark.parametrize("text", FINGLISH)
def test_is_finglish_true_for_finglish(text):
    assert is_finglish(text)


def test_is_finglish_false_for_persian_script_and_empty():
    assert not is_finglish("هزینه ارسال چنده؟")
    assert not is_finglish("")
    assert not is_finglish("123 ?!")


@pytest.mark.parametrize(
    ("latin", "persian"),
    [
        ("hazine", "هزینه"),
        ("ersal", "ارسال"),
        ("ghatar", "قطار"),
        ("saat", "ساعت"),
        ("hesabam", "حسابم"),
        ("poshtibani", "پشتیبانی"),
        ("jarime", "جریمه"),
        ("mikhoram", "می" + ZWNJ + "خورم"),
        ("nashode", "نشده"),
        ("gozashtam", "گذاشتم"),
        ("chande", "چنده"),
    ],
)
def test_finglish_to_persian_common_words(latin, persian):
    assert finglish_to_persian(latin) == persian


def test_finglish_to_persian_keeps_digits_and_punctuation():
    assert finglish_to_persian("bache 5 sale?").split()[1:] == ["5", "سال", "?"]


@pytest.mark.parametrize(
    ("spoken", "formal_part"),
    [
        ("کی پولم برمیگرده؟", "برمی" + ZWNJ + "گردد"),
        ("میشه کنسلش کنم؟", "می" + ZWNJ + "شود"),
        ("هزینه ارسال چنده؟", "چند است"),
        ("میخوام زنگ بزنم", "می" + ZWNJ + "خواهم"),
        ("نمیتونم وارد بشم", "نمی" + ZWNJ + "توانم"),
        ("بلیطمو گم کردم", "بلیطم را"),
        ("بلیط نیومده", "نیامده"),
        ("چمدونم کجاست", "چمدانم"),
        ("شماره تماستون", "تماستان"),
    ],
)
def test_colloquial_to_formal_frequent_forms(spoken, formal_part):
    assert formal_part in colloquial_to_formal(spoken)


def test_colloquial_to_formal_searches_both_spellings_of_ticket():
    assert "بلیط" in colloquial_to_formal("بلیت قطار").split()
    assert "بلیت" in colloquial_to_formal("بلیط قطار").split()


@pytest.mark.parametrize(
    "text",
    [
        "How long do I have to return an item?",
        "هزینه ارسال به شیراز چقدر است؟",
        "رمز عبورم را فراموش کرده‌ام.",
        "سفارش من کی می‌رسد؟",
    ],
)
def test_readings_of_ordinary_text_is_the_text(text):
    assert readings(text) == [text]


def test_readings_message_first_then_persian_readings():
    found = readings("mitoonam belitamo cancel konam?")
    assert found[0] == "mitoonam belitamo cancel konam?"
    assert len(found) == len(set(found)) >= 2
    assert "کنسل" in found[-1]


def test_readings_of_spoken_persian_adds_the_formal_reading():
    found = readings("کی پولم برمیگرده؟")
    assert found[0] == "کی پولم برمیگرده؟"
    assert len(found) == 2


@pytest.fixture
def fa_searcher(tmp_path, fake_embedder):
    kb = tmp_path / "kb"
    write_article(
        kb,
        "shipping.md",
        """
        ---
        id: fa-shipping
        title: هزینه ارسال
        lang: fa
        ---
        # هزینه ارسال
        هزینه ارسال سفارش به همه شهرها ۴۵ هزار تومان است.
        """,
    )
    write_article(
        kb,
        "refund.md",
        """
        ---
        id: fa-refund
        title: زمان بازگشت پول
        lang: fa
        ---
        # زمان بازگشت پول
        پس از لغو سفارش، پول ظرف سه روز کاری به کارت بانکی شما برمی‌گردد.
        """,
    )
    write_article(
        kb,
        "password.md",
        """
        ---
        id: en-password
        title: Reset your password
        lang: en
        ---
        # Reset your password
        Use the forgot password link and the SMS code to choose a new password.
        """,
    )
    build_from_kb(kb, fake_embedder, tmp_path / "idx")
    return HybridSearcher(load_index(tmp_path / "idx"), fake_embedder)


def test_search_finds_persian_article_for_finglish_via_lexical_leg(fa_searcher):
    hits = fa_searcher.search("hazine ersal chande?", k=3, mode="lexical")
    assert hits and hits[0].article.id == "fa-shipping"


def test_search_finds_persian_article_for_spoken_persian_via_lexical_leg(fa_searcher):
    hits = fa_searcher.search("پولم کی برمیگرده؟", k=3, mode="lexical")
    assert hits and hits[0].article.id == "fa-refund"


def test_search_hybrid_finglish_embeds_the_persian_reading(fa_searcher):
    hits = fa_searcher.search("hazine ersal chande?", k=3)
    assert hits[0].article.id == "fa-shipping"


@pytest.mark.parametrize(
    "text",
    [
        "help me with https://example.com/khadamat/mikham",  # a link's path is not read
        "Listen to Michelle's speech in Miami",  # names are neither language
        "Days before new Michigan laws, industry gets ready",
        "cough cough",  # -ough is English
    ],
)
def test_is_finglish_false_for_english_with_links_and_names(text):
    assert not is_finglish(text)


@pytest.mark.parametrize(
    "text",
    ["bilitam nayomad, SMS ham nadadin. chikar konam?", "sefaresh ORD-12345 kojast?", "ahvalat chetore?"],
)
def test_is_finglish_true_with_acronyms_and_codes(text):
    assert is_finglish(text)
