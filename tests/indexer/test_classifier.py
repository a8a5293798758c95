import json

import numpy as np
import pytest

from indexer.classifier import OUT_OF_SCOPE, ArticleClassifier
from indexer.embedding import FakeEmbedder


@pytest.fixture
def trained():
    emb = FakeEmbedder()
    texts = [
        "how do I return an item", "send the product back for a refund", "return policy for shoes",
        "delivery time to shiraz", "how long does shipping take", "when will my parcel arrive",
        "reset my password", "forgot password login code", "cannot log in to my account",
        "tell me a joke", "what is the weather", "who won the football match",
    ]  # fmt: skip
    labels = ["returns"] * 3 + ["delivery"] * 3 + ["login"] * 3 + [OUT_OF_SCOPE] * 3
    return ArticleClassifier.train(emb.embed_queries(texts), texts, labels), emb


def test_classifier_probabilities_cover_articles_and_sum_to_one(trained):
    clf, emb = trained
    text = "how long does delivery to shiraz take"
    scores = clf.scores(emb.embed_queries([text])[0], text)
    assert set(scores.probs) == {"returns", "delivery", "login"}
    assert sum(scores.probs.values()) + scores.p_out_of_scope == pytest.approx(1.0, abs=1e-5)
    assert scores.top()[0] == "delivery"


def test_classifier_out_of_scope_examples_take_probability(trained):
    clf, emb = trained
    text = "tell me a joke about the weather"
    assert clf.scores(emb.embed_queries([text])[0], text).p_out_of_scope > 0.5


def test_classifier_novelty_is_the_smallest_mahalanobis_distance(trained):
    clf, emb = trained
    text = "reset password"
    v = emb.embed_queries([text])[0]
    p = clf.params
    dists = [float((v - m) @ p["precision"] @ (v - m)) for m in p["means"]]
    assert clf.scores(v, text).novelty == pytest.approx(min(dists) / len(v), rel=1e-3)


def test_classifier_save_load_round_trip(trained, tmp_path):
    clf, emb = trained
    clf.save(tmp_path / "classifier.npz")
    again = ArticleClassifier.load(tmp_path / "classifier.npz")
    text = "refund for my shoes"
    v = emb.embed_queries([text])[0]
    assert again.scores(v, text) == clf.scores(v, text)


def test_classifier_single_article_kb():
    emb = FakeEmbedder()
    texts = ["only one article here", "its second key"]
    clf = ArticleClassifier.train(emb.embed_queries(texts), texts, ["only", "only"])
    scores = clf.scores(emb.embed_queries(["anything"])[0], "anything")
    assert scores.probs == {"only": pytest.approx(1.0)}
    assert np.isfinite(scores.novelty)


def test_classifier_centres_languages_in_a_bilingual_kb(tmp_path):
    rng = np.random.default_rng(0)
    dim = 16
    # Two languages sit on either side of a shared offset; topics are shared directions.
    offset = {"fa": np.eye(dim)[0] * 3, "en": -np.eye(dim)[0] * 3}
    topic = {"a": np.eye(dim)[1], "b": np.eye(dim)[2]}
    vectors, texts, labels, langs = [], [], [], []
    for lang, art_topic in (("fa", "a"), ("fa", "b"), ("en", "b")):
        for _ in range(6):
            vectors.append(offset[lang] + topic[art_topic] + rng.normal(0, 0.05, dim))
            texts.append(f"{lang} {art_topic}")
            labels.append(f"{lang}-{art_topic}")
            langs.append(lang)
    clf = ArticleClassifier.train(np.array(vectors, np.float32), texts, labels, langs=langs)
    assert clf.lang_names == ("en", "fa")
    # An English message about topic "a", which only a Persian article covers.
    message = (offset["en"] + topic["a"]).astype(np.float32)
    assert clf.scores(message, "english words").top()[0] == "fa-a"
    clf.save(tmp_path / "c.npz")
    assert ArticleClassifier.load(tmp_path / "c.npz").lang_names == ("en", "fa")


def test_classifier_background_is_the_mahalanobis_distance_to_all_keys(trained):
    clf, emb = trained
    text = "reset password"
    v = emb.embed_queries([text])[0]
    p = clf.params
    diff = v - p["bg_mean"]
    assert clf.scores(v, text).background == pytest.approx(float(diff @ p["bg_precision"] @ diff) / len(v), rel=1e-3)


def test_classifier_background_is_larger_far_from_the_kb():
    rng = np.random.default_rng(1)
    dim = 16
    centre = np.eye(dim)[0] * 2
    vectors = centre + rng.normal(0, 0.1, (20, dim))
    labels = ["a"] * 10 + ["b"] * 10
    clf = ArticleClassifier.train(vectors.astype(np.float32), ["x"] * 20, labels)
    near = clf.scores(centre.astype(np.float32), "x").background
    far = clf.scores((-centre).astype(np.float32), "x").background
    assert near < far


def test_classifier_refuses_an_older_format(trained, tmp_path):
    clf, _ = trained
    clf.save(tmp_path / "classifier.npz")
    meta = json.loads((tmp_path / "classifier.json").read_text())
    meta["format"] = 3
    (tmp_path / "classifier.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="rebuild the index"):
        ArticleClassifier.load(tmp_path / "classifier.npz")
