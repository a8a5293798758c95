import pytest

from indexer.build import build_from_kb
from indexer.retrieval import HybridSearcher
from indexer.store import load_index


@pytest.fixture
def searcher(small_kb, tmp_path, fake_embedder):
    build_from_kb(small_kb, fake_embedder, tmp_path / "idx")
    return HybridSearcher(load_index(tmp_path / "idx"), fake_embedder)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_finds_article_and_best_section(searcher, mode):
    hits = searcher.search("when will the refund reach my bank card", k=3, mode=mode)
    assert hits[0].article.id == "en-returns"
    assert hits[0].section.heading_path == ("Returns and refunds", "Refund timing")


def test_search_persian_normalised_query_matches(searcher):
    # Arabic yeh/kaf and no ZWNJ in the query; the article uses Persian letters.
    hits = searcher.search("هزينه ارسال به شيراز", k=3, mode="lexical")
    assert hits[0].article.id == "fa-delivery"
    assert hits[0].section.heading == "هزینه ارسال"


def test_search_results_are_articles_sorted_and_unique(searcher):
    hits = searcher.search("password SMS code login", k=5)
    ids = [h.article.id for h in hits]
    assert ids[0] == "password"
    assert len(ids) == len(set(ids))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_empty_query_and_bad_mode(searcher):
    assert searcher.search("   ") == []
    with pytest.raises(ValueError, match="mode"):
        searcher.search("x", mode="magic")


def test_search_lexical_without_any_known_word_returns_nothing(searcher):
    assert searcher.search("zzzz qqqq", mode="lexical") == []


def test_dense_key_scores_are_every_keys_inner_product_in_key_order(searcher, fake_embedder):
    import numpy as np

    query = fake_embedder.embed_queries(["when will the refund reach my bank card"])[0]
    scores = searcher.dense_key_scores(query)
    assert scores.shape == (len(searcher.index.keys),)
    np.testing.assert_allclose(scores, searcher.index.vectors @ query, rtol=1e-5, atol=1e-6)
    found, ids = searcher.index.faiss_index.search(query.reshape(1, -1), len(scores))
    np.testing.assert_array_equal(scores[ids[0]], found[0])


def test_dense_key_scores_refuse_a_vector_of_another_dimension(searcher):
    import numpy as np

    with pytest.raises(ValueError, match="dimensions"):
        searcher.dense_key_scores(np.ones(searcher.index.faiss_index.d + 1, dtype=np.float32))


@pytest.mark.parametrize("count", [1, 2, 5, 6, 333, 334])
def test_median_matches_numpy(count):
    import numpy as np

    from indexer.retrieval import _median

    rng = np.random.default_rng(count)
    for _ in range(50):
        values = rng.random(count).astype(np.float32)
        assert _median(values) == np.median(values)
