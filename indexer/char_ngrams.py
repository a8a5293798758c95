"""Hashed character n-grams of a text, as the article classifier sees them.

The same features as scikit-learn's ``HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5),
alternate_sign=False, norm=None)`` (the n-grams of each whitespace-separated word padded with one
space each side, hashed with signed 32-bit MurmurHash3 into ``n_features`` columns), followed by
sublinear counts (1 + log) and L2 normalisation. It is re-implemented here because the chat
service scores every message: scikit-learn's vectoriser costs about 0.5 ms per message, half the
per-turn budget, while this costs a few tens of microseconds once a KB's n-grams are cached.
``tests/indexer/test_char_ngrams.py`` checks the output against scikit-learn's.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

N_FEATURES = 2**14
"""Hash columns. Tuning used 2^15; half that keeps the classifier's weight matrix (articles x
columns) affordable for KBs of thousands of articles."""
NGRAM_RANGE = (2, 5)

_MASK = 0xFFFFFFFF
_WHITE_SPACES = re.compile(r"\s\s+")


def murmurhash3_32(data: bytes, seed: int = 0) -> int:
    """Return the signed 32-bit MurmurHash3 (x86) of ``data``, as ``sklearn.utils.murmurhash3_32``."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _MASK
    length = len(data)
    end = length - length % 4
    for i in range(0, end, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * c2) & _MASK
        h ^= k
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[end:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * c2) & _MASK
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


@lru_cache(maxsize=2**17)
def column(gram: str, n_features: int = N_FEATURES) -> int:
    """Hash column of one n-gram (cached: a KB and its traffic reuse a small vocabulary)."""
    h = murmurhash3_32(gram.encode("utf-8"))
    if h == -(2**31):  # abs() would overflow in C; scikit-learn special-cases it the same way
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(h) % n_features


def ngrams(text: str) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with a space (``char_wb``)."""
    low, high = NGRAM_RANGE
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        size = len(w)
        for n in range(low, high + 1):
            offset = 0
            out.append(w[:n])
            while offset + n < size:
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:  # a word shorter than n is counted once
                break
    return out


def features(text: str, n_features: int = N_FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted columns and L2-normalised sublinear counts (float32) of one text's n-grams."""
    counts: dict[int, int] = {}
    for gram in ngrams(text):
        col = column(gram, n_features)
        counts[col] = counts.get(col, 0) + 1
    if not counts:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    cols = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
    values = 1.0 + np.log(np.array([counts[c] for c in cols], dtype=np.float32))
    values /= np.sqrt(np.dot(values, values))
    return cols, values.astype(np.float32)


def feature_matrix(texts: list[str], n_features: int = N_FEATURES):
    """Stack :func:`features` of several texts into a sparse CSR matrix (index time)."""
    from scipy.sparse import csr_matrix  # noqa: PLC0415 - index time only

    indptr, indices, data = [0], [], []
    for text in texts:
        cols, values = features(text, n_features)
        indices.append(cols)
        data.append(values)
        indptr.append(indptr[-1] + len(cols))
    return csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.array(indptr),
        ),
        shape=(len(texts), n_features),
        dtype=np.float32,
    )
