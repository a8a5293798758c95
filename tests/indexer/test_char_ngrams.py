import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2
from sklearn.utils import murmurhash3_32 as sklearn_murmurhash3_32

from indexer import char_ngrams


def _sklearn_features(texts: list[str]):
    """The featuriser char_ngrams re-implements, as the classifier used it before."""
    vectorizer = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=char_ngrams.NGRAM_RANGE,
        n_features=char_ngrams.N_FEATURES,
        alternate_sign=False,
        norm=None,
    )
    counts = vectorizer.transform(texts).astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)
    out = l2(counts)
    out.sort_indices()
    return out


TEXTS = [
    "How long does delivery to Shiraz take?",
    "هزینه ارسال به شیراز چقدر است؟",
    "  two  spaces\tand a tab  ",
    "a",
    "",
    "ẞtraße İstanbul 😀😀",
    "refund refund refund",
]


@given(st.binary(max_size=40))
def test_murmurhash3_32_matches_scikit_learn(data):
    assert char_ngrams.murmurhash3_32(data) == sklearn_murmurhash3_32(data, seed=0)


@pytest.mark.parametrize("text", TEXTS)
def test_features_match_scikit_learn_hashing_vectorizer(text):
    expected = _sklearn_features([text])
    cols, values = char_ngrams.features(text)
    assert cols.tolist() == expected.indices.tolist()
    np.testing.assert_allclose(values, expected.data, rtol=0, atol=1e-7)


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_features_match_scikit_learn_for_any_text(text):
    expected = _sklearn_features([text])
    cols, values = char_ngrams.features(text)
    assert cols.tolist() == expected.indices.tolist()
    np.testing.assert_allclose(values, expected.data, rtol=0, atol=1e-6)


def test_feature_matrix_stacks_the_rows():
    matrix = char_ngrams.feature_matrix(TEXTS)
    expected = _sklearn_features(TEXTS)
    assert matrix.shape == expected.shape
    assert matrix.indptr.tolist() == expected.indptr.tolist()
    assert matrix.indices.tolist() == expected.indices.tolist()
    np.testing.assert_allclose(matrix.data, expected.data, atol=1e-7)


def test_feature_columns_are_sorted_and_values_unit_length():
    cols, values = char_ngrams.features("how much is delivery to shiraz")
    assert (np.diff(cols) > 0).all()
    assert float(np.dot(values, values)) == pytest.approx(1.0, rel=1e-6)


def test_features_of_an_empty_text_are_empty():
    cols, values = char_ngrams.features("   ")
    assert len(cols) == 0 and len(values) == 0
