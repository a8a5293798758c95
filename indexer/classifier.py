"""The index's article classifier: which article a message is about, and how unlike the KB it is.

Trained at index time on the key vectors (example questions embedded as queries, sections as
passages) with the article as the label, plus the KB's optional out-of-scope examples as one
extra class. Three kinds of evidence come out for every message:

* ``probs`` — the average of two multinomial logistic regressions, one over the embedding and
  one over the embedding plus hashed character n-grams of the normalised text (the n-grams
  catch names, codes and spellings the small embedding model blurs): discriminative, good at
  telling close articles apart;
* ``novelty`` — the smallest Mahalanobis distance from the message to an article's mean key
  vector, with one shared, shrunk covariance (an LDA-style density): large when the message is
  far from everything the KB covers, which the softmax cannot say because its probabilities
  always sum to one over the articles;
* ``background`` — the Mahalanobis distance from the message to one Gaussian fitted to all the
  KB's keys together. ``novelty - background`` is the *relative* Mahalanobis distance (Ren et
  al., 2021): how much better the closest article explains the message than the KB as a whole,
  which carries over between KBs of different sizes and noise better than either alone.

On CLINC150 train/dev the distances separate out-of-scope messages markedly better than the
classifier's probability alone, and the background distance makes one calibrator carry over to
the small, noisy HINT3 KBs (docs/benchmarks.md, scripts/bench_quality.py); the chat service's
calibrator turns the evidence into a probability.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer import char_ngrams
from indexer.textnorm import detect_lang, normalize

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "__out_of_scope__"
"""Label of the KB's out-of-scope examples (messages the bot must not answer)."""

_FORMAT = 4  # 2: KB references for novelty and log-probability; 3: language centring; 4: background Gaussian
# Inverse regularisation of the logistic regression; C=10 was best on CLINC150 dev among 1/10/100.
DEFAULT_C = 10.0
# Shrinkage of the shared covariance towards a scaled identity: KBs have few keys per article, and
# an unshrunk 384x384 covariance from a few hundred vectors is singular. 0.2 was best on CLINC150 dev.
DEFAULT_SHRINKAGE = 0.2


