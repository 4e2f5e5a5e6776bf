"""Lag-only commits of processed offsets to a consumer group, with a stand-in client."""

from typing import ClassVar

import pytest
from kafka.errors import KafkaConnectionError

from stream_scorer.kafka.source_options import SourceOptions, Subscription
from stream_scorer.sources import group_offsets
from stream_scorer.sources.group_offsets import GroupOffsetCommitter


class FakeConsumer:
    created: ClassVar[list[dict]] = []
    commits: ClassVar[list[dict]] = []
    fail = False

    def __init__(self, **settings):
        FakeConsumer.created.append(settings)

    def commit(self, offsets):
        if self.fail:
            raise KafkaConnectionError("down")
        FakeConsumer.commits.append(
            {(tp.topic, tp.partition): m.offset for tp, m in offsets.items()}
        )

    def close(self):
        pass


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(group_offsets, "KafkaConsumer", FakeConsumer)
    FakeConsumer.created, FakeConsumer.commits, FakeConsumer.fail = [], [], False
    return FakeConsumer


def opts(**kafka: str) -> SourceOptions:
    return SourceOptions(
        Subscription("subscribe", topics=("t",)),
        kafka={"kafka.bootstrap.servers": "127.0.0.1:1", **kafka},
    )


def test_without_group_id_nothing_is_committed(fake):
    GroupOffsetCommitter(opts()).commit({("t", 0): 5})
    assert (fake.created, fake.commits) == ([], [])


def test_end_offsets_are_committed_to_the_group_without_auto_commit(fake):
    committer = GroupOffsetCommitter(opts(**{"kafka.group.id": "g"}))
    committer.commit({("t", 0): 5, ("t", 1): 7})
    committer.commit({("t", 0): 9, ("t", 1): 7})
    assert fake.commits == [{("t", 0): 5, ("t", 1): 7}, {("t", 0): 9, ("t", 1): 7}]
    assert len(fake.created) == 1
    assert (fake.created[0]["group_id"], fake.created[0]["enable_auto_commit"]) == ("g", False)


def test_failed_commit_is_logged_not_raised(fake, caplog):
    fake.fail = True
    GroupOffsetCommitter(opts(**{"kafka.group.id": "g"})).commit({("t", 0): 5})
    assert "could not commit offsets to consumer group 'g'" in caplog.text


def test_unchanged_offsets_are_not_committed_again(fake):
    committer = GroupOffsetCommitter(opts(**{"kafka.group.id": "g"}))
    committer.commit({("t", 0): 5})
    committer.commit({("t", 0): 5})
    assert fake.commits == [{("t", 0): 5}]
