"""The `monitoring:` section: defaults, and errors naming the key, the value and the need."""

import pytest

from stream_scorer.config.loader import parse_config
from stream_scorer.errors import ConfigError
from tests.unit.config.test_bad_config import GOOD


def test_defaults_follow_the_contract():
    monitoring = parse_config(GOOD).monitoring
    assert monitoring.enabled is True
    assert monitoring.baseline == "publish"
    assert (monitoring.first_rows, monitoring.window, monitoring.psi_warn) == (10_000, 10, 0.2)
    assert monitoring.history is None
    assert monitoring.retention_seconds == 30 * 86_400


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("retention", "a month", "a duration like '30d', '12h', '90m', '2w'"),
        ("retention", "0d", "a positive duration"),
        ("window", 0, "greater than or equal to 1"),
        ("psi_warn", -1, "greater than 0"),
        ("baseline", "training", "'publish' or 'first_rows'"),
    ],
)
def test_bad_value_names_key_value_and_need(key, value, expected):
    with pytest.raises(ConfigError) as err:
        parse_config({**GOOD, "monitoring": {key: value}})
    message = str(err.value)
    assert f"monitoring.{key}: got {value!r}" in message
    assert expected in message
