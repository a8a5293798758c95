"""Index build speed: full build of a generated KB, then an incremental rebuild after one edit.

python scripts/bench_index.py --articles 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from _synthkb import generate_kb  # noqa: E402

from indexer.build import build_from_kb  # noqa: E402
from indexer.embedding import make_embedder  # noqa: E402
from indexer.settings import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--model", help="embedding model (default: the bundled e5)")
    args = parser.parse_args()
    settings = Settings(**({"model": args.model} if args.model else {}))
    embedder = make_embedder(settings)
    embedder.embed_passages(["warm up"])  # load the model outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        kb, idx = Path(tmp) / "kb", Path(tmp) / "idx"
        kb.mkdir()
        generate_kb(kb, args.articles)
        quiet = lambda done, total: None  # noqa: E731
        full = build_from_kb(kb, embedder, idx, progress=quiet)
        kb_size = f"{full.articles} articles, {full.sections} sections, {full.embedded_keys} vectors"
        print(f"model: {embedder.name}; KB: {kb_size}")
        sections_per_s, vectors_per_s = full.sections / full.seconds, full.embedded_keys / full.seconds
        print(f"full build: {full.seconds:.1f} s, {sections_per_s:.1f} sections/s, {vectors_per_s:.1f} vectors/s")
        target = kb / "gen-00007.md"
        target.write_text(target.read_text(encoding="utf-8") + "\nیک جمله‌ی تازه درباره‌ی ارسال.\n", encoding="utf-8")
        started = time.perf_counter()
        inc = build_from_kb(kb, embedder, idx, progress=quiet)
        wall = time.perf_counter() - started
        print(f"incremental rebuild, 1 changed article: {wall:.2f} s ({inc.embedded_keys} vectors re-embedded)")
        print(f"summary line: {inc.summary()}")
        started = time.perf_counter()
        same = build_from_kb(kb, embedder, idx, progress=quiet)
        print(f"rebuild with nothing changed: {time.perf_counter() - started:.2f} s ({same.embedded_keys} vectors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
