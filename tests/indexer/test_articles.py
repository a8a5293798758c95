from pathlib import Path

import pytest
from conftest import write_article

from indexer.articles import ArticleError, load_kb, parse_article


def test_parse_article_with_front_matter_reads_every_field():
    text = "---\nid: a1\ntitle: T\nlang: en\ntags: [x, y]\nquestions:\n  - Q one?\nurl: https://x\n---\n# T\nBody.\n"
    art = parse_article(text, path="a.md", default_id="a")
    assert (art.id, art.title, art.lang, art.tags, art.questions, art.url) == (
        "a1",
        "T",
        "en",
        ("x", "y"),
        ("Q one?",),
        "https://x",
    )
    assert art.body.startswith("# T")
    assert len(art.content_hash) == 64


def test_parse_article_without_front_matter_uses_heading_stem_and_detected_lang():
    art = parse_article("# بازگرداندن کالا\nکالا را تا هفت روز می‌توانید پس بدهید.", path="x.md", default_id="returns")
    assert (art.id, art.title, art.lang) == ("returns", "بازگرداندن کالا", "fa")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\n---\n# T\nbody", "invalid YAML"),
        ("---\n- a\n- b\n---\n# T\nbody", "mapping"),
        ("---\ntitle: T\n---\n   \n", "empty"),
        ("---\ntitle: T\nquestions: 5\n---\nbody", "questions"),
        ("---\ntitel: T\n---\n# T\nbody", "unknown front matter key"),
        ("---\ntitle: T\n# T\nbody", "no closing"),
        ("just text without any heading", "no title"),
        ("---\nid: 'bad id with spaces'\n---\n# T\nbody", "id"),
    ],
)
def test_parse_article_invalid_names_the_problem(text, reason):
    with pytest.raises(ArticleError, match=reason):
        parse_article(text, path="x.md", default_id="x")


def test_content_hash_changes_with_body_and_questions():
    a = parse_article("# T\nbody", path="x.md", default_id="x")
    b = parse_article("# T\nbody!", path="x.md", default_id="x")
    c = parse_article("---\nquestions: [q]\n---\n# T\nbody", path="x.md", default_id="x")
    assert len({a.content_hash, b.content_hash, c.content_hash}) == 3


def test_load_kb_reports_every_problem_with_its_path(tmp_path: Path):
    write_article(tmp_path, "ok.md", "# OK\ntext")
    write_article(tmp_path, "dup1.md", "---\nid: same\n---\n# A\ntext")
    write_article(tmp_path, "sub/dup2.md", "---\nid: same\n---\n# B\ntext")
    write_article(tmp_path, "empty.md", "---\ntitle: E\n---\n")
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    loaded = load_kb(tmp_path)
    assert [a.id for a in loaded.articles] == ["same", "ok"]
    reasons = {Path(p.path).name: p.reason for p in loaded.problems}
    assert set(reasons) == {"dup2.md", "empty.md", "latin1.md"}
    assert "duplicate id 'same'" in reasons["dup2.md"]
    assert "empty" in reasons["empty.md"]
    assert "UTF-8" in reasons["latin1.md"]
    assert all(str(tmp_path) in str(p) for p in loaded.problems)


def test_load_kb_missing_folder_raises():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_kb(Path("/nonexistent/kb"))
