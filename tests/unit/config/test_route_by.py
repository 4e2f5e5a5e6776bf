"""model.route_by: a declared feature or passthrough field of a key type."""

import re

import pytest

from stream_scorer.config.loader import parse_config
from stream_scorer.errors import ConfigError
from tests.unit.config.test_bad_config import GOOD


def _config(route_by: str, passthrough: dict):
    features = {**GOOD["features"], "passthrough": passthrough}
    return parse_config(
        {**GOOD, "features": features, "model": {"store": "m", "route_by": route_by}}, "t.yaml"
    )


def test_route_by_a_passthrough_string_field_is_accepted() -> None:
    assert _config("store", {"store": "string"}).model.route_by == "store"


def test_route_by_an_undeclared_field_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match=re.escape("model.route_by is 'shop', declared as None")):
        _config("shop", {"store": "string"})


def test_route_by_a_double_field_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"declared as double; expected .* string, long, int"):
        _config("store", {"store": "double"})


def test_route_by_with_image_input_is_refused() -> None:
    features = {"format": "image", "image_field": "img", "passthrough": {"store": "string"}}
    with pytest.raises(ConfigError, match=re.escape("model.route_by needs features.format json")):
        parse_config(
            {**GOOD, "features": features, "model": {"store": "m", "route_by": "store"}}, "t.yaml"
        )


def test_route_by_with_a_shadow_is_refused() -> None:
    features = {**GOOD["features"], "passthrough": {"store": "string"}}
    model = {"store": "m", "route_by": "store", "shadow": "latest"}
    with pytest.raises(
        ConfigError, match=re.escape("model.shadow 'latest' with model.route_by: a per-key family")
    ):
        parse_config({**GOOD, "features": features, "model": model}, "t.yaml")


def test_route_by_with_an_mlflow_source_is_refused() -> None:
    features = {**GOOD["features"], "passthrough": {"store": "string"}}
    model = {"source": "mlflow", "uri": "models:/m@champion", "route_by": "store"}
    with pytest.raises(ConfigError, match=re.escape("model.route_by needs model.source store")):
        parse_config({**GOOD, "features": features, "model": model}, "t.yaml")
