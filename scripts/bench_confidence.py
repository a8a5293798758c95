"""Confidence that transfers between help centres: fit the calibrator on a pool of KBs, validate leaving one KB out.

The pool is a set of support-QA sets (the format of ``../shared/data/supportqa_dev``; see
``scripts/bench_support.py``): ``supportqa_dev`` itself and the KB simulations that
``scripts/_supportpool.py`` writes from public train/dev data (role ``fit``) or test data (role
``validate``: reported, never fitted on). For every set, the KB is indexed with the production
indexer and every message that has one answer (not ``human``, ``multi`` or a follow-up's second
turn) goes through the chat service's matcher; the evidence of the chosen article is kept with
whether it is right (an expected article) and whether the message is answerable at all.

    python scripts/bench_confidence.py                 # report with the shipped calibrator
    python scripts/bench_confidence.py --fit           # fit on the fit sets, save, report, leave-one-KB-out table
    python scripts/bench_confidence.py --sets a,b      # only these sets (names as --list prints)
    python scripts/bench_confidence.py --list

Per set it prints in-scope accuracy (answerable messages answered from a right article: a
refusal is wrong) and out-of-scope recall (unanswerable messages refused) at the shipped
threshold, and, leaving the set out of the fit, the same at the threshold chosen without it next
to the set's own best operating point.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_quality import rates  # noqa: E402  (in-scope accuracy and OOS recall at a threshold)
from bench_support import read_set  # noqa: E402

from bot.confidence import FEATURES, Calibrator, default_calibrator_path, load_calibrator  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from indexer.build import build_from_kb  # noqa: E402
from indexer.embedding import make_embedder  # noqa: E402
from indexer.retrieval import HybridSearcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "var" / "bench" / "confidence"
POOL = ROOT / "var" / "bench" / "pool"
SKIP_KINDS = ("human", "multi")


@dataclass
class PoolItem:
    """One message's evidence: every candidate's features, and which candidates are right."""

    kind: str
    answerable: bool
    ids: list[str]
    right: list[bool]
    features: list[dict[str, float]]


@dataclass
class SetEvidence:
    name: str
    role: str
    items: list[PoolItem]
    matcher: Matcher


def pool_sets(names: list[str] | None = None) -> list[tuple[str, Path, str]]:
    """(name, folder, role) of every set in the pool: supportqa_dev and the generated simulations."""
    sets = [("supportqa_dev", DATA / "supportqa_dev", "fit")]
    try:
        from _supportpool import build_pool  # noqa: PLC0415

        sets += [(p.name, p.path, p.role) for p in build_pool(POOL)]
    except ImportError:
        print("scripts/_supportpool.py not found: only supportqa_dev", file=sys.stderr)
    if names:
        unknown = set(names) - {n for n, _, _ in sets}
        if unknown:
            raise SystemExit(f"unknown set(s): {', '.join(sorted(unknown))}")
        sets = [s for s in sets if s[0] in names]
    return sets


def _vectors(embedder, texts: list[str], cache: Path) -> np.ndarray:
    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16]
    path = cache / f"queries-{digest}.npy"
    if path.is_file():
        return np.load(path)
    vectors = np.vstack([embedder.embed_queries(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    np.save(path, vectors)
    return vectors


def collect(name: str, folder: Path, role: str, embedder, settings: Settings, calibrator: Calibrator) -> SetEvidence:
    """Index a set's KB (cached, incremental) and gather its messages' evidence."""
    cache = CACHE / embedder.name.replace("/", "_") / name
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = build_from_kb(folder / "kb", embedder, cache / "index", section_max_chars=settings.section_max_chars)
    if report.embedded_keys:
        print(f"  indexed {name}: {report.summary()} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    index = load_index(cache / "index")
    matcher = Matcher(HybridSearcher(index, embedder, dense_weight=settings.dense_weight), calibrator)
    rows = [
        r
        for r in read_set(folder)
        if r["kind"] not in SKIP_KINDS
        and int(r.get("turn", 1)) == 1
        and (r["expect"] or r["kind"] in ("oos", "near_miss"))
    ]
    vectors = _vectors(embedder, [r["q"] for r in rows], cache)
    items = []
    for row, vector in zip(rows, vectors, strict=True):
        hits, feats = matcher.evidence(row["q"], vector)
        ids = [h.article.id for h in hits]
        items.append(PoolItem(row["kind"], bool(row["expect"]), ids, [i in row["expect"] for i in ids], feats))
    return SetEvidence(name, role, items, matcher)


def decide(matcher: Matcher, items: list[PoolItem]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per message: the chosen answer is right, its confidence, the message is answerable."""
    right, conf, answerable = [], [], []
    for item in items:
        if not item.ids:
            right.append(False)
            conf.append(0.0)
        else:
            best = matcher.choose(item.features)
            right.append(item.right[best])
            conf.append(matcher.calibrator.probability(item.features[best]))
        answerable.append(item.answerable)
    return np.array(right), np.array(conf), np.array(answerable)


THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)


def _score(acc: float, recall: float) -> float:
    vals = [v for v in (acc, recall) if not np.isnan(v)]
    return min(vals) if vals else 0.0


