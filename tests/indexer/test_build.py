import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, write_article

from indexer import store
from indexer.build import BuildError, build_from_kb
from indexer.embedding import FakeEmbedder
from indexer.store import IndexMismatchError, IndexNotFoundError, current_generation, load_index


def test_build_from_kb_writes_self_describing_folder(small_kb, tmp_path, fake_embedder):
    report = build_from_kb(small_kb, fake_embedder, tmp_path / "idx")
    gen = current_generation(tmp_path / "idx")
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest["model"] == fake_embedder.name and manifest["dim"] == 64
    assert set(manifest["articles"]) == {"en-returns", "fa-delivery", "password"}
    assert {p.name for p in gen.iterdir()} >= {
        "vectors.faiss",
        "keys.jsonl",
        "sections.jsonl",
        "articles.jsonl",
        "lexical",
    }
    assert report.added == ("en-returns", "fa-delivery", "password") or set(report.added) == set(manifest["articles"])
    index = load_index(tmp_path / "idx", expect_model=fake_embedder.name)
    # 3 + 2 + 1 sections and 2 example questions
    assert len(index.sections) == 6 and len(index.keys) == 8
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-5)


def test_build_incremental_reembeds_only_changed_article(small_kb, tmp_path, fake_embedder):
    idx = tmp_path / "idx"
    build_from_kb(small_kb, fake_embedder, idx)
    before = load_index(idx)
    path = small_kb / "password.md"
    path.write_text(path.read_text() + "\nIf no SMS arrives, wait two minutes and try again.\n")
    report = build_from_kb(small_kb, fake_embedder, idx)
    assert report.changed == ("password",) and report.added == () and report.removed == ()
    after = load_index(idx)
    # Only the changed article's keys are embedded: its section and, now that the section has two
    # paragraphs, one unit key per paragraph.
    assert report.embedded_keys == sum(k.article_id == "password" for k in after.keys) == 3
    assert [k.kind for k in after.keys if k.article_id == "password"] == ["section", "unit", "unit"]
    assert "1 changed" in report.summary() and "re-embedded 1 article " in report.summary()
    same = [i for i, k in enumerate(after.keys) if k.article_id != "password"]
    old_rows = {(k.article_id, k.section_id, k.text): before.vectors[i] for i, k in enumerate(before.keys)}
    for i in same:
        k = after.keys[i]
        np.testing.assert_array_equal(after.vectors[i], old_rows[(k.article_id, k.section_id, k.text)])


def test_build_unchanged_kb_embeds_nothing_and_removal_is_reported(small_kb, tmp_path, fake_embedder):
    idx = tmp_path / "idx"
    build_from_kb(small_kb, fake_embedder, idx)
    assert build_from_kb(small_kb, fake_embedder, idx).embedded_keys == 0
    (small_kb / "password.md").unlink()
    report = build_from_kb(small_kb, fake_embedder, idx)
    assert report.removed == ("password",) and report.embedded_keys == 0
    assert "password" not in load_index(idx).articles


def test_build_other_model_reembeds_everything(small_kb, tmp_path):
    idx = tmp_path / "idx"
    build_from_kb(small_kb, FakeEmbedder(dim=64), idx)
    report = build_from_kb(small_kb, FakeEmbedder(dim=32), idx)
    assert report.embedded_keys == 8


def test_build_invalid_article_fails_and_keeps_old_index(small_kb, tmp_path, fake_embedder):
    idx = tmp_path / "idx"
    build_from_kb(small_kb, fake_embedder, idx)
    gen = current_generation(idx)
    write_article(small_kb, "bad.md", "---\ntitle: [oops\n---\n# x\n")
    write_article(small_kb, "empty.md", "# \n")
    with pytest.raises(BuildError) as err:
        build_from_kb(small_kb, fake_embedder, idx)
    assert {Path(p.path).name for p in err.value.problems} == {"bad.md", "empty.md"}
    assert current_generation(idx) == gen
    report = build_from_kb(small_kb, fake_embedder, idx, skip_invalid=True)
    assert len(report.skipped) == 2 and report.articles == 3


def test_build_crash_while_writing_leaves_old_index(small_kb, tmp_path, fake_embedder, monkeypatch):
    idx = tmp_path / "idx"
    build_from_kb(small_kb, fake_embedder, idx)
    gen = current_generation(idx)
    write_article(small_kb, "new.md", "# New article\nfresh text")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.LexicalIndex, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        build_from_kb(small_kb, fake_embedder, idx)
    assert current_generation(idx) == gen
    assert not list(idx.glob(".build-*"))
    assert "new" not in load_index(idx).articles


