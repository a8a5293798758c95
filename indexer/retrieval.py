"""Hybrid retrieval: dense (FAISS) and lexical (BM25) evidence fused at article level."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from indexer.articles import Article
from indexer.chunking import Section
from indexer.embedding import Embedder
from indexer.readings import is_finglish, readings
from indexer.store import IndexData
from indexer.textnorm import detect_lang

MODES = ("hybrid", "dense", "lexical")
_SAME_LANGUAGE_BONUS = 0.01  # cosine units; about a third of the gap between a right and a near-miss article


@dataclass(frozen=True)
class Hit:
    """One article found for a query, with the section that answers best."""

    article: Article
    section: Section
    score: float
    dense: float
    lexical: float


class HybridSearcher:
    """Searches one loaded index; cheap to build, holds no model of its own."""

    def __init__(self, index: IndexData, embedder: Embedder, *, dense_weight: float = 0.6, depth: int = 50) -> None:
        """Use ``index`` with ``embedder`` (which must be the index's model)."""
        self.index = index
        self._embedder = embedder
        self._dense_weight = dense_weight
        self._depth = depth
        key_article = [k.article_id for k in index.keys]
        self._article_ids = sorted(set(key_article))
        position = {aid: i for i, aid in enumerate(self._article_ids)}
        self._key_article = np.array([position[a] for a in key_article], dtype=np.int64)
        self._section_by_id = {s.id: s for s in index.sections}
        langs = np.array([index.articles[a].lang for a in self._article_ids])
        # Only languages with enough articles get their own centre; a median of two is noise.
        names = sorted(set(langs.tolist()))
        self._lang_groups = [np.flatnonzero(langs == lang) for lang in names if (langs == lang).sum() >= 5]
        self._lang_bonus = {
            lang: np.where(langs == lang, _SAME_LANGUAGE_BONUS, 0.0).astype(np.float32) for lang in names
        }
        self._no_bonus = np.zeros(len(langs), dtype=np.float32)
        self._article_sections: dict[str, list[Section]] = {}
        for section in index.sections:
            self._article_sections.setdefault(section.article_id, []).append(section)
        section_keys: dict[str, list[int]] = {}
        for i, key in enumerate(index.keys):
            if key.kind == "section":
                section_keys.setdefault(key.article_id, []).append(i)
        self._section_keys = {aid: np.array(rows, dtype=np.int64) for aid, rows in section_keys.items()}
        self._key_section_ids = [key.section_id for key in index.keys]
        question = np.array([key.kind == "question" for key in index.keys], dtype=bool)
        # Only a KB with both kinds of keys needs them put on one scale (align_kinds).
        self._question_keys = question if question.any() and not question.all() else None
        flat = index.faiss_index
        # FAISS's own copy of the key vectors (a flat index), read by dense_key_scores.
        self._stored_vectors = (
            flat.get_xb() if hasattr(flat, "get_xb") and getattr(flat, "ntotal", -1) == len(index.keys) else None
        )

    def article_sections(self, article_id: str) -> list[Section]:
        """Return an article's sections in reading order."""
        return self._article_sections.get(article_id, [])

    def _per_article_max(self, key_scores: np.ndarray) -> np.ndarray:
        """Best key score of every article."""
        out = np.full(len(self._article_ids), -np.inf, dtype=np.float32)
        np.maximum.at(out, self._key_article, key_scores)
        return out

    def dense_key_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of the query with every key, via FAISS (exact, all keys)."""
        n = len(self.index.keys)
        scores = np.full(n, -1.0, dtype=np.float32)
        if n == 0:
            return scores
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        flat = self.index.faiss_index
        if query.shape[1] != flat.d:
            raise ValueError(f"query vector has {query.shape[1]} dimensions, the index {flat.d}")
        if n <= 4096 and self._stored_vectors is not None:
            # Every key's inner product, in key order, by FAISS's own kernel over its stored vectors.
            # A search with k = n heap-sorts every key (0.6 ms instead of 0.15 ms for 3,800 keys) and
            # runs an OpenMP team whose spinning thread competes with the query embedding for the other core.
            faiss.fvec_inner_products_ny(
                faiss.swig_ptr(scores), faiss.swig_ptr(query), self._stored_vectors, query.shape[1], n
            )
            return scores
        k = n if n <= 4096 else max(self._depth * 8, 512)
        found, ids = flat.search(query, k)
        valid = ids[0] >= 0
        scores[ids[0][valid]] = found[0][valid]
        return scores

    def align_kinds(self, scores: np.ndarray) -> np.ndarray:
        """Put example-question keys on the passage keys' scale for this query.

        A question embedded as a query resembles any other question in form ("what do I do?",
        first person), so query-to-question cosines run higher than query-to-passage ones: on a KB
        with example questions on some articles, a generic example question outranked the passage
        that answers. The question keys are shifted by half the difference between the two kinds'
        90th-percentile cosines for this query (:data:`KIND_SHIFT`), which keeps the order within
        each kind; the whole difference also took away what a question in another language shares
        with an article's example question. Keys FAISS did not return (-1) are left out of the
        percentiles and left as they are.
        """
        question = self._question_keys
        if question is None:
            return scores
        found = scores > -1.0
        asked, told = scores[question & found], scores[~question & found]
        if not len(asked) or not len(told):
            return scores
        out = scores.copy()
        shift = KIND_SHIFT * (_quantile(asked, KIND_QUANTILE) - _quantile(told, KIND_QUANTILE))
        out[question & found] -= shift
        return out

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        mode: str = "hybrid",
        query_vector: np.ndarray | None = None,
        reading_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Return up to ``k`` articles for ``query``, best first, each with its best section.

        ``reading_vector``: the query embedding of a Finglish query's Persian reading (the last of
        :func:`indexer.readings.readings`), when the caller has it already.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if not self.index.keys or not query.strip():
            return []
        # Finglish and spoken Persian are also searched as written Persian (indexer.readings).
        finglish = is_finglish(query)
        texts = readings(query) if mode != "dense" or finglish else [query]
        if mode != "lexical":
            if query_vector is None:
                query_vector = self._embedder.embed_queries([query])[0]
            dense_keys = self.dense_key_scores(query_vector)
            if finglish and len(texts) > 1:
                # The model reads Finglish poorly; the written-Persian reading finds Persian articles.
                persian_vector = (
                    reading_vector if reading_vector is not None else self._embedder.embed_queries([texts[-1]])[0]
                )
                dense_keys = np.maximum(dense_keys, self.dense_key_scores(persian_vector))
            dense_keys = self.align_kinds(dense_keys)
        else:
            dense_keys = np.zeros(len(self.index.keys), dtype=np.float32)
        if mode != "dense":
            lexical_keys = self.index.lexical.scores(texts[0])
            for text in texts[1:]:
                lexical_keys = np.maximum(lexical_keys, self.index.lexical.scores(text))
        else:
            lexical_keys = np.zeros_like(dense_keys)
        dense = self._per_article_max(dense_keys)
        if mode != "lexical":
            dense = self._centre_languages(dense, "fa" if finglish else detect_lang(query))
        lexical = self._per_article_max(lexical_keys)
        fused = self._fuse(dense, lexical, mode)
        order = np.argsort(-fused, kind="stable")[:k]
        top = float(lexical_keys.max()) if mode != "dense" and len(lexical_keys) else 0.0
        hits = []
        for a in order:
            if mode == "lexical" and lexical[a] <= 0:
                break
            aid = self._article_ids[a]
            section = self._best_section(aid, dense_keys, lexical_keys, mode, top)
            hits.append(Hit(self.index.articles[aid], section, float(fused[a]), float(dense[a]), float(lexical[a])))
        return hits

    def _centre_languages(self, dense: np.ndarray, query_lang: str) -> np.ndarray:
        """Remove the same-language bonus of multilingual embeddings.

        multilingual-e5 rates any article in the query's language higher than an
        on-topic article in another language (an English question about installation
        preferred an English page on contacting support over the Persian page on
        installation). Subtracting each language's median score compares articles by
        how much they stand out within their language; a small bonus keeps the
        customer's language first when both languages answer equally well.
        """
        if len(self._lang_groups) < 2:
            return dense  # one language: a shift changes nothing
        out = dense.copy()
        for group in self._lang_groups:
            out[group] -= _median(dense[group])
        out += self._lang_bonus.get(query_lang, self._no_bonus)
        return out

    def _fuse(self, dense: np.ndarray, lexical: np.ndarray, mode: str) -> np.ndarray:
        """Combine the legs: cosine as is, BM25 scaled by the query's best BM25 score."""
        if mode == "dense":
            return dense
        top = float(lexical.max()) if len(lexical) else 0.0
        lex = lexical / top if top > 0 else np.zeros_like(lexical)
        if mode == "lexical":
            return lex
        # Both legs are rescaled to [0, 1] over the KB for this query (cosine min-max, BM25
        # by its best score) before mixing. On ParsiNLU-RC train/dev this beat raw-cosine
        # mixing, z-scores and reciprocal-rank fusion; the weight was tuned there too
        # (scripts/bench_retrieval.py --tune, docs/benchmarks.md).
        low, high = float(dense.min()), float(dense.max())
        dense01 = (dense - low) / (high - low) if high > low else np.ones_like(dense)
        return self._dense_weight * dense01 + (1.0 - self._dense_weight) * lex

    def _best_section(
        self, article_id: str, dense_keys: np.ndarray, lexical_keys: np.ndarray, mode: str, top: float
    ) -> Section:
        """Return the article's section with the best fused key score (``top``: the query's best BM25 key score).

        The first of equal scores wins. Scores are computed in float64, as scalar arithmetic on the
        float32 key scores would.
        """
        rows = self._section_keys.get(article_id)
        if rows is None:
            return next(s for s in self.index.sections if s.article_id == article_id)
        lex = lexical_keys[rows].astype(np.float64) / top if top > 0 else np.zeros(len(rows))
        if mode == "dense":
            scores = dense_keys[rows].astype(np.float64)
        elif mode == "lexical":
            scores = lex
        else:
            scores = self._dense_weight * dense_keys[rows].astype(np.float64) + (1 - self._dense_weight) * lex
        best = int(rows[int(np.argmax(scores))])
        return self._section_by_id[self._key_section_ids[best]]


KIND_QUANTILE = 0.9
KIND_SHIFT = 0.5
"""How :meth:`HybridSearcher.align_kinds` moves question keys: by ``KIND_SHIFT`` times the difference of
the two kinds' ``KIND_QUANTILE`` cosines. On the support-QA pool's fit sets, mean top-1 is 0.872 without
it, 0.881 with half the 90th-percentile difference, 0.884 with all of it (0.867 at the median); the
whole difference lost cross-lingual matches by example questions, half kept them."""


def _quantile(values: np.ndarray, q: float) -> float:
    """Return the ``q`` quantile as ``np.quantile`` computes it (linear), without sorting everything."""
    position = q * (len(values) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(values) - 1)
    part = np.partition(values, (low, high))
    return float(part[low] + (part[high] - part[low]) * (position - low))


def _median(values: np.ndarray) -> np.floating:
    """Return the median as ``np.median`` computes it (mean of the two middle values for an even count), faster."""
    k = len(values) // 2
    if len(values) % 2:
        return np.partition(values, k)[k]
    return np.partition(values, (k - 1, k))[k - 1 : k + 1].mean()
