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
    assert all(line in text for line in passage.splitlines())


def test_best_passage_of_empty_section_is_empty():
    assert best_passage("", "anything") == ""
