"""BM25 lexical index over normalised Persian/English tokens (bm25s)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.textnorm import lexical_tokens


class LexicalIndex:
    """A bm25s index whose documents are the index keys, in key order."""

    def __init__(self, bm25, size: int) -> None:
        """Wrap a built or loaded ``bm25s.BM25``; use :meth:`build` or :meth:`load`."""
        self._bm25 = bm25
        self._size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        """Index ``texts`` (one per key) with Persian-aware normalisation and tokens."""
        import bm25s  # noqa: PLC0415

        bm25 = bm25s.BM25()
        # An empty token list would leave a document out of bm25s' matrix and shift ids.
        bm25.index([lexical_tokens(t) or ["\x00"] for t in texts], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, folder: Path) -> None:
        """Write the index files into ``folder``."""
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """Read an index written by :meth:`save`; ``size`` is the number of keys."""
        import bm25s  # noqa: PLC0415

        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every key for ``query`` (zeros when no word is known)."""
        tokens = lexical_tokens(query)
        if not tokens or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
