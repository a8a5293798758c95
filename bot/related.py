"""Related articles: the chips under an answer, for what the customer is likely to want to read next.

A chip must hold on any help centre, not only on the demo KB, so three rules shape it:

* **About this answer.** The articles offered are those closest to what the reply quoted: the cited
  section and the cited article both count, so two answers from different parts of one article (its
  table of delivery prices, its paragraph on heavy goods) lead to different chips. Articles the
  retrieval also found for the customer's words come first among those that qualify.
* **Related, not merely nearest.** An article is offered only when it is closer to the answer than
  :data:`RELATED_QUANTILE` of the KB's own article pairs are to each other (measured per pair of
  languages when the index is loaded). The bar is the KB's, not the model's: it holds for a model
  whose cosines are all above 0.7 and for one whose cosines sit around 0, and an answer whose
  article has no close neighbour (a returns policy among shipping pages) gets no chip rather than
  the least unrelated page.
* **Readable by this customer.** Only articles in the reply's language (a chip is sent as the
  customer's next message: its title), never an article the reply already cites, and nothing under
  a reply that cites nothing: a greeting, a handoff notice, "I could not find that".

The vectors are the index's own key vectors (sections, units, example questions), with each
language's mean key vector removed first: a multilingual encoder puts every text of a language in
a narrow cone whose shared direction, not the topic, dominates an average of many keys. What is left
is what an article says that the others do not, which is also what lets a Persian answer be
compared with English articles (the two languages' cones no longer sit apart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from indexer.store import IndexData

# An article is related to an answer when it is closer to it than this share of the KB's article
# pairs are to each other. Looked at on 14 answers of the demo KB (multilingual-e5-small): at 0.75
# nearly every answer fills all three chips, a delivery price also offering support hours and order
# tracking; at 0.95 the English password and Persian warranty answers get none; 0.9 gives 1.9 chips
# per answer, each on the answer's subject.
RELATED_QUANTILE = 0.9
# Articles per language sampled to measure the bar on a very large KB (the pairs grow as n²).
_SAMPLE_ARTICLES = 2000


class CitedSection(Protocol):
    """What a reply cites: an article and the label of the section quoted (as ``Source`` has them)."""

    article_id: str
    section: str


@dataclass(frozen=True)
class RelatedArticle:
    """A suggestion shown under the reply."""

    article_id: str
    title: str

    def to_json(self) -> dict[str, str]:
        """Return the suggestion as in the ``related`` field of ``POST /v1/chat``."""
        return {"article_id": self.article_id, "title": self.title}


class RelatedArticles:
    """Chips for the answers given from one index: its article and section vectors and its bar."""

    def __init__(self, index: IndexData) -> None:
        """Compute every article's centred vector and the key rows of every cited-section label."""
        self._index = index
        self._ids = sorted(index.articles)
        position = {aid: i for i, aid in enumerate(self._ids)}
        self._position = position
        self._langs = np.array([index.articles[a].lang for a in self._ids], dtype=object)
        vectors = np.asarray(index.vectors, dtype=np.float32)
        rows = [(r, position[key.article_id]) for r, key in enumerate(index.keys) if key.article_id in position]
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        self._centred = np.zeros((len(index.keys), dim), dtype=np.float32)
        self._articles = np.zeros((len(self._ids), dim), dtype=np.float32)
        if rows and dim:
            key_rows = np.array([r for r, _ in rows])
            key_article = np.array([a for _, a in rows])
            key_lang = self._langs[key_article]
            centred = vectors[key_rows].copy()
            for lang in set(key_lang):
                same = key_lang == lang
                centred[same] -= centred[same].mean(axis=0)
            self._centred[key_rows] = centred
            np.add.at(self._articles, key_article, centred)
            self._articles = _unit_rows(self._articles)
        # Section label (as replies cite it) -> the key rows of that section, per article.
        labels = {
            s.id: " > ".join(s.heading_path[1:]) or index.articles[s.article_id].title
            for s in index.sections
            if s.article_id in index.articles
        }  # the label of bot.answer.section_label, which the reply's sources carry
        self._sections: dict[tuple[str, str], list[int]] = {}
        for r, key in enumerate(index.keys):
            if key.section_id in labels:
                self._sections.setdefault((key.article_id, labels[key.section_id]), []).append(r)
        langs = sorted(set(self._langs))
        self._bars = {(a, b): self._measure_bar(a, b) for a in langs for b in langs}

    def for_answer(
        self,
        sources: Sequence[str | CitedSection],
        candidates: Sequence[str],
        lang: str,
        k: int = 3,
    ) -> list[RelatedArticle]:
        """Return up to ``k`` articles in ``lang`` related to what a reply quoted, most related first.

        ``sources`` are what the reply cites: article ids, or objects with ``article_id`` and the
        ``section`` label quoted (the reply's ``Source`` values), which make the chips follow the
        part of the article that answered. ``candidates`` are other articles retrieval found for the
        message; among the related ones they come first. A reply that cites nothing gets no chips.
        """
        cited: set[str] = set()
        anchors: list[tuple[np.ndarray, str]] = []
        for source in sources:
            aid = source if isinstance(source, str) else source.article_id
            i = self._position.get(aid)
            if i is None:
                continue
            cited.add(aid)
            anchors.append((self._articles[i], self._langs[i]))
            if not isinstance(source, str):
                section = self._section_vector(aid, source.section)
                if section is not None:
                    anchors.append((section, self._langs[i]))
        pool = np.array([i for i, aid in enumerate(self._ids) if self._langs[i] == lang and aid not in cited], int)
        if k <= 0 or not anchors or not len(pool):
            return []
        vectors = self._articles[pool]
        # How far above the KB's bar each article comes for its closest anchor.
        margin = np.max([vectors @ v - self._bars[anchor_lang, lang] for v, anchor_lang in anchors], axis=0)
        asked = set(candidates)
        ranked = sorted(
            (j for j in range(len(pool)) if margin[j] > 0),
            key=lambda j: (self._ids[pool[j]] not in asked, -margin[j], self._ids[pool[j]]),
        )
        out: list[RelatedArticle] = []
        titles: set[str] = set()
        for j in ranked:
            article = self._index.articles[self._ids[pool[j]]]
            if article.title in titles:
                continue
            titles.add(article.title)
            out.append(RelatedArticle(article.id, article.title))
            if len(out) == k:
                break
        return out

    def _section_vector(self, article_id: str, label: str) -> np.ndarray | None:
        """Return the centred mean vector of the keys of the section cited as ``label`` (None when unknown)."""
        rows = self._sections.get((article_id, label))
        if not rows:
            return None
        vector = self._centred[rows].mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else None

    def _measure_bar(self, anchor_lang: str, lang: str) -> float:
        """Return the similarity an article in ``lang`` must pass to be related to one in ``anchor_lang``.

        The :data:`RELATED_QUANTILE` of the similarities between the KB's articles of the two
        languages (each article with the others when the languages are the same); +inf when the
        KB has no such pair.
        """
        first = _sample(np.flatnonzero(self._langs == anchor_lang))
        second = _sample(np.flatnonzero(self._langs == lang))
        sims = self._articles[first] @ self._articles[second].T
        if anchor_lang == lang:
            sims = sims[~np.eye(len(first), dtype=bool)]
        return float(np.quantile(sims, RELATED_QUANTILE)) if sims.size else float("inf")


def _sample(rows: np.ndarray) -> np.ndarray:
    """Return at most :data:`_SAMPLE_ARTICLES` of the rows, the same ones on every run."""
    if len(rows) <= _SAMPLE_ARTICLES:
        return rows
    return np.sort(np.random.default_rng(0).choice(rows, _SAMPLE_ARTICLES, replace=False))


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Scale each row to length 1 (rows of zeros stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1)
