"""A scorer config whose checkpoint holds a synthetic monitoring history."""

from pathlib import Path

import pytest

from tests.monitoring_helpers import write_history
from tests.scorer_process import write_config


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A scorer YAML whose checkpoint is `tmp_path/checkpoint` (no history there yet)."""
    return write_config(tmp_path, "127.0.0.1:9", "features")


@pytest.fixture
def history(tmp_path: Path, config_file: Path) -> Path:
    """300 batches of synthetic history at `<checkpoint>/history`, the last one now."""
    return write_history(tmp_path / "checkpoint" / "history", 300)
