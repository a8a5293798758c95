"""Answer quality: in-scope accuracy and out-of-scope recall at the shipped threshold, and calibration.

Each intent dataset becomes a KB with the production indexer: one article per intent, its
training utterances as the article's example questions, and (CLINC150 only, whose train split
has them) the out-of-scope training utterances as the KB's out-of-scope examples. Every test
message then goes through the chat service's matcher (hybrid retrieval + article classifier +
calibrator). A message counts as answered when its confidence reaches the threshold.

* in-scope accuracy: in-scope messages answered with the right intent (a refusal is wrong);
* out-of-scope recall: out-of-scope messages not answered.

    python scripts/bench_quality.py               # report on test splits with the shipped calibrator
    python scripts/bench_quality.py --fit         # fit calibrator + threshold on held-out train/dev data, then report
    python scripts/bench_quality.py --fit --sparse-pool   # also a BANKING77 sparse-KB pool (measured, not adopted)

The calibrator is fitted on CLINC150 dev (its index built from train) and on simulations from
each HINT3 train split (HINT3 has no dev split and no out-of-scope training rows): a quarter of
the intents is left out of the KB and plays the near out-of-scope role, every fourth utterance
of the others is held out as in-scope, and messages meant for other businesses (150 train
utterances of each other HINT3 bot, CLINC150's out-of-scope train utterances) play the far
out-of-scope role. No test split is used for fitting.

The reliability table bins the test messages of all datasets by confidence and compares each
bin's mean confidence with how often the answer was right (out-of-scope answers are wrong).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.confidence import FEATURES, Calibrator, default_calibrator_path, load_calibrator  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from indexer.articles import Article  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.embedding import make_embedder  # noqa: E402
from indexer.retrieval import HybridSearcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "var" / "bench" / "quality"
HINT3 = ("hint3_sofmattress", "hint3_curekart", "hint3_powerplay11")
# HINT3 paper, BERT at threshold 0.9 on the v1 test sets (dataset READMEs): in-scope acc, OOS recall.
HINT3_BERT = {
    "hint3_sofmattress": (0.636, 0.765),
    "hint3_curekart": (0.803, 0.523),
    "hint3_powerplay11": (0.436, 0.754),
}


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def intent_articles(rows: list[dict]) -> tuple[list[Article], list[str]]:
    """One article per intent with its utterances as questions; out-of-scope utterances apart."""
    by_label: dict[str, list[str]] = {}
    oos = []
    for row in rows:
        if row["label"] == "oos":
            oos.append(row["text"])
        else:
            by_label.setdefault(row["label"], []).append(row["text"])
    articles = []
    for label, texts in sorted(by_label.items()):
        title = label.replace("_", " ").strip().capitalize()
        articles.append(Article(id=label, title=title, lang="en", body=title, questions=tuple(texts)).with_hash())
    return articles, oos


def matcher_for(
    name: str, train: str, settings: Settings, embedder, calibrator: Calibrator, rows: list[dict] | None = None
) -> Matcher:
    """Build (or reuse) the index of a dataset's train split and return a matcher over it."""
    articles, oos = intent_articles(rows if rows is not None else read_jsonl(DATA / name / train))
    index_dir = CACHE / embedder.name.replace("/", "_") / f"{name}-{train.removesuffix('.jsonl').replace('/', '_')}"
    index_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = build_index(articles, embedder, index_dir, out_of_scope=oos, progress=lambda done, total: None)
    if report.embedded_keys:
        print(f"  indexed {name}/{train}: {report.summary()} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    index = load_index(index_dir)
    return Matcher(HybridSearcher(index, embedder, dense_weight=settings.dense_weight), calibrator)


def query_vectors(embedder, name: str, split: str, texts: list[str]) -> np.ndarray:
    """Embed a split's messages as queries (cached under var/bench)."""
    path = CACHE / embedder.name.replace("/", "_") / "queries" / f"{name}.{split.replace('/', '_')}.npy"
    if path.is_file():
        vectors = np.load(path)
        if len(vectors) == len(texts):
            return vectors
    path.parent.mkdir(parents=True, exist_ok=True)
    vectors = np.vstack([embedder.embed_queries(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    np.save(path, vectors)
    return vectors


def evidence(matcher: Matcher, rows: list[dict], vectors: np.ndarray) -> list[dict]:
    """Every candidate's features and correctness for each message."""
    out = []
    for row, vec in zip(rows, vectors, strict=True):
        hits, feats = matcher.evidence(row["text"], vec)
        out.append({"label": row["label"], "ids": [h.article.id for h in hits], "features": feats})
    return out


def decide(matcher: Matcher, items: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chosen-answer correctness, confidence and in-scope flag per message."""
    correct, conf, in_scope = [], [], []
    for item in items:
        if not item["ids"]:
            correct.append(False)
            conf.append(0.0)
        else:
            best = matcher.choose(item["features"])
            correct.append(item["ids"][best] == item["label"])
            conf.append(matcher.calibrator.probability(item["features"][best]))
        in_scope.append(item["label"] != "oos")
    return np.array(correct), np.array(conf), np.array(in_scope)


def rates(correct: np.ndarray, conf: np.ndarray, in_scope: np.ndarray, threshold: float) -> tuple[float, float]:
    answered = conf >= threshold
    acc = float(np.mean(correct[in_scope] & answered[in_scope])) if in_scope.any() else float("nan")
    recall = float(np.mean(~answered[~in_scope])) if (~in_scope).any() else float("nan")
    return acc, recall


def other_businesses(name: str, per_bot: int = 150) -> list[dict]:
    """Far out-of-scope messages for a HINT3 bot, from train splits only.

    ``per_bot`` utterances (a seeded sample) of each other HINT3 bot's train split, and CLINC150's
    out-of-scope train utterances: what customers of other businesses, or nobody's customers, ask.
    """
    out = []
    for other in HINT3:
        if other != name:
            texts = sorted({r["text"] for r in read_jsonl(DATA / other / "train.jsonl")})
            picked = np.random.default_rng(0).permutation(len(texts))[:per_bot]
            out += [{"text": texts[i], "label": "oos"} for i in sorted(picked)]
    out += [
        {"text": r["text"], "label": "oos"}
        for r in read_jsonl(DATA / "clinc150" / "train.jsonl")
        if r["label"] == "oos"
    ]
    return out


def simulated_out_of_scope(name: str, settings: Settings, embedder, calibrator: Calibrator, folds: int = 4):
    """Held-out data from a train split with no out-of-scope rows: leave intents out.

    The intents are dealt into ``folds`` groups; for each group a KB is built from the other
    intents' utterances minus every fourth one. The held-out utterances are in-scope messages;
    the left-out group's utterances (near) and :func:`other_businesses` (far) are out-of-scope
    ones. Only train splits are used.
    """
    rows = read_jsonl(DATA / name / "train.jsonl")
    far = other_businesses(name)
    far_vectors = query_vectors(embedder, name, "far", [q["text"] for q in far])
    intents = sorted({r["label"] for r in rows})
    pairs = []
    for fold in range(folds):
        left_out = set(intents[fold::folds])
        kb_rows, queries, seen = [], [], {}
        for row in rows:
            if row["label"] in left_out:
                queries.append({"text": row["text"], "label": "oos"})
                continue
            seen[row["label"]] = seen.get(row["label"], 0) + 1
            (queries if seen[row["label"]] % 4 == 0 else kb_rows).append(row)
        matcher = matcher_for(name, f"sim{fold}", settings, embedder, calibrator, rows=kb_rows)
        vectors = query_vectors(embedder, name, f"sim{fold}", [q["text"] for q in queries])
        pairs.append((matcher, evidence(matcher, queries + far, np.vstack([vectors, far_vectors]))))
    return [item for _, items in pairs for item in items], pairs[0][0]


def sparse_kb_simulation(
    settings: Settings,
    embedder,
    calibrator: Calibrator,
    name: str = "banking77",
    per_intent: int = 15,
    queries_per_intent: int = 10,
    folds: int = 4,
):
    """Held-out data for a KB with few examples per article, asked in many other ways.

    From a train split with many utterances per intent (BANKING77: about 130), each fold
    leaves a quarter of the intents out (near out-of-scope messages, ``queries_per_intent``
    of each) and builds a KB from ``per_intent`` utterances of each other intent (HINT3's
    train splits hold 8 to 21 per intent, median about 15); ``queries_per_intent`` further
    utterances of each are the in-scope messages, and :func:`other_businesses` the far
    out-of-scope ones. All choices are seeded samples of the train split.
    """
    rows = read_jsonl(DATA / name / "train.jsonl")
    by_label: dict[str, list[dict]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    rng = np.random.default_rng(0)
    shuffled = {label: [items[i] for i in rng.permutation(len(items))] for label, items in sorted(by_label.items())}
    far = other_businesses(name)
    far_vectors = query_vectors(embedder, name, "far", [q["text"] for q in far])
    intents = sorted(shuffled)
    items = []
    for fold in range(folds):
        left_out = set(intents[fold::folds])
        kb_rows, queries = [], []
        for label in intents:
            utterances = shuffled[label]
            if label in left_out:
                queries += [{"text": r["text"], "label": "oos"} for r in utterances[:queries_per_intent]]
            else:
                kb_rows += utterances[:per_intent]
                queries += utterances[per_intent : per_intent + queries_per_intent]
        matcher = matcher_for(name, f"sparse{fold}", settings, embedder, calibrator, rows=kb_rows)
        vectors = query_vectors(embedder, name, f"sparse{fold}", [q["text"] for q in queries])
        items += evidence(matcher, queries + far, np.vstack([vectors, far_vectors]))
    return items


def fit(matcher: Matcher, pools: dict[str, list[dict]], model: str) -> Calibrator:
    """Fit the calibrator on held-out messages and pick the threshold.

    Every pool (dataset) gets the same total weight, split equally between its in-scope and
    out-of-scope messages. The threshold maximises the mean over pools of min(in-scope
    accuracy, out-of-scope recall).
    """
    from sklearn.linear_model import LogisticRegression

    x, y, w = [], [], []
    for items in pools.values():
        n_in = sum(it["label"] != "oos" for it in items)
        n_oos = len(items) - n_in
        for item in items:
            if not item["ids"]:
                continue
            best = matcher.choose(item["features"])
            x.append([item["features"][best][f] for f in FEATURES])
            y.append(item["ids"][best] == item["label"])
            w.append(0.5 / n_in if item["label"] != "oos" else 0.5 / max(1, n_oos))
    w = np.array(w) * len(w) / np.sum(w)
    model_lr = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(x), np.array(y), sample_weight=w)
    calibrator = Calibrator(model, tuple(float(v) for v in model_lr.coef_[0]), float(model_lr.intercept_[0]), 0.5)
    matcher.calibrator = calibrator
    decided = {name: decide(matcher, items) for name, items in pools.items()}
    best_t, best_score = 0.5, -1.0
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        score = float(np.mean([min(rates(*d, t)) for d in decided.values()]))
        if score > best_score:
            best_t, best_score = float(t), score
    for name, d in decided.items():
        acc, recall = rates(*d, best_t)
        print(
            f"  fit pool {name}: in-scope accuracy {acc:.3f}, OOS recall {recall:.3f} at {best_t:.2f}", file=sys.stderr
        )
    return Calibrator(
        model,
        calibrator.weights,
        calibrator.bias,
        best_t,
        f"{', '.join(f'{k} ({len(v)})' for k, v in pools.items())}; pools weighted equally, in-scope and "
        f"out-of-scope equally within each; threshold maximising the mean of min(in-scope accuracy, OOS recall) "
        f"= {best_score:.3f}",
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="fit the calibrator on held-out data and save it")
    parser.add_argument(
        "--clinc-only",
        action="store_true",
        help="with --fit: fit on CLINC150 dev only (default: also on simulations from the HINT3 train splits)",
    )
    parser.add_argument(
        "--sparse-pool",
        action="store_true",
        help="with --fit: add a BANKING77 train simulation of a KB with few examples per article to the pools",
    )
    parser.add_argument("--choice-sweep", action="store_true", help="print top-1 accuracy on dev per choice weight")
    args = parser.parse_args()
    settings = Settings()
    embedder = make_embedder(settings)
    if hasattr(embedder, "load"):
        embedder.load()
    placeholder = Calibrator(embedder.name, (0.0,) * len(FEATURES), 0.0, 0.5)
    calibrator = placeholder if args.fit else load_calibrator(embedder.name)

    clinc = matcher_for("clinc150", "train.jsonl", settings, embedder, calibrator)
    if args.fit or args.choice_sweep:
        dev = read_jsonl(DATA / "clinc150" / "dev.jsonl")
        dev_items = evidence(clinc, dev, query_vectors(embedder, "clinc150", "dev", [r["text"] for r in dev]))
        if args.choice_sweep:
            for w in (0.0, 0.25, 0.5, 0.75, 1.0):
                clinc.choice_weight = w
                correct, _, in_scope = decide(clinc, dev_items)
                print(f"choice weight {w:.2f}: dev in-scope top-1 accuracy {correct[in_scope].mean():.4f}")
            clinc.choice_weight = 0.5
        if args.fit:
            pools = {"CLINC150 dev": dev_items}
            for name in () if args.clinc_only else HINT3:
                pools[f"{name} train simulations"], _ = simulated_out_of_scope(name, settings, embedder, placeholder)
            if args.sparse_pool:
                pools["banking77 sparse-KB simulations"] = sparse_kb_simulation(settings, embedder, placeholder)
            calibrator = fit(clinc, pools, embedder.name)
            path = default_calibrator_path(embedder.name)
            path.write_text(json.dumps(calibrator.to_json(), indent=1) + "\n", encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}: threshold {calibrator.threshold:.2f}", file=sys.stderr)
    clinc.calibrator = calibrator

    rows_out = []
    pooled = []
    runs = [("clinc150", "train.jsonl", "test.jsonl", None)]
    for name in HINT3:
        runs += [(name, "v1/train.jsonl", "v1/test.jsonl", HINT3_BERT[name]), (name, "train.jsonl", "test.jsonl", None)]
    for name, train, test, reference in runs:
        matcher = clinc if name == "clinc150" else matcher_for(name, train, settings, embedder, calibrator)
        rows = read_jsonl(DATA / name / test)
        items = evidence(matcher, rows, query_vectors(embedder, name, test, [r["text"] for r in rows]))
        correct, conf, in_scope = decide(matcher, items)
        acc, recall = rates(correct, conf, in_scope, calibrator.threshold)
        ref = f"{reference[0]:.3f} / {reference[1]:.3f}" if reference else "-"
        rows_out.append(
            (
                f"{name} ({Path(test).parent.name or 'v2'} test)" if name != "clinc150" else "clinc150 (test)",
                int(in_scope.sum()),
                int((~in_scope).sum()),
                acc,
                recall,
                float(correct[in_scope].mean()),
                ref,
            )
        )
        if test in ("test.jsonl",):
            pooled.append((correct, conf))

    print(f"\nThreshold {calibrator.threshold:.2f} (calibrator: {calibrator.fitted_on or 'shipped'})\n")
    print(
        "| dataset | in-scope | OOS | in-scope accuracy (right) | OOS recall (refused) | top-1 before refusal "
        "| BERT t=0.9 (paper) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, n_in, n_oos, acc, recall, top1, ref in rows_out:
        # Counts beside the rates: a target such as 0.92 can hinge on two messages, which three
        # decimals would round away (4,138 of 4,500 is 0.9196).
        right, refused = round(acc * n_in), round(recall * n_oos)
        print(f"| {label} | {n_in} | {n_oos} | {acc:.4f} ({right}) | {recall:.4f} ({refused}) | {top1:.3f} | {ref} |")

    correct = np.concatenate([c for c, _ in pooled])
    conf = np.concatenate([p for _, p in pooled])
    print("\nReliability (CLINC150 test + HINT3 v2 test, all messages; an out-of-scope answer is wrong):\n")
    print("| confidence | messages | mean confidence | answer right |")
    print("| --- | ---: | ---: | ---: |")
    edges = np.linspace(0, 1, 11)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf >= lo) & ((conf < hi) if hi < 1 else (conf <= hi))
        if sel.any():
            print(f"| {lo:.1f}–{hi:.1f} | {int(sel.sum())} | {conf[sel].mean():.3f} | {correct[sel].mean():.3f} |")
    ece = sum(
        abs(conf[s].mean() - correct[s].mean()) * s.sum()
        for s in [
            ((conf >= lo) & (conf < hi if hi < 1 else conf <= hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]
        if s.any()
    ) / len(conf)
    print(f"\nExpected calibration error: {ece:.3f}")
    flags = (" --fit" if args.fit else "") + (" --clinc-only" if args.clinc_only else "")
    flags += " --sparse-pool" if args.sparse_pool else ""
    print(f"\nCommand: python scripts/bench_quality.py{flags}")


if __name__ == "__main__":
    main()
