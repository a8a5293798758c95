import numpy as np
import pytest

from bot.extract import best_passage, section_units

TABLE = """The table below lists delivery times.
City | Time | Cost
Tehran | 1-2 days | 35,000 Toman
Shiraz | 3-4 days | 49,000 Toman
Free delivery applies from 500,000 Toman."""


def test_section_units_render_table_rows_with_headers():
    units = section_units(TABLE)
    rows = [u.text for u in units if u.kind == "row"]
    assert rows == [
        "City: Tehran; Time: 1-2 days; Cost: 35,000 Toman",
        "City: Shiraz; Time: 3-4 days; Cost: 49,000 Toman",
    ]


def test_section_units_lose_no_sentence():
    text = "First sentence. Second one!\n- item a\n- item b\nLast line"
    units = section_units(text)
    assert [u.text for u in units] == ["First sentence.", "Second one!", "- item a", "- item b", "Last line"]


def test_best_passage_picks_the_row_of_the_asked_city():
    assert best_passage(TABLE, "how long to Shiraz?") == "City: Shiraz; Time: 3-4 days; Cost: 49,000 Toman"


def test_best_passage_focus_beats_previous_topic():
    query = "how much is delivery to Tehran and Shiraz"
    assert "Shiraz" in best_passage(TABLE, query, focus="Shiraz")


def test_best_passage_without_overlap_gives_the_preferred_section_opening():
    sections = ["Other section text.", "Returns are free within 7 days. Keep the box."]
    assert best_passage(sections, "چطور پس بدهم؟", preferred=1) == "Returns are free within 7 days. Keep the box."


def test_best_passage_searches_every_section_of_the_article():
    sections = ["Delivery is fast everywhere.", "Cash on delivery is possible in Tehran and Shiraz."]
    assert best_passage(sections, "can I pay cash on delivery?", preferred=0).startswith("Cash on delivery")


def test_best_passage_includes_the_list_a_sentence_introduces():
    text = "You can pay with:\n- a bank card\n- a gift card\nOther text follows here."
    passage = best_passage(text, "how can I pay?")
    assert passage.splitlines() == ["You can pay with:", "- a bank card", "- a gift card"]


def test_best_passage_is_bounded_and_quotes_the_kb():
    text = " ".join(f"Sentence number {i} about refunds." for i in range(200))
    passage = best_passage(text, "refunds")
    assert len(passage) <= 500
    assert all(piece in text for line in passage.splitlines() for piece in line.split(" … "))


def test_best_passage_of_empty_section_is_empty():
    assert best_passage("", "anything") == ""


# --- answer selection ---------------------------------------------------------------------------

from bot.extract import FEATURES, answer_kind, dangling, select_quote, unit_features  # noqa: E402


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How long do I have to return an item?", "quantity"),
        ("how much is shipping to Shiraz", "quantity"),
        ("کارمزد کارت به کارت چنده؟", "quantity"),
        ("پولم کی برمیگرده؟", "quantity"),
        ("How do I reset my password?", "steps"),
        ("چطور سفارشم رو لغو کنم؟", "steps"),
        ("با هواپیما چطور؟", ""),  # "what about by plane?", not how to do something
        ("ساعت کاری پشتیبانی چطوره؟", ""),
        ("Do you ship to Germany?", ""),
        ("آیا پرداخت در محل ممکن است؟", ""),
    ],
)
def test_answer_kind_reads_what_the_question_asks_for(question, kind):
    assert answer_kind(question) == kind


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("After that, a fee of 20,000 Toman applies.", True),
        ("This fee is taken from your refund.", True),
        ("پس از آن، کارمزد ۲۰ هزار تومان است.", True),
        ("این مبلغ از بازپرداخت کم می‌شود.", True),
        ("Returns are free within 7 days.", False),
        ("کارمزد کارت به کارت ۹۰۰ تومان است.", False),
    ],
)
def test_dangling_spots_a_sentence_that_points_back(sentence, expected):
    assert dangling(sentence) is expected


FEE = "کارت به کارت در اپلیکیشن ممکن است. کارمزد هر انتقال ۹۰۰ تومان است. کارمزد از کارت مبدأ کسر می‌شود."


def test_a_quantity_question_prefers_the_unit_with_the_amount():
    weights = {name: 0.0 for name in FEATURES} | {"lex": 1.0, "kind_match": 2.0}
    quote = select_quote(FEE, "کارمزد کارت به کارت چنده؟", weights=weights, max_chars=60)
    assert "۹۰۰ تومان" in quote.text


def test_a_dangling_unit_brings_the_sentence_it_points_back_to():
    text = "You can cancel free of charge until the order is packed. After that, cancelling costs 20,000 Toman."
    weights = {name: 0.0 for name in FEATURES} | {"lex": 1.0}
    quote = select_quote(text, "cancelling costs", weights=weights, max_chars=40)
    assert quote.text.startswith("You can cancel free of charge")
    assert "20,000 Toman" in quote.text


def test_the_quote_is_taken_from_one_section_and_says_which():
    sections = [
        "Delivery takes 2 days in Tehran.",
        "Cash on delivery is accepted in Tehran and Shiraz. Pay the courier.",
    ]
    quote = select_quote(sections, "can I pay cash on delivery?", preferred=0)
    assert quote.section == 1
    assert quote.text.startswith("Cash on delivery")


def test_dense_evidence_picks_the_unit_the_words_miss():
    # No word of the question is in the text: only the vectors say which unit answers.
    text = "Our warehouse is in Karaj. Damaged parcels are replaced free of charge."
    vectors = [np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)]
    weights = {name: 0.0 for name in FEATURES} | {"dense_z": 1.0}
    quote = select_quote(text, "my order arrived broken", query_vector=np.array([0.1, 0.99]), vectors=vectors,
                         weights=weights, max_chars=40)  # fmt: skip
    assert quote.text == "Damaged parcels are replaced free of charge."


def test_unit_features_have_one_column_per_feature_and_zero_dense_without_vectors():
    flat, rows = unit_features([TABLE], "how long to Shiraz?")
    assert rows.shape == (len(flat), len(FEATURES))
    assert not rows[:, FEATURES.index("dense_z")].any()
