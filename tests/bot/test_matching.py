"""The answer evidence: measured against the KB's own references, and not split by overlapping articles."""

from pathlib import Path

import numpy as np
import pytest
from apphelpers import make_client

from bot.confidence import FEATURES, Calibrator
from bot.matching import Matcher, background_messages, message_lang
from indexer.build import build_from_kb
from indexer.retrieval import HybridSearcher
from indexer.store import load_index

CALIBRATOR = Calibrator("fake-bow-64", (1.0,), 0.0, 0.5)

REFUND = "Refunds reach your bank card within seven working days after the cancellation is confirmed."
OTHER = {
    "delivery": "Delivery to Tehran takes two days and costs thirty thousand toman.",
    "password": "Reset your password from the login page with the code we send by SMS.",
    "warranty": "Every phone has an eighteen month warranty from the official importer.",
    "gift": "Gift cards can be used for any product and never expire.",
}


def _kb(folder: Path, articles: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for aid, body in articles.items():
        (folder / f"{aid}.md").write_text(f"---\nid: {aid}\ntitle: {aid.title()}\nlang: en\n---\n\n{body}\n")
    return folder


def _matcher(tmp_path: Path, embedder, articles: dict[str, str], name: str) -> Matcher:
    build_from_kb(_kb(tmp_path / name / "kb", articles), embedder, tmp_path / name / "idx")
    index = load_index(tmp_path / name / "idx")
    return Matcher(HybridSearcher(index, embedder, dense_weight=0.9), CALIBRATOR)


def test_every_feature_of_the_calibrator_is_computed(tmp_path, fake_embedder):
    matcher = _matcher(tmp_path, fake_embedder, {"refunds": REFUND, **OTHER}, "kb")
    query = "when does my refund reach my bank card"
    hits, features = matcher.evidence(query, fake_embedder.embed_queries([query])[0])
    assert hits[0].article.id == "refunds"
    assert all(set(FEATURES) <= set(f) for f in features)
    assert all(np.isfinite(f[name]) for f in features for name in FEATURES)
    # The right article stands out from the KB's median article, and covers the message's rare words.
    assert features[0]["cos_rel"] > 0 and features[0]["coverage"] > 0.5


def test_an_article_repeating_the_answer_does_not_lower_the_answers_probability(tmp_path, fake_embedder):
    query = "when does my refund reach my bank card"
    vector = fake_embedder.embed_queries([query])[0]
    alone = _matcher(tmp_path, fake_embedder, {"refunds": REFUND, **OTHER}, "alone")
    both = _matcher(tmp_path, fake_embedder, {"refunds": REFUND, "cancelling": REFUND, **OTHER}, "both")
    _, solo = alone.evidence(query, vector)
    hits, shared = both.evidence(query, vector)
    assert {h.article.id for h in hits[:2]} == {"refunds", "cancelling"}
    # The classifier shares its probability between the two articles...
    assert shared[0]["prob"] < solo[0]["prob"]
    # ... and the answer gets it back.
    assert shared[0]["answer_prob"] == pytest.approx(shared[0]["prob"] + shared[1]["prob"])
    assert shared[0]["answer_prob"] >= 0.9 * solo[0]["answer_prob"]


def test_background_reference_is_measured_once_per_language(tmp_path, fake_embedder):
    matcher = _matcher(tmp_path, fake_embedder, {"refunds": REFUND, **OTHER}, "kb")
    null = matcher.null_reference()
    assert set(null.cos) == {"fa", "en"} and set(null.log_prob) == {"fa", "en"}
    assert matcher.null_reference() is null
    texts = background_messages()
    assert len(texts) >= 100
    assert {message_lang(t) for t in texts} == {"fa", "en"}
    # The KB's own passages, read as questions, come this close to other articles.
    assert -1.0 <= null.neighbour <= 1.0


def test_message_language_reads_finglish_as_persian():
    assert message_lang("hazine ersal be shiraz chande?") == "fa"
    assert message_lang("How much is delivery to Shiraz?") == "en"
    assert message_lang("هزینه ارسال چقدر است؟") == "fa"


def test_a_finglish_message_is_answered_in_persian(demo_index, tmp_path):
    with make_client(demo_index, tmp_path) as client:
        body = client.post("/v1/chat", json={"message": "salam, hazine ersal be shiraz chande?"}).json()
        english = client.post("/v1/chat", json={"message": "How much is delivery to Shiraz?"}).json()
    assert body["lang"] == "fa"
    assert english["lang"] == "en"
