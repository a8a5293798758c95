import numpy as np
import pytest

from indexer.build import build_from_kb
from indexer.retrieval import KIND_QUANTILE, KIND_SHIFT, HybridSearcher, _quantile
from indexer.store import load_index


def _searcher(tmp_path, fake_embedder, with_questions: bool) -> HybridSearcher:
    kb = tmp_path / "kb"
    kb.mkdir()
    questions = "questions:\n  - How do I fix a wrong name?\n" if with_questions else ""
    (kb / "names.md").write_text(f"---\nid: names\ntitle: Names\nlang: en\n{questions}---\n\nNames are fixed free.\n")
    (kb / "lost.md").write_text("---\nid: lost\ntitle: Lost items\nlang: en\n---\n\nLost items are kept 30 days.\n")
    build_from_kb(kb, fake_embedder, tmp_path / "idx")
    return HybridSearcher(load_index(tmp_path / "idx"), fake_embedder)


def test_question_keys_move_onto_the_passage_scale_keeping_their_order(tmp_path, fake_embedder):
    searcher = _searcher(tmp_path, fake_embedder, with_questions=True)
    kinds = np.array([k.kind for k in searcher.index.keys])
    scores = np.where(kinds == "question", 0.95, 0.80).astype(np.float32)
    scores[kinds != "question"] += np.linspace(0, 0.01, (kinds != "question").sum()).astype(np.float32)
    aligned = searcher.align_kinds(scores)
    told = scores[kinds != "question"]
    expected_shift = KIND_SHIFT * (0.95 - _quantile(told, KIND_QUANTILE))
    assert aligned[kinds == "question"] == pytest.approx(scores[kinds == "question"] - expected_shift)
    assert np.array_equal(aligned[kinds != "question"], told)
    assert aligned[kinds == "question"].max() < scores[kinds == "question"].max()


def test_a_kb_with_one_kind_of_key_is_left_alone(tmp_path, fake_embedder):
    searcher = _searcher(tmp_path, fake_embedder, with_questions=False)
    scores = np.linspace(0.5, 0.9, len(searcher.index.keys)).astype(np.float32)
    assert searcher.align_kinds(scores) is scores


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101])
def test_quantile_matches_numpy(n):
    values = np.random.default_rng(n).random(n)
    assert _quantile(values, 0.9) == pytest.approx(np.quantile(values, 0.9))
