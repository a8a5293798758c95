"""Match a message to the KB: the article that answers it, its section, and a calibrated confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.confidence import FEATURES, Calibrator
from indexer.retrieval import Hit, HybridSearcher
from indexer.textnorm import lexical_tokens

# The answer is the candidate with the best mix of hybrid rank score and classifier probability.
# Equal weights were best for choosing the right article on CLINC150 dev (scripts/bench_quality.py).
CHOICE_WEIGHT = 0.5
CANDIDATES = 10


@dataclass(frozen=True)
class Match:
    """The best answer for one message, with the evidence behind its confidence."""

    hit: Hit | None
    hits: tuple[Hit, ...]  # the retrieval candidates, best first, the chosen one included
    confidence: float
    features: dict[str, float]


class AnswerEvidence:
    """Evidence that an article answers a message, measured the same way on a KB of any size.

    * ``cos`` — the cosine between the message and the article's closest key (a section or an
      example question): an absolute similarity, which means the same on 12 articles or 10,000;
    * ``cos_rel`` — ``cos`` minus the median of every article's ``cos`` in that article's language:
      how far the article stands out from the KB's typical article for this message;
    * ``coverage`` — the share of the message's words the article contains, each word weighted by
      its rarity among the KB's articles (normalised to 0–1, so a word no article has weighs 1 and
      a word every article has about 0): low when the message asks about something the article
      does not mention;
    * ``known`` — the share of the message's words that occur anywhere in the KB.
    """

    def __init__(self, searcher: HybridSearcher) -> None:
        """Precompute what the features need from the loaded index behind ``searcher``."""
        self.searcher = searcher
        index = searcher.index
        self._n_articles = len(searcher._article_ids)
        self._key_article = searcher._key_article
        self._question_key = np.array([k.kind == "question" for k in index.keys], dtype=bool)
        langs = np.array([index.articles[a].lang for a in searcher._article_ids])
        self._position = {aid: i for i, aid in enumerate(searcher._article_ids)}
        self._lang_of = langs
        self._groups = {
            lang: np.flatnonzero(langs == lang) if (langs == lang).sum() >= 5 else np.arange(len(langs))
            for lang in set(langs.tolist())
        }
        bm25 = getattr(index.lexical, "_bm25", None)
        self._vocab = getattr(bm25, "vocab_dict", {}) if bm25 is not None else {}
        scores = getattr(bm25, "scores", None) if bm25 is not None else None
        self._indptr = scores["indptr"] if scores is not None else None
        self._indices = scores["indices"] if scores is not None else None
        self._token_articles: dict[str, np.ndarray] = {}
        self._norm = math.log((self._n_articles + 1) / 0.5) if self._n_articles else 1.0

    def _articles_with(self, token: str) -> np.ndarray:
        """Positions of the articles that contain ``token`` (cached per token)."""
        found = self._token_articles.get(token)
        if found is None:
            tid = self._vocab.get(token)
            if tid is None or self._indptr is None:
                found = np.empty(0, dtype=np.int64)
            else:
                keys = self._indices[self._indptr[tid] : self._indptr[tid + 1]]
                found = np.unique(self._key_article[keys])
            if len(self._token_articles) < 100_000:
                self._token_articles[token] = found
        return found

    def lexical(self, texts: list[str]) -> tuple[np.ndarray, float]:
        """Per-article coverage of the message's words and the share known to the KB (best reading)."""
        best_cov = np.zeros(self._n_articles, dtype=np.float64)
        best_known = 0.0
        for text in texts:
            tokens = list(dict.fromkeys(lexical_tokens(text)))
            if not tokens:
                continue
            cov = np.zeros(self._n_articles, dtype=np.float64)
            total = 0.0
            known = 0
            for token in tokens:
                arts = self._articles_with(token)
                weight = math.log((self._n_articles + 1) / (len(arts) + 0.5)) / self._norm
                total += weight
                if len(arts):
                    known += 1
                    cov[arts] += weight
            if total > 0:
                cov /= total
            best_cov = np.maximum(best_cov, cov)
            best_known = max(best_known, known / len(tokens))
        return best_cov, best_known

    def _relative(self, cos: np.ndarray) -> np.ndarray:
        rel = np.empty_like(cos)
        for group in self._groups.values():
            rel[group] = cos[group] - np.median(cos[group])
        return rel

    def dense(self, vector: np.ndarray) -> dict[str, np.ndarray]:
        """Per-article best key cosines (passages, questions, all), and relative to the median article."""
        keys = self.searcher.dense_key_scores(vector).astype(np.float64)
        passage = np.where(self._question_key, -1.0, keys)
        question = np.where(self._question_key, keys, -1.0)
        out = {}
        for name, values in (("cos", keys), ("cos_p", passage), ("cos_q", question)):
            per = np.full(self._n_articles, -1.0)
            np.maximum.at(per, self._key_article, values)
            out[name] = per
        out["cos_rel"] = self._relative(out["cos"])
        out["cos_p_rel"] = self._relative(out["cos_p"])
        return out

    def features(self, text: str, vector: np.ndarray, hits: list[Hit], readings: list[str] | None = None):
        """Return the features of each hit's article."""
        dense = self.dense(vector)
        cov, known = self.lexical(readings or [text])
        out = []
        for hit in hits:
            a = self._position[hit.article.id]
            feats = {name: float(values[a]) for name, values in dense.items()}
            feats.update(coverage=float(cov[a]), known=known)
            out.append(feats)
        return out


