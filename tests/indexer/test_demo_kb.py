"""Integration: the bundled model over the bundled demo KB."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DEMO_KB, ROOT

from indexer.articles import load_kb
from indexer.retrieval import HybridSearcher
from indexer.store import current_generation, load_index

pytestmark = pytest.mark.integration


def test_demo_kb_is_valid_and_bilingual():
    loaded = load_kb(DEMO_KB)
    assert loaded.problems == ()
    langs = [a.lang for a in loaded.articles]
    assert len(langs) >= 30 and langs.count("fa") >= len(langs) / 2 and langs.count("en") >= 5
    assert sum(1 for a in loaded.articles if not a.questions) >= 5


@pytest.fixture(scope="module")
def demo_searcher(real_embedder, real_demo_index):
    index = load_index(real_demo_index, expect_model=real_embedder.name)
    return HybridSearcher(index, real_embedder, dense_weight=0.9)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("کتاب الکترونیکی که خریدم را روی چند تا گوشی می‌توانم بخوانم؟", "fa-ebook-download"),
        ("امتیازهای باشگاه مشتریان کی باطل می‌شوند؟", "fa-loyalty-club"),
        ("سیم‌كارتم گم شده، چطور با شماره‌ي جدیدم وارد حسابم شوم؟", "fa-change-phone-number"),
        ("اگر قسط گوشی را دیر پرداخت کنم چه اتفاقی می‌افتد؟", "fa-installments"),
    ],
)
def test_persian_question_finds_persian_article(demo_searcher, query, expected):
    assert demo_searcher.search(query, k=3)[0].article.id == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "Will a technician install the split air conditioner I bought, and how much does it cost?",
            "fa-installation-service",
        ),
        ("Do you offer installment plans when buying a phone?", "fa-installments"),
        ("Where can I download the e-book I bought?", "fa-ebook-download"),
    ],
)
def test_english_question_finds_persian_only_article(demo_searcher, query, expected):
    hits = demo_searcher.search(query, k=3)
    assert hits[0].article.id == expected
    assert hits[0].article.lang == "fa"


def test_english_question_finds_english_article(demo_searcher):
    assert (
        demo_searcher.search("Can you send my order to my sister in Canada?", k=3)[0].article.id == "en-shipping-abroad"
    )


def test_sigkill_during_real_build_keeps_old_index_serving(tmp_path, real_embedder):
    """Kill `pasokh index` with SIGKILL while it embeds; the old index still loads and answers."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for path in sorted(DEMO_KB.rglob("*.md"))[:3]:
        (kb / path.name).write_bytes(path.read_bytes())
    idx = tmp_path / "idx"
    env = {**os.environ, "PASOKH_KB": str(kb), "PASOKH_INDEX": str(idx)}
    exe = [sys.executable, "-m", "bot.cli"]
    assert subprocess.run([*exe, "index"], env=env, cwd=ROOT, capture_output=True, timeout=600).returncode == 0
    old = current_generation(idx)
    # A much larger KB so the next build is still embedding when it is killed.
    for i in range(400):
        (kb / f"gen-{i:03d}.md").write_text(
            f"# Generated article {i}\n" + f"Paragraph {i} about deliveries, refunds and warranty. " * 40,
            encoding="utf-8",
        )
    proc = subprocess.Popen([*exe, "-v", "index"], env=env, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    deadline = time.time() + 300
    for line in proc.stderr:  # wait until the model is loaded and embedding has begun
        if b"Loading embedding model" in line or time.time() > deadline:
            break
    time.sleep(4)
    assert proc.poll() is None, "build finished before it could be killed; make the KB larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert current_generation(idx) == old
    index = load_index(idx, expect_model=real_embedder.name)
    assert len(index.articles) == 3
    assert HybridSearcher(index, real_embedder).search("delivery", k=1)
    done = subprocess.run([*exe, "index"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "400 added" in done.stdout and "3 unchanged" in done.stdout
    assert not list(Path(idx).glob(".build-*"))
