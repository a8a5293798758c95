import json
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from conftest import DEMO_KB
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import gaps
from bot.gaps import GapCluster, GapQuestion, NearestArticle, find_gaps, language_centres
from indexer.articles import load_kb

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
DIM = 32


def _direction(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM)
    return vector / np.linalg.norm(vector)


COMMON = _direction(1)  # what every e5 query vector shares
LANG_OFFSET = {"fa": _direction(2), "en": _direction(3)}


def _vector(topic: int, lang: str, variant: int) -> np.ndarray:
    """A question vector: mostly shared and language parts, a smaller topic part, a little noise."""
    noise = np.random.default_rng(1000 + 97 * topic + variant + (500 if lang == "en" else 0)).normal(size=DIM)
    vector = 3.0 * COMMON + 1.5 * LANG_OFFSET[lang] + 1.0 * _direction(100 + topic) + 0.15 * noise
    return (vector / np.linalg.norm(vector)).astype(np.float32)


# What the API passes: per-language means of a KB's questions (here 40 other topics).
CENTER = language_centres(
    np.stack([_vector(topic, lang, 0) for topic in range(50, 90) for lang in ("fa", "en")]),
    [lang for _ in range(50, 90) for lang in ("fa", "en")],
)


def _question(text: str, lang: str = "en", minutes: int = 0, session: str = "s1") -> GapQuestion:
    return GapQuestion(text=text, lang=lang, at=T0 + timedelta(minutes=minutes), session_id=session)


def _topic_set(spec: list[tuple[int, str, str]]) -> tuple[list[GapQuestion], np.ndarray]:
    """Questions from (topic, lang, text) triples, one minute apart, each in its own session."""
    questions = [_question(text, lang, minutes=i, session=f"s{i}") for i, (_, lang, text) in enumerate(spec)]
    vectors = np.stack([_vector(topic, lang, i) for i, (topic, lang, _) in enumerate(spec)])
    return questions, vectors


TWO_TOPICS = [
    (1, "fa", "کادوپیچ دارید؟"),
    (1, "fa", "امکان بسته‌بندی هدیه هست؟"),
    (1, "en", "Do you gift wrap?"),
    (1, "en", "Can you wrap it as a present?"),
    (2, "fa", "با بیت‌کوین می‌شود پرداخت کرد؟"),
    (2, "en", "Do you accept crypto?"),
    (2, "en", "Can I pay with bitcoin?"),
]


def _members(cluster: GapCluster, spec: list[tuple[int, str, str]]) -> set[int]:
    """Topics of the texts shown as a cluster's examples."""
    topic_of = {text: topic for topic, _, text in spec}
    return {topic_of[text] for text in cluster.examples}


def test_find_gaps_empty_input_returns_no_clusters():
    assert find_gaps([], np.zeros((0, DIM), np.float32)) == []


def test_find_gaps_single_question_is_one_cluster():
    question = _question("Do you gift wrap?", session="abc")
    clusters = find_gaps([question], _vector(1, "en", 0)[None, :], center=CENTER)
    assert len(clusters) == 1
    only = clusters[0]
    assert (only.size, only.examples, only.langs, only.sessions) == (1, ("Do you gift wrap?",), {"en": 1}, 1)
    assert only.first_seen == only.last_seen == question.at
    assert only.nearest_article is None


def test_find_gaps_topics_across_languages_form_one_cluster_each():
    questions, vectors = _topic_set(TWO_TOPICS)
    clusters = find_gaps(questions, vectors, center=CENTER)
    assert [_members(c, TWO_TOPICS) for c in clusters] == [{1}, {2}]
    assert clusters[0].langs == {"en": 2, "fa": 2}
    assert clusters[1].langs == {"en": 2, "fa": 1}


def test_find_gaps_without_centring_merges_everything_sharing_the_common_component():
    # The reason for centring: raw cosines of these unrelated questions are all high.
    questions, vectors = _topic_set(TWO_TOPICS)
    zero = {lang: np.zeros(DIM, np.float32) for lang in LANG_OFFSET}
    assert len(find_gaps(questions, vectors, center=zero)) == 1
    assert len(find_gaps(questions, vectors, center=CENTER)) == 2


def test_find_gaps_single_centre_vector_is_accepted():
    english = [row for row in TWO_TOPICS if row[1] == "en"]
    questions, vectors = _topic_set(english)
    clusters = find_gaps(questions, vectors, center=CENTER["en"])
    assert sorted(tuple(_members(c, english)) for c in clusters) == [(1,), (2,)]


