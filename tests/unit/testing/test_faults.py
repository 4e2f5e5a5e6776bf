"""Fault injection: parsing STREAM_SCORER_FAULT and firing only at the armed point and batch."""

import os
import signal
import threading

import pytest

from stream_scorer.errors import ConfigError
from stream_scorer.sinks import NO_HOOKS, KafkaSink, ParquetSink
from stream_scorer.testing import faults
from stream_scorer.testing.faults import Fault, FaultHooks, hooks_from_env, parse_fault

PARQUET = ParquetSink("/out/predictions")
KAFKA = KafkaSink("out", {"kafka.bootstrap.servers": "h:9092"}, "/cp/sinks/k")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kafka-write", Fault("kafka-write")),
        ("after-sinks@3", Fault("after-sinks", 3)),
        ("hold-batch", Fault("hold-batch", None, "/tmp/go")),
        ("hold-batch@2", Fault("hold-batch", 2, "/tmp/go")),
        ("", None),
        (None, None),
    ],
)
def test_parse_fault_reads_point_batch_and_release_file(text, expected):
    assert parse_fault(text, release="/tmp/go") == expected


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("kafka", "/tmp/go"),
        ("scoring", None),
        ("after-sinks@x", None),
        ("hold-batch", None),
        ("hold-batch@-1", "/tmp/go"),
        ("slow-batch:3", None),
        ("@1", None),
    ],
)
def test_parse_fault_refuses_unknown_spec_naming_the_variable(text, release):
    with pytest.raises(ConfigError, match="STREAM_SCORER_FAULT"):
        parse_fault(text, release)


def test_unset_variable_gives_the_no_op_hooks():
    assert hooks_from_env({}) is NO_HOOKS


def test_set_variable_gives_fault_hooks_armed_with_it():
    hooks = hooks_from_env({"STREAM_SCORER_FAULT": "kafka-write@2"})
    assert isinstance(hooks, FaultHooks)
    assert hooks.fault == Fault("kafka-write", 2)


@pytest.fixture
def kills(monkeypatch):
    killed: list[tuple[int, int]] = []
    monkeypatch.setattr(faults.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    return killed


def test_sink_written_kills_only_for_the_armed_sink_kind_and_batch(kills):
    hooks = FaultHooks(Fault("kafka-write", 1))
    hooks.sink_written(KAFKA, 0)
    hooks.sink_written(PARQUET, 1)
    hooks.sink_committed(KAFKA, 1)
    hooks.sink_written(KAFKA, 1)
    assert kills == [(os.getpid(), signal.SIGKILL)]


def test_between_sinks_kills_once_a_sink_committed(kills):
    hooks = FaultHooks(Fault("between-sinks", 4))
    hooks.sink_written(PARQUET, 4)
    hooks.sinks_written(4)
    assert kills == []
    hooks.sink_committed(PARQUET, 4)
    assert kills == [(os.getpid(), signal.SIGKILL)]


def test_after_sinks_kills_when_every_sink_wrote_the_batch(kills):
    hooks = FaultHooks(Fault("after-sinks"))
    hooks.sink_committed(PARQUET, 7)
    hooks.sinks_written(7)
    assert kills == [(os.getpid(), signal.SIGKILL)]


def test_hold_batch_waits_at_batch_start_until_the_release_file_exists(tmp_path, kills):
    release = tmp_path / "go"
    hooks = FaultHooks(Fault("hold-batch", 7, str(release)))
    hooks.sinks_written(7)
    waiter = threading.Thread(target=hooks.batch_started, args=(7,))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()
    release.touch()
    waiter.join(10)
    assert (waiter.is_alive(), kills) == (False, [])