def test_build_sigkill_during_write_keeps_old_index_and_next_build_succeeds(small_kb, tmp_path, fake_embedder):
    idx = tmp_path / "idx"
    build_from_kb(small_kb, fake_embedder, idx)
    gen = current_generation(idx)
    write_article(small_kb, "new.md", "# New article\nfresh text")
    # A real SIGKILL in the middle of writing the new generation (after the vectors, before the manifest).
    driver = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from indexer import store
        from indexer.build import build_from_kb
        from indexer.embedding import FakeEmbedder
        store.LexicalIndex.save = lambda self, folder: os.kill(os.getpid(), signal.SIGKILL)
        build_from_kb({str(small_kb)!r}, FakeEmbedder(), {str(idx)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", driver], capture_output=True, timeout=120)
    assert proc.returncode == -9
    assert list(idx.glob(".build-*")), "the killed build should have left its unfinished folder"
    assert current_generation(idx) == gen
    assert "new" not in load_index(idx).articles
    report = build_from_kb(small_kb, fake_embedder, idx)
    assert report.added == ("new",)
    assert not list(idx.glob(".build-*"))
    assert "new" in load_index(idx).articles


def test_publish_keeps_only_current_and_previous_generation(small_kb, tmp_path, fake_embedder):
    idx = tmp_path / "idx"
    for i in range(4):
        write_article(small_kb, f"n{i}.md", f"# Note {i}\ntext {i}")
        build_from_kb(small_kb, fake_embedder, idx)
    assert len(list(idx.glob("gen-*"))) == 2


def test_load_index_refuses_other_model_and_missing_index(small_kb, tmp_path, fake_embedder):
    with pytest.raises(IndexNotFoundError, match="pasokh index"):
        load_index(tmp_path / "nothing")
    build_from_kb(small_kb, fake_embedder, tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="built with model"):
        load_index(tmp_path / "idx", expect_model="intfloat/multilingual-e5-base")


def test_faiss_search_matches_bruteforce_oracle(tmp_path):
    rng = np.random.default_rng(7)
    kb = tmp_path / "kb"
    for i in range(40):
        words = " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "ارسال", "سفارش", "refund", "card"], 6))
        write_article(kb, f"a{i:02d}.md", f"# Article {i}\n{words}")
    emb = FakeEmbedder()
    build_from_kb(kb, emb, tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    query = emb.embed_queries(["gamma refund سفارش"])[0]
    found, ids = index.faiss_index.search(query.reshape(1, -1), 10)
    brute = index.vectors @ query
    np.testing.assert_allclose(found[0], np.sort(brute)[::-1][:10], rtol=1e-5)
    assert set(ids[0]) == set(np.argsort(-brute)[:10]) or np.allclose(np.sort(brute[ids[0]]), np.sort(found[0]))


class _CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []

    def embed_passages(self, texts):
        self.passages += list(texts)
        return super().embed_passages(texts)


def test_build_stores_a_vector_for_every_quotable_unit(small_kb, tmp_path, fake_embedder):
    from indexer.units import quote_texts, section_units

    build_from_kb(small_kb, fake_embedder, tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    for section in index.sections:
        vectors = index.section_quote_vectors(section.id)
        title = index.articles[section.article_id].title
        texts = quote_texts(title, section.text)
        assert vectors is not None and len(vectors) == len(section_units(section.text)) == len(texts)
        np.testing.assert_allclose(vectors, fake_embedder.embed_passages(texts), rtol=1e-5, atol=1e-6)


def test_build_embeds_quotes_only_for_new_text(small_kb, tmp_path):
    embedder = _CountingEmbedder()
    idx = tmp_path / "idx"
    build_from_kb(small_kb, embedder, idx)
    first = list(embedder.passages)
    # Every unit that is also a unit key shares its vector: no text is embedded twice.
    assert len(first) == len(set(first))
    embedder.passages.clear()
    build_from_kb(small_kb, embedder, idx)
    assert embedder.passages == []  # nothing changed, nothing embedded
    path = small_kb / "password.md"
    path.write_text(path.read_text() + "\nIf no SMS arrives, wait two minutes and try again.\n")
    build_from_kb(small_kb, embedder, idx)
    assert embedder.passages and all("SMS" in t or "password" in t.lower() for t in embedder.passages)


def test_an_index_written_without_quotes_still_loads(small_kb, tmp_path, fake_embedder):
    build_from_kb(small_kb, fake_embedder, tmp_path / "idx")
    gen = current_generation(tmp_path / "idx")
    (gen / "quotes.jsonl").unlink()
    (gen / "quotes.npy").unlink()
    index = load_index(tmp_path / "idx")
    assert index.section_quote_vectors(index.sections[0].id) is None
    # The next build embeds the quotes and serves them.
    build_from_kb(small_kb, fake_embedder, tmp_path / "idx")
    assert load_index(tmp_path / "idx").section_quote_vectors(index.sections[0].id) is not None
