"""The answer-selection benchmark's own logic: the containment test and the weight fit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

bench = pytest.importorskip("bench_extract")


def test_contains_normalises_digits_separators_and_whitespace():
    assert bench.contains("هزینه ارسال ۴۹٬۰۰۰ تومان\nاست", ["49000 تومان است"])
    assert bench.contains("Refunds take 7\n  days.", ["7 days"])
    assert not bench.contains("Refunds take 8 days.", ["7 days"])


def test_fit_learns_the_evidence_that_points_at_the_answer():
    # Articles where the answer is always the unit with the number, never the one that repeats the words.
    names = ["apple", "brick", "cable", "daisy", "eagle", "fable", "grape", "honey", "igloo", "jelly"]
    items = [
        bench.Item(
            f"what is the fee for the {name} parcel",
            [f"The fee for the {name} parcel is charged once per order. It costs {i + 2} Toman."],
            [f"{i + 2} Toman"],
        )
        for i, name in enumerate(names)
    ]
    weights = bench.fit(items)
    assert weights["kind_match"] > 0
    # A quote too short for both sentences: the fitted weights pick the one with the amount.
    picked = [bench.select_quote(it.sections, it.question, weights=weights, max_chars=30).text for it in items]
    assert all(bench.contains(q, it.answers) for q, it in zip(picked, items, strict=True))
