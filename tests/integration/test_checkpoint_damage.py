"""A damaged checkpoint refuses the start, naming the file; the sinks are left untouched.

Spark alone fails on these with messages that name no file ("Unexpected end-of-input in
field name", "Concurrent update to the log", "assertion failed"), after replaying a batch.
"""

import shutil

import pytest

from stream_scorer.errors import ScorerError
from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import NUMERIC, produce_records, publish, scorer_config

pytestmark = pytest.mark.integration


def _truncate_newest(offsets):
    newest = offsets / str(max(int(p.name) for p in offsets.glob("[0-9]*")))
    newest.write_text(newest.read_text()[:60])
    return rf"offsets/{newest.name} is damaged"


def _delete_newest(offsets):
    newest = offsets / str(max(int(p.name) for p in offsets.glob("[0-9]*")))
    newest.unlink()
    return rf"offsets/{newest.name} is missing: the newest commit has no offsets"


def _delete_dir(offsets):
    shutil.rmtree(offsets)
    return r"offsets is missing or empty while commits/ records batch 2"


def sink_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "damage",
    [_truncate_newest, _delete_newest, _delete_dir],
    ids=["truncated-offsets-file", "deleted-offsets-file", "deleted-offsets-dir"],
)
def test_damaged_checkpoint_refuses_to_start_and_writes_nothing(tmp_path, spark, bootstrap, damage):
    topic = create_topic(bootstrap, 2)
    publish(tmp_path / "models", "binary", NUMERIC)
    options = {
        "kafka.bootstrap.servers": bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
        "maxOffsetsPerTrigger": "20",
    }
    config = scorer_config(tmp_path, bootstrap, topic, source={"options": options})
    produce_records(bootstrap, topic, range(60), 2)
    Scorer(config, spark=spark, once=True).run()
    produce_records(bootstrap, topic, range(60, 80), 2)
    before = sink_files(tmp_path / "predictions")
    expected = damage(tmp_path / "checkpoint" / "offsets")

    with pytest.raises(ScorerError, match=expected + r".*refusing to start.*restore it"):
        Scorer(config, spark=spark, once=True).run()

    assert sink_files(tmp_path / "predictions") == before
    assert not (tmp_path / "dead-letter").exists()
