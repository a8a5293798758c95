"""Content gaps: the questions the bot could not answer, grouped by meaning across Persian and English.

The caller embeds the questions (query side of the index's model) and passes the vectors in; this
module only does the maths, so the API, the CLI and the benchmark share one code path.

Why centring per language: multilingual-e5 vectors share a large common component, and each
language adds its own offset, so raw cosines of unrelated questions are high (about 0.8) and a
Persian and an English question on the same topic score lower than two Persian questions on
different topics. Every question is therefore centred on a mean for its own language before the
cosine. That mean blends the questions' own language mean (which adapts to whatever customers
actually ask, including chatter far from the KB) with a fixed reference, ``center``: the
per-language means of the KB's example questions (:func:`language_centres`), which keep a
handful of questions on one topic from being pushed apart by their own mean. One centre for both
languages, or none, does much worse; ``scripts/bench_gaps.py`` has the measurements.

Clustering is average-linkage agglomerative clustering over cosine distance, cut at a fixed
distance: no chaining through intermediate questions, no number of clusters to guess, and the
same input gives the same clusters in any order (distinct texts are sorted before clustering).

Known limit of the small e5 model: short colloquial Persian questions («... دارید؟», «می‌خوام ...»)
look alike whatever they ask about, so such a question now and then joins another topic's
cluster, and a topic asked in very different words can come out as two clusters (each usually
still bilingual).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from indexer.textnorm import normalize

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.87
"""Average cosine distance (after centring) up to which questions share a cluster.

Tuned with ``scripts/bench_gaps.py`` on a self-written set of ten topics the demo KB lacks (each
asked 3-4 ways in Persian and 2-3 in English) and on 30 CLINC150 dev intents. Lower keeps
distinct CLINC intents apart better but splits more gap topics; higher keeps more topics whole
when asked alone but merges sibling intents (0.88: CLINC purity 0.60, 0.90: 0.49).
"""

PRIOR_WEIGHT = 80.0
"""How many questions' worth of weight the reference centre has against the questions' own mean.

With fewer questions of a language than this, the KB reference dominates; with many more, the
questions' own mean does.
"""

MIN_OWN_CENTRE = 5
"""Without ``center``, a language is centred on its own mean only from this many distinct questions."""

MAX_CLUSTERED = 3000
"""Distinct texts clustered in one go (the distance matrix is quadratic); more are done in parts."""

CenterLike = np.ndarray | Mapping[str, np.ndarray]


@dataclass(frozen=True)
class GapQuestion:
    """A customer question the bot did not answer well."""

    text: str
    lang: str
    at: datetime
    session_id: str
    confidence: float = 0.0
    reason: str | None = None


@dataclass(frozen=True)
class NearestArticle:
    """The existing article closest to a gap cluster: the page to extend, or proof that none fits."""

    article_id: str
    title: str
    score: float

    def to_json(self) -> dict[str, object]:
        """Return the article as in the ``nearest_article`` field of a gap."""
        return {"article_id": self.article_id, "title": self.title, "score": round(float(self.score), 3)}


@dataclass(frozen=True)
class GapCluster:
    """Unanswered questions on one topic, in any language."""

    size: int
    examples: tuple[str, ...]
    langs: dict[str, int]
    nearest_article: NearestArticle | None
    first_seen: datetime
    last_seen: datetime
    sessions: int

    def to_json(self) -> dict[str, object]:
        """Return the cluster as one entry of the ``gaps`` list of ``GET /v1/analytics``."""
        return {
            "size": self.size,
            "examples": list(self.examples),
            "langs": dict(self.langs),
            "nearest_article": self.nearest_article.to_json() if self.nearest_article else None,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "sessions": self.sessions,
        }


def language_centres(vectors: np.ndarray, langs: Sequence[str], *, min_count: int = 5) -> dict[str, np.ndarray]:
    """Return the mean vector of each language with at least ``min_count`` rows, for ``center``.

    Pass the query-side vectors of the KB (its example-question keys): they are what a question
    in that language typically looks like to the model.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(langs):
        raise ValueError(f"vectors must be a ({len(langs)}, dim) array, one row per language tag; got {vectors.shape}")
    arr = np.asarray(list(langs))
    return {
        str(lang): vectors[arr == lang].mean(axis=0)
        for lang in sorted(set(arr.tolist()))
        if int((arr == lang).sum()) >= min_count
    }


