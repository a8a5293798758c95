"""Related articles: what a customer who asked about one article is likely to need next.

With no conversation logs to learn "next question" statistics from yet, the prediction uses the
KB itself: an article's neighbours are the articles whose keys (sections and example questions)
lie closest to its own in embedding space — a delivery-time question leads to express delivery
and free-shipping rules, a returns question to refund timing. Neighbours in the customer's
language come first; the articles already given as sources are never repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.store import IndexData


@dataclass(frozen=True)
class RelatedArticle:
    """A suggestion shown under the reply."""

    article_id: str
    title: str

    def to_json(self) -> dict[str, str]:
        """Return the suggestion as in the ``related`` field of ``POST /v1/chat``."""
        return {"article_id": self.article_id, "title": self.title}


class RelatedArticles:
    """Precomputed article-to-article neighbours of one index."""

    def __init__(self, index: IndexData, *, per_article: int = 8) -> None:
        """Compute every article's nearest articles by the mean of its key vectors."""
        self._index = index
        ids = sorted(index.articles)
        position = {aid: i for i, aid in enumerate(ids)}
        dim = index.vectors.shape[1] if index.vectors.ndim == 2 else 0
        centroids = np.zeros((len(ids), dim), dtype=np.float32)
        counts = np.zeros(len(ids), dtype=np.float32)
        for key, vec in zip(index.keys, index.vectors, strict=True):
            centroids[position[key.article_id]] += vec
            counts[position[key.article_id]] += 1
        centroids /= np.maximum(counts, 1)[:, None]
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        centroids /= np.where(norms > 0, norms, 1)
        sims = centroids @ centroids.T if len(ids) else np.zeros((0, 0))
        np.fill_diagonal(sims, -np.inf)
        self._neighbours = {
            aid: [ids[j] for j in np.argsort(-sims[i], kind="stable")[:per_article]] for i, aid in enumerate(ids)
        }

    def for_answer(self, source_ids: list[str], candidates: list[str], lang: str, k: int = 3) -> list[RelatedArticle]:
        """Return up to ``k`` articles to suggest after answering from ``source_ids``.

        ``candidates`` are other retrieval results for the message (used when nothing was answered,
        and after the neighbours otherwise).
        """
        seen = set(source_ids)
        pool: list[str] = []
        for aid in source_ids[:1]:
            pool.extend(self._neighbours.get(aid, []))
        pool.extend(candidates)
        ordered = [a for a in pool if a in self._index.articles]
        same = [a for a in ordered if self._index.articles[a].lang == lang]
        other = [a for a in ordered if self._index.articles[a].lang != lang]
        out: list[RelatedArticle] = []
        for aid in same + other:
            if aid in seen:
                continue
            seen.add(aid)
            out.append(RelatedArticle(aid, self._index.articles[aid].title))
            if len(out) == k:
                break
        return out
