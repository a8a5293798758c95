"""Quoting each passage once and citing it legibly (bot/citing.py): read-back, merging, repeats, source lines."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.citing import (
    LRI,
    PDI,
    RLI,
    Passage,
    isolate,
    join_units,
    merge_by_section,
    pieces,
    read_passage,
    source_lines,
    unrepeated,
)
from indexer.chunking import Section
from indexer.units import section_units

# As the chunker renders a section: a paragraph per line, list items, a table header and its rows.
COD = Section(
    "cod#cities",
    "cod",
    1,
    ("پرداخت در محل", "در کدام شهرها فعال است؟"),
    "پرداخت در محل فقط در شهرهایی که پیک بازارچه فعال است ارائه می‌شود:\n"
    "- تهران و کرج\n- اصفهان\n- شیراز\n- مشهد\n- تبریز\n"
    "در قم با وجود پیک بازارچه، پرداخت در محل هنوز فعال نشده است. "
    "در شهرهایی که سفارش با پست ارسال می‌شود، این گزینه نمایش داده نمی‌شود. "
    "برای کالاهای سنگین فقط تهران و کرج.",
)
FEES = Section(
    "fees#table",
    "fees",
    2,
    ("Delivery", "Costs"),
    "Shipping costs depend on the city.\nCity | Time | Cost\nTehran | 1-2 days | 35,000\nShiraz | 3-4 days | 49,000",
)
UNITS = section_units(COD.text)


def passage(section: Section, chosen: list[int]) -> Passage:
    return read_passage(join_units(section_units(section.text), chosen), section)


# --- reading a quote back as units ------------------------------------------------------------------


@given(st.sets(st.integers(min_value=0, max_value=len(UNITS) - 1), min_size=1))
def test_read_passage_reads_back_any_join_of_units(chosen):
    ordered = sorted(chosen)
    text = join_units(UNITS, ordered)
    assert read_passage(text, COD).units == tuple(ordered)


def test_read_passage_reads_table_rows_and_sentences():
    units = section_units(FEES.text)
    assert read_passage(join_units(units, [0, 2]), FEES).units == (0, 2)


def test_read_passage_keeps_no_units_for_text_that_is_not_whole_units():
    cut = UNITS[0].text[:20]
    assert read_passage(cut, COD) == Passage(cut, COD)
    assert read_passage("", COD).units == ()


# --- one passage per section ------------------------------------------------------------------------


def test_merge_by_section_drops_a_quote_contained_in_an_earlier_one():
    whole = passage(COD, list(range(6)))
    some = passage(COD, [0, 4, 5])  # the opening with Mashhad and Tabriz only
    assert merge_by_section([whole, some]) == [whole]


def test_merge_by_section_grows_an_earlier_quote_contained_in_a_later_one_in_place():
    other = passage(FEES, [0])
    some, whole = passage(COD, [0, 4]), passage(COD, list(range(6)))
    merged = merge_by_section([some, other, whole])
    assert [p.text for p in merged] == [whole.text, other.text]


def test_merge_by_section_unites_overlapping_quotes_in_reading_order():
    merged = merge_by_section([passage(COD, [0, 4]), passage(COD, [0, 1, 7])])
    assert len(merged) == 1
    assert merged[0].units == (0, 1, 4, 7)
    assert merged[0].text == join_units(UNITS, [0, 1, 4, 7])
    assert merged[0].text.splitlines()[-1] == UNITS[7].text  # a sentence of its own paragraph


def test_merge_by_section_joins_sentences_left_apart_with_an_ellipsis():
    merged = merge_by_section([passage(COD, [6]), passage(COD, [8])])
    assert merged[0].text == f"{UNITS[6].text} … {UNITS[8].text}"


def test_merge_by_section_keeps_quotes_of_different_sections_apart():
    a, b = passage(COD, [0, 1]), passage(FEES, [1])
    assert merge_by_section([a, b]) == [a, b]


def test_merge_by_section_drops_an_exact_repeat_it_could_not_read_back():
    cut = Passage(UNITS[0].text[:20], COD)
    assert merge_by_section([cut, cut]) == [cut]


# --- repeats across articles --------------------------------------------------------------------------


def test_unrepeated_keeps_the_longest_and_drops_what_it_contains_wherever_it_is():
    whole = join_units(UNITS, list(range(6)))
    some = join_units(UNITS, [0, 4, 5])
    other = "Refunds take 3 working days."
    # The shorter copy comes first, in another article's group: that group loses it.
    assert unrepeated([[some, other], [whole]]) == [[other], [whole]]


def test_unrepeated_keeps_the_first_of_two_equal_passages_and_partial_overlaps():
    first = "One. Two."
    overlapping = "Two. Three."
    assert unrepeated([[first], [first, overlapping]]) == [[first], [overlapping]]


def test_pieces_split_lines_sentences_and_ellipses():
    text = f"{UNITS[6].text} … {UNITS[8].text}\n- تهران و کرج"
    assert pieces(text) == (UNITS[6].text, UNITS[8].text, "- تهران و کرج")


# --- source lines ------------------------------------------------------------------------------------


def test_source_lines_put_the_url_alone_on_its_own_line_without_brackets():
    url = "https://help.example.com/fa/payment/cash-on-delivery"
    lines = source_lines("منبع", "پرداخت در محل", url, "fa")
    assert lines == ["منبع: پرداخت در محل", url]
    assert not any(ch in "()[]<>" for line in lines for ch in line)


def test_source_lines_without_url_name_only_the_title():
    assert source_lines("Source", "Returns", None, "en") == ["Source: Returns"]


def test_source_lines_isolate_a_title_written_in_the_other_direction():
    # «Support hours (including Nowruz)» in a Persian line: without isolates its closing bracket
    # would be mirrored to the far left.
    title = "Support hours (including Nowruz)"
    assert source_lines("منبع", title, None, "fa") == [f"منبع: {LRI}{title}{PDI}"]
    assert source_lines("Source", "پرداخت در محل", None, "en") == [f"Source: {RLI}پرداخت در محل{PDI}"]


def test_isolate_leaves_text_of_the_reply_direction_and_neutral_text_alone():
    assert isolate("Returns policy", "en") == "Returns policy"
    assert isolate("شرایط بازگرداندن (۷ روز)", "fa") == "شرایط بازگرداندن (۷ روز)"
    assert isolate("2024 (1)", "fa") == "2024 (1)"
    assert isolate("گارانتی گوشی‌های Samsung", "fa") == "گارانتی گوشی‌های Samsung"
    assert isolate("Samsung Galaxy S24 گارانتی", "fa") == f"{LRI}Samsung Galaxy S24 گارانتی{PDI}"


def test_source_lines_hold_no_invisible_character_in_the_url_line():
    url = "https://help.example.com/en/returns"
    for lang, title in (("fa", "Returns"), ("en", "شرایط")):
        line = source_lines("x", title, url, lang)[1]
        assert line == url and not any(unicodedata.category(ch) == "Cf" for ch in line)
