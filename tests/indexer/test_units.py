from indexer.build import build_from_kb
from indexer.store import load_index
from indexer.units import passage_units

SECTION = """The table below lists delivery times.
City | Time | Cost
Tehran | 1-2 days | 35,000 Toman
Shiraz | 3-4 days | 49,000 Toman
Free delivery applies from 500,000 Toman. Orders ship the same day.
- Pack the item in its box
- Print the label"""


def test_passage_units_keep_paragraphs_whole_and_rows_with_headers():
    assert passage_units(SECTION) == [
        "The table below lists delivery times.",
        "City: Tehran; Time: 1-2 days; Cost: 35,000 Toman",
        "City: Shiraz; Time: 3-4 days; Cost: 49,000 Toman",
        "Free delivery applies from 500,000 Toman. Orders ship the same day.",
        "Pack the item in its box",
        "Print the label",
    ]


def test_passage_units_split_a_long_paragraph_at_sentences():
    sentence = "This sentence is about delivery rules and is fairly long on purpose. "
    units = passage_units(sentence * 12)
    assert len(units) > 1
    assert all(len(u) <= 520 for u in units)
    assert " ".join(units).split() == (sentence * 12).split()


def test_passage_units_of_one_paragraph_is_that_paragraph():
    assert passage_units("Only one short paragraph here.") == ["Only one short paragraph here."]


def test_index_has_unit_keys_with_the_article_title(tmp_path, fake_embedder):
    kb = tmp_path / "kb"
    kb.mkdir()
    markdown = """The table below lists delivery times.

| City | Time | Cost |
| --- | --- | --- |
| Tehran | 1-2 days | 35,000 Toman |
| Shiraz | 3-4 days | 49,000 Toman |

Free delivery applies from 500,000 Toman. Orders ship the same day.

- Pack the item in its box
- Print the label
"""
    (kb / "delivery.md").write_text(f"---\nid: delivery\ntitle: Delivery guide\nlang: en\n---\n\n{markdown}")
    (kb / "short.md").write_text("---\nid: short\ntitle: Short\nlang: en\n---\n\nOne paragraph only.\n")
    build_from_kb(kb, fake_embedder, tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    units = [k for k in index.keys if k.kind == "unit"]
    assert {k.article_id for k in units} == {"delivery"}  # a one-paragraph section is its own unit
    assert "Delivery guide: City: Shiraz; Time: 3-4 days; Cost: 49,000 Toman" in [k.text for k in units]
    section_ids = {s.id for s in index.sections if s.article_id == "delivery"}
    assert all(k.section_id in section_ids for k in units)
    # The article classifier learns from sections and questions only.
    assert index.classifier is not None
