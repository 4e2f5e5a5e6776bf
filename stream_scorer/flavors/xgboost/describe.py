"""Describe an XGBoost model file (JSON or UBJSON) as a `Manifest` at publish."""

from stream_scorer.contract.manifest import ModelFormat
from stream_scorer.flavors.trees.describe import describer
from stream_scorer.flavors.xgboost.booster import load_booster


def format_of(payload: bytes) -> ModelFormat:
    """JSON for a model that begins `{"` (`{"learner": ...`), else UBJSON (`{L...`: a key's
    length marker where JSON has a quote)."""
    head = payload[:64].lstrip()
    is_json = head[:1] == b"{" and head[1:].lstrip()[:1] == b'"'
    return "xgboost-json" if is_json else "xgboost-ubj"


describe_xgboost = describer("xgboost", load_booster, format_of)