def test_find_gaps_without_center_uses_own_means_when_there_are_many_questions():
    spec = [
        (topic, lang, f"{lang} question {topic}-{k}") for topic in range(6) for lang in ("fa", "en") for k in range(5)
    ]
    questions, vectors = _topic_set(spec)
    clusters = find_gaps(questions, vectors)
    assert sorted(tuple(_members(c, spec)) for c in clusters) == [(t,) for t in range(6)]


def test_find_gaps_empty_centre_mapping_means_no_reference():
    spec = [
        (topic, lang, f"{lang} question {topic}-{k}") for topic in range(3) for lang in ("fa", "en") for k in range(5)
    ]
    questions, vectors = _topic_set(spec)
    assert find_gaps(questions, vectors, center={}) == find_gaps(questions, vectors)


def test_find_gaps_sorts_by_size_then_most_recent():
    spec = [
        (1, "en", "wrap a"),
        (1, "en", "wrap b"),
        (2, "en", "crypto a"),
        (3, "en", "jobs a"),
        (3, "en", "jobs b"),
        (3, "en", "jobs c"),
    ]
    questions, vectors = _topic_set(spec)
    # topic 2 is a single question but asked last; topic 1 and 2 sizes differ, so size wins first
    clusters = find_gaps(questions, vectors, center=CENTER)
    assert [c.size for c in clusters] == [3, 2, 1]
    tied = [(1, "en", "wrap a"), (2, "en", "crypto a"), (1, "en", "wrap b"), (2, "en", "crypto b")]
    questions, vectors = _topic_set(tied)
    clusters = find_gaps(questions, vectors, center=CENTER)
    assert [c.size for c in clusters] == [2, 2]
    assert clusters[0].last_seen > clusters[1].last_seen
    assert _members(clusters[0], tied) == {2}


def test_find_gaps_identical_questions_count_in_size_but_show_once():
    texts = ["Do you gift wrap?", "do you  GIFT wrap?", "Do you gift wrap?", "Can you wrap it as a present?"]
    questions = [_question(t, minutes=i, session=f"s{i % 2}") for i, t in enumerate(texts)]
    vectors = np.stack([_vector(1, "en", 0)] * 3 + [_vector(1, "en", 1)])
    clusters = find_gaps(questions, vectors, center=CENTER)
    assert len(clusters) == 1
    assert clusters[0].size == 4
    assert clusters[0].sessions == 2
    assert len(clusters[0].examples) == 2
    # the latest wording of the repeated question is shown
    assert "Do you gift wrap?" in clusters[0].examples


def test_find_gaps_persian_spelling_variants_are_one_example():
    texts = ["كادوپيچ داريد؟", "کادوپیچ دارید؟", "کادو پیچ دارید ؟"]
    questions = [_question(t, lang="fa", minutes=i) for i, t in enumerate(texts)]
    vectors = np.stack([_vector(1, "fa", 0)] * len(texts))
    clusters = find_gaps(questions, vectors, center=CENTER)
    assert clusters[0].size == 3
    assert len(clusters[0].examples) < 3


def test_find_gaps_examples_most_central_first():
    spec = [(1, "en", f"wrap {k}") for k in range(4)]
    questions, vectors = _topic_set(spec)
    outlier = vectors[0] + 0.4 * _direction(77)
    vectors[0] = outlier / np.linalg.norm(outlier)
    clusters = find_gaps(questions, vectors, center=CENTER, threshold=1.5)
    assert len(clusters) == 1
    assert clusters[0].examples[-1] == "wrap 0"


def test_find_gaps_examples_include_both_languages_when_limited():
    spec = [(1, "en", f"wrap {k}") for k in range(5)] + [(1, "fa", "کادوپیچ دارید؟")]
    questions, vectors = _topic_set(spec)
    # push the Persian question to the edge of the cluster so it would not make the top two
    edge = vectors[-1] + 0.3 * _direction(78)
    vectors[-1] = edge / np.linalg.norm(edge)
    clusters = find_gaps(questions, vectors, center=CENTER, threshold=1.5, max_examples=2)
    assert len(clusters) == 1
    examples = clusters[0].examples
    assert len(examples) == 2
    assert "کادوپیچ دارید؟" in examples
    assert len(set(examples)) == 2


def test_find_gaps_min_size_drops_small_clusters():
    questions, vectors = _topic_set(TWO_TOPICS)
    clusters = find_gaps(questions, vectors, center=CENTER, min_size=4)
    assert [c.size for c in clusters] == [4]
    assert find_gaps(questions, vectors, center=CENTER, min_size=99) == []