def find_gaps(
    questions: Sequence[GapQuestion],
    vectors: np.ndarray,
    *,
    nearest: Callable[[np.ndarray], NearestArticle | None] | None = None,
    center: CenterLike | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    max_examples: int = 5,
    min_size: int = 1,
) -> list[GapCluster]:
    """Cluster ``questions`` by meaning and return the clusters, largest first (then most recent).

    ``vectors[i]`` is the query embedding of ``questions[i]``. ``center`` is the reference mean to
    centre on: one vector for every language, or a mapping from language to vector (see
    :func:`language_centres`); without it the questions are centred on their own means, which
    needs a few dozen questions to work well. Questions with the same normalised text count
    separately in ``size`` but are one example. ``nearest`` (optional) is called once per kept
    cluster with its mean question vector (not centred, unit length). Clusters smaller than
    ``min_size`` questions are left out.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(questions):
        raise ValueError(
            f"vectors must have one row per question: {len(questions)} questions, vectors of shape {vectors.shape}"
        )
    if not 0.0 < threshold <= 2.0:
        raise ValueError(f"threshold is a cosine distance in (0, 2], not {threshold}")
    if max_examples < 1 or min_size < 1:
        raise ValueError(f"max_examples and min_size must be at least 1, not {max_examples} and {min_size}")
    if not questions:
        return []

    groups = _group_identical(questions)
    unit = _unit(np.stack([vectors[members].mean(axis=0) for members in groups]))
    group_langs = [questions[members[0]].lang for members in groups]
    centred = _centre(unit, group_langs, center)
    labels = _cluster(centred, threshold)

    clusters = []
    for label in sorted(set(labels.tolist())):
        chosen = [g for g in range(len(groups)) if labels[g] == label]
        members = [i for g in chosen for i in groups[g]]
        if len(members) < min_size:
            continue
        clusters.append(_summarise(questions, vectors, groups, chosen, centred, nearest, max_examples))
    clusters.sort(key=lambda c: (-c.size, -c.last_seen.timestamp(), c.examples))
    logger.debug("gaps: %d questions, %d distinct, %d clusters kept", len(questions), len(groups), len(clusters))
    return clusters


def _group_identical(questions: Sequence[GapQuestion]) -> list[list[int]]:
    """Group question indices by normalised text, most asked first, then by text: input order never matters."""
    by_text: dict[str, list[int]] = {}
    for i, question in enumerate(questions):
        by_text.setdefault(normalize(question.text) or question.text.strip(), []).append(i)
    return [by_text[key] for key in sorted(by_text, key=lambda key: (-len(by_text[key]), key))]


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length; a zero row stays zero (it is then equally far from everything)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _centre(unit: np.ndarray, langs: list[str], center: CenterLike | None) -> np.ndarray:
    """Centre every row on its language's blended mean (see the module docstring) and re-normalise."""
    arr = np.asarray(langs)
    overall = unit.mean(axis=0)
    if isinstance(center, Mapping) and not center:
        center = None  # e.g. language_centres() of a KB without example questions
    out = unit.copy()
    for lang in sorted(set(langs)):
        rows = arr == lang
        count = float(rows.sum())
        own = unit[rows].sum(axis=0)
        if center is None:
            # No reference: a language's own mean once it has a few questions, else the mean of all.
            out[rows] -= own / count if count >= MIN_OWN_CENTRE else overall
            continue
        prior = _prior(center, lang, unit.shape[1])
        out[rows] -= (own + PRIOR_WEIGHT * prior) / (count + PRIOR_WEIGHT)
    return _unit(out)


def _prior(center: CenterLike, lang: str, dim: int) -> np.ndarray:
    """Return the caller's reference centre for ``lang`` (for a language it lacks, the mean of its centres)."""
    if isinstance(center, Mapping):
        if lang in center:
            vector = np.asarray(center[lang], dtype=np.float32)
        else:
            vector = np.mean([np.asarray(v, dtype=np.float32) for v in center.values()], axis=0)
    else:
        vector = np.asarray(center, dtype=np.float32)
    if vector.shape != (dim,):
        raise ValueError(f"center must be a vector of length {dim} (the embedding dimension), not {vector.shape}")
    return vector


