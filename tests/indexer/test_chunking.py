import re

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.articles import parse_article
from indexer.chunking import markdown_blocks, split_article


def _article(body: str, title: str = "Guide"):
    return parse_article(f"# {title}\n{body}", path="g.md", default_id="guide")


def test_split_article_keeps_heading_path_and_intro():
    art = _article("Intro text.\n\n## Delivery\nTwo days.\n\n### Shiraz\nFour days.\n\n## Costs\n- Free over 500\n")
    sections = split_article(art)
    assert [s.heading_path for s in sections] == [
        ("Guide",),
        ("Guide", "Delivery"),
        ("Guide", "Delivery", "Shiraz"),
        ("Guide", "Costs"),
    ]
    assert sections[0].text == "Intro text."
    assert sections[3].text == "- Free over 500"
    assert [s.position for s in sections] == [0, 1, 2, 3]


def test_split_article_ids_are_stable_and_unique():
    art = _article("## Same\na\n\n## Same\nb\n")
    first = split_article(art)
    assert [s.id for s in first] == ["guide#same", "guide#same-2"]
    assert [s.id for s in split_article(art)] == [s.id for s in first]


def test_split_article_table_rows_become_text():
    art = _article("## Prices\n| city | days |\n|---|---|\n| Shiraz | 4 |\n")
    (section,) = split_article(art)
    assert section.text.splitlines() == ["city | days", "Shiraz | 4"]


def test_split_article_long_section_is_cut_under_limit():
    sentence = "This sentence explains the delivery rules in detail. "
    art = _article("## Long\n" + sentence * 100)
    sections = split_article(art, max_chars=300)
    assert len(sections) > 5
    assert all(len(s.text) <= 300 for s in sections)
    assert {s.heading_path for s in sections} == {("Guide", "Long")}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


words = st.text(alphabet=st.sampled_from("abc دهی.!؟ "), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), words), min_size=1, max_size=12), st.integers(200, 400))
def test_split_article_loses_no_text(parts, max_chars):
    body = "\n\n".join(("## H " + w.strip() if is_heading and w.strip() else w) for is_heading, w in parts)
    art = _article(body + "\n\nend")
    rendered = "".join(b.text for b in markdown_blocks(art))
    chunked = "".join(s.text for s in split_article(art, max_chars=max_chars))
    assert _squash(chunked) == _squash(rendered)