def test_find_gaps_nearest_called_with_uncentred_unit_mean():
    questions, vectors = _topic_set(TWO_TOPICS)
    seen: list[np.ndarray] = []

    def nearest(vector: np.ndarray) -> NearestArticle | None:
        seen.append(vector)
        return NearestArticle(f"article-{len(seen) - 1}", "روش‌های پرداخت", 0.41)

    clusters = find_gaps(questions, vectors, center=CENTER, nearest=nearest)
    assert len(seen) == len(clusters) == 2
    by_topic = {1: vectors[:4], 2: vectors[4:]}
    expected = {topic: rows.mean(axis=0) / np.linalg.norm(rows.mean(axis=0)) for topic, rows in by_topic.items()}
    for cluster in clusters:
        (topic,) = _members(cluster, TWO_TOPICS)
        vector = seen[int(cluster.nearest_article.article_id.split("-")[1])]
        np.testing.assert_allclose(vector, expected[topic], atol=1e-5)


def test_find_gaps_nearest_returning_none_leaves_no_article():
    questions, vectors = _topic_set(TWO_TOPICS)
    clusters = find_gaps(questions, vectors, center=CENTER, nearest=lambda vector: None)
    assert all(c.nearest_article is None for c in clusters)


def test_find_gaps_nearest_not_called_for_dropped_clusters():
    questions, vectors = _topic_set(TWO_TOPICS)
    calls = []
    find_gaps(questions, vectors, center=CENTER, min_size=4, nearest=lambda v: calls.append(v))
    assert len(calls) == 1


def test_find_gaps_result_does_not_depend_on_input_order():
    questions, vectors = _topic_set(TWO_TOPICS * 2)
    order = list(range(len(questions)))
    random.Random(5).shuffle(order)
    first = find_gaps(questions, vectors, center=CENTER)
    second = find_gaps([questions[i] for i in order], vectors[order], center=CENTER)
    assert first == second


def test_find_gaps_time_span_and_sessions():
    questions, vectors = _topic_set(TWO_TOPICS)
    questions[1] = GapQuestion(questions[1].text, "fa", T0 - timedelta(days=3), questions[0].session_id)
    clusters = find_gaps(questions, vectors, center=CENTER)
    gift = next(c for c in clusters if _members(c, TWO_TOPICS) == {1})
    assert gift.first_seen == T0 - timedelta(days=3)
    assert gift.last_seen == questions[3].at
    assert gift.sessions == 3


def test_gap_cluster_to_json_matches_analytics_shape():
    cluster = GapCluster(
        size=4,
        examples=("Do you gift wrap?", "کادوپیچ دارید؟"),
        langs={"fa": 2, "en": 2},
        nearest_article=NearestArticle("fa-gift-cards-and-discounts", "کارت هدیه و کد تخفیف", 0.41237),
        first_seen=T0,
        last_seen=T0 + timedelta(hours=2),
        sessions=3,
    )
    data = cluster.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert set(data) >= {"size", "examples", "langs", "nearest_article", "first_seen", "last_seen"}
    assert data["size"] == 4
    assert data["examples"] == ["Do you gift wrap?", "کادوپیچ دارید؟"]
    assert data["langs"] == {"fa": 2, "en": 2}
    assert data["nearest_article"] == {
        "article_id": "fa-gift-cards-and-discounts",
        "title": "کارت هدیه و کد تخفیف",
        "score": 0.412,
    }
    assert datetime.fromisoformat(data["first_seen"]) == T0
    assert datetime.fromisoformat(data["last_seen"]) == T0 + timedelta(hours=2)
    assert data["sessions"] == 3


def test_gap_cluster_to_json_without_nearest_article_is_null():
    cluster = GapCluster(1, ("x",), {"en": 1}, None, T0, T0, 1)
    assert cluster.to_json()["nearest_article"] is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vectors": np.zeros((2, DIM), np.float32)}, "one row per question"),
        ({"vectors": np.zeros(DIM, np.float32)}, "one row per question"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": 2.5}, "threshold"),
        ({"max_examples": 0}, "max_examples"),
        ({"min_size": 0}, "min_size"),
        ({"center": np.zeros(DIM + 1, np.float32)}, "embedding dimension"),
    ],
)
def test_find_gaps_rejects_bad_arguments(kwargs, message):
    arguments = {"vectors": _vector(1, "en", 0)[None, :], **kwargs}
    with pytest.raises(ValueError, match=message):
        find_gaps([_question("Do you gift wrap?")], **arguments)