class ArticleProbs(Mapping[str, float]):
    """Article id -> probability, read from the classifier's probability vector when asked.

    A turn looks up a handful of candidate articles; building a dict of every article (1,000 on a
    large KB) on every turn cost more than the lookups.
    """

    __slots__ = ("_positions", "_probs")

    def __init__(self, positions: Mapping[str, int], probs: np.ndarray) -> None:
        """Wrap ``probs`` (one value per class) and the in-scope articles' positions in it."""
        self._positions = positions
        self._probs = probs

    def __getitem__(self, article_id: str) -> float:
        return float(self._probs[self._positions[article_id]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def __repr__(self) -> str:
        return f"ArticleProbs({dict(self)!r})"


@dataclass(frozen=True)
class ClassifierScores:
    """The classifier's view of one message."""

    probs: Mapping[str, float]  # article id -> probability (out-of-scope mass left out)
    p_out_of_scope: float
    novelty: float  # min over articles of the squared Mahalanobis distance, divided by the dimension
    novelty_ref: float = 1.0  # the KB's typical novelty of an in-scope message (see ArticleClassifier.train)
    log_prob_ref: float = 0.0  # the KB's typical log-probability of the right article for a held-out message
    background: float = 0.0  # squared Mahalanobis distance to the Gaussian of all the KB's keys, / dimension

    def top(self) -> tuple[str, float]:
        """Return the most probable article and its probability."""
        if not self.probs:
            return "", 0.0
        aid = max(self.probs, key=self.probs.__getitem__)
        return aid, self.probs[aid]


def _char_features(texts: list[str]):
    """Sublinear, L2-normalised hashed n-gram counts of the normalised texts (a sparse matrix)."""
    return char_ngrams.feature_matrix([normalize(t).lower() for t in texts])


def _fit_softmax(features, labels: np.ndarray, c: float) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Fit a multinomial logistic regression; return classes, weights and biases in softmax form."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - heavy, index time only

    classes = tuple(sorted(set(labels.tolist())))
    if len(classes) == 1:  # a one-article KB: every in-scope message is that article's
        return classes, np.zeros((1, features.shape[1]), np.float32), np.zeros(1, np.float32)
    model = LogisticRegression(C=c, max_iter=2000)
    with warnings.catch_warnings():
        # KBs have few examples per article; sklearn warns that this "looks like regression".
        warnings.simplefilter("ignore", UserWarning)
        model.fit(features, labels)
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if len(classes) == 2:  # sklearn keeps one row for two classes; expand to softmax form
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return tuple(str(x) for x in model.classes_), coef.astype(np.float32), intercept.astype(np.float32)


def _language_means(vectors: np.ndarray, langs: list[str] | None) -> tuple[tuple[str, ...], np.ndarray]:
    """Return the KB's languages (each with at least 5 keys) and their mean vectors, plus the overall mean last.

    A KB in one language gets no centring (an empty name list): a shift changes nothing there.
    """
    if langs is None:
        return (), np.zeros((0, vectors.shape[1]), np.float32)
    arr = np.asarray(langs)
    names = tuple(sorted(lang for lang in set(langs) if (arr == lang).sum() >= 5))
    if len(names) < 2:
        return (), np.zeros((0, vectors.shape[1]), np.float32)
    means = [vectors[arr == lang].mean(axis=0) for lang in names]
    means.append(np.mean(means, axis=0))  # for keys and messages in any other language
    return names, np.stack(means).astype(np.float32)


def _references(vectors, labels, in_scope, rows, means, precision, c: float) -> tuple[float, float]:
    """Return what an in-scope message typically looks like to this KB's classifier.

    Raw novelty and probabilities depend on the KB (how many articles, how many example keys
    each): a KB with 15 noisy examples per intent is less sure of everything than one with 100.
    References measured on the KB itself:

    * novelty: median leave-one-out Mahalanobis distance of each in-scope key to its own
      article's mean (the key removed from the mean), divided by the dimension. Kept for
      diagnostics: the calibrator now uses the relative distance ``novelty - background``, which
      needs no reference (on small KBs this one underestimates a new message's distance, because
      the covariance was fitted on the same keys);
    * log-probability: median log-probability of the right article for every fifth key of the
      articles with at least two keys, from a dense classifier trained on the other keys (the
      calibrator sees the log-probability relative to it).
    """
    dim = vectors.shape[1]
    counts = np.bincount(rows, minlength=len(means))
    x = vectors[in_scope].astype(np.float64)
    n = counts[rows]
    ok = n >= 2
    novelty_ref = 1.0
    if ok.any():
        diff = x[ok] - means[rows[ok]]
        dist = np.einsum("ij,jk,ik->i", diff, precision, diff) * (n[ok] / (n[ok] - 1.0)) ** 2 / dim
        novelty_ref = float(np.median(dist)) or 1.0
    log_prob_ref = 0.0
    order = np.arange(len(labels))
    held = np.zeros(len(labels), dtype=bool)
    seen: dict[str, int] = {}
    for i in order:
        label = labels[i]
        seen[label] = seen.get(label, 0) + 1
        # every 5th key (the 2nd for articles with 2-4 keys) of articles with at least two keys
        total = int((labels == label).sum())
        if label != OUT_OF_SCOPE and total >= 2 and seen[label] % min(5, total) == 0:
            held[i] = True
    train_labels = labels[~held]
    if held.any() and len(set(train_labels.tolist())) >= 2:
        classes, w, b = _fit_softmax(vectors[~held], train_labels, c)
        position = {cl: j for j, cl in enumerate(classes)}
        logits = vectors[held] @ w.T + b
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        truth = [position.get(lab, -1) for lab in labels[held]]
        values = [logp[k, j] for k, j in enumerate(truth) if j >= 0]
        if values:
            log_prob_ref = float(np.median(values))
    return novelty_ref, log_prob_ref


def _shrunk_precision(residual: np.ndarray, shrinkage: float) -> np.ndarray:
    """Inverse of the residuals' covariance shrunk towards a scaled identity."""
    dim = residual.shape[1]
    cov = residual.T @ residual / max(1, len(residual))
    target = np.trace(cov) / dim if np.trace(cov) > 0 else 1e-3
    return np.linalg.inv((1 - shrinkage) * cov + shrinkage * target * np.eye(dim))


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


class ArticleClassifier:
    """Two linear article classifiers plus a shared-covariance novelty score over key vectors."""

    def __init__(
        self,
        classes: tuple[str, ...],
        params: dict[str, np.ndarray],
        mean_ids: tuple[str, ...],
        lang_names: tuple[str, ...] = (),
    ) -> None:
        """Wrap trained parameters (use :meth:`train` or :meth:`load`)."""
        self.classes = classes
        self.lang_names = lang_names
        self.params = {name: np.asarray(value, dtype=np.float32) for name, value in params.items()}
        self.mean_ids = mean_ids
        self._oos = np.array([c == OUT_OF_SCOPE for c in classes])
        self._positions = {c: i for i, c in enumerate(classes) if c != OUT_OF_SCOPE}
        means, precision = self.params["means"], self.params["precision"]
        dim = means.shape[1] if means.ndim == 2 else 0
        # Character n-gram weights as (column, class) rows: a message touches ~100 columns, and
        # gathering contiguous rows is far cheaper than gathering columns of (class, column).
        self._dense_part = np.ascontiguousarray(self.params["mixed_w"][:, :dim])
        self._char_rows = np.ascontiguousarray(self.params["mixed_w"][:, dim:].T)
        # ||v - m||^2_P = v'Pv - 2 m'Pv + m'Pm: the last two are precomputed per article.
        self._means_p = (means @ precision).astype(np.float32)
        self._means_norm = np.einsum("ij,ij->i", self._means_p, means).astype(np.float32)
        bg_mean, bg_precision = self.params["bg_mean"], self.params["bg_precision"]
        self._bg_mean_p = (bg_mean @ bg_precision).astype(np.float32)
        self._bg_mean_norm = float(self._bg_mean_p @ bg_mean)

    @classmethod
    def train(
        cls,
        vectors: np.ndarray,
        texts: list[str],
        labels: list[str],
        *,
        langs: list[str] | None = None,
        c: float = DEFAULT_C,
        shrinkage: float = DEFAULT_SHRINKAGE,
    ) -> ArticleClassifier:
        """Fit on key vectors and texts labelled by article id (and :data:`OUT_OF_SCOPE` examples).

        ``langs`` gives each key's language. In a bilingual KB every vector is centred on its
        language's mean first (and a message on its own language's mean): multilingual e5 puts
        all of a language's texts to one side, so without this an English question about a
        Persian-only article is pulled towards the English articles, as in retrieval.
        """
        from scipy.sparse import csr_matrix, hstack  # noqa: PLC0415

        labels_arr = np.asarray(labels)
        vectors = np.asarray(vectors, dtype=np.float32)
        lang_names, lang_means = _language_means(vectors, langs)
        if lang_names:
            index = {name: i for i, name in enumerate(lang_names)}
            vectors = vectors - lang_means[[index.get(lang, len(lang_names)) for lang in langs]]
        classes, dense_w, dense_b = _fit_softmax(vectors, labels_arr, c)
        mixed = hstack([csr_matrix(vectors), _char_features(texts)]).tocsr()
        classes_mixed, mixed_w, mixed_b = _fit_softmax(mixed, labels_arr, c)
        assert classes_mixed == classes  # both sort the same labels
        dim = vectors.shape[1]
        in_scope = labels_arr != OUT_OF_SCOPE
        mean_ids = tuple(sorted(set(labels_arr[in_scope].tolist())))
        position = {aid: i for i, aid in enumerate(mean_ids)}
        rows = np.array([position[a] for a in labels_arr[in_scope]], dtype=np.int64)
        x = vectors[in_scope].astype(np.float64)
        means = np.zeros((len(mean_ids), dim))
        np.add.at(means, rows, x)
        means /= np.maximum(1, np.bincount(rows, minlength=len(mean_ids)))[:, None]
        precision = _shrunk_precision(x - means[rows], shrinkage)
        refs = _references(vectors, labels_arr, in_scope, rows, means, precision, c)
        # The background: one Gaussian over all in-scope keys, shrunk like the shared covariance.
        bg_mean = x.mean(axis=0) if len(x) else np.zeros(dim)
        bg_precision = _shrunk_precision(x - bg_mean, shrinkage)
        params = {
            "lang_means": lang_means,
            "refs": np.array(refs, dtype=np.float32),
            "dense_w": dense_w,
            "dense_b": dense_b,
            "mixed_w": mixed_w,
            "mixed_b": mixed_b,
            "means": means,
            "precision": precision,
            "bg_mean": bg_mean,
            "bg_precision": bg_precision,
        }
        return cls(classes, params, mean_ids, lang_names)

    def scores(self, vector: np.ndarray, text: str) -> ClassifierScores:
        """Score one message: its L2-normalised query vector and its text."""
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        p = self.params
        if self.lang_names:
            lang = detect_lang(text)
            row = self.lang_names.index(lang) if lang in self.lang_names else len(self.lang_names)
            v = v - p["lang_means"][row]
        dense = _softmax(p["dense_w"] @ v + p["dense_b"])
        columns, values = char_ngrams.features(normalize(text).lower())
        dim = len(v)
        mixed_logits = self._dense_part @ v + p["mixed_b"]
        if len(columns):
            mixed_logits = mixed_logits + values @ self._char_rows[columns]
        probs_all = (dense + _softmax(mixed_logits)) / 2
        probs = ArticleProbs(self._positions, probs_all)
        p_oos = float(probs_all[self._oos].sum())
        if len(self.mean_ids):
            dist = float(v @ p["precision"] @ v) - 2 * (self._means_p @ v) + self._means_norm
            novelty = float(dist.min()) / dim
        else:
            novelty = 0.0
        background = (float(v @ p["bg_precision"] @ v) - 2 * float(self._bg_mean_p @ v) + self._bg_mean_norm) / dim
        refs = p.get("refs", np.array([1.0, 0.0]))
        return ClassifierScores(probs, p_oos, novelty, float(refs[0]), float(refs[1]), background)

    def save(self, path: Path) -> None:
        """Write the parameters to ``path`` (an .npz file) with a JSON sidecar of the labels."""
        with Path(path).open("wb") as fh:
            np.savez(fh, **self.params)
        Path(path).with_suffix(".json").write_text(
            json.dumps(
                {
                    "format": _FORMAT,
                    "classes": list(self.classes),
                    "mean_ids": list(self.mean_ids),
                    "langs": list(self.lang_names),
                }
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path) -> ArticleClassifier:
        """Read parameters written by :meth:`save`."""
        meta = json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path}: classifier format {meta.get('format')} is not {_FORMAT}; rebuild the index")
        with np.load(path) as data:
            params = {name: data[name] for name in data.files}
        return cls(tuple(meta["classes"]), params, tuple(meta["mean_ids"]), tuple(meta.get("langs", ())))
