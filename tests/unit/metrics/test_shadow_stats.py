"""ShadowStats from a batch's observed aggregates."""

from stream_scorer.metrics.shadow import ShadowStats, stats


def test_regressor_stats_give_agreement_and_mean_absolute_difference():
    observed = {
        "shadow_compared": 8,
        "shadow_agreed": 2,
        "shadow_errors": 1,
        "shadow_example_error": "model raised ValueError: x",
        "shadow_absolute_difference": 3.0,
    }

    assert stats(observed, None) == ShadowStats(
        model_version=None,
        compared=8,
        agreement_rate=0.25,
        mean_absolute_difference=0.375,
        positive_rate_shift=None,
        errors=1,
        example_error="model raised ValueError: x",
    )


def test_binary_stats_give_the_positive_rate_shift():
    observed = {
        "shadow_compared": 10,
        "shadow_agreed": 7,
        "shadow_errors": 0,
        "shadow_example_error": None,
        "shadow_served_positive": 4,
        "shadow_positive": 7,
    }

    assert stats(observed, None).positive_rate_shift == 0.3


def test_nothing_compared_gives_no_rates():
    observed = {
        "shadow_compared": 0,
        "shadow_agreed": 0,
        "shadow_errors": 0,
        "shadow_example_error": None,
        "shadow_absolute_difference": None,
    }

    result = stats(observed, None)

    assert (result.agreement_rate, result.mean_absolute_difference) == (None, None)