class Matcher:
    """Combines hybrid retrieval, the index's article classifier and the calibrator."""

    def __init__(self, searcher: HybridSearcher, calibrator: Calibrator, *, choice_weight: float = CHOICE_WEIGHT):
        """Use the loaded index behind ``searcher``; ``calibrator`` maps evidence to a probability."""
        self.searcher = searcher
        self.calibrator = calibrator
        self.choice_weight = choice_weight
        self.answer_evidence = AnswerEvidence(searcher)

    def evidence(self, text: str, vector: np.ndarray) -> tuple[list[Hit], list[dict[str, float]]]:
        """Return the candidates (retrieval order) and each one's features."""
        hits = self.searcher.search(text, k=CANDIDATES, query_vector=vector)
        if not hits:
            return [], []
        classifier = self.searcher.index.classifier
        scores = classifier.scores(vector, text) if classifier is not None else None
        top_lexical = max(h.lexical for h in hits)
        features = []
        for hit in hits:
            prob = scores.probs.get(hit.article.id, 0.0) if scores else hit.score
            features.append(
                {
                    "log_prob": math.log(max(prob, 1e-4)) - (scores.log_prob_ref if scores else 0.0),
                    "novelty": scores.novelty - scores.background if scores else 0.0,
                    "p_out_of_scope": scores.p_out_of_scope if scores else 0.0,
                    "fused": hit.score,
                    "lexical": hit.lexical / top_lexical if top_lexical > 0 else 0.0,
                    "background": scores.background if scores else 0.0,
                    "prob": prob,
                }
            )
        for feats, extra in zip(features, self.answer_evidence.features(text, vector, hits), strict=True):
            feats.update(extra)
        return hits, features

    def choose(self, features: list[dict[str, float]]) -> int:
        """Index of the candidate to answer with."""
        w = self.choice_weight
        mixed = [w * f["fused"] + (1 - w) * f["prob"] for f in features]
        return int(np.argmax(mixed))

    def match(self, text: str, vector: np.ndarray) -> Match:
        """Find the answer for ``text`` (whose query embedding is ``vector``)."""
        hits, features = self.evidence(text, vector)
        if not hits:
            return Match(None, (), 0.0, dict.fromkeys(FEATURES, 0.0))
        best = self.choose(features)
        chosen = hits[best]
        ordered = (chosen, *(h for i, h in enumerate(hits) if i != best))
        return Match(chosen, ordered, self.calibrator.probability(features[best]), features[best])
