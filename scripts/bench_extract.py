"""Answer selection: given the right passage or article, does the quote hold the answer?

For every question of an extractive-QA set the gold passage (or, for a support-QA set, the
expected article) is given; the shipped selector (``bot/extract.py``) picks the quote, and the
question counts when one of its gold answers occurs in the quote (both normalised: digits,
ZWNJ, thousands separators, case, whitespace). Two baselines pick from the same text: the
previous picker (rarity-weighted word overlap, ``scripts/_extract_baseline.py``) and the first
sentence of the best section.

Sets (``--sets``, default the report sets):

* ``parsinlu_test``, ``persianqa_test``, ``doc2dial_test`` — report sets (test splits, never fitted);
* ``parsinlu_train``, ``parsinlu_dev`` — checks (ParsiNLU is CC BY-NC-SA: evaluated, never fitted on);
* ``supportqa_dev`` — the fit set: each answerable row against its expected article, indexed with
  the production indexer, the preferred section coming from the production search.

    python scripts/bench_extract.py                      # report sets, shipped weights
    python scripts/bench_extract.py --sets supportqa_dev,parsinlu_dev
    python scripts/bench_extract.py --fit                # fit on supportqa_dev, save, report everything

Passage and question vectors are cached under ``var/bench/extract/<model>/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import _extract_baseline  # noqa: E402
from bench_support import has_fact, read_set  # noqa: E402

from bot.extract import FEATURES, select_quote, shipped_weights, unit_features  # noqa: E402
from bot.extract import _units as section_unit_terms  # noqa: E402
from indexer.build import build_from_kb  # noqa: E402
from indexer.embedding import make_embedder  # noqa: E402
from indexer.readings import readings  # noqa: E402
from indexer.retrieval import HybridSearcher  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import load_index  # noqa: E402
from indexer.units import quote_texts  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "var" / "bench" / "extract"
WEIGHTS = ROOT / "bot" / "models" / "answer_selection.json"

QA_SETS = {
    "parsinlu_train": ("parsinlu_rc", "qa_train.jsonl", "check"),
    "parsinlu_dev": ("parsinlu_rc", "qa_dev.jsonl", "check"),
    "parsinlu_test": ("parsinlu_rc", "qa_test.jsonl", "report"),
    "persianqa_test": ("persianqa", "qa_test.jsonl", "report"),
    "doc2dial_test": ("doc2dial", "qa_test.jsonl", "report"),
}
REPORT = ["parsinlu_test", "persianqa_test", "doc2dial_test"]
FIT = ["supportqa_dev"]  # licence-clean (CC BY 4.0) and written for the task
NON_COMMERCIAL = {"parsinlu_train", "parsinlu_dev", "parsinlu_test"}


@dataclass
class Item:
    """One question with the text it is answered from."""

    question: str
    sections: list[str]
    answers: list[str]
    vectors: list[np.ndarray | None] = field(default_factory=list)
    query_vector: np.ndarray | None = None
    focus: str | None = None
    preferred: int = 0
    headings: list[str] | None = None


def _cached(embed, texts: list[str], cache: Path, tag: str) -> np.ndarray:
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(("\x1e".join(texts)).encode()).hexdigest()[:16]
    path = cache / f"{tag}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    out = np.vstack([embed(texts[i : i + 64]) for i in range(0, len(texts), 64)]) if texts else np.zeros((0, 1))
    np.save(path, out)
    return out


def qa_items(name: str, embedder, cache: Path) -> list[Item]:
    """Questions of an extractive-QA set with their gold passage as one section."""
    folder, file, _ = QA_SETS[name]
    passages = {p["id"]: p for p in map(json.loads, (DATA / folder / "passages.jsonl").open(encoding="utf-8"))}
    rows = [json.loads(line) for line in (DATA / folder / file).open(encoding="utf-8") if line.strip()]
    rows = [r for r in rows if not r.get("impossible") and r["answers"]]
    items = [Item(r["question"], [passages[r["passage_id"]]["text"]], r["answers"]) for r in rows]
    _embed(items, [passages[r["passage_id"]].get("title", "") for r in rows], embedder, cache)
    return items


def _embed(items: list[Item], titles: list[str], embedder, cache: Path) -> None:
    """Attach query vectors and per-section unit vectors (passage side, "<title>: <unit>")."""
    qvec = _cached(embedder.embed_queries, [it.question for it in items], cache, "queries")
    per_item = [[quote_texts(title, s) for s in it.sections] for it, title in zip(items, titles, strict=True)]
    unique = list(dict.fromkeys(t for sections in per_item for texts in sections for t in texts))
    uvec = _cached(embedder.embed_passages, unique, cache, "units")
    at = {t: i for i, t in enumerate(unique)}
    for it, sections, q in zip(items, per_item, qvec, strict=True):
        it.query_vector = q
        it.vectors = [np.stack([uvec[at[t]] for t in texts]) if texts else None for texts in sections]


def support_items(folder: Path, embedder, settings: Settings, cache: Path) -> list[Item]:
    """Answerable rows of a support-QA set against each expected article that holds a fact."""
    build_from_kb(folder / "kb", embedder, cache / "index", section_max_chars=settings.section_max_chars)
    index = load_index(cache / "index")
    searcher = HybridSearcher(index, embedder, dense_weight=settings.dense_weight)
    rows = read_set(folder)
    first_turns = {(r.get("session"), r.get("turn")): r for r in rows if r.get("session")}
    items = []
    for row in rows:
        if not row["expect"] or not row["facts"]:
            continue
        parts = [(row["q"], row["expect"], row["facts"], None)]
        if row["kind"] == "multi" and row.get("facts_each"):
            parts = [
                (row["q"], [aid], facts, None) for aid, facts in zip(row["expect"], row["facts_each"], strict=False)
            ]
        if row.get("turn") == 2:
            previous = first_turns.get((row["session"], 1))
            query = f"{previous['q']} {row['q']}" if previous else row["q"]
            parts = [(query, row["expect"], row["facts"], row["q"])]
        for query, expect, facts, focus in parts:
            vector = embedder.embed_queries([query])[0]
            hits = searcher.search(query, k=50)
            for aid in expect:
                sections = searcher.article_sections(aid)
                if not any(has_fact(s.text, facts) for s in sections):
                    continue
                preferred_id = next((h.section.id for h in hits if h.article.id == aid), None)
                preferred = next((i for i, s in enumerate(sections) if s.id == preferred_id), 0)
                items.append(
                    Item(
                        query,
                        [s.text for s in sections],
                        facts,
                        [index.section_quote_vectors(s.id) for s in sections],
                        vector,
                        focus,
                        preferred,
                        [" ".join(s.heading_path[1:]) for s in sections],
                    )
                )
                break
    return items


_SPACE = re.compile(r"\s+")


def contains(quote: str, answers: list[str]) -> bool:
    """Whether one of ``answers`` occurs in ``quote`` (normalised, whitespace collapsed)."""
    return has_fact(_SPACE.sub(" ", quote), [_SPACE.sub(" ", a) for a in answers])


def quotes(item: Item, method: str, weights: dict[str, float] | None = None) -> str:
    if method == "selector":
        # As the chat service asks: the message with its other readings (formal, Persian letters).
        return select_quote(
            item.sections,
            " ".join(readings(item.question)),
            query_vector=item.query_vector,
            vectors=item.vectors,
            focus=" ".join(readings(item.focus)) if item.focus else None,
            preferred=item.preferred,
            headings=item.headings,
            weights=weights,
        ).text
    if method == "previous":
        return _extract_baseline.best_passage(item.sections, item.question, focus=item.focus, preferred=item.preferred)
    units = [u for u, _ in section_unit_terms(item.sections[item.preferred])]
    return units[0].text if units else ""


METHODS = ("selector", "previous", "first sentence")


def report(name: str, items: list[Item], weights: dict[str, float] | None) -> dict:
    out: dict = {"set": name, "n": len(items)}
    for method in METHODS:
        picked = [quotes(it, method, weights) for it in items]
        out[method] = sum(contains(q, it.answers) for q, it in zip(picked, items, strict=True)) / max(len(items), 1)
        if method == "selector":
            out["median_chars"] = statistics.median(len(q) for q in picked) if picked else 0
    return out


def fit(items: list[Item], l2: float = 0.05) -> dict[str, float]:
    """Conditional logit: the units holding an answer should outscore the article's other units."""
    from scipy.optimize import minimize  # noqa: PLC0415

    groups = []
    for it in items:
        flat, rows = unit_features(
            it.sections, " ".join(readings(it.question)), query_vector=it.query_vector, vectors=it.vectors,
            focus=" ".join(readings(it.focus)) if it.focus else None,
            preferred=it.preferred, headings=it.headings,
        )  # fmt: skip
        units = [section_unit_terms(it.sections[si])[ui][0].text for si, ui in flat]
        positive = np.array([contains(u, it.answers) for u in units])
        if positive.any() and not positive.all():
            groups.append((rows, positive))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for rows, positive in groups:
            s = rows @ w
            s = s - s.max()
            e = np.exp(s)
            p_all = e / e.sum()
            p_pos = e * positive / (e * positive).sum()
            total -= float(np.log((e * positive).sum()) - np.log(e.sum()))
            grad -= rows.T @ (p_pos - p_all)
        return total / len(groups), grad / len(groups)

    start = np.array([shipped_weights().get(n, 0.0) for n in FEATURES])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    print(f"fitted on {len(groups)} questions: loss {result.fun:.4f}", file=sys.stderr)
    return {n: round(float(v), 4) for n, v in zip(FEATURES, result.x, strict=True)}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", help=f"comma-separated: {', '.join([*QA_SETS, 'supportqa_dev'])}")
    parser.add_argument("--fit", action="store_true", help="fit the weights on supportqa_dev, save them, report all")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    names = args.sets.split(",") if args.sets else (FIT + ["parsinlu_dev"] + REPORT if args.fit else REPORT)
    unknown = set(names) - set(QA_SETS) - {"supportqa_dev"}
    if unknown:
        raise SystemExit(f"unknown set(s): {', '.join(sorted(unknown))}")
    settings = Settings()
    embedder = make_embedder(settings)
    if hasattr(embedder, "load"):
        embedder.load()
    started = time.perf_counter()
    items: dict[str, list[Item]] = {}
    for name in dict.fromkeys((FIT if args.fit else []) + names):
        cache = CACHE / embedder.name.replace("/", "_") / name
        cache.mkdir(parents=True, exist_ok=True)
        if name == "supportqa_dev":
            items[name] = support_items(DATA / "supportqa_dev", embedder, settings, cache)
        else:
            items[name] = qa_items(name, embedder, cache)
    weights = None
    if args.fit:
        weights = fit([it for n in FIT for it in items[n]])
        WEIGHTS.write_text(
            json.dumps({"fitted_on": FIT, "features": list(FEATURES), "weights": weights}, indent=1) + "\n",
            encoding="utf-8",
        )
        shipped_weights.cache_clear()
        print(f"wrote {WEIGHTS.relative_to(ROOT)}: {weights}", file=sys.stderr)
    results = [report(n, items[n], weights) for n in names]
    print("| set | questions | answer in quote: selector | previous picker | first sentence | median quote chars |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['set']} | {r['n']} | {r['selector']:.3f} | {r['previous']:.3f} | {r['first sentence']:.3f} "
            f"| {r['median_chars']:.0f} |"
        )
    print(f"\nCommand: python scripts/bench_extract.py{' --fit' if args.fit else ''}"
          f"{' --sets ' + args.sets if args.sets else ''}  ({time.perf_counter() - started:.0f} s)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
