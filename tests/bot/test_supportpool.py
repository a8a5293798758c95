"""The support-QA pool writer: a small generated set keeps the format's invariants and is reproducible."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SMALL = {"parsinlu-fa-12", "parsinlu-overlap-fa-36"}

pytestmark = pytest.mark.skipif(
    not (DATA / "parsinlu_rc" / "passages.jsonl").is_file(), reason="../shared/data is not beside the clone"
)


@pytest.fixture(scope="module")
def pool():
    """The script loaded as a module (registered first: its dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location("supportpool_under_test", ROOT / "scripts" / "_supportpool.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def written(pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("pool")
    return out, pool.build_pool(out, only=SMALL)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_supportpool_small_sets_pass_the_checker(pool, written):
    _, sets = written
    assert {s.name for s in sets} == SMALL
    for s in sets:
        assert pool.check_set(s.path) == []


def test_supportpool_counts_roles_and_langs_match_the_files(written):
    _, sets = written
    for s in sets:
        rows = [json.loads(line) for line in (s.path / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
        kinds = [r["kind"] for r in rows]
        assert s.role == "validate"  # ParsiNLU is CC BY-NC-SA: evaluated, never fitted on
        assert s.langs == ("fa",)
        assert s.articles == len(list((s.path / "kb").glob("*.md")))
        assert s.in_scope == sum(k.startswith("paraphrase_") for k in kinds) > 0
        assert s.near_miss == kinds.count("near_miss") > 0
        assert s.oos == kinds.count("oos") > 0
        assert all(r["kind"] not in ("near_miss", "oos") or (r["expect"] == r["facts"] == []) for r in rows)


def test_supportpool_facts_are_verbatim_in_an_expected_article(written):
    _, sets = written
    for s in sets:
        texts = {p.stem: p.read_text(encoding="utf-8") for p in (s.path / "kb").glob("*.md")}
        for line in (s.path / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for fact in row["facts"]:
                assert any(fact in texts[e] for e in row["expect"]), (s.name, row["q"], fact)


def test_supportpool_overlap_questions_expect_the_digest_too(written):
    _, sets = written
    overlap = next(s for s in sets if "overlap" in s.name)
    rows = [json.loads(line) for line in (overlap.path / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    doubled = [r for r in rows if len(r["expect"]) == 2]
    assert doubled and all(r["expect"][1].startswith("parsinlu-rc-digest-") for r in doubled)


def test_supportpool_rewrite_gives_the_same_bytes(pool, written):
    out, sets = written
    before = _snapshot(out)
    (sets[0].path / "kb" / "stale.md").write_text("# left over\n\nfrom an earlier run\n", encoding="utf-8")
    pool.build_pool(out, only=SMALL)
    assert _snapshot(out) == before
