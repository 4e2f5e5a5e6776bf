"""A restart whose subscription leaves out a topic of the checkpoint fails at start."""

import pytest

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import CheckpointError
from stream_scorer.runtime.checkpoint import Checkpoint
from stream_scorer.runtime.subscription_check import check_subscription
from tests.checkpoint_helpers import make_checkpoint


def source(**subscription: str) -> SourceConfig:
    return SourceConfig(options={"kafka.bootstrap.servers": "127.0.0.1:9092", **subscription})


@pytest.fixture
def checkpoint(tmp_path) -> Checkpoint:
    """A checkpoint whose newest offsets entry is of topic `t`."""
    return Checkpoint.at(str(make_checkpoint(tmp_path / "cp")))


def test_a_removed_topic_is_refused_naming_both_subscriptions_and_the_ways_on(checkpoint):
    with pytest.raises(CheckpointError) as err:
        check_subscription(checkpoint, source(subscribe="u"))
    assert str(err.value) == (
        f"checkpoint {checkpoint.path} holds offsets of topics ['t'], but source.options "
        "subscribe: u leaves out ['t']; a checkpoint cannot change its subscription this way. "
        "Either point `checkpoint` at a new directory (and the sinks at new paths) to start "
        "the new subscription from its startingOffsets, or go back to the old subscription "
        "(subscribe: t)"
    )


@pytest.mark.parametrize(
    "subscription",
    [
        {"subscribe": "t"},
        {"subscribe": "t,u"},
        {"subscribePattern": "t.*"},
        {"assign": '{"t":[0]}'},
    ],
)
def test_a_subscription_covering_the_checkpoints_topics_passes(checkpoint, subscription):
    check_subscription(checkpoint, source(**subscription))


def test_a_pattern_that_no_longer_matches_a_topic_is_refused_naming_the_pattern(checkpoint):
    with pytest.raises(CheckpointError, match=r"subscribePattern: u\.\* leaves out \['t'\]"):
        check_subscription(checkpoint, source(subscribePattern="u.*"))


def test_an_assignment_without_the_topic_is_refused_naming_its_topics(checkpoint):
    with pytest.raises(CheckpointError, match=r"assign of topics \['u'\] leaves out \['t'\]"):
        check_subscription(checkpoint, source(assign='{"u":[0]}'))


def test_a_checkpoint_without_offsets_passes_any_subscription(tmp_path):
    check_subscription(Checkpoint.at(str(tmp_path / "new")), source(subscribe="u"))
