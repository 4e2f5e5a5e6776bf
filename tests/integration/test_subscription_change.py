"""A checkpoint restarted with another subscription: a removed topic fails at start, plainly;
an added topic is read from its earliest offset, as Spark's Kafka source does."""

import pytest

from stream_scorer.errors import CheckpointError
from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    publish,
    records,
    scored_coordinates,
)
from tests.scorer_helpers import scorer_config as make_config
from tests.scorer_process import batch_files

pytestmark = pytest.mark.integration


def loaded_topic(bootstrap: str, ids: range) -> tuple[str, list[tuple[str, int, int]]]:
    topic = create_topic(bootstrap, 2)
    by_partition = spread(encode(records(ids, NUMERIC)), 2)
    produce_exact(bootstrap, topic, by_partition)
    return topic, [(topic, p, o) for p, vals in by_partition.items() for o in range(len(vals))]


def test_a_removed_topic_fails_at_start_naming_both_subscriptions(tmp_path, spark, bootstrap):
    (a, _), (b, _) = loaded_topic(bootstrap, range(20)), loaded_topic(bootstrap, range(20, 40))
    publish(tmp_path / "models", "binary", NUMERIC)
    assert Scorer(make_config(tmp_path, bootstrap, a), spark=spark, once=True).run() == 0

    with pytest.raises(CheckpointError) as err:
        Scorer(make_config(tmp_path, bootstrap, b), spark=spark, once=True).run()

    assert str(err.value).startswith(
        f"checkpoint {tmp_path / 'checkpoint'} holds offsets of topics ['{a}'], but "
        f"source.options subscribe: {b} leaves out ['{a}']; "
    )
    assert str(err.value).endswith(f"or go back to the old subscription (subscribe: {a})")
    assert batch_files(tmp_path / "checkpoint", "offsets") == [0]


def test_an_added_topic_is_read_from_its_earliest_offset(tmp_path, spark, bootstrap):
    (a, in_a), (b, in_b) = (
        loaded_topic(bootstrap, range(20)),
        loaded_topic(bootstrap, range(20, 40)),
    )
    publish(tmp_path / "models", "binary", NUMERIC)
    assert Scorer(make_config(tmp_path, bootstrap, a), spark=spark, once=True).run() == 0

    both = make_config(tmp_path, bootstrap, f"{a},{b}")
    assert Scorer(both, spark=spark, once=True).run() == 0

    assert scored_coordinates(spark, tmp_path) == sorted(in_a + in_b)