def test_find_gaps_beyond_max_clustered_joins_nearest_cluster(monkeypatch):
    spec = [(topic, "en", f"q {topic}-{k}") for topic in range(3) for k in range(6)]
    questions, vectors = _topic_set(spec)
    exact = find_gaps(questions, vectors, center=CENTER)
    monkeypatch.setattr(gaps, "MAX_CLUSTERED", 9)
    capped = find_gaps(questions, vectors, center=CENTER)
    assert sorted(c.size for c in capped) == sorted(c.size for c in exact) == [6, 6, 6]
    assert [set(_members(c, spec)) for c in capped] == [set(_members(c, spec)) for c in exact]


def test_language_centres_skips_rare_languages():
    vectors = np.stack([_vector(1, "fa", k) for k in range(5)] + [_vector(1, "en", 0)])
    centres = language_centres(vectors, ["fa"] * 5 + ["en"])
    assert set(centres) == {"fa"}
    np.testing.assert_allclose(centres["fa"], vectors[:5].mean(axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="one row per language"):
        language_centres(vectors, ["fa"])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["fa", "en"]), st.integers(0, 3)), min_size=1, max_size=25),
    st.floats(0.05, 2.0),
)
def test_find_gaps_every_question_lands_in_exactly_one_cluster(rows, threshold):
    questions = [_question(f"{lang} topic {topic} v{v}", lang, minutes=i) for i, (topic, lang, v) in enumerate(rows)]
    vectors = np.stack([_vector(topic, lang, v) for topic, lang, v in rows])
    clusters = find_gaps(questions, vectors, center=CENTER, threshold=threshold, max_examples=100)
    assert sum(c.size for c in clusters) == len(questions)
    assert all(sum(c.langs.values()) == c.size for c in clusters)
    shown = [text for c in clusters for text in c.examples]
    assert sorted(shown) == sorted({q.text for q in questions})
    assert [c.size for c in clusters] == sorted((c.size for c in clusters), reverse=True)


# Phrasings not in tests/bot/gap_topics.json (the tuning set): the KB has no article on either topic.
GIFT_WRAP = [
    ("fa", "سفارشم رو با کاغذ کادو بسته‌بندی می‌کنید؟"),
    ("fa", "برای هدیه دادن، امکان کادو کردن کالا قبل از ارسال هست؟"),
    ("en", "Could you gift-wrap the items before shipping?"),
    ("en", "I'd like my package wrapped in gift paper for a birthday"),
]
JOBS = [
    ("fa", "چطور می‌تونم تو بازارچه مشغول به کار بشم؟"),
    ("fa", "آیا موقعیت شغلی خالی برای برنامه‌نویس دارید؟"),
    ("en", "Do you have any open positions? I'd like to work for you"),
    ("en", "What is the hiring process at your company?"),
]


@pytest.fixture(scope="module")
def kb_centres(real_embedder):
    """Per-language means of the demo KB's example questions, as the API computes them."""
    pairs = [(q, a.lang) for a in load_kb(DEMO_KB).articles for q in a.questions]
    return language_centres(real_embedder.embed_queries([q for q, _ in pairs]), [lang for _, lang in pairs])


@pytest.mark.integration
def test_find_gaps_real_model_missing_topic_in_both_languages_is_one_cluster(real_embedder, kb_centres):
    questions = [_question(text, lang, minutes=i) for i, (lang, text) in enumerate(GIFT_WRAP)]
    clusters = find_gaps(questions, real_embedder.embed_queries([q.text for q in questions]), center=kb_centres)
    assert len(clusters) == 1
    assert clusters[0].langs == {"en": 2, "fa": 2}


@pytest.mark.integration
def test_find_gaps_real_model_two_missing_topics_stay_apart(real_embedder, kb_centres):
    rows = [("gift", lang, text) for lang, text in GIFT_WRAP] + [("jobs", lang, text) for lang, text in JOBS]
    questions = [_question(text, lang, minutes=i) for i, (_, lang, text) in enumerate(rows)]
    clusters = find_gaps(questions, real_embedder.embed_queries([q.text for q in questions]), center=kb_centres)
    topic_of = {text: topic for topic, _, text in rows}
    assert sorted(tuple(sorted({topic_of[t] for t in c.examples})) for c in clusters) == [("gift",), ("jobs",)]
    assert all(c.langs == {"en": 2, "fa": 2} for c in clusters)
