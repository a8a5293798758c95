"""A deterministic synthetic KB for the benchmarks: two thirds Persian, some articles without front matter.

Shared by ``bench_index.py`` and ``bench_latency.py``; scripts import it after putting
``scripts/`` on ``sys.path``.
"""

from __future__ import annotations

import random
from pathlib import Path

FA_WORDS = (
    "سفارش ارسال مرجوعی پرداخت کارت گارانتی تحویل شیراز تهران اصفهان هزینه روز کاری پشتیبانی حساب رمز کد تخفیف"
).split()
EN_WORDS = (
    "order delivery return refund payment card warranty courier Tehran Shiraz cost working days support account code"
).split()


def generate_kb(folder: Path, count: int, seed: int = 13) -> None:
    """Write ``count`` articles of 3 sections each, two thirds Persian, some without front matter."""
    rng = random.Random(seed)
    for i in range(count):
        fa = i % 3 != 2
        words = FA_WORDS if fa else EN_WORDS
        sections = []
        for s in range(3):
            sentences = [" ".join(rng.choice(words) for _ in range(12)) + "." for _ in range(5)]
            sections.append(f"## {'بخش' if fa else 'Part'} {s + 1}\n" + " ".join(sentences))
        title = f"{'راهنمای' if fa else 'Guide'} {i}"
        question = " ".join(rng.choice(words) for _ in range(6))
        lang = "fa" if fa else "en"
        front = "" if i % 5 == 0 else f"---\nid: gen-{i:05d}\nlang: {lang}\nquestions:\n  - {question}?\n---\n"
        (folder / f"gen-{i:05d}.md").write_text(f"{front}# {title}\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