def _cluster(centred: np.ndarray, threshold: float) -> np.ndarray:
    """Return a cluster label (from 1) per row: average linkage over cosine distance, cut at ``threshold``.

    Past :data:`MAX_CLUSTERED` rows (memory is quadratic), the first rows (the most asked) are
    clustered exactly, the rest the same way among themselves, and then each cluster of the rest
    joins the first-part cluster at the smallest average distance if that is within ``threshold``.
    """
    n = len(centred)
    if n == 1:
        return np.ones(1, dtype=np.int64)
    if n <= MAX_CLUSTERED:
        return _linkage_labels(centred, threshold)
    logger.info("gaps: %d distinct questions; clustering them in parts of %d", n, MAX_CLUSTERED)
    head = _linkage_labels(centred[:MAX_CLUSTERED], threshold)
    rest = _cluster(centred[MAX_CLUSTERED:], threshold)
    head_ids, rest_ids = np.unique(head), np.unique(rest)
    # Un-normalised means: their dot product is the average cosine between the members, as in the linkage.
    head_means = np.stack([centred[:MAX_CLUSTERED][head == i].mean(axis=0) for i in head_ids])
    rest_means = np.stack([centred[MAX_CLUSTERED:][rest == i].mean(axis=0) for i in rest_ids])
    sims = rest_means @ head_means.T
    best = sims.argmax(axis=1)
    joined = 1.0 - sims[np.arange(len(rest_ids)), best] <= threshold
    mapping = np.where(joined, head_ids[best], rest_ids + head_ids.max())
    return np.concatenate([head, mapping[np.searchsorted(rest_ids, rest)]])


def _linkage_labels(centred: np.ndarray, threshold: float) -> np.ndarray:
    """Average-linkage labels (from 1) of at least two rows."""
    from scipy.cluster.hierarchy import fcluster, linkage  # noqa: PLC0415 - keep `import bot.gaps` cheap
    from scipy.spatial.distance import squareform  # noqa: PLC0415

    rows = centred.astype(np.float64)
    distances = np.clip(1.0 - rows @ rows.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    return fcluster(tree, t=threshold, criterion="distance").astype(np.int64)


def _summarise(
    questions: Sequence[GapQuestion],
    vectors: np.ndarray,
    groups: list[list[int]],
    chosen: list[int],
    centred: np.ndarray,
    nearest: Callable[[np.ndarray], NearestArticle | None] | None,
    max_examples: int,
) -> GapCluster:
    """Build one cluster from its distinct texts (``chosen`` indexes ``groups``)."""
    members = [i for g in chosen for i in groups[g]]
    weights = np.array([len(groups[g]) for g in chosen], dtype=np.float32)
    middle = _unit((centred[chosen] * weights[:, None]).sum(axis=0, keepdims=True))[0]
    closeness = centred[chosen] @ middle
    # Most central first; among equals the more often asked, then the text, so ties are stable.
    order = sorted(range(len(chosen)), key=lambda k: (-round(float(closeness[k]), 6), -weights[k], groups[chosen[k]]))
    shown = [_display_text(questions, groups[chosen[k]]) for k in order]
    shown_langs = [questions[groups[chosen[k]][0]].lang for k in order]
    examples = _pick_examples(shown, shown_langs, max_examples)

    langs = Counter(questions[i].lang for i in members)
    mean = _unit(vectors[members].mean(axis=0, keepdims=True))[0]
    times = [questions[i].at for i in members]
    return GapCluster(
        size=len(members),
        examples=tuple(examples),
        langs=dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
        nearest_article=nearest(mean) if nearest is not None else None,
        first_seen=min(times),
        last_seen=max(times),
        sessions=len({questions[i].session_id for i in members}),
    )


def _display_text(questions: Sequence[GapQuestion], members: list[int]) -> str:
    """Return how a group of identical questions is shown: the latest wording, stripped."""
    latest = max(members, key=lambda i: (questions[i].at, -i))
    return " ".join(questions[latest].text.split())


def _pick_examples(texts: list[str], langs: list[str], limit: int) -> list[str]:
    """Take the first ``limit`` texts, swapping in the best of each missing language at the end."""
    picked = list(range(min(limit, len(texts))))
    missing = [lang for lang in dict.fromkeys(langs) if lang not in {langs[k] for k in picked}]
    for lang in missing:
        counts = Counter(langs[k] for k in picked)
        # Replace the least central example of a language that still keeps another example.
        spare = [k for k in reversed(picked) if counts[langs[k]] > 1]
        if not spare:
            break
        picked.remove(spare[0])
        picked.append(langs.index(lang))
    return [texts[k] for k in sorted(picked)]