def best_threshold(decided: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """The threshold maximising the mean over sets of min(in-scope accuracy, OOS recall), and that mean."""
    best_t, best = 0.5, -1.0
    for t in THRESHOLDS:
        score = float(np.mean([_score(*rates(*d, t)) for d in decided]))
        if score > best:
            best_t, best = float(t), score
    return best_t, best


def fit(sets: list[SetEvidence], model: str) -> Calibrator:
    """Fit the calibrator on the sets' chosen answers; each set weighs the same, answerable and not equally."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    x, y, w = [], [], []
    for s in sets:
        n_in = sum(it.answerable for it in s.items)
        n_out = len(s.items) - n_in
        for item in s.items:
            if not item.ids:
                continue
            best = s.matcher.choose(item.features)
            x.append([item.features[best][f] for f in FEATURES])
            y.append(item.right[best])
            w.append(0.5 / max(1, n_in) if item.answerable else 0.5 / max(1, n_out))
    w = np.array(w) * len(w) / np.sum(w)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(x), np.array(y), sample_weight=w)
    calibrator = Calibrator(model, tuple(float(v) for v in lr.coef_[0]), float(lr.intercept_[0]), 0.5)
    for s in sets:
        s.matcher.calibrator = calibrator
    t, score = best_threshold([decide(s.matcher, s.items) for s in sets])
    return Calibrator(
        model,
        calibrator.weights,
        calibrator.bias,
        t,
        f"support-QA pool ({', '.join(f'{s.name} ({len(s.items)})' for s in sets)}); sets weighted equally, "
        f"answerable and unanswerable equally within each; threshold maximising the mean of min(in-scope "
        f"accuracy, OOS recall) = {score:.3f}",
    )


def report(sets: list[SetEvidence], calibrator: Calibrator) -> None:
    print(f"\nThreshold {calibrator.threshold:.2f}\n")
    print("| set | role | answerable | unanswerable | top-1 right | in-scope accuracy | OOS recall |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for s in sets:
        s.matcher.calibrator = calibrator
        right, conf, answerable = decide(s.matcher, s.items)
        acc, recall = rates(right, conf, answerable, calibrator.threshold)
        top1 = float(right[answerable].mean()) if answerable.any() else float("nan")
        print(
            f"| {s.name} | {s.role} | {int(answerable.sum())} | {int((~answerable).sum())} | {top1:.3f} "
            f"| {acc:.3f} | {recall:.3f} |"
        )


def leave_one_out(sets: list[SetEvidence], model: str) -> None:
    fit_sets = [s for s in sets if s.role == "fit"]
    print("\nLeave one KB out (fitted without the set; its own best is the threshold best for it):\n")
    print(
        "| set | threshold without it | in-scope accuracy | OOS recall | own best t | own accuracy | own recall "
        "| within 0.05 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for s in sets:
        others = [o for o in fit_sets if o is not s]
        calibrator = fit(others, model)
        s.matcher.calibrator = calibrator
        d = decide(s.matcher, s.items)
        acc, recall = rates(*d, calibrator.threshold)
        own_t, _ = best_threshold([d])
        own_acc, own_recall = rates(*d, own_t)
        ok = all(np.isnan(b) or a >= b - 0.05 for a, b in ((acc, own_acc), (recall, own_recall)))
        print(
            f"| {s.name} | {calibrator.threshold:.2f} | {acc:.3f} | {recall:.3f} | {own_t:.2f} | {own_acc:.3f} "
            f"| {own_recall:.3f} | {'yes' if ok else 'no'} |"
        )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="fit the calibrator on the pool's fit sets and save it")
    parser.add_argument("--loko", action="store_true", help="print the leave-one-KB-out table (implied by --fit)")
    parser.add_argument("--sets", help="comma-separated set names (default: the whole pool)")
    parser.add_argument("--list", action="store_true", help="list the pool's sets and exit")
    parser.add_argument("--dump", type=Path, help="write every message's candidate features to this JSON file")
    args = parser.parse_args()
    sets_spec = pool_sets(args.sets.split(",") if args.sets else None)
    if args.list:
        for name, folder, role in sets_spec:
            print(f"{name}\t{role}\t{folder}")
        return
    settings = Settings()
    embedder = make_embedder(settings)
    if hasattr(embedder, "load"):
        embedder.load()
    placeholder = Calibrator(embedder.name, (0.0,) * len(FEATURES), 0.0, 0.5)
    calibrator = placeholder if args.fit else load_calibrator(embedder.name)
    sets = [collect(n, f, r, embedder, settings, calibrator) for n, f, r in sets_spec]
    if args.dump:
        args.dump.write_text(
            json.dumps(
                {
                    s.name: [
                        {
                            "kind": i.kind,
                            "answerable": i.answerable,
                            "ids": i.ids,
                            "right": i.right,
                            "features": i.features,
                        }
                        for i in s.items
                    ]
                    for s in sets
                }
            ),
            encoding="utf-8",
        )
    if args.fit:
        calibrator = fit([s for s in sets if s.role == "fit"], embedder.name)
        path = default_calibrator_path(embedder.name)
        path.write_text(json.dumps(calibrator.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}: threshold {calibrator.threshold:.2f}", file=sys.stderr)
    report(sets, calibrator)
    if args.fit or args.loko:
        leave_one_out(sets, embedder.name)
    print(
        f"\nCommand: python scripts/bench_confidence.py{' --fit' if args.fit else ''}{' --loko' if args.loko else ''}"
    )


if __name__ == "__main__":
    main()
