"""Retrieval quality: R@1, R@5 and MRR of dense, lexical and hybrid search.

Each dataset's passage pool is indexed with the production indexer (one article per
passage), then every question of the chosen split is searched in all three modes.

    python scripts/bench_retrieval.py                       # parsinlu_rc, persianqa, stackfaq on test
    python scripts/bench_retrieval.py --split dev --tune    # sweep the hybrid weight on a dev split
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.articles import Article  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.embedding import make_embedder  # noqa: E402
from indexer.retrieval import MODES, HybridSearcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DATASETS = ("parsinlu_rc", "persianqa", "stackfaq")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _text(value) -> str:
    """Passage fields as text (a few source titles are numbers or NaN)."""
    return "" if value is None or value != value else str(value)


def articles_from_passages(rows: list[dict], lang: str) -> list[Article]:
    return [
        Article(
            id=str(r["id"]),
            title=_text(r.get("title")),
            lang=lang,
            body=_text(r.get("text")),
            url=_text(r.get("url")) or None,
        ).with_hash()
        for r in rows
    ]


def evaluate(searcher: HybridSearcher, questions: list[dict], vectors: np.ndarray, mode: str) -> dict:
    ranks = []
    for q, vec in zip(questions, vectors, strict=True):
        hits = searcher.search(q["question"], k=10, mode=mode, query_vector=vec)
        ids = [h.article.id for h in hits]
        ranks.append(ids.index(q["passage_id"]) + 1 if q["passage_id"] in ids else None)
    n = len(ranks)
    return {
        "R@1": sum(r == 1 for r in ranks) / n,
        "R@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "MRR": sum(1 / r for r in ranks if r is not None) / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--split", default="test")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tune", action="store_true", help="sweep the hybrid dense weight")
    parser.add_argument("--model", help="embedding model (default: the bundled e5)")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "bench", help="where benchmark indexes are kept")
    args = parser.parse_args()
    settings = Settings(**({"model": args.model} if args.model else {}))
    embedder = make_embedder(settings)
    print(f"model: {embedder.name}; split: {args.split}; hybrid dense weight {settings.dense_weight}")
    print(f"{'dataset':<12} {'mode':<8} {'R@1':>6} {'R@5':>6} {'MRR':>6}  queries")
    for name in args.datasets:
        folder = args.data / name
        split_file = folder / f"{args.split}.jsonl"
        if not split_file.exists():
            print(f"{name:<12} (no {args.split} split)")
            continue
        lang = "en" if name == "stackfaq" else "fa"
        articles = articles_from_passages(read_jsonl(folder / "passages.jsonl"), lang)
        questions = read_jsonl(split_file)
        # A persistent folder per dataset: the incremental build makes reruns cheap.
        index_dir = args.cache / f"{name}-{embedder.name.replace('/', '_')}"
        started = time.perf_counter()
        build_index(
            articles, embedder, index_dir, section_max_chars=settings.section_max_chars, progress=lambda d, t: None
        )
        built = time.perf_counter() - started
        index = load_index(index_dir)
        vectors = embedder.embed_queries([q["question"] for q in questions])
        if args.tune:
            for weight in np.arange(0.3, 1.001, 0.05):
                searcher = HybridSearcher(index, embedder, dense_weight=float(weight))
                m = evaluate(searcher, questions, vectors, "hybrid")
                print(f"{name:<12} w={weight:.2f}  {m['R@1']:.3f} {m['R@5']:.3f} {m['MRR']:.3f}")
            continue
        searcher = HybridSearcher(index, embedder, dense_weight=settings.dense_weight)
        for mode in ("dense", "lexical", "hybrid"):
            assert mode in MODES
            m = evaluate(searcher, questions, vectors, mode)
            print(f"{name:<12} {mode:<8} {m['R@1']:.3f} {m['R@5']:.3f} {m['MRR']:.3f}  {len(questions)}")
        print(f"{name:<12} (index of {len(articles)} passages built in {built:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
