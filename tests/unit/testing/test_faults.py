"""The fault-injection hook: parsing STREAM_SCORER_FAULT and firing only where armed."""

import os
import signal

import pytest

from stream_scorer.errors import ConfigError
from stream_scorer.testing import faults
from stream_scorer.testing.faults import Fault, fault_point, parse_fault


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


@pytest.fixture
def kills(monkeypatch):
    killed: list[tuple[int, int]] = []
    monkeypatch.setattr(faults.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    return killed


def test_unarmed_fault_point_does_nothing(monkeypatch, kills):
    monkeypatch.setattr(faults, "ARMED", None)
    fault_point("after-sinks", 1)
    assert kills == []


def test_armed_fault_kills_this_process_only_at_its_point_and_batch(monkeypatch, kills):
    monkeypatch.setattr(faults, "ARMED", Fault("kafka-write", 1))
    fault_point("kafka-write", 0)
    fault_point("parquet-write", 1)
    fault_point("kafka-write", 1)
    assert kills == [(os.getpid(), signal.SIGKILL)]


def test_slow_batch_sleeps_instead_of_killing(monkeypatch, kills):
    slept: list[float] = []
    monkeypatch.setattr(faults, "ARMED", Fault("slow-batch", None, 3.0))
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    fault_point("slow-batch", 7)
    assert (slept, kills) == ([3.0], [])
