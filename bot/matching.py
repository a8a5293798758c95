"""Match a message to the KB: the article that answers it, its section, and a calibrated confidence."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.confidence import FEATURES, Calibrator
from indexer.retrieval import Hit, HybridSearcher

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


class Matcher:
    """Combines hybrid retrieval, the index's article classifier and the calibrator."""

    def __init__(self, searcher: HybridSearcher, calibrator: Calibrator, *, choice_weight: float = CHOICE_WEIGHT):
        """Use the loaded index behind ``searcher``; ``calibrator`` maps evidence to a probability."""
        self.searcher = searcher
        self.calibrator = calibrator
        self.choice_weight = choice_weight

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
