"""Fault injection: parsing STREAM_SCORER_FAULT and firing only at the armed point and batch."""

import os
import signal

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
        ("slow-batch:3", Fault("slow-batch", None, 3.0)),
        ("slow-batch:0.5@2", Fault("slow-batch", 2, 0.5)),
        ("", None),
        (None, None),
    ],
)
def test_parse_fault_reads_point_batch_and_seconds(text, expected):
    assert parse_fault(text) == expected


@pytest.mark.parametrize(
    "text", ["kafka", "scoring", "after-sinks@x", "slow-batch", "slow-batch:x", "@1"]
)
def test_parse_fault_refuses_unknown_spec_naming_the_variable(text):
    with pytest.raises(ConfigError, match="STREAM_SCORER_FAULT"):
        parse_fault(text)


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


def test_slow_batch_sleeps_when_the_batch_starts_instead_of_killing(monkeypatch, kills):
    slept: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    hooks = FaultHooks(Fault("slow-batch", None, 3.0))
    hooks.sinks_written(7)
    hooks.batch_started(7)
    assert (slept, kills) == ([3.0], [])
