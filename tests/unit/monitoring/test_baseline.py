"""Baselines: quantile bins, categories, counts per bin, PSI, the JSON round trip."""

import numpy as np
import pandas as pd
import pytest

from stream_scorer.monitoring.baseline import (
    PREDICTION,
    Baseline,
    Distribution,
    build,
    categorical,
    numeric,
    psi,
)


def test_numeric_bins_are_deciles_of_the_reference():
    values = np.arange(1000, dtype=float)
    d = numeric(values)
    assert len(d.edges) == 9 and len(d.fractions) == 10
    assert d.fractions == pytest.approx([0.1] * 10)
    assert (d.min, d.max, d.null_rate) == (0.0, 999.0, 0.0)


def test_counts_are_bins_then_nulls_then_out_of_range():
    d = Distribution("numeric", (0.5, 0.5), 0.0, edges=(10.0,), min=0.0, max=20.0)
    counts = d.counts(np.array([-1.0, 5.0, 10.0, 15.0, 25.0, np.nan]))
    assert counts.tolist() == [2, 3, 1, 2]  # bins [<10, >=10], one null, two out of range


def test_repeated_values_collapse_bins():
    d = numeric(np.array([1.0] * 50 + [2.0] * 50))
    assert len(d.fractions) == len(d.edges) + 1
    assert sum(d.fractions) == pytest.approx(1.0)


def test_categories_keep_an_other_bin_and_count_unknowns_out_of_range():
    d = categorical(pd.Series(["a", "b", "b", None]))
    assert d.categories == ("a", "b")
    assert d.fractions == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert d.null_rate == 0.25
    assert d.counts(np.array(["a", "c", None, "b"], dtype=object)).tolist() == [1, 1, 1, 1, 1]


def test_booleans_are_categories():
    d = categorical(np.array([True, False, True]))
    assert d.counts(np.array([True, True])).tolist() == [0, 2, 0, 0, 0]


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift():
    expected = [0.25] * 4
    assert psi([25, 25, 25, 25], expected) == pytest.approx(0.0)
    shifted = psi([0, 10, 40, 50], expected)
    assert shifted is not None and shifted > 0.5
    assert psi([0, 0, 0, 0], expected) is None


def test_psi_of_a_two_sd_shift_is_large_and_of_a_sample_small():
    rng = np.random.default_rng(1)
    d = numeric(rng.normal(0, 1, 20_000))
    same = d.counts(rng.normal(0, 1, 5_000))[:10]
    moved = d.counts(rng.normal(2, 1, 5_000))[:10]
    assert psi(same, d.fractions) < 0.02
    assert psi(moved, d.fractions) > 1.0


def test_baseline_json_round_trips():
    rows = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan], "c": ["a", "b", "a", "a"]})
    baseline = build(
        rows, {"x": "double", "c": "string"}, "publish", np.array([0.1, 0.9, 0.5, 0.2])
    )
    again = Baseline.from_json(baseline.to_json())
    assert again == baseline
    assert list(again.columns) == ["x", "c", PREDICTION]
    assert again.features["x"].null_rate == 0.25


def test_a_malformed_baseline_is_refused():
    with pytest.raises(ValueError, match="not a baseline"):
        Baseline.from_json('{"rows": 1, "source": "publish", "features": {"x": {"kind": "x"}}}')
