"""Scorer configuration: typed settings (`settings`) read from YAML (`loader`)."""

from stream_scorer.config.loader import load_config
from stream_scorer.config.settings import ScorerConfig

__all__ = ["ScorerConfig", "load_config"]
